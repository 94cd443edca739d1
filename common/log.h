/* log.h — process logging: one macro, structured records, pluggable sinks.
 *
 * A process sets its identity once at start (gpsc_log_init) and then logs
 * with one macro:
 *
 *     gpsc_log_init("worker", run_id, GPSC_LOG_INFO);
 *     GPSC_LOG(GPSC_LOG_WARN, "condition %d: sim unstable at t=%d", cond, t);
 *
 * The level is checked before anything is formatted, so arguments of a
 * filtered record are not evaluated. The format string is printf-checked.
 * Every record carries the time (UTC, ISO-8601 with milliseconds), level,
 * role, process id, run id, current iteration, source file:line and the
 * message, and goes to
 *   - the stream sink (stderr by default): readable text when the stream
 *     is a terminal (coloured unless NO_COLOR is set), JSON lines otherwise;
 *   - the file sink, if one is open (JSON lines, appended);
 *   - the hook, if one is set (e.g. forwarding records over the wire).
 * A JSON line is one object:
 *   {"time":"2024-05-01T12:00:00.123Z","level":"info","role":"worker",
 *    "pid":1234,"run_id":"r1","iteration":3,"file":"worker/main.c",
 *    "line":42,"msg":"..."}
 * with every string escaped (invalid UTF-8 becomes U+FFFD); iteration is
 * -1 before the first one.
 *
 * All functions are thread-safe: one mutex serialises sink writes and hook
 * calls, so lines never interleave. Only processes log: library code
 * returns error codes and leaves the logging to its caller. */
#ifndef GPSC_LOG_H
#define GPSC_LOG_H

#include <stddef.h>
#include <stdio.h>

typedef enum gpsc_log_level {
    GPSC_LOG_DEBUG = 0,
    GPSC_LOG_INFO = 1,
    GPSC_LOG_WARN = 2,
    GPSC_LOG_ERROR = 3
} gpsc_log_level_t;

typedef enum gpsc_log_format {
    GPSC_LOG_AUTO = 0, /* text on a terminal, JSON lines otherwise */
    GPSC_LOG_TEXT = 1, /* readable text, no colour */
    GPSC_LOG_JSON = 2  /* one JSON object per line */
} gpsc_log_format_t;

/* One record, as the sinks and the hook see it. Pointers are valid only
 * during the call that receives the record. */
typedef struct gpsc_log_record {
    long long time_ms; /* milliseconds since the Unix epoch */
    char time[32];     /* time_ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) */
    gpsc_log_level_t level;
    const char *role;    /* "coordinator", "learner", "worker", "tool" */
    long pid;            /* process id */
    const char *run_id;  /* "" before one is known */
    long long iteration; /* GPS iteration, -1 when none */
    const char *file;    /* source file, shortened to "dir/file.c" */
    int line;            /* source line */
    const char *msg;     /* the formatted message */
} gpsc_log_record_t;

typedef void (*gpsc_log_hook_fn)(const gpsc_log_record_t *rec, void *ud);

/* Logs one record at `level` with a printf format: the record is built and
 * written only when gpsc_log_enabled(level); otherwise nothing after
 * `level` is evaluated. */
#define GPSC_LOG(level, ...)                                                                       \
    do {                                                                                           \
        gpsc_log_level_t gpsc_log_lvl_ = (level);                                                  \
        if (gpsc_log_enabled(gpsc_log_lvl_))                                                       \
            gpsc_log_emit_(gpsc_log_lvl_, __FILE__, __LINE__, __VA_ARGS__);                        \
    } while (0)

/* Sets the process identity and the threshold. `role` and `run_id` are
 * copied (at most 63 characters each; NULL run_id means ""). The
 * iteration is reset to -1. Sinks and hook are left as they are (the
 * stream sink starts as stderr, GPSC_LOG_AUTO). Call it once at start,
 * before threads; it may be called again (tests do). */
void gpsc_log_init(const char *role, const char *run_id, gpsc_log_level_t level);

/* Changes the threshold, the run id (copied) or the current iteration. */
void gpsc_log_set_level(gpsc_log_level_t level);
gpsc_log_level_t gpsc_log_get_level(void);
void gpsc_log_set_run_id(const char *run_id);
void gpsc_log_set_iteration(long long iteration);

/* True when records at `level` are written (level >= threshold). */
int gpsc_log_enabled(gpsc_log_level_t level);

/* Stream sink: `f` (not owned; NULL disables it) in format `fmt`.
 * GPSC_LOG_AUTO picks text when isatty(fileno(f)), JSON otherwise. */
void gpsc_log_set_stream(FILE *f, gpsc_log_format_t fmt);

/* File sink: opens `path` for appending (creating it) and writes JSON
 * lines (or text when fmt is GPSC_LOG_TEXT); replaces and closes a file
 * opened before. NULL path closes the file sink. Returns 0 or GPSC_EIO. */
int gpsc_log_open_file(const char *path, gpsc_log_format_t fmt);

/* Hook called with every written record (NULL removes it). It runs under
 * the logger's mutex: it must not block for long nor call the gpsc_log_set_*,
 * _init, _open_file or _shutdown functions (deadlock); records it logs
 * itself with GPSC_LOG go to the sinks but not back into the hook. */
void gpsc_log_set_hook(gpsc_log_hook_fn fn, void *ud);

/* Writes a record built elsewhere (e.g. one a worker forwarded) to the
 * stream and file sinks, if it passes the threshold; the hook is not
 * called. Fields may be NULL (written as ""). */
void gpsc_log_write_record(const gpsc_log_record_t *rec);

/* Formats rec as one JSON object plus '\n' into buf. The message is cut
 * (still valid JSON) when the line would not fit. Returns the length
 * written (without the NUL), or GPSC_EINVAL when bufsz < 256. */
int gpsc_log_format_json(char *buf, size_t bufsz, const gpsc_log_record_t *rec);

/* Closes the file sink, removes the hook and restores the stream sink to
 * stderr (AUTO). The identity and threshold are kept. */
void gpsc_log_shutdown(void);

/* "debug", "info", "warn", "error" (static strings; "?" when unknown). */
const char *gpsc_log_level_name(gpsc_log_level_t level);

/* Parses a --log-level argument: debug, info, warn/warning, error (any
 * case). Returns 0 and sets *out, or GPSC_EINVAL. */
int gpsc_log_parse_level(const char *s, gpsc_log_level_t *out);

/* The macro's worker; call GPSC_LOG instead. */
void gpsc_log_emit_(gpsc_log_level_t level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
