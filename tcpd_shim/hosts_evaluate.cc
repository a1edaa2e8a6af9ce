// SPDX-License-Identifier: BSD-3-Clause
// The hosts_access reference evaluator: rule by rule, as libwrap's
// table_match(), without the fast index. It defines what a decision is;
// Policy::evaluate() must agree with it on every request (the unit,
// differential and fuzz tests compare the two).
#include "tcpd_shim/hosts_access.h"

#include "core/text.h"
#include "tcpd_shim/hosts_evaluator.h"

namespace ringfence::tcpd {

using core::IpAddress;
using namespace detail;

bool wildcard_match(std::string_view pattern, std::string_view text) {
    auto seg_at = [](std::string_view seg, std::string_view t, size_t pos) {
        for (size_t i = 0; i < seg.size(); ++i) {
            if (seg[i] != '?' && core::ascii_lower(seg[i]) != core::ascii_lower(t[pos + i])) {
                return false;
            }
        }
        return true;
    };
    // libwrap's matcher tries the rest of the pattern after a '*' only on
    // non-empty remainders, so a trailing "**" needs one more byte: "?*".
    if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "**") {
        std::string rewritten(pattern.substr(0, pattern.find_last_not_of('*') + 1));
        rewritten += "?*";
        return wildcard_match(rewritten, text);
    }
    size_t star = pattern.find('*');
    if (star == std::string_view::npos) {
        return pattern.size() == text.size() && seg_at(pattern, text, 0);
    }
    // head*mid1*mid2*...*tail: head anchored at the start, tail at the end,
    // each middle segment at its leftmost place (always optimal for globs).
    size_t last_star = pattern.rfind('*');
    std::string_view head = pattern.substr(0, star);
    std::string_view tail = pattern.substr(last_star + 1);
    if (head.size() + tail.size() > text.size() || !seg_at(head, text, 0) ||
        !seg_at(tail, text, text.size() - tail.size())) {
        return false;
    }
    size_t pos = head.size();
    size_t end = text.size() - tail.size();
    size_t p = star + 1;
    while (p < last_star) {
        size_t next = pattern.find('*', p);
        std::string_view seg = pattern.substr(p, next - p);
        p = next + 1;
        if (seg.empty()) {
            continue;
        }
        bool found = false;
        while (pos + seg.size() <= end) {
            if (seg_at(seg, text, pos)) {
                found = true;
                break;
            }
            ++pos;
        }
        if (!found) {
            return false;
        }
        pos += seg.size();
    }
    return true;
}

std::string verified_host_name(const IpAddress& address, ReverseNameService& reverse, core::NameService& forward) {
    IpAddress addr = address.unmapped();
    std::optional<std::string> name = reverse.reverse(addr);
    if (!name || name->empty()) {
        return std::string(kUnknown);
    }
    // A PTR record that holds a numeric address is forged or broken.
    if (IpAddress::parse(*name)) {
        return std::string(kParanoid);
    }
    for (const IpAddress& a : forward.resolve(*name)) {
        if (a.unmapped() == addr) {
            return *name;
        }
    }
    return std::string(kParanoid);
}


Decision Policy::evaluate_reference(const Request& request, const Lookups& lookups) const {
    Evaluator ev(request, lookups);
    Decision d;
    for (const Rule& r : rules_) {
        if (rule_decides(ev, r, &d)) {
            return d;
        }
    }
    return Decision();
}

bool Decision::same_as(const Decision& o) const {
    if (verdict != o.verdict || reason != o.reason || client_name != o.client_name ||
        (rule == nullptr) != (o.rule == nullptr) || (daemon == nullptr) != (o.daemon == nullptr) ||
        (client == nullptr) != (o.client == nullptr)) {
        return false;
    }
    if (rule == nullptr) {
        return true;
    }
    if (rule->file != o.rule->file || rule->line != o.rule->line || rule->file_kind != o.rule->file_kind ||
        rule->source != o.rule->source) {
        return false;
    }
    // Positions in the first parts (the patterns that can decide).
    if (daemon != nullptr && (rule->daemons.parts.empty() || o.rule->daemons.parts.empty() ||
                              daemon - rule->daemons.parts[0].data() != o.daemon - o.rule->daemons.parts[0].data())) {
        return false;
    }
    if (client != nullptr && (rule->clients.parts.empty() || o.rule->clients.parts.empty() ||
                              client - rule->clients.parts[0].data() != o.client - o.rule->clients.parts[0].data())) {
        return false;
    }
    return true;
}

std::string Decision::location() const { return rule != nullptr ? rule->location() : "default allow"; }

std::string Decision::explanation() const {
    std::string where = location();
    std::string src = rule != nullptr ? " (" + core::escape_for_log(rule->source, 100) + ")" : "";
    switch (reason) {
        case Reason::allow_rule:
            return "granted by " + where + src;
        case Reason::deny_rule:
            return "refused by " + where + src;
        case Reason::allow_option:
            return "granted by the 'allow' option of " + where + src;
        case Reason::deny_option:
            return "refused by the 'deny' option of " + where + src;
        case Reason::broken_rule:
            return "refused: " + where + " has an error: " + (rule != nullptr ? rule->error : std::string());
        case Reason::default_allow:
            return "granted: no rule matched (default allow)";
    }
    return "?";
}

bool policy_is_stale(const Policy& policy) {
    for (const auto& [path, stamp] : policy.inputs()) {
        if (core::stamp_of(path) != stamp) {
            return true;
        }
    }
    return false;
}

}  // namespace ringfence::tcpd
