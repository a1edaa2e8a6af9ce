// SPDX-License-Identifier: BSD-3-Clause
// Atomic file replacement relative to a directory descriptor (see atomic_file.h).
#include "core/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>

#include "core/rooted_path.h"

namespace ringfence::core {

namespace {

constexpr const char kTempPrefix[] = ".RINGFENCE-TMP-";
constexpr size_t kTempPrefixLen = sizeof kTempPrefix - 1;
constexpr const char kOldTempInfix[] = ".ringfence-";  // 0.1: NAME.ringfence-XXXXXX (mkstemp)

std::string random_suffix() {
    static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char raw[8];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += static_cast<size_t>(n);
    }
    if (got < sizeof raw) {  // no getrandom: still unique enough with the pid and O_EXCL
        unsigned v = static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(::time(nullptr));
        for (unsigned char& c : raw) {
            v = v * 1103515245u + 12345u;
            c = static_cast<unsigned char>(v >> 16);
        }
    }
    std::string s;
    for (unsigned char c : raw) {
        s += kChars[c % (sizeof kChars - 1)];
    }
    return s;
}

std::string temp_name() { return kTempPrefix + std::to_string(::getpid()) + "-" + random_suffix(); }

bool write_all(int fd, const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

// Mode, owner, label, content, fsync. Returns 0 or errno with *error.
int fill(int fd, const std::string& bytes, const NewFileAttrs& attrs, const std::string& shown, std::string* error) {
    auto fail = [&](const char* what) {
        int e = errno;
        *error = shown + ": " + what + ": " + std::strerror(e);
        return e;
    };
    if (::fchmod(fd, attrs.mode) != 0) {
        return fail("cannot set the mode of the new file");
    }
    if (attrs.set_owner) {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && (st.st_uid != attrs.uid || st.st_gid != attrs.gid) &&
            ::fchown(fd, attrs.uid, attrs.gid) != 0) {
            return fail("cannot give the new file the owner of the old one");
        }
        // fchown may clear set-id bits: set the mode again.
        if (::fchmod(fd, attrs.mode) != 0) {
            return fail("cannot set the mode of the new file");
        }
    }
    // Keep the SELinux label (a new file would get the directory's
    // default). No SELinux: nothing to do.
    if (!attrs.selinux_label.empty() &&
        ::fsetxattr(fd, "security.selinux", attrs.selinux_label.data(), attrs.selinux_label.size(), 0) != 0 &&
        errno != ENOTSUP && errno != EOPNOTSUPP) {
        return fail("cannot copy the SELinux label of the old file");
    }
    if (!write_all(fd, bytes)) {
        return fail("write error");
    }
    if (::fsync(fd) != 0) {
        return fail("fsync");
    }
    return 0;
}

void sync_directory(int dirfd) {
    int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

bool all_alnum(const std::string& s) {
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

// The pid in ".RINGFENCE-TMP-<pid>-...", or -1.
pid_t temp_owner(const std::string& name) {
    if (name.compare(0, kTempPrefixLen, kTempPrefix) != 0) {
        return -1;
    }
    size_t dash = name.find('-', kTempPrefixLen);
    if (dash == std::string::npos || dash == kTempPrefixLen) {
        return -1;
    }
    std::string digits = name.substr(kTempPrefixLen, dash - kTempPrefixLen);
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) {
        return -1;
    }
    return static_cast<pid_t>(std::atol(digits.c_str()));
}

}  // namespace

bool is_temporary_name(const std::string& name) {
    if (temp_owner(name) > 0) {
        return true;
    }
    size_t n = std::strlen(kOldTempInfix);
    return name.size() > n + 6 && name.compare(name.size() - 6 - n, n, kOldTempInfix) == 0 &&
           all_alnum(name.substr(name.size() - 6));
}

int replace_file_at(int dirfd, const std::string& name, const std::string& bytes, const NewFileAttrs& attrs,
                    const std::string& shown, std::string* error) {
    std::string tmp;
    // An unnamed file first: a kill while writing leaves nothing behind.
    UniqueFd fd(::openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
    if (fd) {
        if (int e = fill(fd.get(), bytes, attrs, shown, error)) {
            return e;
        }
        for (int attempt = 0; attempt < 16 && tmp.empty(); ++attempt) {
            std::string candidate = temp_name();
            int rc = ::linkat(fd.get(), "", dirfd, candidate.c_str(), AT_EMPTY_PATH);
            if (rc != 0 && (errno == ENOENT || errno == EPERM)) {
                // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc does not.
                std::string self = "/proc/self/fd/" + std::to_string(fd.get());
                rc = ::linkat(AT_FDCWD, self.c_str(), dirfd, candidate.c_str(), AT_SYMLINK_FOLLOW);
            }
            if (rc == 0) {
                tmp = candidate;
            } else if (errno != EEXIST) {
                int e = errno;
                *error = shown + ": cannot link the new file into its directory: " + std::strerror(e);
                return e;
            }
        }
    } else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOENT) {
        // No O_TMPFILE here: a named temporary file, removed on failure.
        for (int attempt = 0; attempt < 16 && !fd; ++attempt) {
            std::string candidate = temp_name();
            fd.reset(::openat(dirfd, candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (fd) {
                tmp = candidate;
            } else if (errno != EEXIST) {
                int e = errno;
                *error = shown + ": cannot create a temporary file beside it: " + std::strerror(e);
                return e;
            }
        }
        if (fd) {
            if (int e = fill(fd.get(), bytes, attrs, shown, error)) {
                ::unlinkat(dirfd, tmp.c_str(), 0);
                return e;
            }
        }
    } else {
        int e = errno;
        *error = shown + ": cannot create a temporary file beside it: " + std::strerror(e);
        return e;
    }
    if (tmp.empty()) {
        *error = shown + ": cannot find a free temporary name beside it";
        return EEXIST;
    }
    if (::close(fd.release()) != 0) {
        int e = errno;
        ::unlinkat(dirfd, tmp.c_str(), 0);
        *error = shown + ": close: " + std::strerror(e);
        return e;
    }
    if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
        int e = errno;
        ::unlinkat(dirfd, tmp.c_str(), 0);
        *error = shown + ": cannot rename the new file over it: " + std::strerror(e);
        return e;
    }
    sync_directory(dirfd);
    return 0;
}

int replace_file(const std::string& path, const std::string& bytes, const NewFileAttrs& attrs, std::string* error) {
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (name.empty() || name == "." || name == "..") {
        *error = path + ": not a file name";
        return EINVAL;
    }
    UniqueFd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd) {
        int e = errno;
        *error = dir + ": " + std::strerror(e);
        return e;
    }
    return replace_file_at(dirfd.get(), name, bytes, attrs, path, error);
}

std::vector<std::string> remove_stale_temporaries(int dirfd) {
    std::vector<std::string> removed;
    int rfd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0) {
        return removed;
    }
    DIR* d = ::fdopendir(rfd);
    if (d == nullptr) {
        ::close(rfd);
        return removed;
    }
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (is_temporary_name(n)) {
            names.push_back(n);
        }
    }
    ::closedir(d);
    for (const std::string& n : names) {
        pid_t owner = temp_owner(n);
        if (owner > 0 && (owner == ::getpid() || ::kill(owner, 0) == 0 || errno == EPERM)) {
            continue;  // a run still in progress
        }
        struct stat st {};
        if (owner <= 0) {
            // 0.1's NAME.ringfence-XXXXXX: only beside the NAME it replaced
            // (or beside the file whose backup NAME was).
            std::string base = n.substr(0, n.size() - std::strlen(kOldTempInfix) - 6);
            const std::string bak = ".ringfence-bak";
            if (base.size() > bak.size() && base.compare(base.size() - bak.size(), bak.size(), bak) == 0 &&
                ::fstatat(dirfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                base.resize(base.size() - bak.size());
            }
            if (::fstatat(dirfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                continue;
            }
        }
        if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            (::geteuid() != 0 && st.st_uid != ::geteuid())) {
            continue;  // not a file this program would have written
        }
        if (::unlinkat(dirfd, n.c_str(), 0) == 0) {
            removed.push_back(n);
        }
    }
    if (!removed.empty()) {
        sync_directory(dirfd);
    }
    return removed;
}

}  // namespace ringfence::core
