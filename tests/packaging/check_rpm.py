#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Packaging tests of the ringfence RPM, run by `make rpm-check`.

  check_rpm.py lint      --topdir DIR --srcdir DIR
  check_rpm.py contents  --topdir DIR
  check_rpm.py lifecycle --topdir DIR

DIR is the rpmbuild topdir of `make rpm` / `make rpm-check` (build-rpm/):
RPMS/<arch>/ringfence-VERSION-1.<arch>.rpm, and for `lifecycle` the second
release ringfence-VERSION-2 that rpm-check builds with a changed default
firewall.conf.

lint      rpmlint on the spec, the source and the binary RPM with
          rpm/rpmlint.toml: no errors; the warnings are printed (each one is
          explained in the spec's header comment).
contents  the package as the spec promises: file list, modes, owners,
          %config(noreplace), nothing owned under /etc/security, /etc/pam.d,
          no hosts.allow/hosts.deny, no .la, scriptlets that leave PAM alone
          and never restart the firewall.
lifecycle install, upgrade and erase into a scratch root with its own rpm
          database, in a private mount and network namespace (scriptlets run
          chrooted there and cannot reach the host's network or firewall;
          the host's rpm database and /etc are never opened for writing).
          Two consoles: one where systemd runs (an edited firewall.conf
          survives the upgrade, .rpmnew appears; erase leaves .rpmsave), one
          without systemd (SysV; an untouched default is replaced silently).
          systemctl, systemd-update-helper and chkconfig are stubs that log
          their arguments, so the test sees what the scriptlets asked for.

Exit 0 when every check passes, 1 otherwise, 77 (skip) when rpmbuild or the
built packages are missing. Prints one line per check and a count summary.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
NAME = "ringfence"


class Checks:
    def __init__(self, title):
        self.title = title
        self.passed = 0
        self.failed = []

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {what}")
        else:
            self.failed.append(what)
            print(f"FAIL  {what}" + (f"\n      {detail}" if detail else ""))
        return ok

    def finish(self):
        total = self.passed + len(self.failed)
        print(f"\n{self.title}: {self.passed}/{total} checks passed, {len(self.failed)} failed")
        for f in self.failed:
            print(f"  failed: {f}")
        return 0 if not self.failed else 1


def skip(why):
    print(f"skipped: {why}")
    sys.exit(SKIP)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw)


def find_rpm(topdir, release, src=False):
    pattern = (f"{topdir}/SRPMS/{NAME}-*-{release}*.src.rpm" if src
               else f"{topdir}/RPMS/*/{NAME}-[0-9]*-{release}*.rpm")
    found = [p for p in sorted(glob.glob(pattern)) if "debug" not in os.path.basename(p)]
    return found[0] if found else None


def need_rpms(topdir, releases=("1",), src=False):
    if not shutil.which("rpmbuild") or not shutil.which("rpm"):
        skip("rpmbuild/rpm not installed (Debian: rpm, RHEL: rpm-build)")
    paths = []
    for r in releases:
        p = find_rpm(topdir, r)
        if not p:
            skip(f"no {NAME} release {r} RPM under {topdir}/RPMS: run `make rpm-check`")
        paths.append(p)
    if src:
        p = find_rpm(topdir, "1", src=True)
        if not p:
            skip(f"no source RPM under {topdir}/SRPMS: run `make rpm-check`")
        paths.append(p)
    return paths


# A scratch database for queries, so that `rpm -qp` never opens the host's.
def rpmq(args, dbpath):
    return run(["rpm", "--dbpath", dbpath] + args)


# ---------------------------------------------------------------- lint

def cmd_lint(a):
    rpm1, srpm = need_rpms(a.topdir, src=True)
    if not shutil.which("rpmlint"):
        skip("rpmlint not installed")
    c = Checks("packaging rpmlint")
    spec = os.path.join(a.topdir, "SPECS", f"{NAME}.spec")
    if not os.path.exists(spec):
        spec = os.path.join(a.srcdir, "rpm", f"{NAME}.spec")
    conf = os.path.join(a.srcdir, "rpm", "rpmlint.toml")
    with tempfile.TemporaryDirectory() as home:
        # A private HOME/XDG dir: no per-user rpmlint config applies.
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home)
        r = run(["rpmlint", "-c", conf, spec, srpm, rpm1], env=env)
    print(r.stdout)
    errors = [l for l in r.stdout.splitlines() if re.search(r": E: ", l)]
    warnings = [l for l in r.stdout.splitlines() if re.search(r": W: ", l)]
    m = re.search(r"(\d+) errors, (\d+) warnings", r.stdout)
    c.check(m is not None, "rpmlint ran and printed its summary", r.stdout[-400:])
    c.check(not errors and (m is None or m.group(1) == "0"),
            "rpmlint reports no errors", "\n      ".join(errors))
    # Warnings that the spec does not explain are failures too.
    explained = ("no-url-tag", "invalid-url Source0",
                 "non-conffile-in-etc", "unstripped-binary-or-object",
                 "no-soname", "no-manual-page-for-binary")
    unexplained = [w for w in warnings if not any(e in w for e in explained)]
    c.check(not unexplained, "every rpmlint warning is one the spec explains",
            "\n      ".join(unexplained))
    return c.finish()


# ---------------------------------------------------------------- contents

QF = "[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]"


def query_files(rpm, db):
    r = rpmq(["-qp", "--qf", QF, rpm], db)
    files = {}
    for line in r.stdout.splitlines():
        parts = line.split(None, 4)
        if len(parts) == 4:  # empty fflags
            perms, user, group, path = parts
            flags = ""
        elif len(parts) == 5:
            perms, user, group, flags, path = parts
        else:
            continue
        files[path] = (perms, user, group, flags)
    return files


def macro(expr):
    return run(["rpm", "--eval", expr]).stdout.strip()


def cmd_contents(a):
    (rpm1,) = need_rpms(a.topdir)
    c = Checks("packaging contents")
    with tempfile.TemporaryDirectory() as db:
        files = query_files(rpm1, db)
        configs = rpmq(["-qpc", rpm1], db).stdout.split()
        scripts = rpmq(["-qp", "--scripts", rpm1], db).stdout
        info = rpmq(["-qpi", rpm1], db).stdout
    c.check(len(files) > 0, f"{os.path.basename(rpm1)} lists its files ({len(files)})")
    with open(os.path.join(a.srcdir, "CMakeLists.txt")) as f:
        m = re.search(r"^project\(ringfence VERSION ([0-9.]+)", f.read(), re.M)
    version = re.search(r"^Version\s*:\s*(\S+)", info, re.M)
    c.check(m and version and m.group(1) == version.group(1),
            "package Version is the project() VERSION of CMakeLists.txt",
            f"{version.group(1) if version else None} vs {m.group(1) if m else None}")

    libdir = macro("%{_libdir}")
    sbindir = macro("%{_sbindir}")
    mandir = macro("%{_mandir}")
    # The spec's fallbacks where the build host's rpm lacks the macro.
    unitdir = macro("%{?_unitdir}%{!?_unitdir:/usr/lib/systemd/system}")
    initddir = macro("%{?_initddir}%{!?_initddir:/etc/rc.d/init.d}")
    docdir = "/usr/share/doc/ringfence"

    def has(path, mode, what, flags=None):
        got = files.get(path)
        ok = got is not None and got[0] == mode and got[1:3] == ("root", "root")
        if ok and flags is not None:
            ok = got[3] == flags
        c.check(ok, f"{what}: {path} {mode} root root" + (f" flags '{flags}'" if flags is not None else ""),
                f"got {got}")

    has(f"{libdir}/security/pam_ringfence.so", "-rwxr-xr-x", "PAM module")
    has(f"{libdir}/libringfence-preload.so", "-rwxr-xr-x", "preload shim")
    for prog in ("ringfence", "ringfence-firewall", "ringfence-tcpd", "ringfence-wrap",
                 "ringfence-tcpdmatch", "ringfence-tcpdchk", "ringfence-accesschk"):
        has(f"{sbindir}/{prog}", "-rwxr-xr-x", "program")
    for page in ("man5/ringfence-access.conf.5", "man5/ringfence-firewall.conf.5",
                 "man8/pam_ringfence.8", "man8/ringfence.8", "man8/ringfence-firewall.8", "man8/ringfence-accesschk.8",
                 "man8/ringfence-tcpd.8", "man8/ringfence-wrap.8",
                 "man8/ringfence-tcpdmatch.8", "man8/ringfence-tcpdchk.8"):
        base = f"{mandir}/{page}"
        path = next((p for p in files if p == base or p.startswith(base + ".")), base)
        has(path, "-rw-r--r--", "man page")
    # Every man page of the source tree is packaged.
    for src in sorted(glob.glob(os.path.join(a.srcdir, "man", "*.[158]"))):
        page = os.path.basename(src)
        sec = page.rsplit(".", 1)[1]
        c.check(any(p.startswith(f"{mandir}/man{sec}/{page}") for p in files),
                f"man/{page} is packaged")
    # %license goes to licensedir/NAME (RHEL) or NAME-VERSION (Debian's rpm).
    licensedir = macro("%{?_defaultlicensedir}%{!?_defaultlicensedir:/usr/share/licenses}")
    license_file = next((p for p in files if p.startswith(licensedir + "/ringfence") and p.endswith("/LICENSE")),
                        f"{licensedir}/ringfence/LICENSE")
    has(license_file, "-rw-r--r--", "license (BSD-3-Clause)", flags="l")
    c.check(re.search(r"^License\s*:\s*BSD-3-Clause$", info, re.M) is not None, "License: BSD-3-Clause",
            re.search(r"^License.*$", info, re.M).group(0) if re.search(r"^License.*$", info, re.M) else "none")
    has(f"{unitdir}/ringfence-firewall.service", "-rw-r--r--", "systemd unit", flags="")
    has(f"{unitdir}/ringfence-sync.service", "-rw-r--r--", "systemd unit", flags="")
    has(f"{unitdir}/ringfence-sync.timer", "-rw-r--r--", "systemd timer", flags="")
    has(f"{unitdir}/ringfence-audit.service", "-rw-r--r--", "systemd unit", flags="")
    has(f"{unitdir}/ringfence-audit.timer", "-rw-r--r--", "systemd timer", flags="")
    has(f"{initddir}/ringfence-firewall", "-rwxr-xr-x", "SysV init script", flags="")
    has("/etc/ringfence", "drwxr-xr-x", "config directory")
    has("/etc/ringfence/firewall.conf", "-rw-r--r--", "default firewall.conf (ESX preset)", flags="cn")
    has("/var/lib/ringfence", "drwxr-xr-x", "state directory")
    has("/var/lib/ringfence/firewall", "drwx------", "firewall state directory")
    for sample in ("access.conf.example", "xinetd.d/vmware-authd.example",
                   "init.d/vmware-hostd-ringfence.example",
                   "systemd/vmware-hostd.service.d/ringfence.conf", "firewall/esx.conf",
                   "sync/sync.conf.example", "cron.d/ringfence-sync", "nrpe/ringfence.cfg"):
        has(f"{docdir}/{sample}", "-rw-r--r--", "sample (doc, not active config)", flags="d")

    etc_files = [p for p, v in files.items() if p.startswith("/etc/") and not v[0].startswith("d")
                 and not p.startswith(initddir + "/")]
    c.check(sorted(configs) == sorted(etc_files) and configs,
            "rpm -qpc: exactly the files under /etc/ringfence are %config", f"-qpc {configs}, /etc {etc_files}")
    c.check(all(files[p][3] == "cn" for p in etc_files),
            "every %config file is noreplace", str({p: files[p][3] for p in etc_files}))
    c.check(all(p.startswith("/etc/ringfence") or p.startswith(initddir) for p in files if p.startswith("/etc")),
            "under /etc only /etc/ringfence and the init script")
    bad = [p for p in files if p.startswith(("/etc/security", "/etc/pam.d"))
           or os.path.basename(p) in ("hosts.allow", "hosts.deny", "access.conf")]
    c.check(not bad, "nothing owned under /etc/security or /etc/pam.d, no hosts.allow/hosts.deny/access.conf", str(bad))
    c.check(not [p for p in files if p.endswith(".la")], "no libtool .la files")
    c.check(not [p for p in files if p.endswith(".a") or "/include/" in p], "no static libraries or headers")
    c.check(all(v[1:3] == ("root", "root") for v in files.values()), "every file owned by root:root",
            str([p for p, v in files.items() if v[1:3] != ("root", "root")]))
    writable = [p for p, v in files.items() if not v[0].startswith("l") and (v[0][5] == "w" or v[0][8] == "w")]
    c.check(not writable, "nothing group- or world-writable", str(writable))
    c.check(not [p for p, v in files.items() if "s" in v[0][1:] or "S" in v[0][1:]], "no setuid/setgid files")
    c.check(not [p for p in files if p.startswith("/usr/local")], "nothing under /usr/local")

    # Scriptlets: the PAM stack is the admin's, and the firewall is never
    # (re)started by the package.
    # Comments inside scriptlets are shown by --scripts; only commands count.
    scripts = "\n".join(l for l in scripts.splitlines() if not l.lstrip().startswith("#"))
    # Reading /etc/pam.d is allowed (%preun refuses to erase a module in use).
    c.check(not re.search(r"system-auth|authselect|pam-auth-update|access\.conf|hosts\.(allow|deny)"
                          r"|(>|\bsed\b|\bcp\b|\bmv\b|\brm\b|\bln\b|\binstall\b|\bed\b)[^\n]*pam\.d", scripts),
            "no scriptlet changes PAM, access.conf or hosts.allow/deny", scripts)
    c.check(not re.search(r"\b(restart|try-restart|reload-or-restart|start)\b(?!-)", scripts.replace("--now", "")),
            "no scriptlet starts or restarts anything", scripts)
    c.check("chkconfig --add" not in scripts, "the init script is not registered by the package (admin enables it)")
    c.check(re.search(r"^License\s*:", info, re.M) is not None, "License tag present")
    return c.finish()


# ---------------------------------------------------------------- lifecycle

STUB = """#!/bin/sh
echo "{name} $*" >> /stub.log
exit 0
"""


def build_root(root, systemd):
    """A minimal root: /bin/sh and its libraries, /dev/null (bind-mounted
    later), stubs for systemctl, systemd-update-helper and chkconfig."""
    sh = os.path.realpath("/bin/sh")
    libs = []
    out = run(["ldd", sh]).stdout
    for line in out.splitlines():
        m = re.search(r"(/\S+)", line.split("=>")[-1])
        if m:
            libs.append(m.group(1))
    for p in [sh] + libs:
        dst = root + p
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.realpath(p), dst)
    for link in ("/bin/sh", "/usr/bin/sh"):
        if not os.path.exists(root + link):
            os.makedirs(os.path.dirname(root + link), exist_ok=True)
            os.symlink(sh, root + link)
    # ld.so at its canonical path when ldd printed another.
    for d in ("dev", "tmp", "etc", "var/lib/rpm", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    open(os.path.join(root, "dev/null"), "w").close()
    stubs = {"/usr/bin/systemctl": "systemctl",
             "/usr/lib/systemd/systemd-update-helper": "systemd-update-helper",
             "/usr/sbin/chkconfig": "chkconfig"}
    for path, name in stubs.items():
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        with open(root + path, "w") as f:
            f.write(STUB.format(name=name))
        os.chmod(root + path, 0o755)
    if systemd:
        os.makedirs(os.path.join(root, "run/systemd/system"))


def rpm_root(root, args):
    return run(["rpm", "--root", root, "--dbpath", "/var/lib/rpm", "--noplugins"] + args)


def stub_log(root, clear=True):
    p = os.path.join(root, "stub.log")
    text = open(p).read() if os.path.exists(p) else ""
    if clear and os.path.exists(p):
        os.remove(p)
    return text


def scenario(c, tag, root, rpm1, rpm2, systemd, edit):
    build_root(root, systemd)
    # /dev/null inside the chroot is the real one (this process is in its
    # own mount namespace).
    r = run(["mount", "--bind", "/dev/null", os.path.join(root, "dev/null")])
    c.check(r.returncode == 0, f"[{tag}] bind-mount /dev/null into the scratch root", r.stdout)
    r = rpm_root(root, ["--initdb"])
    c.check(r.returncode == 0, f"[{tag}] rpm --initdb in the scratch root", r.stdout)

    def step(what, args):
        r = rpm_root(root, args)
        ok = r.returncode == 0 and "scriptlet failed" not in r.stdout and "error:" not in r.stdout
        c.check(ok, f"[{tag}] {what}: rpm exit 0, every scriptlet exit 0", r.stdout.strip())
        return r

    conf = os.path.join(root, "etc/ringfence/firewall.conf")
    step("install release 1", ["-ivh", "--nodeps", rpm1])
    log = stub_log(root)
    c.check(os.path.isfile(conf) and oct(os.stat(conf).st_mode & 0o7777) == "0o644",
            f"[{tag}] /etc/ringfence/firewall.conf installed 0644")
    c.check(oct(os.stat(os.path.join(root, "var/lib/ringfence/firewall")).st_mode & 0o7777) == "0o700",
            f"[{tag}] /var/lib/ringfence/firewall is 0700")
    c.check(not os.path.exists(os.path.join(root, "etc/pam.d")) and
            not os.path.exists(os.path.join(root, "etc/security")) and
            not os.path.exists(os.path.join(root, "etc/hosts.allow")),
            f"[{tag}] install created nothing in /etc/pam.d, /etc/security, hosts.allow")
    c.check(not re.search(r"\b(start|restart|enable)\b", log), f"[{tag}] install neither starts nor enables the firewall", log)
    c.check("chkconfig --add" not in log, f"[{tag}] install does not register the SysV script", log)
    if systemd:
        c.check(re.search(r"preset ringfence-firewall\.service|install-system-units ringfence-firewall\.service", log),
                f"[{tag}] install applies the systemd preset (RHEL: disabled)", log)

    if edit:
        with open(conf, "a") as f:
            f.write("# edited by the admin\n")
    edited = open(conf).read()

    step("upgrade to release 2", ["-Uvh", "--nodeps", rpm2])
    log = stub_log(root)
    r = rpm_root(root, ["-q", NAME])
    c.check(r.stdout.strip().startswith(f"{NAME}-") and "-2" in r.stdout, f"[{tag}] release 2 installed", r.stdout)
    c.check(not re.search(r"\b(start|stop|restart|try-restart|disable)\b", log),
            f"[{tag}] upgrade does not stop, restart or disable the firewall", log)
    rpmnew = conf + ".rpmnew"
    if edit:
        c.check(open(conf).read() == edited, f"[{tag}] the admin's edited firewall.conf survives the upgrade")
        c.check(os.path.exists(rpmnew) and "release 2" in open(rpmnew).read(),
                f"[{tag}] the new default is firewall.conf.rpmnew")
    else:
        c.check("release 2" in open(conf).read() and not os.path.exists(rpmnew),
                f"[{tag}] an untouched default is replaced by the new one, no .rpmnew")

    if systemd:
        # A PAM stack that still names the module blocks the erase.
        os.makedirs(os.path.join(root, "etc/pam.d"))
        pamfile = os.path.join(root, "etc/pam.d/system-auth")
        with open(pamfile, "w") as f:
            f.write("#account required pam_ringfence.so (a comment does not count)\n"
                    "account     required      pam_unix.so\n"
                    "  account [default=bad success=ok user_unknown=ignore] pam_ringfence.so atgroup\n")
        r = rpm_root(root, ["-e", "--nodeps", NAME])
        still = rpm_root(root, ["-q", NAME]).returncode == 0
        c.check(r.returncode != 0 and still and "ringfence disable pam" in r.stdout,
                f"[{tag}] erase refused while /etc/pam.d/system-auth uses pam_ringfence.so", r.stdout.strip())
        stub_log(root)
        with open(pamfile, "w") as f:
            f.write("#account required pam_ringfence.so (a comment does not count)\n"
                    "account     required      pam_unix.so\n")

    step("erase", ["-e", "--nodeps", NAME])
    log = stub_log(root)
    rpmsave = conf + ".rpmsave"
    if edit:
        c.check(os.path.exists(rpmsave) and open(rpmsave).read() == edited,
                f"[{tag}] erase keeps the admin's edits as firewall.conf.rpmsave")
    else:
        c.check(not os.path.exists(conf) and not os.path.exists(rpmsave),
                f"[{tag}] erase removes the untouched default, no .rpmsave")
    gone = [p for p in ("usr/sbin/ringfence-tcpd", "usr/sbin/ringfence", "var/lib/ringfence/firewall")
            if os.path.exists(os.path.join(root, p))]
    c.check(not gone, f"[{tag}] erase removes the programs and the empty state directory", str(gone))
    if systemd:
        c.check(re.search(r"disable --now ringfence-firewall\.service|remove-system-units ringfence-firewall\.service", log),
                f"[{tag}] erase disables and stops the unit", log)
        c.check("chkconfig" not in log, f"[{tag}] erase leaves chkconfig alone under systemd", log)
    else:
        c.check("chkconfig --del ringfence-firewall" in log,
                f"[{tag}] erase removes a SysV registration (chkconfig --del)", log)
    r = rpm_root(root, ["-qa"])
    c.check(r.stdout.strip() == "", f"[{tag}] scratch database empty after erase", r.stdout)


def cmd_lifecycle(a):
    rpm1, rpm2 = need_rpms(a.topdir, ("1", "2"))
    if os.geteuid() != 0 or not shutil.which("unshare"):
        skip("needs root and unshare (private mount and network namespace)")
    if not a.inside:
        # Re-run inside a private mount + network namespace.
        r = subprocess.run(["unshare", "--mount", "--net", "--propagation", "private",
                            sys.executable, os.path.abspath(__file__), "lifecycle",
                            "--topdir", a.topdir, "--srcdir", a.srcdir, "--inside"])
        return r.returncode
    c = Checks("packaging lifecycle")
    base = tempfile.mkdtemp(prefix="ringfence-rpm-root.")
    try:
        scenario(c, "systemd", os.path.join(base, "systemd"), rpm1, rpm2, systemd=True, edit=True)
        scenario(c, "sysv", os.path.join(base, "sysv"), rpm1, rpm2, systemd=False, edit=False)
    finally:
        for d in ("systemd", "sysv"):
            subprocess.run(["umount", os.path.join(base, d, "dev/null")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)
    return c.finish()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("lint", "contents", "lifecycle"))
    p.add_argument("--topdir", required=True)
    p.add_argument("--srcdir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    p.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    a.topdir = os.path.abspath(a.topdir)
    a.srcdir = os.path.abspath(a.srcdir)
    return {"lint": cmd_lint, "contents": cmd_contents, "lifecycle": cmd_lifecycle}[a.command](a)


if __name__ == "__main__":
    sys.exit(main())
