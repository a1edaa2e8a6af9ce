// SPDX-License-Identifier: BSD-3-Clause
#include "cli/lint.h"

#include <cstdio>

#include "cli/audit_report.h"
#include "cli/cross_layer.h"
#include "cli/pam_flow.h"
#include "cli/policies.h"
#include "core/exit_status.h"
#include "core/identity.h"
#include "core/name_service.h"
#include "core/paths.h"
#include "pam_module/access_lint.h"
#include "tcpd_shim/hosts_lint.h"

namespace ringfence::cli {

namespace {

constexpr size_t kMaxPamFile = 1u << 20;


void add(core::Diagnostics* to, const core::Diagnostics& from) { to->insert(to->end(), from.begin(), from.end()); }

core::Diagnostic file_error(const std::string& file, const std::string& message) {
    core::Diagnostic d;
    d.file = file;
    d.message = message;
    return d;
}

}  // namespace

int run_lint(const Context& ctx, const LintOptions& options) {
    core::Diagnostics all;
    Layers layers;

    // PAM: the account stack of each console service.
    pam::ReadPamFile read = [&ctx](const std::string& path, std::string* error) -> std::optional<std::string> {
        FileContent c;
        ReadOutcome r = read_file(ctx, path, core::FinalLink::follow, kMaxPamFile, &c, error);
        if (r == ReadOutcome::missing) {
            error->clear();
        }
        return r == ReadOutcome::ok ? std::optional<std::string>(c.bytes) : std::nullopt;
    };
    std::vector<pam::AccountFlow> flows;
    std::vector<std::string> with_ringfence;
    const pam::FlowLine* first = nullptr;
    for (const std::string& service : pam::console_services()) {
        flows.push_back(pam::account_flow(service, read));
        for (const std::string& f : pam::files_with_ringfence(flows.back())) {
            with_ringfence.push_back(f);
        }
    }
    for (const pam::AccountFlow& flow : flows) {
        add(&all, flow.diags);
        if (!with_ringfence.empty()) {
            add(&all, pam::lint_account_flow(flow, with_ringfence));
        }
        for (const pam::FlowLine& l : flow.lines) {
            if (first == nullptr && l.line.module_name() == "pam_ringfence.so") {
                first = &l;
            }
        }
        if (flow.service == "sshd") {
            layers.sshd_runs_ringfence = !pam::files_with_ringfence(flow).empty() || with_ringfence.empty();
        }
    }

    // access.conf, read with the options of the first pam_ringfence line
    // (else the module's defaults).
    access::ModuleOptions m =
        first != nullptr ? access::parse_module_options(first->line.args) : access::ModuleOptions();
    std::string err;
    std::optional<AccessPolicy> ap = load_access_policy(ctx, m, &err);
    core::SystemIdentity identity;
    core::NoNameService no_dns;
    if (!ap) {
        all.push_back(file_error(m.accessfile, err));
    } else {
        add(&all, ap->diags);
        if (ap->valid()) {
            access::Environment env{identity, no_dns};
            access::LintOptions lo;
            lo.main_file = ap->main_file;
            // Under --root the tree's users are not this machine's.
            lo.check_names = !ctx.has_root();
            add(&all, access::lint(*ap->policy, env, lo));
            layers.access = ap->policy.get();
        }
        if (!ctx.has_root() && ap->policy) {
            // This machine's files: the clean ones get their checked stamps,
            // so that the module need not check them whole at the next login
            // (where it may not write them itself, under SELinux).
            std::vector<std::pair<std::string, core::FileStamp>> files;
            for (const core::ConfigText& f : ap->source.files) {
                files.emplace_back(f.path, f.stamp);
            }
            access::record_checked_stamps(*ap->policy, files, m.parse);
        }
    }

    // hosts.allow / hosts.deny.
    std::optional<HostsPolicy> hosts = load_hosts_policy(ctx, &all, &err);
    if (!hosts) {
        all.push_back(file_error(core::kHostsAllow, err));
    } else if (hosts->policy) {
        // What ringfence-tcpdchk warns about (users and groups of options
        // only on this machine: under --root the tree's are not ours).
        tcpd::LintOptions to;
        to.identity = ctx.has_root() ? nullptr : &identity;
        add(&all, tcpd::lint(*hosts->policy, hosts->allow, hosts->deny, to));
        if (hosts->valid()) {
            layers.hosts = hosts->policy.get();
        }
        if (!ctx.has_root()) {
            hosts->policy->record_checked_stamps(hosts->allow, hosts->deny);
        }
    }

    // firewall.conf and its sets, as `ringfence-firewall check` sees them.
    bool fw_missing = false;
    std::optional<firewall::CheckReport> fw = check_firewall_policy(ctx, &fw_missing, &err);
    if (fw) {
        add(&all, fw->diagnostics);
        if (fw->errors == 0 && fw->policy && fw->policy->valid()) {
            layers.firewall = fw->policy.get();
        }
    } else if (!fw_missing) {
        all.push_back(file_error(kFirewallPolicy, err));
    }

    for (const WrappedProgram& w : wrapped_daemons(ctx)) {
        layers.wrapped.push_back(w.daemon);
    }
    layers.daemons = console_daemons(ctx);
    add(&all, cross_layer_findings(layers));

    size_t errors = 0, warnings = 0;
    for (const core::Diagnostic& d : all) {
        errors += d.severity == core::Severity::error;
        warnings += d.severity == core::Severity::warning;
    }
    if (options.json) {
        std::string out = "{\"errors\":" + std::to_string(errors) + ",\"warnings\":" + std::to_string(warnings) +
                          ",\"diagnostics\":[";
        for (size_t i = 0; i < all.size(); ++i) {
            const core::Diagnostic& d = all[i];
            out += i == 0 ? "" : ",";
            out += "{\"file\":" + audit::json_string(d.file) + ",\"line\":" + std::to_string(d.line) +
                   ",\"column\":" + std::to_string(d.column) + ",\"severity\":\"" + core::severity_name(d.severity) +
                   "\",\"message\":" + audit::json_string(d.message) + ",\"hint\":" + audit::json_string(d.hint) +
                   "}";
        }
        std::fputs((out + "]}\n").c_str(), stdout);
    } else {
        for (const core::Diagnostic& d : all) {
            std::fputs(d.full().c_str(), stdout);
        }
        std::printf("ringfence lint: %zu error%s, %zu warning%s\n", errors, errors == 1 ? "" : "s", warnings,
                    warnings == 1 ? "" : "s");
    }
    return errors > 0 ? core::kExitInvalid : warnings > 0 ? core::kExitWarnings : core::kExitOk;
}

}  // namespace ringfence::cli
