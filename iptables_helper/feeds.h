// SPDX-License-Identifier: BSD-3-Clause
// Blocklist feeds (`set NAME url ...`): the text a feed server sends, parsed
// strictly, and the check that no entry blocks what must never be blocked.
// Pure code: the caller fetches, gathers this host's addresses and SSH peers,
// and writes the result as the set's cache file.
//
// A feed is all or nothing: one junk line, one forbidden entry, too many
// entries or no entry at all refuses the whole download, and the last good
// list stays in force. A feed server that is wrong or hostile can then at
// worst keep the list from changing, never lock the administrators out.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "core/ip.h"
#include "iptables_helper/firewall_conf.h"

namespace ringfence::firewall {

struct FeedList {
    std::vector<core::CidrRange> v4, v6;  // deduplicated, in feed order
    std::optional<time_t> expires;        // Spamhaus "; Expires:" header
    size_t size() const { return v4.size() + v6.size(); }
};

struct FeedParse {
    std::optional<FeedList> list;
    std::string error;  // when !list: "line N: ..." or why, one line
};

// plain: one address or CIDR per line, '#' or ';' starts a comment.
// spamhaus: "CIDR ; SBLnnn" lines and ';' comment lines, one of which may
// be "; Expires: <RFC 1123 date>"; an expired list (expires <= now) is refused.
// More than max_entries entries, or none, is an error.
FeedParse parse_feed(const std::string& body, FeedFormat format, size_t max_entries, time_t now);

// Something a feed may never block, and why (for the refusal message).
struct Protected {
    core::CidrRange range;
    std::string why;  // "the never list (firewall.conf:4)", "this host's address", ...
};

// What the policy itself protects: loopback, the `never` list, and every
// source network of an `allow in` rule (the management networks).
std::vector<Protected> policy_protected(const Policy& policy);

// "" or the refusal: the first entry that is /0 or overlaps a protected
// range ("'10.0.0.0/8' covers 10.1.0.5, the source of an SSH session").
std::string check_feed(const FeedList& list, const std::vector<Protected>& protect);

// The cache file: a comment line, then one CIDR per line (the `set ... file`
// format, read back by Policy::compile).
std::string render_feed_cache(const FeedList& list, const std::string& url);

}  // namespace ringfence::firewall
