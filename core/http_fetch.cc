// SPDX-License-Identifier: BSD-3-Clause
// libcurl easy interface, one handle per fetch, nothing kept between fetches.
#include "core/http_fetch.h"

// CURLOPT_PROTOCOLS and CURLOPT_REDIR_PROTOCOLS are deprecated since 7.85
// in favour of the *_STR options, which 7.61 and 7.76 (RHEL 8, 9) lack.
#define CURL_DISABLE_DEPRECATION 1
#include <curl/curl.h>

#include <cctype>
#include <new>

#include "core/diagnostic.h"

namespace ringfence::core {

HttpGlobal::HttpGlobal() { ok_ = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

HttpGlobal::~HttpGlobal() {
    if (ok_) {
        curl_global_cleanup();
    }
}

std::string http_library_version() {
    const char* v = curl_version();
    return v != nullptr ? v : "libcurl";
}

namespace {

struct Transfer {
    std::string body;
    size_t max_bytes = 0;
    bool too_big = false;
    bool out_of_memory = false;
    std::string etag;
    std::string last_modified;
};

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t n = size * nmemb;
    if (n > t->max_bytes - t->body.size()) {
        t->too_big = true;
        return 0;  // CURLE_WRITE_ERROR: the transfer stops here
    }
    try {
        t->body.append(data, n);
    } catch (const std::bad_alloc&) {
        t->out_of_memory = true;
        return 0;
    }
    return n;
}

bool header_is(const std::string& line, const char* name, std::string* value) {
    size_t n = std::char_traits<char>::length(name);
    if (line.size() <= n || line[n] != ':') {
        return false;
    }
    for (size_t i = 0; i < n; ++i) {
        if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) {
            return false;
        }
    }
    size_t b = n + 1;
    size_t e = line.size();
    while (b < e && (line[b] == ' ' || line[b] == '\t')) {
        ++b;
    }
    while (e > b && (line[e - 1] == '\r' || line[e - 1] == '\n' || line[e - 1] == ' ')) {
        --e;
    }
    *value = line.substr(b, std::min<size_t>(e - b, 512));
    return true;
}

// Headers of every response arrive here (redirects included): a status
// line starts a new response, so only the final one's validators remain.
size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t n = size * nmemb;
    try {
        std::string line(data, n);
        if (line.compare(0, 5, "HTTP/") == 0) {
            t->etag.clear();
            t->last_modified.clear();
        } else {
            std::string v;
            if (header_is(line, "etag", &v)) {
                t->etag = v;
            } else if (header_is(line, "last-modified", &v)) {
                t->last_modified = v;
            }
        }
    } catch (const std::bad_alloc&) {
        t->out_of_memory = true;
        return 0;
    }
    return n;
}

bool starts_with_https(const std::string& url) {
    if (url.size() < 9) {
        return false;
    }
    for (size_t i = 0; i < 8; ++i) {
        if (std::tolower(static_cast<unsigned char>(url[i])) != "https://"[i]) {
            return false;
        }
    }
    return true;
}

class Handle {
public:
    Handle() : h_(curl_easy_init()) {}
    ~Handle() {
        if (h_ != nullptr) {
            curl_easy_cleanup(h_);
        }
        if (headers_ != nullptr) {
            curl_slist_free_all(headers_);
        }
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    CURL* get() const { return h_; }
    bool add_header(const std::string& h) {
        curl_slist* n = curl_slist_append(headers_, h.c_str());
        if (n == nullptr) {
            return false;
        }
        headers_ = n;
        return true;
    }
    curl_slist* headers() const { return headers_; }

private:
    CURL* h_;
    curl_slist* headers_ = nullptr;
};

std::string shown_url(const std::string& url) { return escape_for_log(url, 200); }

}  // namespace

FetchResult http_fetch(const FetchRequest& req) {
    FetchResult r;
    try {
        if (!starts_with_https(req.url)) {
            r.error = shown_url(req.url) + ": only https:// URLs are fetched";
            return r;
        }
        Handle h;
        if (h.get() == nullptr) {
            r.error = shown_url(req.url) + ": libcurl could not make a handle";
            return r;
        }
        Transfer t;
        t.max_bytes = req.max_bytes;
        char errbuf[CURL_ERROR_SIZE] = {0};
        CURL* c = h.get();
        bool set_ok = true;
        auto set = [&](CURLcode rc) { set_ok = set_ok && rc == CURLE_OK; };
        set(curl_easy_setopt(c, CURLOPT_URL, req.url.c_str()));
        set(curl_easy_setopt(c, CURLOPT_PROTOCOLS, long(CURLPROTO_HTTPS)));
        set(curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, long(CURLPROTO_HTTPS)));
        set(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L));
        set(curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L));
        set(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L));
        set(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf));
        set(curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, req.connect_timeout));
        set(curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L));
        set(curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, req.low_speed_time));
        set(curl_easy_setopt(c, CURLOPT_TIMEOUT, req.total_timeout));
        set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L));
        set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L));
        set(curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(req.max_bytes)));
        set(curl_easy_setopt(c, CURLOPT_USERAGENT, "ringfence-sync"));
        set(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body));
        set(curl_easy_setopt(c, CURLOPT_WRITEDATA, &t));
        set(curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header));
        set(curl_easy_setopt(c, CURLOPT_HEADERDATA, &t));
        if (!req.ca_file.empty()) {
            set(curl_easy_setopt(c, CURLOPT_CAINFO, req.ca_file.c_str()));
        }
        if (!req.pinned_key.empty()) {
            set(curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, req.pinned_key.c_str()));
        }
        if (!req.etag.empty()) {
            set_ok = set_ok && h.add_header("If-None-Match: " + req.etag);
        }
        if (!req.last_modified.empty()) {
            set_ok = set_ok && h.add_header("If-Modified-Since: " + req.last_modified);
        }
        if (h.headers() != nullptr) {
            set(curl_easy_setopt(c, CURLOPT_HTTPHEADER, h.headers()));
        }
        if (!set_ok) {
            r.error = shown_url(req.url) + ": this libcurl lacks an option the fetch needs (" +
                      http_library_version() + ")";
            return r;
        }
        CURLcode rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.http_code);
        if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
            r.error = shown_url(req.url) + ": response larger than " + std::to_string(req.max_bytes) +
                      " bytes, transfer stopped";
            return r;
        }
        if (t.out_of_memory) {
            r.error = shown_url(req.url) + ": out of memory while reading the response";
            return r;
        }
        if (rc != CURLE_OK) {
            std::string why = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
            if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
                why = "redirect to a URL that is not https:// refused (" + why + ")";
            } else if (rc == CURLE_OPERATION_TIMEDOUT) {
                why = "timed out (" + why + ")";
            }
            r.error = shown_url(req.url) + ": " + escape_for_log(why, 300);
            return r;
        }
        r.etag = t.etag;
        r.last_modified = t.last_modified;
        if (r.http_code == 304) {
            r.status = FetchStatus::not_modified;
            return r;
        }
        if (r.http_code != 200) {
            r.error = shown_url(req.url) + ": HTTP status " + std::to_string(r.http_code) + " (expected 200)";
            return r;
        }
        r.body = std::move(t.body);
        r.status = FetchStatus::ok;
        return r;
    } catch (const std::exception& e) {
        r.status = FetchStatus::failed;
        r.error = shown_url(req.url) + ": " + e.what();
        return r;
    }
}

}  // namespace ringfence::core
