// SPDX-License-Identifier: BSD-3-Clause
// The clock, passed in so that no evaluator reads the real time itself.
#pragma once

#include <ctime>
#include <optional>

namespace ringfence::core {

// Local wall-clock time: weekday 0 = Sunday .. 6 = Saturday (struct tm's
// tm_wday) and minute of the day 0..1439.
struct LocalTime {
    int weekday = 0;
    int minute = 0;
};

class Clock {
public:
    virtual ~Clock() = default;
    virtual time_t now() = 0;
};

class SystemClock final : public Clock {
public:
    time_t now() override { return ::time(nullptr); }
};

// The host's local time (TZ applies) for a given instant; nullopt if the
// C library cannot convert it (callers refuse rather than guess).
std::optional<LocalTime> local_time(time_t t);

}  // namespace ringfence::core
