// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for access::lint: policy text -> the exact warnings
// (file:line:col: warning: message), with a fake identity: missing final
// deny, rules after a catch-all, users and groups that do not exist, @name
// read as a netgroup while a group of that name exists, time fields that
// never match, root refused on every console. Also the module options
// parser and loader shared by the module and ringfence-accesschk.
#include <string>
#include <vector>

#include "fakes.h"
#include "pam_module/access_lint.h"
#include "pam_module/module_options.h"
#include "unit_test.h"

using ringfence::access::Environment;
using ringfence::access::LintOptions;
using ringfence::access::ParseOptions;
using ringfence::core::Diagnostics;
using unit::FakeIdentity;
using unit::FakeNameService;

namespace {

// root; alice (wheel, vmadmins); bob; Oscar (mixed case). Groups root,
// wheel, vmadmins, staff; "flaky" cannot be looked up.
struct World {
    FakeIdentity id;
    FakeNameService dns;
    World() {
        id.add_group("root", 0);
        id.add_group("wheel", 10, {"alice"});
        id.add_group("staff", 50);
        id.add_group("users", 100);
        id.add_group("vmadmins", 1000, {"alice"});
        id.add_user("root", 0, 0);
        id.add_user("alice", 1001, 100);
        id.add_user("bob", 1002, 100);
        id.add_user("Oscar", 1003, 100);
        id.failing_groups = {"flaky"};
    }
};

ParseOptions with_atgroup() {
    ParseOptions o;
    o.atgroup = true;
    return o;
}

ParseOptions with_nodefgroup() {
    ParseOptions o;
    o.nodefgroup = true;
    return o;
}

// The warnings, one_line() each.
std::vector<std::string> lint_text(const std::string& text, const ParseOptions& options = ParseOptions(),
                                   World* world = nullptr, Diagnostics* full = nullptr) {
    World local;
    World& w = world != nullptr ? *world : local;
    Diagnostics diags;
    auto policy = unit::compile_text(text, options, &diags);
    if (!policy->valid()) {
        fail_msg("test setup: policy does not compile: %s", unit::join_diags(diags).c_str());
    }
    Environment env{w.id, w.dns};
    Diagnostics out = ringfence::access::lint(*policy, env, LintOptions());
    std::vector<std::string> lines;
    for (const auto& d : out) {
        CHECK(d.severity == ringfence::core::Severity::warning, d.one_line());
        CHECK(!d.hint.empty(), d.one_line());
        lines.push_back(d.one_line());
    }
    if (full != nullptr) {
        *full = out;
    }
    return lines;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) {
        s += "\n      " + x;
    }
    return s;
}

struct Row {
    const char* text;
    ParseOptions options;
    std::vector<std::string> expected;
};

void run_rows(const std::vector<Row>& rows) {
    for (const Row& r : rows) {
        std::vector<std::string> got = lint_text(r.text, r.options);
        std::string row = std::string(r.text) + "  ->" + joined(got);
        CHECK_INT(got.size(), r.expected.size(), row);
        for (size_t i = 0; i < got.size() && i < r.expected.size(); ++i) {
            CHECK_STR(got[i], r.expected[i], row);
        }
    }
}

const std::string kNoFinalDeny =
    "warning: no rule matches every login: a login that no rule matches is allowed (as pam_access)";
const std::string kRootLocked =
    "warning: root is refused on every console (console tty1 tty2 tty3 tty4 tty5 tty6 ttyS0 hvc0 :0) at every "
    "time; this rule refuses root on console";

void clean_policies(void**) {
    run_rows({
        {"+ : root : LOCAL\n+ : (vmadmins) : ALL\n- : ALL : ALL\n", {}, {}},
        {"+ : root : crond console tty1 tty2\n+ : alice bob : 10.0.0.0/8 : Wk0800-1800\n- : ALL : ALL\n", {}, {}},
        // A catch-all allow is the admin's explicit word: no "final deny" warning.
        {"- : bob : ALL\n+ : ALL : ALL\n", {}, {}},
        // A time field that matches every minute keeps a catch-all a catch-all.
        {"+ : root : LOCAL\n- : ALL : ALL : Al\n", {}, {}},
        {"+ : root : LOCAL\n- : ALL : ALL : Al0000-2400\n", {}, {}},
        // Bare group names, user names in another case, @name with atgroup.
        {"+ : root : LOCAL\n+ : wheel ALICE Oscar : ALL\n+ : @vmadmins : ALL\n- : ALL : ALL\n", with_atgroup(), {}},
        // A name the name service cannot look up is not reported.
        {"+ : flaky : ALL\n- : ALL : ALL\n", {}, {}},
    });
}

void missing_final_deny(void**) {
    run_rows({
        {"+ : root : LOCAL\n", {}, {"access.conf:1:1: " + kNoFinalDeny}},
        {"+ : root : LOCAL\n- : ALL EXCEPT root : ALL\n", {}, {"access.conf:2:1: " + kNoFinalDeny}},
        {"+ : root : LOCAL\n- : ALL : ALL EXCEPT tty1\n", {}, {"access.conf:2:1: " + kNoFinalDeny}},
        // Only during working hours: the rest of the week falls through.
        {"+ : root : LOCAL\n- : ALL : ALL : Wk0800-1800\n", {}, {"access.conf:2:1: " + kNoFinalDeny}},
        {"", {}, {"access.conf: warning: no rules: pam_ringfence allows every login (as pam_access)"}},
        {"# only comments\n\n", {}, {"access.conf: warning: no rules: pam_ringfence allows every login (as pam_access)"}},
    });
}

void rules_after_catch_all(void**) {
    run_rows({
        {"+ : root : LOCAL\n- : ALL : ALL\n+ : alice : ALL\n",
         {},
         {"access.conf:3:1: warning: this rule is never reached: access.conf:2 ('- : ALL : ALL') matches every login "
          "before it"}},
        {"+ : ALL : ALL\n- : root : ALL\n- : ALL : ALL\n",
         {},
         {"access.conf:2:1: warning: this rule is never reached: access.conf:1 ('+ : ALL : ALL') matches every login "
          "before it",
          "access.conf:3:1: warning: this rule is never reached: access.conf:1 ('+ : ALL : ALL') matches every login "
          "before it"}},
        // ALL among other items is still ALL.
        {"+ : root : LOCAL\n- : bob ALL : tty1 ALL\n- : ALL : ALL\n",
         {},
         {"access.conf:3:1: warning: this rule is never reached: access.conf:2 ('- : bob ALL : tty1 ALL') matches "
          "every login before it"}},
    });
}

void names_that_do_not_exist(void**) {
    run_rows({
        {"+ : root alcie : ALL\n- : ALL : ALL\n",
         {},
         {"access.conf:1:10: warning: 'alcie' is neither a user nor a group: this item matches nobody"}},
        {"+ : root (wheels) : ALL\n- : ALL : ALL\n",
         {},
         {"access.conf:1:10: warning: there is no group 'wheels': (wheels) matches nobody"}},
        {"+ : root @wheels : ALL\n- : ALL : ALL\n",
         with_atgroup(),
         {"access.conf:1:10: warning: there is no group 'wheels': @wheels matches nobody"}},
        // EXCEPT lists are checked too: a typo there lets the user in.
        {"+ : root : LOCAL\n- : ALL EXCEPT rooot : ALL\n- : ALL : ALL\n",
         {},
         {"access.conf:2:16: warning: 'rooot' is neither a user nor a group: this item matches nobody"}},
        // nodefgroup: a bare name is a user name only.
        {"+ : root wheel : ALL\n- : ALL : ALL\n",
         with_nodefgroup(),
         {"access.conf:1:10: warning: there is no user 'wheel': this item matches nobody"}},
        // The user part of user@host.
        {"+ : root : LOCAL\n+ : bobb@vmhost.example.com : ALL\n- : ALL : ALL\n",
         {},
         {"access.conf:2:5: warning: 'bobb' is neither a user nor a group: this item matches nobody"}},
    });
}

void netgroup_named_like_a_group(void**) {
    const std::string w =
        "access.conf:2:5: warning: @vmadmins is a NIS netgroup here; the UNIX group needs (vmadmins) or the atgroup "
        "option";
    run_rows({
        {"+ : root : LOCAL\n+ : @vmadmins EXCEPT bob : ALL\n- : ALL : ALL\n", {}, {w}},
        {"+ : root : LOCAL\n+ : @vmadmins EXCEPT bob : ALL\n- : ALL : ALL\n", with_atgroup(), {}},
        // No group of that name: a netgroup is what the admin meant.
        {"+ : root : LOCAL\n+ : @ngadmins : ALL\n- : ALL : ALL\n", {}, {}},
        // In the origins field @name is always a host netgroup.
        {"+ : root : LOCAL\n+ : alice : @vmadmins\n- : ALL : ALL\n", {}, {}},
    });
    Diagnostics full;
    lint_text("+ : root : LOCAL\n+ : @vmadmins : ALL\n- : ALL : ALL\n", ParseOptions(), nullptr, &full);
    CHECK_INT(full.size(), 1, "hint");
    CHECK(unit::contains(full[0].hint, "atgroup"), full[0].hint);
    CHECK(unit::contains(full[0].full(), "    + : @vmadmins : ALL\n        ^\n"), full[0].full());
}

void time_fields_that_never_match(void**) {
    run_rows({
        {"+ : root : LOCAL\n+ : alice : ALL : !Al\n- : ALL : ALL\n",
         {},
         {"access.conf:2:19: warning: the time field '!Al' matches at no time of the week: this rule never applies"}},
        {"+ : root : LOCAL\n+ : alice : ALL : Wk0800-1800&Wd\n- : ALL : ALL\n",
         {},
         {"access.conf:2:19: warning: the time field 'Wk0800-1800&Wd' matches at no time of the week: this rule "
          "never applies"}},
        {"+ : root : LOCAL\n+ : alice : ALL : Al0900-1000&Al1000-1100\n- : ALL : ALL\n",
         {},
         {"access.conf:2:19: warning: the time field 'Al0900-1000&Al1000-1100' matches at no time of the week: this "
          "rule never applies"}},
        // Never matching makes a "catch-all" no catch-all.
        {"+ : root : LOCAL\n- : ALL : ALL : !Al\n",
         {},
         {"access.conf:2:17: warning: the time field '!Al' matches at no time of the week: this rule never applies",
          "access.conf:2:1: " + kNoFinalDeny}},
    });
}

void root_locked_out_of_consoles(void**) {
    run_rows({
        {"+ : alice : ALL\n- : ALL : ALL\n", {}, {"access.conf:2:1: " + kRootLocked}},
        // Root only from the network.
        {"+ : root : 10.0.0.1\n- : root : ALL\n- : ALL : ALL\n", {}, {"access.conf:2:1: " + kRootLocked}},
        // Root on one console is a way in.
        {"+ : root : tty1\n- : ALL : ALL\n", {}, {}},
        {"+ : root : ttyS0\n- : ALL : ALL\n", {}, {}},
        {"+ : (wheel) root : LOCAL\n- : ALL : ALL\n", {}, {}},
        // Some of the week is enough: not "at every time".
        {"+ : root : LOCAL : Wk0800-1800\n- : ALL : ALL\n", {}, {}},
        {"- : root : ALL : Wk\n+ : ALL : ALL\n", {}, {}},
        // Refused only because a group cannot be resolved: not the policy's word.
        {"- : flaky : LOCAL\n+ : ALL : ALL\n", {}, {}},
    });
    // No user root (a container, a test world): nothing to say.
    World w;
    FakeIdentity bare;
    bare.add_user("alice", 1001, 100);
    Diagnostics diags;
    auto policy = unit::compile_text("+ : ALL : tty9\n- : ALL : ALL\n", ParseOptions(), &diags);
    Environment env{bare, w.dns};
    CHECK_INT(ringfence::access::lint(*policy, env).size(), 0, "no root");
}

// Each name is asked once, however many rules and evaluations need it.
void lookups_are_cached(void**) {
    World w;
    lint_text("+ : (vmadmins) : tty1\n+ : (vmadmins) : tty2 : Wk\n+ : (vmadmins) : tty3 : Sa\n"
              "- : ALL EXCEPT (vmadmins) : ALL\n- : ALL : ALL\n",
              ParseOptions(), &w);
    int n = 0;
    for (const std::string& g : w.id.group_calls) {
        n += g == "vmadmins";
    }
    CHECK_INT(n, 1, "lookup_group(vmadmins) calls");
    CHECK(w.id.lookup_calls <= 2, "lookup_user calls: " + std::to_string(w.id.lookup_calls));
}

void module_options(void**) {
    using ringfence::access::ModuleOptions;
    using ringfence::access::parse_module_options;
    ModuleOptions d = parse_module_options(std::vector<std::string>{});
    CHECK_STR(d.accessfile, "/etc/security/access.conf", "default");
    CHECK(!d.accessfile_given && !d.parse.atgroup && !d.parse.nodefgroup && d.bad_option.empty(), "default");
    CHECK_STR(d.parse.fieldsep, ":", "default");
    CHECK_STR(d.parse.listsep, ", \t", "default");

    const char* argv[] = {"accessfile=/etc/security/access-sshd.conf",
                          "atgroup",
                          "nodefgroup",
                          "fieldsep=|",
                          "listsep=,",
                          "debug",
                          "quiet_log",
                          "nodns",
                          "noaudit",
                          nullptr,
                          "fieldsep=;"};
    ModuleOptions m = parse_module_options(11, argv);
    CHECK_STR(m.accessfile, "/etc/security/access-sshd.conf", "accessfile");
    CHECK(m.accessfile_given && m.parse.atgroup && m.parse.nodefgroup && m.debug && m.quiet_log, "flags");
    CHECK_STR(m.parse.fieldsep, ";", "later wins");
    CHECK_STR(m.parse.listsep, ",", "listsep");
    CHECK(m.bad_option.empty(), m.bad_option);

    ModuleOptions bad = parse_module_options(std::vector<std::string>{"atgroup", "Atgroup", "bogus"});
    CHECK_STR(bad.bad_option, "Atgroup", "first unknown option");
    bad = parse_module_options(std::vector<std::string>{"accessfile"});
    CHECK_STR(bad.bad_option, "accessfile", "accessfile without =");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_policies),
        cmocka_unit_test(missing_final_deny),
        cmocka_unit_test(rules_after_catch_all),
        cmocka_unit_test(names_that_do_not_exist),
        cmocka_unit_test(netgroup_named_like_a_group),
        cmocka_unit_test(time_fields_that_never_match),
        cmocka_unit_test(root_locked_out_of_consoles),
        cmocka_unit_test(lookups_are_cached),
        cmocka_unit_test(module_options),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("access_lint", tests, nullptr, nullptr);
}
