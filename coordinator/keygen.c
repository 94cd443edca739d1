/* gpsc-keygen — write CURVE key pairs for a cluster (`gpsc keygen`).
 *
 *   gpsc keygen NAME...          NAME.key (secret, 0600) + NAME.pub
 *   gpsc keygen --cluster DIR    DIR/server.{key,pub} + DIR/worker.{key,pub}
 *                                + DIR/allow.txt (worker and server keys)
 *   gpsc keygen --show FILE      print the public key of a key file
 *   gpsc keygen --check LIST     read an allow-list, print its keys
 *
 * Existing files are kept unless --force: a cluster's keys are made once
 * and reused on every requeue. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/keys.h"
#include "common/wire.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gpsc keygen [--force] NAME...\n"
               "       gpsc keygen [--force] --cluster DIR\n"
               "       gpsc keygen --show FILE\n"
               "       gpsc keygen --check LIST\n"
               "\n"
               "Writes ZeroMQ CURVE key pairs: NAME.key holds the secret key (mode 0600,\n"
               "keep it private), NAME.pub the public key (give it to the other side).\n"
               "\n"
               "options:\n"
               "      --cluster DIR  the keys of one cluster: DIR/server.key (coordinator and\n"
               "                     learner), DIR/worker.key (workers), their .pub files, and\n"
               "                     DIR/allow.txt, the allow-list of client keys (worker and\n"
               "                     server). Files already there are kept (so a requeued job\n"
               "                     reuses them)\n"
               "  -f, --force        replace existing files\n"
               "      --show FILE    print the public key (Z85) of a .key or .pub file\n"
               "      --check LIST   read an allow-list (files and directories of *.pub,\n"
               "                     comma-separated) and print its keys\n"
               "  -q, --quiet        print nothing but errors\n"
               "  -h, --help         this text\n"
               "\n"
               "Then: gpsc coordinator --curve-secret server.key --allow-keys allow.txt ...\n"
               "      gpsc learner --curve-secret server.key --curve-server-key server.pub\n"
               "                   --allow-keys allow.txt ...\n"
               "      gpsc worker --curve-secret worker.key --curve-server-key server.pub ...\n"
               "(docs/deploy.md).\n"
               "\n"
               "exit status: 0 done, 1 a file could not be written or read, 2 bad arguments.\n");
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* writes NAME.key and NAME.pub for a fresh pair; *made tells whether
 * anything was written (false when both exist and !force) */
static int make_pair(const char *name, bool force, bool quiet, bool *made)
{
    char key[4096], pub[4096], err[512];
    *made = false;
    if (snprintf(key, sizeof key, "%s.key", name) >= (int)sizeof key ||
        snprintf(pub, sizeof pub, "%s.pub", name) >= (int)sizeof pub) {
        fprintf(stderr, "gpsc keygen: %s: name too long\n", name);
        return 2;
    }
    if (!force && exists(key)) {
        /* keep the pair; make sure the public half matches it */
        gpsc_wire_keypair_t kp;
        int rc = gpsc_wire_curve_load(&kp, key, err, sizeof err);
        if (rc == 0 && kp.secret_key[0] == '\0') {
            snprintf(err, sizeof err, "%.400s: holds no secret key", key);
            rc = GPSC_EPARSE;
        }
        if (rc == 0 && !exists(pub)) rc = gpsc_wire_curve_save(pub, &kp, false, err, sizeof err);
        memset(&kp, 0, sizeof kp);
        if (rc) {
            fprintf(stderr, "gpsc keygen: %s\n", err);
            return 1;
        }
        if (!quiet) printf("kept %s\n", key);
        return 0;
    }
    gpsc_wire_keypair_t kp;
    int rc = gpsc_wire_curve_keypair(&kp);
    if (rc) {
        fprintf(stderr, "gpsc keygen: %s (libzmq without CURVE?)\n", gpsc_strerror(rc));
        return 1;
    }
    rc = gpsc_wire_curve_save(key, &kp, true, err, sizeof err);
    if (rc == 0) rc = gpsc_wire_curve_save(pub, &kp, false, err, sizeof err);
    if (rc == 0 && !quiet) printf("wrote %s (secret) and %s: %s\n", key, pub, kp.public_key);
    memset(&kp, 0, sizeof kp);
    if (rc) {
        fprintf(stderr, "gpsc keygen: %s\n", err);
        return 1;
    }
    *made = true;
    return 0;
}

/* DIR/server, DIR/worker and DIR/allow.txt */
static int make_cluster(const char *dir, bool force, bool quiet)
{
    char server[4096], worker[4096], allow[4096], tmp[4200], err[512];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "gpsc keygen: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (snprintf(server, sizeof server, "%s/server", dir) >= (int)sizeof server ||
        snprintf(worker, sizeof worker, "%s/worker", dir) >= (int)sizeof worker ||
        snprintf(allow, sizeof allow, "%s/allow.txt", dir) >= (int)sizeof allow) {
        fprintf(stderr, "gpsc keygen: %s: path too long\n", dir);
        return 2;
    }
    bool m1, m2;
    int rc = make_pair(server, force, quiet, &m1);
    if (rc == 0) rc = make_pair(worker, force, quiet, &m2);
    if (rc) return rc;
    if (!force && !m1 && !m2 && exists(allow)) return 0;

    /* the allow-list: the .pub files concatenated, written atomically */
    snprintf(tmp, sizeof tmp, "%s.tmp", allow);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "gpsc keygen: %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    fprintf(out, "# gpsc allow-list: CURVE public keys of the clients the coordinator and\n"
                 "# the learner accept (one per line; `cat *.pub >> allow.txt` adds more)\n");
    const char *names[2] = {server, worker};
    for (int i = 0; i < 2; i++) {
        gpsc_wire_keypair_t kp;
        char key[4200];
        snprintf(key, sizeof key, "%s.pub", names[i]);
        rc = gpsc_wire_curve_load(&kp, key, err, sizeof err);
        if (rc) {
            fclose(out);
            unlink(tmp);
            fprintf(stderr, "gpsc keygen: %s\n", err);
            return 1;
        }
        fprintf(out, "public-key = \"%s\"  # %s\n", kp.public_key, strrchr(names[i], '/') + 1);
    }
    if (fclose(out) != 0 || rename(tmp, allow) != 0) {
        fprintf(stderr, "gpsc keygen: %s: %s\n", allow, strerror(errno));
        unlink(tmp);
        return 1;
    }
    if (!quiet) printf("wrote %s\n", allow);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cluster = NULL, *show = NULL, *check = NULL;
    bool force = false, quiet = false;
    enum { OPT_CLUSTER = 256, OPT_SHOW, OPT_CHECK };
    static const struct option opts[] = {{"cluster", required_argument, 0, OPT_CLUSTER},
                                         {"show", required_argument, 0, OPT_SHOW},
                                         {"check", required_argument, 0, OPT_CHECK},
                                         {"force", no_argument, 0, 'f'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "fqh", opts, NULL)) != -1) {
        switch (ch) {
        case OPT_CLUSTER:
            cluster = optarg;
            break;
        case OPT_SHOW:
            show = optarg;
            break;
        case OPT_CHECK:
            check = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int modes = (cluster != NULL) + (show != NULL) + (check != NULL) + (optind < argc);
    if (modes != 1) {
        fprintf(stderr, "gpsc keygen: give NAME..., --cluster, --show or --check (one of them)\n");
        usage(stderr);
        return 2;
    }
    if (!gpsc_wire_curve_available()) {
        fprintf(stderr, "gpsc keygen: libzmq was built without CURVE (libsodium)\n");
        return 1;
    }

    char err[512];
    if (show) {
        gpsc_wire_keypair_t kp;
        int rc = gpsc_wire_curve_load(&kp, show, err, sizeof err);
        if (rc) {
            fprintf(stderr, "gpsc keygen: %s\n", err);
            return 1;
        }
        printf("%s\n", kp.public_key);
        memset(&kp, 0, sizeof kp);
        return 0;
    }
    if (check) {
        gpsc_keys_list_t l;
        int rc = gpsc_keys_list_load(&l, check, err, sizeof err);
        if (rc) {
            fprintf(stderr, "gpsc keygen: %s\n", err);
            return 1;
        }
        for (size_t i = 0; i < l.n; i++)
            printf("%s\n", l.keys[i]);
        if (!quiet) fprintf(stderr, "%zu key%s\n", l.n, l.n == 1 ? "" : "s");
        gpsc_keys_list_free(&l);
        return 0;
    }
    if (cluster) return make_cluster(cluster, force, quiet);
    int worst = 0;
    for (int i = optind; i < argc; i++) {
        bool made;
        int rc = make_pair(argv[i], force, quiet, &made);
        if (rc > worst) worst = rc;
    }
    return worst;
}
