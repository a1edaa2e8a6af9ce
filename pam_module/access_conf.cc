// SPDX-License-Identifier: BSD-3-Clause
// The access.conf language: compile once, evaluate as a pure function.
// Decisions follow stock pam_access (Linux-PAM 1.5.2) on well-formed files;
// see ringfence-access.conf(5) for the deliberate differences.
#include "pam_module/access_conf.h"

#include "core/text.h"

#include <dirent.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_map>

namespace ringfence::access {

using core::Diagnostic;
using core::Diagnostics;
using core::IpAddress;

namespace {

using core::iends_with;
using core::iequals;
using core::is_blank;
using core::trim;

// A list item with its column in the line (1-based), for diagnostics.
struct RawToken {
    std::string_view text;
    int column;
};

// Byte tests for the compiler's hot path: the same answers as
// find_first_of / find_first_not_of with these sets, without a search of
// the set for every byte.
bool has_either(std::string_view s, char a, char b) {
    for (char c : s) {
        if (c == a || c == b) {
            return true;
        }
    }
    return false;
}
bool only_digits_and_dots(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || c == '.')) {
            return false;
        }
    }
    return true;
}
// 1 to 3 decimal digits (checked by the caller).
int octet_value(std::string_view digits) {
    int v = 0;
    for (char c : digits) {
        v = v * 10 + (c - '0');
    }
    return v;
}
bool only_address_chars(std::string_view s) {  // "0123456789abcdefABCDEF:./"
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.' ||
              c == '/')) {
            return false;
        }
    }
    return true;
}

// ":0", ":1.0": a local X display, the only origin with a colon that is
// not an IPv6 address.
bool is_x_display(std::string_view tok) {
    if (tok.size() < 2 || tok.front() != ':') {
        return false;
    }
    std::string_view rest = tok.substr(1);
    size_t dot = rest.find('.');
    auto digits = [](std::string_view d) {
        return !d.empty() && d.find_first_not_of("0123456789") == std::string_view::npos;
    };
    return dot == std::string_view::npos ? digits(rest) : digits(rest.substr(0, dot)) && digits(rest.substr(dot + 1));
}

// "0800-1800": the times of a times field without its day code.
bool looks_like_bare_times(std::string_view s) {
    return s.find('-') != std::string_view::npos &&
           s.find_first_not_of("0123456789-|&!") == std::string_view::npos &&
           std::isdigit(static_cast<unsigned char>(s.back()));
}

class LineCompiler {
public:
    // separators: per byte, 1 = in fieldsep=, 2 = in listsep=. toks:
    // scratch space, reused from line to line. whole: also the lists' text
    // as written, which only explain and lint show (evaluation never reads it).
    LineCompiler(const std::string& path, int line_no, std::string_view line, const ParseOptions& options,
                 const std::array<uint8_t, 256>& separators, std::vector<RawToken>* toks, bool whole,
                 Diagnostics* diags)
        : path_(path),
          line_no_(line_no),
          line_(line),
          options_(options),
          separators_(separators),
          toks_(*toks),
          whole_(whole),
          diags_(diags) {}

    // Fills *rule (which may hold an earlier line's rule: every field is
    // set again, storage is reused). Returns false (with a diagnostic) if
    // the line is not a valid rule. origins_only: the permission, time and
    // origins fields only (the users field is left as it was), for a line
    // already known to be valid.
    bool compile(Rule* rule, bool origins_only = false);

private:
    bool error(size_t offset, std::string message, std::string hint = "") {
        Diagnostic d;
        d.file = path_;
        d.line = line_no_;
        d.column = static_cast<int>(offset) + 1;
        d.message = std::move(message);
        d.source_line = std::string(line_);
        d.hint = std::move(hint);
        diags_->push_back(std::move(d));
        return false;
    }
    void warning(size_t offset, std::string message, std::string hint) {
        Diagnostic d;
        d.file = path_;
        d.line = line_no_;
        d.column = static_cast<int>(offset) + 1;
        d.severity = core::Severity::warning;
        d.message = std::move(message);
        d.source_line = std::string(line_);
        d.hint = std::move(hint);
        diags_->push_back(std::move(d));
    }
    void check_invisible(std::string_view tok);
    size_t offset_of(std::string_view part) const { return static_cast<size_t>(part.data() - line_.data()); }
    bool is_fieldsep(char c) const { return (separators_[static_cast<unsigned char>(c)] & 1) != 0; }
    bool is_listsep(char c) const { return (separators_[static_cast<unsigned char>(c)] & 2) != 0; }

    void split_list(std::string_view field, std::vector<RawToken>* out) const;
    bool inside_ipv6_item(std::string_view text, size_t i) const;
    bool compile_list(std::string_view field, bool users, TokenList* out);
    bool compile_user_token(std::string_view tok, Token* out);
    bool compile_origin_token(std::string_view tok, Token* out);
    bool colon_item_error(std::string_view tok);

    const std::string& path_;
    int line_no_;
    std::string_view line_;
    const ParseOptions& options_;
    const std::array<uint8_t, 256>& separators_;
    std::vector<RawToken>& toks_;
    bool whole_;
    Diagnostics* diags_;
};

void LineCompiler::split_list(std::string_view field, std::vector<RawToken>* out) const {
    out->clear();
    size_t i = 0;
    while (i < field.size()) {
        while (i < field.size() && is_listsep(field[i])) {
            ++i;
        }
        size_t start = i;
        while (i < field.size() && !is_listsep(field[i])) {
            ++i;
        }
        // With a listsep that has no blanks, " root" is still "root": stock
        // pam_access keeps the blanks and then never matches (a bug).
        std::string_view tok = trim(field.substr(start, i - start));
        if (!tok.empty()) {
            out->push_back(RawToken{tok, static_cast<int>(offset_of(tok))});
        }
    }
}

bool LineCompiler::inside_ipv6_item(std::string_view text, size_t i) const {
    auto boundary = [&](char c) { return is_blank(c) || (is_listsep(c) && !is_fieldsep(c)); };
    size_t start = i;
    while (start > 0 && !boundary(text[start - 1])) {
        --start;
    }
    size_t end = i;
    while (end < text.size() && !boundary(text[end])) {
        ++end;
    }
    std::string_view item = text.substr(start, end - start);
    bool only_separators = true;
    for (char c : item) {
        only_separators = only_separators && is_fieldsep(c);
    }
    if (only_separators) {
        return false;
    }
    std::string why;
    if (auto range = core::CidrRange::parse(item, &why)) {
        return !range->base().is_v4() || item.find(':') != std::string_view::npos;
    }
    return false;
}

bool LineCompiler::compile_user_token(std::string_view tok, Token* out) {
    out->text.assign(tok);
    out->column = static_cast<int>(offset_of(tok)) + 1;
    size_t hash = tok.find('#');
    if (hash != std::string_view::npos) {
        return error(offset_of(tok) + hash, "'#' in the users field",
                     "'#' starts a comment only at the beginning of a line; put the comment on its own line");
    }
    if (tok.front() == '(' && tok.back() == ')') {
        if (tok.size() < 3) {
            return error(offset_of(tok), "'()' names no group: expected (groupname)");
        }
        out->kind = Token::Kind::group;
        out->value = std::string(tok.substr(1, tok.size() - 2));
        return true;
    }
    // user@host: skip leading '@'s, then split at the next '@'.
    size_t lead = 0;
    while (lead < tok.size() && tok[lead] == '@') {
        ++lead;
    }
    size_t at = tok.find('@', lead);
    if (at != std::string_view::npos) {
        std::string_view user_part = tok.substr(0, at);
        std::string_view host_part = tok.substr(at + 1);
        if (user_part.size() == lead || host_part.empty()) {
            return error(offset_of(tok), "'" + std::string(tok) + "' is not user@host: a part is empty");
        }
        auto u = std::make_shared<Token>();
        auto h = std::make_shared<Token>();
        if (!compile_user_token(user_part, u.get()) || !compile_origin_token(host_part, h.get())) {
            return false;
        }
        if (h->kind == Token::Kind::local) {
            return error(offset_of(host_part), "LOCAL cannot follow '@': the host part names this host",
                         "write the host name, a .domain, a network or ALL");
        }
        out->kind = Token::Kind::user_at_host;
        out->user_part = std::move(u);
        out->host_part = std::move(h);
        return true;
    }
    if (lead >= 2) {
        if (tok.size() == 2) {
            return error(offset_of(tok), "'@@' needs a netgroup name");
        }
        out->kind = Token::Kind::host_netgroup;
        out->value = std::string(tok.substr(2));
        return true;
    }
    if (lead == 1) {
        if (tok.size() == 1) {
            return error(offset_of(tok), "'@' needs a " + std::string(options_.atgroup ? "group" : "netgroup") + " name");
        }
        out->kind = options_.atgroup ? Token::Kind::group : Token::Kind::netgroup;
        out->value = std::string(tok.substr(1));
        return true;
    }
    if (iequals(tok, "ALL")) {
        out->kind = Token::Kind::all;
        return true;
    }
    if (has_either(tok, '(', ')')) {
        return error(offset_of(tok), "'" + std::string(tok) + "' has unbalanced parentheses: expected (groupname)");
    }
    if (has_either(tok, '*', '?')) {
        return error(offset_of(tok), "'" + std::string(tok) + "': access.conf has no wildcards",
                     "list the names, or use a (group)");
    }
    out->kind = Token::Kind::name;
    out->value = std::string(tok);
    return true;
}

bool LineCompiler::compile_origin_token(std::string_view tok, Token* out) {
    out->text.assign(tok);
    out->column = static_cast<int>(offset_of(tok)) + 1;
    size_t hash = tok.find('#');
    if (hash != std::string_view::npos) {
        return error(offset_of(tok) + hash, "'#' in the origins field",
                     "'#' starts a comment only at the beginning of a line; put the comment on its own line");
    }
    if (tok.front() == '@') {
        if (tok.size() == 1) {
            return error(offset_of(tok), "'@' needs a netgroup name");
        }
        out->kind = Token::Kind::netgroup;
        out->value = std::string(tok.substr(1));
        return true;
    }
    if (iequals(tok, "ALL")) {
        out->kind = Token::Kind::all;
        return true;
    }
    if (iequals(tok, "LOCAL")) {
        out->kind = Token::Kind::local;
        return true;
    }
    if (tok.front() == '.') {
        if (tok.size() == 1) {
            return error(offset_of(tok), "'.' alone is not a domain", "write .example.com");
        }
        out->kind = Token::Kind::domain;
        out->value = std::string(tok);
        return true;
    }
    if (has_either(tok, '*', '?')) {
        return error(offset_of(tok), "'" + std::string(tok) + "': access.conf has no wildcards",
                     "for networks write a prefix (10.1.) or a CIDR (10.1.0.0/16)");
    }
    bool digits_and_dots = only_digits_and_dots(tok);
    if (tok.back() == '.') {
        // "192.168." : one to three decimal octets, each followed by a dot.
        bool ok = digits_and_dots;
        int octets = 0;
        size_t i = 0;
        while (ok && i < tok.size()) {
            size_t dot = tok.find('.', i);
            std::string_view oct = tok.substr(i, dot - i);
            ok = !oct.empty() && oct.size() <= 3 && octet_value(oct) <= 255 && (oct.size() == 1 || oct[0] != '0');
            ++octets;
            i = dot + 1;
        }
        if (!ok || octets > 3) {
            return error(offset_of(tok), "'" + std::string(tok) + "' is not a network prefix",
                         digits_and_dots ? "a prefix has one to three octets, like 10. or 192.168.1."
                                         : "a network prefix is numeric, like 192.168.; for a host name drop the "
                                           "trailing dot");
        }
        out->kind = Token::Kind::v4_prefix;
        out->value = std::string(tok);
        return true;
    }
    size_t slash = tok.find('/');
    // The cheap test first: it holds for every IPv4 network.
    if (slash != std::string_view::npos &&
        (only_address_chars(tok) || IpAddress::parse(tok.substr(0, slash)))) {
        std::string why;
        auto range = core::CidrRange::parse(tok, &why);
        if (!range) {
            return error(offset_of(tok), "'" + std::string(tok) + "' is not a network: " + why,
                         "write address/prefix-length, like 10.0.0.0/8 or 2001:db8::/32");
        }
        out->kind = Token::Kind::network;
        out->network = *range;
        return true;
    }
    if (auto addr = IpAddress::parse(tok)) {
        out->kind = Token::Kind::network;
        out->network = core::CidrRange::host(*addr);
        return true;
    }
    if (digits_and_dots) {
        return error(offset_of(tok), "'" + std::string(tok) + "' is not an IPv4 address",
                     "for a network prefix end it with a dot (10.0.), or write a CIDR (10.0.0.0/16)");
    }
    if (tok.front() == '[') {
        return error(offset_of(tok), "'" + std::string(tok) + "': access.conf takes IPv6 addresses without brackets",
                     "write 2001:db8::1 or 2001:db8::/32");
    }
    if (tok.find(':') != std::string_view::npos && !is_x_display(tok)) {
        return colon_item_error(tok);
    }
    out->kind = Token::Kind::name;
    out->value = std::string(tok);
    return true;
}

// An origin item with a colon that is neither an IPv6 address nor an X
// display. Stock pam_access compares such items as text, so a deny line
// that holds one silently denies nobody (a misplaced times field, a port, a
// zone index): here it is an error, with the likely cause as the hint.
bool LineCompiler::colon_item_error(std::string_view tok) {
    std::string item(tok);
    size_t colon = tok.find(':');
    std::string_view before = tok.substr(0, colon);
    std::string_view after = tok.substr(tok.rfind(':') + 1);
    if (tok.find_first_not_of(":") == std::string_view::npos) {
        // What follows may be a times field with a mistyped day code
        // ("Mn0800-1800"): say so rather than only "stray".
        std::string_view next = trim(line_.substr(offset_of(tok) + tok.size()));
        next = next.substr(0, next.find_first_of(" \t"));
        size_t letters = next.find_first_not_of("!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
        if (letters != std::string_view::npos && letters > 0 && std::isdigit(static_cast<unsigned char>(next[letters]))) {
            return error(offset_of(tok), "stray '" + item + "' in the origins field: '" + std::string(next) +
                                             "' is not a times field",
                         "a times field starts with day codes: Mo Tu We Th Fr Sa Su, Wk (Monday to Friday), Wd "
                         "(Saturday and Sunday) or Al (every day), as in Wk0800-1800");
        }
        return error(offset_of(tok), "stray '" + item + "' in the origins field",
                     "a fourth field must be a time like Wk0800-1800; remove the extra separator");
    }
    if (looks_like_time_spec(tok)) {
        return error(offset_of(tok), "bad time field '" + item + "': write times as HHMM without ':'",
                     "like Wk0800-1700");
    }
    size_t percent = tok.find('%');
    if (percent != std::string_view::npos && IpAddress::parse(tok.substr(0, percent))) {
        return error(offset_of(tok) + percent, "'" + item + "': an address in the origins field takes no %zone",
                     "write " + std::string(tok.substr(0, percent)) +
                         ": a link-local client matches it whatever its zone");
    }
    if (looks_like_bare_times(after) && colon > 0) {
        return error(offset_of(tok) + colon + 1, "'" + item + "': times without a day code",
                     "a times field starts with a day code and follows its own separator: " + std::string(before) +
                         " : Al" + std::string(after) + " (Al = every day, Wk = Monday to Friday)");
    }
    if (after.empty()) {
        return error(offset_of(tok) + tok.size() - 1, "stray ':' after '" + std::string(before) + "'",
                     "a fourth field must be a time like Wk0800-1800; remove the extra separator");
    }
    if (!after.empty() && after.find_first_not_of("0123456789") == std::string_view::npos &&
        (IpAddress::parse(before) || before.find('.') != std::string_view::npos)) {
        return error(offset_of(tok) + colon, "'" + item + "': origins have no port numbers",
                     "write " + std::string(before) + "; ports belong in ringfence-firewall.conf");
    }
    bool plain = true;
    for (char c : tok) {
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '.');
    }
    if (tok.front() == ':') {
        return error(offset_of(tok), "'" + item + "' is not an X display or an IPv6 address",
                     "X displays look like :0 or :1.0");
    }
    if (plain && std::count(tok.begin(), tok.end(), ':') >= 2) {
        return error(offset_of(tok), "'" + item + "' is not an IPv6 address",
                     "IPv6 addresses are written bare (2001:db8::1) or as CIDR (2001:db8::/32)");
    }
    return error(offset_of(tok) + colon, "'" + item + "' is not an origin: ':' belongs only in IPv6 addresses and X displays (:0)",
                 "if ':' separates fields here, one is missing or extra; tty, service and host names have no ':'");
}

// A control character (CR, VT, ESC, ...) or a non-breaking space inside an
// item is legal, as in stock, but no name, tty or host really has one: the
// item never matches, and a deny line holding it quietly denies less.
void LineCompiler::check_invisible(std::string_view tok) {
    std::string what;
    size_t at = core::find_invisible(tok, &what);
    if (at != std::string_view::npos) {
        warning(offset_of(tok) + at,
                "'" + core::escape_for_log(std::string(tok)) + "' contains " + what +
                    ": it matches only a name that has the same invisible character",
                "retype the item; separate items with spaces, commas or tabs");
    }
}

bool LineCompiler::compile_list(std::string_view field, bool users, TokenList* out) {
    if (whole_) {
        out->text.assign(trim(field));
    }
    // *out may hold an earlier line's list: its vectors are emptied and
    // reused, and the parts past the last one used dropped on the way out.
    size_t used = 0;
    struct Trim {
        std::vector<std::vector<Token>>& parts;
        size_t& used;
        ~Trim() { parts.resize(used); }
    } trim_parts{out->parts, used};
    auto open_part = [&] {
        if (used == out->parts.size()) {
            out->parts.emplace_back();
        } else {
            out->parts[used].clear();
        }
        ++used;
    };
    open_part();
    split_list(field, &toks_);
    const std::vector<RawToken>& toks = toks_;
    const char* what = users ? "users" : "origins";
    for (size_t i = 0; i < toks.size(); ++i) {
        const RawToken& t = toks[i];
        if (iequals(t.text, "EXCEPT")) {
            if (out->parts[used - 1].empty()) {
                return error(static_cast<size_t>(t.column),
                             std::string("EXCEPT must follow at least one entry in the ") + what + " field");
            }
            if (i + 1 == toks.size()) {
                return error(static_cast<size_t>(t.column),
                             std::string("EXCEPT must be followed by at least one entry in the ") + what + " field");
            }
            open_part();
            continue;
        }
        check_invisible(t.text);
        std::vector<Token>& part = out->parts[used - 1];
        Token& tok = part.emplace_back();
        bool ok = users ? compile_user_token(t.text, &tok) : compile_origin_token(t.text, &tok);
        if (!ok) {
            part.pop_back();
            return false;
        }
    }
    if (out->parts.front().empty()) {
        return error(offset_of(field), std::string("empty ") + what + " field",
                     users ? "name users, (groups) or ALL" : "name origins (ALL, LOCAL, ttys, hosts, networks)");
    }
    return true;
}

bool LineCompiler::compile(Rule* rule, bool origins_only) {
    std::string_view s(line_);
    rule->times.reset();
    rule->times_column = 0;
    // permission : users : origins [: times]
    size_t sep1 = std::string_view::npos;
    for (size_t i = 0; i < s.size(); ++i) {
        if (is_fieldsep(s[i])) {
            sep1 = i;
            break;
        }
    }
    if (sep1 == std::string_view::npos) {
        return error(0, "expected 'permission " + options_.fieldsep.substr(0, 1) + " users " +
                            options_.fieldsep.substr(0, 1) + " origins', found no field separator");
    }
    size_t sep2 = std::string_view::npos;
    for (size_t i = sep1 + 1; i < s.size(); ++i) {
        if (is_fieldsep(s[i])) {
            sep2 = i;
            break;
        }
    }
    if (sep2 == std::string_view::npos) {
        return error(sep1, "expected a third field (origins) after the users field");
    }
    std::string_view perm = trim(s.substr(0, sep1));
    if (perm != "+" && perm != "-") {
        return error(offset_of(perm.empty() ? s : perm),
                     "the first field must be '+' (allow) or '-' (deny), found '" + std::string(perm) + "'");
    }
    rule->allow = perm == "+";
    std::string_view users = s.substr(sep1 + 1, sep2 - sep1 - 1);
    std::string_view rest = s.substr(sep2 + 1);

    // Optional fourth field: text after a field separator that starts like a
    // time spec (a day code). IPv6 addresses and X displays cannot:
    // every day code has a character that is not a hex digit.
    // The first such separator, so that a time spec may itself contain a
    // character of fieldsep= ("|" between alternatives).
    // A separator inside an item that is an IPv6 address or network is part
    // of it ("2001:db8:: sales" has no time field); an item made only of
    // separators ("ALL :: Wk0800-1800") is not an address.
    std::string_view origins = rest;
    for (size_t i = 0; i < rest.size(); ++i) {
        if (is_fieldsep(rest[i]) && !inside_ipv6_item(rest, i)) {
            std::string_view tail = trim(rest.substr(i + 1));
            if (looks_like_time_spec(tail)) {
                std::string why;
                size_t col = 0;
                auto spec = TimeSpec::parse(tail, &why, &col);
                if (!spec) {
                    return error(offset_of(tail) + col, "bad time field: " + why,
                                 "examples: Wk0800-1800, SaSu, !Al2200-0600, Wk0900-1700|Sa1000-1200");
                }
                rule->times = std::move(*spec);
                rule->times_column = static_cast<int>(offset_of(tail)) + 1;
                origins = rest.substr(0, i);
                break;
            }
        }
    }
    if (!origins_only && !compile_list(users, true, &rule->users)) {
        return false;
    }
    return compile_list(origins, false, &rule->origins);
}

// ---- evaluation ----

// Three-valued (Kleene) logic: unknown stands for a group membership that the
// name service could not answer. A rule whose match depends on one decides
// nothing but a refusal (fail closed); one that matches or fails to match
// whatever the answer is decided as usual.
using Tri = Match;

Tri tri(bool b) { return b ? Tri::yes : Tri::no; }
Tri tri_and(Tri a, Tri b) {
    if (a == Tri::no || b == Tri::no) {
        return Tri::no;
    }
    return a == Tri::yes && b == Tri::yes ? Tri::yes : Tri::unknown;
}
Tri tri_not(Tri a) { return a == Tri::unknown ? a : tri(a == Tri::no); }

// Names from the request and the policy, for the trace: escaped and bounded.
std::string q(const std::string& s) { return core::escape_for_log(s, 200); }

// Why a group membership is what it is (the trace says it in words).
enum class Via { no_group, lookup_failed, primary, listed, group_list, not_member, list_failed };

struct Membership {
    Tri answer;
    Via via;
};

std::string membership_why(const std::string& user, const std::string& group, Via via) {
    switch (via) {
        case Via::primary:
            return q(user) + " is in group " + q(group) + " (primary group)";
        case Via::listed:
            return q(user) + " is in group " + q(group) + " (listed member)";
        case Via::group_list:
            return q(user) + " is in group " + q(group) + " (in the user's group list)";
        case Via::not_member:
            return q(user) + " is not in group " + q(group);
        case Via::no_group:
            return "there is no group " + q(group);
        case Via::lookup_failed:
            return "whether " + q(user) + " is in group " + q(group) +
                   " is unknown: the name service failed to look up the group";
        case Via::list_failed:
            return "whether " + q(user) + " is in group " + q(group) +
                   " is unknown: the name service failed to list the user's groups";
    }
    return "";
}

// The addresses an origin was compared as: "10.1.2.3" for itself, else
// "ws1 (10.1.2.3, 2001:db8::3)" or "ws1 (no address)".
std::string as_addresses(const std::string& from, const std::vector<IpAddress>& addrs) {
    if (addrs.size() == 1 && addrs.front().to_string() == from) {
        return q(from);
    }
    std::string out = q(from) + " (";
    if (addrs.empty()) {
        return out + "no address)";
    }
    for (size_t i = 0; i < addrs.size() && i < 8; ++i) {
        out += (i > 0 ? ", " : "") + addrs[i].to_string();
    }
    return out + (addrs.size() > 8 ? ", ...)" : ")");
}

class Evaluator {
public:
    Evaluator(const Request& r, Environment& env, bool nodefgroup)
        : req_(r), env_(env), origin_(origin_of(r)), nodefgroup_(nodefgroup) {}

    const Origin& origin() const { return origin_; }
    // A group of the last rule tried whose membership could not be resolved.
    const std::string& unresolved_group() const { return unresolved_; }

    // Records the steps of the following rule_matches() calls there (null: none).
    void trace_into(RuleTrace* trace, TraceDepth depth) {
        trace_ = trace;
        depth_ = depth;
    }

    Tri rule_matches(const Rule& rule) {
        unresolved_.clear();
        if (rule.times) {
            bool now = rule.times->matches(req_.when);
            if (trace_ != nullptr) {
                record(Step::Field::time, 0, nullptr, tri(now),
                       format_local_time(req_.when) + (now ? " is within " : " is outside ") + q(rule.times->text()));
            }
            if (!now) {
                if (trace_ != nullptr && depth_ == TraceDepth::users_past_time) {
                    trace_->users = list_matches(rule.users, true);
                }
                return Tri::no;
            }
        }
        // Origins that can be compared without asking anyone (no netgroup,
        // no DNS) are compared first: when they do not match, the rule does
        // not match whatever the users field says (no AND unknown is no),
        // so its group lookups would be wasted. Same decision; the trace
        // keeps the order in which the rule reads.
        if (trace_ == nullptr && origins_rule_out(rule)) {
            return Tri::no;
        }
        Tri users = list_matches(rule.users, true);
        if (trace_ != nullptr) {
            trace_->users = users;
        }
        if (users == Tri::no) {
            return Tri::no;
        }
        return tri_and(users, list_matches(rule.origins, false));
    }

    // True when the rule's origins, compared without asking anyone, do not
    // match the request: then the rule does not match, whatever its users
    // and time fields say. Reads only rule.origins.
    bool origins_rule_out(const Rule& rule) {
        return origins_need_no_lookup(rule.origins) && list_matches(rule.origins, false) == Tri::no;
    }

private:
    // Whether origin_matches() answers for every item of `list` from the
    // request alone.
    bool origins_need_no_lookup(const TokenList& list) {
        for (const auto& part : list.parts) {
            for (const Token& t : part) {
                switch (t.kind) {
                    case Token::Kind::all:
                    case Token::Kind::local:
                    case Token::Kind::name:
                    case Token::Kind::domain:
                        break;
                    case Token::Kind::v4_prefix:
                    case Token::Kind::network:
                        if (origin_.remote && !origin_is_address()) {
                            return false;
                        }
                        break;
                    default:
                        return false;
                }
            }
        }
        return true;
    }

    // As addresses_of(): an address that it takes without resolving.
    bool origin_is_address() {
        if (!numeric_known_) {
            numeric_known_ = true;
            const std::string& name = origin_.text;
            size_t percent = name.find('%');
            auto a = IpAddress::parse(percent == std::string::npos ? std::string_view(name)
                                                                   : std::string_view(name).substr(0, percent));
            numeric_ = a && (percent == std::string::npos || !a->is_v4());
        }
        return numeric_;
    }

    void record(Step::Field field, int part, const Token* token, Tri result, std::string why) {
        Step s;
        s.field = field;
        s.part = part;
        s.token = token;
        s.result = result;
        s.why = std::move(why);
        trace_->steps.push_back(std::move(s));
    }

    // A EXCEPT B EXCEPT C = A and not (B and not C). The parts are tried
    // left to right up to the first that does not match (no lookups for the
    // rest), then folded from the right.
    Tri list_matches(const TokenList& list, bool users) {
        parts_.clear();
        int part_no = 0;
        for (const auto& part : list.parts) {
            Tri any = Tri::no;
            for (const Token& t : part) {
                std::string why;
                std::string* whyp = trace_ != nullptr ? &why : nullptr;
                Tri m = users ? user_matches(t, whyp) : tri(origin_matches(t, origin_.text, origin_.remote, false, whyp));
                if (trace_ != nullptr) {
                    record(users ? Step::Field::users : Step::Field::origins, part_no, &t, m, std::move(why));
                }
                if (m == Tri::yes) {
                    any = Tri::yes;
                    break;
                }
                if (m == Tri::unknown) {
                    any = Tri::unknown;
                }
            }
            parts_.push_back(any);
            if (any == Tri::no) {
                break;
            }
            ++part_no;
        }
        Tri v = parts_.back();
        for (size_t i = parts_.size() - 1; i-- > 0;) {
            v = tri_and(parts_[i], tri_not(v));
        }
        return v;
    }

    // As pam_modutil_user_in_group_nam_nam: the group's gid is the user's
    // primary gid, or the group lists the user, or the user's group list
    // (getgrouplist) holds the gid. Looked up once per name and decision;
    // the user's group list only when the first two do not answer.
    Tri in_group(const std::string& name, Via* via) {
        auto known = groups_.find(name);
        const Membership& m =
            known != groups_.end() ? known->second : groups_.emplace(name, group_membership(name)).first->second;
        if (m.answer == Tri::unknown) {
            unresolved_ = name;
        }
        *via = m.via;
        return m.answer;
    }

    Membership group_membership(const std::string& name) {
        const core::UserInfo& u = *req_.user;
        core::GroupInfo g;
        switch (env_.identity.lookup_group(name, &g)) {
            case core::LookupStatus::not_found:
                return {Tri::no, Via::no_group};
            case core::LookupStatus::failed:
                return {Tri::unknown, Via::lookup_failed};
            case core::LookupStatus::found:
                break;
        }
        if (g.gid == u.gid) {
            return {Tri::yes, Via::primary};
        }
        if (std::find(g.members.begin(), g.members.end(), u.name) != g.members.end()) {
            return {Tri::yes, Via::listed};
        }
        if (!gids_loaded_) {
            gids_loaded_ = true;
            gids_ok_ = env_.identity.group_ids(u, &gids_) == core::LookupStatus::found;
        }
        if (std::find(gids_.begin(), gids_.end(), g.gid) != gids_.end()) {
            return {Tri::yes, Via::group_list};
        }
        return gids_ok_ ? Membership{Tri::no, Via::not_member} : Membership{Tri::unknown, Via::list_failed};
    }

    const char* domain() {
        if (!domain_loaded_) {
            domain_ = env_.identity.nis_domain();
            domain_loaded_ = true;
        }
        return domain_.empty() ? nullptr : domain_.c_str();
    }

    // For the trace of a netgroup item, after domain() was asked.
    std::string domain_note() const { return domain_.empty() ? "" : " (NIS domain " + q(domain_) + ")"; }

    const std::string& host_name() {
        if (!host_loaded_) {
            host_ = env_.identity.host_name();
            host_loaded_ = true;
        }
        return host_;
    }

    // `why` (null: not tracing) receives the reason in words.
    Tri user_matches(const Token& t, std::string* why) {
        const core::UserInfo& u = *req_.user;
        switch (t.kind) {
            case Token::Kind::all:
                if (why != nullptr) {
                    *why = "ALL matches every user";
                }
                return Tri::yes;
            case Token::Kind::name: {
                if (iequals(t.value, u.name)) {
                    if (why != nullptr) {
                        *why = q(u.name) + " is " + q(t.value) +
                               (t.value == u.name ? "" : " (user names compare without case)");
                    }
                    return Tri::yes;
                }
                if (nodefgroup_) {
                    if (why != nullptr) {
                        *why = q(u.name) + " is not " + q(t.value) + " (nodefgroup: a bare name is not a group)";
                    }
                    return Tri::no;
                }
                Via via;
                Tri m = in_group(t.value, &via);
                if (why != nullptr) {
                    *why = m == Tri::yes             ? membership_why(u.name, t.value, via)
                           : via == Via::no_group    ? q(u.name) + " is not " + q(t.value) + ", and there is no group " +
                                                           q(t.value)
                           : via == Via::not_member ? q(u.name) + " is neither " + q(t.value) + " nor in group " +
                                                           q(t.value)
                                                     : q(u.name) + " is not " + q(t.value) + "; " +
                                                           membership_why(u.name, t.value, via);
                }
                return m;
            }
            case Token::Kind::group: {
                Via via;
                Tri m = in_group(t.value, &via);
                if (why != nullptr) {
                    *why = membership_why(u.name, t.value, via);
                }
                return m;
            }
            case Token::Kind::netgroup: {
                bool in = env_.identity.in_netgroup(t.value, nullptr, u.name.c_str(), domain());
                if (why != nullptr) {
                    *why = q(u.name) + (in ? " is in netgroup " : " is not in netgroup ") + q(t.value) + domain_note();
                }
                return tri(in);
            }
            case Token::Kind::host_netgroup: {
                bool in = !host_name().empty() &&
                          env_.identity.in_netgroup(t.value, host_name().c_str(), u.name.c_str(), domain());
                if (why != nullptr) {
                    *why = host_name().empty() ? "this host has no name: it is in no netgroup"
                                               : "(" + q(host_name()) + ", " + q(u.name) + ")" +
                                                     (in ? " is in netgroup " : " is not in netgroup ") +
                                                     q(t.value) + domain_note();
                }
                return tri(in);
            }
            case Token::Kind::user_at_host: {
                Tri user = user_matches(*t.user_part, why);
                if (user == Tri::no) {
                    return Tri::no;
                }
                std::string host_why;
                bool here = !host_name().empty() &&
                            origin_matches(*t.host_part, host_name(), true, true, why != nullptr ? &host_why : nullptr);
                if (why != nullptr) {
                    *why += "; this host " + (host_name().empty() ? std::string("has no name") : host_why);
                }
                return tri_and(user, tri(here));
            }
            default:
                if (why != nullptr) {
                    *why = q(t.text) + " is not a users item";
                }
                return Tri::no;
        }
    }

    const std::vector<IpAddress>& addresses_of(const std::string& name, bool self) {
        auto& cache = self ? self_addrs_ : from_addrs_;
        bool& loaded = self ? self_loaded_ : from_loaded_;
        if (!loaded) {
            loaded = true;
            // sshd writes a link-local client with its zone
            // ("fe80::1%eth0"); the zone does not change which networks
            // hold the address, and items cannot carry one.
            size_t percent = name.find('%');
            auto a = IpAddress::parse(percent == std::string::npos ? std::string_view(name)
                                                                   : std::string_view(name).substr(0, percent));
            if (a && (percent == std::string::npos || !a->is_v4())) {
                cache.push_back(a->unmapped());
            } else {
                for (const IpAddress& x : env_.dns.resolve(name)) {
                    cache.push_back(x.unmapped());
                }
            }
            // For prefix items ("10.1."), once rather than per item.
            auto& dotted = self ? self_dotted_ : from_dotted_;
            for (const IpAddress& x : cache) {
                dotted.push_back(x.is_v4() ? x.to_string() + "." : std::string());
            }
        }
        return cache;
    }

    // `why` (null: not tracing) receives the reason in words.
    bool origin_matches(const Token& t, const std::string& from, bool remote, bool self, std::string* why) {
        if (t.kind == Token::Kind::netgroup) {
            bool in = env_.identity.in_netgroup(t.value, from.c_str(), nullptr, domain());
            if (why != nullptr) {
                *why = q(from) + (in ? " is in netgroup " : " is not in netgroup ") + q(t.value) + domain_note();
            }
            return in;
        }
        if (t.kind == Token::Kind::all) {
            if (why != nullptr) {
                *why = "ALL matches every origin";
            }
            return true;
        }
        if (iequals(t.text, from)) {
            if (why != nullptr) {
                *why = q(from) + " is " + q(t.text);
            }
            return true;
        }
        if (t.kind == Token::Kind::local) {
            if (why != nullptr) {
                *why = remote ? q(from) + " is a remote host (rhost), not LOCAL" : q(from) + " is LOCAL (no rhost)";
            }
            return !remote;
        }
        if (!remote) {
            if (why != nullptr) {
                bool host_only = t.kind == Token::Kind::domain || t.kind == Token::Kind::v4_prefix ||
                                 t.kind == Token::Kind::network;
                *why = q(from) + " is not " + q(t.text) + (host_only ? " (only a remote host can be in it)" : "");
            }
            return false;
        }
        switch (t.kind) {
            case Token::Kind::domain: {
                bool in = from.size() > t.value.size() && iends_with(from, t.value);
                if (why != nullptr) {
                    *why = q(from) + (in ? " ends in " : " does not end in ") + q(t.text);
                }
                return in;
            }
            case Token::Kind::v4_prefix: {
                const std::vector<IpAddress>& addrs = addresses_of(from, self);
                const std::vector<std::string>& dotted = self ? self_dotted_ : from_dotted_;
                for (size_t i = 0; i < addrs.size(); ++i) {
                    const IpAddress& a = addrs[i];
                    if (a.is_v4() && dotted[i].compare(0, t.value.size(), t.value) == 0) {
                        if (why != nullptr) {
                            *why = (a.to_string() == from ? q(from) : q(from) + " (" + a.to_string() + ")") +
                                   " starts with " + q(t.text);
                        }
                        return true;
                    }
                }
                if (why != nullptr) {
                    *why = as_addresses(from, addrs) + (addrs.size() > 1 ? " do not start with " : " does not start with ") +
                           q(t.text);
                }
                return false;
            }
            case Token::Kind::network: {
                const std::vector<IpAddress>& addrs = addresses_of(from, self);
                const bool single = t.text.find('/') == std::string::npos;  // an address, not a network
                for (const IpAddress& a : addrs) {
                    if (t.network->contains(a)) {
                        if (why != nullptr) {
                            *why = (a.to_string() == from ? q(from) : q(from) + " (" + a.to_string() + ")") +
                                   (single ? " is " : " is in ") + q(t.text);
                        }
                        return true;
                    }
                }
                if (why != nullptr) {
                    *why = as_addresses(from, addrs) + (addrs.size() > 1 ? " are not" : " is not") +
                           (single ? " " : " in ") + q(t.text);
                }
                return false;
            }
            default:
                if (why != nullptr) {
                    *why = q(from) + " is not " + q(t.text);
                }
                return false;
        }
    }

    const Request& req_;
    Environment& env_;
    Origin origin_;
    bool nodefgroup_;
    RuleTrace* trace_ = nullptr;
    TraceDepth depth_ = TraceDepth::as_evaluated;
    std::string domain_, host_;
    bool domain_loaded_ = false, host_loaded_ = false;
    std::vector<IpAddress> from_addrs_, self_addrs_;
    std::vector<std::string> from_dotted_, self_dotted_;  // "a.b.c.d." of each v4 address, "" otherwise
    bool from_loaded_ = false, self_loaded_ = false;
    bool numeric_known_ = false, numeric_ = false;
    std::vector<Tri> parts_;                                // list_matches scratch
    std::unordered_map<std::string, Membership> groups_;   // memberships asked so far
    std::vector<gid_t> gids_;
    bool gids_loaded_ = false, gids_ok_ = false;
    std::string unresolved_;
};

}  // namespace

std::string format_local_time(const core::LocalTime& t) {
    static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s %02d:%02d", t.weekday >= 0 && t.weekday < 7 ? kDays[t.weekday] : "???",
                  t.minute / 60 % 100, t.minute % 60);
    return buf;
}

std::string Rule::location() const { return file + ":" + std::to_string(line); }

std::string Decision::explanation() const {
    switch (verdict) {
        case Verdict::allow:
            return "allowed by " + rule->location();
        case Verdict::deny:
            if (!unresolved_group.empty()) {
                return "denied: " + rule->location() + " may apply, but the membership of group '" +
                       unresolved_group + "' could not be resolved";
            }
            return "denied by " + rule->location();
        case Verdict::no_match:
            break;
    }
    return "no rule matched (allowed, as pam_access)";
}

Origin origin_of(const Request& r) {
    Origin o;
    if (!r.rhost.empty()) {
        o.text = r.rhost;
        o.remote = true;
        return o;
    }
    if (r.tty) {
        o.text = *r.tty;
        if (!o.text.empty() && o.text[0] == '/') {
            // "/dev/tty1" -> "tty1", "/dev/pts/0" -> "pts/0", "/x" -> "x"
            size_t second = o.text.find('/', 1);
            o.text = second == std::string::npos ? o.text.substr(1) : o.text.substr(second + 1);
        }
        return o;
    }
    o.text = r.service;
    return o;
}

struct Policy::Scratch {
    std::vector<RawToken> toks;
};

std::shared_ptr<const Policy> Policy::compile(const std::vector<core::ConfigText>& files,
                                              const ParseOptions& options, Diagnostics* diags) {
    std::vector<core::ConfigBuffer> buffers;
    buffers.reserve(files.size());
    for (const core::ConfigText& f : files) {
        core::ConfigBuffer b;
        b.path = f.path;
        b.stamp = f.stamp;
        size_t n = 0;
        for (const std::string& line : f.lines) {
            n += line.size() + 1;
        }
        b.data.reserve(n);
        for (const std::string& line : f.lines) {
            b.data += line;
            b.data += '\n';
        }
        buffers.push_back(std::move(b));
    }
    return compile_buffers(std::move(buffers), options, diags);
}

std::shared_ptr<const Policy> Policy::compile_buffers(std::vector<core::ConfigBuffer>&& files, const ParseOptions& options,
                                              Diagnostics* diags) {
    return compile_impl(std::move(files), options, diags, nullptr, nullptr, nullptr, false);
}

std::shared_ptr<const Policy> Policy::compile_and_decide(std::vector<core::ConfigBuffer>&& files,
                                                         const ParseOptions& options, Diagnostics* diags,
                                                         const Request& request, Environment& env, Decision* decision,
                                                         bool checked) {
    return compile_impl(std::move(files), options, diags, &request, &env, decision, checked);
}

std::shared_ptr<const Policy> Policy::compile_impl(std::vector<core::ConfigBuffer>&& files, const ParseOptions& options,
                                                   Diagnostics* diags, const Request* request, Environment* env,
                                                   Decision* decision, bool checked) {
    auto policy = std::make_shared<Policy>();
    size_t errors_before = diags->size();
    // Evaluation goes along while every line so far is valid and no rule
    // has decided; an error ends it (the policy will refuse: no lookups
    // past that point).
    bool evaluating = request != nullptr;
    if (options.fieldsep.empty() || options.listsep.empty()) {
        evaluating = false;
        Diagnostic d;
        d.file = "module options";
        d.message = options.fieldsep.empty() ? "fieldsep= must not be empty" : "listsep= must not be empty";
        diags->push_back(std::move(d));
    }
    policy->options_ = options;
    for (unsigned char c : options.fieldsep) {
        policy->separators_[c] |= 1;
    }
    for (unsigned char c : options.listsep) {
        policy->separators_[c] |= 2;
    }
    policy->sources_.reserve(files.size());
    for (core::ConfigBuffer& file : files) {
        policy->sources_.push_back(Source{std::move(file.path), std::move(file.data)});
        file.data.shrink_to_fit();
    }
    std::optional<Evaluator> ev;
    if (evaluating) {
        ev.emplace(*request, *env, options.nodefgroup);
        *decision = Decision();
        decision->origin = ev->origin().text;
        decision->remote = ev->origin().remote;
    }
    // The rule just built decides the request, or not (as evaluate()).
    Scratch scratch;
    Rule rule;
    auto try_decide = [&](const RuleRef& ref) {
        Tri m = ev->rule_matches(rule);
        if (m == Tri::no) {
            return;
        }
        evaluating = false;
        decision->verdict = m == Tri::yes && rule.allow ? Verdict::allow : Verdict::deny;
        if (m == Tri::unknown) {
            decision->unresolved_group = ev->unresolved_group();
        }
        // The rule as explain and the log show it.
        auto whole = std::make_unique<Rule>();
        Diagnostics again;
        policy->build(ref, &again, whole.get(), &scratch, true);
        policy->once_rule_ = std::move(whole);
        decision->rule = policy->once_rule_.get();
    };
    // Every line is compiled (into one reused Rule, then dropped) here: the
    // diagnostics, and the validity, are those of the whole text. Checked
    // files are known to compile with no error: there a line is compiled
    // only as far as deciding the request needs (its origins first, since
    // origins that rule the request out without a lookup end the rule),
    // and nothing after the deciding rule; every rule's place is still kept.
    policy->clean_.assign(policy->sources_.size(), false);
    for (size_t f = 0; f < policy->sources_.size(); ++f) {
        const Source& src = policy->sources_[f];
        const std::string& data = src.text;
        size_t errors_in_file = core::count_errors(*diags);
        size_t start = 0;
        uint32_t line_no = 0;
        while (start < data.size()) {
            ++line_no;
            const char* nl_p = static_cast<const char*>(std::memchr(data.data() + start, '\n', data.size() - start));
            size_t nl = nl_p == nullptr ? std::string::npos : static_cast<size_t>(nl_p - data.data());
            size_t end = nl == std::string::npos ? data.size() : nl;
            std::string_view raw(data.data() + start, end - start);
            std::string_view t = trim(raw);
            if (!t.empty() && t.front() != '#') {
                RuleRef ref{static_cast<uint32_t>(f), line_no, static_cast<uint32_t>(start),
                            static_cast<uint32_t>(end - start)};
                if (checked) {
                    policy->refs_.push_back(ref);
                    if (evaluating) {
                        if (!policy->build(ref, diags, &rule, &scratch, false, true)) {
                            evaluating = false;  // cannot be: the stamp said clean; refused below
                        } else if (!ev->origins_rule_out(rule)) {
                            if (policy->build(ref, diags, &rule, &scratch, false)) {
                                try_decide(ref);
                            } else {
                                evaluating = false;
                            }
                        }
                    }
                } else if (policy->build(ref, diags, &rule, &scratch, false)) {
                    policy->refs_.push_back(ref);
                    if (evaluating) {
                        try_decide(ref);
                    }
                } else {
                    evaluating = false;
                }
            }
            if (nl == std::string::npos) {
                break;
            }
            start = nl + 1;
        }
        policy->clean_[f] = !checked && core::count_errors(*diags) == errors_in_file;
    }
    policy->refs_.shrink_to_fit();
    policy->valid_ = !core::has_errors(Diagnostics(diags->begin() + static_cast<long>(errors_before), diags->end()));
    return policy;
}

bool Policy::build(const RuleRef& ref, Diagnostics* diags, Rule* out, Scratch* scratch, bool whole,
                   bool origins_only) const {
    const Source& src = sources_[ref.source];
    out->line = static_cast<int>(ref.line);
    if (whole) {
        out->file = src.path;
        out->source.assign(src.text, ref.offset, ref.length);
    }
    std::string_view line(src.text.data() + ref.offset, ref.length);
    LineCompiler lc(src.path, out->line, line, options_, separators_, &scratch->toks, whole, diags);
    return lc.compile(out, origins_only);
}

const std::vector<Rule>& Policy::rules() const {
    std::call_once(built_, [this] {
        std::vector<Rule> all(refs_.size());
        Diagnostics again;  // the same as compile() reported
        Scratch scratch;
        for (size_t i = 0; i < refs_.size(); ++i) {
            build(refs_[i], &again, &all[i], &scratch, true);
        }
        rules_ = std::move(all);
    });
    return rules_;
}

Decision Policy::evaluate(const Request& request, Environment& env) const {
    return evaluate(request, env, nullptr);
}

Decision Policy::evaluate(const Request& request, Environment& env, std::vector<RuleTrace>* trace,
                          TraceDepth depth) const {
    Evaluator ev(request, env, options_.nodefgroup);
    Decision d;
    d.origin = ev.origin().text;
    d.remote = ev.origin().remote;
    for (const Rule& rule : rules()) {
        if (trace != nullptr) {
            trace->emplace_back();
            trace->back().rule = &rule;
            ev.trace_into(&trace->back(), depth);
        }
        Tri m = ev.rule_matches(rule);
        if (trace != nullptr) {
            trace->back().result = m;
        }
        if (m == Tri::no) {
            continue;
        }
        // unknown: whether this rule applies depends on a membership the
        // name service could not resolve. Refuse rather than guess.
        d.verdict = m == Tri::yes && rule.allow ? Verdict::allow : Verdict::deny;
        d.rule = &rule;
        if (m == Tri::unknown) {
            d.unresolved_group = ev.unresolved_group();
        }
        return d;
    }
    return d;
}

namespace {

PolicySource read_sources(const std::string& main_file, bool use_dropins, const std::string& dropin_dir, bool as_lines) {
    PolicySource src;
    std::vector<std::string> paths{main_file};
    if (use_dropins) {
        src.stamps.emplace_back(dropin_dir, core::stamp_of(dropin_dir));
        std::vector<std::string> names;
        if (DIR* d = opendir(dropin_dir.c_str())) {
            while (struct dirent* e = readdir(d)) {
                std::string n = e->d_name;
                if (n.size() <= 5 || n.compare(n.size() - 5, 5, ".conf") != 0) {
                    continue;
                }
                // As glob("*.conf") in stock pam_access: a name that begins
                // with a dot is not a drop-in. Said, since a rule in such a
                // file does nothing.
                if (n[0] == '.') {
                    Diagnostic skipped;
                    skipped.file = dropin_dir + "/" + n;
                    skipped.severity = core::Severity::warning;
                    skipped.message = "ignored: drop-ins whose names begin with '.' are not read (as pam_access)";
                    skipped.hint = "to use its rules, rename it without the leading dot";
                    src.diags.push_back(std::move(skipped));
                    continue;
                }
                names.push_back(n);
            }
            closedir(d);
        }
        std::sort(names.begin(), names.end());
        for (const std::string& n : names) {
            paths.push_back(dropin_dir + "/" + n);
        }
    }
    for (const std::string& p : paths) {
        core::ReadStatus status;
        core::Diagnostic error;
        core::FileStamp stamp;
        if (as_lines) {
            core::ReadResult r = core::read_config_file(p);
            status = r.status;
            stamp = r.text.stamp;
            error = std::move(r.error);
            if (status == core::ReadStatus::ok) {
                src.files.push_back(std::move(r.text));
            }
        } else {
            core::BufferResult r = core::read_config_buffer(p);
            status = r.status;
            stamp = r.text.stamp;
            error = std::move(r.error);
            if (status == core::ReadStatus::ok) {
                src.buffers.push_back(std::move(r.text));
            }
        }
        src.stamps.emplace_back(p, status == core::ReadStatus::ok ? stamp : core::stamp_of(p));
        if (status == core::ReadStatus::error) {
            src.ok = false;
            src.diags.push_back(std::move(error));
        }
    }
    return src;
}

}  // namespace

PolicySource read_policy_files(const std::string& main_file, bool use_dropins, const std::string& dropin_dir) {
    return read_sources(main_file, use_dropins, dropin_dir, true);
}

PolicySource read_policy_buffers(const std::string& main_file, bool use_dropins, const std::string& dropin_dir) {
    return read_sources(main_file, use_dropins, dropin_dir, false);
}

}  // namespace ringfence::access
