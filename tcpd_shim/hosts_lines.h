// SPDX-License-Identifier: BSD-3-Clause
// hosts.allow and hosts.deny as libwrap reads them: logical lines (with
// "\\\n" continuations) in a 2048-byte buffer, and the way back from an
// offset in a logical line to the physical line and column that a
// diagnostic names. Internal to tcpd_shim/.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/diagnostic.h"

namespace ringfence::tcpd::detail {

// Logical lines, exactly as libwrap's xgets() with a 2048-byte buffer cuts
// them: "\\\n" joins the next line; a rule that does not end in '\n' within
// the buffer is an error that ends the table.

struct Segment {
    size_t offset;      // where this physical line starts in the logical text
    int line;           // physical line number
    std::string_view text;  // the physical line as written, without '\n' (a view of the file's text)
};

struct LogicalLine {
    enum class Status { ok, no_newline, too_long };
    std::string text;  // continuations joined, without the final '\n'
    int first_line = 0;
    int last_line = 0;
    std::vector<Segment> segments;
    Status status = Status::ok;
};

std::vector<LogicalLine> split_logical_lines(const std::string& raw);

// The same lines, one at a time, into one LogicalLine whose storage is
// reused: the compiler reads a file once, without a copy per line. The
// segments are views of `raw`, which must outlive them.
class LineSplitter {
public:
    explicit LineSplitter(std::string_view raw) : raw_(raw) {}
    // False at the end of the table (end of file, or after a line whose
    // status is not ok: libwrap ignores the rest).
    bool next(LogicalLine* out);

private:
    std::string_view raw_;
    size_t pos_ = 0;
    int line_ = 0;  // '\n' consumed so far
    bool done_ = false;
};

// Where a diagnostic points: a logical line's offset mapped back to the
// physical line and column.
class Locator {
public:
    Locator(std::string file, const LogicalLine* line) : file_(std::move(file)), line_(line) {}
    core::Diagnostic at(size_t offset, core::Severity sev, std::string message, std::string hint) const {
        core::Diagnostic d;
        d.file = file_;
        d.severity = sev;
        d.message = std::move(message);
        d.hint = std::move(hint);
        if (line_ == nullptr) {
            return d;
        }
        const Segment* seg = &line_->segments.front();
        for (const Segment& s : line_->segments) {
            if (s.offset <= offset) {
                seg = &s;
            }
        }
        d.line = seg->line;
        d.column = static_cast<int>(offset - seg->offset) + 1;
        d.source_line = std::string(seg->text);
        return d;
    }

private:
    std::string file_;
    const LogicalLine* line_;
};

}  // namespace ringfence::tcpd::detail
