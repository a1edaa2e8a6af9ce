#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of `ringfence enable|disable pam|wrap|firewall` and `ringfence status`.

Every test builds a small system tree in a temporary directory and runs the
command with --root on it: copies of real RHEL-style /etc/pam.d files
(fixtures/), a fake vendor unit, real firewall.conf files (checked by the
firewall library that `ringfence` links). Nothing
outside the temporary directories is read for the managed system or changed.

usage: test_ringfence_cli.py --ringfence BIN --fixtures DIR --sbindir DIR [GROUP...]
GROUP: usage pam wrap firewall status (default: these), rootlinks (in a
private mount namespace), interrupted (with strace). Prints a count summary;
exit status 0 when every check passed, 77 when a group could not run here.
"""
import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile

MARKER = "# ringfence: next line added by 'ringfence enable pam'; 'ringfence disable pam' removes both"
LINE = "account [default=bad success=ok user_unknown=ignore] pam_ringfence.so atgroup"
# Backups: the managed file's path below this directory, never beside the
# file (libpam reads any file of /etc/pam.d whose name a program asks for).
BACKUP = "/var/lib/ringfence/backup"

ARGS = None


class Counter:
    def __init__(self):
        self.passed = 0
        self.failed = []
        self.current = ""

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed.append(f"{self.current}: {what}")
            print(f"FAIL {self.current}: {what}")
            if detail:
                print("     " + detail.replace("\n", "\n     "))
        return cond


C = Counter()


def run(root, *args, check_rc=None):
    cmd = [ARGS.ringfence]
    if root is not None:
        cmd += ["--root", root]
    cmd += list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check_rc is not None:
        C.check(p.returncode == check_rc, f"{' '.join(args)}: exit status {p.returncode}, expected {check_rc}",
                p.stdout + p.stderr)
    return p


def fixture(name):
    with open(os.path.join(ARGS.fixtures, name), "rb") as f:
        return f.read()


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def try_read(path):
    """The content, or None when the file is missing (a check then fails, not the test)."""
    try:
        return read(path)
    except OSError:
        return None


class Tree:
    """A temporary system tree: etc/pam.d, etc/security/access.conf, ..."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="ringfence-cli-")
        os.chmod(self.root, 0o755)
        write(self.p("/etc/security/access.conf"), fixture("access.conf"))

    def p(self, path):
        return self.root + path

    def close(self):
        shutil.rmtree(self.root)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def test(name):
    def deco(fn):
        fn.test_name = name
        return fn
    return deco


# ---------------------------------------------------------------------------
# pam

def lines(data):
    return data.decode().split("\n")


def pam_round_trip(fixture_name, file_arg=None, anchor=None, after=True):
    """enable, enable, disable, disable on a copy of the fixture."""
    C.current = f"pam round trip {fixture_name}"
    orig = fixture(fixture_name)
    with Tree() as t:
        target = "/etc/pam.d/" + (file_arg or "system-auth")
        write(t.p(target), orig, 0o640)
        gid = 42 if os.geteuid() == 0 else os.getegid()  # not root (rpmbuild %check): own group
        if os.geteuid() == 0:
            os.chown(t.p(target), 0, gid)
        extra = ["--file", file_arg] if file_arg else []
        p = run(t.root, "enable", "pam", *extra, check_rc=0)
        new = read(t.p(target))
        C.check(new != orig, "enable changed the file")
        ls = lines(new)
        C.check(ls.count(MARKER) == 1 and ls.count(LINE) == 1, "marker and line once", new.decode())
        if MARKER in ls:
            i = ls.index(MARKER)
            C.check(ls[i + 1] == LINE, "module line right after the marker")
            if after:
                C.check(anchor in ls[i - 1], f"block right after '{anchor}'", ls[i - 1])
            else:
                C.check(anchor in ls[i + 2], f"block right before '{anchor}'", ls[i + 2])
        rest = [l for l in ls if l not in (MARKER, LINE)]
        C.check("\n".join(rest).encode() == orig, "only the two lines added")
        C.check(try_read(t.p(BACKUP + target)) == orig, "backup holds the original")
        C.check(os.path.isdir(t.p(BACKUP)) and stat.S_IMODE(os.stat(t.p(BACKUP)).st_mode) == 0o700,
                "backup directory is 0700", str(snapshot(t.root)))
        C.check(f"backup of the previous file: {t.p(BACKUP + target)}" in p.stdout, "names the backup", p.stdout)
        st = os.stat(t.p(target))
        C.check(stat.S_IMODE(st.st_mode) == 0o640 and st.st_gid == gid, "mode and group kept",
                f"{oct(st.st_mode)} gid {st.st_gid}")
        C.check("policy checked: 3 rule(s)" in p.stdout, "access.conf linted", p.stdout)
        if after:
            C.check("pam_access stays in force" in p.stdout, "says pam_access stays in force", p.stdout)
        listing = sorted(os.listdir(os.path.dirname(t.p(target))))
        C.check(listing == [os.path.basename(target)], "nothing else in /etc/pam.d (no backup, no temporary file)",
                str(listing))

        p = run(t.root, "enable", "pam", *extra, check_rc=0)
        C.check("already enabled" in p.stdout, "second enable: already enabled", p.stdout)
        C.check(read(t.p(target)) == new, "second enable: no change")
        policy = read(t.p("/etc/security/access.conf"))
        write(t.p("/etc/security/access.conf"), fixture("access.conf.broken"))
        p = run(t.root, "enable", "pam", *extra, check_rc=1)
        C.check("refuses every login now" in p.stderr, "enabled with a broken policy: said loudly", p.stderr)
        C.check(read(t.p(target)) == new, "enable with a broken policy: no change")
        write(t.p("/etc/security/access.conf"), policy)

        p = run(t.root, "status", check_rc=0)
        if not file_arg:
            C.check("pam:      enabled (system-auth line" in p.stdout, "status says enabled", p.stdout)

        p = run(t.root, "disable", "pam", *extra, check_rc=0)
        C.check(read(t.p(target)) == orig, "enable + disable: byte-identical")
        C.check(try_read(t.p(BACKUP + target)) == new, "disable kept a backup of the enabled file")
        C.check(sorted(os.listdir(os.path.dirname(t.p(target)))) == [os.path.basename(target)],
                "disable: nothing else in /etc/pam.d")
        st = os.stat(t.p(target))
        C.check(stat.S_IMODE(st.st_mode) == 0o640 and st.st_gid == gid, "mode and group kept by disable")

        p = run(t.root, "disable", "pam", *extra, check_rc=0)
        C.check("not enabled" in p.stdout, "second disable: not enabled", p.stdout)
        C.check(read(t.p(target)) == orig, "second disable: no change")


def pam_refusal(fixture_name, rc, expect_err=(), expect_out=(), setup=None):
    C.current = f"pam refusal {fixture_name}"
    orig = fixture(fixture_name)
    with Tree() as t:
        target = t.p("/etc/pam.d/system-auth")
        write(target, orig)
        if setup:
            setup(t)
        p = run(t.root, "enable", "pam", check_rc=rc)
        C.check(read(target) == orig, "file byte-identical after the refusal")
        C.check(not os.path.exists(t.p(BACKUP)), "no backup written (nothing changed)")
        C.check(sorted(os.listdir(t.p("/etc/pam.d"))) == ["system-auth"], "no other file in /etc/pam.d",
                str(os.listdir(t.p("/etc/pam.d"))))
        for e in expect_err:
            C.check(e.replace("ROOT", t.root) in p.stderr, f"stderr has {e!r}", p.stderr)
        for o in expect_out:
            C.check(o.replace("ROOT", t.root) in p.stdout, f"stdout has {o!r}", p.stdout)
        return p


@test("pam")
def test_pam():
    pam_round_trip("rhel7-system-auth", anchor="pam_unix.so", after=False)
    pam_round_trip("rhel7-system-auth-pamaccess", anchor="pam_access.so", after=True)
    pam_round_trip("rhel9-optout-pamaccess-password-auth", file_arg="password-auth",
                   anchor="pam_access.so", after=True)
    pam_round_trip("no-final-newline-system-auth", anchor="pam_unix.so", after=False)

    pam_refusal("malformed-bracket-system-auth", 4,
                ["ROOT/etc/pam.d/system-auth:6:13: error: unbalanced '['", "nothing changed"])
    pam_refusal("malformed-continuation-system-auth", 4,
                ["ROOT/etc/pam.d/system-auth:3:", "continued with '\\'"])
    pam_refusal("malformed-type-system-auth", 4,
                ["ROOT/etc/pam.d/system-auth:4:1: error: unknown module type 'acount'"])
    pam_refusal("sufficient-first-system-auth", 4,
                ["ROOT/etc/pam.d/system-auth:4: 'sufficient'"])
    pam_refusal("sshd-include", 4, ["includes 'password-auth'", "--file password-auth"])
    steps = ["authselect create-profile ringfence -b sssd --symlink-meta",
             "/etc/authselect/custom/ringfence/system-auth",
             "      " + LINE,
             "authselect select custom/ringfence"]
    pam_refusal("rhel8-authselect-system-auth", 4, ["generated by authselect"], steps)
    pam_refusal("rhel9-authselect-pamaccess-system-auth", 4, ["generated by authselect"], steps)

    # authselect's own record of the profile: exact commands.
    def profile(t):
        write(t.p("/etc/authselect/authselect.conf"), "minimal\nwith-faillock\nwith-pamaccess\n")
    pam_refusal("rhel9-authselect-pamaccess-system-auth", 4, [],
                ["authselect create-profile ringfence -b minimal --symlink-meta",
                 "authselect select custom/ringfence with-faillock with-pamaccess",
                 "Undo: authselect select minimal with-faillock with-pamaccess"], setup=profile)

    # A policy with an error: pam_ringfence would refuse everyone.
    def broken_policy(t):
        write(t.p("/etc/security/access.conf"), fixture("access.conf.broken"))
    pam_refusal("rhel7-system-auth", 1, ["ROOT/etc/security/access.conf:2:", "the access policy has errors"],
                setup=broken_policy)

    def broken_dropin(t):
        write(t.p("/etc/security/access.d/10-x.conf"), "+ : root\n")
    pam_refusal("rhel7-system-auth", 1, ["ROOT/etc/security/access.d/10-x.conf:1:"], setup=broken_dropin)

    # A drop-in whose name begins with a dot is skipped (as pam_access's
    # glob): enabling goes ahead, with a warning that its rules do nothing.
    C.current = "pam dot-named drop-in"
    with Tree() as t:
        write(t.p("/etc/pam.d/system-auth"), fixture("rhel7-system-auth"))
        write(t.p("/etc/security/access.d/.deny.conf"), "- : ALL : ALL\n")
        write(t.p("/etc/security/access.d/10-ok.conf"), "+ : root : ALL\n")
        p = run(t.root, "enable", "pam", check_rc=0)
        want = t.p("/etc/security/access.d/.deny.conf") + ": warning: ignored: drop-ins whose names begin with '.'"
        C.check(want in p.stderr, "warning names the dot-named drop-in", p.stderr)
        C.check("rename it without the leading dot" in p.stderr, "hint says what to do", p.stderr)
        C.check("10-ok.conf" not in p.stderr, "no warning for an ordinary drop-in", p.stderr)

    def writable_policy(t):
        os.chmod(t.p("/etc/security/access.conf"), 0o666)
    pam_refusal("rhel7-system-auth", 1, ["access.conf"], setup=writable_policy)

    # RHEL 8/9: system-auth is a link into /etc/authselect, even without the header.
    C.current = "pam authselect link"
    with Tree() as t:
        data = b"\n".join(l for l in fixture("rhel8-authselect-system-auth").split(b"\n") if b"authselect" not in l)
        write(t.p("/etc/authselect/system-auth"), data)
        os.makedirs(t.p("/etc/pam.d"))
        os.symlink("/etc/authselect/system-auth", t.p("/etc/pam.d/system-auth"))
        run(t.root, "enable", "pam", check_rc=4)
        C.check(read(t.p("/etc/authselect/system-auth")) == data, "authselect file unchanged")
        os.remove(t.p("/etc/pam.d/system-auth"))
        os.symlink("../authselect/system-auth", t.p("/etc/pam.d/system-auth"))
        run(t.root, "enable", "pam", check_rc=4)
        os.remove(t.p("/etc/pam.d/system-auth"))
        # ".." stops at the root, as after chroot: this is ROOT/etc/passwd.
        os.symlink("../../../../../../../../../../etc/passwd", t.p("/etc/pam.d/system-auth"))
        p = run(t.root, "enable", "pam", check_rc=4)
        C.check(f"(a link to {t.root}/etc/passwd): no such file" in p.stderr, "a link climbing out stops at the root", p.stderr)
        C.check(read(t.p("/etc/authselect/system-auth")) == data, "authselect file unchanged")

    # RHEL 7: system-auth -> system-auth-ac; the target is edited, the link stays.
    C.current = "pam authconfig link"
    with Tree() as t:
        orig = fixture("rhel7-system-auth")
        write(t.p("/etc/pam.d/system-auth-ac"), orig)
        os.symlink("system-auth-ac", t.p("/etc/pam.d/system-auth"))
        p = run(t.root, "enable", "pam", check_rc=0)
        C.check(os.path.islink(t.p("/etc/pam.d/system-auth")), "system-auth is still a link")
        C.check(MARKER.encode() in read(t.p("/etc/pam.d/system-auth-ac")), "system-auth-ac edited")
        C.check("authconfig" in p.stderr, "warns that authconfig rewrites the file", p.stderr)
        run(t.root, "disable", "pam", check_rc=0)
        C.check(read(t.p("/etc/pam.d/system-auth-ac")) == orig, "byte-identical after disable")

    # A line added by hand: enable leaves it, disable refuses to touch it.
    C.current = "pam hand-made line"
    with Tree() as t:
        orig = fixture("rhel7-system-auth").replace(
            b"account     required      pam_unix.so\n",
            b"account     required      pam_ringfence.so\naccount     required      pam_unix.so\n")
        write(t.p("/etc/pam.d/system-auth"), orig)
        p = run(t.root, "enable", "pam", check_rc=0)
        C.check("already enabled" in p.stdout and "not added by ringfence" in p.stdout, "enable: already", p.stdout)
        p = run(t.root, "disable", "pam", check_rc=4)
        C.check("ROOT/etc/pam.d/system-auth:10:".replace("ROOT", t.root) in p.stderr, "disable names file:line",
                p.stderr)
        C.check(read(t.p("/etc/pam.d/system-auth")) == orig, "unchanged")

    # A marker whose line was removed by hand.
    C.current = "pam orphan marker"
    with Tree() as t:
        orig = fixture("rhel7-system-auth").replace(b"account     required      pam_unix.so\n",
                                                     MARKER.encode() + b"\naccount     required      pam_unix.so\n")
        write(t.p("/etc/pam.d/system-auth"), orig)
        run(t.root, "enable", "pam", check_rc=4)
        run(t.root, "disable", "pam", check_rc=4)
        C.check(read(t.p("/etc/pam.d/system-auth")) == orig, "unchanged")

    # Module options.
    C.current = "pam module options"
    with Tree() as t:
        write(t.p("/etc/pam.d/system-auth"), fixture("rhel7-system-auth"))
        run(t.root, "enable", "pam", "--module-options", "bogus", check_rc=2)
        run(t.root, "enable", "pam", "--module-options", "", check_rc=0)
        C.check(b"\naccount [default=bad success=ok user_unknown=ignore] pam_ringfence.so\n" in
                read(t.p("/etc/pam.d/system-auth")), "line without options")
        run(t.root, "disable", "pam", check_rc=0)
        write(t.p("/etc/security/access-sshd.conf"), "+ : root : ALL\n- : ALL : ALL\n")
        run(t.root, "enable", "pam", "--module-options", "atgroup accessfile=/etc/security/access-sshd.conf",
            check_rc=0)
        run(t.root, "disable", "pam", check_rc=0)
        run(t.root, "enable", "pam", "--module-options", "accessfile=/etc/security/nonexistent.conf", check_rc=1)
        C.check(read(t.p("/etc/pam.d/system-auth")) == fixture("rhel7-system-auth"), "byte-identical at the end")

    # What ringfence 0.1 or an interrupted run left in /etc/pam.d, where
    # libpam takes any file for a service: temporaries of runs that are gone
    # are removed, backups moved out, at the next run (even one that has
    # nothing to do). A temporary file of a run still alive is left alone.
    C.current = "pam leftovers beside the file"
    with Tree() as t:
        orig = fixture("rhel7-system-auth")
        write(t.p("/etc/pam.d/system-auth"), orig)
        write(t.p("/etc/pam.d/system-auth.ringfence-bak"), "old backup\n")
        write(t.p("/etc/pam.d/password-auth.ringfence-bak"), "old password-auth backup\n")
        write(t.p("/etc/pam.d/system-auth.ringfence-Ab12Cd"), "half written\n")
        write(t.p("/etc/pam.d/system-auth.ringfence-bak.ringfence-Zz9Yy8"), "half written backup\n")
        unrelated = "nosuch.ringfence-backup"  # looks like 0.1's temporary, but beside no such file
        write(t.p("/etc/pam.d/" + unrelated), "someone's file\n")
        gone = subprocess.Popen(["true"])  # a pid that no longer runs
        gone.wait()
        write(t.p(f"/etc/pam.d/.RINGFENCE-TMP-{gone.pid}-aB3dE6gH"), "half written\n")
        alive = f".RINGFENCE-TMP-{os.getpid()}-aB3dE6gH"
        write(t.p("/etc/pam.d/" + alive), "being written\n")
        p = run(t.root, "disable", "pam", check_rc=0)
        C.check(sorted(os.listdir(t.p("/etc/pam.d"))) == sorted([alive, unrelated, "system-auth"]),
                "only the file, the live run's temporary file and the unrelated file left",
                str(os.listdir(t.p("/etc/pam.d"))))
        C.check(try_read(t.p(BACKUP + "/etc/pam.d/system-auth.ringfence-bak")) == b"old backup\n" and
                try_read(t.p(BACKUP + "/etc/pam.d/password-auth.ringfence-bak")) == b"old password-auth backup\n",
                "old backups moved to the backup directory", str(snapshot(t.root)))
        C.check("moved the old backup" in p.stdout and "left by an interrupted run" in p.stdout, "says so",
                p.stdout)
        C.check(read(t.p("/etc/pam.d/system-auth")) == orig, "the file itself unchanged")

    C.current = "pam missing file"
    with Tree() as t:
        p = run(t.root, "enable", "pam", check_rc=4)
        C.check("no such file" in p.stderr, "says no such file", p.stderr)
        run(t.root, "disable", "pam", "--file", "password-auth", check_rc=4)


# ---------------------------------------------------------------------------
# wrap

def wrap_tree():
    t = Tree()
    write(t.p("/usr/lib/systemd/system/vmware-hostd.service"), fixture("vmware-hostd.service"))
    os.makedirs(t.p("/etc/systemd/system"), exist_ok=True)
    write(t.p("/etc/hosts.allow"), "vmware-hostd: 192.168.10.0/24\n")
    write(t.p("/etc/hosts.deny"), "vmware-hostd: ALL\n")
    return t


DROPIN = "/etc/systemd/system/vmware-hostd.service.d/ringfence.conf"


@test("wrap")
def test_wrap():
    expected = fixture("../expected/vmware-hostd-ringfence.conf").replace(b"@SBINDIR@", ARGS.sbindir.encode())
    C.current = "wrap round trip"
    with wrap_tree() as t:
        p = run(t.root, "enable", "wrap", "vmware-hostd", check_rc=0)
        C.check(read(t.p(DROPIN)) == expected, "drop-in as expected", read(t.p(DROPIN)).decode())
        C.check("systemctl daemon-reload && systemctl restart vmware-hostd" in p.stdout, "says the next step",
                p.stdout)
        C.check("hosts.allow / hosts.deny checked" in p.stdout, "hosts files checked", p.stdout)
        C.check(stat.S_IMODE(os.stat(t.p(DROPIN)).st_mode) == 0o644, "drop-in mode 0644")
        p = run(t.root, "enable", "wrap", "vmware-hostd.service", check_rc=0)
        C.check("already enabled" in p.stdout, "second enable: already enabled", p.stdout)
        p = run(t.root, "status", check_rc=0)
        C.check("wrap:     enabled for vmware-hostd" in p.stdout, "status lists the daemon", p.stdout)
        run(t.root, "disable", "wrap", "vmware-hostd", check_rc=0)
        C.check(not os.path.exists(os.path.dirname(t.p(DROPIN))), "drop-in and its directory removed")
        p = run(t.root, "disable", "wrap", "vmware-hostd", check_rc=0)
        C.check("not enabled" in p.stdout, "second disable: not enabled")

    C.current = "wrap vendor drop-in and /etc unit"
    with wrap_tree() as t:
        write(t.p("/etc/systemd/system/vmware-hostd.service.d/10-local.conf"),
              "[Service]\nExecStart=\nExecStart=-/opt/vmware/bin/hostd --local\n")
        run(t.root, "enable", "wrap", "vmware-hostd", check_rc=0)
        d = read(t.p(DROPIN)).decode()
        C.check(f"ExecStart=-{ARGS.sbindir}/ringfence-wrap --name vmware-hostd -- /opt/vmware/bin/hostd --local\n"
                in d, "the effective command, '-' prefix kept", d)
        run(t.root, "disable", "wrap", "vmware-hostd", check_rc=0)
        C.check(os.path.exists(t.p("/etc/systemd/system/vmware-hostd.service.d/10-local.conf")),
                "other drop-in left alone")
        write(t.p("/etc/systemd/system/vmware-hostd.service"), "[Service]\nExecStart=/etc/override/hostd\n")
        os.remove(t.p("/etc/systemd/system/vmware-hostd.service.d/10-local.conf"))
        run(t.root, "enable", "wrap", "vmware-hostd", check_rc=0)
        C.check("-- /etc/override/hostd\n" in read(t.p(DROPIN)).decode(), "/etc/systemd/system unit wins")

    C.current = "wrap several ExecStart"
    with wrap_tree() as t:
        write(t.p("/usr/lib/systemd/system/vmware-hostd.service"),
              "[Service]\nType=oneshot\nExecStart=/usr/sbin/a\nExecStart=/usr/sbin/b\n")
        p = run(t.root, "enable", "wrap", "vmware-hostd", check_rc=4)
        C.check("2 ExecStart= lines" in p.stderr and "vmware-hostd.service:3:" in p.stderr, "names them", p.stderr)
        C.check(not os.path.exists(t.p(DROPIN)), "nothing written")
        run(t.root, "enable", "wrap", "vmware-hostd", "--exec", "/usr/sbin/b --foreground", check_rc=0)
        C.check("-- /usr/sbin/b --foreground\n" in read(t.p(DROPIN)).decode(), "--exec used")

    C.current = "wrap no ExecStart / no unit"
    with wrap_tree() as t:
        write(t.p("/usr/lib/systemd/system/vmware-hostd.service"), "[Service]\nType=simple\n")
        run(t.root, "enable", "wrap", "vmware-hostd", check_rc=4)
        p = run(t.root, "enable", "wrap", "nosuchd", check_rc=4)
        C.check("no such unit" in p.stderr, "says no such unit", p.stderr)
        p = run(t.root, "enable", "wrap", "nosuchd", "--exec", "/usr/sbin/nosuchd -f", check_rc=0)
        C.check("no unit file" in p.stderr, "warns about the missing unit", p.stderr)
        run(t.root, "disable", "wrap", "nosuchd", check_rc=0)
        C.check(not os.path.exists(t.p("/etc/systemd/system/nosuchd.service.d")), "removed")
        run(t.root, "enable", "wrap", "../etc", check_rc=2)

    C.current = "wrap @ prefix"
    with wrap_tree() as t:
        write(t.p("/usr/lib/systemd/system/vmware-hostd.service"), "[Service]\nExecStart=@/usr/sbin/h hostd\n")
        run(t.root, "enable", "wrap", "vmware-hostd", check_rc=4)

    C.current = "wrap broken hosts.allow"
    with wrap_tree() as t:
        write(t.p("/etc/hosts.allow"), "sshd: ALL\nvmware-hostd 192.168.10.0/24\n")
        p = run(t.root, "enable", "wrap", "vmware-hostd", check_rc=1)
        C.check(f"{t.root}/etc/hosts.allow:2:" in p.stderr, "names hosts.allow:2", p.stderr)
        C.check(not os.path.exists(os.path.dirname(t.p(DROPIN))), "nothing written")

    C.current = "wrap hosts.deny writable by others"
    with wrap_tree() as t:
        os.chmod(t.p("/etc/hosts.deny"), 0o666)
        p = run(t.root, "enable", "wrap", "vmware-hostd", check_rc=1)
        C.check(f"{t.root}/etc/hosts.deny" in p.stderr, "names hosts.deny", p.stderr)
        C.check(not os.path.exists(os.path.dirname(t.p(DROPIN))), "nothing written")

    C.current = "wrap no rule for the daemon"
    with wrap_tree() as t:
        write(t.p("/etc/hosts.allow"), "sshd: 10.0.0.0/8\n")
        write(t.p("/etc/hosts.deny"), "")
        p = run(t.root, "enable", "wrap", "vmware-hostd", check_rc=0)
        C.check("no rule in hosts.allow or hosts.deny applies" in p.stderr, "warns", p.stderr)

    C.current = "wrap foreign drop-in"
    with wrap_tree() as t:
        write(t.p(DROPIN), "[Service]\nExecStart=\nExecStart=/usr/sbin/ringfence-wrap -- /usr/sbin/vmware-hostd\n")
        before = read(t.p(DROPIN))
        run(t.root, "enable", "wrap", "vmware-hostd", check_rc=4)
        run(t.root, "disable", "wrap", "vmware-hostd", check_rc=4)
        C.check(read(t.p(DROPIN)) == before, "left alone")

    C.current = "wrap vendor command changed"
    with wrap_tree() as t:
        run(t.root, "enable", "wrap", "vmware-hostd", check_rc=0)
        write(t.p("/usr/lib/systemd/system/vmware-hostd.service"), "[Service]\nExecStart=/usr/sbin/vmware-hostd -n\n")
        p = run(t.root, "enable", "wrap", "vmware-hostd", check_rc=0)
        C.check("command changed" in p.stdout, "says the command changed", p.stdout)
        C.check("-- /usr/sbin/vmware-hostd -n\n" in read(t.p(DROPIN)).decode(), "new command")

    C.current = "wrap without systemd"
    with wrap_tree() as t:
        p = run(t.root, "--init", "sysv", "enable", "wrap", "vmware-hostd", check_rc=4)
        C.check("chkconfig --add vmware-hostd-ringfence" in p.stdout and "ringfence-wrap" in p.stdout,
                "prints the SysV recipe", p.stdout)
        C.check(not os.path.exists(os.path.dirname(t.p(DROPIN))), "nothing written")


# ---------------------------------------------------------------------------
# firewall

WANTS = "/etc/systemd/system/multi-user.target.wants/ringfence-firewall.service"


def boot_file(source, standin):
    """The unit or init script of the source tree (etc/), else the stand-in."""
    path = os.path.join(ARGS.fixtures, "../../../etc", source)
    return read(path) if os.path.exists(path) else fixture(standin)


def fw_tree(sysv=False):
    t = Tree()
    write(t.p("/etc/ringfence/firewall.conf"), fixture("firewall.conf"))
    if sysv:
        write(t.p("/etc/rc.d/init.d/ringfence-firewall"),
              boot_file("init.d/ringfence-firewall", "ringfence-firewall.init"), 0o755)
    else:
        write(t.p("/usr/lib/systemd/system/ringfence-firewall.service"),
              boot_file("systemd/ringfence-firewall.service", "ringfence-firewall.service"))
        os.makedirs(t.p("/etc/systemd/system"), exist_ok=True)
    return t


def snapshot(root):
    out = []
    for d, dirs, files in os.walk(root):
        for n in sorted(dirs + files):
            p = os.path.join(d, n)
            out.append((p[len(root):], os.readlink(p) if os.path.islink(p) else None))
    return sorted(out)


@test("firewall")
def test_firewall():
    fw = []
    C.current = "firewall systemd"
    with fw_tree() as t:
        p = run(t.root, "enable", "firewall", *fw, check_rc=0)
        C.check(os.path.islink(t.p(WANTS)) and os.readlink(t.p(WANTS)) ==
                "/usr/lib/systemd/system/ringfence-firewall.service", "wants link created", str(snapshot(t.root)))
        C.check(p.stderr == "", "a clean policy: no warning", p.stderr)
        p = run(t.root, "enable", "firewall", *fw, check_rc=0)
        C.check("already enabled" in p.stdout, "second enable: already enabled", p.stdout)
        p = run(t.root, "status", check_rc=0)
        C.check("firewall: enabled (ringfence-firewall.service in multi-user.target.wants)" in p.stdout, "status",
                p.stdout)
        run(t.root, "disable", "firewall", check_rc=0)
        C.check(not os.path.lexists(t.p(WANTS)) and not os.path.exists(os.path.dirname(t.p(WANTS))),
                "link and empty .wants removed")
        p = run(t.root, "disable", "firewall", check_rc=0)
        C.check("not enabled" in p.stdout, "second disable: not enabled")
        p = run(t.root, "status", check_rc=0)
        C.check("firewall: not enabled" in p.stdout, "status: not enabled", p.stdout)

    C.current = "firewall systemd refusals"
    with fw_tree() as t:
        write(t.p("/etc/ringfence/firewall.conf"), fixture("firewall.conf.broken"))
        before = snapshot(t.root)
        p = run(t.root, "enable", "firewall", *fw, check_rc=1)
        C.check(f"{t.root}/etc/ringfence/firewall.conf:2:1: error" in p.stderr, "checker's error shown", p.stderr)
        C.check(snapshot(t.root) == before, "nothing created")
        os.remove(t.p("/etc/ringfence/firewall.conf"))
        run(t.root, "enable", "firewall", *fw, check_rc=4)
        C.check(not os.path.lexists(t.p(WANTS)), "no link")
        # The firewall's own checker refuses a set file others can write.
        write(t.p("/etc/ringfence/firewall.conf"), "set bl file bl.set\ndeny in from bl\nallow in tcp/22\n")
        write(t.p("/etc/ringfence/bl.set"), "192.0.2.1\n", 0o666)
        p = run(t.root, "enable", "firewall", *fw, check_rc=1)
        C.check("writable" in p.stderr and not os.path.lexists(t.p(WANTS)), "untrusted set file refused", p.stderr)
        write(t.p("/etc/ringfence/firewall.conf"), fixture("firewall.conf"))
        p = run(t.root, "enable", "firewall", "--firewall-program", "/usr/sbin/ringfence-firewall", check_rc=2)
        C.check("unknown option '--firewall-program'" in p.stderr, "--firewall-program is gone", p.stderr)
        os.symlink("/dev/null", t.p("/etc/systemd/system/ringfence-firewall.service"))
        p = run(t.root, "enable", "firewall", *fw, check_rc=4)
        C.check("masked" in p.stderr, "masked unit refused", p.stderr)
        os.remove(t.p("/etc/systemd/system/ringfence-firewall.service"))
        os.remove(t.p("/usr/lib/systemd/system/ringfence-firewall.service"))
        p = run(t.root, "enable", "firewall", *fw, check_rc=4)
        C.check("not installed" in p.stderr, "unit not installed", p.stderr)

    C.current = "firewall systemd RequiredBy"
    with fw_tree() as t:
        write(t.p("/lib/systemd/system/ringfence-firewall.service"),
              "[Install]\nWantedBy=multi-user.target\nRequiredBy=network-pre.target\n")
        os.remove(t.p("/usr/lib/systemd/system/ringfence-firewall.service"))
        run(t.root, "enable", "firewall", *fw, check_rc=0)
        req = t.p("/etc/systemd/system/network-pre.target.requires/ringfence-firewall.service")
        C.check(os.path.islink(req) and os.readlink(req) == "/lib/systemd/system/ringfence-firewall.service",
                "requires link", str(snapshot(t.root)))
        run(t.root, "disable", "firewall", check_rc=0)
        C.check(not os.path.lexists(req) and not os.path.lexists(t.p(WANTS)), "both removed")

    C.current = "firewall sysv"
    with fw_tree(sysv=True) as t:
        run(t.root, "--init", "sysv", "enable", "firewall", *fw, check_rc=0)
        links = {e[0]: e[1] for e in snapshot(t.root) if e[1]}
        want = {f"/etc/rc.d/rc{n}.d/{'S08' if n in (2, 3, 4, 5) else 'K92'}ringfence-firewall":
                "../init.d/ringfence-firewall" for n in range(7)}
        C.check(links == want, "chkconfig --add + on links", str(links))
        p = run(t.root, "--init", "sysv", "enable", "firewall", *fw, check_rc=0)
        C.check("already enabled" in p.stdout, "second enable: already enabled", p.stdout)
        p = run(t.root, "--init", "sysv", "status", check_rc=0)
        C.check("firewall: enabled" in p.stdout, "status", p.stdout)
        run(t.root, "--init", "sysv", "disable", "firewall", check_rc=0)
        links = {e[0]: e[1] for e in snapshot(t.root) if e[1]}
        want = {f"/etc/rc.d/rc{n}.d/K92ringfence-firewall": "../init.d/ringfence-firewall" for n in range(7)}
        C.check(links == want, "chkconfig off links", str(links))
        p = run(t.root, "--init", "sysv", "disable", "firewall", check_rc=0)
        C.check("not enabled" in p.stdout, "second disable: not enabled")

    C.current = "firewall with the ESX preset"
    with fw_tree() as t:
        write(t.p("/etc/ringfence/firewall.conf"), fixture("../../../etc/firewall/esx.conf"))
        run(t.root, "enable", "firewall", check_rc=0)
        C.check(os.path.islink(t.p(WANTS)), "enabled")
        write(t.p("/etc/ringfence/firewall.conf"), "this is not a policy\n")
        run(t.root, "disable", "firewall", check_rc=0)
        run(t.root, "enable", "firewall", check_rc=1)
        C.check(not os.path.lexists(t.p(WANTS)), "refused")

    # The check is the firewall library itself, linked in: it needs no
    # ringfence-firewall program beside ringfence or in sbindir.
    C.current = "firewall checked without a ringfence-firewall program"
    with fw_tree() as t, tempfile.TemporaryDirectory() as alone:
        lone = os.path.join(alone, "ringfence")
        shutil.copy2(ARGS.ringfence, lone)
        p = subprocess.run([lone, "--root", t.root, "enable", "firewall"], capture_output=True, text=True, timeout=60)
        C.check(p.returncode == 0 and os.path.islink(t.p(WANTS)), f"enabled: exit status {p.returncode}",
                p.stdout + p.stderr)

    # An absolute set path names a file of the managed system: read in the
    # tree, never on this machine.
    C.current = "firewall set files inside --root"
    with fw_tree() as t:
        write(t.p("/etc/ringfence/firewall.conf"), "set admins file /etc/ringfence/admins.set\n"
              "allow in tcp/22 from admins\n")
        write(t.p("/etc/ringfence/admins.set"), "192.168.10.0/24\n")
        p = run(t.root, "enable", "firewall", check_rc=0)
        C.check(os.path.islink(t.p(WANTS)) and p.stderr == "", "enabled, no warning", p.stderr)

    # What is legal but probably not meant is said, and does not stop boot.
    C.current = "firewall lint warnings"
    with fw_tree() as t:
        write(t.p("/etc/ringfence/firewall.conf"), "deny in from 10.0.0.0/8\nallow in tcp/22 from 10.1.0.0/16\n"
              "allow in tcp/22 from 192.168.10.0/24\n")
        p = run(t.root, "enable", "firewall", check_rc=0)
        C.check(f"{t.root}/etc/ringfence/firewall.conf:2:1: warning: this allow rule never allows anything" in p.stderr
                and "1 warning (above)" in p.stderr and os.path.islink(t.p(WANTS)), "warned and enabled", p.stderr)


# ---------------------------------------------------------------------------
# rootlinks: symbolic links under --root resolve inside the root, as after
# chroot(2), at every level of every path ringfence reads or writes.
#
# A wrong resolution would edit this machine's own /etc. So the cases run in
# a private mount namespace (the test re-executes itself under unshare -m)
# where /etc and /var are overlays: whatever a case writes there lands in a
# tmpfs upper layer that the test inspects and then throws away. The "host"
# files a wrong resolution would reach are created in that overlay first.

HOSTSIDE_DIRS = ("/etc", "/var")


def tree_digest(top):
    """{relative path: sha256 of a file / link target / 'dir' / 'other'}."""
    import hashlib
    out = {}
    for d, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = p[len(top):]
            if os.path.islink(p):
                out[rel] = "-> " + os.readlink(p)
            elif os.path.isdir(p):
                out[rel] = "dir"
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    out[rel] = hashlib.sha256(f.read()).hexdigest()
            else:
                out[rel] = "other"  # an overlay whiteout: a deletion
    return out


class Sandbox:
    """Overlays on /etc and /var inside the private mount namespace."""

    def __init__(self, base):
        self.base = base
        self.n = 0

    def __enter__(self):
        self.n += 1
        self.layers = []
        for d in HOSTSIDE_DIRS:
            top = os.path.join(self.base, f"ov{self.n}{d.replace('/', '-')}")
            upper, work = top + "/upper", top + "/work"
            os.makedirs(upper)
            os.makedirs(work)
            subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir={d},upperdir={upper},workdir={work}", d], check=True)
            self.layers.append((d, upper))
        return self

    def host_write(self, path, data, mode=0o644):
        write(path, data, mode)

    def changes(self):
        return {d: tree_digest(u) for d, u in self.layers}

    def __exit__(self, *a):
        for d, _ in reversed(self.layers):
            subprocess.run(["umount", "-l", d], check=False)


def rl_case(sb, name, build, args, rc, host_setup=None, expect_err=(), after=None):
    """One case: the 'host' files (in the overlay), the tree, the command, the checks."""
    C.current = f"rootlinks {name}"
    with sb:
        if host_setup:
            host_setup()
        before = sb.changes()
        with Tree() as t:
            build(t)
            p = run(t.root, *args, check_rc=rc)
            changed = {d: sorted(k for k in set(before[d]) | set(v)
                                 if before[d].get(k) != v.get(k))
                       for d, v in sb.changes().items()}
            changed = {d: v for d, v in changed.items() if v}
            C.check(not changed, "this machine's /etc and /var untouched", f"changed: {changed}\n{p.stdout}{p.stderr}")
            for e in expect_err:
                C.check(e.replace("ROOT", t.root) in p.stderr, f"stderr has {e!r}", p.stderr)
            if after:
                after(t, p)


def up(n=12):
    return "../" * n


@test("rootlinks")
def test_rootlinks():
    if not ARGS.sandboxed:
        return run_sandboxed("rootlinks")
    sb = Sandbox(ARGS.sandboxed)
    pam_file = fixture("rhel7-system-auth")
    loop = "too many levels of symbolic links"

    def host_pam():
        # What a resolution that leaves the tree would find and edit.
        sb.host_write("/etc/pam.d/common-account", pam_file)
        sb.host_write("/etc/pam.d/system-auth-ac", pam_file)
        sb.host_write("/etc/alt-pam.d/common-account", pam_file)
        sb.host_write("/etc/security/access.conf", fixture("access.conf"))

    enable_ca = ["enable", "pam", "--file", "common-account"]

    def no_pam_change(t, p):
        for f in ("/etc/pam.d/common-account", "/etc/alt-pam.d/common-account"):
            if os.path.isfile(t.p(f)) and not os.path.islink(t.p(f)):
                C.check(try_read(t.p(f)) == pam_file, f"{f} in the tree unchanged")

    # A link at each level of /etc/pam.d/common-account that points at this
    # machine's path: inside the root, each one points at itself.
    def etc_link(t):
        shutil.rmtree(t.p("/etc"))
        os.symlink("/etc", t.p("/etc"))
    rl_case(sb, "ROOT/etc -> /etc", etc_link, enable_ca, 4, host_pam, ["ROOT/etc", loop])

    def pamd_link(t):
        os.makedirs(t.p("/etc"), exist_ok=True)
        os.symlink("/etc/pam.d", t.p("/etc/pam.d"))
    rl_case(sb, "ROOT/etc/pam.d -> /etc/pam.d", pamd_link, enable_ca, 4, host_pam, [loop])

    def file_link(t):
        os.makedirs(t.p("/etc/pam.d"))
        os.symlink("/etc/pam.d/common-account", t.p("/etc/pam.d/common-account"))
    rl_case(sb, "ROOT/etc/pam.d/common-account -> /etc/pam.d/common-account", file_link, enable_ca, 4, host_pam,
            [loop])

    # Relative links that climb with ../../..: ".." stops at the root.
    def pamd_climb(t):
        os.symlink(up() + "etc/pam.d", t.p("/etc/pam.d"))
    rl_case(sb, "ROOT/etc/pam.d -> ../../../etc/pam.d", pamd_climb, enable_ca, 4, host_pam, [loop])

    def file_climb(t):
        os.makedirs(t.p("/etc/pam.d"))
        os.symlink(up() + "etc/pam.d/common-account", t.p("/etc/pam.d/common-account"))
    rl_case(sb, "ROOT/etc/pam.d/common-account -> ../../../etc/pam.d/common-account", file_climb, enable_ca, 4,
            host_pam, [loop])

    def link_loop(t):
        os.makedirs(t.p("/etc/pam.d"))
        os.symlink("loop-a", t.p("/etc/pam.d/common-account"))
        os.symlink("loop-b", t.p("/etc/pam.d/loop-a"))
        os.symlink("/etc/pam.d/common-account", t.p("/etc/pam.d/loop-b"))
    rl_case(sb, "link loop", link_loop, enable_ca, 4, host_pam, [loop])

    # Links that lead somewhere inside the root are followed there.
    def edited(path, link=None):
        def check(t, p):
            C.check(MARKER.encode() in (try_read(t.p(path)) or b""), f"ROOT{path} edited", p.stdout + p.stderr)
            C.check(try_read(t.p(BACKUP + path)) == pam_file, f"backup in ROOT{BACKUP}{path}")
            if link:
                C.check(os.path.islink(t.p(link)), f"ROOT{link} is still a link")
        return check

    def pamd_abs_inside(t):
        write(t.p("/etc/alt-pam.d/common-account"), pam_file)
        os.symlink("/etc/alt-pam.d", t.p("/etc/pam.d"))
    rl_case(sb, "ROOT/etc/pam.d -> /etc/alt-pam.d (in the root)", pamd_abs_inside, enable_ca, 0, host_pam,
            after=edited("/etc/alt-pam.d/common-account", "/etc/pam.d"))

    def pamd_climb_inside(t):
        write(t.p("/etc/alt-pam.d/common-account"), pam_file)
        os.symlink(up() + "etc/alt-pam.d", t.p("/etc/pam.d"))
    rl_case(sb, "ROOT/etc/pam.d -> ../../../etc/alt-pam.d (in the root)", pamd_climb_inside, enable_ca, 0,
            host_pam, after=edited("/etc/alt-pam.d/common-account", "/etc/pam.d"))

    def etc_abs_inside(t):
        write(t.p("/sysimage/etc/pam.d/common-account"), pam_file)
        write(t.p("/sysimage/etc/security/access.conf"), fixture("access.conf"))
        shutil.rmtree(t.p("/etc"))
        os.symlink("/sysimage/etc", t.p("/etc"))
    rl_case(sb, "ROOT/etc -> /sysimage/etc (in the root)", etc_abs_inside, enable_ca, 0, host_pam,
            after=edited("/sysimage/etc/pam.d/common-account", "/etc"))

    def dotdot_after_link(t):
        # ".." in a target is taken from the directory the link is in.
        write(t.p("/data/pam-files/ca"), pam_file)
        os.makedirs(t.p("/data/pam"))
        os.symlink("/data/pam", t.p("/etc/pam.d"))
        os.symlink("../pam-files/ca", t.p("/data/pam/common-account"))
    rl_case(sb, "ROOT/etc/pam.d -> /data/pam, common-account -> ../pam-files/ca", dotdot_after_link, enable_ca, 0,
            host_pam, after=edited("/data/pam-files/ca", "/data/pam/common-account"))

    # authselect / authconfig: system-auth -> system-auth-ac inside the tree.
    for target in ("system-auth-ac", "/etc/pam.d/system-auth-ac"):
        def authconfig(t, target=target):
            write(t.p("/etc/pam.d/system-auth-ac"), pam_file)
            os.symlink(target, t.p("/etc/pam.d/system-auth"))
        rl_case(sb, f"ROOT/etc/pam.d/system-auth -> {target}", authconfig, ["enable", "pam"], 0, host_pam,
                after=edited("/etc/pam.d/system-auth-ac", "/etc/pam.d/system-auth"))

    # The backup directory is resolved inside the root too.
    def var_link(t):
        write(t.p("/etc/pam.d/common-account"), pam_file)
        os.makedirs(t.p("/var"))
        os.symlink("/var/lib", t.p("/var/lib"))
    rl_case(sb, "ROOT/var/lib -> /var/lib", var_link, enable_ca, 3, host_pam, [loop, "nothing changed"],
            after=no_pam_change)

    def state_climb(t):
        write(t.p("/etc/pam.d/common-account"), pam_file)
        os.makedirs(t.p("/var/lib"))
        os.symlink(up() + "srv/rf", t.p("/var/lib/ringfence"))
    rl_case(sb, "ROOT/var/lib/ringfence -> ../../../srv/rf", state_climb, enable_ca, 0, host_pam,
            after=lambda t, p: C.check(try_read(t.p("/srv/rf/backup/etc/pam.d/common-account")) == pam_file,
                                       "backup in ROOT/srv/rf/backup", str(snapshot(t.root))))

    # status reads through the same resolution.
    def host_enabled():
        host_pam()
        sb.host_write("/etc/pam.d/system-auth", pam_file.replace(
            b"account     required      pam_unix.so\n",
            b"account     required      pam_ringfence.so\naccount     required      pam_unix.so\n"))
    rl_case(sb, "status with ROOT/etc -> /etc", etc_link, ["status"], 0, host_enabled,
            after=lambda t, p: C.check("pam:      not enabled (system-auth missing or unreadable" in p.stdout,
                                       "status does not read this machine's files", p.stdout))

    # enable wrap: the drop-in and its directory.
    def host_systemd():
        host_pam()
        sb.host_write("/etc/systemd/system/.keep", "")
        sb.host_write("/etc/hosts.allow", "vmware-hostd: 192.168.10.0/24\n")
        sb.host_write("/etc/hosts.deny", "vmware-hostd: ALL\n")

    def wrap_link(t):
        write(t.p("/usr/lib/systemd/system/vmware-hostd.service"), fixture("vmware-hostd.service"))
        write(t.p("/etc/hosts.allow"), "vmware-hostd: 192.168.10.0/24\n")
        write(t.p("/etc/hosts.deny"), "vmware-hostd: ALL\n")
        os.symlink("/etc/systemd", t.p("/etc/systemd"))
    rl_case(sb, "enable wrap, ROOT/etc/systemd -> /etc/systemd", wrap_link,
            ["--init", "systemd", "enable", "wrap", "vmware-hostd"], 4, host_systemd, [loop])

    def wrap_inside(t):
        write(t.p("/usr/lib/systemd/system/vmware-hostd.service"), fixture("vmware-hostd.service"))
        write(t.p("/etc/hosts.allow"), "vmware-hostd: 192.168.10.0/24\n")
        write(t.p("/etc/hosts.deny"), "vmware-hostd: ALL\n")
        os.makedirs(t.p("/sysimage/etc/systemd/system"))
        os.symlink(up() + "sysimage/etc/systemd", t.p("/etc/systemd"))
    rl_case(sb, "enable wrap, ROOT/etc/systemd -> ../../../sysimage/etc/systemd", wrap_inside,
            ["--init", "systemd", "enable", "wrap", "vmware-hostd"], 0, host_systemd,
            after=lambda t, p: C.check(os.path.isfile(t.p("/sysimage" + DROPIN)), "drop-in in the tree",
                                       str(snapshot(t.root))))

    # enable firewall: the .wants link, the policy handed to the checker.
    fw = ["--init", "systemd", "enable", "firewall"]

    def host_fw():
        host_systemd()
        sb.host_write("/etc/ringfence/firewall.conf", fixture("firewall.conf"))

    def fw_tree_in(t):
        write(t.p("/etc/ringfence/firewall.conf"), fixture("firewall.conf"))
        write(t.p("/usr/lib/systemd/system/ringfence-firewall.service"),
              boot_file("systemd/ringfence-firewall.service", "ringfence-firewall.service"))

    def fw_systemd_link(t):
        fw_tree_in(t)
        os.makedirs(t.p("/etc/systemd"))
        os.symlink("/etc/systemd/system", t.p("/etc/systemd/system"))
    rl_case(sb, "enable firewall, ROOT/etc/systemd/system -> /etc/systemd/system", fw_systemd_link, fw, 3, host_fw,
            [loop])

    def fw_policy_link(t):
        fw_tree_in(t)
        shutil.rmtree(t.p("/etc/ringfence"))
        os.symlink("/etc/ringfence", t.p("/etc/ringfence"))
    rl_case(sb, "enable firewall, ROOT/etc/ringfence -> /etc/ringfence", fw_policy_link, fw, 4, host_fw, [loop])

    def sysv_link(t):
        write(t.p("/etc/ringfence/firewall.conf"), fixture("firewall.conf"))
        write(t.p("/etc/alt-rc.d/init.d/ringfence-firewall"),
              boot_file("init.d/ringfence-firewall", "ringfence-firewall.init"), 0o755)
        os.symlink(up() + "etc/alt-rc.d", t.p("/etc/rc.d"))

    def host_sysv():
        host_fw()
        sb.host_write("/etc/alt-rc.d/init.d/ringfence-firewall",
                      boot_file("init.d/ringfence-firewall", "ringfence-firewall.init"), 0o755)
    rl_case(sb, "enable firewall (SysV), ROOT/etc/rc.d -> ../../../etc/alt-rc.d", sysv_link,
            ["--init", "sysv", "enable", "firewall"], 0, host_sysv,
            after=lambda t, p: C.check(os.path.islink(t.p("/etc/alt-rc.d/rc3.d/S08ringfence-firewall")),
                                       "rc3.d link in the tree", str(snapshot(t.root))))


# ---------------------------------------------------------------------------
# interrupted: `enable pam` killed between writing and renaming (strace
# injects SIGKILL at the rename or the link); /etc/pam.d must hold nothing
# that libpam could load as a service, and the next run cleans up.

@test("interrupted")
def test_interrupted():
    strace = shutil.which("strace")
    if strace is None or subprocess.run([strace, "-f", "-qq", "-o", "/dev/null", "true"],
                                        capture_output=True).returncode != 0:
        print("skipped interrupted: strace missing or not permitted here")
        return 77
    orig = fixture("rhel7-system-auth")

    def killed(t, syscalls, when):
        cmd = [strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + syscalls,
               "-e", f"inject={syscalls}:signal=KILL:when={when}", ARGS.ringfence, "--root", t.root, "enable", "pam"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def pamd(t):
        return sorted(os.listdir(t.p("/etc/pam.d")))

    # The first rename is the backup's, the second the PAM file's.
    for when, what in ((1, "the backup"), (2, "the PAM file")):
        C.current = f"interrupted at the rename of {what}"
        with Tree() as t:
            write(t.p("/etc/pam.d/system-auth"), orig)
            p = killed(t, "rename,renameat,renameat2", when)
            C.check(p.returncode == 128 + 9 or p.returncode == -9, f"killed (exit status {p.returncode})",
                    p.stdout + p.stderr)
            C.check(read(t.p("/etc/pam.d/system-auth")) == orig, "the PAM file is still the old one")
            left = [n for n in pamd(t) if n != "system-auth"]
            # libpam lowercases the service name (pam_start, pam_set_item):
            # a file name with a capital letter is never read as a service.
            C.check(all(n.startswith(".") and n != n.lower() for n in left),
                    "nothing left that libpam could read as a service or /etc/pam.d/* would list", str(left))
            p = run(t.root, "enable", "pam", check_rc=0)
            C.check(pamd(t) == ["system-auth"], "the next run removed what was left", str(pamd(t)))
            C.check(MARKER.encode() in read(t.p("/etc/pam.d/system-auth")), "the next run enabled")
            bdir = t.p(BACKUP + "/etc/pam.d")
            C.check(os.path.isdir(bdir) and sorted(os.listdir(bdir)) == ["system-auth"],
                    "nothing left in the backup directory either", str(snapshot(t.root)))
            C.check(try_read(t.p(BACKUP + "/etc/pam.d/system-auth")) == orig, "backup holds the original")

    # Killed while the new content is still an unnamed file: nothing at all.
    C.current = "interrupted before the link"
    with Tree() as t:
        write(t.p("/etc/pam.d/system-auth"), orig)
        p = killed(t, "link,linkat", 2)
        C.check(p.returncode == 128 + 9 or p.returncode == -9, f"killed (exit status {p.returncode})",
                p.stdout + p.stderr)
        C.check(read(t.p("/etc/pam.d/system-auth")) == orig, "the PAM file is still the old one")
        C.check(pamd(t) == ["system-auth"], "no file added to /etc/pam.d", str(pamd(t)))


def digest_host_pamd():
    return tree_digest("/etc/pam.d") if os.path.isdir("/etc/pam.d") else {}


def run_sandboxed(group):
    """Runs `group` again in a private mount namespace; exit 77 when none can be made."""
    C.current = f"{group} (sandboxed)"
    base = tempfile.mkdtemp(prefix="ringfence-cli-ns-")
    try:
        unshare = shutil.which("unshare")
        if unshare is None:
            print(f"skipped {group}: no unshare(1)")
            return 77
        cmd = [unshare, "-m", "--propagation", "private"]
        if os.geteuid() != 0:
            cmd.insert(1, "-r")
        script = ("mount -t tmpfs tmpfs \"$1\" && shift && exec \"$@\"")
        me = [sys.executable, os.path.abspath(__file__), "--ringfence", ARGS.ringfence, "--fixtures", ARGS.fixtures,
              "--sbindir", ARGS.sbindir, "--sandboxed", base, group]
        # What Sandbox does: overlays on /etc and /var, files written in them
        # (in a user namespace, copying up root's directories can fail).
        probe = ("mount -t tmpfs tmpfs \"$0\" && for d in etc var; do mkdir \"$0/u$d\" \"$0/w$d\" && "
                 "mount -t overlay overlay -o lowerdir=/$d,upperdir=\"$0/u$d\",workdir=\"$0/w$d\" /$d || exit 1; "
                 "done && mkdir -p /etc/pam.d /var/lib && : > /etc/pam.d/probe && : > /var/lib/probe")
        p = subprocess.run(cmd + ["sh", "-c", probe, base], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"skipped {group}: cannot make a mount namespace with writable overlays on /etc and /var here: "
                  f"{p.stderr.strip()}")
            return 77
        before = digest_host_pamd()
        p = subprocess.run(cmd + ["sh", "-c", script, "sh", base] + me, capture_output=True, text=True, timeout=300)
        sys.stdout.write(p.stdout)
        sys.stderr.write(p.stderr)
        C.check(p.returncode == 0, f"sandboxed run passed (exit status {p.returncode})")
        C.check(digest_host_pamd() == before, "this machine's /etc/pam.d unchanged (sha256 of every file)")
    finally:
        os.rmdir(base)
    return None


# ---------------------------------------------------------------------------
# status and usage

@test("status")
def test_status():
    C.current = "status all layers"
    with fw_tree() as t:
        write(t.p("/etc/pam.d/system-auth"), fixture("rhel7-system-auth"))
        write(t.p("/etc/pam.d/password-auth"), fixture("rhel9-optout-pamaccess-password-auth"))
        write(t.p("/usr/lib/systemd/system/vmware-hostd.service"), fixture("vmware-hostd.service"))
        p = run(t.root, "status", check_rc=0)
        C.check(p.stdout == "pam:      not enabled (system-auth no, password-auth no)\n"
                            "wrap:     no daemon wrapped\n"
                            "firewall: not enabled (ringfence-firewall.service)\n", "all off", p.stdout)
        run(t.root, "-q", "enable", "pam", "--file", "password-auth", check_rc=0)
        run(t.root, "-q", "enable", "wrap", "vmware-hostd", check_rc=0)
        run(t.root, "-q", "enable", "firewall", check_rc=0)
        p = run(t.root, "status", check_rc=0)
        C.check(p.stdout == "pam:      enabled (system-auth no, password-auth line 10)\n"
                            "wrap:     enabled for vmware-hostd\n"
                            "firewall: enabled (ringfence-firewall.service in multi-user.target.wants)\n",
                "all on", p.stdout)


@test("usage")
def test_usage():
    C.current = "usage"
    with Tree() as t:
        run(None, check_rc=2)
        run(t.root, "frobnicate", check_rc=2)
        run(t.root, "enable", check_rc=2)
        run(t.root, "enable", "pam", "--exec", "x", check_rc=2)
        run(t.root, "enable", "wrap", check_rc=2)
        run(t.root, "enable", "firewall", "--file", "x", check_rc=2)
        run(t.root, "--bogus", "status", check_rc=2)
        run(None, "--root", "relative/dir", "status", check_rc=2)
        run(None, "--root", t.p("/nonexistent"), "status", check_rc=2)
        p = run(None, "--help", check_rc=0)
        C.check("ringfence enable pam [--file FILE]" in p.stdout, "help text", p.stdout)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ringfence", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--sbindir", required=True)
    ap.add_argument("--sandboxed", default="", help=argparse.SUPPRESS)  # inside the namespace: its tmpfs
    ap.add_argument("groups", nargs="*")
    ARGS = ap.parse_args()
    for k in ("ringfence", "fixtures"):
        if getattr(ARGS, k):
            setattr(ARGS, k, os.path.abspath(getattr(ARGS, k)))
    if ARGS.sandboxed:
        tempfile.tempdir = ARGS.sandboxed  # the namespace's own tmpfs, whatever TMPDIR says
    tests = [test_usage, test_pam, test_wrap, test_firewall, test_status, test_rootlinks, test_interrupted]
    skipped = False
    for fn in tests:
        if ARGS.groups and fn.test_name not in ARGS.groups:
            continue
        if not ARGS.groups and fn.test_name in ("rootlinks", "interrupted"):
            continue  # their own ctest tests (a mount namespace, strace)
        skipped = fn() == 77 or skipped
    total = C.passed + len(C.failed)
    if skipped and total == 0:
        return 77
    print(f"ringfence cli: {C.passed} of {total} checks passed, {len(C.failed)} failed")
    return 1 if C.failed else 0


if __name__ == "__main__":
    sys.exit(main())
