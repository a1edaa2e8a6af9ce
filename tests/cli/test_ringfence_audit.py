#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of `ringfence audit`: states made for real, and the report an admin
and a monitoring system see.

files:      --root trees built from copies of RHEL 9 PAM files; each drift
            (PAM line removed, a 'sufficient' line before it, policy made
            world-writable, module missing, no ALL: ALL) turns the audit to
            the documented state and exit status. The Nagios output is checked
            against the Monitoring Plugins grammar (perfdata included), JSON
            is parsed, the Prometheus textfile is read back.
processes:  in a private PID and mount namespace with the tree's
            /etc/systemd/system and /etc/pam.d mounted over the host's: a
            daemon started through ringfence-wrap has the preload mapped (OK);
            the same daemon restarted without it is CRITICAL.

usage: test_ringfence_audit.py --ringfence BIN --wrap BIN --module SO [GROUP...]
Prints a count summary; exit 0 when every check passed, 77 when a group
cannot run here.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ARGS = None
PASSED = 0
FAILED = []

SSHD = """#%PAM-1.0
auth       substack     password-auth
account    required     pam_sepermit.so
account    required     pam_nologin.so
account    include      password-auth
password   include      password-auth
session    include      password-auth
"""

AUTH = """auth        required      pam_env.so
auth        sufficient    pam_unix.so nullok
auth        required      pam_deny.so

account     required      pam_access.so
# ringfence: next line added by 'ringfence enable pam'; 'ringfence disable pam' removes both
account [default=bad success=ok user_unknown=ignore] pam_ringfence.so atgroup
account     required      pam_unix.so

session     required      pam_unix.so
"""

ACCESS = "+ : root : LOCAL\n+ : @vmadmins EXCEPT badadmin : ALL\n- : ALL : ALL\n"

# Monitoring Plugins development guidelines: "SERVICE STATUS - text | perfdata",
# perfdata 'label'=value[UOM];[warn];[crit];[min];[max], space separated.
NAGIOS_FIRST = re.compile(r"^RINGFENCE (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \| "
                          r"([A-Za-z_]+=\d+;[^; ]*;[^; ]*;[^; ]*(?: |$))+$")


def check(cond, what, detail=""):
    global PASSED
    if cond:
        PASSED += 1
    else:
        FAILED.append(what)
        print("FAIL " + what)
        if detail:
            print("     " + detail.replace("\n", "\n     "))
    return cond


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)


class Tree:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="ringfence-audit-")
        os.chmod(self.root, 0o755)
        write(self.p("/etc/pam.d/sshd"), SSHD)
        write(self.p("/etc/pam.d/login"), "account include system-auth\n")
        write(self.p("/etc/pam.d/system-auth"), AUTH)
        write(self.p("/etc/pam.d/password-auth"), AUTH)
        write(self.p("/etc/security/access.conf"), ACCESS)
        write(self.p("/etc/hosts.allow"), "vmware-hostd: 10.0.0.0/8\n")
        write(self.p("/etc/hosts.deny"), "ALL: ALL\n")
        os.makedirs(self.p("/usr/lib64/security"))
        shutil.copy(ARGS.module, self.p("/usr/lib64/security/pam_ringfence.so"))
        os.chmod(self.p("/usr/lib64/security/pam_ringfence.so"), 0o755)

    def p(self, path):
        return self.root + path

    def __enter__(self):
        return self

    def __exit__(self, *a):
        shutil.rmtree(self.root)


def audit(root, *args):
    cmd = [ARGS.ringfence] + (["--root", root] if root else []) + ["audit"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def show(rc, out, err):
    return "exit %d\n--- stdout\n%s--- stderr\n%s" % (rc, out, err)


def items(out):
    return {(i["layer"], i["check"]): i for i in json.loads(out)["items"]}


def test_files():
    with Tree() as t:
        rc, out, err = audit(t.root, "--nagios")
        first = out.split("\n")[0]
        check(rc == 0 and first.startswith("RINGFENCE OK - all ") and NAGIOS_FIRST.match(first) and err == "",
              "clean tree: OK, exit 0, the guidelines' first line", show(rc, out, err))
        check("OK pam sshd: pam_ringfence decides in the account stack (/etc/pam.d/password-auth:7, "
              "[default=bad success=ok user_unknown=ignore])" in out, "sshd reaches it through password-auth",
              out)
        rc, out, err = audit(t.root, "--format", "json")
        doc = json.loads(out)
        check(rc == 0 and doc["state"] == "OK" and ("pam", "login") in items(out) and
              items(out)[("files", "/etc/hosts.deny")]["state"] == "OK", "JSON: parsed, every item OK", out)

        prom = os.path.join(t.root, "textfile", "ringfence.prom")
        os.makedirs(os.path.dirname(prom))
        rc, out, err = audit(t.root, "--prometheus", prom)
        text = open(prom).read() if os.path.exists(prom) else ""
        check(rc == 0 and "ringfence_audit_state 0\n" in text and
              'ringfence_audit_check_state{layer="pam",check="sshd"} 0\n' in text and
              re.search(r"^ringfence_audit_timestamp_seconds \d+$", text, re.M) is not None and
              os.listdir(os.path.dirname(prom)) == ["ringfence.prom"] and
              oct(os.stat(prom).st_mode & 0o777) == "0o644",
              "Prometheus textfile written whole, 0644, nothing else left in the directory", text)

        # The line only in system-auth: sshd (password-auth) no longer runs it.
        write(t.p("/etc/pam.d/password-auth"), AUTH.replace("pam_ringfence.so", "pam_faillock.so"))
        rc, out, err = audit(t.root, "--nagios")
        first = out.split("\n")[0]
        check(rc == 2 and NAGIOS_FIRST.match(first) and first.startswith(
            "RINGFENCE CRITICAL - 1 critical of ") and "pam sshd: /etc/pam.d/sshd: warning: sshd does not run "
            "pam_ringfence in its account stack: it is in /etc/pam.d/system-auth, which sshd does not read" in first,
            "PAM line removed from password-auth: CRITICAL naming the file sshd does not read", show(rc, out, err))
        write(t.p("/etc/pam.d/password-auth"), AUTH.replace("account     required      pam_access.so",
                                                            "account     sufficient    pam_localuser.so"))
        rc, out, err = audit(t.root, "--format", "json")
        it = items(out)[("pam", "sshd")]
        check(rc == 2 and it["state"] == "CRITICAL" and "'sufficient': when pam_localuser.so succeeds" in it["message"],
              "a sufficient line before it: CRITICAL", out)
        write(t.p("/etc/pam.d/password-auth"), AUTH)

        os.chmod(t.p("/etc/security/access.conf"), 0o666)
        rc, out, err = audit(t.root, "--format", "json")
        it = items(out)
        check(rc == 2 and it[("files", "/etc/security/access.conf")]["state"] == "CRITICAL" and
              it[("pam", "policy")]["state"] == "CRITICAL" and
              "refuses every login" in it[("pam", "policy")]["message"],
              "world-writable access.conf: CRITICAL (file and policy)", out)
        os.chmod(t.p("/etc/security/access.conf"), 0o644)

        write(t.p("/etc/security/access.conf"), "+ : root : LOCAL\n")
        write(t.p("/etc/hosts.deny"), "# nothing\n")
        rc, out, err = audit(t.root, "--format", "json")
        it = items(out)
        check(rc == 1 and it[("pam", "policy")]["state"] == "WARNING" and
              it[("wrap", "hosts")]["state"] == "WARNING", "no final deny, no ALL: ALL: WARNING, exit 1", out)
        write(t.p("/etc/security/access.conf"), ACCESS)
        write(t.p("/etc/hosts.deny"), "ALL: ALL\n")

        os.unlink(t.p("/usr/lib64/security/pam_ringfence.so"))
        rc, out, err = audit(t.root, "--format", "json")
        it = items(out)[("pam", "module")]
        check(rc == 2 and it["state"] == "CRITICAL" and "not found" in it["message"],
              "module file missing: CRITICAL", out)

    with Tree() as t:
        for f in ("sshd", "login", "system-auth", "password-auth"):
            os.unlink(t.p("/etc/pam.d/" + f))
        rc, out, err = audit(t.root)
        check(rc == 1 and "WARNING pam account: pam_ringfence is in the account stack of no console service "
              "(0 checked): the account layer is off" in out and out.endswith(")\n"),
              "no PAM layer at all: one WARNING, text summary last", show(rc, out, err))

    rc, out, err = audit(None, "--prometheus", "relative.prom")
    check(rc == 2 and "--prometheus needs an absolute file name" in err, "usage: --prometheus relative", err)
    rc, out, err = audit(None, "--format", "xml")
    check(rc == 2 and "--format takes text or json" in err, "usage: --format xml", err)


def in_namespace(group):
    """Re-runs this script in a new PID and mount namespace; 77 if not possible."""
    if os.environ.get("RINGFENCE_AUDIT_NS") == group:
        return None
    env = dict(os.environ, RINGFENCE_AUDIT_NS=group)
    cmd = ["unshare", "--mount", "--pid", "--fork", "--mount-proc", sys.executable, os.path.abspath(__file__),
           "--ringfence", ARGS.ringfence, "--wrap", ARGS.wrap, "--module", ARGS.module, group]
    try:
        return subprocess.run(cmd, env=env, timeout=240).returncode
    except (OSError, subprocess.SubprocessError) as e:
        print("skipped: cannot make a namespace: %s" % e)
        return 77


def test_processes():
    with Tree() as t:
        drop = t.p("/etc/systemd/system/sleeper.service.d/ringfence.conf")
        write(drop, "# Written by 'ringfence enable wrap sleeper'.\n[Service]\nExecStart=\n"
                    "ExecStart=/usr/sbin/ringfence-wrap --name sleeper -- /usr/bin/sleep 600\n")
        for path in ("/etc/systemd/system", "/etc/pam.d", "/etc/hosts.allow", "/etc/hosts.deny",
                     "/etc/security/access.conf"):
            subprocess.run(["mount", "--bind", t.p(path), path], check=True)
        sleep = os.path.realpath("/usr/bin/sleep")
        if sleep != "/usr/bin/sleep":
            print("note: /usr/bin/sleep is %s" % sleep)
        wrapped = subprocess.Popen([ARGS.wrap, "--name", "sleeper", "--", "/usr/bin/sleep", "600"])
        time.sleep(0.5)
        rc, out, err = audit(None, "--format", "json")
        it = items(out).get(("wrap", "sleeper"), {})
        check(it.get("state") == "OK" and "runs with libringfence-preload.so (1 process(es))" in it.get("message", ""),
              "started through ringfence-wrap: the preload is mapped (OK)", out + err)
        wrapped.kill()
        wrapped.wait()
        bare = subprocess.Popen(["/usr/bin/sleep", "600"])
        time.sleep(0.2)
        rc, out, err = audit(None, "--nagios")
        check(rc == 2 and re.search(r"^CRITICAL wrap sleeper: /usr/bin/sleep runs without libringfence-preload.so "
                                    r"\(pid \d+\): its clients are not checked$", out, re.M) is not None,
              "restarted without ringfence-wrap: CRITICAL, exit 2", show(rc, out, err))
        bare.kill()
        bare.wait()
        rc, out, err = audit(None, "--format", "json")
        check(items(out).get(("wrap", "sleeper"), {}).get("state") == "WARNING", "not running: WARNING", out)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ringfence", required=True)
    ap.add_argument("--wrap", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("groups", nargs="*", default=["files"])
    ARGS = ap.parse_args()
    for g in ARGS.groups:
        if g == "files":
            test_files()
        elif g == "processes":
            rc = in_namespace(g)
            if rc is None:
                test_processes()
            elif rc == 77:
                return 77
            else:
                check(rc == 0, "processes (in a namespace): exit %d" % rc)
    print("%d passed, %d failed" % (PASSED, len(FAILED)))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
