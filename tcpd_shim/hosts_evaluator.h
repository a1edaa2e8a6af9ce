// SPDX-License-Identifier: BSD-3-Clause
// How one request is compared with compiled patterns: the request's strings
// prepared once (Subject), the client's and server's names looked up only
// when a pattern needs them (HostView), and the matchers of libwrap's
// hosts_access.c. Internal to tcpd_shim/: Policy::evaluate() (through the
// fast index) and Policy::evaluate_reference() both use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/hosts_text.h"

namespace ringfence::tcpd::detail {

// A request string as every pattern compares it: "::ffff:a.b.c.d" stripped
// to "a.b.c.d" (string_match()) and ASCII lower-cased, once per request.
struct Subject {
    std::string stripped;  // original case
    std::string lower;
    int v6_state = 0;      // 0: not parsed yet, 1: parsed
    std::optional<IpAddress> v6;

    Subject() = default;
    explicit Subject(std::string_view s) { set(s); }
    void set(std::string_view s) {
        stripped = std::string(strip_mapped(s));
        lower = stripped;
        for (char& c : lower) {
            c = ascii_lower(c);
        }
        v6_state = 0;
        v6.reset();
    }
    const std::optional<IpAddress>& parsed() {
        if (v6_state == 0) {
            v6 = IpAddress::parse(stripped);
            v6_state = 1;
        }
        return v6;
    }
};

class HostView {
public:
    HostView(const Endpoint& ep, const Lookups& lookups) : ep_(ep), lookups_(lookups) {
        if (ep.address) {
            addr_ = ep.address->unmapped();
            addr_text_ = addr_->to_string();
        } else {
            addr_text_ = std::string(kUnknown);
        }
        addr_subject_.set(addr_text_);
        addr_known_ = !iequals(addr_text_, kUnknown);
    }
    const std::string& addr_text() const { return addr_text_; }
    bool addr_known() const { return addr_known_; }
    Subject& addr_subject() { return addr_subject_; }
    const std::optional<IpAddress>& addr() const { return addr_; }
    bool name_given() const { return ep_.name.has_value(); }
    // The name, if a pattern has needed it (given or looked up); else null.
    const std::string* name_if_used() const { return name_ ? &*name_ : nullptr; }
    const std::string& name() {
        if (!name_) {
            if (ep_.name) {
                name_ = ep_.name->empty() ? std::string(kUnknown) : std::string(truncated(*ep_.name));
            } else if (ep_.address && lookups_.reverse != nullptr && lookups_.forward != nullptr) {
                name_ = std::string(truncated(verified_host_name(*ep_.address, *lookups_.reverse, *lookups_.forward)));
            } else {
                name_ = std::string(kUnknown);
            }
        }
        return *name_;
    }
    Subject& name_subject() {
        if (!name_subject_) {
            name_subject_.emplace(name());
        }
        return *name_subject_;
    }

private:
    const Endpoint& ep_;
    const Lookups& lookups_;
    std::optional<IpAddress> addr_;
    std::string addr_text_;
    Subject addr_subject_;
    bool addr_known_ = false;
    std::optional<std::string> name_;
    std::optional<Subject> name_subject_;
};

// memcmp(a, b, n) == 0 for the short strings of patterns, without a call.
inline bool same_bytes(const char* a, const char* b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

inline bool string_match(const StringPattern& p, Subject& s) {
    const std::string& l = s.lower;
    switch (p.kind) {
        case StringPattern::Kind::all:
            return true;
        case StringPattern::Kind::known:
            return l != kUnknown;
        case StringPattern::Kind::wildcard:
            return wildcard_match(p.text, s.stripped);
        case StringPattern::Kind::suffix: {
            size_t n = p.lower.size();
            return l.size() > n && same_bytes(l.data() + (l.size() - n), p.lower.data(), n);
        }
        case StringPattern::Kind::prefix: {
            size_t n = p.lower.size();
            return l.size() >= n && same_bytes(l.data(), p.lower.data(), n);
        }
        case StringPattern::Kind::v6: {
            const auto& a = s.parsed();
            return a && !a->is_v4() && *a == *p.v6;
        }
        case StringPattern::Kind::exact:
            return l.size() == p.lower.size() && same_bytes(l.data(), p.lower.data(), l.size());
    }
    return false;
}

// libwrap's list_match(): a pattern of `part` matches and the rest of the
// list (the EXCEPT parts) does not. *which (when given, for part 0) is the
// pattern that matched.
template <typename T, typename F>
bool match_list(const PatternList<T>& list, size_t part, F match_one, const T** which = nullptr) {
    const T* hit = nullptr;
    for (const T& p : list.parts[part]) {
        if (match_one(p)) {
            hit = &p;
            break;
        }
    }
    if (hit == nullptr) {
        return false;
    }
    if (which != nullptr) {
        *which = hit;
    }
    return part + 1 == list.parts.size() || !match_list(list, part + 1, match_one);
}

class Evaluator {
public:
    Evaluator(const Request& r, const Lookups& lookups)
        : request_(r), lookups_(lookups), client_(r.client, lookups), server_(r.server, lookups) {
        daemon_.set(r.daemon.empty() ? kUnknown : truncated(r.daemon));
        if (!r.user || r.user->empty()) {
            user_.set(kUnknown);
        } else {
            user_.set(truncated(*r.user));
        }
    }

    template <typename T, typename F>
    bool list_match(const PatternList<T>& list, size_t part, F match_one, const T** which = nullptr) {
        return match_list(list, part, match_one, which);
    }

    bool host_match(const HostPattern& p, HostView& h) {
        switch (p.kind) {
            case HostPattern::Kind::netgroup: {
                if (lookups_.identity == nullptr) {
                    return false;
                }
                if (!domain_) {
                    domain_ = lookups_.identity->nis_domain();
                }
                const std::string& name = h.name();
                return lookups_.identity->in_netgroup(p.netgroup, name.c_str(), nullptr,
                                                      domain_->empty() ? nullptr : domain_->c_str());
            }
            case HostPattern::Kind::file:
                for (const HostPattern& q : *p.file_patterns) {
                    if (host_match(q, h)) {
                        return true;
                    }
                }
                return false;
            case HostPattern::Kind::known:
                return h.addr_known() && name_known(h.name());
            case HostPattern::Kind::local: {
                const std::string& name = h.name();
                return name.find('.') == std::string::npos && name_known(name);
            }
            case HostPattern::Kind::v4_net:
            case HostPattern::Kind::v6_net:
                return h.addr() && p.net->contains(*h.addr());
            case HostPattern::Kind::string:
                if (string_match(p.string, h.addr_subject())) {
                    return true;
                }
                if (!p.also_name) {
                    return false;
                }
                // A verified (looked-up) name is never numeric, so a bracketed
                // address can only match a name the caller gave.
                if (p.string.kind == StringPattern::Kind::v6 && !h.name_given()) {
                    return false;
                }
                return string_match(p.string, h.name_subject());
        }
        return false;
    }

    bool daemon_match(const DaemonPattern& p) {
        bool name_ok = p.is_port ? (request_.server_port && *request_.server_port == p.port)
                                 : string_match(p.daemon, daemon_);
        return name_ok && (!p.server || host_match(*p.server, server_));
    }

    const std::string& daemon_lower() const { return daemon_.lower; }
    HostView& client() { return client_; }
    HostView& server() { return server_; }
    // The request's user as the patterns compare it.
    Subject& user() { return user_; }

    bool client_match(const ClientPattern& p) {
        return host_match(p.host, client_) && (!p.user || string_match(*p.user, user_));
    }

private:
    const Request& request_;
    const Lookups& lookups_;
    HostView client_;
    HostView server_;
    Subject daemon_;
    Subject user_;
    std::optional<std::string> domain_;
};


// The verdict of a rule whose daemon and client lists both matched.
// `daemon` and `client`: the patterns of the lists' first parts that
// matched (null for a list that could not be compiled).
inline Decision decide(const Rule& rule, const DaemonPattern* daemon, const ClientPattern* client,
                       const HostView& client_view) {
    Decision d;
    d.rule = &rule;
    d.daemon = daemon;
    d.client = client;
    if (const std::string* name = client_view.name_if_used()) {
        d.client_name = *name;
    }
    if (rule.broken) {
        d.verdict = Verdict::deny;
        d.reason = Decision::Reason::broken_rule;
    } else if (!rule.options.empty() && rule.options.back().kind == Option::Kind::allow) {
        d.verdict = Verdict::allow;
        d.reason = Decision::Reason::allow_option;
    } else if (!rule.options.empty() && rule.options.back().kind == Option::Kind::deny) {
        d.verdict = Verdict::deny;
        d.reason = Decision::Reason::deny_option;
    } else if (rule.file_kind == FileKind::allow) {
        d.verdict = Verdict::allow;
        d.reason = Decision::Reason::allow_rule;
    } else {
        d.verdict = Verdict::deny;
        d.reason = Decision::Reason::deny_rule;
    }
    return d;
}

// One rule as the reference evaluator walks it (libwrap's table_match()):
// true, with the decision in *out, when its daemon and client lists both
// match (a list that could not be compiled counts as matching).
inline bool rule_decides(Evaluator& ev, const Rule& r, Decision* out) {
    const DaemonPattern* daemon = nullptr;
    bool daemons = r.daemons_broken ||
                   ev.list_match(r.daemons, 0, [&](const DaemonPattern& p) { return ev.daemon_match(p); }, &daemon);
    if (!daemons) {
        return false;
    }
    const ClientPattern* client = nullptr;
    bool clients = r.clients_broken ||
                   ev.list_match(r.clients, 0, [&](const ClientPattern& p) { return ev.client_match(p); }, &client);
    if (!clients) {
        return false;
    }
    *out = decide(r, daemon, client, ev.client());
    return true;
}

}  // namespace ringfence::tcpd::detail
