// SPDX-License-Identifier: BSD-3-Clause
// `ringfence sync` (blocklist feeds and signed policy bundles over HTTPS)
// and `ringfence bundle make DIR` (the publisher's side). Each takes the
// words after the command and returns an exit status (core/exit_status.h;
// `sync --status` speaks the Nagios plugin convention).
#pragma once

#include <string>
#include <vector>

namespace ringfence::cli {

int sync_command(const std::vector<std::string>& args);
int bundle_command(const std::vector<std::string>& args);

}  // namespace ringfence::cli
