// SPDX-License-Identifier: BSD-3-Clause
// One HTTPS download with every limit a policy fetch needs (libcurl). Used by
// `ringfence sync` only: the PAM module and the shim never link it.
//
// What the server controls is treated as hostile: only https:// URLs, and
// redirects only to https://; a connect timeout, a low-speed timeout (a
// server that accepts and never answers), a total timeout; a byte cap
// counted in the write callback (CURLOPT_MAXFILESIZE alone does not stop a
// body of unknown length before libcurl 8.4); certificates always verified,
// against a given CA file if any, and optionally a pinned public key.
//
// Built for libcurl 7.61 (RHEL 8) and later: no CURLOPT_*_STR options.
#pragma once

#include <cstddef>
#include <string>

namespace ringfence::core {

// curl_global_init once for the process, curl_global_cleanup when it goes
// out of scope. Create one in main() before any fetch, on one thread.
class HttpGlobal {
public:
    HttpGlobal();
    ~HttpGlobal();
    HttpGlobal(const HttpGlobal&) = delete;
    HttpGlobal& operator=(const HttpGlobal&) = delete;
    bool ok() const { return ok_; }

private:
    bool ok_ = false;
};

struct FetchRequest {
    std::string url;
    std::string ca_file;        // "" = the system's CA store
    std::string pinned_key;     // "" or CURLOPT_PINNEDPUBLICKEY's form: "sha256//BASE64" (';'-separated)
    std::string etag;           // sent as If-None-Match when not empty
    std::string last_modified;  // sent as If-Modified-Since when not empty
    size_t max_bytes = 16u << 20;
    long connect_timeout = 10;  // seconds
    long low_speed_time = 30;   // seconds below 1 byte/s: abort
    long total_timeout = 300;   // seconds for the whole transfer
};

enum class FetchStatus { ok, not_modified, failed };

struct FetchResult {
    FetchStatus status = FetchStatus::failed;
    long http_code = 0;
    std::string body;           // status ok only
    std::string etag;           // of the final response, as sent
    std::string last_modified;  // likewise
    std::string error;          // status failed: one line, says why
};

// Never throws; every failure is a FetchResult with status failed.
FetchResult http_fetch(const FetchRequest& request);

// The libcurl this program runs with ("libcurl/7.88.1 OpenSSL/3.0.19 ...").
std::string http_library_version();

}  // namespace ringfence::core
