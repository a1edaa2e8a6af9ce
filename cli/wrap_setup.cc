// SPDX-License-Identifier: BSD-3-Clause
// `ringfence enable wrap DAEMON` / `disable wrap DAEMON`: a systemd drop-in
// (/etc/systemd/system/DAEMON.service.d/ringfence.conf) that starts the
// vendor's command through ringfence-wrap, as in
// etc/systemd/vmware-hostd.service.d/ringfence.conf. hosts.allow and
// hosts.deny are compiled first: ringfence-wrap would refuse to start the
// daemon with a broken policy. systemctl is never run here; the admin
// reloads and restarts when ready.
#include <dirent.h>
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "cli/commands.h"
#include "cli/policies.h"
#include "cli/unit_file.h"
#include "core/diagnostic.h"
#include "core/text.h"
#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/hosts_explain.h"

#ifndef RINGFENCE_SBINDIR
#define RINGFENCE_SBINDIR "/usr/sbin"
#endif

namespace ringfence::cli {

namespace {

constexpr size_t kMaxUnitFile = 1u << 20;
constexpr const char* kDropinName = "ringfence.conf";
constexpr const char* kDropinMarker = "# Written by 'ringfence enable wrap ";
const char* const kUnitDirs[] = {"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"};
const char* const kDropinDirs[] = {"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system",
                                   "/lib/systemd/system"};

bool valid_daemon_name(const std::string& d) {
    if (d.empty() || d.size() > 200 || d[0] == '.' || d[0] == '-') {
        return false;
    }
    return d.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") ==
           std::string::npos;
}

std::string dropin_path(const std::string& daemon) {
    return "/etc/systemd/system/" + daemon + ".service.d/" + kDropinName;
}

// Compiles hosts.allow and hosts.deny (under --root, pattern files too).
// False: errors printed.
bool lint_hosts(const Context& ctx, const std::string& daemon) {
    std::string err;
    core::Diagnostics diags;
    std::optional<HostsPolicy> hosts = load_hosts_policy(ctx, &diags, &err);
    if (!hosts) {
        ctx.error(err + "; nothing changed");
        return false;
    }
    for (const core::Diagnostic& d : diags) {
        std::fputs(d.full().c_str(), stderr);
    }
    if (!hosts->valid()) {
        ctx.error("hosts.allow / hosts.deny have errors: ringfence-wrap would refuse to start " + daemon +
                  "; nothing changed. Check them with ringfence-tcpdchk.");
        return false;
    }
    const std::shared_ptr<const tcpd::Policy>& policy = hosts->policy;
    // The library's daemon-list matcher (EXCEPT and wildcards included);
    // daemon@host counts, as the rule applies on some server address.
    bool named = !tcpd::rules_for_daemon(*policy, daemon).empty();
    if (!named) {
        ctx.warning("no rule in hosts.allow or hosts.deny applies to '" + daemon +
                    "': every client will be allowed. For example\n    /etc/hosts.allow:  " + daemon +
                    ": 192.168.10.0/24\n    /etc/hosts.deny:   " + daemon + ": ALL");
    } else {
        ctx.info("hosts.allow / hosts.deny checked: " + std::to_string(policy->rules().size()) +
                 " rule(s), no errors");
    }
    return true;
}

std::vector<std::string> conf_files(const Context& ctx, const std::string& dir) {
    std::vector<std::string> out;
    for (const std::string& n : list_directory(ctx, dir)) {
        if (n.size() > 5 && n[0] != '.' && n.compare(n.size() - 5, 5, ".conf") == 0) {
            out.push_back(n);
        }
    }
    return out;
}

struct VendorCommand {
    std::string unit_file;  // path on this machine ("" when no unit was found)
    std::vector<unit::Assignment> exec_start;
    std::vector<std::string> dropins;  // other drop-ins read
};

// Reads the unit and its drop-ins (other than ours) in systemd's order.
// Returns an Exit code on failure, -1 on success.
int read_vendor_command(const Context& ctx, const std::string& daemon, VendorCommand* out) {
    std::vector<unit::Assignment> all;
    core::Diagnostics diags;
    std::string err;
    for (const char* dir : kUnitDirs) {
        std::string sys = std::string(dir) + "/" + daemon + ".service";
        if (!exists(ctx, sys)) {
            continue;
        }
        std::string p = ctx.host_path(sys);
        std::optional<std::string> real = resolve(ctx, sys, core::FinalLink::follow, &err);
        if (!real) {
            ctx.error(err + "; nothing changed");
            return kRefused;
        }
        if (*real == "/dev/null") {
            ctx.error(p + " is masked (a link to /dev/null); nothing changed");
            return kRefused;
        }
        FileContent c;
        ReadOutcome r = read_file(ctx, sys, core::FinalLink::follow, kMaxUnitFile, &c, &err);
        if (r != ReadOutcome::ok) {
            ctx.error((r == ReadOutcome::missing ? p + ": a link to a file that does not exist" : err) +
                      "; nothing changed");
            return kRefused;
        }
        out->unit_file = p;
        unit::parse(p, c.bytes, &all, &diags);
        break;
    }
    std::map<std::string, std::string> by_name;
    for (const char* dir : kDropinDirs) {
        std::string d = std::string(dir) + "/" + daemon + ".service.d";
        for (const std::string& n : conf_files(ctx, d)) {
            by_name.emplace(n, d + "/" + n);  // the first directory wins
        }
    }
    by_name.erase(kDropinName);
    for (const auto& [name, sys] : by_name) {
        FileContent c;
        std::string p = ctx.host_path(sys);
        ReadOutcome r = read_file(ctx, sys, core::FinalLink::follow, kMaxUnitFile, &c, &err);
        if (r != ReadOutcome::ok) {
            ctx.error((r == ReadOutcome::missing ? p + ": a link to a file that does not exist" : err) +
                      "; nothing changed");
            return kRefused;
        }
        out->dropins.push_back(p);
        unit::parse(p, c.bytes, &all, &diags);
    }
    for (const core::Diagnostic& d : diags) {
        ctx.warning(d.one_line() + " (line ignored, as systemd does)");
    }
    out->exec_start = unit::effective_list(all, "Service", "ExecStart");
    return -1;
}

std::string dropin_text(const std::string& daemon, const std::string& from, const std::string& prefix,
                        const std::string& command) {
    std::string wrap = std::string(RINGFENCE_SBINDIR) + "/ringfence-wrap";
    std::string s;
    s += std::string(kDropinMarker) + daemon + "'.\n";
    s += "# 'ringfence disable wrap " + daemon + "' removes it; do not edit it by hand (write your own\n";
    s += "# drop-in next to it instead, or use --exec).\n";
    s += "#\n";
    s += "# Runs " + daemon + " through ringfence-wrap: every TCP connection it accepts is\n";
    s += "# checked against /etc/hosts.allow and /etc/hosts.deny under the daemon name\n";
    s += "# \"" + daemon + "\" (see ringfence-wrap(8)). The command comes from\n";
    s += "# " + from + "\n";
    s += "# After a vendor update that changes it, run 'ringfence enable wrap " + daemon + "' again:\n";
    s += "# this file keeps running the command below.\n";
    s += "[Service]\n";
    s += "ExecStart=\n";
    s += "ExecStart=" + prefix + wrap + " --name " + daemon + " -- " + command + "\n";
    s += "# If the command above is a script or a supervisor that starts the real\n";
    s += "# daemon, the preload must be passed on to its children:\n";
    s += "#Environment=RINGFENCE_PRELOAD_INHERIT=1\n";
    return s;
}

int print_sysv_recipe(const Context& ctx, const std::string& daemon) {
    ctx.error("this host does not run systemd: there is no unit to extend with a drop-in. Nothing changed.");
    std::string s;
    s += "On a SysV host, start " + daemon + " through a script of its own that runs the vendor's\n";
    s += "script under ringfence-wrap (the example vmware-hostd-ringfence.example in the ringfence\n";
    s += "documentation directory, see ringfence-wrap(8)):\n\n";
    s += "  ringfence-tcpdchk                       # hosts.allow / hosts.deny without errors\n";
    s += "  cp vmware-hostd-ringfence.example /etc/rc.d/init.d/" + daemon + "-ringfence\n";
    s += "  chmod 755 /etc/rc.d/init.d/" + daemon + "-ringfence\n";
    s += "  # in that file: VENDOR_SCRIPT=/etc/rc.d/init.d/" + daemon + ", --name " + daemon +
         ", and the\n  # chkconfig/Provides lines renamed to " + daemon + "-ringfence\n";
    s += "  chkconfig --add " + daemon + "-ringfence\n";
    s += "  chkconfig " + daemon + "-ringfence on\n";
    s += "  chkconfig " + daemon + " off\n";
    s += "  service " + daemon + " stop; service " + daemon + "-ringfence start\n\n";
    s += "Undo: chkconfig " + daemon + "-ringfence off; chkconfig --del " + daemon + "-ringfence; chkconfig " +
         daemon + " on;\n      service " + daemon + "-ringfence stop; service " + daemon + " start";
    ctx.note(s);
    return kManual;
}

std::string strip_service(std::string d) {
    if (d.size() > 8 && d.compare(d.size() - 8, 8, ".service") == 0) {
        d.resize(d.size() - 8);
    }
    return d;
}

}  // namespace

int enable_wrap(const Context& ctx, const std::string& daemon_arg) {
    std::string daemon = strip_service(daemon_arg);
    if (!valid_daemon_name(daemon)) {
        ctx.error("'" + core::escape_for_log(daemon_arg, 60) +
                  "' is not a service name (letters, digits, '_', '.', ':', '-'; no templates)");
        return kUsage;
    }
    if (!ctx.systemd()) {
        return print_sysv_recipe(ctx, daemon);
    }
    std::string target_sys = dropin_path(daemon);
    std::string target = ctx.host_path(target_sys);

    VendorCommand vendor;
    int rc = read_vendor_command(ctx, daemon, &vendor);
    if (rc >= 0) {
        return rc;
    }
    std::string prefix;
    std::string command;
    std::string from;
    if (ctx.options().exec) {
        command = std::string(core::trim(*ctx.options().exec));
        if (command.empty() || command.find('\n') != std::string::npos) {
            ctx.error("--exec needs a command on one line");
            return kUsage;
        }
        if (vendor.unit_file.empty()) {
            ctx.warning(daemon + ".service: no unit file in /etc/systemd/system, /usr/lib/systemd/system or "
                                 "/lib/systemd/system; the drop-in only works if systemd has such a unit "
                                 "(for example one generated from an init script)");
        }
        from = "the --exec option";
    } else {
        if (vendor.unit_file.empty()) {
            ctx.error(daemon + ".service: no such unit in " + ctx.host_path("/etc/systemd/system") + ", " +
                      ctx.host_path("/usr/lib/systemd/system") + " or " + ctx.host_path("/lib/systemd/system") +
                      " (give the command with --exec); nothing changed");
            return kRefused;
        }
        if (vendor.exec_start.empty()) {
            ctx.error(vendor.unit_file + ": no ExecStart= line; give the command with --exec 'CMD ARGS'. "
                                         "Nothing changed.");
            return kRefused;
        }
        if (vendor.exec_start.size() > 1) {
            std::string where;
            for (const unit::Assignment& a : vendor.exec_start) {
                where += "\n    " + a.file + ":" + std::to_string(a.line) + ": ExecStart=" + a.value;
            }
            ctx.error(daemon + ".service has " + std::to_string(vendor.exec_start.size()) +
                      " ExecStart= lines; say which command starts the daemon with --exec 'CMD ARGS'. "
                      "Nothing changed." + where);
            return kRefused;
        }
        const unit::Assignment& a = vendor.exec_start[0];
        unit::split_exec_prefix(a.value, &prefix, &command);
        if (prefix.find('@') != std::string::npos) {
            ctx.error(a.file + ":" + std::to_string(a.line) +
                      ": ExecStart=@ sets argv[0], which ringfence-wrap cannot pass on; give the command with "
                      "--exec. Nothing changed.");
            return kRefused;
        }
        if (command.find("ringfence-wrap") != std::string::npos) {
            ctx.info(a.file + ":" + std::to_string(a.line) + ": already runs ringfence-wrap; nothing changed");
            return kOk;
        }
        from = ctx.system_path(a.file) + ":" + std::to_string(a.line) + ":\n#   ExecStart=" + a.value;
    }
    std::string text = dropin_text(daemon, from, prefix, command);

    FileContent old;
    std::string err;
    ReadOutcome r = read_file(ctx, target_sys, core::FinalLink::keep, kMaxUnitFile, &old, &err);
    if (r == ReadOutcome::error) {
        ctx.error(err + "; nothing changed");
        return kRefused;
    }
    if (r == ReadOutcome::ok) {
        if (old.bytes.compare(0, std::string(kDropinMarker).size(), kDropinMarker) != 0) {
            ctx.error(target + ": exists and was not written by ringfence; it is left alone. Remove or rename "
                               "it first. Nothing changed.");
            return kRefused;
        }
        if (old.bytes == text) {
            ctx.info(target + ": already enabled; nothing changed");
            return kOk;
        }
    }
    if (!lint_hosts(ctx, daemon)) {
        return kInvalid;
    }
    if (!make_directories(ctx, "/etc/systemd/system/" + daemon + ".service.d", &err)) {
        ctx.error(err);
        return kFailed;
    }
    if (r == ReadOutcome::ok) {
        // Generated text, no backup: the old command is shown instead.
        std::string before;
        size_t at = old.bytes.rfind("\nExecStart=");
        if (at != std::string::npos) {
            before = old.bytes.substr(at + 1, old.bytes.find('\n', at + 1) - at - 1);
        }
        ctx.info(target + ": the command changed since the last 'enable wrap'; it was\n  " + before);
    }
    if (!write_file_atomic(ctx, target_sys, text, r == ReadOutcome::ok ? &old : nullptr, 0644, &err)) {
        ctx.error(err + "; nothing changed");
        return kFailed;
    }
    ctx.info("wrote " + target + ":\n  ExecStart=" + prefix + RINGFENCE_SBINDIR + "/ringfence-wrap --name " +
             daemon + " -- " + command);
    ctx.info("next step: systemctl daemon-reload && systemctl restart " + daemon);
    ctx.info("then check: grep -l libringfence-preload /proc/$(systemctl show -p MainPID --value " + daemon +
             ")/maps");
    return kOk;
}

int disable_wrap(const Context& ctx, const std::string& daemon_arg) {
    std::string daemon = strip_service(daemon_arg);
    if (!valid_daemon_name(daemon)) {
        ctx.error("'" + core::escape_for_log(daemon_arg, 60) + "' is not a service name");
        return kUsage;
    }
    std::string target_sys = dropin_path(daemon);
    std::string target = ctx.host_path(target_sys);
    FileContent old;
    std::string err;
    switch (read_file(ctx, target_sys, core::FinalLink::keep, kMaxUnitFile, &old, &err)) {
        case ReadOutcome::missing:
            ctx.info(target + ": not enabled (no ringfence drop-in); nothing changed");
            return kOk;
        case ReadOutcome::error:
            ctx.error(err + "; nothing changed");
            return kRefused;
        case ReadOutcome::ok:
            break;
    }
    if (old.bytes.compare(0, std::string(kDropinMarker).size(), kDropinMarker) != 0) {
        ctx.error(target + ": was not written by ringfence; remove it by hand. Nothing changed.");
        return kRefused;
    }
    // Generated text, no backup (enable writes the same file again).
    if (!remove_file(ctx, target_sys, &err)) {
        ctx.error(err);
        return kFailed;
    }
    remove_directory_if_empty(ctx, "/etc/systemd/system/" + daemon + ".service.d");  // other drop-ins stay
    ctx.info("removed " + target);
    ctx.info("next step: systemctl daemon-reload && systemctl restart " + daemon);
    return kOk;
}

std::string status_wrap(const Context& ctx) {
    std::vector<std::string> wrapped;
    for (const std::string& n : list_directory(ctx, "/etc/systemd/system")) {
        if (n.size() > 10 && n.compare(n.size() - 10, 10, ".service.d") == 0) {
            FileContent c;
            std::string err;
            if (read_file(ctx, "/etc/systemd/system/" + n + "/" + kDropinName, core::FinalLink::keep, kMaxUnitFile,
                          &c, &err) == ReadOutcome::ok &&
                c.bytes.find("ringfence-wrap") != std::string::npos) {
                wrapped.push_back(n.substr(0, n.size() - 10));
            }
        }
    }
    if (wrapped.empty()) {
        return "no daemon wrapped";
    }
    std::string out = "enabled for";
    for (const std::string& w : wrapped) {
        out += " " + w;
    }
    return out;
}

}  // namespace ringfence::cli
