// SPDX-License-Identifier: BSD-3-Clause
// CMocka unit tests of the firewall's transactions (transaction.h) with
// the system injected: an in-memory netfilter behind Tools::run (it keeps
// iptables tables, ipsets and an nft table, and refuses what the kernel
// refuses: an undeclared chain, a missing set, destroying a set in use), an
// in-memory state store and a timer. Every program call, every state-file
// write and the timer's start fail in turn; after each failure the test
// checks what is left against the transaction's documented contract. The
// real tools are exercised by tests/integration/firewall.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compile_helper.h"
#include "core/exit_status.h"
#include "core/text.h"
#include "iptables_helper/transaction.h"

using namespace ringfence;
using firewall::Backend;
using firewall::Bundle;

namespace {

bool starts(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

struct Table {
    std::vector<std::string> chains = {"INPUT", "FORWARD", "OUTPUT"};
    std::map<std::string, std::vector<std::string>> rules;  // chain -> "-A CHAIN ..." lines
    bool builtin(const std::string& c) const { return c == "INPUT" || c == "FORWARD" || c == "OUTPUT"; }
    bool has(const std::string& c) const { return std::find(chains.begin(), chains.end(), c) != chains.end(); }
};

struct Netfilter {
    Table v4, v6;
    std::map<std::string, std::set<std::string>> sets;
    std::string nft;  // the ringfence table's script; "" when absent
    int calls = 0;
    int fail_at = 0;  // the call that fails (1-based); 0: none
    std::vector<std::string> log;

    static std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

    bool set_in_use(const std::string& name) const {
        for (const Table* t : {&v4, &v6}) {
            for (const auto& [c, lines] : t->rules) {
                for (const std::string& l : lines) {
                    if (l.find(" " + name + " ") != std::string::npos) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    static std::string save(const Table& t) {
        std::string out = "*filter\n";
        for (const std::string& c : t.chains) {
            out += ":" + c + (t.builtin(c) ? " ACCEPT" : " -") + " [0:0]\n";
        }
        for (const std::string& c : t.chains) {
            auto it = t.rules.find(c);
            if (it != t.rules.end()) {
                for (const std::string& l : it->second) {
                    out += l + "\n";
                }
            }
        }
        return out + "COMMIT\n";
    }

    // iptables-restore --noflush: all or nothing.
    bool restore(Table* live, const std::string& text, bool test, std::string* err) {
        Table t = *live;
        for (const std::string& line : core::split_lines(text)) {
            std::vector<std::string> w = core::split_words(line);
            if (w.empty() || w[0][0] == '#' || w[0] == "*filter" || w[0] == "COMMIT") {
                continue;
            }
            if (w[0][0] == ':') {
                std::string c = w[0].substr(1);
                if (!t.has(c)) {
                    t.chains.push_back(c);
                }
                t.rules[c].clear();
                continue;
            }
            if (w.size() < 2 || !t.has(w[1])) {
                *err = "line `" + line + "`: no chain";
                return false;
            }
            for (size_t i = 0; i + 1 < w.size(); ++i) {
                if (w[i] == "--match-set" && sets.count(w[i + 1]) == 0) {
                    *err = "set " + w[i + 1] + " does not exist";
                    return false;
                }
            }
            std::string rest;
            for (size_t i = (w[0] == "-I" ? 3 : 2); i < w.size(); ++i) {
                rest += " " + w[i];
            }
            std::string as_append = "-A " + w[1] + rest;
            std::vector<std::string>& r = t.rules[w[1]];
            if (w[0] == "-A") {
                r.push_back(as_append);
            } else if (w[0] == "-I") {
                r.insert(r.begin(), as_append);
            } else if (w[0] == "-D") {
                auto it = std::find(r.begin(), r.end(), as_append);
                if (it == r.end()) {
                    *err = "-D: no such rule";
                    return false;
                }
                r.erase(it);
            } else if (w[0] == "-X") {
                t.chains.erase(std::find(t.chains.begin(), t.chains.end(), w[1]));
                t.rules.erase(w[1]);
            } else {
                *err = "unknown line " + line;
                return false;
            }
        }
        for (const auto& [c, lines] : t.rules) {
            for (const std::string& l : lines) {
                std::vector<std::string> w = core::split_words(l);
                for (size_t i = 0; i + 1 < w.size(); ++i) {
                    if (w[i] == "-j" && starts(w[i + 1], "RINGFENCE") && !t.has(w[i + 1])) {
                        *err = "jump to missing chain " + w[i + 1];
                        return false;
                    }
                }
            }
        }
        if (!test) {
            *live = t;
        }
        return true;
    }

    core::ProgramResult run(const std::vector<std::string>& argv, const std::string& input) {
        core::ProgramResult r;
        r.started = true;
        r.status = 0;
        const std::string tool = name_of(argv[0]);
        std::string args;
        for (size_t i = 1; i < argv.size(); ++i) {
            args += " " + argv[i];
        }
        log.push_back(tool + args);
        if (++calls == fail_at) {
            r.status = 1;
            r.err = "injected failure\n";
            return r;
        }
        auto has = [&](const char* a) { return std::find(argv.begin(), argv.end(), a) != argv.end(); };
        if (tool == "iptables-save" || tool == "ip6tables-save") {
            r.out = save(tool == "iptables-save" ? v4 : v6);
        } else if (tool == "iptables-restore" || tool == "ip6tables-restore") {
            if (!restore(tool == "iptables-restore" ? &v4 : &v6, input, has("--test"), &r.err)) {
                r.status = 1;
            }
        } else if (tool == "ipset" && argv[1] == "list") {
            for (const auto& [n, m] : sets) {
                r.out += n + "\n";
            }
        } else if (tool == "ipset" && argv[1] == "destroy") {
            if (sets.count(argv[2]) == 0 || set_in_use(argv[2])) {
                r.status = 1;
                r.err = "cannot destroy " + argv[2] + "\n";
            } else {
                sets.erase(argv[2]);
            }
        } else if (tool == "ipset" && argv[1] == "restore") {
            for (const std::string& line : core::split_lines(input)) {
                std::vector<std::string> w = core::split_words(line);
                if (w.size() >= 2 && w[0] == "create") {
                    sets[w[1]];
                } else if (w.size() >= 2 && w[0] == "flush") {
                    sets[w[1]].clear();
                } else if (w.size() >= 3 && w[0] == "add") {
                    sets[w[1]].insert(w[2]);
                }
            }
        } else if (tool == "ipset" && argv[1] == "swap") {
            if (argv.size() != 4 || sets.count(argv[2]) == 0 || sets.count(argv[3]) == 0) {
                r.status = 1;
                r.err = "cannot swap\n";
            } else {
                std::swap(sets[argv[2]], sets[argv[3]]);
            }
        } else if (tool == "ipset" && argv[1] == "save") {
            for (const std::string& e : sets[argv[2]]) {
                r.out += "add " + argv[2] + " " + e + "\n";
            }
        } else if (tool == "nft" && argv[1] == "-f" && starts(input, "flush set ")) {
            if (nft.empty() || !replace_elements(input)) {
                r.status = 1;
                r.err = "no such set\n";
            }
        } else if (tool == "nft" && argv[1] == "-f") {
            nft = input;
        } else if (tool == "nft" && argv[1] == "list") {
            r.out = nft;
            r.status = nft.empty() ? 1 : 0;
        } else if (tool == "nft" && argv[1] == "delete") {
            r.status = nft.empty() ? 1 : 0;
            nft.clear();
        } else {
            r.status = 127;
            r.err = "unknown program " + tool;
        }
        return r;
    }

    // `flush set inet ringfence NAME` and `add element inet ringfence NAME
    // { ... }` lines on the table as render_nft writes it: the set's
    // elements block replaced. All or nothing: false (nothing changed) for
    // a set the table does not have.
    bool replace_elements(const std::string& script) {
        std::map<std::string, std::vector<std::string>> members;
        std::string adding;
        for (const std::string& line : core::split_lines(script)) {
            std::vector<std::string> w = core::split_words(line);
            if (w.size() == 5 && w[0] == "flush" && w[1] == "set") {
                members[w[4]];
            } else if (w.size() == 6 && w[0] == "add" && w[1] == "element") {
                adding = w[4];
            } else if (line == "}") {
                adding.clear();
            } else if (!adding.empty()) {
                std::string e = w.at(0);
                if (e.back() == ',') {
                    e.pop_back();
                }
                members[adding].push_back(e);
            }
        }
        std::string out, set;
        bool skipping = false;
        size_t found = 0;
        for (const std::string& line : core::split_lines(nft)) {
            if (starts(line, "\tset ")) {
                set = core::split_words(line).at(1);
                found += members.count(set);
            }
            if (skipping) {
                skipping = line != "\t\t}";
                continue;
            }
            if (members.count(set) != 0 && line == "\t\telements = {") {
                skipping = true;
                continue;
            }
            if (members.count(set) != 0 && line == "\t}") {
                const std::vector<std::string>& m = members[set];
                if (!m.empty()) {
                    out += "\t\telements = {\n";
                    for (size_t i = 0; i < m.size(); ++i) {
                        out += "\t\t\t" + m[i] + (i + 1 < m.size() ? ",\n" : "\n");
                    }
                    out += "\t\t}\n";
                }
                set.clear();
            }
            out += line + "\n";
        }
        if (found != members.size()) {
            return false;
        }
        nft = out;
        return true;
    }

    // What a packet meets: ringfence's rules and hooks of both families,
    // set names at generation 'a', and the members of the sets the rules
    // use. Leftover sets no rule uses are not part of it.
    std::string view() const {
        std::string out;
        std::set<std::string> used;
        for (const Table* t : {&v4, &v6}) {
            out += "# family\n";
            for (const std::string& c : t->chains) {
                auto it = t->rules.find(c);
                if (it == t->rules.end()) {
                    continue;
                }
                for (const std::string& l : it->second) {
                    if (l.find("RINGFENCE") == std::string::npos) {
                        continue;
                    }
                    out += firewall::retarget_sets(l, 'a') + "\n";
                    std::vector<std::string> w = core::split_words(l);
                    for (size_t i = 0; i + 1 < w.size(); ++i) {
                        if (w[i] == "--match-set") {
                            used.insert(w[i + 1]);
                        }
                    }
                }
            }
        }
        for (const std::string& s : used) {
            auto it = sets.find(s);
            out += "set " + firewall::retarget_sets(s, 'a') + ":";
            for (const std::string& e : it == sets.end() ? std::set<std::string>() : it->second) {
                out += " " + e;
            }
            out += "\n";
        }
        return out + "# nft\n" + nft;
    }
};

firewall::Tools tools_for(Netfilter* nf) {
    firewall::Tools t;
    t.iptables = "/sbin/iptables";
    t.ip6tables = "/sbin/ip6tables";
    t.iptables_restore = "/sbin/iptables-restore";
    t.ip6tables_restore = "/sbin/ip6tables-restore";
    t.iptables_save = "/sbin/iptables-save";
    t.ip6tables_save = "/sbin/ip6tables-save";
    t.ipset = "/sbin/ipset";
    t.nft = "/sbin/nft";
    t.run = [nf](const std::vector<std::string>& argv, const std::string& input, int) { return nf->run(argv, input); };
    return t;
}

struct State : firewall::StateStore {
    mutable std::map<std::string, Bundle> files;
    mutable std::optional<firewall::Pending> pend;
    mutable int writes = 0;
    int fail_at = 0;  // the write (write, copy, write_pending) that fails

    bool fails() const { return ++writes == fail_at; }
    std::string path() const override { return "/state"; }
    std::optional<Bundle> read(const std::string& name, std::string* error) const override {
        auto it = files.find(name);
        if (it == files.end()) {
            if (error != nullptr) {
                error->clear();
            }
            return std::nullopt;
        }
        return it->second;
    }
    bool write(const std::string& name, const Bundle& b, std::string* error) const override {
        if (fails()) {
            *error = "injected write failure";
            return false;
        }
        files[name] = b;
        return true;
    }
    bool copy(const std::string& from, const std::string& to, std::string* error) const override {
        if (fails()) {
            *error = "injected copy failure";
            return false;
        }
        auto it = files.find(from);
        if (it == files.end()) {
            *error = from + " does not exist";
            return false;
        }
        files[to] = it->second;
        return true;
    }
    std::optional<Backend> backend_of(const std::string& name) const override {
        auto it = files.find(name);
        return it == files.end() ? std::nullopt : std::optional<Backend>(it->second.backend);
    }
    bool exists(const std::string& name) const override { return files.count(name) != 0; }
    void remove(const std::string& name) const override { files.erase(name); }
    std::optional<firewall::Pending> pending() const override { return pend; }
    bool write_pending(const firewall::Pending& p, std::string* error) const override {
        if (fails()) {
            *error = "injected pending failure";
            return false;
        }
        pend = p;
        return true;
    }
    void clear_pending() const override { pend.reset(); }
};

struct Timer : firewall::RevertTimer {
    bool fail = false;
    std::set<long> alive;
    long next = 100;
    long start(const std::string&, int) override {
        if (fail) {
            return 0;
        }
        alive.insert(++next);
        return next;
    }
    bool running(const firewall::Pending& p) const override { return alive.count(p.pid) != 0; }
    void stop(const firewall::Pending& p) override { alive.erase(p.pid); }
    std::string new_token() override { return "token" + std::to_string(next); }
    long now() const override { return 1000; }
};

const char* kOld = "policy in drop\nset bl file bl\ndeny in from bl\nallow in tcp/22 from 10.0.0.0/8 2001:db8::/32\n";
const char* kNew =
    "policy in drop\nset bl file bl2\ndeny in from bl\nallow in tcp/22 from 10.1.0.0/16\nallow in tcp/443\n";

Bundle bundle_of(const char* text, Backend backend, const char* name) {
    unit::Compiled c = unit::compile(text, {{"/etc/ringfence/bl", "192.0.2.1\n2001:db8::66\n"},
                                            {"/etc/ringfence/bl2", "192.0.2.2\n192.0.2.3\n"}},
                                     std::string("/etc/ringfence/") + name);
    return firewall::make_bundle(*c.policy, backend, text);
}

// A host where `old` was applied and confirmed; `reference` is what a
// packet meets after `bundle` alone was committed there.
struct World {
    Netfilter nf;
    State state;
    Timer timer;
    firewall::Tools tools;
    World() : tools(tools_for(&nf)) {}
    firewall::Outcome commit(const Bundle& b, int confirm = 0) {
        firewall::Transaction tx(state, tools, timer);
        return tx.commit(b, confirm, "done");
    }
};

std::string view_after(const Bundle& first, const Bundle* second) {
    World w;
    CHECK(w.commit(first).ok(), "reference load");
    if (second != nullptr) {
        CHECK(w.commit(*second).ok(), "reference load");
    }
    return w.nf.view();
}

std::string source_of(const State& s, const char* name) {
    auto it = s.files.find(name);
    return it == s.files.end() ? "(none)" : it->second.source;
}

// Each program call of an apply (old -> new) fails in turn.
void commit_fails_at_every_call(Backend backend) {
    const Bundle old_b = bundle_of(kOld, backend, "old.conf");
    const Bundle new_b = bundle_of(kNew, backend, "new.conf");
    const std::string old_view = view_after(old_b, nullptr);
    const std::string new_view = view_after(old_b, &new_b);
    CHECK(old_view != new_view, "the two policies differ");
    int failures = 0, successes = 0;
    for (int n = 1;; ++n) {
        World w;
        CHECK(w.commit(old_b).ok(), "old applied");
        const std::map<std::string, Bundle> before = w.state.files;
        w.nf.calls = 0;
        w.nf.fail_at = n;
        firewall::Outcome o = w.commit(new_b);
        if (w.nf.calls < n) {
            CHECK(n > 1, "at least one call");
            break;  // every call has failed once
        }
        const std::string step = "call " + std::to_string(n) + " (" + w.nf.log[size_t(n - 1)] + ")";
        if (o.ok()) {
            // Only what comes after the load may fail without failing the
            // apply: removing the old sets (a warning), the live snapshot.
            ++successes;
            CHECK_STR(w.nf.view(), new_view, step + ": new rules live");
            CHECK_STR(source_of(w.state, "active"), "/etc/ringfence/new.conf", step);
            CHECK_STR(source_of(w.state, "good"), "/etc/ringfence/new.conf", step);
            CHECK_STR(source_of(w.state, "previous"), "/etc/ringfence/old.conf", step);
        } else {
            ++failures;
            CHECK_INT(o.status, core::kExitFailed, step);
            CHECK(!o.problems.empty() && unit::contains(o.problems[0], "The running ruleset is unchanged"), step);
            CHECK_STR(w.nf.view(), old_view, step + ": old rules still live");
            CHECK(w.state.files.size() == before.size(), step + ": no state file more or less");
            CHECK_STR(source_of(w.state, "active"), "/etc/ringfence/old.conf", step);
            CHECK_STR(source_of(w.state, "good"), "/etc/ringfence/old.conf", step);
            CHECK(w.state.files.at("previous").backend == Backend::none, step + ": previous put back");
        }
    }
    CHECK(failures > 0, "some calls are fatal");
    if (backend == Backend::iptables) {
        CHECK(successes > 0, "some calls are not (old sets, snapshot)");
    }
}

void test_commit_iptables_each_call_fails(void**) { commit_fails_at_every_call(Backend::iptables); }
void test_commit_nft_each_call_fails(void**) { commit_fails_at_every_call(Backend::nft); }

// Each state-file write of an apply with confirmation fails in turn.
void test_commit_each_state_write_fails(void**) {
    const Bundle old_b = bundle_of(kOld, Backend::iptables, "old.conf");
    const Bundle new_b = bundle_of(kNew, Backend::iptables, "new.conf");
    const std::string old_view = view_after(old_b, nullptr);
    const std::string new_view = view_after(old_b, &new_b);
    for (int confirm : {0, 60}) {
        for (int n = 1;; ++n) {
            World w;
            CHECK(w.commit(old_b).ok(), "old applied");
            CHECK(w.commit(old_b).ok(), "old applied twice: previous is a real bundle");
            w.state.writes = 0;
            w.state.fail_at = n;
            firewall::Outcome o = w.commit(new_b, confirm);
            if (w.state.writes < n) {
                break;
            }
            const std::string step = "write " + std::to_string(n) + ", confirm " + std::to_string(confirm);
            CHECK_INT(o.status, core::kExitFailed, step);
            CHECK(!o.problems.empty(), step);
            const bool loaded = w.nf.view() == new_view;
            if (!loaded) {
                // Before the load: nothing changed, on the host or in the state.
                CHECK_STR(w.nf.view(), old_view, step);
                CHECK(unit::contains(o.problems.back(), "Nothing changed"), step + ": " + o.problems.back());
                CHECK_STR(source_of(w.state, "previous"), "/etc/ringfence/old.conf", step);
                CHECK(!w.state.exists("previous-old"), step);
                CHECK(!w.state.pend.has_value() && w.timer.alive.empty(), step + ": no timer left");
            } else {
                // After the load: the new rules are live; the message names
                // the state directory; `good` (boot's fallback) is never the
                // unconfirmed or unrecorded policy.
                CHECK(unit::contains(o.problems.back(), "state directory /state"), step);
                CHECK_STR(source_of(w.state, "good"), "/etc/ringfence/old.conf", step);
                CHECK_STR(source_of(w.state, "previous"), "/etc/ringfence/old.conf", step);
            }
            CHECK_STR(source_of(w.state, "good"), "/etc/ringfence/old.conf", step);
        }
    }
}

void test_commit_timer_does_not_start(void**) {
    World w;
    const Bundle old_b = bundle_of(kOld, Backend::iptables, "old.conf");
    CHECK(w.commit(old_b).ok(), "");
    const std::string before = w.nf.view();
    w.timer.fail = true;
    firewall::Outcome o = w.commit(bundle_of(kNew, Backend::iptables, "new.conf"), 60);
    CHECK_INT(o.status, core::kExitFailed, "");
    CHECK(unit::contains(o.problems.at(0), "the revert timer did not start"), o.problems.at(0));
    CHECK_STR(w.nf.view(), before, "nothing loaded without the safety net");
    CHECK_STR(source_of(w.state, "active"), "/etc/ringfence/old.conf", "");
}

// confirm keeps, the timer's expiry rolls back, a stale token does nothing.
void test_confirm_and_revert(void**) {
    const Bundle old_b = bundle_of(kOld, Backend::iptables, "old.conf");
    const Bundle new_b = bundle_of(kNew, Backend::iptables, "new.conf");
    const std::string old_view = view_after(old_b, nullptr);
    const std::string new_view = view_after(old_b, &new_b);
    World w;
    CHECK(w.commit(old_b).ok(), "");
    firewall::Outcome o = w.commit(new_b, 60);
    CHECK(o.ok() && o.said.size() == 2 && unit::contains(o.said[1], "confirm within 60 s"), "pending said");
    CHECK(w.state.pend.has_value() && w.timer.running(*w.state.pend), "timer running");
    CHECK_STR(source_of(w.state, "good"), "/etc/ringfence/old.conf", "good waits for the confirmation");
    const std::string token = w.state.pend->token;
    firewall::Transaction tx(w.state, w.tools, w.timer);
    CHECK(tx.revert("another-token", 60).ok() && w.state.pend.has_value(), "a stale timer does nothing");
    CHECK_STR(w.nf.view(), new_view, "");
    o = tx.revert(token, 60);
    CHECK(o.ok() && unit::contains(o.said.at(0), "rolled back (not confirmed within 60 s)"), "");
    CHECK_STR(w.nf.view(), old_view, "the previous ruleset is back");
    CHECK(!w.state.pend.has_value() && !w.state.exists("previous"), "");
    CHECK_STR(source_of(w.state, "active"), "/etc/ringfence/old.conf", "");

    CHECK(w.commit(new_b, 60).ok() && w.state.pend.has_value(), "");
    const long pid = w.state.pend->pid;
    o = tx.confirm();
    CHECK(o.ok() && !w.state.pend.has_value() && w.timer.alive.count(pid) == 0, "confirmed, timer stopped");
    CHECK_STR(source_of(w.state, "good"), "/etc/ringfence/new.conf", "");
    CHECK_INT(tx.confirm().status, core::kExitInvalid, "nothing to confirm");
}

// Each program call of a rollback fails in turn: a failed rollback leaves
// the running ruleset and the state as they were.
void test_rollback_each_call_fails(void**) {
    const Bundle old_b = bundle_of(kOld, Backend::iptables, "old.conf");
    const Bundle new_b = bundle_of(kNew, Backend::iptables, "new.conf");
    const std::string old_view = view_after(old_b, nullptr);
    const std::string new_view = view_after(old_b, &new_b);
    for (int n = 1;; ++n) {
        World w;
        CHECK(w.commit(old_b).ok() && w.commit(new_b).ok(), "");
        w.nf.calls = 0;
        w.nf.fail_at = n;
        firewall::Transaction tx(w.state, w.tools, w.timer);
        firewall::Outcome o = tx.rollback("by request");
        if (w.nf.calls < n) {
            break;
        }
        const std::string step = "call " + std::to_string(n) + " (" + w.nf.log[size_t(n - 1)] + ")";
        if (o.ok()) {
            CHECK_STR(w.nf.view(), old_view, step);
            CHECK_STR(source_of(w.state, "active"), "/etc/ringfence/old.conf", step);
        } else {
            CHECK_INT(o.status, core::kExitFailed, step);
            CHECK(unit::contains(o.problems.at(0), "rollback failed"), step);
            CHECK_STR(w.nf.view(), new_view, step);
            CHECK_STR(source_of(w.state, "active"), "/etc/ringfence/new.conf", step);
            CHECK_STR(source_of(w.state, "previous"), "/etc/ringfence/old.conf", step + ": still there to retry");
        }
    }
    World none;
    firewall::Transaction tx(none.state, none.tools, none.timer);
    CHECK_INT(tx.rollback("by request").status, core::kExitInvalid, "nothing to roll back to");
}

// boot: a policy that fails to load at any call gives way to the last good
// ruleset; an apply still unconfirmed at shutdown is never loaded again.
void test_boot_falls_back(void**) {
    const Bundle good_b = bundle_of(kOld, Backend::iptables, "old.conf");
    const Bundle new_b = bundle_of(kNew, Backend::iptables, "new.conf");
    const std::string good_view = view_after(good_b, nullptr);
    int fallbacks = 0;
    for (int n = 1;; ++n) {
        World w;
        CHECK(w.commit(good_b).ok(), "");
        w.nf = Netfilter();  // a fresh boot: nothing loaded
        w.tools = tools_for(&w.nf);
        w.nf.fail_at = n;
        firewall::Transaction tx(w.state, w.tools, w.timer);
        firewall::Outcome o = tx.boot(new_b, "", "/etc/ringfence/new.conf", "done");
        if (w.nf.calls < n) {
            break;
        }
        if (!o.ok()) {
            ++fallbacks;
            CHECK_INT(o.status, core::kExitInvalid, "boot fell back");
            CHECK(unit::contains(o.problems.back(), "applied the last good ruleset (from /etc/ringfence/old.conf)"),
                  o.problems.back());
            CHECK_STR(w.nf.view(), good_view, "call " + std::to_string(n));
        }
    }
    CHECK(fallbacks > 0, "");
    World w;
    CHECK(w.commit(good_b).ok() && w.commit(new_b, 60).ok(), "");
    w.nf = Netfilter();
    w.tools = tools_for(&w.nf);
    firewall::Transaction tx(w.state, w.tools, w.timer);
    firewall::Outcome o = tx.boot(new_b, "", "/etc/ringfence/new.conf", "done");
    CHECK(!o.ok() && unit::contains(o.problems.back(), "still unconfirmed when the host went down"), "");
    CHECK_STR(w.nf.view(), good_view, "");
    World empty;
    firewall::Transaction tx2(empty.state, empty.tools, empty.timer);
    o = tx2.boot(std::nullopt, "/etc/ringfence/new.conf has errors", "/etc/ringfence/new.conf", "");
    CHECK(o.status == core::kExitInvalid && unit::contains(o.problems.back(), "there is no last good ruleset"), "");
}

void test_flush(void**) {
    World w;
    CHECK(w.commit(bundle_of(kOld, Backend::iptables, "old.conf")).ok(), "");
    CHECK(w.commit(bundle_of(kNew, Backend::nft, "new.conf")).ok(), "switch to nft");
    CHECK(w.nf.view().find("RINGFENCE") == std::string::npos, "the iptables rules went with the switch");
    firewall::Transaction tx(w.state, w.tools, w.timer);
    CHECK(tx.flush().ok(), "");
    CHECK(w.nf.nft.empty() && w.nf.sets.empty() && w.state.files.empty(), "");
}

// Two lists for one policy: only the members of its set differ.
const char* kSetPolicy = "policy in drop\nset bl file bl\ndeny in from bl\nallow in tcp/22 from 10.0.0.0/8\n";

Bundle set_bundle(Backend backend, const char* members) {
    unit::Compiled c = unit::compile(kSetPolicy, {{"/etc/ringfence/bl", members}}, "/etc/ringfence/fw.conf");
    return firewall::make_bundle(*c.policy, backend, kSetPolicy);
}

const char* kListOld = "192.0.2.1\n2001:db8::66\n";
const char* kListNew = "192.0.2.2\n198.51.100.0/24\n2001:db8::77\n";

bool ran(const Netfilter& nf, const std::string& what) {
    for (const std::string& l : nf.log) {
        if (starts(l, what)) {
            return true;
        }
    }
    return false;
}

// Only the members changed: they alone are loaded, the rules stay, and
// the state is as after a full apply of the new list.
void reload_loads_sets_only(Backend backend) {
    const Bundle old_b = set_bundle(backend, kListOld), new_b = set_bundle(backend, kListNew);
    CHECK(firewall::same_rules(old_b, new_b), "only the members differ");
    const std::string new_view = view_after(old_b, &new_b);
    World w;
    CHECK(w.commit(old_b).ok(), "old applied");
    w.nf.log.clear();
    firewall::Transaction tx(w.state, w.tools, w.timer);
    firewall::Outcome o = tx.reload(new_b, "done");
    CHECK(o.ok() && o.sets_only, "a set-only reload");
    CHECK_STR(w.nf.view(), new_view, "the new members are live, as after a full apply");
    CHECK(!ran(w.nf, "iptables-restore") && !ran(w.nf, "ip6tables-restore"), "no rule reloaded");
    if (backend == Backend::iptables) {
        CHECK(ran(w.nf, "ipset swap"), "swapped");
        CHECK(w.nf.sets.count("ringfence-bl-v4a") == 1 && w.nf.sets.count("ringfence-bl-v4b") == 0,
              "the live set keeps its name; the spare is gone");
    }
    CHECK_STR(w.state.files.at("active").ipset, new_b.ipset, "active holds the new members");
    CHECK_STR(w.state.files.at("active").nft, new_b.nft, "active holds the new members");
    CHECK_STR(w.state.files.at("good").ipset, new_b.ipset, "good too");
    CHECK_STR(w.state.files.at("previous").ipset, old_b.ipset, "previous: the old list, for rollback");
    // Rollback brings the old members back.
    CHECK(tx.rollback("by request").ok(), "rollback");
    CHECK_STR(w.nf.view(), view_after(old_b, nullptr), "old members back");
}

// A list that grows past 4096 entries gets a bigger hash size (render.cc);
// `ipset swap` does not mind, so it is still a set-only reload.
void test_reload_big_list_new_hashsize(void**) {
    std::string big;
    for (int i = 0; i < 5000; ++i) {
        big += "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1\n";
    }
    const Bundle old_b = set_bundle(Backend::iptables, kListOld), new_b = set_bundle(Backend::iptables, big.c_str());
    CHECK(unit::contains(old_b.ipset, "hashsize 1024 ") && unit::contains(new_b.ipset, "hashsize 2048 "),
          old_b.ipset.substr(0, 200) + new_b.ipset.substr(0, 200));
    CHECK(firewall::same_rules(old_b, new_b), "the hash size is not a rule");
    World w;
    CHECK(w.commit(old_b).ok(), "old applied");
    firewall::Outcome o = firewall::Transaction(w.state, w.tools, w.timer).reload(new_b, "done");
    CHECK(o.ok() && o.sets_only, "a set-only reload");
    CHECK_INT(long(w.nf.sets.at("ringfence-bl-v4a").size()), 5000, "the big list is live");
}

void test_reload_iptables_sets_only(void**) { reload_loads_sets_only(Backend::iptables); }
void test_reload_nft_sets_only(void**) { reload_loads_sets_only(Backend::nft); }

// Each program call and each state write of a set-only reload fails in
// turn: the old members stay live and the state as it was, or the reload
// worked.
void reload_fails_at_every_step(Backend backend) {
    const Bundle old_b = set_bundle(backend, kListOld), new_b = set_bundle(backend, kListNew);
    const std::string old_view = view_after(old_b, nullptr);
    const std::string new_view = view_after(old_b, &new_b);
    int failures = 0;
    for (bool writes : {false, true}) {
        for (int n = 1;; ++n) {
            World w;
            CHECK(w.commit(old_b).ok() && w.commit(old_b).ok(), "old applied twice: previous is a real bundle");
            const std::map<std::string, Bundle> before = w.state.files;
            w.nf.calls = 0;
            w.nf.log.clear();
            w.state.writes = 0;
            (writes ? w.state.fail_at : w.nf.fail_at) = n;
            firewall::Transaction tx(w.state, w.tools, w.timer);
            firewall::Outcome o = tx.reload(new_b, "done");
            if ((writes ? w.state.writes : w.nf.calls) < n) {
                break;
            }
            const std::string step = std::string(writes ? "write " : "call ") + std::to_string(n) +
                                     (writes ? std::string() : " (" + w.nf.log[size_t(n - 1)] + ")");
            if (o.ok()) {
                CHECK_STR(w.nf.view(), new_view, step + ": new members live");
                CHECK_STR(w.state.files.at("active").ipset + w.state.files.at("active").nft, new_b.ipset + new_b.nft,
                          step);
                continue;
            }
            ++failures;
            CHECK_INT(o.status, core::kExitFailed, step);
            if (w.nf.view() == new_view) {
                // Only a state write after the load: the message names the
                // state directory, and `good` is still the old list.
                CHECK(writes && unit::contains(o.problems.back(), "state directory /state"), step);
                CHECK_STR(w.state.files.at("good").ipset + w.state.files.at("good").nft, old_b.ipset + old_b.nft,
                          step);
                continue;
            }
            CHECK_STR(w.nf.view(), old_view, step + ": old members still live");
            CHECK(w.state.files.size() == before.size(), step + ": no state file more or less");
            for (const char* name : {"active", "good", "previous"}) {
                CHECK_STR(firewall::serialize(w.state.files.at(name)), firewall::serialize(before.at(name)),
                          step + ": " + name + " unchanged");
            }
        }
    }
    CHECK(failures > 0, "some steps are fatal");
}

void test_reload_iptables_each_step_fails(void**) { reload_fails_at_every_step(Backend::iptables); }
void test_reload_nft_each_step_fails(void**) { reload_fails_at_every_step(Backend::nft); }

// A full apply where a set-only reload would not be right: other rules, a
// confirmation pending, live rules changed by hand (which the full load
// repairs), no active bundle.
void test_reload_falls_back_to_full(void**) {
    for (Backend backend : {Backend::iptables, Backend::nft}) {
        const Bundle old_b = set_bundle(backend, kListOld), new_b = set_bundle(backend, kListNew);
        const std::string new_view = view_after(old_b, &new_b);
        const Bundle other = bundle_of(kNew, backend, "new.conf");
        CHECK(!firewall::same_rules(old_b, other), "other rules");
        {
            World w;
            CHECK(w.commit(old_b).ok(), "");
            firewall::Outcome o = firewall::Transaction(w.state, w.tools, w.timer).reload(other, "done");
            CHECK(o.ok() && !o.sets_only, "other rules: a full apply");
            CHECK_STR(w.nf.view(), view_after(old_b, &other), "");
        }
        {
            World w;
            firewall::Outcome o = firewall::Transaction(w.state, w.tools, w.timer).reload(new_b, "done");
            CHECK(o.ok() && !o.sets_only, "nothing applied yet: a full apply");
        }
        {
            World w;
            CHECK(w.commit(old_b).ok() && w.commit(old_b, 60).ok() && w.state.pend.has_value(), "");
            firewall::Outcome o = firewall::Transaction(w.state, w.tools, w.timer).reload(new_b, "done");
            CHECK(o.ok() && !o.sets_only, "confirmation pending: a full apply, as before");
            CHECK(!w.state.pend.has_value(), "");
        }
        {
            World w;
            CHECK(w.commit(old_b).ok(), "");
            if (backend == Backend::iptables) {
                w.nf.v4.rules["RINGFENCE-IN"].push_back("-A RINGFENCE-IN -s 10.6.6.6/32 -j ACCEPT");
            } else {
                w.nf.nft += "# a line added by hand\n";
            }
            firewall::Outcome o = firewall::Transaction(w.state, w.tools, w.timer).reload(new_b, "done");
            CHECK(o.ok(), "drift: reloaded");
            if (backend == Backend::iptables) {
                CHECK(!o.sets_only, "drift: a full apply");
            }
            CHECK_STR(w.nf.view(), new_view, "drift: the rules are put back with the new members");
            CHECK_STR(w.state.files.at("active").live, firewall::capture_live(backend, w.tools), "live snapshot");
        }
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_iptables_each_call_fails),
        cmocka_unit_test(test_commit_nft_each_call_fails),
        cmocka_unit_test(test_commit_each_state_write_fails),
        cmocka_unit_test(test_commit_timer_does_not_start),
        cmocka_unit_test(test_confirm_and_revert),
        cmocka_unit_test(test_rollback_each_call_fails),
        cmocka_unit_test(test_boot_falls_back),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_reload_iptables_sets_only),
        cmocka_unit_test(test_reload_nft_sets_only),
        cmocka_unit_test(test_reload_iptables_each_step_fails),
        cmocka_unit_test(test_reload_nft_each_step_fails),
        cmocka_unit_test(test_reload_falls_back_to_full),
        cmocka_unit_test(test_reload_big_list_new_hashsize),
    };
    unit::apply_filters();
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
