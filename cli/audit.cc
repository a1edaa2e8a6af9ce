// SPDX-License-Identifier: BSD-3-Clause
#include "cli/audit.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "cli/commands.h"
#include "cli/pam_flow.h"
#include "cli/sync.h"
#include "cli/policies.h"
#include "core/atomic_file.h"
#include "core/diagnostic.h"
#include "core/paths.h"
#include "core/text.h"
#include "iptables_helper/status.h"
#include "iptables_helper/transaction.h"
#include "pam_module/access_lint.h"
#include "tcpd_shim/hosts_lint.h"

namespace ringfence::cli {

namespace {

using audit::State;
using core::escape_for_log;

constexpr size_t kMaxPamFile = 1u << 20;

// Where libpam looks for a module named without a path, on the RHEL family
// and on Debian.
const char* const kModuleDirs[] = {"/usr/lib64/security", "/lib64/security", "/usr/lib/security",
                                   "/lib/security", "/usr/lib/x86_64-linux-gnu/security",
                                   "/lib/x86_64-linux-gnu/security", "/usr/lib/aarch64-linux-gnu/security"};

pam::ReadPamFile pam_reader(const Context& ctx) {
    return [&ctx](const std::string& path, std::string* error) -> std::optional<std::string> {
        FileContent c;
        switch (read_file(ctx, path, core::FinalLink::follow, kMaxPamFile, &c, error)) {
            case ReadOutcome::ok:
                return c.bytes;
            case ReadOutcome::missing:
                error->clear();
                return std::nullopt;
            case ReadOutcome::error:
                return std::nullopt;
        }
        return std::nullopt;
    };
}

// "what is wrong" from a diagnostic, for a one-line item.
std::string short_of(const core::Diagnostic& d) { return escape_for_log(d.one_line(), 300); }

// The trust the layers require of a policy file: a regular file owned by
// root, not writable by group or others (core::read_config_file). Missing
// is fine (each layer documents what a missing file means).
void audit_one_file(const Context& ctx, const std::string& path, audit::Report* report) {
    std::string err;
    std::optional<std::string> real = resolve(ctx, path, core::FinalLink::keep, &err);
    if (!real) {
        report->add("files", path, State::critical, escape_for_log(err, 300));
        return;
    }
    core::ReadResult r = core::read_config_file(ctx.host_path(*real));
    switch (r.status) {
        case core::ReadStatus::missing:
            return;
        case core::ReadStatus::ok:
            report->add("files", path, State::ok, "root-owned, not writable by group or others");
            return;
        case core::ReadStatus::error:
            report->add("files", path, State::critical,
                        escape_for_log(r.error.message, 300) + " (the layer refuses to use it)");
            return;
    }
}

// The module file of a PAM line: its path, or the first directory of
// kModuleDirs that has it.
std::optional<std::string> module_file(const Context& ctx, const std::string& module) {
    if (!module.empty() && module[0] == '/') {
        return exists(ctx, module) ? std::optional<std::string>(module) : std::nullopt;
    }
    for (const char* dir : kModuleDirs) {
        std::string p = std::string(dir) + "/" + module;
        if (exists(ctx, p)) {
            return p;
        }
    }
    return std::nullopt;
}

}  // namespace

void audit_pam(const Context& ctx, audit::Report* report) {
    pam::ReadPamFile read = pam_reader(ctx);
    std::vector<pam::AccountFlow> flows;
    std::vector<std::string> with_ringfence;
    for (const std::string& service : pam::console_services()) {
        pam::AccountFlow flow = pam::account_flow(service, read);
        if (!flow.installed) {
            continue;
        }
        for (const std::string& f : pam::files_with_ringfence(flow)) {
            if (std::find(with_ringfence.begin(), with_ringfence.end(), f) == with_ringfence.end()) {
                with_ringfence.push_back(f);
            }
        }
        flows.push_back(std::move(flow));
    }
    if (with_ringfence.empty()) {
        report->add("pam", "account", State::warning,
                    "pam_ringfence is in the account stack of no console service (" +
                        std::to_string(flows.size()) + " checked): the account layer is off");
        return;
    }

    const pam::FlowLine* first_line = nullptr;
    for (const pam::AccountFlow& flow : flows) {
        core::Diagnostics found = pam::lint_account_flow(flow, with_ringfence);
        for (const core::Diagnostic& d : flow.diags) {
            if (d.severity == core::Severity::error) {
                found.push_back(d);
            }
        }
        const pam::FlowLine* rf = nullptr;
        for (const pam::FlowLine& l : flow.lines) {
            if (l.line.module_name() == "pam_ringfence.so") {
                rf = &l;
                break;
            }
        }
        if (found.empty() && rf != nullptr) {
            report->add("pam", flow.service, State::ok,
                        "pam_ringfence decides in the account stack (" + rf->file + ":" +
                            std::to_string(rf->line.number) + ", " + escape_for_log(rf->line.control, 80) + ")");
            first_line = first_line != nullptr ? first_line : rf;
            continue;
        }
        std::string msg = short_of(found.front());
        if (found.size() > 1) {
            msg += " (and " + std::to_string(found.size() - 1) + " more: ringfence lint)";
        }
        report->add("pam", flow.service, State::critical, msg);
        first_line = first_line != nullptr ? first_line : rf;
    }

    // The module the lines load, and the policy it enforces with the first
    // line's options.
    const pam::FlowLine* any = first_line;
    if (any == nullptr) {
        return;
    }
    std::optional<std::string> so = module_file(ctx, any->line.module);
    if (!so) {
        report->add("pam", "module", State::critical,
                    escape_for_log(any->line.module, 200) +
                        " not found: Linux-PAM fails every account stack that names it");
    } else {
        struct stat st {};
        std::string host = ctx.host_path(*so);
        if (::stat(host.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            report->add("pam", "module", State::critical, escape_for_log(*so, 200) + " is not a regular file");
        } else if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
            report->add("pam", "module", State::critical,
                        escape_for_log(*so, 200) + " is writable by others than root: whoever can write it "
                                                   "decides every login");
        } else {
            report->add("pam", "module", State::ok, escape_for_log(*so, 200) + ": root-owned, not writable by others");
        }
    }
    access::ModuleOptions m = access::parse_module_options(any->line.args);
    if (!m.bad_option.empty()) {
        report->add("pam", "policy", State::critical,
                    "unknown module option '" + escape_for_log(m.bad_option, 80) +
                        "': pam_ringfence refuses every login");
        return;
    }
    std::string err;
    std::optional<AccessPolicy> p = load_access_policy(ctx, m, &err);
    if (!p) {
        report->add("pam", "policy", State::critical, escape_for_log(err, 300));
        return;
    }
    if (!p->valid() || (m.accessfile_given && p->main_missing)) {
        std::string why = "errors";
        for (const core::Diagnostic& d : p->diags) {
            if (d.severity == core::Severity::error) {
                why = short_of(d);
                break;
            }
        }
        if (m.accessfile_given && p->main_missing) {
            why = escape_for_log(p->main_file, 200) + ": no such file";
        }
        report->add("pam", "policy", State::critical, why + ": pam_ringfence refuses every login, root included");
        return;
    }
    // Weak settings: a policy that ends without a deny allows whoever no
    // rule names.
    bool final_deny = false;
    for (const access::Rule& r : p->policy->rules()) {
        final_deny = final_deny || (!r.allow && !r.times && r.users.parts.size() == 1 &&
                                    r.origins.parts.size() == 1 && r.users.parts[0].size() == 1 &&
                                    r.origins.parts[0].size() == 1 &&
                                    r.users.parts[0][0].kind == access::Token::Kind::all &&
                                    r.origins.parts[0][0].kind == access::Token::Kind::all);
    }
    if (!final_deny) {
        report->add("pam", "policy", State::warning,
                    "no '- : ALL : ALL' rule: a login that no rule names is allowed (as pam_access)");
    } else {
        report->add("pam", "policy", State::ok,
                    std::to_string(p->policy->rules().size()) + " rules in " +
                        std::to_string(p->source.files.size()) + " file(s), ends with a deny");
    }
}

namespace {

// Processes of this host whose executable is `program`: pid and whether
// the preload library is mapped.
struct Running {
    int pid = 0;
    bool preload = false;
};

std::vector<Running> processes_of(const std::string& program) {
    std::vector<Running> out;
    // /proc/PID/exe names the file after links: a drop-in may name a link.
    char resolved[PATH_MAX];
    std::string real = ::realpath(program.c_str(), resolved) != nullptr ? resolved : program;
    DIR* d = ::opendir("/proc");
    if (d == nullptr) {
        return out;
    }
    while (struct dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') {
            continue;
        }
        std::string base = std::string("/proc/") + e->d_name;
        char buf[4096];
        ssize_t n = ::readlink((base + "/exe").c_str(), buf, sizeof buf - 1);
        if (n <= 0) {
            continue;
        }
        std::string exe(buf, static_cast<size_t>(n));
        if (exe != program && exe != real && exe != real + " (deleted)") {
            continue;
        }
        Running r;
        r.pid = std::atoi(e->d_name);
        FILE* f = std::fopen((base + "/maps").c_str(), "re");
        if (f != nullptr) {
            char line[4096];
            while (std::fgets(line, sizeof line, f) != nullptr) {
                if (std::strstr(line, "/libringfence-preload.so") != nullptr) {
                    r.preload = true;
                    break;
                }
            }
            std::fclose(f);
        }
        out.push_back(r);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(), [](const Running& a, const Running& b) { return a.pid < b.pid; });
    return out;
}

}  // namespace

void audit_wrap(const Context& ctx, audit::Report* report) {
    core::Diagnostics diags;
    std::string err;
    std::optional<HostsPolicy> hosts = load_hosts_policy(ctx, &diags, &err);
    if (!hosts) {
        report->add("wrap", "hosts", State::critical, escape_for_log(err, 300));
    } else if (!hosts->valid()) {
        std::string why = "errors";
        for (const core::Diagnostic& d : diags) {
            if (d.severity == core::Severity::error) {
                why = short_of(d);
                break;
            }
        }
        report->add("wrap", "hosts", State::critical,
                    why + " (a rule with an error denies; ringfence-wrap refuses to start a daemon)");
    } else {
        bool catch_all = false;
        for (const tcpd::Rule& r : hosts->policy->rules()) {
            catch_all = catch_all || (r.file_kind == tcpd::FileKind::deny && tcpd::matches_everything(r));
        }
        report->add("wrap", "hosts", catch_all ? State::ok : State::warning,
                    catch_all ? std::to_string(hosts->policy->rules().size()) + " rules, hosts.deny ends with ALL: ALL"
                              : "hosts.deny has no 'ALL: ALL': a client no rule names is allowed");
    }

    for (const WrappedProgram& wp : wrapped_daemons(ctx)) {
        struct {
            std::string daemon, dropin, program;
        } w{wp.daemon.name, wp.daemon.file, wp.program};
        if (wp.via == WrappedProgram::Via::tcpd) {
            report->add("wrap", w.daemon, State::ok, "run by xinetd through ringfence-tcpd (" + w.dropin + ")");
            continue;
        }
        if (ctx.has_root()) {
            report->add("wrap", w.daemon, State::ok,
                        "wrapped by " + w.dropin + " (processes are not checked under --root)");
            continue;
        }
        if (w.program.empty()) {
            report->add("wrap", w.daemon, State::critical, w.dropin + ": no '-- PROGRAM' in its ExecStart");
            continue;
        }
        std::vector<Running> procs = processes_of(w.program);
        std::string bare;
        for (const Running& r : procs) {
            if (!r.preload) {
                bare += (bare.empty() ? "" : " ") + std::to_string(r.pid);
            }
        }
        if (procs.empty()) {
            report->add("wrap", w.daemon, State::warning, escape_for_log(w.program, 200) + " is not running");
        } else if (!bare.empty()) {
            report->add("wrap", w.daemon, State::critical,
                        escape_for_log(w.program, 200) + " runs without libringfence-preload.so (pid " + bare +
                            "): its clients are not checked");
        } else {
            report->add("wrap", w.daemon, State::ok,
                        escape_for_log(w.program, 200) + " runs with libringfence-preload.so (" +
                            std::to_string(procs.size()) + " process(es))");
        }
    }
}

void audit_files(const Context& ctx, audit::Report* report) {
    std::vector<std::string> paths = {core::kAccessConf, core::kHostsAllow, core::kHostsDeny, core::kFirewallConf};
    for (const std::string& n : list_directory(ctx, access::kDropinDir)) {
        if (n.size() > 5 && n.compare(n.size() - 5, 5, ".conf") == 0 && n[0] != '.') {
            paths.push_back(std::string(access::kDropinDir) + "/" + n);
        }
    }
    for (const std::string& p : paths) {
        audit_one_file(ctx, p, report);
    }
}

void audit_firewall(const Context& ctx, audit::Report* report) {
    std::string err;
    bool missing = false;
    std::optional<firewall::CheckReport> checked = check_firewall_policy(ctx, &missing, &err);
    if (missing) {
        report->add("firewall", "policy", State::warning,
                    std::string(kFirewallPolicy) + " does not exist: the packet layer is off");
        return;
    }
    if (!checked) {
        report->add("firewall", "policy", State::critical, escape_for_log(err, 300));
        return;
    }
    if (checked->errors > 0) {
        std::string why = "errors";
        for (const core::Diagnostic& d : checked->diagnostics) {
            if (d.severity == core::Severity::error) {
                why = short_of(d);
                break;
            }
        }
        report->add("firewall", "policy", State::critical, why + ": at boot the firewall would not load it");
    } else if (checked->warnings > 0) {
        std::string first;
        for (const core::Diagnostic& d : checked->diagnostics) {
            if (d.severity == core::Severity::warning) {
                first = short_of(d);
                break;
            }
        }
        report->add("firewall", "policy", State::warning,
                    std::to_string(checked->warnings) + " warning(s), the first: " + first);
    } else {
        report->add("firewall", "policy", State::ok, checked->counts() + ", no errors or warnings");
    }

    std::string boot = status_firewall(ctx);
    report->add("firewall", "boot", boot.compare(0, 7, "enabled") == 0 ? State::ok : State::warning,
                boot.compare(0, 7, "enabled") == 0 ? boot : boot + ": nothing loads the policy at boot");

    if (ctx.has_root()) {
        report->add("firewall", "live", State::ok, "the running ruleset is not checked under --root");
        return;
    }
    const char* env = std::getenv("RINGFENCE_FIREWALL_STATE");
    std::string dir = env != nullptr && env[0] == '/' ? env : core::kFirewallStateDir;
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        report->add("firewall", "live", State::warning, "ringfence-firewall has applied nothing (no " + dir + ")");
        return;
    }
    firewall::StateDir state(dir);
    if (!state.open_locked(5, &err)) {
        report->add("firewall", "live", State::unknown, escape_for_log(err, 300));
        return;
    }
    firewall::StatusReport st_r = firewall::firewall_status(state, firewall::detect_tools(), "");
    if (!st_r.applied) {
        report->add("firewall", "live", State::warning, escape_for_log(st_r.error, 300));
        return;
    }
    if (!st_r.live_diff.empty()) {
        size_t lines = static_cast<size_t>(std::count(st_r.live_diff.begin(), st_r.live_diff.end(), '\n'));
        report->add("firewall", "live", State::critical,
                    "the running rules differ from what ringfence-firewall applied (" + std::to_string(lines) +
                        (lines == 1 ? " line" : " lines") + " differ: ringfence-firewall status)");
    } else if (st_r.pending && !st_r.pending_timer_alive) {
        report->add("firewall", "live", State::critical,
                    "an apply was never confirmed and its revert timer is gone: ringfence-firewall confirm or "
                    "rollback");
    } else if (st_r.pending) {
        report->add("firewall", "live", State::warning,
                    "an apply is not confirmed; the previous ruleset comes back at " +
                        firewall::clock_time(st_r.pending->deadline));
    } else if (st_r.file == firewall::StatusReport::File::changed) {
        report->add("firewall", "live", State::warning,
                    escape_for_log(st_r.file_path, 200) + " differs from the applied policy: ringfence-firewall apply");
    } else {
        report->add("firewall", "live", State::ok,
                    std::string("the running rules are those applied from ") + escape_for_log(st_r.source, 200) +
                        " (" + firewall::backend_name(st_r.backend) + ")");
    }
}

void audit_sync(const Context& ctx, audit::Report* report) {
    for (const SyncHealth& h : sync_health(ctx.options().root, std::time(nullptr))) {
        State st = h.state == 0 ? State::ok : h.state == 1 ? State::warning : h.state == 2 ? State::critical
                                                                                          : State::unknown;
        report->add("sync", h.check, st, escape_for_log(h.message, 300));
    }
}

int run_audit(const Context& ctx, const AuditOptions& options) {
    audit::Report report;
    audit_pam(ctx, &report);
    audit_wrap(ctx, &report);
    audit_firewall(ctx, &report);
    audit_sync(ctx, &report);
    audit_files(ctx, &report);
    switch (options.format) {
        case AuditOptions::Format::text:
            std::fputs(audit::format_text(report).c_str(), stdout);
            break;
        case AuditOptions::Format::json:
            std::fputs(audit::format_json(report).c_str(), stdout);
            break;
        case AuditOptions::Format::nagios:
            std::fputs(audit::format_nagios(report).c_str(), stdout);
            break;
    }
    int status = static_cast<int>(report.worst());
    if (!options.prometheus_file.empty()) {
        core::NewFileAttrs attrs;
        attrs.mode = 0644;
        std::string err;
        if (core::replace_file(options.prometheus_file,
                               audit::format_prometheus(report, static_cast<int64_t>(std::time(nullptr))), attrs,
                               &err) != 0) {
            std::fprintf(stderr, "ringfence: error: %s\n", err.c_str());
            return static_cast<int>(audit::State::unknown);
        }
    }
    return status;
}

}  // namespace ringfence::cli
