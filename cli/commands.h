// SPDX-License-Identifier: BSD-3-Clause
// The subcommands of `ringfence`: enable / disable each layer, and status.
// Each returns an Exit code (context.h) and prints what it did or why not.
#pragma once

#include <string>

#include "cli/context.h"

namespace ringfence::cli {

int enable_pam(const Context& ctx);
int disable_pam(const Context& ctx);
std::string status_pam(const Context& ctx);

int enable_wrap(const Context& ctx, const std::string& daemon);
int disable_wrap(const Context& ctx, const std::string& daemon);
std::string status_wrap(const Context& ctx);

int enable_firewall(const Context& ctx);
int disable_firewall(const Context& ctx);
std::string status_firewall(const Context& ctx);

}  // namespace ringfence::cli
