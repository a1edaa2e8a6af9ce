// SPDX-License-Identifier: BSD-3-Clause
// Runs the netfilter tools (iptables-restore, ipset, nft, ...) without a
// shell: execve with an argument vector, a fixed environment, the input on a
// pipe, both outputs captured, and a time limit.
#pragma once

#include <string>
#include <vector>

namespace ringfence::firewall {

struct ExecResult {
    bool started = false;  // false: fork/execve failed (see error)
    int status = -1;       // exit status; 128 + N when killed by signal N
    std::string out;
    std::string err;
    std::string error;     // why it did not start, or "timed out after N s"
    bool ok() const { return started && status == 0; }
    // The first line of err (or error), for one-line messages.
    std::string summary() const;
};

// argv[0] must be an absolute path (see find_tool). The child gets
// PATH=/usr/sbin:/usr/bin:/sbin:/bin and LC_ALL=C, no other environment,
// stdin from `input`, and is killed after timeout_seconds.
ExecResult run_program(const std::vector<std::string>& argv, const std::string& input = std::string(),
                       int timeout_seconds = 120);

// The directories searched for tools: RINGFENCE_FIREWALL_PATH (colon
// separated) or /usr/sbin:/sbin:/usr/bin:/bin.
std::vector<std::string> tool_dirs();

// Absolute path of an executable regular file `name` in tool_dirs(), or "".
std::string find_tool(const std::string& name);

}  // namespace ringfence::firewall
