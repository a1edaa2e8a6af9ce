// SPDX-License-Identifier: BSD-3-Clause
// Helpers of the access.conf unit tests (compiling text, times), and the
// shared fakes (tests/fakes/fake_identity.h) under their old names.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/identity.h"
#include "core/ip.h"
#include "core/name_service.h"
#include "pam_module/access_conf.h"
#include "unit_test.h"
#include "fakes/fake_identity.h"

namespace unit {

using fakes::FakeIdentity;
using fakes::FakeNameService;

inline ringfence::core::ConfigText config_text(const std::string& path, const std::string& text) {
    ringfence::core::ConfigText f;
    f.path = path;
    f.lines = split_lines(text);
    return f;
}

// Compiles `text` as the single file "access.conf".
inline std::shared_ptr<const ringfence::access::Policy> compile_text(
    const std::string& text, const ringfence::access::ParseOptions& options, ringfence::core::Diagnostics* diags) {
    return ringfence::access::Policy::compile({config_text("access.conf", text)}, options, diags);
}

inline std::string join_diags(const ringfence::core::Diagnostics& diags) {
    std::string out;
    for (const auto& d : diags) {
        out += d.one_line() + "; ";
    }
    return out;
}

// Local time for a weekday (0 = Sunday) and "HH:MM".
inline ringfence::core::LocalTime at(int weekday, const char* hhmm) {
    ringfence::core::LocalTime t;
    t.weekday = weekday;
    t.minute = ((hhmm[0] - '0') * 10 + (hhmm[1] - '0')) * 60 + (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
    return t;
}

enum Weekday { kSun = 0, kMon, kTue, kWed, kThu, kFri, kSat };

inline const char* verdict_name(ringfence::access::Verdict v) {
    switch (v) {
        case ringfence::access::Verdict::allow:
            return "allow";
        case ringfence::access::Verdict::deny:
            return "deny";
        case ringfence::access::Verdict::no_match:
            return "no_match";
    }
    return "?";
}

}  // namespace unit
