/* cluster_util.c — helpers of the cluster's system tests (see cluster_util.h). */
#include "cluster_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double cu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cu_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int cu_setup(char *dir, size_t dirsz, const char *name)
{
    snprintf(dir, dirsz, "/tmp/gpsc-test-%s-XXXXXX", name);
    if (!mkdtemp(dir)) return -1;
    return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : -1;
}

/* pids of this process's live children */
static int my_children(pid_t *pids, int max)
{
    return cu_children_named(getpid(), NULL, pids, max);
}

int cu_teardown(const char *dir)
{
    pid_t pids[256];
    int n = my_children(pids, 256);
    for (int i = 0; i < n; i++) {
        kill(pids[i], SIGCONT);
        kill(pids[i], SIGKILL);
    }
    if (n) cu_children_after(5);
    if (!getenv("GPSC_KEEP_TMP") && dir && dir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) return -1;
    }
    return 0;
}

pid_t cu_start(char *const argv[], const char *log)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

int cu_wait(pid_t pid, double timeout_s)
{
    double t0 = cu_now_s();
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (cu_now_s() - t0 > timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("process %d did not finish within %.0f s", (int)pid, timeout_s);
        }
        cu_sleep_ms(5);
    }
}

int cu_run(char *const argv[], const char *log, double timeout_s)
{
    return cu_wait(cu_start(argv, log), timeout_s);
}

void cu_print_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "  | %s", line);
    fclose(f);
}

/* state and parent of pid from /proc/PID/stat; false when gone */
static bool proc_stat(pid_t pid, char *state, int *ppid, double *cpu_s)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    /* the command name may hold spaces and parentheses: fields start after the last ')' */
    char *rp = strrchr(buf, ')');
    char st = '?';
    int pp = 0;
    unsigned long ut = 0, stime = 0;
    if (!rp ||
        sscanf(rp + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &st, &pp, &ut,
               &stime) < 2)
        return false;
    if (state) *state = st;
    if (ppid) *ppid = pp;
    if (cpu_s) *cpu_s = (double)(ut + stime) / (double)sysconf(_SC_CLK_TCK);
    return true;
}

int cu_children_named(pid_t ppid, const char *comm, pid_t *pids, int max)
{
    while (ppid == getpid() && waitpid(-1, NULL, WNOHANG) > 0)
        ;
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        char st;
        int pp;
        if (!proc_stat(pid, &st, &pp, NULL) || pp != (int)ppid || st == 'Z' || st == 'X')
            continue;
        if (comm) {
            char path[64], name[64] = "";
            snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
            FILE *f = fopen(path, "r");
            if (!f) continue;
            if (!fgets(name, sizeof name, f)) name[0] = '\0';
            fclose(f);
            name[strcspn(name, "\n")] = '\0';
            if (strcmp(name, comm) != 0) continue;
        }
        pids[n++] = pid;
    }
    if (d) closedir(d);
    /* ascending: a seeded choice picks the same rank on every run */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
            pid_t t = pids[j];
            pids[j] = pids[j - 1];
            pids[j - 1] = t;
        }
    return n;
}

int cu_live_children(void)
{
    pid_t pids[256];
    return my_children(pids, 256);
}

int cu_children_after(double timeout_s)
{
    double t0 = cu_now_s();
    int n;
    while ((n = cu_live_children()) > 0 && cu_now_s() - t0 < timeout_s)
        cu_sleep_ms(20);
    return n;
}

char cu_proc_state(pid_t pid)
{
    char st = '?';
    return proc_stat(pid, &st, NULL, NULL) ? st : '?';
}

double cu_proc_cpu_s(pid_t pid)
{
    double s = -1;
    return proc_stat(pid, NULL, NULL, &s) ? s : -1;
}

bool cu_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *cu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = '\0';
    fclose(f);
    if (len) *len = b ? (size_t)n : 0;
    return b;
}

void cu_same_checkpoints(const char *a, const char *b, int K)
{
    for (int k = 0; k <= K + 1; k++) {
        char pa[512], pb[512];
        snprintf(pa, sizeof pa, "%s/checkpoints/iter_%04d.pb", a, k);
        snprintf(pb, sizeof pb, "%s/checkpoints/iter_%04d.pb", b, k);
        if (k == K + 1) {
            assert_false(cu_exists(pa));
            assert_false(cu_exists(pb));
            break;
        }
        size_t na = 0, nb = 0;
        char *ba = cu_slurp(pa, &na), *bb = cu_slurp(pb, &nb);
        if (!ba || !bb) fail_msg("missing %s or %s", pa, pb);
        if (na != nb || memcmp(ba, bb, na) != 0)
            fail_msg("%s (%zu bytes) differs from %s (%zu bytes)", pa, na, pb, nb);
        free(ba);
        free(bb);
    }
}

void cu_same_metrics(const char *a, const char *b, int K)
{
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/metrics.jsonl", a);
    snprintf(pb, sizeof pb, "%s/metrics.jsonl", b);
    FILE *fa = fopen(pa, "r"), *fb = fopen(pb, "r");
    assert_non_null(fa);
    assert_non_null(fb);
    static char la[1 << 17], lb[1 << 17];
    int n = 0;
    while (fgets(la, sizeof la, fa)) {
        assert_non_null(fgets(lb, sizeof lb, fb));
        cJSON *oa = cJSON_Parse(la), *ob = cJSON_Parse(lb);
        assert_non_null(oa);
        assert_non_null(ob);
        cJSON_DeleteItemFromObject(oa, "ms");
        cJSON_DeleteItemFromObject(ob, "ms");
        cJSON_DeleteItemFromObject(oa, "cluster");
        cJSON_DeleteItemFromObject(ob, "cluster");
        assert_int_equal(cJSON_GetObjectItem(oa, "iteration")->valueint, n);
        char *sa = cJSON_PrintUnformatted(oa), *sb = cJSON_PrintUnformatted(ob);
        if (strcmp(sa, sb) != 0) fail_msg("metrics of iteration %d differ:\n%s\n%s", n, sa, sb);
        free(sa);
        free(sb);
        cJSON_Delete(oa);
        cJSON_Delete(ob);
        n++;
    }
    assert_null(fgets(lb, sizeof lb, fb));
    assert_int_equal(n, K);
    fclose(fa);
    fclose(fb);
}

/* no sanitizer report in a file (ASan builds run the same tests) */
static void no_sanitizer_report(const char *path)
{
    char *text = cu_slurp(path, NULL);
    if (!text) return;
    if (strstr(text, "Sanitizer") || strstr(text, "runtime error:"))
        fail_msg("%s holds a sanitizer report", path);
    free(text);
}

void cu_clean_outputs(const char *run_dir, const char *log)
{
    if (log) no_sanitizer_report(log);
    char procs[600];
    snprintf(procs, sizeof procs, "%s/procs", run_dir);
    DIR *d = opendir(procs);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[900];
        snprintf(path, sizeof path, "%s/%s", procs, e->d_name);
        if (e->d_name[0] != '.') no_sanitizer_report(path);
    }
    if (d) closedir(d);
}

int cu_count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0)
        n += strstr(line, needle) != NULL;
    free(line);
    fclose(f);
    return n;
}

int cu_count_msgs(const char *log_jsonl, const char *role, const char *needle)
{
    FILE *f = fopen(log_jsonl, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        if (!strstr(line, needle)) continue;
        cJSON *o = cJSON_Parse(line);
        const cJSON *m = o ? cJSON_GetObjectItem(o, "msg") : NULL;
        const cJSON *r = o ? cJSON_GetObjectItem(o, "role") : NULL;
        if (cJSON_IsString(m) && strstr(m->valuestring, needle) &&
            (!role || (cJSON_IsString(r) && strcmp(r->valuestring, role) == 0)))
            n++;
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    return n;
}

bool cu_find_msg(const char *log_jsonl, const char *needle, char *out, size_t outsz)
{
    FILE *f = fopen(log_jsonl, "r");
    if (!f) return false;
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    while (!found && getline(&line, &cap, f) > 0) {
        if (!strstr(line, needle)) continue;
        cJSON *o = cJSON_Parse(line);
        const cJSON *m = o ? cJSON_GetObjectItem(o, "msg") : NULL;
        if (cJSON_IsString(m) && strstr(m->valuestring, needle)) {
            snprintf(out, outsz, "%s", m->valuestring);
            found = true;
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    return found;
}

void cu_read_counters(const char *log_jsonl, cu_counters_t *c)
{
    char msg[1024];
    if (!cu_find_msg(log_jsonl, "counters: ", msg, sizeof msg))
        fail_msg("%s: no \"counters:\" line", log_jsonl);
    memset(c, 0, sizeof *c);
    int n = sscanf(msg,
                   "counters: %llu tasks planned, %llu results stored, %llu re-issued, %llu "
                   "duplicates, %llu stale, %llu rejected, %llu failed rollouts; %llu workers "
                   "joined, %llu lost; %llu messages refused",
                   &c->planned, &c->stored, &c->reissued, &c->duplicates, &c->stale, &c->rejected,
                   &c->failed, &c->joined, &c->lost, &c->refused);
    if (n != 10) fail_msg("cannot read the counters line: %s", msg);
}

/* one stored key */
typedef struct key3 {
    unsigned k, m, n;
} key3_t;

static int key3_cmp(const void *a, const void *b)
{
    const key3_t *x = a, *y = b;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    if (x->m != y->m) return x->m < y->m ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

void cu_check_stored_once(const char *log_jsonl, int K, int M, int N, unsigned long long planned)
{
    FILE *f = fopen(log_jsonl, "r");
    assert_non_null(f);
    size_t cap = 1024, n = 0;
    key3_t *keys = malloc(cap * sizeof *keys);
    assert_non_null(keys);
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        const char *p = strstr(line, "\"msg\":\"stored trajectory (");
        if (!p || !strstr(line, "\"role\":\"coordinator\"")) continue;
        key3_t k;
        if (sscanf(p, "\"msg\":\"stored trajectory (%u, %u, %u)", &k.k, &k.m, &k.n) != 3) continue;
        if (n == cap) {
            cap *= 2;
            keys = realloc(keys, cap * sizeof *keys);
            assert_non_null(keys);
        }
        keys[n++] = k;
    }
    free(line);
    fclose(f);
    qsort(keys, n, sizeof *keys, key3_cmp);
    for (size_t i = 1; i < n; i++)
        if (key3_cmp(&keys[i - 1], &keys[i]) == 0)
            fail_msg("trajectory (%u, %u, %u) was stored twice", keys[i].k, keys[i].m, keys[i].n);
    for (int k = 0; k < K; k++)
        for (int m = 0; m < M; m++)
            for (int i = 0; i < N; i++) {
                key3_t want = {(unsigned)k, (unsigned)m, (unsigned)i};
                if (!bsearch(&want, keys, n, sizeof *keys, key3_cmp))
                    fail_msg("training sample (%d, %d, %d) was never stored", k, m, i);
            }
    if (n != planned)
        fail_msg("%zu trajectories stored, %llu tasks planned", n, planned);
    free(keys);
}

uint64_t cu_rng_next(cu_rng_t *r)
{
    /* xorshift64* (Vigna); a zero state would stay zero */
    if (r->s == 0) r->s = 0x9E3779B97F4A7C15ull;
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

int cu_rng_range(cu_rng_t *r, int lo, int hi)
{
    if (hi <= lo) return lo;
    return lo + (int)(cu_rng_next(r) % (uint64_t)(hi - lo + 1));
}
