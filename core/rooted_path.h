// SPDX-License-Identifier: BSD-3-Clause
// Paths of a managed system that lives under a directory (an image, a test
// copy, or "/" for this machine), resolved as the kernel would resolve them
// after chroot(root): an absolute symbolic link starts again at the root,
// ".." never climbs above it, at most 40 links are followed. Kernels before
// 5.6 (RHEL 8) have no openat2(RESOLVE_IN_ROOT), so the walk is done here,
// one component at a time with O_PATH|O_NOFOLLOW descriptors: what comes out
// is an open descriptor of the directory that holds the last component, and
// writes are made relative to it (openat, renameat, unlinkat), so that a
// component swapped for a link after the walk cannot send them elsewhere.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

namespace ringfence::core {

// Owns a file descriptor.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        reset(o.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// Whether a symbolic link in the last component is followed.
enum class FinalLink { follow, keep };

// One resolved path: the directory that holds it, open, and its name there.
struct RootedPath {
    UniqueFd dir;          // O_PATH descriptor of the directory, inside the root
    std::string dir_path;  // that directory in the managed system ("/etc/pam.d")
    std::string name;      // the last component: never "", "." or ".."
    std::string path;      // dir_path + "/" + name: the path after resolution
    bool exists = false;   // name exists in dir (lstat)
    struct stat st {};     // its lstat, when it exists
};

class RootedTree {
public:
    // Opens `root` ("" or "/" = this machine). False with *error set when
    // it is not a directory that can be opened.
    bool open(const std::string& root, std::string* error);

    // "" for this machine, else the root without a trailing '/'.
    const std::string& prefix() const { return prefix_; }
    // A path of the managed system as a path on this machine, for messages
    // and for programs that take a path: "/etc/x" -> "ROOT/etc/x".
    std::string host_path(const std::string& system_path) const { return prefix_ + system_path; }

    // Resolves the absolute `path` of the managed system. Every directory
    // on the way must exist, unless make_dirs_mode is not 0: then missing
    // ones are created with that mode. The last component may be missing
    // (out->exists false). Returns 0, or an errno value (ENOENT, ENOTDIR,
    // ELOOP, EISDIR when the path names a directory, ...) with *error
    // saying where, with the root's prefix. On ENOENT, out->path is the
    // resolved part, the missing directory and the rest as given: a path
    // that does not exist either (out->dir is then not open).
    int resolve(const std::string& path, FinalLink final_link, RootedPath* out, std::string* error,
                mode_t make_dirs_mode = 0) const;

    // Resolves `path` as a directory (links followed) and opens it for
    // reading (O_RDONLY|O_DIRECTORY). *resolved: its path after resolution.
    // Same return values as resolve(); ENOENT when it does not exist and
    // make_dirs_mode is 0.
    int open_directory(const std::string& path, UniqueFd* out, std::string* resolved, std::string* error,
                       mode_t make_dirs_mode = 0) const;

private:
    enum class Want { file_follow, file_keep, directory };
    int walk(const std::string& path, Want want, mode_t make_dirs_mode, RootedPath* out, std::string* error) const;

    UniqueFd root_;
    std::string prefix_;
};

}  // namespace ringfence::core
