// Local time for the evaluators.
#include "core/clock.h"

namespace ringfence::core {

LocalTime local_time(time_t t) {
    struct tm tm_buf;
    LocalTime lt;
    if (localtime_r(&t, &tm_buf) == nullptr) {
        return lt;
    }
    lt.weekday = tm_buf.tm_wday;
    lt.minute = tm_buf.tm_hour * 60 + tm_buf.tm_min;
    return lt;
}

}  // namespace ringfence::core
