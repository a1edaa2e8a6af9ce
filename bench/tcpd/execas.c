// SPDX-License-Identifier: BSD-3-Clause
/* execas ARGV0 PROGRAM [ARGS...]: exec PROGRAM with argv[0] = ARGV0, as inetd
 * does (tcpd learns the real daemon from argv[0]). Used by both inetd-style
 * cells, so that they differ only by ringfence-tcpd's own exec. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: execas ARGV0 PROGRAM [ARGS...]\n");
        return 2;
    }
    const char* program = argv[2];
    argv[2] = argv[1];
    execv(program, argv + 2);
    perror(program);
    return 127;
}
