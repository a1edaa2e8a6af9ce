// SPDX-License-Identifier: BSD-3-Clause
#include "cli/policies.h"

namespace ringfence::cli {

std::optional<AccessPolicy> load_access_policy(const Context& ctx, const access::ModuleOptions& m,
                                               std::string* error) {
    // The module's own reader, on the paths resolved inside the tree (it
    // opens them by name; the module refuses a link as the file itself).
    std::optional<std::string> main_sys = resolve(ctx, m.accessfile, core::FinalLink::keep, error);
    std::optional<std::string> dropins = resolve(ctx, access::kDropinDir, core::FinalLink::follow, error);
    if (!main_sys || !dropins) {
        return std::nullopt;
    }
    AccessPolicy out;
    out.main_file = ctx.host_path(*main_sys);
    out.source = access::read_policy_files(out.main_file, !m.accessfile_given, ctx.host_path(*dropins));
    out.diags = out.source.diags;
    if (out.source.ok) {
        out.policy = access::Policy::compile(out.source.files, m.parse, &out.diags);
    }
    out.main_missing = out.source.files.empty() || out.source.files.front().path != out.main_file;
    return out;
}

std::optional<std::shared_ptr<const tcpd::Policy>> load_hosts_policy(const Context& ctx, core::Diagnostics* diags,
                                                                      std::string* error) {
    // The shim's own reader, on the paths resolved inside the tree (it
    // opens them by name and refuses a link as the file itself).
    std::optional<std::string> allow_path = resolve(ctx, "/etc/hosts.allow", core::FinalLink::keep, error);
    std::optional<std::string> deny_path = resolve(ctx, "/etc/hosts.deny", core::FinalLink::keep, error);
    if (!allow_path || !deny_path) {
        return std::nullopt;
    }
    tcpd::HostsFile allow = tcpd::read_hosts_file(ctx.host_path(*allow_path));
    tcpd::HostsFile deny = tcpd::read_hosts_file(ctx.host_path(*deny_path));
    tcpd::CompileOptions opts;
    opts.read_pattern_file = [&ctx](const std::string& p) {
        std::string why;
        std::optional<std::string> real =
            p.empty() || p[0] != '/' ? std::nullopt : resolve(ctx, p, core::FinalLink::keep, &why);
        if (!real) {
            core::ReadResult r;
            r.status = core::ReadStatus::error;
            r.error.file = ctx.host_path(p);
            r.error.message = why.empty() ? "not an absolute path" : why;
            return r;
        }
        return core::read_config_file(ctx.host_path(*real));
    };
    return tcpd::Policy::compile(allow, deny, opts, diags);
}

}  // namespace ringfence::cli
