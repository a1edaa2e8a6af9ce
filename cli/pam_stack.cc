// SPDX-License-Identifier: BSD-3-Clause
// Parsing and editing of /etc/pam.d files (see pam_stack.h).
//
// Tokens follow Linux-PAM's _pam_StrTok(): fields are separated by blanks; a
// field that starts with '[' runs to the first ']' not escaped as "\]" and
// may hold blanks. Comments are whole lines starting with '#'.
#include "cli/pam_stack.h"

#include <cstdlib>

#include "core/text.h"

namespace ringfence::cli::pam {

namespace {

using core::Diagnostic;
using core::Diagnostics;

struct Token {
    std::string text;
    size_t column = 0;  // 0-based
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

Diagnostic make_error(const std::string& file, const Line& l, size_t col, std::string msg, std::string hint = "") {
    Diagnostic d;
    d.file = file;
    d.line = l.number;
    d.column = static_cast<int>(col) + 1;
    d.message = std::move(msg);
    d.source_line = l.text();
    d.hint = std::move(hint);
    return d;
}

// Splits one line into fields; false (and *err) on an unbalanced '[' or a
// ']' glued to the next field.
bool tokenize(const std::string& s, std::vector<Token>* out, size_t* err_col, std::string* err) {
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) {
            ++i;
        }
        if (i >= s.size()) {
            break;
        }
        Token t;
        t.column = i;
        if (s[i] == '[') {
            size_t j = i + 1;
            while (j < s.size() && !(s[j] == ']' && s[j - 1] != '\\')) {
                ++j;
            }
            if (j >= s.size()) {
                *err_col = i;
                *err = "unbalanced '[': no ']' before the end of the line";
                return false;
            }
            if (j + 1 < s.size() && !is_space(s[j + 1])) {
                *err_col = j + 1;
                *err = "expected a blank after ']'";
                return false;
            }
            t.text = s.substr(i, j + 1 - i);
            i = j + 1;
        } else {
            size_t j = i;
            while (j < s.size() && !is_space(s[j])) {
                if (s[j] == '[' && j > i && s[j - 1] == '=') {
                    // "arg=[value with blanks]" (pam_mkargv)
                    size_t k = j + 1;
                    while (k < s.size() && !(s[k] == ']' && s[k - 1] != '\\')) {
                        ++k;
                    }
                    if (k >= s.size()) {
                        *err_col = j;
                        *err = "unbalanced '[': no ']' before the end of the line";
                        return false;
                    }
                    j = k;
                }
                ++j;
            }
            t.text = s.substr(i, j - i);
            i = j;
        }
        out->push_back(std::move(t));
    }
    return true;
}

bool known_control(const std::string& c) {
    return c == "required" || c == "requisite" || c == "sufficient" || c == "optional" || c == "include" ||
           c == "substack";
}

const char* const kReturnValues[] = {
    "success", "open_err", "symbol_err", "service_err", "system_err", "buf_err", "perm_denied", "auth_err",
    "cred_insufficient", "authinfo_unavail", "user_unknown", "maxtries", "new_authtok_reqd", "acct_expired",
    "session_err", "cred_unavail", "cred_expired", "cred_err", "no_module_data", "conv_err", "authtok_err",
    "authtok_recover_err", "authtok_lock_busy", "authtok_disable_aging", "try_again", "ignore", "abort",
    "authtok_expired", "module_unknown", "bad_item", "conv_again", "incomplete", "default"};

bool known_return_value(const std::string& v) {
    for (const char* k : kReturnValues) {
        if (v == k) {
            return true;
        }
    }
    return false;
}

// "[value=action ...]": Linux-PAM's _pam_parse_control(). Returns "" when
// well-formed, else what is wrong.
std::string check_bracket_control(const std::string& c) {
    std::string inner = c.substr(1, c.size() - 2);
    size_t i = 0;
    int pairs = 0;
    while (i < inner.size()) {
        while (i < inner.size() && is_space(inner[i])) {
            ++i;
        }
        if (i >= inner.size()) {
            break;
        }
        size_t j = i;
        while (j < inner.size() && !is_space(inner[j])) {
            ++j;
        }
        std::string pair = inner.substr(i, j - i);
        size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
            return "'" + pair + "' is not value=action";
        }
        std::string value = pair.substr(0, eq);
        std::string action = pair.substr(eq + 1);
        if (!known_return_value(value)) {
            return "unknown return value '" + value + "'";
        }
        bool number = action.find_first_not_of("0123456789") == std::string::npos;
        if (!number && action != "ignore" && action != "bad" && action != "die" && action != "ok" &&
            action != "done" && action != "reset") {
            return "unknown action '" + action + "'";
        }
        ++pairs;
        i = j;
    }
    return pairs == 0 ? "empty control" : "";
}

// Whether an account line before the insertion point can end the account
// stack (or jump) so that the new line is never run. `between` counts the
// account lines after it and before the insertion point.
std::string skips_over(const Line& l, int between) {
    if (l.control == "sufficient") {
        return "'sufficient': when " + l.module_name() + " succeeds the account stack ends there";
    }
    if (l.control.empty() || l.control[0] != '[') {
        return "";
    }
    std::string inner = l.control.substr(1, l.control.size() - 2);
    size_t i = 0;
    while (i < inner.size()) {
        while (i < inner.size() && is_space(inner[i])) {
            ++i;
        }
        size_t j = i;
        while (j < inner.size() && !is_space(inner[j])) {
            ++j;
        }
        std::string pair = inner.substr(i, j - i);
        size_t eq = pair.find('=');
        if (eq != std::string::npos) {
            std::string action = pair.substr(eq + 1);
            if (action == "done") {
                return "'" + pair + "' can end the account stack there";
            }
            if (!action.empty() && action.find_first_not_of("0123456789") == std::string::npos &&
                std::atoi(action.c_str()) > between) {
                return "'" + pair + "' can jump over the new line";
            }
        }
        i = j;
    }
    return "";
}

std::string loc(const Stack& s, int line) { return s.file + ":" + std::to_string(line); }

}  // namespace

std::string Line::text() const {
    if (!raw.empty() && raw.back() == '\n') {
        return raw.substr(0, raw.size() - 1);
    }
    return raw;
}

std::string Line::module_name() const {
    size_t slash = module.rfind('/');
    return slash == std::string::npos ? module : module.substr(slash + 1);
}

bool Line::is(const char* type_, const char* module_) const {
    return active && type == type_ && module_name() == module_;
}

bool parse(const std::string& file, const std::string& bytes, Stack* out, Diagnostics* diags) {
    out->file = file;
    out->lines.clear();
    bool ok = true;
    bool leading_comments = true;
    bool continued = false;  // the previous line ended in '\' (already reported)
    size_t start = 0;
    int number = 0;
    while (start < bytes.size()) {
        size_t nl = bytes.find('\n', start);
        size_t end = nl == std::string::npos ? bytes.size() : nl + 1;
        Line l;
        l.number = ++number;
        l.raw = bytes.substr(start, end - start);
        start = end;
        std::string s = l.text();
        if (continued) {
            std::string_view rest = core::trim(s);
            continued = !rest.empty() && rest.back() == '\\';
            out->lines.push_back(std::move(l));
            continue;
        }

        size_t bad = s.find_first_of(std::string("\r\v\f\0", 4));
        for (size_t i = 0; bad == std::string::npos && i < s.size(); ++i) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            if (c < 0x20 && c != '\t') {
                bad = i;
            }
        }
        if (bad != std::string::npos) {
            diags->push_back(make_error(file, l, bad, "control character in the line",
                                        "a file with DOS line ends? convert it with dos2unix"));
            ok = false;
            out->lines.push_back(std::move(l));
            continue;
        }
        std::string_view trimmed = core::trim(s);
        if (!trimmed.empty() && trimmed.back() == '\\') {
            diags->push_back(make_error(file, l, s.rfind('\\'),
                                        "a line continued with '\\' (ringfence does not edit files that use them)",
                                        "join the continued lines into one, then run ringfence again"));
            ok = false;
            continued = true;
            out->lines.push_back(std::move(l));
            continue;
        }
        if (trimmed.empty() || trimmed.front() == '#') {
            if (leading_comments && !trimmed.empty()) {
                if (trimmed.find("Generated by authselect") != std::string_view::npos) {
                    out->authselect = true;
                }
                if (trimmed.find("authconfig") != std::string_view::npos) {
                    out->authconfig = true;
                }
            }
            out->lines.push_back(std::move(l));
            continue;
        }
        leading_comments = false;
        l.active = true;

        std::vector<Token> toks;
        size_t err_col = 0;
        std::string err;
        if (!tokenize(s, &toks, &err_col, &err)) {
            diags->push_back(make_error(file, l, err_col, err));
            ok = false;
            out->lines.push_back(std::move(l));
            continue;
        }
        std::string type = toks[0].text;
        if (core::iequals(type, "@include")) {
            l.type = "@include";
            if (toks.size() != 2) {
                diags->push_back(make_error(file, l, toks[0].column, "expected '@include FILE'"));
                ok = false;
            } else {
                l.module = toks[1].text;
            }
            out->lines.push_back(std::move(l));
            continue;
        }
        if (!type.empty() && type[0] == '-') {
            l.dash = true;
            type.erase(0, 1);
        }
        for (char& c : type) {
            c = core::ascii_lower(c);
        }
        if (type != "account" && type != "auth" && type != "password" && type != "session") {
            diags->push_back(make_error(file, l, toks[0].column,
                                        "unknown module type '" + core::escape_for_log(toks[0].text, 40) + "'",
                                        "expected account, auth, password or session"));
            ok = false;
            out->lines.push_back(std::move(l));
            continue;
        }
        l.type = type;
        if (toks.size() < 3) {
            diags->push_back(make_error(file, l, s.size(),
                                        toks.size() < 2 ? "missing control and module" : "missing module",
                                        "expected TYPE CONTROL MODULE [ARGUMENTS]"));
            ok = false;
            out->lines.push_back(std::move(l));
            continue;
        }
        l.control = toks[1].text;
        if (l.control[0] == '[') {
            std::string why = check_bracket_control(l.control);
            if (!why.empty()) {
                diags->push_back(make_error(file, l, toks[1].column, "bad control: " + why));
                ok = false;
            }
        } else {
            std::string lower = l.control;
            for (char& c : lower) {
                c = core::ascii_lower(c);
            }
            if (!known_control(lower)) {
                diags->push_back(make_error(file, l, toks[1].column,
                                            "unknown control '" + core::escape_for_log(l.control, 40) + "'",
                                            "expected required, requisite, sufficient, optional, include, "
                                            "substack or [value=action ...]"));
                ok = false;
            }
            l.control = lower;
        }
        l.module = toks[2].text;
        for (size_t i = 3; i < toks.size(); ++i) {
            l.args.push_back(toks[i].text);
        }
        out->lines.push_back(std::move(l));
    }
    return ok;
}

std::vector<Presence> find_ringfence(const Stack& stack) {
    std::vector<Presence> out;
    for (size_t i = 0; i < stack.lines.size(); ++i) {
        const Line& l = stack.lines[i];
        if (l.is("account", "pam_ringfence.so")) {
            Presence p;
            p.line = l.number;
            p.ours = i > 0 && stack.lines[i - 1].text() == kMarker;
            out.push_back(p);
        }
    }
    return out;
}

Plan plan_enable(const Stack& stack, const std::string& module_line) {
    Plan plan;
    if (stack.authselect) {
        plan.message = stack.file + ":1: the file is generated by authselect, which would undo the change";
        return plan;
    }
    for (size_t i = 0; i < stack.lines.size(); ++i) {
        if (stack.lines[i].text() == kMarker &&
            (i + 1 >= stack.lines.size() || !stack.lines[i + 1].is("account", "pam_ringfence.so"))) {
            plan.message = loc(stack, stack.lines[i].number) +
                           ": a ringfence marker that is not followed by an account pam_ringfence.so line; "
                           "remove the marker (or restore the line) by hand";
            return plan;
        }
    }
    std::vector<Presence> present = find_ringfence(stack);
    if (!present.empty()) {
        plan.kind = Plan::Kind::nothing_to_do;
        plan.message = loc(stack, present[0].line) + ": already enabled" +
                       (present[0].ours ? "" : " (a line not added by ringfence; left as it is)");
        return plan;
    }

    const Line* anchor = nullptr;
    size_t insert_at = 0;  // index of the line the block goes before
    bool after_access = false;
    for (size_t i = 0; i < stack.lines.size(); ++i) {
        if (stack.lines[i].is("account", "pam_access.so")) {
            anchor = &stack.lines[i];
            insert_at = i + 1;
            after_access = true;
            break;
        }
    }
    if (anchor == nullptr) {
        for (size_t i = 0; i < stack.lines.size(); ++i) {
            if (stack.lines[i].is("account", "pam_unix.so")) {
                anchor = &stack.lines[i];
                insert_at = i;
                break;
            }
        }
    }
    if (anchor == nullptr) {
        bool any_account = false;
        std::string included;
        for (const Line& l : stack.lines) {
            any_account = any_account || (l.active && l.type == "account");
            if (l.active && l.type == "account" && (l.control == "include" || l.control == "substack") &&
                included.empty()) {
                included = l.module;
            }
        }
        plan.message = stack.file + ": " +
                       (any_account ? "no account pam_access.so or pam_unix.so line to put pam_ringfence next to"
                                    : "no account section");
        if (!included.empty()) {
            plan.message += " (its account stack includes '" + included +
                            "': enable pam_ringfence there, with --file " + included + ")";
        }
        return plan;
    }
    if (after_access && !anchor->raw.empty() && anchor->raw.back() != '\n') {
        plan.message = loc(stack, anchor->number) + ": the last line has no newline; add one first";
        return plan;
    }

    // Nothing before the new line may end the account stack or jump over it.
    int between = 0;
    for (size_t i = insert_at; i-- > 0;) {
        const Line& l = stack.lines[i];
        if (!l.active || l.type != "account") {
            continue;
        }
        std::string why = skips_over(l, between);
        if (!why.empty()) {
            plan.message = loc(stack, l.number) + ": " + why +
                           ", so pam_ringfence would not always run; put the line in by hand, before this one";
            return plan;
        }
        if (l.control == "include") {
            plan.warnings.push_back(loc(stack, l.number) + ": the account stack of '" + l.module +
                                    "' runs before pam_ringfence; a 'sufficient' line in it skips pam_ringfence");
        }
        ++between;
    }

    std::string block = std::string(kMarker) + "\n" + module_line + "\n";
    std::string out;
    for (size_t i = 0; i < stack.lines.size(); ++i) {
        if (i == insert_at) {
            out += block;
        }
        out += stack.lines[i].raw;
    }
    if (insert_at == stack.lines.size()) {
        out += block;
    }
    plan.kind = Plan::Kind::change;
    plan.bytes = std::move(out);
    // Line numbers in the new file: the block starts at insert_at + 1.
    int module_at = static_cast<int>(insert_at) + 2;
    if (after_access) {
        plan.message = loc(stack, module_at) + ": added pam_ringfence after pam_access (line " +
                       std::to_string(anchor->number) + ")";
        plan.notes.push_back(
            "pam_access stays in force: a login must now pass both pam_access and pam_ringfence. Both read "
            "/etc/security/access.conf, but pam_access skips rules with a time field ('bad field count') and "
            "reads @name as a netgroup (pam_ringfence with atgroup: a group). Remove the pam_access line by "
            "hand once pam_ringfence alone does what you want.");
    } else {
        plan.message = loc(stack, module_at) + ": added pam_ringfence before pam_unix (which is now line " +
                       std::to_string(module_at + 1) + ")";
    }
    return plan;
}

Plan plan_disable(const Stack& stack) {
    Plan plan;
    std::vector<bool> drop(stack.lines.size(), false);
    int removed = 0;
    for (size_t i = 0; i < stack.lines.size(); ++i) {
        if (stack.lines[i].text() != kMarker) {
            continue;
        }
        if (i + 1 >= stack.lines.size() || !stack.lines[i + 1].is("account", "pam_ringfence.so")) {
            plan.message = loc(stack, stack.lines[i].number) +
                           ": a ringfence marker that is not followed by an account pam_ringfence.so line; "
                           "nothing removed, fix the file by hand";
            return plan;
        }
        drop[i] = drop[i + 1] = true;
        ++removed;
        ++i;
    }
    std::vector<Presence> present = find_ringfence(stack);
    for (const Presence& p : present) {
        if (!p.ours) {
            if (removed == 0) {
                plan.message = loc(stack, p.line) +
                               ": pam_ringfence.so was not added by 'ringfence enable pam' (no marker line "
                               "before it); remove it by hand";
                return plan;
            }
            plan.warnings.push_back(loc(stack, p.line) +
                                    ": this pam_ringfence.so line was not added by ringfence and stays");
        }
    }
    if (removed == 0) {
        plan.kind = Plan::Kind::nothing_to_do;
        plan.message = stack.file + ": not enabled (no pam_ringfence.so account line)";
        return plan;
    }
    std::string out;
    int first = 0;
    for (size_t i = 0; i < stack.lines.size(); ++i) {
        if (drop[i]) {
            if (first == 0) {
                first = stack.lines[i].number;
            }
            continue;
        }
        out += stack.lines[i].raw;
    }
    plan.kind = Plan::Kind::change;
    plan.bytes = std::move(out);
    plan.message = loc(stack, first) + ": removed the pam_ringfence line added by ringfence";
    return plan;
}

}  // namespace ringfence::cli::pam
