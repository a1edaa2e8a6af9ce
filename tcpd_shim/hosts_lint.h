// SPDX-License-Identifier: BSD-3-Clause
// Linting hosts.allow and hosts.deny (ringfence-tcpdchk, `ringfence lint`):
// warnings about rules that are legal but probably not what was meant, on
// top of the compiler's errors. The system is asked only through LintOptions.
#pragma once

#include <functional>
#include <string>

#include "core/diagnostic.h"
#include "core/identity.h"
#include "tcpd_shim/hosts_access.h"

namespace ringfence::tcpd {

struct LintOptions {
    // tcpdchk -a: report hosts.allow rules that allow without an explicit `allow`.
    bool implicit_allow = false;
    // Checks that the users and groups of `user` and `group` options exist;
    // null: not checked.
    core::Identity* identity = nullptr;
    // Checks that `banners` directories exist; empty: not checked.
    std::function<bool(const std::string&)> is_directory;
};

// `allow` and `deny` are the files `policy` was compiled from (diagnostics
// quote their lines). Returns warnings only; errors are the compiler's.
core::Diagnostics lint(const Policy& policy, const HostsFile& allow, const HostsFile& deny,
                       const LintOptions& options);

// Orders diagnostics as ringfence-tcpdchk prints them: the allow file, the
// deny file, then pattern files; by line and column within each file.
// ALL: ALL (no EXCEPT, no daemon@host, no user@): a rule every request
// matches; rules after it are never reached.
bool matches_everything(const Rule& r);

void sort_diagnostics(core::Diagnostics* diags, const std::string& allow_path, const std::string& deny_path);

}  // namespace ringfence::tcpd
