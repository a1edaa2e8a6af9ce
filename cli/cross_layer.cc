// SPDX-License-Identifier: BSD-3-Clause
// Every question here goes to a layer's own evaluator with one address that
// stands for a network the other layer names (its first host address), so
// a finding says exactly what was asked: "drops tcp/22 from 10.0.0.1 (in
// 10.0.0.0/8)". A network that the firewall cuts only in part is not
// reported.
#include "cli/cross_layer.h"

#include <algorithm>
#include <optional>

#include "core/text.h"
#include "iptables_helper/evaluate.h"

namespace ringfence::cli {

namespace {

using core::CidrRange;
using core::escape_for_log;
using core::IpAddress;

// The first host address of a network (the base itself for /31, /32, /127,
// /128): the address asked for the whole network.
IpAddress first_host(const CidrRange& r) {
    IpAddress a = r.base();
    if (r.prefix_len() >= a.max_prefix() - 1) {
        return a;
    }
    uint8_t b[16];
    std::copy(a.bytes(), a.bytes() + a.size(), b);
    b[a.size() - 1] = static_cast<uint8_t>(b[a.size() - 1] | 1);
    return a.is_v4() ? IpAddress::from_v4(b) : IpAddress::from_v6(b);
}

// "10.0.0.1 (in 10.0.0.0/8)", or "10.1.2.3" for a single address.
std::string asked(const CidrRange& r) {
    IpAddress a = first_host(r);
    if (r.prefix_len() == a.max_prefix()) {
        return a.to_string();
    }
    return a.to_string() + " (in " + r.to_string() + ")";
}

// "10.1." (libwrap and pam_access: the leading octets) as a network.
std::optional<CidrRange> v4_prefix_network(const std::string& text) {
    std::string t = text;
    int octets = static_cast<int>(std::count(t.begin(), t.end(), '.'));
    if (octets < 1 || octets > 3 || t.empty() || t.back() != '.') {
        return std::nullopt;
    }
    t.pop_back();
    for (int i = octets; i < 4; ++i) {
        t += ".0";
    }
    std::string why;
    return CidrRange::parse(t + "/" + std::to_string(octets * 8), &why);
}

// The networks an access.conf origins field grants (its items before any
// EXCEPT), with the column of each.
struct Named {
    CidrRange net;
    int column = 0;
};

std::vector<Named> access_networks(const access::Rule& r) {
    std::vector<Named> out;
    if (r.origins.parts.empty()) {
        return out;
    }
    for (const access::Token& t : r.origins.parts[0]) {
        std::optional<CidrRange> net;
        if (t.kind == access::Token::Kind::network && t.network) {
            net = t.network;
        } else if (t.kind == access::Token::Kind::v4_prefix) {
            net = v4_prefix_network(t.text);
        }
        if (net) {
            out.push_back(Named{*net, t.column});
        }
    }
    return out;
}

// The same for a hosts.allow client list.
std::vector<Named> hosts_networks(const tcpd::Rule& r) {
    std::vector<Named> out;
    if (r.clients.parts.empty()) {
        return out;
    }
    for (const tcpd::ClientPattern& c : r.clients.parts[0]) {
        if (c.user) {
            continue;
        }
        const tcpd::HostPattern& h = c.host;
        std::string why;
        std::optional<CidrRange> net;
        size_t column = r.source.find(c.text);
        if (h.kind == tcpd::HostPattern::Kind::v4_net || h.kind == tcpd::HostPattern::Kind::v6_net) {
            std::string t = h.text;
            if (!t.empty() && t[0] == '[') {  // [v6]/len
                t.erase(std::remove(t.begin(), t.end(), '['), t.end());
                t.erase(std::remove(t.begin(), t.end(), ']'), t.end());
            }
            net = CidrRange::parse(t, &why);
        } else if (h.kind == tcpd::HostPattern::Kind::string) {
            if (h.string.kind == tcpd::StringPattern::Kind::exact) {
                if (IpAddress::parse(h.string.text)) {
                    net = CidrRange::parse(h.string.text, &why);
                }
            } else if (h.string.kind == tcpd::StringPattern::Kind::prefix) {
                net = v4_prefix_network(h.string.text);
            }
        }
        if (net) {
            out.push_back(Named{*net, column == std::string::npos ? 0 : static_cast<int>(column) + 1});
        }
    }
    return out;
}

core::Diagnostic warning_at(const std::string& file, int line, int column, const std::string& source,
                            std::string message, std::string hint) {
    core::Diagnostic d;
    d.file = file;
    d.line = line;
    d.column = column;
    d.severity = core::Severity::warning;
    d.message = std::move(message);
    d.source_line = source;
    d.hint = std::move(hint);
    return d;
}

std::string port_text(const ConsoleDaemon& d) {
    return std::string(firewall::protocol_name(d.protocol)) + "/" + std::to_string(d.port);
}

// When the firewall stops new connections from `a` to the daemon's port:
// what it says, naming its line (or the default policy). nullopt when it
// accepts them.
struct Stopped {
    std::string what;  // "firewall.conf:12 (deny in from blocklist) drops"
    bool by_deny_rule = false;
    const firewall::Rule* rule = nullptr;
};

std::optional<Stopped> firewall_stops(const firewall::Policy& fw, const IpAddress& a, const ConsoleDaemon& d) {
    firewall::PacketVerdict v = firewall::evaluate_inbound(fw, a, d.protocol, d.port);
    if (v.action == firewall::Action::accept) {
        return std::nullopt;
    }
    Stopped s;
    s.rule = v.rule;
    s.by_deny_rule = v.rule != nullptr;
    std::string verb = v.action == firewall::Action::reject ? "rejects" : "drops";
    if (v.rule != nullptr) {
        s.what = fw.file() + ":" + std::to_string(v.rule->line) + " (" +
                 escape_for_log(std::string(core::trim(v.rule->source)), 120) + ") " + verb;
    } else {
        s.what = "the firewall's default policy (" + fw.file() + ": policy in " +
                 firewall::action_name(fw.default_in()) + ") " + verb;
    }
    return s;
}

const ConsoleDaemon* daemon_named(const std::vector<ConsoleDaemon>& daemons, const std::string& name) {
    for (const ConsoleDaemon& d : daemons) {
        if (d.name == name) {
            return &d;
        }
    }
    return nullptr;
}

tcpd::Decision hosts_decide(const tcpd::Policy& hosts, const std::string& daemon, const IpAddress& a) {
    tcpd::Request q;
    q.daemon = daemon;
    q.client.address = a;
    q.client.name = std::string();  // no DNS: the name is "unknown"
    tcpd::Lookups none;
    return hosts.evaluate(q, none);
}

bool ends_with_deny_all(const access::Policy& p) {
    if (p.rules().empty()) {
        return false;
    }
    const access::Rule& r = p.rules().back();
    auto only_all = [](const access::TokenList& l) {
        return l.parts.size() == 1 && l.parts[0].size() == 1 && l.parts[0][0].kind == access::Token::Kind::all;
    };
    return !r.allow && !r.times && only_all(r.users) && only_all(r.origins);
}

// An address no policy names: the firewall accepting it means "open from any".
const IpAddress& documentation_v4() {
    static const IpAddress a = *IpAddress::parse("192.0.2.1");
    return a;
}

}  // namespace

const std::vector<ConsoleDaemon>& default_console_daemons() {
    static const std::vector<ConsoleDaemon> kDaemons = {
        {"sshd", "sshd", firewall::Protocol::tcp, 22},
        {"vmware-hostd", "vmware-authd", firewall::Protocol::tcp, 443},
        {"vmware-authd", "vmware-authd", firewall::Protocol::tcp, 902},
    };
    return kDaemons;
}

core::Diagnostics cross_layer_findings(const Layers& L) {
    core::Diagnostics out;
    const ConsoleDaemon* sshd_entry = daemon_named(L.daemons, "sshd");
    const ConsoleDaemon sshd = sshd_entry != nullptr ? *sshd_entry : default_console_daemons().front();

    // access.conf grants that the firewall stops before sshd sees them.
    if (L.access != nullptr && L.firewall != nullptr && L.sshd_runs_ringfence) {
        for (const access::Rule& r : L.access->rules()) {
            if (!r.allow) {
                continue;
            }
            for (const Named& n : access_networks(r)) {
                std::optional<Stopped> s = firewall_stops(*L.firewall, first_host(n.net), sshd);
                if (!s) {
                    continue;
                }
                out.push_back(warning_at(
                    r.file, r.line, n.column, r.source,
                    "grants logins from " + n.net.to_string() + ", but " + s->what + " " + port_text(sshd) +
                        " from " + asked(n.net) +
                        (s->by_deny_rule ? ": an address the firewall blocks is granted here"
                                         : ": a grant that can never be used, or a firewall mistake"),
                    s->by_deny_rule ? "remove the grant, or the address from the firewall's deny list"
                                    : "allow " + port_text(sshd) + " from " + n.net.to_string() +
                                          " in the firewall, or remove this grant"));
            }
        }
    }

    auto wrapped = [&L](const std::string& daemon) {
        return std::any_of(L.wrapped.begin(), L.wrapped.end(),
                           [&daemon](const WrappedDaemon& w) { return w.name == daemon; });
    };

    // hosts.allow grants that the firewall stops before a wrapped daemon
    // sees them.
    if (L.hosts != nullptr && L.firewall != nullptr) {
        for (const tcpd::Rule& r : L.hosts->rules()) {
            if (r.file_kind != tcpd::FileKind::allow || r.broken) {
                continue;
            }
            for (const Named& n : hosts_networks(r)) {
                for (const ConsoleDaemon& d : L.daemons) {
                    if (!wrapped(d.name)) {
                        continue;
                    }
                    tcpd::Decision h = hosts_decide(*L.hosts, d.name, first_host(n.net));
                    if (h.rule != &r || h.verdict != tcpd::Verdict::allow) {
                        continue;  // this rule does not grant d to that network
                    }
                    std::optional<Stopped> s = firewall_stops(*L.firewall, first_host(n.net), d);
                    if (!s) {
                        continue;
                    }
                    out.push_back(warning_at(
                        r.file, r.line, n.column, r.source,
                        "grants " + d.name + " to " + n.net.to_string() + ", but " + s->what + " " + port_text(d) +
                            " from " + asked(n.net) +
                            (s->by_deny_rule ? ": an address the firewall blocks is granted here"
                                             : ": a grant that can never be used, or a firewall mistake"),
                        s->by_deny_rule ? "remove the grant, or the address from the firewall's deny list"
                                        : "allow " + port_text(d) + " from " + n.net.to_string() +
                                              " in the firewall, or remove this grant"));
                }
            }
        }
    }

    // A wrapped daemon that hosts.allow grants to nobody while hosts.deny
    // refuses everybody: every client is refused.
    if (L.hosts != nullptr) {
        for (const WrappedDaemon& w : L.wrapped) {
            tcpd::Decision any = hosts_decide(*L.hosts, w.name, documentation_v4());
            if (any.verdict != tcpd::Verdict::deny || any.rule == nullptr) {
                continue;
            }
            bool granted = false;
            for (const tcpd::Rule& r : L.hosts->rules()) {
                if (r.file_kind != tcpd::FileKind::allow || r.broken) {
                    continue;
                }
                for (const Named& n : hosts_networks(r)) {
                    granted = granted || hosts_decide(*L.hosts, w.name, first_host(n.net)).verdict ==
                                             tcpd::Verdict::allow;
                }
            }
            if (!granted) {
                out.push_back(warning_at(w.file, w.line, 1, w.source_line,
                                         w.name + " is wrapped, but no hosts.allow rule grants it to any address "
                                                  "named there, and " +
                                             any.rule->location() + " (" +
                                             escape_for_log(any.rule->source, 120) +
                                             ") refuses the rest: every client of " + w.name + " is refused",
                                         "add '" + w.name + ": NETWORK' to hosts.allow"));
            }
        }
    }

    // The outer layer open to everyone while an inner one restricts.
    if (L.firewall != nullptr) {
        for (const ConsoleDaemon& d : L.daemons) {
            firewall::PacketVerdict v = firewall::evaluate_inbound(*L.firewall, documentation_v4(), d.protocol, d.port);
            if (v.action != firewall::Action::accept || v.rule == nullptr || !v.rule->peers.any) {
                continue;
            }
            std::string inner;
            if (L.hosts != nullptr && wrapped(d.name)) {
                tcpd::Decision h = hosts_decide(*L.hosts, d.name, documentation_v4());
                if (h.verdict == tcpd::Verdict::deny && h.rule != nullptr) {
                    inner = h.rule->location() + " refuses " + d.name + " to the addresses hosts.allow does not name";
                }
            }
            if (inner.empty() && d.name == "sshd" && L.access != nullptr && L.sshd_runs_ringfence &&
                ends_with_deny_all(*L.access)) {
                inner = L.access->rules().back().location() + " refuses logins from everywhere else";
            }
            if (inner.empty()) {
                continue;
            }
            out.push_back(warning_at(L.firewall->file(), v.rule->line, 1, v.rule->source,
                                     "opens " + port_text(d) + " (" + d.name + ") from any address, while " + inner +
                                         ": the outer layer is the weakest",
                                     "list the networks that may reach " + d.name + " after 'from'"));
        }
    }
    return out;
}

}  // namespace ringfence::cli
