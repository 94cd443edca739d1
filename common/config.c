/* config.c — YAML configuration documents (see config.h).
 *
 * libyaml's event parser feeds a small tree builder with an explicit stack
 * (no recursion while parsing). Every node keeps its 1-based line and
 * column; mapping entries carry a "used" mark that the getters set and
 * gpsc_cfg_check_unused() reads. Hostile input is bounded three ways:
 * document size, nesting depth and node count. Nothing here prints. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "error.h"

/* limits that keep hostile input from exhausting stack, memory or time */
#define CFG_MAX_BYTES (16u << 20) /* document size in bytes */
#define CFG_MAX_DEPTH 64          /* nested collections */
#define CFG_MAX_NODES (1u << 20)  /* nodes of all kinds, keys included */
#define CFG_SHOW 48               /* bytes of a value or key quoted in messages */
#define CFG_PATH 256              /* bytes of a key path in messages */

typedef struct cfg_item {
    gpsc_cfg_node_t *key;   /* MAP: the key, a scalar; SEQ: NULL */
    gpsc_cfg_node_t *value; /* NULL only while a key waits for its value */
    bool used;              /* MAP: taken by a getter */
} cfg_item_t;

struct gpsc_cfg_node {
    gpsc_cfg_kind_t kind;
    int line, col;     /* 1-based start of the node */
    bool plain;        /* SCALAR: unquoted, so it may be a number/bool/null */
    char *text;        /* SCALAR: NUL-terminated, no NUL inside */
    cfg_item_t *items; /* SEQ / MAP: len entries (cap allocated) */
    size_t len, cap;
    const gpsc_cfg_node_t *parent; /* the enclosing collection; NULL for the root */
    size_t index;                  /* entry of the parent this node belongs to */
};

struct gpsc_cfg {
    char *name;            /* file name used in messages */
    gpsc_cfg_node_t *root; /* a MAP */
    size_t nnodes;         /* nodes allocated so far (bounded by CFG_MAX_NODES) */
    bool failed;
    char errmsg[640]; /* first error, "file:line:column: message" */
};

/* --- errors -------------------------------------------------------------- */

static int fail_at(gpsc_cfg_t *c, int line, int col, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void fail_va(gpsc_cfg_t *c, int line, int col, const char *fmt, va_list ap)
{
    if (c->failed) return;
    c->failed = true;
    int k = snprintf(c->errmsg, sizeof c->errmsg, "%s:%d:%d: ", c->name, line, col);
    if (k < 0 || (size_t)k >= sizeof c->errmsg) return;
    vsnprintf(c->errmsg + k, sizeof c->errmsg - (size_t)k, fmt, ap);
}

/* Records an error at line:col unless one is recorded; returns `code`. */
static int fail_at(gpsc_cfg_t *c, int line, int col, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_va(c, line, col, fmt, ap);
    va_end(ap);
    return code;
}

int gpsc_cfg_fail(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_va(c, n ? n->line : 1, n ? n->col : 1, fmt, ap);
    va_end(ap);
    return GPSC_ECONFIG;
}

bool gpsc_cfg_failed(const gpsc_cfg_t *c)
{
    return c->failed;
}

const char *gpsc_cfg_errmsg(const gpsc_cfg_t *c)
{
    return c->failed ? c->errmsg : "";
}

/* --- text for messages --------------------------------------------------- */

/* Copies at most CFG_SHOW bytes of s into dst (which has room for
 * CFG_SHOW + 4), replacing control characters by '?' and marking a cut
 * with "..."; never splits a UTF-8 sequence. */
static void show(char *dst, const char *s)
{
    size_t n = strlen(s), k = n > CFG_SHOW ? CFG_SHOW : n;
    /* back off to the start of a UTF-8 sequence */
    while (k < n && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    for (size_t i = 0; i < k; i++)
        dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) ? '?' : s[i];
    strcpy(dst + k, k < n ? "..." : "");
}

/* Key path of node n, e.g. "algorithm.costs[2].wu"; "" for the root. */
static void node_path(char *buf, size_t bufsz, const gpsc_cfg_node_t *n)
{
    const gpsc_cfg_node_t *chain[CFG_MAX_DEPTH + 2];
    int depth = 0;
    for (; n && n->parent && depth < CFG_MAX_DEPTH + 2; n = n->parent)
        chain[depth++] = n;
    size_t len = 0;
    buf[0] = '\0';
    for (int i = depth - 1; i >= 0; i--) {
        const gpsc_cfg_node_t *p = chain[i]->parent;
        char part[CFG_SHOW + 8];
        if (p->kind == GPSC_CFG_MAP) {
            char k[CFG_SHOW + 4];
            show(k, p->items[chain[i]->index].key->text);
            snprintf(part, sizeof part, "%s%s", len ? "." : "", k);
        } else {
            snprintf(part, sizeof part, "[%zu]", chain[i]->index);
        }
        size_t pl = strlen(part);
        if (len + pl + 1 > bufsz) break;
        memcpy(buf + len, part, pl + 1);
        len += pl;
    }
}

/* Path of `key` inside mapping `map`. */
static void key_path(char *buf, size_t bufsz, const gpsc_cfg_node_t *map, const char *key)
{
    char k[CFG_SHOW + 4];
    node_path(buf, bufsz, map);
    show(k, key);
    size_t len = strlen(buf);
    snprintf(buf + len, bufsz - len, "%s%s", len ? "." : "", k);
}

static bool is_null(const gpsc_cfg_node_t *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    if (n->kind != GPSC_CFG_SCALAR || !n->plain) return false;
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strcmp(n->text, nulls[i]) == 0) return true;
    return false;
}

/* What node n is, for "expected X, got <what>" messages. */
static void describe(char *buf, size_t bufsz, const gpsc_cfg_node_t *n)
{
    char v[CFG_SHOW + 4];
    if (n->kind == GPSC_CFG_MAP) {
        snprintf(buf, bufsz, "a mapping");
    } else if (n->kind == GPSC_CFG_SEQ) {
        snprintf(buf, bufsz, "a sequence");
    } else if (is_null(n)) {
        snprintf(buf, bufsz, "null");
    } else {
        show(v, n->text);
        snprintf(buf, bufsz, n->plain ? "'%s'" : "the quoted string '%s'", v);
    }
}

/* Records "'path': expected <what>, got <n>" at n; returns code. */
static int fail_type(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, const char *what, int code)
{
    char path[CFG_PATH], got[CFG_SHOW + 32];
    node_path(path, sizeof path, n);
    describe(got, sizeof got, n);
    return fail_at(c, n->line, n->col, code, "'%s': expected %s, got %s", path, what, got);
}

/* --- tree ---------------------------------------------------------------- */

static void node_free(gpsc_cfg_node_t *n)
{
    if (!n) return;
    /* depth is bounded by CFG_MAX_DEPTH, so recursion is bounded too */
    for (size_t i = 0; i < n->len; i++) {
        node_free(n->items[i].key);
        node_free(n->items[i].value);
    }
    free(n->items);
    free(n->text);
    free(n);
}

void gpsc_cfg_destroy(gpsc_cfg_t **p)
{
    if (!p || !*p) return;
    node_free((*p)->root);
    free((*p)->name);
    free(*p);
    *p = NULL;
}

/* the builder: open collections from the root down */
typedef struct cfg_builder {
    gpsc_cfg_t *c;
    gpsc_cfg_node_t *stack[CFG_MAX_DEPTH];
    int depth;
} cfg_builder_t;

static int fail_mark(gpsc_cfg_t *c, yaml_mark_t m, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_mark(gpsc_cfg_t *c, yaml_mark_t m, int code, const char *fmt, ...)
{
    int line = m.line < INT_MAX ? (int)m.line + 1 : INT_MAX;
    int col = m.column < INT_MAX ? (int)m.column + 1 : INT_MAX;
    va_list ap;
    va_start(ap, fmt);
    fail_va(c, line, col, fmt, ap);
    va_end(ap);
    return code;
}

static gpsc_cfg_node_t *node_new(cfg_builder_t *b, gpsc_cfg_kind_t kind, yaml_mark_t m)
{
    if (b->c->nnodes >= CFG_MAX_NODES) {
        fail_mark(b->c, m, GPSC_ETOOBIG, "document has more than %u nodes", CFG_MAX_NODES);
        return NULL;
    }
    gpsc_cfg_node_t *n = calloc(1, sizeof *n);
    if (!n) {
        fail_mark(b->c, m, GPSC_ENOMEM, "out of memory");
        return NULL;
    }
    b->c->nnodes++;
    n->kind = kind;
    n->line = m.line < INT_MAX ? (int)m.line + 1 : INT_MAX;
    n->col = m.column < INT_MAX ? (int)m.column + 1 : INT_MAX;
    return n;
}

static const char *kind_name(gpsc_cfg_kind_t k)
{
    return k == GPSC_CFG_MAP ? "a mapping" : k == GPSC_CFG_SEQ ? "a sequence" : "a scalar";
}

/* Hangs node n under the innermost open collection (or makes it the
 * root). Takes ownership of n, also on failure. */
static int attach(cfg_builder_t *b, gpsc_cfg_node_t *n)
{
    gpsc_cfg_t *c = b->c;
    if (b->depth == 0) {
        if (is_null(n)) {
            node_free(n);
            return fail_at(c, 1, 1, GPSC_ECONFIG, "empty document; expected a mapping");
        }
        if (n->kind != GPSC_CFG_MAP) {
            int rc = fail_at(c, n->line, n->col, GPSC_ECONFIG,
                             "the document root must be a mapping, got %s", kind_name(n->kind));
            node_free(n);
            return rc;
        }
        c->root = n;
        return 0;
    }
    gpsc_cfg_node_t *top = b->stack[b->depth - 1];
    bool is_value = top->kind == GPSC_CFG_MAP && top->len > 0 && !top->items[top->len - 1].value;
    if (is_value) {
        top->items[top->len - 1].value = n;
    } else {
        if (top->kind == GPSC_CFG_MAP && n->kind != GPSC_CFG_SCALAR) {
            int rc = fail_at(c, n->line, n->col, GPSC_ECONFIG,
                             "mapping keys must be scalars, got %s", kind_name(n->kind));
            node_free(n);
            return rc;
        }
        if (top->len == top->cap) {
            size_t cap = top->cap ? 2 * top->cap : 4;
            cfg_item_t *items = realloc(top->items, cap * sizeof *items);
            if (!items) {
                int rc = fail_at(c, n->line, n->col, GPSC_ENOMEM, "out of memory");
                node_free(n);
                return rc;
            }
            top->items = items;
            top->cap = cap;
        }
        cfg_item_t *it = &top->items[top->len++];
        it->key = top->kind == GPSC_CFG_MAP ? n : NULL;
        it->value = top->kind == GPSC_CFG_MAP ? NULL : n;
        it->used = false;
    }
    n->parent = top;
    n->index = top->len - 1;
    return 0;
}

/* anchors, aliases and explicit tags are refused: a config is plain data */
static int check_props(cfg_builder_t *b, const yaml_event_t *ev, const yaml_char_t *anchor,
                       const yaml_char_t *tag)
{
    char s[CFG_SHOW + 4];
    if (anchor) {
        show(s, (const char *)anchor);
        return fail_mark(b->c, ev->start_mark, GPSC_ECONFIG, "anchors (&%s) are not supported", s);
    }
    if (tag) {
        /* the core schema's "tag:yaml.org,2002:str" is written !!str */
        const char *t = (const char *)tag, *core = "tag:yaml.org,2002:";
        bool is_core = strncmp(t, core, strlen(core)) == 0;
        show(s, is_core ? t + strlen(core) : t);
        if (is_core)
            return fail_mark(b->c, ev->start_mark, GPSC_ECONFIG, "tags (!!%s) are not supported",
                             s);
        return fail_mark(b->c, ev->start_mark, GPSC_ECONFIG, "tags (%s) are not supported", s);
    }
    return 0;
}

static int on_scalar(cfg_builder_t *b, const yaml_event_t *ev)
{
    int rc = check_props(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
    if (rc) return rc;
    size_t len = ev->data.scalar.length;
    if (memchr(ev->data.scalar.value, '\0', len))
        return fail_mark(b->c, ev->start_mark, GPSC_ECONFIG, "NUL characters are not allowed");
    gpsc_cfg_node_t *n = node_new(b, GPSC_CFG_SCALAR, ev->start_mark);
    if (!n) return GPSC_ECONFIG;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    n->text = malloc(len + 1);
    if (!n->text) {
        node_free(n);
        return fail_mark(b->c, ev->start_mark, GPSC_ENOMEM, "out of memory");
    }
    memcpy(n->text, ev->data.scalar.value, len);
    n->text[len] = '\0';
    return attach(b, n);
}

static int on_start(cfg_builder_t *b, const yaml_event_t *ev)
{
    bool map = ev->type == YAML_MAPPING_START_EVENT;
    int rc = map ? check_props(b, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag)
                 : check_props(b, ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag);
    if (rc) return rc;
    if (b->depth == CFG_MAX_DEPTH)
        return fail_mark(b->c, ev->start_mark, GPSC_ECONFIG, "nesting deeper than %d levels",
                         CFG_MAX_DEPTH);
    gpsc_cfg_node_t *n = node_new(b, map ? GPSC_CFG_MAP : GPSC_CFG_SEQ, ev->start_mark);
    if (!n) return GPSC_ECONFIG;
    rc = attach(b, n);
    if (rc) return rc;
    b->stack[b->depth++] = n;
    return 0;
}

static int item_cmp(const void *pa, const void *pb)
{
    const cfg_item_t *a = *(const cfg_item_t *const *)pa, *b = *(const cfg_item_t *const *)pb;
    int r = strcmp(a->key->text, b->key->text);
    return r ? r : (a < b ? -1 : a > b);
}

/* Finds the first key (in document order) that repeats an earlier one by
 * sorting entries on (key, position): O(n log n) for large mappings. */
static int check_duplicates(gpsc_cfg_t *c, const gpsc_cfg_node_t *map)
{
    if (map->len < 2) return 0;
    const cfg_item_t **sorted = malloc(map->len * sizeof *sorted);
    if (!sorted) return fail_at(c, map->line, map->col, GPSC_ENOMEM, "out of memory");
    for (size_t i = 0; i < map->len; i++)
        sorted[i] = &map->items[i];
    qsort(sorted, map->len, sizeof *sorted, item_cmp);
    const cfg_item_t *dup = NULL, *first = NULL, *group = sorted[0];
    for (size_t i = 1; i < map->len; i++) {
        if (strcmp(sorted[i]->key->text, group->key->text) != 0) {
            group = sorted[i];
            continue;
        }
        if (!dup || sorted[i] < dup) {
            dup = sorted[i];
            first = group;
        }
    }
    free(sorted);
    if (!dup) return 0;
    char path[CFG_PATH];
    node_path(path, sizeof path, dup->key);
    return fail_at(c, dup->key->line, dup->key->col, GPSC_ECONFIG,
                   "duplicate key '%s' (first defined at line %d, column %d)", path,
                   first->key->line, first->key->col);
}

static int on_end(cfg_builder_t *b)
{
    assert(b->depth > 0);
    gpsc_cfg_node_t *n = b->stack[--b->depth];
    return n->kind == GPSC_CFG_MAP ? check_duplicates(b->c, n) : 0;
}

/* Turns libyaml's error into "file:line:column: problem (context)". */
static int parser_error(gpsc_cfg_t *c, const yaml_parser_t *p, const unsigned char *text,
                        size_t len)
{
    const char *problem = p->problem ? p->problem : "syntax error";
    if (p->error == YAML_MEMORY_ERROR)
        return fail_at(c, 1, 1, GPSC_ENOMEM, "out of memory while parsing");
    if (p->error == YAML_READER_ERROR) {
        /* the reader reports a byte offset only; count lines and characters */
        int line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else if ((text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        if (p->problem_value >= 0)
            return fail_at(c, line, col, GPSC_EPARSE, "%s (byte 0x%02X)", problem,
                           (unsigned)p->problem_value);
        return fail_at(c, line, col, GPSC_EPARSE, "%s", problem);
    }
    if (p->context)
        return fail_mark(c, p->problem_mark, GPSC_EPARSE, "%s (%s at line %d, column %d)", problem,
                         p->context, (int)p->context_mark.line + 1,
                         (int)p->context_mark.column + 1);
    return fail_mark(c, p->problem_mark, GPSC_EPARSE, "%s", problem);
}

/* Parses text into c->root; on failure the error is in c->errmsg. */
static int build(gpsc_cfg_t *c, const unsigned char *text, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return fail_at(c, 1, 1, GPSC_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&p, text, len);
    cfg_builder_t b = {.c = c, .depth = 0};
    int ndocs = 0, rc = 0;
    bool done = false;
    while (!rc && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parser_error(c, &p, text, len);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > 1)
                rc =
                    fail_mark(c, ev.start_mark, GPSC_ECONFIG, "more than one document in one file");
            break;
        case YAML_ALIAS_EVENT: {
            char s[CFG_SHOW + 4];
            show(s, (const char *)ev.data.alias.anchor);
            rc = fail_mark(c, ev.start_mark, GPSC_ECONFIG, "aliases (*%s) are not supported", s);
            break;
        }
        case YAML_SCALAR_EVENT:
            rc = on_scalar(&b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            rc = on_start(&b, &ev);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = on_end(&b);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (!rc && !c->root) rc = fail_at(c, 1, 1, GPSC_ECONFIG, "empty document; expected a mapping");
    return rc;
}

static void errf(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || !errsz) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

gpsc_cfg_t *gpsc_cfg_load_string(const char *text, size_t len, const char *name, char *err,
                                 size_t errsz)
{
    if (!name) name = "<string>";
    if (!text && len) {
        errf(err, errsz, "%s: no text", name);
        return NULL;
    }
    if (len > CFG_MAX_BYTES) {
        errf(err, errsz, "%s: document larger than %u MiB", name, CFG_MAX_BYTES >> 20);
        return NULL;
    }
    gpsc_cfg_t *c = calloc(1, sizeof *c);
    if (c) c->name = strdup(name);
    if (!c || !c->name) {
        free(c);
        errf(err, errsz, "%s: out of memory", name);
        return NULL;
    }
    if (build(c, (const unsigned char *)(text ? text : ""), len) != 0) {
        errf(err, errsz, "%s", c->errmsg);
        gpsc_cfg_destroy(&c);
        return NULL;
    }
    errf(err, errsz, "%s", "");
    return c;
}

gpsc_cfg_t *gpsc_cfg_load_file(const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        errf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    /* read at most one byte past the limit, so an oversized file is refused */
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            size_t ncap = cap * 2 > CFG_MAX_BYTES + 1 ? CFG_MAX_BYTES + 1 : cap * 2;
            if (ncap == cap) break;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    bool ioerr = ferror(f);
    fclose(f);
    if (!buf) {
        errf(err, errsz, "%s: out of memory", path);
        return NULL;
    }
    if (ioerr) {
        errf(err, errsz, "%s: read error", path);
        free(buf);
        return NULL;
    }
    if (len > CFG_MAX_BYTES) {
        errf(err, errsz, "%s: file larger than %u MiB", path, CFG_MAX_BYTES >> 20);
        free(buf);
        return NULL;
    }
    gpsc_cfg_t *c = gpsc_cfg_load_string(buf, len, path, err, errsz);
    free(buf);
    return c;
}

/* --- inspection ---------------------------------------------------------- */

const gpsc_cfg_node_t *gpsc_cfg_root(const gpsc_cfg_t *c)
{
    return c ? c->root : NULL;
}

const char *gpsc_cfg_name(const gpsc_cfg_t *c)
{
    return c->name;
}

gpsc_cfg_kind_t gpsc_cfg_kind(const gpsc_cfg_node_t *n)
{
    return n ? n->kind : (gpsc_cfg_kind_t)0;
}

int gpsc_cfg_line(const gpsc_cfg_node_t *n)
{
    return n ? n->line : 0;
}

int gpsc_cfg_column(const gpsc_cfg_node_t *n)
{
    return n ? n->col : 0;
}

const char *gpsc_cfg_text(const gpsc_cfg_node_t *n)
{
    return n && n->kind == GPSC_CFG_SCALAR ? n->text : NULL;
}

size_t gpsc_cfg_len(const gpsc_cfg_node_t *n)
{
    return n && n->kind != GPSC_CFG_SCALAR ? n->len : 0;
}

const gpsc_cfg_node_t *gpsc_cfg_at(const gpsc_cfg_node_t *seq, size_t i)
{
    return seq && seq->kind == GPSC_CFG_SEQ && i < seq->len ? seq->items[i].value : NULL;
}

const char *gpsc_cfg_key_at(const gpsc_cfg_node_t *map, size_t i)
{
    return map && map->kind == GPSC_CFG_MAP && i < map->len ? map->items[i].key->text : NULL;
}

const gpsc_cfg_node_t *gpsc_cfg_value_at(const gpsc_cfg_node_t *map, size_t i)
{
    return map && map->kind == GPSC_CFG_MAP && i < map->len ? map->items[i].value : NULL;
}

static cfg_item_t *find(const gpsc_cfg_node_t *map, const char *key)
{
    if (!map || map->kind != GPSC_CFG_MAP || !key) return NULL;
    for (size_t i = 0; i < map->len; i++)
        if (strcmp(map->items[i].key->text, key) == 0) return &map->items[i];
    return NULL;
}

const gpsc_cfg_node_t *gpsc_cfg_get(const gpsc_cfg_node_t *map, const char *key)
{
    const cfg_item_t *it = find(map, key);
    return it ? it->value : NULL;
}

/* Marks key used and sets *v: 1 present, 0 absent (missing recorded when
 * required), GPSC_ECONFIG when map is not a mapping. A NULL map is an
 * absent section: nothing is recorded. */
static int take(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, bool required,
                const gpsc_cfg_node_t **v)
{
    assert(c && key);
    *v = NULL;
    if (!map) return 0;
    if (map->kind != GPSC_CFG_MAP) return fail_type(c, map, "a mapping", GPSC_ECONFIG);
    cfg_item_t *it = find(map, key);
    if (it) {
        /* usage marks live in the items array, which the document owns */
        it->used = true;
        *v = it->value;
        return 1;
    }
    if (required) {
        char path[CFG_PATH];
        key_path(path, sizeof path, map, key);
        fail_at(c, map->line, map->col, GPSC_ECONFIG, "missing required key '%s'", path);
    }
    return 0;
}

const gpsc_cfg_node_t *gpsc_cfg_take(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                                     bool required)
{
    const gpsc_cfg_node_t *v;
    take(c, map, key, required, &v);
    return v;
}

/* --- scalar conversions -------------------------------------------------- */

typedef enum numkind {
    NUM_NONE,        /* not a number */
    NUM_INT,         /* [-+]?[0-9]+ */
    NUM_HEX,         /* 0x[0-9a-fA-F]+ */
    NUM_OCT,         /* 0o[0-7]+ */
    NUM_FLOAT,       /* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    NUM_NONFINITE,   /* [-+]?.inf, .nan and their capitalised forms */
    NUM_LEADING_ZERO /* 0[0-9]+: octal in YAML 1.1, decimal in 1.2 */
} numkind_t;

static size_t span(const char *s, const char *set)
{
    return strspn(s, set);
}

/* Classifies a plain scalar by the YAML 1.2 core schema's number forms. */
static numkind_t lex_number(const char *s)
{
    static const char *const nonfinite[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
    static const char dec[] = "0123456789";
    if (s[0] == '0' && s[1] == 'x')
        return s[2] && !s[2 + span(s + 2, "0123456789abcdefABCDEF")] ? NUM_HEX : NUM_NONE;
    if (s[0] == '0' && s[1] == 'o')
        return s[2] && !s[2 + span(s + 2, "01234567")] ? NUM_OCT : NUM_NONE;
    const char *p = s + (*s == '-' || *s == '+');
    for (size_t i = 0; i < sizeof nonfinite / sizeof nonfinite[0]; i++)
        if (strcmp(p, nonfinite[i]) == 0) return (i < 3 || p == s) ? NUM_NONFINITE : NUM_NONE;
    size_t d1 = span(p, dec), d2 = 0;
    const char *q = p + d1;
    bool frac = *q == '.', expo = false;
    if (frac) {
        d2 = span(q + 1, dec);
        q += 1 + d2;
    }
    if (d1 + d2 == 0) return NUM_NONE;
    if (*q == 'e' || *q == 'E') {
        const char *e = q + 1 + (q[1] == '-' || q[1] == '+');
        size_t de = span(e, dec);
        if (de == 0) return NUM_NONE;
        q = e + de;
        expo = true;
    }
    if (*q) return NUM_NONE;
    if (frac || expo) return NUM_FLOAT;
    return (d1 > 1 && p[0] == '0') ? NUM_LEADING_ZERO : NUM_INT;
}

/* Checks that n is a plain scalar that lexes as a number; records why not.
 * Returns the kind (> NUM_NONE) or a negative code. */
static int number_kind(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, const char *what)
{
    if (n->kind != GPSC_CFG_SCALAR || !n->plain || is_null(n))
        return fail_type(c, n, what, GPSC_ECONFIG);
    numkind_t k = lex_number(n->text);
    char path[CFG_PATH], v[CFG_SHOW + 4];
    switch (k) {
    case NUM_NONE:
        return fail_type(c, n, what, GPSC_ECONFIG);
    case NUM_NONFINITE:
        node_path(path, sizeof path, n);
        show(v, n->text);
        return fail_at(c, n->line, n->col, GPSC_ECONFIG,
                       "'%s': expected %s, got the non-finite '%s' (not allowed)", path, what, v);
    case NUM_LEADING_ZERO:
        node_path(path, sizeof path, n);
        show(v, n->text);
        return fail_at(c, n->line, n->col, GPSC_ECONFIG,
                       "'%s': '%s' has a leading zero (octal in YAML 1.1, decimal in 1.2); "
                       "drop the zero or write 0o for octal",
                       path, v);
    default:
        return (int)k;
    }
}

static int fail_range(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, const char *what)
{
    char path[CFG_PATH], v[CFG_SHOW + 4];
    node_path(path, sizeof path, n);
    show(v, n->text);
    return fail_at(c, n->line, n->col, GPSC_ERANGE, "'%s': %s does not fit in %s", path, v, what);
}

/* Unsigned value of a NUM_HEX / NUM_OCT / non-negative NUM_INT text;
 * false on overflow. */
static bool parse_unsigned(const char *s, numkind_t k, unsigned long long *out)
{
    int base = k == NUM_HEX ? 16 : k == NUM_OCT ? 8 : 10;
    const char *digits = k == NUM_INT ? s + (*s == '+') : s + 2;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, base);
    if (errno == ERANGE || *end) return false;
    *out = v;
    return true;
}

static int conv_double(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, double *out)
{
    int k = number_kind(c, n, "a number");
    if (k < 0) return k;
    double v;
    if (k == NUM_HEX || k == NUM_OCT) {
        unsigned long long u;
        if (!parse_unsigned(n->text, (numkind_t)k, &u)) return fail_range(c, n, "a double");
        v = (double)u;
    } else {
        char *end;
        v = strtod(n->text, &end);
        assert(*end == '\0');
        if (!isfinite(v)) return fail_range(c, n, "a double");
    }
    *out = v;
    return 0;
}

/* An integral value in [lo, hi], from an int or an integral float. */
static int conv_integer(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, long long lo, long long hi,
                        const char *what, long long *out)
{
    int k = number_kind(c, n, "an integer");
    if (k < 0) return k;
    long long v;
    if (k == NUM_HEX || k == NUM_OCT) {
        unsigned long long u;
        if (!parse_unsigned(n->text, (numkind_t)k, &u) || u > (unsigned long long)hi)
            return fail_range(c, n, what);
        v = (long long)u;
    } else if (k == NUM_INT) {
        char *end;
        errno = 0;
        v = strtoll(n->text, &end, 10);
        if (errno == ERANGE || v < lo || v > hi) return fail_range(c, n, what);
    } else {
        double d = strtod(n->text, NULL);
        if (isfinite(d) && d != floor(d)) return fail_type(c, n, "an integer", GPSC_ECONFIG);
        /* [lo, hi] here is at most the int range, exact in a double */
        if (!(d >= (double)lo && d <= (double)hi)) return fail_range(c, n, what);
        v = (long long)d;
    }
    *out = v;
    return 0;
}

static int conv_int(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, int *out)
{
    long long v;
    int rc = conv_integer(c, n, INT_MIN, INT_MAX, "an int", &v);
    if (rc == 0) *out = (int)v;
    return rc;
}

static int conv_u64(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, unsigned long long *out)
{
    int k = number_kind(c, n, "a non-negative integer");
    if (k < 0) return k;
    const char *s = n->text;
    unsigned long long v;
    if (k == NUM_FLOAT) {
        double d = strtod(s, NULL);
        if (isfinite(d) && d != floor(d))
            return fail_type(c, n, "a non-negative integer", GPSC_ECONFIG);
        if (!(d >= 0.0 && d < 18446744073709551616.0)) /* 2^64 */
            return fail_range(c, n, "an unsigned 64-bit integer");
        v = (unsigned long long)d;
    } else if (k == NUM_INT && s[0] == '-') {
        /* "-0" is zero; anything else is negative */
        if (s[1 + span(s + 1, "0")] != '\0') return fail_range(c, n, "an unsigned 64-bit integer");
        v = 0;
    } else if (!parse_unsigned(s, (numkind_t)k, &v)) {
        return fail_range(c, n, "an unsigned 64-bit integer");
    }
    *out = v;
    return 0;
}

static int conv_bool(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No",
                                     "NO",    "off",   "Off",   "OFF"};
    if (n->kind == GPSC_CFG_SCALAR && n->plain)
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (strcmp(n->text, yes[i]) == 0) {
                *out = true;
                return 0;
            }
            if (strcmp(n->text, no[i]) == 0) {
                *out = false;
                return 0;
            }
        }
    return fail_type(c, n, "a bool (true/false, yes/no, on/off)", GPSC_ECONFIG);
}

int gpsc_cfg_node_double(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, double *out)
{
    return n ? conv_double(c, n, out) : GPSC_EINVAL;
}

int gpsc_cfg_node_int(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, int *out)
{
    return n ? conv_int(c, n, out) : GPSC_EINVAL;
}

/* --- typed getters ------------------------------------------------------- */

int gpsc_cfg_double(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, double *out,
                    bool required)
{
    const gpsc_cfg_node_t *v;
    int rc = take(c, map, key, required, &v);
    if (rc <= 0) return rc;
    rc = conv_double(c, v, out);
    return rc < 0 ? rc : 1;
}

int gpsc_cfg_int(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, int *out,
                 bool required)
{
    const gpsc_cfg_node_t *v;
    int rc = take(c, map, key, required, &v);
    if (rc <= 0) return rc;
    rc = conv_int(c, v, out);
    return rc < 0 ? rc : 1;
}

int gpsc_cfg_u64(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                 unsigned long long *out, bool required)
{
    const gpsc_cfg_node_t *v;
    int rc = take(c, map, key, required, &v);
    if (rc <= 0) return rc;
    rc = conv_u64(c, v, out);
    return rc < 0 ? rc : 1;
}

int gpsc_cfg_bool(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, bool *out,
                  bool required)
{
    const gpsc_cfg_node_t *v;
    int rc = take(c, map, key, required, &v);
    if (rc <= 0) return rc;
    rc = conv_bool(c, v, out);
    return rc < 0 ? rc : 1;
}

int gpsc_cfg_string(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, const char **out,
                    bool required)
{
    const gpsc_cfg_node_t *v;
    int rc = take(c, map, key, required, &v);
    if (rc <= 0) return rc;
    if (v->kind != GPSC_CFG_SCALAR || is_null(v)) return fail_type(c, v, "a string", GPSC_ECONFIG);
    *out = v->text;
    return 1;
}

int gpsc_cfg_enum(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                  const char *const *choices, int *out, bool required)
{
    const gpsc_cfg_node_t *v;
    int rc = take(c, map, key, required, &v);
    if (rc <= 0) return rc;
    /* "one of: a, b, c" for the message */
    char list[256];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; choices[i]; i++) {
        if (v->kind == GPSC_CFG_SCALAR && strcmp(v->text, choices[i]) == 0) {
            *out = i;
            return 1;
        }
        int k = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", choices[i]);
        if (k > 0) len = len + (size_t)k < sizeof list ? len + (size_t)k : sizeof list - 1;
    }
    char what[sizeof list + 16];
    snprintf(what, sizeof what, "one of: %s", list);
    return fail_type(c, v, what, GPSC_ECONFIG);
}

/* Elements of a number list: a sequence, or a lone scalar taken as [x].
 * Checks the count against max / expect; returns 0 or a code. */
static int list_count(gpsc_cfg_t *c, const gpsc_cfg_node_t *v, int max, int expect,
                      const char *what, size_t *count)
{
    if (v->kind == GPSC_CFG_MAP) return fail_type(c, v, what, GPSC_ECONFIG);
    size_t k = v->kind == GPSC_CFG_SEQ ? v->len : 1;
    char path[CFG_PATH];
    node_path(path, sizeof path, v);
    if (expect > 0 && k != (size_t)expect)
        return fail_at(c, v->line, v->col, GPSC_EDIM, "'%s': expected %d entries, got %zu", path,
                       expect, k);
    if (k > (size_t)(max > 0 ? max : 0))
        return fail_at(c, v->line, v->col, GPSC_EDIM, "'%s': %zu entries, at most %d allowed", path,
                       k, max);
    *count = k;
    return 0;
}

static const gpsc_cfg_node_t *list_at(const gpsc_cfg_node_t *v, size_t i)
{
    return v->kind == GPSC_CFG_SEQ ? v->items[i].value : v;
}

int gpsc_cfg_doubles(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, double *out,
                     int max, int *n, int expect, bool required)
{
    const gpsc_cfg_node_t *v;
    size_t k;
    int rc = take(c, map, key, required, &v);
    if (rc <= 0) return rc;
    rc = list_count(c, v, max, expect, "a list of numbers", &k);
    if (rc < 0) return rc;
    /* convert everything before writing anything */
    for (size_t i = 0; i < k; i++) {
        double x;
        if ((rc = conv_double(c, list_at(v, i), &x)) < 0) return rc;
    }
    for (size_t i = 0; i < k; i++)
        conv_double(c, list_at(v, i), &out[i]);
    if (n) *n = (int)k;
    return 1;
}

int gpsc_cfg_ints(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, int *out, int max,
                  int *n, int expect, bool required)
{
    const gpsc_cfg_node_t *v;
    size_t k;
    int rc = take(c, map, key, required, &v);
    if (rc <= 0) return rc;
    rc = list_count(c, v, max, expect, "a list of integers", &k);
    if (rc < 0) return rc;
    for (size_t i = 0; i < k; i++) {
        int x;
        if ((rc = conv_int(c, list_at(v, i), &x)) < 0) return rc;
    }
    for (size_t i = 0; i < k; i++)
        conv_int(c, list_at(v, i), &out[i]);
    if (n) *n = (int)k;
    return 1;
}

static const gpsc_cfg_node_t *collection(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                                         bool required, gpsc_cfg_kind_t kind)
{
    const gpsc_cfg_node_t *v;
    if (take(c, map, key, required, &v) <= 0) return NULL;
    if (v->kind != kind) {
        fail_type(c, v, kind == GPSC_CFG_MAP ? "a mapping" : "a sequence", GPSC_ECONFIG);
        return NULL;
    }
    return v;
}

const gpsc_cfg_node_t *gpsc_cfg_map(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                                    bool required)
{
    return collection(c, map, key, required, GPSC_CFG_MAP);
}

const gpsc_cfg_node_t *gpsc_cfg_seq(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                                    bool required)
{
    return collection(c, map, key, required, GPSC_CFG_SEQ);
}

/* --- unused keys --------------------------------------------------------- */

/* First key never taken, in document order, below a taken node n. Keys of
 * an untaken mapping value are not visited: its own key is reported. */
static const gpsc_cfg_node_t *first_unused(const gpsc_cfg_node_t *n)
{
    if (n->kind == GPSC_CFG_SCALAR) return NULL;
    for (size_t i = 0; i < n->len; i++) {
        const cfg_item_t *it = &n->items[i];
        if (n->kind == GPSC_CFG_MAP && !it->used) return it->key;
        const gpsc_cfg_node_t *r = first_unused(it->value);
        if (r) return r;
    }
    return NULL;
}

int gpsc_cfg_check_unused(gpsc_cfg_t *c)
{
    const gpsc_cfg_node_t *k = c->root ? first_unused(c->root) : NULL;
    if (!k) return 0;
    char path[CFG_PATH];
    node_path(path, sizeof path, k);
    return fail_at(c, k->line, k->col, GPSC_ECONFIG, "unknown key '%s'", path);
}
