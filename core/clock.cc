// SPDX-License-Identifier: BSD-3-Clause
// Local time for the evaluators.
#include "core/clock.h"

namespace ringfence::core {

std::optional<LocalTime> local_time(time_t t) {
    struct tm tm_buf;
    LocalTime lt;
    if (t == static_cast<time_t>(-1) || localtime_r(&t, &tm_buf) == nullptr) {
        return std::nullopt;
    }
    lt.weekday = tm_buf.tm_wday;
    lt.minute = tm_buf.tm_hour * 60 + tm_buf.tm_min;
    return lt;
}

}  // namespace ringfence::core
