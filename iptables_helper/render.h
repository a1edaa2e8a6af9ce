// SPDX-License-Identifier: BSD-3-Clause
// Renders a compiled firewall Policy as restore input: iptables-restore,
// ip6tables-restore and `ipset restore`. Pure functions of the policy: the
// same policy gives the same bytes.
//
// What the output touches: only ringfence's own chains in the filter table
// (RINGFENCE-IN, RINGFENCE-OUT, RINGFENCE-DROP, RINGFENCE-REJECT) and its own
// ipsets (ringfence-NAME-v4G, ringfence-NAME-v6G).
//
// Set generations: the last letter G of a set name is a generation, 'a' in
// rendered text. The applier loads new sets under a generation that no live
// rule references (rewriting the names, see applier.h), then the rules that
// point at them, then destroys the old generation: old rules never see a half
// filled or new set, so a kill in the middle leaves old or new, not a mix. It must be loaded with
// `iptables-restore --noflush`: a `:CHAIN - [0:0]` line then creates the chain
// or flushes it, builtin chains and other managers' chains stay as they are,
// and the whole table is replaced in one commit.
//
// The jumps from INPUT/OUTPUT: builtin chains are not flushed by --noflush,
// so `-I INPUT 1 -j RINGFENCE-IN` would be added again on every load. The
// applier therefore asks first (`iptables -w 5 -C INPUT -j RINGFENCE-IN`) and
// renders the hooks only when they are absent (RenderOptions::hooks).
//
// Load order: ipset first (the rules name the sets), then each family.

inline constexpr char kRenderedGeneration = 'a';
#pragma once

#include <string>
#include <vector>

#include "core/ip.h"
#include "iptables_helper/firewall_conf.h"

namespace ringfence::firewall {

inline constexpr const char* kChainIn = "RINGFENCE-IN";
inline constexpr const char* kChainOut = "RINGFENCE-OUT";
inline constexpr const char* kChainDrop = "RINGFENCE-DROP";
inline constexpr const char* kChainReject = "RINGFENCE-REJECT";
inline constexpr const char* kLogPrefix = "ringfence-drop: ";

struct RenderOptions {
    // Emit `-I INPUT 1 -j RINGFENCE-IN` and `-I OUTPUT 1 -j RINGFENCE-OUT`.
    bool hooks = true;
};

// "FILE:LINE" naming a rule in comments: the policy file's base name, only
// plain characters (others become '_', so it never needs quoting), at most
// max_name of them.
std::string rule_label(const Policy& policy, int line, size_t max_name);

// ringfence's own chains, in the order they are declared.
std::vector<std::string> own_chains();

// "ringfence-NAME-v4a" / "ringfence-NAME-v6a" (kRenderedGeneration).
std::string ipset_name(const std::string& set, core::IpAddress::Family family);

// The hook rules as iptables arguments (for `-C` checks and for `flush`).
std::vector<std::string> hook_rules();

// iptables-restore (v4) or ip6tables-restore (v6) input for the filter table.
// Precondition: policy.valid().
std::string render_iptables(const Policy& policy, core::IpAddress::Family family,
                            const RenderOptions& options = RenderOptions());

// `ipset restore` input: every set of the policy, both families, created
// (-exist) and filled. Flushing a set that live rules use would open a gap:
// load it only under a generation no live rule references (the applier does).
// Empty when the policy has no sets.
std::string render_ipset(const Policy& policy);

}  // namespace ringfence::firewall
