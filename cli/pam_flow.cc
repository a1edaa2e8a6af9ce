// SPDX-License-Identifier: BSD-3-Clause
// Linux-PAM's splicing (libpam/pam_handlers.c): `include` and `@include`
// insert the included file's lines of the type in place, as if written
// there; `substack` does the same, but `done`, `die` and jumps inside it
// end or move within the substack only. The control words are shorthand for
// brackets (pam(8)): required = [success=ok new_authtok_reqd=ok ignore=ignore
// default=bad], requisite = the same with default=die, sufficient =
// [success=done new_authtok_reqd=done default=ignore], optional =
// [success=ok new_authtok_reqd=ok default=ignore].
#include "cli/pam_flow.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "core/text.h"

namespace ringfence::cli::pam {

namespace {

constexpr int kMaxDepth = 16;
// Includes followed in one service's stack, at most: a file that includes
// another twice at every level would otherwise take 2^16 steps to reach
// the depth limit.
constexpr int kMaxIncludes = 1000;

std::string where(const std::string& file, int line) { return file + ":" + std::to_string(line); }

std::string include_path(const std::string& pam_dir, const std::string& name) {
    return !name.empty() && name[0] == '/' ? name : pam_dir + "/" + name;
}

core::Diagnostic finding(const std::string& file, const Line& l, core::Severity sev, std::string message,
                         std::string hint) {
    core::Diagnostic d;
    d.file = file;
    d.line = l.number;
    std::string text = l.text();
    size_t col = text.find_first_not_of(" \t");
    d.column = col == std::string::npos ? 0 : static_cast<int>(col) + 1;
    d.severity = sev;
    d.message = std::move(message);
    d.source_line = text;
    d.hint = std::move(hint);
    return d;
}

struct Walker {
    const ReadPamFile& read;
    std::string pam_dir;
    AccountFlow* flow;
    std::map<std::string, Stack> cache;
    int includes = 0;
    bool too_deep = false;

    // nullptr when the file does not exist or cannot be used (reported).
    const Stack* load(const std::string& path, const std::string& from, const Line* from_line) {
        auto it = cache.find(path);
        if (it != cache.end()) {
            return &it->second;
        }
        std::string error;
        std::optional<std::string> bytes = read(path, &error);
        if (!error.empty() || !bytes) {
            flow->complete = false;
            core::Diagnostic d;
            if (from_line != nullptr) {
                d = finding(from, *from_line, error.empty() ? core::Severity::warning : core::Severity::error,
                            error.empty() ? "'" + path + "' does not exist: Linux-PAM skips this line"
                                          : error,
                            "");
            } else {
                d.file = path;
                d.message = error;
            }
            flow->diags.push_back(d);
            return nullptr;
        }
        Stack s;
        core::Diagnostics diags;
        if (!parse(path, *bytes, &s, &diags)) {
            flow->complete = false;
            flow->diags.insert(flow->diags.end(), diags.begin(), diags.end());
        }
        flow->files.push_back(path);
        return &cache.emplace(path, std::move(s)).first->second;
    }

    void walk(const std::string& path, const Stack& stack, const std::vector<std::string>& via, int depth) {
        for (const Line& l : stack.lines) {
            if (!l.active) {
                continue;
            }
            bool at_include = l.type == "@include";
            bool account_include = l.type == "account" && (l.control == "include" || l.control == "substack");
            if (at_include || account_include) {
                std::string target = include_path(pam_dir, l.module);
                if (depth + 1 >= kMaxDepth || ++includes > kMaxIncludes) {
                    // Said once: the walk ends here, its findings are partial.
                    if (!too_deep) {
                        too_deep = true;
                        flow->complete = false;
                        flow->diags.push_back(finding(
                            path, l, core::Severity::error,
                            depth + 1 >= kMaxDepth
                                ? "includes nest deeper than 16 levels (a loop?): Linux-PAM fails the whole stack"
                                : "more than 1000 includes: not followed further",
                            ""));
                    }
                    return;
                }
                const Stack* inner = load(target, path, &l);
                if (inner == nullptr) {
                    continue;
                }
                std::vector<std::string> inner_via = via;
                inner_via.push_back(where(path, l.number) + " (" + (at_include ? "@include" : l.control) + " " +
                                    l.module + ")");
                walk(target, *inner, inner_via, depth + 1);
                continue;
            }
            if (l.type != "account") {
                continue;
            }
            FlowLine f;
            f.file = path;
            f.line = l;
            f.via = via;
            flow->lines.push_back(std::move(f));
        }
    }
};

// The action a bracket control (or a control word) takes for a return value.
std::string action_for(const std::string& control, const std::string& value) {
    std::string c = control;
    if (c == "required") {
        c = "[success=ok new_authtok_reqd=ok ignore=ignore default=bad]";
    } else if (c == "requisite") {
        c = "[success=ok new_authtok_reqd=ok ignore=ignore default=die]";
    } else if (c == "sufficient") {
        c = "[success=done new_authtok_reqd=done default=ignore]";
    } else if (c == "optional") {
        c = "[success=ok new_authtok_reqd=ok default=ignore]";
    }
    if (c.size() < 2 || c.front() != '[') {
        return "";
    }
    std::string fallback = "bad";  // Linux-PAM: a value not listed and no default is bad
    for (const std::string& pair : core::split_words(std::string_view(c).substr(1, c.size() - 2))) {
        size_t eq = pair.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        std::string v = pair.substr(0, eq);
        if (v == value) {
            return pair.substr(eq + 1);
        }
        if (v == "default") {
            fallback = pair.substr(eq + 1);
        }
    }
    return fallback;
}

bool is_jump(const std::string& action) {
    return !action.empty() && action.find_first_not_of("0123456789") == std::string::npos;
}

// How a line before pam_ringfence can keep it from running: its success
// ends the (sub)stack, or jumps at least `distance` lines.
std::string skips(const Line& l, int distance) {
    for (const char* value : {"success", "new_authtok_reqd", "ignore", "user_unknown", "default"}) {
        std::string a = action_for(l.control, value);
        if (a == "done" && (std::string(value) != "default" || l.control[0] == '[')) {
            return l.control == "sufficient" ? "'sufficient': when " + l.module_name() +
                                                   " succeeds, the account stack ends before pam_ringfence runs"
                                             : "'" + std::string(value) + "=done': when " + l.module_name() +
                                                   " returns " + value + ", the account stack ends before "
                                                   "pam_ringfence runs";
        }
        if (is_jump(a) && std::atoi(a.c_str()) >= distance) {
            return "'" + std::string(value) + "=" + a + "' jumps over pam_ringfence when " + l.module_name() +
                   " returns " + value;
        }
    }
    return "";
}

}  // namespace

AccountFlow account_flow(const std::string& service, const ReadPamFile& read, const std::string& pam_dir) {
    AccountFlow flow;
    flow.service = service;
    flow.file = pam_dir + "/" + service;
    Walker w{read, pam_dir, &flow, {}};
    std::string error;
    std::optional<std::string> bytes = read(flow.file, &error);
    if (!bytes && error.empty()) {
        return flow;  // not installed
    }
    flow.installed = true;
    const Stack* top = w.load(flow.file, "", nullptr);
    if (top != nullptr) {
        w.walk(flow.file, *top, {}, 0);
    }
    return flow;
}

std::vector<std::string> files_with_ringfence(const AccountFlow& flow) {
    std::vector<std::string> out;
    for (const FlowLine& f : flow.lines) {
        if (f.line.module_name() == "pam_ringfence.so" &&
            std::find(out.begin(), out.end(), f.file) == out.end()) {
            out.push_back(f.file);
        }
    }
    return out;
}

core::Diagnostics lint_account_flow(const AccountFlow& flow, const std::vector<std::string>& elsewhere) {
    core::Diagnostics out;
    if (!flow.installed) {
        return out;
    }
    // The substacks a line sits in: the substack steps of its `via`, each
    // naming the line that opened it.
    auto frames = [](const FlowLine& f) {
        std::vector<std::string> v;
        for (const std::string& step : f.via) {
            if (step.find("(substack ") != std::string::npos) {
                v.push_back(step);
            }
        }
        return v;
    };
    auto encloses = [](const std::vector<std::string>& outer, const std::vector<std::string>& inner) {
        return outer.size() <= inner.size() && std::equal(outer.begin(), outer.end(), inner.begin());
    };

    std::vector<size_t> rf;
    for (size_t i = 0; i < flow.lines.size(); ++i) {
        if (flow.lines[i].line.module_name() == "pam_ringfence.so") {
            rf.push_back(i);
        }
    }
    if (rf.empty()) {
        core::Diagnostic d;
        d.file = flow.file;
        d.severity = core::Severity::warning;
        d.message = flow.service + " does not run pam_ringfence in its account stack";
        std::vector<std::string> unread;
        for (const std::string& f : elsewhere) {
            if (std::find(flow.files.begin(), flow.files.end(), f) == flow.files.end()) {
                unread.push_back(f);
            }
        }
        if (!unread.empty()) {
            d.message += ": it is in " + unread.front() + ", which " + flow.service + " does not read";
            std::string reads;
            for (const std::string& f : flow.files) {
                reads += (reads.empty() ? "" : ", ") + f;
            }
            d.hint = flow.service + " reads " + reads + "; add the line there ('ringfence enable pam --file ...')";
        } else {
            d.hint = "'ringfence enable pam' (or --file the file its account stack includes)";
        }
        if (!flow.complete) {
            d.message += " (as far as its files could be read)";
        }
        out.push_back(d);
        return out;
    }

    const FlowLine& r = flow.lines[rf.front()];
    std::vector<std::string> r_frames = frames(r);
    for (size_t i = 0; i < rf.front(); ++i) {
        const FlowLine& l = flow.lines[i];
        if (!encloses(frames(l), r_frames)) {
            continue;  // a substack that ended before pam_ringfence: its done ends only itself
        }
        int distance = static_cast<int>(rf.front() - i);
        std::string why = skips(l.line, distance);
        if (!why.empty()) {
            out.push_back(finding(l.file, l.line, core::Severity::warning,
                                  why + " (pam_ringfence is at " + where(r.file, r.line.number) + ")",
                                  "move pam_ringfence before this line, or make this line 'required'"));
        }
    }
    for (size_t k : rf) {
        const FlowLine& f = flow.lines[k];
        std::string a = action_for(f.line.control, "perm_denied");
        if (a != "bad" && a != "die") {
            out.push_back(finding(f.file, f.line, core::Severity::warning,
                                  "'" + f.line.control + "': a refusal by pam_ringfence (perm_denied) is " +
                                      (a.empty() ? "not understood" : a == "ignore" ? "ignored" : "a jump") +
                                      ", so it does not stop the login",
                                  "use 'required' (or 'requisite')"));
        }
        if (f.line.dash) {
            out.push_back(finding(f.file, f.line, core::Severity::warning,
                                  "'-account': when pam_ringfence.so is missing, Linux-PAM skips the line without "
                                  "a word, and the login goes on without it",
                                  "drop the '-' so that a missing module fails the stack"));
        }
    }
    return out;
}

}  // namespace ringfence::cli::pam
