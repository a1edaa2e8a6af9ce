// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for core/checked_stamp: a stamp is believed only for the exact
// path, file stamp, content and check it was written for, and only when it
// and its directory are root's and writable by nobody else; only root
// writes one, and never into an untrusted or missing directory.
//
// Each test gets its own temporary directory: the policy file lives there,
// the stamps in its subdirectory "checked" (never /run). Where a test wants
// the comparison alone to refuse a stamp, it copies a valid stamp's bytes
// under the name the other lookup would use, so that a missing file cannot
// be what refuses it. The tests chown to uid 65534 and change their own
// uid in a child, so they need root; as another user they are skipped.
#include <fcntl.h>
#include <ftw.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/checked_stamp.h"
#include "core/config_file.h"
#include "core/paths.h"
#include "unit_test.h"

using ringfence::core::CheckedStamps;
using ringfence::core::FileStamp;
using ringfence::core::content_hash;

namespace {

constexpr uid_t kNobody = 65534;
const char kKind[] = "hosts_access";

struct TempDir {
    std::string path;     // the policy files
    std::string checked;  // the stamps: path + "/checked", root's, 0755
};

int setup_dir(void** state) {
    if (::geteuid() != 0) {
        print_error("not root: the owner and uid tests cannot run\n");
        return -1;
    }
    std::string path = unit::make_temp_dir();
    if (path.empty()) {
        return -1;
    }
    auto* d = new TempDir{path, path + "/checked"};
    *state = d;
    if (::mkdir(d->checked.c_str(), 0755) != 0 || ::chmod(d->checked.c_str(), 0755) != 0 ||
        ::chmod(d->path.c_str(), 0755) != 0) {
        print_error("mkdir(%s): %s\n", d->checked.c_str(), std::strerror(errno));
        return -1;
    }
    return 0;
}

int teardown_dir(void** state) {
    auto* d = static_cast<TempDir*>(*state);
    if (d != nullptr) {
        unit::remove_tree(d->path);
        delete d;
    }
    return 0;
}

const TempDir& dirs(void** state) { return *static_cast<TempDir*>(*state); }

void must(bool ok, const std::string& what) {
    if (!ok) {
        print_error("test setup: %s: %s\n", what.c_str(), std::strerror(errno));
        fail();
    }
}

void write_bytes(const std::string& path, const std::string& content, mode_t mode = 0644) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    must(fd >= 0, "open " + path);
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        must(n > 0, "write " + path);
        done += static_cast<size_t>(n);
    }
    ::close(fd);
    must(::chmod(path.c_str(), mode) == 0, "chmod " + path);
}

std::string read_bytes(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    must(fd >= 0, "open " + path);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

// Every name in `dir` but . and ..; empty when it cannot be opened.
std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        return names;
    }
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") {
            names.push_back(n);
        }
    }
    ::closedir(d);
    return names;
}

// A policy file in the temporary directory, and its stamp as read.
struct Policy {
    std::string path;
    std::string content;
    FileStamp stamp;
};

Policy make_policy(void** state, const std::string& name = "hosts.allow",
                   const std::string& content = "sshd: 10.0.0.0/8\nALL: LOCAL\n") {
    Policy p;
    p.path = dirs(state).path + "/" + name;
    p.content = content;
    write_bytes(p.path, content);
    p.stamp = ringfence::core::stamp_of(p.path);
    must(p.stamp.exists, "stamp_of " + p.path);
    return p;
}

// Records the policy's stamp and checks that it is believed: the baseline
// of every test that then changes one thing.
std::string record_and_check(const CheckedStamps& stamps, const Policy& p) {
    CHECK(stamps.record(p.path, p.stamp, p.content), "record() as root into a trusted directory");
    std::string file = stamps.dir() + "/" + stamps.name_for(p.path);
    CHECK(exists(file), "the stamp file exists under name_for(path)");
    CHECK(stamps.passed(p.path, p.stamp, p.content), "baseline: the recorded stamp is believed");
    return file;
}

void round_trip(void** state) {
    CheckedStamps stamps(kKind, dirs(state).checked);
    CHECK(stamps.enabled(), "a directory given: enabled");
    Policy p = make_policy(state);
    std::string file = record_and_check(stamps, p);
    CHECK(entries(dirs(state).checked).size() == 1, "one stamp, no temporary left");
    struct stat st;
    must(::stat(file.c_str(), &st) == 0, "stat " + file);
    CHECK_INT(st.st_uid, 0, "the stamp is root's");
    CHECK_INT(st.st_mode & 07777, 0644, "the stamp is 0644");
    // Another object (another process) believes it as well.
    CHECK(CheckedStamps(kKind, dirs(state).checked).passed(p.path, p.stamp, p.content), "a second reader");
    // The stamp's text names what it is for.
    std::string text = read_bytes(file);
    CHECK(unit::contains(text, "check hosts_access\n"), text);
    CHECK(unit::contains(text, "file " + p.path + "\n"), text);
    // A missing file (exists false) never passes, even with that name.
    FileStamp none = p.stamp;
    none.exists = false;
    CHECK(!stamps.passed(p.path, none, p.content), "FileStamp.exists false");
}

void other_content_same_size(void** state) {
    CheckedStamps stamps(kKind, dirs(state).checked);
    Policy p = make_policy(state);
    record_and_check(stamps, p);
    // Every one-byte change and a swap of two lines, all with the same size
    // and the same file stamp: only the hash can tell them apart.
    std::vector<std::string> others;
    for (size_t i = 0; i < p.content.size(); ++i) {
        std::string c = p.content;
        c[i] = static_cast<char>(c[i] ^ 0x01);
        others.push_back(c);
    }
    others.push_back("ALL: LOCAL\nsshd: 10.0.0.0/8\n");
    for (const std::string& c : others) {
        CHECK_INT(c.size(), p.content.size(), "same size");
        CHECK(!stamps.passed(p.path, p.stamp, c), "other content, same size: '" + c + "'");
    }
    CHECK(!stamps.passed(p.path, p.stamp, ""), "empty content");
    CHECK(!stamps.passed(p.path, p.stamp, p.content + "x"), "one byte more");
    CHECK(stamps.passed(p.path, p.stamp, p.content), "the recorded content still passes");
}

void other_path(void** state) {
    const TempDir& d = dirs(state);
    CheckedStamps stamps(kKind, d.checked);
    Policy p = make_policy(state);
    std::string file = record_and_check(stamps, p);
    const std::string others[] = {d.path + "/hosts.deny", "hosts.allow", d.path + "//hosts.allow",
                                  d.path + "/./hosts.allow", "/etc/hosts.allow"};
    for (const std::string& other : others) {
        CHECK(!stamps.passed(other, p.stamp, p.content), "no stamp for " + other);
        // The valid stamp's bytes under the other path's name: the text
        // names the path, so it is still refused.
        std::string copy = d.checked + "/" + stamps.name_for(other);
        CHECK(copy != file, "another name for " + other);
        write_bytes(copy, read_bytes(file));
        CHECK(!stamps.passed(other, p.stamp, p.content), "copied stamp for " + other);
        must(::unlink(copy.c_str()) == 0, "unlink " + copy);
    }
    // A path with a newline could forge a line of the stamp's text.
    CHECK(!stamps.record(p.path + "\nmode 0", p.stamp, p.content), "record: newline in path");
    CHECK(!stamps.passed(p.path + "\nmode 0", p.stamp, p.content), "passed: newline in path");
}

void other_file_stamp(void** state) {
    CheckedStamps stamps(kKind, dirs(state).checked);
    Policy p = make_policy(state);
    record_and_check(stamps, p);
    struct Row {
        const char* field;
        void (*change)(FileStamp*);
    };
    const Row rows[] = {
        {"dev", [](FileStamp* s) { s->dev += 1; }},
        {"ino", [](FileStamp* s) { s->ino += 1; }},
        {"size", [](FileStamp* s) { s->size += 1; }},
        {"mtime", [](FileStamp* s) { s->mtime_ns += 1; }},
        {"mtime by a second", [](FileStamp* s) { s->mtime_ns -= 1000000000; }},
        {"ctime", [](FileStamp* s) { s->ctime_ns += 1; }},
        {"mode", [](FileStamp* s) { s->mode ^= 0020; }},
        {"uid", [](FileStamp* s) { s->uid = kNobody; }},
    };
    for (const Row& r : rows) {
        FileStamp s = p.stamp;
        r.change(&s);
        CHECK(!stamps.passed(p.path, s, p.content), std::string("another ") + r.field);
    }
    // And for real: chmod changes the mode and the ctime; the stamp of the
    // file as it now is no longer matches.
    must(::chmod(p.path.c_str(), 0600) == 0, "chmod");
    CHECK(!stamps.passed(p.path, ringfence::core::stamp_of(p.path), p.content), "the file chmodded");
    CHECK(stamps.passed(p.path, p.stamp, p.content), "the old stamp still matches its record");
}

void other_kind(void** state) {
    const TempDir& d = dirs(state);
    CheckedStamps stamps(kKind, d.checked);
    Policy p = make_policy(state);
    std::string file = record_and_check(stamps, p);
    const std::string kinds[] = {"access.conf fieldsep=: listsep=,", "hosts_access ", "Hosts_access", ""};
    for (const std::string& kind : kinds) {
        CheckedStamps other(kind, d.checked);
        CHECK(!other.passed(p.path, p.stamp, p.content), "no stamp of kind '" + kind + "'");
        std::string copy = d.checked + "/" + other.name_for(p.path);
        CHECK(copy != file, "another name for kind '" + kind + "'");
        write_bytes(copy, read_bytes(file));
        CHECK(!other.passed(p.path, p.stamp, p.content), "copied stamp of kind '" + kind + "'");
        must(::unlink(copy.c_str()) == 0, "unlink " + copy);
    }
}

void newer_record_replaces(void** state) {
    CheckedStamps stamps(kKind, dirs(state).checked);
    Policy a = make_policy(state);
    record_and_check(stamps, a);
    Policy b = make_policy(state, "hosts.allow", "sshd: 192.168.0.0/16\n");
    CHECK(stamps.record(b.path, b.stamp, b.content), "record the new content");
    CHECK(stamps.passed(b.path, b.stamp, b.content), "the new content passes");
    CHECK(!stamps.passed(a.path, a.stamp, a.content), "the old content no longer passes");
    CHECK(entries(dirs(state).checked).size() == 1, "one stamp per path and kind");
}

void untrusted_stamp_file(void** state) {
    const TempDir& d = dirs(state);
    CheckedStamps stamps(kKind, d.checked);
    Policy p = make_policy(state);
    std::string file = record_and_check(stamps, p);
    const char* f = file.c_str();

    must(::chown(f, kNobody, 0) == 0, "chown");
    CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp owned by uid 65534");
    must(::chown(f, 0, kNobody) == 0, "chown");
    CHECK(stamps.passed(p.path, p.stamp, p.content), "stamp of group 65534, not group-writable: believed");
    must(::chown(f, 0, 0) == 0, "chown");

    const mode_t modes[] = {0664, 0646, 0666, 0660, 0622};
    for (mode_t m : modes) {
        must(::chmod(f, m) == 0, "chmod");
        CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp mode " + std::to_string(m));
    }
    must(::chmod(f, 0400) == 0, "chmod");
    CHECK(stamps.passed(p.path, p.stamp, p.content), "stamp mode 0400: believed");
    must(::chmod(f, 0644) == 0, "chmod");

    // A symbolic link to a valid stamp (root's, 0644) is not followed.
    std::string real = d.checked + "/real-stamp";
    must(::rename(f, real.c_str()) == 0, "rename");
    must(::symlink("real-stamp", f) == 0, "symlink");
    CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp is a symlink to a valid stamp");
    must(::unlink(f) == 0, "unlink");
    must(::symlink(real.c_str(), f) == 0, "symlink");
    CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp is an absolute symlink to a valid stamp");
    must(::unlink(f) == 0, "unlink");
    // A hard link is the same inode, root's: believed (nothing to refuse).
    must(::link(real.c_str(), f) == 0, "link");
    CHECK(stamps.passed(p.path, p.stamp, p.content), "stamp hard-linked: believed");
    must(::unlink(f) == 0 && ::rename(real.c_str(), f) == 0, "rename back");
    CHECK(stamps.passed(p.path, p.stamp, p.content), "renamed back: believed again");

    // Not a regular file.
    std::string text = read_bytes(file);
    must(::unlink(f) == 0 && ::mkdir(f, 0755) == 0, "mkdir in place of the stamp");
    CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp is a directory");
    must(::rmdir(f) == 0 && ::mkfifo(f, 0644) == 0, "mkfifo in place of the stamp");
    CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp is a FIFO (and passed() does not block)");
    must(::unlink(f) == 0, "unlink");
    write_bytes(file, "");
    CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp is empty");
    write_bytes(file, text.substr(0, text.size() - 1));
    CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp without its last newline");
    write_bytes(file, text + "\n");
    CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp with a line more");
    write_bytes(file, text);
    CHECK(stamps.passed(p.path, p.stamp, p.content), "rewritten with its own bytes: believed");
}

void oversized_stamp(void** state) {
    const TempDir& d = dirs(state);
    CheckedStamps stamps(kKind, d.checked);
    Policy p = make_policy(state);
    std::string file = record_and_check(stamps, p);
    std::string text = read_bytes(file);
    // Valid text, then padding to 4097 bytes and more.
    for (size_t size : {size_t(4097), size_t(5000), size_t(1) << 20}) {
        write_bytes(file, text + std::string(size - text.size(), '\n'));
        CHECK(!stamps.passed(p.path, p.stamp, p.content), "stamp of " + std::to_string(size) + " bytes");
    }
    // A stamp whose own text would be longer than 4096 bytes (a long path)
    // could never be believed (the reader stops at 4096 bytes): record()
    // does not write it, and one put there by hand is not believed.
    std::string sub = d.path;
    for (int i = 0; i < 20; ++i) {
        sub += "/" + std::string(200, static_cast<char>('a' + i));
        must(::mkdir(sub.c_str(), 0755) == 0, "mkdir " + sub);
    }
    Policy longp;
    longp.path = sub + "/hosts.allow";
    longp.content = p.content;
    write_bytes(longp.path, longp.content);
    longp.stamp = ringfence::core::stamp_of(longp.path);
    CHECK(longp.stamp.exists, "stamp_of a long path");
    CHECK(!stamps.record(longp.path, longp.stamp, longp.content), "record() refuses a stamp over 4096 bytes");
    std::string longfile = d.checked + "/" + stamps.name_for(longp.path);
    CHECK(!exists(longfile), "record() wrote no long stamp");
    // The bytes it would have written: the short stamp's, with the long path.
    std::string long_text = text;
    size_t at = long_text.find("file " + p.path + "\n");
    must(at != std::string::npos, "the stamp names its file");
    long_text.replace(at + 5, p.path.size(), longp.path);
    write_bytes(longfile, long_text);
    CHECK(read_bytes(longfile).size() > 4096, "the long stamp is over 4096 bytes");
    CHECK(!stamps.passed(longp.path, longp.stamp, longp.content), "a stamp over 4096 bytes is not believed");
    // Just under 4096 bytes is read whole.
    size_t fixed = text.size() - p.path.size();
    // The path length that makes the stamp 4092 bytes: the numbers of
    // another file (inode, times) may be a digit or two longer.
    size_t want = 4092 - fixed;
    std::string midpath = d.path + "/";
    while (midpath.size() + 200 + 1 < want) {
        midpath += std::string(200, 'z');
        must(::mkdir(midpath.c_str(), 0755) == 0 || errno == EEXIST, "mkdir " + midpath);
        midpath += "/";
    }
    midpath += std::string(want - midpath.size(), 'y');
    Policy midp;
    midp.path = midpath;
    midp.content = p.content;
    write_bytes(midp.path, midp.content);
    midp.stamp = ringfence::core::stamp_of(midp.path);
    CHECK(stamps.record(midp.path, midp.stamp, midp.content), "record a stamp of 4096 bytes");
    std::string midfile = d.checked + "/" + stamps.name_for(midp.path);
    size_t midsize = read_bytes(midfile).size();
    CHECK(midsize <= 4096 && midsize > 4080, "the stamp is about 4096 bytes: " + std::to_string(midsize));
    CHECK(stamps.passed(midp.path, midp.stamp, midp.content), "a stamp of up to 4096 bytes is believed");
}

void untrusted_directory(void** state) {
    const TempDir& d = dirs(state);
    CheckedStamps stamps(kKind, d.checked);
    Policy p = make_policy(state);
    record_and_check(stamps, p);
    const char* dir = d.checked.c_str();
    const mode_t modes[] = {0775, 0757, 0777, 01777, 0770};
    for (mode_t m : modes) {
        must(::chmod(dir, m) == 0, "chmod dir");
        CHECK(!stamps.passed(p.path, p.stamp, p.content), "directory mode " + std::to_string(m));
    }
    must(::chmod(dir, 0700) == 0, "chmod dir");
    CHECK(stamps.passed(p.path, p.stamp, p.content), "directory 0700: believed");
    must(::chmod(dir, 0755) == 0, "chmod dir");
    must(::chown(dir, kNobody, 0) == 0, "chown dir");
    CHECK(!stamps.passed(p.path, p.stamp, p.content), "directory owned by uid 65534");
    must(::chown(dir, 0, 0) == 0, "chown dir");
    CHECK(stamps.passed(p.path, p.stamp, p.content), "directory root's again: believed");
    CHECK(!CheckedStamps(kKind, d.path + "/nothing").passed(p.path, p.stamp, p.content), "no directory");
    // Not a directory.
    CHECK(!CheckedStamps(kKind, p.path).passed(p.path, p.stamp, p.content), "the directory is a file");
}

void record_refused(void** state) {
    const TempDir& d = dirs(state);
    Policy p = make_policy(state);
    const char* dir = d.checked.c_str();
    CheckedStamps stamps(kKind, d.checked);
    std::string file = d.checked + "/" + stamps.name_for(p.path);
    struct Row {
        mode_t mode;
        uid_t uid;
    };
    const Row rows[] = {{0757, 0}, {0777, 0}, {01777, 0}, {0775, 0}, {0755, kNobody}};
    for (const Row& r : rows) {
        must(::chmod(dir, r.mode) == 0 && ::chown(dir, r.uid, 0) == 0, "chmod/chown dir");
        std::string row = "directory mode " + std::to_string(r.mode) + " uid " + std::to_string(r.uid);
        CHECK(!stamps.record(p.path, p.stamp, p.content), row);
        CHECK(entries(d.checked).empty(), row + ": nothing written");
    }
    must(::chmod(dir, 0755) == 0 && ::chown(dir, 0, 0) == 0, "chmod/chown dir");

    // A directory that does not exist is not made (only the default one is).
    const std::string missing[] = {d.path + "/missing", d.path + "/missing/checked"};
    for (const std::string& m : missing) {
        CheckedStamps s(kKind, m);
        CHECK(!s.record(p.path, p.stamp, p.content), "record into " + m);
        CHECK(!exists(d.path + "/missing"), m + ": not created");
    }
    // A file where the directory should be.
    CHECK(!CheckedStamps(kKind, p.path).record(p.path, p.stamp, p.content), "record into a file");
    // A missing file (exists false) is not recorded.
    FileStamp none = p.stamp;
    none.exists = false;
    CHECK(!stamps.record(p.path, none, p.content), "record: FileStamp.exists false");
    CHECK(entries(d.checked).empty(), "nothing written");
    // The control: the same record into the trusted directory is written.
    CHECK(stamps.record(p.path, p.stamp, p.content), "control: trusted directory");
    CHECK(exists(file), "control: written");
}

// Runs record() in a child whose uids are all 65534. With keep_caps the
// child keeps root's capabilities (SECBIT_NO_SETUID_FIXUP), so it could
// still write the directory: then only record()'s own uid check stops it.
// Returns the child's exit status: 0 record() refused, 1 it said written,
// 2 setup failed, or -1.
int record_as_nobody(const CheckedStamps& stamps, const Policy& p, bool keep_caps) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        if (keep_caps && ::prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP) != 0) {
            _exit(2);
        }
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
            ::setresuid(kNobody, kNobody, kNobody) != 0 || ::geteuid() != kNobody) {
            _exit(2);
        }
        bool wrote = false;
        try {
            wrote = stamps.record(p.path, p.stamp, p.content);
        } catch (...) {
            _exit(3);
        }
        _exit(wrote ? 1 : 0);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void record_not_root(void** state) {
    const TempDir& d = dirs(state);
    CheckedStamps stamps(kKind, d.checked);
    Policy p = make_policy(state);
    for (bool keep_caps : {false, true}) {
        std::string row = keep_caps ? "uid 65534 with capabilities" : "uid 65534";
        CHECK_INT(record_as_nobody(stamps, p, keep_caps), 0, row + ": record() refuses");
        CHECK(entries(d.checked).empty(), row + ": no file appeared");
    }
    // The control: root in the same directory writes.
    CHECK(stamps.record(p.path, p.stamp, p.content), "control: root writes");
    CHECK(entries(d.checked).size() == 1, "control: one file");
}

void dir_from_environment(void** state) {
    const TempDir& d = dirs(state);
    Policy p = make_policy(state);
    CHECK(CheckedStamps(kKind, d.checked).record(p.path, p.stamp, p.content), "record");

    must(::setenv("RINGFENCE_CHECKED_DIR", "off", 1) == 0, "setenv");
    CHECK_STR(ringfence::core::checked_dir(), "", "RINGFENCE_CHECKED_DIR=off");
    CheckedStamps off(kKind);
    CHECK(!off.enabled(), "off: not enabled");
    CHECK(off.dir().empty(), "off: no directory");
    CHECK(!off.passed(p.path, p.stamp, p.content), "off: nothing passes");
    CHECK(!off.record(p.path, p.stamp, p.content), "off: nothing recorded");

    must(::setenv("RINGFENCE_CHECKED_DIR", d.checked.c_str(), 1) == 0, "setenv");
    CHECK_STR(ringfence::core::checked_dir(), d.checked, "RINGFENCE_CHECKED_DIR=dir");
    CheckedStamps on(kKind);
    CHECK(on.enabled(), "dir: enabled");
    CHECK(on.passed(p.path, p.stamp, p.content), "dir from the environment: believed");

    must(::setenv("RINGFENCE_CHECKED_DIR", "", 1) == 0, "setenv");
    CHECK_STR(ringfence::core::checked_dir(), ringfence::core::kCheckedDir, "RINGFENCE_CHECKED_DIR empty");
    must(::setenv("RINGFENCE_CHECKED_DIR", "OFF", 1) == 0, "setenv");
    CHECK_STR(ringfence::core::checked_dir(), "OFF", "only 'off' means off");
    must(::unsetenv("RINGFENCE_CHECKED_DIR") == 0, "unsetenv");
    CHECK_STR(ringfence::core::checked_dir(), ringfence::core::kCheckedDir, "RINGFENCE_CHECKED_DIR unset");
    // An explicit empty directory is off as well.
    CHECK(!CheckedStamps(kKind, "").enabled(), "empty dir: not enabled");
}

void hash_single_byte_changes(void**) {
    std::string base;
    for (int i = 0; i < 100; ++i) {
        base += static_cast<char>('A' + (i * 7) % 26);
    }
    const uint64_t h = content_hash(base);
    CHECK(h == content_hash(std::string(base)), "the hash is a function of the bytes");
    std::set<uint64_t> seen{h};
    size_t variants = 1;
    for (size_t pos = 0; pos < base.size(); ++pos) {
        for (unsigned char x : {0x01, 0x80, 0xff}) {
            std::string c = base;
            c[pos] = static_cast<char>(static_cast<unsigned char>(c[pos]) ^ x);
            uint64_t v = content_hash(c);
            CHECK(v != h, "byte " + std::to_string(pos) + " xor " + std::to_string(x));
            seen.insert(v);
            ++variants;
        }
    }
    CHECK_INT(seen.size(), variants, "no two of the one-byte variants share a hash");
}

void hash_lengths(void**) {
    std::string prefix;
    for (int i = 0; i < 64; ++i) {
        prefix += static_cast<char>(i * 37 + 11);
    }
    for (char fill : {'\0', 'a'}) {
        std::set<uint64_t> seen;
        for (size_t n = 0; n <= 64; ++n) {
            seen.insert(content_hash(std::string_view(prefix.data(), n)));
        }
        CHECK_INT(seen.size(), 65, "lengths 0..64 of one prefix");
        // Zero bytes and repeated bytes: the length alone must tell them apart.
        seen.clear();
        for (size_t n = 0; n <= 64; ++n) {
            seen.insert(content_hash(std::string(n, fill)));
        }
        CHECK_INT(seen.size(), 65, std::string("lengths 0..64 of one repeated byte ") + (fill ? "'a'" : "NUL"));
    }
    // Blocks swapped (the 32-byte lanes) and words swapped (the 8-byte tail).
    std::string a(64, 'x');
    a.replace(0, 32, std::string(32, 'p'));
    std::string b(64, 'x');
    b.replace(32, 32, std::string(32, 'p'));
    CHECK(content_hash(a) != content_hash(b), "32-byte blocks swapped");
    std::string w1 = std::string(8, 'p') + std::string(8, 'q');
    std::string w2 = std::string(8, 'q') + std::string(8, 'p');
    CHECK(content_hash(w1) != content_hash(w2), "8-byte words swapped");
}

void names(void**) {
    CheckedStamps stamps(kKind, "/nonexistent");
    const std::string paths[] = {
        "/etc/hosts.allow",
        "/etc/hosts.deny",
        "hosts.allow",
        "./hosts.allow",
        "/etc//hosts.allow",
        "/srv/etc/hosts.allow",
        "/etc/hosts.allow/",
        "/etc/.hidden",
        "/",
        "",
        "..",
        "/etc/" + std::string(60, 'x') + "1",
        "/etc/" + std::string(60, 'x') + "2",
        "/etc/a b",
        "/etc/a_b",
        "/etc/a\tb",
    };
    std::set<std::string> seen;
    for (const std::string& path : paths) {
        std::string n = stamps.name_for(path);
        CHECK(n == stamps.name_for(path), "name_for is stable: " + path);
        CHECK(!n.empty(), "non-empty name: " + path);
        CHECK(n.find('/') == std::string::npos, "no '/' in the name of '" + path + "': " + n);
        CHECK(n[0] != '.', "no leading dot in the name of '" + path + "': " + n);
        CHECK(n != "..", "not ..");
        CHECK(n.size() < 100, "a short name: " + n);
        for (char ch : n) {
            CHECK(ch > ' ' && ch < 0x7f, "printable name: " + n);
        }
        CHECK(seen.insert(n).second, "a name of its own for '" + path + "': " + n);
    }
    // The admin who lists the directory sees which file it is for.
    CHECK(stamps.name_for("/etc/hosts.allow").rfind("hosts.allow-", 0) == 0, stamps.name_for("/etc/hosts.allow"));
    // Another check of the same path: another name.
    CHECK(CheckedStamps("access.conf", "/nonexistent").name_for("/etc/hosts.allow") !=
              stamps.name_for("/etc/hosts.allow"),
          "the kind is part of the name");
}

}  // namespace

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

int main() {
    const struct CMUnitTest tests[] = {
        TEST(round_trip),         TEST(other_content_same_size), TEST(other_path),
        TEST(other_file_stamp),   TEST(other_kind),              TEST(newer_record_replaces),
        TEST(untrusted_stamp_file), TEST(oversized_stamp),       TEST(untrusted_directory),
        TEST(record_refused),     TEST(record_not_root),         TEST(dir_from_environment),
        cmocka_unit_test(hash_single_byte_changes), cmocka_unit_test(hash_lengths),
        cmocka_unit_test(names),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("checked_stamp", tests, nullptr, nullptr);
}
