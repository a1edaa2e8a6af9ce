// SPDX-License-Identifier: BSD-3-Clause
// Shared glue for the CMocka unit tests: the cmocka include (its header has
// no extern "C" of its own on Linux) and checks that name the table row that
// failed, so one failing row in a table of fifty says which one.
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include <cmocka.h>
}

#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace unit {

inline void check(bool ok, const char* expr, const std::string& row, const char* file, int line) {
    if (!ok) {
        print_error("%s:%d: CHECK(%s) failed\n    row: %s\n", file, line, expr, row.c_str());
        _fail(file, line);
    }
}

inline void check_str(const std::string& actual, const std::string& expected, const char* expr,
                      const std::string& row, const char* file, int line) {
    if (actual != expected) {
        print_error("%s:%d: CHECK_STR(%s) failed\n    row:      %s\n    actual:   \"%s\"\n    expected: \"%s\"\n",
                    file, line, expr, row.c_str(), actual.c_str(), expected.c_str());
        _fail(file, line);
    }
}

inline void check_int(long long actual, long long expected, const char* expr, const std::string& row,
                      const char* file, int line) {
    if (actual != expected) {
        print_error("%s:%d: CHECK_INT(%s) failed\n    row: %s\n    actual: %lld, expected: %lld\n", file, line, expr,
                    row.c_str(), actual, expected);
        _fail(file, line);
    }
}

// Optional test selection for local runs: UNIT_ONLY and UNIT_SKIP are
// cmocka glob patterns, e.g. UNIT_SKIP='regression_*' to leave out the tests that
// document open bugs (a failing cmocka test leaves by longjmp, which also
// shows up as leaks under LeakSanitizer).
inline void apply_filters() {
    if (const char* only = std::getenv("UNIT_ONLY")) {
        cmocka_set_test_filter(only);
    }
    if (const char* skip = std::getenv("UNIT_SKIP")) {
        cmocka_set_skip_filter(skip);
    }
}

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// Splits text into lines exactly as core::read_config_file does: '\n' ends a
// line, a final line without '\n' is kept, nothing else is touched.
inline std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

// A private temporary directory ($TMPDIR or /tmp) for a test's setup;
// "" (with the reason printed) when it cannot be made. remove_tree() is for
// the teardown: cmocka leaves a failing test by longjmp, so destructors in
// the test body would not run.
inline std::string make_temp_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ringfence-unit-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
        print_error("mkdtemp(%s): %s\n", templ.c_str(), std::strerror(errno));
        return "";
    }
    return buf.data();
}

inline void remove_tree(const std::string& path) {
    nftw(
        path.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
}

// For cmocka_unit_test_setup_teardown(test, unit::setup_temp_dir,
// unit::teardown_temp_dir): *state is a TempDir made for the test.
struct TempDir {
    std::string path;
};

inline int setup_temp_dir(void** state) {
    std::string path = make_temp_dir();
    if (path.empty()) {
        return -1;
    }
    *state = new TempDir{path};
    return 0;
}

inline int teardown_temp_dir(void** state) {
    auto* d = static_cast<TempDir*>(*state);
    if (d != nullptr) {
        remove_tree(d->path);
        delete d;
    }
    return 0;
}

}  // namespace unit

// `row` is any std::string describing the table row under test.
#define CHECK(cond, row) ::unit::check(static_cast<bool>(cond), #cond, (row), __FILE__, __LINE__)
#define CHECK_STR(actual, expected, row) \
    ::unit::check_str((actual), (expected), #actual, (row), __FILE__, __LINE__)
#define CHECK_INT(actual, expected, row)                                                                  \
    ::unit::check_int(static_cast<long long>(actual), static_cast<long long>(expected), #actual, (row), \
                      __FILE__, __LINE__)
