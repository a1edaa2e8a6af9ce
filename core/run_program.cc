// SPDX-License-Identifier: BSD-3-Clause
// Running a program without a shell (see run_program.h).
#include "core/run_program.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/rooted_path.h"

namespace ringfence::core {

namespace {

int64_t now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

struct Pipe {
    UniqueFd read;
    UniqueFd write;
    bool open() {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) {
            return false;
        }
        read.reset(p[0]);
        write.reset(p[1]);
        return true;
    }
};

// Reaps pid, polling until deadline (ms of now_ms; < 0: blocks). False
// when the deadline passed first; *error set when waitpid failed.
bool reap(pid_t pid, int64_t deadline, int* wstatus, std::string* error) {
    // The child closes its pipes a moment before it can be reaped: short
    // sleeps first (0.25 ms, doubling up to 20 ms), so that a run of many
    // short programs is not 20 ms slower per program.
    long pause_us = 250;
    for (;;) {
        pid_t got = ::waitpid(pid, wstatus, deadline < 0 ? 0 : WNOHANG);
        if (got == pid) {
            return true;
        }
        if (got < 0 && errno != EINTR) {
            *error = std::string("waitpid: ") + std::strerror(errno);
            return true;
        }
        if (got == 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) {
                return false;
            }
            const long pause = std::min<long>(pause_us, long(left) * 1000L);
            timespec ts = {0, pause * 1000L};
            ::nanosleep(&ts, nullptr);
            pause_us = std::min<long>(pause_us * 2, 20000);
        }
    }
}

}  // namespace

std::string ProgramResult::summary() const {
    const std::string& text = !error.empty() ? error : err;
    size_t start = text.find_first_not_of(" \n");
    if (start == std::string::npos) {
        return started ? "exit status " + std::to_string(status) : "did not start";
    }
    size_t end = text.find('\n', start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

ProgramResult run_program(const std::vector<std::string>& argv, const std::string& input, int timeout_seconds) {
    ProgramOptions o;
    o.input = input;
    o.timeout_seconds = timeout_seconds;
    return run_program(argv, o);
}

ProgramResult run_program(const std::vector<std::string>& argv, const ProgramOptions& options) {
    ProgramResult r;
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
        r.error = "internal error: program path is not absolute";
        return r;
    }
    const bool capture = options.io == ProgramIo::capture;
    Pipe in, out, err, status;  // status: the child's execve errno, or EOF once execve closed it
    if ((capture && (!in.open() || !out.open() || !err.open())) || !status.open()) {
        r.error = std::string("pipe: ") + std::strerror(errno);
        return r;
    }
    // Everything the child needs is prepared before fork.
    std::vector<char*> args;
    for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& e : options.environment) {
        envp.push_back(const_cast<char*>(e.c_str()));
    }
    envp.push_back(nullptr);
    if (!capture) {
        std::fflush(stdout);
        std::fflush(stderr);
    }

    pid_t pid = ::fork();
    if (pid < 0) {
        r.error = std::string("fork: ") + std::strerror(errno);
        return r;
    }
    if (pid == 0) {
        // Signals blocked by the caller (the firewall's commit section)
        // stay blocked across execve; the program gets a clean mask.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        signal(SIGPIPE, SIG_DFL);
        if (capture && (dup2(in.read.get(), 0) < 0 || dup2(out.write.get(), 1) < 0 || dup2(err.write.get(), 2) < 0)) {
            _exit(127);
        }
        execve(args[0], args.data(), envp.data());
        int e = errno;
        ssize_t ignored = write(status.write.get(), &e, sizeof e);
        (void)ignored;
        _exit(127);
    }
    r.started = true;
    in.read.reset();
    out.write.reset();
    err.write.reset();
    status.write.reset();
    if (capture) {
        fcntl(in.write.get(), F_SETFL, O_NONBLOCK);
        if (options.input.empty()) {
            in.write.reset();
        }
    }

    const std::string& input = options.input;
    size_t written = 0;
    const int64_t deadline = options.timeout_seconds > 0 ? now_ms() + int64_t(options.timeout_seconds) * 1000 : -1;
    bool timed_out = false;
    std::string exec_report;
    while (out.read || err.read || status.read) {
        pollfd fds[4];
        int n = 0;
        int idx_in = -1, idx_out = -1, idx_err = -1, idx_status = -1;
        if (in.write) {
            idx_in = n;
            fds[n++] = {in.write.get(), POLLOUT, 0};
        }
        if (out.read) {
            idx_out = n;
            fds[n++] = {out.read.get(), POLLIN, 0};
        }
        if (err.read) {
            idx_err = n;
            fds[n++] = {err.read.get(), POLLIN, 0};
        }
        if (status.read) {
            idx_status = n;
            fds[n++] = {status.read.get(), POLLIN, 0};
        }
        int wait_ms = 1000;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) {
                timed_out = true;
                break;
            }
            wait_ms = int(left > 1000 ? 1000 : left);
        }
        int rc = poll(fds, nfds_t(n), wait_ms);
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (idx_in >= 0 && fds[idx_in].revents != 0) {
            ssize_t w = write(in.write.get(), input.data() + written, input.size() - written);
            if (w > 0) {
                written += size_t(w);
            }
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
                in.write.reset();  // EPIPE: the program stopped reading; its status says why
            }
        }
        struct Sink {
            int idx;
            UniqueFd* fd;
            std::string* text;
        };
        for (const Sink& s : {Sink{idx_out, &out.read, &r.out}, Sink{idx_err, &err.read, &r.err},
                              Sink{idx_status, &status.read, &exec_report}}) {
            if (s.idx < 0 || fds[s.idx].revents == 0) {
                continue;
            }
            char buf[65536];
            ssize_t got = read(s.fd->get(), buf, sizeof buf);
            if (got > 0) {
                s.text->append(buf, size_t(got));
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                s.fd->reset();
            }
        }
    }
    if (exec_report.size() >= sizeof(int)) {
        std::memcpy(&r.exec_errno, exec_report.data(), sizeof(int));
        if (capture) {
            r.err += "execve failed\n";
        }
    }
    in.write.reset();
    out.read.reset();
    err.read.reset();
    status.read.reset();
    int wstatus = 0;
    if (!timed_out && !reap(pid, deadline, &wstatus, &r.error)) {
        timed_out = true;
    }
    if (timed_out) {
        ::kill(pid, SIGKILL);
        r.error = "timed out after " + std::to_string(options.timeout_seconds) + " s";
        std::string ignored;
        reap(pid, -1, &wstatus, &ignored);
    }
    if (!r.error.empty() && !timed_out) {
        return r;  // waitpid failed: the status is unknown
    }
    if (WIFEXITED(wstatus)) {
        r.status = WEXITSTATUS(wstatus);
    } else if (WIFSIGNALED(wstatus)) {
        r.status = 128 + WTERMSIG(wstatus);
    }
    if (timed_out && r.status == 0) {
        r.status = 128 + SIGKILL;
    }
    return r;
}

}  // namespace ringfence::core
