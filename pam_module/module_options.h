// SPDX-License-Identifier: BSD-3-Clause
// The module options of pam_ringfence.so (accessfile=, fieldsep=, listsep=,
// nodefgroup, atgroup, ...) and the reading of the policy they select. One
// parser and one loader for the module and for every program that must see
// the policy exactly as the module does (ringfence-accesschk, the CLI).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostic.h"
#include "core/paths.h"
#include "pam_module/access_conf.h"

namespace ringfence::access {

inline constexpr const char* kDefaultAccessFile = core::kAccessConf;
inline constexpr const char* kDropinDir = core::kAccessDropinDir;

struct ModuleOptions {
    ParseOptions parse;
    std::string accessfile = kDefaultAccessFile;
    bool accessfile_given = false;  // accessfile=: that file only, no access.d
    bool debug = false;
    bool quiet_log = false;
    std::string bad_option;         // the first unrecognized option; the module then refuses
};

// Applies one option word, as the module reads its argv; later words win.
// Returns false (and records the first in bad_option) if it is unknown.
bool apply_module_option(std::string_view word, ModuleOptions* options);

ModuleOptions parse_module_options(int argc, const char* const* argv);
ModuleOptions parse_module_options(const std::vector<std::string>& words);

// The policy the module would enforce with these options: the same files
// (accessfile=, else access.conf and the drop-ins of dropin_dir), the same
// trust checks, the same compiler.
struct LoadedPolicy {
    PolicySource source;                   // its text has moved into the policy
    std::shared_ptr<const Policy> policy;  // null if a file could not be read safely
    core::Diagnostics diags;               // reading, then compiling
    bool main_missing = false;             // the main file does not exist
    bool decided_on_stamps = false;        // every file had a checked stamp
};

// The name of the access.conf check in a checked stamp (core/checked_stamp.h):
// the options that change how a file compiles are part of it.
std::string checked_kind(const ParseOptions& parse);
// Writes the checked stamp of each of `files` (path and stamp, in the order
// the policy was compiled from) that compiled with no error (only as root).
// Returns how many were written.
int record_checked_stamps(const Policy& policy, const std::vector<std::pair<std::string, core::FileStamp>>& files,
                          const ParseOptions& parse);
LoadedPolicy load_policy(const ModuleOptions& options, const std::string& dropin_dir = kDropinDir);
// The same, deciding `request` in the same pass (Policy::compile_and_decide):
// *decision is meaningful only when the returned policy is valid. When every
// file has a checked stamp, only what the decision needs is compiled; else
// every file that compiled with no error is stamped (when root).
LoadedPolicy load_policy_and_decide(const ModuleOptions& options, const std::string& dropin_dir,
                                    const Request& request, Environment& env, Decision* decision);

}  // namespace ringfence::access
