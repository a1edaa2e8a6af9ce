#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every ringfence program answers the command line the same way: --help
(and -h) prints its usage on stdout and exits 0, --version prints
"PROGRAM (ringfence) VERSION", a refused command line prints one line saying
what was wrong plus a pointer to --help (never the whole usage) and exits 2;
tcpdmatch takes options after its operands, as glibc's tcpdmatch does.

Usage: test_program_habits.py --version X NAME=PATH ...
"""
import argparse
import os
import subprocess
import sys
import tempfile

failures = []
count = 0


def check(what, cond, detail=""):
    global count
    count += 1
    if not cond:
        failures.append(what)
        print("FAIL %s %s" % (what, detail))


def run(args, cwd=None):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=30)


# A command line each program must refuse, and what the message must say.
BAD = {
    "ringfence": (["--frobnicate"], "option '--frobnicate'"),
    "ringfence-tcpdchk": (["-x"], "invalid option '-x'"),
    "ringfence-tcpdmatch": (["sshd"], "missing the client"),
    "ringfence-wrap": (["--name"], "option '--name' needs a value"),
    "ringfence-tcpd": ([], "run me with argv[0] set to the real daemon"),
    "ringfence-firewall": (["--frobnicate"], "--frobnicate"),
    "ringfence-accesschk": (["--frobnicate"], "unrecognized option '--frobnicate'"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", required=True)
    ap.add_argument("programs", nargs="+", help="NAME=PATH")
    a = ap.parse_args()
    progs = dict(p.split("=", 1) for p in a.programs)
    for name, path in sorted(progs.items()):
        for flag in ("--help", "-h"):
            if name == "ringfence-tcpd" and flag == "-h":
                continue
            r = run([path, flag])
            check("%s %s: exit 0" % (name, flag), r.returncode == 0, "rc=%d %s" % (r.returncode, r.stderr))
            check("%s %s: usage on stdout" % (name, flag), r.stdout.lower().startswith("usage:"), r.stdout[:80])
            check("%s %s: nothing on stderr" % (name, flag), r.stderr == "", r.stderr)
        r = run([path, "--version"])
        check("%s --version" % name, r.returncode == 0 and r.stdout == "%s (ringfence) %s\n" % (name, a.version),
              repr(r.stdout))
        if name in BAD:
            args, says = BAD[name]
            r = run([path] + args)
            lines = r.stderr.splitlines()
            check("%s %s: exit 2" % (name, args), r.returncode == 2, "rc=%d" % r.returncode)
            check("%s %s: two lines on stderr" % (name, args), len(lines) == 2, repr(r.stderr))
            check("%s %s: says what was wrong" % (name, args), bool(lines) and says in lines[0], repr(r.stderr))
            check("%s %s: points to --help" % (name, args),
                  len(lines) == 2 and lines[1] == "Try '%s --help' for more information." % name, repr(r.stderr))
            check("%s %s: no usage dump" % (name, args), "usage:" not in r.stderr and r.stdout == "", r.stderr)

    if "ringfence-tcpdmatch" in progs:
        m = progs["ringfence-tcpdmatch"]
        with tempfile.TemporaryDirectory() as d:
            before = run([m, "-d", "sshd", "10.1.2.3"], cwd=d)
            after = run([m, "sshd", "10.1.2.3", "-d"], cwd=d)
            check("tcpdmatch: -d after the operands", after.returncode == 0 and after.stdout == before.stdout,
                  "rc=%d %r %r" % (after.returncode, after.stdout, after.stderr))
            check("tcpdmatch -d without files: says neither exists, still granted",
                  "neither hosts.allow nor hosts.deny exists" in after.stdout and "access:   granted" in after.stdout,
                  after.stdout)
    if "ringfence-tcpdchk" in progs:
        with tempfile.TemporaryDirectory() as d:
            r = run([progs["ringfence-tcpdchk"], "-d"], cwd=d)
            check("tcpdchk -d without files: exit 0 and says neither exists",
                  r.returncode == 0 and "neither hosts.allow nor hosts.deny exists" in r.stdout, repr(r.stdout))

    print("program habits: %d checks, %d failed" % (count, len(failures)))
    print("%d passed, %d failed" % (count - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
