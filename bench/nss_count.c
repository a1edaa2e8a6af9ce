// SPDX-License-Identifier: BSD-3-Clause
/*
 * nss_count.so: counts the name-service calls a process makes, for the
 * benchmark. Preload it in front of libnss_wrapper.so:
 *
 *   LD_PRELOAD="nss_count.so libnss_wrapper.so" BENCH_NSS_COUNT_OUT=FILE prog
 *
 * Every call is counted and passed on unchanged to the next definition
 * (nss_wrapper, or glibc). At exit the process appends one line to FILE:
 *
 *   pid=123 passwd=2 group=14 hosts=0 netgroup=0 getpwnam_r=2 getgrnam_r=12 ...
 *
 * "group" sums every call that asks about groups (by name, by gid, a user's
 * group list, or a walk of the group database); "passwd" likewise for users.
 * Only calls that cross the public API are seen: nss_wrapper's own internal
 * work behind one call is one call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

enum kind { PASSWD, GROUP, HOSTS, NETGROUP };

#define COUNTED(X)                    \
    X(getpwnam, PASSWD)               \
    X(getpwnam_r, PASSWD)             \
    X(getpwuid, PASSWD)               \
    X(getpwuid_r, PASSWD)             \
    X(getpwent, PASSWD)               \
    X(getpwent_r, PASSWD)             \
    X(getgrnam, GROUP)                \
    X(getgrnam_r, GROUP)              \
    X(getgrgid, GROUP)                \
    X(getgrgid_r, GROUP)              \
    X(getgrouplist, GROUP)            \
    X(initgroups, GROUP)              \
    X(getgrent, GROUP)                \
    X(getgrent_r, GROUP)              \
    X(getaddrinfo, HOSTS)             \
    X(getnameinfo, HOSTS)             \
    X(gethostbyname, HOSTS)           \
    X(gethostbyname_r, HOSTS)         \
    X(gethostbyname2, HOSTS)          \
    X(gethostbyname2_r, HOSTS)        \
    X(gethostbyaddr, HOSTS)           \
    X(gethostbyaddr_r, HOSTS)         \
    X(innetgr, NETGROUP)

#define ENUM_ENTRY(name, kind) C_##name,
enum counter { COUNTED(ENUM_ENTRY) N_COUNTERS };

#define NAME_ENTRY(name, kind) #name,
static const char *const counter_names[] = {COUNTED(NAME_ENTRY)};
#define KIND_ENTRY(name, kind) kind,
static const enum kind counter_kinds[] = {COUNTED(KIND_ENTRY)};

static unsigned long counts[N_COUNTERS];

static void bump(enum counter c)
{
    __atomic_fetch_add(&counts[c], 1, __ATOMIC_RELAXED);
}

/* The next definition of a symbol; abort loudly if there is none, since a
 * benchmark that silently lost NSS would measure nothing. */
static void *next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (f == NULL) {
        static const char msg[] = "nss_count: no next definition of a counted function\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        abort();
    }
    return f;
}

/* The prototype comes from the system header, so the forwarded call is typed
 * exactly as the function it stands in for. */
#define FORWARD(name, ...)                            \
    static __typeof__(name) *real;                    \
    if (real == NULL) {                               \
        real = (__typeof__(name) *)next(#name);       \
    }                                                 \
    bump(C_##name);                                   \
    return real(__VA_ARGS__)

EXPORT struct passwd *getpwnam(const char *n)
{
    FORWARD(getpwnam, n);
}

EXPORT int getpwnam_r(const char *n, struct passwd *p, char *b, size_t l, struct passwd **r)
{
    FORWARD(getpwnam_r, n, p, b, l, r);
}

EXPORT struct passwd *getpwuid(uid_t u)
{
    FORWARD(getpwuid, u);
}

EXPORT int getpwuid_r(uid_t u, struct passwd *p, char *b, size_t l, struct passwd **r)
{
    FORWARD(getpwuid_r, u, p, b, l, r);
}

EXPORT struct passwd *getpwent(void)
{
    FORWARD(getpwent);
}

EXPORT int getpwent_r(struct passwd *p, char *b, size_t l, struct passwd **r)
{
    FORWARD(getpwent_r, p, b, l, r);
}

EXPORT struct group *getgrnam(const char *n)
{
    FORWARD(getgrnam, n);
}

EXPORT int getgrnam_r(const char *n, struct group *g, char *b, size_t l, struct group **r)
{
    FORWARD(getgrnam_r, n, g, b, l, r);
}

EXPORT struct group *getgrgid(gid_t id)
{
    FORWARD(getgrgid, id);
}

EXPORT int getgrgid_r(gid_t id, struct group *g, char *b, size_t l, struct group **r)
{
    FORWARD(getgrgid_r, id, g, b, l, r);
}

EXPORT int getgrouplist(const char *u, gid_t g, gid_t *gs, int *n)
{
    FORWARD(getgrouplist, u, g, gs, n);
}

EXPORT int initgroups(const char *u, gid_t g)
{
    FORWARD(initgroups, u, g);
}

EXPORT struct group *getgrent(void)
{
    FORWARD(getgrent);
}

EXPORT int getgrent_r(struct group *g, char *b, size_t l, struct group **r)
{
    FORWARD(getgrent_r, g, b, l, r);
}

EXPORT int getaddrinfo(const char *n, const char *s, const struct addrinfo *h, struct addrinfo **r)
{
    FORWARD(getaddrinfo, n, s, h, r);
}

EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t sl, char *h, socklen_t hl, char *s, socklen_t svl,
                       int flags)
{
    FORWARD(getnameinfo, sa, sl, h, hl, s, svl, flags);
}

EXPORT struct hostent *gethostbyname(const char *n)
{
    FORWARD(gethostbyname, n);
}

EXPORT int gethostbyname_r(const char *n, struct hostent *h, char *b, size_t l, struct hostent **r, int *e)
{
    FORWARD(gethostbyname_r, n, h, b, l, r, e);
}

EXPORT struct hostent *gethostbyname2(const char *n, int af)
{
    FORWARD(gethostbyname2, n, af);
}

EXPORT int gethostbyname2_r(const char *n, int af, struct hostent *h, char *b, size_t l, struct hostent **r, int *e)
{
    FORWARD(gethostbyname2_r, n, af, h, b, l, r, e);
}

EXPORT struct hostent *gethostbyaddr(const void *a, socklen_t l, int t)
{
    FORWARD(gethostbyaddr, a, l, t);
}

EXPORT int gethostbyaddr_r(const void *a, socklen_t al, int t, struct hostent *h, char *b, size_t l,
                           struct hostent **r, int *e)
{
    FORWARD(gethostbyaddr_r, a, al, t, h, b, l, r, e);
}

EXPORT int innetgr(const char *ng, const char *h, const char *u, const char *d)
{
    FORWARD(innetgr, ng, h, u, d);
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("BENCH_NSS_COUNT_OUT");
    if (path == NULL || *path == '\0') {
        return;
    }
    unsigned long by_kind[4] = {0, 0, 0, 0};
    for (int i = 0; i < N_COUNTERS; ++i) {
        by_kind[counter_kinds[i]] += counts[i];
    }
    char line[4096];
    int len = snprintf(line, sizeof line, "pid=%ld passwd=%lu group=%lu hosts=%lu netgroup=%lu", (long)getpid(),
                       by_kind[PASSWD], by_kind[GROUP], by_kind[HOSTS], by_kind[NETGROUP]);
    for (int i = 0; i < N_COUNTERS && len > 0 && (size_t)len < sizeof line; ++i) {
        if (counts[i] != 0) {
            len += snprintf(line + len, sizeof line - (size_t)len, " %s=%lu", counter_names[i], counts[i]);
        }
    }
    if (len <= 0 || (size_t)len >= sizeof line - 1) {
        return;
    }
    line[len++] = '\n';
    /* One write with O_APPEND: lines from concurrent processes never mix. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t ignored = write(fd, line, (size_t)len);
        (void)ignored;
        close(fd);
    }
}
