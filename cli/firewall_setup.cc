// SPDX-License-Identifier: BSD-3-Clause
// `ringfence enable firewall` / `disable firewall`: the boot unit
// ringfence-firewall.service (systemd) or the SysV script ringfence-firewall,
// after the firewall library (the checker of `ringfence-firewall check`) has
// accepted /etc/ringfence/firewall.conf.
//
// On the running system the distribution's tools do the work (systemctl
// enable/disable, chkconfig), run with execve and no shell. Under --root
// nothing is run: the links those tools would make are made here, in the
// tree.
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <sstream>

#include "cli/commands.h"
#include "cli/policies.h"
#include "cli/unit_file.h"
#include "core/config_file.h"
#include "core/diagnostic.h"
#include "core/exit_status.h"
#include "core/text.h"
#include "iptables_helper/lint.h"

namespace ringfence::cli {

namespace {

constexpr const char* kUnit = "ringfence-firewall.service";
constexpr const char* kScript = "ringfence-firewall";
const char* const kUnitDirs[] = {"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"};

// Checks the policy with the firewall library, as `ringfence-firewall check`
// does: what boot would refuse is refused here. The policy and its set
// files are read inside the tree (an absolute set path names a file of the
// managed system). -1: valid, warnings or not; else an Exit code.
int check_policy(const Context& ctx) {
    std::string err;
    bool missing = false;
    std::optional<firewall::CheckReport> checked = check_firewall_policy(ctx, &missing, &err);
    const std::string policy = ctx.host_path(kFirewallPolicy);
    if (missing) {
        ctx.error(policy + ": no such file: write the firewall policy first (see ringfence-firewall(8)); "
                           "nothing changed");
        return kRefused;
    }
    if (!checked) {
        ctx.error(err + "; nothing changed");
        return kRefused;
    }
    const firewall::CheckReport& report = *checked;
    for (const core::Diagnostic& d : report.diagnostics) {
        std::string text = d.full();
        std::fprintf(stderr, "%s%s", text.c_str(), !text.empty() && text.back() == '\n' ? "" : "\n");
    }
    if (report.exit_status() == core::kExitInvalid) {
        ctx.error(policy + " has errors (above): at boot the firewall would not load it; nothing changed");
        return kInvalid;
    }
    if (report.warnings > 0) {
        ctx.warning(policy + ": " + std::to_string(report.warnings) +
                    (report.warnings == 1 ? " warning" : " warnings") +
                    " (above): the firewall loads it as written");
    }
    return -1;
}

// ---------------------------------------------------------------------------
// systemd

struct UnitInfo {
    std::string system_file;        // in the managed system (symlink target)
    std::vector<std::string> wants; // WantedBy= targets
    std::vector<std::string> requires_;  // RequiredBy=
};

// -1 when found and parsed; else an Exit code.
int find_unit(const Context& ctx, UnitInfo* u) {
    std::string local = std::string("/etc/systemd/system/") + kUnit;
    if (is_symlink(ctx, local)) {
        std::string err;
        std::optional<std::string> real = resolve(ctx, local, core::FinalLink::follow, &err);
        if (!real || *real == "/dev/null") {
            ctx.error(ctx.host_path(local) + " is masked (a link to /dev/null): 'systemctl unmask " + kUnit +
                      "' first if you mean it; nothing changed");
            return kRefused;
        }
    }
    for (const char* dir : kUnitDirs) {
        std::string sys = std::string(dir) + "/" + kUnit;
        std::string host = ctx.host_path(sys);
        if (!exists(ctx, sys) || is_symlink(ctx, sys)) {
            continue;
        }
        FileContent c;
        std::string err;
        if (read_file(ctx, sys, core::FinalLink::keep, 1u << 20, &c, &err) != ReadOutcome::ok) {
            ctx.error(err + "; nothing changed");
            return kRefused;
        }
        std::vector<unit::Assignment> all;
        core::Diagnostics diags;
        unit::parse(host, c.bytes, &all, &diags);
        for (const unit::Assignment& a : unit::effective_list(all, "Install", "WantedBy")) {
            for (const std::string& w : core::split_words(a.value)) {
                u->wants.push_back(w);
            }
        }
        for (const unit::Assignment& a : unit::effective_list(all, "Install", "RequiredBy")) {
            for (const std::string& w : core::split_words(a.value)) {
                u->requires_.push_back(w);
            }
        }
        u->system_file = sys;
        if (u->wants.empty() && u->requires_.empty()) {
            ctx.error(host + ": no WantedBy= or RequiredBy= in [Install]: it cannot be enabled; nothing changed");
            return kRefused;
        }
        return -1;
    }
    ctx.error(std::string(kUnit) + " is not installed (not in " + ctx.host_path("/etc/systemd/system") + ", " +
              ctx.host_path("/usr/lib/systemd/system") + " or " + ctx.host_path("/lib/systemd/system") +
              "); install the ringfence package; nothing changed");
    return kRefused;
}

// Paths in the managed system.
std::vector<std::string> wanted_links(const UnitInfo& u) {
    std::vector<std::string> out;
    for (const std::string& t : u.wants) {
        out.push_back("/etc/systemd/system/" + t + ".wants/" + kUnit);
    }
    for (const std::string& t : u.requires_) {
        out.push_back("/etc/systemd/system/" + t + ".requires/" + kUnit);
    }
    return out;
}

// Every *.wants / *.requires link to the unit under /etc/systemd/system.
std::vector<std::string> existing_links(const Context& ctx) {
    std::vector<std::string> out;
    const std::string dir = "/etc/systemd/system";
    for (const std::string& n : list_directory(ctx, dir)) {
        bool wants = n.size() > 6 && n.compare(n.size() - 6, 6, ".wants") == 0;
        bool reqs = n.size() > 9 && n.compare(n.size() - 9, 9, ".requires") == 0;
        if ((wants || reqs) && is_symlink(ctx, dir + "/" + n + "/" + kUnit)) {
            out.push_back(dir + "/" + n + "/" + kUnit);
        }
    }
    return out;
}

std::string systemctl() { return find_program({"/usr/bin/systemctl", "/bin/systemctl"}); }

// Runs argv (no shell), saying so; kFailed with the reason when it fails.
int run_logged(const Context& ctx, const std::vector<std::string>& argv) {
    ctx.info("running: " + shell_quote(argv));
    std::string err;
    int st = run_program(argv, &err);
    if (st != 0) {
        ctx.error("'" + shell_quote(argv) + "' failed" +
                  (st < 0 ? ": " + err : " (exit status " + std::to_string(st) + ")"));
        return kFailed;
    }
    return kOk;
}

// `systemctl VERB ringfence-firewall.service` on the real host.
int run_systemctl(const Context& ctx, const char* verb) {
    std::string sc = systemctl();
    if (sc.empty()) {
        ctx.error("systemctl not found; nothing changed");
        return kFailed;
    }
    return run_logged(ctx, {sc, verb, kUnit});
}

int enable_systemd(const Context& ctx) {
    UnitInfo u;
    int rc = find_unit(ctx, &u);
    if (rc >= 0) {
        return rc;
    }
    std::vector<std::string> links = wanted_links(u);
    bool all = true;
    for (const std::string& l : links) {
        all = all && is_symlink(ctx, l);
    }
    if (all) {
        ctx.info(std::string(kUnit) + ": already enabled; nothing changed");
        return kOk;
    }
    rc = check_policy(ctx);
    if (rc >= 0) {
        return rc;
    }
    if (is_symlink(ctx, "/etc/systemd/system/multi-user.target.wants/firewalld.service")) {
        ctx.warning("firewalld is enabled at boot: ringfence-firewall refuses to load while firewalld runs "
                    "(systemctl disable --now firewalld)");
    }
    std::string err;
    if (!ctx.has_root()) {
        if (int failed = run_systemctl(ctx, "enable")) {
            return failed;
        }
    } else {
        for (const std::string& l : links) {
            std::string dir = l.substr(0, l.rfind('/'));
            if (!make_directories(ctx, dir, &err)) {
                ctx.error(err);
                return kFailed;
            }
            if (is_symlink(ctx, l)) {
                continue;
            }
            if (!make_symlink(ctx, u.system_file, l, &err)) {
                ctx.error(err);
                return kFailed;
            }
            ctx.info("created " + ctx.host_path(l) + " -> " + u.system_file);
        }
    }
    ctx.info(std::string(kUnit) + " enabled: the firewall is loaded at the next boot. To load it now: "
             "ringfence-firewall apply --confirm 120 (then ringfence-firewall confirm)");
    return kOk;
}

int disable_systemd(const Context& ctx) {
    std::vector<std::string> links = existing_links(ctx);
    if (links.empty()) {
        ctx.info(std::string(kUnit) + ": not enabled; nothing changed");
        return kOk;
    }
    std::string err;
    if (!ctx.has_root()) {
        if (int failed = run_systemctl(ctx, "disable")) {
            return failed;
        }
    } else {
        for (const std::string& l : links) {
            if (!remove_file(ctx, l, &err)) {
                ctx.error(err);
                return kFailed;
            }
            ctx.info("removed " + ctx.host_path(l));
            remove_directory_if_empty(ctx, l.substr(0, l.rfind('/')));
        }
    }
    ctx.info(std::string(kUnit) + " disabled: not loaded at the next boot. The rules loaded now stay until "
             "'ringfence-firewall flush' or a reboot.");
    return kOk;
}

// ---------------------------------------------------------------------------
// SysV (chkconfig)

struct Script {
    std::string file;      // in the managed system
    std::string rc_base;   // /etc/rc.d or /etc: holds rcN.d
    std::string levels;    // from "# chkconfig: LEVELS START STOP"
    int start = 0;
    int stop = 0;
};

int find_script(const Context& ctx, Script* s) {
    for (const char* dir : {"/etc/rc.d/init.d", "/etc/init.d"}) {
        std::string sys = std::string(dir) + "/" + kScript;
        std::string p = ctx.host_path(sys);
        FileContent c;
        std::string err;
        ReadOutcome r = read_file(ctx, sys, core::FinalLink::keep, 1u << 20, &c, &err);
        if (r == ReadOutcome::missing || (r == ReadOutcome::error && is_symlink(ctx, sys))) {
            continue;
        }
        if (r == ReadOutcome::error) {
            ctx.error(err + "; nothing changed");
            return kRefused;
        }
        s->file = sys;
        s->rc_base = is_directory(ctx, "/etc/rc.d/rc3.d") || is_directory(ctx, "/etc/rc.d") ? "/etc/rc.d" : "/etc";
        std::istringstream in(c.bytes);
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            ++n;
            size_t at = line.find("chkconfig:");
            if (line.empty() || line[0] != '#' || at == std::string::npos) {
                continue;
            }
            std::vector<std::string> w = core::split_words(line.substr(at + 10));
            if (w.size() != 3 || w[1].find_first_not_of("0123456789") != std::string::npos ||
                w[2].find_first_not_of("0123456789") != std::string::npos ||
                (w[0] != "-" && w[0].find_first_not_of("0123456") != std::string::npos)) {
                ctx.error(p + ":" + std::to_string(n) + ": bad chkconfig header (expected "
                                                        "'# chkconfig: LEVELS START STOP'); nothing changed");
                return kRefused;
            }
            s->levels = w[0] == "-" ? "2345" : w[0];  // chkconfig on: 2345 by default
            s->start = std::stoi(w[1]);
            s->stop = std::stoi(w[2]);
            return -1;
        }
        ctx.error(p + ": no '# chkconfig:' header; nothing changed");
        return kRefused;
    }
    ctx.error(std::string("the init script ") + kScript + " is not installed (not in " +
              ctx.host_path("/etc/rc.d/init.d") + " or " + ctx.host_path("/etc/init.d") + "); nothing changed");
    return kRefused;
}

std::string two_digits(int n) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d", n % 100);
    return buf;
}

// The S/K link of the script in rcN.d ("" when none), in the managed system.
std::string rc_link(const Context& ctx, const Script& s, int level, char kind) {
    std::string dir = s.rc_base + "/rc" + std::to_string(level) + ".d";
    std::string found;
    for (const std::string& n : list_directory(ctx, dir)) {
        if (n.size() == 3 + std::strlen(kScript) && n[0] == kind && n.compare(3, std::string::npos, kScript) == 0) {
            found = dir + "/" + n;
        }
    }
    return found;
}

bool sysv_enabled(const Context& ctx, std::string* where) {
    Script s;
    s.rc_base = is_directory(ctx, "/etc/rc.d") ? "/etc/rc.d" : "/etc";
    for (int level : {2, 3, 4, 5}) {
        std::string l = rc_link(ctx, s, level, 'S');
        if (!l.empty()) {
            *where = ctx.host_path(l);
            return true;
        }
    }
    return false;
}

// chkconfig --add + on, or off, done in the tree: for each runlevel 0..6,
// one link, S (start) where enabled, K (kill) elsewhere.
int set_links(const Context& ctx, const Script& s, bool on) {
    std::string err;
    for (int level = 0; level <= 6; ++level) {
        bool start = on && s.levels.find(static_cast<char>('0' + level)) != std::string::npos;
        std::string dir = s.rc_base + "/rc" + std::to_string(level) + ".d";
        std::string want = dir + "/" + (start ? "S" + two_digits(s.start) : "K" + two_digits(s.stop)) + kScript;
        for (char kind : {'S', 'K'}) {
            std::string have = rc_link(ctx, s, level, kind);
            if (!have.empty() && have != want) {
                if (!remove_file(ctx, have, &err)) {
                    ctx.error(err);
                    return kFailed;
                }
                ctx.info("removed " + ctx.host_path(have));
            }
        }
        if (is_symlink(ctx, want)) {
            continue;
        }
        if (!make_directories(ctx, dir, &err)) {
            ctx.error(err);
            return kFailed;
        }
        std::string target = std::string("../init.d/") + kScript;
        if (!make_symlink(ctx, target, want, &err)) {
            ctx.error(err);
            return kFailed;
        }
        ctx.info("created " + ctx.host_path(want) + " -> " + target);
    }
    return kOk;
}

std::string chkconfig() { return find_program({"/sbin/chkconfig", "/usr/sbin/chkconfig"}); }

int run_chkconfig(const Context& ctx, const std::vector<std::vector<std::string>>& commands) {
    std::string cc = chkconfig();
    if (cc.empty()) {
        ctx.error("chkconfig not found; nothing changed. Enable the init script " + std::string(kScript) +
                  " with your distribution's tool (update-rc.d, rc-update)");
        return kManual;
    }
    for (std::vector<std::string> argv : commands) {
        argv.insert(argv.begin(), cc);
        if (int failed = run_logged(ctx, argv)) {
            return failed;
        }
    }
    return kOk;
}

int enable_sysv(const Context& ctx) {
    Script s;
    int rc = find_script(ctx, &s);
    if (rc >= 0) {
        return rc;
    }
    std::string where;
    if (sysv_enabled(ctx, &where)) {
        ctx.info(std::string(kScript) + ": already enabled (" + where + "); nothing changed");
        return kOk;
    }
    rc = check_policy(ctx);
    if (rc >= 0) {
        return rc;
    }
    rc = ctx.has_root() ? set_links(ctx, s, true)
                        : run_chkconfig(ctx, {{"--add", kScript}, {kScript, "on"}});
    if (rc == kOk) {
        ctx.info(std::string(kScript) + " enabled: the firewall is loaded at the next boot (runlevels " + s.levels +
                 ")");
    }
    return rc;
}

int disable_sysv(const Context& ctx) {
    std::string where;
    if (!sysv_enabled(ctx, &where)) {
        ctx.info(std::string(kScript) + ": not enabled; nothing changed");
        return kOk;
    }
    Script s;
    int rc = find_script(ctx, &s);
    if (rc >= 0) {
        return rc;
    }
    rc = ctx.has_root() ? set_links(ctx, s, false) : run_chkconfig(ctx, {{kScript, "off"}});
    if (rc == kOk) {
        ctx.info(std::string(kScript) + " disabled: not loaded at the next boot. The rules loaded now stay until "
                 "'ringfence-firewall flush' or a reboot.");
    }
    return rc;
}

}  // namespace

int enable_firewall(const Context& ctx) { return ctx.systemd() ? enable_systemd(ctx) : enable_sysv(ctx); }

int disable_firewall(const Context& ctx) { return ctx.systemd() ? disable_systemd(ctx) : disable_sysv(ctx); }

std::string status_firewall(const Context& ctx) {
    if (ctx.systemd()) {
        std::vector<std::string> links = existing_links(ctx);
        if (links.empty()) {
            return std::string("not enabled (") + kUnit + ")";
        }
        std::string out = std::string("enabled (") + kUnit + " in";
        for (const std::string& l : links) {
            std::string dir = l.substr(0, l.rfind('/'));
            out += " " + dir.substr(dir.rfind('/') + 1);
        }
        return out + ")";
    }
    std::string where;
    if (sysv_enabled(ctx, &where)) {
        return "enabled (" + where + ")";
    }
    return std::string("not enabled (init script ") + kScript + ")";
}

}  // namespace ringfence::cli
