#!/bin/sh
# report_system.sh — system test of `gpsc report`: a short real run (or the
# synthetic run directory of test_report), the report with a figures
# directory, every SVG parsed as XML with the expected number of series,
# and a screenshot of the page with headless Chromium.
#
# usage: report_system.sh GPSC_REPORT OUT_DIR EXPERIMENT solo GPSC_SOLO
#        report_system.sh GPSC_REPORT OUT_DIR EXPERIMENT synthetic TEST_REPORT
# Exit 77 (skipped) when python3 or chromium is missing.
set -eu
report=$1 out=$2 experiment=$3 mode=$4 gen=$5

command -v python3 >/dev/null 2>&1 || { echo "python3 not found: skipped"; exit 77; }

rm -rf "$out"
mkdir -p "$out"
run="$out/run"
if [ "$mode" = solo ]; then
    "$gen" "$experiment" --iterations 3 --run-dir "$run" --quiet
else
    "$gen" --make-run-dir "$run"
fi
"$report" "$run" --figures-dir "$run/figures"
test -s "$run/report.html"

# the HTML references every figure; every SVG (file and inline) is XML with
# the series count the HTML announces; known counts for the run's M
python3 - "$run" "$mode" <<'EOF'
import os, re, sys, xml.dom.minidom as md
run, mode = sys.argv[1], sys.argv[2]
html = open(os.path.join(run, "report.html"), encoding="utf-8").read()
figs = re.findall(r'<figure id="fig-([A-Za-z0-9_-]+)" data-figure="\1" data-series="(\d+)">', html)
assert figs, "no figures in the HTML"
files = sorted(f[:-4] for f in os.listdir(os.path.join(run, "figures")) if f.endswith(".svg"))
assert sorted(n for n, _ in figs) == files, (figs, files)

def series(doc):
    return [g for g in doc.getElementsByTagName("g") if g.getAttribute("class") == "series"]

counts = {}
for name, n in figs:
    n = int(n)
    assert f'href="#fig-{name}"' in html and f'href="figures/{name}.svg"' in html, name
    doc = md.parse(os.path.join(run, "figures", name + ".svg"))
    root = doc.documentElement
    assert root.tagName == "svg" and root.getAttribute("id") == name, name
    assert int(root.getAttribute("data-series")) == n == len(series(doc)), name
    m = re.search(r'<svg xmlns="http://www.w3.org/2000/svg" id="%s".*?</svg>' % re.escape(name),
                  html, re.S)
    assert m, "inline svg " + name
    assert len(series(md.parseString(m.group(0)))) == n, name
    counts[name] = n

# M from the metrics
import json
rows = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl")) if l.strip().startswith("{")]
M = max(len(r.get("conditions", [])) for r in rows)
want = {"cost": 2 * M + 1, "kl": 2 * M, "eta": M, "step_mult": M, "distance": M + 1,
        "ee_top": None, "ee_side": None}
if mode == "solo":
    want.update({"entropy": M, "throughput": 2, "ee_top": M + 3, "ee_side": M + 3})
for k, v in want.items():
    assert k in counts, "missing figure " + k
    assert v is None or counts[k] == v, (k, counts[k], v)
print("figures:", " ".join(f"{k}={v}" for k, v in counts.items()), "M =", M)
EOF

# the screenshot
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "chromium not found: screenshot skipped"
    exit 77
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
png="$out/report.png"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --screenshot="$png" --window-size=1200,2000 \
    "file://$(cd "$run" && pwd)/report.html" >"$out/chromium.log" 2>&1 || {
    cat "$out/chromium.log"
    exit 1
}
python3 - "$png" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1200, 2000), (w, h)
# a blank or error page compresses to a few kB; the report is far larger
assert len(data) > 60000, f"screenshot only {len(data)} bytes"
print(f"screenshot {sys.argv[1]}: {w}x{h}, {len(data)} bytes")
EOF
