// SPDX-License-Identifier: BSD-3-Clause
// `ringfence enable pam` / `disable pam`: the account line of pam_ringfence
// in /etc/pam.d/system-auth (or --file), checked and written with care:
// the policy it will enforce is compiled first, the file is parsed
// completely, a backup is kept, and the new file replaces the old one in a
// single rename.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "cli/commands.h"
#include "cli/pam_stack.h"
#include "core/diagnostic.h"
#include "core/text.h"
#include "pam_module/access_conf.h"
#include "pam_module/module_options.h"

namespace ringfence::cli {

namespace {

constexpr size_t kMaxPamFile = 1u << 20;
constexpr const char* kDefaultPamFile = "/etc/pam.d/system-auth";
// The line of pam_ringfence(8), EXAMPLES: unknown users are left to the
// rest of the stack (pam_unix says no), any other failure denies.
constexpr const char* kControl = "[default=bad success=ok user_unknown=ignore]";

std::string pam_file(const Context& ctx) {
    const std::string& f = ctx.options().file;
    if (f.empty()) {
        return kDefaultPamFile;
    }
    return f.find('/') == std::string::npos ? "/etc/pam.d/" + f : f;
}

// The module options of pam_ringfence(8): the module's own parser.
using access::ModuleOptions;

ModuleOptions module_options(const std::string& text) {
    return access::parse_module_options(core::split_words(text));
}

// Compiles the policy the new line will enforce, exactly as the module
// would (same reader, same checks, same options). False: errors printed.
bool lint_access(const Context& ctx, const ModuleOptions& m) {
    if (m.accessfile_given && m.accessfile.empty()) {
        ctx.error("accessfile= needs a file name");
        return false;
    }
    if (m.parse.fieldsep.empty() || m.parse.listsep.empty()) {
        ctx.error("fieldsep= and listsep= must not be empty (pam_ringfence would refuse every login)");
        return false;
    }
    if (m.accessfile.empty() || m.accessfile[0] != '/') {
        ctx.error("accessfile= needs an absolute path");
        return false;
    }
    // The module's own reader, on the paths resolved inside the tree (it
    // opens them by name; the module refuses a link as the file itself).
    std::string err;
    std::optional<std::string> main_sys = resolve(ctx, m.accessfile, core::FinalLink::keep, &err);
    std::optional<std::string> dropins = resolve(ctx, "/etc/security/access.d", core::FinalLink::follow, &err);
    if (!main_sys || !dropins) {
        ctx.error(err + "; nothing changed");
        return false;
    }
    std::string main_file = ctx.host_path(*main_sys);
    access::PolicySource src = access::read_policy_files(main_file, !m.accessfile_given, ctx.host_path(*dropins));
    core::Diagnostics diags = src.diags;
    std::shared_ptr<const access::Policy> policy;
    if (src.ok) {
        policy = access::Policy::compile(src.files, m.parse, &diags);
    }
    for (const core::Diagnostic& d : diags) {
        std::fputs(d.full().c_str(), stderr);
    }
    if (!src.ok || !policy || !policy->valid()) {
        ctx.error("the access policy has errors: pam_ringfence refuses every login with it, root included; "
                  "nothing changed. Fix the policy first.");
        return false;
    }
    bool main_missing = src.files.empty() || src.files.front().path != main_file;
    if (m.accessfile_given && main_missing) {
        ctx.error(main_file + ": accessfile= names a file that does not exist (pam_ringfence would refuse "
                  "every login); nothing changed");
        return false;
    }
    if (policy->rules().empty()) {
        ctx.warning(main_file + ": no rules: pam_ringfence allows every login until you write some");
    } else {
        ctx.info("policy checked: " + std::to_string(policy->rules().size()) + " rule(s) in " +
                 std::to_string(src.files.size()) + " file(s), no errors");
    }
    return true;
}

// The profile authselect has selected, and its features (authselect.conf).
std::vector<std::string> authselect_current(const Context& ctx) {
    FileContent f;
    std::string err;
    if (read_file(ctx, "/etc/authselect/authselect.conf", core::FinalLink::keep, 65536, &f, &err) !=
        ReadOutcome::ok) {
        return {};
    }
    std::vector<std::string> out;
    std::istringstream in(f.bytes);
    std::string line;
    while (std::getline(in, line)) {
        auto words = core::split_words(line);
        if (!words.empty() && words[0][0] != '#') {
            out.push_back(words[0]);
        }
    }
    return out;
}

void print_authselect_steps(const Context& ctx, const std::string& shown, const std::string& module_line) {
    std::vector<std::string> current = authselect_current(ctx);
    std::string base = current.empty() ? "sssd" : current[0];
    if (base.compare(0, 7, "custom/") == 0) {
        base = base.substr(7);
    }
    std::string features;
    for (size_t i = 1; i < current.size(); ++i) {
        features += " " + current[i];
    }
    bool already_custom = !current.empty() && current[0].compare(0, 7, "custom/") == 0;
    ctx.error(shown + " is generated by authselect, which rewrites it (authselect select, apply-changes, "
                      "updates): a line added by hand would silently disappear. Nothing changed.");
    std::string s;
    s += "Add the line through a custom authselect profile instead:\n\n";
    if (already_custom) {
        s += "  # the selected profile is already custom/" + base + ": edit it\n";
        s += "  vi /etc/authselect/custom/" + base + "/system-auth /etc/authselect/custom/" + base +
             "/password-auth\n";
    } else {
        if (current.empty()) {
            s += "  authselect current      # the profile (sssd, winbind, minimal, local) and its features\n";
            s += "  # in the next two commands replace " + base + " by that profile, and add its features\n";
        }
        s += "  authselect create-profile ringfence -b " + base + " --symlink-meta\n";
        s += "  vi /etc/authselect/custom/ringfence/system-auth /etc/authselect/custom/ringfence/password-auth\n";
    }
    s += "      # in both files, right after the 'account ... pam_access.so' line (or, if there is none,\n"
         "      # right before 'account required pam_unix.so'), add:\n";
    s += "      " + module_line + "\n";
    if (already_custom) {
        s += "  authselect apply-changes\n";
    } else {
        s += "  authselect select custom/ringfence" + features + "\n";
    }
    s += "  authselect check && grep pam_ringfence /etc/pam.d/system-auth /etc/pam.d/password-auth\n\n";
    s += "Keep a root session open and try a new login before you close it.\n";
    s += "Undo: authselect select " + (current.empty() ? base : current[0]) + features +
         " (the previous profile)";
    ctx.note(s);
}

struct Loaded {
    FileContent content;
    pam::Stack stack;
    std::string shown;  // the path to name in messages
};

// Files that ringfence 0.1 or an interrupted run left beside the PAM
// file, where libpam could take them for services: temporary files are
// removed, backups (FILE.ringfence-bak) moved to the backup directory.
void tidy(const Context& ctx, const std::string& dir) {
    for (const std::string& t : remove_stale_temporaries(ctx, dir)) {
        ctx.info("removed " + t + ", a temporary file left by an interrupted run");
    }
    const std::string suffix = ".ringfence-bak";
    for (const std::string& n : list_directory(ctx, dir)) {
        if (n.size() <= suffix.size() || n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0) {
            continue;
        }
        std::string p = (dir == "/" ? "" : dir) + "/" + n;
        FileContent old;
        std::string err;
        if (read_file(ctx, p, core::FinalLink::keep, kMaxPamFile, &old, &err) != ReadOutcome::ok) {
            continue;
        }
        std::optional<std::string> moved = write_backup(ctx, old, &err);
        if (!moved || !remove_file(ctx, p, &err)) {
            ctx.warning(err + "; " + old.path + " stays");
            continue;
        }
        ctx.info("moved the old backup " + old.path + " to " + *moved);
    }
}

// Reads and parses the PAM file. Returns an Exit code, or -1 to continue.
int load(const Context& ctx, Loaded* out) {
    std::string target = pam_file(ctx);
    if (target.empty() || target[0] != '/') {
        ctx.error("--file must be a name in /etc/pam.d or an absolute path");
        return kUsage;
    }
    std::string err;
    switch (read_file(ctx, target, core::FinalLink::follow, kMaxPamFile, &out->content, &err)) {
        case ReadOutcome::ok:
            break;
        case ReadOutcome::missing: {
            std::optional<std::string> real = resolve(ctx, target, core::FinalLink::follow, &err);
            std::string via = real && *real != target ? " (a link to " + ctx.host_path(*real) + ")" : "";
            ctx.error(ctx.host_path(target) + via + ": no such file; nothing changed");
            return kRefused;
        }
        case ReadOutcome::error:
            ctx.error(err + "; nothing changed");
            return kRefused;
    }
    const FileContent& c = out->content;
    out->shown = c.path;
    if (c.system_path != target) {
        ctx.info(ctx.host_path(target) + " is a link to " + c.path);
    }
    tidy(ctx, c.system_path.substr(0, std::max<size_t>(c.system_path.rfind('/'), 1)));
    core::Diagnostics diags;
    bool ok = pam::parse(c.path, c.bytes, &out->stack, &diags);
    for (const core::Diagnostic& d : diags) {
        std::fputs(d.full().c_str(), stderr);
    }
    if (!ok) {
        ctx.error(c.path + ": cannot parse the file with confidence; nothing changed");
        return kRefused;
    }
    if (c.system_path.compare(0, 16, "/etc/authselect/") == 0) {
        out->stack.authselect = true;
    }
    return -1;
}

int commit(const Context& ctx, const Loaded& l, const pam::Plan& plan) {
    std::string err;
    std::optional<std::string> backup = write_backup(ctx, l.content, &err);
    if (!backup) {
        ctx.error(err + "; nothing changed");
        return kFailed;
    }
    if (!write_file_atomic(ctx, l.content.system_path, plan.bytes, &l.content, l.content.mode, &err)) {
        ctx.error(err + "; " + l.shown + " is unchanged");
        return kFailed;
    }
    ctx.info(plan.message);
    ctx.info("backup of the previous file: " + *backup);
    return kOk;
}

}  // namespace

int enable_pam(const Context& ctx) {
    ModuleOptions m = module_options(ctx.options().module_options);
    if (!m.bad_option.empty()) {
        ctx.error("unknown pam_ringfence option '" + core::escape_for_log(m.bad_option, 60) +
                  "' in --module-options (see pam_ringfence(8))");
        return kUsage;
    }
    std::string module_line = std::string("account ") + kControl + " pam_ringfence.so";
    for (const std::string& a : core::split_words(ctx.options().module_options)) {
        module_line += " " + a;
    }

    Loaded l;
    int rc = load(ctx, &l);
    if (rc >= 0) {
        return rc;
    }
    if (l.stack.authselect) {
        // Check the policy anyway: the admin will need it to be valid.
        bool valid = lint_access(ctx, m);
        print_authselect_steps(ctx, l.shown, module_line);
        if (!valid) {
            ctx.note("First fix the errors in the access policy shown above.");
        }
        return kManual;
    }
    pam::Plan plan = pam::plan_enable(l.stack, module_line);
    for (const std::string& w : plan.warnings) {
        ctx.warning(w);
    }
    if (plan.kind == pam::Plan::Kind::nothing_to_do) {
        ctx.info(plan.message + "; nothing changed");
        // Still worth knowing: a broken policy refuses every login right now.
        std::vector<pam::Presence> present = pam::find_ringfence(l.stack);
        std::string args;
        for (const pam::Line& line : l.stack.lines) {
            if (!present.empty() && line.number == present[0].line) {
                for (const std::string& a : line.args) {
                    args += a + " ";
                }
            }
        }
        ModuleOptions active = module_options(args);
        if (active.bad_option.empty() && !lint_access(ctx, active)) {
            ctx.error("pam_ringfence is enabled with this policy: it refuses every login now");
            return kRefused;
        }
        return kOk;
    }
    if (plan.kind == pam::Plan::Kind::refuse) {
        ctx.error(plan.message + "; nothing changed");
        return kRefused;
    }
    // The policy first: a line that enforces a broken policy locks everyone out.
    if (!lint_access(ctx, m)) {
        return kRefused;
    }
    if (l.stack.authconfig) {
        ctx.warning(l.shown + " says it is generated by authconfig: 'authconfig --update' (and system-config "
                              "tools) rewrite it and drop the line; check with 'ringfence status' after using them");
    }
    rc = commit(ctx, l, plan);
    if (rc != kOk) {
        return rc;
    }
    for (const std::string& n : plan.notes) {
        ctx.info("note: " + n);
    }
    const std::string& sys = l.content.system_path;
    if (sys == "/etc/pam.d/system-auth" || sys == "/etc/pam.d/system-auth-ac") {
        ctx.info("note: remote logins (sshd) go through password-auth on RHEL: also run "
                 "'ringfence enable pam --file password-auth'");
    }
    ctx.info("Keep this root session open and try a new login now; undo with 'ringfence disable pam" +
             std::string(ctx.options().file.empty() ? "" : " --file " + ctx.options().file) + "'.");
    return kOk;
}

int disable_pam(const Context& ctx) {
    Loaded l;
    int rc = load(ctx, &l);
    if (rc >= 0) {
        return rc;
    }
    pam::Plan plan = pam::plan_disable(l.stack);
    for (const std::string& w : plan.warnings) {
        ctx.warning(w);
    }
    if (plan.kind == pam::Plan::Kind::nothing_to_do) {
        ctx.info(plan.message + "; nothing changed");
        return kOk;
    }
    if (plan.kind == pam::Plan::Kind::refuse) {
        ctx.error(plan.message);
        return kRefused;
    }
    return commit(ctx, l, plan);
}

std::string status_pam(const Context& ctx) {
    std::string out;
    bool any = false;
    for (const char* f : {"/etc/pam.d/system-auth", "/etc/pam.d/password-auth"}) {
        std::string err;
        FileContent c;
        std::string name = std::string(f).substr(11);
        if (read_file(ctx, f, core::FinalLink::follow, kMaxPamFile, &c, &err) != ReadOutcome::ok) {
            out += (out.empty() ? "" : ", ") + name + " missing or unreadable";
            continue;
        }
        pam::Stack st;
        core::Diagnostics diags;
        pam::parse(c.path, c.bytes, &st, &diags);
        std::vector<pam::Presence> p = pam::find_ringfence(st);
        if (p.empty()) {
            out += (out.empty() ? "" : ", ") + name + " no";
        } else {
            any = true;
            out += (out.empty() ? "" : ", ") + name + " line " + std::to_string(p[0].line) +
                   (p[0].ours ? "" : " (by hand)");
        }
    }
    return std::string(any ? "enabled" : "not enabled") + " (" + out + ")";
}

}  // namespace ringfence::cli
