// SPDX-License-Identifier: BSD-3-Clause
// Replacing a file in one step, relative to a directory descriptor (see
// rooted_path.h): readers see the old content or the new, never a mix.
//
// The new content is written to an unnamed file (O_TMPFILE) in the same
// directory, flushed, then linked under a temporary name and renamed over
// the old file. If the program is killed while writing, nothing is left;
// only a kill in the instant between link and rename leaves the temporary
// name behind. Where O_TMPFILE is not supported (some file systems), the
// temporary name exists while the file is written.
//
// The temporary name is ".RINGFENCE-TMP-<pid>-<random>": libpam reads a
// file of /etc/pam.d only when a program asks for that service, and it
// lowercases every service name (pam_start, pam_set_item), so a name with
// capitals can never be a service; the leading dot keeps it out of shell
// globs (/etc/pam.d/*), and without ".conf" no drop-in directory (systemd,
// access.d) reads it. remove_stale_temporaries() removes those left by a
// run that is no longer alive, at the next run.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ringfence::core {

struct NewFileAttrs {
    mode_t mode = 0644;
    bool set_owner = false;     // else the owner is the writing process
    uid_t uid = 0;
    gid_t gid = 0;
    std::string selinux_label;  // "" = the directory's default
};

// Writes `bytes` as `name` in the directory `dirfd` (an O_PATH descriptor
// is fine), replacing what is there. `shown` names the file in messages.
// Returns 0, or an errno value with *error set; then the old file is
// unchanged and no temporary file is left.
int replace_file_at(int dirfd, const std::string& name, const std::string& bytes, const NewFileAttrs& attrs,
                    const std::string& shown, std::string* error);

// replace_file_at() for a path of this machine (not under a --root): its
// directory is opened by name, links followed; the path names it in messages.
int replace_file(const std::string& path, const std::string& bytes, const NewFileAttrs& attrs, std::string* error);

// A temporary name of replace_file_at(), or one of ringfence 0.1
// ("NAME.ringfence-XXXXXX", where libpam could read it as a service).
bool is_temporary_name(const std::string& name);

// Removes from the directory the temporary files whose writer is no longer
// running (killed between link and rename), and those of ringfence 0.1
// beside the file they were to replace. Returns the names removed.
std::vector<std::string> remove_stale_temporaries(int dirfd);

}  // namespace ringfence::core
