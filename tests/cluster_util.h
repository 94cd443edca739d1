/* cluster_util.h — helpers of the cluster's system tests (test_cluster.c,
 * test_fault.c, test_badinput.c, test_peg7.c): start and reap real
 * processes, look at their children, compare run directories, read
 * log.jsonl. Assertions fail the calling cmocka test (these helpers use
 * cmocka's macros), so call them from inside a test.
 *
 * The tests make themselves a child subreaper (cu_setup), so any process a
 * run leaves behind becomes their child and is counted by
 * cu_live_children. */
#ifndef GPSC_TESTS_CLUSTER_UTIL_H
#define GPSC_TESTS_CLUSTER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Monotonic clock (s) and a sleep (ms). */
double cu_now_s(void);
void cu_sleep_ms(int ms);

/* A scratch directory /tmp/gpsc-test-NAME-XXXXXX into dir (dirsz bytes) and
 * this process as a child subreaper. 0 or -1. */
int cu_setup(char *dir, size_t dirsz, const char *name);

/* Kills (SIGCONT, then SIGKILL) every process still a child of this one,
 * reaps them, and removes dir unless GPSC_KEEP_TMP is set. 0 or -1. */
int cu_teardown(const char *dir);

/* Starts argv (argv[0] a path) with stdout and stderr appended to log;
 * returns the pid. */
pid_t cu_start(char *const argv[], const char *log);

/* Waits for pid up to timeout_s; returns the exit status (128 + signal when
 * killed). A process still running then is killed and the test fails. */
int cu_wait(pid_t pid, double timeout_s);

/* cu_start + cu_wait. */
int cu_run(char *const argv[], const char *log, double timeout_s);

/* Copies a text file to stderr with a "  | " prefix (a failing run's output). */
void cu_print_log(const char *path);

/* Live children of this process (orphans of a run included), reaping the
 * dead; and the same after waiting up to timeout_s for them to go. */
int cu_live_children(void);
int cu_children_after(double timeout_s);

/* Pids (ascending, at most max) of the live processes whose parent is ppid
 * and whose command name (/proc/PID/comm) is `comm`. Returns how many. */
int cu_children_named(pid_t ppid, const char *comm, pid_t *pids, int max);

/* The scheduler state of pid ('R', 'S', 'T', ...; '?' when gone). */
char cu_proc_state(pid_t pid);

/* CPU time (s, user + system) pid has used so far; < 0 when gone. */
double cu_proc_cpu_s(pid_t pid);

bool cu_exists(const char *path);

/* The whole file, NUL-terminated (malloc'd; free it); NULL when unreadable. */
char *cu_slurp(const char *path, size_t *len);

/* Every checkpoint iter_0000..iter_K of run dir a equals b's, byte for byte,
 * and neither has iter_K+1. */
void cu_same_checkpoints(const char *a, const char *b, int K);

/* The K metrics lines of a and b agree but for timings ("ms") and the
 * cluster's counters ("cluster"). */
void cu_same_metrics(const char *a, const char *b, int K);

/* No sanitizer report in the file, nor in any child's output RUN/procs/. */
void cu_clean_outputs(const char *run_dir, const char *log);

/* Lines of the file that contain `needle` (0 when the file is missing). */
int cu_count_lines(const char *path, const char *needle);

/* Records of a log.jsonl file from `role` (NULL: any) whose message
 * contains `needle`. */
int cu_count_msgs(const char *log_jsonl, const char *role, const char *needle);

/* The "msg" of the first log.jsonl line whose message contains `needle`, into
 * out; false when none. */
bool cu_find_msg(const char *log_jsonl, const char *needle, char *out, size_t outsz);

/* The coordinator's last "counters: ..." line (coordinator/coordinator.c,
 * finish()). */
typedef struct cu_counters {
    unsigned long long planned, stored, reissued, duplicates, stale, rejected, failed;
    unsigned long long joined, lost, refused;
} cu_counters_t;

/* Reads the counters from log.jsonl; fails the test when there is no such
 * line. */
void cu_read_counters(const char *log_jsonl, cu_counters_t *out);

/* The coordinator's debug lines "stored trajectory (k, m, n) ..." of a run
 * logged at -l debug: every key at most once, every training key
 * (k < K, m < M, n < N) present, and as many lines as `planned`. */
void cu_check_stored_once(const char *log_jsonl, int K, int M, int N, unsigned long long planned);

/* A small seeded generator (xorshift64*) so that a test's random moments are
 * the same on every run: next value, and a uniform integer in [lo, hi]. */
typedef struct cu_rng {
    uint64_t s;
} cu_rng_t;
uint64_t cu_rng_next(cu_rng_t *r);
int cu_rng_range(cu_rng_t *r, int lo, int hi);

#endif
