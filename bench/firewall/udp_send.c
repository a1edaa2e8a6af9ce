// SPDX-License-Identifier: BSD-3-Clause
/* udp_send SRC DST PORT COUNT: sends COUNT small UDP datagrams from SRC to
 * DST:PORT as fast as one thread can, and prints the nanoseconds per packet.
 *
 * Used by bench/firewall/run between two network namespaces joined by a veth
 * pair: veth hands the packet to the peer namespace inside the sender's
 * send() (netif_rx, then the softirq when the sender's bottom halves are
 * re-enabled), so the receiving host's netfilter INPUT hook, the part the
 * benchmark compares, is paid inside this loop. The receiver never reads:
 * once its buffer is full, datagrams are dropped after netfilter has seen
 * them, which is what we want to time. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: udp_send SRC DST PORT COUNT\n");
        return 2;
    }
    struct sockaddr_in src, dst;
    memset(&src, 0, sizeof src);
    memset(&dst, 0, sizeof dst);
    src.sin_family = dst.sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[1], &src.sin_addr) != 1 || inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) {
        fprintf(stderr, "udp_send: bad address\n");
        return 2;
    }
    dst.sin_port = htons((unsigned short)atoi(argv[3]));
    long count = atol(argv[4]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
        perror("udp_send: socket");
        return 1;
    }
    char payload[32] = "ringfence-bench";
    long failed = 0;
    double t0 = now_ns();
    for (long i = 0; i < count; i++) {
        if (send(fd, payload, sizeof payload, 0) < 0) {
            /* ECONNREFUSED from an earlier ICMP error, ENOBUFS: the packet
             * still went through the path; count it, keep going. */
            failed++;
        }
    }
    double t1 = now_ns();
    printf("%.1f %ld\n", (t1 - t0) / (double)count, failed);
    close(fd);
    return 0;
}
