// SPDX-License-Identifier: BSD-3-Clause
// The hosts_options(5) language, as libwrap's options.c reads it: ':'
// separates options ("\\:" is a literal ':'), each is a keyword, at most
// one '=' and blanks, then its value.
#include "tcpd_shim/hosts_options.h"

#include <syslog.h>

#include <cstring>

#include "core/text.h"
#include "tcpd_shim/hosts_text.h"

namespace ringfence::tcpd {

namespace detail {

namespace {

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

// An option field split into keyword and value, offsets in the logical line.
struct OptionText {
    std::string_view field;  // chopped
    size_t offset = 0;       // of the field
    std::string_view key;
    std::string_view value;
    size_t value_offset = 0;  // of the value, relative to `offset`
};

// Keyword, then at most one '=' and blanks, then the value (options.c).
OptionText split_option(std::string_view raw, size_t offset) {
    OptionText t;
    size_t skipped = 0;
    t.field = chop(raw, &skipped);
    t.offset = offset + skipped;
    std::string_view field = t.field;
    size_t kend = field.find_first_of("= \t\r\n");
    t.key = field.substr(0, kend);
    t.value_offset = field.size();
    if (kend != std::string_view::npos) {
        auto blank = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
        size_t v = kend;
        if (field[v] != '=') {
            ++v;
            while (v < field.size() && blank(field[v])) {
                ++v;
            }
        }
        if (v < field.size() && field[v] == '=') {
            ++v;
            while (v < field.size() && blank(field[v])) {
                ++v;
            }
        }
        t.value_offset = v;
        t.value = field.substr(v);
    }
    return t;
}

const OptionSpec* find_spec(std::string_view key) {
    const OptionSpec* spec = nullptr;
    for (size_t i = 0; i < sizeof kOptionSpecs / sizeof kOptionSpecs[0]; ++i) {
        if (iequals(kOptionNames[i], key)) {
            spec = &kOptionSpecs[i];
        }
    }
    return spec;
}

// The value checks of the options that take one; each reports at the value.
class ValueParser {
public:
    ValueParser(const OptionText& t, OptionReporter& report) : t_(t), value_(t.value), report_(report) {}

    bool parse(Option::Kind kind, Option* out) {
        switch (kind) {
            case Option::Kind::umask:
                return umask(out);
            case Option::Kind::linger:
                return linger(out);
            case Option::Kind::nice:
                return nice(out);
            case Option::Kind::rfc931:
                return rfc931(out);
            case Option::Kind::severity:
                return severity(out);
            case Option::Kind::setenv:
                return setenv(out);
            case Option::Kind::user:
                return user(out);
            case Option::Kind::group:
                out->name = std::string(value_);
                return true;
            default:
                return true;
        }
    }

    // percent_x(): an unknown %x expands to nothing (libwrap warns).
    void check_expansions() {
        for (size_t i = 0; i + 1 < value_.size(); ++i) {
            if (value_[i] == '%') {
                if (std::strchr("aAcdhHnNprRsu%", value_[i + 1]) == nullptr || value_[i + 1] == '\0') {
                    report_.warning(t_.offset + t_.value_offset + i,
                                    std::string("unrecognized %") + value_[i + 1] + ": it expands to nothing", "");
                }
                ++i;
            }
        }
    }

private:
    bool fail(std::string message, std::string hint = "") {
        report_.error(t_.offset + t_.value_offset, std::move(message), std::move(hint));
        return false;
    }

    bool umask(Option* out) {
        std::string_view digits = value_;
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
            return fail("bad umask value '" + std::string(value_) + "'", "write an octal mask, e.g. 022");
        }
        out->number = static_cast<int>(mask);
        return true;
    }

    bool linger(Option* out) {
        auto v = parse_int(value_);
        if (!v || *v < 0) {
            return fail("bad linger value '" + std::string(value_) + "'", "write seconds, e.g. 10");
        }
        out->number = static_cast<int>(*v);
        return true;
    }

    bool nice(Option* out) {
        out->number = 10;
        if (!value_.empty()) {
            auto v = parse_int(value_);
            if (!v) {
                return fail("bad nice value '" + std::string(value_) + "'");
            }
            out->number = static_cast<int>(*v);
        }
        return true;
    }

    bool rfc931(Option* out) {
        if (!value_.empty()) {
            auto v = parse_int(value_);
            if (!v || *v <= 0) {
                return fail("bad rfc931 timeout '" + std::string(value_) + "'", "write seconds, e.g. 10");
            }
            out->number = static_cast<int>(*v);
        }
        return true;
    }

    bool severity(Option* out) {
        size_t dot = find_outside_brackets(value_, '.');
        std::string_view level = dot == std::string_view::npos ? value_ : value_.substr(dot + 1);
        if (dot != std::string_view::npos) {
            out->facility = syslog_value(kFacilities, value_.substr(0, dot));
            if (out->facility < 0) {
                return fail("bad syslog facility '" + std::string(value_.substr(0, dot)) + "'",
                            "libwrap knows kern user mail daemon auth lpr news uucp cron local0..local7");
            }
        }
        out->level = syslog_value(kLevels, level);
        if (out->level < 0) {
            return fail("bad syslog severity '" + std::string(level) + "'",
                        "write emerg alert crit err warning notice info or debug");
        }
        return true;
    }

    bool setenv(Option* out) {
        size_t ws = value_.find_first_of(" \t\r\n");
        out->name = std::string(chop(value_.substr(0, ws)));
        out->argument = ws == std::string_view::npos ? "" : std::string(chop(value_.substr(ws + 1)));
        return true;
    }

    bool user(Option* out) {
        size_t dot = find_outside_brackets(value_, '.');
        out->name = std::string(value_.substr(0, dot));
        if (dot != std::string_view::npos) {
            out->argument = std::string(value_.substr(dot + 1));
        }
        if (out->name.empty() || (dot != std::string_view::npos && out->argument.empty())) {
            return fail("option 'user' expects user or user.group");
        }
        return true;
    }

    const OptionText& t_;
    std::string_view value_;
    OptionReporter& report_;
};

// One option field; `last`: it is the rule's last option.
bool compile_option(std::string_view raw, size_t offset, bool last, OptionReporter& report, Option* out) {
    OptionText t = split_option(raw, offset);
    const size_t off = t.offset;
    if (t.field.empty()) {
        report.error(off,
                     last ? "empty option after ':' (libwrap denies the connection)"
                          : "empty option between two ':' (libwrap denies the connection)",
                     last ? "remove the trailing ':'" : "remove one ':'");
        return false;
    }
    if (t.key.empty()) {
        report.error(off, "missing option name before '='", "");
        return false;
    }
    out->keyword = std::string(t.key);
    out->value = std::string(t.value);
    out->column = static_cast<int>(off);
    if (iequals(t.key, "aclexec")) {
        report.error(off, "option 'aclexec' is not supported: its verdict depends on running a command",
                     "decide in the rule, or use `spawn` for a side effect");
        return false;
    }
    const OptionSpec* spec = find_spec(t.key);
    if (spec == nullptr) {
        report.error(off, "bad option name '" + core::escape_for_log(std::string(t.key), 40) + "'",
                     "options are allow, deny, severity, banners, spawn, twist, setenv, umask, user, group, nice, "
                     "keepalive, linger, rfc931; a '#' comment must be on its own line");
        return false;
    }
    out->kind = spec->kind;
    std::string k = option_name(spec->kind);
    if (t.value.empty() && spec->need_arg) {
        report.error(off, "option '" + k + "' requires a value", "");
        return false;
    }
    if (!t.value.empty() && !spec->need_arg && !spec->opt_arg) {
        report.error(off + t.value_offset, "option '" + k + "' takes no value",
                     t.value.front() == '#' ? "a '#' comment must be on its own line" : "");
        return false;
    }
    if (!last && spec->use_last) {
        report.error(off, "option '" + k + "' must be the last option of the rule", "");
        return false;
    }
    ValueParser values(t, report);
    if (!values.parse(spec->kind, out)) {
        return false;
    }
    if (spec->expand) {
        values.check_expansions();
    }
    return true;
}

}  // namespace

bool compile_options(std::string_view text, size_t off, OptionReporter& report, std::vector<Option>* out) {
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
    for (size_t i = 0; i < fields.size(); ++i) {
        Option o;
        o.line = report.line_of(fields[i].offset);
        // Offsets inside a field with "\:" escapes are approximate.
        if (!compile_option(fields[i].text, fields[i].offset, i + 1 == fields.size(), report, &o)) {
            return false;  // libwrap stops (and denies) at the first bad option
        }
        o.column = report.column_of(static_cast<size_t>(o.column));
        out->push_back(std::move(o));
    }
    return true;
}

}  // namespace detail

const char* option_name(Option::Kind kind) { return detail::kOptionNames[static_cast<int>(kind)]; }

}  // namespace ringfence::tcpd
