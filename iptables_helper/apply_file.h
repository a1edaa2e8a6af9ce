// SPDX-License-Identifier: BSD-3-Clause
// `ringfence-firewall apply FILE` as a library, so that `ringfence sync`
// applies a changed feed through the same checks and transaction as the
// program, without running it: read and compile the policy, refuse while
// firewalld runs or when the policy would cut the SSH session this runs
// from, pick the backend, take the state directory's lock, then commit
// (with a revert timer) or reload (set members only when that is all that
// changed, transaction.h).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "iptables_helper/applier.h"
#include "iptables_helper/system.h"
#include "iptables_helper/transaction.h"

namespace ringfence::firewall {

struct ApplyRequest {
    std::string file;
    std::string backend;         // auto, iptables or nft; "" is auto
    std::string state_dir;
    bool force = false;          // apply even if it cuts the SSH session
    int confirm = 0;             // > 0: commit with a revert timer
    std::string ssh_connection;  // $SSH_CONNECTION; "" when unset
    bool under_sudo = false;     // $SUDO_USER is set (sudo drops SSH_CONNECTION)
    int lock_seconds = 30;       // wait for the state directory's lock
    std::string timer_program;   // the revert timer's program (SystemTimer); "" is this program
};

// The SSH lockout check on the session `ssh_connection` names ("" when
// there is none). "" when the policy may be applied, else the refusal
// (ending in "Nothing changed."); *warnings collects what to say anyway.
std::string ssh_lockout(const Policy& policy, const std::string& ssh_connection, bool force, int confirm,
                        bool under_sudo, std::vector<std::string>* warnings);

// The pid of a process called firewalld, or 0.
long firewalld_pid();

class FileApply {
public:
    explicit FileApply(ApplyRequest request) : req_(std::move(request)) {}
    // Everything before the transaction. Not ok(): nothing changed, and the
    // outcome says why (compile diagnostics in `diagnostics`).
    Outcome prepare();
    // The transaction, after prepare() succeeded. The caller blocks the
    // terminal's signals around it (system.h).
    Outcome run();
    const Bundle& bundle() const { return bundle_; }

private:
    ApplyRequest req_;
    Tools tools_;
    std::unique_ptr<StateDir> state_;
    Bundle bundle_;
};

}  // namespace ringfence::firewall
