// SPDX-License-Identifier: BSD-3-Clause
// Just enough of systemd's unit file syntax (systemd.syntax(7)) for
// `ringfence enable wrap` and `enable firewall`: sections, Key=Value
// assignments, comments, lines continued with '\', and the order in which
// a unit file and its drop-ins are read. Pure code.
#pragma once

#include <string>
#include <vector>

#include "core/diagnostic.h"

namespace ringfence::cli::unit {

struct Assignment {
    std::string file;
    int line = 0;          // first line of the assignment
    std::string section;   // "Service", "Install", ...
    std::string key;
    std::string value;     // continuation lines joined with a blank, trimmed
};

// Appends the assignments of one file to *out. False (errors in *diags) on
// a line that is neither a section header, a comment nor Key=Value.
bool parse(const std::string& file, const std::string& bytes, std::vector<Assignment>* out,
           core::Diagnostics* diags);

// The command lines of `key` in `section`, systemd's way: assignments are
// appended in reading order, an empty value clears the list.
std::vector<Assignment> effective_list(const std::vector<Assignment>& all, const std::string& section,
                                       const std::string& key);

// Splits the leading special prefixes of an Exec*= value ("-", "@", ":",
// "+", "!", "!!") from the command.
void split_exec_prefix(const std::string& value, std::string* prefix, std::string* command);

}  // namespace ringfence::cli::unit
