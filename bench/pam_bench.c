// SPDX-License-Identifier: BSD-3-Clause
/*
 * pam_bench: times account decisions (pam_acct_mgmt) through the real libpam.
 *
 *   pam_bench once  -c CONFDIR -s SERVICE -u USER -r RHOST
 *   pam_bench long  -c CONFDIR -s SERVICE -u USER -r RHOST [-n MAX] [-t SECONDS]
 *   pam_bench fresh -c CONFDIR -s SERVICE -u USER -r RHOST [-n MAX] [-t SECONDS]
 *
 * once:  one decision; the exit status is the PAM return code.
 * long:  one process, pam_start_confdir / pam_acct_mgmt / pam_end in a loop,
 *        as a long-running daemon (or a test harness) does.
 * fresh: spawns `pam_bench once` per decision and waits for it, as sshd does
 *        (a new process that loads libpam and the module for every login).
 *
 * long and fresh stop after MAX decisions or once SECONDS have passed,
 * whichever comes first, and always make at least one decision (in long
 * mode the SECONDS start after the first decision, see run_long). They
 * print one line of key=value pairs:
 *   mode=long decisions=K seconds=T first_ms=F rate=R cpu_ms=C rc=RC maxrss_kb=M
 * where rate is decisions per second (wall clock) and cpu_ms the CPU time
 * (user + system) per decision: of the children in fresh mode, of this
 * process in long mode. In long mode the first decision (which pays for
 * loading the module and any cold cache) is reported as first_ms and left
 * out of rate and cpu_ms unless it was the only one. maxrss_kb is the peak
 * resident memory (getrusage ru_maxrss): of this process in long mode, of
 * the largest child in fresh mode (posix_spawn does not copy this process's
 * memory, so a child's peak is its own decision's). Fresh mode adds
 *   med_ms=M min_ms=A max_ms=B
 * the wall time of one decision (spawn to exit): median, fastest, slowest. Every decision must
 * return the same PAM code; otherwise the run fails (exit status 1).
 *
 * The service file in CONFDIR names the module by absolute path, so nothing
 * under /etc/pam.d is read. stdin of every decision is /dev/null so that
 * ttyname(0) cannot leak the caller's terminal into the origin.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <security/pam_appl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Exit codes above any PAM return code: the harness itself failed. */
enum { EXIT_SETUP = 200, EXIT_USAGE = 201 };

struct options {
    const char *mode;
    const char *confdir;
    const char *service;
    const char *user;
    const char *rhost;
    long max_decisions;
    double max_seconds;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User + system CPU seconds of this process or of its waited-for children. */
static double cpu_seconds(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Account management never prompts; refuse if a module tries to. */
static int no_conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    (void)n;
    (void)msg;
    (void)data;
    *resp = NULL;
    return PAM_CONV_ERR;
}

/* One decision in this process. Returns the PAM code of pam_acct_mgmt, or
 * -1 if PAM could not even be started (message on stderr). */
static int decide(const struct options *o)
{
    static const struct pam_conv conv = {no_conversation, NULL};
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(o->service, o->user, &conv, o->confdir, &pamh);
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "pam_bench: pam_start_confdir: %s\n", pam_strerror(pamh, rc));
        return -1;
    }
    /* What sshd sets before pam_acct_mgmt. */
    if (pam_set_item(pamh, PAM_RHOST, o->rhost) != PAM_SUCCESS || pam_set_item(pamh, PAM_TTY, "ssh") != PAM_SUCCESS) {
        fprintf(stderr, "pam_bench: pam_set_item failed\n");
        pam_end(pamh, PAM_SYSTEM_ERR);
        return -1;
    }
    rc = pam_acct_mgmt(pamh, 0);
    pam_end(pamh, rc);
    return rc;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long maxrss_kb(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return ru.ru_maxrss;
}

static int report(const char *mode, long decisions, double seconds, double first, double cpu, int rc, long rss)
{
    double rate;
    if (decisions > 1 && strcmp(mode, "long") == 0) {
        rate = (double)(decisions - 1) / (seconds - first);
    } else {
        rate = (double)decisions / seconds;
    }
    printf("mode=%s decisions=%ld seconds=%.6f first_ms=%.3f rate=%.3f cpu_ms=%.3f rc=%d maxrss_kb=%ld\n", mode,
           decisions, seconds, first * 1000.0, rate, cpu * 1000.0, rc, rss);
    return 0;
}

/* The time budget starts after the first decision, which only warms up
 * (loads the module, fills caches) -- unless that decision alone used up
 * the budget: then the module is slow either way and one decision says it. */
static int run_long(const struct options *o)
{
    double start = now_seconds();
    double steady_start = start;
    double cpu_start = cpu_seconds(RUSAGE_SELF);
    double cpu_steady_start = cpu_start;
    double first = 0.0;
    int first_rc = 0;
    long k;
    for (k = 0; k < o->max_decisions; ++k) {
        int rc = decide(o);
        if (rc < 0) {
            return 1;
        }
        double now = now_seconds();
        if (k == 0) {
            first = now - start;
            first_rc = rc;
            steady_start = now;
            cpu_steady_start = cpu_seconds(RUSAGE_SELF);
            if (first >= o->max_seconds) {
                ++k;
                break;
            }
        } else if (rc != first_rc) {
            fprintf(stderr, "pam_bench: decision %ld returned %d (%s), the first returned %d\n", k + 1, rc,
                    pam_strerror(NULL, rc), first_rc);
            return 1;
        } else if (now - steady_start >= o->max_seconds) {
            ++k;
            break;
        }
    }
    double cpu_end = cpu_seconds(RUSAGE_SELF);
    double cpu = k > 1 ? (cpu_end - cpu_steady_start) / (double)(k - 1) : cpu_end - cpu_start;
    return report("long", k, now_seconds() - start, first, cpu, first_rc, maxrss_kb(RUSAGE_SELF));
}

static int run_fresh(const struct options *o)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        perror("pam_bench: readlink /proc/self/exe");
        return 1;
    }
    self[len] = '\0';
    char *const argv[] = {self,
                          "once",
                          "-c",
                          (char *)o->confdir,
                          "-s",
                          (char *)o->service,
                          "-u",
                          (char *)o->user,
                          "-r",
                          (char *)o->rhost,
                          NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

    double start = now_seconds();
    double cpu_start = cpu_seconds(RUSAGE_CHILDREN);
    double first = 0.0;
    int first_rc = 0;
    long k;
    double *each = calloc((size_t)o->max_decisions, sizeof *each);
    if (each == NULL) {
        perror("pam_bench: calloc");
        return 1;
    }
    for (k = 0; k < o->max_decisions; ++k) {
        double t0 = now_seconds();
        pid_t pid;
        int err = posix_spawn(&pid, self, &fa, NULL, argv, environ);
        if (err != 0) {
            fprintf(stderr, "pam_bench: posix_spawn: %s\n", strerror(err));
            return 1;
        }
        int status;
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                perror("pam_bench: waitpid");
                return 1;
            }
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) >= EXIT_SETUP) {
            fprintf(stderr, "pam_bench: decision %ld failed (wait status 0x%x)\n", k + 1, (unsigned)status);
            return 1;
        }
        int rc = WEXITSTATUS(status);
        each[k] = now_seconds() - t0;
        if (k == 0) {
            first = now_seconds() - start;
            first_rc = rc;
        } else if (rc != first_rc) {
            fprintf(stderr, "pam_bench: decision %ld returned %d, the first returned %d\n", k + 1, rc, first_rc);
            return 1;
        }
        if (now_seconds() - start >= o->max_seconds) {
            ++k;
            break;
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    double cpu = (cpu_seconds(RUSAGE_CHILDREN) - cpu_start) / (double)k;
    double seconds = now_seconds() - start;
    qsort(each, (size_t)k, sizeof *each, by_value);
    int rv = report("fresh", k, seconds, first, cpu, first_rc, maxrss_kb(RUSAGE_CHILDREN));
    /* Wall time of one decision: median, fastest, slowest. */
    printf("med_ms=%.3f min_ms=%.3f max_ms=%.3f\n", each[k / 2] * 1000.0, each[0] * 1000.0, each[k - 1] * 1000.0);
    free(each);
    return rv;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: pam_bench once|long|fresh -c CONFDIR -s SERVICE -u USER -r RHOST [-n MAX] [-t SECONDS]\n");
}

int main(int argc, char **argv)
{
    struct options o = {NULL, NULL, NULL, NULL, NULL, 1000, 5.0};
    if (argc < 2) {
        usage();
        return EXIT_USAGE;
    }
    o.mode = argv[1];
    optind = 2;
    int c;
    while ((c = getopt(argc, argv, "c:s:u:r:n:t:")) != -1) {
        switch (c) {
        case 'c':
            o.confdir = optarg;
            break;
        case 's':
            o.service = optarg;
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'r':
            o.rhost = optarg;
            break;
        case 'n':
            o.max_decisions = strtol(optarg, NULL, 10);
            break;
        case 't':
            o.max_seconds = strtod(optarg, NULL);
            break;
        default:
            usage();
            return EXIT_USAGE;
        }
    }
    if (!o.confdir || !o.service || !o.user || !o.rhost || o.max_decisions < 1 || optind != argc) {
        usage();
        return EXIT_USAGE;
    }
    if (strcmp(o.mode, "once") == 0) {
        int rc = decide(&o);
        /* exit(), not _exit(): the NSS counter reports from a destructor. */
        exit(rc < 0 ? EXIT_SETUP : rc);
    }
    if (strcmp(o.mode, "long") == 0) {
        return run_long(&o);
    }
    if (strcmp(o.mode, "fresh") == 0) {
        return run_fresh(&o);
    }
    usage();
    return EXIT_USAGE;
}
