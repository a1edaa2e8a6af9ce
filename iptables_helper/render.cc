// SPDX-License-Identifier: BSD-3-Clause
// The firewall renderers: Policy -> iptables-restore / ip6tables-restore /
// ipset restore text.
#include "iptables_helper/render.h"

#include <set>
#include <unordered_set>

#include "iptables_helper/plan.h"

namespace ringfence::firewall {

using Family = core::IpAddress::Family;

namespace {

// Set size is capped by maxelem; `create -exist` accepts an existing set
// only with the same settings (the applier destroys a stale set first). A
// hash set grows with its content, not with maxelem, but each growth
// rehashes it: a big list starts with a quarter as many buckets as entries
// (a power of two, from 1024), which makes loading 100,000 entries about a
// fifth faster; lists up to 4096 entries keep 1024.
constexpr const char* kIpsetMaxelem = "maxelem 4194304";

unsigned long ipset_hashsize(size_t entries) {
    unsigned long size = 1024;
    while (size < entries / 4 && size < (1ul << 20)) {
        size <<= 1;
    }
    return size;
}

// A comment names the rule's file:line.
std::string comment(const Policy& policy, int line) {
    return " -m comment --comment \"" + rule_label(policy, line, 200) + "\"";
}

std::string target_of(Action a) {
    switch (a) {
        case Action::accept:
            return "ACCEPT";
        case Action::drop:
            return kChainDrop;
        case Action::reject:
            return kChainReject;
    }
    return kChainDrop;
}

// Protocol and port/type matches for one item of a PortSpec; an empty
// vector means the spec has nothing in this family.
std::vector<std::string> spec_matches(const PortSpec& spec, Family family) {
    std::vector<std::string> out;
    switch (spec.protocol) {
        case Protocol::any:
            out.push_back("");
            break;
        case Protocol::tcp:
        case Protocol::udp: {
            std::string p = protocol_name(spec.protocol);
            if (spec.ports.empty()) {
                out.push_back(" -p " + p);
            }
            for (const PortRange& r : spec.ports) {
                std::string port = std::to_string(r.lo);
                if (r.hi != r.lo) {
                    port += ":" + std::to_string(r.hi);
                }
                out.push_back(" -p " + p + " -m " + p + " --dport " + port);
            }
            break;
        }
        case Protocol::icmp:
            if (family != Family::v4) {
                break;
            }
            if (spec.types.empty()) {
                out.push_back(" -p icmp");
            }
            for (uint8_t t : spec.types) {
                out.push_back(" -p icmp -m icmp --icmp-type " + std::to_string(t));
            }
            break;
        case Protocol::icmpv6:
            if (family != Family::v6) {
                break;
            }
            if (spec.types.empty()) {
                out.push_back(" -p ipv6-icmp");
            }
            for (uint8_t t : spec.types) {
                out.push_back(" -p ipv6-icmp -m icmp6 --icmpv6-type " + std::to_string(t));
            }
            break;
    }
    return out;
}

// Address matches for the rule's peers in this family: one entry per
// network or set; {""} when the rule has no address restriction; empty when
// the rule does not exist in this family.
std::vector<std::string> peer_matches(const Peers& peers, Direction dir, Family family) {
    if (peers.any) {
        return {""};
    }
    std::vector<std::string> out;
    const char* flag = dir == Direction::in ? " -s " : " -d ";
    const char* side = dir == Direction::in ? " src" : " dst";
    for (const core::CidrRange& r : family == Family::v4 ? peers.v4 : peers.v6) {
        out.push_back(flag + r.to_string());
    }
    for (const std::string& s : peers.sets) {
        out.push_back(" -m set --match-set " + ipset_name(s, family) + side);
    }
    return out;
}

void render_rule(const Policy& policy, const Rule& rule, Family family, std::string* out) {
    const char* chain = rule.direction == Direction::in ? kChainIn : kChainOut;
    std::vector<std::string> peers = peer_matches(rule.peers, rule.direction, family);
    for (const PortSpec& spec : rule.specs) {
        for (const std::string& m : spec_matches(spec, family)) {
            for (const std::string& p : peers) {
                *out += std::string("-A ") + chain + p + m + comment(policy, rule.line) + " -j " +
                        target_of(rule.action) + "\n";
            }
        }
    }
}

// A builtin ICMP step, one rule per message type, in this family only.
void render_icmp(const IcmpAccept& icmp, Direction dir, Family family, std::string* out) {
    if (icmp.family != family) {
        return;
    }
    const std::string chain = dir == Direction::in ? kChainIn : kChainOut;
    std::string peer;
    if (icmp.peer) {
        peer = (dir == Direction::in ? " -s " : " -d ") + icmp.peer->to_string();
    }
    for (uint8_t t : icmp.types) {
        *out += "-A " + chain + peer +
                (family == Family::v4 ? " -p icmp -m icmp --icmp-type " : " -p ipv6-icmp -m icmp6 --icmpv6-type ") +
                std::to_string(t) + (icmp.hop_limit_255 ? " -m hl --hl-eq 255" : "") + " -j ACCEPT\n";
    }
}

// The matches and target of a step that carries no data.
std::string fixed_step(StepKind kind, Direction dir) {
    if (kind == StepKind::loopback) {
        return dir == Direction::in ? " -i lo -j ACCEPT" : " -o lo -j ACCEPT";
    }
    return kind == StepKind::established ? " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
                                         : " -m conntrack --ctstate INVALID -j DROP";
}

// The chain prints the plan's steps in order.
void render_chain(const Policy& policy, Direction dir, Family family, std::string* out) {
    const std::string chain = dir == Direction::in ? kChainIn : kChainOut;
    for (const Step& step : policy.plan().chain(dir).steps) {
        switch (step.kind) {
            case StepKind::rule:
                render_rule(policy, *step.rule, family, out);
                break;
            case StepKind::builtin_icmp:
                render_icmp(step.icmp, dir, family, out);
                break;
            case StepKind::loopback:
            case StepKind::established:
            case StepKind::invalid:
                *out += "-A " + chain + fixed_step(step.kind, dir) + "\n";
                break;
            case StepKind::default_policy:
                // Default accept returns to the builtin chain: the rest of
                // INPUT/OUTPUT (other managers' rules) still applies.
                if (step.action != Action::accept) {
                    *out += "-A " + chain + " -j " + target_of(step.action) + "\n";
                }
                break;
        }
    }
}

void render_log(const Policy& policy, const std::string& chain, std::string* out) {
    const LogSettings& log = policy.log();
    if (!log.enabled) {
        return;
    }
    *out += "-A " + chain + " -m limit --limit " + std::to_string(log.rate) + "/" + log.unit + " --limit-burst " +
            std::to_string(log.burst) + " -j LOG --log-prefix \"" + kLogPrefix + "\" --log-level 4\n";
}

}  // namespace

std::string rule_label(const Policy& policy, int line, size_t max_name) {
    const std::string& path = policy.file();
    size_t slash = path.rfind('/');
    std::string out;
    for (char c : slash == std::string::npos ? path : path.substr(slash + 1)) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                     c == '_' || c == '-';
        out += plain ? c : '_';
    }
    if (out.size() > max_name) {
        out.resize(max_name);
    }
    return out + ":" + std::to_string(line);
}

std::vector<std::string> own_chains() { return {kChainIn, kChainOut, kChainDrop, kChainReject}; }

std::string ipset_name(const std::string& set, Family family) {
    return "ringfence-" + set + (family == Family::v4 ? "-v4" : "-v6") + kRenderedGeneration;
}

std::vector<std::string> hook_rules() {
    return {std::string("INPUT -j ") + kChainIn, std::string("OUTPUT -j ") + kChainOut};
}

std::string render_iptables(const Policy& policy, Family family, const RenderOptions& options) {
    std::string out;
    out += std::string("# ringfence-firewall: ") + (family == Family::v4 ? "IPv4" : "IPv6") +
           " filter rules; load with " + (family == Family::v4 ? "iptables" : "ip6tables") + "-restore --noflush\n";
    out += "*filter\n";
    for (const std::string& c : own_chains()) {
        out += ":" + c + " - [0:0]\n";
    }
    render_log(policy, kChainDrop, &out);
    out += std::string("-A ") + kChainDrop + " -j DROP\n";
    render_log(policy, kChainReject, &out);
    out += std::string("-A ") + kChainReject + " -p tcp -j REJECT --reject-with tcp-reset\n";
    out += std::string("-A ") + kChainReject + " -j REJECT --reject-with " +
           (family == Family::v4 ? "icmp-port-unreachable" : "icmp6-port-unreachable") + "\n";
    render_chain(policy, Direction::in, family, &out);
    render_chain(policy, Direction::out, family, &out);
    if (options.hooks) {
        for (const std::string& h : hook_rules()) {
            out += "-I " + h.substr(0, h.find(' ')) + " 1" + h.substr(h.find(' ')) + "\n";
        }
    }
    out += "COMMIT\n";
    return out;
}

std::string render_ipset(const Policy& policy) {
    std::string out;
    for (const AddressSet& set : policy.sets()) {
        for (Family family : {Family::v4, Family::v6}) {
            const std::string name = ipset_name(set.name, family);
            const std::vector<core::CidrRange>& ranges = family == Family::v4 ? set.v4 : set.v6;
            out += "create " + name + " hash:net family " + (family == Family::v4 ? "inet" : "inet6") +
                   " hashsize " + std::to_string(ipset_hashsize(ranges.size())) + " " + kIpsetMaxelem + " -exist\n";
            out += "flush " + name + "\n";
            std::unordered_set<std::string> seen;  // a hash: sets of 100,000 entries and more
            seen.reserve(ranges.size());
            const std::string prefix = "add " + name + " ";
            for (const core::CidrRange& r : ranges) {
                std::string text = r.to_string();
                if (seen.insert(text).second) {
                    out += prefix;
                    out += text;
                    out += '\n';
                }
            }
        }
    }
    return out;
}

}  // namespace ringfence::firewall
