#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Integration test of ringfence-accesschk: the real program, users and
groups from nss_wrapper (the system's name service as the module sees it),
policy files in a temporary directory read through the module's own reader
(so they must pass its trust checks: owned by root or by us, not group- or
world-writable, not a link). Nothing on the host is read or changed: every
policy is given with --accessfile and every rhost is an address (no DNS).

Checks the exit status scheme (lint 0/1/5, explain 0/1/3, usage 2), the
warnings for a missing final deny, a misspelt group and @group without
atgroup, the refusal of unsafe files, and the explanation of the demo
policy (etc/demo/access.conf, the seed recipe) for a few logins. With
--faketime, also that explain without --at uses the current local time.
"""
import argparse
import os
import subprocess
import sys
import tempfile

SKIP = 77

USERS = [("root", 0, 0), ("alice", 1001, 100), ("bob", 1002, 100), ("badadmin", 1003, 100),
         ("vpxuser", 1004, 100)]
GROUPS = [("root", 0, []), ("users", 100, []), ("vmadmins", 1001, ["alice", "badadmin", "vpxuser"])]

failures = []


def check(cond, what, detail=""):
    if cond:
        print("ok   " + what, flush=True)
    else:
        print("FAIL " + what + ("\n" + detail if detail else ""), flush=True)
        failures.append(what)


class Runner:
    def __init__(self, args, work):
        self.prog = os.path.abspath(args.accesschk)
        self.work = work
        passwd = os.path.join(work, "passwd")
        group = os.path.join(work, "group")
        write(passwd, "".join("%s:x:%d:%d:%s:/home/%s:/bin/sh\n" % (n, u, g, n, n) for n, u, g in USERS))
        write(group, "".join("%s:x:%d:%s\n" % (n, g, ",".join(m)) for n, g, m in GROUPS))
        env = dict(os.environ)
        env.update(LD_PRELOAD=args.nss_wrapper, NSS_WRAPPER_PASSWD=passwd, NSS_WRAPPER_GROUP=group,
                   NSS_WRAPPER_DISABLE_DEEPBIND="1", LC_ALL="C", TZ="UTC")
        asan = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        self.env = env

    def run(self, *argv, extra_env=None):
        env = dict(self.env)
        if extra_env:
            env.update(extra_env)
            if "LD_PRELOAD" in extra_env:
                env["LD_PRELOAD"] = extra_env["LD_PRELOAD"] + ":" + self.env["LD_PRELOAD"]
        p = subprocess.run([self.prog] + list(argv), cwd=self.work, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def show(rc, out, err):
    return "exit %d\n--- stdout\n%s--- stderr\n%s" % (rc, out, err)


def test_command_line(r):
    rc, out, err = r.run("--help")
    check(rc == 0 and out.startswith("usage: ringfence-accesschk") and "Exit status" in out and err == "",
          "--help: usage on stdout, exit 0", show(rc, out, err))
    rc, out, err = r.run("--version")
    check(rc == 0 and out.startswith("ringfence-accesschk (ringfence) "), "--version", show(rc, out, err))
    for argv, needle in [
        (["--bogus"], "unrecognized option '--bogus'"),
        (["-f"], "option '-f' needs a value"),
        (["extra"], "unexpected argument 'extra'"),
        (["-f", "a.conf", "--rhost", "10.0.0.1"], "describe the login of --explain USER"),
        (["--explain", "alice"], "--explain needs the origin of the login"),
        (["--explain", "alice", "--rhost", "10.0.0.1", "--tty", "tty1"], "give --rhost or --tty, not both"),
        (["-f", "demo.conf", "--explain", "alice", "--tty", "tty1", "--at", "Tue 25:00"], "--at: '25:00'"),
        (["-o", "atgroup bogus"], "unrecognized module option 'bogus'"),
    ]:
        rc, out, err = r.run(*argv)
        lines = err.splitlines()
        check(rc == 2 and out == "" and len(lines) == 2 and needle in lines[0] and
              lines[1] == "Try 'ringfence-accesschk --help' for more information.",
              "usage error %s: exit 2, one line and a pointer to --help" % argv, show(rc, out, err))
    # Options anywhere (no '+' in getopt's string).
    rc, out, err = r.run("--explain", "root", "--tty", "tty1", "-f", "demo.conf", "--at", "Mon 10:00", "--atgroup")
    check(rc == 0 and "verdict: allowed by demo.conf:8" in out, "options in any order", show(rc, out, err))


def test_lint(r):
    rc, out, err = r.run("-f", "demo.conf", "--atgroup")
    check(rc == 0 and out == "demo.conf: 7 rules in 1 file: 0 errors, 0 warnings\n" and err == "",
          "lint: the demo policy with atgroup is clean (exit 0)", show(rc, out, err))

    write(os.path.join(r.work, "nodeny.conf"), "+ : root : LOCAL\n+ : (vmadmins) : ALL\n")
    rc, out, err = r.run("--accessfile", "nodeny.conf")
    check(rc == 5 and out == (
        "nodeny.conf:2:1: warning: no rule matches every login: a login that no rule matches is allowed "
        "(as pam_access)\n"
        "    + : (vmadmins) : ALL\n"
        "    ^\n"
        "    hint: end the policy with '- : ALL : ALL', after the rules that allow\n"
        "nodeny.conf: 2 rules in 1 file: 0 errors, 1 warning\n"),
        "lint: missing final deny is a warning with file:line:col, the line, a caret and a hint (exit 5)",
        show(rc, out, err))

    # The names come from the system's name service (here nss_wrapper).
    write(os.path.join(r.work, "names.conf"),
          "+ : root : LOCAL\n+ : (vmadmin) : ALL\n+ : @vmadmins EXCEPT badadmin : ALL\n- : ALL : ALL\n")
    rc, out, err = r.run("-f", "names.conf")
    check(rc == 5 and "names.conf:2:5: warning: there is no group 'vmadmin': (vmadmin) matches nobody" in out and
          "names.conf:3:5: warning: @vmadmins is a NIS netgroup here; the UNIX group needs (vmadmins) or the "
          "atgroup option" in out and "1 file: 0 errors, 2 warnings" in out,
          "lint: misspelt group and @group without atgroup (users and groups from NSS)", show(rc, out, err))
    rc, out, err = r.run("-f", "names.conf", "--module-options", "atgroup")
    check(rc == 5 and "@vmadmins" not in out and "1 warning\n" in out,
          "lint: --module-options atgroup reads @vmadmins as the group", show(rc, out, err))

    write(os.path.join(r.work, "bad.conf"), "+ : root :\n- : ALL : ALL\n")
    rc, out, err = r.run("-f", "bad.conf")
    check(rc == 1 and "bad.conf:1:11: error: empty origins field" in out and "1 error, 0 warnings" in out and
          "refuses every login" in out, "lint: a policy error exits 1", show(rc, out, err))

    write(os.path.join(r.work, "open.conf"), "- : ALL : ALL\n", mode=0o666)
    rc, out, err = r.run("-f", "open.conf")
    check(rc == 1 and "open.conf: error:" in out and "writable" in out,
          "lint: a world-writable file is refused as the module refuses it", show(rc, out, err))
    os.symlink("demo.conf", os.path.join(r.work, "link.conf"))
    rc, out, err = r.run("-f", "link.conf", "--atgroup")
    check(rc == 1 and "link.conf: error:" in out, "lint: a symbolic link is refused", show(rc, out, err))
    rc, out, err = r.run("-f", "missing.conf")
    check(rc == 1 and "missing.conf: error: no such file" in out, "lint: a missing accessfile= exits 1",
          show(rc, out, err))


DEMO_ALICE = """\
request: user alice, from 127.0.0.4 (rhost), at Tue 21:00
demo.conf:8: + : root : crond cron console tty1 tty2 tty3 tty4 tty5 tty6
  users   alice is neither root nor in group root: no match
demo.conf:10: + : root : 127.0.0.2
  users   alice is neither root nor in group root: no match
demo.conf:12: + : @vmadmins EXCEPT badadmin : ALL
  users   alice is in group vmadmins (listed member)
  users   EXCEPT badadmin: alice is not badadmin, and there is no group badadmin
  origins ALL matches every origin
  -> allowed by demo.conf:12
verdict: allowed by demo.conf:12
"""


def test_explain(r):
    rc, out, err = r.run("-f", "demo.conf", "--atgroup", "--explain", "alice", "--rhost", "127.0.0.4",
                         "--at", "Tue 21:00")
    check(rc == 0 and out == DEMO_ALICE and err == "", "explain: alice via vmadmins (exit 0)", show(rc, out, err))

    rc, out, err = r.run("-f", "demo.conf", "--atgroup", "--explain", "badadmin", "--rhost", "127.0.0.4",
                         "--service", "sshd", "--at", "Tue 21:00")
    check(rc == 1 and out.startswith("request: user badadmin, from 127.0.0.4 (rhost), service sshd, at Tue 21:00\n")
          and "  users   EXCEPT badadmin: badadmin is badadmin: no match\n" in out
          and "demo.conf:14: + : badadmin : 127.0.0.2\n  users   badadmin is badadmin\n"
              "  origins 127.0.0.4 is not 127.0.0.2: no match\n" in out
          and out.endswith("  -> denied by demo.conf:20\nverdict: denied by demo.conf:20\n"),
          "explain: badadmin from elsewhere is denied by the final rule (exit 1)", show(rc, out, err))

    rc, out, err = r.run("-f", "demo.conf", "--atgroup", "--explain", "bob", "--rhost", "127.0.0.4",
                         "--at", "2024-05-14 09:00")
    check(rc == 0 and "  time    Tue 09:00 is within Wk0800-1800\n" in out and
          out.endswith("verdict: allowed by demo.conf:16\n"),
          "explain: bob on a Tuesday morning (a date)", show(rc, out, err))
    rc, out, err = r.run("-f", "demo.conf", "--atgroup", "--explain", "bob", "--rhost", "127.0.0.4",
                         "--at", "Sat 09:00")
    check(rc == 1 and "  time    Sat 09:00 is outside Wk0800-1800: no match\n" in out and
          out.endswith("verdict: denied by demo.conf:20\n"), "explain: bob on a Saturday", show(rc, out, err))

    rc, out, err = r.run("-f", "demo.conf", "--atgroup", "--explain", "root", "--tty", "/dev/tty1",
                         "--at", "Mon 03:00")
    check(rc == 0 and "  origins tty1 is tty1\n  -> allowed by demo.conf:8\n" in out,
          "explain: root on /dev/tty1", show(rc, out, err))

    rc, out, err = r.run("-f", "demo.conf", "--atgroup", "--explain", "nosuch", "--tty", "tty1")
    check(rc == 3 and "no such user 'nosuch'" in out and "PAM_USER_UNKNOWN" in out,
          "explain: an unknown user has no answer (exit 3)", show(rc, out, err))

    rc, out, err = r.run("-f", "bad.conf", "--explain", "root", "--tty", "tty1")
    check(rc == 1 and "bad.conf:1:11: error: empty origins field" in err and
          "verdict: denied: the policy has errors" in out, "explain: a broken policy is denied (exit 1)", show(rc, out, err))


def test_explain_now(r, faketime):
    # Tuesday 2024-05-14 21:00 UTC; TZ=UTC in the environment.
    rc, out, err = r.run("-f", "demo.conf", "--atgroup", "--explain", "bob", "--rhost", "127.0.0.4",
                         extra_env={"LD_PRELOAD": faketime, "FAKETIME": "@2024-05-14 21:00:00",
                                    "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    check(rc == 1 and "at Tue 21:00\n" in out and "Tue 21:00 is outside Wk0800-1800: no match" in out,
          "explain: without --at, the current local time", show(rc, out, err))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accesschk", required=True)
    ap.add_argument("--nss-wrapper", required=True)
    ap.add_argument("--demo", required=True, help="etc/demo/access.conf")
    ap.add_argument("--faketime", help="libfaketime.so.1 (optional)")
    args = ap.parse_args()
    if not os.path.exists(args.nss_wrapper):
        print("SKIP: no nss_wrapper at %s" % args.nss_wrapper)
        return SKIP
    with tempfile.TemporaryDirectory(prefix="rf-accesschk-") as work:
        os.chmod(work, 0o755)
        with open(args.demo) as f:
            write(os.path.join(work, "demo.conf"), f.read())
        r = Runner(args, work)
        test_command_line(r)
        test_lint(r)
        test_explain(r)
        if args.faketime and os.path.exists(args.faketime):
            test_explain_now(r, args.faketime)
        else:
            print("skip explain without --at: no libfaketime")
    if failures:
        print("%d check(s) failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
