// SPDX-License-Identifier: BSD-3-Clause
// Renders a compiled firewall Policy as an `nft -f` script: the nftables
// backend of ringfence-firewall, with the same meaning as render_iptables()
// gives both families (one internal model, a second renderer). Pure function
// of the policy: the same policy gives the same bytes.
//
// What the script touches: only the table `inet ringfence` (both families
// and the sets in one table). After a `#` header line it begins with
//     table inet ringfence
//     delete table inet ringfence
// and then defines the whole table, so `nft -f` replaces it in one
// transaction whether or not it existed; other tables are left alone.
//
// Names inside the table:
//   chain input       type filter hook input  priority filter - 10; policy accept
//   chain output      type filter hook output priority filter - 10; policy accept
//                     (the counterparts of RINGFENCE-IN / RINGFENCE-OUT; -10
//                     runs them before chains at the usual filter priority,
//                     iptables-nft's INPUT/OUTPUT included, as the iptables
//                     backend's jump at position 1 does)
//   chain log_drop    rate-limited log, then drop      (RINGFENCE-DROP)
//   chain log_reject  rate-limited log, then reject    (RINGFENCE-REJECT):
//                     tcp reset for tcp, icmpx port-unreachable otherwise
//                     (written `icmpx type port-unreachable`, which old and
//                     new nft versions all read)
//   set NAME_v4, NAME_v6   each policy set, `type ipv4_addr` / `ipv6_addr`,
//                     `flags interval; auto-merge`. Set names hold letters,
//                     digits, '_' and '-', which are nft identifier characters;
//                     the suffix keeps every name apart from nft keywords.
//
// How the families map: rules without addresses match both families in one
// nft rule; IPv4 networks and sets become `ip saddr`/`ip daddr` matches,
// IPv6 ones `ip6 saddr`/`ip6 daddr`, so a rule exists exactly in the families
// render_iptables() gives it. icmp specs exist only for IPv4 and icmpv6 specs
// only for IPv6 (an explicit `meta nfproto` where no address implies it).
// A rule's ports of one protocol become one anonymous set, its networks of
// one family another; overlapping or adjacent entries are merged and CIDRs
// inside a larger one dropped first, so the script also loads on nft
// versions without auto-merge of anonymous sets.
//
// Differences that nftables imposes (the decisions stay the same):
// - `accept` ends only this table's chain; base chains of other tables at the
//   same hook still see the packet (iptables' ACCEPT skips the rest of INPUT).
// - Rule comments are capped at 128 bytes by nft, so the file part of
//   "file:line" is cut at 100 characters (render.cc: 200).
// - Log limits are kept per family (`meta nfproto ipv4 limit ...`, then
//   ipv6), as the iptables backend has one limit per family and chain.
#pragma once

#include <string>

#include "core/ip.h"
#include "iptables_helper/firewall_conf.h"

namespace ringfence::firewall {

inline constexpr const char* kNftFamily = "inet";
inline constexpr const char* kNftTable = "ringfence";
inline constexpr const char* kNftChainIn = "input";
inline constexpr const char* kNftChainOut = "output";
inline constexpr const char* kNftChainDrop = "log_drop";
inline constexpr const char* kNftChainReject = "log_reject";
// Base chain priority, as nft writes it.
inline constexpr const char* kNftPriority = "filter - 10";

// "NAME_v4" / "NAME_v6": the nft set of a policy set in table inet ringfence.
std::string nft_set_name(const std::string& set, core::IpAddress::Family family);

// The `nft -f` script that replaces table inet ringfence with the policy.
// Precondition: policy.valid().
std::string render_nft(const Policy& policy);

}  // namespace ringfence::firewall
