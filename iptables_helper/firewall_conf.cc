// SPDX-License-Identifier: BSD-3-Clause
// The firewall.conf compiler: words -> statements -> an immutable Policy.
#include "iptables_helper/firewall_conf.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "core/text.h"
#include "iptables_helper/plan.h"

namespace ringfence::firewall {

using core::CidrRange;
using core::Diagnostic;
using core::Diagnostics;
using core::IpAddress;
using core::iequals;

const char* direction_name(Direction d) { return d == Direction::in ? "in" : "out"; }

const char* action_name(Action a) {
    switch (a) {
        case Action::accept:
            return "accept";
        case Action::drop:
            return "drop";
        case Action::reject:
            return "reject";
    }
    return "drop";
}

const char* feed_format_name(FeedFormat f) { return f == FeedFormat::spamhaus ? "spamhaus" : "plain"; }

const char* protocol_name(Protocol p) {
    switch (p) {
        case Protocol::any:
            return "all";
        case Protocol::tcp:
            return "tcp";
        case Protocol::udp:
            return "udp";
        case Protocol::icmp:
            return "icmp";
        case Protocol::icmpv6:
            return "icmpv6";
    }
    return "all";
}

bool Peers::empty_in(IpAddress::Family f) const {
    if (any || !sets.empty()) {
        return false;
    }
    return f == IpAddress::Family::v4 ? v4.empty() : v6.empty();
}

const Service* Policy::find_service(const std::string& name) const {
    for (const Service& s : services_) {
        if (s.name == name) {
            return &s;
        }
    }
    return nullptr;
}

const AddressSet* Policy::find_set(const std::string& name) const {
    for (const AddressSet& s : sets_) {
        if (s.name == name) {
            return &s;
        }
    }
    return nullptr;
}

namespace {

using core::Word;

std::vector<Word> split_words(std::string_view line) { return core::config_words(line); }

bool is_name_char(char c, bool first) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') {
        return true;
    }
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

bool is_name(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (size_t i = 0; i < s.size(); ++i) {
        if (!is_name_char(s[i], i == 0)) {
            return false;
        }
    }
    return true;
}

bool is_reserved(std::string_view s) {
    for (std::string_view k : {"all", "any", "from", "to", "tcp", "udp", "icmp", "icmpv6", "in", "out"}) {
        if (iequals(s, k)) {
            return true;
        }
    }
    return false;
}

using core::parse_decimal;

std::optional<Protocol> parse_protocol(std::string_view s) {
    if (iequals(s, "tcp")) {
        return Protocol::tcp;
    }
    if (iequals(s, "udp")) {
        return Protocol::udp;
    }
    if (iequals(s, "icmp")) {
        return Protocol::icmp;
    }
    if (iequals(s, "icmpv6") || iequals(s, "ipv6-icmp")) {
        return Protocol::icmpv6;
    }
    return std::nullopt;
}

// Levenshtein distance, case-insensitive, for "did you mean" (names are short).
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// Names admins type for well-known services, with the port they mean.
struct WellKnown {
    const char* name;
    Protocol protocol;
    uint16_t port;
};
constexpr WellKnown kWellKnown[] = {
    {"ssh", Protocol::tcp, 22},      {"http", Protocol::tcp, 80},    {"https", Protocol::tcp, 443},
    {"snmp", Protocol::udp, 161},    {"ntp", Protocol::udp, 123},    {"dns", Protocol::udp, 53},
    {"domain", Protocol::udp, 53},   {"syslog", Protocol::udp, 514}, {"iscsi", Protocol::tcp, 3260},
    {"cim", Protocol::tcp, 5989},    {"wbem", Protocol::tcp, 5989},  {"slp", Protocol::udp, 427},
    {"authd", Protocol::tcp, 902},   {"vmware-authd", Protocol::tcp, 902},
};

bool spec_has_port(const PortSpec& spec, Protocol protocol, uint16_t port) {
    if (spec.protocol != protocol) {
        return false;
    }
    for (const PortRange& r : spec.ports) {
        if (r.lo <= port && port <= r.hi) {
            return true;
        }
    }
    return false;
}

std::string dirname_of(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) {
        return "";
    }
    return path.substr(0, slash + 1);
}

}  // namespace

class Compiler {
public:
    Compiler(const std::string& file, const CompileOptions& options, Diagnostics* diags, Policy* policy)
        : file_(file), options_(options), diags_(diags), policy_(policy) {}

    void compile(const std::vector<std::string>& lines) {
        for (size_t i = 0; i < lines.size(); ++i) {
            line_no_ = static_cast<int>(i) + 1;
            line_ = &lines[i];
            statement(split_words(lines[i]));
        }
        policy_->valid_ = errors_ == 0;
    }

private:
    void report(core::Severity sev, size_t col, std::string message, std::string hint) {
        Diagnostic d;
        d.file = file_;
        d.line = line_no_;
        d.column = static_cast<int>(col) + 1;
        d.severity = sev;
        d.message = std::move(message);
        d.hint = std::move(hint);
        d.source_line = *line_;
        diags_->push_back(std::move(d));
    }
    bool error(size_t col, std::string message, std::string hint = "") {
        ++errors_;
        report(core::Severity::error, col, std::move(message), std::move(hint));
        return false;
    }
    bool error(const Word& w, std::string message, std::string hint = "") {
        return error(w.offset, std::move(message), std::move(hint));
    }
    size_t end_col() const { return line_->size(); }
    std::string quoted(const Word& w) const { return "'" + core::escape_for_log(std::string(w.text), 60) + "'"; }

    // "did you mean": the same name in another case, a defined service
    // that holds the well-known port of the name typed ("ssh" -> the
    // service with tcp/22), or a defined name one or two edits away.
    std::string unknown_service_hint(std::string_view name) const {
        for (const Service& s : policy_->services_) {
            if (iequals(s.name, name)) {
                return "service names are case-sensitive: did you mean '" + s.name + "'?";
            }
        }
        for (const WellKnown& k : kWellKnown) {
            if (!iequals(k.name, name)) {
                continue;
            }
            std::string port = std::string(protocol_name(k.protocol)) + "/" + std::to_string(k.port);
            for (const Service& s : policy_->services_) {
                for (const PortSpec& spec : s.specs) {
                    if (spec_has_port(spec, k.protocol, k.port)) {
                        return "did you mean '" + s.name + "' (" + port + ")? Or define it: service " +
                               std::string(name) + " " + port;
                    }
                }
            }
            return "define it first: service " + std::string(name) + " " + port;
        }
        const Service* best = nullptr;
        size_t best_distance = 3;
        for (const Service& s : policy_->services_) {
            size_t d = edit_distance(s.name, name);
            if (d < best_distance) {
                best = &s;
                best_distance = d;
            }
        }
        if (best != nullptr && name.size() > best_distance + 1) {
            return "did you mean '" + best->name + "'?";
        }
        return "define it first: service " + std::string(name) + " tcp/PORT";
    }

    void statement(const std::vector<Word>& w) {
        if (w.empty()) {
            return;
        }
        if (w.size() > kMaxWordsPerLine) {
            error(w[kMaxWordsPerLine], "too many words on one line (at most " + std::to_string(kMaxWordsPerLine) + ")",
                  "put long address lists into a set file: set NAME file PATH");
            return;
        }
        std::string_view k = w[0].text;
        if (iequals(k, "policy")) {
            policy_statement(w);
        } else if (iequals(k, "service")) {
            service_statement(w);
        } else if (iequals(k, "set")) {
            set_statement(w);
        } else if (iequals(k, "allow")) {
            rule_statement(w, Action::accept);
        } else if (iequals(k, "deny") || iequals(k, "drop")) {
            rule_statement(w, Action::drop);
        } else if (iequals(k, "reject")) {
            rule_statement(w, Action::reject);
        } else if (iequals(k, "log")) {
            log_statement(w);
        } else if (iequals(k, "never")) {
            never_statement(w);
        } else {
            error(w[0], "unknown statement " + quoted(w[0]),
                  "expected policy, service, set, allow, deny, reject, log or never");
        }
    }

    std::optional<Direction> direction(const std::vector<Word>& w, size_t i) {
        if (i >= w.size()) {
            error(end_col(), "expected 'in' or 'out'");
            return std::nullopt;
        }
        if (iequals(w[i].text, "in")) {
            return Direction::in;
        }
        if (iequals(w[i].text, "out")) {
            return Direction::out;
        }
        error(w[i], "expected 'in' or 'out', found " + quoted(w[i]));
        return std::nullopt;
    }

    void policy_statement(const std::vector<Word>& w) {
        auto dir = direction(w, 1);
        if (!dir) {
            return;
        }
        if (w.size() < 3) {
            error(end_col(), "expected drop, reject or accept after 'policy " + std::string(direction_name(*dir)) + "'");
            return;
        }
        std::optional<Action> a;
        if (iequals(w[2].text, "drop")) {
            a = Action::drop;
        } else if (iequals(w[2].text, "reject")) {
            a = Action::reject;
        } else if (iequals(w[2].text, "accept")) {
            a = Action::accept;
        } else {
            error(w[2], "expected drop, reject or accept, found " + quoted(w[2]));
            return;
        }
        if (w.size() > 3) {
            error(w[3], "unexpected " + quoted(w[3]) + " after the policy");
            return;
        }
        int& seen = *dir == Direction::in ? policy_in_line_ : policy_out_line_;
        if (seen != 0) {
            error(w[0], std::string("policy ") + direction_name(*dir) + " already set at " + file_ + ":" +
                            std::to_string(seen),
                  "keep one policy line per direction");
            return;
        }
        seen = line_no_;
        (*dir == Direction::in ? policy_->default_in_ : policy_->default_out_) = *a;
    }

    // PORTS after "proto/": comma list of PORT or LO-HI.
    bool parse_ports(const Word& w, size_t start, std::vector<PortRange>* out) {
        std::string_view s = w.text.substr(start);
        size_t pos = 0;
        while (true) {
            size_t comma = s.find(',', pos);
            std::string_view item = s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
            size_t col = w.offset + start + pos;
            if (item.empty()) {
                return error(col, "empty port in " + quoted(w), "ports are PORT or LO-HI, separated by commas: tcp/22,443");
            }
            size_t dash = item.find('-');
            std::string_view lo_s = item.substr(0, dash);
            std::string_view hi_s = dash == std::string_view::npos ? item : item.substr(dash + 1);
            auto lo = parse_decimal(lo_s, 65535);
            auto hi = parse_decimal(hi_s, 65535);
            if (!lo || *lo == 0) {
                return error(col, "'" + std::string(lo_s) + "' is not a port (1..65535)",
                             "ports are PORT or LO-HI, separated by commas: tcp/2050-2250,8042-8045");
            }
            if (!hi || *hi == 0) {
                return error(col + (dash == std::string_view::npos ? 0 : dash + 1),
                             "'" + std::string(hi_s) + "' is not a port (1..65535)",
                             "ports are PORT or LO-HI, separated by commas: tcp/2050-2250,8042-8045");
            }
            if (*lo > *hi) {
                return error(col, "port range " + std::string(item) + " runs backwards",
                             "write the lower port first: " + std::string(hi_s) + "-" + std::string(lo_s));
            }
            out->push_back(PortRange{static_cast<uint16_t>(*lo), static_cast<uint16_t>(*hi)});
            if (comma == std::string_view::npos) {
                return true;
            }
            pos = comma + 1;
        }
    }

    bool parse_types(const Word& w, size_t start, std::vector<uint8_t>* out) {
        std::string_view s = w.text.substr(start);
        size_t pos = 0;
        while (true) {
            size_t comma = s.find(',', pos);
            std::string_view item = s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
            auto t = parse_decimal(item, 255);
            if (!t) {
                return error(w.offset + start + pos, "'" + std::string(item) + "' is not an ICMP type number (0..255)",
                             "e.g. icmp/8 (echo request) or icmpv6/128");
            }
            out->push_back(static_cast<uint8_t>(*t));
            if (comma == std::string_view::npos) {
                return true;
            }
            pos = comma + 1;
        }
    }

    // tcp/PORTS, udp/PORTS, icmp[/TYPES], icmpv6[/TYPES], bare tcp/udp.
    // Returns nullopt after an error, or when `w` is not a port spec at all
    // and `must` is false.
    std::optional<PortSpec> port_spec(const Word& w, bool must) {
        size_t slash = w.text.find('/');
        std::string_view proto_s = w.text.substr(0, slash);
        auto proto = parse_protocol(proto_s);
        if (!proto) {
            if (must || slash != std::string_view::npos) {
                error(w, "'" + std::string(proto_s) + "' is not a protocol",
                      "expected tcp/PORTS, udp/PORTS, icmp or icmpv6, e.g. tcp/22 or udp/902");
            }
            return std::nullopt;
        }
        PortSpec spec;
        spec.protocol = *proto;
        spec.text = std::string(w.text);
        if (slash == std::string_view::npos) {
            return spec;
        }
        if (slash + 1 == w.text.size()) {
            error(w.offset + slash + 1, "expected ports after " + quoted(w), "e.g. tcp/22 or tcp/2050-2250");
            return std::nullopt;
        }
        bool ok = (*proto == Protocol::tcp || *proto == Protocol::udp) ? parse_ports(w, slash + 1, &spec.ports)
                                                                      : parse_types(w, slash + 1, &spec.types);
        if (!ok) {
            return std::nullopt;
        }
        return spec;
    }

    void service_statement(const std::vector<Word>& w) {
        if (w.size() < 2) {
            error(end_col(), "expected a service name after 'service'", "service NAME tcp/PORTS ...");
            return;
        }
        const Word& name = w[1];
        if (!is_name(name.text) || name.text.size() > kMaxServiceName) {
            error(name, quoted(name) + " is not a valid service name",
                  "names start with a letter or '_' and hold letters, digits, '_', '-', '.' (at most 64)");
            return;
        }
        if (is_reserved(name.text)) {
            error(name, quoted(name) + " is a keyword and cannot name a service");
            return;
        }
        if (const Service* s = policy_->find_service(std::string(name.text))) {
            error(name, "service " + quoted(name) + " already defined at " + file_ + ":" + std::to_string(s->line),
                  "give each service one line, listing all its ports");
            return;
        }
        if (w.size() < 3) {
            error(end_col(), "expected ports for service " + quoted(name), "e.g. service https tcp/443");
            return;
        }
        Service svc;
        svc.name = std::string(name.text);
        svc.line = line_no_;
        for (size_t i = 2; i < w.size(); ++i) {
            auto spec = port_spec(w[i], true);
            if (!spec) {
                return;
            }
            svc.specs.push_back(std::move(*spec));
        }
        policy_->services_.push_back(std::move(svc));
    }

    void set_statement(const std::vector<Word>& w) {
        if (w.size() < 2) {
            error(end_col(), "expected a set name after 'set'", "set NAME file PATH");
            return;
        }
        const Word& name = w[1];
        if (!is_name(name.text) || name.text.find('.') != std::string_view::npos || name.text.size() > kMaxSetName) {
            error(name, quoted(name) + " is not a valid set name",
                  "set names start with a letter or '_' and hold letters, digits, '_', '-' (at most " +
                      std::to_string(kMaxSetName) + ", so that ipset's names fit)");
            return;
        }
        if (is_reserved(name.text)) {
            error(name, quoted(name) + " is a keyword and cannot name a set");
            return;
        }
        if (const AddressSet* s = policy_->find_set(std::string(name.text))) {
            error(name, "set " + quoted(name) + " already defined at " + file_ + ":" + std::to_string(s->line));
            return;
        }
        if (w.size() >= 3 && iequals(w[2].text, "url")) {
            url_set_statement(w);
            return;
        }
        if (w.size() < 3 || !iequals(w[2].text, "file")) {
            error(w.size() < 3 ? end_col() : w[2].offset, "expected 'file PATH' or 'url URL' after the set name",
                  "set NAME file PATH, or set NAME url https://...");
            return;
        }
        if (w.size() < 4) {
            error(end_col(), "expected a path after 'file'", "set NAME file PATH");
            return;
        }
        if (w.size() > 4) {
            error(w[4], "unexpected " + quoted(w[4]) + " after the path", "paths cannot contain blanks");
            return;
        }
        AddressSet set;
        set.name = std::string(name.text);
        set.path = std::string(w[3].text);
        set.line = line_no_;
        std::string path = set.path[0] == '/' ? set.path : dirname_of(file_) + set.path;
        core::ReadResult rr = options_.read_set_file ? options_.read_set_file(path) : core::read_config_file(path);
        if (rr.status == core::ReadStatus::missing) {
            error(w[3], "set file '" + core::escape_for_log(path, 200) + "' does not exist",
                  "create it (it may be empty) or fix the path");
            return;
        }
        if (rr.status != core::ReadStatus::ok) {
            ++errors_;
            diags_->push_back(rr.error);
            error(w[3], "set file '" + core::escape_for_log(path, 200) + "' cannot be read safely");
            return;
        }
        if (!load_set_entries(path, rr.text.lines, &set)) {
            error(w[3], "set " + quoted(name) + " has errors in '" + core::escape_for_log(path, 200) + "'");
            return;
        }
        policy_->sets_.push_back(std::move(set));
    }

    // set NAME url URL [every DURATION] [format plain|spamhaus] [max N] [cache PATH]
    void url_set_statement(const std::vector<Word>& w) {
        const char* usage = "set NAME url https://... [every 1h] [format plain|spamhaus] [max N] [cache PATH]";
        if (w.size() < 4) {
            error(end_col(), "expected a URL after 'url'", usage);
            return;
        }
        const Word& url = w[3];
        if (url.text.size() < 9 || !iequals(url.text.substr(0, 8), "https://") || url.text.size() > 2048) {
            error(url, quoted(url) + " is not an https:// URL", "feeds are fetched over HTTPS only");
            return;
        }
        AddressSet set;
        set.name = std::string(w[1].text);
        set.line = line_no_;
        Feed feed;
        feed.url = std::string(url.text);
        std::string cache;
        for (size_t i = 4; i < w.size(); i += 2) {
            const Word& k = w[i];
            if (i + 1 >= w.size()) {
                error(end_col(), "expected a value after " + quoted(k), usage);
                return;
            }
            const Word& v = w[i + 1];
            if (iequals(k.text, "every")) {
                auto secs = duration(v.text);
                if (!secs || *secs < 60) {
                    error(v, quoted(v) + " is not a duration of at least a minute", "e.g. every 30m, every 1h, every 1d");
                    return;
                }
                feed.every_seconds = *secs;
            } else if (iequals(k.text, "format")) {
                if (iequals(v.text, "plain")) {
                    feed.format = FeedFormat::plain;
                } else if (iequals(v.text, "spamhaus")) {
                    feed.format = FeedFormat::spamhaus;
                } else {
                    error(v, "unknown feed format " + quoted(v), "format plain or format spamhaus");
                    return;
                }
            } else if (iequals(k.text, "max")) {
                auto n = parse_decimal(v.text, long(kMaxSetEntries));
                if (!n || *n == 0) {
                    error(v, quoted(v) + " is not an entry count (1.." + std::to_string(kMaxSetEntries) + ")");
                    return;
                }
                feed.max_entries = size_t(*n);
            } else if (iequals(k.text, "cache")) {
                cache = std::string(v.text);
            } else {
                error(k, "unexpected " + quoted(k) + " in a feed set", usage);
                return;
            }
        }
        set.path = cache.empty() ? std::string(kFeedCacheDir) + "/" + set.name + ".list" : cache;
        set.feed = feed;
        std::string path = set.path[0] == '/' ? set.path : dirname_of(file_) + set.path;
        core::ReadResult rr = options_.read_set_file ? options_.read_set_file(path) : core::read_config_file(path);
        if (rr.status == core::ReadStatus::missing) {
            policy_->sets_.push_back(std::move(set));  // not fetched yet: empty
            return;
        }
        if (rr.status != core::ReadStatus::ok) {
            ++errors_;
            diags_->push_back(rr.error);
            error(w[1], "the last good list of feed " + quoted(w[1]) + " ('" + core::escape_for_log(path, 200) +
                            "') cannot be read safely");
            return;
        }
        if (!load_set_entries(path, rr.text.lines, &set)) {
            error(w[1], "feed " + quoted(w[1]) + " has errors in its last good list '" +
                            core::escape_for_log(path, 200) + "'");
            return;
        }
        policy_->sets_.push_back(std::move(set));
    }

    // N, Ns, Nm, Nh, Nd -> seconds.
    static std::optional<long> duration(std::string_view s) {
        if (s.empty()) {
            return std::nullopt;
        }
        long unit = 1;
        char last = s.back();
        if (last == 's' || last == 'm' || last == 'h' || last == 'd') {
            unit = last == 's' ? 1 : last == 'm' ? 60 : last == 'h' ? 3600 : 86400;
            s.remove_suffix(1);
        }
        auto n = parse_decimal(s, 100000000);
        if (!n) {
            return std::nullopt;
        }
        return *n * unit;
    }

    // never ADDRESS...: no feed may list these (checked by ringfence sync).
    void never_statement(const std::vector<Word>& w) {
        if (w.size() < 2) {
            error(end_col(), "expected addresses after 'never'", "never 10.0.0.0/24 2001:db8::/48");
            return;
        }
        for (size_t i = 1; i < w.size(); ++i) {
            std::string why;
            auto r = network(w[i], &why);
            if (!r) {
                error(w[i], why, "expected an IPv4 or IPv6 address or CIDR, e.g. 192.0.2.0/24 or 2001:db8::/32");
                return;
            }
            policy_->never_.push_back(*r);
        }
    }

    // One address or CIDR per line; blank lines and '#' comments ignored.
    // Errors name the set file's own path:line:col.
    bool load_set_entries(const std::string& path, const std::vector<std::string>& lines, AddressSet* set) {
        int before = errors_;
        size_t entries = 0;
        for (size_t i = 0; i < lines.size(); ++i) {
            std::vector<Word> words = split_words(lines[i]);
            if (words.empty()) {
                continue;
            }
            auto at = [&](const Word& w, std::string msg, std::string hint) {
                ++errors_;
                Diagnostic d;
                d.file = path;
                d.line = static_cast<int>(i) + 1;
                d.column = static_cast<int>(w.offset) + 1;
                d.message = std::move(msg);
                d.hint = std::move(hint);
                d.source_line = lines[i];
                diags_->push_back(std::move(d));
            };
            if (words.size() > 1) {
                at(words[1], "expected one address or CIDR per line, found a second word",
                   "put each address on its own line");
                continue;
            }
            if (++entries > kMaxSetEntries) {
                at(words[0], "too many entries (at most " + std::to_string(kMaxSetEntries) + ")", "");
                break;
            }
            std::string why;
            auto range = network(words[0], &why);
            if (!range) {
                at(words[0], why, "expected an IPv4 or IPv6 address or CIDR, e.g. 192.0.2.0/24 or 2001:db8::/32");
                continue;
            }
            add_range(*range, &set->v4, &set->v6, true);
            if (errors_ - before > 20) {
                break;  // one broken file should not flood the terminal
            }
        }
        return errors_ == before;
    }

    // An address or CIDR, with v4-mapped IPv6 moved to IPv4.
    std::optional<CidrRange> network(const Word& w, std::string* why) {
        if (w.text.size() > 64) {
            *why = "'" + core::escape_for_log(std::string(w.text), 60) + "' is too long for an address";
            return std::nullopt;
        }
        auto r = CidrRange::parse(w.text, why);
        if (!r) {
            return std::nullopt;
        }
        if (r->base().is_v4_mapped()) {
            if (r->prefix_len() < 96) {
                *why = "'" + std::string(w.text) + "' mixes IPv4-mapped and other IPv6 addresses";
                return std::nullopt;
            }
            return CidrRange::parse(r->base().unmapped().to_string() + "/" + std::to_string(r->prefix_len() - 96), why);
        }
        return r;
    }

    // /0 becomes two /1 halves: ipset's hash:net does not take /0, and the
    // halves match exactly the same addresses.
    static void add_range(const CidrRange& r, std::vector<CidrRange>* v4, std::vector<CidrRange>* v6, bool split_zero) {
        auto& dst = r.base().is_v4() ? *v4 : *v6;
        if (split_zero && r.prefix_len() == 0) {
            std::string err;
            const char* halves[2][2] = {{"0.0.0.0/1", "128.0.0.0/1"}, {"::/1", "8000::/1"}};
            int f = r.base().is_v4() ? 0 : 1;
            dst.push_back(*CidrRange::parse(halves[f][0], &err));
            dst.push_back(*CidrRange::parse(halves[f][1], &err));
            return;
        }
        dst.push_back(r);
    }

    bool looks_like_address(std::string_view s) {
        return !s.empty() && ((s[0] >= '0' && s[0] <= '9') || s.find(':') != std::string_view::npos ||
                              s.find('/') != std::string_view::npos);
    }

    void rule_statement(const std::vector<Word>& w, Action action) {
        auto dir = direction(w, 1);
        if (!dir) {
            return;
        }
        const char* peer_kw = *dir == Direction::in ? "from" : "to";
        const char* wrong_kw = *dir == Direction::in ? "to" : "from";
        Rule rule;
        rule.action = action;
        rule.direction = *dir;
        rule.line = line_no_;
        rule.source = std::string(core::trim(*line_));
        size_t i = 2;
        bool saw_all = false;
        for (; i < w.size(); ++i) {
            const Word& t = w[i];
            if (iequals(t.text, peer_kw)) {
                break;
            }
            if (iequals(t.text, wrong_kw)) {
                error(t, std::string("'") + wrong_kw + "' does not go with '" + direction_name(*dir) + "'",
                      std::string("rules 'in' name their sources with 'from', rules 'out' their destinations with "
                                  "'to'"));
                return;
            }
            if (iequals(t.text, "all")) {
                saw_all = true;
                rule.targets.push_back("all");
                continue;
            }
            if (const Service* s = policy_->find_service(std::string(t.text))) {
                rule.targets.push_back(s->name);
                rule.specs.insert(rule.specs.end(), s->specs.begin(), s->specs.end());
                continue;
            }
            if (t.text.find('/') != std::string_view::npos || parse_protocol(t.text)) {
                auto spec = port_spec(t, true);
                if (!spec) {
                    return;
                }
                rule.targets.push_back(spec->text);
                rule.specs.push_back(std::move(*spec));
                continue;
            }
            if (looks_like_address(t.text)) {
                error(t, "expected a service or PROTO/PORTS, found the address " + quoted(t),
                      std::string("write '") + peer_kw + "' before addresses");
                return;
            }
            error(t, "unknown service " + quoted(t), unknown_service_hint(t.text));
            return;
        }
        if (saw_all && rule.targets.size() > 1) {
            error(w[2], "'all' cannot be combined with services or ports", "write 'all' alone");
            return;
        }
        if (rule.targets.empty()) {
            rule.targets.push_back("all");
        }
        if (rule.specs.empty()) {
            rule.specs.push_back(PortSpec{Protocol::any, {}, {}, "all"});
        }
        if (i < w.size()) {
            if (i + 1 == w.size()) {
                error(end_col(), std::string("expected addresses or set names after '") + peer_kw + "'");
                return;
            }
            if (!peers(w, i + 1, &rule.peers)) {
                return;
            }
        } else if (action != Action::accept) {
            error(end_col(),
                  std::string(action == Action::drop ? "deny" : "reject") + " " + direction_name(*dir) + " needs '" +
                      peer_kw + " ADDRESSES'",
                  std::string("a ") + (action == Action::drop ? "deny" : "reject") +
                      " rule without addresses would refuse everyone; use 'policy " + direction_name(*dir) +
                      "' for the default");
            return;
        }
        policy_->rules_.push_back(std::move(rule));
    }

    bool peers(const std::vector<Word>& w, size_t start, Peers* p) {
        p->any = false;
        bool saw_any = false;
        for (size_t i = start; i < w.size(); ++i) {
            const Word& t = w[i];
            if (iequals(t.text, "any")) {
                saw_any = true;
                continue;
            }
            if (looks_like_address(t.text)) {
                std::string why;
                auto r = network(t, &why);
                if (!r) {
                    return error(t, why, "expected an IPv4 or IPv6 address or CIDR, e.g. 192.0.2.0/24 or 2001:db8::/32");
                }
                if (r->had_host_bits()) {
                    report(core::Severity::warning, t.offset,
                           "host bits set in " + quoted(t) + "; the rule covers " + r->to_string(),
                           "perhaps you meant " + r->to_string());
                }
                if (r->prefix_len() == 0) {
                    report(core::Severity::warning, t.offset, quoted(t) + " matches every " +
                                                                  (r->base().is_v4() ? "IPv4" : "IPv6") + " address",
                           "write 'any' if that is what you mean");
                }
                add_range(*r, &p->v4, &p->v6, false);
                continue;
            }
            if (const AddressSet* s = policy_->find_set(std::string(t.text))) {
                if (std::find(p->sets.begin(), p->sets.end(), s->name) == p->sets.end()) {
                    p->sets.push_back(s->name);
                }
                continue;
            }
            if (is_name(t.text) && t.text.find('.') != std::string_view::npos) {
                return error(t, quoted(t) + " is not an address or a set",
                             "host names are not resolved in a firewall; write the address");
            }
            return error(t, "unknown set " + quoted(t), "define it before use: set " +
                                                            core::escape_for_log(std::string(t.text), 40) +
                                                            " file PATH");
        }
        if (saw_any) {
            if (!p->v4.empty() || !p->v6.empty() || !p->sets.empty()) {
                return error(w[start], "'any' cannot be combined with addresses or sets", "write 'any' alone");
            }
            p->any = true;
        }
        return true;
    }

    void log_statement(const std::vector<Word>& w) {
        if (w.size() < 2 || !iequals(w[1].text, "denied")) {
            error(w.size() < 2 ? end_col() : w[1].offset, "expected 'log denied'", "log denied [rate N/min]");
            return;
        }
        if (log_line_ != 0) {
            error(w[0], "'log denied' already given at " + file_ + ":" + std::to_string(log_line_));
            return;
        }
        LogSettings log;
        log.enabled = true;
        if (w.size() > 2) {
            if (!iequals(w[2].text, "rate")) {
                error(w[2], "expected 'rate N/min' after 'log denied', found " + quoted(w[2]));
                return;
            }
            if (w.size() < 4) {
                error(end_col(), "expected N/min after 'rate'", "e.g. log denied rate 10/min");
                return;
            }
            const Word& r = w[3];
            size_t slash = r.text.find('/');
            auto n = parse_decimal(r.text.substr(0, slash), 10000);
            if (!n || *n == 0) {
                error(r, quoted(r) + " is not a rate", "a number 1..10000, then /sec, /min, /hour or /day");
                return;
            }
            std::string_view unit = slash == std::string_view::npos ? "min" : r.text.substr(slash + 1);
            if (iequals(unit, "s") || iequals(unit, "sec") || iequals(unit, "second")) {
                log.unit = "second";
            } else if (iequals(unit, "m") || iequals(unit, "min") || iequals(unit, "minute")) {
                log.unit = "minute";
            } else if (iequals(unit, "h") || iequals(unit, "hour")) {
                log.unit = "hour";
            } else if (iequals(unit, "d") || iequals(unit, "day")) {
                log.unit = "day";
            } else {
                error(r.offset + slash + 1, "'" + std::string(unit) + "' is not a time unit", "use sec, min, hour or day");
                return;
            }
            log.rate = static_cast<int>(*n);
            log.burst = std::min(log.rate, 5);
            if (w.size() > 4) {
                error(w[4], "unexpected " + quoted(w[4]) + " after the rate");
                return;
            }
        }
        log_line_ = line_no_;
        policy_->log_ = log;
    }

    std::string file_;
    const CompileOptions& options_;
    Diagnostics* diags_;
    Policy* policy_;
    int errors_ = 0;
    int line_no_ = 0;
    const std::string* line_ = nullptr;
    int policy_in_line_ = 0;
    int policy_out_line_ = 0;
    int log_line_ = 0;
};

std::shared_ptr<const Policy> Policy::compile(const std::string& file, const std::vector<std::string>& lines,
                                              const CompileOptions& options, Diagnostics* diags) {
    auto policy = std::shared_ptr<Policy>(new Policy());
    policy->file_ = file;
    Compiler(file, options, diags, policy.get()).compile(lines);
    policy->plan_ = std::make_shared<const Plan>(build_plan(*policy));
    return policy;
}

std::shared_ptr<const Policy> Policy::load(const std::string& path, Diagnostics* diags) {
    core::ReadResult rr = core::read_config_file(path);
    if (rr.status != core::ReadStatus::ok) {
        if (rr.status == core::ReadStatus::missing) {
            Diagnostic d;
            d.file = path;
            d.message = "the firewall policy does not exist";
            diags->push_back(std::move(d));
        } else {
            diags->push_back(rr.error);
        }
        auto policy = std::shared_ptr<Policy>(new Policy());
        policy->file_ = path;
        return policy;
    }
    return compile(path, rr.text.lines, CompileOptions(), diags);
}

}  // namespace ringfence::firewall
