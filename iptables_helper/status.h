// SPDX-License-Identifier: BSD-3-Clause
// Is the running ruleset the one ringfence-firewall applied, and is the
// policy file still the one it was applied from? One answer for
// `ringfence-firewall status` and `ringfence audit`. Reads only (the live
// rules through the netfilter tools, the state store, the policy file).
#pragma once

#include <optional>
#include <string>

#include "core/diagnostic.h"
#include "iptables_helper/applier.h"

namespace ringfence::firewall {

struct StatusReport {
    bool applied = false;       // false: no state (nothing applied); `error` says why
    std::string error;
    Backend backend = Backend::none;
    std::string source;         // the file the active ruleset was applied from
    std::string live_diff;      // "- applied / + live" lines; "" when the live rules are as applied
    enum class File { same, changed, invalid, missing, not_checked };
    File file = File::not_checked;
    std::string file_path;      // the file compared
    core::Diagnostics file_diags;  // its diagnostics when invalid
    std::optional<Pending> pending;
    bool pending_timer_alive = false;

    // The live rules differ, the file differs from what was applied or has
    // errors, or an unconfirmed apply lost its revert timer.
    bool drift() const;
};

// `file`: the policy file to compare; "" means the one the active ruleset
// was applied from (then a file that no longer exists is reported as
// missing, not as drift).
StatusReport firewall_status(const StateStore& state, const Tools& tools, const std::string& file);

}  // namespace ringfence::firewall
