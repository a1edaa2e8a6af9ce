// SPDX-License-Identifier: BSD-3-Clause
#include "iptables_helper/evaluate.h"

#include <vector>

#include "core/diagnostic.h"

namespace ringfence::firewall {

using Family = core::IpAddress::Family;

namespace {

std::string describe(const Policy& policy, const Rule& rule) {
    return policy.file() + ":" + std::to_string(rule.line) + ": `" +
           (rule.action == Action::reject ? "reject " : "deny ") + direction_name(rule.direction) + " ...`";
}

// sshd writes at most two 45-character addresses with 15-character zones
// and two ports; anything far longer is not from sshd.
constexpr size_t kMaxSshConnection = 256;
constexpr size_t kMaxZone = 15;  // IFNAMSIZ - 1

std::string quoted(std::string_view s) {
    return "`" + core::escape_for_log(std::string(s), 80) + "`";
}

// Plain decimal 1..65535: no sign, no leading zero, no trailing text.
std::optional<uint16_t> parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5 || s[0] == '0') {
        return std::nullopt;
    }
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + unsigned(c - '0');
    }
    if (v > 65535) {
        return std::nullopt;
    }
    return uint16_t(v);
}

bool is_link_local(const core::IpAddress& a) {
    return !a.is_v4() && a.bytes()[0] == 0xfe && (a.bytes()[1] & 0xc0) == 0x80;
}

// What Linux accepts as an interface name (dev_valid_name), or an index.
bool valid_zone(std::string_view z) {
    if (z.empty() || z.size() > kMaxZone || z == "." || z == "..") {
        return false;
    }
    for (char ch : z) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7f || c == '/' || c == ':' || c == '%') {
            return false;
        }
    }
    return true;
}

struct Scoped {
    core::IpAddress address;
    bool has_zone = false;
    std::string zone;
};

std::optional<Scoped> parse_scoped(std::string_view field, const char* which, std::string* error) {
    Scoped out;
    std::string_view addr = field;
    size_t pct = field.find('%');
    if (pct != std::string_view::npos) {
        addr = field.substr(0, pct);
        out.has_zone = true;
        out.zone = std::string(field.substr(pct + 1));
    }
    std::optional<core::IpAddress> a = core::IpAddress::parse(addr);
    if (!a) {
        *error = std::string("the ") + which + " address " + quoted(field) + " is not an IPv4 or IPv6 address";
        return std::nullopt;
    }
    out.address = *a;
    if (out.has_zone) {
        if (!is_link_local(*a)) {
            *error = std::string("the ") + which + " address " + quoted(field) +
                     " has a zone index but is not an IPv6 link-local address (fe80::/10)";
            return std::nullopt;
        }
        if (!valid_zone(out.zone)) {
            *error = std::string("the zone index of the ") + which + " address " + quoted(field) +
                     " is not an interface name or number";
            return std::nullopt;
        }
    }
    return out;
}

}  // namespace

std::string SshConnection::client_text() const {
    return client.to_string() + (zone.empty() ? "" : "%" + zone);
}

std::optional<SshConnection> parse_ssh_connection(std::string_view text, std::string* error) {
    if (text.size() > kMaxSshConnection) {
        *error = "it is longer than " + std::to_string(kMaxSshConnection) + " characters";
        return std::nullopt;
    }
    std::vector<std::string_view> fields;
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ' || text[i] == '\t') {
            ++i;
            continue;
        }
        size_t end = text.find_first_of(" \t", i);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        fields.push_back(text.substr(i, end - i));
        i = end;
    }
    if (fields.size() != 4) {
        *error = "it has " + std::to_string(fields.size()) + (fields.size() == 1 ? " field" : " fields") +
                 ", not the 4 sshd writes (client address, client port, server address, server port)";
        return std::nullopt;
    }
    std::optional<Scoped> client = parse_scoped(fields[0], "client", error);
    if (!client) {
        return std::nullopt;
    }
    std::optional<uint16_t> cport = parse_port(fields[1]);
    if (!cport) {
        *error = "the client port " + quoted(fields[1]) + " is not a number from 1 to 65535";
        return std::nullopt;
    }
    std::optional<Scoped> server = parse_scoped(fields[2], "server", error);
    if (!server) {
        return std::nullopt;
    }
    std::optional<uint16_t> sport = parse_port(fields[3]);
    if (!sport) {
        *error = "the server port " + quoted(fields[3]) + " is not a number from 1 to 65535";
        return std::nullopt;
    }
    // One TCP connection: one family, and a link-local one stays on one link.
    if (client->address.unmapped().family() != server->address.unmapped().family()) {
        *error = "the client address " + quoted(fields[0]) + " and the server address " + quoted(fields[2]) +
                 " are of different families";
        return std::nullopt;
    }
    if (client->has_zone != server->has_zone) {
        *error = std::string("only the ") + (client->has_zone ? "client" : "server") + " address " +
                 quoted(client->has_zone ? fields[0] : fields[2]) + " has a zone index";
        return std::nullopt;
    }
    if (client->zone != server->zone) {
        *error = "the client address " + quoted(fields[0]) + " and the server address " + quoted(fields[2]) +
                 " name different zones";
        return std::nullopt;
    }
    SshConnection c;
    c.client = client->address;
    c.client_port = *cport;
    c.server = server->address;
    c.server_port = *sport;
    c.zone = client->zone;
    return c;
}

namespace {

std::string default_rule(Direction d, Action a) {
    return std::string("policy ") + direction_name(d) + " " + action_name(a);
}

// The steps ringfence adds to every chain, by name and why they decide.
const char* builtin_name(StepKind k) {
    static const char* const names[] = {"loopback", "", "established", "invalid", "builtin ICMP", ""};
    return names[static_cast<int>(k)];
}

const char* builtin_reason(StepKind k) {
    static const char* const reasons[] = {
        "loopback traffic is always accepted", "", "it belongs to a connection already accepted",
        "connection tracking calls it invalid", "ICMP errors, ping and neighbour discovery are always accepted", ""};
    return reasons[static_cast<int>(k)];
}

// The Decision for the step that decided; the words stay those explain has
// always printed.
core::Decision decision_of(const Policy& policy, const Step& step, Direction dir) {
    core::Decision d;
    d.verdict = step.action == Action::accept ? core::Verdict::allow : core::Verdict::deny;
    switch (step.kind) {
        case StepKind::rule:
            d.source.file = policy.file();
            d.source.line = step.rule->line;
            d.source.rule = step.rule->source;
            d.reason = step.action == Action::accept
                           ? "the first allow rule that matches"
                           : "it matches, and deny and reject rules come before allow rules";
            break;
        case StepKind::loopback:
        case StepKind::established:
        case StepKind::invalid:
        case StepKind::builtin_icmp:
            d.source.rule = builtin_name(step.kind);
            d.reason = builtin_reason(step.kind);
            break;
        case StepKind::default_policy:
            d.source.rule = default_rule(dir, step.action);
            d.reason = "no rule matches, and the default is `" + d.source.rule + "`";
            break;
    }
    return d;
}

}  // namespace

PacketVerdict evaluate(const Policy& policy, const Packet& packet) {
    const Step& step = first_match(policy, packet);
    PacketVerdict v;
    v.action = step.action;
    v.step = &step;
    v.rule = step.rule;
    v.decision = decision_of(policy, step, packet.direction);
    return v;
}

PacketVerdict evaluate_inbound(const Policy& policy, const core::IpAddress& peer, Protocol protocol,
                               uint16_t port) {
    Packet p;
    p.direction = Direction::in;
    p.peer = peer;
    p.protocol = protocol;
    p.port = port;
    return evaluate(policy, p);
}

core::Decision decide_inbound(const Policy& policy, const core::IpAddress& peer, Protocol protocol, uint16_t port) {
    return evaluate_inbound(policy, peer, protocol, port).decision;
}

std::optional<std::pair<Protocol, uint16_t>> parse_connection_spec(std::string_view text, std::string* error) {
    size_t slash = text.find('/');
    std::string_view proto = text.substr(0, slash);
    Protocol p;
    if (proto == "tcp") {
        p = Protocol::tcp;
    } else if (proto == "udp") {
        p = Protocol::udp;
    } else {
        *error = quoted(text) + " is not PROTO/PORT: the protocol must be tcp or udp (like tcp/22)";
        return std::nullopt;
    }
    std::optional<uint16_t> port = slash == std::string_view::npos ? std::nullopt : parse_port(text.substr(slash + 1));
    if (!port) {
        *error = quoted(text) + " is not PROTO/PORT: the port must be a number from 1 to 65535 (like tcp/22)";
        return std::nullopt;
    }
    return std::make_pair(p, *port);
}

std::string explain_inbound(const Policy& policy, const core::IpAddress& peer, Protocol protocol, uint16_t port) {
    PacketVerdict v = evaluate_inbound(policy, peer, protocol, port);
    const core::Decision& d = v.decision;
    std::string what = v.action == Action::accept ? "accepted" : v.action == Action::reject ? "rejected" : "dropped";
    std::string out = std::string(protocol_name(protocol)) + "/" + std::to_string(port) + " from " +
                      peer.unmapped().to_string() + ": " + what;
    if (!d.source.is_default()) {
        out += " by " + d.source.location() + " (" + core::escape_for_log(d.source.rule, 200) + ")";
    }
    return out + ": " + d.reason;
}

// Walks the plan twice for the live session (established packets: the
// client's to our port, our replies to the client's port), then once for a
// new connection from the same client.
SessionVerdict check_session(const Policy& policy, const core::IpAddress& client, uint16_t client_port,
                             uint16_t server_port) {
    SessionVerdict v;
    Packet in;
    in.direction = Direction::in;
    in.peer = client;
    in.protocol = Protocol::tcp;
    in.port = server_port;
    in.established = true;
    Packet out = in;
    out.direction = Direction::out;
    out.port = client_port;
    const PacketVerdict to_us = evaluate(policy, in);
    const PacketVerdict to_them = evaluate(policy, out);
    const PacketVerdict* cut = nullptr;
    for (const PacketVerdict* pv : {&to_us, &to_them}) {
        if (pv->action != Action::accept && (cut == nullptr || pv->step->line() < cut->step->line())) {
            cut = pv;
        }
    }
    if (cut != nullptr) {
        v.cut = true;
        v.reconnect = false;
        v.line = cut->step->line();
        v.reason = cut->rule != nullptr ? describe(policy, *cut->rule) + " matches it" : cut->decision.reason;
        return v;
    }
    // Nothing cuts the session: a new connection meets the allow rules and
    // the default, as any new connection does.
    in.established = false;
    const PacketVerdict fresh = evaluate(policy, in);
    v.line = fresh.step->line();
    if (fresh.action != Action::accept) {
        v.reconnect = false;
        v.reason = fresh.rule != nullptr ? describe(policy, *fresh.rule) + " matches it"
                                         : "no allow rule matches it and the default is `" +
                                               fresh.decision.source.rule + "`";
    }
    return v;
}

}  // namespace ringfence::firewall
