// SPDX-License-Identifier: BSD-3-Clause
// The hosts_access(5) language: compile once, evaluate as a pure function.
// Decisions follow Debian's libwrap 7.6.q on well-formed files (see
// /work/shared/notes/tcp_wrappers.md §1 for the behaviour copied here);
// ringfence-tcpdchk(8) and ringfence-wrap(8) list the deliberate differences.
#include "tcpd_shim/hosts_access.h"

#include "core/text.h"

#include <syslog.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

namespace ringfence::tcpd {

using core::Diagnostic;
using core::Diagnostics;
using core::IpAddress;

namespace {

// ---------------------------------------------------------------------------
// Small string helpers (ASCII, locale-independent, as libwrap in the C locale)

using core::iequals;
using core::istarts_with;
using core::ascii_lower;

// isspace() in the C locale: chop_string() in options.c.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// libwrap's list separators (hosts_access.c `sep`).
bool is_list_sep(char c) { return c == ' ' || c == ',' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view chop(std::string_view s, size_t* skipped = nullptr) {
    size_t start = 0;
    while (start < s.size() && is_space(s[start])) {
        ++start;
    }
    size_t end = s.size();
    while (end > start && is_space(s[end - 1])) {
        --end;
    }
    if (skipped != nullptr) {
        *skipped = start;
    }
    return s.substr(start, end - start);
}

// libwrap's split_at() with its INET6 bracket counting: the first `delim`
// outside [...] (a ']' without '[' makes the count negative, and then no
// delimiter counts). npos if none.
size_t find_outside_brackets(std::string_view s, char delim) {
    int depth = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '[') {
            ++depth;
        } else if (s[i] == ']') {
            --depth;
        } else if (depth == 0 && s[i] == delim) {
            return i;
        }
    }
    return std::string_view::npos;
}

// NOT_INADDR(): the text has a character other than digits, '.' and '/', so
// it may name a host and is compared with the host name too.
bool not_inaddr(std::string_view s) {
    return s.find_first_not_of("0123456789./") != std::string_view::npos;
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Decimal value of at most 9 digits, optionally signed as sscanf("%d")
// accepts; nullopt otherwise.
std::optional<long> parse_int(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (!all_digits(s) || s.size() > 9) {
        return std::nullopt;
    }
    long v = 0;
    for (char c : s) {
        v = v * 10 + (c - '0');
    }
    return negative ? -v : v;
}

uint32_t v4_value(const IpAddress& a) {
    const uint8_t* b = a.bytes();
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

std::string v4_text(uint32_t v) {
    return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 0xff) + "." + std::to_string((v >> 8) & 0xff) +
           "." + std::to_string(v & 0xff);
}

int prefix_of_mask(uint32_t mask) {
    int n = 0;
    while (n < 32 && (mask & (0x80000000u >> n)) != 0) {
        ++n;
    }
    return n;
}

bool mask_is_contiguous(uint32_t mask) {
    int n = prefix_of_mask(mask);
    uint32_t expect = n == 0 ? 0 : (0xffffffffu << (32 - n));
    return mask == expect;
}

// "::ffff:a.b.c.d" is compared as "a.b.c.d" (string_match()).
std::string_view strip_mapped(std::string_view s) {
    if (istarts_with(s, "::ffff:")) {
        auto v4 = IpAddress::parse(s.substr(7));
        if (v4 && v4->is_v4()) {
            return s.substr(7);
        }
    }
    return s;
}

std::string_view truncated(std::string_view s) { return s.substr(0, std::min(s.size(), kMaxRequestString)); }

bool name_known(std::string_view name) { return !iequals(name, kUnknown) && !iequals(name, kParanoid); }

// ---------------------------------------------------------------------------
// Logical lines, exactly as libwrap's xgets() with a 2048-byte buffer cuts
// them: "\\\n" joins the next line; a rule that does not end in '\n' within
// the buffer is an error that ends the table.

struct Segment {
    size_t offset;      // where this physical line starts in the logical text
    int line;           // physical line number
    std::string text;   // the physical line as written, without '\n'
};

struct LogicalLine {
    enum class Status { ok, no_newline, too_long };
    std::string text;  // continuations joined, without the final '\n'
    int first_line = 0;
    int last_line = 0;
    std::vector<Segment> segments;
    Status status = Status::ok;
};

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

// ---------------------------------------------------------------------------
// Compiler

const char* kOptionNames[] = {"allow", "deny",  "severity", "banners", "spawn",     "twist",  "setenv",
                              "umask", "user",  "group",    "nice",    "keepalive", "linger", "rfc931"};

struct OptionSpec {
    Option::Kind kind;
    bool need_arg;
    bool opt_arg;
    bool use_last;
    bool expand;
};

const OptionSpec kOptionSpecs[] = {
    {Option::Kind::allow, false, false, true, false},   {Option::Kind::deny, false, false, true, false},
    {Option::Kind::severity, true, false, false, false}, {Option::Kind::banners, true, false, false, false},
    {Option::Kind::spawn, true, false, false, true},    {Option::Kind::twist, true, false, true, true},
    {Option::Kind::setenv, true, false, false, true},   {Option::Kind::umask, true, false, false, false},
    {Option::Kind::user, true, false, false, false},    {Option::Kind::group, true, false, false, false},
    {Option::Kind::nice, false, true, false, false},    {Option::Kind::keepalive, false, false, false, false},
    {Option::Kind::linger, true, false, false, false},  {Option::Kind::rfc931, false, true, false, false},
};

struct SyslogName {
    const char* name;
    int value;
};

const SyslogName kFacilities[] = {
    {"kern", LOG_KERN},     {"user", LOG_USER},     {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON},
    {"auth", LOG_AUTH},     {"lpr", LOG_LPR},       {"news", LOG_NEWS},     {"uucp", LOG_UUCP},
    {"cron", LOG_CRON},     {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7},
};
const SyslogName kLevels[] = {
    {"emerg", LOG_EMERG},   {"alert", LOG_ALERT},   {"crit", LOG_CRIT}, {"err", LOG_ERR},
    {"warning", LOG_WARNING}, {"notice", LOG_NOTICE}, {"info", LOG_INFO}, {"debug", LOG_DEBUG},
};

template <size_t N>
int syslog_value(const SyslogName (&table)[N], std::string_view name) {
    for (const SyslogName& s : table) {
        if (iequals(s.name, name)) {
            return s.value;
        }
    }
    return -1;
}

// Where a diagnostic points: a logical line's offset mapped back to the
// physical line and column.
class Locator {
public:
    Locator(std::string file, const LogicalLine* line) : file_(std::move(file)), line_(line) {}
    Diagnostic at(size_t offset, core::Severity sev, std::string message, std::string hint) const {
        Diagnostic d;
        d.file = file_;
        d.severity = sev;
        d.message = std::move(message);
        d.hint = std::move(hint);
        if (line_ == nullptr) {
            return d;
        }
        const Segment* seg = &line_->segments.front();
        for (const Segment& s : line_->segments) {
            if (s.offset <= offset) {
                seg = &s;
            }
        }
        d.line = seg->line;
        d.column = static_cast<int>(offset - seg->offset) + 1;
        d.source_line = seg->text;
        return d;
    }

private:
    std::string file_;
    const LogicalLine* line_;
};

struct Token {
    std::string_view text;
    size_t offset;  // in the logical line
};

class Compiler {
public:
    Compiler(const CompileOptions& options, Diagnostics* diags,
             std::vector<std::pair<std::string, core::FileStamp>>* inputs)
        : options_(options), diags_(diags), inputs_(inputs) {}

    void compile_file(const HostsFile& file, FileKind kind, std::vector<Rule>* rules);
    bool ok() const { return errors_ == 0; }

private:
    // Per-rule state.
    struct Ctx {
        const Locator* loc;
        Rule* rule;
        size_t base;  // offset of the text being compiled within the logical line
    };

    bool error(const Ctx& c, size_t offset, std::string message, std::string hint = "") {
        ++errors_;
        Diagnostic d = c.loc->at(c.base + offset, core::Severity::error, std::move(message), std::move(hint));
        if (c.rule != nullptr && c.rule->error.empty()) {
            c.rule->error = d.message;
        }
        if (c.rule != nullptr) {
            c.rule->broken = true;
        }
        diags_->push_back(std::move(d));
        return false;
    }
    void warning(const Ctx& c, size_t offset, std::string message, std::string hint = "") {
        diags_->push_back(c.loc->at(c.base + offset, core::Severity::warning, std::move(message), std::move(hint)));
    }

    void compile_line(const LogicalLine& ll, const Locator& loc, Rule* rule);
    std::vector<Token> tokens(std::string_view field, size_t base) const;
    template <typename T, typename F>
    bool compile_list(const Ctx& c, std::string_view field, size_t base, const char* what, PatternList<T>* out,
                      F compile_one);
    bool compile_string(const Ctx& c, std::string_view tok, size_t off, const char* what, StringPattern* out);
    bool compile_host(const Ctx& c, std::string_view tok, size_t off, HostPattern* out, int depth);
    bool compile_masked(const Ctx& c, std::string_view tok, size_t off, size_t slash, HostPattern* out);
    bool compile_daemon(const Ctx& c, std::string_view tok, size_t off, DaemonPattern* out);
    bool compile_client(const Ctx& c, std::string_view tok, size_t off, ClientPattern* out);
    bool compile_options(const Ctx& c, std::string_view field, size_t off);
    bool compile_option(const Ctx& c, std::string_view field, size_t off, bool last, Option* out);
    std::shared_ptr<const HostPatternList> load_pattern_file(const Ctx& c, std::string_view path, size_t off,
                                                             int depth);

    const CompileOptions& options_;
    Diagnostics* diags_;
    std::vector<std::pair<std::string, core::FileStamp>>* inputs_;
    int errors_ = 0;
    std::map<std::string, std::shared_ptr<const HostPatternList>> pattern_files_;
    std::set<std::string> loading_;
};

std::vector<Token> Compiler::tokens(std::string_view field, size_t base) const {
    std::vector<Token> out;
    size_t i = 0;
    while (i < field.size()) {
        while (i < field.size() && is_list_sep(field[i])) {
            ++i;
        }
        size_t start = i;
        while (i < field.size() && !is_list_sep(field[i])) {
            ++i;
        }
        if (i > start) {
            out.push_back(Token{field.substr(start, i - start), base + start});
        }
    }
    return out;
}

template <typename T, typename F>
bool Compiler::compile_list(const Ctx& c, std::string_view field, size_t base, const char* what,
                            PatternList<T>* out, F compile_one) {
    std::vector<Token> toks = tokens(field, base);
    if (toks.empty()) {
        return error(c, base, std::string(what) + " list is empty",
                     std::string("a rule is `daemons : clients [: options]`; write ALL to mean every ") +
                         (std::strcmp(what, "daemon") == 0 ? "daemon" : "client"));
    }
    bool ok = true;
    out->parts.emplace_back();
    for (size_t i = 0; i < toks.size(); ++i) {
        const Token& t = toks[i];
        if (iequals(t.text, "EXCEPT")) {
            if (out->parts.back().empty()) {
                ok = error(c, t.offset,
                           std::string(what) + " list has EXCEPT with nothing before it (libwrap then never matches)",
                           "write the patterns that EXCEPT takes exceptions from first, e.g. `ALL EXCEPT ...`");
                return false;
            }
            out->parts.emplace_back();
            continue;
        }
        T pattern;
        if (compile_one(t, &pattern)) {
            out->parts.back().push_back(std::move(pattern));
        } else {
            ok = false;
        }
    }
    if (ok && out->parts.back().empty()) {
        return error(c, toks.back().offset, std::string(what) + " list ends in EXCEPT",
                     "name the exceptions after EXCEPT, or remove it");
    }
    return ok;
}

bool Compiler::compile_string(const Ctx& c, std::string_view tok, size_t off, const char* what,
                              StringPattern* out) {
    out->text = std::string(tok);
    out->lower = out->text;
    for (char& ch : out->lower) {
        ch = ascii_lower(ch);
    }
    if (tok.find('#') != std::string_view::npos) {
        return error(c, off + tok.find('#'), "'#' inside a rule: libwrap reads it as part of a pattern",
                     "comments must start in column 1 of their own line");
    }
    bool brackets = tok.find_first_of("[]") != std::string_view::npos;
    if (tok.find_first_of("*?") != std::string_view::npos) {
        if (brackets) {
            return error(c, off, "'" + out->text + "': brackets cannot be combined with wildcards",
                         "write [v6addr] or [v6net]/len");
        }
        out->kind = StringPattern::Kind::wildcard;
    } else if (tok.front() == '.') {
        out->kind = StringPattern::Kind::suffix;
    } else if (iequals(tok, "ALL")) {
        out->kind = StringPattern::Kind::all;
    } else if (iequals(tok, "KNOWN")) {
        out->kind = StringPattern::Kind::known;
    } else if (tok.back() == '.') {
        out->kind = StringPattern::Kind::prefix;
    } else if (tok.front() == '[' && tok.back() == ']' && tok.size() > 2) {
        auto a = IpAddress::parse(tok.substr(1, tok.size() - 2));
        if (!a || a->is_v4()) {
            return error(c, off, "'" + out->text + "' is not a bracketed IPv6 address", "write e.g. [2001:db8::1]");
        }
        if (a->is_v4_mapped()) {
            return error(c, off, "'" + out->text + "' never matches: IPv4-mapped clients are compared as IPv4",
                         "write the IPv4 address " + a->unmapped().to_string());
        }
        out->kind = StringPattern::Kind::v6;
        out->v6 = *a;
    } else {
        out->kind = StringPattern::Kind::exact;
    }
    if (brackets && out->kind != StringPattern::Kind::v6) {
        return error(c, off, "'" + out->text + "': unbalanced or misplaced brackets",
                     "an IPv6 address is written [2001:db8::1], a network [2001:db8::]/32");
    }
    if (brackets && std::strcmp(what, "host") != 0) {
        return error(c, off, "'" + out->text + "': an IPv6 address cannot be a " + what + " name");
    }
    return true;
}

bool Compiler::compile_masked(const Ctx& c, std::string_view tok, size_t off, size_t slash, HostPattern* out) {
    std::string_view net = tok.substr(0, slash);
    std::string_view mask = tok.substr(slash + 1);
    if (!net.empty() && net.front() == '[') {
        if (net.size() < 3 || net.back() != ']') {
            return error(c, off, "'" + out->text + "' is not [IPv6 network]/prefix length");
        }
        auto a = IpAddress::parse(net.substr(1, net.size() - 2));
        if (!a || a->is_v4()) {
            return error(c, off + 1, "'" + std::string(net) + "' is not a bracketed IPv6 address");
        }
        if (!all_digits(mask) || mask.size() > 3 || std::stoi(std::string(mask)) > 128) {
            return error(c, off + slash + 1, "'" + std::string(mask) + "' is not an IPv6 prefix length (0..128)");
        }
        if (a->is_v4_mapped()) {
            return error(c, off, "'" + out->text + "' never matches: IPv4-mapped clients are compared as IPv4",
                         "write the network in IPv4 form, e.g. 10.0.0.0/8");
        }
        out->kind = HostPattern::Kind::v6_net;
        out->v6_net = *a;
        out->v6_len = std::stoi(std::string(mask));
        return true;
    }
    auto n = IpAddress::parse(net);
    if (!n || !n->is_v4()) {
        return error(c, off, "'" + std::string(net) + "' is not a dotted-quad IPv4 network (a.b.c.d)",
                     "an IPv6 network is written [2001:db8::]/32");
    }
    uint32_t m = 0;
    if (mask.find('.') != std::string_view::npos) {
        auto mm = IpAddress::parse(mask);
        if (!mm || !mm->is_v4()) {
            return error(c, off + slash + 1, "'" + std::string(mask) + "' is not a dotted-quad netmask");
        }
        m = v4_value(*mm);
        if (m == 0xffffffffu) {
            return error(c, off + slash + 1, "netmask 255.255.255.255 never matches in libwrap",
                         "write the address alone: " + std::string(net));
        }
        if (!mask_is_contiguous(m)) {
            warning(c, off + slash + 1, "netmask '" + std::string(mask) + "' is not contiguous");
        }
    } else {
        if (!all_digits(mask) || mask.size() > 2 || std::stoi(std::string(mask)) < 1 ||
            std::stoi(std::string(mask)) > 32) {
            return error(c, off + slash + 1,
                         "'" + std::string(mask) + "' is not a prefix length (1..32) or a dotted netmask",
                         mask == "0" ? "libwrap never matches /0; write ALL" : "");
        }
        int len = std::stoi(std::string(mask));
        m = 0xffffffffu << (32 - len);
    }
    uint32_t v = v4_value(*n);
    if ((v & ~m) != 0) {
        std::string hint = mask_is_contiguous(m)
                               ? "perhaps you mean " + v4_text(v & m) + "/" + std::to_string(prefix_of_mask(m))
                               : "perhaps you mean " + v4_text(v & m) + "/" + std::string(mask);
        return error(c, off, "'" + out->text + "' has host bits set: libwrap never matches it", hint);
    }
    out->kind = HostPattern::Kind::v4_net;
    out->v4_net = v;
    out->v4_mask = m;
    return true;
}

bool Compiler::compile_host(const Ctx& c, std::string_view tok, size_t off, HostPattern* out, int depth) {
    out->text = std::string(tok);
    if (tok.find('#') != std::string_view::npos) {
        return error(c, off + tok.find('#'), "'#' inside a rule: libwrap reads it as part of a pattern",
                     "comments must start in column 1 of their own line");
    }
    if (tok.front() == '@') {
        if (tok.size() == 1) {
            return error(c, off, "'@' needs a netgroup name");
        }
        out->kind = HostPattern::Kind::netgroup;
        out->netgroup = std::string(tok.substr(1));
        return true;
    }
    if (tok.front() == '/') {
        out->kind = HostPattern::Kind::file;
        out->file_patterns = load_pattern_file(c, tok, off, depth);
        return out->file_patterns != nullptr;
    }
    if (iequals(tok, "KNOWN")) {
        out->kind = HostPattern::Kind::known;
        return true;
    }
    if (iequals(tok, "LOCAL")) {
        out->kind = HostPattern::Kind::local;
        return true;
    }
    size_t slash = find_outside_brackets(tok, '/');
    if (slash != std::string_view::npos) {
        return compile_masked(c, tok, off, slash, out);
    }
    out->kind = HostPattern::Kind::string;
    out->also_name = not_inaddr(tok);
    return compile_string(c, tok, off, "host", &out->string);
}

std::shared_ptr<const HostPatternList> Compiler::load_pattern_file(const Ctx& c, std::string_view path_view,
                                                                   size_t off, int depth) {
    std::string path(path_view);
    auto cached = pattern_files_.find(path);
    if (cached != pattern_files_.end()) {
        return cached->second;
    }
    if (depth >= kMaxPatternFileDepth || loading_.count(path) != 0) {
        error(c, off, "pattern file '" + path + "' includes itself (or nests deeper than " +
                          std::to_string(kMaxPatternFileDepth) + " files)");
        return nullptr;
    }
    core::ReadResult rr = options_.read_pattern_file ? options_.read_pattern_file(path) : core::read_config_file(path);
    auto list = std::make_shared<HostPatternList>();
    if (rr.status == core::ReadStatus::missing) {
        inputs_->emplace_back(path, core::FileStamp{});
        warning(c, off, "pattern file '" + path + "' does not exist: the pattern matches nothing");
        pattern_files_[path] = list;
        return list;
    }
    if (rr.status == core::ReadStatus::error) {
        inputs_->emplace_back(path, core::FileStamp{});
        error(c, off, "pattern file '" + path + "': " + rr.error.message, rr.error.hint);
        return nullptr;
    }
    inputs_->emplace_back(path, rr.text.stamp);
    loading_.insert(path);
    bool ok = true;
    size_t count = 0;
    // fscanf("%s"): whitespace-separated words, no comments, no EXCEPT.
    for (size_t i = 0; i < rr.text.lines.size() && ok; ++i) {
        const std::string& line = rr.text.lines[i];
        LogicalLine ll;
        ll.segments.push_back(Segment{0, static_cast<int>(i) + 1, line});
        Locator loc(path, &ll);
        Rule scratch;
        Ctx fc{&loc, &scratch, 0};
        size_t p = 0;
        while (p < line.size()) {
            while (p < line.size() && is_space(line[p])) {
                ++p;
            }
            size_t start = p;
            while (p < line.size() && !is_space(line[p])) {
                ++p;
            }
            if (p == start) {
                continue;
            }
            std::string_view word(line.data() + start, p - start);
            if (++count > kMaxPatternFileTokens || word.size() > kMaxLogicalLine) {
                ok = error(fc, start, "pattern file has too many or too long patterns");
                break;
            }
            if (iequals(word, "EXCEPT")) {
                ok = error(fc, start, "EXCEPT does not work in a pattern file: libwrap compares it as a host name",
                           "put the exception in the rule: `daemon: /file EXCEPT host`");
                continue;
            }
            HostPattern hp;
            if (compile_host(fc, word, start, &hp, depth + 1)) {
                list->push_back(std::move(hp));
            } else {
                ok = false;
            }
        }
    }
    loading_.erase(path);
    if (!ok) {
        error(c, off, "pattern file '" + path + "' has errors (see above)");
        return nullptr;
    }
    pattern_files_[path] = list;
    return list;
}

bool Compiler::compile_daemon(const Ctx& c, std::string_view tok, size_t off, DaemonPattern* out) {
    out->text = std::string(tok);
    if (tok.find('#') != std::string_view::npos) {
        return error(c, off + tok.find('#'), "'#' inside a rule: libwrap reads it as part of a pattern",
                     "comments must start in column 1 of their own line");
    }
    std::string_view name = tok;
    size_t at = find_outside_brackets(tok.substr(1), '@');
    if (at != std::string_view::npos) {
        at += 1;
        name = tok.substr(0, at);
        std::string_view host = tok.substr(at + 1);
        if (host.empty()) {
            return error(c, off + at, "'" + out->text + "': nothing after '@'", "write daemon@host or daemon");
        }
        HostPattern hp;
        if (!compile_host(c, host, off + at + 1, &hp, 0)) {
            return false;
        }
        out->server = std::move(hp);
    }
    // sscanf("%u%c") == 1 && <= 65535: a server port.
    std::string_view digits = name;
    if (!digits.empty() && digits.front() == '+') {
        digits.remove_prefix(1);
    }
    if (all_digits(digits) && digits.size() <= 9 && std::stol(std::string(digits)) <= 65535) {
        out->is_port = true;
        out->port = static_cast<uint16_t>(std::stol(std::string(digits)));
        return true;
    }
    return compile_string(c, name, off, "daemon", &out->daemon);
}

bool Compiler::compile_client(const Ctx& c, std::string_view tok, size_t off, ClientPattern* out) {
    out->text = std::string(tok);
    size_t at = find_outside_brackets(tok.substr(1), '@');
    if (at == std::string_view::npos) {
        return compile_host(c, tok, off, &out->host, 0);
    }
    at += 1;
    std::string_view user = tok.substr(0, at);
    std::string_view host = tok.substr(at + 1);
    if (host.empty()) {
        return error(c, off + at, "'" + out->text + "': nothing after '@'", "write user@host or host");
    }
    StringPattern up;
    bool ok = compile_string(c, user, off, "user", &up);
    out->user = std::move(up);
    return compile_host(c, host, off + at + 1, &out->host, 0) && ok;
}

bool Compiler::compile_option(const Ctx& c, std::string_view raw, size_t off, bool last, Option* out) {
    size_t skipped = 0;
    std::string_view field = chop(raw, &skipped);
    off += skipped;
    if (field.empty()) {
        return error(c, off, last ? "empty option after ':' (libwrap denies the connection)"
                                  : "empty option between two ':' (libwrap denies the connection)",
                     last ? "remove the trailing ':'" : "remove one ':'");
    }
    // Keyword, then at most one '=' and blanks, then the value (options.c).
    size_t kend = field.find_first_of("= \t\r\n");
    std::string_view key = field.substr(0, kend);
    std::string_view value;
    size_t voff = field.size();
    if (kend != std::string_view::npos) {
        size_t v = kend;
        if (field[v] != '=') {
            ++v;
            while (v < field.size() && (field[v] == ' ' || field[v] == '\t' || field[v] == '\r' || field[v] == '\n')) {
                ++v;
            }
        }
        if (v < field.size() && field[v] == '=') {
            ++v;
            while (v < field.size() && (field[v] == ' ' || field[v] == '\t' || field[v] == '\r' || field[v] == '\n')) {
                ++v;
            }
        }
        voff = v;
        value = field.substr(v);
    }
    if (key.empty()) {
        return error(c, off, "missing option name before '='");
    }
    out->keyword = std::string(key);
    out->value = std::string(value);
    out->column = static_cast<int>(off);
    if (iequals(key, "aclexec")) {
        return error(c, off, "option 'aclexec' is not supported: its verdict depends on running a command",
                     "decide in the rule, or use `spawn` for a side effect");
    }
    const OptionSpec* spec = nullptr;
    for (size_t i = 0; i < sizeof kOptionSpecs / sizeof kOptionSpecs[0]; ++i) {
        if (iequals(kOptionNames[i], key)) {
            spec = &kOptionSpecs[i];
        }
    }
    if (spec == nullptr) {
        return error(c, off, "bad option name '" + core::escape_for_log(std::string(key), 40) + "'",
                     "options are allow, deny, severity, banners, spawn, twist, setenv, umask, user, group, nice, "
                     "keepalive, linger, rfc931; a '#' comment must be on its own line");
    }
    out->kind = spec->kind;
    std::string k = option_name(spec->kind);
    if (value.empty() && spec->need_arg) {
        return error(c, off, "option '" + k + "' requires a value");
    }
    if (!value.empty() && !spec->need_arg && !spec->opt_arg) {
        return error(c, off + voff, "option '" + k + "' takes no value",
                     value.front() == '#' ? "a '#' comment must be on its own line" : "");
    }
    if (!last && spec->use_last) {
        return error(c, off, "option '" + k + "' must be the last option of the rule");
    }
    switch (spec->kind) {
        case Option::Kind::umask: {
            std::string_view digits = value;
            bool negative = false;
            if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
                negative = digits.front() == '-';
                digits.remove_prefix(1);
            }
            unsigned mask = 0;
            bool ok = !digits.empty() && digits.size() <= 4 &&
                      digits.find_first_not_of("01234567") == std::string_view::npos;
            for (char ch : digits) {
                mask = mask * 8 + static_cast<unsigned>(ch - '0');
            }
            if (!ok || mask > 0777 || (negative && mask != 0)) {
                return error(c, off + voff, "bad umask value '" + std::string(value) + "'", "write an octal mask, e.g. 022");
            }
            out->number = static_cast<int>(mask);
            break;
        }
        case Option::Kind::linger: {
            auto v = parse_int(value);
            if (!v || *v < 0) {
                return error(c, off + voff, "bad linger value '" + std::string(value) + "'", "write seconds, e.g. 10");
            }
            out->number = static_cast<int>(*v);
            break;
        }
        case Option::Kind::nice: {
            out->number = 10;
            if (!value.empty()) {
                auto v = parse_int(value);
                if (!v) {
                    return error(c, off + voff, "bad nice value '" + std::string(value) + "'");
                }
                out->number = static_cast<int>(*v);
            }
            break;
        }
        case Option::Kind::rfc931: {
            if (!value.empty()) {
                auto v = parse_int(value);
                if (!v || *v <= 0) {
                    return error(c, off + voff, "bad rfc931 timeout '" + std::string(value) + "'",
                                 "write seconds, e.g. 10");
                }
                out->number = static_cast<int>(*v);
            }
            break;
        }
        case Option::Kind::severity: {
            size_t dot = find_outside_brackets(value, '.');
            std::string_view level = dot == std::string_view::npos ? value : value.substr(dot + 1);
            if (dot != std::string_view::npos) {
                out->facility = syslog_value(kFacilities, value.substr(0, dot));
                if (out->facility < 0) {
                    return error(c, off + voff, "bad syslog facility '" + std::string(value.substr(0, dot)) + "'",
                                 "libwrap knows kern user mail daemon auth lpr news uucp cron local0..local7");
                }
            }
            out->level = syslog_value(kLevels, level);
            if (out->level < 0) {
                return error(c, off + voff, "bad syslog severity '" + std::string(level) + "'",
                             "write emerg alert crit err warning notice info or debug");
            }
            break;
        }
        case Option::Kind::setenv: {
            size_t ws = value.find_first_of(" \t\r\n");
            out->name = std::string(chop(value.substr(0, ws)));
            out->argument = ws == std::string_view::npos ? "" : std::string(chop(value.substr(ws + 1)));
            break;
        }
        case Option::Kind::user: {
            size_t dot = find_outside_brackets(value, '.');
            out->name = std::string(value.substr(0, dot));
            if (dot != std::string_view::npos) {
                out->argument = std::string(value.substr(dot + 1));
            }
            if (out->name.empty() || (dot != std::string_view::npos && out->argument.empty())) {
                return error(c, off + voff, "option 'user' expects user or user.group");
            }
            break;
        }
        case Option::Kind::group:
            out->name = std::string(value);
            break;
        default:
            break;
    }
    if (spec->expand) {
        // percent_x(): an unknown %x expands to nothing (libwrap warns).
        for (size_t i = 0; i + 1 < value.size(); ++i) {
            if (value[i] == '%') {
                if (std::strchr("aAcdhHnNprRsu%", value[i + 1]) == nullptr || value[i + 1] == '\0') {
                    warning(c, off + voff + i, std::string("unrecognized %") + value[i + 1] + ": it expands to nothing");
                }
                ++i;
            }
        }
    }
    return true;
}

bool Compiler::compile_options(const Ctx& c, std::string_view text, size_t off) {
    // get_field(): ':' separates options, "\:" is a literal ':'.
    struct Field {
        std::string text;
        size_t offset;
    };
    std::vector<Field> fields;
    fields.push_back(Field{"", off});
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == ':') {
            fields.push_back(Field{"", off + i + 1});
        } else if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == ':') {
            fields.back().text.push_back(':');
            ++i;
        } else {
            fields.back().text.push_back(text[i]);
        }
    }
    bool ok = true;
    for (size_t i = 0; i < fields.size(); ++i) {
        Option o;
        o.line = c.loc->at(c.base + fields[i].offset, core::Severity::note, "", "").line;
        // Offsets inside a field with "\:" escapes are approximate.
        if (compile_option(c, fields[i].text, fields[i].offset, i + 1 == fields.size(), &o)) {
            o.column = c.loc->at(c.base + static_cast<size_t>(o.column), core::Severity::note, "", "").column;
            c.rule->options.push_back(std::move(o));
        } else {
            ok = false;
            break;  // libwrap stops (and denies) at the first bad option
        }
    }
    return ok;
}

void Compiler::compile_line(const LogicalLine& ll, const Locator& loc, Rule* rule) {
    Ctx c{&loc, rule, 0};
    const std::string& text = ll.text;
    if (ll.status != LogicalLine::Status::ok) {
        rule->daemons_broken = rule->clients_broken = true;
        if (ll.status == LogicalLine::Status::no_newline) {
            error(c, text.size(), "missing newline at the end of the file: libwrap ignores this rule and denies",
                  "end the file with a newline");
        } else {
            error(c, 0, "rule longer than " + std::to_string(kMaxLogicalLine) +
                            " bytes: libwrap ignores it and every rule after it",
                  "split the rule into several rules");
        }
        return;
    }
    size_t c1 = find_outside_brackets(text, ':');
    if (c1 == std::string::npos) {
        rule->daemons_broken = rule->clients_broken = true;
        error(c, 0, "missing ':' separator", "a rule is `daemons : clients [: options]`");
        return;
    }
    std::string_view rest(text.data() + c1 + 1, text.size() - c1 - 1);
    size_t c2 = find_outside_brackets(rest, ':');
    std::string_view daemons(text.data(), c1);
    std::string_view clients = rest.substr(0, c2);

    if (!compile_list<DaemonPattern>(c, daemons, 0, "daemon", &rule->daemons,
                                     [&](const Token& t, DaemonPattern* p) {
                                         return compile_daemon(c, t.text, t.offset, p);
                                     })) {
        rule->daemons_broken = true;
    }
    if (!compile_list<ClientPattern>(c, clients, c1 + 1, "client", &rule->clients,
                                     [&](const Token& t, ClientPattern* p) {
                                         return compile_client(c, t.text, t.offset, p);
                                     })) {
        rule->clients_broken = true;
        size_t colons = static_cast<size_t>(std::count(text.begin(), text.end(), ':'));
        if (colons > 2 && text.find('[') == std::string::npos) {
            diags_->push_back(loc.at(c1 + 1, core::Severity::note,
                                     "an IPv6 address must be written in brackets: [2001:db8::1]", ""));
        }
    }
    if (c2 != std::string_view::npos) {
        rule->has_options = true;
        if (!compile_options(c, rest.substr(c2 + 1), c1 + 1 + c2 + 1) && !rule->clients_broken &&
            text.find('[') == std::string::npos) {
            // "sshd: 2001:db8::/32": the address's colons split the rule, so
            // the error is about an option ("bad option name 'db8'").
            // Say what was meant, in the bracketed form.
            size_t start = clients.find_last_of(" \t,");
            start = c1 + 1 + (start == std::string_view::npos ? 0 : start + 1);
            size_t end = text.find_first_not_of("0123456789abcdefABCDEF:./", start);
            std::string candidate = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
            size_t slash = candidate.find('/');
            std::string addr = candidate.substr(0, slash);
            if (std::count(addr.begin(), addr.end(), ':') >= 2 && core::IpAddress::parse(addr)) {
                std::string bracketed = "[" + addr + "]" + (slash == std::string::npos ? "" : candidate.substr(slash));
                diags_->push_back(loc.at(start, core::Severity::note,
                                         "'" + candidate + "' is an IPv6 address: in hosts.allow and hosts.deny it "
                                         "must be written in brackets, " + bracketed,
                                         ""));
            }
        }
    }
}

void Compiler::compile_file(const HostsFile& file, FileKind kind, std::vector<Rule>* rules) {
    inputs_->emplace_back(file.path, file.stamp);
    if (file.read_error) {
        ++errors_;
        diags_->push_back(*file.read_error);
        Rule r;
        r.file_kind = kind;
        r.file = file.path;
        r.broken = r.daemons_broken = r.clients_broken = true;
        r.error = file.read_error->message;
        rules->push_back(std::move(r));
        return;
    }
    if (!file.exists) {
        return;
    }
    std::vector<LogicalLine> lines = split_logical_lines(file.content);
    for (const LogicalLine& ll : lines) {
        Locator loc(file.path, &ll);
        Rule rule;
        rule.file_kind = kind;
        rule.file = file.path;
        rule.line = ll.first_line;
        rule.last_line = ll.last_line;
        rule.source = ll.text;
        if (ll.status == LogicalLine::Status::ok) {
            if (!ll.text.empty() && ll.text[0] == '#') {
                if (ll.segments.size() > 1) {
                    diags_->push_back(loc.at(0, core::Severity::warning,
                                             "comment ends in '\\': the next line is part of the comment", ""));
                }
                continue;
            }
            if (ll.text.find_first_not_of(" \t\r") == std::string::npos) {
                continue;
            }
        }
        compile_line(ll, loc, &rule);
        rules->push_back(std::move(rule));
    }
}

// ---------------------------------------------------------------------------
// Evaluation

// A request string as every pattern compares it: "::ffff:a.b.c.d" stripped
// to "a.b.c.d" (string_match()) and ASCII lower-cased, once per request.
struct Subject {
    std::string stripped;  // original case
    std::string lower;
    int v6_state = 0;      // 0: not parsed yet, 1: parsed
    std::optional<IpAddress> v6;

    Subject() = default;
    explicit Subject(std::string_view s) { set(s); }
    void set(std::string_view s) {
        stripped = std::string(strip_mapped(s));
        lower = stripped;
        for (char& c : lower) {
            c = ascii_lower(c);
        }
        v6_state = 0;
        v6.reset();
    }
    const std::optional<IpAddress>& parsed() {
        if (v6_state == 0) {
            v6 = IpAddress::parse(stripped);
            v6_state = 1;
        }
        return v6;
    }
};

class HostView {
public:
    HostView(const Endpoint& ep, const Lookups& lookups) : ep_(ep), lookups_(lookups) {
        if (ep.address) {
            addr_ = ep.address->unmapped();
            addr_text_ = addr_->to_string();
        } else {
            addr_text_ = std::string(kUnknown);
        }
        addr_subject_.set(addr_text_);
        addr_known_ = !iequals(addr_text_, kUnknown);
    }
    const std::string& addr_text() const { return addr_text_; }
    bool addr_known() const { return addr_known_; }
    Subject& addr_subject() { return addr_subject_; }
    const std::optional<IpAddress>& addr() const { return addr_; }
    bool name_given() const { return ep_.name.has_value(); }
    const std::string& name() {
        if (!name_) {
            if (ep_.name) {
                name_ = ep_.name->empty() ? std::string(kUnknown) : std::string(truncated(*ep_.name));
            } else if (ep_.address && lookups_.reverse != nullptr && lookups_.forward != nullptr) {
                name_ = std::string(truncated(verified_host_name(*ep_.address, *lookups_.reverse, *lookups_.forward)));
            } else {
                name_ = std::string(kUnknown);
            }
        }
        return *name_;
    }
    Subject& name_subject() {
        if (!name_subject_) {
            name_subject_.emplace(name());
        }
        return *name_subject_;
    }

private:
    const Endpoint& ep_;
    const Lookups& lookups_;
    std::optional<IpAddress> addr_;
    std::string addr_text_;
    Subject addr_subject_;
    bool addr_known_ = false;
    std::optional<std::string> name_;
    std::optional<Subject> name_subject_;
};

// memcmp(a, b, n) == 0 for the short strings of patterns, without a call.
inline bool same_bytes(const char* a, const char* b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

bool string_match(const StringPattern& p, Subject& s) {
    const std::string& l = s.lower;
    switch (p.kind) {
        case StringPattern::Kind::all:
            return true;
        case StringPattern::Kind::known:
            return l != kUnknown;
        case StringPattern::Kind::wildcard:
            return wildcard_match(p.text, s.stripped);
        case StringPattern::Kind::suffix: {
            size_t n = p.lower.size();
            return l.size() > n && same_bytes(l.data() + (l.size() - n), p.lower.data(), n);
        }
        case StringPattern::Kind::prefix: {
            size_t n = p.lower.size();
            return l.size() >= n && same_bytes(l.data(), p.lower.data(), n);
        }
        case StringPattern::Kind::v6: {
            const auto& a = s.parsed();
            return a && !a->is_v4() && *a == *p.v6;
        }
        case StringPattern::Kind::exact:
            return l.size() == p.lower.size() && same_bytes(l.data(), p.lower.data(), l.size());
    }
    return false;
}

class Evaluator {
public:
    Evaluator(const Request& r, const Lookups& lookups)
        : request_(r), lookups_(lookups), client_(r.client, lookups), server_(r.server, lookups) {
        daemon_.set(r.daemon.empty() ? kUnknown : truncated(r.daemon));
        if (!r.user || r.user->empty()) {
            user_.set(kUnknown);
        } else {
            user_.set(truncated(*r.user));
        }
    }

    template <typename T, typename F>
    bool list_match(const PatternList<T>& list, size_t part, F match_one) {
        bool any = false;
        for (const T& p : list.parts[part]) {
            if (match_one(p)) {
                any = true;
                break;
            }
        }
        if (!any) {
            return false;
        }
        return part + 1 == list.parts.size() || !list_match(list, part + 1, match_one);
    }

    bool host_match(const HostPattern& p, HostView& h) {
        switch (p.kind) {
            case HostPattern::Kind::netgroup: {
                if (lookups_.identity == nullptr) {
                    return false;
                }
                if (!domain_) {
                    domain_ = lookups_.identity->nis_domain();
                }
                const std::string& name = h.name();
                return lookups_.identity->in_netgroup(p.netgroup, name.c_str(), nullptr,
                                                      domain_->empty() ? nullptr : domain_->c_str());
            }
            case HostPattern::Kind::file:
                for (const HostPattern& q : *p.file_patterns) {
                    if (host_match(q, h)) {
                        return true;
                    }
                }
                return false;
            case HostPattern::Kind::known:
                return h.addr_known() && name_known(h.name());
            case HostPattern::Kind::local: {
                const std::string& name = h.name();
                return name.find('.') == std::string::npos && name_known(name);
            }
            case HostPattern::Kind::v4_net:
                return h.addr() && h.addr()->is_v4() && (v4_value(*h.addr()) & p.v4_mask) == p.v4_net;
            case HostPattern::Kind::v6_net: {
                if (!h.addr() || h.addr()->is_v4()) {
                    return false;
                }
                const uint8_t* a = h.addr()->bytes();
                const uint8_t* n = p.v6_net->bytes();
                int bits = p.v6_len;
                for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
                    uint8_t m = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
                    if ((a[i] & m) != (n[i] & m)) {
                        return false;
                    }
                }
                return true;
            }
            case HostPattern::Kind::string:
                if (string_match(p.string, h.addr_subject())) {
                    return true;
                }
                if (!p.also_name) {
                    return false;
                }
                // A verified (looked-up) name is never numeric, so a bracketed
                // address can only match a name the caller gave.
                if (p.string.kind == StringPattern::Kind::v6 && !h.name_given()) {
                    return false;
                }
                return string_match(p.string, h.name_subject());
        }
        return false;
    }

    bool daemon_match(const DaemonPattern& p) {
        bool name_ok = p.is_port ? (request_.server_port && *request_.server_port == p.port)
                                 : string_match(p.daemon, daemon_);
        return name_ok && (!p.server || host_match(*p.server, server_));
    }

    const std::string& daemon_lower() const { return daemon_.lower; }

    // client_match() for a compact pattern (no user, address only).
    template <typename C>
    bool fast_client(const C& c) {
        HostView& h = client_;
        switch (c.kind) {
            case C::all:
                return true;
            case C::exact: {
                const std::string& l = h.addr_subject().lower;
                return l.size() == c.text.len && same_bytes(l.data(), c.text.s, l.size());
            }
            case C::prefix: {
                const std::string& l = h.addr_subject().lower;
                return l.size() >= c.text.len && same_bytes(l.data(), c.text.s, c.text.len);
            }
            case C::suffix: {
                const std::string& l = h.addr_subject().lower;
                return l.size() > c.text.len && same_bytes(l.data() + (l.size() - c.text.len), c.text.s, c.text.len);
            }
            case C::v4_net:
                return h.addr() && h.addr()->is_v4() && (v4_value(*h.addr()) & c.mask) == c.net;
            case C::v6_net: {
                if (!h.addr() || h.addr()->is_v4()) {
                    return false;
                }
                const uint8_t* a = h.addr()->bytes();
                int bits = c.v6_len;
                for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
                    uint8_t m = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
                    if ((a[i] & m) != (c.v6[i] & m)) {
                        return false;
                    }
                }
                return true;
            }
        }
        return false;
    }

    bool client_match(const ClientPattern& p) {
        return host_match(p.host, client_) && (!p.user || string_match(*p.user, user_));
    }

private:
    const Request& request_;
    const Lookups& lookups_;
    HostView client_;
    HostView server_;
    Subject daemon_;
    Subject user_;
    std::optional<std::string> domain_;
};

}  // namespace

// ---------------------------------------------------------------------------
// Compact index: the common patterns of each rule copied into flat arrays
// (no pointer chasing through Rule), evaluated with exactly the semantics of
// daemon_match() / client_match(). Rules or lists with anything else are
// marked general and evaluated from the Rule.

struct FastText {
    uint8_t len = 0;
    char s[31] = {};
    bool set(const std::string& t) {
        if (t.size() > sizeof(s)) {
            return false;
        }
        len = static_cast<uint8_t>(t.size());
        std::memcpy(s, t.data(), t.size());
        return true;
    }
};

struct FastDaemonPart {
    bool all = false;
    uint32_t begin = 0, end = 0;  // name ids in FastIndex::names (lower-cased, exact)
};

struct FastClient {
    enum Kind : uint8_t { all, exact, prefix, suffix, v4_net, v6_net };
    Kind kind = all;
    FastText text;           // exact, prefix, suffix: lower-cased, compared with the address text
    uint32_t net = 0, mask = 0;
    int v6_len = 0;
    uint8_t v6[16] = {};
};

struct FastRule {
    uint64_t bloom = ~uint64_t{0};  // Bloom mask of the daemon names (one part, names only); ~0: no filter
    bool daemons_fast = false;
    bool clients_fast = false;
    uint32_t dpart_begin = 0, dpart_end = 0;
    uint32_t client_begin = 0, client_end = 0;
};

struct FastIndex {
    std::vector<FastRule> rules;  // parallel to Policy::rules()
    std::vector<FastDaemonPart> dparts;
    std::vector<uint32_t> names;  // ids of name_ids
    std::vector<FastClient> clients;
    std::unordered_map<std::string, uint32_t> name_ids;  // every lower-cased daemon name of the compact lists

    static constexpr uint32_t kNoId = 0xffffffffu;
    uint32_t id_of(const std::string& lower) const {
        auto it = name_ids.find(lower);
        return it == name_ids.end() ? kNoId : it->second;
    }
    // Bloom bit of a name id; bit 63 is for a name no rule names.
    static uint64_t bit_of(uint32_t id) { return uint64_t{1} << (id == kNoId ? 63 : id % 63); }
};

namespace {

bool fast_client_of(const ClientPattern& c, FastClient* out) {
    if (c.user) {
        return false;
    }
    const HostPattern& h = c.host;
    switch (h.kind) {
        case HostPattern::Kind::v4_net:
            out->kind = FastClient::v4_net;
            out->net = h.v4_net;
            out->mask = h.v4_mask;
            return true;
        case HostPattern::Kind::v6_net:
            if (!h.v6_net) {
                return false;
            }
            out->kind = FastClient::v6_net;
            out->v6_len = h.v6_len;
            std::memcpy(out->v6, h.v6_net->bytes(), 16);
            return true;
        case HostPattern::Kind::string:
            if (h.string.kind == StringPattern::Kind::all) {
                out->kind = FastClient::all;  // matches the address text: always
                return true;
            }
            if (h.also_name) {
                return false;
            }
            switch (h.string.kind) {
                case StringPattern::Kind::exact: out->kind = FastClient::exact; break;
                case StringPattern::Kind::prefix: out->kind = FastClient::prefix; break;
                case StringPattern::Kind::suffix: out->kind = FastClient::suffix; break;
                default: return false;
            }
            return out->text.set(h.string.lower);
        default:
            return false;
    }
}

std::shared_ptr<const FastIndex> build_fast_index(const std::vector<Rule>& rules) {
    auto fx = std::make_shared<FastIndex>();
    fx->rules.reserve(rules.size());
    for (const Rule& rule : rules) {
        FastRule fr;
        // Daemon list: every part made of ALL and exact names only.
        if (!rule.daemons_broken && !rule.daemons.parts.empty()) {
            bool ok = true;
            size_t dp0 = fx->dparts.size(), n0 = fx->names.size();
            for (const auto& part : rule.daemons.parts) {
                FastDaemonPart dp;
                dp.begin = static_cast<uint32_t>(fx->names.size());
                for (const DaemonPattern& p : part) {
                    if (p.is_port || p.server) {
                        ok = false;
                        break;
                    }
                    if (p.daemon.kind == StringPattern::Kind::all) {
                        dp.all = true;
                    } else if (p.daemon.kind == StringPattern::Kind::exact) {
                        auto ins = fx->name_ids.emplace(p.daemon.lower, static_cast<uint32_t>(fx->name_ids.size()));
                        fx->names.push_back(ins.first->second);
                    } else {
                        ok = false;
                        break;
                    }
                }
                if (!ok) {
                    break;
                }
                dp.end = static_cast<uint32_t>(fx->names.size());
                fx->dparts.push_back(dp);
            }
            if (ok) {
                fr.daemons_fast = true;
                fr.dpart_begin = static_cast<uint32_t>(dp0);
                fr.dpart_end = static_cast<uint32_t>(fx->dparts.size());
                const FastDaemonPart& first = fx->dparts[dp0];
                if (rule.daemons.parts.size() == 1 && !first.all) {
                    fr.bloom = 0;
                    for (uint32_t k = first.begin; k < first.end; ++k) {
                        fr.bloom |= FastIndex::bit_of(fx->names[k]);
                    }
                }
            } else {
                fx->dparts.resize(dp0);
                fx->names.resize(n0);
            }
        }
        // Client list: one part (no EXCEPT) of address-only patterns.
        if (!rule.clients_broken && rule.clients.parts.size() == 1) {
            bool ok = true;
            size_t c0 = fx->clients.size();
            for (const ClientPattern& c : rule.clients.parts[0]) {
                FastClient fc;
                if (!fast_client_of(c, &fc)) {
                    ok = false;
                    break;
                }
                fx->clients.push_back(fc);
            }
            if (ok) {
                fr.clients_fast = true;
                fr.client_begin = static_cast<uint32_t>(c0);
                fr.client_end = static_cast<uint32_t>(fx->clients.size());
            } else {
                fx->clients.resize(c0);
            }
        }
        fx->rules.push_back(fr);
    }
    return fx;
}

// list_match() over the compact daemon parts.
bool fast_daemons(const FastIndex& fx, uint32_t part, uint32_t end, uint32_t daemon) {
    const FastDaemonPart& dp = fx.dparts[part];
    bool any = dp.all;
    for (uint32_t k = dp.begin; !any && k < dp.end; ++k) {
        any = fx.names[k] == daemon;
    }
    if (!any) {
        return false;
    }
    return part + 1 == end || !fast_daemons(fx, part + 1, end, daemon);
}

}  // namespace

// ---------------------------------------------------------------------------
// Public functions

bool wildcard_match(std::string_view pattern, std::string_view text) {
    auto seg_at = [](std::string_view seg, std::string_view t, size_t pos) {
        for (size_t i = 0; i < seg.size(); ++i) {
            if (seg[i] != '?' && core::ascii_lower(seg[i]) != core::ascii_lower(t[pos + i])) {
                return false;
            }
        }
        return true;
    };
    // libwrap's matcher tries the rest of the pattern after a '*' only on
    // non-empty remainders, so a trailing "**" needs one more byte: "?*".
    if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "**") {
        std::string rewritten(pattern.substr(0, pattern.find_last_not_of('*') + 1));
        rewritten += "?*";
        return wildcard_match(rewritten, text);
    }
    size_t star = pattern.find('*');
    if (star == std::string_view::npos) {
        return pattern.size() == text.size() && seg_at(pattern, text, 0);
    }
    // head*mid1*mid2*...*tail: head anchored at the start, tail at the end,
    // each middle segment at its leftmost place (always optimal for globs).
    size_t last_star = pattern.rfind('*');
    std::string_view head = pattern.substr(0, star);
    std::string_view tail = pattern.substr(last_star + 1);
    if (head.size() + tail.size() > text.size() || !seg_at(head, text, 0) ||
        !seg_at(tail, text, text.size() - tail.size())) {
        return false;
    }
    size_t pos = head.size();
    size_t end = text.size() - tail.size();
    size_t p = star + 1;
    while (p < last_star) {
        size_t next = pattern.find('*', p);
        std::string_view seg = pattern.substr(p, next - p);
        p = next + 1;
        if (seg.empty()) {
            continue;
        }
        bool found = false;
        while (pos + seg.size() <= end) {
            if (seg_at(seg, text, pos)) {
                found = true;
                break;
            }
            ++pos;
        }
        if (!found) {
            return false;
        }
        pos += seg.size();
    }
    return true;
}

std::string verified_host_name(const IpAddress& address, ReverseNameService& reverse, core::NameService& forward) {
    IpAddress addr = address.unmapped();
    std::optional<std::string> name = reverse.reverse(addr);
    if (!name || name->empty()) {
        return std::string(kUnknown);
    }
    // A PTR record that holds a numeric address is forged or broken.
    if (IpAddress::parse(*name)) {
        return std::string(kParanoid);
    }
    for (const IpAddress& a : forward.resolve(*name)) {
        if (a.unmapped() == addr) {
            return *name;
        }
    }
    return std::string(kParanoid);
}

bool HostPattern::needs_name() const {
    switch (kind) {
        case Kind::string:
            return also_name;
        case Kind::known:
        case Kind::local:
        case Kind::netgroup:
            return true;
        case Kind::file:
            return std::any_of(file_patterns->begin(), file_patterns->end(),
                               [](const HostPattern& p) { return p.needs_name(); });
        case Kind::v4_net:
        case Kind::v6_net:
            return false;
    }
    return true;
}

const char* option_name(Option::Kind kind) { return kOptionNames[static_cast<int>(kind)]; }

std::string Rule::location() const {
    return line > 0 ? file + ":" + std::to_string(line) : file;
}

std::string Decision::location() const { return rule != nullptr ? rule->location() : "default allow"; }

std::string Decision::explanation() const {
    std::string where = location();
    std::string src = rule != nullptr ? " (" + core::escape_for_log(rule->source, 100) + ")" : "";
    switch (reason) {
        case Reason::allow_rule:
            return "granted by " + where + src;
        case Reason::deny_rule:
            return "refused by " + where + src;
        case Reason::allow_option:
            return "granted by the 'allow' option of " + where + src;
        case Reason::deny_option:
            return "refused by the 'deny' option of " + where + src;
        case Reason::broken_rule:
            return "refused: " + where + " has an error: " + (rule != nullptr ? rule->error : std::string());
        case Reason::default_allow:
            return "granted: no rule matched (default allow)";
    }
    return "?";
}

HostsFile hosts_file_from_text(const std::string& path, const std::string& text) {
    HostsFile f;
    f.path = path;
    f.exists = true;
    f.content = text;
    return f;
}

HostsFile read_hosts_file(const std::string& path) {
    HostsFile f;
    f.path = path;
    core::ReadLimits limits;
    limits.max_bytes = 16u << 20;
    core::ReadResult rr = core::read_config_file(path, limits);
    if (rr.status == core::ReadStatus::missing) {
        return f;
    }
    if (rr.status == core::ReadStatus::error) {
        f.read_error = rr.error;
        return f;
    }
    f.exists = true;
    f.stamp = rr.text.stamp;
    // ConfigText drops the newlines; whether the last line had one matters
    // (libwrap ignores a final rule without it), and the file size says.
    size_t bytes = 0;
    for (const std::string& l : rr.text.lines) {
        bytes += l.size();
    }
    size_t n = rr.text.lines.size();
    bool final_newline = true;
    if (n > 0 && static_cast<size_t>(rr.text.stamp.size) == bytes + n - 1) {
        final_newline = false;
    } else if (static_cast<size_t>(rr.text.stamp.size) != bytes + n) {
        Diagnostic d;
        d.file = path;
        d.message = "the file changed while it was being read";
        d.hint = "replace it atomically (write a new file, then rename it)";
        f.read_error = d;
        return f;
    }
    for (size_t i = 0; i < n; ++i) {
        f.content += rr.text.lines[i];
        if (i + 1 < n || final_newline) {
            f.content += '\n';
        }
    }
    return f;
}

std::shared_ptr<const Policy> Policy::compile(const HostsFile& allow, const HostsFile& deny,
                                              const CompileOptions& options, Diagnostics* diags) {
    auto policy = std::shared_ptr<Policy>(new Policy());
    Compiler compiler(options, diags, &policy->inputs_);
    compiler.compile_file(allow, FileKind::allow, &policy->rules_);
    compiler.compile_file(deny, FileKind::deny, &policy->rules_);
    policy->fast_ = build_fast_index(policy->rules_);
    policy->valid_ = compiler.ok();
    return policy;
}

std::shared_ptr<const Policy> Policy::load(const std::string& allow_path, const std::string& deny_path,
                                           Diagnostics* diags) {
    return compile(read_hosts_file(allow_path), read_hosts_file(deny_path), CompileOptions(), diags);
}

Decision Policy::evaluate(const Request& request, const Lookups& lookups) const {
    Evaluator ev(request, lookups);
    Decision d;
    const FastIndex& fx = *fast_;
    const uint32_t daemon_id = fx.id_of(ev.daemon_lower());
    const uint64_t bit = FastIndex::bit_of(daemon_id);
    for (size_t i = 0; i < rules_.size(); ++i) {
        const FastRule& fr = fx.rules[i];
        if ((fr.bloom & bit) == 0) {
            continue;  // no name of its daemon list can be the request's
        }
        bool daemons;
        if (fr.daemons_fast) {
            daemons = fast_daemons(fx, fr.dpart_begin, fr.dpart_end, daemon_id);
        } else {
            const Rule& r = rules_[i];
            daemons = r.daemons_broken ||
                      ev.list_match(r.daemons, 0, [&](const DaemonPattern& p) { return ev.daemon_match(p); });
        }
        if (!daemons) {
            continue;
        }
        bool clients = false;
        if (fr.clients_fast) {
            for (uint32_t k = fr.client_begin; k < fr.client_end; ++k) {
                if (ev.fast_client(fx.clients[k])) {
                    clients = true;
                    break;
                }
            }
        } else {
            const Rule& r = rules_[i];
            clients = r.clients_broken ||
                      ev.list_match(r.clients, 0, [&](const ClientPattern& p) { return ev.client_match(p); });
        }
        const Rule& rule = rules_[i];
        if (!clients) {
            continue;
        }
        d.rule = &rule;
        if (rule.broken) {
            d.verdict = Verdict::deny;
            d.reason = Decision::Reason::broken_rule;
        } else if (!rule.options.empty() && rule.options.back().kind == Option::Kind::allow) {
            d.verdict = Verdict::allow;
            d.reason = Decision::Reason::allow_option;
        } else if (!rule.options.empty() && rule.options.back().kind == Option::Kind::deny) {
            d.verdict = Verdict::deny;
            d.reason = Decision::Reason::deny_option;
        } else if (rule.file_kind == FileKind::allow) {
            d.verdict = Verdict::allow;
            d.reason = Decision::Reason::allow_rule;
        } else {
            d.verdict = Verdict::deny;
            d.reason = Decision::Reason::deny_rule;
        }
        return d;
    }
    return d;
}

bool policy_is_stale(const Policy& policy) {
    for (const auto& [path, stamp] : policy.inputs()) {
        if (core::stamp_of(path) != stamp) {
            return true;
        }
    }
    return false;
}

}  // namespace ringfence::tcpd
