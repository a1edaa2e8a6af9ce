// SPDX-License-Identifier: BSD-3-Clause
// The policies of the managed system (--root or /), read with each layer's
// own reader and compiler on paths resolved inside the tree, so that the
// `ringfence` tool sees exactly what the module and the shim would load.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cli/context.h"
#include "cli/cross_layer.h"
#include "core/diagnostic.h"
#include "core/paths.h"
#include "iptables_helper/firewall_conf.h"
#include "iptables_helper/lint.h"
#include "pam_module/access_conf.h"
#include "pam_module/module_options.h"
#include "tcpd_shim/hosts_access.h"

namespace ringfence::cli {

struct AccessPolicy {
    std::string main_file;   // on this machine (under --root)
    access::PolicySource source;
    std::shared_ptr<const access::Policy> policy;  // null when a file could not be read safely
    core::Diagnostics diags;                       // reading, then compiling
    bool main_missing = false;                     // accessfile= / access.conf does not exist
    bool valid() const { return source.ok && policy && policy->valid(); }
};

// The access policy pam_ringfence would enforce with these module options.
// nullopt with *error set when a path cannot be resolved in the tree.
std::optional<AccessPolicy> load_access_policy(const Context& ctx, const access::ModuleOptions& m,
                                               std::string* error);

// hosts.allow and hosts.deny (and the /file pattern files they name, also
// resolved in the tree), compiled as ringfence-wrap and ringfence-tcpd
// would; the files are kept for lint. nullopt with *error set when a path
// cannot be resolved; compile errors go to *diags.
struct HostsPolicy {
    tcpd::HostsFile allow;
    tcpd::HostsFile deny;
    std::shared_ptr<const tcpd::Policy> policy;
    bool valid() const { return policy && policy->valid(); }
};
std::optional<HostsPolicy> load_hosts_policy(const Context& ctx, core::Diagnostics* diags, std::string* error);

// /etc/ringfence/firewall.conf and its set files, checked as
// `ringfence-firewall check` does (compiled, then linted). The policy is
// compiled under its name in the managed system, so that relative set paths
// start there, and an absolute set path names a file of the managed system;
// diagnostics name the file on this machine. nullopt with *error set when
// the path cannot be resolved; *missing when the file does not exist.
inline constexpr const char* kFirewallPolicy = core::kFirewallConf;
std::optional<firewall::CheckReport> check_firewall_policy(const Context& ctx, bool* missing, std::string* error);

// The daemons hosts.allow decides for: each drop-in written by `ringfence
// enable wrap` (with the program its ExecStart runs behind ringfence-wrap),
// and each xinetd service whose server is ringfence-tcpd (the daemon is the
// base name of the first word of server_args).
struct WrappedProgram {
    enum class Via { wrap, tcpd };  // a ringfence-wrap drop-in, or xinetd with ringfence-tcpd
    Via via = Via::wrap;
    WrappedDaemon daemon;
    std::string program;  // absolute path of the real daemon; "" when it cannot be read
};
std::vector<WrappedProgram> wrapped_daemons(const Context& ctx);

// The console daemons with the ports this host uses: sshd's first Port of
// /etc/ssh/sshd_config (before any Match block; 22 when none), the port of
// the xinetd service that runs vmware-authd; the preset's otherwise.
std::vector<ConsoleDaemon> console_daemons(const Context& ctx);

}  // namespace ringfence::cli
