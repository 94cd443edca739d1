/* local.c — child processes of local mode (see local.h). */
#include "coordinator/local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

/* one child; freed in its handle's close callback */
typedef struct child {
    uv_process_t proc; /* first: the handle's address is the child's */
    gpsc_local_t *owner;
    char id[64];
    bool running;       /* started and not exited */
    struct child *next; /* the manager's list */
} child_t;

struct gpsc_local {
    uv_loop_t *loop;
    char log_dir[PATH_MAX];
    gpsc_local_exit_fn fn;
    void *ud;
    child_t *children; /* every child whose handle is open */
};

gpsc_local_t *gpsc_local_new(uv_loop_t *loop, const char *log_dir, gpsc_local_exit_fn fn, void *ud)
{
    gpsc_local_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->loop = loop;
    snprintf(l->log_dir, sizeof l->log_dir, "%s", log_dir ? log_dir : ".");
    mkdir(l->log_dir, 0755);
    l->fn = fn;
    l->ud = ud;
    return l;
}

static void on_close(uv_handle_t *h)
{
    child_t *ch = (child_t *)h;
    gpsc_local_t *l = ch->owner;
    for (child_t **pp = &l->children; *pp; pp = &(*pp)->next)
        if (*pp == ch) {
            *pp = ch->next;
            break;
        }
    free(ch);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
    child_t *ch = (child_t *)p;
    ch->running = false;
    if (ch->owner->fn) ch->owner->fn(ch->owner->ud, ch->id, (long long)status, term_signal);
    uv_close((uv_handle_t *)p, on_close);
}

int gpsc_local_spawn(gpsc_local_t *l, const char *id, char *const argv[], char *err, size_t errsz)
{
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s.log", l->log_dir, id);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return GPSC_ESYS;
    }
    child_t *ch = calloc(1, sizeof *ch);
    if (!ch) {
        close(fd);
        snprintf(err, errsz, "out of memory");
        return GPSC_ENOMEM;
    }
    ch->owner = l;
    snprintf(ch->id, sizeof ch->id, "%s", id);
    uv_stdio_container_t io[3];
    io[0].flags = UV_IGNORE;
    io[1].flags = UV_INHERIT_FD;
    io[1].data.fd = fd;
    io[2].flags = UV_INHERIT_FD;
    io[2].data.fd = fd;
    uv_process_options_t o;
    memset(&o, 0, sizeof o);
    o.file = argv[0];
    o.args = (char **)argv;
    o.exit_cb = on_exit_cb;
    o.stdio_count = 3;
    o.stdio = io;
    int rc = uv_spawn(l->loop, &ch->proc, &o);
    close(fd);
    if (rc) {
        snprintf(err, errsz, "cannot start %s: %s", argv[0], uv_strerror(rc));
        /* a failed spawn still initialised the handle: close it */
        uv_close((uv_handle_t *)&ch->proc, on_close);
        ch->next = l->children;
        l->children = ch;
        return GPSC_ESYS;
    }
    ch->running = true;
    ch->next = l->children;
    l->children = ch;
    return 0;
}

int gpsc_local_running(const gpsc_local_t *l)
{
    int n = 0;
    for (const child_t *ch = l ? l->children : NULL; ch; ch = ch->next)
        n += ch->running;
    return n;
}

bool gpsc_local_idle(const gpsc_local_t *l)
{
    return !l || !l->children;
}

void gpsc_local_kill(gpsc_local_t *l, int signum)
{
    for (child_t *ch = l ? l->children : NULL; ch; ch = ch->next)
        if (ch->running) uv_process_kill(&ch->proc, signum);
}

int gpsc_local_signal(gpsc_local_t *l, const char *id, int signum)
{
    for (child_t *ch = l ? l->children : NULL; ch && id; ch = ch->next)
        if (ch->running && strcmp(ch->id, id) == 0) {
            uv_process_kill(&ch->proc, signum);
            return 0;
        }
    return GPSC_ENOENT;
}

bool gpsc_local_is_running(const gpsc_local_t *l, const char *id)
{
    for (const child_t *ch = l ? l->children : NULL; ch && id; ch = ch->next)
        if (ch->running && strcmp(ch->id, id) == 0) return true;
    return false;
}

void gpsc_local_destroy(gpsc_local_t **p)
{
    if (!p || !*p) return;
    free(*p);
    *p = NULL;
}
