/* keys.c — CURVE key files of the cluster roles (see keys.h). */
#include "common/keys.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"

/* writes a message into err (when there is room) and returns code */
static int fail(char *err, size_t errsz, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errsz, int code, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* trims ASCII white space at both ends in place */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

bool gpsc_keys_list_has(const gpsc_keys_list_t *l, const char *z85)
{
    if (!l || !z85) return false;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->keys[i], z85) == 0) return true;
    return false;
}

int gpsc_keys_list_add(gpsc_keys_list_t *l, const char *z85)
{
    if (!l || !z85 || !gpsc_wire_curve_key_valid(z85)) return GPSC_EINVAL;
    if (gpsc_keys_list_has(l, z85)) return 0;
    char(*keys)[GPSC_WIRE_KEY_LEN + 1] = realloc(l->keys, (l->n + 1) * sizeof *keys);
    if (!keys) return GPSC_ENOMEM;
    l->keys = keys;
    const char **ptrs = realloc(l->ptrs, (l->n + 1) * sizeof *ptrs);
    if (!ptrs) return GPSC_ENOMEM;
    l->ptrs = ptrs;
    memcpy(l->keys[l->n], z85, GPSC_WIRE_KEY_LEN + 1);
    l->n++;
    /* keys may have moved: point again */
    for (size_t i = 0; i < l->n; i++)
        l->ptrs[i] = l->keys[i];
    return 0;
}

void gpsc_keys_list_free(gpsc_keys_list_t *l)
{
    if (!l) return;
    free(l->keys);
    free(l->ptrs);
    l->keys = NULL;
    l->ptrs = NULL;
    l->n = 0;
}

/* reads one list file: public-key lines or bare keys */
static int load_file(gpsc_keys_list_t *l, const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errsz, errno == ENOENT ? GPSC_ENOENT : GPSC_EIO, "%s: %s", path,
                    strerror(errno));
    char line[512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = fail(err, errsz, GPSC_EPARSE, "%s:%d: line too long", path, lineno);
            break;
        }
        char *s = trim(line), *val = s;
        /* Z85 uses '#' and '=' too: a line that is exactly one key is a
         * bare key, anything else is a comment or a name = "key" line */
        bool bare = strlen(s) == GPSC_WIRE_KEY_LEN && gpsc_wire_curve_key_valid(s);
        if (!bare && (*s == '\0' || *s == '#')) continue;
        char *eq = bare ? NULL : strchr(s, '=');
        if (eq) {
            *eq = '\0';
            char *name = trim(s);
            val = trim(eq + 1);
            /* "key", optionally followed by a # comment */
            if (val[0] == '"') {
                char *q = strchr(val + 1, '"');
                char *rest = q ? trim(q + 1) : NULL;
                if (!q || (*rest != '\0' && *rest != '#')) {
                    rc = fail(err, errsz, GPSC_EPARSE, "%s:%d: expected name = \"key\"", path,
                              lineno);
                    break;
                }
                *q = '\0';
                val++;
            }
            if (strcmp(name, "secret-key") == 0) {
                rc = fail(err, errsz, GPSC_EPARSE,
                          "%s:%d: a secret key does not belong in an allow-list", path, lineno);
                break;
            }
            if (strcmp(name, "public-key") != 0) {
                rc = fail(err, errsz, GPSC_EPARSE, "%s:%d: unknown name '%.40s'", path, lineno,
                          name);
                break;
            }
        }
        if (!gpsc_wire_curve_key_valid(val)) {
            rc = fail(err, errsz, GPSC_EPARSE, "%s:%d: not a 40-character Z85 key", path, lineno);
            break;
        }
        rc = gpsc_keys_list_add(l, val);
        if (rc) fail(err, errsz, rc, "%s:%d: %s", path, lineno, gpsc_strerror(rc));
    }
    if (rc == 0 && ferror(f)) rc = fail(err, errsz, GPSC_EIO, "%s: read error", path);
    fclose(f);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every *.pub file of a directory, in name order */
static int load_dir(gpsc_keys_list_t *l, const char *dir, char *err, size_t errsz)
{
    DIR *d = opendir(dir);
    if (!d) return fail(err, errsz, GPSC_EIO, "%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".pub") != 0) continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        char *copy = strdup(de->d_name);
        if (nn) names = nn;
        if (!nn || !copy) {
            free(copy);
            rc = fail(err, errsz, GPSC_ENOMEM, "%s: out of memory", dir);
            break;
        }
        names[n++] = copy;
    }
    closedir(d);
    if (rc == 0 && n > 1) qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path) {
            rc = fail(err, errsz, GPSC_EINVAL, "%s/%s: path too long", dir, names[i]);
            break;
        }
        rc = load_file(l, path, err, errsz);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int gpsc_keys_list_load(gpsc_keys_list_t *l, const char *list, char *err, size_t errsz)
{
    if (err && errsz) err[0] = '\0';
    if (!l || !list) return fail(err, errsz, GPSC_EINVAL, "allow-list: NULL argument");
    memset(l, 0, sizeof *l);
    char *copy = strdup(list);
    if (!copy) return fail(err, errsz, GPSC_ENOMEM, "allow-list: out of memory");
    int rc = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); rc == 0 && item;
         item = strtok_r(NULL, ",", &save)) {
        item = trim(item);
        if (*item == '\0') continue;
        struct stat st;
        if (stat(item, &st) != 0)
            rc = fail(err, errsz, errno == ENOENT ? GPSC_ENOENT : GPSC_EIO, "%s: %s", item,
                      strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = load_dir(l, item, err, errsz);
        else
            rc = load_file(l, item, err, errsz);
    }
    free(copy);
    if (rc == 0 && l->n == 0) rc = fail(err, errsz, GPSC_ENODATA, "%s: no public key", list);
    if (rc) gpsc_keys_list_free(l);
    return rc;
}

int gpsc_keys_load(gpsc_keys_t *k, const char *secret_path, const char *server_path,
                   const char *allow, char *err, size_t errsz)
{
    if (err && errsz) err[0] = '\0';
    if (!k) return fail(err, errsz, GPSC_EINVAL, "keys: NULL argument");
    memset(k, 0, sizeof *k);
    bool sec = secret_path && *secret_path, srv = server_path && *server_path,
         alw = allow && *allow;
    if (!sec) {
        if (srv) return fail(err, errsz, GPSC_EINVAL, "--curve-server-key needs --curve-secret");
        if (alw) return fail(err, errsz, GPSC_EINVAL, "--allow-keys needs --curve-secret");
        return 0;
    }
    if (!gpsc_wire_curve_available())
        return fail(err, errsz, GPSC_ENOTSUP, "libzmq was built without CURVE");
    int rc = gpsc_wire_curve_load(&k->own, secret_path, err, errsz);
    if (rc) return rc;
    if (k->own.secret_key[0] == '\0') {
        memset(k, 0, sizeof *k);
        return fail(err, errsz, GPSC_EINVAL, "%s: no secret key (a .pub file?)", secret_path);
    }
    if (srv) {
        gpsc_wire_keypair_t s;
        rc = gpsc_wire_curve_load(&s, server_path, err, errsz);
        if (rc) {
            gpsc_keys_free(k);
            return rc;
        }
        memcpy(k->server_key, s.public_key, sizeof k->server_key);
        k->have_server = true;
        memset(&s, 0, sizeof s);
    }
    if (alw) {
        rc = gpsc_keys_list_load(&k->allow, allow, err, errsz);
        if (rc) {
            gpsc_keys_free(k);
            return rc;
        }
    }
    k->on = true;
    return 0;
}

void gpsc_keys_free(gpsc_keys_t *k)
{
    if (!k) return;
    gpsc_keys_list_free(&k->allow);
    /* volatile so the wipe is not optimised away */
    volatile char *p = (volatile char *)&k->own;
    for (size_t i = 0; i < sizeof k->own; i++)
        p[i] = 0;
    k->on = false;
    k->have_server = false;
    k->server_key[0] = '\0';
}

int gpsc_keys_server_opts(const gpsc_keys_t *k, gpsc_wire_opts_t *o)
{
    if (!k || !o) return GPSC_EINVAL;
    if (!k->on) return 0;
    o->curve = GPSC_WIRE_CURVE_SERVER;
    o->curve_keys = &k->own;
    o->curve_server_key = NULL;
    return 0;
}

int gpsc_keys_client_opts(const gpsc_keys_t *k, gpsc_wire_opts_t *o)
{
    if (!k || !o) return GPSC_EINVAL;
    if (!k->on) return 0;
    if (!k->have_server) return GPSC_EINVAL;
    o->curve = GPSC_WIRE_CURVE_CLIENT;
    o->curve_keys = &k->own;
    o->curve_server_key = k->server_key;
    return 0;
}

gpsc_wire_zap_t *gpsc_keys_zap_new(const gpsc_keys_t *k, void *ctx, int *rc, char *err,
                                   size_t errsz)
{
    int dummy;
    if (!rc) rc = &dummy;
    *rc = 0;
    if (!k || !ctx) {
        *rc = fail(err, errsz, GPSC_EINVAL, "zap: NULL argument");
        return NULL;
    }
    if (!k->on) return NULL;
    /* the allow-list plus our own public key */
    gpsc_keys_list_t all = {0};
    for (size_t i = 0; *rc == 0 && i < k->allow.n; i++)
        *rc = gpsc_keys_list_add(&all, k->allow.keys[i]);
    if (*rc == 0) *rc = gpsc_keys_list_add(&all, k->own.public_key);
    if (*rc) {
        gpsc_keys_list_free(&all);
        fail(err, errsz, *rc, "zap: %s", gpsc_strerror(*rc));
        return NULL;
    }
    gpsc_wire_zap_t *z = gpsc_wire_zap_new(ctx, all.ptrs, all.n, err, errsz);
    gpsc_keys_list_free(&all);
    if (!z) *rc = GPSC_EAUTH;
    return z;
}
