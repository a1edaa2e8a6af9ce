// Compiler-style diagnostics.
#include "core/diagnostic.h"

#include <cstdio>

namespace ringfence::core {

namespace {
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
}  // namespace

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
            std::string pad;
            for (int i = 1; i < column; ++i) {
                pad += source_line[i - 1] == '\t' ? '\t' : ' ';
            }
            out += "    " + pad + "^\n";
        }
    }
    if (!hint.empty()) {
        out += "    hint: " + hint + "\n";
    }
    return out;
}

bool has_errors(const Diagnostics& d) {
    for (const Diagnostic& x : d) {
        if (x.severity == Severity::error) {
            return true;
        }
    }
    return false;
}

std::string escape_for_log(const std::string& text, size_t max_len) {
    std::string out;
    for (unsigned char c : text) {
        if (out.size() >= max_len) {
            out += "...";
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
        } else if (c == '\\') {
            out += "\\\\";
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

}  // namespace ringfence::core
