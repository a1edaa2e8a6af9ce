// SPDX-License-Identifier: BSD-3-Clause
// Logical lines of a hosts file, cut exactly as libwrap's xgets() does.
#include "tcpd_shim/hosts_lines.h"

#include <algorithm>
#include <string_view>

namespace ringfence::tcpd::detail {

std::vector<LogicalLine> split_logical_lines(const std::string& raw) {
    std::vector<LogicalLine> out;
    size_t pos = 0;
    int line = 0;  // '\n' consumed so far
    while (pos < raw.size()) {
        LogicalLine ll;
        ll.first_line = line + 1;
        size_t room = 2048;  // xgets' `len`
        for (;;) {
            if (pos >= raw.size()) {
                // fgets() at end of file: xgets returns what it has, if anything.
                if (ll.text.empty()) {
                    return out;
                }
                ll.status = LogicalLine::Status::no_newline;
                break;
            }
            size_t nl = raw.find('\n', pos);
            size_t avail = (nl == std::string::npos ? raw.size() : nl + 1) - pos;
            size_t got = std::min(avail, room - 1);
            std::string_view seg(raw.data() + pos, got);
            pos += got;
            Segment s{ll.text.size(), line + 1, std::string(seg)};
            if (!s.text.empty() && s.text.back() == '\n') {
                s.text.pop_back();
            }
            ll.segments.push_back(s);
            ll.last_line = line + 1;
            if (got >= 1 && seg.back() == '\n') {
                ++line;
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
        out.push_back(std::move(ll));
        if (out.back().status != LogicalLine::Status::ok) {
            break;  // libwrap ignores the rest of the table
        }
    }
    return out;
}

}  // namespace ringfence::tcpd::detail
