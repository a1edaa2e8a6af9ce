// SPDX-License-Identifier: BSD-3-Clause
// Safe reading of configuration files.
#include "core/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ringfence::core {

namespace {

int64_t mtime_ns_of(const struct stat& st) {
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

FileStamp stamp_from(const struct stat& st) {
    FileStamp s;
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime_ns = mtime_ns_of(st);
    s.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
    s.mode = st.st_mode;
    s.uid = st.st_uid;
    s.exists = true;
    return s;
}

ReadResult fail(const std::string& path, std::string message, std::string hint = "") {
    ReadResult r;
    r.status = ReadStatus::error;
    r.error.file = path;
    r.error.message = std::move(message);
    r.error.hint = std::move(hint);
    return r;
}

// Closes the descriptor on every path out.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

}  // namespace

FileStamp stamp_of(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
        return FileStamp{};
    }
    return stamp_from(st);
}

BufferResult read_config_buffer(const std::string& path, const ReadLimits& limits) {
    auto fail_buffer = [&](const ReadResult& e) {
        BufferResult b;
        b.status = ReadStatus::error;
        b.error = e.error;
        return b;
    };
    Fd f{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
    if (f.fd < 0) {
        int err = errno;
        if (err == ENOENT) {
            BufferResult r;
            r.status = ReadStatus::missing;
            r.text.path = path;
            return r;
        }
        if (err == ELOOP) {
            return fail_buffer(fail(path, "refusing to read a symbolic link", "point the configuration at the real file"));
        }
        return fail_buffer(fail(path, std::string("cannot open: ") + std::strerror(err)));
    }
    struct stat st;
    if (::fstat(f.fd, &st) != 0) {
        return fail_buffer(fail(path, std::string("cannot stat: ") + std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) {
        return fail_buffer(fail(path, "not a regular file"));
    }
    if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
        return fail_buffer(fail(path,
                                "refusing a file owned by uid " + std::to_string(st.st_uid) +
                                    " (it must be owned by root)",
                                "chown root " + path));
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return fail_buffer(fail(path, "refusing a file that is writable by group or others", "chmod go-w " + path));
    }
    if (static_cast<uint64_t>(st.st_size) > limits.max_bytes) {
        return fail_buffer(fail(path, "file is larger than " + std::to_string(limits.max_bytes) + " bytes"));
    }

    // Read straight into the buffer (no bounce copy); it grows only if the
    // file grew since fstat.
    BufferResult r;
    std::string& data = r.text.data;
    data.resize(static_cast<size_t>(st.st_size) + 1);
    size_t used = 0;
    for (;;) {
        if (used == data.size()) {
            if (data.size() > limits.max_bytes) {
                return fail_buffer(fail(path, "file is larger than " + std::to_string(limits.max_bytes) + " bytes"));
            }
            data.resize(std::min(data.size() * 2, limits.max_bytes + 1));
        }
        ssize_t n = ::read(f.fd, &data[used], data.size() - used);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail_buffer(fail(path, std::string("read error: ") + std::strerror(errno)));
        }
        if (n == 0) {
            break;
        }
        used += static_cast<size_t>(n);
    }
    if (used > limits.max_bytes) {
        return fail_buffer(fail(path, "file is larger than " + std::to_string(limits.max_bytes) + " bytes"));
    }
    data.resize(used);

    // The line checks, without splitting. Usually no line is too long and
    // there is no NUL: one memchr for the NUL, and one memrchr per
    // max_line_bytes window (each window must hold a '\n'), prove it; only
    // a file that fails either is walked line by line, to name the line.
    bool fine = std::memchr(data.data(), '\0', data.size()) == nullptr;
    for (size_t pos = 0; fine && data.size() - pos > limits.max_line_bytes;) {
        const void* nl = memrchr(data.data() + pos, '\n', limits.max_line_bytes + 1);
        fine = nl != nullptr;
        pos = fine ? static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1 : pos;
    }
    size_t start = fine ? data.size() : 0;
    int line_no = 0;
    while (start < data.size()) {
        ++line_no;
        const char* nl_p = static_cast<const char*>(std::memchr(data.data() + start, '\n', data.size() - start));
        size_t nl = nl_p == nullptr ? std::string::npos : static_cast<size_t>(nl_p - data.data());
        size_t end = nl == std::string::npos ? data.size() : nl;
        if (end - start > limits.max_line_bytes) {
            ReadResult e = fail(path, "line is longer than " + std::to_string(limits.max_line_bytes) + " bytes");
            e.error.line = line_no;
            return fail_buffer(e);
        }
        const void* nul = std::memchr(data.data() + start, '\0', end - start);
        if (nul != nullptr) {
            ReadResult e = fail(path, "NUL byte in line", "this does not look like a text file");
            e.error.line = line_no;
            e.error.column = static_cast<int>(static_cast<const char*>(nul) - (data.data() + start)) + 1;
            return fail_buffer(e);
        }
        if (nl == std::string::npos) {
            break;
        }
        start = nl + 1;
    }
    r.status = ReadStatus::ok;
    r.text.path = path;
    r.text.stamp = stamp_from(st);
    return r;
}

ReadResult read_config_file(const std::string& path, const ReadLimits& limits) {
    BufferResult b = read_config_buffer(path, limits);
    ReadResult r;
    r.status = b.status;
    r.error = std::move(b.error);
    r.text.path = std::move(b.text.path);
    r.text.stamp = b.text.stamp;
    if (b.status != ReadStatus::ok) {
        return r;
    }
    const std::string& data = b.text.data;
    size_t start = 0;
    while (start < data.size()) {
        size_t nl = data.find('\n', start);
        size_t end = nl == std::string::npos ? data.size() : nl;
        r.text.lines.emplace_back(data, start, end - start);
        if (nl == std::string::npos) {
            break;
        }
        start = nl + 1;
    }
    return r;
}

}  // namespace ringfence::core
