// SPDX-License-Identifier: BSD-3-Clause
// The one shape in which every layer answers "is this allowed, and why?":
// pam_ringfence for a login, the hosts_access engine for a connection to a
// daemon, the firewall for a packet. Each layer evaluates with its own
// compiled types (no strings built on the hot path) and turns its result
// into a Decision when someone reads it: a log line, tcpdmatch, explain,
// the `ringfence` tool asking across layers.
#pragma once

#include <string>

namespace ringfence::core {

enum class Verdict { allow, deny };

// Where a decision came from: the rule at file:line, or a default that
// applied because no rule did ("pam_access allows when no rule matches",
// "the default policy drop").
struct DecisionSource {
    std::string file;  // "" when a default decided
    int line = 0;
    std::string rule;  // the deciding rule as written ("- : ALL : ALL"); the default's name otherwise
    bool is_default() const { return file.empty(); }
    // "/etc/security/access.conf:20", or "default" when a default decided.
    std::string location() const;
};

struct Decision {
    Verdict verdict = Verdict::deny;
    DecisionSource source;
    // Words an admin reads, without the location: "user alice is in group
    // vmadmins", "10.1.2.3 is in 10.0.0.0/8", "outside Wk0800-1800".
    std::string reason;

    bool allowed() const { return verdict == Verdict::allow; }
    // One line: "allowed by FILE:LINE (RULE): REASON", "denied by default
    // (RULE): REASON". Untrusted parts are the caller's to escape.
    std::string summary() const;
};

const char* verdict_name(Verdict v);  // "allowed" / "denied"

}  // namespace ringfence::core
