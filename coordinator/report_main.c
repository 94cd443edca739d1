/* gpsc-report — `gpsc report RUN_DIR`: writes RUN_DIR/report.html, a
 * self-contained page (inline SVG figures, no script, no network) that
 * summarises a run: cost, trust region, timings, end-effector paths,
 * evaluation results and the log's warnings (coordinator/report.h). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "coordinator/report.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gpsc report RUN_DIR [options]\n"
            "       gpsc-report RUN_DIR [options]\n"
            "\n"
            "Writes an HTML report of a run directory (written by `gpsc run` or gpsc-solo):\n"
            "a summary (experiment, algorithm, iterations, seed, final cost and success per\n"
            "condition), the evaluation table when RUN_DIR/eval.json exists, and SVG figures:\n"
            "cost, final end-effector distance, global-policy cost and bound (MDGPS, when\n"
            "recorded), KL, eta, step size, entropy, phase timings, throughput, and\n"
            "end-effector paths (top and side views). The page is one file with inline SVG;\n"
            "it needs no network and no JavaScript.\n"
            "\n"
            "It reads RUN_DIR/config.yaml, metrics.jsonl, checkpoints/iter_NNNN.pb, eval.json\n"
            "and log.jsonl; any of them may be missing (their figures are left out and the\n"
            "report says so).\n"
            "\n"
            "options:\n"
            "  -o, --output FILE       HTML file to write (default RUN_DIR/report.html)\n"
            "  -f, --figures-dir DIR   also write each figure as DIR/NAME.svg (for papers);\n"
            "                          the captions link to them\n"
            "  -l, --list              print the figures (name, series, title) and write nothing\n"
            "  -q, --quiet             print nothing but errors\n"
            "  -h, --help              this text\n"
            "\n"
            "exit status: 0 written, 1 a file could not be written, 2 bad arguments or not a\n"
            "run directory.\n");
}

int main(int argc, char **argv)
{
    const char *out = NULL, *figdir = NULL;
    bool quiet = false, list = false;
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"figures-dir", required_argument, 0, 'f'},
        {"list", no_argument, 0, 'l'},         {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "o:f:lqh", opts, NULL)) != -1) {
        switch (ch) {
        case 'o':
            out = optarg;
            break;
        case 'f':
            figdir = optarg;
            break;
        case 'l':
            list = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "gpsc-report: try --help\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "gpsc-report: missing RUN_DIR (try --help)\n");
        return 2;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "gpsc-report: one run directory at a time (got '%s' and '%s')\n",
                argv[optind], argv[optind + 1]);
        return 2;
    }
    const char *dir = argv[optind];
    char err[2048] = "";
    gpsc_report_t *r = gpsc_report_new(dir, err, sizeof err);
    if (!r) {
        fprintf(stderr, "gpsc-report: %s\n", err);
        return 2;
    }
    if (!quiet)
        for (int i = 0; i < gpsc_report_n_warnings(r); i++)
            fprintf(stderr, "gpsc-report: warning: %s\n", gpsc_report_warning(r, i));
    if (list) {
        for (int i = 0; i < gpsc_report_n_figures(r); i++)
            printf("%-12s %3d  %s\n", gpsc_report_figure_name(r, i),
                   gpsc_report_figure_series(r, i), gpsc_report_figure_title(r, i));
        gpsc_report_destroy(&r);
        return 0;
    }
    int rc = gpsc_report_write_files(r, out, figdir, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gpsc-report: %s\n", err);
        gpsc_report_destroy(&r);
        return 1;
    }
    if (!quiet) {
        printf("wrote %s: %d iterations, %d conditions, %d figures", gpsc_report_html_path(r, out),
               gpsc_report_iterations(r), gpsc_report_conditions(r), gpsc_report_n_figures(r));
        if (figdir) printf(" (SVG files in %s)", figdir);
        int nw = gpsc_report_n_warnings(r);
        if (nw) printf(", %d warning%s", nw, nw == 1 ? "" : "s");
        printf("\n");
    }
    gpsc_report_destroy(&r);
    return 0;
}
