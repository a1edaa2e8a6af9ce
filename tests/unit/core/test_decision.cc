// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for core/decision: the one line every layer's decision reads as.
#include <string>

#include "core/decision.h"
#include "unit_test.h"

using ringfence::core::Decision;
using ringfence::core::Verdict;

namespace {

void by_rule(void**) {
    Decision d;
    d.verdict = Verdict::deny;
    d.source.file = "/etc/security/access.conf";
    d.source.line = 20;
    d.source.rule = "- : ALL : ALL";
    d.reason = "no earlier rule matched user bob";
    CHECK(!d.allowed(), "");
    CHECK_STR(d.source.location(), "/etc/security/access.conf:20", "");
    CHECK_STR(d.summary(), "denied by /etc/security/access.conf:20 (- : ALL : ALL): no earlier rule matched user bob", "");
}

void by_default(void**) {
    Decision d;
    d.verdict = Verdict::allow;
    d.source.rule = "no rule matched";
    CHECK(d.allowed() && d.source.is_default(), "");
    CHECK_STR(d.summary(), "allowed by default (no rule matched)", "");
    d.reason = "10.1.2.3 is in no list";
    CHECK_STR(d.summary(), "allowed by default (no rule matched): 10.1.2.3 is in no list", "");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(by_rule),
        cmocka_unit_test(by_default),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("decision", tests, nullptr, nullptr);
}
