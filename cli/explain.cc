// SPDX-License-Identifier: BSD-3-Clause
#include "cli/explain.h"

#include <cstdio>

#include "cli/audit_report.h"
#include "cli/cross_layer.h"
#include "cli/pam_flow.h"
#include "cli/policies.h"
#include "core/clock.h"
#include "core/exit_status.h"
#include "core/identity.h"
#include "core/ip.h"
#include "core/name_service.h"
#include "core/text.h"
#include "iptables_helper/evaluate.h"
#include "pam_module/access_explain.h"
#include "tcpd_shim/hosts_explain.h"

namespace ringfence::cli {

namespace {

using core::escape_for_log;

constexpr size_t kMaxPamFile = 1u << 20;

struct Target {
    const ConsoleDaemon* daemon = nullptr;  // null: a bare port
    firewall::Protocol protocol = firewall::Protocol::tcp;
    uint16_t port = 0;
    std::string text;  // "sshd (tcp/22)" or "tcp/8080"
};

// "sshd", "22/tcp" or "tcp/22".
std::optional<Target> parse_target(const std::vector<ConsoleDaemon>& daemons, const std::string& s,
                                   std::string* error) {
    Target t;
    for (const ConsoleDaemon& d : daemons) {
        if (d.name == s) {
            t.daemon = &d;
            t.protocol = d.protocol;
            t.port = d.port;
            t.text = d.name + " (" + firewall::protocol_name(d.protocol) + "/" + std::to_string(d.port) + ")";
            return t;
        }
    }
    std::string spec = s;
    size_t slash = s.find('/');
    if (slash != std::string::npos && slash > 0 && std::isdigit(static_cast<unsigned char>(s[0]))) {
        spec = s.substr(slash + 1) + "/" + s.substr(0, slash);  // 22/tcp -> tcp/22
    }
    std::optional<std::pair<firewall::Protocol, uint16_t>> p = firewall::parse_connection_spec(spec, error);
    if (!p) {
        *error = "--service: expected sshd, vmware-hostd, vmware-authd or PORT/PROTO (22/tcp): " + *error;
        return std::nullopt;
    }
    t.protocol = p->first;
    t.port = p->second;
    for (const ConsoleDaemon& d : daemons) {
        if (d.protocol == t.protocol && d.port == t.port) {
            t.daemon = &d;
        }
    }
    t.text = std::string(firewall::protocol_name(t.protocol)) + "/" + std::to_string(t.port) +
             (t.daemon != nullptr ? " (" + t.daemon->name + ")" : "");
    return t;
}

// Does an allow-in rule of the firewall name this port (from anyone)?
const firewall::Rule* allow_rule_for(const firewall::Policy& fw, firewall::Protocol proto, uint16_t port) {
    for (const firewall::Rule& r : fw.rules()) {
        if (r.action != firewall::Action::accept || r.direction != firewall::Direction::in || r.peers.any) {
            continue;
        }
        for (const firewall::PortSpec& s : r.specs) {
            if (s.protocol != proto) {
                continue;
            }
            for (const firewall::PortRange& pr : s.ports) {
                if (port >= pr.lo && port <= pr.hi) {
                    return &r;
                }
            }
        }
    }
    return nullptr;
}

LayerStep firewall_step(const Context& ctx, const core::IpAddress& from, const Target& t) {
    LayerStep step;
    step.layer = "firewall";
    std::string err;
    bool missing = false;
    std::optional<firewall::CheckReport> fw = check_firewall_policy(ctx, &missing, &err);
    if (missing) {
        step.note = std::string(kFirewallPolicy) + " does not exist: ringfence-firewall is not in use";
        return step;
    }
    if (!fw) {
        step.kind = LayerStep::Kind::broken;
        step.note = err;
        return step;
    }
    if (fw->errors > 0 || !fw->policy || !fw->policy->valid()) {
        step.kind = LayerStep::Kind::broken;
        step.note = std::string(kFirewallPolicy) + " has errors (ringfence lint): ringfence-firewall would not " +
                    "load it; the rules loaded now decide";
        return step;
    }
    const firewall::Policy& p = *fw->policy;
    firewall::PacketVerdict v = firewall::evaluate_inbound(p, from, t.protocol, t.port);
    step.kind = LayerStep::Kind::decided;
    step.decision = v.decision;
    core::Decision& d = step.decision;
    if (d.verdict == core::Verdict::deny) {
        if (v.rule != nullptr) {
            step.change = "remove " + from.unmapped().to_string() + " from what " + p.file() + ":" +
                          std::to_string(v.rule->line) + " denies";
        } else if (const firewall::Rule* r = allow_rule_for(p, t.protocol, t.port)) {
            step.change = "add " + from.unmapped().to_string() + " to the from list of " + p.file() + ":" +
                          std::to_string(r->line);
        } else {
            step.change = "add 'allow in " + std::string(firewall::protocol_name(t.protocol)) + "/" +
                          std::to_string(t.port) + " from " + from.unmapped().to_string() + "' to " + p.file();
        }
    }
    return step;
}

LayerStep wrappers_step(const Context& ctx, const core::IpAddress& from, const Target& t) {
    LayerStep step;
    step.layer = "wrappers";
    if (t.daemon == nullptr) {
        step.note = "no console daemon listens on " + t.text;
        return step;
    }
    std::string via;
    for (const WrappedProgram& w : wrapped_daemons(ctx)) {
        if (w.daemon.name == t.daemon->name) {
            via = w.daemon.file;
        }
    }
    if (via.empty()) {
        step.note = t.daemon->name + " is not wrapped (no ringfence-wrap drop-in, no xinetd service with "
                                     "ringfence-tcpd): hosts.allow does not apply";
        return step;
    }
    core::Diagnostics diags;
    std::string err;
    std::optional<HostsPolicy> hosts = load_hosts_policy(ctx, &diags, &err);
    if (!hosts || !hosts->policy) {
        step.kind = LayerStep::Kind::broken;
        step.note = err;
        return step;
    }
    tcpd::Request q;
    q.daemon = t.daemon->name;
    q.server_port = t.port;
    q.client.address = from;
    q.client.name = std::string();  // no DNS: a name pattern never matches
    tcpd::Lookups none;
    tcpd::Decision h = hosts->policy->evaluate(q, none);
    step.kind = LayerStep::Kind::decided;
    step.decision = tcpd::to_core_decision(h, q);
    core::Decision& d = step.decision;
    d.reason += " (wrapped by " + via + "; host names not looked up)";
    if (d.verdict == core::Verdict::deny) {
        step.change = h.rule != nullptr && h.rule->broken
                          ? "fix " + h.rule->location() + " (a rule with an error denies)"
                          : "add '" + t.daemon->name + ": " + from.unmapped().to_string() + "' to /etc/hosts.allow";
    }
    return step;
}

LayerStep pam_step(const Context& ctx, const std::string& from, const Target& t, const ExplainRequest& r) {
    LayerStep step;
    step.layer = "pam";
    if (t.daemon == nullptr) {
        step.note = "no PAM service for " + t.text;
        return step;
    }
    pam::ReadPamFile read = [&ctx](const std::string& path, std::string* error) -> std::optional<std::string> {
        FileContent c;
        ReadOutcome o = read_file(ctx, path, core::FinalLink::follow, kMaxPamFile, &c, error);
        if (o == ReadOutcome::missing) {
            error->clear();
        }
        return o == ReadOutcome::ok ? std::optional<std::string>(c.bytes) : std::nullopt;
    };
    pam::AccountFlow flow = pam::account_flow(t.daemon->pam_service, read);
    const pam::FlowLine* line = nullptr;
    for (const pam::FlowLine& l : flow.lines) {
        if (line == nullptr && l.line.module_name() == "pam_ringfence.so") {
            line = &l;
        }
    }
    if (!flow.installed || line == nullptr) {
        step.note = "the account stack of PAM service '" + t.daemon->pam_service + "' does not run pam_ringfence";
        return step;
    }
    if (!r.user) {
        step.kind = LayerStep::Kind::missing_input;
        step.note = "needs --user: pam_ringfence (" + line->file + ":" + std::to_string(line->line.number) +
                    ") decides per user";
        return step;
    }
    access::ModuleOptions m = access::parse_module_options(line->line.args);
    std::string err;
    std::optional<AccessPolicy> ap = load_access_policy(ctx, m, &err);
    if (!ap || !ap->valid() || !m.bad_option.empty()) {
        step.kind = LayerStep::Kind::broken;
        step.decision.verdict = core::Verdict::deny;
        step.decision.source.rule = "a policy with errors";
        step.decision.reason = "pam_ringfence refuses every login, root included";
        step.note = ap ? "the access policy has errors (ringfence lint)" : err;
        step.change = "fix the access policy (ringfence lint)";
        return step;
    }
    access::Request q;
    core::SystemIdentity identity;
    core::UserInfo user;
    switch (identity.lookup_user(*r.user, &user)) {
        case core::LookupStatus::found:
            break;
        case core::LookupStatus::not_found:
            step.kind = LayerStep::Kind::decided;
            step.decision.verdict = core::Verdict::deny;
            step.decision.source.rule = "no such user";
            step.decision.reason = "pam_ringfence returns PAM_USER_UNKNOWN for '" + escape_for_log(*r.user, 100) +
                                   "' (the login fails unless the stack says user_unknown=ignore)";
            return step;
        case core::LookupStatus::failed:
            step.kind = LayerStep::Kind::broken;
            step.note = "the name service cannot look up user '" + escape_for_log(*r.user, 100) + "'";
            return step;
    }
    q.user = &user;
    q.rhost = from;
    q.tty = r.tty;
    q.service = t.daemon->pam_service;
    if (r.at) {
        std::optional<core::LocalTime> when = access::parse_request_time(*r.at, &err);
        q.when = *when;  // validated by explain_request
    } else {
        core::SystemClock clock;
        q.when = core::local_time(clock.now()).value_or(core::LocalTime{});
    }
    core::NoNameService no_dns;
    access::Environment env{identity, no_dns};
    access::Explanation e = access::explain(*ap->policy, q, env);
    step.kind = LayerStep::Kind::decided;
    step.decision = access::decision_of(e);
    if (!step.decision.allowed()) {
        step.change = "add '+ : " + user.name + " : " + from + "' before " + step.decision.source.location() +
                      (step.decision.reason.find("outside") != std::string::npos ? ", or log in within the time "
                                                                                    "window it names"
                                                                                  : "");
    }
    return step;
}

}  // namespace

std::optional<ExplainResult> explain_request(const Context& ctx, const ExplainRequest& r, std::string* usage) {
    std::optional<core::IpAddress> from = core::IpAddress::parse(r.from);
    if (!from) {
        *usage = "--from needs an IPv4 or IPv6 address (names are not looked up)";
        return std::nullopt;
    }
    std::vector<ConsoleDaemon> daemons = console_daemons(ctx);
    std::optional<Target> t = parse_target(daemons, r.service, usage);
    if (!t) {
        return std::nullopt;
    }
    std::string when_text;
    if (r.at) {
        std::string why;
        std::optional<core::LocalTime> when = access::parse_request_time(*r.at, &why);
        if (!when) {
            *usage = "--at: " + why;
            return std::nullopt;
        }
        when_text = access::format_local_time(*when);
    } else {
        core::SystemClock clock;
        std::optional<core::LocalTime> now = core::local_time(clock.now());
        when_text = now ? access::format_local_time(*now) + " (now)" : "now";
    }
    ExplainResult out;
    out.request = "from " + from->to_string() + " to " + t->text +
                  (r.user ? ", user " + escape_for_log(*r.user, 100) : "") +
                  (r.tty ? ", tty " + escape_for_log(*r.tty, 100) : "") + ", at " + when_text;
    out.steps.push_back(firewall_step(ctx, *from, *t));
    out.steps.push_back(wrappers_step(ctx, *from, *t));
    out.steps.push_back(pam_step(ctx, from->to_string(), *t, r));
    for (size_t i = 0; i < out.steps.size(); ++i) {
        const LayerStep& s = out.steps[i];
        bool denies = (s.kind == LayerStep::Kind::decided || s.kind == LayerStep::Kind::broken) &&
                      s.decision.verdict == core::Verdict::deny && !s.decision.source.rule.empty();
        if (denies && !out.stopped_at) {
            out.stopped_at = i;
        }
        if (s.kind == LayerStep::Kind::missing_input) {
            out.complete = false;
        }
    }
    return out;
}

int print_explanation(const ExplainResult& r, bool json) {
    auto kind_name = [](LayerStep::Kind k) {
        switch (k) {
            case LayerStep::Kind::decided:
                return "decided";
            case LayerStep::Kind::skipped:
                return "skipped";
            case LayerStep::Kind::missing_input:
                return "missing-input";
            case LayerStep::Kind::broken:
                return "broken";
        }
        return "skipped";
    };
    int status = r.stopped_at ? core::kExitDenied : r.complete ? core::kExitOk : core::kExitFailed;
    if (json) {
        std::string out = "{\"request\":" + audit::json_string(r.request) + ",\"steps\":[";
        for (size_t i = 0; i < r.steps.size(); ++i) {
            const LayerStep& s = r.steps[i];
            if (r.stopped_at && i > *r.stopped_at) {
                break;
            }
            out += i == 0 ? "" : ",";
            out += "{\"layer\":" + audit::json_string(s.layer) + ",\"kind\":\"" + kind_name(s.kind) + "\"";
            if (s.kind == LayerStep::Kind::decided || !s.decision.source.rule.empty()) {
                const core::Decision& d = s.decision;
                out += ",\"verdict\":\"" + std::string(d.allowed() ? "allow" : "deny") + "\",\"file\":" +
                       audit::json_string(d.source.file) + ",\"line\":" + std::to_string(d.source.line) +
                       ",\"rule\":" + audit::json_string(d.source.rule) + ",\"reason\":" +
                       audit::json_string(d.reason);
            }
            if (!s.note.empty()) {
                out += ",\"note\":" + audit::json_string(s.note);
            }
            if (!s.change.empty()) {
                out += ",\"change\":" + audit::json_string(s.change);
            }
            out += "}";
        }
        out += "],\"verdict\":\"" +
               std::string(r.stopped_at ? "deny" : r.complete ? "allow" : "incomplete") + "\"";
        if (r.stopped_at) {
            out += ",\"stopped_by\":" + audit::json_string(r.steps[*r.stopped_at].layer);
        }
        std::fputs((out + "}\n").c_str(), stdout);
        return status;
    }
    std::printf("request: %s\n", r.request.c_str());
    for (size_t i = 0; i < r.steps.size(); ++i) {
        const LayerStep& s = r.steps[i];
        if (r.stopped_at && i > *r.stopped_at) {
            std::printf("%-9s not reached\n", s.layer.c_str());
            continue;
        }
        if (s.kind == LayerStep::Kind::decided || !s.decision.source.rule.empty()) {
            std::printf("%-9s %s\n", s.layer.c_str(), s.decision.summary().c_str());
        } else {
            std::printf("%-9s %s: %s\n", s.layer.c_str(), s.kind == LayerStep::Kind::missing_input ? "no answer"
                                                          : s.kind == LayerStep::Kind::broken      ? "cannot tell"
                                                                                                   : "not in the path",
                        s.note.c_str());
        }
    }
    if (r.stopped_at) {
        const LayerStep& s = r.steps[*r.stopped_at];
        std::printf("verdict: denied by the %s layer (%s)\n", s.layer.c_str(), s.decision.source.location().c_str());
        if (!s.change.empty()) {
            std::printf("to change: %s\n", s.change.c_str());
        }
    } else if (!r.complete) {
        std::printf("verdict: no answer: allowed so far, but a layer needs an input (above)\n");
    } else {
        std::printf("verdict: allowed by every layer in the path\n");
    }
    return status;
}

}  // namespace ringfence::cli
