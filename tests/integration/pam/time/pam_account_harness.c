// SPDX-License-Identifier: BSD-3-Clause
/* A long-running PAM account-management client for the time-of-day tests:
 * one process answers thousands of (instant, service, user) requests, each
 * through a fresh pam_start_confdir / pam_acct_mgmt / pam_end, with the clock
 * moved by libfaketime between requests.
 *
 * Usage: pam_account_harness CONFDIR
 *   The process runs with LD_PRELOAD=libfaketime.so.1, FAKETIME_NO_CACHE=1,
 *   FAKETIME_FMT=%s and FAKETIME_TIMESTAMP_FILE=<file>; before each request
 *   the harness writes the request's epoch seconds into that file, so every
 *   time() in the process (ours, libpam's, the modules') returns it. The
 *   clock is frozen (an absolute libfaketime time does not run), and the
 *   harness refuses to go on if time() does not return the requested value:
 *   a test without a faked clock must fail, not pass by accident.
 *
 * stdin, one request per line:   EPOCH SERVICE USER
 * stdout, one answer per line:   RC WDAY HHMM     (RC = pam_acct_mgmt result,
 *                                                  WDAY 0 = Sunday, HHMM local)
 * On a harness problem it prints "ERROR <why>" on stdout and exits 2.
 *
 * Every request sets PAM_TTY to "tty1" and no PAM_RHOST, so neither module
 * falls back to ttyname(0). */
#define _GNU_SOURCE
#include <errno.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int no_conversation(int num_msg, const struct pam_message **msg, struct pam_response **resp,
                           void *appdata_ptr) {
    (void)num_msg;
    (void)msg;
    (void)resp;
    (void)appdata_ptr;
    return PAM_CONV_ERR;
}

static void die(const char *why, const char *detail) {
    printf("ERROR %s%s%s\n", why, detail != NULL ? ": " : "", detail != NULL ? detail : "");
    fflush(stdout);
    exit(2);
}

static void set_clock(const char *stamp_file, long long epoch) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", stamp_file) >= (int)sizeof tmp) {
        die("FAKETIME_TIMESTAMP_FILE path too long", stamp_file);
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        die("cannot write the faketime timestamp file", strerror(errno));
    }
    fprintf(f, "%lld\n", epoch);
    if (fclose(f) != 0 || rename(tmp, stamp_file) != 0) {
        die("cannot write the faketime timestamp file", strerror(errno));
    }
    time_t now = time(NULL);
    if ((long long)now != epoch) {
        char msg[128];
        snprintf(msg, sizeof msg, "asked for %lld, time() says %lld", epoch, (long long)now);
        die("the clock is not faked (is libfaketime preloaded with FAKETIME_NO_CACHE=1 FAKETIME_FMT=%s?)", msg);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CONFDIR < requests\n", argv[0]);
        return 2;
    }
    const char *confdir = argv[1];
    const char *stamp_file = getenv("FAKETIME_TIMESTAMP_FILE");
    if (stamp_file == NULL || *stamp_file == '\0') {
        die("FAKETIME_TIMESTAMP_FILE is not set", NULL);
    }
    if (getenv("FAKETIME") != NULL) {
        die("FAKETIME is set; it would take precedence over the timestamp file", NULL);
    }

    char line[4096];
    while (fgets(line, sizeof line, stdin) != NULL) {
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        } else if (!feof(stdin)) {
            die("request line too long", NULL);
        }
        if (len == 0) {
            continue;
        }
        long long epoch = 0;
        char service[1024];
        char user[256];
        if (sscanf(line, "%lld %1023s %255s", &epoch, service, user) != 3) {
            die("bad request (expected: EPOCH SERVICE USER)", line);
        }

        set_clock(stamp_file, epoch);

        struct pam_conv conv = {no_conversation, NULL};
        pam_handle_t *ph = NULL;
        int rc = pam_start_confdir(service, user, &conv, confdir, &ph);
        if (rc != PAM_SUCCESS) {
            die("pam_start_confdir failed", pam_strerror(NULL, rc));
        }
        rc = pam_set_item(ph, PAM_TTY, "tty1");
        if (rc != PAM_SUCCESS) {
            die("pam_set_item(PAM_TTY) failed", pam_strerror(ph, rc));
        }
        rc = pam_acct_mgmt(ph, PAM_SILENT);
        pam_end(ph, rc);

        /* What local time the modules saw: the same frozen instant, read
         * through the same localtime_r and TZ. */
        time_t now = time(NULL);
        if ((long long)now != epoch) {
            die("the clock moved during the request", NULL);
        }
        struct tm tm;
        if (localtime_r(&now, &tm) == NULL) {
            die("localtime_r failed", NULL);
        }
        printf("%d %d %02d%02d\n", rc, tm.tm_wday, tm.tm_hour, tm.tm_min);
        fflush(stdout);
    }
    return 0;
}
