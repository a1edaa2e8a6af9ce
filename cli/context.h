// SPDX-License-Identifier: BSD-3-Clause
// What every `ringfence` subcommand shares: the managed system's tree
// (--root), messages, careful file reading and writing (backup, temporary
// file, fsync, rename, mode/owner/SELinux label kept) and running a program
// without a shell.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/exit_status.h"
#include "core/rooted_path.h"

namespace ringfence::cli {

// Exit codes of `ringfence`: the numbers every ringfence program uses
// (core/exit_status.h), documented in ringfence(8).
enum Exit : int {
    kOk = core::kExitOk,            // done, or nothing to do (already enabled / not enabled)
    kInvalid = core::kExitInvalid,  // a policy the layer would enforce has errors: nothing changed
    kUsage = core::kExitUsage,      // bad command line
    kFailed = core::kExitFailed,    // an I/O error or a command failed: see the message for the state left
    kRefused = core::kExitRefused,  // a file could not be understood, is not ours, or something needed is
                                    // missing: nothing changed
    kManual = core::kExitRefused,   // must be done by hand here (authselect, no systemd): steps printed,
                                    // nothing changed
};

enum class InitSystem { autodetect, systemd, sysv };

struct Options {
    std::string root;              // "" = the running system; else an image or test tree
    std::string file;              // enable/disable pam: --file
    std::optional<std::string> exec;           // enable wrap: --exec
    std::string module_options = "atgroup";    // enable pam: --module-options
    InitSystem init = InitSystem::autodetect;
    bool quiet = false;
};

// Every path of the managed system is resolved under --root as after
// chroot(root) (core/rooted_path.h): a link, absolute or relative, in any
// component cannot lead out of the tree. Without --root the tree is "/".
class Context {
public:
    explicit Context(Options o);
    // Opens the root. False with *error set.
    bool open(std::string* error);

    const Options& options() const { return opts_; }
    bool has_root() const { return !opts_.root.empty(); }
    const core::RootedTree& tree() const { return tree_; }

    // A path of the managed system as a path on this machine, for messages
    // ("/etc/x" -> "ROOT/etc/x"); never opened as such.
    std::string host_path(const std::string& system_path) const;
    // The reverse, for messages: "ROOT/etc/x" -> "/etc/x".
    std::string system_path(const std::string& host_path) const;

    bool systemd() const;  // the managed system boots with systemd

    void info(const std::string& msg) const;   // stdout, unless --quiet
    void note(const std::string& msg) const;   // stdout, always
    void error(const std::string& msg) const;  // stderr, "ringfence: error: "
    void warning(const std::string& msg) const;  // stderr, "ringfence: warning: "

private:
    Options opts_;
    core::RootedTree tree_;
};

// ---------------------------------------------------------------------------
// Files of the managed system. `path` is always a path in the managed
// system ("/etc/pam.d/system-auth"); messages name it with the root.

struct FileContent {
    std::string system_path;  // the regular file actually read, after resolution
    std::string path;         // the same as a path on this machine, for messages
    std::string bytes;
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string selinux_label;  // "" when none
};

enum class ReadOutcome { ok, missing, error };

// Reads a regular file, at most max_bytes, refusing anything else (with
// FinalLink::keep, a symbolic link is refused too). `missing` when it or a
// directory above it does not exist. `error` gets a message naming the path.
ReadOutcome read_file(const Context& ctx, const std::string& path, core::FinalLink final_link, size_t max_bytes,
                      FileContent* out, std::string* error);

// The path after resolution (links followed inside the root), for
// messages and for readers that take a path (ctx.host_path of it); nullopt
// with *error set (loop, a file where a directory is expected). Missing
// files and directories are not an error: the path returned then does not
// exist either. A reader that opens the result by name follows a component
// swapped for a link in between: good enough for reading a policy to
// check it; writes use the directory descriptors instead.
std::optional<std::string> resolve(const Context& ctx, const std::string& path, core::FinalLink final_link,
                                   std::string* error);

// Replaces `path` (its last component not followed: resolve it first) by
// `bytes` atomically (core/atomic_file.h) with the mode, owner and SELinux
// label of `like` (or mode, owned by the caller, when `like` is null).
// Temporary files that an interrupted run left in that directory are
// removed first.
bool write_file_atomic(const Context& ctx, const std::string& path, const std::string& bytes,
                       const FileContent* like, mode_t mode, std::string* error);

// Where `write_backup` keeps the copy of the managed file `system_path`:
// /var/lib/ringfence/backup + that path (in the managed system).
std::string backup_path(const std::string& system_path);

// Copies `old` (as read) to backup_path(old.system_path), replacing the
// previous copy, in directories created 0700. Returns the backup's path
// on this machine, or nullopt with *error set.
std::optional<std::string> write_backup(const Context& ctx, const FileContent& old, std::string* error);

// Removes the temporary files that an interrupted run left in the
// directory `dir` (core::remove_stale_temporaries); returns their paths on
// this machine.
std::vector<std::string> remove_stale_temporaries(const Context& ctx, const std::string& dir);

bool exists(const Context& ctx, const std::string& path);        // lstat of the last component
bool is_symlink(const Context& ctx, const std::string& path);    // the last component is a link
bool is_directory(const Context& ctx, const std::string& path);  // links followed
bool is_executable_file(const Context& ctx, const std::string& path);  // links followed, a regular file with x
// mkdir -p with mode 0755 for each missing component.
bool make_directories(const Context& ctx, const std::string& path, std::string* error);
// Names in the directory (links followed), without "." and "..", sorted;
// empty when it cannot be read.
std::vector<std::string> list_directory(const Context& ctx, const std::string& path);
// unlink of the last component (never followed). ENOENT counts as done.
bool remove_file(const Context& ctx, const std::string& path, std::string* error);
// rmdir when it is empty; anything else leaves it.
void remove_directory_if_empty(const Context& ctx, const std::string& path);
// symlink(target, path); the directory must exist.
bool make_symlink(const Context& ctx, const std::string& target, const std::string& path, std::string* error);

// On this machine (not the managed system): programs to run, --root itself.
bool local_is_directory(const std::string& path);
bool local_is_executable_file(const std::string& path);

// ---------------------------------------------------------------------------
// Programs

// core::run_program with the terminal passed through and no time limit.
// Returns the exit status, 128+signal when killed, or -1 when it could not
// be started or waited for (*error set); a failed execve is reported on
// stderr and returns 127.
int run_program(const std::vector<std::string>& argv, std::string* error);

// The first of `candidates` that is an executable file, or "".
std::string find_program(const std::vector<std::string>& candidates);

// "a b 'c d'": argv for messages, quoted for a POSIX shell.
std::string shell_quote(const std::vector<std::string>& argv);

// Directory of the running executable ("" when unknown).
std::string self_directory();

}  // namespace ringfence::cli
