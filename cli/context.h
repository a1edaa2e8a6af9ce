// What every `ringfence` subcommand shares: the --root prefix, messages,
// careful file reading and writing (backup, temp file, fsync, rename,
// mode/owner/SELinux label kept) and running a program without a shell.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ringfence::cli {

// Exit codes of `ringfence` (documented in ringfence(8)).
enum Exit : int {
    kOk = 0,         // done, or nothing to do (already enabled / not enabled)
    kRefused = 1,    // validation failed or a file could not be understood: nothing changed
    kUsage = 2,      // bad command line
    kFailed = 3,     // an I/O error or a command failed: see the message for the state left
    kManual = 4,     // must be done by hand here (authselect, no systemd): steps printed, nothing changed
};

enum class InitSystem { autodetect, systemd, sysv };

struct Options {
    std::string root;              // "" = the running system; else an image or test tree
    std::string file;              // enable/disable pam: --file
    std::optional<std::string> exec;           // enable wrap: --exec
    std::string module_options = "atgroup";    // enable pam: --module-options
    std::string firewall_program;  // --firewall-program (default: next to ringfence, then sbindir)
    InitSystem init = InitSystem::autodetect;
    bool quiet = false;
};

class Context {
public:
    explicit Context(Options o);

    const Options& options() const { return opts_; }
    bool has_root() const { return !opts_.root.empty(); }

    // An absolute path of the managed system as a path on this machine
    // ("/etc/x" -> "ROOT/etc/x").
    std::string host_path(const std::string& system_path) const;
    // The reverse, for messages and symlink targets: "ROOT/etc/x" -> "/etc/x".
    std::string system_path(const std::string& host_path) const;

    bool systemd() const;  // the managed system boots with systemd

    void info(const std::string& msg) const;   // stdout, unless --quiet
    void note(const std::string& msg) const;   // stdout, always
    void error(const std::string& msg) const;  // stderr, "ringfence: error: "
    void warning(const std::string& msg) const;  // stderr, "ringfence: warning: "

private:
    Options opts_;
};

// ---------------------------------------------------------------------------
// Files

struct FileContent {
    std::string path;      // the regular file actually read (symlinks resolved)
    std::string bytes;
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

enum class ReadOutcome { ok, missing, error };

// Reads a regular file, at most max_bytes, refusing anything else. `error`
// gets a message naming the path.
ReadOutcome read_file(const std::string& path, size_t max_bytes, FileContent* out, std::string* error);

// Follows symbolic links (up to 8) the way the managed system would:
// absolute targets are taken under `root`. Returns the final path on this
// machine, or nullopt with *error set (loop, target outside the root).
std::optional<std::string> resolve_links(const std::string& path, const std::string& root, std::string* error);

// Replaces `path` by `bytes` atomically: a temp file in the same directory
// with the mode, owner and SELinux label of `like` (or of mode/uid/gid when
// `like` is null), fsync, rename, fsync of the directory.
bool write_file_atomic(const std::string& path, const std::string& bytes, const FileContent* like, mode_t mode,
                       std::string* error);

// Writes `old` to PATH.ringfence-bak (atomically, same mode and owner).
// Returns the backup path, or nullopt with *error set.
std::optional<std::string> write_backup(const FileContent& old, std::string* error);

bool exists(const std::string& path);       // lstat succeeds
bool is_directory(const std::string& path);  // stat, S_ISDIR
bool is_executable_file(const std::string& path);
// mkdir -p with mode 0755 for each missing component.
bool make_directories(const std::string& path, std::string* error);

// ---------------------------------------------------------------------------
// Programs

// fork + execve of argv[0] (an absolute path), with a fixed minimal
// environment; stdout and stderr are passed through. Returns the exit status,
// 128+signal when killed, or -1 when it could not be started (*error set).
int run_program(const std::vector<std::string>& argv, std::string* error);

// The first of `candidates` that is an executable file, or "".
std::string find_program(const std::vector<std::string>& candidates);

// "a b 'c d'": argv for messages, quoted for a POSIX shell.
std::string shell_quote(const std::vector<std::string>& argv);

// Directory of the running executable ("" when unknown).
std::string self_directory();

}  // namespace ringfence::cli
