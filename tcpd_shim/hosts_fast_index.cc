// SPDX-License-Identifier: BSD-3-Clause
// The fast index: the common patterns of each rule copied into flat arrays
// (no pointer chasing through Rule), evaluated with exactly the semantics of
// the reference evaluator. Rules or lists with anything else are marked
// general and evaluated from the Rule. Policy::evaluate() runs here; the
// tests compare it with Policy::evaluate_reference() on every decision.
#include "tcpd_shim/hosts_fast_index.h"

#include <cstring>
#include <unordered_map>

#include "tcpd_shim/hosts_evaluator.h"

namespace ringfence::tcpd {

using namespace detail;

struct FastText {
    uint8_t len = 0;
    char s[31] = {};
    bool set(const std::string& t) {
        if (t.size() > sizeof(s)) {
            return false;
        }
        len = static_cast<uint8_t>(t.size());
        std::memcpy(s, t.data(), t.size());
        return true;
    }
};

struct FastDaemonPart {
    bool all = false;
    uint32_t begin = 0, end = 0;  // name ids in FastIndex::names (lower-cased, exact)
};

struct FastClient {
    enum Kind : uint8_t { all, exact, prefix, suffix, network };
    Kind kind = all;
    FastText text;           // exact, prefix, suffix: lower-cased, compared with the address text
    std::optional<core::CidrRange> net;  // network
};

struct FastRule {
    uint64_t bloom = ~uint64_t{0};  // Bloom mask of the daemon names (one part, names only); ~0: no filter
    bool daemons_fast = false;
    bool clients_fast = false;
    uint32_t dpart_begin = 0, dpart_end = 0;
    uint32_t client_begin = 0, client_end = 0;
};

struct FastIndex {
    std::vector<FastRule> rules;  // parallel to Policy::rules()
    std::vector<FastDaemonPart> dparts;
    std::vector<uint32_t> names;  // ids of name_ids
    std::vector<FastClient> clients;
    std::unordered_map<std::string, uint32_t> name_ids;  // every lower-cased daemon name of the compact lists

    static constexpr uint32_t kNoId = 0xffffffffu;
    uint32_t id_of(const std::string& lower) const {
        auto it = name_ids.find(lower);
        return it == name_ids.end() ? kNoId : it->second;
    }
    // Bloom bit of a name id; bit 63 is for a name no rule names.
    static uint64_t bit_of(uint32_t id) { return uint64_t{1} << (id == kNoId ? 63 : id % 63); }
};

namespace {

// client_match() for a compact pattern (no user, address only).
bool fast_client(const FastClient& c, HostView& h) {
    switch (c.kind) {
        case FastClient::all:
            return true;
        case FastClient::exact: {
            const std::string& l = h.addr_subject().lower;
            return l.size() == c.text.len && same_bytes(l.data(), c.text.s, l.size());
        }
        case FastClient::prefix: {
            const std::string& l = h.addr_subject().lower;
            return l.size() >= c.text.len && same_bytes(l.data(), c.text.s, c.text.len);
        }
        case FastClient::suffix: {
            const std::string& l = h.addr_subject().lower;
            return l.size() > c.text.len && same_bytes(l.data() + (l.size() - c.text.len), c.text.s, c.text.len);
        }
        case FastClient::network:
            return h.addr() && c.net->contains(*h.addr());
    }
    return false;
}


bool fast_client_of(const ClientPattern& c, FastClient* out) {
    if (c.user) {
        return false;
    }
    const HostPattern& h = c.host;
    switch (h.kind) {
        case HostPattern::Kind::v4_net:
        case HostPattern::Kind::v6_net:
            out->kind = FastClient::network;
            out->net = h.net;
            return true;
        case HostPattern::Kind::string:
            if (h.string.kind == StringPattern::Kind::all) {
                out->kind = FastClient::all;  // matches the address text: always
                return true;
            }
            if (h.also_name) {
                return false;
            }
            switch (h.string.kind) {
                case StringPattern::Kind::exact: out->kind = FastClient::exact; break;
                case StringPattern::Kind::prefix: out->kind = FastClient::prefix; break;
                case StringPattern::Kind::suffix: out->kind = FastClient::suffix; break;
                default: return false;
            }
            return out->text.set(h.string.lower);
        default:
            return false;
    }
}

}  // namespace

namespace detail {

std::shared_ptr<const FastIndex> build_fast_index(const std::vector<Rule>& rules) {
    auto fx = std::make_shared<FastIndex>();
    fx->rules.reserve(rules.size());
    for (const Rule& rule : rules) {
        FastRule fr;
        // Daemon list: every part made of ALL and exact names only.
        if (!rule.daemons_broken && !rule.daemons.parts.empty()) {
            bool ok = true;
            size_t dp0 = fx->dparts.size(), n0 = fx->names.size();
            for (const auto& part : rule.daemons.parts) {
                FastDaemonPart dp;
                dp.begin = static_cast<uint32_t>(fx->names.size());
                for (const DaemonPattern& p : part) {
                    if (p.is_port || p.server) {
                        ok = false;
                        break;
                    }
                    if (p.daemon.kind == StringPattern::Kind::all) {
                        dp.all = true;
                    } else if (p.daemon.kind == StringPattern::Kind::exact) {
                        auto ins = fx->name_ids.emplace(p.daemon.lower, static_cast<uint32_t>(fx->name_ids.size()));
                        fx->names.push_back(ins.first->second);
                    } else {
                        ok = false;
                        break;
                    }
                }
                if (!ok) {
                    break;
                }
                dp.end = static_cast<uint32_t>(fx->names.size());
                fx->dparts.push_back(dp);
            }
            if (ok) {
                fr.daemons_fast = true;
                fr.dpart_begin = static_cast<uint32_t>(dp0);
                fr.dpart_end = static_cast<uint32_t>(fx->dparts.size());
                const FastDaemonPart& first = fx->dparts[dp0];
                if (rule.daemons.parts.size() == 1 && !first.all) {
                    fr.bloom = 0;
                    for (uint32_t k = first.begin; k < first.end; ++k) {
                        fr.bloom |= FastIndex::bit_of(fx->names[k]);
                    }
                }
            } else {
                fx->dparts.resize(dp0);
                fx->names.resize(n0);
            }
        }
        // Client list: one part (no EXCEPT) of address-only patterns.
        if (!rule.clients_broken && rule.clients.parts.size() == 1) {
            bool ok = true;
            size_t c0 = fx->clients.size();
            for (const ClientPattern& c : rule.clients.parts[0]) {
                FastClient fc;
                if (!fast_client_of(c, &fc)) {
                    ok = false;
                    break;
                }
                fx->clients.push_back(fc);
            }
            if (ok) {
                fr.clients_fast = true;
                fr.client_begin = static_cast<uint32_t>(c0);
                fr.client_end = static_cast<uint32_t>(fx->clients.size());
            } else {
                fx->clients.resize(c0);
            }
        }
        fx->rules.push_back(fr);
    }
    return fx;
}

}  // namespace detail

namespace {

// list_match() over the compact daemon parts.
bool fast_daemons(const FastIndex& fx, uint32_t part, uint32_t end, uint32_t daemon) {
    const FastDaemonPart& dp = fx.dparts[part];
    bool any = dp.all;
    for (uint32_t k = dp.begin; !any && k < dp.end; ++k) {
        any = fx.names[k] == daemon;
    }
    if (!any) {
        return false;
    }
    return part + 1 == end || !fast_daemons(fx, part + 1, end, daemon);
}

}  // namespace

Decision Policy::evaluate(const Request& request, const Lookups& lookups) const {
    Evaluator ev(request, lookups);
    const FastIndex& fx = *fast_;
    const uint32_t daemon_id = fx.id_of(ev.daemon_lower());
    const uint64_t bit = FastIndex::bit_of(daemon_id);
    for (size_t i = 0; i < rules_.size(); ++i) {
        const FastRule& fr = fx.rules[i];
        if ((fr.bloom & bit) == 0) {
            continue;  // no name of its daemon list can be the request's
        }
        const Rule& rule = rules_[i];
        const DaemonPattern* daemon = nullptr;
        bool daemons;
        if (fr.daemons_fast) {
            daemons = fast_daemons(fx, fr.dpart_begin, fr.dpart_end, daemon_id);
        } else {
            daemons = rule.daemons_broken ||
                      ev.list_match(rule.daemons, 0, [&](const DaemonPattern& p) { return ev.daemon_match(p); },
                                    &daemon);
        }
        if (!daemons) {
            continue;
        }
        const ClientPattern* client = nullptr;
        bool clients = false;
        if (fr.clients_fast) {
            for (uint32_t k = fr.client_begin; k < fr.client_end; ++k) {
                if (fast_client(fx.clients[k], ev.client())) {
                    clients = true;
                    client = &rule.clients.parts[0][k - fr.client_begin];  // built one for one
                    break;
                }
            }
        } else {
            clients = rule.clients_broken ||
                      ev.list_match(rule.clients, 0, [&](const ClientPattern& p) { return ev.client_match(p); },
                                    &client);
        }
        if (!clients) {
            continue;
        }
        if (fr.daemons_fast) {
            // Which name matched, for the reason: names and ALL only, no lookups.
            for (const DaemonPattern& p : rule.daemons.parts[0]) {
                if (ev.daemon_match(p)) {
                    daemon = &p;
                    break;
                }
            }
        }
        return decide(rule, daemon, client, ev.client());
    }
    return Decision();
}

}  // namespace ringfence::tcpd
