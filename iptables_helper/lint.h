// SPDX-License-Identifier: BSD-3-Clause
// What `ringfence-firewall check` and `ringfence` report about a
// firewall.conf beyond its syntax: rules that are legal but probably not
// meant. Pure code over the compiled policy and its rule plan (plan.h), so
// a rule called dead here is one the loaded chains never reach.
#pragma once

#include <memory>
#include <string>

#include "core/diagnostic.h"
#include "iptables_helper/firewall_conf.h"

namespace ringfence::firewall {

// Warnings (file:line:col: warning: ...) about a valid policy:
//  - a rule that never decides, because an earlier step of its chain
//    matches everything it matches (an allow rule behind a deny rule, a
//    rule repeated, a network inside an earlier rule's network);
//  - an allow rule for all traffic from (to) anywhere while the default
//    policy of its direction is drop or reject: the default never applies;
//  - SSH (tcp/22) refused from every address, or allowed by no rule while
//    the default drops or rejects it: nobody can log in over the network.
// Returns an empty list for an invalid policy (its errors say enough).
core::Diagnostics lint(const Policy& policy);

// compile (with the warnings of the compiler) plus lint, for one file:
// what `check` prints and how it ends.
struct CheckReport {
    std::shared_ptr<const Policy> policy;  // valid() false when errors > 0
    std::string text;                      // the file's text, lines joined with '\n'
    core::Diagnostics diagnostics;         // compiler's, then lint's
    int errors = 0;
    int warnings = 0;
    // "3 rules, 1 set, 2 set entries"
    std::string counts() const;
    // core/exit_status.h: kExitInvalid with errors, kExitWarnings with
    // warnings only, kExitOk otherwise.
    int exit_status() const;
};

// Reads `path` with core::read_config_file (its trust checks; a missing or
// refused file is an error diagnostic), compiles and lints it.
CheckReport check_file(const std::string& path, const CompileOptions& options = CompileOptions());

// The same for a file the caller has read (`ringfence` reads inside
// --root): compiled under the name `path`, which relative set paths start
// from and diagnostics name.
CheckReport check_read(const std::string& path, const core::ReadResult& read, const CompileOptions& options);

}  // namespace ringfence::firewall
