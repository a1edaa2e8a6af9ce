// SPDX-License-Identifier: BSD-3-Clause
// ringfence-firewall: checks, renders and applies a firewall.conf policy
// atomically, with a confirmation timer, rollback, drift status and a boot
// mode that falls back to the last good ruleset. See ringfence-firewall(8).
// The program reads options and the policy, refuses when firewalld runs or
// the SSH session would be cut, and prints what the library says: check
// (lint.h), explain (evaluate.h), the transactions (transaction.h, on the
// real system of system.h), the loading itself (applier.h).
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "core/config_file.h"
#include "core/exit_status.h"
#include "core/paths.h"
#include "core/program.h"
#include "iptables_helper/applier.h"
#include "iptables_helper/apply_file.h"
#include "iptables_helper/evaluate.h"
#include "iptables_helper/lint.h"
#include "iptables_helper/render.h"
#include "iptables_helper/render_nft.h"
#include "iptables_helper/status.h"
#include "iptables_helper/system.h"
#include "iptables_helper/transaction.h"


namespace fw = ringfence::firewall;
namespace core = ringfence::core;

namespace {

constexpr const char* kDefaultFile = core::kFirewallConf;
constexpr const char* kDefaultState = core::kFirewallStateDir;
constexpr int kLockSeconds = 30;


struct Options {
    std::string command;
    std::string file;
    bool file_given = false;
    std::string backend;
    std::string state_dir;
    std::string family;
    bool force = false;
    bool quiet = false;
    int confirm = 0;
    std::vector<std::string> extra;  // revert-timer arguments
};

const char* kUsageText =
    "usage: ringfence-firewall [OPTIONS] COMMAND [FILE]\n"
    "commands:\n"
    "  check [FILE]              check the policy; errors as FILE:LINE:COL\n"
    "  render [FILE]             print what apply would load (--family v4|v6|ipset|nft)\n"
    "  explain ADDR PROTO/PORT [FILE]\n"
    "                            what a new connection from ADDR to PROTO/PORT meets, and the line\n"
    "                            that decides it\n"
    "  apply [FILE]              load the policy atomically (--confirm SECONDS, --force)\n"
    "  confirm                   keep what `apply --confirm` loaded\n"
    "  rollback                  load the previous ringfence ruleset again\n"
    "  status [FILE]             compare the live rules with what was applied (exit 1 on drift)\n"
    "  flush                     remove ringfence's chains, hooks and sets, nothing else\n"
    "  boot [FILE]               apply at boot; on failure the last good ruleset\n"
    "  backend                   show the tools found and the backend `auto` picks\n"
    "options:\n"
    "  --backend auto|iptables|nft   (RINGFENCE_FIREWALL_BACKEND)\n"
    "  --state-dir DIR               default /var/lib/ringfence/firewall (RINGFENCE_FIREWALL_STATE)\n"
    "  --confirm SECONDS             revert by itself unless confirmed in time (1..86400)\n"
    "  --force                       apply even if it cuts the SSH session this runs from,\n"
    "                                or SSH_CONNECTION cannot be read\n"
    "  --family v4|v6|ipset|nft      render one part only\n"
    "  -q, --quiet                   print errors only\n"
    "FILE defaults to /etc/ringfence/firewall.conf. See ringfence-firewall(8).\n";

bool g_quiet = false;

void say(const std::string& text) {
    if (!g_quiet) {
        std::cout << "ringfence-firewall: " << text << "\n" << std::flush;
    }
}

void complain(const std::string& text) { std::cerr << "ringfence-firewall: " << text << "\n" << std::flush; }

void log_line(int priority, const std::string& text) {
    syslog(priority, "%s", core::escape_for_log(text, 900).c_str());
}

std::optional<Options> parse_args(int argc, char** argv) {
    Options o;
    if (const char* b = std::getenv("RINGFENCE_FIREWALL_BACKEND")) {
        o.backend = b;
    }
    const char* st = std::getenv("RINGFENCE_FIREWALL_STATE");
    o.state_dir = st != nullptr && *st != '\0' ? st : kDefaultState;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* name) -> std::optional<std::string> {
            if (i + 1 >= argc) {
                complain(std::string(name) + " needs a value");
                return std::nullopt;
            }
            return std::string(argv[++i]);
        };
        if (a == "-h" || a == "--help") {
            std::cout << kUsageText;
            std::exit(core::kExitOk);
        } else if (a == "--version") {
            core::print_version("ringfence-firewall");
            std::exit(core::kExitOk);
        } else if (a == "--backend") {
            auto v = value("--backend");
            if (!v) return std::nullopt;
            o.backend = *v;
        } else if (a == "--state-dir") {
            auto v = value("--state-dir");
            if (!v) return std::nullopt;
            o.state_dir = *v;
        } else if (a == "--family") {
            auto v = value("--family");
            if (!v) return std::nullopt;
            o.family = *v;
            if (o.family != "v4" && o.family != "v6" && o.family != "ipset" && o.family != "nft") {
                complain("--family: expected v4, v6, ipset or nft, got `" + o.family + "`");
                return std::nullopt;
            }
        } else if (a == "--confirm") {
            auto v = value("--confirm");
            if (!v) return std::nullopt;
            char* end = nullptr;
            long n = std::strtol(v->c_str(), &end, 10);
            if (v->empty() || *end != '\0' || n < 1 || n > 86400) {
                complain("--confirm: expected a number of seconds from 1 to 86400, got `" + *v + "`");
                return std::nullopt;
            }
            o.confirm = int(n);
        } else if (a == "--force") {
            o.force = true;
        } else if (a == "-q" || a == "--quiet") {
            o.quiet = true;
        } else if (a.size() > 1 && a[0] == '-' && a != "-") {
            complain("unknown option `" + a + "`");
            return std::nullopt;
        } else {
            positional.push_back(a);
        }
    }
    if (positional.empty()) {
        complain("no command given");
        return std::nullopt;
    }
    o.command = positional[0];
    static const std::vector<std::string> with_file = {"check", "render", "apply", "status", "boot"};
    static const std::vector<std::string> without = {"confirm", "rollback", "flush", "backend"};
    bool takes_file = std::find(with_file.begin(), with_file.end(), o.command) != with_file.end();
    bool plain = std::find(without.begin(), without.end(), o.command) != without.end();
    if (o.command == "revert-timer") {
        o.extra.assign(positional.begin() + 1, positional.end());
        return o;
    }
    if (o.command == "explain") {
        if (positional.size() < 3 || positional.size() > 4) {
            complain("explain takes ADDRESS PROTO/PORT [FILE], like: explain 10.1.2.3 tcp/22");
            return std::nullopt;
        }
        o.extra.assign(positional.begin() + 1, positional.begin() + 3);
        o.file_given = positional.size() == 4;
        o.file = o.file_given ? positional[3] : kDefaultFile;
        return o;
    }
    if (!takes_file && !plain) {
        complain("unknown command `" + o.command + "`");
        return std::nullopt;
    }
    if (positional.size() > (takes_file ? 2u : 1u)) {
        complain("too many arguments for `" + o.command + "`");
        return std::nullopt;
    }
    if (o.confirm != 0 && o.command != "apply") {
        complain("--confirm goes with apply");
        return std::nullopt;
    }
    o.file_given = positional.size() == 2;
    o.file = o.file_given ? positional[1] : kDefaultFile;
    return o;
}

struct Loaded {
    std::shared_ptr<const fw::Policy> policy;
    std::string text;
};

// Reads and compiles; diagnostics go to stderr (and to syslog when asked).
std::optional<Loaded> load_policy(const std::string& path, bool to_syslog) {
    core::Diagnostics diags;
    core::ReadResult rr = core::read_config_file(path);
    Loaded out;
    if (rr.status == core::ReadStatus::ok) {
        out.policy = fw::Policy::compile(path, rr.text.lines, fw::CompileOptions(), &diags);
        for (const std::string& l : rr.text.lines) {
            out.text += l + "\n";
        }
    } else if (rr.status == core::ReadStatus::missing) {
        core::Diagnostic d;
        d.file = path;
        d.message = "the firewall policy does not exist";
        diags.push_back(d);
    } else {
        diags.push_back(rr.error);
    }
    for (const core::Diagnostic& d : diags) {
        std::cerr << d.full() << (d.full().empty() || d.full().back() == '\n' ? "" : "\n");
        if (to_syslog) {
            log_line(d.severity == core::Severity::error ? LOG_ERR : LOG_WARNING, d.one_line());
        }
    }
    if (!out.policy || !out.policy->valid() || core::has_errors(diags)) {
        return std::nullopt;
    }
    return out;
}

bool refuse_if_firewalld() {
    if (long pid = fw::firewalld_pid()) {
        complain("firewalld is running (pid " + std::to_string(pid) +
                 "): it manages this host's firewall and would undo or fight ringfence's rules. Use one of the "
                 "two: `systemctl disable --now firewalld` (and mask it) before using ringfence-firewall. Nothing "
                 "changed.");
        log_line(LOG_ERR, "refused: firewalld is running (pid " + std::to_string(pid) + ")");
        return true;
    }
    return false;
}

int open_state(const Options& o, fw::StateDir* state) {
    std::string error;
    if (!state->open_locked(kLockSeconds, &error)) {
        complain(error);
        return error.find("another ringfence-firewall") != std::string::npos ? core::kExitRefused : core::kExitFailed;
    }
    return core::kExitOk;
}

std::optional<fw::Backend> pick_backend(const Options& o, const fw::Tools& tools) {
    std::string why;
    std::optional<fw::Backend> b = fw::choose_backend(o.backend, tools, &why);
    if (!b) {
        complain(why + ". Nothing changed.");
    }
    return b;
}

// Prints what a transaction said, on stdout (unless --quiet), stderr and
// syslog; returns its exit status.
int report(const fw::Outcome& o) {
    for (const std::string& d : o.diagnostics) {
        std::cerr << d << "\n";
    }
    for (const std::string& p : o.problems) {
        complain(p);
    }
    for (const std::string& s : o.said) {
        say(s);
    }
    for (const auto& [level, text] : o.log) {
        log_line(level == fw::LogLevel::notice ? LOG_NOTICE : level == fw::LogLevel::warning ? LOG_WARNING : LOG_ERR,
                 text);
    }
    return o.status;
}

// A transaction's body, in a worker (system.h) with the terminal's signals
// blocked: it runs to its end.
int transact(const std::function<fw::Outcome()>& body) {
    return fw::in_worker([&]() {
        fw::CriticalSection critical;
        return report(body());
    });
}

// Syntax, then lint (lint.h): errors exit 1, warnings only exit 5.
int cmd_check(const Options& o) {
    fw::CheckReport r = fw::check_file(o.file);
    for (const core::Diagnostic& d : r.diagnostics) {
        std::cerr << d.full() << (d.full().empty() || d.full().back() == '\n' ? "" : "\n");
    }
    if (r.exit_status() == core::kExitInvalid) {
        return core::kExitInvalid;
    }
    std::string verdict = r.warnings == 0 ? "OK"
                                          : std::to_string(r.warnings) + (r.warnings == 1 ? " warning" : " warnings");
    std::cout << o.file << ": " << verdict << " (" << r.counts() << ")\n";
    return r.exit_status();
}

// What the policy does with one new inbound connection, and which line
// decides: computed from the model in the renderers' order, as the SSH
// lockout check does. Exit 0 whatever the verdict (as tcpdmatch).
int cmd_explain(const Options& o) {
    std::optional<core::IpAddress> peer = core::IpAddress::parse(o.extra[0]);
    std::string why;
    auto spec = fw::parse_connection_spec(o.extra[1], &why);
    if (!peer) {
        complain("explain: `" + core::escape_for_log(o.extra[0]) + "` is not an IPv4 or IPv6 address");
        std::cerr << "Try 'ringfence-firewall --help' for more information.\n";
        return core::kExitUsage;
    }
    if (!spec) {
        complain("explain: " + why);
        std::cerr << "Try 'ringfence-firewall --help' for more information.\n";
        return core::kExitUsage;
    }
    std::optional<Loaded> l = load_policy(o.file, false);
    if (!l) {
        return core::kExitInvalid;
    }
    std::cout << fw::explain_inbound(*l->policy, *peer, spec->first, spec->second) << "\n";
    return core::kExitOk;
}

int cmd_render(const Options& o) {
    std::optional<Loaded> l = load_policy(o.file, false);
    if (!l) {
        return core::kExitInvalid;
    }
    fw::Backend backend = fw::Backend::iptables;
    if (o.family == "nft") {
        backend = fw::Backend::nft;
    } else if (o.family.empty()) {
        std::string why;
        if (o.backend == "nft") {
            backend = fw::Backend::nft;
        } else if (o.backend.empty() || o.backend == "auto") {
            std::optional<fw::Backend> b = fw::choose_backend("auto", fw::detect_tools(), &why);
            backend = b.value_or(fw::Backend::iptables);
        } else if (o.backend != "iptables") {
            complain("unknown backend `" + o.backend + "` (expected auto, iptables or nft)");
            return core::kExitUsage;
        }
    }
    fw::Bundle b = fw::make_bundle(*l->policy, backend, l->text);
    if (backend == fw::Backend::nft) {
        std::cout << b.nft;
    } else if (o.family == "v4") {
        std::cout << b.v4;
    } else if (o.family == "v6") {
        std::cout << b.v6;
    } else if (o.family == "ipset") {
        std::cout << b.ipset;
    } else {
        std::cout << "# ringfence-firewall: ipset input (ipset restore)\n" << b.ipset << b.v4 << b.v6;
    }
    return core::kExitOk;
}

int cmd_apply(const Options& o) {
    fw::ApplyRequest req;
    req.file = o.file;
    req.backend = o.backend;
    req.state_dir = o.state_dir;
    req.force = o.force;
    req.confirm = o.confirm;
    const char* ssh = std::getenv("SSH_CONNECTION");
    req.ssh_connection = ssh != nullptr ? ssh : "";
    req.under_sudo = std::getenv("SUDO_USER") != nullptr;
    req.lock_seconds = kLockSeconds;
    fw::FileApply apply(req);
    fw::Outcome prepared = apply.prepare();
    if (int rc = report(prepared)) {
        return rc;
    }
    return transact([&]() { return apply.run(); });
}

int cmd_confirm(const Options& o) {
    fw::StateDir state(o.state_dir);
    if (int rc = open_state(o, &state)) {
        return rc;
    }
    fw::Tools tools;
    fw::SystemTimer timer(o.state_dir);
    return report(fw::Transaction(state, tools, timer).confirm());
}

// Runs one step of the transaction on the locked state directory with the
// tools found on this host.
template <typename Step>
int with_transaction(const Options& o, Step step) {
    fw::StateDir state(o.state_dir);
    if (int rc = open_state(o, &state)) {
        return rc;
    }
    fw::Tools tools = fw::detect_tools();
    fw::SystemTimer timer(o.state_dir);
    fw::Transaction tx(state, tools, timer);
    return transact([&]() { return step(tx); });
}

int cmd_rollback(const Options& o) {
    return with_transaction(o, [](fw::Transaction& tx) { return tx.rollback("by request"); });
}

int cmd_revert_timer(const Options& o) {
    if (o.extra.size() != 2) {
        return core::kExitUsage;
    }
    signal(SIGHUP, SIG_IGN);
    const std::string token = o.extra[0];
    const long seconds = std::atol(o.extra[1].c_str());
    timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += seconds;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
    }
    fw::StateDir state(o.state_dir);
    std::string error;
    if (!state.open_locked(kLockSeconds * 4, &error)) {
        log_line(LOG_ERR, "revert timer: " + error);
        return core::kExitFailed;
    }
    fw::Tools tools = fw::detect_tools();
    fw::SystemTimer timer(o.state_dir);
    fw::CriticalSection critical;
    return report(fw::Transaction(state, tools, timer).revert(token, seconds));
}

int cmd_status(const Options& o) {
    fw::StateDir state(o.state_dir);
    if (int rc = open_state(o, &state)) {
        return rc;
    }
    fw::StatusReport r = fw::firewall_status(state, fw::detect_tools(), o.file_given ? o.file : "");
    if (!r.applied) {
        complain(r.error);
        return core::kExitInvalid;
    }
    for (const core::Diagnostic& d : r.file_diags) {
        std::cerr << d.full() << (d.full().empty() || d.full().back() == '\n' ? "" : "\n");
    }
    std::cout << "backend: " << fw::backend_name(r.backend) << "\n";
    std::cout << "applied: " << (r.backend == fw::Backend::none ? "(no ringfence rules)" : r.source) << "\n";
    if (!r.live_diff.empty()) {
        std::cout << "drift: the live rules differ from what was applied (- applied, + live):\n" << r.live_diff;
    }
    switch (r.file) {
        case fw::StatusReport::File::missing:
            std::cout << "note: " << r.file_path << " no longer exists\n";
            break;
        case fw::StatusReport::File::changed:
            std::cout << "changed: " << r.file_path << " differs from the applied policy; run `ringfence-firewall apply "
                      << r.file_path << "`\n";
            break;
        case fw::StatusReport::File::invalid:
            std::cout << "invalid: " << r.file_path << " has errors (see above); the applied policy stays\n";
            break;
        case fw::StatusReport::File::same:
        case fw::StatusReport::File::not_checked:
            break;
    }
    if (r.pending) {
        if (r.pending_timer_alive) {
            std::cout << "pending: not confirmed; the previous ruleset comes back at " << fw::clock_time(r.pending->deadline)
                      << " unless `ringfence-firewall confirm`\n";
        } else {
            std::cout << "pending: not confirmed, and the revert timer (pid " << r.pending->pid
                      << ") is gone: run `ringfence-firewall confirm` or `ringfence-firewall rollback` now\n";
        }
    }
    std::cout << (r.drift() ? "drift\n" : "in sync\n");
    return r.drift() ? core::kExitInvalid : core::kExitOk;
}

int cmd_flush(const Options& o) {
    return with_transaction(o, [](fw::Transaction& tx) { return tx.flush(); });
}

int cmd_boot(const Options& o) {
    std::string failure;
    std::optional<Loaded> l = load_policy(o.file, true);
    if (!l) {
        failure = o.file + " has errors";
    } else if (refuse_if_firewalld()) {
        return core::kExitRefused;
    }
    fw::Tools tools = fw::detect_tools();
    fw::StateDir state(o.state_dir);
    if (int rc = open_state(o, &state)) {
        log_line(LOG_ERR, "boot: state directory " + o.state_dir + " unusable; nothing applied");
        return rc;
    }
    std::optional<fw::Bundle> bundle;
    std::string done;
    if (failure.empty() && !state.pending()) {
        std::optional<fw::Backend> backend = pick_backend(o, tools);
        if (!backend) {
            failure = "no usable backend";
        } else {
            bundle = fw::make_bundle(*l->policy, *backend, l->text);
            done = "applied " + o.file + " at boot (" + fw::describe_backend(*backend, tools) +
                   "): " + fw::summary_of(*bundle);
        }
    }
    fw::SystemTimer timer(o.state_dir);
    fw::Transaction tx(state, tools, timer);
    return transact([&]() { return tx.boot(bundle, failure, o.file, done); });
}

int cmd_backend(const Options& o) {
    fw::Tools t = fw::detect_tools();
    auto show = [](const char* name, const std::string& path, const std::string& version) {
        std::cout << "  " << name << ": " << (path.empty() ? "missing" : path)
                  << (version.empty() ? "" : "  (" + version + ")") << "\n";
    };
    std::cout << "tools:\n";
    show("iptables", t.iptables, t.iptables_version);
    show("ip6tables", t.ip6tables, "");
    show("iptables-restore", t.iptables_restore, "");
    show("ip6tables-restore", t.ip6tables_restore, "");
    show("ipset", t.ipset, t.ipset_version);
    show("nft", t.nft, t.nft_version);
    std::string why;
    std::optional<fw::Backend> b = fw::choose_backend(o.backend, t, &why);
    if (!b) {
        std::cout << "backend: none (" << why << ")\n";
        return core::kExitFailed;
    }
    std::cout << "backend: " << fw::describe_backend(*b, t) << "\n";
    fw::StateDir state(o.state_dir);
    if (std::optional<fw::Bundle> active = state.read("active")) {
        std::cout << "last applied with: " << fw::backend_name(active->backend) << "\n";
    }
    return core::kExitOk;
}

int run(int argc, char** argv) {
    std::optional<Options> o = parse_args(argc, argv);
    if (!o) {
        // The reason is already printed, on one line: point to --help
        // rather than print the whole usage.
        std::cerr << "Try 'ringfence-firewall --help' for more information.\n";
        return core::kExitUsage;
    }
    g_quiet = o->quiet;
    const std::string& c = o->command;
    if (c == "check") return cmd_check(*o);
    if (c == "render") return cmd_render(*o);
    if (c == "explain") return cmd_explain(*o);
    if (c == "apply") return cmd_apply(*o);
    if (c == "confirm") return cmd_confirm(*o);
    if (c == "rollback") return cmd_rollback(*o);
    if (c == "status") return cmd_status(*o);
    if (c == "flush") return cmd_flush(*o);
    if (c == "boot") return cmd_boot(*o);
    if (c == "backend") return cmd_backend(*o);
    if (c == "revert-timer") return cmd_revert_timer(*o);
    return core::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);  // a tool that stops reading its input fails by status, not by killing us
    umask(077);
    openlog("ringfence-firewall", LOG_PID, LOG_DAEMON);
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        complain(std::string("internal error: ") + e.what());
    } catch (...) {
        complain("internal error");
    }
    return core::kExitFailed;
}
