// SPDX-License-Identifier: BSD-3-Clause
// Shared plumbing of the `ringfence` command (see context.h).
#include "cli/context.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/atomic_file.h"
#include "core/paths.h"
#include "core/run_program.h"

namespace ringfence::cli {

namespace {

constexpr const char* kBackupDir = core::kBackupDir;

std::string errno_text(int e) { return std::strerror(e); }

std::string dir_of(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Context::Context(Options o) : opts_(std::move(o)) {
    while (opts_.root.size() > 1 && opts_.root.back() == '/') {
        opts_.root.pop_back();
    }
    if (opts_.root == "/") {
        opts_.root.clear();
    }
}

bool Context::open(std::string* error) { return tree_.open(opts_.root, error); }

std::string Context::host_path(const std::string& p) const { return opts_.root + p; }

std::string Context::system_path(const std::string& p) const {
    if (!opts_.root.empty() && p.compare(0, opts_.root.size(), opts_.root) == 0 &&
        (p.size() == opts_.root.size() || p[opts_.root.size()] == '/')) {
        std::string rest = p.substr(opts_.root.size());
        return rest.empty() ? "/" : rest;
    }
    return p;
}

bool Context::systemd() const {
    switch (opts_.init) {
        case InitSystem::systemd:
            return true;
        case InitSystem::sysv:
            return false;
        case InitSystem::autodetect:
            break;
    }
    if (!has_root()) {
        // sd_booted(): what is running now, not what is installed.
        return local_is_directory("/run/systemd/system");
    }
    // An image is not running: systemd is its init when it is installed.
    return is_executable_file(*this, "/usr/lib/systemd/systemd") ||
           is_executable_file(*this, "/lib/systemd/systemd") || is_directory(*this, "/etc/systemd/system");
}

void Context::info(const std::string& msg) const {
    if (!opts_.quiet) {
        std::printf("%s\n", msg.c_str());
        std::fflush(stdout);
    }
}

void Context::note(const std::string& msg) const {
    std::printf("%s\n", msg.c_str());
    std::fflush(stdout);
}

void Context::error(const std::string& msg) const {
    std::fflush(stdout);
    std::fprintf(stderr, "ringfence: error: %s\n", msg.c_str());
}

void Context::warning(const std::string& msg) const {
    std::fflush(stdout);
    std::fprintf(stderr, "ringfence: warning: %s\n", msg.c_str());
}

ReadOutcome read_file(const Context& ctx, const std::string& path, core::FinalLink final_link, size_t max_bytes,
                      FileContent* out, std::string* error) {
    core::RootedPath rp;
    if (int e = ctx.tree().resolve(path, final_link, &rp, error)) {
        return e == ENOENT ? ReadOutcome::missing : ReadOutcome::error;
    }
    std::string shown = ctx.host_path(rp.path);
    if (!rp.exists) {
        return ReadOutcome::missing;
    }
    core::UniqueFd fd(
        ::openat(rp.dir.get(), rp.name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) {
            return ReadOutcome::missing;
        }
        *error = shown + ": cannot open: " + (errno == ELOOP ? "it is a symbolic link" : errno_text(errno));
        return ReadOutcome::error;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        *error = shown + ": not a regular file";
        return ReadOutcome::error;
    }
    if (static_cast<size_t>(st.st_size) > max_bytes) {
        *error = shown + ": larger than " + std::to_string(max_bytes) + " bytes";
        return ReadOutcome::error;
    }
    std::string bytes;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            *error = shown + ": read error: " + errno_text(errno);
            return ReadOutcome::error;
        }
        if (n == 0) {
            break;
        }
        bytes.append(buf, static_cast<size_t>(n));
        if (bytes.size() > max_bytes) {
            *error = shown + ": larger than " + std::to_string(max_bytes) + " bytes";
            return ReadOutcome::error;
        }
    }
    char label[1024];
    ssize_t n = ::fgetxattr(fd.get(), "security.selinux", label, sizeof label);
    out->selinux_label = n > 0 ? std::string(label, static_cast<size_t>(n)) : std::string();
    out->system_path = rp.path;
    out->path = shown;
    out->bytes = std::move(bytes);
    out->mode = st.st_mode & 07777;
    out->uid = st.st_uid;
    out->gid = st.st_gid;
    return ReadOutcome::ok;
}

std::optional<std::string> resolve(const Context& ctx, const std::string& path, core::FinalLink final_link,
                                   std::string* error) {
    core::RootedPath rp;
    int e = ctx.tree().resolve(path, final_link, &rp, error);
    if (e != 0 && e != ENOENT) {
        return std::nullopt;
    }
    return rp.path;
}

bool write_file_atomic(const Context& ctx, const std::string& path, const std::string& bytes,
                       const FileContent* like, mode_t mode, std::string* error) {
    core::RootedPath rp;
    if (ctx.tree().resolve(path, core::FinalLink::keep, &rp, error) != 0) {
        return false;
    }
    remove_stale_temporaries(ctx, rp.dir_path);
    core::NewFileAttrs attrs;
    attrs.mode = like != nullptr ? like->mode : mode;
    if (like != nullptr) {
        attrs.set_owner = true;
        attrs.uid = like->uid;
        attrs.gid = like->gid;
        attrs.selinux_label = like->selinux_label;
    }
    return core::replace_file_at(rp.dir.get(), rp.name, bytes, attrs, ctx.host_path(rp.path), error) == 0;
}

std::string backup_path(const std::string& system_path) { return kBackupDir + system_path; }

std::optional<std::string> write_backup(const Context& ctx, const FileContent& old, std::string* error) {
    // /var/lib/ringfence as packaged (0755), the backups below it 0700:
    // the copies keep the files' modes, but nobody else needs to look.
    core::UniqueFd dir;
    std::string resolved;
    if (ctx.tree().open_directory(core::kStateDir, &dir, &resolved, error, 0755) != 0 ||
        ctx.tree().open_directory(kBackupDir, &dir, &resolved, error, 0700) != 0) {
        return std::nullopt;
    }
    core::RootedPath top;
    if (ctx.tree().resolve(kBackupDir, core::FinalLink::keep, &top, error) != 0) {
        return std::nullopt;
    }
    if (!top.exists || !S_ISDIR(top.st.st_mode) || (top.st.st_uid != 0 && top.st.st_uid != ::geteuid()) ||
        (top.st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        *error = ctx.host_path(kBackupDir) + ": not a directory owned by root and writable only by it; "
                                             "refusing to keep backups there (chown root: and chmod 0700 it)";
        return std::nullopt;
    }
    core::RootedPath rp;
    if (ctx.tree().resolve(backup_path(old.system_path), core::FinalLink::keep, &rp, error, 0700) != 0) {
        return std::nullopt;
    }
    if (rp.exists && !S_ISREG(rp.st.st_mode)) {
        *error = ctx.host_path(rp.path) + ": exists and is not a regular file";
        return std::nullopt;
    }
    core::remove_stale_temporaries(rp.dir.get());
    core::NewFileAttrs attrs;
    attrs.mode = old.mode;
    attrs.set_owner = true;
    attrs.uid = old.uid;
    attrs.gid = old.gid;
    if (core::replace_file_at(rp.dir.get(), rp.name, old.bytes, attrs, ctx.host_path(rp.path), error) != 0) {
        return std::nullopt;
    }
    return ctx.host_path(rp.path);
}

std::vector<std::string> remove_stale_temporaries(const Context& ctx, const std::string& dir) {
    std::vector<std::string> out;
    core::UniqueFd fd;
    std::string resolved;
    std::string err;
    if (ctx.tree().open_directory(dir, &fd, &resolved, &err) != 0) {
        return out;
    }
    for (const std::string& n : core::remove_stale_temporaries(fd.get())) {
        out.push_back(ctx.host_path(resolved == "/" ? "/" + n : resolved + "/" + n));
    }
    return out;
}

bool exists(const Context& ctx, const std::string& path) {
    core::RootedPath rp;
    std::string err;
    return ctx.tree().resolve(path, core::FinalLink::keep, &rp, &err) == 0 && rp.exists;
}

bool is_symlink(const Context& ctx, const std::string& path) {
    core::RootedPath rp;
    std::string err;
    return ctx.tree().resolve(path, core::FinalLink::keep, &rp, &err) == 0 && rp.exists && S_ISLNK(rp.st.st_mode);
}

bool is_directory(const Context& ctx, const std::string& path) {
    core::UniqueFd fd;
    std::string resolved;
    std::string err;
    return ctx.tree().open_directory(path, &fd, &resolved, &err) == 0;
}

bool is_executable_file(const Context& ctx, const std::string& path) {
    core::RootedPath rp;
    std::string err;
    return ctx.tree().resolve(path, core::FinalLink::follow, &rp, &err) == 0 && rp.exists &&
           S_ISREG(rp.st.st_mode) && (rp.st.st_mode & 0111) != 0;
}

bool make_directories(const Context& ctx, const std::string& path, std::string* error) {
    core::UniqueFd fd;
    std::string resolved;
    return ctx.tree().open_directory(path, &fd, &resolved, error, 0755) == 0;
}

std::vector<std::string> list_directory(const Context& ctx, const std::string& path) {
    std::vector<std::string> out;
    core::UniqueFd fd;
    std::string resolved;
    std::string err;
    if (ctx.tree().open_directory(path, &fd, &resolved, &err) != 0) {
        return out;
    }
    DIR* d = ::fdopendir(fd.get());
    if (d == nullptr) {
        return out;
    }
    fd.release();  // the DIR owns it now
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") {
            out.push_back(n);
        }
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

bool remove_file(const Context& ctx, const std::string& path, std::string* error) {
    core::RootedPath rp;
    if (int e = ctx.tree().resolve(path, core::FinalLink::keep, &rp, error)) {
        return e == ENOENT;
    }
    if (!rp.exists) {
        return true;
    }
    if (::unlinkat(rp.dir.get(), rp.name.c_str(), 0) != 0 && errno != ENOENT) {
        *error = "cannot remove " + ctx.host_path(rp.path) + ": " + errno_text(errno);
        return false;
    }
    return true;
}

void remove_directory_if_empty(const Context& ctx, const std::string& path) {
    core::RootedPath rp;
    std::string err;
    if (ctx.tree().resolve(path, core::FinalLink::keep, &rp, &err) == 0 && rp.exists && S_ISDIR(rp.st.st_mode)) {
        ::unlinkat(rp.dir.get(), rp.name.c_str(), AT_REMOVEDIR);  // fails when not empty: fine
    }
}

bool make_symlink(const Context& ctx, const std::string& target, const std::string& path, std::string* error) {
    core::RootedPath rp;
    if (ctx.tree().resolve(path, core::FinalLink::keep, &rp, error) != 0) {
        return false;
    }
    if (::symlinkat(target.c_str(), rp.dir.get(), rp.name.c_str()) != 0) {
        *error = "cannot create " + ctx.host_path(rp.path) + ": " + errno_text(errno);
        return false;
    }
    return true;
}

bool local_is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool local_is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

int run_program(const std::vector<std::string>& argv, std::string* error) {
    core::ProgramOptions o;
    o.io = core::ProgramIo::inherit;
    core::ProgramResult r = core::run_program(argv, o);
    if (r.exec_errno != 0) {
        std::fprintf(stderr, "ringfence: error: cannot run %s: %s\n", argv[0].c_str(), std::strerror(r.exec_errno));
    }
    if (!r.started || (r.status < 0 && !r.error.empty())) {
        *error = r.error;
        return -1;
    }
    return r.status;
}

std::string find_program(const std::vector<std::string>& candidates) {
    for (const std::string& c : candidates) {
        if (!c.empty() && local_is_executable_file(c)) {
            return c;
        }
    }
    return "";
}

std::string shell_quote(const std::vector<std::string>& argv) {
    std::string out;
    for (const std::string& a : argv) {
        if (!out.empty()) {
            out += ' ';
        }
        bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                        "0123456789-_./=:,+@%") == std::string::npos;
        if (plain) {
            out += a;
            continue;
        }
        out += '\'';
        for (char c : a) {
            if (c == '\'') {
                out += "'\\''";
            } else {
                out += c;
            }
        }
        out += '\'';
    }
    return out;
}

std::string self_directory() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        return "";
    }
    return dir_of(std::string(buf, static_cast<size_t>(n)));
}

}  // namespace ringfence::cli
