// SPDX-License-Identifier: BSD-3-Clause
// The rule plan: the order in which ringfence's chains look at a packet,
// written once. The iptables and nftables renderers print it, and the
// evaluator (explain, the SSH lockout check, lint) walks it, so what is
// loaded and what is explained cannot disagree.
//
// Each direction is one ordered list of steps; the first step that matches
// a packet decides:
//   1. loopback            accept (-i lo / -o lo)
//   2. deny/reject rules   in file order: listing an address cuts its live
//                          sessions too, as `iptables -I INPUT 1 -s X -j DROP` did
//   3. established         accept packets of tracked connections
//   4. invalid             drop packets conntrack calls invalid
//   5. builtin ICMP        accept errors, ping, neighbour and listener discovery
//   6. allow rules         in file order
//   7. default policy      `policy in|out`; logged through the drop/reject chains
// The plan is renderer-neutral: a step says what it matches and what it
// does, never how a tool spells it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/ip.h"
#include "iptables_helper/firewall_conf.h"

namespace ringfence::firewall {

enum class StepKind { loopback, rule, established, invalid, builtin_icmp, default_policy };

// One builtin ICMP acceptance: these message types of one family, perhaps
// only from (in) or to (out) one network, perhaps only with hop limit 255
// (neighbour discovery: proof that the sender is on the link).
struct IcmpAccept {
    core::IpAddress::Family family = core::IpAddress::Family::v4;
    std::vector<uint8_t> types;
    bool hop_limit_255 = false;
    std::optional<core::CidrRange> peer;
};

struct Step {
    StepKind kind = StepKind::default_policy;
    Action action = Action::accept;  // what the step does with a packet it matches
    const Rule* rule = nullptr;      // StepKind::rule: the rule, which carries its line and text
    IcmpAccept icmp;                 // StepKind::builtin_icmp
    int line() const { return rule != nullptr ? rule->line : 0; }  // 0: not from the file
};

struct ChainPlan {
    Direction direction = Direction::in;
    std::vector<Step> steps;  // in order; the last is always the default policy
};

// Built by Policy::compile; rules are referenced, so a plan lives as long
// as its policy (Policy::plan()).
struct Plan {
    ChainPlan in, out;
    const ChainPlan& chain(Direction d) const { return d == Direction::in ? in : out; }
};

Plan build_plan(const Policy& policy);

// What the walk needs to know about one packet.
struct Packet {
    Direction direction = Direction::in;
    core::IpAddress peer;  // the source (in) or destination (out); v4-mapped counts as IPv4
    Protocol protocol = Protocol::tcp;
    uint16_t port = 0;         // destination port (tcp, udp) or message type (icmp, icmpv6)
    bool established = false;  // part of a connection conntrack already tracks
};

// The first step of the packet's chain that matches it (never null: the
// default policy matches everything).
const Step& first_match(const Policy& policy, const Packet& packet);

// Does `rule` match a packet to or from `peer` (source for in rules,
// destination for out rules) with this protocol and destination port?
bool rule_matches(const Policy& policy, const Rule& rule, const core::IpAddress& peer, Protocol protocol,
                  uint16_t dport);

}  // namespace ringfence::firewall
