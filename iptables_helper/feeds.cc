// SPDX-License-Identifier: BSD-3-Clause
// Feed parsing and the never-block check.
#include "iptables_helper/feeds.h"

#include <set>

#include "core/diagnostic.h"
#include "core/text.h"

namespace ringfence::firewall {

using core::CidrRange;

namespace {

std::string_view strip(std::string_view s) {
    while (!s.empty() && (core::is_blank(s.front()) || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (core::is_blank(s.back()) || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// "Tue, 02 Jan 2024 00:00:00 GMT" -> epoch seconds.
std::optional<time_t> parse_http_date(std::string_view s) {
    std::string text(strip(s));
    struct tm tm = {};
    const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    return timegm(&tm);
}

bool overlaps(const CidrRange& a, const CidrRange& b) {
    if (a.base().family() != b.base().family()) {
        return false;
    }
    return a.contains(b.base()) || b.contains(a.base());
}

}  // namespace

FeedParse parse_feed(const std::string& body, FeedFormat format, size_t max_entries, time_t now) {
    FeedParse out;
    FeedList list;
    std::set<std::string> seen;
    size_t line_no = 0;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t nl = body.find('\n', pos);
        std::string_view line(body.data() + pos, (nl == std::string::npos ? body.size() : nl) - pos);
        pos = nl == std::string::npos ? body.size() : nl + 1;
        ++line_no;
        auto fail = [&](const std::string& why) {
            out.error = "line " + std::to_string(line_no) + ": " + why;
            return out;
        };
        if (line.size() > 1024) {
            return fail("line longer than 1024 bytes");
        }
        std::string_view s = strip(line);
        if (format == FeedFormat::spamhaus && !s.empty() && s.front() == ';') {
            std::string_view c = strip(s.substr(1));
            if (c.size() > 8 && core::iequals(c.substr(0, 8), "Expires:")) {
                auto t = parse_http_date(c.substr(8));
                if (!t) {
                    return fail("unreadable Expires date '" + core::escape_for_log(std::string(c.substr(8)), 60) +
                                "'");
                }
                list.expires = *t;
            }
            continue;
        }
        size_t cut = s.find_first_of(format == FeedFormat::spamhaus ? ";" : "#;");
        std::string_view item = strip(s.substr(0, cut));
        if (item.empty()) {
            if (cut == std::string_view::npos || format == FeedFormat::plain) {
                continue;  // blank or comment line
            }
            return fail("expected 'CIDR ; SBLnnn', found '" + core::escape_for_log(std::string(s), 60) + "'");
        }
        if (format == FeedFormat::spamhaus && cut == std::string_view::npos) {
            return fail("expected 'CIDR ; SBLnnn', found '" + core::escape_for_log(std::string(s), 60) + "'");
        }
        for (char c : item) {
            if (core::is_blank(c)) {
                return fail("expected one address or CIDR, found '" + core::escape_for_log(std::string(item), 60) +
                            "'");
            }
        }
        if (item.size() > 64) {
            return fail("'" + core::escape_for_log(std::string(item), 60) + "' is too long for an address");
        }
        std::string why;
        auto r = CidrRange::parse(item, &why);
        if (!r) {
            return fail("'" + core::escape_for_log(std::string(item), 60) + "' is not an address or CIDR (" + why +
                        ")");
        }
        if (!seen.insert(r->to_string()).second) {
            continue;
        }
        if (list.size() >= max_entries) {
            out.error = "more than " + std::to_string(max_entries) + " entries (the set's max)";
            return out;
        }
        (r->base().is_v4() ? list.v4 : list.v6).push_back(*r);
    }
    if (list.size() == 0) {
        out.error = "no entries";
        return out;
    }
    if (list.expires && *list.expires <= now) {
        char buf[64];
        struct tm tm;
        time_t t = *list.expires;
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
        out.error = std::string("the list expired at ") + buf;
        return out;
    }
    out.list = std::move(list);
    return out;
}

std::vector<Protected> policy_protected(const Policy& policy) {
    std::vector<Protected> p;
    std::string err;
    p.push_back({*CidrRange::parse("127.0.0.0/8", &err), "loopback"});
    p.push_back({*CidrRange::parse("::1/128", &err), "loopback"});
    for (const CidrRange& r : policy.never()) {
        p.push_back({r, "the never list of " + policy.file()});
    }
    for (const Rule& rule : policy.rules()) {
        if (rule.action != Action::accept || rule.direction != Direction::in || rule.peers.any) {
            continue;
        }
        std::string why = "a management network (allowed in at " + policy.file() + ":" + std::to_string(rule.line) + ")";
        for (const auto* family : {&rule.peers.v4, &rule.peers.v6}) {
            for (const CidrRange& r : *family) {
                p.push_back({r, why});
            }
        }
    }
    return p;
}

std::string check_feed(const FeedList& list, const std::vector<Protected>& protect) {
    for (const auto* family : {&list.v4, &list.v6}) {
        for (const CidrRange& r : *family) {
            if (r.prefix_len() == 0) {
                return "'" + r.to_string() + "' lists every address";
            }
            for (const Protected& p : protect) {
                if (overlaps(r, p.range)) {
                    return "'" + r.to_string() + "' overlaps " + p.range.to_string() + ", " + p.why;
                }
            }
        }
    }
    return "";
}

std::string render_feed_cache(const FeedList& list, const std::string& url) {
    std::string out = "# last good list of " + core::escape_for_log(url, 200) + " (written by ringfence sync)\n";
    out.reserve(out.size() + list.size() * 20);
    for (const auto* family : {&list.v4, &list.v6}) {
        for (const CidrRange& r : *family) {
            out += r.to_string();
            out += '\n';
        }
    }
    return out;
}

}  // namespace ringfence::firewall
