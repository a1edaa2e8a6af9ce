// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for pam_module/time_spec: pam_time-style time specs, half-open
// windows, midnight crossings, 0000/2400, day-code toggling, '!', left-to-right
// '|' and '&', error columns, and looks_like_time_spec.
#include <cstdlib>
#include <ctime>
#include <string>

#include "core/clock.h"
#include "pam_module/time_spec.h"
#include "fakes.h"
#include "unit_test.h"

using ringfence::core::LocalTime;
using ringfence::access::TimeSpec;
using unit::at;
using unit::kFri;
using unit::kMon;
using unit::kSat;
using unit::kSun;
using unit::kThu;
using unit::kTue;
using unit::kWed;

namespace {

const char* const kDayNames[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

struct MatchRow {
    const char* spec;
    int weekday;
    const char* hhmm;
    bool expected;
};

void run_match_rows(const MatchRow* rows, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const MatchRow& r = rows[i];
        std::string row = std::string("'") + r.spec + "' at " + kDayNames[r.weekday] + " " + r.hhmm;
        std::string why;
        size_t col = 0;
        auto spec = TimeSpec::parse(r.spec, &why, &col);
        CHECK(spec.has_value(), row + " parse error: " + why);
        CHECK(spec->matches(at(r.weekday, r.hhmm)) == r.expected, row);
        CHECK_STR(spec->text(), r.spec, row);
    }
}

void working_hours(void**) {
    const MatchRow rows[] = {
        {"Wk0800-1800", kMon, "07:59", false}, {"Wk0800-1800", kMon, "08:00", true},
        {"Wk0800-1800", kMon, "17:59", true},  {"Wk0800-1800", kMon, "18:00", false},  // end excluded
        {"Wk0800-1800", kMon, "00:00", false}, {"Wk0800-1800", kMon, "23:59", false},
        {"Wk0800-1800", kTue, "12:00", true},  {"Wk0800-1800", kWed, "12:00", true},
        {"Wk0800-1800", kThu, "12:00", true},  {"Wk0800-1800", kFri, "12:00", true},
        {"Wk0800-1800", kSat, "12:00", false}, {"Wk0800-1800", kSun, "12:00", false},
        {"Mo0000-0001", kMon, "00:00", true},  {"Mo0000-0001", kMon, "00:01", false},
        {"Mo2359-2400", kMon, "23:58", false}, {"Mo2359-2400", kMon, "23:59", true},
        {"Mo2359-2400", kTue, "00:00", false},
    };
    run_match_rows(rows, sizeof rows / sizeof rows[0]);
}

void whole_days_and_toggles(void**) {
    const MatchRow rows[] = {
        // No time: the whole day.
        {"SaSu", kSat, "00:00", true},  {"SaSu", kSat, "23:59", true},  {"SaSu", kSun, "00:00", true},
        {"SaSu", kSun, "23:59", true},  {"SaSu", kMon, "00:00", false}, {"SaSu", kFri, "23:59", false},
        {"Wd", kSat, "12:00", true},    {"Wd", kSun, "12:00", true},    {"Wd", kWed, "12:00", false},
        {"Wk", kMon, "00:00", true},    {"Wk", kFri, "23:59", true},    {"Wk", kSat, "00:00", false},
        {"Al", kSun, "00:00", true},    {"Al", kSat, "23:59", true},
        {"Mo", kMon, "12:00", true},    {"Mo", kTue, "12:00", false},   {"Tu", kTue, "12:00", true},
        {"We", kWed, "12:00", true},    {"Th", kThu, "12:00", true},    {"Fr", kFri, "12:00", true},
        {"Sa", kSat, "12:00", true},    {"Su", kSun, "12:00", true},    {"Su", kSat, "12:00", false},
        // Codes toggle (XOR), as pam_time: AlFr = every day but Friday.
        {"AlFr", kFri, "12:00", false}, {"AlFr", kThu, "12:00", true},  {"AlFr", kSat, "12:00", true},
        {"WkMo", kMon, "12:00", false}, {"WkMo", kTue, "12:00", true},  {"WkMo", kSun, "12:00", false},
        {"AlWd", kSat, "12:00", false}, {"AlWd", kMon, "12:00", true},
        {"MoMoTu", kMon, "12:00", false}, {"MoMoTu", kTue, "12:00", true},
        // Case does not matter.
        {"wk0800-1800", kMon, "09:00", true}, {"WK0800-1800", kMon, "09:00", true},
        {"sAsU", kSun, "09:00", true},         {"sAsU", kMon, "09:00", false},
        {"Mo0000-2400", kMon, "00:00", true},  {"Mo0000-2400", kMon, "23:59", true},
        {"Mo0000-2400", kTue, "00:00", false}, {"Mo0000-2400", kSun, "23:59", false},
    };
    run_match_rows(rows, sizeof rows / sizeof rows[0]);
}

void across_midnight(void**) {
    const MatchRow rows[] = {
        {"Al2200-0600", kMon, "21:59", false}, {"Al2200-0600", kMon, "22:00", true},
        {"Al2200-0600", kMon, "23:59", true},  {"Al2200-0600", kTue, "00:00", true},
        {"Al2200-0600", kTue, "05:59", true},  {"Al2200-0600", kTue, "06:00", false},  // end excluded
        {"Al2200-0600", kTue, "12:00", false}, {"Al2200-0600", kSun, "23:00", true},
        {"Al2200-0600", kMon, "03:00", true},
        // The days name the day the range starts on, with Saturday -> Sunday
        // and Sunday -> Monday wraps of the week.
        {"Sa2200-0200", kSun, "01:00", true},  {"Sa2200-0200", kSat, "01:00", false},
        {"Sa2200-0200", kSat, "21:59", false}, {"Sa2200-0200", kSat, "22:00", true},
        {"Sa2200-0200", kSun, "01:59", true},  {"Sa2200-0200", kSun, "02:00", false},
        {"Sa2200-0200", kSun, "22:00", false}, {"Sa2200-0200", kMon, "01:00", false},
        {"Su2200-0200", kMon, "01:00", true},  {"Su2200-0200", kSun, "01:00", false},
        {"Su2200-0200", kSun, "23:00", true},  {"Su2200-0200", kSat, "23:00", false},
        {"Fr2200-0200", kSat, "01:00", true},  {"Fr2200-0200", kFri, "01:00", false},
        {"Wk2200-0600", kSat, "05:00", true},  {"Wk2200-0600", kSat, "22:00", false},
        {"Wk2200-0600", kMon, "05:00", false}, {"Wk2200-0600", kMon, "22:00", true},
        // start == end crosses midnight: a full 24 hours from the start.
        {"Mo0800-0800", kMon, "07:59", false}, {"Mo0800-0800", kMon, "08:00", true},
        {"Mo0800-0800", kTue, "07:59", true},  {"Mo0800-0800", kTue, "08:00", false},
        {"Al0000-0000", kMon, "00:00", true},  {"Al0000-0000", kSun, "23:59", true},
        {"Al0000-0000", kSat, "12:00", true},
        // 2400 as a start is midnight at the end of that day: Tue 00:00-08:00.
        {"Mo2400-0800", kTue, "00:00", true},  {"Mo2400-0800", kTue, "07:59", true},
        {"Mo2400-0800", kTue, "08:00", false}, {"Mo2400-0800", kMon, "00:00", false},
        {"Mo2400-0800", kMon, "07:00", false}, {"Mo2400-0800", kMon, "23:59", false},
        {"Mo2400-0800", kWed, "00:00", false},
    };
    run_match_rows(rows, sizeof rows / sizeof rows[0]);
}

void negation_and_operators(void**) {
    const MatchRow rows[] = {
        {"!Wk0800-1800", kMon, "07:59", true},  {"!Wk0800-1800", kMon, "08:00", false},
        {"!Wk0800-1800", kMon, "18:00", true},  {"!Wk0800-1800", kSat, "12:00", true},
        {"!!Wk0800-1800", kMon, "08:00", true}, {"!!Wk0800-1800", kMon, "07:59", false},
        {"! Wk0800-1800", kMon, "08:00", false}, {"!Al2200-0600", kTue, "05:59", false},
        {"!Al2200-0600", kTue, "06:00", true},  {"!SaSu", kSat, "12:00", false},
        {"!SaSu", kMon, "12:00", true},
        {"Wk0800-1800|Sa1000-1200", kSat, "11:00", true},
        {"Wk0800-1800|Sa1000-1200", kSat, "12:00", false},
        {"Wk0800-1800|Sa1000-1200", kMon, "09:00", true},
        {"Wk0800-1800|Sa1000-1200", kSun, "11:00", false},
        {"Al0800-1800&!Fr", kFri, "12:00", false}, {"Al0800-1800&!Fr", kThu, "12:00", true},
        {"Al0800-1800&!Fr", kThu, "19:00", false},
        {"!Fr&Al0800-1800", kThu, "12:00", true},   // '!' applies to its own entry only
        {"!Fr&Al0800-1800", kFri, "12:00", false},
        // No precedence: strictly left to right, a|b&c == (a|b)&c.
        {"Mo|Tu&We", kMon, "12:00", false},  // precedence would give Mo|(Tu&We) = Mo: true
        {"Mo|Tu&We", kWed, "12:00", false},
        {"Al|Mo&Tu", kMon, "12:00", false},  // (Al|Mo)&Tu = Tu
        {"Al|Mo&Tu", kTue, "12:00", true},
        {"Mo&Tu|We", kWed, "12:00", true},   // (Mo&Tu)|We = We
        {"Mo&Tu|We", kMon, "12:00", false},
        {"Mo|Tu&!Mo", kMon, "12:00", false},  // (Mo|Tu)&!Mo = Tu
        {"Mo|Tu&!Mo", kTue, "12:00", true},
        // Blanks around operators and at both ends.
        {"Wk0800-1800 | Sa1000-1200", kSat, "11:00", true},
        {"Wk0800-1800\t|\tSa1000-1200", kSat, "11:00", true},
        {"  Wk0800-1800  ", kMon, "09:00", true},
        {"Al0800-1800 & ! Fr", kFri, "12:00", false},
        {"Al0800-1800 & ! Fr", kWed, "12:00", true},
    };
    run_match_rows(rows, sizeof rows / sizeof rows[0]);
}

void parse_errors(void**) {
    struct Row {
        const char* spec;
        size_t col;            // 0-based column of the problem
        const char* in_error;  // expected substring of the message
    };
    const Row rows[] = {
        {"", 0, "expected a day code"},
        {"!", 1, "expected a day code"},
        {"MoMo", 0, "cancel out"},
        {"AlAl0800-1000", 0, "cancel out"},
        {"WkMoTuWeThFr", 0, "cancel out"},
        {"Wk0800-1800|MoMo", 12, "cancel out"},
        {"Xx0800-1800", 0, "'Xx' is not a day code"},
        {"Mo0800-1800|Xy", 12, "'Xy' is not a day code"},
        {"M", 0, "'M' is not a day code"},
        {"MoT", 2, "'T' is not a day code"},
        {"0800-1800", 0, "before the time range"},
        {"Mo2401-0800", 2, "'2401' is not a time of day"},
        {"Mo2460-0800", 2, "'2460' is not a time of day"},
        {"Mo0960-1000", 2, "'0960' is not a time of day"},
        {"Mo2500-0100", 2, "'2500' is not a time of day"},
        {"Mo0800-2401", 7, "'2401' is not a time of day"},
        {"Mo0800-2460", 7, "'2460' is not a time of day"},
        {"Mo0800-0960", 7, "'0960' is not a time of day"},
        {"Mo0800", 6, "expected '-'"},
        {"Mo0800-", 7, "four digits"},
        {"Mo0800-170", 7, "four digits"},
        {"Mo800-1700", 2, "four digits"},
        {"Mo08000-1700", 2, "four digits"},
        {"Mo0800-17000", 7, "four digits"},
        {"Wk08:00-17:00", 2, "four digits"},
        {"Mo0800-1800Tu", 11, "unexpected 'T'"},
        {"Wk0800-1800 Sa", 12, "unexpected 'S'"},
        {"Wk0800-1800,Sa", 11, "unexpected ','"},
        {"Wk 0800-1800", 3, "unexpected '0'"},
        {"Mo-0800", 2, "unexpected '-'"},
        {"Wk0800-1800|", 12, "expected a time entry after the operator"},
        {"Wk0800-1800 & ", 14, "expected a time entry after the operator"},
        {"Wk0800-1800 ||Sa", 13, "expected a day code"},
        {"Wk0800-1800|!", 13, "expected a day code"},
    };
    for (const Row& r : rows) {
        std::string row = std::string("'") + r.spec + "'";
        std::string why;
        size_t col = 999;
        auto spec = TimeSpec::parse(r.spec, &why, &col);
        CHECK(!spec.has_value(), row);
        CHECK_INT(col, r.col, row + " -> " + why);
        CHECK(unit::contains(why, r.in_error), row + " -> \"" + why + "\"");
    }
}

void looks_like(void**) {
    struct Row {
        const char* token;
        bool expected;
    };
    const Row rows[] = {
        {"Wk0800-1800", true}, {"!Al2200-0600", true}, {"!Al..", true}, {"! Al", true},
        {"SaSu", true},        {"sa", true},          {"Mo", true},     {"wd", true},
        {"Th", true},          {"Fr1000-1200", true}, {"Tu", true},     {"we", true},
        {"fe80", false},       {"fe80::1", false},    {"cafe", false},  {"1", false},
        {":0", false},         {"", false},           {"!", false},     {"W", false},
        {"0800-1800", false},  {"tty1", false},       {"crond", false}, {"10.0.0.1", false},
        {"2001:db8::1", false}, {"LOCAL", false},     {"ab", false},    {"dead:beef", false},
    };
    for (const Row& r : rows) {
        CHECK(ringfence::access::looks_like_time_spec(r.token) == r.expected, std::string("'") + r.token + "'");
    }
}

// Every day code is detectable: it has a letter that is not a hex digit, so
// the tail of an IPv6 address can never look like one.
void day_codes_are_not_hex(void**) {
    const char* codes[] = {"Mo", "Tu", "We", "Th", "Fr", "Sa", "Su", "Wk", "Wd", "Al"};
    for (const char* c : codes) {
        std::string s = c;
        CHECK(s.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos, s);
        CHECK(ringfence::access::looks_like_time_spec(s), s);
        std::string why;
        size_t col = 0;
        CHECK(TimeSpec::parse(s, &why, &col).has_value(), s + " " + why);
    }
    // ... and no two-hex-digit string is a day code.
    const char hex[] = "0123456789abcdefABCDEF";
    for (const char* a = hex; *a; ++a) {
        for (const char* b = hex; *b; ++b) {
            std::string s = {*a, *b};
            CHECK(!ringfence::access::looks_like_time_spec(s), s);
        }
    }
}

void local_time_from_instant(void**) {
    setenv("TZ", "UTC", 1);
    tzset();
    // 2024-01-01 was a Monday; 1704110340 = 2024-01-01 11:59:00 UTC.
    auto t = ringfence::core::local_time(1704110340);
    CHECK(t.has_value(), "2024-01-01 11:59 UTC");
    CHECK_INT(t->weekday, kMon, "2024-01-01 11:59 UTC");
    CHECK_INT(t->minute, 11 * 60 + 59, "2024-01-01 11:59 UTC");
    // 1704585599 = 2024-01-06 23:59:59 UTC, a Saturday.
    t = ringfence::core::local_time(1704585599);
    CHECK(t.has_value(), "2024-01-06 23:59:59 UTC");
    CHECK_INT(t->weekday, kSat, "2024-01-06 23:59:59 UTC");
    CHECK_INT(t->minute, 23 * 60 + 59, "2024-01-06 23:59:59 UTC");
    // time() failing gives (time_t)-1: no local time, the caller refuses.
    CHECK(!ringfence::core::local_time(static_cast<time_t>(-1)).has_value(), "(time_t)-1");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(working_hours),     cmocka_unit_test(whole_days_and_toggles),
        cmocka_unit_test(across_midnight),   cmocka_unit_test(negation_and_operators),
        cmocka_unit_test(parse_errors),      cmocka_unit_test(looks_like),
        cmocka_unit_test(day_codes_are_not_hex), cmocka_unit_test(local_time_from_instant),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("time_spec", tests, nullptr, nullptr);
}
