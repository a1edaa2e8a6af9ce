// SPDX-License-Identifier: BSD-3-Clause
// Safe reading of configuration files: O_NOFOLLOW|O_CLOEXEC, fstat, refuse
// files that are not regular, not owned by root (or by the reading process's
// effective uid), or writable by group or others; cap size and line length.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.h"

namespace ringfence::core {

// Identity of a file's content for reload decisions.
struct FileStamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;  // changes on chmod/chown too: a fixed mode reloads
    mode_t mode = 0;
    uid_t uid = 0;
    bool exists = false;
    bool operator==(const FileStamp& o) const {
        return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns &&
               mode == o.mode && uid == o.uid && exists == o.exists;
    }
    bool operator!=(const FileStamp& o) const { return !(*this == o); }
};

FileStamp stamp_of(const std::string& path);

struct ReadLimits {
    size_t max_bytes = 64u << 20;      // 64 MiB
    size_t max_line_bytes = 1u << 20;  // 1 MiB
};

struct ConfigText {
    std::string path;
    std::vector<std::string> lines;    // without the newline; a final line without '\n' is kept
    FileStamp stamp;
};

enum class ReadStatus { ok, missing, error };

struct ReadResult {
    ReadStatus status = ReadStatus::error;
    ConfigText text;
    Diagnostic error;  // set when status == error
};

ReadResult read_config_file(const std::string& path, const ReadLimits& limits = ReadLimits());

// The same file, read with the same checks (trust, size, line length, NUL),
// kept as one buffer: a string per line costs more than the text itself,
// and a policy that keeps its text whole only needs the offsets.
struct ConfigBuffer {
    std::string path;
    std::string data;  // the file as read; lines are split at '\n' as read_config_file does
    FileStamp stamp;
};

struct BufferResult {
    ReadStatus status = ReadStatus::error;
    ConfigBuffer text;
    Diagnostic error;  // set when status == error
};

BufferResult read_config_buffer(const std::string& path, const ReadLimits& limits = ReadLimits());

}  // namespace ringfence::core
