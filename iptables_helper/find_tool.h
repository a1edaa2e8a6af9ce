// SPDX-License-Identifier: BSD-3-Clause
// Where the netfilter tools (iptables-restore, ipset, nft, ...) are found;
// they are run by core::run_program (core/run_program.h), never a shell.
#pragma once

#include <string>
#include <vector>

namespace ringfence::firewall {

// The directories searched for tools: RINGFENCE_FIREWALL_PATH (colon
// separated) or /usr/sbin:/sbin:/usr/bin:/bin.
std::vector<std::string> tool_dirs();

// Absolute path of an executable regular file `name` in tool_dirs(), or "".
std::string find_tool(const std::string& name);

}  // namespace ringfence::firewall
