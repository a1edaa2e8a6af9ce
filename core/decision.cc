// SPDX-License-Identifier: BSD-3-Clause
#include "core/decision.h"

namespace ringfence::core {

std::string DecisionSource::location() const {
    if (is_default()) return "default";
    return line > 0 ? file + ":" + std::to_string(line) : file;
}

const char* verdict_name(Verdict v) { return v == Verdict::allow ? "allowed" : "denied"; }

std::string Decision::summary() const {
    std::string s = verdict_name(verdict);
    s += " by ";
    s += source.location();
    if (!source.rule.empty()) s += " (" + source.rule + ")";
    if (!reason.empty()) s += ": " + reason;
    return s;
}

}  // namespace ringfence::core
