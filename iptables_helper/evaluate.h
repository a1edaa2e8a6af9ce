// SPDX-License-Identifier: BSD-3-Clause
// What a compiled firewall Policy does with one connection: the evaluator
// walks the rule plan (plan.h) that the renderers print, and answers as a
// core::Decision. Used by `explain`, by `apply` to refuse a policy that
// would cut the administrator's own SSH session, and by `ringfence`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/decision.h"
#include "core/ip.h"
#include "iptables_helper/firewall_conf.h"
#include "iptables_helper/plan.h"

namespace ringfence::firewall {

struct SessionVerdict {
    bool cut = false;          // the live session's packets would be dropped or rejected
    bool reconnect = true;     // a new connection from the client would be accepted
    int line = 0;              // the rule that decides (0: the default policy)
    std::string reason;        // one sentence for the refusal message
};

// The session sshd(8) names in SSH_CONNECTION: "CLIENT_IP CLIENT_PORT
// SERVER_IP SERVER_PORT". For a link-local IPv6 session both addresses carry
// the interface as a zone index ("fe80::1%eth0"), which getnameinfo(3)
// appends; the zone says which link, not which address, so matching against
// the policy (whose networks have no zone) ignores it.
struct SshConnection {
    core::IpAddress client;  // as written: a v4-mapped address stays mapped
    uint16_t client_port = 0;
    core::IpAddress server;
    uint16_t server_port = 0;
    std::string zone;  // "" unless both addresses are link-local with a zone

    // "fe80::1%eth0" / "192.0.2.1": the client as the messages show it.
    std::string client_text() const;
};

// Reads an SSH_CONNECTION value (untrusted text). Returns nullopt, with one
// sentence in *error saying what is wrong, unless every part is read: exactly
// four fields separated by blanks, ports 1..65535 in plain decimal, addresses
// core::IpAddress::parse accepts (v4-mapped ones count as the IPv4 address
// they carry, which is what IPv4 netfilter sees), a zone index only on IPv6
// link-local addresses and then the same zone on both, and client and server
// of one family. The caller must treat nullopt as "cannot check", never as
// "nothing to check".
std::optional<SshConnection> parse_ssh_connection(std::string_view text, std::string* error);

// What the chain does with one packet: the first step of the plan that
// matches it.
struct PacketVerdict {
    Action action = Action::drop;
    const Step* step = nullptr;  // the deciding step (never null after evaluate)
    const Rule* rule = nullptr;  // its rule; null: a builtin step or the default policy
    // Allowed or denied, by FILE:LINE (the rule as written) or by a builtin
    // step or the default ("policy in drop"), and why in words.
    core::Decision decision;
};
PacketVerdict evaluate(const Policy& policy, const Packet& packet);

// What happens to a new inbound connection (its first packet) from `peer`
// to this host's `protocol`/`port`, in the plan's order: loopback is
// accepted, then the first deny or reject rule that matches, then the first
// allow rule, then the default policy.
PacketVerdict evaluate_inbound(const Policy& policy, const core::IpAddress& peer, Protocol protocol, uint16_t port);

// The same, as the one Decision shape every layer answers with.
core::Decision decide_inbound(const Policy& policy, const core::IpAddress& peer, Protocol protocol, uint16_t port);

// "tcp/22", "udp/161": the protocol and port of a connection to explain.
// nullopt with *error set otherwise.
std::optional<std::pair<Protocol, uint16_t>> parse_connection_spec(std::string_view text, std::string* error);

// One line for an admin: "tcp/22 from 10.1.2.3: dropped by FILE:LINE
// (deny in from blocklist): REASON".
std::string explain_inbound(const Policy& policy, const core::IpAddress& peer, Protocol protocol, uint16_t port);

// The TCP session client:client_port -> server_port of this host (an SSH
// session as SSH_CONNECTION names it).
SessionVerdict check_session(const Policy& policy, const core::IpAddress& client, uint16_t client_port,
                             uint16_t server_port);

}  // namespace ringfence::firewall
