// SPDX-License-Identifier: BSD-3-Clause
// Explaining hosts_access decisions with the evaluator's own matchers.
#include "tcpd_shim/hosts_explain.h"

#include "tcpd_shim/hosts_evaluator.h"

namespace ringfence::tcpd {

using namespace detail;

namespace {

template <typename T>
std::string join_list(const PatternList<T>& list) {
    std::string out;
    for (size_t i = 0; i < list.parts.size(); ++i) {
        if (i > 0) {
            out += " EXCEPT";
        }
        for (const T& p : list.parts[i]) {
            out += (out.empty() ? "" : " ") + p.text;
        }
    }
    return out;
}

// What a host pattern was compared with: the address text and the name,
// when a pattern needed it (null: never looked up).
struct HostFacts {
    std::string address;
    const std::string* name = nullptr;
};

std::string why_string(const std::string& subject, const StringPattern& p, bool matched) {
    switch (p.kind) {
        case StringPattern::Kind::all:
            return subject + " matches ALL";
        case StringPattern::Kind::known:
            return subject + (matched ? " is known" : " is unknown");
        case StringPattern::Kind::wildcard:
            return subject + (matched ? " matches " : " does not match ") + p.text;
        case StringPattern::Kind::suffix:
            return subject + (matched ? " ends in " : " does not end in ") + p.text;
        case StringPattern::Kind::prefix:
            return subject + (matched ? " starts with " : " does not start with ") + p.text;
        case StringPattern::Kind::v6:
        case StringPattern::Kind::exact:
            return subject + (matched ? " is " : " is not ") + p.text;
    }
    return subject;
}

std::string name_text(const HostFacts& h) { return h.name != nullptr ? "name " + *h.name : "name unknown"; }

std::string why_host(const HostPattern& p, const HostFacts& h, bool matched) {
    switch (p.kind) {
        case HostPattern::Kind::string: {
            if (p.string.kind == StringPattern::Kind::all) {
                return "client " + h.address + " matches ALL";
            }
            Subject addr(h.address);
            bool by_address = string_match(p.string, addr);
            if (matched) {
                return by_address || h.name == nullptr ? why_string(h.address, p.string, true)
                                                       : why_string(name_text(h), p.string, true);
            }
            std::string out = why_string(h.address, p.string, false);
            if (p.also_name && h.name != nullptr) {
                out += ", " + why_string(name_text(h), p.string, false);
            }
            return out;
        }
        case HostPattern::Kind::known:
            return matched ? "address " + h.address + " and " + name_text(h) + " are known"
                           : "address " + h.address + " or " + name_text(h) + " is unknown";
        case HostPattern::Kind::local:
            return name_text(h) + (matched ? " has no dot (LOCAL)" : " is not LOCAL (it has a dot or is unknown)");
        case HostPattern::Kind::netgroup:
            return name_text(h) + (matched ? " is in netgroup " : " is not in netgroup ") + p.netgroup;
        case HostPattern::Kind::file:
            return matched ? "a pattern in " + p.text + " matches " + h.address
                           : "no pattern in " + p.text + " matches " + h.address;
        case HostPattern::Kind::v4_net:
        case HostPattern::Kind::v6_net:
            return h.address + (matched ? " is in " : " is not in ") + p.text;
    }
    return p.text;
}

std::string why_daemon(const DaemonPattern& p, const Request& r, const HostFacts& server, bool matched) {
    std::string daemon = "daemon " + (r.daemon.empty() ? std::string(kUnknown) : r.daemon);
    std::string out;
    if (p.is_port) {
        std::string port = r.server_port ? std::to_string(*r.server_port) : std::string(kUnknown);
        bool port_ok = r.server_port && *r.server_port == p.port;
        out = "server port " + port + (port_ok ? " is " : " is not ") + std::to_string(p.port);
        if (!port_ok || !p.server) {
            return out;
        }
    } else {
        Subject s(r.daemon.empty() ? kUnknown : truncated(r.daemon));
        bool name_ok = string_match(p.daemon, s);
        out = why_string(daemon, p.daemon, name_ok);
        if (!name_ok || !p.server) {
            return out;
        }
    }
    return out + ", server " + why_host(*p.server, server, matched);
}

std::string why_client(const ClientPattern& p, const Request& r, const HostFacts& client, bool host_ok,
                       bool matched) {
    std::string out = why_host(p.host, client, host_ok);
    if (p.user && host_ok) {
        std::string user = !r.user || r.user->empty() ? std::string(kUnknown) : *r.user;
        out += ", " + why_string("user " + user, *p.user, matched);
    }
    return out;
}

HostFacts facts(HostView& h) { return HostFacts{h.addr_text(), h.name_if_used()}; }

HostFacts facts_of(const Endpoint& e, const std::string* looked_up_name) {
    HostFacts f;
    f.address = e.address ? e.address->unmapped().to_string() : std::string(kUnknown);
    f.name = looked_up_name;
    return f;
}

// libwrap's list_match() with a trace: each part read only as far as
// libwrap reads it.
template <typename T, typename Match, typename Why>
bool trace_list(const PatternList<T>& list, size_t part, ListTrace* trace, size_t first_token, Match match,
                Why why) {
    size_t index = first_token;
    bool any = false;
    for (const T& p : list.parts[part]) {
        TokenTrace& t = trace->tokens[index++];
        bool m = match(p);
        t.result = m ? TokenTrace::Result::matched : TokenTrace::Result::no_match;
        t.why = why(p, m);
        if (m) {
            any = true;
            break;
        }
    }
    if (!any) {
        return false;
    }
    if (part + 1 == list.parts.size()) {
        return true;
    }
    return !trace_list(list, part + 1, trace, first_token + list.parts[part].size(), match, why);
}

template <typename T>
void init_tokens(const PatternList<T>& list, ListTrace* trace) {
    for (size_t i = 0; i < list.parts.size(); ++i) {
        for (const T& p : list.parts[i]) {
            TokenTrace t;
            t.text = p.text;
            t.part = i;
            trace->tokens.push_back(std::move(t));
        }
    }
}

}  // namespace

std::string list_text(const PatternList<DaemonPattern>& list) { return join_list(list); }
std::string list_text(const PatternList<ClientPattern>& list) { return join_list(list); }

Explanation explain(const Policy& policy, const Request& request, const Lookups& lookups) {
    Explanation out;
    Evaluator ev(request, lookups);
    for (const Rule& r : policy.rules()) {
        RuleTrace rt;
        rt.rule = &r;
        init_tokens(r.daemons, &rt.daemons);
        init_tokens(r.clients, &rt.clients);
        rt.daemons.evaluated = true;
        rt.daemons.broken = r.daemons_broken;
        const DaemonPattern* daemon = nullptr;
        if (r.daemons_broken) {
            rt.daemons.matched = true;
        } else {
            rt.daemons.matched = trace_list(
                r.daemons, 0, &rt.daemons, 0,
                [&](const DaemonPattern& p) {
                    bool m = ev.daemon_match(p);
                    if (m && daemon == nullptr) {
                        daemon = &p;
                    }
                    return m;
                },
                [&](const DaemonPattern& p, bool m) { return why_daemon(p, request, facts(ev.server()), m); });
        }
        if (!rt.daemons.matched) {
            out.rules.push_back(std::move(rt));
            continue;
        }
        rt.clients.evaluated = true;
        rt.clients.broken = r.clients_broken;
        const ClientPattern* client = nullptr;
        if (r.clients_broken) {
            rt.clients.matched = true;
        } else {
            bool host_ok = false;  // of the pattern just matched, to say which half failed
            rt.clients.matched = trace_list(
                r.clients, 0, &rt.clients, 0,
                [&](const ClientPattern& p) {
                    // client_match(), in its two halves.
                    host_ok = ev.host_match(p.host, ev.client());
                    bool m = host_ok && (!p.user || string_match(*p.user, ev.user()));
                    if (m && client == nullptr) {
                        client = &p;
                    }
                    return m;
                },
                [&](const ClientPattern& p, bool m) {
                    return why_client(p, request, facts(ev.client()), host_ok, m);
                });
        }
        out.rules.push_back(std::move(rt));
        if (out.rules.back().clients.matched) {
            // The part-0 patterns: the first to match in part 0 (the EXCEPT
            // parts are traced after it).
            out.decision = decide(r, r.daemons_broken ? nullptr : daemon, r.clients_broken ? nullptr : client,
                                  ev.client());
            return out;
        }
    }
    out.decision = Decision();
    return out;
}

std::string decision_reason(const Decision& d, const Request& request) {
    std::string daemon = request.daemon.empty() ? std::string(kUnknown) : request.daemon;
    HostFacts client = facts_of(request.client, d.client_name.empty() ? nullptr : &d.client_name);
    switch (d.reason) {
        case Decision::Reason::default_allow:
            return "no rule matched daemon " + daemon + " and client " +
                   (client.name != nullptr ? *client.name : client.address);
        case Decision::Reason::broken_rule:
            return "the rule has an error: " + (d.rule != nullptr ? d.rule->error : std::string());
        default:
            break;
    }
    if (d.rule == nullptr || d.daemon == nullptr || d.client == nullptr) {
        return "";
    }
    std::string out = why_client(*d.client, request, client, true, true);
    if (d.rule->clients.parts.size() > 1) {
        out += " (client list " + list_text(d.rule->clients) + ")";
    }
    HostFacts server = facts_of(request.server, request.server.name && !request.server.name->empty()
                                                    ? &*request.server.name
                                                    : nullptr);
    if (d.rule->daemons.parts.size() > 1 || d.daemon->server || d.daemon->is_port) {
        out += "; daemon " + daemon + " matched " + list_text(d.rule->daemons);
    } else {
        out += "; " + why_daemon(*d.daemon, request, server, true);
    }
    if (d.reason == Decision::Reason::allow_option || d.reason == Decision::Reason::deny_option) {
        out += d.reason == Decision::Reason::allow_option ? "; the rule ends in the option 'allow'"
                                                          : "; the rule ends in the option 'deny'";
    }
    return out;
}

core::Decision to_core_decision(const Decision& d, const Request& request) {
    core::Decision out;
    out.verdict = d.verdict == Verdict::allow ? core::Verdict::allow : core::Verdict::deny;
    if (d.rule != nullptr) {
        out.source.file = d.rule->file;
        out.source.line = d.rule->line;
        out.source.rule = d.rule->source;
    } else {
        out.source.rule = "default allow";
    }
    out.reason = decision_reason(d, request);
    return out;
}

std::vector<const Rule*> rules_for_daemon(const Policy& policy, std::string_view daemon) {
    std::vector<const Rule*> out;
    Subject s(daemon.empty() ? kUnknown : truncated(daemon));
    for (const Rule& r : policy.rules()) {
        if (r.daemons_broken) {
            continue;
        }
        if (match_list(r.daemons, 0, [&](const DaemonPattern& p) { return !p.is_port && string_match(p.daemon, s); })) {
            out.push_back(&r);
        }
    }
    return out;
}

}  // namespace ringfence::tcpd
