// SPDX-License-Identifier: BSD-3-Clause
/* A small TCP daemon for the preload shim tests, listening on one dual-stack
 * socket ([::]:PORT, so IPv4 clients arrive as v4-mapped addresses).
 * THREADS > 0: that many threads block in accept()/accept4(), plus one
 * thread on a Unix socket (which the shim must leave alone).
 * THREADS "epoll": one thread, a non-blocking listener in a level-triggered
 * epoll loop that calls accept4() until EAGAIN (an event-loop daemon).
 * Each client gets "hello <peer>\n"; each served connection is reported on
 * stdout. It also reports whether the shim kept errno and what LD_PRELOAD
 * it inherited. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct worker {
    int fd;
    int index;
};

static void report(const char *what, const char *peer) {
    pthread_mutex_lock(&out_lock);
    printf("%s %s\n", what, peer);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void greet(int c, const struct sockaddr_storage *ss, socklen_t len) {
    char peer[INET6_ADDRSTRLEN + 8] = "unix";
    if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, peer, sizeof peer);
    } else if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, peer, sizeof peer);
    }
    char msg[128];
    int m = snprintf(msg, sizeof msg, "hello %s\n", peer);
    if (write(c, msg, (size_t)m) < 0) {
        perror("write");
    }
    close(c);
    report("served", peer);
}

/* The event loop: never blocks anywhere but in epoll_wait. */
static int serve_epoll(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        perror("fcntl");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        perror("epoll");
        return 1;
    }
    for (;;) {
        struct epoll_event got;
        int n = epoll_wait(ep, &got, 1, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("epoll_wait");
            return 1;
        }
        for (;;) {
            struct sockaddr_storage ss;
            socklen_t len = sizeof ss;
            errno = EDOM; /* must survive an allowed accept */
            int c = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    break;
                }
                if (errno == EINTR || errno == ECONNABORTED) {
                    continue;
                }
                perror("accept4");
                return 1;
            }
            if (errno != EDOM) {
                report("ERRNO-CLOBBERED", strerror(errno));
            }
            int blocking = fcntl(c, F_GETFL);
            if (blocking >= 0) {
                fcntl(c, F_SETFL, blocking & ~O_NONBLOCK); /* a short reply: write it at once */
            }
            greet(c, &ss, len);
        }
    }
}

static void *serve(void *arg) {
    struct worker *w = arg;
    for (unsigned n = 0;; ++n) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int mode = (int)((n + (unsigned)w->index) % 3);
        errno = EDOM; /* must survive an allowed accept */
        int c;
        if (mode == 0) {
            c = accept(w->fd, (struct sockaddr *)&ss, &len);
        } else if (mode == 1) {
            c = accept4(w->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
        } else {
            c = accept4(w->fd, NULL, NULL, 0);
            len = sizeof ss;
            if (c >= 0 && getpeername(c, (struct sockaddr *)&ss, &len) != 0) {
                len = 0;
            }
        }
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            perror("accept");
            return NULL;
        }
        if (errno != EDOM) {
            report("ERRNO-CLOBBERED", strerror(errno));
        }
        greet(c, &ss, len);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PORT THREADS|epoll [UNIX-PATH]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    int epoll_mode = strcmp(argv[2], "epoll") == 0;
    int threads = epoll_mode ? 0 : atoi(argv[2]);
    const char *pre = getenv("LD_PRELOAD");
    report("LD_PRELOAD", pre != NULL ? pre : "(unset)");

    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    int off = 0, on = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((unsigned short)port);
    a.sin6_addr = in6addr_any;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4096) != 0) {
        perror("bind/listen");
        return 1;
    }
    pthread_t t;
    struct worker *ws = calloc((size_t)threads + 1, sizeof *ws);
    for (int i = 0; i < threads; ++i) {
        ws[i].fd = fd;
        ws[i].index = i;
        pthread_create(&t, NULL, serve, &ws[i]);
    }
    if (argc > 3) {
        int u = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un un;
        memset(&un, 0, sizeof un);
        un.sun_family = AF_UNIX;
        snprintf(un.sun_path, sizeof un.sun_path, "%s", argv[3]);
        unlink(argv[3]);
        if (bind(u, (struct sockaddr *)&un, sizeof un) != 0 || listen(u, 16) != 0) {
            perror("unix bind/listen");
            return 1;
        }
        ws[threads].fd = u;
        ws[threads].index = threads;
        pthread_create(&t, NULL, serve, &ws[threads]);
    }
    report("ready", argv[1]);
    if (epoll_mode) {
        return serve_epoll(fd);
    }
    for (;;) {
        pause();
    }
}
