// SPDX-License-Identifier: BSD-3-Clause
// ringfence: turns each layer on and off, safely, and says which are on.
//
//   ringfence [--root DIR] enable|disable pam|wrap DAEMON|firewall [options]
//   ringfence [--root DIR] status
//
// Every change is checked first (the policy the layer will enforce must
// compile), idempotent, and undone by the matching `disable`. Exit codes:
// see Exit in context.h and ringfence(8).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/sync.h"
#include "core/program.h"

namespace {

using namespace ringfence::cli;

const char kUsageText[] =
    "usage: ringfence [--root DIR] [--init systemd|sysv] [-q] COMMAND\n"
    "\n"
    "  ringfence enable pam [--file FILE] [--module-options 'OPTIONS']\n"
    "  ringfence disable pam [--file FILE]\n"
    "      the pam_ringfence account line in /etc/pam.d/system-auth (FILE: a name in\n"
    "      /etc/pam.d such as password-auth, or an absolute path); OPTIONS default 'atgroup'\n"
    "  ringfence enable wrap DAEMON [--exec 'COMMAND ARGS']\n"
    "  ringfence disable wrap DAEMON\n"
    "      /etc/systemd/system/DAEMON.service.d/ringfence.conf: DAEMON started by ringfence-wrap\n"
    "  ringfence enable firewall [--firewall-program PATH]\n"
    "  ringfence disable firewall\n"
    "      ringfence-firewall.service (or the SysV script) enabled at boot\n"
    "  ringfence status\n"
    "      one line per layer: enabled or not\n"
    "  ringfence sync [--force] [--rollback | --status] [--config FILE] [--state-dir DIR]\n"
    "      fetch blocklist feeds and the signed policy bundle (ringfence-sync(8))\n"
    "  ringfence bundle make DIR [--serial N] [--valid DURATION] [--scope 'HOST @GROUP']\n"
    "      write DIR/MANIFEST for signing with minisign\n"
    "\n"
    "  --root DIR   work on the system tree under DIR (an image, a test copy); links are\n"
    "               followed inside DIR, as after chroot; nothing is run outside it except\n"
    "               'ringfence-firewall check' on its policy\n"
    "  --init X     the managed system's init: systemd or sysv (default: detected)\n"
    "  -q, --quiet  errors and warnings only\n"
    "\n"
    "Exit status: 0 done or nothing to do, 1 refused (nothing changed), 2 usage,\n"
    "3 failed (see the message), 4 must be done by hand (the steps are printed).\n";

int usage_error(const std::string& msg) {
    ringfence::core::usage_error("ringfence", msg);
    return kUsage;
}

// "--name VALUE" or "--name=VALUE". Returns true when argv[*i] is that
// option (and advances *i past its value); *missing when there is none.
bool take(int argc, char** argv, int* i, const char* name, std::string* value, bool* missing) {
    const char* a = argv[*i];
    size_t n = std::strlen(name);
    if (std::strncmp(a, name, n) != 0) {
        return false;
    }
    if (a[n] == '=') {
        *value = a + n + 1;
        return true;
    }
    if (a[n] != '\0') {
        return false;
    }
    if (*i + 1 >= argc) {
        *missing = true;
        return true;
    }
    *value = argv[++*i];
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    // sync and bundle have options of their own (ringfence-sync(8)).
    if (argc > 1 && (std::strcmp(argv[1], "sync") == 0 || std::strcmp(argv[1], "bundle") == 0)) {
        std::vector<std::string> rest(argv + 2, argv + argc);
        return std::strcmp(argv[1], "sync") == 0 ? sync_command(rest) : bundle_command(rest);
    }
    Options opts;
    std::vector<std::string> words;
    bool file_given = false;
    bool options_given = false;
    bool fw_given = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        std::string v;
        bool missing = false;
        if (a == "-h" || a == "--help") {
            std::fputs(kUsageText, stdout);
            return kOk;
        }
        if (a == "--version") {
            ringfence::core::print_version("ringfence");
            return kOk;
        }
        if (a == "-q" || a == "--quiet") {
            opts.quiet = true;
        } else if (take(argc, argv, &i, "--root", &v, &missing)) {
            if (missing || v.empty() || v[0] != '/') {
                return usage_error("--root needs an absolute directory");
            }
            opts.root = v;
        } else if (take(argc, argv, &i, "--file", &v, &missing)) {
            if (missing || v.empty()) {
                return usage_error("--file needs a file");
            }
            opts.file = v;
            file_given = true;
        } else if (take(argc, argv, &i, "--exec", &v, &missing)) {
            if (missing) {
                return usage_error("--exec needs a command");
            }
            opts.exec = v;
        } else if (take(argc, argv, &i, "--module-options", &v, &missing)) {
            if (missing) {
                return usage_error("--module-options needs a value ('' for none)");
            }
            opts.module_options = v;
            options_given = true;
        } else if (take(argc, argv, &i, "--firewall-program", &v, &missing)) {
            if (missing || v.empty() || v[0] != '/') {
                return usage_error("--firewall-program needs an absolute path");
            }
            opts.firewall_program = v;
            fw_given = true;
        } else if (take(argc, argv, &i, "--init", &v, &missing)) {
            if (v == "systemd") {
                opts.init = InitSystem::systemd;
            } else if (v == "sysv") {
                opts.init = InitSystem::sysv;
            } else {
                return usage_error("--init takes systemd or sysv");
            }
        } else if (a == "--") {
            for (++i; i < argc; ++i) {
                words.emplace_back(argv[i]);
            }
        } else if (a.size() > 1 && a[0] == '-') {
            return usage_error("unknown option '" + a + "'");
        } else {
            words.push_back(a);
        }
    }
    if (!opts.root.empty() && !local_is_directory(opts.root)) {
        return usage_error("--root " + opts.root + ": not a directory");
    }
    if (words.empty()) {
        return usage_error("no command");
    }
    const std::string& cmd = words[0];
    std::string layer = words.size() > 1 ? words[1] : "";
    bool pam = (cmd == "enable" || cmd == "disable") && layer == "pam";
    bool wrap = (cmd == "enable" || cmd == "disable") && layer == "wrap";
    bool fw = (cmd == "enable" || cmd == "disable") && layer == "firewall";
    if (file_given && !pam) {
        return usage_error("--file goes with enable pam / disable pam");
    }
    if (options_given && !(pam && cmd == "enable")) {
        return usage_error("--module-options goes with enable pam");
    }
    if (opts.exec && !(wrap && cmd == "enable")) {
        return usage_error("--exec goes with enable wrap");
    }
    if (fw_given && !(fw && cmd == "enable")) {
        return usage_error("--firewall-program goes with enable firewall");
    }

    Context ctx(opts);
    std::string open_error;
    if (!ctx.open(&open_error)) {
        std::fprintf(stderr, "ringfence: error: %s\n", open_error.c_str());
        return kFailed;
    }
    if (cmd == "status") {
        if (words.size() != 1) {
            return usage_error("status takes no argument");
        }
        std::printf("pam:      %s\n", status_pam(ctx).c_str());
        std::printf("wrap:     %s\n", status_wrap(ctx).c_str());
        std::printf("firewall: %s\n", status_firewall(ctx).c_str());
        return kOk;
    }
    if (cmd != "enable" && cmd != "disable") {
        return usage_error("unknown command '" + cmd + "'");
    }
    bool enable = cmd == "enable";
    if (pam || fw) {
        if (words.size() != 2) {
            return usage_error(cmd + " " + layer + " takes no further argument");
        }
        if (pam) {
            return enable ? enable_pam(ctx) : disable_pam(ctx);
        }
        return enable ? enable_firewall(ctx) : disable_firewall(ctx);
    }
    if (wrap) {
        if (words.size() != 3) {
            return usage_error(cmd + " wrap needs one DAEMON");
        }
        return enable ? enable_wrap(ctx, words[2]) : disable_wrap(ctx, words[2]);
    }
    return usage_error(cmd + " needs pam, wrap DAEMON or firewall");
}
