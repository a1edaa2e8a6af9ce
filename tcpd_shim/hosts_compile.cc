// SPDX-License-Identifier: BSD-3-Clause
// The hosts_access pattern compiler: hosts files to an immutable Policy
// plus diagnostics (file:line:col, a hint). Decisions follow Debian's
// libwrap 7.6.q (see /work/shared/notes/tcp_wrappers.md §1 for the
// behaviour copied here); ringfence-tcpdchk(8) and ringfence-wrap(8) list
// the deliberate differences.
#include "tcpd_shim/hosts_access.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "core/checked_stamp.h"
#include "core/text.h"
#include "tcpd_shim/hosts_evaluator.h"
#include "tcpd_shim/hosts_fast_index.h"
#include "tcpd_shim/hosts_lines.h"
#include "tcpd_shim/hosts_options.h"
#include "tcpd_shim/hosts_text.h"

namespace ringfence::tcpd {

using core::Diagnostic;
using core::Diagnostics;
using core::IpAddress;
using namespace detail;

namespace {

struct Token {
    std::string_view text;
    size_t offset;  // in the logical line
};

class Compiler {
public:
    Compiler(const CompileOptions& options, Diagnostics* diags,
             std::vector<std::pair<std::string, core::FileStamp>>* inputs)
        : options_(options), diags_(diags), inputs_(inputs) {}

    // Compiles every rule of `file` in order and hands each to
    // sink(Rule&, std::string_view source), which may take it (move from
    // it); the Rule passed is reused for the next one. The rule's file and
    // source are left for the sink to fill in when it keeps the rule.
    template <typename Sink>
    void compile_file(const HostsFile& file, FileKind kind, Sink&& sink);
    bool ok() const { return errors_ == 0; }
    int errors() const { return errors_; }
    // Checked files only: a rule whose daemon list `prefilter` does not
    // match is not compiled further, nor handed to the sink.
    void set_prefilter(Evaluator* prefilter) { prefilter_ = prefilter; }
    // compile_file() returns at its next line, and compiles no other file.
    void stop() { stopped_ = true; }

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

    // False when the prefilter ruled the rule out after its daemon list.
    bool compile_line(const LogicalLine& ll, const Locator& loc, Rule* rule);
    // Into toks_, reused from list to list (a list's patterns never hold
    // another list).
    void tokens(std::string_view field, size_t base);
    template <typename T, typename F>
    bool compile_list(const Ctx& c, std::string_view field, size_t base, const char* what, PatternList<T>* out,
                      F compile_one);
    bool compile_string(const Ctx& c, std::string_view tok, size_t off, const char* what, StringPattern* out);
    bool compile_host(const Ctx& c, std::string_view tok, size_t off, HostPattern* out, int depth);
    bool compile_masked(const Ctx& c, std::string_view tok, size_t off, size_t slash, HostPattern* out);
    bool compile_daemon(const Ctx& c, std::string_view tok, size_t off, DaemonPattern* out);
    bool compile_client(const Ctx& c, std::string_view tok, size_t off, ClientPattern* out);
    bool compile_options(const Ctx& c, std::string_view field, size_t off);
    std::shared_ptr<const HostPatternList> load_pattern_file(const Ctx& c, std::string_view path, size_t off,
                                                             int depth);

    const CompileOptions& options_;
    Diagnostics* diags_;
    std::vector<std::pair<std::string, core::FileStamp>>* inputs_;
    int errors_ = 0;
    std::map<std::string, std::shared_ptr<const HostPatternList>> pattern_files_;
    std::set<std::string> loading_;
    std::vector<Token> toks_;
    Evaluator* prefilter_ = nullptr;
    bool stopped_ = false;
};

void Compiler::tokens(std::string_view field, size_t base) {
    std::vector<Token>& out = toks_;
    out.clear();
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
}

template <typename T, typename F>
bool Compiler::compile_list(const Ctx& c, std::string_view field, size_t base, const char* what,
                            PatternList<T>* out, F compile_one) {
    tokens(field, base);
    const std::vector<Token>& toks = toks_;
    if (toks.empty()) {
        return error(c, base, std::string(what) + " list is empty",
                     std::string("a rule is `daemons : clients [: options]`; write ALL to mean every ") +
                         (std::strcmp(what, "daemon") == 0 ? "daemon" : "client"));
    }
    bool ok = true;
    out->parts.emplace_back();
    out->parts.back().reserve(toks.size());
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
    out->text.assign(tok.data(), tok.size());
    out->lower.resize(tok.size());
    // One pass over the pattern for everything asked of its bytes.
    size_t hash = std::string_view::npos;
    bool brackets = false;
    bool wildcards = false;
    for (size_t i = 0; i < tok.size(); ++i) {
        char ch = tok[i];
        out->lower[i] = ascii_lower(ch);
        if (ch == '#') {
            hash = std::min(hash, i);
        } else if (ch == '[' || ch == ']') {
            brackets = true;
        } else if (ch == '*' || ch == '?') {
            wildcards = true;
        }
    }
    if (hash != std::string_view::npos) {
        return error(c, off + hash, "'#' inside a rule: libwrap reads it as part of a pattern",
                     "comments must start in column 1 of their own line");
    }
    if (wildcards) {
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
        out->net = core::CidrRange::of(*a, std::stoi(std::string(mask)));
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
        m = mm->v4_value();
        if (m == 0xffffffffu) {
            return error(c, off + slash + 1, "netmask 255.255.255.255 never matches in libwrap",
                         "write the address alone: " + std::string(net));
        }
        if (!core::v4_mask_is_contiguous(m)) {
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
    out->net = core::CidrRange::v4_netmask(*n, m);
    if (out->net->had_host_bits()) {
        std::string masked = IpAddress::from_v4_value(n->v4_value() & m).to_string();
        std::string hint = core::v4_mask_is_contiguous(m)
                               ? "perhaps you mean " + masked + "/" + std::to_string(core::v4_mask_prefix(m))
                               : "perhaps you mean " + masked + "/" + std::string(mask);
        return error(c, off, "'" + out->text + "' has host bits set: libwrap never matches it", hint);
    }
    out->kind = HostPattern::Kind::v4_net;
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
    DaemonAndHost split = split_daemon_host(tok);
    std::string_view name = split.daemon;
    if (split.host) {
        size_t at = name.size();
        std::string_view host = *split.host;
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


// The option parser reports through the rule's context, as the patterns do.
bool Compiler::compile_options(const Ctx& c, std::string_view text, size_t off) {
    class Reporter : public OptionReporter {
    public:
        Reporter(Compiler& compiler, const Ctx& c) : compiler_(compiler), c_(c) {}
        void error(size_t offset, std::string message, std::string hint) override {
            compiler_.error(c_, offset, std::move(message), std::move(hint));
        }
        void warning(size_t offset, std::string message, std::string hint) override {
            compiler_.warning(c_, offset, std::move(message), std::move(hint));
        }
        int line_of(size_t offset) const override {
            return c_.loc->at(c_.base + offset, core::Severity::note, "", "").line;
        }
        int column_of(size_t offset) const override {
            return c_.loc->at(c_.base + offset, core::Severity::note, "", "").column;
        }

    private:
        Compiler& compiler_;
        const Ctx& c_;
    };
    Reporter reporter(*this, c);
    return detail::compile_options(text, off, reporter, &c.rule->options);
}

// Checked files only: true when the daemon list of this line, read as
// text, certainly does not match `daemon` (the request's daemon as the
// patterns compare it, lower-cased): every pattern before the first EXCEPT
// is a plain name other than it. Anything else (ALL, KNOWN, a wildcard, a
// .suffix or prefix., a port, daemon@host, brackets) is left to the
// compiled list. Saves compiling the lines of other daemons, which is most
// of a long file.
bool daemons_certainly_miss(std::string_view text, std::string_view daemon) {
    size_t i = 0;
    bool any = false;
    while (i < text.size() && text[i] != ':') {
        while (i < text.size() && is_list_sep(text[i])) {
            ++i;
        }
        size_t start = i;
        bool plain = true;
        bool same = true;
        for (; i < text.size() && !is_list_sep(text[i]) && text[i] != ':'; ++i) {
            char ch = text[i];
            if (ch == '@' || ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '#') {
                plain = false;
            }
            size_t k = i - start;
            same = same && k < daemon.size() && ascii_lower(ch) == daemon[k];
        }
        std::string_view tok = text.substr(start, i - start);
        if (tok.empty()) {
            continue;
        }
        if (iequals(tok, "EXCEPT")) {
            return any;  // part 0 had no candidate (an empty one is an error: left to the compiler)
        }
        any = true;
        char first = tok.front();
        if (!plain || (same && tok.size() == daemon.size()) || first == '.' || tok.back() == '.' || first == '+' ||
            (first >= '0' && first <= '9') || iequals(tok, "ALL") || iequals(tok, "KNOWN")) {
            return false;
        }
    }
    return any && i < text.size();  // no daemon, or no ':' at all: an error, left to the compiler
}

bool Compiler::compile_line(const LogicalLine& ll, const Locator& loc, Rule* rule) {
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
        return true;
    }
    size_t c1 = find_outside_brackets(text, ':');
    if (c1 == std::string::npos) {
        rule->daemons_broken = rule->clients_broken = true;
        error(c, 0, "missing ':' separator", "a rule is `daemons : clients [: options]`");
        return true;
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
    if (prefilter_ != nullptr && !rule->daemons_broken &&
        !prefilter_->list_match(rule->daemons, 0, [&](const DaemonPattern& p) { return prefilter_->daemon_match(p); })) {
        return false;
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
    return true;
}

template <typename Sink>
void Compiler::compile_file(const HostsFile& file, FileKind kind, Sink&& sink) {
    inputs_->emplace_back(file.path, file.stamp);
    if (stopped_) {
        return;
    }
    Rule rule;
    if (file.read_error) {
        ++errors_;
        diags_->push_back(*file.read_error);
        rule.file_kind = kind;
        rule.broken = rule.daemons_broken = rule.clients_broken = true;
        rule.error = file.read_error->message;
        sink(rule, std::string_view());
        return;
    }
    if (!file.exists) {
        return;
    }
    LineSplitter split(file.content);
    LogicalLine ll;
    while (split.next(&ll)) {
        Locator loc(file.path, &ll);
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
        if (prefilter_ != nullptr && ll.status == LogicalLine::Status::ok &&
            daemons_certainly_miss(ll.text, prefilter_->daemon_lower())) {
            continue;
        }
        rule = Rule();
        rule.file_kind = kind;
        rule.line = ll.first_line;
        rule.last_line = ll.last_line;
        if (compile_line(ll, loc, &rule)) {
            sink(rule, std::string_view(ll.text));
        }
        if (stopped_) {
            return;
        }
    }
}

}  // namespace

DaemonAndHost split_daemon_host(std::string_view text) {
    DaemonAndHost out{text, std::nullopt};
    size_t at = text.empty() ? std::string_view::npos : find_outside_brackets(text.substr(1), '@');
    if (at != std::string_view::npos) {
        out.daemon = text.substr(0, at + 1);
        out.host = text.substr(at + 2);
    }
    return out;
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

std::string Rule::location() const {
    return line > 0 ? file + ":" + std::to_string(line) : file;
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
    // One buffer, as read: whether the last line ends in '\n' matters
    // (libwrap ignores a final rule without it).
    core::BufferResult rb = core::read_config_buffer(path, limits);
    if (rb.status == core::ReadStatus::missing) {
        return f;
    }
    if (rb.status == core::ReadStatus::error) {
        f.read_error = rb.error;
        return f;
    }
    if (static_cast<uint64_t>(rb.text.stamp.size) != rb.text.data.size()) {
        Diagnostic d;
        d.file = path;
        d.message = "the file changed while it was being read";
        d.hint = "replace it atomically (write a new file, then rename it)";
        f.read_error = d;
        return f;
    }
    f.exists = true;
    f.stamp = rb.text.stamp;
    f.content = std::move(rb.text.data);
    return f;
}

std::shared_ptr<const Policy> Policy::compile(const HostsFile& allow, const HostsFile& deny,
                                              const CompileOptions& options, Diagnostics* diags) {
    auto policy = std::shared_ptr<Policy>(new Policy());
    Compiler compiler(options, diags, &policy->inputs_);
    int i = 0;
    for (const auto& [file, kind] : {std::pair{&allow, FileKind::allow}, std::pair{&deny, FileKind::deny}}) {
        int errors_before = compiler.errors();
        size_t inputs_before = policy->inputs_.size();
        compiler.compile_file(*file, kind, [&, file = file](Rule& rule, std::string_view source) {
            rule.file = file->path;
            rule.source = std::string(source);
            policy->rules_.push_back(std::move(rule));
        });
        // Clean: no error, and its inputs are the file alone (no pattern file).
        policy->clean_[i++] = compiler.errors() == errors_before &&
                              policy->inputs_.size() == inputs_before + 1 && !file->read_error;
    }
    policy->fast_ = build_fast_index(policy->rules_);
    policy->valid_ = compiler.ok();
    return policy;
}

std::shared_ptr<const Policy> Policy::load(const std::string& allow_path, const std::string& deny_path,
                                           Diagnostics* diags) {
    return compile(read_hosts_file(allow_path), read_hosts_file(deny_path), CompileOptions(), diags);
}

std::shared_ptr<const Policy> Policy::compile_and_decide(const HostsFile& allow, const HostsFile& deny,
                                                         const CompileOptions& options, Diagnostics* diags,
                                                         const Request& request, const Lookups& lookups,
                                                         Decision* decision, bool checked) {
    auto policy = std::shared_ptr<Policy>(new Policy());
    policy->rules_.reserve(1);
    Compiler compiler(options, diags, &policy->inputs_);
    Evaluator ev(request, lookups);
    if (checked) {
        compiler.set_prefilter(&ev);
    }
    bool decided = false;
    *decision = Decision();
    int i = 0;
    for (const auto& [file, kind] : {std::pair{&allow, FileKind::allow}, std::pair{&deny, FileKind::deny}}) {
        int errors_before = compiler.errors();
        size_t inputs_before = policy->inputs_.size();
        compiler.compile_file(*file, kind, [&, file = file](Rule& rule, std::string_view source) {
            if (decided) {
                return;  // compiled for its diagnostics only
            }
            Decision d;
            if (!rule_decides(ev, rule, &d)) {
                return;
            }
            decided = true;
            rule.file = file->path;
            rule.source = std::string(source);
            // Moving the rule keeps its lists' storage: d.daemon and d.client
            // stay valid; only d.rule moves.
            policy->rules_.push_back(std::move(rule));
            d.rule = &policy->rules_.back();
            *decision = std::move(d);
            if (checked) {
                compiler.stop();  // the rest is known to be clean
            }
        });
        // Clean: no error, and its inputs are the file alone (no pattern file).
        policy->clean_[i++] = !checked && compiler.errors() == errors_before &&
                              policy->inputs_.size() == inputs_before + 1 && !file->read_error;
    }
    policy->fast_ = build_fast_index(policy->rules_);
    policy->valid_ = compiler.ok();
    policy->checked_ = checked;
    return policy;
}

std::shared_ptr<const Policy> Policy::load_and_decide(const std::string& allow_path, const std::string& deny_path,
                                                      Diagnostics* diags, const Request& request,
                                                      const Lookups& lookups, Decision* decision) {
    HostsFile allow = read_hosts_file(allow_path);
    HostsFile deny = read_hosts_file(deny_path);
    core::CheckedStamps stamps(kCheckedKind);
    // A missing file is an empty one: nothing to check.
    auto passed = [&](const HostsFile& f) {
        return !f.read_error && (!f.exists || stamps.passed(f.path, f.stamp, f.content));
    };
    bool checked = stamps.enabled() && passed(allow) && passed(deny);
    auto policy = compile_and_decide(allow, deny, CompileOptions(), diags, request, lookups, decision, checked);
    if (!checked) {
        policy->record_checked_stamps(allow, deny);
    }
    return policy;
}

int Policy::record_checked_stamps(const HostsFile& allow, const HostsFile& deny) const {
    core::CheckedStamps stamps(kCheckedKind);
    int written = 0;
    for (const auto& [file, clean] : {std::pair{&allow, clean_[0]}, std::pair{&deny, clean_[1]}}) {
        if (clean && file->exists && !checked_) {
            written += stamps.record(file->path, file->stamp, file->content);
        }
    }
    return written;
}

}  // namespace ringfence::tcpd
