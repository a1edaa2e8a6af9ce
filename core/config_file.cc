// SPDX-License-Identifier: BSD-3-Clause
// Safe reading of configuration files.
#include "core/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

ReadResult read_config_file(const std::string& path, const ReadLimits& limits) {
    Fd f{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
    if (f.fd < 0) {
        int err = errno;
        if (err == ENOENT) {
            ReadResult r;
            r.status = ReadStatus::missing;
            r.text.path = path;
            return r;
        }
        if (err == ELOOP) {
            return fail(path, "refusing to read a symbolic link", "point the configuration at the real file");
        }
        return fail(path, std::string("cannot open: ") + std::strerror(err));
    }
    struct stat st;
    if (::fstat(f.fd, &st) != 0) {
        return fail(path, std::string("cannot stat: ") + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(path, "not a regular file");
    }
    if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
        return fail(path, "refusing a file owned by uid " + std::to_string(st.st_uid) + " (it must be owned by root)",
                    "chown root " + path);
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return fail(path, "refusing a file that is writable by group or others", "chmod go-w " + path);
    }
    if (static_cast<uint64_t>(st.st_size) > limits.max_bytes) {
        return fail(path, "file is larger than " + std::to_string(limits.max_bytes) + " bytes");
    }

    std::string data;
    data.reserve(static_cast<size_t>(st.st_size));
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(path, std::string("read error: ") + std::strerror(errno));
        }
        if (n == 0) {
            break;
        }
        if (data.size() + static_cast<size_t>(n) > limits.max_bytes) {
            return fail(path, "file is larger than " + std::to_string(limits.max_bytes) + " bytes");
        }
        data.append(buf, static_cast<size_t>(n));
    }

    ReadResult r;
    r.status = ReadStatus::ok;
    r.text.path = path;
    r.text.stamp = stamp_from(st);
    size_t start = 0;
    int line_no = 0;
    while (start < data.size()) {
        ++line_no;
        size_t nl = data.find('\n', start);
        size_t end = nl == std::string::npos ? data.size() : nl;
        if (end - start > limits.max_line_bytes) {
            ReadResult e = fail(path, "line is longer than " + std::to_string(limits.max_line_bytes) + " bytes");
            e.error.line = line_no;
            return e;
        }
        std::string line = data.substr(start, end - start);
        size_t nul = line.find('\0');
        if (nul != std::string::npos) {
            ReadResult e = fail(path, "NUL byte in line", "this does not look like a text file");
            e.error.line = line_no;
            e.error.column = static_cast<int>(nul) + 1;
            return e;
        }
        r.text.lines.push_back(std::move(line));
        if (nl == std::string::npos) {
            break;
        }
        start = nl + 1;
    }
    return r;
}

}  // namespace ringfence::core
