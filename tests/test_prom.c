/* The Prometheus endpoint (coordinator/prom.c) on a real loopback socket:
 * the exposition text, the HTTP answers (200, HEAD, 404, 405, 400, 431),
 * slow and idle clients timed out, a full connection table, the loop not
 * kept alive, addresses. One thread: the test steps the loop while its
 * blocking-free clients wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "common/error.h"
#include "coordinator/prom.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------ the text */

static void test_text(void **state)
{
    (void)state;
    gpsc_prom_text_t t = {0};
    gpsc_prom_family(&t, "x_total", "counter", "Things \\ done\non two lines.");
    char lab[128] = "";
    gpsc_prom_label(lab, sizeof lab, "a", "1");
    gpsc_prom_label(lab, sizeof lab, "b", "q\"uo\\te\nnl");
    gpsc_prom_sample(&t, "x_total", lab, 42);
    gpsc_prom_sample(&t, "x_total", NULL, 0.5);
    gpsc_prom_sample(&t, "x_total", "", NAN);
    gpsc_prom_sample(&t, "x_total", NULL, INFINITY);
    gpsc_prom_sample(&t, "x_total", NULL, -INFINITY);
    gpsc_prom_sample(&t, "x_total", NULL, 1e300);
    assert_false(t.oom);
    assert_string_equal(t.buf, "# HELP x_total Things \\\\ done\\non two lines.\n"
                               "# TYPE x_total counter\n"
                               "x_total{a=\"1\",b=\"q\\\"uo\\\\te\\nnl\"} 42\n"
                               "x_total 0.5\n"
                               "x_total NaN\n"
                               "x_total +Inf\n"
                               "x_total -Inf\n"
                               "x_total 1.0000000000000001e+300\n");
    free(t.buf);
    /* a label that does not fit is left out whole */
    char small[16] = "";
    gpsc_prom_label(small, sizeof small, "a", "1");
    gpsc_prom_label(small, sizeof small, "bbbbbb", "0123456789");
    assert_string_equal(small, "a=\"1\"");
}

static void test_addr(void **state)
{
    (void)state;
    struct sockaddr_storage sa;
    char err[256];
    assert_int_equal(gpsc_prom_parse_addr("127.0.0.1:9464", &sa, err, sizeof err), 0);
    assert_int_equal(sa.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&sa)->sin_port), 9464);
    assert_int_equal(gpsc_prom_parse_addr(":9464", &sa, err, sizeof err), 0);
    assert_int_equal(((struct sockaddr_in *)&sa)->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(gpsc_prom_parse_addr("localhost:0", &sa, err, sizeof err), 0);
    assert_int_equal(gpsc_prom_parse_addr("[::1]:80", &sa, err, sizeof err), 0);
    assert_int_equal(sa.ss_family, AF_INET6);
    const char *bad[] = {"9464",         "127.0.0.1:", "127.0.0.1:70000",
                         "127.0.0.1:-1", "host:80",    "[::1:80",
                         "1.2.3.4:80x",  "",           NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        assert_int_equal(gpsc_prom_parse_addr(bad[i], &sa, err, sizeof err), GPSC_EINVAL);
        assert_non_null(strstr(err, "bad address"));
    }
}

/* ------------------------------------------------------------------ the server */

typedef struct fixture {
    uv_loop_t loop;
    uv_timer_t keep; /* keeps the loop alive while the test runs it */
    gpsc_prom_t *p;
    int scrapes; /* collect calls */
} fixture_t;

static void collect(gpsc_prom_text_t *t, void *ud)
{
    fixture_t *f = ud;
    f->scrapes++;
    gpsc_prom_family(t, "test_scrapes_total", "counter", "Scrapes.");
    gpsc_prom_sample(t, "test_scrapes_total", NULL, f->scrapes);
}

static void on_keep(uv_timer_t *t)
{
    (void)t;
}

static fixture_t *start(int timeout_ms, int max_clients, size_t max_request)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->keep);
    uv_timer_start(&f->keep, on_keep, 1000, 1000);
    gpsc_prom_cfg_t cfg = {.addr = "127.0.0.1:0",
                           .timeout_ms = timeout_ms,
                           .max_clients = max_clients,
                           .max_request = max_request};
    char err[256];
    f->p = gpsc_prom_new(&f->loop, &cfg, collect, f, err, sizeof err);
    assert_non_null(f->p);
    assert_true(gpsc_prom_port(f->p) > 0);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", gpsc_prom_port(f->p));
    assert_string_equal(gpsc_prom_url(f->p), url);
    return f;
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void stop(fixture_t *f)
{
    /* only the endpoint's handles left: the loop ends by itself */
    uv_close((uv_handle_t *)&f->keep, on_closed);
    double t0 = now_s();
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(now_s() - t0 < 1.0);
    gpsc_prom_destroy(&f->p);
    assert_null(f->p);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

static void pump(fixture_t *f, double seconds)
{
    double t0 = now_s();
    while (now_s() - t0 < seconds) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static int client(const fixture_t *f)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(gpsc_prom_port(f->p))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), 0);
    fcntl(s, F_SETFL, O_NONBLOCK);
    return s;
}

/* reads what the server sends until it closes (stepping the loop), at most
 * `seconds`; returns the bytes (malloc'd), *closed says whether it closed */
static char *answer(fixture_t *f, int s, double seconds, bool *closed)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = calloc(1, cap);
    *closed = false;
    double t0 = now_s();
    while (now_s() - t0 < seconds) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        ssize_t n = recv(s, buf + len, cap - 1 - len, 0);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            *closed = true;
            break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    buf[len] = '\0';
    return buf;
}

static char *request(fixture_t *f, const char *req, size_t n)
{
    int s = client(f);
    assert_int_equal(send(s, req, n, 0), (ssize_t)n);
    bool closed;
    char *a = answer(f, s, 2.0, &closed);
    assert_true(closed); /* no keep-alive */
    close(s);
    return a;
}

static void test_http(void **state)
{
    (void)state;
    fixture_t *f = start(2000, 16, 512);
    const char *get = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
    char *a = request(f, get, strlen(get));
    assert_int_equal(strncmp(a, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_non_null(strstr(a, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    const char *body = "# HELP test_scrapes_total Scrapes.\n# TYPE test_scrapes_total counter\n"
                       "test_scrapes_total 1\n";
    char cl[64];
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", strlen(body));
    assert_non_null(strstr(a, cl));
    assert_string_equal(strstr(a, "\r\n\r\n") + 4, body);
    free(a);
    /* a query string, HTTP/1.0 and bare newlines are fine; HEAD has no body */
    const char *q = "GET /metrics?x=1 HTTP/1.0\n\n";
    a = request(f, q, strlen(q));
    assert_non_null(strstr(a, "test_scrapes_total 2\n"));
    free(a);
    const char *h = "HEAD /metrics HTTP/1.1\r\n\r\n";
    a = request(f, h, strlen(h));
    assert_int_equal(strncmp(a, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_string_equal(strstr(a, "\r\n\r\n") + 4, "");
    free(a);
    /* the rest */
    struct {
        const char *req, *status;
    } cases[] = {{"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 "},
                 {"GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 "},
                 {"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 405 "},
                 {"hello there\r\n\r\n", "HTTP/1.1 400 "},
                 {"GET  /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 "},
                 {"GET metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 "},
                 {"GET /metrics HTTP/2.0\r\n\r\n", "HTTP/1.1 400 "},
                 {"get /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 "},
                 {"\r\n\r\n", "HTTP/1.1 400 "}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        a = request(f, cases[i].req, strlen(cases[i].req));
        if (strncmp(a, cases[i].status, strlen(cases[i].status)) != 0)
            fail_msg("'%s' answered '%.40s', expected '%s'", cases[i].req, a, cases[i].status);
        free(a);
    }
    /* binary garbage with NUL bytes */
    char bin[64];
    for (int i = 0; i < 64; i++)
        bin[i] = (char)(i * 37);
    a = request(f, bin, sizeof bin);
    assert_int_equal(strncmp(a, "HTTP/1.1 400 ", 13), 0);
    free(a);
    /* a head larger than max_request (512) */
    char big[2000];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
    a = request(f, big, sizeof big);
    assert_int_equal(strncmp(a, "HTTP/1.1 431 ", 13), 0);
    free(a);
    gpsc_prom_stats_t st;
    gpsc_prom_stats(f->p, &st);
    assert_int_equal(st.scrapes, 3);
    assert_int_equal(st.bad_requests, 8);
    assert_int_equal(f->scrapes, 3);
    stop(f);
}

/* slow, idle and half-sent requests are cut off; a full table refuses more */
static void test_abuse(void **state)
{
    (void)state;
    fixture_t *f = start(300, 4, 8192);
    /* 4 idle connections fill the table; 6 more are closed at once */
    int s[10];
    for (int i = 0; i < 10; i++) {
        s[i] = client(f);
        pump(f, 0.01);
    }
    (void)send(s[0], "GET /met", 8, 0); /* slowloris */
    for (int i = 4; i < 10; i++) {
        bool closed;
        char *a = answer(f, s[i], 0.2, &closed);
        assert_true(closed);
        assert_string_equal(a, "");
        free(a);
    }
    gpsc_prom_stats_t st;
    gpsc_prom_stats(f->p, &st);
    assert_int_equal(st.rejected, 6);
    /* the first 4 are closed by the timeout (300 ms), the scraper has not waited long */
    double t0 = now_s();
    for (int i = 0; i < 4; i++) {
        bool closed;
        char *a = answer(f, s[i], 2.0, &closed);
        assert_true(closed);
        assert_string_equal(a, "");
        free(a);
    }
    double waited = now_s() - t0;
    assert_true(waited > 0.1 && waited < 1.5);
    gpsc_prom_stats(f->p, &st);
    assert_int_equal(st.timeouts, 4);
    for (int i = 0; i < 10; i++)
        close(s[i]);
    /* and it still answers */
    pump(f, 0.05);
    const char *get = "GET /metrics HTTP/1.1\r\n\r\n";
    char *a = request(f, get, strlen(get));
    assert_int_equal(strncmp(a, "HTTP/1.1 200 OK", 15), 0);
    free(a);
    /* a client that goes away mid-request, and one that resets */
    int c = client(f);
    (void)send(c, "GET /metrics HT", 15, 0);
    close(c);
    c = client(f);
    struct linger lg = {1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    (void)send(c, "GET /metrics HTTP/1.1\r\n\r\n", 25, 0);
    close(c);
    pump(f, 0.1);
    a = request(f, get, strlen(get));
    assert_int_equal(strncmp(a, "HTTP/1.1 200 OK", 15), 0);
    free(a);
    /* open connections at destroy are closed with it */
    c = client(f);
    pump(f, 0.05);
    stop(f);
    close(c);
}

static void test_bind_errors(void **state)
{
    (void)state;
    fixture_t *f = start(1000, 8, 1024);
    char addr[64], err[256] = "";
    snprintf(addr, sizeof addr, "127.0.0.1:%d", gpsc_prom_port(f->p));
    gpsc_prom_cfg_t cfg = {.addr = addr};
    gpsc_prom_t *q = gpsc_prom_new(&f->loop, &cfg, collect, f, err, sizeof err);
    assert_null(q);
    assert_non_null(strstr(err, "cannot listen on"));
    cfg.addr = "nowhere:80";
    assert_null(gpsc_prom_new(&f->loop, &cfg, collect, f, err, sizeof err));
    assert_non_null(strstr(err, "bad address"));
    gpsc_prom_destroy(&q); /* NULL is fine */
    /* the coordinator collector before the coordinator exists: nothing */
    void *none = NULL;
    gpsc_prom_text_t t = {0};
    gpsc_prom_coord_collect(&t, &none);
    assert_int_equal(t.len, 0);
    stop(f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),        cmocka_unit_test(test_addr),
        cmocka_unit_test(test_http),        cmocka_unit_test(test_abuse),
        cmocka_unit_test(test_bind_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
