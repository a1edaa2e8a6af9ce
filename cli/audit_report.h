// SPDX-License-Identifier: BSD-3-Clause
// What `ringfence audit` found, and the three ways it says so: text for an
// admin, the Monitoring Plugins convention for Nagios / Icinga / NRPE, and
// a node_exporter textfile for Prometheus. Pure code: the checks that look
// at the host fill a report; the formatters only read it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ringfence::cli::audit {

// The Monitoring Plugins states, in their exit-status order.
enum class State { ok = 0, warning = 1, critical = 2, unknown = 3 };

const char* state_name(State s);  // "OK", "WARNING", "CRITICAL", "UNKNOWN"

struct Item {
    std::string layer;  // "pam", "wrap", "firewall", "files"
    std::string check;  // short, stable: "sshd", "vmware-hostd", "/etc/hosts.allow"
    State state = State::ok;
    std::string message;  // one line, already escaped
};

struct Report {
    std::vector<Item> items;

    void add(std::string layer, std::string check, State state, std::string message);
    // CRITICAL beats WARNING beats UNKNOWN beats OK: an unknown item (a check
    // that could not look) is not hidden by others that are fine, but a real
    // problem is never hidden by a check that could not run.
    State worst() const;
    size_t count(State s) const;
};

// Monitoring Plugins output: the first line
//   RINGFENCE CRITICAL - 2 critical, 1 warning of 14 checks: pam sshd: ... | checks=14 ok=11 ...
// then one line per item that is not OK, then the OK ones. Exit status is
// static_cast<int>(report.worst()).
std::string format_nagios(const Report& report);

// Plain text, one line per item: "CRITICAL pam sshd: ...", then a summary.
std::string format_text(const Report& report);

// {"state":"CRITICAL","items":[{"layer":...,"check":...,"state":...,"message":...}]}
std::string format_json(const Report& report);

// A node_exporter textfile: ringfence_audit_state (0..3),
// ringfence_audit_check_state{layer,check} per item, counts per state, and
// ringfence_audit_timestamp_seconds.
std::string format_prometheus(const Report& report, int64_t now_seconds);

// JSON string escaping (quotes included), for every JSON the tool prints.
std::string json_string(const std::string& s);

}  // namespace ringfence::cli::audit
