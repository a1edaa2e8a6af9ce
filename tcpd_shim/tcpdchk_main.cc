// SPDX-License-Identifier: BSD-3-Clause
// ringfence-tcpdchk: lints /etc/hosts.allow and /etc/hosts.deny like
// tcpdchk(8), with compiler-style diagnostics (file:line:col, the line, a
// caret, a hint). It reports everything the engine refuses (those rules deny
// at run time) plus warnings for the traps libwrap falls into silently.
//
//   ringfence-tcpdchk [-a] [-d] [-i inet_conf] [-v]
//     -a  report hosts.allow rules that allow without an explicit `allow`
//     -d  use hosts.allow and hosts.deny in the current directory
//     -i  accepted for compatibility; inetd.conf is not consulted
//     -v  list every rule with the access it gives
// Exit status: 0 clean, 1 errors, 2 usage, 5 warnings and no errors.
#include <getopt.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/diagnostic.h"
#include "core/exit_status.h"
#include "core/identity.h"
#include "core/paths.h"
#include "core/program.h"
#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/hosts_explain.h"
#include "tcpd_shim/hosts_lint.h"

namespace {

using ringfence::core::Diagnostic;
using ringfence::core::Diagnostics;
namespace tcpd = ringfence::tcpd;

void print_rule(const tcpd::Rule& r) {
    std::printf(">>> Rule %s:\n", r.location().c_str());
    if (r.daemons_broken || r.clients_broken) {
        std::printf("source:   %s\n", ringfence::core::escape_for_log(r.source, 400).c_str());
    } else {
        std::printf("daemons:  %s\n", tcpd::list_text(r.daemons).c_str());
        std::printf("clients:  %s\n", tcpd::list_text(r.clients).c_str());
    }
    bool grant = r.file_kind == tcpd::FileKind::allow;
    if (!r.broken) {
        for (const tcpd::Option& o : r.options) {
            std::string v = o.value.empty() ? "" : " " + o.value;
            std::printf("option:   %s%s\n", tcpd::option_name(o.kind),
                        ringfence::core::escape_for_log(v, 400).c_str());
            if (o.kind == tcpd::Option::Kind::allow) {
                grant = true;
            } else if (o.kind == tcpd::Option::Kind::deny) {
                grant = false;
            }
        }
    }
    if (r.broken) {
        std::printf("access:   denied (the rule has an error: %s)\n",
                    ringfence::core::escape_for_log(r.error, 200).c_str());
    } else {
        std::printf("access:   %s\n", grant ? "granted" : "denied");
    }
    std::printf("\n");
}

const char kProgram[] = "ringfence-tcpdchk";
const char kUsage[] =
    "usage: ringfence-tcpdchk [-a] [-d] [-i inet_conf] [-v]\n"
    "Checks /etc/hosts.allow and /etc/hosts.deny: errors (rules that refuse at run time)\n"
    "and warnings (legal but likely wrong), as file:line:col with a hint.\n"
    "  -a  report hosts.allow rules that allow without an explicit 'allow'\n"
    "  -d  use hosts.allow and hosts.deny in the current directory\n"
    "  -i  accepted for compatibility; inetd.conf is not consulted\n"
    "  -v  list every rule with the access it gives\n"
    "  -h, --help     this text\n"
    "  --version      the version\n"
    "Exit status: 0 clean, 1 errors, 2 usage, 5 warnings and no errors.\n";

}  // namespace

int main(int argc, char** argv) {
    bool implicit_allow = false;
    bool here = false;
    bool verbose = false;
    static const struct option long_opts[] = {
        {"help", no_argument, nullptr, 'h'}, {"version", no_argument, nullptr, 'V'}, {nullptr, 0, nullptr, 0}};
    opterr = 0;  // our own one-line messages
    int opt;
    while ((opt = getopt_long(argc, argv, "adi:vh", long_opts, nullptr)) != -1) {
        switch (opt) {
            case 'h':
                std::fputs(kUsage, stdout);
                return ringfence::core::kExitOk;
            case 'V':
                ringfence::core::print_version(kProgram);
                return ringfence::core::kExitOk;
            case 'a':
                implicit_allow = true;
                break;
            case 'd':
                here = true;
                break;
            case 'i':
                break;  // tcpdchk cross-checks inetd.conf; ringfence does not (xinetd is not inetd.conf)
            case 'v':
                verbose = true;
                break;
            default:
                return ringfence::core::usage_error(kProgram,
                                                    ringfence::core::option_error(argv[optind - 1], optopt, "adi:vh"));
        }
    }
    if (optind != argc) {
        return ringfence::core::usage_error(kProgram, "unexpected argument '" +
                                                          ringfence::core::escape_for_log(argv[optind]) + "'");
    }
    const std::string allow_path = here ? "hosts.allow" : ringfence::core::kHostsAllow;
    const std::string deny_path = here ? "hosts.deny" : ringfence::core::kHostsDeny;
    tcpd::HostsFile allow = tcpd::read_hosts_file(allow_path);
    tcpd::HostsFile deny = tcpd::read_hosts_file(deny_path);
    Diagnostics diags;
    auto policy = tcpd::Policy::compile(allow, deny, tcpd::CompileOptions(), &diags);

    tcpd::LintOptions lint_options;
    lint_options.implicit_allow = implicit_allow;
    ringfence::core::SystemIdentity identity;
    lint_options.identity = &identity;
    lint_options.is_directory = [](const std::string& path) {
        struct stat st {};
        return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    };
    Diagnostics lint_diags = tcpd::lint(*policy, allow, deny, lint_options);
    diags.insert(diags.end(), lint_diags.begin(), lint_diags.end());
    tcpd::sort_diagnostics(&diags, allow_path, deny_path);

    if (verbose) {
        for (const tcpd::Rule& r : policy->rules()) {
            if (r.line > 0) {
                print_rule(r);
            }
        }
    }
    for (const Diagnostic& d : diags) {
        std::fputs(d.full().c_str(), stdout);
    }
    if (!allow.exists && !deny.exists) {
        // Same decision as libwrap (every client allowed), but said.
        std::printf("note: neither %s nor %s exists: every client is allowed\n", allow_path.c_str(),
                    deny_path.c_str());
    }
    if (ringfence::core::has_errors(diags)) {
        return ringfence::core::kExitInvalid;
    }
    bool warnings = std::any_of(diags.begin(), diags.end(),
                                [](const Diagnostic& d) { return d.severity == ringfence::core::Severity::warning; });
    return warnings ? ringfence::core::kExitWarnings : ringfence::core::kExitOk;
}
