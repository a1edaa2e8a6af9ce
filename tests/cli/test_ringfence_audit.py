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
processes:  in private PID, mount and network namespaces, with an overlay
            on /etc holding the tree's files: a daemon started through
            ringfence-wrap has the preload mapped (OK); the same daemon
            restarted without it is CRITICAL. ringfence-firewall applies the
            policy (OK); a rule inserted by hand with nft makes the audit
            CRITICAL, and it is OK again after `ringfence-firewall apply`.

usage: test_ringfence_audit.py --ringfence BIN --wrap BIN --module SO --firewall BIN [GROUP...]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, show, summary, write  # noqa: E402

ARGS = None

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

FIREWALL = "policy in drop\nservice sshServer tcp/22\nallow in sshServer from 10.20.0.0/24\n"
UNIT = "[Unit]\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"

ACCESS = "+ : root : LOCAL\n+ : @vmadmins EXCEPT badadmin : ALL\n- : ALL : ALL\n"

# Monitoring Plugins development guidelines: "SERVICE STATUS - text | perfdata",
# perfdata 'label'=value[UOM];[warn];[crit];[min];[max], space separated.
NAGIOS_FIRST = re.compile(r"^RINGFENCE (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \| "
                          r"([A-Za-z_]+=\d+;[^; ]*;[^; ]*;[^; ]*(?: |$))+$")


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
        write(self.p("/etc/ringfence/firewall.conf"), FIREWALL)
        write(self.p("/etc/systemd/system/ringfence-firewall.service"), UNIT)
        os.makedirs(self.p("/etc/systemd/system/multi-user.target.wants"))
        os.symlink("/etc/systemd/system/ringfence-firewall.service",
                   self.p("/etc/systemd/system/multi-user.target.wants/ringfence-firewall.service"))
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
    # The sandbox has no systemd running: say which init the host uses.
    cmd = [ARGS.ringfence] + (["--root", root] if root else ["--init", "systemd"]) + ["audit"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


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

    # ringfence sync's feeds and bundle (ringfence-sync(8)).
    with Tree() as t:
        import base64
        key = base64.b64encode(b"Ed" + bytes(range(8)) + bytes(range(32))).decode()
        write(t.p("/etc/ringfence/keys/site.pub"), "untrusted comment: test key\n" + key + "\n")
        write(t.p("/etc/ringfence/sync.conf"), "bundle https://policy.example.org/consoles/\n"
              "key /etc/ringfence/keys/site.pub\n")
        write(t.p("/etc/ringfence/firewall.conf"), FIREWALL.replace(
            "allow in", "set drop url https://feeds.example.org/drop.txt every 1h\ndeny in from drop\nallow in"))
        rc, out, err = audit(t.root, "--format", "json")
        it = items(out)
        check(rc == 1 and it.get(("sync", "bundle"), {}).get("message") == "no bundle installed yet" and
              it[("sync", "bundle")]["state"] == "WARNING" and it.get(("sync", "feed drop"), {}).get("state") ==
              "WARNING" and "never fetched" in it[("sync", "feed drop")]["message"],
              "sync: no bundle yet and a feed never fetched: WARNING", out + err)
        write(t.p("/var/lib/ringfence/sync/bundle.state"), "serial 7\nexpires 1700000000\n")
        write(t.p("/var/lib/ringfence/sync/feed-drop.state"), "good %d\n" % int(time.time()))
        rc, out, err = audit(t.root, "--nagios")
        check(rc == 2 and "CRITICAL sync bundle: bundle serial 7 expired at " in out and
              "(the host is frozen on it)" in out and "OK sync feed drop: feed drop ok" in out,
              "sync: an expired bundle is CRITICAL, a fresh feed OK", show(rc, out, err))

    rc, out, err = audit(None, "--prometheus", "relative.prom")
    check(rc == 2 and "--prometheus needs an absolute file name" in err, "usage: --prometheus relative", err)
    rc, out, err = audit(None, "--format", "xml")
    check(rc == 2 and "--format takes text or json" in err, "usage: --format xml", err)


def in_namespace(group):
    """Re-runs this script in a new PID and mount namespace; 77 if not possible."""
    if os.environ.get("RINGFENCE_AUDIT_NS") == group:
        return None
    env = dict(os.environ, RINGFENCE_AUDIT_NS=group)
    cmd = ["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", sys.executable,
           os.path.abspath(__file__), "--ringfence", ARGS.ringfence, "--wrap", ARGS.wrap, "--module", ARGS.module,
           "--firewall", ARGS.firewall, group]
    try:
        return subprocess.run(cmd, env=env, timeout=240).returncode
    except (OSError, subprocess.SubprocessError) as e:
        print("skipped: cannot make a namespace: %s" % e)
        return 77


def test_processes():
    with Tree() as t:
        work = tempfile.mkdtemp(prefix="ringfence-audit-etc-")
        for d in ("up", "wd"):
            os.makedirs(os.path.join(work, d))
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=/etc,upperdir=%s/up,workdir=%s/wd"
                        % (work, work), "/etc"], check=True)
        for d in ("/etc/systemd/system", "/etc/pam.d", "/etc/security", "/etc/xinetd.d"):
            os.makedirs(d, exist_ok=True)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", d], check=True)
        for path in ("/etc/pam.d/sshd", "/etc/pam.d/login", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth",
                     "/etc/security/access.conf", "/etc/hosts.allow", "/etc/hosts.deny"):
            shutil.copy(t.p(path), path)
        # The module by its path: this machine has none in its PAM directory.
        for path in ("/etc/pam.d/system-auth", "/etc/pam.d/password-auth"):
            write(path, open(path).read().replace("pam_ringfence.so", os.path.abspath(ARGS.module)))
        write("/etc/systemd/system/sleeper.service.d/ringfence.conf",
              "# Written by 'ringfence enable wrap sleeper'.\n[Service]\nExecStart=\n"
              "ExecStart=/usr/sbin/ringfence-wrap --name sleeper -- /usr/bin/sleep 600\n")
        write("/etc/ringfence/firewall.conf", FIREWALL)
        os.makedirs("/etc/systemd/system/multi-user.target.wants")
        write("/etc/systemd/system/ringfence-firewall.service", UNIT)
        os.symlink("/etc/systemd/system/ringfence-firewall.service",
                   "/etc/systemd/system/multi-user.target.wants/ringfence-firewall.service")
        state = os.path.join(work, "fwstate")
        os.environ["RINGFENCE_FIREWALL_STATE"] = state
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

        rc, out, err = audit(None, "--format", "json")
        it = items(out).get(("firewall", "live"), {})
        check(it.get("state") == "WARNING" and "has applied nothing" in it.get("message", ""),
              "firewall: nothing applied yet is a WARNING", out + err)
        fw = subprocess.run([ARGS.firewall, "--state-dir", state, "apply", "/etc/ringfence/firewall.conf"],
                            capture_output=True, text=True)
        check(fw.returncode == 0, "ringfence-firewall apply", fw.stdout + fw.stderr)

        wrapped = subprocess.Popen([ARGS.wrap, "--name", "sleeper", "--", "/usr/bin/sleep", "600"])
        time.sleep(0.5)
        rc, out, err = audit(None, "--nagios")
        check(rc == 0 and out.startswith("RINGFENCE OK - all ") and NAGIOS_FIRST.match(out.split("\n")[0]) and
              "OK wrap sleeper: /usr/bin/sleep runs with libringfence-preload.so (1 process(es))" in out and
              "OK firewall live: the running rules are those applied from /etc/ringfence/firewall.conf" in out and
              "OK firewall boot: enabled" in out,
              "everything as configured: OK (the daemon has the preload, the firewall is as applied)",
              show(rc, out, err))
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

        # A drop-in that names the daemon through a link: /proc/PID/exe names the file.
        link = os.path.join(work, "sleeper")
        os.symlink("/usr/bin/sleep", link)
        write("/etc/systemd/system/sleeper.service.d/ringfence.conf",
              "# Written by 'ringfence enable wrap sleeper'.\n[Service]\nExecStart=\n"
              "ExecStart=/usr/sbin/ringfence-wrap --name sleeper -- %s 600\n" % link)
        wrapped = subprocess.Popen([ARGS.wrap, "--name", "sleeper", "--", link, "600"])
        time.sleep(0.5)
        rc, out, err = audit(None, "--format", "json")
        it = items(out).get(("wrap", "sleeper"), {})
        check(it.get("state") == "OK" and "runs with libringfence-preload.so" in it.get("message", ""),
              "the drop-in names a link to the daemon: still found, OK", out + err)
        wrapped.kill()
        wrapped.wait()

        subprocess.run(["nft", "insert", "rule", "inet", "ringfence", "input", "ip", "saddr", "10.66.0.1", "accept"],
                       check=True)
        rc, out, err = audit(None, "--nagios")
        first = out.split("\n")[0]
        check(rc == 2 and NAGIOS_FIRST.match(first) and "firewall live: the running rules differ from what "
              "ringfence-firewall applied (1 line differ: ringfence-firewall status)" in first,
              "a rule inserted by hand: CRITICAL on the first line", show(rc, out, err))
        fw = subprocess.run([ARGS.firewall, "--state-dir", state, "apply", "/etc/ringfence/firewall.conf"],
                            capture_output=True, text=True)
        rc, out, err = audit(None, "--format", "json")
        check(fw.returncode == 0 and items(out)[("firewall", "live")]["state"] == "OK",
              "after ringfence-firewall apply: OK again", out + fw.stderr)
        write("/etc/ringfence/firewall.conf", FIREWALL.replace("10.20.0.0/24", "10.30.0.0/24"))
        rc, out, err = audit(None, "--format", "json")
        check(rc == 1 and items(out)[("firewall", "live")]["state"] == "WARNING" and
              "differs from the applied policy" in items(out)[("firewall", "live")]["message"],
              "firewall.conf edited, not applied: WARNING", out)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ringfence", required=True)
    ap.add_argument("--wrap", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--firewall", required=True)
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
    return summary()


if __name__ == "__main__":
    sys.exit(main())
