// SPDX-License-Identifier: BSD-3-Clause
// pam_time-style time specifications ("Wk0800-1800", "SaSu", "!Al2200-0600",
// "Wk0900-1700|Sa1000-1200"), the access.conf fourth field, compiled into a
// value evaluated against a local time (core/clock.h). Windows are half-open [start, end) on every day; a range whose start
// is not before its end crosses midnight and belongs to the day it starts on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace ringfence::access {

using core::LocalTime;

class TimeSpec {
public:
    // Parses the whole text. On failure returns nullopt, sets *error to what
    // was expected and *error_col to the 0-based column of the problem.
    static std::optional<TimeSpec> parse(std::string_view text, std::string* error, size_t* error_col);

    bool matches(const LocalTime& t) const;
    const std::string& text() const { return text_; }

private:
    struct Window {
        bool negate = false;
        uint8_t days = 0;      // bit d set = weekday d (0 = Sunday)
        int start = 0;         // minutes since midnight, 0..1440
        int end = 0;           // minutes since midnight, 0..1440
        bool matches(const LocalTime& t) const;
    };
    enum class Op : uint8_t { first, and_op, or_op };
    struct Term {
        Op op = Op::first;
        Window window;
    };
    std::vector<Term> terms_;
    std::string text_;
};

// True if `token` starts the way a time spec does: optional '!', then a run
// of letters that are all pam_time day codes. Day codes all contain a
// character that is not a hex digit, which keeps a fourth field apart from
// an IPv6 address.
bool looks_like_time_spec(std::string_view token);

}  // namespace ringfence::access
