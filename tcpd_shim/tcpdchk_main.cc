// SPDX-License-Identifier: BSD-3-Clause
// ringfence-tcpdchk: lints /etc/hosts.allow and /etc/hosts.deny like
// tcpdchk(8), with compiler-style diagnostics (file:line:col, the line, a
// caret, a hint). It reports everything the engine refuses (those rules deny
// at run time) plus warnings for the traps libwrap falls into silently.
//
//   ringfence-tcpdchk [-a] [-d] [-i inet_conf] [-v]
//     -a  report hosts.allow rules that allow without an explicit `allow`
//     -d  use hosts.allow and hosts.deny in the current directory
//     -i  accepted for compatibility; inetd.conf is not consulted
//     -v  list every rule with the access it gives
// Exit status: 0 clean (warnings allowed), 1 errors, 2 usage.
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/ip.h"
#include "core/text.h"
#include "core/program.h"
#include "tcpd_shim/hosts_access.h"

namespace {

using ringfence::core::Diagnostic;
using ringfence::core::Diagnostics;
using ringfence::core::Severity;
namespace tcpd = ringfence::tcpd;

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
    Linter(std::map<std::string, FileLines> files, Diagnostics* out) : files_(std::move(files)), out_(out) {}

    void lint(const tcpd::Policy& policy, bool implicit_allow);

private:
    void warn_at(const tcpd::Rule& r, size_t offset, Severity sev, std::string msg, std::string hint);
    void warn_option(const tcpd::Rule& r, const tcpd::Option& o, std::string msg, std::string hint);
    void warn_token(const tcpd::Rule& r, const std::string& token, std::string msg, std::string hint);
    void lint_invisible(const tcpd::Rule& r, const std::string& token);
    void lint_host(const tcpd::Rule& r, const tcpd::HostPattern& h);
    void lint_options(const tcpd::Rule& r);

    std::map<std::string, FileLines> files_;
    Diagnostics* out_;
};

// Maps an offset in the rule's logical line (continuations joined) to the
// physical line and column.
void Linter::warn_at(const tcpd::Rule& r, size_t offset, Severity sev, std::string msg, std::string hint) {
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

void Linter::warn_option(const tcpd::Rule& r, const tcpd::Option& o, std::string msg, std::string hint) {
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
void Linter::warn_token(const tcpd::Rule& r, const std::string& token, std::string msg, std::string hint) {
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
void Linter::lint_invisible(const tcpd::Rule& r, const std::string& token) {
    std::string what;
    if (ringfence::core::find_invisible(token, &what) != std::string::npos) {
        warn_token(r, token,
                   "'" + ringfence::core::escape_for_log(token) + "' contains " + what +
                       ": it matches only a name that has the same invisible character",
                   "retype the pattern");
    }
}

void Linter::lint_host(const tcpd::Rule& r, const tcpd::HostPattern& h) {
    if (h.kind != tcpd::HostPattern::Kind::string) {
        return;
    }
    const tcpd::StringPattern& p = h.string;
    if (p.kind == tcpd::StringPattern::Kind::exact && digits_and_dots(p.text) &&
        p.text.find('.') != std::string::npos && !ringfence::core::IpAddress::parse(p.text)) {
        warn_token(r, h.text, "'" + h.text + "' is not an IPv4 address: it never matches",
                   "write four numbers from 0 to 255 (10.1.2.3), or a network prefix ending in a dot (10.1.)");
        return;
    }
    if (p.kind == tcpd::StringPattern::Kind::suffix && digits_and_dots(p.text.substr(1))) {
        warn_token(r, h.text,
                   "'" + h.text + "' matches every client address that ends in '" + h.text +
                       "', not a network",
                   "for a network the dot goes at the end (" + p.text.substr(1) + ".) or write net/mask");
    } else if (p.kind == tcpd::StringPattern::Kind::prefix && !digits_and_dots(p.text)) {
        warn_token(r, h.text,
                   "'" + h.text + "' is a prefix match on host names: it also matches '" + p.text +
                       "attacker.example'",
                   "remove the trailing dot");
    }
}

void Linter::lint_options(const tcpd::Rule& r) {
    for (const tcpd::Option& o : r.options) {
        switch (o.kind) {
            case tcpd::Option::Kind::rfc931:
                warn_option(r, o, "ringfence does no ident (RFC 931) lookups: 'rfc931' is ignored", "");
                break;
            case tcpd::Option::Kind::user:
                if (getpwnam(o.name.c_str()) == nullptr) {
                    warn_option(r, o,
                                "user '" + ringfence::core::escape_for_log(o.name, 40) +
                                    "' does not exist: ringfence-tcpd refuses every connection this rule matches",
                                "");
                } else if (!o.argument.empty() && getgrnam(o.argument.c_str()) == nullptr) {
                    warn_option(r, o,
                                "group '" + ringfence::core::escape_for_log(o.argument, 40) +
                                    "' does not exist: ringfence-tcpd refuses every connection this rule matches",
                                "");
                }
                break;
            case tcpd::Option::Kind::group:
                if (getgrnam(o.name.c_str()) == nullptr) {
                    warn_option(r, o,
                                "group '" + ringfence::core::escape_for_log(o.name, 40) +
                                    "' does not exist: ringfence-tcpd refuses every connection this rule matches",
                                "");
                }
                break;
            case tcpd::Option::Kind::banners: {
                struct stat st {};
                if (stat(o.value.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
                    warn_option(r, o,
                                "banners directory '" + ringfence::core::escape_for_log(o.value, 80) +
                                    "' does not exist: no banner is shown",
                                "");
                }
                break;
            }
            default:
                break;
        }
    }
}

bool matches_everything(const tcpd::Rule& r) {
    if (r.broken || r.daemons.parts.size() != 1 || r.clients.parts.size() != 1) {
        return false;
    }
    bool all_daemons = std::any_of(r.daemons.parts[0].begin(), r.daemons.parts[0].end(), [](const auto& d) {
        return !d.is_port && !d.server && d.daemon.kind == tcpd::StringPattern::Kind::all;
    });
    bool all_clients = std::any_of(r.clients.parts[0].begin(), r.clients.parts[0].end(), [](const auto& c) {
        return !c.user && c.host.kind == tcpd::HostPattern::Kind::string &&
               c.host.string.kind == tcpd::StringPattern::Kind::all;
    });
    return all_daemons && all_clients;
}

template <typename T>
std::string list_text(const tcpd::PatternList<T>& list) {
    std::string out;
    for (size_t i = 0; i < list.parts.size(); ++i) {
        if (i > 0) {
            out += " EXCEPT";
        }
        for (const T& p : list.parts[i]) {
            out += (out.empty() ? "" : " ") + p.text;
        }
    }
    return out;
}

void Linter::lint(const tcpd::Policy& policy, bool implicit_allow) {
    const tcpd::Rule* catch_all = nullptr;
    std::map<std::string, const tcpd::Rule*> seen;
    for (const tcpd::Rule& r : policy.rules()) {
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
                for (const tcpd::ClientPattern& c : part) {
                    lint_invisible(r, c.text);
                    bool all = c.host.kind == tcpd::HostPattern::Kind::string &&
                               c.host.string.kind == tcpd::StringPattern::Kind::all;
                    if (!dns_noted && !all && c.host.needs_name()) {
                        dns_noted = true;
                        warn_token(r, c.text,
                                   "'" + ringfence::core::escape_for_log(c.text) +
                                       "' needs the client's host name: a reverse and a forward DNS "
                                   "lookup for each client that reaches this rule, and a slow DNS server delays "
                                   "the connection",
                                   "prefer addresses and networks (10.1.2.0/24, [2001:db8::]/32), above all "
                                   "for daemons under ringfence-wrap");
                    }
                    lint_host(r, c.host);
                    if (c.user && c.user->kind != tcpd::StringPattern::Kind::all &&
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
        if (implicit_allow && !r.broken && r.file_kind == tcpd::FileKind::allow &&
            (r.options.empty() || (r.options.back().kind != tcpd::Option::Kind::allow &&
                                   r.options.back().kind != tcpd::Option::Kind::deny))) {
            warn_at(r, r.source.size(), Severity::warning, "implicit \"allow\" at end of rule",
                    "end the rule with `: allow` to say so");
        }
        if (catch_all == nullptr && matches_everything(r)) {
            catch_all = &r;
        }
    }
}

void print_rule(const tcpd::Rule& r) {
    std::printf(">>> Rule %s:\n", r.location().c_str());
    if (r.daemons_broken || r.clients_broken) {
        std::printf("source:   %s\n", ringfence::core::escape_for_log(r.source, 400).c_str());
    } else {
        std::printf("daemons:  %s\n", list_text(r.daemons).c_str());
        std::printf("clients:  %s\n", list_text(r.clients).c_str());
    }
    bool grant = r.file_kind == tcpd::FileKind::allow;
    if (!r.broken) {
        for (const tcpd::Option& o : r.options) {
            std::string v = o.value.empty() ? "" : " " + o.value;
            std::printf("option:   %s%s\n", tcpd::option_name(o.kind),
                        ringfence::core::escape_for_log(v, 400).c_str());
            if (o.kind == tcpd::Option::Kind::allow) {
                grant = true;
            } else if (o.kind == tcpd::Option::Kind::deny) {
                grant = false;
            }
        }
    }
    if (r.broken) {
        std::printf("access:   denied (the rule has an error: %s)\n",
                    ringfence::core::escape_for_log(r.error, 200).c_str());
    } else {
        std::printf("access:   %s\n", grant ? "granted" : "denied");
    }
    std::printf("\n");
}

const char kProgram[] = "ringfence-tcpdchk";
const char kUsage[] =
    "usage: ringfence-tcpdchk [-a] [-d] [-i inet_conf] [-v]\n"
    "Checks /etc/hosts.allow and /etc/hosts.deny: errors (rules that refuse at run time)\n"
    "and warnings (legal but likely wrong), as file:line:col with a hint.\n"
    "  -a  report hosts.allow rules that allow without an explicit 'allow'\n"
    "  -d  use hosts.allow and hosts.deny in the current directory\n"
    "  -i  accepted for compatibility; inetd.conf is not consulted\n"
    "  -v  list every rule with the access it gives\n"
    "  -h, --help     this text\n"
    "  --version      the version\n"
    "Exit status: 0 clean (warnings allowed), 1 errors, 2 usage.\n";

}  // namespace

int main(int argc, char** argv) {
    bool implicit_allow = false;
    bool here = false;
    bool verbose = false;
    static const struct option long_opts[] = {
        {"help", no_argument, nullptr, 'h'}, {"version", no_argument, nullptr, 'V'}, {nullptr, 0, nullptr, 0}};
    opterr = 0;  // our own one-line messages
    int opt;
    while ((opt = getopt_long(argc, argv, "adi:vh", long_opts, nullptr)) != -1) {
        switch (opt) {
            case 'h':
                std::fputs(kUsage, stdout);
                return 0;
            case 'V':
                ringfence::core::print_version(kProgram);
                return 0;
            case 'a':
                implicit_allow = true;
                break;
            case 'd':
                here = true;
                break;
            case 'i':
                break;  // tcpdchk cross-checks inetd.conf; ringfence does not (xinetd is not inetd.conf)
            case 'v':
                verbose = true;
                break;
            default:
                return ringfence::core::usage_error(kProgram,
                                                    ringfence::core::option_error(argv[optind - 1], optopt, "adi:vh"));
        }
    }
    if (optind != argc) {
        return ringfence::core::usage_error(kProgram, "unexpected argument '" +
                                                          ringfence::core::escape_for_log(argv[optind]) + "'");
    }
    const std::string allow_path = here ? "hosts.allow" : "/etc/hosts.allow";
    const std::string deny_path = here ? "hosts.deny" : "/etc/hosts.deny";
    tcpd::HostsFile allow = tcpd::read_hosts_file(allow_path);
    tcpd::HostsFile deny = tcpd::read_hosts_file(deny_path);
    Diagnostics diags;
    auto policy = tcpd::Policy::compile(allow, deny, tcpd::CompileOptions(), &diags);

    std::map<std::string, FileLines> files;
    files.emplace(allow.path, split_lines(allow.content));
    files.emplace(deny.path, split_lines(deny.content));
    Linter linter(std::move(files), &diags);
    linter.lint(*policy, implicit_allow);

    // Allow file, deny file, then pattern files; by line within each.
    auto rank = [&](const Diagnostic& d) { return d.file == allow_path ? 0 : d.file == deny_path ? 1 : 2; };
    std::stable_sort(diags.begin(), diags.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        if (rank(a) != rank(b)) {
            return rank(a) < rank(b);
        }
        if (rank(a) == 2) {
            return false;
        }
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });

    if (verbose) {
        for (const tcpd::Rule& r : policy->rules()) {
            if (r.line > 0) {
                print_rule(r);
            }
        }
    }
    for (const Diagnostic& d : diags) {
        std::fputs(d.full().c_str(), stdout);
    }
    if (!allow.exists && !deny.exists) {
        // Same decision as libwrap (every client allowed), but said.
        std::printf("note: neither %s nor %s exists: every client is allowed\n", allow_path.c_str(),
                    deny_path.c_str());
    }
    return ringfence::core::has_errors(diags) ? 1 : 0;
}
