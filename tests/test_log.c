/* test_log.c — the logging macro, its sinks and its hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"

/* everything written to f since the start, as a NUL-terminated string */
static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fseek(f, 0, SEEK_END);
    return s;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int setup(void **state)
{
    (void)state;
    gpsc_log_shutdown();
    gpsc_log_init("worker", "run-7", GPSC_LOG_DEBUG);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gpsc_log_shutdown();
    return 0;
}

static int bump(int *counter)
{
    return ++*counter;
}

static void test_level_checked_before_formatting(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    gpsc_log_set_stream(f, GPSC_LOG_JSON);
    gpsc_log_set_level(GPSC_LOG_WARN);
    int counter = 0;
    GPSC_LOG(GPSC_LOG_DEBUG, "debug %d", bump(&counter));
    GPSC_LOG(GPSC_LOG_INFO, "info %d", bump(&counter));
    assert_int_equal(counter, 0); /* arguments of filtered records are not evaluated */
    GPSC_LOG(GPSC_LOG_WARN, "warn %d", bump(&counter));
    GPSC_LOG(GPSC_LOG_ERROR, "error %d", bump(&counter));
    assert_int_equal(counter, 2);
    char *out = slurp(f);
    assert_int_equal(count_lines(out), 2);
    assert_non_null(strstr(out, "\"msg\":\"warn 1\""));
    assert_non_null(strstr(out, "\"msg\":\"error 2\""));
    assert_null(strstr(out, "info"));
    free(out);
    assert_false(gpsc_log_enabled(GPSC_LOG_INFO));
    assert_true(gpsc_log_enabled(GPSC_LOG_WARN));
    assert_int_equal(gpsc_log_get_level(), GPSC_LOG_WARN);
    fclose(f);
}

static void test_json_record(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    gpsc_log_set_stream(f, GPSC_LOG_JSON);
    gpsc_log_set_iteration(3);
    time_t before = time(NULL);
    int line = __LINE__ + 1;
    GPSC_LOG(GPSC_LOG_ERROR, "say \"%s\"\n\tback\\slash \x01 bad \xff ok \xc3\xa9", "hi");
    time_t after = time(NULL);
    char *out = slurp(f);
    assert_int_equal(count_lines(out), 1); /* the newline in the message is escaped */
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    struct tm tm;
    char want_day[16];
    gmtime_r(&before, &tm);
    strftime(want_day, sizeof want_day, "%Y-%m-%dT", &tm);

    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "time"));
    assert_non_null(t);
    assert_int_equal(strlen(t), 24); /* 2024-05-01T12:00:00.123Z */
    assert_true(t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
    if (before / 86400 == after / 86400) assert_memory_equal(t, want_day, 11);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "level")), "error");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "role")), "worker");
    assert_int_equal((long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "pid")), (long)getpid());
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "run_id")), "run-7");
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "iteration")), 3);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "file")), "tests/test_log.c");
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "line")), line);
    /* quotes, newline, tab, backslash and a control byte survive the round
     * trip; the invalid byte became U+FFFD; valid UTF-8 is kept */
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "msg")),
                        "say \"hi\"\n\tback\\slash \x01 bad \xef\xbf\xbd ok \xc3\xa9");
    assert_non_null(strstr(out, "\\u0001"));
    assert_non_null(strstr(out, "\\ufffd"));
    assert_int_equal(cJSON_GetArraySize(j), 9);
    cJSON_Delete(j);
    free(out);
    fclose(f);
}

static void test_text_record(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    gpsc_log_set_stream(f, GPSC_LOG_TEXT);
    gpsc_log_set_iteration(12);
    int line = __LINE__ + 1;
    GPSC_LOG(GPSC_LOG_WARN, "hello %s\x1b[31m", "world");
    gpsc_log_set_iteration(-1);
    gpsc_log_set_run_id(NULL);
    GPSC_LOG(GPSC_LOG_INFO, "no run yet");
    char *out = slurp(f);
    char want[256];
    snprintf(want, sizeof want,
             " WARN  worker[%ld] run=run-7 it=12 tests/test_log.c:%d: "
             "hello world?[31m\n",
             (long)getpid(), line);
    const char *p = strstr(out, want);
    assert_non_null(p);
    assert_true(p == out + 24); /* after the time stamp */
    assert_true(out[10] == 'T' && out[23] == 'Z');
    snprintf(want, sizeof want, " INFO  worker[%ld] tests/test_log.c:%d: no run yet\n",
             (long)getpid(), line + 3);
    assert_non_null(strstr(out, want));
    assert_null(strchr(out, '\x1b')); /* no colour when not a terminal, no raw escapes */
    free(out);
    fclose(f);
}

/* --- hook ------------------------------------------------------------------ */

typedef struct seen {
    int n;
    char msg[8][64];
    char role[16];
    gpsc_log_level_t level[8];
    long long iteration;
    int line;
} seen_t;

static void hook(const gpsc_log_record_t *r, void *ud)
{
    seen_t *s = ud;
    if (s->n < 8) {
        snprintf(s->msg[s->n], sizeof s->msg[0], "%s", r->msg);
        s->level[s->n] = r->level;
    }
    snprintf(s->role, sizeof s->role, "%s", r->role);
    s->iteration = r->iteration;
    s->line = r->line;
    s->n++;
    /* logging from inside the hook neither deadlocks nor recurses */
    GPSC_LOG(GPSC_LOG_INFO, "from the hook");
}

static void test_hook(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    gpsc_log_set_stream(f, GPSC_LOG_JSON);
    seen_t s = {0};
    gpsc_log_init("learner", "r2", GPSC_LOG_INFO);
    gpsc_log_set_iteration(5);
    gpsc_log_set_hook(hook, &s);
    GPSC_LOG(GPSC_LOG_DEBUG, "filtered");
    int line = __LINE__ + 1;
    GPSC_LOG(GPSC_LOG_WARN, "kl %.2f", 0.25);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.msg[0], "kl 0.25");
    assert_int_equal(s.level[0], GPSC_LOG_WARN);
    assert_string_equal(s.role, "learner");
    assert_int_equal(s.iteration, 5);
    assert_int_equal(s.line, line);
    gpsc_log_set_hook(NULL, NULL);
    GPSC_LOG(GPSC_LOG_ERROR, "after removal");
    assert_int_equal(s.n, 1);
    char *out = slurp(f);
    assert_int_equal(count_lines(out), 3); /* kl, from the hook, after removal */
    assert_non_null(strstr(out, "from the hook"));
    free(out);
    fclose(f);
}

/* --- file sink, foreign records, truncation ---------------------------------- */

static void test_file_sink_and_foreign_records(void **state)
{
    (void)state;
    char path[] = "/tmp/gpsc_test_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    gpsc_log_set_stream(NULL, GPSC_LOG_AUTO); /* stream off */
    assert_int_equal(gpsc_log_open_file(path, GPSC_LOG_AUTO), 0);
    GPSC_LOG(GPSC_LOG_INFO, "one");
    gpsc_log_record_t r = {.time_ms = 1234,
                           .level = GPSC_LOG_WARN,
                           .role = "worker",
                           .pid = 77,
                           .run_id = NULL,
                           .iteration = 9,
                           .file = "w/x.c",
                           .line = 3,
                           .msg = "forwarded"};
    gpsc_log_write_record(&r);
    r.level = GPSC_LOG_DEBUG; /* below the threshold */
    gpsc_log_set_level(GPSC_LOG_INFO);
    gpsc_log_write_record(&r);
    /* reopening appends */
    assert_int_equal(gpsc_log_open_file(path, GPSC_LOG_JSON), 0);
    GPSC_LOG(GPSC_LOG_INFO, "two");
    assert_int_equal(gpsc_log_open_file(NULL, GPSC_LOG_JSON), 0);
    GPSC_LOG(GPSC_LOG_INFO, "not in the file");
    assert_int_equal(gpsc_log_open_file("/nonexistent/dir/log", GPSC_LOG_JSON), GPSC_EIO);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    char *out = slurp(f);
    fclose(f);
    unlink(path);
    assert_int_equal(count_lines(out), 3);
    char *second = strchr(out, '\n') + 1;
    *strchr(second, '\n') = '\0';
    assert_string_equal(second,
                        "{\"time\":\"1970-01-01T00:00:01.234Z\",\"level\":\"warn\",\"role\":"
                        "\"worker\",\"pid\":77,\"run_id\":\"\",\"iteration\":9,\"file\":\"w/x.c\","
                        "\"line\":3,\"msg\":\"forwarded\"}");
    assert_non_null(strstr(second + strlen(second) + 1, "\"msg\":\"two\""));
    free(out);
}

static void test_truncation(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    gpsc_log_set_stream(f, GPSC_LOG_JSON);
    char big[6000];
    memset(big, '"', sizeof big - 1); /* every byte escapes to two */
    big[sizeof big - 1] = '\0';
    GPSC_LOG(GPSC_LOG_INFO, "%s", big);
    char *out = slurp(f);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(j, "msg"));
    assert_int_equal(strlen(msg), 4095);
    assert_string_equal(msg + 4095 - 14, "...[truncated]");
    cJSON_Delete(j);
    free(out);
    fclose(f);

    /* a small buffer still gets a complete, valid object */
    gpsc_log_record_t r = {.time = "2024-01-02T03:04:05.006Z",
                           .level = GPSC_LOG_INFO,
                           .role = "tool",
                           .pid = 1,
                           .run_id = "x",
                           .iteration = -1,
                           .file = "a/b.c",
                           .line = 1,
                           .msg = big};
    char buf[1024];
    int n = gpsc_log_format_json(buf, sizeof buf, &r);
    assert_true(n > 0 && n < (int)sizeof buf);
    assert_int_equal(buf[n - 1], '\n');
    j = cJSON_Parse(buf);
    assert_non_null(j);
    msg = cJSON_GetStringValue(cJSON_GetObjectItem(j, "msg"));
    assert_true(strlen(msg) > 100 && strspn(msg, "\"") == strlen(msg));
    cJSON_Delete(j);
    assert_int_equal(gpsc_log_format_json(buf, 100, &r), GPSC_EINVAL);
}

/* --- threads ----------------------------------------------------------------- */

#define NTHREADS 4
#define PER_THREAD 500

static void count_hook(const gpsc_log_record_t *r, void *ud)
{
    (void)r;
    (*(int *)ud)++; /* runs under the logger's mutex */
}

static void *spam(void *arg)
{
    int id = (int)(size_t)arg;
    for (int i = 0; i < PER_THREAD; i++)
        GPSC_LOG(GPSC_LOG_INFO, "thread %d record %d \"quoted\"", id, i);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    gpsc_log_set_stream(f, GPSC_LOG_JSON);
    int hooked = 0;
    gpsc_log_set_hook(count_hook, &hooked);
    pthread_t th[NTHREADS];
    for (size_t i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, spam, (void *)i), 0);
    for (size_t i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(hooked, NTHREADS * PER_THREAD);
    char *out = slurp(f);
    int per[NTHREADS] = {0}, lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j); /* no interleaving */
        int id, i;
        assert_int_equal(sscanf(cJSON_GetStringValue(cJSON_GetObjectItem(j, "msg")),
                                "thread %d record %d", &id, &i),
                         2);
        assert_true(id >= 0 && id < NTHREADS);
        assert_int_equal(i, per[id]); /* each thread's records in order */
        per[id]++;
        lines++;
        cJSON_Delete(j);
    }
    assert_int_equal(lines, NTHREADS * PER_THREAD);
    free(out);
    fclose(f);
}

static void test_parse_level(void **state)
{
    (void)state;
    gpsc_log_level_t l = GPSC_LOG_ERROR;
    assert_int_equal(gpsc_log_parse_level("debug", &l), 0);
    assert_int_equal(l, GPSC_LOG_DEBUG);
    assert_int_equal(gpsc_log_parse_level("INFO", &l), 0);
    assert_int_equal(l, GPSC_LOG_INFO);
    assert_int_equal(gpsc_log_parse_level("Warning", &l), 0);
    assert_int_equal(l, GPSC_LOG_WARN);
    assert_int_equal(gpsc_log_parse_level("warn", &l), 0);
    assert_int_equal(l, GPSC_LOG_WARN);
    assert_int_equal(gpsc_log_parse_level("error", &l), 0);
    assert_int_equal(l, GPSC_LOG_ERROR);
    assert_int_equal(gpsc_log_parse_level("verbose", &l), GPSC_EINVAL);
    assert_int_equal(gpsc_log_parse_level("", &l), GPSC_EINVAL);
    assert_int_equal(gpsc_log_parse_level(NULL, &l), GPSC_EINVAL);
    assert_int_equal(l, GPSC_LOG_ERROR);
    assert_string_equal(gpsc_log_level_name(GPSC_LOG_WARN), "warn");
    assert_string_equal(gpsc_log_level_name((gpsc_log_level_t)9), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_level_checked_before_formatting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_sink_and_foreign_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_level, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
