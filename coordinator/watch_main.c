/* gpsc-watch — `gpsc watch ENDPOINT|RUN_DIR`: the live view of a run that
 * runs elsewhere (coordinator/view.h).
 *
 * It subscribes to the coordinator's log PUB: progress events (topic
 * "progress"), the metrics of each iteration ("metrics") and every
 * process's log records ("log.<level>"). Given a run directory it reads
 * RUN/endpoints for the log endpoint, first replays RUN/metrics.jsonl so
 * that the view starts filled, and re-reads RUN/endpoints whenever it
 * changes: a resumed run binds new ports and the watch follows it.
 * Given an endpoint, ZeroMQ reconnects by itself when the coordinator
 * restarts on the same address. It ends with the run (the coordinator's
 * final "done" event) unless --follow. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/wire.h"
#include "coordinator/view.h"

#define POLL_MS 100           /* (ms) socket wait per round */
#define ENDPOINTS_CHECK_S 0.5 /* (s) RUN/endpoints is looked at this often */
#define DRAIN_MAX 10000       /* messages per round */

static volatile sig_atomic_t g_stop; /* SIGINT / SIGTERM */

/* the process */
typedef struct watch {
    const char *arg;                     /* ENDPOINT or RUN_DIR as given */
    bool is_dir;                         /* arg is a run directory */
    char endpoints[PATH_MAX + 32];       /* RUN/endpoints */
    char metrics[PATH_MAX + 32];         /* RUN/metrics.jsonl */
    char ep_text[4096];                  /* RUN/endpoints as last read */
    char endpoint[GPSC_WIRE_MAX_ID + 1]; /* the log endpoint followed, "" none yet */
    long metrics_off;                    /* bytes of metrics.jsonl read */
    double ep_checked;                   /* (s) */
    void *ctx;
    void *sub;
    gpsc_keys_t keys;
    gpsc_log_level_t level;
    gpsc_view_t *view;
    long bad;     /* messages that did not decode */
    bool heard;   /* a progress event arrived */
    int connects; /* endpoints followed so far */
} watch_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gpsc watch ENDPOINT|RUN_DIR [options]\n"
            "\n"
            "Shows a live view of a run: iteration k of K with a progress bar of its\n"
            "rollouts, throughput, workers alive and lost, a cost sparkline with eta, step\n"
            "and KL per condition, the learner's phase timings, and warnings as they arrive.\n"
            "On a terminal the view is redrawn in place; otherwise (or with --plain) one\n"
            "line per event.\n"
            "\n"
            "  ENDPOINT   the coordinator's log endpoint, e.g. tcp://head:5557\n"
            "             (gpsc coordinator --log-pub; ZeroMQ reconnects when it restarts)\n"
            "  RUN_DIR    a run directory: its 'endpoints' file names the log endpoint\n"
            "             (followed again when a resumed run rewrites it), and its\n"
            "             metrics.jsonl fills the view first\n"
            "\n"
            "options:\n"
            "      --plain            one line per event, also on a terminal\n"
            "      --once             print the view once (after the replay and the first\n"
            "                         word from the coordinator, or --timeout) and exit\n"
            "      --follow           keep going after the run ended (e.g. for a resume)\n"
            "      --timeout S        --once: wait at most S seconds for the coordinator [3]\n"
            "  -l, --log-level L      --plain: print records from L on: debug | info | warn |\n"
            "                         error [warn]\n"
            "      --ascii            no UTF-8 block characters\n"
            "      --no-color         no colours (also NO_COLOR=1)\n"
            "      --curve-secret FILE      CURVE: own key pair (the coordinator must allow it)\n"
            "      --curve-server-key FILE  CURVE: the coordinator's public key\n"
            "  -h, --help             this text\n"
            "\n"
            "exit status: 0 the run finished, 1 it stopped or failed (or, with --once,\n"
            "nothing was heard), 2 bad arguments, 130 interrupted.\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* a bound wildcard address means this host */
static void local_endpoint(char *out, size_t outsz, const char *ep)
{
    const char *hosts[] = {"tcp://0.0.0.0:", "tcp://*:", "tcp://[::]:"};
    for (int i = 0; i < 3; i++)
        if (strncmp(ep, hosts[i], strlen(hosts[i])) == 0) {
            snprintf(out, outsz, "tcp://127.0.0.1:%s", ep + strlen(hosts[i]));
            return;
        }
    snprintf(out, outsz, "%s", ep);
}

/* a new SUB socket on endpoint ep (the old one goes) */
static int follow(watch_t *w, const char *ep, double now)
{
    gpsc_wire_close(&w->sub);
    gpsc_wire_opts_t o;
    gpsc_wire_opts_default(&o);
    o.linger_ms = 0;
    o.rcvhwm = 100000;
    o.max_msg_size = GPSC_WIRE_MAX_TEXT + (1u << 20);
    if (gpsc_keys_client_opts(&w->keys, &o) != 0) {
        gpsc_view_note(w->view, now, "CURVE: no server key (--curve-server-key)");
        return GPSC_EINVAL;
    }
    char err[512];
    if (!(w->sub = gpsc_wire_socket(w->ctx, GPSC_WIRE_SUB, &o, err, sizeof err))) {
        gpsc_view_note(w->view, now, "cannot make a socket: %s", err);
        return GPSC_ESYS;
    }
    /* the progress events, the metrics, and the records the view shows */
    gpsc_wire_subscribe(w->sub, "progress");
    gpsc_wire_subscribe(w->sub, "metrics");
    gpsc_log_level_t from = w->level < GPSC_LOG_WARN ? w->level : GPSC_LOG_WARN;
    for (int l = from; l <= GPSC_LOG_ERROR; l++) {
        char t[32];
        snprintf(t, sizeof t, "log.%s", gpsc_log_level_name((gpsc_log_level_t)l));
        gpsc_wire_subscribe(w->sub, t);
    }
    if (gpsc_wire_connect(w->sub, ep) != 0) {
        gpsc_view_note(w->view, now, "cannot connect to %s: %s", ep, strerror(errno));
        gpsc_wire_close(&w->sub);
        return GPSC_ESYS;
    }
    snprintf(w->endpoint, sizeof w->endpoint, "%s", ep);
    w->connects++;
    gpsc_view_note(w->view, now, "%s %s", w->connects == 1 ? "following" : "now following", ep);
    return 0;
}

/* RUN/endpoints: a changed log endpoint is followed (a resumed run) */
static void check_endpoints(watch_t *w, double now)
{
    w->ep_checked = now;
    FILE *f = fopen(w->endpoints, "r");
    if (!f) return;
    char text[sizeof w->ep_text];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    if (strcmp(text, w->ep_text) == 0) return;
    /* a file being written may be incomplete: act on a whole "log" line only */
    char *line = strstr(text, "log ");
    while (line && line != text && line[-1] != '\n')
        line = strstr(line + 1, "log ");
    char *nl = line ? strchr(line, '\n') : NULL;
    if (!line || !nl) return;
    char ep[GPSC_WIRE_MAX_ID + 1], raw[GPSC_WIRE_MAX_ID + 1];
    size_t len = (size_t)(nl - line - 4);
    if (len == 0 || len >= sizeof raw) return;
    memcpy(raw, line + 4, len);
    raw[len] = '\0';
    memcpy(w->ep_text, text, n + 1);
    local_endpoint(ep, sizeof ep, raw);
    if (strcmp(ep, w->endpoint) == 0) return;
    /* lines written while nobody listened */
    (void)gpsc_view_read_metrics(w->view, w->metrics, &w->metrics_off, w->connects == 0, now);
    (void)follow(w, ep, now);
}

static gpsc_log_level_t local_level(Gpsc__LogLevel l)
{
    switch (l) {
    case GPSC__LOG_LEVEL__LOG_TRACE:
    case GPSC__LOG_LEVEL__LOG_DEBUG:
        return GPSC_LOG_DEBUG;
    case GPSC__LOG_LEVEL__LOG_INFO:
        return GPSC_LOG_INFO;
    case GPSC__LOG_LEVEL__LOG_WARN:
        return GPSC_LOG_WARN;
    default:
        return GPSC_LOG_ERROR;
    }
}

static void take(watch_t *w, const gpsc_wire_msg_t *m, double now)
{
    const Gpsc__Envelope *env = gpsc_wire_msg_env(m);
    const gpsc_wire_head_t *h = gpsc_wire_msg_head(m);
    bool progress = h->len == 8 && memcmp(h->data, "progress", 8) == 0;
    if (env->body_case == GPSC__ENVELOPE__BODY_METRICS) {
        if (progress) {
            gpsc_view_progress_t p;
            char err[128];
            if (gpsc_view_progress_parse(&p, env->metrics->json, err, sizeof err) == 0) {
                gpsc_view_progress(w->view, &p, now);
                w->heard = true;
            } else {
                w->bad++;
            }
        } else if (gpsc_view_metrics(w->view, env->metrics->json, false, now) != 0) {
            w->bad++;
        }
    } else if (env->body_case == GPSC__ENVELOPE__BODY_LOG_RECORD) {
        const Gpsc__LogRecord *r = env->log_record;
        gpsc_view_log(w->view, local_level(r->level), gpsc_wire_role_name(r->role), r->sender_id,
                      r->iteration, r->message, now);
    }
}

static void drain(watch_t *w)
{
    for (int i = 0; w->sub && i < DRAIN_MAX; i++) {
        gpsc_wire_msg_t *m = NULL;
        char err[256];
        int rc = gpsc_wire_recv(w->sub, &m, NULL, GPSC_WIRE_DONTWAIT, err, sizeof err);
        if (rc == GPSC_EAGAIN || rc == GPSC_EINTR) return;
        if (rc == 0) {
            take(w, m, now_s());
        } else if (w->bad++ == 0) {
            gpsc_view_note(w->view, now_s(), "a message that does not decode: %s", err);
        }
        gpsc_wire_msg_destroy(&m);
    }
}

/* the run in dir ended before we came: summary.txt not older than endpoints */
static bool run_ended(const watch_t *w)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/summary.txt", w->arg);
    struct stat s, e;
    if (stat(path, &s) != 0 || stat(w->endpoints, &e) != 0) return false;
    return s.st_mtim.tv_sec > e.st_mtim.tv_sec ||
           (s.st_mtim.tv_sec == e.st_mtim.tv_sec && s.st_mtim.tv_nsec >= e.st_mtim.tv_nsec);
}

int main(int argc, char **argv)
{
    enum {
        OPT_PLAIN = 256,
        OPT_ONCE,
        OPT_FOLLOW,
        OPT_TIMEOUT,
        OPT_ASCII,
        OPT_NOCOLOR,
        OPT_SECRET,
        OPT_SERVER
    };
    static const struct option opts[] = {{"plain", no_argument, 0, OPT_PLAIN},
                                         {"once", no_argument, 0, OPT_ONCE},
                                         {"follow", no_argument, 0, OPT_FOLLOW},
                                         {"timeout", required_argument, 0, OPT_TIMEOUT},
                                         {"log-level", required_argument, 0, 'l'},
                                         {"ascii", no_argument, 0, OPT_ASCII},
                                         {"no-color", no_argument, 0, OPT_NOCOLOR},
                                         {"curve-secret", required_argument, 0, OPT_SECRET},
                                         {"curve-server-key", required_argument, 0, OPT_SERVER},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    static watch_t W;
    watch_t *w = &W;
    w->level = GPSC_LOG_WARN;
    bool plain = false, once = false, follow_on = false, ascii = !gpsc_view_term_utf8();
    bool color = gpsc_view_term_color(stdout);
    double timeout = 3.0;
    const char *secret = NULL, *server = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
        bool bad = false;
        switch (ch) {
        case OPT_PLAIN:
            plain = true;
            break;
        case OPT_ONCE:
            once = true;
            break;
        case OPT_FOLLOW:
            follow_on = true;
            break;
        case OPT_TIMEOUT: {
            char *end = NULL;
            errno = 0;
            timeout = strtod(optarg, &end);
            bad = !optarg[0] || *end || errno || !(timeout > 0) || timeout > 86400;
            break;
        }
        case 'l':
            bad = gpsc_log_parse_level(optarg, &w->level) != 0;
            break;
        case OPT_ASCII:
            ascii = true;
            break;
        case OPT_NOCOLOR:
            color = false;
            break;
        case OPT_SECRET:
            secret = optarg;
            break;
        case OPT_SERVER:
            server = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "gpsc watch: bad value '%s' for %s\n", optarg, argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    w->arg = argv[optind];
    struct stat st;
    if (strstr(w->arg, "://")) {
        w->is_dir = false;
    } else if (stat(w->arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        w->is_dir = true;
        snprintf(w->endpoints, sizeof w->endpoints, "%s/endpoints", w->arg);
        snprintf(w->metrics, sizeof w->metrics, "%s/metrics.jsonl", w->arg);
    } else {
        fprintf(stderr,
                "gpsc watch: '%s' is neither an endpoint (tcp://HOST:PORT) nor a run "
                "directory\n",
                w->arg);
        return 2;
    }
    char err[512];
    if (gpsc_keys_load(&w->keys, secret, server, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "gpsc watch: %s\n", err);
        return 2;
    }
    if (w->keys.on && !w->keys.have_server) {
        fprintf(stderr, "gpsc watch: --curve-secret needs --curve-server-key\n");
        gpsc_keys_free(&w->keys);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    gpsc_view_cfg_t vc = {.mode = plain || once ? GPSC_VIEW_PLAIN : GPSC_VIEW_AUTO,
                          .out = stdout,
                          .title = "gpsc watch",
                          .color = color,
                          .ascii = ascii,
                          .log_level = w->level,
                          .remote = true};
    if (once) vc.out = fopen("/dev/null", "w"); /* --once prints the frame only */
    w->view = gpsc_view_new(&vc);
    w->ctx = gpsc_wire_ctx_new();
    if (!w->view || !w->ctx || (once && !vc.out)) {
        fprintf(stderr, "gpsc watch: out of resources\n");
        return 1;
    }
    if (gpsc_view_mode(w->view) == GPSC_VIEW_PLAIN) color = false;
    double t0 = now_s();
    int status = 1;
    bool ended_before = false;
    if (w->is_dir) {
        check_endpoints(w, t0);
        if (!w->sub) {
            (void)gpsc_view_read_metrics(w->view, w->metrics, &w->metrics_off, true, t0);
            gpsc_view_note(w->view, t0, "waiting for %s", w->endpoints);
        }
        ended_before = w->sub && run_ended(w);
        if (ended_before) gpsc_view_note(w->view, t0, "the run in %s has ended", w->arg);
    } else if (follow(w, w->arg, t0) != 0) {
        fprintf(stderr, "gpsc watch: cannot follow %s\n", w->arg);
        gpsc_wire_ctx_destroy(&w->ctx);
        return 2;
    }

    /* the loop: messages, RUN/endpoints, redraws */
    while (!g_stop) {
        double now = now_s();
        if (ended_before && !follow_on && !once) break;
        if (once && (w->heard || ended_before || now - t0 >= timeout)) break;
        if (gpsc_view_done(w->view, &status) && !follow_on) break;
        if (w->sub) {
            void *socks[1] = {w->sub};
            int ready[1] = {0};
            int rc = gpsc_wire_poll(socks, ready, 1, POLL_MS);
            if (rc > 0) drain(w);
        } else {
            struct timespec ts = {0, POLL_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        now = now_s();
        if (w->is_dir && (!w->sub || now - w->ep_checked >= ENDPOINTS_CHECK_S)) {
            check_endpoints(w, now);
            if (w->sub && run_ended(w) && !w->heard && !follow_on) ended_before = true;
        }
        gpsc_view_tick(w->view, now);
    }
    double now = now_s();
    int code;
    if (once) {
        static char frame[1 << 16];
        gpsc_view_format(w->view, frame, sizeof frame, now);
        fputs(frame, stdout);
        code = gpsc_view_events(w->view) > 0 ? 0 : 1;
        if (code)
            fprintf(stderr, "gpsc watch: nothing heard from %s within %.1f s\n", w->arg, timeout);
    } else if (g_stop) {
        code = 130;
    } else if (gpsc_view_done(w->view, &status)) {
        code = status == 0 ? 0 : 1;
    } else {
        code = ended_before ? 0 : 1;
    }
    gpsc_view_finish(w->view, now);
    gpsc_view_destroy(&w->view);
    if (once && vc.out) fclose(vc.out);
    gpsc_wire_close(&w->sub);
    gpsc_wire_ctx_destroy(&w->ctx);
    gpsc_keys_free(&w->keys);
    return code;
}
