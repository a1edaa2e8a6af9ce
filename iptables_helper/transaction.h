// SPDX-License-Identifier: BSD-3-Clause
// The firewall's transactions: what apply, confirm, rollback, the revert
// timer, flush and boot do to the kernel and to the state files, in which
// order, and what is left when a step fails. The system is reached only
// through Tools (the netfilter programs, Tools::run), a StateStore (the
// state files) and a RevertTimer, so every step can be made to fail in a
// test; the real ones are core/run_program, StateDir (core/atomic_file)
// and SystemTimer (system.h).
//
// The state files (applier.h):
//   active    what was applied last, with the live snapshot taken right after
//   previous  what rollback (and the revert timer) loads; a bundle with
//             backend "none" means "no ringfence rules"
//   good      the last confirmed apply: boot's fallback
//   pending   the revert timer of an unconfirmed apply
//
// commit: previous := good (the old previous kept aside as previous-old
// until the load worked); with a confirmation the timer is started and
// `pending` written BEFORE the load, so whatever stops the process after
// the load, the timer brings the previous ruleset back; then the load (on
// failure: the running ruleset unchanged, previous put back, the timer
// stopped); then the other backend's rules are removed if the backend
// changed; then active := the bundle with its live snapshot, and good :=
// active unless a confirmation is pending.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "iptables_helper/applier.h"

namespace ringfence::firewall {

enum class LogLevel { notice, warning, error };

// What a transaction has to say; the program prints and logs it.
struct Outcome {
    int status = 0;                       // core/exit_status.h
    std::vector<std::string> said;        // for standard output (unless quiet)
    std::vector<std::string> problems;    // for standard error
    std::vector<std::string> diagnostics; // for standard error as they are (file:line:col: ...)
    std::vector<std::pair<LogLevel, std::string>> log;  // for syslog
    bool sets_only = false;               // reload loaded the set members alone
    bool ok() const { return status == 0; }
};

// The confirm timer: a process of its own that runs `revert` when the
// deadline passes.
class RevertTimer {
public:
    virtual ~RevertTimer() = default;
    // Starts a timer for `token` that fires after `seconds`; its pid, or 0
    // when it did not start.
    virtual long start(const std::string& token, int seconds) = 0;
    // Is the timer of `p` still waiting?
    virtual bool running(const Pending& p) const = 0;
    // Stops it, if it is still ours.
    virtual void stop(const Pending& p) = 0;
    virtual std::string new_token() = 0;
    virtual long now() const = 0;  // epoch seconds
};

// "IPv4 12 rules, IPv6 14 rules, 1 set (3 entries)" (iptables) or
// "5 policy rules, 1 set (3 entries)" (nft).
std::string summary_of(const Bundle& b);

// "14:05:09": a deadline in local time, for messages.
std::string clock_time(long epoch);

class Transaction {
public:
    // The caller holds the state's lock for the transaction's lifetime.
    Transaction(const StateStore& state, const Tools& tools, RevertTimer& timer)
        : state_(state), tools_(tools), timer_(timer) {}

    // Makes `bundle` live and records it (see above); `done` is said when
    // it worked. confirm_seconds > 0: a revert timer guards it.
    Outcome commit(Bundle bundle, int confirm_seconds, const std::string& done);
    // commit() without a confirmation, which loads only the members of the
    // sets (load_sets, applier.h) when they are all that differs from the
    // active bundle and no confirmation is pending; the state files change
    // as in commit(), and a failure leaves the same as commit's.
    Outcome reload(Bundle bundle, const std::string& done);
    // Keeps what an `apply --confirm` loaded: good := active, timer stopped.
    Outcome confirm();
    // Loads `previous` again; active := good := it.
    Outcome rollback(const std::string& why);
    // The timer's expiry: rolls back unless `token` was confirmed or
    // replaced by a newer apply.
    Outcome revert(const std::string& token, long seconds);
    // Removes ringfence's rules of every backend and the state of what was
    // applied.
    Outcome flush();
    // At boot: drops an unconfirmed apply (the host went down while it
    // waited), commits `bundle` unless `failure` says why it cannot be, and
    // falls back to `good` when that did not work.
    Outcome boot(const std::optional<Bundle>& bundle, std::string failure, const std::string& source,
                 const std::string& done);

private:
    // `active`: try a set-only load against it first.
    Outcome commit_with(Bundle bundle, int confirm_seconds, const std::string& done, const Bundle* active);
    void stop_timer();
    const StateStore& state_;
    const Tools& tools_;
    RevertTimer& timer_;
};

}  // namespace ringfence::firewall
