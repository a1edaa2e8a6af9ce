// SPDX-License-Identifier: BSD-3-Clause
// The tcpdchk checks: what is legal in hosts.allow and hosts.deny but
// probably not what the admin meant.
#include "tcpd_shim/hosts_lint.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/ip.h"
#include "core/text.h"
#include "tcpd_shim/hosts_explain.h"

namespace ringfence::tcpd {

using core::Diagnostic;
using core::Diagnostics;
using core::Severity;

namespace {

std::string lower(std::string s) {
    for (char& ch : s) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    return s;
}

// Physical lines of a hosts file, to point diagnostics at a rule's text.
struct FileLines {
    std::vector<std::string> lines;  // 1-based via at()
    const std::string& at(int n) const {
        static const std::string empty;
        return n >= 1 && static_cast<size_t>(n) <= lines.size() ? lines[static_cast<size_t>(n) - 1] : empty;
    }
};

FileLines split_lines(const std::string& content) {
    FileLines f;
    size_t start = 0;
    while (start < content.size()) {
        size_t nl = content.find('\n', start);
        if (nl == std::string::npos) {
            f.lines.push_back(content.substr(start));
            break;
        }
        f.lines.push_back(content.substr(start, nl - start));
        start = nl + 1;
    }
    return f;
}

class Linter {
public:
    Linter(std::map<std::string, FileLines> files, const LintOptions& options, Diagnostics* out)
        : files_(std::move(files)), options_(options), out_(out) {}

    void lint(const Policy& policy);

private:
    void warn_at(const Rule& r, size_t offset, Severity sev, std::string msg, std::string hint);
    void warn_option(const Rule& r, const Option& o, std::string msg, std::string hint);
    void warn_token(const Rule& r, const std::string& token, std::string msg, std::string hint);
    void lint_invisible(const Rule& r, const std::string& token);
    void lint_host(const Rule& r, const HostPattern& h);
    void lint_options(const Rule& r);

    std::map<std::string, FileLines> files_;
    const LintOptions& options_;
    Diagnostics* out_;
};

// Maps an offset in the rule's logical line (continuations joined) to the
// physical line and column.
void Linter::warn_at(const Rule& r, size_t offset, Severity sev, std::string msg, std::string hint) {
    Diagnostic d;
    d.file = r.file;
    d.severity = sev;
    d.message = std::move(msg);
    d.hint = std::move(hint);
    d.line = r.line;
    auto it = files_.find(r.file);
    if (it != files_.end()) {
        size_t base = 0;
        for (int n = r.line; n <= r.last_line; ++n) {
            std::string seg = it->second.at(n);
            size_t len = seg.size();
            if (n < r.last_line && len > 0 && seg.back() == '\\') {
                --len;
            }
            if (offset < base + len || n == r.last_line) {
                d.line = n;
                d.column = static_cast<int>(offset - base) + 1;
                d.source_line = seg;
                break;
            }
            base += len;
        }
    }
    out_->push_back(std::move(d));
}

void Linter::warn_option(const Rule& r, const Option& o, std::string msg, std::string hint) {
    Diagnostic d;
    d.file = r.file;
    d.severity = Severity::warning;
    d.message = std::move(msg);
    d.hint = std::move(hint);
    d.line = o.line;
    d.column = o.column;
    auto it = files_.find(r.file);
    if (it != files_.end()) {
        d.source_line = it->second.at(o.line);
    }
    out_->push_back(std::move(d));
}

// The first occurrence of `token` as a whole list element in the rule.
void Linter::warn_token(const Rule& r, const std::string& token, std::string msg, std::string hint) {
    const std::string& s = r.source;
    auto sep = [](char ch) { return ch == ' ' || ch == '\t' || ch == ',' || ch == ':' || ch == '\r' || ch == '\n'; };
    size_t pos = 0;
    size_t found = 0;
    while ((pos = s.find(token, pos)) != std::string::npos) {
        bool left = pos == 0 || sep(s[pos - 1]);
        size_t end = pos + token.size();
        bool right = end >= s.size() || sep(s[end]);
        if (left && right) {
            found = pos;
            break;
        }
        ++pos;
    }
    warn_at(r, found, Severity::warning, std::move(msg), std::move(hint));
}

bool digits_and_dots(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789.") == std::string::npos;
}

// A control character (CR, VT, ESC, ...) or a non-breaking space inside a
// pattern: legal, as in libwrap, but no host name has one, so the pattern
// never matches and a deny rule holding it quietly denies less.
void Linter::lint_invisible(const Rule& r, const std::string& token) {
    std::string what;
    if (core::find_invisible(token, &what) != std::string::npos) {
        warn_token(r, token,
                   "'" + core::escape_for_log(token) + "' contains " + what +
                       ": it matches only a name that has the same invisible character",
                   "retype the pattern");
    }
}

void Linter::lint_host(const Rule& r, const HostPattern& h) {
    if (h.kind != HostPattern::Kind::string) {
        return;
    }
    const StringPattern& p = h.string;
    if (p.kind == StringPattern::Kind::exact && digits_and_dots(p.text) &&
        p.text.find('.') != std::string::npos && !core::IpAddress::parse(p.text)) {
        warn_token(r, h.text, "'" + h.text + "' is not an IPv4 address: it never matches",
                   "write four numbers from 0 to 255 (10.1.2.3), or a network prefix ending in a dot (10.1.)");
        return;
    }
    if (p.kind == StringPattern::Kind::suffix && digits_and_dots(p.text.substr(1))) {
        warn_token(r, h.text,
                   "'" + h.text + "' matches every client address that ends in '" + h.text +
                       "', not a network",
                   "for a network the dot goes at the end (" + p.text.substr(1) + ".) or write net/mask");
    } else if (p.kind == StringPattern::Kind::prefix && !digits_and_dots(p.text)) {
        warn_token(r, h.text,
                   "'" + h.text + "' is a prefix match on host names: it also matches '" + p.text +
                       "attacker.example'",
                   "remove the trailing dot");
    }
}

// "user 'x' does not exist: ..." (or could not be looked up).
std::string missing(const char* what, const std::string& name, core::LookupStatus st) {
    std::string who = std::string(what) + " '" + core::escape_for_log(name, 40) + "'";
    return st == core::LookupStatus::not_found
               ? who + " does not exist: ringfence-tcpd refuses every connection this rule matches"
               : who + " could not be looked up: if it does not exist, ringfence-tcpd refuses every connection "
                       "this rule matches";
}

void Linter::lint_options(const Rule& r) {
    for (const Option& o : r.options) {
        switch (o.kind) {
            case Option::Kind::rfc931:
                warn_option(r, o, "ringfence does no ident (RFC 931) lookups: 'rfc931' is ignored", "");
                break;
            case Option::Kind::user: {
                if (options_.identity == nullptr) {
                    break;
                }
                core::UserInfo user;
                core::GroupInfo group;
                core::LookupStatus st = options_.identity->lookup_user(o.name, &user);
                if (st != core::LookupStatus::found) {
                    warn_option(r, o, missing("user", o.name, st), "");
                } else if (!o.argument.empty() &&
                           (st = options_.identity->lookup_group(o.argument, &group)) != core::LookupStatus::found) {
                    warn_option(r, o, missing("group", o.argument, st), "");
                }
                break;
            }
            case Option::Kind::group: {
                if (options_.identity == nullptr) {
                    break;
                }
                core::GroupInfo group;
                core::LookupStatus st = options_.identity->lookup_group(o.name, &group);
                if (st != core::LookupStatus::found) {
                    warn_option(r, o, missing("group", o.name, st), "");
                }
                break;
            }
            case Option::Kind::banners:
                if (options_.is_directory && !options_.is_directory(o.value)) {
                    warn_option(r, o,
                                "banners directory '" + core::escape_for_log(o.value, 80) +
                                    "' does not exist: no banner is shown",
                                "");
                }
                break;
            default:
                break;
        }
    }
}


void Linter::lint(const Policy& policy) {
    const Rule* catch_all = nullptr;
    std::map<std::string, const Rule*> seen;
    for (const Rule& r : policy.rules()) {
        if (r.line == 0) {
            continue;  // the file as a whole (unreadable)
        }
        if (catch_all != nullptr) {
            warn_at(r, 0, Severity::warning,
                    "this rule is never reached: " + catch_all->location() + " matches every request first", "");
        } else if (!r.daemons_broken && !r.clients_broken) {
            std::string key = lower(list_text(r.daemons)) + " : " + lower(list_text(r.clients));
            auto it = seen.find(key);
            if (it != seen.end()) {
                warn_at(r, 0, Severity::warning,
                        "this rule is never reached: " + it->second->location() +
                            " has the same daemon and client lists",
                        "merge the two rules");
            } else {
                seen.emplace(key, &r);
            }
        }
        if (!r.clients_broken) {
            // Once per rule: the first pattern that needs the client's name.
            bool dns_noted = false;
            for (const auto& part : r.clients.parts) {
                for (const ClientPattern& c : part) {
                    lint_invisible(r, c.text);
                    bool all = c.host.kind == HostPattern::Kind::string &&
                               c.host.string.kind == StringPattern::Kind::all;
                    if (!dns_noted && !all && c.host.needs_name()) {
                        dns_noted = true;
                        warn_token(r, c.text,
                                   "'" + core::escape_for_log(c.text) +
                                       "' needs the client's host name: a reverse and a forward DNS "
                                   "lookup for each client that reaches this rule, and a slow DNS server delays "
                                   "the connection",
                                   "prefer addresses and networks (10.1.2.0/24, [2001:db8::]/32), above all "
                                   "for daemons under ringfence-wrap");
                    }
                    lint_host(r, c.host);
                    if (c.user && c.user->kind != StringPattern::Kind::all &&
                        lower(c.user->text) != "unknown") {
                        warn_token(r, c.text,
                                   "'" + c.text + "' never matches: ringfence does no ident (RFC 931) lookups, "
                                                  "so the user is always 'unknown'",
                                   "match the host only");
                    }
                }
            }
        }
        if (!r.broken) {
            lint_options(r);
        }
        if (options_.implicit_allow && !r.broken && r.file_kind == FileKind::allow &&
            (r.options.empty() || (r.options.back().kind != Option::Kind::allow &&
                                   r.options.back().kind != Option::Kind::deny))) {
            warn_at(r, r.source.size(), Severity::warning, "implicit \"allow\" at end of rule",
                    "end the rule with `: allow` to say so");
        }
        if (catch_all == nullptr && matches_everything(r)) {
            catch_all = &r;
        }
    }
}

}  // namespace

bool matches_everything(const Rule& r) {
    if (r.broken || r.daemons.parts.size() != 1 || r.clients.parts.size() != 1) {
        return false;
    }
    bool all_daemons = std::any_of(r.daemons.parts[0].begin(), r.daemons.parts[0].end(), [](const auto& d) {
        return !d.is_port && !d.server && d.daemon.kind == StringPattern::Kind::all;
    });
    bool all_clients = std::any_of(r.clients.parts[0].begin(), r.clients.parts[0].end(), [](const auto& c) {
        return !c.user && c.host.kind == HostPattern::Kind::string &&
               c.host.string.kind == StringPattern::Kind::all;
    });
    return all_daemons && all_clients;
}

Diagnostics lint(const Policy& policy, const HostsFile& allow, const HostsFile& deny, const LintOptions& options) {
    Diagnostics out;
    std::map<std::string, FileLines> files;
    files.emplace(allow.path, split_lines(allow.content));
    files.emplace(deny.path, split_lines(deny.content));
    Linter linter(std::move(files), options, &out);
    linter.lint(policy);
    return out;
}

void sort_diagnostics(Diagnostics* diags, const std::string& allow_path, const std::string& deny_path) {
    // Allow file, deny file, then pattern files; by line within each.
    auto rank = [&](const Diagnostic& d) { return d.file == allow_path ? 0 : d.file == deny_path ? 1 : 2; };
    std::stable_sort(diags->begin(), diags->end(), [&](const Diagnostic& a, const Diagnostic& b) {
        if (rank(a) != rank(b)) {
            return rank(a) < rank(b);
        }
        if (rank(a) == 2) {
            return false;
        }
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
}

}  // namespace ringfence::tcpd
