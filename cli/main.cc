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

#include "cli/audit.h"
#include "cli/commands.h"
#include "cli/explain.h"
#include "cli/lint.h"
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
    "  ringfence enable firewall\n"
    "  ringfence disable firewall\n"
    "      ringfence-firewall.service (or the SysV script) enabled at boot\n"
    "  ringfence status\n"
    "      one line per layer: enabled or not\n"
    "  ringfence lint [--format text|json]\n"
    "      every policy file the host uses (PAM stacks, access.conf, hosts.allow and\n"
    "      hosts.deny, firewall.conf) and what contradicts across them; exit 0 clean,\n"
    "      1 errors, 5 warnings only\n"
    "  ringfence explain --from ADDR [--user USER] [--service sshd|vmware-hostd|vmware-authd|PORT/PROTO]\n"
    "                    [--at 'Tue 21:00' | --at 'YYYY-MM-DD HH:MM'] [--tty TTY] [--format text|json]\n"
    "      the request through the firewall, TCP wrappers and pam_ringfence, each layer's\n"
    "      rule and reason, where it stops and what would have to change; no DNS;\n"
    "      exit 0 allowed, 1 denied, 3 no complete answer (an input is missing)\n"
    "  ringfence audit [--nagios | --format text|json] [--prometheus FILE]\n"
    "      is the host what its policy files say? exit 0 OK, 1 WARNING, 2 CRITICAL,\n"
    "      3 UNKNOWN (the Monitoring Plugins convention)\n"
    "  ringfence sync [--force] [--rollback | --status] [--config FILE] [--state-dir DIR]\n"
    "      fetch blocklist feeds and the signed policy bundle (ringfence-sync(8))\n"
    "  ringfence bundle make DIR [--serial N] [--valid DURATION] [--scope 'HOST @GROUP']\n"
    "      write DIR/MANIFEST for signing with minisign\n"
    "\n"
    "  --root DIR   work on the system tree under DIR (an image, a test copy); links are\n"
    "               followed inside DIR, as after chroot; nothing is run\n"
    "  --init X     the managed system's init: systemd or sysv (default: detected)\n"
    "  -q, --quiet  errors and warnings only\n"
    "\n"
    "Exit status (every ringfence program): 0 done or nothing to do, 1 a policy has\n"
    "errors (nothing changed), 2 usage, 3 failed (see the message), 4 refused or must be\n"
    "done by hand (nothing changed; the steps are printed), 5 lint: warnings only;\n"
    "explain: 1 denied, 3 no complete answer; audit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n";

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
    AuditOptions audit;
    bool audit_given = false;
    bool format_given = false;
    ExplainRequest explain;
    bool explain_given = false;
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
        } else if (take(argc, argv, &i, "--from", &v, &missing) ||
                   take(argc, argv, &i, "--user", &v, &missing) ||
                   take(argc, argv, &i, "--service", &v, &missing) || take(argc, argv, &i, "--at", &v, &missing) ||
                   take(argc, argv, &i, "--tty", &v, &missing)) {
            std::string name = a.substr(0, a.find('='));
            if (missing) {
                return usage_error(name + " needs a value");
            }
            if (name == "--from") {
                explain.from = v;
            } else if (name == "--user") {
                explain.user = v;
            } else if (name == "--service") {
                explain.service = v;
            } else if (name == "--at") {
                explain.at = v;
            } else {
                explain.tty = v;
            }
            explain_given = true;
        } else if (a == "--nagios") {
            audit.format = AuditOptions::Format::nagios;
            audit_given = true;
        } else if (take(argc, argv, &i, "--format", &v, &missing)) {
            if (v == "text") {
                audit.format = AuditOptions::Format::text;
            } else if (v == "json") {
                audit.format = AuditOptions::Format::json;
            } else {
                return usage_error("--format takes text or json");
            }
            format_given = true;
        } else if (take(argc, argv, &i, "--prometheus", &v, &missing)) {
            if (missing || v.empty() || v[0] != '/') {
                return usage_error("--prometheus needs an absolute file name");
            }
            audit.prometheus_file = v;
            audit_given = true;
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
    if (audit_given && cmd != "audit") {
        return usage_error("--nagios and --prometheus go with audit");
    }
    if (format_given && cmd != "audit" && cmd != "lint" && cmd != "explain") {
        return usage_error("--format goes with lint, explain and audit");
    }
    if (explain_given && cmd != "explain") {
        return usage_error("--from, --user, --service, --at and --tty go with explain");
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
    if (cmd == "explain") {
        if (words.size() != 1) {
            return usage_error("explain takes options only");
        }
        if (explain.from.empty()) {
            return usage_error("explain needs --from ADDR");
        }
        std::string why;
        std::optional<ExplainResult> r = explain_request(ctx, explain, &why);
        if (!r) {
            return usage_error(why);
        }
        return print_explanation(*r, audit.format == AuditOptions::Format::json);
    }
    if (cmd == "lint") {
        if (words.size() != 1) {
            return usage_error("lint takes no argument");
        }
        LintOptions lo;
        lo.json = audit.format == AuditOptions::Format::json;
        return run_lint(ctx, lo);
    }
    if (cmd == "audit") {
        if (words.size() != 1) {
            return usage_error("audit takes no argument");
        }
        return run_audit(ctx, audit);
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
