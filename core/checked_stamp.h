// SPDX-License-Identifier: BSD-3-Clause
// Checked stamps: a record, kept by root, that one exact content of a
// policy file passed its layer's whole check with no error.
//
// A process that decides once (an sshd child, ringfence-tcpd under inetd)
// must refuse an invalid file whatever rule decides, so without a stamp it
// checks every line of every file first. With one, it may skip the lines
// that cannot decide its request: the check has been made for exactly
// these bytes. A stamp says nothing about what the file allows.
//
// The stamp of a file is a small text file in kCheckedDir, named after the
// file's path and its layer's check (`kind`), holding the file's device,
// inode, size, modification and change times, mode, owner and a 64-bit
// hash of its content, plus the package version and the check's name. It
// is believed only when its bytes are exactly those this process would
// write for the content it has just read, and when it and its directory
// are owned by root and writable by nobody else. Anything else (no stamp,
// another content, a changed mode, a newer package, a wrong owner) makes
// the process check the whole file, as it would without stamps.
//
// Only a process with effective uid 0 writes stamps, and only into the
// default directory or one that root already made (see checked_dir()).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/config_file.h"

namespace ringfence::core {

// A 64-bit hash of a file's bytes (not cryptographic: the stamp's trust is
// its owner; the hash tells one content from another).
uint64_t content_hash(std::string_view bytes);

// The directory of stamps: $RINGFENCE_CHECKED_DIR when set (through
// secure_getenv: never in a set-user-ID program such as su), "off" for
// none; else kCheckedDir.
std::string checked_dir();

class CheckedStamps {
public:
    // `kind` names the check and every option that changes it, e.g.
    // "hosts_access" or "access.conf fieldsep=: listsep=, ...".
    explicit CheckedStamps(std::string kind, std::string dir = checked_dir());

    // True when a trusted stamp says this content, read from `path` with
    // this file stamp, passed the check.
    bool passed(const std::string& path, const FileStamp& stamp, std::string_view content) const;

    // Records that the content passed (writing nothing when its stamp is
    // already there). Best effort: false (and nothing written) when this
    // process is not root, the directory is untrusted or cannot be made,
    // the stamp would be too long to be believed, or the write fails.
    bool record(const std::string& path, const FileStamp& stamp, std::string_view content) const;

    // The stamp's file name in the directory (for tests and the man pages).
    std::string name_for(const std::string& path) const;
    const std::string& dir() const { return dir_; }
    bool enabled() const { return !dir_.empty(); }

private:
    std::string expected(const std::string& path, const FileStamp& stamp, std::string_view content) const;

    std::string kind_;
    std::string dir_;
};

}  // namespace ringfence::core
