// SPDX-License-Identifier: BSD-3-Clause
/* The inetd-style daemon of the tcpd benchmark: the connection is on fd 0;
 * reads the request head, answers a small static response, exits. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char buf[4096];
    size_t have = 0;
    while (have < sizeof buf - 1) {
        ssize_t n = read(0, buf + have, sizeof buf - 1 - have);
        if (n <= 0) return 1;
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL) break;
    }
    static const char body[] =
        "<html><body><p>ringfence tcpd benchmark: a small static page of about a hundred bytes.</p></body></html>\n";
    char response[512];
    int len = snprintf(response, sizeof response,
                       "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                       sizeof body - 1, body);
    const char* p = response;
    size_t left = (size_t)len;
    while (left > 0) {
        ssize_t n = write(0, p, left);
        if (n <= 0) return 1;
        p += n;
        left -= (size_t)n;
    }
    return 0;
}
