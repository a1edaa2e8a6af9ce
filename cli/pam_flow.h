// SPDX-License-Identifier: BSD-3-Clause
// The account stack a PAM service really runs, followed through its
// `include`, `substack` and `@include` lines the way Linux-PAM splices them,
// and what that means for pam_ringfence: is it reached at all, can a line
// before it end the stack or jump over it, does its refusal count. Pure
// code: files come from a reader, findings are diagnostics naming
// file:line:col, so that `ringfence lint` can check an image (--root) or
// copies of real files in tests.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/pam_stack.h"
#include "core/diagnostic.h"

namespace ringfence::cli::pam {

// The services whose account stacks guard the console: remote and local
// logins, the two ways to become root, and the ESX authentication daemon.
// A service without a file in /etc/pam.d is not installed and not checked.
inline const std::vector<std::string>& console_services() {
    static const std::vector<std::string> kServices = {"sshd", "login", "su", "sudo", "vmware-authd"};
    return kServices;
}

// Reads a file of the managed system ("/etc/pam.d/password-auth"): its
// bytes, nullopt when it does not exist; a file that exists but cannot be
// read safely sets *error.
using ReadPamFile = std::function<std::optional<std::string>(const std::string& path, std::string* error)>;

// One account line as the service runs it; `via` is the chain of include
// lines that led to it (a substack among them scopes done and jumps).
struct FlowLine {
    std::string file;  // "/etc/pam.d/password-auth"
    Line line;
    std::vector<std::string> via;  // "/etc/pam.d/sshd:6 (include password-auth)", ...
};

struct AccountFlow {
    std::string service;
    std::string file;                  // /etc/pam.d/SERVICE
    bool installed = false;            // the service file exists
    std::vector<FlowLine> lines;       // active account lines, in the order PAM runs them
    std::vector<std::string> files;    // every file read, in order
    core::Diagnostics diags;           // the files' parse errors, missing includes, loops
    bool complete = true;              // false: a file could not be read or parsed: findings are partial
};

// Follows /etc/pam.d/SERVICE (`pam_dir` + "/" + service). Includes name a
// file in pam_dir, or an absolute path; nesting stops at 16 levels, as in
// Linux-PAM.
AccountFlow account_flow(const std::string& service, const ReadPamFile& read,
                         const std::string& pam_dir = "/etc/pam.d");

// What is wrong with the flow for pam_ringfence: not in the account stack
// (and, if it is in a file the service does not read, which one), a line
// before it that can end the stack or jump over it, a control that ignores
// its refusal (optional, sufficient, perm_denied=ignore), a '-account' line
// that is skipped silently when the module is missing. `elsewhere` lists
// files (of other services) that do have pam_ringfence, to name them when
// this service does not reach them.
core::Diagnostics lint_account_flow(const AccountFlow& flow, const std::vector<std::string>& elsewhere);

// The files among flow.files that hold an active account pam_ringfence.so line.
std::vector<std::string> files_with_ringfence(const AccountFlow& flow);

}  // namespace ringfence::cli::pam
