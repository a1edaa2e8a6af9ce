// SPDX-License-Identifier: BSD-3-Clause
// systemd unit file reading for the `ringfence` command (see unit_file.h).
#include "cli/unit_file.h"

#include "core/text.h"

namespace ringfence::cli::unit {

bool parse(const std::string& file, const std::string& bytes, std::vector<Assignment>* out,
           core::Diagnostics* diags) {
    bool ok = true;
    std::string section;
    const std::vector<std::string> lines = core::split_lines(bytes);
    for (size_t i = 0; i < lines.size(); ++i) {
        std::string_view t = core::trim(lines[i]);
        if (t.empty() || t.front() == '#' || t.front() == ';') {
            continue;
        }
        int first = static_cast<int>(i) + 1;
        if (t.front() == '[') {
            if (t.back() != ']' || t.size() < 3) {
                core::Diagnostic d;
                d.file = file;
                d.line = first;
                d.message = "bad section header";
                d.source_line = lines[i];
                diags->push_back(d);
                ok = false;
                continue;
            }
            section = std::string(t.substr(1, t.size() - 2));
            continue;
        }
        std::string joined(t);
        // Continuation: a trailing '\' joins the next line (comment lines
        // in between are skipped, as systemd does).
        while (!joined.empty() && joined.back() == '\\' && i + 1 < lines.size()) {
            joined.pop_back();
            if (joined.empty() || (joined.back() != ' ' && joined.back() != '\t')) {
                joined += ' ';
            }
            ++i;
            std::string_view next = core::trim(lines[i]);
            while ((!next.empty() && (next.front() == '#' || next.front() == ';')) && i + 1 < lines.size()) {
                ++i;
                next = core::trim(lines[i]);
            }
            joined += std::string(next);
        }
        size_t eq = joined.find('=');
        if (eq == std::string::npos || eq == 0) {
            core::Diagnostic d;
            d.file = file;
            d.line = first;
            d.message = "expected Key=Value";
            d.source_line = lines[static_cast<size_t>(first) - 1];
            diags->push_back(d);
            ok = false;
            continue;
        }
        Assignment a;
        a.file = file;
        a.line = first;
        a.section = section;
        a.key = std::string(core::trim(std::string_view(joined).substr(0, eq)));
        a.value = std::string(core::trim(std::string_view(joined).substr(eq + 1)));
        out->push_back(std::move(a));
    }
    return ok;
}

std::vector<Assignment> effective_list(const std::vector<Assignment>& all, const std::string& section,
                                       const std::string& key) {
    std::vector<Assignment> out;
    for (const Assignment& a : all) {
        if (a.section != section || a.key != key) {
            continue;
        }
        if (a.value.empty()) {
            out.clear();
        } else {
            out.push_back(a);
        }
    }
    return out;
}

void split_exec_prefix(const std::string& value, std::string* prefix, std::string* command) {
    size_t i = 0;
    while (i < value.size() && (value[i] == '-' || value[i] == '@' || value[i] == ':' || value[i] == '+' ||
                                value[i] == '!')) {
        ++i;
    }
    *prefix = value.substr(0, i);
    *command = std::string(core::trim(std::string_view(value).substr(i)));
}

}  // namespace ringfence::cli::unit
