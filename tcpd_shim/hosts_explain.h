// SPDX-License-Identifier: BSD-3-Clause
// Explaining hosts_access decisions: every rule the evaluator considers, in
// order, with why each pattern did or did not match (ringfence-tcpdmatch,
// `ringfence explain`), and a decision in the shape every layer shares
// (core::Decision) with its reason in words, for log lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/decision.h"
#include "tcpd_shim/hosts_access.h"

namespace ringfence::tcpd {

// A list as written, parts joined by EXCEPT: "ALL EXCEPT vsftpd".
std::string list_text(const PatternList<DaemonPattern>& list);
std::string list_text(const PatternList<ClientPattern>& list);

struct TokenTrace {
    enum class Result { matched, no_match, not_reached };
    std::string text;   // the pattern as written
    size_t part = 0;    // 0: before any EXCEPT; 1: after the first; ...
    Result result = Result::not_reached;
    std::string why;    // "10.1.2.3 is in 10.0.0.0/8"; empty when not reached
};

struct ListTrace {
    bool evaluated = false;  // false: an earlier list of the rule did not match
    bool broken = false;     // could not be compiled: counts as matching (the rule denies)
    bool matched = false;
    std::vector<TokenTrace> tokens;  // every pattern of the list, in order
};

struct RuleTrace {
    const Rule* rule = nullptr;
    ListTrace daemons;
    ListTrace clients;
};

struct Explanation {
    // The rules in the order they were considered, up to and including the
    // deciding one (every rule when none matched).
    std::vector<RuleTrace> rules;
    Decision decision;  // the same as Policy::evaluate()
};

// Walks the rules as the evaluator does: patterns in order, each list only
// as far as libwrap reads it, so lookups happen exactly when a decision
// would make them. Thread-safe.
Explanation explain(const Policy& policy, const Request& request, const Lookups& lookups);

// Why the decision was made, in words, without the location: "10.1.2.3 is
// in 10.0.0.0/8; daemon sshd matched ALL EXCEPT vsftpd". Needs no lookups:
// it uses what the decision recorded. Untrusted parts are not escaped.
std::string decision_reason(const Decision& decision, const Request& request);
core::Decision to_core_decision(const Decision& decision, const Request& request);

// The rules whose daemon list names `daemon` on some server (daemon@host
// counts as naming it; a port number does not), EXCEPT honoured.
std::vector<const Rule*> rules_for_daemon(const Policy& policy, std::string_view daemon);

}  // namespace ringfence::tcpd
