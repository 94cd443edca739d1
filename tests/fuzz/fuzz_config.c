/* fuzz_config.c — libFuzzer target for the YAML config loader.
 *
 * Loads the input as a document, then walks the tree calling every getter
 * on the keys (so type conversions, list handling and error recording all
 * run on hostile values), checks gpsc_cfg_check_unused and destroys the
 * document. Invariants that would hide a bug trap: every node has a
 * location, every error names the document. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.yaml"

static void check(bool ok)
{
    if (!ok) __builtin_trap();
}

/* every getter on every other key of map; recursion follows the nesting,
 * which the loader bounds */
static void walk(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, int depth)
{
    check(depth <= 70);
    check(gpsc_cfg_line(n) >= 1 && gpsc_cfg_column(n) >= 1);
    gpsc_cfg_kind_t kind = gpsc_cfg_kind(n);
    check(kind == GPSC_CFG_SCALAR || kind == GPSC_CFG_SEQ || kind == GPSC_CFG_MAP);
    if (kind == GPSC_CFG_SCALAR) {
        check(gpsc_cfg_text(n) != NULL);
        double d;
        int i;
        gpsc_cfg_node_double(c, n, &d);
        gpsc_cfg_node_int(c, n, &i);
        return;
    }
    size_t len = gpsc_cfg_len(n);
    for (size_t k = 0; k < len; k++) {
        if (kind == GPSC_CFG_SEQ) {
            const gpsc_cfg_node_t *e = gpsc_cfg_at(n, k);
            check(e != NULL);
            walk(c, e, depth + 1);
            continue;
        }
        const char *key = gpsc_cfg_key_at(n, k);
        const gpsc_cfg_node_t *v = gpsc_cfg_value_at(n, k);
        check(key != NULL && v != NULL);
        /* gpsc_cfg_get finds the first entry with this key: keys are unique */
        check(gpsc_cfg_get(n, key) == v);
        if (k % 2 == 1) continue; /* left for check_unused */
        static const char *const choices[] = {"a", "mdgps", "true", "", NULL};
        double d, ds[8];
        int i, is[8], cnt, e;
        unsigned long long u;
        bool b;
        const char *s;
        gpsc_cfg_double(c, n, key, &d, GPSC_CFG_REQUIRED);
        gpsc_cfg_int(c, n, key, &i, GPSC_CFG_REQUIRED);
        gpsc_cfg_u64(c, n, key, &u, GPSC_CFG_OPTIONAL);
        gpsc_cfg_bool(c, n, key, &b, GPSC_CFG_OPTIONAL);
        if (gpsc_cfg_string(c, n, key, &s, GPSC_CFG_OPTIONAL) == 1) check(s == gpsc_cfg_text(v));
        if (gpsc_cfg_enum(c, n, key, choices, &e, GPSC_CFG_OPTIONAL) == 1) check(e >= 0 && e < 4);
        if (gpsc_cfg_doubles(c, n, key, ds, 8, &cnt, 0, GPSC_CFG_OPTIONAL) == 1)
            check(cnt >= 0 && cnt <= 8);
        if (gpsc_cfg_ints(c, n, key, is, 8, &cnt, 3, GPSC_CFG_OPTIONAL) == 1) check(cnt == 3);
        gpsc_cfg_map(c, n, key, GPSC_CFG_OPTIONAL);
        gpsc_cfg_seq(c, n, key, GPSC_CFG_OPTIONAL);
        check(gpsc_cfg_take(c, n, key, GPSC_CFG_REQUIRED) == v);
        walk(c, v, depth + 1);
    }
    /* absent keys, required and not */
    double d;
    gpsc_cfg_double(c, n, "\x01-absent-", &d, GPSC_CFG_REQUIRED);
    check(gpsc_cfg_take(c, n, "\x01-absent-", GPSC_CFG_OPTIONAL) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    gpsc_cfg_t *c = gpsc_cfg_load_string((const char *)data, size, NAME, err, sizeof err);
    if (!c) {
        check(strncmp(err, NAME ":", strlen(NAME) + 1) == 0);
        return 0;
    }
    check(err[0] == '\0');
    const gpsc_cfg_node_t *root = gpsc_cfg_root(c);
    check(gpsc_cfg_kind(root) == GPSC_CFG_MAP);
    walk(c, root, 0);
    int rc = gpsc_cfg_check_unused(c);
    check(rc == 0 || gpsc_cfg_failed(c));
    gpsc_cfg_fail(c, root, "done %d", rc);
    check(gpsc_cfg_failed(c));
    check(strncmp(gpsc_cfg_errmsg(c), NAME ":", strlen(NAME) + 1) == 0);
    gpsc_cfg_destroy(&c);
    check(c == NULL);
    return 0;
}
