// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for core/diagnostic: the one-line and full (caret) formats,
// has_errors, and escape_for_log on untrusted text.
#include <string>

#include "core/diagnostic.h"
#include "unit_test.h"

using ringfence::core::Diagnostic;
using ringfence::core::Diagnostics;
using ringfence::core::escape_for_log;
using ringfence::core::Severity;

namespace {

Diagnostic make(const std::string& file, int line, int col, Severity sev, const std::string& msg,
                const std::string& source = "", const std::string& hint = "") {
    Diagnostic d;
    d.file = file;
    d.line = line;
    d.column = col;
    d.severity = sev;
    d.message = msg;
    d.source_line = source;
    d.hint = hint;
    return d;
}

void one_line_format(void**) {
    struct Row {
        Diagnostic d;
        const char* expected;
    };
    const Row rows[] = {
        {make("/etc/security/access.conf", 5, 7, Severity::error, "bad thing"),
         "/etc/security/access.conf:5:7: error: bad thing"},
        {make("access.conf", 5, 0, Severity::error, "no column"), "access.conf:5: error: no column"},
        {make("access.conf", 0, 3, Severity::error, "whole file"), "access.conf: error: whole file"},
        {make("access.conf", 0, 0, Severity::error, "whole file"), "access.conf: error: whole file"},
        {make("f", 1, 1, Severity::warning, "careful"), "f:1:1: warning: careful"},
        {make("f", 12, 40, Severity::note, "see here"), "f:12:40: note: see here"},
        {make("module options", 0, 0, Severity::error, "fieldsep= must not be empty"),
         "module options: error: fieldsep= must not be empty"},
    };
    for (const Row& r : rows) {
        CHECK_STR(r.d.one_line(), r.expected, r.expected);
        CHECK(r.d.one_line().find('\n') == std::string::npos, r.expected);
    }
}

void full_format(void**) {
    struct Row {
        Diagnostic d;
        const char* expected;
    };
    const Row rows[] = {
        // Source line, caret under column 3, hint.
        {make("access.conf", 2, 3, Severity::error, "msg", "+ : root", "do this"),
         "access.conf:2:3: error: msg\n"
         "    + : root\n"
         "      ^\n"
         "    hint: do this\n"},
        // Column 1.
        {make("a", 1, 1, Severity::error, "m", "xyz"), "a:1:1: error: m\n    xyz\n    ^\n"},
        // One past the end of the line (e.g. "expected a third field").
        {make("a", 1, 4, Severity::error, "m", "xyz"), "a:1:4: error: m\n    xyz\n       ^\n"},
        // Beyond that: no caret.
        {make("a", 1, 5, Severity::error, "m", "xyz"), "a:1:5: error: m\n    xyz\n"},
        // No column: the line without a caret.
        {make("a", 1, 0, Severity::error, "m", "xyz"), "a:1: error: m\n    xyz\n"},
        // No source line: just the message (and the hint).
        {make("a", 1, 2, Severity::error, "m"), "a:1:2: error: m\n"},
        {make("a", 0, 0, Severity::error, "m", "", "chmod go-w a"), "a: error: m\n    hint: chmod go-w a\n"},
    };
    for (const Row& r : rows) {
        CHECK_STR(r.d.full(), r.expected, r.d.one_line());
    }
}

void full_long_and_hostile_lines(void**) {
    // Lines up to 400 bytes are shown, longer ones are not (no wall of text).
    std::string line400(400, 'a');
    std::string out = make("a", 1, 400, Severity::error, "m", line400).full();
    CHECK(unit::contains(out, "    " + line400 + "\n"), "400-byte line shown");
    CHECK(unit::contains(out, std::string(4 + 399, ' ') + "^\n"), "caret under byte 400");
    out = make("a", 1, 1, Severity::error, "m", std::string(401, 'a')).full();
    CHECK_STR(out, "a:1:1: error: m\n", "401-byte line not shown");

    // Control bytes in the source line never reach the terminal raw.
    std::string hostile = std::string("+ : root : \x1b[31mred\x1b[0m \r\x07") + '\0' + "x";
    out = make("a", 1, 5, Severity::error, "m", hostile).full();
    for (char c : out) {
        unsigned char u = static_cast<unsigned char>(c);
        CHECK(c == '\n' || c == '\t' || (u >= 0x20 && u < 0x7f), "byte " + std::to_string(u) + " in full()");
    }
    CHECK(unit::contains(out, "\\x1b[31mred"), out);
}

// Regression: a line with a tab before the column once got a misplaced
// caret. full() pads with '\t' where the line has a tab, intending the
// terminal to align both, but escape_for_log() prints the tab as the four
// characters "\x09", so the caret lands left of the offending token.
// Input:    source "+\t:\troot(" (tabs are list/field blanks in access.conf),
//           column 5 (the 'r').
// Expected: the shown line and the caret line agree: under the caret is 'r'.
// Actual:   shown line "+\x09:\x09root(", caret pad " \t \t": misaligned.
void regression_caret_after_tab(void**) {
    std::string source = "+\t:\troot(";
    Diagnostic d = make("access.conf", 1, 5, Severity::error, "bad", source);
    std::string out = d.full();
    size_t l1 = out.find('\n');
    size_t l2 = out.find('\n', l1 + 1);
    size_t l3 = out.find('\n', l2 + 1);
    CHECK(l1 != std::string::npos && l2 != std::string::npos && l3 != std::string::npos, out);
    std::string shown = out.substr(l1 + 1 + 4, l2 - l1 - 1 - 4);
    std::string caret = out.substr(l2 + 1 + 4, l3 - l2 - 1 - 4);
    size_t pos = caret.find('^');
    CHECK(pos != std::string::npos, out);
    // Both lines are printed after the same 4-space indent; byte k of the
    // caret pad stands for byte k of the shown line (a tab for a tab).
    CHECK(pos < shown.size() && shown[pos] == 'r',
          "caret misaligned after a tab: shown line \"" + escape_for_log(shown) + "\", caret line \"" +
              escape_for_log(caret) + "\"");
}

void has_errors_only_for_errors(void**) {
    Diagnostics none;
    CHECK(!ringfence::core::has_errors(none), "empty");
    Diagnostics soft = {make("a", 1, 1, Severity::warning, "w"), make("a", 2, 1, Severity::note, "n")};
    CHECK(!ringfence::core::has_errors(soft), "warning + note");
    Diagnostics hard = soft;
    hard.push_back(make("a", 3, 1, Severity::error, "e"));
    CHECK(ringfence::core::has_errors(hard), "warning + note + error");
    Diagnostic defaulted;
    CHECK(defaulted.severity == Severity::error, "a default Diagnostic is an error");
}

void escape_table(void**) {
    struct Row {
        std::string in;
        size_t max;
        std::string expected;
    };
    const Row rows[] = {
        {"plain text", 100, "plain text"},
        {"", 100, ""},
        {"a\nb", 100, "a\\x0ab"},
        {"tab\there", 100, "tab\\x09here"},
        {"cr\r", 100, "cr\\x0d"},
        {"\x1b[0m", 100, "\\x1b[0m"},
        {"\x7f", 100, "\\x7f"},
        {"\x80\xff", 100, "\\x80\\xff"},
        {"caf\xc3\xa9", 100, "caf\\xc3\\xa9"},  // UTF-8 is escaped too
        {"back\\slash", 100, "back\\\\slash"},  // so that "\x41" in the input stays distinguishable
        {std::string("nul\0here", 8), 100, "nul\\x00here"},
        {"' \"%s%n", 100, "' \"%s%n"},
        // Truncation: cut at max_len bytes and mark it.
        {"abcdef", 3, "abc..."},
        {"abc", 3, "abc"},
        {"abcd", 3, "abc..."},
        {"abcdef", 0, "..."},
        {std::string(101, 'a'), 100, std::string(100, 'a') + "..."},
        {std::string(100, 'a'), 100, std::string(100, 'a')},
    };
    for (const Row& r : rows) {
        std::string row = "'" + escape_for_log(r.in) + "' max " + std::to_string(r.max);
        CHECK_STR(escape_for_log(r.in, r.max), r.expected, row);
    }
    // Default limit is 100.
    CHECK_STR(escape_for_log(std::string(200, 'b')), std::string(100, 'b') + "...", "default max_len");
}

void escape_every_byte(void**) {
    for (int b = 0; b < 256; ++b) {
        std::string in(1, static_cast<char>(b));
        std::string out = escape_for_log(in);
        for (char c : out) {
            unsigned char u = static_cast<unsigned char>(c);
            CHECK(u >= 0x20 && u < 0x7f, "byte " + std::to_string(b));
        }
        bool printable = b >= 0x20 && b < 0x7f && b != '\\';
        CHECK_INT(out.size(), printable ? 1 : (b == '\\' ? 2 : 4), "byte " + std::to_string(b));
    }
    // Truncation never splits an escape sequence and always says so.
    std::string noisy;
    for (int i = 0; i < 300; ++i) {
        noisy += static_cast<char>(i % 3 == 0 ? 0x01 : 'x');
    }
    for (size_t max = 0; max < 40; ++max) {
        std::string out = escape_for_log(noisy, max);
        std::string row = "max " + std::to_string(max) + " -> " + out;
        CHECK(out.size() >= 3 && out.compare(out.size() - 3, 3, "...") == 0, row);
        std::string body = out.substr(0, out.size() - 3);
        // Every backslash in the body starts a whole \xNN.
        for (size_t i = 0; i < body.size(); ++i) {
            if (body[i] == '\\') {
                CHECK(i + 3 < body.size() && body[i + 1] == 'x', row);
                i += 3;
            }
        }
        CHECK(body.size() <= max + 3, row);
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_line_format),         cmocka_unit_test(full_format),
        cmocka_unit_test(full_long_and_hostile_lines), cmocka_unit_test(regression_caret_after_tab),
        cmocka_unit_test(has_errors_only_for_errors), cmocka_unit_test(escape_table),
        cmocka_unit_test(escape_every_byte),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("diagnostic", tests, nullptr, nullptr);
}
