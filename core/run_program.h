// SPDX-License-Identifier: BSD-3-Clause
// The one way ringfence runs another program (the netfilter tools,
// systemctl, ringfence-firewall): execve of an argument vector, never a
// shell; an environment given here, never the caller's (no LD_PRELOAD, no
// PATH with "."); a time limit; either the output captured with the input
// fed on a pipe, or the caller's terminal passed through.
#pragma once

#include <string>
#include <vector>

namespace ringfence::core {

struct ProgramResult {
    bool started = false;  // false: pipe/fork failed (see error)
    int status = -1;       // exit status; 128 + N when killed by signal N; -1 when unknown
    std::string out;       // captured stdout and stderr (ProgramIo::capture)
    std::string err;
    std::string error;     // why it did not start or finish: "timed out after N s", "waitpid: ..."
    int exec_errno = 0;    // execve failed in the child with this errno (status is then 127)
    bool ok() const { return started && status == 0; }
    // The first line of error (or err), for one-line messages.
    std::string summary() const;
};

enum class ProgramIo {
    capture,  // stdin from `input`, stdout and stderr captured
    inherit,  // the caller's stdin, stdout and stderr (flushed before the fork)
};

struct ProgramOptions {
    ProgramIo io = ProgramIo::capture;
    // capture: written to the child's stdin, then EOF. A caller that gives
    // input ignores SIGPIPE, or a program that exits unread kills it.
    std::string input;
    int timeout_seconds = 0;  // > 0: SIGKILL after that long; 0: no limit
    // The child's whole environment.
    std::vector<std::string> environment{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
};

// Runs argv[0], which must be an absolute path. The child gets an empty
// signal mask and SIGPIPE at its default (other ignored signals stay
// ignored, so a worker that ignores SIGHUP passes that on). When execve
// fails, exec_errno says why and, with capture, err is "execve failed\n".
// Never throws across fork; safe to call from a multithreaded program (the
// child only calls async-signal-safe functions).
ProgramResult run_program(const std::vector<std::string>& argv, const ProgramOptions& options);

// capture, with `input` and a time limit.
ProgramResult run_program(const std::vector<std::string>& argv, const std::string& input, int timeout_seconds);

}  // namespace ringfence::core
