// What a compiled firewall Policy does with one connection, computed from
// the model with the same order as the renderers (loopback, deny/reject,
// established, builtin ICMP, allow, default). Used by `apply` to refuse a
// policy that would cut the administrator's own SSH session.
#pragma once

#include <cstdint>
#include <string>

#include "core/ip.h"
#include "iptables_helper/firewall_conf.h"

namespace ringfence::firewall {

// Does `rule` match a packet to or from `peer` (source for in rules,
// destination for out rules) with this protocol and destination port?
bool rule_matches(const Policy& policy, const Rule& rule, const core::IpAddress& peer, Protocol protocol,
                  uint16_t dport);

struct SessionVerdict {
    bool cut = false;          // the live session's packets would be dropped or rejected
    bool reconnect = true;     // a new connection from the client would be accepted
    int line = 0;              // the rule that decides (0: the default policy)
    std::string reason;        // one sentence for the refusal message
};

// The TCP session client:client_port -> server_port of this host (an SSH
// session as SSH_CONNECTION names it).
SessionVerdict check_session(const Policy& policy, const core::IpAddress& client, uint16_t client_port,
                             uint16_t server_port);

}  // namespace ringfence::firewall
