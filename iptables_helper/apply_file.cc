// SPDX-License-Identifier: BSD-3-Clause
#include "iptables_helper/apply_file.h"

#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/config_file.h"
#include "core/exit_status.h"
#include "core/text.h"
#include "iptables_helper/evaluate.h"

namespace ringfence::firewall {

long firewalld_pid() {
    DIR* proc = opendir("/proc");
    if (proc == nullptr) {
        return 0;
    }
    long found = 0;
    while (dirent* e = readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') {
            continue;
        }
        std::string path = std::string("/proc/") + e->d_name + "/comm";
        FILE* f = std::fopen(path.c_str(), "re");
        if (f == nullptr) {
            continue;
        }
        char buf[64] = {0};
        bool hit = std::fgets(buf, sizeof buf, f) != nullptr && std::strcmp(buf, "firewalld\n") == 0;
        std::fclose(f);
        if (hit) {
            found = pid;
            break;
        }
    }
    closedir(proc);
    return found;
}

// A value that cannot be read entirely is a session we cannot check:
// refused unless --force, or --confirm whose timer undoes a lockout.
std::string ssh_lockout(const Policy& policy, const std::string& ssh_connection, bool force, int confirm,
                        bool under_sudo, std::vector<std::string>* warnings) {
    if (ssh_connection.empty()) {
        if (under_sudo) {
            warnings->push_back(
                "note: SSH_CONNECTION is not set (sudo removes it), so the SSH lockout check cannot run; "
                "`sudo --preserve-env=SSH_CONNECTION` keeps it. Consider --confirm SECONDS.");
        }
        return std::string();
    }
    std::string error;
    std::optional<SshConnection> session = parse_ssh_connection(ssh_connection, &error);
    if (!session) {
        std::string msg = "cannot read SSH_CONNECTION `" + core::escape_for_log(ssh_connection) + "`: " + error +
                          ", so the SSH lockout check cannot run";
        if (force || confirm > 0) {
            warnings->push_back("warning: " + msg + "; applying anyway (" +
                                (force ? std::string("--force") : "--confirm " + std::to_string(confirm)) + ")");
            return std::string();
        }
        return "refusing: " + msg + ". --force or --confirm SECONDS applies anyway. Nothing changed.";
    }
    const SshConnection& c = *session;
    SessionVerdict v = check_session(policy, c.client, c.client_port, c.server_port);
    if (!v.cut && v.reconnect) {
        return std::string();
    }
    std::string what = v.cut ? "would cut the SSH session this command runs from"
                             : "would keep you from opening a new SSH session from where you are now";
    std::string msg = std::string(force ? "warning: " : "refusing: ") + "this policy " + what + " (" +
                      c.client_text() + " to port " + std::to_string(c.server_port) + "/tcp): " + v.reason;
    if (force) {
        warnings->push_back(msg + "; applying anyway (--force)");
        return std::string();
    }
    return msg + ". Allow that source in the policy, or use --force (best with --confirm SECONDS). Nothing changed.";
}

Outcome FileApply::prepare() {
    Outcome o;
    auto refuse = [&](int status, const std::string& why) {
        o.status = status;
        o.problems.push_back(why);
        return o;
    };
    // The policy: diagnostics as the compiler writes them.
    core::Diagnostics diags;
    core::ReadResult rr = core::read_config_file(req_.file);
    std::shared_ptr<const Policy> policy;
    std::string text;
    if (rr.status == core::ReadStatus::ok) {
        policy = Policy::compile(req_.file, rr.text.lines, CompileOptions(), &diags);
        for (const std::string& l : rr.text.lines) {
            text += l + "\n";
        }
    } else if (rr.status == core::ReadStatus::missing) {
        core::Diagnostic d;
        d.file = req_.file;
        d.message = "the firewall policy does not exist";
        diags.push_back(d);
    } else {
        diags.push_back(rr.error);
    }
    for (const core::Diagnostic& d : diags) {
        std::string full = d.full();
        if (!full.empty() && full.back() == '\n') {
            full.pop_back();
        }
        o.diagnostics.push_back(full);
    }
    if (!policy || !policy->valid() || core::has_errors(diags)) {
        return refuse(core::kExitInvalid, "nothing changed: " + req_.file + " has errors");
    }
    if (long pid = firewalld_pid()) {
        o.log.emplace_back(LogLevel::error, "refused: firewalld is running (pid " + std::to_string(pid) + ")");
        return refuse(core::kExitRefused,
                      "firewalld is running (pid " + std::to_string(pid) +
                          "): it manages this host's firewall and would undo or fight ringfence's rules. Use one "
                          "of the two: `systemctl disable --now firewalld` (and mask it) before using "
                          "ringfence-firewall. Nothing changed.");
    }
    std::string lockout =
        ssh_lockout(*policy, req_.ssh_connection, req_.force, req_.confirm, req_.under_sudo, &o.problems);
    if (!lockout.empty()) {
        return refuse(core::kExitRefused, lockout);
    }
    tools_ = detect_tools();
    std::string why;
    std::optional<Backend> backend = choose_backend(req_.backend, tools_, &why);
    if (!backend) {
        return refuse(core::kExitFailed, why + ". Nothing changed.");
    }
    state_ = std::make_unique<StateDir>(req_.state_dir);
    std::string error;
    if (!state_->open_locked(req_.lock_seconds, &error)) {
        return refuse(error.find("another ringfence-firewall") != std::string::npos ? core::kExitRefused
                                                                                      : core::kExitFailed,
                      error);
    }
    o.said.push_back("backend: " + describe_backend(*backend, tools_));
    bundle_ = make_bundle(*policy, *backend, text);
    return o;
}

Outcome FileApply::run() {
    SystemTimer timer(req_.state_dir, req_.timer_program);
    Transaction tx(*state_, tools_, timer);
    const std::string done = "applied " + req_.file + ": " + summary_of(bundle_);
    Outcome o = req_.confirm > 0 ? tx.commit(bundle_, req_.confirm, done) : tx.reload(bundle_, done);
    if (o.ok()) {
        if (o.sets_only && !o.said.empty()) {
            o.said.front() += " (set members only: the rules were already live)";
        }
        o.log.emplace_back(LogLevel::notice, "applied " + req_.file + " (" + backend_name(bundle_.backend) +
                                                 "): " + summary_of(bundle_) +
                                                 (req_.confirm > 0 ? ", confirmation pending"
                                                  : o.sets_only    ? ", set members only"
                                                                   : ""));
    }
    return o;
}

}  // namespace ringfence::firewall
