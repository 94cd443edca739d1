/* identity.c — the deterministic identity of a run (see identity.h). */
#include "common/identity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/checkpoint.h"
#include "common/error.h"

char *gpsc_identity_yaml(const gpsc_experiment_t *exp, size_t *len)
{
    gpsc_experiment_t copy = *exp; /* shallow: only printed */
    copy.algo.iterations = 0;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) return NULL;
    int rc = gpsc_experiment_fprint(&copy, f);
    if (fclose(f) != 0 || rc) {
        free(buf);
        return NULL;
    }
    if (len) *len = n;
    return buf;
}

char *gpsc_identity(const gpsc_experiment_t *exp, char hash[25], char *run_id, size_t runsz,
                    size_t *len)
{
    hash[0] = '\0';
    if (runsz) run_id[0] = '\0';
    size_t n = 0;
    char *y = gpsc_identity_yaml(exp, &n);
    if (!y) return NULL;
    gpsc_checkpoint_config_hash(hash, y, n);
    gpsc_checkpoint_run_id(run_id, runsz, exp->name, hash, exp->algo.seed);
    if (len) *len = n;
    return y;
}

int gpsc_identity_model_hash(char out[25], const char *path, char *err, size_t errsz)
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? GPSC_ENOENT : GPSC_EIO;
    }
    uint64_t h = 0xcbf29ce484222325ULL;
    unsigned char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        h = gpsc_checkpoint_fnv1a(buf, got, h);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errsz, "%s: read error", path);
        return GPSC_EIO;
    }
    snprintf(out, 25, "fnv1a64:%016llx", (unsigned long long)h);
    return 0;
}
