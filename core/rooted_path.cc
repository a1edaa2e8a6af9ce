// SPDX-License-Identifier: BSD-3-Clause
// Path resolution inside a root directory (see rooted_path.h).
#include "core/rooted_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <vector>

namespace ringfence::core {

namespace {

// The kernel's own limit (MAXSYMLINKS).
constexpr int kMaxLinks = 40;
// Directories held open at once; deeper paths are refused (ENAMETOOLONG),
// so that a crafted tree cannot exhaust the descriptors.
constexpr size_t kMaxDepth = 256;

std::deque<std::string> components(const std::string& path) {
    std::deque<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) {
            j = path.size();
        }
        if (j > i) {
            out.push_back(path.substr(i, j - i));
        }
        i = j + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) {
        out += "/" + n;
    }
    return out.empty() ? "/" : out;
}

std::string child(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

}  // namespace

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

bool RootedTree::open(const std::string& root, std::string* error) {
    std::string r = root;
    while (r.size() > 1 && r.back() == '/') {
        r.pop_back();
    }
    if (r == "/") {
        r.clear();
    }
    int fd = ::open(r.empty() ? "/" : r.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        *error = (r.empty() ? "/" : r) + ": cannot open the directory: " + std::strerror(errno);
        return false;
    }
    root_.reset(fd);
    prefix_ = r;
    return true;
}

int RootedTree::resolve(const std::string& path, FinalLink final_link, RootedPath* out, std::string* error,
                        mode_t make_dirs_mode) const {
    return walk(path, final_link == FinalLink::follow ? Want::file_follow : Want::file_keep, make_dirs_mode, out,
                error);
}

int RootedTree::open_directory(const std::string& path, UniqueFd* out, std::string* resolved, std::string* error,
                               mode_t make_dirs_mode) const {
    RootedPath p;
    if (int e = walk(path, Want::directory, make_dirs_mode, &p, error)) {
        return e;
    }
    int fd = ::openat(p.dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        *error = host_path(p.path) + ": cannot open the directory: " + std::strerror(e);
        return e;
    }
    out->reset(fd);
    *resolved = p.path;
    return 0;
}

int RootedTree::walk(const std::string& path, Want want, mode_t make_dirs_mode, RootedPath* out,
                     std::string* error) const {
    if (!root_) {
        *error = "internal error: the root is not open";
        return EBADF;
    }
    if (path.empty() || path[0] != '/') {
        *error = "internal error: '" + path + "' is not an absolute path";
        return EINVAL;
    }
    // The directories entered so far below the root, as descriptors (so
    // that ".." goes back to the very directory we came from) and names.
    std::vector<UniqueFd> fds;
    std::vector<std::string> names;
    std::deque<std::string> todo = components(path);
    int links = 0;
    std::string last_link;  // for the message when there are too many
    auto cur = [&]() { return fds.empty() ? root_.get() : fds.back().get(); };
    auto fail = [&](int e, const std::string& where, const std::string& why) {
        *error = host_path(path) + ": " + why;
        std::string at = host_path(where);
        if (where != path) {
            *error += " (at " + at + ")";
        }
        return e;
    };

    while (!todo.empty()) {
        std::string c = std::move(todo.front());
        todo.pop_front();
        bool last = todo.empty() && want != Want::directory;
        if (c == "." || c == "..") {
            if (c == ".." && !fds.empty()) {
                fds.pop_back();
                names.pop_back();
            }
            if (last) {
                return fail(EISDIR, join(names), "names a directory, not a file");
            }
            continue;
        }
        std::string here = child(join(names), c);
        if (c.size() > NAME_MAX) {
            return fail(ENAMETOOLONG, here, "a file name is too long");
        }
        struct stat st {};
        if (::fstatat(cur(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            int e = errno;
            if (e == ENOENT && last) {
                out->dir_path = join(names);
                out->name = c;
                out->path = here;
                out->exists = false;
                out->st = {};
                int fd = ::fcntl(cur(), F_DUPFD_CLOEXEC, 0);
                if (fd < 0) {
                    return fail(errno, here, std::string("cannot duplicate a descriptor: ") + std::strerror(errno));
                }
                out->dir.reset(fd);
                return 0;
            }
            if (e != ENOENT || make_dirs_mode == 0) {
                if (e == ENOENT) {
                    // What is missing, and the rest unresolved: a path
                    // that does not exist either, with no link in it.
                    out->dir.reset();
                    out->dir_path = join(names);
                    out->path = here;
                    for (const std::string& rest : todo) {
                        out->path += "/" + rest;
                    }
                    out->name = todo.empty() ? c : todo.back();
                    out->exists = false;
                    out->st = {};
                }
                return fail(e, here, std::strerror(e));
            }
            if (::mkdirat(cur(), c.c_str(), make_dirs_mode) != 0 && errno != EEXIST) {
                e = errno;
                return fail(e, here, std::string("cannot create the directory: ") + std::strerror(e));
            }
            if (::fstatat(cur(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                e = errno;
                return fail(e, here, std::strerror(e));
            }
        }
        if (S_ISLNK(st.st_mode) && !(last && want == Want::file_keep)) {
            if (++links > kMaxLinks) {
                return fail(ELOOP, here,
                            "too many levels of symbolic links (the last one: " + last_link +
                                "); links are followed inside " + (prefix_.empty() ? "/" : prefix_) +
                                ", as after chroot");
            }
            char buf[PATH_MAX];
            ssize_t n = ::readlinkat(cur(), c.c_str(), buf, sizeof buf);
            if (n < 0) {
                int e = errno;
                return fail(e, here, std::string("cannot read the symbolic link: ") + std::strerror(e));
            }
            if (n == 0 || static_cast<size_t>(n) >= sizeof buf) {
                return fail(n == 0 ? ENOENT : ENAMETOOLONG, here, "a symbolic link with an empty or too long target");
            }
            std::string target(buf, static_cast<size_t>(n));
            last_link = host_path(here) + " -> " + target;
            std::deque<std::string> more = components(target);
            todo.insert(todo.begin(), more.begin(), more.end());
            if (target[0] == '/') {
                fds.clear();
                names.clear();
            }
            if (todo.empty() && want != Want::directory) {
                return fail(EISDIR, join(names), "names a directory, not a file");
            }
            continue;
        }
        if (last) {
            int fd = ::fcntl(cur(), F_DUPFD_CLOEXEC, 0);
            if (fd < 0) {
                return fail(errno, here, std::string("cannot duplicate a descriptor: ") + std::strerror(errno));
            }
            out->dir.reset(fd);
            out->dir_path = join(names);
            out->name = c;
            out->path = here;
            out->exists = true;
            out->st = st;
            return 0;
        }
        if (!S_ISDIR(st.st_mode)) {
            return fail(ENOTDIR, here, "not a directory");
        }
        if (fds.size() >= kMaxDepth) {
            return fail(ENAMETOOLONG, here, "too many directory levels");
        }
        // O_NOFOLLOW|O_DIRECTORY: if it was replaced by a link since the
        // fstatat, this fails instead of following it.
        int fd = ::openat(cur(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            return fail(e, here, std::string("cannot open the directory: ") + std::strerror(e));
        }
        fds.emplace_back(fd);
        names.push_back(c);
        struct stat dst {};
        if (::fstat(fd, &dst) != 0 || !S_ISDIR(dst.st_mode)) {
            return fail(ENOTDIR, here, "changed while it was being resolved");
        }
    }
    // Only a directory walk ends here (a file walk returns at its last name).
    int fd = ::fcntl(cur(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        return fail(errno, join(names), std::string("cannot duplicate a descriptor: ") + std::strerror(errno));
    }
    out->dir.reset(fd);
    out->dir_path = join(names);
    out->name.clear();
    out->path = out->dir_path;
    out->exists = true;
    ::fstat(fd, &out->st);
    return 0;
}

}  // namespace ringfence::core
