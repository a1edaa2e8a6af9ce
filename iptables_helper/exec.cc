// SPDX-License-Identifier: BSD-3-Clause
#include "iptables_helper/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <tuple>

namespace ringfence::firewall {

namespace {

int64_t now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void close_pair(int p[2]) {
    for (int i = 0; i < 2; ++i) {
        if (p[i] >= 0) {
            close(p[i]);
            p[i] = -1;
        }
    }
}

}  // namespace

std::string ExecResult::summary() const {
    const std::string& text = !error.empty() ? error : err;
    size_t start = text.find_first_not_of(" \n");
    if (start == std::string::npos) {
        return started ? "exit status " + std::to_string(status) : "did not start";
    }
    size_t end = text.find('\n', start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::vector<std::string> tool_dirs() {
    const char* env = std::getenv("RINGFENCE_FIREWALL_PATH");
    std::string list = env != nullptr && *env != '\0' ? env : "/usr/sbin:/sbin:/usr/bin:/bin";
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= list.size()) {
        size_t colon = list.find(':', start);
        std::string dir = list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!dir.empty() && dir[0] == '/') {
            out.push_back(dir);
        }
        if (colon == std::string::npos) {
            break;
        }
        start = colon + 1;
    }
    return out;
}

std::string find_tool(const std::string& name) {
    for (const std::string& dir : tool_dirs()) {
        std::string path = dir + "/" + name;
        struct stat st;
        if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0) {
            return path;
        }
    }
    return std::string();
}

ExecResult run_program(const std::vector<std::string>& argv, const std::string& input, int timeout_seconds) {
    ExecResult r;
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
        r.error = "internal error: program path is not absolute";
        return r;
    }
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        r.error = std::string("pipe: ") + std::strerror(errno);
        close_pair(in);
        close_pair(out);
        close_pair(err);
        return r;
    }
    // Everything the child needs is prepared before fork.
    std::vector<char*> args;
    for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char env_lc[] = "LC_ALL=C";
    char* envp[] = {env_path, env_lc, nullptr};

    pid_t pid = fork();
    if (pid < 0) {
        r.error = std::string("fork: ") + std::strerror(errno);
        close_pair(in);
        close_pair(out);
        close_pair(err);
        return r;
    }
    if (pid == 0) {
        // Signals blocked by the caller (the commit section) stay blocked
        // across execve; the tools get a clean mask.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        signal(SIGPIPE, SIG_DFL);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) {
            _exit(127);
        }
        execve(args[0], args.data(), envp);
        const char msg[] = "execve failed\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        _exit(127);
    }
    r.started = true;
    close(in[0]);
    close(out[1]);
    close(err[1]);
    in[0] = out[1] = err[1] = -1;
    fcntl(in[1], F_SETFL, O_NONBLOCK);

    size_t written = 0;
    if (input.empty()) {
        close(in[1]);
        in[1] = -1;
    }
    const int64_t deadline = now_ms() + int64_t(timeout_seconds) * 1000;
    bool timed_out = false;
    while (out[0] >= 0 || err[0] >= 0) {
        pollfd fds[3];
        int n = 0;
        int idx_in = -1, idx_out = -1, idx_err = -1;
        if (in[1] >= 0) {
            idx_in = n;
            fds[n++] = {in[1], POLLOUT, 0};
        }
        if (out[0] >= 0) {
            idx_out = n;
            fds[n++] = {out[0], POLLIN, 0};
        }
        if (err[0] >= 0) {
            idx_err = n;
            fds[n++] = {err[0], POLLIN, 0};
        }
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int rc = poll(fds, n, int(left > 1000 ? 1000 : left));
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (idx_in >= 0 && fds[idx_in].revents != 0) {
            ssize_t w = write(in[1], input.data() + written, input.size() - written);
            if (w > 0) {
                written += size_t(w);
            }
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
                close(in[1]);  // EPIPE: the tool stopped reading; its status says why
                in[1] = -1;
            }
        }
        for (auto [idx, fd, sink] : {std::make_tuple(idx_out, &out[0], &r.out), std::make_tuple(idx_err, &err[0], &r.err)}) {
            if (idx < 0 || fds[idx].revents == 0) {
                continue;
            }
            char buf[65536];
            ssize_t got = read(*fd, buf, sizeof buf);
            if (got > 0) {
                sink->append(buf, size_t(got));
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(*fd);
                *fd = -1;
            }
        }
    }
    if (timed_out) {
        kill(pid, SIGKILL);
        r.error = "timed out after " + std::to_string(timeout_seconds) + " s";
    }
    close_pair(in);
    close_pair(out);
    close_pair(err);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
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

}  // namespace ringfence::firewall
