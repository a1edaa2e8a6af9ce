// SPDX-License-Identifier: BSD-3-Clause
#include "core/checked_stamp.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/atomic_file.h"
#include "core/paths.h"
#include "core/program.h"
#include "core/rooted_path.h"

namespace ringfence::core {

namespace {

constexpr uint64_t kMul1 = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio
constexpr uint64_t kMul2 = 0xbf58476d1ce4e5b9ULL;
constexpr uint64_t kMul3 = 0x94d049bb133111ebULL;
constexpr size_t kMaxStampBytes = 4096;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t load64(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline uint64_t mix(uint64_t acc, uint64_t word) { return rotl(acc + word * kMul2, 31) * kMul1; }

// Owned by root and writable by nobody else.
bool trusted(const struct stat& st) { return st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0; }

std::string hex64(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

uint64_t content_hash(std::string_view bytes) {
    const char* p = bytes.data();
    size_t n = bytes.size();
    // Four independent lanes over 32-byte blocks (the multiplies overlap),
    // then the tail a word and a byte at a time, then a final avalanche.
    uint64_t lane[4] = {kMul1, kMul2, kMul3, ~kMul1};
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int k = 0; k < 4; ++k) {
            lane[k] = mix(lane[k], load64(p + i + 8 * k));
        }
    }
    uint64_t h = rotl(lane[0], 1) + rotl(lane[1], 7) + rotl(lane[2], 12) + rotl(lane[3], 18) + n;
    for (; i + 8 <= n; i += 8) {
        h = rotl(h ^ mix(0, load64(p + i)), 27) * kMul1 + kMul3;
    }
    for (; i < n; ++i) {
        h = rotl(h ^ (static_cast<unsigned char>(p[i]) * kMul3), 11) * kMul1;
    }
    h ^= h >> 31;
    h *= kMul2;
    h ^= h >> 29;
    h *= kMul3;
    h ^= h >> 32;
    return h;
}

std::string checked_dir() {
    const char* env = ::secure_getenv("RINGFENCE_CHECKED_DIR");
    if (env == nullptr || *env == '\0') {
        return kCheckedDir;
    }
    if (std::strcmp(env, "off") == 0) {
        return "";
    }
    return env;
}

CheckedStamps::CheckedStamps(std::string kind, std::string dir) : kind_(std::move(kind)), dir_(std::move(dir)) {}

std::string CheckedStamps::name_for(const std::string& path) const {
    std::string key = kind_;
    key += '\n';
    key += path;
    size_t slash = path.rfind('/');
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    // A readable part for the admin who lists the directory, then the key.
    std::string shown;
    for (char ch : base.substr(0, 40)) {
        // ASCII only, whatever the locale: every process must find the same name.
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                     ch == '-' || ch == '_';
        shown += plain ? ch : '_';
    }
    if (shown.empty() || shown[0] == '.') {
        shown.insert(0, "f");
    }
    return shown + "-" + hex64(content_hash(key));
}

std::string CheckedStamps::expected(const std::string& path, const FileStamp& s, std::string_view content) const {
    std::string r = "ringfence checked stamp 1\n";
    r += "version " + std::string(version()) + "\n";
    r += "check " + kind_ + "\n";
    r += "file " + path + "\n";
    r += "dev " + std::to_string(static_cast<unsigned long long>(s.dev)) + " ino " +
         std::to_string(static_cast<unsigned long long>(s.ino)) + " size " + std::to_string(s.size) + "\n";
    r += "mtime " + std::to_string(s.mtime_ns) + " ctime " + std::to_string(s.ctime_ns) + "\n";
    r += "mode " + std::to_string(s.mode) + " uid " + std::to_string(s.uid) + "\n";
    r += "hash " + hex64(content_hash(content)) + "\n";
    return r;
}

bool CheckedStamps::passed(const std::string& path, const FileStamp& stamp, std::string_view content) const {
    if (dir_.empty() || !stamp.exists || path.find('\n') != std::string::npos) {
        return false;
    }
    UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st;
    if (dir.get() < 0 || ::fstat(dir.get(), &st) != 0 || !trusted(st)) {
        return false;
    }
    UniqueFd fd(::openat(dir.get(), name_for(path).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !trusted(st) ||
        st.st_size <= 0 || static_cast<size_t>(st.st_size) > kMaxStampBytes) {
        return false;
    }
    char buf[kMaxStampBytes + 1];
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t n = ::read(fd.get(), buf + got, sizeof buf - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += static_cast<size_t>(n);
    }
    // Hashes the content only when a stamp is there to compare with.
    return std::string_view(buf, got) == expected(path, stamp, content);
}

bool CheckedStamps::record(const std::string& path, const FileStamp& stamp, std::string_view content) const {
    if (dir_.empty() || !stamp.exists || ::geteuid() != 0 || path.find('\n') != std::string::npos) {
        return false;
    }
    if (dir_ == kCheckedDir) {
        // The default directory is made here (it lives in /run, gone at
        // boot); any other must have been made by root beforehand.
        std::string parent = dir_.substr(0, dir_.rfind('/'));
        if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
            return false;
        }
        if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) {
            return false;
        }
    }
    UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st;
    if (dir.get() < 0 || ::fstat(dir.get(), &st) != 0 || !trusted(st)) {
        return false;
    }
    std::string bytes = expected(path, stamp, content);
    if (bytes.size() > kMaxStampBytes) {
        return false;  // passed() would never believe it (a very long path)
    }
    if (passed(path, stamp, content)) {
        return true;  // already there: no write (one file may be stamped while another is not)
    }
    NewFileAttrs attrs;
    attrs.mode = 0644;
    std::string error;
    return replace_file_at(dir.get(), name_for(path), bytes, attrs, dir_ + "/" + name_for(path), &error) == 0;
}

}  // namespace ringfence::core
