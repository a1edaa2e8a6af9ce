// SPDX-License-Identifier: BSD-3-Clause
// The default paths every ringfence program uses, written once. Each man
// page lists the ones its program reads or writes (FILES).
#pragma once

namespace ringfence::core {

// Layer 3: the files pam_access reads (and pam_ringfence, unless accessfile=).
inline constexpr const char* kAccessConf = "/etc/security/access.conf";
inline constexpr const char* kAccessDropinDir = "/etc/security/access.d";

// Layer 2: tcp_wrappers' tables.
inline constexpr const char* kHostsAllow = "/etc/hosts.allow";
inline constexpr const char* kHostsDeny = "/etc/hosts.deny";

// Layer 1, and ringfence's own configuration and state.
inline constexpr const char* kConfigDir = "/etc/ringfence";
inline constexpr const char* kFirewallConf = "/etc/ringfence/firewall.conf";
inline constexpr const char* kSyncConf = "/etc/ringfence/sync.conf";
inline constexpr const char* kStateDir = "/var/lib/ringfence";
inline constexpr const char* kFirewallStateDir = "/var/lib/ringfence/firewall";
inline constexpr const char* kSyncStateDir = "/var/lib/ringfence/sync";
inline constexpr const char* kBackupDir = "/var/lib/ringfence/backup";

// Stamps of policy files that passed their whole check (core/checked_stamp.h):
// in /run, so that they are gone after a reboot.
inline constexpr const char* kCheckedDir = "/run/ringfence/checked";

}  // namespace ringfence::core
