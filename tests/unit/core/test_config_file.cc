// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for core/config_file: which files are trusted (owner, mode,
// type, symlinks), how text is split into lines, and the limits. Each test
// gets its own temporary directory. The tests run as root (CI) so that they
// can chown to another uid; as another user the owner test is skipped.
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/config_file.h"
#include "unit_test.h"

using ringfence::core::ReadLimits;
using ringfence::core::ReadResult;
using ringfence::core::ReadStatus;

namespace {

using unit::TempDir;
constexpr auto setup_dir = unit::setup_temp_dir;
constexpr auto teardown_dir = unit::teardown_temp_dir;

const std::string& dir(void** state) { return static_cast<TempDir*>(*state)->path; }

// Writes `content` to dir/name with exactly `mode` (no umask) and returns the path.
std::string write_file(void** state, const std::string& name, const std::string& content, mode_t mode = 0644) {
    std::string path = dir(state) + "/" + name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        print_error("open(%s): %s\n", path.c_str(), std::strerror(errno));
        fail();
    }
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n <= 0) {
            print_error("write(%s): %s\n", path.c_str(), std::strerror(errno));
            fail();
        }
        done += static_cast<size_t>(n);
    }
    ::close(fd);
    if (::chmod(path.c_str(), mode) != 0) {
        print_error("chmod(%s): %s\n", path.c_str(), std::strerror(errno));
        fail();
    }
    return path;
}

void expect_refused(const ReadResult& r, const std::string& path, const char* in_message, const std::string& row) {
    CHECK(r.status == ReadStatus::error, row);
    CHECK(r.text.lines.empty(), row);
    CHECK_STR(r.error.file, path, row);
    CHECK(unit::contains(r.error.message, in_message), row + " -> \"" + r.error.message + "\"");
    CHECK(r.error.severity == ringfence::core::Severity::error, row);
    // "path: error: ..." or "path:line[:col]: error: ..."
    std::string expected_prefix = r.error.line == 0 ? path + ": error: " : path + ":" + std::to_string(r.error.line);
    CHECK(r.error.one_line().compare(0, expected_prefix.size(), expected_prefix) == 0,
          row + " -> " + r.error.one_line());
}

void regular_root_file(void** state) {
    std::string path = write_file(state, "access.conf", "+ : root : ALL\n- : ALL : ALL\n", 0644);
    ReadResult r = ringfence::core::read_config_file(path);
    CHECK(r.status == ReadStatus::ok, r.error.one_line());
    CHECK_STR(r.text.path, path, path);
    CHECK_INT(r.text.lines.size(), 2, path);
    CHECK_STR(r.text.lines[0], "+ : root : ALL", path);
    CHECK_STR(r.text.lines[1], "- : ALL : ALL", path);
    struct stat st;
    CHECK(::stat(path.c_str(), &st) == 0, path);
    CHECK(r.text.stamp.exists, path);
    CHECK(r.text.stamp.ino == st.st_ino && r.text.stamp.dev == st.st_dev, path);
    CHECK_INT(r.text.stamp.size, 29, path);
    CHECK(r.text.stamp == ringfence::core::stamp_of(path), path);
}

void modes(void** state) {
    struct Row {
        mode_t mode;
        bool ok;
    };
    const Row rows[] = {
        {0644, true},  {0600, true},  {0640, true},  {0444, true},  {0400, true},   {0755, true},
        {04644, true}, {0664, false}, {0646, false}, {0666, false}, {0620, false},  {0602, false},
        {0775, false}, {0777, false}, {0660, false}, {0606, false}, {0622, false},
    };
    for (const Row& r : rows) {
        char name[32];
        std::snprintf(name, sizeof name, "mode-%04o.conf", static_cast<unsigned>(r.mode));
        std::string path = write_file(state, name, "+ : root : ALL\n", r.mode);
        ReadResult res = ringfence::core::read_config_file(path);
        std::string row = name;
        if (r.ok) {
            CHECK(res.status == ReadStatus::ok, row + " -> " + res.error.one_line());
            CHECK_INT(res.text.lines.size(), 1, row);
        } else {
            expect_refused(res, path, "writable by group or others", row);
            CHECK_STR(res.error.hint, "chmod go-w " + path, row);
        }
    }
}

void owners(void** state) {
    if (::geteuid() != 0) {
        print_message("not root: cannot chown test files, owner checks skipped\n");
        skip();
    }
    std::string other = write_file(state, "other-uid.conf", "+ : root : ALL\n", 0644);
    CHECK(::chown(other.c_str(), 12345, 0) == 0, "chown 12345");
    ReadResult r = ringfence::core::read_config_file(other);
    expect_refused(r, other, "owned by uid 12345", "owner 12345");
    CHECK_STR(r.error.hint, "chown root " + other, "owner 12345");

    // A read-only file of another user is still refused: owner, not mode.
    std::string ro = write_file(state, "other-uid-ro.conf", "+ : root : ALL\n", 0400);
    CHECK(::chown(ro.c_str(), 12345, 12345) == 0, "chown 12345:12345");
    expect_refused(ringfence::core::read_config_file(ro), ro, "owned by uid 12345", "owner 12345 mode 0400");

    // Root-owned with another group is fine while the group cannot write.
    std::string grp = write_file(state, "other-gid.conf", "+ : root : ALL\n", 0644);
    CHECK(::chown(grp.c_str(), 0, 12345) == 0, "chown 0:12345");
    CHECK(ringfence::core::read_config_file(grp).status == ReadStatus::ok, "root:12345 0644");
    CHECK(::chmod(grp.c_str(), 0664) == 0, "chmod 0664");
    expect_refused(ringfence::core::read_config_file(grp), grp, "writable by group", "root:12345 0664");
}

void symlinks(void** state) {
    std::string target = write_file(state, "real.conf", "+ : root : ALL\n", 0644);
    std::string link = dir(state) + "/link.conf";
    CHECK(::symlink(target.c_str(), link.c_str()) == 0, "symlink");
    ReadResult r = ringfence::core::read_config_file(link);
    expect_refused(r, link, "symbolic link", "symlink to a good file");
    CHECK(!r.error.hint.empty(), "symlink hint");

    std::string dangling = dir(state) + "/dangling.conf";
    CHECK(::symlink((dir(state) + "/nowhere").c_str(), dangling.c_str()) == 0, "symlink");
    expect_refused(ringfence::core::read_config_file(dangling), dangling, "symbolic link", "dangling symlink");

    // The target itself is fine.
    CHECK(ringfence::core::read_config_file(target).status == ReadStatus::ok, "target");
}

void missing(void** state) {
    const std::string rows[] = {
        dir(state) + "/absent.conf",
        dir(state) + "/no-such-dir/absent.conf",
    };
    for (const std::string& path : rows) {
        ReadResult r = ringfence::core::read_config_file(path);
        CHECK(r.status == ReadStatus::missing, path + " -> " + r.error.one_line());
        CHECK_STR(r.text.path, path, path);
        CHECK(r.text.lines.empty(), path);
        CHECK(!ringfence::core::stamp_of(path).exists, path);
    }
}

void not_regular(void** state) {
    std::string sub = dir(state) + "/access.d";
    CHECK(::mkdir(sub.c_str(), 0755) == 0, "mkdir");
    expect_refused(ringfence::core::read_config_file(sub), sub, "not a regular file", "directory");

    // A FIFO is refused without blocking on open (no writer).
    std::string fifo = dir(state) + "/fifo.conf";
    CHECK(::mkfifo(fifo.c_str(), 0644) == 0, "mkfifo");
    expect_refused(ringfence::core::read_config_file(fifo), fifo, "not a regular file", "fifo");

    expect_refused(ringfence::core::read_config_file("/dev/null"), "/dev/null", "not a regular file", "/dev/null");
}

void line_splitting(void** state) {
    struct Row {
        std::string content;
        std::vector<std::string> lines;
    };
    const Row rows[] = {
        {"", {}},
        {"\n", {""}},
        {"\n\n", {"", ""}},
        {"a", {"a"}},  // a final line without a newline is kept
        {"a\n", {"a"}},
        {"a\nb", {"a", "b"}},
        {"a\nb\n", {"a", "b"}},
        {"a\n\nb\n", {"a", "", "b"}},
        {"  lead\ttab  \n", {"  lead\ttab  "}},
        {"# comment\n+ : root : ALL", {"# comment", "+ : root : ALL"}},
        {"\xef\xbb\xbf+ : root : ALL\n", {"\xef\xbb\xbf+ : root : ALL"}},
    };
    int i = 0;
    for (const Row& r : rows) {
        std::string path = write_file(state, "split-" + std::to_string(i++) + ".conf", r.content);
        ReadResult res = ringfence::core::read_config_file(path);
        std::string row = "content \"" + ringfence::core::escape_for_log(r.content) + "\"";
        CHECK(res.status == ReadStatus::ok, row + " -> " + res.error.one_line());
        CHECK_INT(res.text.lines.size(), r.lines.size(), row);
        for (size_t k = 0; k < r.lines.size(); ++k) {
            CHECK_STR(res.text.lines[k], r.lines[k], row + " line " + std::to_string(k + 1));
        }
    }
}

// CRLF files: the lines are split at '\n'; a trailing '\r' stays with the
// line (the access.conf compiler strips it as trailing blank, see
// test_access_compile.cc), and nothing else changes.
void crlf(void** state) {
    std::string path = write_file(state, "crlf.conf", "+ : root : tty1\r\n- : ALL : ALL\r\n\r\n");
    ReadResult r = ringfence::core::read_config_file(path);
    CHECK(r.status == ReadStatus::ok, r.error.one_line());
    CHECK_INT(r.text.lines.size(), 3, "crlf");
    auto strip_cr = [](std::string s) {
        if (!s.empty() && s.back() == '\r') {
            s.pop_back();
        }
        return s;
    };
    CHECK_STR(strip_cr(r.text.lines[0]), "+ : root : tty1", "crlf line 1");
    CHECK_STR(strip_cr(r.text.lines[1]), "- : ALL : ALL", "crlf line 2");
    CHECK_STR(strip_cr(r.text.lines[2]), "", "crlf line 3");
    CHECK(r.text.lines[0].find('\n') == std::string::npos, "no newline kept");
}

void nul_bytes(void** state) {
    struct Row {
        std::string content;
        int line;
        int column;
    };
    const Row rows[] = {
        {std::string("\0", 1), 1, 1},
        {std::string("ok\nab\0cd\n", 9), 2, 3},
        {std::string("ok\nok\nlast\0", 11), 3, 5},  // in a final line without newline
        {std::string("+ : root : ALL\n\n\0\n", 18), 3, 1},
    };
    int i = 0;
    for (const Row& r : rows) {
        std::string path = write_file(state, "nul-" + std::to_string(i++) + ".conf", r.content);
        ReadResult res = ringfence::core::read_config_file(path);
        std::string row = "\"" + ringfence::core::escape_for_log(r.content) + "\"";
        expect_refused(res, path, "NUL byte", row);
        CHECK_INT(res.error.line, r.line, row);
        CHECK_INT(res.error.column, r.column, row);
        CHECK(unit::contains(res.error.one_line(),
                             path + ":" + std::to_string(r.line) + ":" + std::to_string(r.column) + ": error: "),
              row + " -> " + res.error.one_line());
    }
}

void line_length_limit(void** state) {
    ReadLimits limits;
    limits.max_line_bytes = 10;
    struct Row {
        std::string content;
        int bad_line;  // 0 = accepted
    };
    const Row rows[] = {
        {std::string(10, 'a') + "\n", 0},
        {std::string(10, 'a'), 0},
        {std::string(11, 'a') + "\n", 1},
        {"short\n" + std::string(11, 'b'), 2},  // over-long final line without newline
        {"short\nshort\n" + std::string(100, 'c') + "\nshort\n", 3},
        {std::string(9, 'a') + "\r\n", 0},   // 10 bytes before the newline
        {std::string(10, 'a') + "\r\n", 1},  // the CR counts
        // Files longer than the limit, where the lines are proved short one
        // window of max_line_bytes at a time: every line at the limit, a long
        // one after several that fill their windows, a long final line.
        {std::string(10, 'a') + "\n" + std::string(10, 'b') + "\n" + std::string(10, 'c') + "\n", 0},
        {std::string(10, 'a') + "\n" + std::string(10, 'b'), 0},
        {std::string(10, 'a') + "\n" + std::string(10, 'b') + "\n" + std::string(11, 'c') + "\nx\n", 3},
        {"a\n" + std::string(10, 'b') + "\n" + std::string(11, 'c'), 3},
        {"a\nb\nc\nd\ne\nf\n" + std::string(20, 'g') + "\n", 7},
    };
    int i = 0;
    for (const Row& r : rows) {
        std::string path = write_file(state, "long-" + std::to_string(i++) + ".conf", r.content);
        ReadResult res = ringfence::core::read_config_file(path, limits);
        std::string row = "row " + std::to_string(i) + " (" + std::to_string(r.content.size()) + " bytes)";
        if (r.bad_line == 0) {
            CHECK(res.status == ReadStatus::ok, row + " -> " + res.error.one_line());
        } else {
            expect_refused(res, path, "line is longer than 10 bytes", row);
            CHECK_INT(res.error.line, r.bad_line, row);
        }
    }
    // The default limit allows a 100 KiB line.
    std::string big(100 * 1024, 'x');
    std::string path = write_file(state, "big-line.conf", big + "\n");
    ReadResult res = ringfence::core::read_config_file(path);
    CHECK(res.status == ReadStatus::ok, "100 KiB line -> " + res.error.one_line());
    CHECK_INT(res.text.lines.size(), 1, "100 KiB line");
    CHECK_INT(res.text.lines[0].size(), 100 * 1024, "100 KiB line");
}

void size_limit(void** state) {
    ReadLimits limits;
    limits.max_bytes = 16;
    std::string at_limit = write_file(state, "sixteen.conf", std::string(15, 'a') + "\n");
    ReadResult r = ringfence::core::read_config_file(at_limit, limits);
    CHECK(r.status == ReadStatus::ok, "16 bytes -> " + r.error.one_line());
    std::string over = write_file(state, "seventeen.conf", std::string(16, 'a') + "\n");
    expect_refused(ringfence::core::read_config_file(over, limits), over, "larger than 16 bytes", "17 bytes");
    std::string empty = write_file(state, "empty.conf", "");
    r = ringfence::core::read_config_file(empty, limits);
    CHECK(r.status == ReadStatus::ok && r.text.lines.empty(), "empty file");
}

void stamps_change(void** state) {
    std::string path = write_file(state, "stamp.conf", "+ : root : ALL\n");
    auto before = ringfence::core::stamp_of(path);
    CHECK(before.exists, "exists");
    CHECK(before == ringfence::core::stamp_of(path), "stable");
    write_file(state, "stamp.conf", "+ : root : ALL\n- : ALL : ALL\n");
    auto after = ringfence::core::stamp_of(path);
    CHECK(after.exists && after != before, "size changed");
    CHECK(!ringfence::core::stamp_of(dir(state) + "/nothing").exists, "missing");
    CHECK(ringfence::core::FileStamp{} == ringfence::core::stamp_of(dir(state) + "/nothing"), "missing = default");
}

}  // namespace

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

int main() {
    const struct CMUnitTest tests[] = {
        TEST(regular_root_file), TEST(modes),     TEST(owners),     TEST(symlinks),
        TEST(missing),           TEST(not_regular), TEST(line_splitting), TEST(crlf),
        TEST(nul_bytes),         TEST(line_length_limit), TEST(size_limit), TEST(stamps_change),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("config_file", tests, nullptr, nullptr);
}
