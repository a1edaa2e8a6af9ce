#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""`ringfence explain` against reality.

Generated policies of all three layers, and generated requests over them:
for each request, the layer that `ringfence explain` names as stopping it
must be the one that really stops it when the same request is made for real:

* firewall: ringfence-firewall applies the policy in a "host" network
  namespace; a client namespace (veth) connects from 10.20.0.5, 10.9.0.5
  and 203.0.113.9 to port 22 (a listener standing for sshd) and 443;
  a connection that times out or is reset was stopped by the firewall;
* TCP wrappers: port 443 is a real daemon started by ringfence-wrap as
  vmware-hostd (its systemd drop-in in /etc/systemd/system tells explain it
  is wrapped); a connection accepted and closed without a greeting was
  stopped by the preload shim;
* PAM: the account stack of sshd (/etc/pam.d/sshd) runs the built
  pam_ringfence.so; the request is made through the real libpam
  (pam_harness) as the user, from the client address, at the request's
  time (libfaketime); anything but PAM_SUCCESS stopped it.

Everything runs in private mount, network and PID namespaces
(tests/integration/firewall/fwnet.py); /etc is an overlay, users and groups
come from nss_wrapper. Prints a count summary; exit 0 all agree, 1 not,
77 skipped.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "firewall"))
import fwnet  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "..", "cli"))
import clitest  # noqa: E402
from clitest import check, write  # noqa: E402

HOST = {"mgmt": "10.20.0.1", "other": "10.9.0.1", "bad": "203.0.113.1"}
CLIENT = {"mgmt": "10.20.0.5", "other": "10.9.0.5", "bad": "203.0.113.9"}
NETS = {"mgmt": "10.20.0.0/24", "other": "10.9.0.0/24", "bad": "203.0.113.0/24"}

USERS = [("root", 0, 0), ("alice", 1001, 1001), ("bob", 1002, 1002), ("badadmin", 1003, 1003)]
GROUPS = [("root", 0, []), ("alice", 1001, []), ("bob", 1002, []), ("badadmin", 1003, []),
          ("vmadmins", 2000, ["alice", "badadmin"])]
# (explain --at, libfaketime's FAKETIME, in UTC): a Tuesday morning and
# evening, a Saturday morning.
TIMES = [("2026-12-01 10:00", "@2026-12-01 10:00:00"), ("2026-12-01 21:00", "@2026-12-01 21:00:00"),
         ("2026-12-05 10:00", "@2026-12-05 10:00:00")]

ACCESS_POOL = [
    "+ : root : {mgmt}",
    "+ : @vmadmins EXCEPT badadmin : ALL",
    "+ : bob : ALL : Wk0800-1800",
    "+ : alice : {other}",
    "- : root : {bad}",
    "+ : badadmin : {mgmt} : Wk0800-1800",
]


def gen_policy(rng):
    def nets(k):
        return " ".join(NETS[n] for n in rng.sample(sorted(NETS), k))
    ssh_from = nets(rng.randint(1, 3))
    https_from = nets(rng.randint(1, 3))
    block = rng.choice(["", CLIENT["bad"], CLIENT["other"]])
    firewall = ("policy in drop\nservice sshServer tcp/22\nservice https tcp/443\n"
                "set blocklist file blocklist\ndeny in from blocklist\n"
                "allow in sshServer from %s\nallow in https from %s\n" % (ssh_from, https_from))
    hosts_allow = "vmware-hostd: %s\n" % nets(rng.randint(1, 3))
    rules = [r.format(**NETS) for r in rng.sample(ACCESS_POOL, rng.randint(2, len(ACCESS_POOL)))]
    access = "\n".join(rules + ["- : ALL : ALL"]) + "\n"
    return {"firewall": firewall, "blocklist": (block + "\n") if block else "", "hosts.allow": hosts_allow,
            "access": access}


class World:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="rf-explain-")
        os.chmod(self.work, 0o755)
        up, wd = os.path.join(self.work, "etc-up"), os.path.join(self.work, "etc-wd")
        os.makedirs(up)
        os.makedirs(wd)
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=/etc,upperdir=%s,workdir=%s" % (up, wd),
                        "/etc"], check=True)
        for d in ("/etc/security", "/etc/pam.d", "/etc/systemd/system", "/etc/ringfence", "/etc/xinetd.d"):
            os.makedirs(d, exist_ok=True)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", d], check=True)
        write("/etc/hosts.deny", "ALL: ALL\n")
        write("/etc/pam.d/sshd", "account required %s atgroup nodns\n" % args.module)
        write("/etc/pam.d/other", "")
        write("/etc/systemd/system/vmware-hostd.service.d/ringfence.conf",
              "# Written by 'ringfence enable wrap vmware-hostd'.\n[Service]\nExecStart=\n"
              "ExecStart=%s --name vmware-hostd -- %s 443 2\n" % (args.wrap, args.server))
        self.passwd = os.path.join(self.work, "passwd")
        self.group = os.path.join(self.work, "group")
        write(self.passwd, "".join("%s:x:%d:%d::/:/bin/sh\n" % u for u in USERS))
        write(self.group, "".join("%s:x:%d:%s\n" % (n, g, ",".join(m)) for n, g, m in GROUPS))
        self.state = os.path.join(self.work, "fwstate")

        self.lab = fwnet.Lab()
        self.host = self.lab.add("host")
        self.lab.add("cli")
        self.lab.link("host", "cli", [(HOST[k] + "/24", CLIENT[k] + "/24") for k in ("mgmt", "other", "bad")])
        self.host.run(["ip", "link", "set", "lo", "up"])
        self.lab.agent("host").listen("tcp", "0.0.0.0", 22)
        self.daemon = self.host.popen([args.wrap, "--name", "vmware-hostd", "--", args.server, "443", "2"],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = ""
        while "ready" not in seen:
            line = self.daemon.stdout.readline()
            if not line:
                raise RuntimeError("the wrapped daemon did not start: %r" % seen)
            seen += line

    def env(self, faketime=None):
        e = dict(os.environ, TZ="UTC", LC_ALL="C", NSS_WRAPPER_PASSWD=self.passwd, NSS_WRAPPER_GROUP=self.group,
                 NSS_WRAPPER_DISABLE_DEEPBIND="1")
        pre = [self.args.nss_wrapper]
        if faketime:
            pre.append(self.args.faketime)
            e["FAKETIME"] = faketime
            e["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
        e["LD_PRELOAD"] = ":".join(pre)
        asan = e.get("ASAN_OPTIONS", "")
        e["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        return e

    def install(self, p):
        write("/etc/ringfence/firewall.conf", p["firewall"])
        write("/etc/ringfence/blocklist", p["blocklist"])
        write("/etc/hosts.allow", p["hosts.allow"])
        write("/etc/security/access.conf", p["access"])
        r = self.host.run([self.args.fw, "--state-dir", self.state, "apply", "/etc/ringfence/firewall.conf"],
                          check=False)
        if r.returncode != 0:
            raise RuntimeError("apply failed: %s" % r.stdout)

    def probes(self):
        """(client, port) -> 'firewall' | 'wrappers' | None (got through)."""
        cases = [(k, port) for k in CLIENT for port in (22, 443)]
        res = self.lab.agent("cli").probe([("tcp", None, HOST[k], port) for k, port in cases], timeout=1.5)
        out = {}
        for (k, port), r in zip(cases, res):
            if r == "open":
                out[(k, port)] = None
            elif r in ("timeout", "refused"):
                out[(k, port)] = "firewall"
            elif r.startswith("error: answer ''") and port == 443:
                out[(k, port)] = "wrappers"
            else:
                raise RuntimeError("probe %s:%d: %s" % (k, port, r))
        return out

    def pam(self, requests):
        """[(user, client, faketime)] -> {request: 'pam' | None}."""
        out = {}
        by_time = {}
        for req in requests:
            by_time.setdefault(req[2], []).append(req)
        for ft, reqs in by_time.items():
            lines = "".join("/etc/pam.d\tsshd\t=%s\t=%s\t-\tacct\n" % (u, CLIENT[c]) for u, c, _ in reqs)
            p = subprocess.run([self.args.harness], input=lines, capture_output=True, text=True, env=self.env(ft))
            answers = p.stdout.splitlines()
            if len(answers) != len(reqs):
                raise RuntimeError("harness: %s %s" % (p.stdout, p.stderr))
            for req, a in zip(reqs, answers):
                out[req] = None if a == "PAM_SUCCESS" else "pam"
        return out

    def explain(self, user, client, service, at):
        p = subprocess.run([self.args.ringfence, "explain", "--from", CLIENT[client], "--user", user, "--service",
                            service, "--at", at, "--format", "json"], capture_output=True, text=True,
                           env=self.env())
        doc = json.loads(p.stdout)
        return doc.get("stopped_by"), p.returncode, doc

    def close(self):
        self.daemon.kill()
        self.daemon.wait()
        self.lab.close()


def main():
    ap = argparse.ArgumentParser()
    for a in ("ringfence", "fw", "wrap", "server", "module", "harness", "nss-wrapper", "faketime"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--policies", type=int, default=4)
    ap.add_argument("--requests", type=int, default=75)
    ap.add_argument("--seed", type=int, default=20261204)
    args = ap.parse_args()
    fwnet.enter_sandbox([os.path.abspath(__file__)] + sys.argv[1:], marker="RF_EXPLAIN_SANDBOX")
    rng = random.Random(args.seed)
    w = World(args)
    layers_seen = {"firewall": 0, "wrappers": 0, "pam": 0, None: 0}
    try:
        for n in range(args.policies):
            policy = gen_policy(rng)
            w.install(policy)
            real_net = w.probes()
            reqs = [(rng.choice([u for u, _, _ in USERS]), rng.choice(sorted(CLIENT)), rng.choice(TIMES),
                     rng.choice(["sshd", "vmware-hostd"])) for _ in range(args.requests)]
            real_pam = w.pam(sorted(set((u, c, t[1]) for u, c, t, s in reqs if s == "sshd")))
            agree = 0
            for u, c, t, s in reqs:
                port = 22 if s == "sshd" else 443
                real = real_net[(c, port)]
                if real is None and s == "sshd":
                    real = real_pam[(u, c, t[1])]
                said, rc, doc = w.explain(u, c, s, t[0])
                layers_seen[real] += 1
                ok = said == real and rc == (0 if real is None else 1)
                agree += ok
                if not ok:
                    check(False, "policy %d: %s from %s to %s at %s: explain says %s (exit %d), reality %s" % (
                        n, u, CLIENT[c], s, t[0], said, rc, real), json.dumps(doc, indent=1) + "\n" +
                        json.dumps(policy, indent=1))
            check(agree == len(reqs), "policy %d: explain agrees with reality on %d of %d requests" %
                  (n, agree, len(reqs)))
        print("requests stopped by: firewall %d, wrappers %d, pam %d; allowed %d" % (
            layers_seen["firewall"], layers_seen["wrappers"], layers_seen["pam"], layers_seen[None]))
        check(all(layers_seen[k] > 0 for k in layers_seen),
              "every layer stopped some request for real, and some got through", str(layers_seen))
    finally:
        w.close()
    return clitest.summary()


if __name__ == "__main__":
    sys.exit(main())
