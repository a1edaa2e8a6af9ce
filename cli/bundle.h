// SPDX-License-Identifier: BSD-3-Clause
// Signed policy bundles: the manifest a publisher signs with minisign, where
// each bundle file goes on the host, and the lint every file must pass
// (with the same compilers the PAM module, the shim and the firewall use)
// before anything is installed.
//
// MANIFEST (text, one statement a line, '#' comments):
//   ringfence-bundle 1
//   serial N                       only goes up: a bundle not above the last installed is a replay
//   issued 2026-12-04T12:00:00Z    UTC
//   expires 2027-01-03T12:00:00Z   after this the host refuses it (and audit says CRITICAL)
//   scope NAME|@GROUP...           the hosts it is for; `*` for every host
//   file NAME SHA256HEX            one line per file of the bundle
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace ringfence::cli {

struct BundleFile {
    std::string name;    // "access.conf", "access.d/10-site.conf", "sets/blocked.list", ...
    std::string sha256;  // lower-case hex
};

struct Manifest {
    unsigned long long serial = 0;
    time_t issued = 0;
    time_t expires = 0;
    std::vector<std::string> scope;
    std::vector<BundleFile> files;
};

// nullopt and *error ("MANIFEST:LINE: ...") on any defect: unknown
// statement, missing field, a file name outside the layout, a duplicate.
std::optional<Manifest> parse_manifest(const std::string& text, std::string* error);
std::string render_manifest(const Manifest& m);

// "2026-12-04T12:00:00Z" <-> epoch seconds.
std::optional<time_t> parse_utc(const std::string& s);
std::string format_utc(time_t t);

// Where a bundle file is installed (absolute path), or "" when the name is
// not part of the layout:
//   access.conf -> /etc/security/access.conf, access.d/X.conf -> /etc/security/access.d/,
//   hosts.allow, hosts.deny -> /etc/, firewall.conf -> /etc/ringfence/firewall.conf,
//   sets/X -> /etc/ringfence/sets/X
std::string bundle_destination(const std::string& name);

// Whether the scope names this host (`host` or one of `groups` as @NAME, or `*`).
bool scope_matches(const std::vector<std::string>& scope, const std::string& host,
                   const std::vector<std::string>& groups);

struct StagedFile {
    std::string name;         // bundle name
    std::string destination;  // bundle_destination(name)
    std::string content;
};

// Compiles every file of the bundle with its layer's compiler, together
// with the host's other files of that layer where the bundle has none
// (hosts.deny next to a new hosts.allow, set files of a new firewall.conf).
// Diagnostics name the bundle file ("bundle:access.conf:3:1: error: ...").
// Returns true when every file is valid.
bool lint_bundle(const std::vector<StagedFile>& files, std::vector<std::string>* errors);

}  // namespace ringfence::cli
