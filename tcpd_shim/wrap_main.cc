// SPDX-License-Identifier: BSD-3-Clause
// ringfence-wrap: starts a standalone daemon with libringfence-preload.so,
// which applies hosts.allow / hosts.deny to every TCP connection the daemon
// accepts. The policy is compiled here first: a policy with errors is
// reported (file:line:col) and the daemon is not started.
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/exit_status.h"
#include "core/paths.h"
#include "core/program.h"
#include "tcpd_shim/hosts_access.h"

#ifndef RINGFENCE_PRELOAD_INSTALL_PATH
#define RINGFENCE_PRELOAD_INSTALL_PATH "/usr/lib/libringfence-preload.so"
#endif

namespace ringfence::tcpd::wrap {

namespace {

// The shell's statuses for a program that is not there or cannot run.
constexpr int kExitCannotExecute = 126;
constexpr int kExitNotFound = 127;

constexpr const char* kShimName = "libringfence-preload.so";

constexpr const char* kProgram = "ringfence-wrap";

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: ringfence-wrap [--name DAEMON] [--allow FILE] [--deny FILE] -- PROGRAM [ARGS...]\n"
                 "  Runs PROGRAM with %s preloaded: every TCP connection it accepts is\n"
                 "  checked against hosts.allow / hosts.deny (default /etc/hosts.allow, /etc/hosts.deny)\n"
                 "  under the daemon name DAEMON (default: the base name of PROGRAM).\n"
                 "  Options go before PROGRAM: everything after it is PROGRAM's own.\n"
                 "  -h, --help  this text;  --version  the version\n",
                 kShimName);
}

int usage_error(const std::string& message) { return core::usage_error(kProgram, message); }

std::string base_name(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The daemon may chdir: pass absolute file names.
std::string absolute(const std::string& path) {
    if (path.empty() || path[0] == '/') {
        return path;
    }
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == nullptr) {
        return path;
    }
    return std::string(cwd) + "/" + path;
}

// Next to this binary (build tree, relocatable installs), else the install
// path compiled in.
std::string find_shim() {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        std::string dir(self);
        size_t slash = dir.rfind('/');
        if (slash != std::string::npos) {
            std::string candidate = dir.substr(0, slash) + "/" + kShimName;
            if (access(candidate.c_str(), R_OK) == 0) {
                return candidate;
            }
        }
    }
    return RINGFENCE_PRELOAD_INSTALL_PATH;
}

struct Args {
    std::string name;
    std::string allow = ringfence::core::kHostsAllow;
    std::string deny = ringfence::core::kHostsDeny;
    std::vector<char*> program;  // argv of the daemon, null-terminated
};

// Returns -1 to go on, else the exit status.
int parse_args(int argc, char** argv, Args* a) {
    int i = 1;
    for (; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&](const char* opt, std::string* out) -> bool {
            size_t len = strlen(opt);
            if (arg == opt) {
                if (i + 1 >= argc) {
                    usage_error(std::string("option '") + opt + "' needs a value");
                    return false;
                }
                *out = argv[++i];
                return true;
            }
            if (arg.compare(0, len, opt) == 0 && arg.size() > len && arg[len] == '=') {
                *out = arg.substr(len + 1);
                return true;
            }
            usage_error("unrecognized option '" + core::escape_for_log(arg) + "'");
            return false;
        };
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return core::kExitOk;
        }
        if (arg == "--version") {
            core::print_version(kProgram);
            return core::kExitOk;
        }
        if (arg.compare(0, 6, "--name") == 0) {
            if (!value("--name", &a->name)) {
                return core::kExitUsage;
            }
        } else if (arg.compare(0, 7, "--allow") == 0) {
            if (!value("--allow", &a->allow)) {
                return core::kExitUsage;
            }
        } else if (arg.compare(0, 6, "--deny") == 0) {
            if (!value("--deny", &a->deny)) {
                return core::kExitUsage;
            }
        } else if (!arg.empty() && arg[0] == '-') {
            return usage_error("unrecognized option '" + core::escape_for_log(arg) + "'");
        } else {
            break;  // PROGRAM without "--"
        }
    }
    if (i >= argc) {
        return usage_error("no program to run: ringfence-wrap [OPTIONS] -- PROGRAM [ARGS...]");
    }
    for (; i < argc; ++i) {
        a->program.push_back(argv[i]);
    }
    a->program.push_back(nullptr);
    if (a->name.empty()) {
        a->name = base_name(a->program[0]);
    }
    if (a->allow.empty() || a->deny.empty()) {
        std::fprintf(stderr, "ringfence-wrap: --allow and --deny need a file name\n");
        return core::kExitUsage;
    }
    return -1;
}

int run(int argc, char** argv) {
    Args a;
    int status = parse_args(argc, argv, &a);
    if (status >= 0) {
        return status;
    }
    a.allow = absolute(a.allow);
    a.deny = absolute(a.deny);

    core::Diagnostics diags;
    std::shared_ptr<const Policy> policy = Policy::load(a.allow, a.deny, &diags);
    for (const core::Diagnostic& d : diags) {
        std::fputs(d.full().c_str(), stderr);
    }
    if (!policy || !policy->valid() || core::has_errors(diags)) {
        std::fprintf(stderr, "ringfence-wrap: the policy has errors; not starting %s\n", a.program[0]);
        return core::kExitInvalid;
    }

    std::string shim = find_shim();
    if (access(shim.c_str(), R_OK) != 0) {
        std::fprintf(stderr, "ringfence-wrap: cannot read %s: %s\n", shim.c_str(), strerror(errno));
        return core::kExitInvalid;
    }
    if (shim.find_first_of(" :") != std::string::npos) {
        std::fprintf(stderr, "ringfence-wrap: %s: LD_PRELOAD cannot hold a path with ' ' or ':'\n", shim.c_str());
        return core::kExitInvalid;
    }
    std::string preload = shim;
    const char* old = getenv("LD_PRELOAD");
    if (old != nullptr && *old != '\0') {
        preload += ":";
        preload += old;
    }
    if (setenv("LD_PRELOAD", preload.c_str(), 1) != 0 || setenv("RINGFENCE_DAEMON", a.name.c_str(), 1) != 0 ||
        setenv("RINGFENCE_HOSTS_ALLOW", a.allow.c_str(), 1) != 0 ||
        setenv("RINGFENCE_HOSTS_DENY", a.deny.c_str(), 1) != 0) {
        std::fprintf(stderr, "ringfence-wrap: setenv: %s\n", strerror(errno));
        return core::kExitInvalid;
    }
    std::fflush(nullptr);
    execvp(a.program[0], a.program.data());
    int err = errno;
    std::fprintf(stderr, "ringfence-wrap: cannot run %s: %s\n", a.program[0], strerror(err));
    return err == ENOENT ? kExitNotFound : kExitCannotExecute;
}

}  // namespace

}  // namespace ringfence::tcpd::wrap

int main(int argc, char** argv) {
    try {
        return ringfence::tcpd::wrap::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ringfence-wrap: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "ringfence-wrap: internal error\n");
    }
    return ringfence::core::kExitInvalid;
}
