// SPDX-License-Identifier: BSD-3-Clause
// Compiler-style diagnostics: "path:line:col: error: message", the line,
// a caret under the column and an optional hint.
#pragma once

#include <string>
#include <vector>

namespace ringfence::core {

enum class Severity { error, warning, note };

struct Diagnostic {
    std::string file;
    int line = 0;     // 1-based; 0 = the file as a whole
    int column = 0;   // 1-based; 0 = no column
    Severity severity = Severity::error;
    std::string message;
    std::string source_line;  // the offending line, for the caret display
    std::string hint;

    // "file:line:col: error: message" on one line (for syslog).
    std::string one_line() const;
    // one_line() plus the source line, a caret and the hint (for terminals).
    std::string full() const;
};

using Diagnostics = std::vector<Diagnostic>;

bool has_errors(const Diagnostics& d);
size_t count_errors(const Diagnostics& d);

// "error", "warning", "note".
const char* severity_name(Severity s);

// Makes untrusted text safe for one log line: non-printable bytes become
// \xNN, and the result is cut to max_len bytes with "..." appended.
std::string escape_for_log(const std::string& text, size_t max_len = 100);

}  // namespace ringfence::core
