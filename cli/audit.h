// SPDX-License-Identifier: BSD-3-Clause
// `ringfence audit`: is the host what its policy files say? Each layer's
// checks add items to an audit::Report (cli/audit_report.h): the PAM account
// stacks of the console services, the module file and the access policy;
// the daemons wrapped with ringfence-wrap (running with the preload mapped)
// and hosts.allow / hosts.deny; the trust of every policy file. Reads only.
#pragma once

#include <string>

#include "cli/audit_report.h"
#include "cli/context.h"

namespace ringfence::cli {

// Fills *report. With --root, what only a running host has (processes) is
// not checked, and says so in an item.
void audit_pam(const Context& ctx, audit::Report* report);
void audit_wrap(const Context& ctx, audit::Report* report);
void audit_files(const Context& ctx, audit::Report* report);
// The policy (errors, lint warnings), the live ruleset against what
// ringfence-firewall applied (drift, a pending confirmation; the state in
// RINGFENCE_FIREWALL_STATE or /var/lib/ringfence/firewall; not under
// --root), and the boot unit.
void audit_firewall(const Context& ctx, audit::Report* report);
// The feeds and the policy bundle of `ringfence sync` (ringfence-sync(8)):
// a feed stale past its threshold WARNING, an expired bundle CRITICAL.
void audit_sync(const Context& ctx, audit::Report* report);

struct AuditOptions {
    enum class Format { text, json, nagios };
    Format format = Format::text;
    std::string prometheus_file;  // "": none; else a node_exporter textfile, replaced atomically
};

// Runs every check, prints the report in the chosen format, writes the
// textfile. Returns the Monitoring Plugins status of the worst item (0 OK,
// 1 WARNING, 2 CRITICAL, 3 UNKNOWN); 3 also when the textfile cannot be
// written (said on stderr).
int run_audit(const Context& ctx, const AuditOptions& options);

}  // namespace ringfence::cli
