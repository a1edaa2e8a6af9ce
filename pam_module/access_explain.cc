// SPDX-License-Identifier: BSD-3-Clause
// explain: the module's evaluator with its trace switched on, and the text
// an admin reads.
#include "pam_module/access_explain.h"

#include "core/diagnostic.h"
#include "core/text.h"

#include <cctype>

namespace ringfence::access {

namespace {

using core::escape_for_log;

const char* source_of(const Request& r) {
    if (!r.rhost.empty()) {
        return "rhost";
    }
    return r.tty ? "tty" : "service";
}

const char* field_name(Step::Field f) {
    switch (f) {
        case Step::Field::time:
            return "time   ";
        case Step::Field::users:
            return "users  ";
        case Step::Field::origins:
            return "origins";
    }
    return "?";
}

// Cuts already escaped text to at most max bytes ("..." appended), never
// inside an escape sequence.
std::string cut_escaped(const std::string& s, size_t max) {
    if (s.size() <= max) {
        return s;
    }
    size_t end = 0;
    while (end < s.size()) {
        size_t len = s[end] != '\\' ? 1 : (end + 1 < s.size() && s[end + 1] == 'x' ? 4 : 2);
        if (end + len > max) {
            break;
        }
        end += len;
    }
    return s.substr(0, end) + "...";
}

// Why a rule that did not match did not, from its trace: the field that
// failed (the time field, or the last field tried) in words.
std::string why_no_match(const RuleTrace& rt) {
    if (rt.steps.empty()) {
        return "";
    }
    const Step& first = rt.steps.front();
    if (first.field == Step::Field::time && first.result == Match::no && rt.rule->times) {
        return "outside " + escape_for_log(rt.rule->times->text(), 100);
    }
    Step::Field failed = rt.steps.back().field;
    std::string out;
    for (const Step& s : rt.steps) {
        if (s.field != failed) {
            continue;
        }
        out += out.empty() ? "" : ", ";
        if (s.token != nullptr && s.part > 0) {
            out += "EXCEPT " + escape_for_log(s.token->text, 100) + ": ";
        }
        out += s.why;
        if (out.size() > 400) {
            break;
        }
    }
    return out;
}

}  // namespace

std::string denial_reason(const Policy& policy, const Request& request, Environment& env, const Decision& decided,
                          size_t max_len) {
    std::vector<RuleTrace> trace;
    Decision again = policy.evaluate(request, env, &trace, TraceDepth::users_past_time);
    if (again.verdict != Verdict::deny || again.rule == nullptr || decided.rule == nullptr || again.rule->file != decided.rule->file || again.rule->line != decided.rule->line ||
        !again.unresolved_group.empty()) {
        return "";
    }
    std::string out = escape_for_log(std::string(core::trim(again.rule->source)), 120);
    for (auto it = trace.rbegin(); it != trace.rend(); ++it) {
        const RuleTrace& rt = *it;
        if (rt.rule == again.rule || !rt.rule->allow || rt.users != Match::yes || rt.result != Match::no) {
            continue;
        }
        std::string why = why_no_match(rt);
        if (why.empty()) {
            continue;
        }
        std::string where = rt.rule->file == again.rule->file ? "line " + std::to_string(rt.rule->line)
                                                              : escape_for_log(rt.rule->location(), 120);
        out += "; " + where + " did not match: " + cut_escaped(why, 150);
        break;
    }
    return cut_escaped(out, max_len);
}

Explanation explain(const Policy& policy, const Request& request, Environment& env) {
    Explanation e;
    e.origin = origin_of(request);
    e.origin_source = source_of(request);
    e.decision = policy.evaluate(request, env, &e.rules);
    return e;
}

namespace {

// What made a rule match, from its trace: the steps that matched, in order.
std::string why_match(const RuleTrace& rt) {
    std::string out;
    for (const Step& s : rt.steps) {
        if (s.result != Match::yes || s.part > 0) {
            continue;
        }
        out += out.empty() ? "" : "; ";
        out += s.why;
    }
    return out;
}

}  // namespace

core::Decision decision_of(const Explanation& e) {
    core::Decision d;
    const Decision& x = e.decision;
    if (x.verdict == Verdict::no_match || x.rule == nullptr) {
        d.verdict = core::Verdict::allow;
        d.source.rule = "no rule matched (pam_access allows)";
        size_t n = e.rules.size();
        d.reason = std::to_string(n) + (n == 1 ? " rule" : " rules") + " considered for " +
                   escape_for_log(e.origin.text, 200) + ", none matched";
        return d;
    }
    d.verdict = x.verdict == Verdict::allow ? core::Verdict::allow : core::Verdict::deny;
    d.source.file = x.rule->file;
    d.source.line = x.rule->line;
    d.source.rule = escape_for_log(std::string(core::trim(x.rule->source)), 200);
    if (!x.unresolved_group.empty()) {
        d.reason = "cannot resolve whether the user is in group '" + escape_for_log(x.unresolved_group, 100) +
                   "' (refused)";
        return d;
    }
    if (d.verdict == core::Verdict::deny) {
        for (auto it = e.rules.rbegin(); it != e.rules.rend(); ++it) {
            const RuleTrace& rt = *it;
            if (rt.rule == x.rule || !rt.rule->allow || rt.result != Match::no) {
                continue;
            }
            if (rt.users != Match::yes) {
                continue;  // a rule for other users is not the reason
            }
            std::string where = rt.rule->file == x.rule->file ? "line " + std::to_string(rt.rule->line)
                                                              : escape_for_log(rt.rule->location(), 120);
            d.reason = where + " did not match: " + cut_escaped(why_no_match(rt), 300);
            return d;
        }
    }
    for (const RuleTrace& rt : e.rules) {
        if (rt.rule == x.rule) {
            d.reason = cut_escaped(why_match(rt), 400);
        }
    }
    return d;
}

std::string describe_request(const Request& r) {
    Origin o = origin_of(r);
    std::string out = "user " + escape_for_log(r.user != nullptr ? r.user->name : "?", 200);
    out += ", from " + escape_for_log(o.text, 200) + " (" + source_of(r) + ")";
    if (!r.service.empty()) {
        out += ", service " + escape_for_log(r.service, 200);
    }
    out += ", at " + format_local_time(r.when);
    return out;
}

std::string format_explanation(const Explanation& e) {
    std::string out;
    for (const RuleTrace& rt : e.rules) {
        out += rt.rule->location() + ": " + escape_for_log(std::string(core::trim(rt.rule->source)), 400) + "\n";
        for (size_t i = 0; i < rt.steps.size(); ++i) {
            const Step& s = rt.steps[i];
            out += "  ";
            out += field_name(s.field);
            out += " ";
            for (int k = 0; k < s.part; ++k) {
                out += "EXCEPT ";
            }
            if (s.token != nullptr && s.part > 0) {
                out += escape_for_log(s.token->text, 200) + ": ";
            }
            out += s.why;
            if (i + 1 == rt.steps.size()) {
                // A rule that decides gets its own "->" line instead.
                out += rt.result == Match::no ? ": no match" : "";
            }
            out += "\n";
        }
        if (rt.rule == e.decision.rule) {
            out += "  -> " + e.decision.explanation() + "\n";
        }
    }
    out += "verdict: " + e.decision.explanation() + "\n";
    return out;
}

namespace {

bool all_digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

int number(std::string_view s) {
    int v = 0;
    for (char c : s) {
        v = v * 10 + (c - '0');
    }
    return v;
}

// "HH:MM", 00:00 to 23:59.
std::optional<int> parse_hh_mm(std::string_view s) {
    if (s.size() != 5 || s[2] != ':' || !all_digits(s.substr(0, 2)) || !all_digits(s.substr(3))) {
        return std::nullopt;
    }
    int h = number(s.substr(0, 2));
    int m = number(s.substr(3));
    if (h > 23 || m > 59) {
        return std::nullopt;
    }
    return h * 60 + m;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
long days_from_civil(long y, unsigned m, unsigned d) {
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long>(doe) - 719468;
}

}  // namespace

std::optional<core::LocalTime> parse_request_time(std::string_view text, std::string* error) {
    std::vector<std::string> words = core::split_words(text);
    const char* expected = "expected a day and a time, like 'Tue 21:00', or a date and a time, like '2024-05-14 21:00'";
    if (words.size() != 2) {
        *error = expected;
        return std::nullopt;
    }
    std::optional<int> minute = parse_hh_mm(words[1]);
    if (!minute) {
        *error = "'" + escape_for_log(words[1], 40) + "' is not a time of day: expected HH:MM, 00:00 to 23:59";
        return std::nullopt;
    }
    core::LocalTime t;
    t.minute = *minute;
    const std::string& day = words[0];
    if (day.size() == 10 && day[4] == '-' && day[7] == '-' && all_digits(day.substr(0, 4)) &&
        all_digits(day.substr(5, 2)) && all_digits(day.substr(8, 2))) {
        int y = number(day.substr(0, 4));
        unsigned m = static_cast<unsigned>(number(day.substr(5, 2)));
        unsigned d = static_cast<unsigned>(number(day.substr(8, 2)));
        static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) {
            *error = "'" + day + "' is not a date: expected YYYY-MM-DD";
            return std::nullopt;
        }
        long days = days_from_civil(y, m, d);
        t.weekday = static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
        return t;
    }
    static const char* const kNames[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
    std::string lower;
    for (char c : day) {
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (int i = 0; i < 7; ++i) {
        std::string_view name = kNames[i];
        if (lower == name || lower == name.substr(0, 3) || lower == name.substr(0, 2)) {
            t.weekday = i;
            return t;
        }
    }
    *error = "'" + escape_for_log(day, 40) + "' is not a day: expected Mon Tue Wed Thu Fri Sat Sun or YYYY-MM-DD";
    return std::nullopt;
}

}  // namespace ringfence::access
