// SPDX-License-Identifier: BSD-3-Clause
// What no single layer can see: one layer grants what another stops, or an
// outer layer is weaker than the inner ones. Each finding is a warning at
// one layer's line that names the other layer's line. Pure code over the
// compiled policies, asked through each layer's own evaluator with
// addresses only (no DNS, no name service).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "iptables_helper/firewall_conf.h"
#include "pam_module/access_conf.h"
#include "tcpd_shim/hosts_access.h"

namespace ringfence::cli {

// A daemon of the console: the name hosts.allow knows it by, the PAM
// service it authenticates with, and the port clients reach it on.
struct ConsoleDaemon {
    std::string name;          // "sshd", "vmware-hostd", "vmware-authd"
    std::string pam_service;   // "sshd", "vmware-authd"
    firewall::Protocol protocol = firewall::Protocol::tcp;
    uint16_t port = 0;
};

// The ESX service console's daemons with the ports of the ESX preset's
// service table (sshServer tcp/22, https tcp/443, vmware-authd tcp/902);
// cli/policies.h reads the ports a host actually uses.
const std::vector<ConsoleDaemon>& default_console_daemons();

// A daemon that runs behind ringfence-wrap or ringfence-tcpd: hosts.allow and
// hosts.deny decide for it under `name`.
struct WrappedDaemon {
    std::string name;
    std::string file;  // the drop-in or xinetd file that wraps it
    int line = 0;
    std::string source_line;
};

struct Layers {
    const access::Policy* access = nullptr;      // valid, or null (not checked)
    const tcpd::Policy* hosts = nullptr;         // valid, or null
    const firewall::Policy* firewall = nullptr;  // valid, or null
    std::vector<WrappedDaemon> wrapped;
    std::vector<ConsoleDaemon> daemons = default_console_daemons();
    bool sshd_runs_ringfence = true;             // sshd's account stack reaches pam_ringfence
};

// The findings, each a warning with a hint:
//  - access.conf grants from a network that the firewall stops on port 22
//    (dropped by the default policy: a dead grant or a firewall mistake;
//    dropped by a deny rule: a blocklisted address granted by name);
//  - hosts.allow grants a wrapped daemon to a network that the firewall
//    stops on the daemon's port (the same two cases);
//  - a wrapped daemon that no hosts.allow rule grants to anyone while
//    hosts.deny refuses everyone;
//  - a console port the firewall opens from any address while hosts.allow
//    (for a wrapped daemon) or access.conf (for sshd) admit only some (the
//    outer layer is the weakest).
core::Diagnostics cross_layer_findings(const Layers& layers);

}  // namespace ringfence::cli
