#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of `ringfence lint` on --root trees: one clean console (every
layer configured for the management network 10.20.0.0/24), then one tree per
planted mistake, each of which must be reported with the lines of both
layers, and must be absent from the clean tree. Also the per-layer errors
(a broken access.conf, a broken firewall.conf), the JSON form and the exit
statuses (0 clean, 1 errors, 5 warnings only, 2 usage). As root, lint on
"this machine" (an overlay /etc in a private mount namespace) writes the
checked stamps of the clean policy files and of no other.

usage: test_ringfence_lint.py --ringfence BIN
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, show, summary, write  # noqa: E402

ARGS = None

PAM_SSHD = """#%PAM-1.0
auth       substack     password-auth
account    required     pam_nologin.so
account    include      password-auth
session    include      password-auth
"""
PAM_AUTH = """auth        required      pam_unix.so
account [default=bad success=ok user_unknown=ignore] pam_ringfence.so atgroup
account     required      pam_unix.so
session     required      pam_unix.so
"""
ACCESS = """+ : root : LOCAL
+ : @vmadmins : 10.20.0.0/24
- : ALL : ALL
"""
HOSTS_ALLOW = "vmware-hostd: 10.20.0.0/24\n"
HOSTS_DENY = "ALL: ALL\n"
FIREWALL = """policy in drop
service sshServer     tcp/22
service https         tcp/443
service vmware-authd  tcp/902 udp/902
set blocklist file blocklist
deny in from blocklist
allow in sshServer https vmware-authd from 10.20.0.0/24
"""
BLOCKLIST = "203.0.113.0/24\n"
DROPIN = """# Written by 'ringfence enable wrap vmware-hostd'.
[Service]
ExecStart=
ExecStart=/usr/sbin/ringfence-wrap --name vmware-hostd -- /usr/sbin/vmware-hostd -a /etc/vmware/hostd/config.xml
"""


class Tree:
    def __init__(self, replace=None):
        self.root = tempfile.mkdtemp(prefix="ringfence-lint-")
        os.chmod(self.root, 0o755)
        files = {
            "/etc/pam.d/sshd": PAM_SSHD,
            "/etc/pam.d/password-auth": PAM_AUTH,
            "/etc/pam.d/system-auth": PAM_AUTH,
            "/etc/pam.d/login": "account include system-auth\n",
            "/etc/security/access.conf": ACCESS,
            "/etc/hosts.allow": HOSTS_ALLOW,
            "/etc/hosts.deny": HOSTS_DENY,
            "/etc/ringfence/firewall.conf": FIREWALL,
            "/etc/ringfence/blocklist": BLOCKLIST,
            "/etc/systemd/system/vmware-hostd.service.d/ringfence.conf": DROPIN,
        }
        files.update(replace or {})
        for path, data in files.items():
            if data is not None:
                write(self.root + path, data)

    def lint(self, *args):
        p = subprocess.run([ARGS.ringfence, "--root", self.root, "lint"] + list(args), capture_output=True,
                           text=True, timeout=60)
        out = p.stdout.replace(self.root, "")
        return p.returncode, out, p.stderr

    def __enter__(self):
        return self

    def __exit__(self, *a):
        shutil.rmtree(self.root)


# Each planted mistake: the files that differ from the clean tree, and the
# lines that must be in the output (file:line:col of the first layer, the
# other layer's line in the message).
PLANTED = [
    ("access.conf grants a network the firewall drops (dead grant)",
     {"/etc/security/access.conf": ACCESS.replace("- : ALL", "+ : root : 10.9.0.0/16\n- : ALL")},
     ["/etc/security/access.conf:3:12: warning: grants logins from 10.9.0.0/16, but the firewall's default policy "
      "(/etc/ringfence/firewall.conf: policy in drop) drops tcp/22 from 10.9.0.1 (in 10.9.0.0/16): a grant "
      "that can never be used, or a firewall mistake",
      "hint: allow tcp/22 from 10.9.0.0/16 in the firewall, or remove this grant"]),
    ("a blocklisted address granted by name in access.conf",
     {"/etc/security/access.conf": ACCESS.replace("- : ALL", "+ : alice : 203.0.113.7\n- : ALL")},
     ["/etc/security/access.conf:3:13: warning: grants logins from 203.0.113.7/32, but "
      "/etc/ringfence/firewall.conf:6 (deny in from blocklist) drops tcp/22 from 203.0.113.7: an address the "
      "firewall blocks is granted here"]),
    ("hosts.allow grants a daemon to a network the firewall drops",
     {"/etc/hosts.allow": HOSTS_ALLOW + "vmware-hostd: 192.168.5.0/24\n"},
     ["/etc/hosts.allow:2:15: warning: grants vmware-hostd to 192.168.5.0/24, but the firewall's default policy "
      "(/etc/ringfence/firewall.conf: policy in drop) drops tcp/443 from 192.168.5.1 (in 192.168.5.0/24)"]),
    ("a wrapped daemon that hosts.allow grants to nobody",
     {"/etc/hosts.allow": "sshd: 10.20.0.0/24\n"},
     ["/etc/systemd/system/vmware-hostd.service.d/ringfence.conf:4:1: warning: vmware-hostd is wrapped, but no "
      "hosts.allow rule grants it to any address named there, and /etc/hosts.deny:1 (ALL: ALL) refuses the rest: "
      "every client of vmware-hostd is refused"]),
    ("the firewall open from any while the inner layers restrict",
     {"/etc/ringfence/firewall.conf": FIREWALL.replace("from 10.20.0.0/24", "from any")},
     ["/etc/ringfence/firewall.conf:7:1: warning: opens tcp/443 (vmware-hostd) from any address, while "
      "/etc/hosts.deny:1 refuses vmware-hostd to the addresses hosts.allow does not name: the outer layer is the "
      "weakest",
      "/etc/ringfence/firewall.conf:7:1: warning: opens tcp/22 (sshd) from any address, while "
      "/etc/security/access.conf:3 refuses logins from everywhere else: the outer layer is the weakest"]),
    ("pam_ringfence in system-auth, which sshd does not read",
     {"/etc/pam.d/password-auth": PAM_AUTH.replace("account [default=bad success=ok user_unknown=ignore] "
                                                     "pam_ringfence.so atgroup\n", "")},
     ["/etc/pam.d/sshd: warning: sshd does not run pam_ringfence in its account stack: it is in "
      "/etc/pam.d/system-auth, which sshd does not read"]),
    ("a sufficient line before pam_ringfence",
     {"/etc/pam.d/system-auth": "account sufficient pam_localuser.so\n" + PAM_AUTH},
     ["/etc/pam.d/system-auth:1:1: warning: 'sufficient': when pam_localuser.so succeeds, the account stack ends "
      "before pam_ringfence runs (pam_ringfence is at /etc/pam.d/system-auth:3)"]),
]


def explain(t, *args):
    p = subprocess.run([ARGS.ringfence, "--root", t.root, "explain"] + list(args), capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout.replace(t.root, ""), p.stderr


def test_explain():
    timed = ACCESS.replace("- : ALL", "+ : root : 10.20.0.0/24 : Wk0800-1800\n- : ALL")
    with Tree({"/etc/security/access.conf": timed}) as t:
        rc, out, err = explain(t, "--from", "10.20.0.5", "--user", "root", "--at", "Tue 21:00")
        check(rc == 1 and out == (
            "request: from 10.20.0.5 to sshd (tcp/22), user root, at Tue 21:00\n"
            "firewall  allowed by /etc/ringfence/firewall.conf:7 (allow in sshServer https vmware-authd from "
            "10.20.0.0/24): the first allow rule that matches\n"
            "wrappers  not in the path: sshd is not wrapped (no ringfence-wrap drop-in, no xinetd service with "
            "ringfence-tcpd): hosts.allow does not apply\n"
            "pam       denied by /etc/security/access.conf:4 (- : ALL : ALL): line 1 did not match: 10.20.0.5 is a "
            "remote host (rhost), not LOCAL\n"
            "verdict: denied by the pam layer (/etc/security/access.conf:4)\n"
            "to change: add '+ : root : 10.20.0.5' before /etc/security/access.conf:4\n"),
              "explain: root in the evening stops at PAM, with the rule and what to change", show(rc, out, err))
        rc, out, err = explain(t, "--from", "10.20.0.5", "--user", "root", "--at", "2026-12-01 09:30")
        check(rc == 0 and "pam       allowed by /etc/security/access.conf:3 (+ : root : 10.20.0.0/24 : "
              "Wk0800-1800)" in out and out.endswith("verdict: allowed by every layer in the path\n"),
              "explain: the same on a Tuesday morning passes every layer", show(rc, out, err))
        rc, out, err = explain(t, "--from", "10.9.9.9", "--user", "root", "--at", "Tue 10:00")
        check(rc == 1 and "firewall  denied by default (policy in drop)" in out and
              "wrappers  not reached\npam       not reached\n" in out and
              "to change: add 10.9.9.9 to the from list of /etc/ringfence/firewall.conf:7\n" in out,
              "explain: stopped by the firewall's default policy, the later layers not reached", show(rc, out, err))
        rc, out, err = explain(t, "--from", "203.0.113.9", "--service", "22/tcp")
        check(rc == 1 and "denied by /etc/ringfence/firewall.conf:6 (deny in from blocklist)" in out and
              "verdict: denied by the firewall layer (/etc/ringfence/firewall.conf:6)" in out,
              "explain: a blocklisted client, PORT/PROTO", show(rc, out, err))
        rc, out, err = explain(t, "--from", "10.20.0.7", "--service", "vmware-hostd")
        check(rc == 0 and "wrappers  allowed by /etc/hosts.allow:1 (vmware-hostd: 10.20.0.0/24)" in out and
              "pam       not in the path: the account stack of PAM service 'vmware-authd' does not run "
              "pam_ringfence" in out, "explain: the wrapped daemon, granted by hosts.allow", show(rc, out, err))
        rc, out, err = explain(t, "--from", "10.20.0.5")
        check(rc == 3 and "pam       no answer: needs --user" in out and "verdict: no answer" in out,
              "explain: without --user, PAM says what it needs (exit 3)", show(rc, out, err))
        rc, out, err = explain(t, "--from", "10.20.0.5", "--user", "root", "--at", "Tue 21:00", "--format", "json")
        doc = json.loads(out)
        check(rc == 1 and doc["verdict"] == "deny" and doc["stopped_by"] == "pam" and
              [s["layer"] for s in doc["steps"]] == ["firewall", "wrappers", "pam"] and
              doc["steps"][2]["line"] == 4 and doc["steps"][2]["change"].startswith("add '+ : root"),
              "explain: JSON", out)
    with Tree({"/etc/hosts.allow": "sshd: 10.20.0.0/24\n"}) as t:
        rc, out, err = explain(t, "--from", "10.20.0.7", "--service", "vmware-hostd")
        check(rc == 1 and "wrappers  denied by /etc/hosts.deny:1 (ALL: ALL)" in out and
              "to change: add 'vmware-hostd: 10.20.0.7' to /etc/hosts.allow" in out,
              "explain: stopped by hosts.deny", show(rc, out, err))
    # The port sshd really listens on comes from the host's sshd_config.
    with Tree({"/etc/ssh/sshd_config": "# moved\nPort 2222\nMatch User bob\n    Port 2223\n"}) as t:
        rc, out, err = explain(t, "--from", "10.20.0.5", "--user", "root", "--at", "Tue 10:00")
        check(rc == 1 and out.startswith("request: from 10.20.0.5 to sshd (tcp/2222), user root") and
              "firewall  denied by default (policy in drop)" in out and
              "to change: add 'allow in tcp/2222 from 10.20.0.5' to /etc/ringfence/firewall.conf" in out,
              "explain: sshd on the Port of sshd_config (2222), which the firewall does not open",
              show(rc, out, err))
        rc, out, err = t.lint()
        check(rc == 5 and "/etc/security/access.conf:2:17: warning: grants logins from 10.20.0.0/24, but the "
              "firewall's default policy (/etc/ringfence/firewall.conf: policy in drop) drops tcp/2222 from "
              "10.20.0.1 (in 10.20.0.0/24)" in out,
              "lint: access.conf grants sshd on a port the firewall does not open", show(rc, out, err))
    for bad, needle in ((["--user", "root"], "explain needs --from ADDR"),
                        (["--from", "ws1.example.com"], "--from needs an IPv4 or IPv6 address"),
                        (["--from", "10.0.0.1", "--service", "ftp"], "--service: expected sshd"),
                        (["--from", "10.0.0.1", "--at", "someday"], "--at: ")):
        p = subprocess.run([ARGS.ringfence, "explain"] + bad, capture_output=True, text=True)
        check(p.returncode == 2 and needle in p.stderr, "explain usage: %s" % bad, p.stderr)


def live_lint(files, stamps):
    """`ringfence lint` on "this machine", as root: in a private mount
    namespace whose /etc is an overlay holding `files` (the host's /etc is
    untouched), with the checked stamps going to `stamps`. Returns the
    names of the files stamped (their "file" lines)."""
    base = tempfile.mkdtemp(prefix="ringfence-live-lint-")
    try:
        upper, work = os.path.join(base, "up"), os.path.join(base, "wk")
        os.makedirs(work)
        for path, text in files.items():
            write(upper + path, text)
        os.makedirs(stamps, exist_ok=True)
        os.chmod(stamps, 0o755)
        script = ('mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc && exec "$0" lint')
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, ARGS.ringfence,
                            upper + "/etc", work], capture_output=True, text=True,
                           env=dict(os.environ, RINGFENCE_CHECKED_DIR=stamps))
        named = set()
        for n in os.listdir(stamps):
            with open(os.path.join(stamps, n)) as f:
                named |= {l[5:] for l in f.read().splitlines() if l.startswith("file ")}
        return p, named
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_live_stamps():
    """Run as root on the host (no --root), lint stamps the policy files it
    found clean, and only those; under --root it stamps nothing."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("SKIP live lint stamps: needs root and unshare")
        return
    base = tempfile.mkdtemp(prefix="ringfence-stamps-")
    try:
        clean = {"/etc/security/access.conf": ACCESS, "/etc/hosts.allow": HOSTS_ALLOW, "/etc/hosts.deny": HOSTS_DENY}
        p, named = live_lint(clean, os.path.join(base, "clean"))
        want = {"/etc/security/access.conf", "/etc/hosts.allow", "/etc/hosts.deny"}
        check(want <= named, "live lint: the clean access.conf, hosts.allow and hosts.deny are stamped",
              "stamped: %s\n%s" % (sorted(named), show(p.returncode, p.stdout, p.stderr)))
        broken = dict(clean, **{"/etc/hosts.allow": "vmware-hostd 10.20.0.0/24\n"})
        p, named = live_lint(broken, os.path.join(base, "broken"))
        check("/etc/hosts.allow" not in named and {"/etc/security/access.conf", "/etc/hosts.deny"} <= named,
              "live lint: a hosts.allow with an error is not stamped, the clean files are",
              "stamped: %s\n%s" % (sorted(named), show(p.returncode, p.stdout, p.stderr)))
        with Tree() as t:
            stamps = os.path.join(base, "tree")
            os.makedirs(stamps, mode=0o755)
            env = dict(os.environ, RINGFENCE_CHECKED_DIR=stamps)
            p = subprocess.run([ARGS.ringfence, "--root", t.root, "lint"], capture_output=True, text=True, env=env)
            check(p.returncode == 0 and os.listdir(stamps) == [], "lint --root writes no stamp",
                  "%s\n%s" % (os.listdir(stamps), show(p.returncode, p.stdout, p.stderr)))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ringfence", required=True)
    ap.add_argument("groups", nargs="*", default=["lint", "explain"])
    ARGS = ap.parse_args()
    if "explain" in ARGS.groups:
        test_explain()
    if "lint" not in ARGS.groups:
        return summary()

    with Tree() as t:
        rc, out, err = t.lint()
        check(rc == 0 and out == "ringfence lint: 0 errors, 0 warnings\n" and err == "",
              "the clean console: nothing to say, exit 0", show(rc, out, err))
        rc, out, err = t.lint("--format", "json")
        doc = json.loads(out)
        check(rc == 0 and doc == {"errors": 0, "warnings": 0, "diagnostics": []}, "clean, JSON", out)

    for what, files, expect in PLANTED:
        with Tree(files) as t:
            rc, out, err = t.lint()
            check(rc == 5 and all(e in out for e in expect) and out.endswith("0 errors, %d warning%s\n" % (
                len(expect) if "hint:" not in expect[-1] else len(expect) - 1,
                "" if len([e for e in expect if "hint:" not in e]) == 1 else "s")),
                  what + " (exit 5, both lines named)", show(rc, out, err) + "\nexpected:\n" + "\n".join(expect))
            rc, out, err = t.lint("--format", "json")
            doc = json.loads(out)
            check(rc == 5 and doc["errors"] == 0 and doc["warnings"] >= 1 and
                  all(d["severity"] == "warning" and d["hint"] for d in doc["diagnostics"]),
                  what + " (JSON)", out)

    with Tree({"/etc/security/access.conf": "+ : root :\n- : ALL : ALL\n"}) as t:
        rc, out, err = t.lint()
        check(rc == 1 and "/etc/security/access.conf:1:11: error: empty origins field" in out and
              "1 error" in out, "a broken access.conf: the layer's error, exit 1", show(rc, out, err))
    with Tree({"/etc/ringfence/firewall.conf": FIREWALL + "allow in nosuch from any\n"}) as t:
        rc, out, err = t.lint()
        check(rc == 1 and "/etc/ringfence/firewall.conf:8:10: error:" in out,
              "a broken firewall.conf: the layer's error, exit 1", show(rc, out, err))
    test_live_stamps()
    p = subprocess.run([ARGS.ringfence, "lint", "extra"], capture_output=True, text=True)
    check(p.returncode == 2 and "lint takes no argument" in p.stderr, "usage: lint extra", p.stderr)
    p = subprocess.run([ARGS.ringfence, "--nagios", "lint"], capture_output=True, text=True)
    check(p.returncode == 2 and "--nagios and --prometheus go with audit" in p.stderr, "usage: lint --nagios",
          p.stderr)

    return summary()


if __name__ == "__main__":
    sys.exit(main())
