// SPDX-License-Identifier: BSD-3-Clause
// The real system behind the firewall's transactions (transaction.h): the
// revert timer as a detached process of its own, and the protections a
// commit runs under (blocked signals, a worker process that a dying SSH
// session cannot stop half way).
#pragma once

#include <functional>
#include <string>

#include <signal.h>

#include "iptables_helper/transaction.h"

namespace ringfence::firewall {

// `ringfence-firewall --state-dir DIR revert-timer TOKEN SECONDS`, started
// as a detached process (its own session, no terminal, SIGHUP ignored,
// double fork); under systemd in a scope of its own (systemd-run --scope),
// so that logind's KillUserProcesses=yes does not kill it with the SSH
// session. `program` is this program (/proc/self/exe when empty).
class SystemTimer : public RevertTimer {
public:
    explicit SystemTimer(std::string state_dir, std::string program = std::string())
        : state_dir_(std::move(state_dir)), program_(std::move(program)) {}
    long start(const std::string& token, int seconds) override;
    bool running(const Pending& p) const override;
    void stop(const Pending& p) override;
    std::string new_token() override;
    long now() const override;

private:
    long spawn(const std::string& token, int seconds, const std::string& via) const;
    std::string state_dir_;
    std::string program_;
};

// Is `pid` the revert timer for `token`? (Its command line names the token.)
bool is_timer(long pid, const std::string& token);

// Blocks the signals a terminal or a dying SSH session sends while it
// lives: a commit runs to its end (SIGKILL aside).
class CriticalSection {
public:
    CriticalSection();
    ~CriticalSection();
    CriticalSection(const CriticalSection&) = delete;
    CriticalSection& operator=(const CriticalSection&) = delete;

private:
    sigset_t old_;
};

// Runs `body` in a worker process of its own session that ignores the
// terminal's signals, and returns its exit status. A kill of this process,
// of its process group or of its SSH session then cannot stop a commit half
// way: the worker finishes both families and the state files, holding the
// state directory's lock (the inherited descriptor) until it is done. Only
// SIGKILL of the worker itself remains: each family is still one
// transaction, and `status` reports a family mix as drift. Without fork,
// `body` runs here.
int in_worker(const std::function<int()>& body);

}  // namespace ringfence::firewall
