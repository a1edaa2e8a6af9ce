// SPDX-License-Identifier: BSD-3-Clause
// lint: what is legal in an access.conf policy but likely wrong. The
// compiler already reports what is not legal; these are warnings about a
// valid policy, with the rule's file:line:col, the line and a hint.
#pragma once

#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "pam_module/access_conf.h"

namespace ringfence::access {

struct LintOptions {
    // Users and groups named in the users field must exist (asks the
    // identity; a name service error is not reported).
    bool check_names = true;
    // The local origins (ttys, X displays) that count as consoles: root
    // refused on every one of them, at every time, is a warning.
    std::vector<std::string> consoles{"console", "tty1", "tty2", "tty3", "tty4", "tty5",
                                      "tty6",    "ttyS0", "hvc0", ":0"};
    // Named by the warning for a policy without rules.
    std::string main_file = "access.conf";
};

// Warnings, in rule order:
//  - a rule after one that matches every login (never reached);
//  - no rule matches every login (the last word is pam_access's "allow");
//  - a users item naming a user or group that does not exist;
//  - "@name" read as a netgroup while a UNIX group "name" exists;
//  - a time field that matches at no time of the week;
//  - root refused on every console at every time (evaluated with the
//    module's evaluator; valid policies only).
// Lookups go through env (each name asked once).
core::Diagnostics lint(const Policy& policy, Environment& env, const LintOptions& options = LintOptions());

}  // namespace ringfence::access
