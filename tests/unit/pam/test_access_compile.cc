// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the access.conf compiler (Policy::compile): every
// diagnostic names file:line:col and makes the policy invalid; comments,
// blanks, leading whitespace, CRLF, a last line without newline and long
// lines; fieldsep=/listsep=; the optional fourth (time) field next to bare
// IPv6 origins and X displays; the kinds tokens compile to.
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fakes.h"
#include "pam_module/access_conf.h"
#include "unit_test.h"

using ringfence::access::ParseOptions;
using ringfence::access::Policy;
using ringfence::access::Rule;
using ringfence::access::Token;
using ringfence::core::Diagnostics;
using unit::compile_text;

namespace {

const char* kind_name(Token::Kind k) {
    switch (k) {
        case Token::Kind::all:
            return "all";
        case Token::Kind::local:
            return "local";
        case Token::Kind::name:
            return "name";
        case Token::Kind::group:
            return "group";
        case Token::Kind::netgroup:
            return "netgroup";
        case Token::Kind::host_netgroup:
            return "host_netgroup";
        case Token::Kind::user_at_host:
            return "user_at_host";
        case Token::Kind::domain:
            return "domain";
        case Token::Kind::v4_prefix:
            return "v4_prefix";
        case Token::Kind::network:
            return "network";
    }
    return "?";
}

// "kind:value" for names, groups, netgroups, domains and prefixes;
// "network:<cidr>"; "all"; "local"; "user_at_host(<user>,<host>)".
std::string describe(const Token& t) {
    switch (t.kind) {
        case Token::Kind::all:
        case Token::Kind::local:
            return kind_name(t.kind);
        case Token::Kind::network:
            return std::string("network:") + (t.network ? t.network->to_string() : "(none)");
        case Token::Kind::user_at_host:
            return "user_at_host(" + describe(*t.user_part) + "," + describe(*t.host_part) + ")";
        default:
            return std::string(kind_name(t.kind)) + ":" + t.value;
    }
}

// "a b EXCEPT c" style rendering of a compiled list.
std::string describe(const ringfence::access::TokenList& list) {
    std::string out;
    for (size_t p = 0; p < list.parts.size(); ++p) {
        if (p > 0) {
            out += " EXCEPT ";
        }
        for (size_t i = 0; i < list.parts[p].size(); ++i) {
            out += (i > 0 ? " " : "") + describe(list.parts[p][i]);
        }
    }
    return out;
}

// ---- diagnostics ----

struct ErrorRow {
    const char* line;
    int column;
    const char* in_message;
};

void run_error_rows(const ErrorRow* rows, size_t n, const ParseOptions& options) {
    for (size_t i = 0; i < n; ++i) {
        const ErrorRow& r = rows[i];
        // Line 1 is a comment, line 2 the bad rule, line 3 a good rule: the
        // diagnostic must name line 2 and the good rule must not save the policy.
        std::string text = std::string("# header\n") + r.line + "\n+ : root : LOCAL\n";
        std::string row = std::string("'") + r.line + "'";
        Diagnostics diags;
        auto policy = compile_text(text, options, &diags);
        CHECK(policy != nullptr, row);
        CHECK(!policy->valid(), row);
        CHECK_INT(diags.size(), 1, row + " diags: " + unit::join_diags(diags));
        const auto& d = diags[0];
        CHECK_STR(d.file, "access.conf", row);
        CHECK_INT(d.line, 2, row);
        CHECK_INT(d.column, r.column, row + " -> " + d.one_line());
        CHECK(d.severity == ringfence::core::Severity::error, row);
        CHECK(unit::contains(d.message, r.in_message), row + " -> " + d.one_line());
        CHECK_STR(d.source_line, r.line, row);
        std::string prefix = "access.conf:2:" + std::to_string(r.column) + ": error: ";
        CHECK(d.one_line().compare(0, prefix.size(), prefix) == 0, row + " -> " + d.one_line());
        // The bad line is not a rule; the good one is.
        CHECK_INT(policy->rules().size(), 1, row);
        CHECK_INT(policy->rules()[0].line, 3, row);
    }
}

void field_errors(void**) {
    const ErrorRow rows[] = {
        {"+ root ALL", 1, "no field separator"},
        {"+ : root ALL", 3, "third field"},
        {"* : root : ALL", 1, "first field must be '+'"},
        {"+x : root : ALL", 1, "found '+x'"},
        {"+- : root : ALL", 1, "found '+-'"},
        {" : root : ALL", 1, "found ''"},
        {"  ++ : root : ALL", 3, "found '++'"},
        {"allow : root : ALL", 1, "first field"},
        {"+ :  : ALL", 4, "empty users field"},
        {"+::ALL", 3, "empty users field"},
        {"+ : , : ALL", 4, "empty users field"},
        {"+ : root : ", 11, "empty origins field"},
        {"+ : root :", 11, "empty origins field"},
        {"+ : root : ,", 11, "empty origins field"},
    };
    run_error_rows(rows, sizeof rows / sizeof rows[0], ParseOptions());
}

void list_errors(void**) {
    const ErrorRow rows[] = {
        {"+ : EXCEPT root : ALL", 5, "EXCEPT must follow"},
        {"+ : except root : ALL", 5, "EXCEPT must follow"},
        {"+ : ALL EXCEPT : ALL", 9, "EXCEPT must be followed"},
        {"+ : ALL EXCEPT EXCEPT root : ALL", 16, "EXCEPT must follow"},
        {"+ : root : EXCEPT tty1", 12, "EXCEPT must follow at least one entry in the origins field"},
        {"+ : root : ALL EXCEPT", 16, "EXCEPT must be followed by at least one entry in the origins field"},
        {"+ : root : ALL EXCEPT EXCEPT tty1", 23, "EXCEPT must follow"},
        {"+ : root # admins : ALL", 10, "'#' in the users field"},
        {"+ : root : ALL # only from the console", 16, "'#' in the origins field"},
        {"+ : root : tty1#2", 16, "'#' in the origins field"},
        {"+ : () : ALL", 5, "expected (groupname)"},
        {"+ : (wheel : ALL", 5, "expected (groupname)"},
        {"+ : wheel) : ALL", 5, "expected (groupname)"},
        {"+ : ( : ALL", 5, "expected (groupname)"},
        {"+ : (wheel)x : ALL", 5, "expected (groupname)"},
        {"+ : x(wheel) : ALL", 5, "expected (groupname)"},
        {"+ : ro*t : ALL", 5, "no wildcards"},
        {"+ : root alice? : ALL", 10, "no wildcards"},
        {"+ : @ : ALL", 5, "'@' needs a netgroup name"},
        {"+ : @@ : ALL", 5, "'@@' needs a netgroup name"},
        {"+ : alice@ : ALL", 5, "a part is empty"},
        {"+ : @ng@ : ALL", 5, "a part is empty"},
        {"+ : alice@LOCAL : ALL", 11, "LOCAL cannot follow '@'"},
        {"+ : alice@10.0.0.0/33 : ALL", 11, "is not a network"},
        {"+ : root : @", 12, "'@' needs a netgroup name"},
        {"+ : root : .", 12, "'.' alone is not a domain"},
    };
    run_error_rows(rows, sizeof rows / sizeof rows[0], ParseOptions());
}

void origin_address_errors(void**) {
    const ErrorRow rows[] = {
        // bad CIDR
        {"+ : root : 10.0.0.0/33", 12, "is not a network"},
        {"+ : root : 10.0.0.0/", 12, "is not a network"},
        {"+ : root : 10.0.0.0/8/8", 12, "is not a network"},
        {"+ : root : /8", 12, "is not a network"},
        {"+ : root : 10.0.0.256/8", 12, "is not a network"},
        {"+ : root : 10.0.0.0/255.0.255.0", 12, "not contiguous"},
        {"+ : root : 2001:db8::/129", 12, "is not a network"},
        // trailing-dot prefixes
        {"+ : root : 1.2.3.4.", 12, "is not a network prefix"},
        {"+ : root : 256.", 12, "is not a network prefix"},
        {"+ : root : 192..168.", 12, "is not a network prefix"},
        {"+ : root : 1234.", 12, "is not a network prefix"},
        {"+ : root : 010.", 12, "is not a network prefix"},  // octal-looking
        {"+ : root : 192.168.01.", 12, "is not a network prefix"},
        {"+ : root : 10.1.*", 12, "no wildcards"},
        {"+ : root : tty?", 12, "no wildcards"},
        {"+ : root : *.example.com", 12, "no wildcards"},
        {"+ : root : 10.0.0.0/0x18", 12, "is not a network"},
        {"+ : root : tty1 Wk08:00", 17, "bad time field"},
        {"+ : root : host.example.com.", 12, "is not a network prefix"},
        {"+ : root : tty1 vmhost.", 17, "is not a network prefix"},
        // numbers that are not addresses
        {"+ : root : 10.0", 12, "is not an IPv4 address"},
        {"+ : root : 10.0.0", 12, "is not an IPv4 address"},
        {"+ : root : 1.2.3.256", 12, "is not an IPv4 address"},
        {"+ : root : 1.2.3.4.5", 12, "is not an IPv4 address"},
        {"+ : root : 123", 12, "is not an IPv4 address"},
        // broken IPv6
        {"+ : root : gggg::1", 12, "is not an IPv6 address"},
        {"+ : root : 1::2::3", 12, "is not an IPv6 address"},
        {"+ : root : [::1]", 12, "without brackets"},
        {"+ : root : 2001:db8::1/64x", 12, "'2001:db8::1/64x' is not"},
        {"+ : root : :0x", 12, "is not an X display or an IPv6 address"},
        {"+ : root : ::1 : bogus", 16, "stray ':'"},
        // lone ':' tokens (a misplaced or unrecognised fourth field)
        {"+ : root : tty1 : ", 17, "stray ':'"},
        {"+ : root : ALL : garbage", 16, "stray ':'"},
        {"+ : root : ALL : Xx0800-1800", 16, "stray ':'"},
        {"+ : root : ALL : 0800-1800", 16, "stray ':'"},
        {"+ : bob : ALL : Mn0800-1800", 15, "'Mn0800-1800' is not a times field"},
        {"+ : bob : ALL : !Xx", 15, "stray ':'"},
    };
    run_error_rows(rows, sizeof rows / sizeof rows[0], ParseOptions());
}

// Control characters and non-breaking spaces inside items: legal (as in
// stock), but such an item never matches a real name, so each gets a
// warning that names the character.
void invisible_characters(void**) {
    struct Row {
        const char* line;
        int column;
        const char* in_message;
    };
    const Row rows[] = {
        {"- : ro\x0bot : ALL", 7, "control character \\x0b"},
        {"- : ALL EXCEPT ro\rot : ALL", 18, "control character \\x0d"},
        {"- : ALL : tty1\x1b", 15, "control character \\x1b"},
        {"- : b\xc2\xa0" "ad : ALL", 6, "non-breaking space"},
    };
    for (const Row& r : rows) {
        Diagnostics diags;
        auto policy = compile_text(r.line, ParseOptions(), &diags);
        std::string row = ringfence::core::escape_for_log(r.line) + " " + unit::join_diags(diags);
        CHECK(policy->valid(), row);
        CHECK_INT(diags.size(), 1, row);
        CHECK(diags[0].severity == ringfence::core::Severity::warning, row);
        CHECK_INT(diags[0].column, r.column, row);
        CHECK(unit::contains(diags[0].message, r.in_message), row);
    }
    Diagnostics diags;
    compile_text("- : ALL EXCEPT root : ALL\n", ParseOptions(), &diags);
    CHECK_INT(diags.size(), 0, "plain line");
}

// Items with a colon that are neither an IPv6 address nor an X display.
// Stock pam_access compares them as text, so each used to compile and then
// never match: the deny line went inert.
void origin_colon_errors(void**) {
    const ErrorRow rows[] = {
        //         1         2         3
        {"- : ALL EXCEPT root : ALL:0800-1800", 27, "times without a day code"},
        {"- : ALL : ALL:0800-1200|1300-1700", 15, "times without a day code"},
        {"- : ALL EXCEPT root : ALL: 0800-1800", 26, "stray ':' after 'ALL'"},
        {"- : ALL : ALL:", 14, "stray ':' after 'ALL'"},
        {"- : ALL : tty1:", 15, "stray ':' after 'tty1'"},
        {"- : ALL : fe80::1%eth0", 18, "takes no %zone"},
        {"- : ALL : fe80::/10%eth0", 11, "is not a network"},
        {"- : ALL : 10.0.0.1:22", 19, "no port numbers"},
        {"- : ALL : host.example.com:22", 27, "no port numbers"},
        {"- : ALL : host:0", 15, "is not an origin"},
        {"- : ALL : ssh:notty", 14, "is not an origin"},
        {"- : ALL : a:b", 12, "is not an origin"},
        {"- : ALL : tty1 a:b", 17, "is not an origin"},
        {"- : ALL : :0:1", 11, "is not an X display"},
        {"- : ALL : :1.x", 11, "is not an X display"},
    };
    run_error_rows(rows, sizeof rows / sizeof rows[0], ParseOptions());
    // With fieldsep=| a ':' is not a separator, and the same items are errors.
    ParseOptions pipe;
    pipe.fieldsep = "|";
    for (const char* line : {"- | ALL | ALL:0800-1800", "- | ALL | ssh:notty", "- | ALL | 10.0.0.1:22"}) {
        Diagnostics diags;
        auto policy = compile_text(line, pipe, &diags);
        CHECK(!policy->valid() && diags.size() == 1 && diags[0].column >= 11, line + (" " + unit::join_diags(diags)));
    }
}

// Lines that must be refused, where which part gets the blame (origins or
// time field) depends on which separator starts the time field.
void refused_lines(void**) {
    const char* lines[] = {
        // pam_time takes "Wk08:00-17:00" as "bad times" = TRUE, i.e. always.
        "+ : root : ALL : Wk08:00-17:00",
        // A fourth field after a fourth field.
        "+ : root : ALL : Wk0800-1800 : SaSu",
        "- : ALL : tty1 : SaSu : tty2",
        // A doubled separator: an empty origins field or a stray ':'.
        "+ : root :: Wk0800-1800",
        "+ : root : ALL : : Wk0800-1800",
    };
    for (const char* line : lines) {
        Diagnostics diags;
        auto policy = compile_text(std::string("# x\n") + line + "\n", ParseOptions(), &diags);
        CHECK(!policy->valid(), line);
        CHECK(!diags.empty() && diags[0].line == 2 && diags[0].column >= 11, std::string(line) + " " +
                                                                             unit::join_diags(diags));
        CHECK(policy->rules().empty(), line);
    }
}

void time_field_errors(void**) {
    const ErrorRow rows[] = {
        //         1         2         3
        {"+ : root : ALL : Wk0800-2500", 25, "bad time field"},
        {"+ : root : ALL : Wk0800-2401", 25, "'2401' is not a time of day"},
        {"+ : root : ALL : Mo2460-0800", 20, "'2460' is not a time of day"},
        {"+ : root : ALL : Mo0960-1000", 20, "'0960' is not a time of day"},
        {"+ : root : ALL : MoMo", 18, "cancel out"},
        {"+ : root : ALL : Wk0800", 24, "expected '-'"},
        {"+ : root : ALL : Wk0800-170", 25, "four digits"},
        {"+ : root : ALL : Wk0800-1800 junk", 30, "unexpected 'j'"},
        {"+ : root : ALL : Wk0800-1800|", 30, "expected a time entry"},
        {"+ : root : ALL : Wk0800-1800|Xx", 30, "'Xx' is not a day code"},
        {"+ : root : ALL :   Wk0800-1800|Sa0800-2500", 39, "'2500'"},
    };
    run_error_rows(rows, sizeof rows / sizeof rows[0], ParseOptions());
    for (const ErrorRow& r : rows) {
        Diagnostics diags;
        auto policy = compile_text(r.line, ParseOptions(), &diags);
        CHECK(!diags.empty() && unit::contains(diags[0].message, "bad time field"),
              std::string(r.line) + " " + unit::join_diags(diags));
        CHECK(!diags[0].hint.empty(), r.line);
    }
}

void options_errors(void**) {
    ParseOptions no_fieldsep;
    no_fieldsep.fieldsep = "";
    Diagnostics diags;
    auto policy = compile_text("+ : root : ALL\n", no_fieldsep, &diags);
    CHECK(!policy->valid(), "fieldsep=");
    CHECK(!diags.empty() && unit::contains(diags[0].one_line(), "fieldsep= must not be empty"),
          unit::join_diags(diags));

    ParseOptions no_listsep;
    no_listsep.listsep = "";
    diags.clear();
    policy = compile_text("+ : root : ALL\n", no_listsep, &diags);
    CHECK(!policy->valid(), "listsep=");
    CHECK(!diags.empty() && unit::contains(diags[0].one_line(), "listsep= must not be empty"),
          unit::join_diags(diags));
}

void every_error_is_reported(void**) {
    Diagnostics diags;
    auto policy = compile_text("+ : root ALL\n+ : root : ALL\n* : root : ALL\n- : ALL : 10.0\n", ParseOptions(), &diags);
    CHECK(!policy->valid(), "three bad lines");
    CHECK_INT(diags.size(), 3, unit::join_diags(diags));
    CHECK_INT(diags[0].line, 1, unit::join_diags(diags));
    CHECK_INT(diags[1].line, 3, unit::join_diags(diags));
    CHECK_INT(diags[2].line, 4, unit::join_diags(diags));

    // Diagnostics already in *diags (from reading files) do not count
    // against this policy, but new ones do.
    Diagnostics pre;
    ringfence::core::Diagnostic old;
    old.file = "other";
    old.message = "earlier";
    pre.push_back(old);
    policy = compile_text("+ : root : ALL\n", ParseOptions(), &pre);
    CHECK(policy->valid(), "earlier diagnostic is not ours");
    CHECK_INT(pre.size(), 1, "no new diagnostics");
}

// Regression (failed on 9cc78ad, fixed in 66636ef): a CIDR with a
// hexadecimal prefix length silently became a host *name* token that never
// matches an address. Stock pam_access reads the length with strtol(base 0),
// so "10.0.0.0/0x18" is 10.0.0.0/24 there; a migrated deny line stopped
// denying without a diagnostic (fail open). It must be an error.
void hex_prefix_length_is_an_error(void**) {
    const char* lines[] = {"- : ALL : 10.0.0.0/0x18", "- : ALL : 192.168.0.0/16x", "- : ALL : 10.0.0.0/-8"};
    for (const char* line : lines) {
        Diagnostics diags;
        auto policy = compile_text(line, ParseOptions(), &diags);
        std::string got = policy->rules().empty() ? "(no rule)" : describe(policy->rules()[0].origins);
        CHECK(!policy->valid(), std::string("'") + line + "' compiled, origins = " + got);
        CHECK(!diags.empty() && diags[0].column == 11, std::string(line) + " " + unit::join_diags(diags));
    }
}

// ---- accepted syntax ----

void comments_blanks_whitespace(void**) {
    const std::string text =
        "# access.conf\n"
        "\n"
        "   \n"
        "\t\n"
        "   # an indented comment\n"
        "#+ : nobody : ALL\n"
        "+ : root : LOCAL\n"
        "   - : root : ALL\n"
        "\t+ : alice : ALL   \t\n"
        "+:bob:ALL\n"
        "  -  :  ALL  :  ALL  \n";
    Diagnostics diags;
    auto policy = compile_text(text, ParseOptions(), &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    CHECK(diags.empty(), unit::join_diags(diags));
    const auto& rules = policy->rules();
    CHECK_INT(rules.size(), 5, "rules");
    struct Expect {
        int line;
        bool allow;
        const char* users;
        const char* origins;
    };
    const Expect expect[] = {
        {7, true, "name:root", "local"},
        {8, false, "name:root", "all"},
        {9, true, "name:alice", "all"},
        {10, true, "name:bob", "all"},
        {11, false, "all", "all"},
    };
    for (size_t i = 0; i < 5; ++i) {
        std::string row = "rule " + std::to_string(i);
        CHECK_INT(rules[i].line, expect[i].line, row);
        CHECK(rules[i].allow == expect[i].allow, row);
        CHECK_STR(describe(rules[i].users), expect[i].users, row);
        CHECK_STR(describe(rules[i].origins), expect[i].origins, row);
        CHECK(!rules[i].times.has_value(), row);
        CHECK_STR(rules[i].file, "access.conf", row);
        CHECK_STR(rules[i].location(), "access.conf:" + std::to_string(expect[i].line), row);
    }
    CHECK_STR(rules[1].source, "   - : root : ALL", "source kept as written");

    // Only comments and blanks: a valid, empty policy.
    diags.clear();
    policy = compile_text("# nothing\n\n", ParseOptions(), &diags);
    CHECK(policy->valid() && policy->rules().empty(), "comments only");
    policy = compile_text("", ParseOptions(), &diags);
    CHECK(policy->valid() && policy->rules().empty(), "empty file");
    policy = Policy::compile({}, ParseOptions(), &diags);
    CHECK(policy->valid() && policy->rules().empty(), "no files");
}

void crlf_lines(void**) {
    Diagnostics diags;
    auto policy = compile_text("# crlf\r\n+ : root : tty1\r\n\r\n- : ALL : ALL : SaSu\r\n", ParseOptions(), &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    CHECK_INT(policy->rules().size(), 2, "crlf rules");
    CHECK_STR(describe(policy->rules()[0].origins), "name:tty1", "CR is not part of the token");
    CHECK(policy->rules()[1].times.has_value(), "time field before CR");
    CHECK_STR(policy->rules()[1].times->text(), "SaSu", "time field before CR");
}

// A private temporary directory per test (unit_test.h).
using unit::TempDir;
constexpr auto setup_dir = unit::setup_temp_dir;
constexpr auto teardown_dir = unit::teardown_temp_dir;

void write_file(const std::string& path, const std::string& content) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0, path);
    CHECK(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()), path);
    ::close(fd);
    CHECK(::chmod(path.c_str(), 0644) == 0, path);
}

// Through the real file reader: stock pam_access ignores a last line
// without a newline; we honour it. CRLF works the same way.
void files_from_disk(void** state) {
    const TempDir& dir = *static_cast<TempDir*>(*state);
    write_file(dir.path + "/access.conf", "+ : root : ALL\n- : ALL : ALL");
    write_file(dir.path + "/crlf.conf", "+ : alice : tty1\r\n- : alice : ALL\r\n");
    auto src = ringfence::access::read_policy_files(dir.path + "/access.conf", false, "");
    CHECK(src.ok, unit::join_diags(src.diags));
    CHECK_INT(src.files.size(), 1, "files");
    Diagnostics diags;
    auto policy = Policy::compile(src.files, ParseOptions(), &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    CHECK_INT(policy->rules().size(), 2, "last line without newline is a rule");
    CHECK(!policy->rules()[1].allow, "last line is the deny");
    CHECK_STR(policy->rules()[1].location(), dir.path + "/access.conf:2", "location");

    src = ringfence::access::read_policy_files(dir.path + "/crlf.conf", false, "");
    diags.clear();
    policy = Policy::compile(src.files, ParseOptions(), &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    CHECK_INT(policy->rules().size(), 2, "crlf");
    CHECK_STR(describe(policy->rules()[0].origins), "name:tty1", "crlf origin");

    // A 100 KiB line, read from disk and compiled.
    std::string users;
    int n = 0;
    while (users.size() < 100 * 1024) {
        users += "user" + std::to_string(n++) + " ";
    }
    write_file(dir.path + "/long.conf", "+ : " + users + ": ALL\n");
    src = ringfence::access::read_policy_files(dir.path + "/long.conf", false, "");
    CHECK(src.ok && src.files.size() == 1, unit::join_diags(src.diags));
    diags.clear();
    policy = Policy::compile(src.files, ParseOptions(), &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    CHECK_INT(policy->rules().size(), 1, "long line");
    CHECK_INT(policy->rules()[0].users.parts.size(), 1, "long line");
    CHECK_INT(policy->rules()[0].users.parts[0].size(), n, "every user of the long line");
    CHECK_STR(describe(policy->rules()[0].users.parts[0].back()), "name:user" + std::to_string(n - 1), "last user");
}

void write_file_mode(const std::string& path, const std::string& content, mode_t mode) {
    write_file(path, content);
    CHECK(::chmod(path.c_str(), mode) == 0, path);
}

// access.conf, then access.d/*.conf in byte order; missing files skipped;
// an untrusted file makes the source not ok and is named.
void policy_files_and_dropins(void** state) {
    const TempDir& dir = *static_cast<TempDir*>(*state);
    std::string main_file = dir.path + "/access.conf";
    std::string d = dir.path + "/access.d";
    CHECK(::mkdir(d.c_str(), 0755) == 0, "mkdir");
    write_file(d + "/20-b.conf", "+ : bob : ALL\n");
    write_file(d + "/10-a.conf", "+ : alice : ALL\n");
    write_file(d + "/B-upper.conf", "+ : carol : ALL\n");
    write_file(d + "/30-c.conf.rpmsave", "- : ALL : ALL\n");
    write_file(d + "/notes.txt", "- : ALL : ALL\n");
    write_file(d + "/conf", "- : ALL : ALL\n");

    // Main file missing: the drop-ins alone, in strcmp order.
    auto src = ringfence::access::read_policy_files(main_file, true, d);
    CHECK(src.ok, unit::join_diags(src.diags));
    CHECK_INT(src.files.size(), 3, "drop-ins only");
    CHECK_STR(src.files[0].path, d + "/10-a.conf", "order");
    CHECK_STR(src.files[1].path, d + "/20-b.conf", "order");
    CHECK_STR(src.files[2].path, d + "/B-upper.conf", "order");
    // Every path looked at is stamped for reload, the directory too.
    bool main_stamped = false, dir_stamped = false;
    for (const auto& st : src.stamps) {
        main_stamped |= st.first == main_file && !st.second.exists;
        dir_stamped |= st.first == d && st.second.exists;
    }
    CHECK(main_stamped, "missing main file stamped");
    CHECK(dir_stamped, "drop-in directory stamped");

    // With the main file, it comes first; without drop-ins, alone.
    write_file(main_file, "+ : root : LOCAL\n");
    src = ringfence::access::read_policy_files(main_file, true, d);
    CHECK(src.ok && src.files.size() == 4, unit::join_diags(src.diags));
    CHECK_STR(src.files[0].path, main_file, "main first");
    src = ringfence::access::read_policy_files(main_file, false, d);
    CHECK(src.ok && src.files.size() == 1, "no drop-ins");
    CHECK_STR(src.files[0].path, main_file, "main only");

    // No drop-in directory at all is fine.
    src = ringfence::access::read_policy_files(main_file, true, dir.path + "/nonexistent.d");
    CHECK(src.ok && src.files.size() == 1, "no drop-in dir");

    // An untrusted drop-in: not ok, and the diagnostic names it.
    write_file_mode(d + "/15-open.conf", "+ : ALL : ALL\n", 0666);
    src = ringfence::access::read_policy_files(main_file, true, d);
    CHECK(!src.ok, "world-writable drop-in");
    CHECK_INT(src.diags.size(), 1, unit::join_diags(src.diags));
    CHECK_STR(src.diags[0].file, d + "/15-open.conf", unit::join_diags(src.diags));
}

// Regression: read_policy_files() once read hidden files in access.d.
// pam_access globs access.d/*.conf, and glob's '*' never matches a leading
// '.', so ".name.conf" is ignored there. We read it, and since emacs keeps a
// lock file ".#NAME" -- a symbolic link -- next to a file being edited,
// editing access.d/10-admins.conf with emacs creates ".#10-admins.conf",
// which is refused as a symlink: source.ok == false and pam_ringfence denies
// every login (root on the console too) until the editor is closed.
// Input:    access.d/{10-a.conf, .hidden.conf, .#10-a.conf -> 10-a.conf}
// Expected: ok, files = [10-a.conf] (as glob("access.d/*.conf")).
// Actual:   ok == false ("refusing to read a symbolic link"), .hidden.conf read.
void regression_hidden_dropins_skipped(void** state) {
    const TempDir& dir = *static_cast<TempDir*>(*state);
    std::string d = dir.path + "/access.d";
    CHECK(::mkdir(d.c_str(), 0755) == 0, "mkdir");
    write_file(d + "/10-a.conf", "+ : alice : ALL\n");
    write_file(d + "/.hidden.conf", "- : ALL : ALL\n");
    CHECK(::symlink("10-a.conf", (d + "/.#10-a.conf").c_str()) == 0, "emacs lock link");
    auto src = ringfence::access::read_policy_files(dir.path + "/access.conf", true, d);
    std::string got;
    for (const auto& f : src.files) {
        got += f.path.substr(d.size() + 1) + " ";
    }
    CHECK(src.ok, "hidden drop-in refused: " + unit::join_diags(src.diags));
    CHECK_STR(got, "10-a.conf ", "hidden drop-ins read");
}

void multiple_files(void**) {
    Diagnostics diags;
    auto policy = Policy::compile({unit::config_text("/etc/security/access.conf", "# main\n+ : root : LOCAL\n"),
                                   unit::config_text("/etc/security/access.d/10-admins.conf",
                                                     "+ : alice : ALL\n\n- : ALL : ALL\n")},
                                  ParseOptions(), &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    const auto& rules = policy->rules();
    CHECK_INT(rules.size(), 3, "rules");
    CHECK_STR(rules[0].location(), "/etc/security/access.conf:2", "rule 0");
    CHECK_STR(rules[1].location(), "/etc/security/access.d/10-admins.conf:1", "line numbers restart");
    CHECK_STR(rules[2].location(), "/etc/security/access.d/10-admins.conf:3", "rule 2");

    // An error in the second file names the second file.
    diags.clear();
    policy = Policy::compile({unit::config_text("a.conf", "+ : root : ALL\n"),
                              unit::config_text("b.conf", "\n+ : root\n")},
                             ParseOptions(), &diags);
    CHECK(!policy->valid(), "error in b.conf");
    CHECK_INT(diags.size(), 1, unit::join_diags(diags));
    CHECK_STR(diags[0].one_line().substr(0, 9), "b.conf:2:", diags[0].one_line());
}

void long_line_compiles(void**) {
    // 100 KiB of origins, the matching one last.
    std::string origins;
    int n = 0;
    while (origins.size() < 100 * 1024) {
        origins += "10." + std::to_string(n / 256 % 256) + "." + std::to_string(n % 256) + ".1 ";
        ++n;
    }
    origins += "tty9";
    Diagnostics diags;
    auto policy = compile_text("+ : ALL : " + origins + "\n", ParseOptions(), &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    CHECK_INT(policy->rules()[0].origins.parts[0].size(), n + 1, "origin tokens");
    CHECK_STR(describe(policy->rules()[0].origins.parts[0].back()), "name:tty9", "last origin");
}

struct TokenRow {
    const char* line;
    const char* users;
    const char* origins;
    const char* times;  // nullptr = no time field
};

void run_token_rows(const TokenRow* rows, size_t n, const ParseOptions& options) {
    for (size_t i = 0; i < n; ++i) {
        const TokenRow& r = rows[i];
        std::string row = std::string("'") + r.line + "'";
        Diagnostics diags;
        auto policy = compile_text(r.line, options, &diags);
        CHECK(policy->valid(), row + " " + unit::join_diags(diags));
        CHECK_INT(policy->rules().size(), 1, row);
        const Rule& rule = policy->rules()[0];
        CHECK_STR(describe(rule.users), r.users, row);
        CHECK_STR(describe(rule.origins), r.origins, row);
        if (r.times == nullptr) {
            CHECK(!rule.times.has_value(), row + " has a time field: " + (rule.times ? rule.times->text() : ""));
        } else {
            CHECK(rule.times.has_value(), row + " has no time field");
            CHECK_STR(rule.times->text(), r.times, row);
        }
    }
}

void fourth_field(void**) {
    const TokenRow rows[] = {
        {"+ : root : ::1", "name:root", "network:::1/128", nullptr},
        {"+ : root : fe80::1", "name:root", "network:fe80::1/128", nullptr},
        {"+ : root : :0", "name:root", "name::0", nullptr},
        {"+ : root : :0.0", "name:root", "name::0.0", nullptr},
        {"+ : root : 2001:db8::/32 : Wk0800-1800", "name:root", "network:2001:db8::/32", "Wk0800-1800"},
        {"+ : root : ALL : Wk0800-1800", "name:root", "all", "Wk0800-1800"},
        {"+ : root : ALL:Wk0800-1800", "name:root", "all", "Wk0800-1800"},
        {"+ : root : ALL : !Al2200-0600", "name:root", "all", "!Al2200-0600"},
        {"+ : root : ALL : Wk0800-1800 | SaSu", "name:root", "all", "Wk0800-1800 | SaSu"},
        {"+ : root : ALL :  SaSu  ", "name:root", "all", "SaSu"},
        {"+ : root : ::1 : SaSu", "name:root", "network:::1/128", "SaSu"},
        {"+ : root : :0 : Wk0800-1800", "name:root", "name::0", "Wk0800-1800"},
        {"+ : root : tty1 :0", "name:root", "name:tty1 name::0", nullptr},
        {"+ : root : tty1 :0 ::1 fe80::cafe", "name:root", "name:tty1 name::0 network:::1/128 network:fe80::cafe/128",
         nullptr},
        {"+ : root : 2001:db8::fe", "name:root", "network:2001:db8::fe/128", nullptr},
        {"+ : root : 2001:db8::ad", "name:root", "network:2001:db8::ad/128", nullptr},
        {"+ : root : ::ffff:10.0.0.0/104 : Wk", "name:root", "network:10.0.0.0/8", "Wk"},
        {"+ : root : 10.0.0.0/8 2001:db8::/48 : Sa0900-1200|Su", "name:root",
         "network:10.0.0.0/8 network:2001:db8::/48", "Sa0900-1200|Su"},
        // pam_access C30: "+ : dave ::0" is users " dave " and origins ":0".
        {"+ : dave ::0", "name:dave", "name::0", nullptr},
    };
    run_token_rows(rows, sizeof rows / sizeof rows[0], ParseOptions());
}

// Regression (failed on 9cc78ad, fixed in 66636ef): with fieldsep=| a time
// field that uses '|' between alternatives was cut at its last '|': the tail
// became the time field and the rest joined the origins as one
// never-matching name, so "- | ALL | ALL | Wk0800-1800|Sa1000-1200" denied
// only on Saturdays and only from a host named "ALL | Wk0800-1800".
void pipe_fieldsep_time_alternatives(void**) {
    ParseOptions pipe;
    pipe.fieldsep = "|";
    Diagnostics diags;
    auto policy = compile_text("- | ALL | ALL | Wk0800-1800|Sa1000-1200", pipe, &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    const Rule& rule = policy->rules().at(0);
    CHECK_STR(describe(rule.origins), "all", "time alternatives cut at a '|'");
    CHECK(rule.times.has_value(), "time field");
    CHECK_STR(rule.times->text(), "Wk0800-1800|Sa1000-1200", "time alternatives cut at a '|'");
}

// An IPv6 address ending in "::" followed by a name that starts with a day
// code ("2001:db8:: web01") has no time field: a separator right after
// another is part of the address. (In 9cc78ad these lines were refused.)
void fourth_field_after_double_colon(void**) {
    const TokenRow rows[] = {
        {"+ : root : 2001:db8:: web01", "name:root", "network:2001:db8::/128 name:web01", nullptr},
        {"- : ALL : :: ALL", "all", "network:::/128 all", nullptr},
        {"- : ALL : fe80:: sa", "all", "network:fe80::/128 name:sa", nullptr},
        {"+ : root : 2001:db8:: sales : Wk0800-1800", "name:root", "network:2001:db8::/128 name:sales",
         "Wk0800-1800"},
    };
    run_token_rows(rows, sizeof rows / sizeof rows[0], ParseOptions());
}

// Regression (86d1c7c): a doubled separator before the time field
// now silently drops the time restriction. "ALL :: Wk0800-1800" skips the
// second ':' (taken as part of an IPv6 "::"), finds no time field, and the
// origins become ALL, the address :: and a host named "Wk0800-1800": an
// allow rule meant for working hours allows at every hour (fail open).
// In 9cc78ad the same line was refused ("stray ':'").
// Input:    "+ : root : ALL :: Wk0800-1800"
// Expected: refused (diagnostic), or time field Wk0800-1800; never a rule
//           without a time field.
// Actual:   valid; origins "all network:::/128 name:Wk0800-1800"; no time field.
void regression_double_separator_keeps_time_field(void**) {
    const char* lines[] = {
        "+ : root : ALL :: Wk0800-1800",
        "+ : root : 10.0.0.0/8 :: SaSu",
        "+ : root : tty1 :: !Al2200-0600",
    };
    for (const char* line : lines) {
        Diagnostics diags;
        auto policy = compile_text(line, ParseOptions(), &diags);
        bool dropped = policy->valid() && !policy->rules().empty() && !policy->rules()[0].times.has_value();
        CHECK(!dropped, std::string("'") + line + "' compiled without its time field, origins = " +
                            (policy->rules().empty() ? "" : describe(policy->rules()[0].origins)));
    }
}

void user_tokens(void**) {
    ParseOptions atgroup;
    atgroup.atgroup = true;
    const TokenRow rows[] = {
        {"+ : root : ALL", "name:root", "all", nullptr},
        {"+ : ALL : ALL", "all", "all", nullptr},
        {"+ : all : all", "all", "all", nullptr},
        {"+ : (wheel) : ALL", "group:wheel", "all", nullptr},
        {"+ : (a) : ALL", "group:a", "all", nullptr},
        {"+ : @vmadmins : ALL", "netgroup:vmadmins", "all", nullptr},
        {"+ : @@hosts : ALL", "host_netgroup:hosts", "all", nullptr},
        {"+ : alice@vmhost : ALL", "user_at_host(name:alice,name:vmhost)", "all", nullptr},
        {"+ : alice@.example.com : ALL", "user_at_host(name:alice,domain:.example.com)", "all", nullptr},
        {"+ : alice@10.0.0.0/8 : ALL", "user_at_host(name:alice,network:10.0.0.0/8)", "all", nullptr},
        {"+ : alice@10.0. : ALL", "user_at_host(name:alice,v4_prefix:10.0.)", "all", nullptr},
        {"+ : alice@ALL : ALL", "user_at_host(name:alice,all)", "all", nullptr},
        {"+ : ALL@vmhost : ALL", "user_at_host(all,name:vmhost)", "all", nullptr},
        {"+ : alice@@hostng : ALL", "user_at_host(name:alice,netgroup:hostng)", "all", nullptr},
        {"+ : @ng@vmhost : ALL", "user_at_host(netgroup:ng,name:vmhost)", "all", nullptr},
        {"+ : ALL EXCEPT (vmadmins) EXCEPT alice : ALL", "all EXCEPT group:vmadmins EXCEPT name:alice", "all", nullptr},
        {"+ : root,alice\tbob : ALL", "name:root name:alice name:bob", "all", nullptr},
        {"+ : ALL except root : ALL", "all EXCEPT name:root", "all", nullptr},
    };
    run_token_rows(rows, sizeof rows / sizeof rows[0], ParseOptions());
    const TokenRow at_rows[] = {
        {"+ : @vmadmins EXCEPT badadmin : ALL", "group:vmadmins EXCEPT name:badadmin", "all", nullptr},
        {"+ : @@hosts : ALL", "host_netgroup:hosts", "all", nullptr},
        {"+ : @ng@vmhost : ALL", "user_at_host(group:ng,name:vmhost)", "all", nullptr},
        {"+ : root : @hosts", "name:root", "netgroup:hosts", nullptr},  // origins: always a netgroup
    };
    run_token_rows(at_rows, sizeof at_rows / sizeof at_rows[0], atgroup);
}

// Regression (failed on 9cc78ad, fixed in 66636ef): pam_access tests
// "(...)" before splitting at '@', and the user part of user@host is matched
// recursively, so "(admins)@vmhost" is the group admins on host vmhost. It
// was refused, and a file that stock pam_access accepts made the whole
// policy invalid (every login refused).
void group_at_host(void**) {
    Diagnostics diags;
    auto policy = compile_text("+ : (wheel)@vmhost : ALL", ParseOptions(), &diags);
    CHECK(policy->valid(), "'(wheel)@vmhost' refused: " + unit::join_diags(diags));
    CHECK_STR(describe(policy->rules().at(0).users), "user_at_host(group:wheel,name:vmhost)", "(wheel)@vmhost");
}

void origin_tokens(void**) {
    const TokenRow rows[] = {
        {"+ : root : ALL", "name:root", "all", nullptr},
        {"+ : root : LOCAL", "name:root", "local", nullptr},
        {"+ : root : local", "name:root", "local", nullptr},
        {"+ : root : tty1 console crond pts/0 :0", "name:root", "name:tty1 name:console name:crond name:pts/0 name::0",
         nullptr},
        {"+ : root : .example.com", "name:root", "domain:.example.com", nullptr},
        {"+ : root : host.example.com", "name:root", "name:host.example.com", nullptr},
        {"+ : root : cafe", "name:root", "name:cafe", nullptr},
        {"+ : root : 192.168.", "name:root", "v4_prefix:192.168.", nullptr},
        {"+ : root : 10.", "name:root", "v4_prefix:10.", nullptr},
        {"+ : root : 0.", "name:root", "v4_prefix:0.", nullptr},
        {"+ : root : 10.0.100.", "name:root", "v4_prefix:10.0.100.", nullptr},
        {"+ : root : 192.168.1.", "name:root", "v4_prefix:192.168.1.", nullptr},
        {"+ : root : 10.0.0.1", "name:root", "network:10.0.0.1/32", nullptr},
        {"+ : root : 10.0.0.0/8", "name:root", "network:10.0.0.0/8", nullptr},
        {"+ : root : 10.1.2.3/8", "name:root", "network:10.0.0.0/8", nullptr},
        {"+ : root : 10.0.0.0/255.255.0.0", "name:root", "network:10.0.0.0/16", nullptr},
        {"+ : root : 0.0.0.0/0", "name:root", "network:0.0.0.0/0", nullptr},
        {"+ : root : ::/0", "name:root", "network:::/0", nullptr},
        {"+ : root : 2001:DB8::/32", "name:root", "network:2001:db8::/32", nullptr},
        {"+ : root : ::ffff:1.2.3.4", "name:root", "network:1.2.3.4/32", nullptr},
        {"+ : root : @trusted", "name:root", "netgroup:trusted", nullptr},
        {"+ : root : @@x", "name:root", "netgroup:@x", nullptr},
        {"+ : root : ALL EXCEPT 10.0.0.0/8 LOCAL", "name:root", "all EXCEPT network:10.0.0.0/8 local", nullptr},
    };
    run_token_rows(rows, sizeof rows / sizeof rows[0], ParseOptions());
}

void separators(void**) {
    ParseOptions pipe;
    pipe.fieldsep = "|";
    const TokenRow pipe_rows[] = {
        {"+|root|ALL", "name:root", "all", nullptr},
        {"+ | root | :0", "name:root", "name::0", nullptr},
        {"+|root|::1 fe80::1", "name:root", "network:::1/128 network:fe80::1/128", nullptr},
        {"+|root|ALL|Wk0800-1800", "name:root", "all", "Wk0800-1800"},
        {"+|root|2001:db8::1|Wk0800-1800", "name:root", "network:2001:db8::1/128", "Wk0800-1800"},
    };
    run_token_rows(pipe_rows, sizeof pipe_rows / sizeof pipe_rows[0], pipe);
    Diagnostics diags;
    // With fieldsep=| a ':' is ordinary text: "root:alice" is one (odd) name.
    auto policy = compile_text("+|root:alice|ALL", pipe, &diags);
    CHECK(policy->valid(), unit::join_diags(diags));
    CHECK_STR(describe(policy->rules()[0].users), "name:root:alice", "':' is not a separator");
    diags.clear();
    policy = compile_text("+ : root : ALL", pipe, &diags);
    CHECK(!policy->valid(), "fieldsep=| and a ':' line");
    CHECK(!diags.empty() && diags[0].column == 1 && unit::contains(diags[0].message, "no field separator"),
          unit::join_diags(diags));

    ParseOptions two;
    two.fieldsep = ":;";
    const TokenRow two_rows[] = {
        {"+;root:ALL", "name:root", "all", nullptr},
        {"+:root;ALL;SaSu", "name:root", "all", "SaSu"},
    };
    run_token_rows(two_rows, sizeof two_rows / sizeof two_rows[0], two);

    // listsep=, : blanks no longer separate, and (unlike stock pam_access,
    // which keeps " dave " and never matches) tokens are trimmed.
    ParseOptions comma;
    comma.listsep = ",";
    const TokenRow comma_rows[] = {
        {"+ : root, dave : ALL", "name:root name:dave", "all", nullptr},
        {"+ : (domain users) : ALL", "group:domain users", "all", nullptr},
        {"+ : alice bob : ALL", "name:alice bob", "all", nullptr},
        {"+ : ALL EXCEPT root : ALL", "name:ALL EXCEPT root", "all", nullptr},
        {"+ : ALL,EXCEPT,root : tty1, tty2", "all EXCEPT name:root", "name:tty1 name:tty2", nullptr},
        {"+ : root : 10.0.0.0/8, ::1 : Wk", "name:root", "network:10.0.0.0/8 network:::1/128", "Wk"},
    };
    run_token_rows(comma_rows, sizeof comma_rows / sizeof comma_rows[0], comma);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(field_errors),
        cmocka_unit_test(list_errors),
        cmocka_unit_test(origin_address_errors),
        cmocka_unit_test(origin_colon_errors),
        cmocka_unit_test(invisible_characters),
        cmocka_unit_test(time_field_errors),
        cmocka_unit_test(refused_lines),
        cmocka_unit_test(options_errors),
        cmocka_unit_test(every_error_is_reported),
        cmocka_unit_test(comments_blanks_whitespace),
        cmocka_unit_test(crlf_lines),
        cmocka_unit_test_setup_teardown(files_from_disk, setup_dir, teardown_dir),
        cmocka_unit_test(multiple_files),
        cmocka_unit_test_setup_teardown(policy_files_and_dropins, setup_dir, teardown_dir),
        cmocka_unit_test(long_line_compiles),
        cmocka_unit_test(fourth_field),
        cmocka_unit_test(fourth_field_after_double_colon),
        cmocka_unit_test(user_tokens),
        cmocka_unit_test(origin_tokens),
        cmocka_unit_test(separators),
        cmocka_unit_test(hex_prefix_length_is_an_error),
        cmocka_unit_test(group_at_host),
        cmocka_unit_test(pipe_fieldsep_time_alternatives),
        cmocka_unit_test_setup_teardown(regression_hidden_dropins_skipped, setup_dir, teardown_dir),
        cmocka_unit_test(regression_double_separator_keeps_time_field),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("access_compile", tests, nullptr, nullptr);
}
