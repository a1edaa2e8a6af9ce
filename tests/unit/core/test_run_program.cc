// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for core/run_program: the exit status and signals, the input
// and both outputs (larger than a pipe), the fixed environment, a failed
// execve, the time limit, and the terminal passed through.
#include <errno.h>
#include <signal.h>

#include <string>

#include "core/run_program.h"
#include "unit_test.h"

using ringfence::core::ProgramIo;
using ringfence::core::ProgramOptions;
using ringfence::core::ProgramResult;
using ringfence::core::run_program;

namespace {

void status_and_signals(void**) {
    ProgramResult t = run_program({"/bin/true"}, "", 30);
    CHECK(t.ok(), t.summary());
    ProgramResult f = run_program({"/bin/false"}, "", 30);
    CHECK(f.started && !f.ok(), f.summary());
    CHECK_INT(f.status, 1, f.summary());
    CHECK_STR(f.summary(), "exit status 1", "");
    ProgramResult k = run_program({"/bin/sh", "-c", "kill -TERM $$"}, "", 30);
    CHECK_INT(k.status, 128 + SIGTERM, k.summary());
}

void input_and_outputs(void**) {
    std::string big;
    for (int i = 0; big.size() < 1000000; ++i) {
        big += "line " + std::to_string(i) + "\n";
    }
    ProgramResult c = run_program({"/bin/cat"}, big, 60);
    CHECK(c.ok(), c.summary());
    CHECK(c.out == big, "stdout differs: " + std::to_string(c.out.size()) + " bytes");
    ProgramResult e = run_program({"/bin/sh", "-c", "echo out; echo first >&2; echo second >&2; exit 3"}, "", 30);
    CHECK_STR(e.out, "out\n", "");
    CHECK_STR(e.err, "first\nsecond\n", "");
    CHECK_STR(e.summary(), "first", "");
    CHECK_INT(e.status, 3, "");
    // A program that does not read its input: EPIPE, as in ringfence-firewall
    // (which ignores SIGPIPE), and its own status.
    signal(SIGPIPE, SIG_IGN);
    ProgramResult n = run_program({"/bin/true"}, big, 30);
    CHECK(n.ok(), n.summary());
}

void fixed_environment(void**) {
    setenv("RINGFENCE_UNIT_LEAK", "1", 1);
    ProgramResult r = run_program({"/usr/bin/env"}, "", 30);
    CHECK_STR(r.out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n", "");
    ProgramOptions o;
    o.environment = {"A=b"};
    r = run_program({"/usr/bin/env"}, o);
    CHECK_STR(r.out, "A=b\n", "");
}

void refused_and_failed_execve(void**) {
    ProgramResult rel = run_program({"true"}, "", 30);
    CHECK(!rel.started, rel.summary());
    CHECK(unit::contains(rel.error, "not absolute"), rel.error);
    ProgramResult missing = run_program({"/nonexistent/program"}, "", 30);
    CHECK(missing.started && !missing.ok(), missing.summary());
    CHECK_INT(missing.status, 127, "");
    CHECK_INT(missing.exec_errno, ENOENT, "");
    CHECK_STR(missing.summary(), "execve failed", "");
    ProgramOptions o;
    o.io = ProgramIo::inherit;
    ProgramResult inherit = run_program({"/dev/null"}, o);
    CHECK_INT(inherit.status, 127, "");
    CHECK_INT(inherit.exec_errno, EACCES, "");
    CHECK(inherit.err.empty(), inherit.err);
}

void time_limit(void**) {
    ProgramResult r = run_program({"/bin/sleep", "60"}, "", 1);
    CHECK(r.started && !r.ok(), r.summary());
    CHECK_INT(r.status, 128 + SIGKILL, r.summary());
    CHECK_STR(r.error, "timed out after 1 s", "");
    // Outputs closed, the program still running: the limit still holds.
    r = run_program({"/bin/sh", "-c", "exec >&- 2>&-; exec /bin/sleep 60"}, "", 1);
    CHECK_INT(r.status, 128 + SIGKILL, r.summary());
    ProgramOptions o;
    o.io = ProgramIo::inherit;
    o.timeout_seconds = 1;
    r = run_program({"/bin/sleep", "60"}, o);
    CHECK_INT(r.status, 128 + SIGKILL, r.summary());
    CHECK_STR(r.error, "timed out after 1 s", "");
}

void inherit_passes_status(void**) {
    ProgramOptions o;
    o.io = ProgramIo::inherit;
    ProgramResult r = run_program({"/bin/sh", "-c", "exit 5"}, o);
    CHECK_INT(r.status, 5, r.summary());
    CHECK(r.out.empty() && r.err.empty(), "");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_and_signals),        cmocka_unit_test(input_and_outputs),
        cmocka_unit_test(fixed_environment),         cmocka_unit_test(refused_and_failed_execve),
        cmocka_unit_test(time_limit),                cmocka_unit_test(inherit_passes_status),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("run_program", tests, nullptr, nullptr);
}
