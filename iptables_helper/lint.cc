// SPDX-License-Identifier: BSD-3-Clause
// The firewall lint (lint.h): rule coverage along the plan, and the
// mistakes that lock administrators out.
#include "iptables_helper/lint.h"

#include <algorithm>

#include "core/exit_status.h"
#include "iptables_helper/plan.h"

namespace ringfence::firewall {

namespace {

bool range_covers(const std::vector<core::CidrRange>& outer, const core::CidrRange& inner) {
    for (const core::CidrRange& r : outer) {
        if (r.prefix_len() <= inner.prefix_len() && r.contains(inner.base())) {
            return true;
        }
    }
    return false;
}

// Every address `later` names is named by `earlier` too.
bool peers_cover(const Peers& earlier, const Peers& later) {
    if (earlier.any) {
        return true;
    }
    if (later.any) {
        return false;
    }
    for (const core::CidrRange& r : later.v4) {
        if (!range_covers(earlier.v4, r)) {
            return false;
        }
    }
    for (const core::CidrRange& r : later.v6) {
        if (!range_covers(earlier.v6, r)) {
            return false;
        }
    }
    for (const std::string& s : later.sets) {
        if (std::find(earlier.sets.begin(), earlier.sets.end(), s) == earlier.sets.end()) {
            return false;
        }
    }
    return true;
}

bool spec_covers(const PortSpec& e, const PortSpec& l) {
    if (e.protocol == Protocol::any) {
        return true;
    }
    if (e.protocol != l.protocol) {
        return false;
    }
    if (l.protocol == Protocol::tcp || l.protocol == Protocol::udp) {
        if (e.ports.empty()) {
            return true;
        }
        if (l.ports.empty()) {
            return false;
        }
        for (const PortRange& lr : l.ports) {
            bool inside = std::any_of(e.ports.begin(), e.ports.end(),
                                      [&](const PortRange& er) { return er.lo <= lr.lo && lr.hi <= er.hi; });
            if (!inside) {
                return false;
            }
        }
        return true;
    }
    if (e.types.empty()) {
        return true;
    }
    if (l.types.empty()) {
        return false;
    }
    for (uint8_t t : l.types) {
        if (std::find(e.types.begin(), e.types.end(), t) == e.types.end()) {
            return false;
        }
    }
    return true;
}

bool specs_cover(const std::vector<PortSpec>& earlier, const std::vector<PortSpec>& later) {
    for (const PortSpec& l : later) {
        if (std::none_of(earlier.begin(), earlier.end(), [&](const PortSpec& e) { return spec_covers(e, l); })) {
            return false;
        }
    }
    return true;
}

bool all_traffic(const Rule& r) {
    return r.peers.any && std::any_of(r.specs.begin(), r.specs.end(),
                                      [](const PortSpec& s) { return s.protocol == Protocol::any; });
}

bool matches_ssh(const Rule& r) {
    PortSpec ssh;
    ssh.protocol = Protocol::tcp;
    ssh.ports.push_back(PortRange{22, 22});
    return specs_cover(r.specs, {ssh});
}

std::string verb(const Rule& r) {
    return r.action == Action::accept ? "accepts" : r.action == Action::reject ? "rejects" : "drops";
}

core::Diagnostic warning(const Policy& policy, const Rule* rule, std::string message, std::string hint) {
    core::Diagnostic d;
    d.file = policy.file();
    d.severity = core::Severity::warning;
    if (rule != nullptr) {
        d.line = rule->line;
        d.column = 1;
        d.source_line = rule->source;
    }
    d.message = std::move(message);
    d.hint = std::move(hint);
    return d;
}

void lint_chain(const Policy& policy, const ChainPlan& chain, core::Diagnostics* out) {
    std::vector<const Rule*> before;
    for (const Step& step : chain.steps) {
        if (step.kind != StepKind::rule) {
            continue;
        }
        const Rule& r = *step.rule;
        for (const Rule* e : before) {
            if (!peers_cover(e->peers, r.peers) || !specs_cover(e->specs, r.specs)) {
                continue;
            }
            std::string first = "line " + std::to_string(e->line) + " (`" + core::escape_for_log(e->source, 80) + "`)";
            if (e->action != Action::accept && r.action == Action::accept) {
                out->push_back(warning(policy, &r,
                                       "this allow rule never allows anything: " + first +
                                           " matches all it matches, and deny and reject rules come first",
                                       "narrow line " + std::to_string(e->line) + ", or remove this rule"));
            } else {
                out->push_back(warning(policy, &r, "this rule never decides: " + first + " matches all it matches first",
                                       "remove it, or narrow line " + std::to_string(e->line)));
            }
            break;
        }
        before.push_back(&r);
    }
}

}  // namespace

core::Diagnostics lint(const Policy& policy) {
    core::Diagnostics out;
    if (!policy.valid()) {
        return out;
    }
    for (Direction dir : {Direction::in, Direction::out}) {
        lint_chain(policy, policy.plan().chain(dir), &out);
        const Action def = dir == Direction::in ? policy.default_in() : policy.default_out();
        for (const Rule& r : policy.rules()) {
            if (r.direction == dir && r.action == Action::accept && def != Action::accept && all_traffic(r)) {
                out.push_back(warning(policy, &r,
                                      std::string("this rule accepts all ") + (dir == Direction::in ? "inbound" : "outbound") +
                                          " traffic " + (dir == Direction::in ? "from" : "to") +
                                          " any address: `policy " + direction_name(dir) + " " + action_name(def) +
                                          "` never applies",
                                      "name the services (allow in ssh https ...), or the networks it is for"));
            }
        }
    }
    // SSH: the way an administrator reaches the console.
    bool allowed = policy.default_in() == Action::accept;
    for (const Rule& r : policy.rules()) {
        if (r.direction != Direction::in || !matches_ssh(r)) {
            continue;
        }
        if (r.action != Action::accept && r.peers.any) {
            out.push_back(warning(policy, &r,
                                  "this rule " + verb(r) + " SSH (tcp/22) from every address: no administrator can "
                                  "log in over the network",
                                  "name the addresses to refuse, or a set of them"));
        }
    }
    for (const Rule& r : policy.rules()) {
        if (r.direction == Direction::in && r.action == Action::accept) {
            PortSpec ssh;
            ssh.protocol = Protocol::tcp;
            ssh.ports.push_back(PortRange{22, 22});
            allowed = allowed || std::any_of(r.specs.begin(), r.specs.end(),
                                             [&](const PortSpec& s) { return spec_covers(s, ssh); });
        }
    }
    if (!allowed) {
        out.push_back(warning(policy, nullptr,
                              std::string("no rule allows SSH (tcp/22) in, and the default is `policy in ") +
                                  action_name(policy.default_in()) + "`: no administrator can log in over the network",
                              "add `allow in tcp/22 from NETWORK` for the management network (ignore this if sshd "
                              "listens on another port)"));
    }
    return out;
}

std::string CheckReport::counts() const {
    auto n = [](size_t count, const char* one, const char* many) {
        return std::to_string(count) + " " + (count == 1 ? one : many);
    };
    size_t rules = 0, sets = 0, entries = 0;
    if (policy) {
        rules = policy->rules().size();
        sets = policy->sets().size();
        for (const AddressSet& s : policy->sets()) {
            entries += s.v4.size() + s.v6.size();
        }
    }
    return n(rules, "rule", "rules") + ", " + n(sets, "set", "sets") + ", " + n(entries, "set entry", "set entries");
}

int CheckReport::exit_status() const {
    if (errors > 0 || !policy || !policy->valid()) {
        return core::kExitInvalid;
    }
    return warnings > 0 ? core::kExitWarnings : core::kExitOk;
}

CheckReport check_file(const std::string& path, const CompileOptions& options) {
    return check_read(path, core::read_config_file(path), options);
}

CheckReport check_read(const std::string& path, const core::ReadResult& rr, const CompileOptions& options) {
    CheckReport out;
    if (rr.status == core::ReadStatus::ok) {
        out.policy = Policy::compile(path, rr.text.lines, options, &out.diagnostics);
        for (const std::string& l : rr.text.lines) {
            out.text += l + "\n";
        }
        core::Diagnostics more = lint(*out.policy);
        out.diagnostics.insert(out.diagnostics.end(), more.begin(), more.end());
    } else if (rr.status == core::ReadStatus::missing) {
        core::Diagnostic d;
        d.file = path;
        d.message = "the firewall policy does not exist";
        out.diagnostics.push_back(d);
    } else {
        out.diagnostics.push_back(rr.error);
    }
    for (const core::Diagnostic& d : out.diagnostics) {
        if (d.severity == core::Severity::error) {
            ++out.errors;
        } else if (d.severity == core::Severity::warning) {
            ++out.warnings;
        }
    }
    return out;
}

}  // namespace ringfence::firewall
