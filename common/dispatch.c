#include "dispatch.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Directory of the running executable, with a trailing slash. */
static int self_dir(char *buf, size_t sz)
{
    ssize_t n = readlink("/proc/self/exe", buf, sz - 1);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    slash[1] = 0;
    return 0;
}

static bool built(const char *program)
{
    char path[PATH_MAX];
    if (self_dir(path, sizeof path) != 0 || strlen(path) + strlen(program) + 1 > sizeof path)
        return false;
    strcat(path, program);
    return access(path, X_OK) == 0;
}

static void usage(FILE *f, const char *tool, const char *blurb, const gpsc_subcmd_t *cmds)
{
    fprintf(f, "usage: %s COMMAND [ARGS...]\n\n%s\n\ncommands:\n", tool, blurb);
    for (const gpsc_subcmd_t *c = cmds; c->name; c++)
        fprintf(f, "  %-12s %s%s\n", c->name, c->summary,
                built(c->program) ? "" : " (not in this build)");
    fprintf(f, "\n'%s COMMAND --help' describes one command.\n", tool);
}

int gpsc_dispatch(const char *tool, const char *blurb, const gpsc_subcmd_t *cmds, int argc,
                  char **argv)
{
    if (argc < 2) {
        usage(stderr, tool, blurb, cmds);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        if (argc > 2 && strcmp(sub, "help") == 0) {
            /* `gpsc help run` == `gpsc run --help` */
            for (const gpsc_subcmd_t *c = cmds; c->name; c++)
                if (!strcmp(c->name, argv[2])) {
                    char *nargv[] = {argv[0], argv[2], "--help", NULL};
                    return gpsc_dispatch(tool, blurb, cmds, 3, nargv);
                }
        }
        usage(stdout, tool, blurb, cmds);
        return 0;
    }
    if (!strcmp(sub, "--version")) {
        printf("%s %s\n", tool, GPSC_VERSION);
        return 0;
    }
    for (const gpsc_subcmd_t *c = cmds; c->name; c++) {
        if (strcmp(c->name, sub) != 0)
            continue;
        char path[PATH_MAX];
        if (self_dir(path, sizeof path) != 0 ||
            strlen(path) + strlen(c->program) + 1 > sizeof path) {
            fprintf(stderr, "%s: cannot locate own directory\n", tool);
            return 1;
        }
        strcat(path, c->program);
        argv[1] = (char *)c->program;
        execv(path, argv + 1);
        fprintf(stderr, "%s: cannot run %s: %s%s\n", tool, path, strerror(errno),
                errno == ENOENT ? " (not built in this version)" : "");
        return 127;
    }
    fprintf(stderr, "%s: unknown command '%s'\n\n", tool, sub);
    usage(stderr, tool, blurb, cmds);
    return 2;
}
