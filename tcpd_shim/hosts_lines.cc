// SPDX-License-Identifier: BSD-3-Clause
// Logical lines of a hosts file, cut exactly as libwrap's xgets() does.
#include "tcpd_shim/hosts_lines.h"

#include <algorithm>
#include <cstring>

namespace ringfence::tcpd::detail {

bool LineSplitter::next(LogicalLine* out) {
    if (done_ || pos_ >= raw_.size()) {
        return false;
    }
    LogicalLine& ll = *out;
    ll.text.clear();
    ll.segments.clear();
    ll.status = LogicalLine::Status::ok;
    ll.first_line = line_ + 1;
    ll.last_line = 0;
    size_t room = 2048;  // xgets' `len`
    for (;;) {
        if (pos_ >= raw_.size()) {
            // fgets() at end of file: xgets returns what it has, if anything.
            if (ll.text.empty()) {
                done_ = true;
                return false;
            }
            ll.status = LogicalLine::Status::no_newline;
            break;
        }
        const void* nl_p = std::memchr(raw_.data() + pos_, '\n', raw_.size() - pos_);
        size_t avail = (nl_p == nullptr ? raw_.size() : static_cast<size_t>(static_cast<const char*>(nl_p) - raw_.data()) + 1) - pos_;
        size_t got = std::min(avail, room - 1);
        std::string_view seg = raw_.substr(pos_, got);
        pos_ += got;
        Segment s{ll.text.size(), line_ + 1, seg};
        if (!s.text.empty() && s.text.back() == '\n') {
            s.text.remove_suffix(1);
        }
        ll.segments.push_back(s);
        ll.last_line = line_ + 1;
        if (got >= 1 && seg.back() == '\n') {
            ++line_;
            if (got >= 2 && seg[got - 2] == '\\') {
                ll.text.append(seg.substr(0, got - 2));
                room -= got - 2;
                if (room == 1) {
                    ll.status = LogicalLine::Status::too_long;
                    break;
                }
                continue;
            }
            ll.text.append(seg.substr(0, got - 1));
            break;
        }
        ll.text.append(seg);
        room -= got;
        if (room == 1) {
            ll.status = LogicalLine::Status::too_long;
            break;
        }
    }
    if (ll.status != LogicalLine::Status::ok) {
        done_ = true;  // libwrap ignores the rest of the table
    }
    return true;
}

std::vector<LogicalLine> split_logical_lines(const std::string& raw) {
    std::vector<LogicalLine> out;
    LineSplitter split(raw);
    LogicalLine ll;
    while (split.next(&ll)) {
        out.push_back(ll);
    }
    return out;
}

}  // namespace ringfence::tcpd::detail
