// SPDX-License-Identifier: BSD-3-Clause
#include "cli/policies.h"

#include <algorithm>

#include "cli/unit_file.h"
#include "core/paths.h"
#include "core/text.h"

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

std::optional<HostsPolicy> load_hosts_policy(const Context& ctx, core::Diagnostics* diags, std::string* error) {
    // The shim's own reader, on the paths resolved inside the tree (it
    // opens them by name and refuses a link as the file itself).
    std::optional<std::string> allow_path = resolve(ctx, core::kHostsAllow, core::FinalLink::keep, error);
    std::optional<std::string> deny_path = resolve(ctx, core::kHostsDeny, core::FinalLink::keep, error);
    if (!allow_path || !deny_path) {
        return std::nullopt;
    }
    HostsPolicy out;
    out.allow = tcpd::read_hosts_file(ctx.host_path(*allow_path));
    out.deny = tcpd::read_hosts_file(ctx.host_path(*deny_path));
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
    out.policy = tcpd::Policy::compile(out.allow, out.deny, opts, diags);
    return out;
}

std::optional<firewall::CheckReport> check_firewall_policy(const Context& ctx, bool* missing, std::string* error) {
    *missing = false;
    std::optional<std::string> real = resolve(ctx, kFirewallPolicy, core::FinalLink::keep, error);
    if (!real) {
        return std::nullopt;
    }
    const std::string policy = ctx.host_path(*real);
    if (!exists(ctx, *real)) {
        *missing = true;
        return std::nullopt;
    }
    firewall::CompileOptions options;
    options.read_set_file = [&ctx](const std::string& system_path) {
        std::string why;
        std::optional<std::string> set = resolve(ctx, system_path, core::FinalLink::follow, &why);
        if (!set) {
            core::ReadResult rr;
            rr.error.file = ctx.host_path(system_path);
            rr.error.message = why;
            return rr;
        }
        return core::read_config_file(ctx.host_path(*set));
    };
    firewall::CheckReport report = firewall::check_read(*real, core::read_config_file(policy), options);
    for (core::Diagnostic& d : report.diagnostics) {
        if (d.file == *real) {
            d.file = policy;
        }
    }
    return report;
}

namespace {

constexpr size_t kMaxSmallFile = 1u << 20;

std::string base_name(const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

std::vector<WrappedProgram> wrapped_daemons(const Context& ctx) {
    std::vector<WrappedProgram> out;
    for (const std::string& n : list_directory(ctx, "/etc/systemd/system")) {
        if (n.size() <= 10 || n.compare(n.size() - 10, 10, ".service.d") != 0) {
            continue;
        }
        std::string dropin = "/etc/systemd/system/" + n + "/ringfence.conf";
        FileContent c;
        std::string err;
        if (read_file(ctx, dropin, core::FinalLink::keep, kMaxSmallFile, &c, &err) != ReadOutcome::ok ||
            c.bytes.find("ringfence-wrap") == std::string::npos) {
            continue;
        }
        WrappedProgram w;
        w.daemon.name = n.substr(0, n.size() - 10);
        w.daemon.file = dropin;
        std::vector<unit::Assignment> all;
        core::Diagnostics diags;
        unit::parse(dropin, c.bytes, &all, &diags);
        for (const unit::Assignment& a : unit::effective_list(all, "Service", "ExecStart")) {
            std::string prefix, command;
            unit::split_exec_prefix(a.value, &prefix, &command);
            std::vector<std::string> words = core::split_words(command);
            auto dashes = std::find(words.begin(), words.end(), "--");
            auto name = std::find(words.begin(), words.end(), "--name");
            if (dashes != words.end() && dashes + 1 != words.end()) {
                w.program = *(dashes + 1);
            }
            if (name != words.end() && name + 1 != words.end() && name < dashes) {
                w.daemon.name = *(name + 1);
            }
            w.daemon.line = a.line;
            w.daemon.source_line = "ExecStart=" + a.value;
        }
        out.push_back(w);
    }
    for (const std::string& n : list_directory(ctx, "/etc/xinetd.d")) {
        std::string path = "/etc/xinetd.d/" + n;
        FileContent c;
        std::string err;
        if (n.empty() || n[0] == '.' || read_file(ctx, path, core::FinalLink::follow, kMaxSmallFile, &c, &err) !=
                                            ReadOutcome::ok) {
            continue;
        }
        std::string server, args, args_line;
        bool disabled = false;
        int number = 0, args_at = 0;
        for (const std::string& line : core::split_lines(c.bytes)) {
            ++number;
            std::vector<std::string> w = core::split_words(line);
            if (w.size() >= 3 && w[1] == "=") {
                if (w[0] == "server") {
                    server = w[2];
                } else if (w[0] == "server_args") {
                    args = w[2];
                    args_at = number;
                    args_line = line;
                } else if (w[0] == "disable") {
                    disabled = w[2] == "yes";
                }
            }
        }
        if (disabled || base_name(server) != "ringfence-tcpd" || args.empty()) {
            continue;
        }
        WrappedProgram w;
        w.via = WrappedProgram::Via::tcpd;
        w.daemon.name = base_name(args);
        w.daemon.file = path;
        w.daemon.line = args_at;
        w.daemon.source_line = args_line;
        w.program = args;
        out.push_back(w);
    }
    return out;
}

std::vector<ConsoleDaemon> console_daemons(const Context& ctx) {
    std::vector<ConsoleDaemon> out = default_console_daemons();
    auto set_port = [&out](const std::string& name, const std::string& value) {
        std::optional<long> port = core::parse_decimal(value, 65535, 5);
        for (ConsoleDaemon& d : out) {
            if (d.name == name && port && *port > 0) {
                d.port = static_cast<uint16_t>(*port);
            }
        }
    };
    FileContent c;
    std::string err;
    if (read_file(ctx, "/etc/ssh/sshd_config", core::FinalLink::follow, kMaxSmallFile, &c, &err) == ReadOutcome::ok) {
        for (const std::string& line : core::split_lines(c.bytes)) {
            std::vector<std::string> w = core::config_word_strings(line);
            if (w.empty()) {
                continue;
            }
            if (core::iequals(w[0], "Match")) {
                break;
            }
            if (core::iequals(w[0], "Port") && w.size() == 2) {
                set_port("sshd", w[1]);
                break;
            }
        }
    }
    for (const std::string& n : list_directory(ctx, "/etc/xinetd.d")) {
        if (n.empty() || n[0] == '.' ||
            read_file(ctx, "/etc/xinetd.d/" + n, core::FinalLink::follow, kMaxSmallFile, &c, &err) != ReadOutcome::ok) {
            continue;
        }
        std::string args, port;
        for (const std::string& line : core::split_lines(c.bytes)) {
            std::vector<std::string> w = core::split_words(line);
            if (w.size() >= 3 && w[1] == "=") {
                if (w[0] == "server_args") {
                    args = w[2];
                } else if (w[0] == "port") {
                    port = w[2];
                }
            }
        }
        if (!port.empty() && base_name(args) == "vmware-authd") {
            set_port("vmware-authd", port);
        }
    }
    return out;
}

}  // namespace ringfence::cli
