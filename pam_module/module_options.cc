// SPDX-License-Identifier: BSD-3-Clause
// Module options and policy loading, shared by pam_ringfence.so and the
// programs that check what it would do.
#include "pam_module/module_options.h"

#include "core/checked_stamp.h"

namespace ringfence::access {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

bool apply_module_option(std::string_view a, ModuleOptions* c) {
    if (starts_with(a, "accessfile=")) {
        c->accessfile = std::string(a.substr(11));
        c->accessfile_given = true;
    } else if (starts_with(a, "fieldsep=")) {
        c->parse.fieldsep = std::string(a.substr(9));
    } else if (starts_with(a, "listsep=")) {
        c->parse.listsep = std::string(a.substr(8));
    } else if (a == "debug") {
        c->debug = true;
    } else if (a == "nodefgroup") {
        c->parse.nodefgroup = true;
    } else if (a == "atgroup") {
        c->parse.atgroup = true;
    } else if (a == "nodns") {
        // Accepted: tokens are never resolved anyway (pam_ringfence(8)).
    } else if (a == "quiet_log") {
        c->quiet_log = true;
    } else if (a == "noaudit") {
        // Accepted for pam_access compatibility; no audit records are written.
    } else {
        if (c->bad_option.empty()) {
            c->bad_option = std::string(a);
        }
        return false;
    }
    return true;
}

ModuleOptions parse_module_options(int argc, const char* const* argv) {
    ModuleOptions c;
    for (int i = 0; i < argc; ++i) {
        if (argv[i] != nullptr) {
            apply_module_option(argv[i], &c);
        }
    }
    return c;
}

ModuleOptions parse_module_options(const std::vector<std::string>& words) {
    ModuleOptions c;
    for (const std::string& w : words) {
        apply_module_option(w, &c);
    }
    return c;
}

std::string checked_kind(const ParseOptions& p) {
    auto hex = [](const std::string& s) {
        static const char digits[] = "0123456789abcdef";
        std::string out;
        for (unsigned char c : s) {
            out += digits[c >> 4];
            out += digits[c & 15];
        }
        return out;
    };
    return std::string("access.conf fieldsep=") + hex(p.fieldsep) + " listsep=" + hex(p.listsep) +
           " nodefgroup=" + (p.nodefgroup ? "1" : "0") + " atgroup=" + (p.atgroup ? "1" : "0");
}

int record_checked_stamps(const Policy& policy, const std::vector<std::pair<std::string, core::FileStamp>>& files,
                          const ParseOptions& parse) {
    core::CheckedStamps stamps(checked_kind(parse));
    int written = 0;
    for (size_t i = 0; stamps.enabled() && i < files.size() && i < policy.file_count(); ++i) {
        if (policy.file_clean(i)) {
            written += stamps.record(files[i].first, files[i].second, policy.file_text(i));
        }
    }
    return written;
}

namespace {

LoadedPolicy load(const ModuleOptions& options, const std::string& dropin_dir, const Request* request,
                  Environment* env, Decision* decision) {
    LoadedPolicy out;
    out.source = read_policy_buffers(options.accessfile, !options.accessfile_given, dropin_dir);
    out.diags = out.source.diags;
    out.main_missing = out.source.buffers.empty() || out.source.buffers.front().path != options.accessfile;
    if (out.source.ok && request != nullptr) {
        // A decision on checked files compiles only what it needs; one on
        // files without stamps checks them whole and, as root, stamps the
        // clean ones for the next process.
        core::CheckedStamps stamps(checked_kind(options.parse));
        std::vector<std::pair<std::string, core::FileStamp>> files;
        bool checked = stamps.enabled();
        for (const core::ConfigBuffer& b : out.source.buffers) {
            files.emplace_back(b.path, b.stamp);
            checked = checked && stamps.passed(b.path, b.stamp, b.data);
        }
        out.policy = Policy::compile_and_decide(std::move(out.source.buffers), options.parse, &out.diags, *request,
                                                *env, decision, checked);
        out.decided_on_stamps = checked;
        if (!checked) {
            record_checked_stamps(*out.policy, files, options.parse);
        }
    } else if (out.source.ok) {
        // The policy takes the text over: no second copy stays behind.
        out.policy = Policy::compile_buffers(std::move(out.source.buffers), options.parse, &out.diags);
    }
    out.source.buffers.clear();
    return out;
}

}  // namespace

LoadedPolicy load_policy(const ModuleOptions& options, const std::string& dropin_dir) {
    return load(options, dropin_dir, nullptr, nullptr, nullptr);
}

LoadedPolicy load_policy_and_decide(const ModuleOptions& options, const std::string& dropin_dir,
                                    const Request& request, Environment& env, Decision* decision) {
    return load(options, dropin_dir, &request, &env, decision);
}

}  // namespace ringfence::access
