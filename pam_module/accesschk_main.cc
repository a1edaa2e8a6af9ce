// SPDX-License-Identifier: BSD-3-Clause
// ringfence-accesschk: checks the access.conf policy that pam_ringfence.so
// would read, before it goes live (lint), and answers "would this login be
// allowed, and why?" (--explain) with the module's own reader, compiler and
// evaluator. Users and groups come from the system's name service; host
// names of --rhost are resolved as the module resolves them.
//
//   ringfence-accesschk [MODULE OPTIONS]
//   ringfence-accesschk [MODULE OPTIONS] --explain USER
//                       (--rhost HOST | --tty TTY | --service SVC) [--service SVC] [--at WHEN]
// Exit status (core/exit_status.h): lint 0 clean, 1 errors, 5 warnings only;
// explain 0 allowed, 1 denied (a policy with errors denies), 3 no answer
// (unknown user, name service failure); 2 usage.
#include <getopt.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/diagnostic.h"
#include "core/identity.h"
#include "core/name_service.h"
#include "core/program.h"
#include "core/text.h"
#include "pam_module/access_explain.h"
#include "pam_module/access_lint.h"
#include "pam_module/module_options.h"

namespace {

namespace access = ringfence::access;
namespace core = ringfence::core;
using core::escape_for_log;

using core::kExitDenied;
using core::kExitWarnings;
constexpr int kExitClean = core::kExitOk;
constexpr int kExitErrors = core::kExitInvalid;
constexpr int kExitAllowed = core::kExitOk;
constexpr int kExitNoAnswer = core::kExitFailed;

const char kProgram[] = "ringfence-accesschk";
const char kOptString[] = "f:o:e:r:t:s:a:h";
const char kUsage[] =
    "usage: ringfence-accesschk [OPTIONS]\n"
    "       ringfence-accesschk [OPTIONS] --explain USER (--rhost HOST | --tty TTY | --service SVC)\n"
    "                           [--service SVC] [--at WHEN]\n"
    "Checks the access.conf policy that pam_ringfence.so reads with the same module\n"
    "options: errors, then warnings for what is legal but likely wrong. With --explain,\n"
    "shows how the policy decides one login, rule by rule and item by item.\n"
    "  -f, --accessfile FILE       read FILE only, as the module option accessfile=FILE\n"
    "                              (default: /etc/security/access.conf and access.d/*.conf)\n"
    "  -o, --module-options OPTS   the options of the pam_ringfence.so line, e.g. 'atgroup'\n"
    "      --atgroup, --nodefgroup, --fieldsep=CHARS, --listsep=CHARS\n"
    "                              the same module options one by one\n"
    "  -e, --explain USER          explain the decision for USER (an existing user)\n"
    "  -r, --rhost HOST            ... logging in from HOST (PAM_RHOST: a name or address)\n"
    "  -t, --tty TTY               ... on TTY, with no rhost (e.g. tty1, /dev/pts/0, cron)\n"
    "  -s, --service SVC           ... to service SVC (the origin when no rhost and no tty)\n"
    "  -a, --at WHEN               ... at WHEN: 'Tue 21:00' or '2024-05-14 21:00' (local\n"
    "                              time); default: now\n"
    "  -h, --help                  this text\n"
    "      --version               the version\n"
    "Exit status: check: 0 clean, 1 errors (pam_ringfence refuses every login), 5 warnings\n"
    "only; --explain: 0 allowed, 1 denied, 3 no answer; 2 a wrong command line.\n";

int usage_error(const std::string& message) { return core::usage_error(kProgram, message); }

std::string plural(size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// What the module does with this reading before it evaluates anything,
// as diagnostics: a missing accessfile= file fails every login, a missing
// access.conf is only worth a warning (the drop-ins still apply).
void add_file_findings(const access::ModuleOptions& m, const access::LoadedPolicy& l, core::Diagnostics* out) {
    if (!l.main_missing || !l.source.ok) {
        return;
    }
    core::Diagnostic d;
    d.file = m.accessfile;
    if (m.accessfile_given) {
        d.message = "no such file: pam_ringfence fails every login (PAM_ABORT) when accessfile= names a missing file";
        d.hint = "create the file, or fix the accessfile= option";
    } else {
        d.severity = core::Severity::warning;
        d.message = "no such file: only the drop-ins in " + std::string(access::kDropinDir) + " apply";
        d.hint = "pam_ringfence logs this warning at every login";
    }
    out->push_back(std::move(d));
}

int run_lint(const access::ModuleOptions& m) {
    access::LoadedPolicy l = access::load_policy(m);
    core::Diagnostics diags = l.diags;
    add_file_findings(m, l, &diags);
    bool errors = core::has_errors(diags) || !l.policy || !l.policy->valid();
    if (!errors) {
        core::SystemIdentity identity;
        core::SystemNameService dns;
        access::Environment env{identity, dns};
        access::LintOptions options;
        options.main_file = m.accessfile;
        core::Diagnostics warnings = access::lint(*l.policy, env, options);
        diags.insert(diags.end(), warnings.begin(), warnings.end());
    }
    size_t n_errors = 0;
    size_t n_warnings = 0;
    for (const core::Diagnostic& d : diags) {
        std::fputs(d.full().c_str(), stdout);
        n_errors += d.severity == core::Severity::error;
        n_warnings += d.severity == core::Severity::warning;
    }
    size_t rules = l.policy ? l.policy->rule_count() : 0;
    std::printf("%s: %s in %s: %s, %s\n", escape_for_log(m.accessfile, 400).c_str(),
                plural(rules, "rule", "rules").c_str(), plural(l.policy ? l.policy->file_count() : 0, "file", "files").c_str(),
                plural(n_errors, "error", "errors").c_str(), plural(n_warnings, "warning", "warnings").c_str());
    if (errors) {
        std::printf("pam_ringfence refuses every login with this policy, root included; the other checks run "
                    "once the errors are fixed\n");
        return kExitErrors;
    }
    return n_warnings > 0 ? kExitWarnings : kExitClean;
}

struct ExplainArgs {
    std::string user;
    std::optional<std::string> rhost, tty, service, at;
};

int run_explain(const access::ModuleOptions& m, const ExplainArgs& a) {
    access::LoadedPolicy l = access::load_policy(m);
    core::Diagnostics diags = l.diags;
    add_file_findings(m, l, &diags);
    for (const core::Diagnostic& d : diags) {
        std::fputs(d.full().c_str(), stderr);
    }
    if (core::has_errors(diags) || !l.policy || !l.policy->valid()) {
        std::printf("verdict: denied: the policy has errors; pam_ringfence refuses every login with it, root "
                    "included\n");
        return kExitDenied;
    }

    access::Request req;
    req.rhost = a.rhost.value_or("");
    req.tty = a.tty;
    req.service = a.service.value_or("");
    if (a.at) {
        std::string why;
        std::optional<core::LocalTime> when = access::parse_request_time(*a.at, &why);
        if (!when) {
            return usage_error("--at: " + why);
        }
        req.when = *when;
    } else {
        core::SystemClock clock;
        std::optional<core::LocalTime> now = core::local_time(clock.now());
        if (!now) {
            std::fprintf(stderr, "%s: cannot read the local time; give --at\n", kProgram);
            return kExitNoAnswer;
        }
        req.when = *now;
    }

    core::SystemIdentity identity;
    core::UserInfo user;
    switch (identity.lookup_user(a.user, &user)) {
        case core::LookupStatus::found:
            break;
        case core::LookupStatus::not_found:
            std::printf("verdict: no such user '%s': pam_ringfence returns PAM_USER_UNKNOWN (the login fails "
                        "unless the PAM stack says user_unknown=ignore)\n",
                        escape_for_log(a.user).c_str());
            return kExitNoAnswer;
        case core::LookupStatus::failed:
            std::printf("verdict: denied: the name service cannot look up user '%s' (pam_ringfence refuses)\n",
                        escape_for_log(a.user).c_str());
            return kExitNoAnswer;
    }
    req.user = &user;

    core::SystemNameService dns;
    access::Environment env{identity, dns};
    access::Explanation e = access::explain(*l.policy, req, env);
    std::printf("request: %s\n", access::describe_request(req).c_str());
    std::fputs(access::format_explanation(e).c_str(), stdout);
    return e.decision.verdict == access::Verdict::deny ? kExitDenied : kExitAllowed;
}

}  // namespace

int main(int argc, char** argv) {
    enum LongOnly { kAtgroup = 256, kNodefgroup, kFieldsep, kListsep, kVersion };
    static const struct option long_opts[] = {
        {"accessfile", required_argument, nullptr, 'f'},
        {"module-options", required_argument, nullptr, 'o'},
        {"atgroup", no_argument, nullptr, kAtgroup},
        {"nodefgroup", no_argument, nullptr, kNodefgroup},
        {"fieldsep", required_argument, nullptr, kFieldsep},
        {"listsep", required_argument, nullptr, kListsep},
        {"explain", required_argument, nullptr, 'e'},
        {"rhost", required_argument, nullptr, 'r'},
        {"tty", required_argument, nullptr, 't'},
        {"service", required_argument, nullptr, 's'},
        {"at", required_argument, nullptr, 'a'},
        {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, kVersion},
        {nullptr, 0, nullptr, 0}};
    // The module's own words, in command-line order (later ones win, as in
    // a PAM line).
    std::vector<std::string> words;
    std::optional<std::string> explain_user;
    ExplainArgs ex;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, kOptString, long_opts, nullptr)) != -1) {
        switch (opt) {
            case 'f':
                if (*optarg == '\0') {
                    return usage_error("--accessfile needs a file name");
                }
                words.push_back(std::string("accessfile=") + optarg);
                break;
            case 'o':
                for (std::string& w : core::split_words(optarg)) {
                    words.push_back(std::move(w));
                }
                break;
            case kAtgroup:
                words.emplace_back("atgroup");
                break;
            case kNodefgroup:
                words.emplace_back("nodefgroup");
                break;
            case kFieldsep:
                words.push_back(std::string("fieldsep=") + optarg);
                break;
            case kListsep:
                words.push_back(std::string("listsep=") + optarg);
                break;
            case 'e':
                explain_user = optarg;
                break;
            case 'r':
                ex.rhost = optarg;
                break;
            case 't':
                ex.tty = optarg;
                break;
            case 's':
                ex.service = optarg;
                break;
            case 'a':
                ex.at = optarg;
                break;
            case 'h':
                std::fputs(kUsage, stdout);
                return 0;
            case kVersion:
                core::print_version(kProgram);
                return 0;
            default:
                return usage_error(core::option_error(argv[optind - 1], optopt, kOptString));
        }
    }
    if (optind != argc) {
        return usage_error("unexpected argument '" + escape_for_log(argv[optind]) + "'" +
                           (explain_user ? "" : " (the user to explain goes after --explain)"));
    }

    access::ModuleOptions m = access::parse_module_options(words);
    if (!m.bad_option.empty()) {
        // The module refuses every login on an option it does not know.
        return usage_error("unrecognized module option '" + escape_for_log(m.bad_option) +
                           "' (pam_ringfence would refuse every login with it)");
    }
    if (m.accessfile_given && m.accessfile.empty()) {
        return usage_error("accessfile= needs a file name");
    }

    if (!explain_user) {
        if (ex.rhost || ex.tty || ex.service || ex.at) {
            return usage_error("--rhost, --tty, --service and --at describe the login of --explain USER");
        }
        return run_lint(m);
    }
    if (explain_user->empty()) {
        return usage_error("--explain needs a user name");
    }
    if (ex.rhost && ex.tty) {
        return usage_error("give --rhost or --tty, not both (with an rhost the module never looks at the tty)");
    }
    if ((ex.rhost && ex.rhost->empty()) || (ex.tty && ex.tty->empty()) || (ex.service && ex.service->empty())) {
        return usage_error("--rhost, --tty and --service need a value");
    }
    if (!ex.rhost && !ex.tty && !ex.service) {
        return usage_error("--explain needs the origin of the login: --rhost HOST, --tty TTY or --service SVC");
    }
    ex.user = *explain_user;
    return run_explain(m, ex);
}
