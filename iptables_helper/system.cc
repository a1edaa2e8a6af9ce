// SPDX-License-Identifier: BSD-3-Clause
// The real revert timer and the commit's protections (system.h).
#include "iptables_helper/system.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "core/exit_status.h"

extern char** environ;

namespace ringfence::firewall {

namespace {

// The timer is running once its command line names the token (after
// systemd-run, if any, has exec'ed it). Waits up to 3 s.
bool timer_started(long pid, const std::string& token) {
    for (int i = 0; i < 30 && pid > 0; ++i) {
        if (is_timer(pid, token)) {
            return true;
        }
        timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, nullptr);
    }
    return false;
}

}  // namespace

bool is_timer(long pid, const std::string& token) {
    if (pid <= 0) {
        return false;
    }
    std::string path = "/proc/" + std::to_string(pid) + "/cmdline";
    FILE* f = std::fopen(path.c_str(), "re");
    if (f == nullptr) {
        return false;
    }
    std::string cmdline;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        cmdline.append(buf, n);
    }
    std::fclose(f);
    return cmdline.find("revert-timer") != std::string::npos && cmdline.find(token) != std::string::npos;
}

long SystemTimer::spawn(const std::string& token, int seconds, const std::string& via) const {
    std::string self = program_;
    if (self.empty()) {
        char buf[4096];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0) {
            return 0;
        }
        self.assign(buf, size_t(n));
    }
    std::vector<std::string> args;
    if (!via.empty()) {
        args = {via, "--scope", "--quiet", "--collect", "--unit=ringfence-firewall-revert-" + token.substr(0, 8), "--"};
    }
    for (const std::string& a : {self, std::string("--state-dir"), state_dir_, std::string("revert-timer"), token,
                                 std::to_string(seconds)}) {
        args.push_back(a);
    }
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        return 0;
    }
    pid_t child = fork();
    if (child < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return 0;
    }
    if (child == 0) {
        setsid();
        pid_t grandchild = fork();
        if (grandchild == 0) {
            long me = getpid();
            ssize_t ignored = write(pfd[1], &me, sizeof me);
            (void)ignored;
            int devnull = open("/dev/null", O_RDWR);
            if (devnull >= 0) {
                dup2(devnull, 0);
                dup2(devnull, 1);
                dup2(devnull, 2);
                if (devnull > 2) {
                    close(devnull);
                }
            }
            if (chdir("/") != 0) {
                _exit(127);
            }
            signal(SIGHUP, SIG_IGN);
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            execve(argv[0], argv.data(), environ);
            _exit(127);
        }
        _exit(grandchild < 0 ? 1 : 0);
    }
    close(pfd[1]);
    int status = 0;
    waitpid(child, &status, 0);
    long pid = 0;
    if (read(pfd[0], &pid, sizeof pid) != ssize_t(sizeof pid)) {
        pid = 0;
    }
    close(pfd[0]);
    return pid;
}

long SystemTimer::start(const std::string& token, int seconds) {
    if (access("/run/systemd/system", F_OK) == 0) {
        for (const char* path : {"/usr/bin/systemd-run", "/bin/systemd-run"}) {
            if (access(path, X_OK) == 0) {
                long pid = spawn(token, seconds, path);
                if (timer_started(pid, token)) {
                    return pid;
                }
                break;  // systemd-run failed (no D-Bus?): a plain timer below
            }
        }
    }
    long pid = spawn(token, seconds, std::string());
    return timer_started(pid, token) ? pid : 0;
}

bool SystemTimer::running(const Pending& p) const { return is_timer(p.pid, p.token); }

void SystemTimer::stop(const Pending& p) {
    if (is_timer(p.pid, p.token)) {
        kill(pid_t(p.pid), SIGTERM);
    }
}

std::string SystemTimer::new_token() {
    unsigned char bytes[12];
    if (getrandom(bytes, sizeof bytes, 0) != ssize_t(sizeof bytes)) {
        for (unsigned char& b : bytes) {
            b = static_cast<unsigned char>(std::rand());
        }
    }
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

long SystemTimer::now() const { return long(time(nullptr)); }

CriticalSection::CriticalSection() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP}) {
        sigaddset(&set, s);
    }
    sigprocmask(SIG_BLOCK, &set, &old_);
}

CriticalSection::~CriticalSection() { sigprocmask(SIG_SETMASK, &old_, nullptr); }

int in_worker(const std::function<int()>& body) {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
        return body();  // no worker: do it here
    }
    if (pid == 0) {
        setsid();
        for (int sig : {SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGTSTP, SIGTTOU, SIGTTIN}) {
            signal(sig, SIG_IGN);
        }
        int rc = body();
        std::cout.flush();
        std::cerr.flush();
        _exit(rc);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : core::kExitFailed;
}

}  // namespace ringfence::firewall
