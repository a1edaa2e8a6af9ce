// SPDX-License-Identifier: BSD-3-Clause
// explain: every rule of an access.conf policy that one request goes
// through, with why each item did or did not match, and the decision. It runs
// the module's own evaluator (Policy::evaluate with a trace), so its decision
// is the module's decision for the same request and lookups.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decision.h"
#include "pam_module/access_conf.h"

namespace ringfence::access {

struct Explanation {
    Origin origin;               // what the origins field was compared with
    std::string origin_source;   // "rhost", "tty" or "service": where it came from
    std::vector<RuleTrace> rules;  // every rule considered, in order, up to the deciding one
    Decision decision;           // as Policy::evaluate
};

// The policy must be valid and outlive the result (rules are pointed to).
// Does the lookups the module would do, no more.
Explanation explain(const Policy& policy, const Request& request, Environment& env);

// The explanation as text, one rule per paragraph:
//   access.conf:5: + : (vmadmins) : 10.0.0.0/8
//     users   alice is in group vmadmins (listed member)
//     origins 10.1.2.3 is in 10.0.0.0/8
//     -> allowed by access.conf:5
// then "verdict: ..." (Decision::explanation()).
std::string format_explanation(const Explanation& e);

// Why a request was refused, for the module's denial log line, to follow the
// deciding rule's location: the rule as written (cut to ~120 bytes) and,
// when an earlier allow rule's users field matched the user but the rule
// did not match, the nearest such rule and the reason (cut to ~150 bytes):
//   - : ALL : ALL; line 16 did not match: outside Wk0800-1800
// Evaluates again with a trace (TraceDepth::users_past_time), so the
// lookups are repeated: call it only after a denial. Empty when that
// evaluation is not the same denial (the name service changed its answer)
// or the denial is for an unresolved group. Escaped, one line, cut to
// max_len bytes.
std::string denial_reason(const Policy& policy, const Request& request, Environment& env, const Decision& decided,
                          size_t max_len);

// The explanation's decision in the shape every layer answers in
// (core/decision.h): the deciding rule's file, line and text, or the default
// ("no rule matched", which pam_access allows), and the reason in words: the
// deciding rule's items that matched ("alice is in group vmadmins (listed
// member); 10.1.2.3 is in 10.0.0.0/8"), or for a deny, the nearest earlier
// allow rule whose users field matched the user and why the rule did not
// match ("line 3 did not match: 172.16.0.1 is not in 10.0.0.0/8"). A rule
// whose time field did not match was not asked about users (explain traces
// as evaluated), so it is never the reason here; denial_reason() looks
// further. Escaped.
core::Decision decision_of(const Explanation& e);

// "user alice, from 10.1.2.3 (rhost), service sshd, at Tue 21:00"
std::string describe_request(const Request& request);

// A request time as an admin writes it: "Tue 21:00" (a day as Tue,
// Tuesday or Tu, any case) or "2024-05-14 21:00" (the calendar's weekday).
// nullopt with *error saying what was expected.
std::optional<core::LocalTime> parse_request_time(std::string_view text, std::string* error);

}  // namespace ringfence::access
