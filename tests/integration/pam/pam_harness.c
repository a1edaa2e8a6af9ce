// SPDX-License-Identifier: BSD-3-Clause
/*
 * pam_harness: drives PAM modules through the real libpam for the integration
 * tests. Each request names a private service directory (pam_start_confdir),
 * so the service file there decides which module runs, by absolute path, with
 * which options; nothing under /etc/pam.d is read.
 *
 * Requests come one per line on stdin (or one from the command line), fields
 * separated by TABs:
 *
 *     CONFDIR  SERVICE  USER  RHOST  TTY  OPS
 *
 * USER, RHOST and TTY are "-" for "leave the item unset" or "=" followed by
 * the value ("=" alone sets the empty string). OPS is a comma-separated list
 * of acct, auth, setcred, open, close, chauthtok, and gettty (report PAM_TTY
 * after the previous calls). Every request gets exactly one answer line, the
 * results in the same order, comma-separated, e.g. "PAM_SUCCESS" or
 * "PAM_PERM_DENIED,tty=<unset>". A line that cannot be parsed or started gets
 * "HARNESS_ERROR ..." so the driver never loses its place. stdout is flushed
 * after every answer: a driver may rewrite files between two requests.
 *
 * File descriptor 0 is always /dev/null while modules run, so ttyname(0) can
 * never leak the developer's terminal into a decision (pam_access falls back
 * to it when PAM_TTY is unset); requests are read from a duplicate of the
 * original stdin.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FIELDS 6

static const struct {
    int code;
    const char *name;
} kCodes[] = {
    {PAM_SUCCESS, "PAM_SUCCESS"},
    {PAM_OPEN_ERR, "PAM_OPEN_ERR"},
    {PAM_SYMBOL_ERR, "PAM_SYMBOL_ERR"},
    {PAM_SERVICE_ERR, "PAM_SERVICE_ERR"},
    {PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
    {PAM_BUF_ERR, "PAM_BUF_ERR"},
    {PAM_PERM_DENIED, "PAM_PERM_DENIED"},
    {PAM_AUTH_ERR, "PAM_AUTH_ERR"},
    {PAM_CRED_INSUFFICIENT, "PAM_CRED_INSUFFICIENT"},
    {PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
    {PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"},
    {PAM_MAXTRIES, "PAM_MAXTRIES"},
    {PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD"},
    {PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED"},
    {PAM_SESSION_ERR, "PAM_SESSION_ERR"},
    {PAM_CRED_UNAVAIL, "PAM_CRED_UNAVAIL"},
    {PAM_CRED_EXPIRED, "PAM_CRED_EXPIRED"},
    {PAM_CRED_ERR, "PAM_CRED_ERR"},
    {PAM_NO_MODULE_DATA, "PAM_NO_MODULE_DATA"},
    {PAM_CONV_ERR, "PAM_CONV_ERR"},
    {PAM_AUTHTOK_ERR, "PAM_AUTHTOK_ERR"},
    {PAM_AUTHTOK_RECOVERY_ERR, "PAM_AUTHTOK_RECOVERY_ERR"},
    {PAM_AUTHTOK_LOCK_BUSY, "PAM_AUTHTOK_LOCK_BUSY"},
    {PAM_AUTHTOK_DISABLE_AGING, "PAM_AUTHTOK_DISABLE_AGING"},
    {PAM_TRY_AGAIN, "PAM_TRY_AGAIN"},
    {PAM_IGNORE, "PAM_IGNORE"},
    {PAM_ABORT, "PAM_ABORT"},
    {PAM_AUTHTOK_EXPIRED, "PAM_AUTHTOK_EXPIRED"},
    {PAM_MODULE_UNKNOWN, "PAM_MODULE_UNKNOWN"},
    {PAM_BAD_ITEM, "PAM_BAD_ITEM"},
    {PAM_CONV_AGAIN, "PAM_CONV_AGAIN"},
    {PAM_INCOMPLETE, "PAM_INCOMPLETE"},
};

static void put_code(FILE *out, int code) {
    for (size_t i = 0; i < sizeof kCodes / sizeof kCodes[0]; ++i) {
        if (kCodes[i].code == code) {
            fputs(kCodes[i].name, out);
            return;
        }
    }
    fprintf(out, "PAM_CODE_%d", code);
}

/* No module under test should prompt; refuse if one does. */
static int no_conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
    (void)n;
    (void)msg;
    (void)data;
    *resp = NULL;
    return PAM_CONV_ERR;
}

/* "-" -> NULL (unset), "=value" -> "value"; anything else is an error. */
static int decode_item(const char *field, const char **value) {
    if (strcmp(field, "-") == 0) {
        *value = NULL;
        return 0;
    }
    if (field[0] == '=') {
        *value = field + 1;
        return 0;
    }
    return -1;
}

static int run_op(pam_handle_t *ph, const char *op, FILE *out) {
    if (strcmp(op, "acct") == 0) {
        put_code(out, pam_acct_mgmt(ph, 0));
    } else if (strcmp(op, "auth") == 0) {
        put_code(out, pam_authenticate(ph, 0));
    } else if (strcmp(op, "setcred") == 0) {
        put_code(out, pam_setcred(ph, PAM_ESTABLISH_CRED));
    } else if (strcmp(op, "open") == 0) {
        put_code(out, pam_open_session(ph, 0));
    } else if (strcmp(op, "close") == 0) {
        put_code(out, pam_close_session(ph, 0));
    } else if (strcmp(op, "chauthtok") == 0) {
        put_code(out, pam_chauthtok(ph, PAM_CHANGE_EXPIRED_AUTHTOK));
    } else if (strcmp(op, "gettty") == 0) {
        const void *tty = NULL;
        if (pam_get_item(ph, PAM_TTY, &tty) != PAM_SUCCESS || tty == NULL) {
            fputs("tty=<unset>", out);
        } else {
            fprintf(out, "tty=%s", (const char *)tty);
        }
    } else {
        fprintf(out, "HARNESS_ERROR unknown op '%s'", op);
        return -1;
    }
    return 0;
}

/* Answers one request line (without its newline) on `out`. */
static void answer(char *line, FILE *out) {
    char *field[MAX_FIELDS];
    int n = 0;
    char *rest = line;
    while (rest != NULL && n < MAX_FIELDS) {
        field[n++] = strsep(&rest, "\t");
    }
    if (n != MAX_FIELDS || rest != NULL) {
        fprintf(out, "HARNESS_ERROR expected %d TAB-separated fields\n", MAX_FIELDS);
        return;
    }
    const char *confdir = field[0];
    const char *service = field[1];
    const char *user, *rhost, *tty;
    if (decode_item(field[2], &user) != 0 || decode_item(field[3], &rhost) != 0 || decode_item(field[4], &tty) != 0) {
        fputs("HARNESS_ERROR USER, RHOST and TTY must be '-' or '=value'\n", out);
        return;
    }

    struct pam_conv conv = {no_conversation, NULL};
    pam_handle_t *ph = NULL;
    int rc = pam_start_confdir(service, user, &conv, confdir, &ph);
    if (rc != PAM_SUCCESS) {
        fputs("HARNESS_ERROR pam_start_confdir: ", out);
        put_code(out, rc);
        fputc('\n', out);
        return;
    }
    if ((rhost != NULL && (rc = pam_set_item(ph, PAM_RHOST, rhost)) != PAM_SUCCESS) ||
        (tty != NULL && (rc = pam_set_item(ph, PAM_TTY, tty)) != PAM_SUCCESS)) {
        fputs("HARNESS_ERROR pam_set_item: ", out);
        put_code(out, rc);
        fputc('\n', out);
        pam_end(ph, rc);
        return;
    }

    int last = PAM_SUCCESS;
    int first = 1;
    char *ops = field[5];
    for (char *op = strsep(&ops, ","); op != NULL; op = strsep(&ops, ",")) {
        if (!first) {
            fputc(',', out);
        }
        first = 0;
        if (run_op(ph, op, out) != 0) {
            last = PAM_ABORT;
            break;
        }
    }
    fputc('\n', out);
    pam_end(ph, last);
}

static void usage(void) {
    fputs("usage: pam_harness                      read requests from stdin\n"
          "       pam_harness CONFDIR SERVICE USER RHOST TTY OPS\n"
          "USER/RHOST/TTY: '-' = unset, '=value' = set; OPS: acct,auth,setcred,open,close,chauthtok,gettty\n",
          stderr);
}

int main(int argc, char **argv) {
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage();
        return 0;
    }
    if (argc != 1 && argc != 7) {
        usage();
        return 2;
    }

    /* Keep the requests, then put /dev/null on fd 0 for the modules. */
    int requests_fd = dup(STDIN_FILENO);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (requests_fd < 0 || devnull < 0 || dup2(devnull, STDIN_FILENO) < 0) {
        perror("pam_harness: cannot set up stdin");
        return 2;
    }
    close(devnull);
    if (isatty(STDIN_FILENO)) {
        fputs("pam_harness: fd 0 is still a tty\n", stderr);
        return 2;
    }

    if (argc == 7) {
        close(requests_fd);
        size_t len = 0;
        for (int i = 1; i < 7; ++i) {
            len += strlen(argv[i]) + 1;
        }
        char *line = malloc(len);
        if (line == NULL) {
            return 2;
        }
        line[0] = '\0';
        for (int i = 1; i < 7; ++i) {
            strcat(line, argv[i]);
            if (i < 6) {
                strcat(line, "\t");
            }
        }
        answer(line, stdout);
        free(line);
        return fflush(stdout) == 0 ? 0 : 2;
    }

    FILE *in = fdopen(requests_fd, "r");
    if (in == NULL) {
        perror("pam_harness: fdopen");
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, in)) >= 0) {
        if (got > 0 && line[got - 1] == '\n') {
            line[--got] = '\0';
        }
        answer(line, stdout);
        if (fflush(stdout) != 0) {
            break;
        }
    }
    free(line);
    fclose(in);
    return 0;
}
