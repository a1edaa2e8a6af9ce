// SPDX-License-Identifier: BSD-3-Clause
// pam_time-style time specifications, compiled once.
#include "pam_module/time_spec.h"

#include <cctype>
#include <cstring>

namespace ringfence::access {

namespace {

constexpr uint8_t kAllDays = 0x7f;

// Two-letter day codes, case-insensitive, as pam_time.
int day_bits(char a, char b) {
    struct Code {
        const char* name;
        uint8_t bits;
    };
    static const Code codes[] = {
        {"su", 1 << 0}, {"mo", 1 << 1}, {"tu", 1 << 2}, {"we", 1 << 3}, {"th", 1 << 4},
        {"fr", 1 << 5}, {"sa", 1 << 6}, {"wk", 0x3e},   {"wd", 0x41},   {"al", kAllDays},
    };
    char la = static_cast<char>(std::tolower(static_cast<unsigned char>(a)));
    char lb = static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
    for (const Code& c : codes) {
        if (c.name[0] == la && c.name[1] == lb) {
            return c.bits;
        }
    }
    return -1;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Parser {
public:
    Parser(std::string_view text, std::string* error, size_t* col) : s_(text), error_(error), col_(col) {}

    void skip_blanks() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) {
            ++pos_;
        }
    }
    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }
    size_t pos() const { return pos_; }
    void advance() { ++pos_; }

    bool fail(size_t at, std::string message) {
        *error_ = std::move(message);
        *col_ = at;
        return false;
    }

    // HHMM: exactly four digits, 0000..2400.
    bool parse_hhmm(int* minutes) {
        size_t at = pos_;
        if (pos_ + 4 > s_.size() || !is_digit(s_[pos_]) || !is_digit(s_[pos_ + 1]) || !is_digit(s_[pos_ + 2]) ||
            !is_digit(s_[pos_ + 3]) || (pos_ + 4 < s_.size() && is_digit(s_[pos_ + 4]))) {
            return fail(at, "expected a time as four digits HHMM (0000..2400)");
        }
        int hh = (s_[pos_] - '0') * 10 + (s_[pos_ + 1] - '0');
        int mm = (s_[pos_ + 2] - '0') * 10 + (s_[pos_ + 3] - '0');
        if (hh > 24 || mm > 59 || (hh == 24 && mm != 0)) {
            return fail(at, "'" + std::string(s_.substr(pos_, 4)) + "' is not a time of day (0000..2400)");
        }
        pos_ += 4;
        *minutes = hh * 60 + mm;
        return true;
    }

    std::string_view s_;
    size_t pos_ = 0;
    std::string* error_;
    size_t* col_;
};

}  // namespace

bool TimeSpec::Window::matches(const LocalTime& t) const {
    bool today = (days >> t.weekday) & 1;
    bool result;
    if (start < end) {
        result = today && t.minute >= start && t.minute < end;
    } else {
        int yesterday_wday = (t.weekday + 6) % 7;
        bool yesterday = (days >> yesterday_wday) & 1;
        result = (today && t.minute >= start) || (yesterday && t.minute < end);
    }
    return negate ? !result : result;
}

bool TimeSpec::matches(const LocalTime& t) const {
    bool result = false;
    for (const Term& term : terms_) {
        bool v = term.window.matches(t);
        switch (term.op) {
            case Op::first:
                result = v;
                break;
            case Op::and_op:
                result = result && v;
                break;
            case Op::or_op:
                result = result || v;
                break;
        }
    }
    return result;
}

std::optional<TimeSpec> TimeSpec::parse(std::string_view text, std::string* error, size_t* error_col) {
    TimeSpec spec;
    spec.text_ = std::string(text);
    Parser p(text, error, error_col);
    Op op = Op::first;
    for (;;) {
        p.skip_blanks();
        Window w;
        while (p.peek() == '!') {
            w.negate = !w.negate;
            p.advance();
            p.skip_blanks();
        }
        size_t entry_start = p.pos();
        bool any_day = false;
        uint8_t days = 0;
        while (std::isalpha(static_cast<unsigned char>(p.peek()))) {
            size_t at = p.pos();
            if (at + 1 >= text.size()) {
                p.fail(at, "'" + std::string(text.substr(at)) +
                               "' is not a day code (expected Mo Tu We Th Fr Sa Su Wk Wd Al)");
                return std::nullopt;
            }
            int bits = day_bits(text[at], text[at + 1]);
            if (bits < 0) {
                p.fail(at, "'" + std::string(text.substr(at, 2)) +
                               "' is not a day code (expected Mo Tu We Th Fr Sa Su Wk Wd Al)");
                return std::nullopt;
            }
            days ^= static_cast<uint8_t>(bits);  // pam_time toggles: AlFr = every day but Friday
            any_day = true;
            p.advance();
            p.advance();
        }
        if (!any_day) {
            p.fail(entry_start, is_digit(p.peek()) ? "expected a day code (Mo Tu We Th Fr Sa Su Wk Wd Al) before "
                                                     "the time range, e.g. Al" + std::string(text.substr(entry_start))
                                                   : "expected a day code (Mo Tu We Th Fr Sa Su Wk Wd Al)");
            return std::nullopt;
        }
        if (days == 0) {
            p.fail(entry_start, "the day codes '" + std::string(text.substr(entry_start, p.pos() - entry_start)) +
                                    "' cancel out (repeated codes toggle days off): no day left");
            return std::nullopt;
        }
        w.days = days;
        w.start = 0;
        w.end = 24 * 60;
        if (is_digit(p.peek())) {
            if (!p.parse_hhmm(&w.start)) {
                return std::nullopt;
            }
            if (p.peek() != '-') {
                p.fail(p.pos(), "expected '-' and an end time after the start time (HHMM-HHMM)");
                return std::nullopt;
            }
            p.advance();
            if (!p.parse_hhmm(&w.end)) {
                return std::nullopt;
            }
        }
        spec.terms_.push_back(Term{op, w});
        p.skip_blanks();
        if (p.at_end()) {
            break;
        }
        char c = p.peek();
        if (c == '&') {
            op = Op::and_op;
        } else if (c == '|') {
            op = Op::or_op;
        } else {
            p.fail(p.pos(), std::string("unexpected '") + c + "' (expected '|' or '&' between time entries)");
            return std::nullopt;
        }
        p.advance();
        p.skip_blanks();
        if (p.at_end()) {
            p.fail(p.pos(), "expected a time entry after the operator");
            return std::nullopt;
        }
    }
    return spec;
}

bool looks_like_time_spec(std::string_view token) {
    size_t i = 0;
    while (i < token.size() && (token[i] == '!' || token[i] == ' ' || token[i] == '\t')) {
        ++i;
    }
    // The whole run of letters must be day codes: "SaSu" and "Wk" are, the
    // origins "ALL", "alpha" and "sales" are not.
    size_t letters = 0;
    while (i + letters < token.size() && std::isalpha(static_cast<unsigned char>(token[i + letters]))) {
        ++letters;
    }
    if (letters == 0 || letters % 2 != 0) {
        return false;
    }
    for (size_t k = 0; k < letters; k += 2) {
        if (day_bits(token[i + k], token[i + k + 1]) < 0) {
            return false;
        }
    }
    return true;
}

}  // namespace ringfence::access
