// SPDX-License-Identifier: BSD-3-Clause
// `ringfence sync` (blocklist feeds and signed policy bundles over HTTPS)
// and `ringfence bundle make DIR` (the publisher's side). Each takes the
// words after the command and returns an exit status (core/exit_status.h;
// `sync --status` speaks the Nagios plugin convention).
#pragma once

#include <ctime>
#include <string>
#include <vector>

namespace ringfence::cli {

int sync_command(const std::vector<std::string>& args);

// The state of every feed and of the bundle, for `sync --status` and
// `ringfence audit`: 0 OK, 1 WARNING (a feed stale past its threshold or
// never fetched, no bundle yet), 2 CRITICAL (the installed bundle expired:
// the host is frozen on it), 3 UNKNOWN (sync.conf cannot be read). Empty
// when sync is not configured (no sync.conf and no feed in firewall.conf).
struct SyncHealth {
    std::string check;    // "bundle", "feed NAME"
    int state = 0;
    std::string message;
};
std::vector<SyncHealth> sync_health(const std::string& root, time_t now);
int bundle_command(const std::vector<std::string>& args);

}  // namespace ringfence::cli
