// SPDX-License-Identifier: BSD-3-Clause
// Compiler-style diagnostics.
#include "core/diagnostic.h"

#include <cstdio>
#include <cstring>

namespace ringfence::core {

const char* severity_name(Severity s) {
    switch (s) {
        case Severity::error:
            return "error";
        case Severity::warning:
            return "warning";
        case Severity::note:
            return "note";
    }
    return "error";
}

std::string Diagnostic::one_line() const {
    std::string out = file;
    if (line > 0) {
        out += ":" + std::to_string(line);
        if (column > 0) {
            out += ":" + std::to_string(column);
        }
    }
    out += ": ";
    out += severity_name(severity);
    out += ": ";
    out += message;
    return out;
}

std::string Diagnostic::full() const {
    std::string out = one_line() + "\n";
    if (!source_line.empty() && source_line.size() <= 400) {
        out += "    " + escape_for_log(source_line, 400) + "\n";
        if (column > 0 && static_cast<size_t>(column) <= source_line.size() + 1) {
            // The line is shown escaped, so measure the escaped prefix.
            size_t width = escape_for_log(source_line.substr(0, static_cast<size_t>(column) - 1), 400).size();
            out += "    " + std::string(width, ' ') + "^\n";
        }
    }
    if (!hint.empty()) {
        out += "    hint: " + hint + "\n";
    }
    return out;
}

bool has_errors(const Diagnostics& d) { return count_errors(d) != 0; }

size_t count_errors(const Diagnostics& d) {
    size_t n = 0;
    for (const Diagnostic& x : d) {
        n += x.severity == Severity::error;
    }
    return n;
}

std::string escape_for_log(const std::string& text, size_t max_len) {
    std::string out;
    for (unsigned char c : text) {
        char piece[8];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            piece[0] = static_cast<char>(c);
            piece[1] = '\0';
        } else if (c == '\\') {
            std::snprintf(piece, sizeof piece, "\\\\");
        } else {
            std::snprintf(piece, sizeof piece, "\\x%02x", c);
        }
        if (out.size() + std::strlen(piece) > max_len) {
            out += "...";
            break;
        }
        out += piece;
    }
    return out;
}

}  // namespace ringfence::core
