/* log.c — process logging (see log.h).
 *
 * The logger is process-wide by nature, so its state is one file-static
 * struct guarded by one mutex; the threshold is an atomic read without the
 * lock so that a filtered GPSC_LOG costs one load. A record is formatted
 * (vsnprintf) before the lock is taken; the lock covers identity reads,
 * sink writes and the hook call. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

#define LOG_MSG_MAX 4096                      /* bytes of a formatted message */
#define LOG_LINE_MAX (6 * LOG_MSG_MAX + 1024) /* a fully escaped JSON line */
#define LOG_JSON_MIN 1024                     /* smallest buffer gpsc_log_format_json takes */

typedef struct log_sink {
    FILE *f;     /* NULL: sink off */
    bool text;   /* readable text instead of JSON */
    bool colour; /* ANSI colour on the level (terminals only) */
} log_sink_t;

static struct {
    pthread_mutex_t mu;
    char role[64];         /* process role */
    char run_id[64];       /* "" until known */
    long long iteration;   /* -1 until the first iteration */
    bool stream_default;   /* stream sink not chosen yet: stderr, AUTO */
    log_sink_t stream;     /* not owned */
    log_sink_t file;       /* owned: closed on replace / shutdown */
    gpsc_log_hook_fn hook; /* may be NULL */
    void *hook_ud;
    char line[LOG_LINE_MAX]; /* one formatted line; used under mu only */
} g = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .role = "tool",
    .iteration = -1,
    .stream_default = true,
};

static atomic_int g_level = GPSC_LOG_INFO;

/* > 0 while this thread holds g.mu inside a hook call */
static _Thread_local int t_in_hook;

static void copy_str(char *dst, size_t dstsz, const char *s)
{
    snprintf(dst, dstsz, "%s", s ? s : "");
}

/* --- identity and settings ------------------------------------------------ */

void gpsc_log_init(const char *role, const char *run_id, gpsc_log_level_t level)
{
    pthread_mutex_lock(&g.mu);
    copy_str(g.role, sizeof g.role, role ? role : "tool");
    copy_str(g.run_id, sizeof g.run_id, run_id);
    g.iteration = -1;
    pthread_mutex_unlock(&g.mu);
    atomic_store(&g_level, (int)level);
}

void gpsc_log_set_level(gpsc_log_level_t level)
{
    atomic_store(&g_level, (int)level);
}

gpsc_log_level_t gpsc_log_get_level(void)
{
    return (gpsc_log_level_t)atomic_load(&g_level);
}

int gpsc_log_enabled(gpsc_log_level_t level)
{
    return (int)level >= atomic_load_explicit(&g_level, memory_order_relaxed);
}

void gpsc_log_set_run_id(const char *run_id)
{
    pthread_mutex_lock(&g.mu);
    copy_str(g.run_id, sizeof g.run_id, run_id);
    pthread_mutex_unlock(&g.mu);
}

void gpsc_log_set_iteration(long long iteration)
{
    pthread_mutex_lock(&g.mu);
    g.iteration = iteration;
    pthread_mutex_unlock(&g.mu);
}

/* AUTO: text with colour on a terminal (unless NO_COLOR), JSON otherwise */
static log_sink_t sink_make(FILE *f, gpsc_log_format_t fmt)
{
    log_sink_t s = {.f = f, .text = fmt == GPSC_LOG_TEXT, .colour = false};
    if (f && fmt == GPSC_LOG_AUTO && isatty(fileno(f))) {
        s.text = true;
        s.colour = getenv("NO_COLOR") == NULL;
    }
    return s;
}

void gpsc_log_set_stream(FILE *f, gpsc_log_format_t fmt)
{
    pthread_mutex_lock(&g.mu);
    g.stream_default = false;
    g.stream = sink_make(f, fmt);
    pthread_mutex_unlock(&g.mu);
}

int gpsc_log_open_file(const char *path, gpsc_log_format_t fmt)
{
    FILE *f = path ? fopen(path, "a") : NULL;
    if (path && !f) return GPSC_EIO;
    pthread_mutex_lock(&g.mu);
    if (g.file.f) fclose(g.file.f);
    g.file = (log_sink_t){.f = f, .text = fmt == GPSC_LOG_TEXT, .colour = false};
    pthread_mutex_unlock(&g.mu);
    return 0;
}

void gpsc_log_set_hook(gpsc_log_hook_fn fn, void *ud)
{
    pthread_mutex_lock(&g.mu);
    g.hook = fn;
    g.hook_ud = ud;
    pthread_mutex_unlock(&g.mu);
}

void gpsc_log_shutdown(void)
{
    pthread_mutex_lock(&g.mu);
    if (g.file.f) fclose(g.file.f);
    g.file = (log_sink_t){0};
    g.hook = NULL;
    g.hook_ud = NULL;
    g.stream_default = true;
    g.stream = (log_sink_t){0};
    pthread_mutex_unlock(&g.mu);
}

const char *gpsc_log_level_name(gpsc_log_level_t level)
{
    switch (level) {
    case GPSC_LOG_DEBUG:
        return "debug";
    case GPSC_LOG_INFO:
        return "info";
    case GPSC_LOG_WARN:
        return "warn";
    case GPSC_LOG_ERROR:
        return "error";
    }
    return "?";
}

int gpsc_log_parse_level(const char *s, gpsc_log_level_t *out)
{
    static const struct {
        const char *name;
        gpsc_log_level_t level;
    } names[] = {{"debug", GPSC_LOG_DEBUG},
                 {"info", GPSC_LOG_INFO},
                 {"warn", GPSC_LOG_WARN},
                 {"warning", GPSC_LOG_WARN},
                 {"error", GPSC_LOG_ERROR}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    return GPSC_EINVAL;
}

/* --- formatting ----------------------------------------------------------- */

/* a bounded string builder: never writes past cap - 1, always terminated */
typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf_t;

static bool sb_put(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n >= b->cap) return false;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (k > 0) b->len = b->len + (size_t)k < b->cap ? b->len + (size_t)k : b->cap - 1;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid
 * (bad lead, truncated, overlong, surrogate, above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp, min;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* Appends s as a JSON string; the escaped body takes at most `budget`
 * bytes (cut at a character boundary). The quotes are always written when
 * two bytes are free. */
static void sb_json_str(sbuf_t *b, const char *s, size_t budget)
{
    static const char hex[] = "0123456789abcdef";
    if (!sb_put(b, "\"", 1)) return;
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    /* keep one byte for the closing quote */
    while (*p) {
        char esc[8];
        const char *out = esc;
        size_t n = 0, adv = 1;
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, n = 2;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2), n = 2;
        } else if (c == '\r') {
            memcpy(esc, "\\r", 2), n = 2;
        } else if (c == '\t') {
            memcpy(esc, "\\t", 2), n = 2;
        } else if (c < 0x20 || c == 0x7F) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4], esc[5] = hex[c & 15], n = 6;
        } else if (c < 0x80) {
            esc[0] = (char)c, n = 1;
        } else if ((adv = utf8_seq(p)) > 0) {
            out = (const char *)p, n = adv;
        } else {
            out = "\\ufffd", n = 6, adv = 1;
        }
        if (used + n > budget || b->len + n + 1 >= b->cap) break;
        sb_put(b, out, n);
        used += n;
        p += adv;
    }
    sb_put(b, "\"", 1);
}

/* "dir/file.c" from a full __FILE__ path */
static const char *short_file(const char *file)
{
    if (!file) return "";
    const char *last = strrchr(file, '/');
    if (!last) return file;
    const char *p = last;
    while (p > file && p[-1] != '/')
        p--;
    return p > file ? p : (last > file ? file : last + 1);
}

int gpsc_log_format_json(char *buf, size_t bufsz, const gpsc_log_record_t *r)
{
    if (!buf || bufsz < LOG_JSON_MIN || !r) return GPSC_EINVAL;
    sbuf_t b = {.p = buf, .cap = bufsz, .len = 0};
    buf[0] = '\0';
    /* fixed-size fields first; the message gets what is left */
    sb_put(&b, "{\"time\":", 8);
    sb_json_str(&b, r->time, 31);
    sb_printf(&b, ",\"level\":\"%s\",\"role\":", gpsc_log_level_name(r->level));
    sb_json_str(&b, r->role, 64);
    sb_printf(&b, ",\"pid\":%ld,\"run_id\":", r->pid);
    sb_json_str(&b, r->run_id, 64);
    sb_printf(&b, ",\"iteration\":%lld,\"file\":", r->iteration);
    sb_json_str(&b, r->file, 128);
    sb_printf(&b, ",\"line\":%d,\"msg\":", r->line);
    /* room for the message body, its quotes, "}\n" and the NUL */
    size_t left = b.cap - b.len;
    sb_json_str(&b, r->msg, left > 6 ? left - 6 : 0);
    sb_put(&b, "}\n", 2);
    return (int)b.len;
}

/* Appends at most max bytes of s verbatim, except control characters
 * that could drive a terminal (escape sequences from a peer), which become
 * '?'; newlines and tabs survive when `multiline`. Keeps 2 bytes free. */
static void sb_clean(sbuf_t *b, const char *s, size_t max, bool multiline)
{
    for (size_t i = 0; s && s[i] && i < max && b->len + 2 < b->cap; i++) {
        unsigned char c = (unsigned char)s[i];
        bool keep = c >= 0x20 ? c != 0x7F : multiline && (c == '\n' || c == '\t');
        char ch = keep ? (char)c : '?';
        sb_put(b, &ch, 1);
    }
}

/* "2024-05-01T12:00:00.123Z INFO  worker[12] run=r1 it=3 dir/f.c:42: msg" */
static size_t format_text(char *buf, size_t bufsz, const gpsc_log_record_t *r, bool colour)
{
    static const char *const names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    static const char *const colours[] = {"\033[2m", "\033[32m", "\033[33m", "\033[1;31m"};
    int lv = (int)r->level >= 0 && (int)r->level <= 3 ? (int)r->level : 3;
    sbuf_t b = {.p = buf, .cap = bufsz, .len = 0};
    buf[0] = '\0';
    sb_clean(&b, r->time, sizeof r->time, false);
    sb_printf(&b, " %s%s%s ", colour ? colours[lv] : "", names[lv], colour ? "\033[0m" : "");
    sb_clean(&b, r->role, 64, false);
    sb_printf(&b, "[%ld]", r->pid);
    if (r->run_id && r->run_id[0]) {
        sb_put(&b, " run=", 5);
        sb_clean(&b, r->run_id, 64, false);
    }
    if (r->iteration >= 0) sb_printf(&b, " it=%lld", r->iteration);
    sb_put(&b, " ", 1);
    sb_clean(&b, r->file, 128, false);
    sb_printf(&b, ":%d: ", r->line);
    sb_clean(&b, r->msg, LOG_MSG_MAX, true);
    /* sb_clean kept room for the newline */
    b.p[b.len++] = '\n';
    b.p[b.len] = '\0';
    return b.len;
}

static void fill_time(gpsc_log_record_t *r)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r->time_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    struct tm tm;
    time_t sec = ts.tv_sec;
    gmtime_r(&sec, &tm);
    size_t k = strftime(r->time, sizeof r->time, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(r->time + k, sizeof r->time - k, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

/* writes r to the stream and file sinks; caller holds g.mu */
static void write_sinks(const gpsc_log_record_t *r)
{
    if (g.stream_default) {
        g.stream = sink_make(stderr, GPSC_LOG_AUTO);
        g.stream_default = false;
    }
    const log_sink_t *sinks[] = {&g.stream, &g.file};
    for (size_t i = 0; i < 2; i++) {
        const log_sink_t *s = sinks[i];
        if (!s->f) continue;
        size_t n = s->text ? format_text(g.line, sizeof g.line, r, s->colour)
                           : (size_t)gpsc_log_format_json(g.line, sizeof g.line, r);
        fwrite(g.line, 1, n, s->f);
        fflush(s->f);
    }
}

void gpsc_log_emit_(gpsc_log_level_t level, const char *file, int line, const char *fmt, ...)
{
    char msg[LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a cut message ends with a marker (the marker's NUL is the last byte) */
    static const char cut[] = "...[truncated]";
    if (k >= (int)sizeof msg) memcpy(msg + sizeof msg - sizeof cut, cut, sizeof cut);

    gpsc_log_record_t r = {.level = level, .file = short_file(file), .line = line, .msg = msg};
    fill_time(&r);
    r.pid = (long)getpid();

    /* inside our own hook this thread already holds the lock */
    bool nested = t_in_hook > 0;
    if (!nested) pthread_mutex_lock(&g.mu);
    r.role = g.role;
    r.run_id = g.run_id;
    r.iteration = g.iteration;
    write_sinks(&r);
    if (g.hook && !nested) {
        t_in_hook++;
        g.hook(&r, g.hook_ud);
        t_in_hook--;
    }
    if (!nested) pthread_mutex_unlock(&g.mu);
}

void gpsc_log_write_record(const gpsc_log_record_t *rec)
{
    if (!rec || !gpsc_log_enabled(rec->level)) return;
    gpsc_log_record_t r = *rec;
    if (!r.time[0] || !memchr(r.time, '\0', sizeof r.time)) {
        /* no printable time given: derive it from time_ms */
        long long ms = ((r.time_ms % 1000) + 1000) % 1000;
        time_t sec = (time_t)((r.time_ms - ms) / 1000);
        struct tm tm;
        memset(r.time, 0, sizeof r.time);
        if (gmtime_r(&sec, &tm)) {
            size_t k = strftime(r.time, sizeof r.time, "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf(r.time + k, sizeof r.time - k, ".%03dZ", (int)ms);
        }
    }
    bool nested = t_in_hook > 0;
    if (!nested) pthread_mutex_lock(&g.mu);
    write_sinks(&r);
    if (!nested) pthread_mutex_unlock(&g.mu);
}
