// SPDX-License-Identifier: BSD-3-Clause
// lint: warnings for a compiled access.conf policy. The checks that depend
// on a decision ask the module's own evaluator rather than re-deriving it.
#include "pam_module/access_lint.h"

#include <cctype>
#include <optional>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/text.h"

namespace ringfence::access {

namespace {

using core::Diagnostic;
using core::LookupStatus;

constexpr int kMinutesPerWeek = 7 * 24 * 60;
// Beyond this many distinct combinations of time fields the root check is
// skipped (it would evaluate the policy that many times per console).
constexpr size_t kMaxTimeClasses = 512;

core::LocalTime minute_of_week(int m) {
    core::LocalTime t;
    t.weekday = m / (24 * 60);
    t.minute = m % (24 * 60);
    return t;
}

// Answers each question once: lint asks about the same names many times.
class CachingIdentity final : public core::Identity {
public:
    explicit CachingIdentity(core::Identity& inner) : inner_(inner) {}

    LookupStatus lookup_user(const std::string& name, core::UserInfo* out) override {
        auto it = users_.find(name);
        if (it == users_.end()) {
            core::UserInfo u;
            LookupStatus s = inner_.lookup_user(name, &u);
            it = users_.emplace(name, std::make_pair(s, u)).first;
        }
        *out = it->second.second;
        return it->second.first;
    }
    LookupStatus lookup_group(const std::string& name, core::GroupInfo* out) override {
        auto it = groups_.find(name);
        if (it == groups_.end()) {
            core::GroupInfo g;
            LookupStatus s = inner_.lookup_group(name, &g);
            it = groups_.emplace(name, std::make_pair(s, g)).first;
        }
        *out = it->second.second;
        return it->second.first;
    }
    LookupStatus group_ids(const core::UserInfo& user, std::vector<gid_t>* out) override {
        auto it = gids_.find(user.name);
        if (it == gids_.end()) {
            std::vector<gid_t> v;
            LookupStatus s = inner_.group_ids(user, &v);
            it = gids_.emplace(user.name, std::make_pair(s, v)).first;
        }
        *out = it->second.second;
        return it->second.first;
    }
    bool in_netgroup(const std::string& netgroup, const char* host, const char* user, const char* domain) override {
        auto key = std::make_tuple(netgroup, host != nullptr, host != nullptr ? host : "", user != nullptr,
                                   user != nullptr ? user : "", domain != nullptr, domain != nullptr ? domain : "");
        auto it = netgroups_.find(key);
        if (it == netgroups_.end()) {
            it = netgroups_.emplace(key, inner_.in_netgroup(netgroup, host, user, domain)).first;
        }
        return it->second;
    }
    std::string host_name() override {
        if (!host_) {
            host_ = inner_.host_name();
        }
        return *host_;
    }
    std::string nis_domain() override {
        if (!domain_) {
            domain_ = inner_.nis_domain();
        }
        return *domain_;
    }

private:
    core::Identity& inner_;
    std::unordered_map<std::string, std::pair<LookupStatus, core::UserInfo>> users_;
    std::unordered_map<std::string, std::pair<LookupStatus, core::GroupInfo>> groups_;
    std::unordered_map<std::string, std::pair<LookupStatus, std::vector<gid_t>>> gids_;
    std::map<std::tuple<std::string, bool, std::string, bool, std::string, bool, std::string>, bool> netgroups_;
    std::optional<std::string> host_, domain_;
};

class Linter {
public:
    Linter(const Policy& policy, Environment& env, const LintOptions& options, core::Diagnostics* out)
        : policy_(policy), env_(env), options_(options), out_(out) {}

    void run() {
        const Rule* catch_all = nullptr;
        for (const Rule& rule : policy_.rules()) {
            if (catch_all != nullptr) {
                warn(rule, 1,
                     "this rule is never reached: " + catch_all->location() + " ('" + shown(*catch_all) +
                         "') matches every login before it",
                     "move this rule above " + catch_all->location() + ", or delete it");
            }
            if (rule.times && week_of(*rule.times).none) {
                warn(rule, rule.times_column,
                     "the time field '" + core::escape_for_log(rule.times->text(), 100) +
                         "' matches at no time of the week: this rule never applies",
                     "write when the rule applies, like Wk0800-1800 or !Wd (not on weekends); '!Al' is never");
            }
            if (options_.check_names) {
                for (const auto& part : rule.users.parts) {
                    for (const Token& t : part) {
                        check_user_item(rule, t);
                    }
                }
            }
            if (catch_all == nullptr && matches_everything(rule)) {
                catch_all = &rule;
            }
        }
        if (catch_all == nullptr) {
            if (policy_.rules().empty()) {
                Diagnostic d;
                d.file = options_.main_file;
                d.severity = core::Severity::warning;
                d.message = "no rules: pam_ringfence allows every login (as pam_access)";
                d.hint = "write the rules that allow, then end with '- : ALL : ALL'";
                out_->push_back(std::move(d));
            } else {
                warn(policy_.rules().back(), 1,
                     "no rule matches every login: a login that no rule matches is allowed (as pam_access)",
                     "end the policy with '- : ALL : ALL', after the rules that allow");
            }
        }
        if (policy_.valid()) {
            check_root_consoles();
        }
    }

private:
    struct Week {
        std::vector<bool> minutes;  // minute of the week -> matches
        bool none = true;
        bool all = true;
    };

    const Week& week_of(const TimeSpec& spec) {
        auto it = weeks_.find(spec.text());
        if (it != weeks_.end()) {
            return it->second;
        }
        Week w;
        w.minutes.resize(kMinutesPerWeek);
        for (int m = 0; m < kMinutesPerWeek; ++m) {
            bool v = spec.matches(minute_of_week(m));
            w.minutes[static_cast<size_t>(m)] = v;
            w.none = w.none && !v;
            w.all = w.all && v;
        }
        return weeks_.emplace(spec.text(), std::move(w)).first->second;
    }

    static bool lists_all(const TokenList& list) {
        if (list.parts.size() != 1) {
            return false;
        }
        for (const Token& t : list.parts.front()) {
            if (t.kind == Token::Kind::all) {
                return true;
            }
        }
        return false;
    }

    bool matches_everything(const Rule& rule) {
        return lists_all(rule.users) && lists_all(rule.origins) && (!rule.times || week_of(*rule.times).all);
    }

    static std::string shown(const Rule& rule) { return core::escape_for_log(std::string(core::trim(rule.source)), 80); }

    void warn(const Rule& rule, int column, std::string message, std::string hint) {
        Diagnostic d;
        d.file = rule.file;
        d.line = rule.line;
        d.column = column;
        d.severity = core::Severity::warning;
        d.message = std::move(message);
        d.source_line = rule.source;
        d.hint = std::move(hint);
        out_->push_back(std::move(d));
    }

    // found, not_found, or failed (then nothing is said).
    LookupStatus user_exists(const std::string& name) {
        core::UserInfo u;
        LookupStatus s = env_.identity.lookup_user(name, &u);
        if (s != LookupStatus::not_found) {
            return s;
        }
        // The evaluator compares user names without case; getpwnam does not.
        std::string lower = name;
        for (char& c : lower) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return lower == name ? s : env_.identity.lookup_user(lower, &u);
    }

    LookupStatus group_exists(const std::string& name) {
        core::GroupInfo g;
        return env_.identity.lookup_group(name, &g);
    }

    void check_user_item(const Rule& rule, const Token& t) {
        std::string name = core::escape_for_log(t.value, 100);
        switch (t.kind) {
            case Token::Kind::name: {
                LookupStatus u = user_exists(t.value);
                if (u != LookupStatus::not_found) {
                    return;
                }
                if (policy_.options().nodefgroup) {
                    warn(rule, t.column, "there is no user '" + name + "': this item matches nobody",
                         "check the spelling; with nodefgroup a bare name is a user name only (a group is (" + name +
                             "))");
                    return;
                }
                if (group_exists(t.value) == LookupStatus::not_found) {
                    warn(rule, t.column, "'" + name + "' is neither a user nor a group: this item matches nobody",
                         "check the spelling (user names compare without case, group names exactly)");
                }
                return;
            }
            case Token::Kind::group:
                if (group_exists(t.value) == LookupStatus::not_found) {
                    warn(rule, t.column,
                         "there is no group '" + name + "': " + core::escape_for_log(t.text, 100) + " matches nobody",
                         "check the spelling; group names compare exactly");
                }
                return;
            case Token::Kind::netgroup:
                if (group_exists(t.value) == LookupStatus::found) {
                    warn(rule, t.column,
                         "@" + name + " is a NIS netgroup here; the UNIX group needs (" + name +
                             ") or the atgroup option",
                         "write (" + name + "), or give pam_ringfence the option atgroup (then every @name in the "
                         "users field is a group)");
                }
                return;
            case Token::Kind::user_at_host:
                if (t.user_part) {
                    check_user_item(rule, *t.user_part);
                }
                return;
            default:
                return;
        }
    }

    // One time of the week for each combination of the policy's time fields
    // (the decision cannot change within one); empty if there are too many.
    std::vector<core::LocalTime> time_classes() {
        std::vector<const Week*> weeks;
        std::unordered_set<std::string> seen_specs;
        for (const Rule& rule : policy_.rules()) {
            if (rule.times && seen_specs.insert(rule.times->text()).second) {
                weeks.push_back(&week_of(*rule.times));
            }
        }
        std::vector<core::LocalTime> out;
        std::unordered_set<std::string> seen;
        std::string sig(weeks.size(), '0');
        for (int m = 0; m < kMinutesPerWeek; ++m) {
            for (size_t i = 0; i < weeks.size(); ++i) {
                sig[i] = weeks[i]->minutes[static_cast<size_t>(m)] ? '1' : '0';
            }
            if (seen.insert(sig).second) {
                if (out.size() == kMaxTimeClasses) {
                    return {};
                }
                out.push_back(minute_of_week(m));
            }
        }
        return out;
    }

    // Conservative: only when the policy's own evaluator refuses root (by a
    // rule, not by a name service failure) on every console at every time.
    void check_root_consoles() {
        core::UserInfo root;
        if (options_.consoles.empty() || env_.identity.lookup_user("root", &root) != LookupStatus::found) {
            return;
        }
        const Rule* first = nullptr;
        for (const core::LocalTime& when : time_classes()) {
            for (const std::string& console : options_.consoles) {
                Request r;
                r.user = &root;
                r.tty = console;
                r.service = "login";
                r.when = when;
                Decision d = policy_.evaluate(r, env_);
                if (d.verdict != Verdict::deny || !d.unresolved_group.empty()) {
                    return;
                }
                if (first == nullptr) {
                    first = d.rule;
                }
            }
        }
        if (first == nullptr) {
            return;
        }
        std::string list;
        for (const std::string& c : options_.consoles) {
            list += (list.empty() ? "" : " ") + core::escape_for_log(c, 40);
        }
        warn(*first, 1,
             "root is refused on every console (" + list + ") at every time; this rule refuses root on " +
                 core::escape_for_log(options_.consoles.front(), 40),
             "allow root on a console above this line, e.g. '+ : root : LOCAL', to keep a way in when the network "
             "or the name service is down (ignore this if the file serves only a remote service such as sshd)");
    }

    const Policy& policy_;
    Environment& env_;
    const LintOptions& options_;
    core::Diagnostics* out_;
    std::unordered_map<std::string, Week> weeks_;
};

}  // namespace

core::Diagnostics lint(const Policy& policy, Environment& env, const LintOptions& options) {
    CachingIdentity identity(env.identity);
    Environment cached{identity, env.dns};
    core::Diagnostics out;
    Linter(policy, cached, options, &out).run();
    return out;
}

}  // namespace ringfence::access
