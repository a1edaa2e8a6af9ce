// Shared plumbing of the `ringfence` command (see context.h).
#include "cli/context.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace ringfence::cli {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

std::string dir_of(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

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

// "/a/./b/../c" -> "/a/c", lexically (the links are followed one by one).
std::string normalize(const std::string& path) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) {
            j = path.size();
        }
        std::string part = path.substr(i, j - i);
        if (part == "..") {
            if (!parts.empty()) {
                parts.pop_back();
            }
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = j + 1;
    }
    std::string out;
    for (const std::string& p : parts) {
        out += "/" + p;
    }
    return out.empty() ? "/" : out;
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
        return is_directory("/run/systemd/system");
    }
    // An image is not running: systemd is its init when it is installed.
    return is_executable_file(host_path("/usr/lib/systemd/systemd")) ||
           is_executable_file(host_path("/lib/systemd/systemd")) || is_directory(host_path("/etc/systemd/system"));
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

ReadOutcome read_file(const std::string& path, size_t max_bytes, FileContent* out, std::string* error) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT) {
            return ReadOutcome::missing;
        }
        *error = path + ": cannot open: " + (errno == ELOOP ? "it is a symbolic link" : errno_text(errno));
        return ReadOutcome::error;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        *error = path + ": not a regular file";
        return ReadOutcome::error;
    }
    if (static_cast<size_t>(st.st_size) > max_bytes) {
        ::close(fd);
        *error = path + ": larger than " + std::to_string(max_bytes) + " bytes";
        return ReadOutcome::error;
    }
    std::string bytes;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            *error = path + ": read error: " + errno_text(errno);
            ::close(fd);
            return ReadOutcome::error;
        }
        if (n == 0) {
            break;
        }
        bytes.append(buf, static_cast<size_t>(n));
        if (bytes.size() > max_bytes) {
            ::close(fd);
            *error = path + ": larger than " + std::to_string(max_bytes) + " bytes";
            return ReadOutcome::error;
        }
    }
    ::close(fd);
    out->path = path;
    out->bytes = std::move(bytes);
    out->mode = st.st_mode & 07777;
    out->uid = st.st_uid;
    out->gid = st.st_gid;
    return ReadOutcome::ok;
}

std::optional<std::string> resolve_links(const std::string& path, const std::string& root, std::string* error) {
    std::string cur = path;
    for (int depth = 0; depth <= 8; ++depth) {
        struct stat st {};
        if (::lstat(cur.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) {
            return cur;
        }
        char buf[PATH_MAX];
        ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf - 1);
        if (n < 0) {
            *error = cur + ": cannot read the symbolic link: " + errno_text(errno);
            return std::nullopt;
        }
        std::string target(buf, static_cast<size_t>(n));
        cur = normalize(target[0] == '/' ? root + target : dir_of(cur) + "/" + target);
        if (!root.empty() && cur.compare(0, root.size() + 1, root + "/") != 0) {
            *error = path + ": a symbolic link that leads out of " + root + " ('" + target + "')";
            return std::nullopt;
        }
    }
    *error = path + ": too many levels of symbolic links";
    return std::nullopt;
}

bool write_file_atomic(const std::string& path, const std::string& bytes, const FileContent* like, mode_t mode,
                       std::string* error) {
    std::string dir = dir_of(path);
    std::string tmpl = path + ".ringfence-XXXXXX";
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) {
        *error = "cannot create a temporary file in " + dir + ": " + errno_text(errno);
        return false;
    }
    std::string tmp(name.data());
    auto fail = [&](const std::string& what) {
        *error = what;
        ::close(fd);
        ::unlink(tmp.c_str());
        return false;
    };
    mode_t want = like != nullptr ? like->mode : mode;
    if (::fchmod(fd, want) != 0) {
        return fail(tmp + ": chmod: " + errno_text(errno));
    }
    if (like != nullptr) {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && (st.st_uid != like->uid || st.st_gid != like->gid) &&
            ::fchown(fd, like->uid, like->gid) != 0) {
            return fail(tmp + ": cannot give it the owner of " + like->path + ": " + errno_text(errno));
        }
        // Keep the SELinux label (a renamed new file would get the
        // directory's default). Missing attribute or no SELinux: nothing to do.
        char label[1024];
        ssize_t n = ::getxattr(like->path.c_str(), "security.selinux", label, sizeof label);
        if (n > 0 && ::fsetxattr(fd, "security.selinux", label, static_cast<size_t>(n), 0) != 0 &&
            errno != ENOTSUP && errno != EOPNOTSUPP) {
            return fail(tmp + ": cannot copy the SELinux label of " + like->path + ": " + errno_text(errno));
        }
    }
    if (!write_all(fd, bytes)) {
        return fail(tmp + ": write error: " + errno_text(errno));
    }
    if (::fsync(fd) != 0) {
        return fail(tmp + ": fsync: " + errno_text(errno));
    }
    if (::close(fd) != 0) {
        *error = tmp + ": close: " + errno_text(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        *error = "cannot rename " + tmp + " to " + path + ": " + errno_text(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

std::optional<std::string> write_backup(const FileContent& old, std::string* error) {
    std::string backup = old.path + ".ringfence-bak";
    if (!write_file_atomic(backup, old.bytes, &old, old.mode, error)) {
        return std::nullopt;
    }
    return backup;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool make_directories(const std::string& path, std::string* error) {
    if (path.empty() || is_directory(path)) {
        return true;
    }
    std::string parent = dir_of(path);
    if (parent != path && !make_directories(parent, error)) {
        return false;
    }
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        *error = "cannot create " + path + ": " + errno_text(errno);
        return false;
    }
    return true;
}

int run_program(const std::vector<std::string>& argv, std::string* error) {
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
        *error = "internal error: program path must be absolute";
        return -1;
    }
    std::vector<char*> args;
    for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    // A fixed environment: nothing of the caller's (LD_PRELOAD, SYSTEMD_*,
    // a PATH with "."), only what the tools need.
    static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    static char env_lang[] = "LC_ALL=C";
    char* envp[] = {env_path, env_lang, nullptr};
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = ::fork();
    if (pid < 0) {
        *error = "fork: " + errno_text(errno);
        return -1;
    }
    if (pid == 0) {
        ::execve(args[0], args.data(), envp);
        std::fprintf(stderr, "ringfence: error: cannot run %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            *error = "waitpid: " + errno_text(errno);
            return -1;
        }
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string find_program(const std::vector<std::string>& candidates) {
    for (const std::string& c : candidates) {
        if (!c.empty() && is_executable_file(c)) {
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
