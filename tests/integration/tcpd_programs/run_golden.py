#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Golden-output tests of ringfence-tcpdchk and ringfence-tcpdmatch.

For each case NAME in golden/: NAME.allow and NAME.deny (either may be
missing: a missing table is empty) are copied to a temporary directory as
hosts.allow and hosts.deny (mode 0644, so the safe reader accepts them), then
  * `ringfence-tcpdchk -d -a -v` runs there; its stdout and exit status must
    equal NAME.chk.out;
  * every line of NAME.requests is the argument list of one
    `ringfence-tcpdmatch -d ...` (--addr requests: no lookups, so the output
    does not depend on DNS); the outputs must equal NAME.match.out.
Comparisons are exact. --update rewrites the .out files (review the diff!).
"""
import argparse
import difflib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p.stdout.decode("utf-8", "replace"), p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcpdchk", required=True)
    ap.add_argument("--tcpdmatch", required=True)
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()

    cases = sorted({f.rsplit(".", 1)[0] for f in os.listdir(GOLDEN)
                    if f.endswith((".allow", ".deny"))})
    failed = 0
    checked = 0
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="rf-golden-") as tmp:
            for ext, name in (("allow", "hosts.allow"), ("deny", "hosts.deny")):
                src = os.path.join(GOLDEN, case + "." + ext)
                if os.path.exists(src):
                    dst = os.path.join(tmp, name)
                    shutil.copyfile(src, dst)
                    os.chmod(dst, 0o644)
            outputs = {}
            out, rc = run([args.tcpdchk, "-d", "-a", "-v"], tmp)
            outputs["chk.out"] = out + "exit: %d\n" % rc
            req_file = os.path.join(GOLDEN, case + ".requests")
            if os.path.exists(req_file):
                text = ""
                with open(req_file) as f:
                    for line in f:
                        line = line.strip()
                        if not line or line.startswith("#"):
                            continue
                        out, rc = run([args.tcpdmatch, "-d"] + shlex.split(line), tmp)
                        text += "$ ringfence-tcpdmatch -d %s\n%s" % (line, out)
                        if rc != 0:
                            text += "exit: %d\n" % rc
                        text += "\n"
                outputs["match.out"] = text
            for suffix, got in outputs.items():
                path = os.path.join(GOLDEN, case + "." + suffix)
                checked += 1
                if args.update:
                    with open(path, "w") as f:
                        f.write(got)
                    continue
                want = open(path).read() if os.path.exists(path) else ""
                if got != want:
                    failed += 1
                    print("FAIL %s.%s" % (case, suffix))
                    sys.stdout.writelines(difflib.unified_diff(
                        want.splitlines(True), got.splitlines(True), "expected", "got"))
                else:
                    print("ok   %s.%s" % (case, suffix))
    print("%d golden files, %d differ" % (checked, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
