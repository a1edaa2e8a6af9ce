#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ringfence-firewall against real netfilter, with real traffic.

Each run re-executes itself in private mount, network and PID namespaces
(fwnet.enter_sandbox) and builds a lab there: a "host" namespace where
ringfence-firewall applies its policies, joined by veth pairs to an "adm"
namespace (the management network 10.91.0.0/24, fd91::/64) and an "oth"
namespace (another network 10.92.0.0/24, fd92::/64), each client namespace
holding several source addresses. Listeners in the host (TCP 22, 443, 2222,
8080, 9999, UDP 161) and in the clients (TCP 25, 443, UDP 53, 123) answer
with the peer address they saw; probes go out from given source addresses, so every
verdict is a packet that did or did not arrive. The host's own firewall and
interfaces are never touched, and the kernel removes everything (namespaces,
timers, listeners) when the run ends.

Groups (one per ctest test):
  verdicts   the policy's verdicts with traffic, IPv4 and IPv6, inbound and
             outbound; a v4-only policy still closes IPv6; other managers'
             rules survive apply and flush
  confirm    apply --confirm: timeout -> previous ruleset back; confirm ->
             stays; the timer survives its session being killed (SIGKILL /
             SIGHUP of the process group, terminal hangup), also at random
             moments of the apply; rollback; no previous ruleset
  status     status in sync / drift (rule added, deleted, set member gone,
             hook gone, FILE differing from the applied policy)
  sets       only a set file changed: the members alone loaded, failures at
             each step keep the old ones, drift makes it a full apply
  failures   bad policies (file:line: in the error) and failing tools (fake
             programs in RINGFENCE_FIREWALL_PATH: restore failing always or
             only at the commit, the second family failing, ipset failing,
             a tool missing) leave the ruleset byte for byte
  kill       kill -9 of apply (20,000-entry set, 2,000 rules) at moments
             spread over the apply: each family entirely old or entirely new
  refusals   firewalld running (a process named firewalld), SSH lockout
             (SSH_CONNECTION, also link-local with zone indexes, --force),
             an unreadable SSH_CONNECTION refused, concurrent applies
             serialised
  sshd       a real sshd over IPv6 link-local ("adm" -> "host"): apply run
             in that session refuses a policy that cuts it or locks it out
Backends: iptables-nft, iptables-legacy (RINGFENCE_FIREWALL_PATH to a
directory of symlinks), nft, auto.

Exit 0 all checks passed, 1 failures, 77 skipped (not root, tools missing).
"""

import argparse
import difflib
import fcntl
import os
import pty
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwnet  # noqa: E402

SKIP = 77
checks = 0
failed = []


def log(*a):
    print(*a, flush=True)


def check(cond, what, detail=None):
    global checks
    checks += 1
    log(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failed.append(what)
        if detail:
            for l in str(detail).rstrip().splitlines()[:40]:
                log("     | " + l)
    return cond


# ---------------------------------------------------------------------------
# Addresses of the lab

HOST_A4, HOST_A6 = "10.91.0.1", "fd91::1"   # host on the management link
HOST_B4, HOST_B6 = "10.92.0.1", "fd92::1"   # host on the other link
SRC = {  # label -> (client namespace, address, host address on that link)
    "A10": ("adm", "10.91.0.10", HOST_A4), "A11": ("adm", "10.91.0.11", HOST_A4),
    "A66": ("adm", "10.91.0.66", HOST_A4),
    "B20": ("oth", "10.92.0.20", HOST_B4), "B30": ("oth", "10.92.0.30", HOST_B4),
    "a10": ("adm", "fd91::10", HOST_A6), "a11": ("adm", "fd91::11", HOST_A6),
    "a66": ("adm", "fd91::66", HOST_A6),
    "b20": ("oth", "fd92::20", HOST_B6), "b30": ("oth", "fd92::30", HOST_B6),
}
HOST_TCP = [22, 443, 2222, 8080, 9999]
HOST_UDP = [161]
CLIENT_TCP = [25, 443]
CLIENT_UDP = [53, 123]

MAIN_POLICY = """\
# integration test policy: management network, blocklist, outbound rules
policy in drop
policy out drop
service ssh tcp/22
service https tcp/443
service snmp udp/161
service web tcp/8080
set admins file admins.set
set bad file bad.set
allow in ssh https from admins
allow in snmp from 10.91.0.10 fd91::10
allow in web from any
deny in from bad
reject in tcp/9999 from 10.92.0.0/24 fd92::/64
allow out tcp/443 to 10.91.0.10 fd91::10
allow out udp/53 to any
reject out tcp/25 to any
log denied rate 5/sec
"""
ADMINS_SET = "# the management networks\n10.91.0.0/24\nfd91::/64\n"
BAD_SET = "# blocklist\n10.91.0.66\n10.92.0.30   # a comment after an entry\nfd91::66\nfd92::30/128\n"

# label -> port -> expected. o=open, t=timeout (drop), r=refused (reject)
MAIN_IN = {
    ("tcp", 22):   dict(A10="o", A11="o", A66="t", B20="t", B30="t"),
    ("tcp", 443):  dict(A10="o", A11="o", A66="t", B20="t", B30="t"),
    ("udp", 161):  dict(A10="o", A11="t", A66="t", B20="t", B30="t"),
    ("tcp", 8080): dict(A10="o", A11="o", A66="t", B20="o", B30="t"),
    ("tcp", 9999): dict(A10="t", A11="t", A66="t", B20="r", B30="t"),
    ("tcp", 2222): dict(A10="t", A11="t", A66="t", B20="t", B30="t"),
}
# outbound from the host: (proto, dst, port) -> expected. A DROP in OUTPUT
# fails a UDP send with EPERM (p); TCP retransmits its SYN (t).
MAIN_OUT = {
    ("tcp", "10.91.0.10", 443): "o", ("tcp", "10.91.0.11", 443): "t", ("tcp", "10.92.0.20", 443): "t",
    ("tcp", "10.91.0.10", 25): "r", ("udp", "10.92.0.20", 53): "o", ("udp", "10.91.0.11", 53): "o",
    ("udp", "10.91.0.10", 123): "p",
    ("tcp", "fd91::10", 443): "o", ("tcp", "fd91::11", 443): "t", ("tcp", "fd91::10", 25): "r",
    ("udp", "fd92::20", 53): "o", ("udp", "fd92::20", 123): "p",
}

V4ONLY_POLICY = """\
# IPv4 sources only: IPv6 must still be closed by the default policy
service ssh tcp/22
allow in ssh from 10.91.0.0/24
"""
V4ONLY_IN = {
    ("tcp", 22):   dict(A10="o", A66="o", B20="t"),
    ("tcp", 8080): dict(A10="t", B20="t"),
}

LETTER = {"o": "open", "t": "timeout", "r": "refused", "p": "eperm"}


def line_of(text, start):
    return [i + 1 for i, l in enumerate(text.splitlines()) if l.startswith(start)][0]


def v6_twin(expect):
    """The same expectations for the IPv6 twins (A10 -> a10, ...)."""
    return {k: {lab.lower(): e for lab, e in v.items() if lab.lower() in SRC} for k, v in expect.items()}


# ---------------------------------------------------------------------------
# The firewall program, in the host namespace


TOOLS = {
    "iptables-nft": {"iptables": "iptables-nft", "ip6tables": "ip6tables-nft",
                     "iptables-restore": "iptables-nft-restore", "ip6tables-restore": "ip6tables-nft-restore",
                     "iptables-save": "iptables-nft-save", "ip6tables-save": "ip6tables-nft-save",
                     "ipset": "ipset"},
    "iptables-legacy": {"iptables": "iptables-legacy", "ip6tables": "ip6tables-legacy",
                        "iptables-restore": "iptables-legacy-restore",
                        "ip6tables-restore": "ip6tables-legacy-restore",
                        "iptables-save": "iptables-legacy-save", "ip6tables-save": "ip6tables-legacy-save",
                        "ipset": "ipset"},
    "nft": {"nft": "nft"},
}


def real_tool(name):
    for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def tool_dir(path, variant, override=None):
    """A directory of symlinks (name -> the variant's real program), with
    `override` {name: script text or None (absent)}; returns its path."""
    os.makedirs(path)
    for name, target in TOOLS[variant].items():
        if override and name in override:
            continue
        real = real_tool(target)
        if real is None:
            raise FileNotFoundError(target)
        os.symlink(real, os.path.join(path, name))
    for name, text in (override or {}).items():
        if text is not None:
            p = os.path.join(path, name)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o755)
    return path


def failing_tool(real, when="always", message="injected failure"):
    """A fake that fails always, or only when it would commit (not --test /
    -c), and otherwise runs the real program."""
    if when == "always":
        return "#!/bin/sh\necho '%s: %s' >&2\nexit 1\n" % (os.path.basename(real), message)
    return ("#!/bin/sh\nfor a in \"$@\"; do case $a in --test|-t|-c|--check) exec %s \"$@\";; esac; done\n"
            "cat > /dev/null\necho '%s: %s' >&2\nexit 1\n" % (real, os.path.basename(real), message))


class Fw:
    def __init__(self, binary, ns, work, backend):
        self.binary = binary
        self.ns = ns
        self.work = work
        self.variant = backend  # iptables-nft | iptables-legacy | nft | auto
        self.state = os.path.join(work, "state")
        self.path = None
        if backend in TOOLS:
            self.path = tool_dir(os.path.join(work, "bin-" + backend), backend)
        self.backend_opt = {"iptables-nft": "iptables", "iptables-legacy": "iptables", "nft": "nft",
                            "auto": "auto"}[backend]

    def env(self, path=None, extra=None):
        env = dict(os.environ)
        env.pop("SSH_CONNECTION", None)
        env.pop("RINGFENCE_FIREWALL_BACKEND", None)
        p = path or self.path
        if p:
            env["RINGFENCE_FIREWALL_PATH"] = p
        else:
            env.pop("RINGFENCE_FIREWALL_PATH", None)
        if extra:
            env.update(extra)
        return env

    def argv(self, *args, state=None):
        return [self.binary, "--backend", self.backend_opt, "--state-dir", state or self.state] + list(args)

    def run(self, *args, path=None, extra_env=None, timeout=120):
        r = self.ns.run(self.argv(*args), check=False, env=self.env(path, extra_env), timeout=timeout)
        r.text = (r.stdout + r.stderr).strip()
        return r

    def popen(self, *args, path=None, extra_env=None, **kw):
        return self.ns.popen(self.argv(*args), env=self.env(path, extra_env), **kw)

    # What is loaded, all of it (every table of every tool), normalised only
    # in the timestamp comments and the packet counters.
    def snapshot(self):
        snap = {}
        for key, tool in (("iptables-nft v4", "iptables-nft-save"), ("iptables-nft v6", "ip6tables-nft-save"),
                          ("iptables-legacy v4", "iptables-legacy-save"),
                          ("iptables-legacy v6", "ip6tables-legacy-save")):
            if real_tool(tool):
                snap[key] = fwnet.normalize_save(self.ns.run([tool], check=False).stdout)
        if real_tool("ipset"):
            snap["ipset"] = fwnet.sorted_ipset(self.ns.run(["ipset", "save"], check=False).stdout)
        if real_tool("nft"):
            snap["nft"] = fwnet.normalize_nft(self.ns.run(["nft", "list", "ruleset"], check=False).stdout)
        return snap

    def save(self, family):
        """The save output of this backend's family (iptables variants)."""
        tool = TOOLS[self.variant]["iptables-save" if family == 4 else "ip6tables-save"]
        return fwnet.normalize_save(self.ns.run([tool]).stdout)

    def iptables(self, family, *args, check=True):
        tool = TOOLS[self.variant]["iptables" if family == 4 else "ip6tables"]
        return self.ns.run([tool, "-w"] + list(args), check=check)


def no_empty_chains(snap):
    """The snapshot without empty accept-policy base chains in `nft list
    ruleset`: iptables-nft creates a builtin chain (OUTPUT) the first time a
    rule goes into it and leaves it, empty, when the rule goes; the
    iptables-save view (INPUT/FORWARD/OUTPUT always listed) is unchanged."""
    out = dict(snap)
    if "nft" in out:
        out["nft"] = re.sub(r"\n\tchain \w+ \{\n\t\ttype filter hook \w+ priority filter; policy accept;\n\t\}\n",
                            "\n", out["nft"])
        out["nft"] = re.sub(r"\n\n+", "\n", out["nft"])
    return out


def bare(snap):
    """What a snapshot holds besides empty tables and chains: rules, user
    chains, sets, non-ACCEPT policies (iptables-nft leaves an empty filter
    table behind once it has been used)."""
    out = {}
    for k, v in snap.items():
        keep = []
        for l in v.splitlines():
            l = l.strip()
            if re.match(r"^(\*filter|COMMIT|:(INPUT|FORWARD|OUTPUT) ACCEPT \[0:0\]|"
                        r"table (ip|ip6) filter \{|chain (INPUT|FORWARD|OUTPUT) \{|"
                        r"type filter hook \w+ priority filter; policy accept;|\}|)$", l):
                continue
            keep.append(l)
        out[k] = keep
    return out


def snap_diff(a, b):
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            out.append("--- %s" % k)
            out.extend(difflib.unified_diff((a.get(k) or "").splitlines(), (b.get(k) or "").splitlines(),
                                            "before", "after", lineterm="", n=1))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Lab setup and verdict checks


class World:
    def __init__(self, args, backend):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="rf-fwt-%d-" % os.getpid())
        os.chmod(self.work, 0o700)
        self.lab = fwnet.Lab()
        self.host = self.lab.add("host")
        self.lab.add("adm")
        self.lab.add("oth")
        # {client namespace: (interface in host, interface in the client)}
        self.links = {}
        self.links["adm"] = self.lab.link(
            "host", "adm", [(HOST_A4 + "/24", [SRC[k][1] + "/24" for k in ("A10", "A11", "A66")]),
                            (HOST_A6 + "/64", [SRC[k][1] + "/64" for k in ("a10", "a11", "a66")])])
        self.links["oth"] = self.lab.link(
            "host", "oth", [(HOST_B4 + "/24", [SRC[k][1] + "/24" for k in ("B20", "B30")]),
                            (HOST_B6 + "/64", [SRC[k][1] + "/64" for k in ("b20", "b30")])])
        h = self.lab.agent("host")
        for p in HOST_TCP:
            h.listen("tcp", "0.0.0.0", p)
            h.listen("tcp", "::", p)
        # UDP listeners on each address, so that replies leave from the
        # address the request went to.
        for p in HOST_UDP:
            for a in (HOST_A4, HOST_A6, HOST_B4, HOST_B6):
                h.listen("udp", a, p)
        for c in ("adm", "oth"):
            a = self.lab.agent(c)
            for p in CLIENT_TCP:
                a.listen("tcp", "0.0.0.0", p)
                a.listen("tcp", "::", p)
            for p in CLIENT_UDP:
                for ns, addr, _ in SRC.values():
                    if ns == c:
                        a.listen("udp", addr, p)
        self.fw = Fw(args.fw, self.host, self.work, backend)
        self.syslog = fwnet.SyslogSink.start()
        self.apply_seconds = 0.3

    def file(self, name, text, mode=0o644):
        p = os.path.join(self.work, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def main_policy(self):
        self.file("admins.set", ADMINS_SET)
        self.file("bad.set", BAD_SET)
        return self.file("main.conf", MAIN_POLICY)

    def close(self):
        self.lab.close()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            log("kept " + self.work)

    def probe_in(self, cases, timeout=1.5):
        """cases: [(label, proto, port)] -> {(label, proto, port): result}."""
        by_ns = {}
        for lab, proto, port in cases:
            ns, src, dst = SRC[lab]
            by_ns.setdefault(ns, []).append(((lab, proto, port), (proto, src, dst, port)))
        out = {}
        for ns, items in by_ns.items():
            res = self.lab.agent(ns).probe([p for _, p in items], timeout)
            out.update({k: r for (k, _), r in zip(items, res)})
        return out

    def expect_in(self, expect, title, timeout=1.5):
        """expect: {(proto, port): {label: letter}}; one check per probe, and
        a check that the listeners saw exactly the sources that got in."""
        cases = [(lab, proto, port) for (proto, port), m in expect.items() for lab in m]
        self.lab.agent("host").seen()
        got = self.probe_in(cases, timeout)
        ok = True
        for (lab, proto, port), r in sorted(got.items()):
            want = LETTER[expect[(proto, port)][lab]]
            ok &= check(r == want, "%s: %s/%d from %s (%s): %s" % (title, proto, port, SRC[lab][1], lab, r)
                        + ("" if r == want else ", expected " + want))
        seen = sorted(set((p, s, port) for p, s, port in self.lab.agent("host").seen()))
        want_seen = sorted(set((proto, SRC[lab][1], port) for (proto, port), m in expect.items()
                               for lab, e in m.items() if e == "o"))
        check(seen == want_seen, "%s: the listeners saw exactly the allowed sources" % title,
              "saw: %s\nwanted: %s" % (seen, want_seen))
        return ok

    def expect_out(self, expect, title, timeout=1.5):
        items = list(expect.items())
        probes = [(proto, None, dst, port) for (proto, dst, port), _ in items]
        res = self.lab.agent("host").probe(probes, timeout)
        for ((proto, dst, port), e), r in zip(items, res):
            want = LETTER[e]
            if want == "eperm" and r.startswith("error:") and "Operation not permitted" in r:
                r = "eperm"
            check(r == want, "%s: host -> %s %s/%d: %s" % (title, dst, proto, port, r)
                  + ("" if r == want else ", expected " + want))

    def all_open(self, title):
        exp = {(proto, port): {lab: "o" for lab in SRC} for proto, port in
               [("tcp", p) for p in (22, 8080, 9999)] + [("udp", 161)]}
        return self.expect_in(exp, title)


def quick(world, which, title):
    """A few probes that tell the main policy from the small ones."""
    if which == "main":
        world.expect_in({("tcp", 22): dict(A10="o", B20="t"), ("tcp", 8080): dict(B20="o", B30="t"),
                         ("tcp", 9999): dict(B20="r")}, title)
    elif which == "p1":   # SMALL_P1
        world.expect_in({("tcp", 22): dict(A10="o", B20="t"), ("tcp", 8080): dict(B20="t")}, title)
    elif which == "p2":   # SMALL_P2
        world.expect_in({("tcp", 22): dict(A10="t", B20="t"), ("tcp", 8080): dict(A10="o", B20="o")}, title)
    elif which == "none":
        world.expect_in({("tcp", 22): dict(A10="o", B20="o"), ("tcp", 2222): dict(b20="o")}, title)


def norm(snap):
    """A snapshot with the set generation letters taken out (a reload of the
    same policy moves its sets to another generation)."""
    return {k: re.sub(r"(ringfence-[\w-]+-v[46])[a-z]\b", r"\1", v) for k, v in snap.items()}


SMALL_P1 = "service ssh tcp/22\nallow in ssh from 10.91.0.0/24 fd91::/64\n"
SMALL_P2 = "allow in tcp/8080\n"


# ---------------------------------------------------------------------------
# Groups


def group_verdicts(world):
    fw = world.fw
    # Another manager's rules and chain, present before ringfence arrives.
    if fw.variant != "nft":
        for fam in (4, 6):
            fw.iptables(fam, "-N", "FOREIGN")
            fw.iptables(fam, "-A", "FOREIGN", "-p", "tcp", "--dport", "7777", "-j", "DROP")
            fw.iptables(fam, "-A", "INPUT", "-j", "FOREIGN")
    else:
        world.host.run(["nft", "add table inet foreign; add chain inet foreign input "
                        "{ type filter hook input priority 0; policy accept; }; "
                        "add rule inet foreign input tcp dport 7777 drop"])
    pristine = fw.snapshot()
    world.all_open("before any policy")

    conf = world.main_policy()
    r = fw.run("check", conf)
    check(r.returncode == 0 and re.search(r"OK \(\d+ rules, 2 sets, 6 set entries\)", r.stdout) is not None,
          "check main.conf: exit %d, %r" % (r.returncode, r.stdout.strip()), r.text)
    r = fw.run("render", conf)
    check(r.returncode == 0 and ("RINGFENCE-IN" in r.stdout or "table inet ringfence" in r.stdout),
          "render main.conf: exit %d" % r.returncode, r.text)
    check(fw.snapshot() == pristine, "check and render load nothing")

    t0 = time.time()
    r = fw.run("apply", conf)
    check(r.returncode == 0, "apply main.conf: exit %d in %.2f s" % (r.returncode, time.time() - t0), r.text)
    want_backend = {"iptables-nft": "backend: iptables-nft", "iptables-legacy": "backend: iptables-legacy",
                    "nft": "backend: nft"}.get(fw.variant, "backend: ")
    check(want_backend in r.stdout, "apply says which backend it used (%r)" % want_backend, r.text)
    # (nft backend: "N policy rules, 2 sets (6 entries)", not the contract's "IPv4 N rules, IPv6 M rules")
    check(re.search(r"applied .*main\.conf: (IPv4 \d+ rules, IPv6 \d+ rules|\d+ policy rules), 2 sets \(6 entries\)", r.stdout)
          is not None, "apply reports rules and sets", r.text)

    world.expect_in(MAIN_IN, "main v4")
    world.expect_in(v6_twin(MAIN_IN), "main v6")
    world.expect_out(MAIN_OUT, "main out")
    # Other managers' rules are still there and still work.
    if fw.variant != "nft":
        for fam in (4, 6):
            s = fw.save(fam)
            check("-A FOREIGN -p tcp -m tcp --dport 7777 -j DROP" in s and "-A INPUT -j FOREIGN" in s,
                  "IPv%d: the foreign chain and its jump are untouched" % fam, s)
            check(s.find("-A INPUT -j RINGFENCE-IN") < s.find("-A INPUT -j FOREIGN"),
                  "IPv%d: ringfence's hook is at position 1 of INPUT" % fam, s)
        # The drops are counted in RINGFENCE-DROP (what an admin looks at).
        out = fw.iptables(4, "-L", "RINGFENCE-DROP", "-v", "-n", "-x").stdout
        pk = [int(l.split()[0]) for l in out.splitlines() if l.strip().endswith(("DROP", "0.0.0.0/0"))
              and l.split()[0].isdigit()]
        check(pk and max(pk) > 0, "RINGFENCE-DROP counted the dropped probes: %s" % pk, out)
    else:
        check("tcp dport 7777 drop" in world.host.run(["nft", "list", "table", "inet", "foreign"]).stdout,
              "the foreign nft table is untouched")

    r = fw.run("status", conf)
    check(r.returncode == 0 and "in sync" in r.stdout, "status after apply: exit %d" % r.returncode, r.text)

    # Same policy again: idempotent (no second hook, same rules).
    before = fw.snapshot()
    r = fw.run("apply", conf)
    after = fw.snapshot()
    # Set generations may alternate; compare with the generation letters out.
    check(r.returncode == 0 and norm(before) == norm(after), "apply of the same policy again changes nothing",
          snap_diff(norm(before), norm(after)) or r.text)

    # IPv4-only policy: IPv6 still closed by default.
    v4 = world.file("v4only.conf", V4ONLY_POLICY)
    r = fw.run("apply", v4)
    check(r.returncode == 0, "apply v4only.conf: exit %d" % r.returncode, r.text)
    world.expect_in(V4ONLY_IN, "v4only v4")
    world.expect_in({("tcp", 22): dict(a10="t", a66="t", b20="t"), ("tcp", 8080): dict(a10="t", b20="t"),
                     ("udp", 161): dict(a10="t")}, "v4only: IPv6 closed by default")

    r = fw.run("flush")
    check(r.returncode == 0, "flush: exit %d" % r.returncode, r.text)
    after = fw.snapshot()
    check(no_empty_chains(after) == no_empty_chains(pristine),
          "after flush the ruleset is the pristine one, foreign rules included", snap_diff(pristine, after))
    world.all_open("after flush")
    r = fw.run("status", conf)
    check(r.returncode == 1, "status after flush (nothing applied): exit %d" % r.returncode, r.text)


def group_confirm(world):
    fw = world.fw
    pristine = fw.snapshot()
    p1 = world.file("p1.conf", SMALL_P1)
    p2 = world.file("p2.conf", SMALL_P2)

    # 1. No confirm: the previous ruleset comes back by itself.
    t0 = time.time()
    r = fw.run("apply", p1)
    world.apply_seconds = time.time() - t0
    check(r.returncode == 0, "apply p1: exit %d" % r.returncode, r.text)
    snap1 = fw.snapshot()
    t0 = time.time()
    r = fw.run("apply", "--confirm", "3", p2)
    check(r.returncode == 0 and re.search(r"confirm within 3 s .* previous ruleset comes back at \d\d:\d\d:\d\d",
                                          r.stdout) is not None,
          "apply --confirm 3 p2: exit %d, announces the deadline" % r.returncode, r.text)
    r = fw.run("status", p2)
    check(r.returncode == 0 and re.search(r"confirm|pending", r.stdout, re.I) is not None,
          "status p2 while pending: exit %d, mentions the pending confirmation" % r.returncode, r.text)
    quick(world, "p2", "p2 pending")
    time.sleep(max(0, 3 - (time.time() - t0)) + 2.0)
    quick(world, "p1", "no confirm: p1 back")
    snap = fw.snapshot()
    check(norm(snap) == norm(snap1), "no confirm: the ruleset is p1's again", snap_diff(norm(snap1), norm(snap)))
    r = fw.run("status", p1)
    check(r.returncode == 0 and "in sync" in r.stdout, "status p1 after the revert: exit %d" % r.returncode,
          r.text)
    if world.syslog:
        lines = world.syslog.take()
        check(any("ringfence-firewall[" in l and "rolled back (not confirmed within 3 s)" in l for l in lines),
              "the revert timer logged the rollback to syslog", "\n".join(lines))
    r = fw.run("confirm")
    check(r.returncode == 1, "confirm with nothing pending: exit %d" % r.returncode, r.text)

    # 2. Confirmed in time: stays.
    r = fw.run("apply", "--confirm", "2", p2)
    check(r.returncode == 0, "apply --confirm 2 p2 again: exit %d" % r.returncode, r.text)
    r = fw.run("confirm")
    check(r.returncode == 0, "confirm: exit %d" % r.returncode, r.text)
    time.sleep(3.5)
    quick(world, "p2", "confirmed: p2 stays")
    r = fw.run("status", p2)
    check(r.returncode == 0 and "in sync" in r.stdout and "pending" not in r.stdout.lower(),
          "status p2 after confirm: exit %d" % r.returncode, r.text)

    # 3. rollback: p1 again (the ruleset before the last apply).
    r = fw.run("rollback")
    check(r.returncode == 0, "rollback: exit %d" % r.returncode, r.text)
    quick(world, "p1", "rollback: p1 back")

    # 4. The admin's session dies during or right after apply --confirm:
    # the detached timer must still bring p1 back. The apply runs in a
    # session of its own with a pty as its controlling terminal, like a
    # login shell's job; the session is then killed: SIGKILL of its process
    # group once the confirm line is out, and at random moments SIGHUP of
    # the group plus a hangup of the terminal (what sshd's exit does) or
    # SIGKILL. Whatever the moment, after the deadline p1 must be back: the
    # apply either never committed, or committed with a live timer.
    rng = random.Random(int(os.environ.get("RINGFENCE_KILL_SEED", "4")))
    t_apply = world.apply_seconds
    plans = [("SIGKILL", None)] + [("SIGHUP", rng.uniform(0, t_apply * 1.2)) for _ in range(2)] + \
            [("SIGKILL", rng.uniform(0, t_apply * 1.2)) for _ in range(3)]
    if fw.variant == "nft":   # the timer does not depend on the backend: fewer rounds
        plans = plans[:2]
    for sig, when in plans:
        label = "%s %s" % (sig, "after the confirm line" if when is None else "%.0f ms after start" % (when * 1000))
        master, slave = pty.openpty()

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        secs = 3 if when is None else 1
        proc = fw.popen("apply", "--confirm", str(secs), p2, stdin=slave, stdout=slave, stderr=slave,
                        start_new_session=True, preexec_fn=ctty)
        os.close(slave)
        buf = b""
        t0 = time.time()
        if when is None:
            while b"confirm within" not in buf and time.time() - t0 < 20:
                try:
                    buf += os.read(master, 4096)
                except OSError:
                    break
        else:
            time.sleep(when)
        try:
            os.killpg(proc.pid, signal.SIGKILL if sig == "SIGKILL" else signal.SIGHUP)
        except ProcessLookupError:
            pass
        os.close(master)
        proc.wait()
        if when is None:
            quick(world, "p2", "session killed (%s): p2 in place until the deadline" % label)
        time.sleep(max(0, secs - (time.time() - t0)) + 1.5)
        snap = fw.snapshot()
        ok = norm(snap) == norm(snap1)
        check(ok, "session killed (%s): after the deadline the ruleset is exactly p1's" % label,
              snap_diff(norm(snap1), norm(snap)))
        if not ok:
            quick(world, "p1", "session killed (%s): p1 traffic" % label)
            st = fw.run("status", p1)
            log("     | status: exit %d: %s" % (st.returncode, st.text[:2000]))
            fw.run("apply", p1)

    # 5. --confirm with no ringfence ruleset before: the timer removes ours.
    r = fw.run("flush")
    check(r.returncode == 0, "flush: exit %d" % r.returncode, r.text)
    t0 = time.time()
    r = fw.run("apply", "--confirm", "3", p1)
    check(r.returncode == 0, "apply --confirm 3 p1 on a clean host: exit %d" % r.returncode, r.text)
    quick(world, "p1", "p1 pending")
    time.sleep(max(0, 3 - (time.time() - t0)) + 2.0)
    quick(world, "none", "no confirm: no ringfence rules at all")
    after = fw.snapshot()
    check(bare(after) == bare(pristine), "no confirm on a clean host: no ringfence rule, chain or set left",
          snap_diff(pristine, after))
    r = fw.run("apply", "--confirm", "0", p1)
    check(r.returncode == 2, "--confirm 0 is a usage error: exit %d" % r.returncode, r.text)


def group_status(world):
    fw = world.fw
    conf = world.main_policy()
    r = fw.run("status", conf)
    check(r.returncode == 1, "status before any apply: exit %d" % r.returncode, r.text)
    r = fw.run("apply", conf)
    check(r.returncode == 0, "apply main.conf: exit %d" % r.returncode, r.text)
    r = fw.run("status", conf)
    check(r.returncode == 0 and "in sync" in r.stdout, "status in sync: exit %d" % r.returncode, r.text)

    if fw.variant == "nft":
        add = ["nft", "insert", "rule", "inet", "ringfence", "input", "ip", "saddr", "10.92.0.20", "accept"]
        h = world.host.run(["nft", "-a", "list", "chain", "inet", "ringfence", "input"]).stdout
        m = re.search(r"tcp dport 9999 .* # handle (\d+)", h)
        ssh_rule_del = ["nft", "delete", "rule", "inet", "ringfence", "input", "handle", m.group(1)] if m else None
    else:
        t4 = TOOLS[fw.variant]["iptables"]
        add = [t4, "-w", "-I", "RINGFENCE-IN", "2", "-s", "10.92.0.20", "-j", "ACCEPT"]
        ssh_rule_del = [t4, "-w", "-D", "RINGFENCE-IN", "-s", "10.92.0.0/24", "-p", "tcp", "-m", "tcp",
                        "--dport", "9999", "-m", "comment", "--comment", "main.conf:%d" % line_of(MAIN_POLICY, "reject in tcp/9999"),
                        "-j", "RINGFENCE-REJECT"]
    # A rule added by hand.
    world.host.run(add)
    world.expect_in({("tcp", 22): dict(B20="o")}, "hand-added rule lets 10.92.0.20 in")
    r = fw.run("status", conf)
    check(r.returncode == 1 and re.search(r"^\+.*10\.92\.0\.20", r.stdout + r.stderr, re.M) is not None,
          "status sees the rule added by hand: exit %d, a '+' line naming 10.92.0.20" % r.returncode, r.text)
    undo = list(add)
    if fw.variant == "nft":
        h = world.host.run(["nft", "-a", "list", "chain", "inet", "ringfence", "input"]).stdout
        m = re.search(r"ip saddr 10\.92\.0\.20 accept # handle (\d+)", h)
        undo = ["nft", "delete", "rule", "inet", "ringfence", "input", "handle", m.group(1)]
    else:
        undo = [add[0], "-w", "-D", "RINGFENCE-IN", "-s", "10.92.0.20", "-j", "ACCEPT"]
    world.host.run(undo)
    r = fw.run("status", conf)
    check(r.returncode == 0 and "in sync" in r.stdout, "status in sync again after undoing it: exit %d"
          % r.returncode, r.text)

    # A rule deleted by hand.
    if check(ssh_rule_del is not None, "found ringfence's tcp/9999 rule to delete"):
        world.host.run(ssh_rule_del)
        r = fw.run("status", conf)
        check(r.returncode == 1 and re.search(r"^-.*9999", r.stdout + r.stderr, re.M) is not None,
              "status sees the rule deleted by hand: exit %d, a '-' line with 9999" % r.returncode, r.text)
        r = fw.run("apply", conf)
        check(r.returncode == 0, "re-apply repairs it: exit %d" % r.returncode, r.text)
        r = fw.run("status", conf)
        check(r.returncode == 0, "status in sync after re-apply: exit %d" % r.returncode, r.text)

    # A blocklist entry removed by hand.
    if fw.variant == "nft":
        set_del = ["nft", "delete", "element", "inet", "ringfence", "bad_v4", "{ 10.92.0.30 }"]
        set_add = ["nft", "add", "element", "inet", "ringfence", "bad_v4", "{ 10.92.0.30 }"]
    else:
        setname = [n for n in world.host.run(["ipset", "list", "-n"]).stdout.split()
                   if n.startswith("ringfence-bad-v4")]
        set_del = ["ipset", "del", setname[0], "10.92.0.30"]
        set_add = ["ipset", "add", setname[0], "10.92.0.30"]
    world.host.run(set_del)
    world.expect_in({("tcp", 8080): dict(B30="o")}, "set entry removed by hand lets 10.92.0.30 in")
    r = fw.run("status", conf)
    check(r.returncode == 1 and "10.92.0.30" in r.text,
          "status sees the set entry removed by hand: exit %d" % r.returncode, r.text)
    world.host.run(set_add)
    r = fw.run("status", conf)
    check(r.returncode == 0, "in sync once the entry is back: exit %d" % r.returncode, r.text)

    # The hook removed by hand (the classic "someone ran iptables -F INPUT").
    if fw.variant != "nft":
        fw.iptables(4, "-D", "INPUT", "-j", "RINGFENCE-IN")
        r = fw.run("status", conf)
        check(r.returncode == 1 and "RINGFENCE-IN" in r.text, "status sees the missing INPUT hook: exit %d"
              % r.returncode, r.text)
        fw.iptables(4, "-I", "INPUT", "1", "-j", "RINGFENCE-IN")
        # Another rule put ahead of the hook bypasses the whole policy.
        fw.iptables(4, "-I", "INPUT", "1", "-s", "10.92.0.20", "-j", "ACCEPT")
        r = fw.run("status", conf)
        check(r.returncode == 1 and "rule 2 of INPUT" in r.text,
              "status sees a rule inserted before the INPUT hook: exit %d" % r.returncode, r.text)
        fw.iptables(4, "-D", "INPUT", "-s", "10.92.0.20", "-j", "ACCEPT")
    else:
        world.host.run(["nft", "flush", "chain", "inet", "ringfence", "output"])
        r = fw.run("status", conf)
        check(r.returncode == 1, "status sees the flushed output chain: exit %d" % r.returncode, r.text)
        fw.run("apply", conf)

    # The file on disk differs from what was applied.
    other = world.file("other.conf", MAIN_POLICY.replace("allow in web from any\n", ""))
    r = fw.run("status", other)
    check(r.returncode == 1, "status FILE that differs from the applied policy: exit %d" % r.returncode, r.text)
    r = fw.run("status", conf)
    check(r.returncode == 0 and "in sync" in r.stdout, "status in sync at the end: exit %d" % r.returncode,
          r.text)


def group_failures(world):
    fw = world.fw
    conf = world.main_policy()
    r = fw.run("apply", conf)
    check(r.returncode == 0, "apply main.conf: exit %d" % r.returncode, r.text)
    good = fw.snapshot()

    def unchanged(what, r, want_rc, want_text=None):
        after = fw.snapshot()
        check(r.returncode == want_rc, "%s: exit %d (want %d)" % (what, r.returncode, want_rc), r.text)
        if want_text:
            check(re.search(want_text, r.text) is not None, "%s: the error says %r" % (what, want_text), r.text)
        check(after == good, "%s: the ruleset is unchanged byte for byte" % what, snap_diff(good, after))

    # Bad policies (compile errors): exit 1, file:line: in the message.
    entries = ["10.%d.%d.%d\n" % (40 + i // 62500, (i // 250) % 250, i % 250 + 1) for i in range(5000)]
    world.file("badline.set", "".join(entries[:2500]) + "10.1.2.300\n" + "".join(entries[2500:]))
    nxt = len(MAIN_POLICY.splitlines()) + 1   # the line appended below
    cases = [
        ("set file with a bad line at 2501", MAIN_POLICY.replace("set bad file bad.set", "set bad file badline.set"),
         r"badline\.set:2501:"),
        ("unknown service", MAIN_POLICY + "allow in vmware-nosuch from any\n", r"bad\d\.conf:%d:" % nxt),
        ("port out of range", MAIN_POLICY + "allow in tcp/65536\n", r"bad\d\.conf:%d:" % nxt),
        ("address that does not parse", MAIN_POLICY + "deny in from 10.0.0.256\n", r"bad\d\.conf:%d:" % nxt),
        ("missing set file", MAIN_POLICY.replace("bad.set", "nosuch.set"),
         r"bad\d\.conf:%d:.*nosuch\.set" % line_of(MAIN_POLICY, "set bad")),
        ("syntax error", MAIN_POLICY + "allow sideways ssh\n", r"bad\d\.conf:%d:" % nxt),
    ]
    for i, (what, text, msg) in enumerate(cases):
        p = world.file("bad%d.conf" % i, text)
        unchanged(what, fw.run("apply", p), 1, msg)

    # Failing tools. A changed policy, so that a silent success would show.
    new = world.file("new.conf", MAIN_POLICY.replace("allow in web from any\n", "allow in web from 10.91.0.0/24\n")
                     .replace("10.91.0.66\n", "10.91.0.66\n10.91.0.67\n"))
    if fw.variant == "nft":
        nft = real_tool("nft")
        fakes = [
            ("nft that always fails", {"nft": failing_tool(nft)}),
            ("nft that fails at the commit (passes -c)", {"nft": failing_tool(nft, "commit")}),
        ]
    else:
        t = TOOLS[fw.variant]
        rr4, rr6, ips = real_tool(t["iptables-restore"]), real_tool(t["ip6tables-restore"]), real_tool("ipset")
        fakes = [
            ("iptables-restore that always fails", {"iptables-restore": failing_tool(rr4)}),
            ("iptables-restore that fails at the commit (passes --test)",
             {"iptables-restore": failing_tool(rr4, "commit")}),
            ("second family failing: ip6tables-restore fails at the commit",
             {"ip6tables-restore": failing_tool(rr6, "commit")}),
            ("ipset that fails", {"ipset": failing_tool(ips)}),
            ("ipset restore that fails half way",
             {"ipset": "#!/bin/sh\nif [ \"$1\" = restore ] || [ \"$1\" = -exist ] || [ \"$2\" = restore ]; then\n"
                       "  head -n 3 | %s \"$@\"; echo 'ipset: injected failure at line 4' >&2; exit 1\nfi\n"
                       "exec %s \"$@\"\n" % (ips, ips)}),
            ("iptables-restore missing", {"iptables-restore": None}),
        ]
    for i, (what, override) in enumerate(fakes):
        d = tool_dir(os.path.join(world.work, "fake%d" % i), "nft" if fw.variant == "nft" else fw.variant,
                     override)
        unchanged(what, fw.run("apply", new, path=d), 3)
        quick(world, "main", "%s: traffic as before" % what)
        r = fw.run("status", conf)
        check(r.returncode == 0 and "in sync" in r.stdout, "%s: status still in sync with main.conf" % what,
              r.text)
    r = fw.run("apply", new)
    check(r.returncode == 0, "with the real tools, the new policy applies: exit %d" % r.returncode, r.text)
    world.expect_in({("tcp", 8080): dict(B20="t", A10="o")}, "new policy")


def group_sets(world):
    """Only a set file changed: apply loads the members alone (iptables: the
    spare generation swapped in, the live set names kept; nft: the sets
    flushed and filled in one transaction), status stays in sync; a failing
    step leaves the old members live and the state files byte for byte; a
    rule changed by hand makes it a full apply, which puts the rule back."""
    fw = world.fw
    conf = world.main_policy()
    r = fw.run("apply", conf)
    check(r.returncode == 0 and "set members only" not in r.stdout, "first apply: a full one", r.text)

    def set_names():
        if fw.variant == "nft":
            return None
        return sorted(n for n in world.host.run(["ipset", "list", "-n"]).stdout.split() if n.startswith("ringfence-"))

    def state_files():
        out = {}
        for n in sorted(os.listdir(fw.state)):
            if n != "lock":
                with open(os.path.join(fw.state, n), "rb") as f:
                    out[n] = f.read()
        return out

    names = set_names()
    # 10.92.0.30 leaves the blocklist, 10.92.0.20 joins it.
    swapped = BAD_SET.replace("10.92.0.30", "10.92.0.20")
    world.file("bad.set", swapped)
    r = fw.run("apply", conf)
    check(r.returncode == 0 and "set members only" in r.stdout, "a changed set file: the members alone loaded",
          r.text)
    world.expect_in({("tcp", 8080): dict(B20="t", B30="o"), ("tcp", 22): dict(A10="o")}, "the new list is live")
    r = fw.run("status", conf)
    check(r.returncode == 0 and "in sync" in r.stdout, "status in sync after the set-only reload", r.text)
    check(set_names() == names, "the live set names are kept", (names, set_names()))

    # Each failing step: the old members stay live, the state files as they were.
    world.file("bad.set", BAD_SET)
    if fw.variant == "nft":
        nft = real_tool("nft")
        fakes = [("nft that always fails", {"nft": failing_tool(nft)})]
    else:
        ips = real_tool("ipset")
        fakes = [
            ("ipset restore failing", {"ipset": "#!/bin/sh\nif [ \"$1\" = restore ]; then cat >/dev/null; "
                                                "echo 'ipset: injected failure' >&2; exit 1; fi\nexec %s \"$@\"\n"
                                                % ips}),
            ("ipset swap failing at the second set (the first swapped back)",
             {"ipset": "#!/bin/sh\nif [ \"$1\" = swap ]; then case \"$3\" in *-v6?) "
                       "echo 'ipset: injected swap failure' >&2; exit 1;; esac; fi\nexec %s \"$@\"\n" % ips}),
        ]
    for i, (what, override) in enumerate(fakes):
        d = tool_dir(os.path.join(world.work, "setfake%d" % i), "nft" if fw.variant == "nft" else fw.variant,
                     override)
        before, files = fw.snapshot(), state_files()
        r = fw.run("apply", conf, path=d)
        check(r.returncode == 3 and "The running ruleset is unchanged" in r.text, "%s: exit 3" % what, r.text)
        check(fw.snapshot() == before, "%s: the ruleset is unchanged byte for byte" % what,
              snap_diff(before, fw.snapshot()))
        check(state_files() == files, "%s: the state files are unchanged" % what)
        world.expect_in({("tcp", 8080): dict(B20="t", B30="o")}, "%s: the old list still live" % what)
    r = fw.run("apply", conf)
    check(r.returncode == 0 and "set members only" in r.stdout, "with the real tools: the members loaded", r.text)
    world.expect_in({("tcp", 8080): dict(B20="o", B30="t")}, "the list is back")
    r = fw.run("status", conf)
    check(r.returncode == 0 and "in sync" in r.stdout, "status in sync", r.text)

    # A rule added by hand, then a changed set file: a full apply puts the
    # rule back (the set-only path does not hide drift).
    if fw.variant == "nft":
        world.host.run(["nft", "insert", "rule", "inet", "ringfence", "input", "ip", "saddr", "10.92.0.30",
                        "accept"])
    else:
        fw.iptables(4, "-I", "RINGFENCE-IN", "1", "-s", "10.92.0.30", "-j", "ACCEPT")
    world.file("bad.set", swapped)
    r = fw.run("apply", conf)
    check(r.returncode == 0, "drift and a changed set file: applied", r.text)
    if fw.variant != "nft":
        check("set members only" not in r.stdout, "drift: a full apply", r.text)
    world.expect_in({("tcp", 8080): dict(B20="t", B30="o")}, "drift: the hand-added rule is gone, the new list live")
    r = fw.run("status", conf)
    check(r.returncode == 0 and "in sync" in r.stdout, "drift: status in sync afterwards", r.text)


def group_boot(world):
    """`boot FILE`, what the boot units run: the file when it is good, the
    last good (confirmed) ruleset when it is broken or when an apply was
    still unconfirmed as the host went down, nothing when there is no good
    ruleset; the failure is said (file:line for a broken policy)."""
    fw = world.fw
    pristine = fw.snapshot()
    p1 = world.file("p1.conf", SMALL_P1)
    p2 = world.file("p2.conf", SMALL_P2)
    broken = world.file("broken.conf", SMALL_P1 + "allow sideways ssh\n")
    bad_line = len(SMALL_P1.splitlines()) + 1

    r = fw.run("boot", broken)
    check(r.returncode == 1 and "no last good ruleset" in r.text,
          "boot of a broken policy with no good ruleset: exit %d, says there is none" % r.returncode, r.text)
    check(re.search(r"broken\.conf:%d:" % bad_line, r.text) is not None, "the error names broken.conf:%d:" % bad_line,
          r.text)
    check(fw.snapshot() == pristine, "nothing was loaded", snap_diff(pristine, fw.snapshot()))

    r = fw.run("boot", p1)
    check(r.returncode == 0 and "at boot" in r.stdout, "boot p1: exit %d" % r.returncode, r.text)
    quick(world, "p1", "after boot p1")
    snap1 = fw.snapshot()
    r = fw.run("status", p1)
    check(r.returncode == 0 and "in sync" in r.stdout, "status in sync after boot: exit %d" % r.returncode, r.text)

    r = fw.run("boot", broken)
    check(r.returncode == 1 and "applied the last good ruleset" in r.text,
          "boot of a broken policy: exit %d, falls back to the last good ruleset" % r.returncode, r.text)
    check(norm(fw.snapshot()) == norm(snap1), "the last good ruleset (p1) is loaded",
          snap_diff(norm(snap1), norm(fw.snapshot())))

    # An apply --confirm still pending when the host went down (the timer
    # dies with it): boot must not trust it, even from a valid file.
    r = fw.run("apply", "--confirm", "120", p2)
    check(r.returncode == 0, "apply --confirm 120 p2: exit %d" % r.returncode, r.text)
    with open(os.path.join(fw.state, "pending")) as f:
        timer = int(f.read().split()[1])
    os.kill(timer, signal.SIGKILL)
    r = fw.run("boot", p2)
    check(r.returncode == 1 and "unconfirmed" in r.text and "last good ruleset" in r.text,
          "boot after an unconfirmed apply: exit %d, loads the confirmed ruleset" % r.returncode, r.text)
    check(norm(fw.snapshot()) == norm(snap1), "p1 (confirmed) is loaded, not p2",
          snap_diff(norm(snap1), norm(fw.snapshot())))
    quick(world, "p1", "after boot with a pending confirmation")

    # A damaged last-good file is refused, not half read.
    with open(os.path.join(fw.state, "good.bundle"), "r+") as f:
        f.truncate(100)
    before = fw.snapshot()
    r = fw.run("boot", broken)
    check(r.returncode == 1 and "damaged" in r.text, "boot with a damaged good.bundle: exit %d, says so"
          % r.returncode, r.text)
    check(fw.snapshot() == before, "nothing was loaded from the damaged file", snap_diff(before, fw.snapshot()))


# --- kill -9 at random moments

def big_policy(world, n_set=20000, n_rules=2000):
    lines = ["# big policy for the kill test: %d set entries, %d rules" % (n_set, n_rules),
             "policy in drop", "service ssh tcp/22", "set bad file big.set",
             "deny in from bad", "allow in ssh from 10.91.0.0/24 fd91::/64"]
    for i in range(n_rules):
        lines.append("allow in tcp/%d from 10.%d.%d.0/24 fd%02x:%x::/64" % (10000 + i, 100 + i // 250, i % 250,
                                                                       0x10 + i // 4096, i % 4096))
    world.file("big.set", "".join("172.%d.%d.%d\n" % (16 + i // 62500, (i // 250) % 250, i % 250 + 1)
                                  for i in range(n_set - n_set // 10)) +
               "".join("fdee:%x:%x::/48\n" % (i // 1000, i % 1000) for i in range(n_set // 10)) + "10.92.0.30\n")
    return world.file("big.conf", "\n".join(lines) + "\n")


def state_of(fw):
    """Per family: the rules (set generation letters out) and the content of
    every set they reference."""
    out = {}
    if fw.variant == "nft":
        r = fw.ns.run(["nft", "list", "table", "inet", "ringfence"], check=False)
        out["nft"] = fwnet.normalize_nft(r.stdout) if r.returncode == 0 else "(no table)"
        return out
    sets = {}
    cur = None
    for l in fw.ns.run(["ipset", "save"]).stdout.splitlines():
        p = l.split()
        if p[0] == "create":
            cur = p[1]
            sets[cur] = []
        elif p[0] == "add":
            sets[p[1]].append(" ".join(p[2:]))
    for fam in (4, 6):
        s = fw.save(fam)
        refs = sorted(set(re.findall(r"--match-set (\S+)", s)))
        content = {re.sub(r"[a-z]$", "", n): sorted(sets.get(n, ["(missing set %s)" % n])) for n in refs}
        out["v%d" % fam] = (re.sub(r"(ringfence-[\w-]+-v[46])[a-z]\b", r"\1", s), repr(sorted(content.items())))
    return out


def state_diff(a, b):
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            ta = "\n".join(a.get(k) or ()) if isinstance(a.get(k), tuple) else str(a.get(k))
            tb = "\n".join(b.get(k) or ()) if isinstance(b.get(k), tuple) else str(b.get(k))
            out.append("--- %s" % k)
            out.extend(list(difflib.unified_diff(ta.splitlines(), tb.splitlines(), "expected", "live",
                                                 lineterm="", n=0))[:30])
    return "\n".join(out)


def group_kill(world, rounds):
    fw = world.fw
    old = world.file("old.conf", "service ssh tcp/22\nset bad file old.set\ndeny in from bad\n"
                     "allow in ssh from any\n")
    world.file("old.set", "10.91.0.66\nfd91::66\n")
    big = big_policy(world)
    r = fw.run("apply", old)
    check(r.returncode == 0, "apply old.conf: exit %d" % r.returncode, r.text)
    s_old = state_of(fw)
    t0 = time.time()
    r = fw.run("apply", big)
    t_big = time.time() - t0
    check(r.returncode == 0, "apply big.conf (20,000 set entries, 2,000 rules): exit %d in %.2f s"
          % (r.returncode, t_big), r.text)
    s_new = state_of(fw)
    check(s_old != s_new, "old and new states differ")
    rng = random.Random(int(os.environ.get("RINGFENCE_KILL_SEED", "4")))
    outcome = {"old": 0, "new": 0}
    for i in range(rounds):
        r = fw.run("apply", old)
        st = state_of(fw)
        if not check(r.returncode == 0 and st == s_old, "round %d: apply old.conf: exit %d, old state"
                     % (i + 1, r.returncode), r.text + "\n" + state_diff(s_old, st)):
            continue
        # Spread over the whole apply (and a bit past it), one slice per round.
        delay = t_big * 1.3 * (i + rng.random()) / rounds
        p = fw.popen("apply", big, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        # The commit runs in a worker of its own session that a kill of
        # apply does not stop; it holds the state directory's lock until
        # both families and the state files are done. Wait for the lock, as
        # any later ringfence-firewall command does.
        with open(os.path.join(fw.state, "lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            fcntl.flock(lock, fcntl.LOCK_UN)
        s = state_of(fw)
        fams = sorted(s)
        kinds = []
        for f in fams:
            kinds.append("old" if s[f] == s_old[f] else "new" if s[f] == s_new[f] else "MIXED")
        label = "/".join("%s %s" % (f, k) for f, k in zip(fams, kinds))
        # Old or new as a whole: no family half loaded, and no IPv4 new
        # with IPv6 old (the worker finishes what it started).
        ok = all(k != "MIXED" for k in kinds) and len(set(kinds)) == 1
        check(ok, "round %d: kill -9 after %.0f ms: %s" % (i + 1, delay * 1000, label),
              "\n".join("%s: %s" % (f, str(s[f])[:3000]) for f in fams if s[f] not in (s_old[f], s_new[f])))
        for k in kinds:
            if k in outcome:
                outcome[k] += 1
    log("kill outcomes per family: %s" % outcome)
    r = fw.run("apply", old)
    check(r.returncode == 0 and state_of(fw) == s_old, "after the kills, apply old.conf works: exit %d"
          % r.returncode, r.text)
    r = fw.run("status", old)
    check(r.returncode == 0, "status in sync after the kills: exit %d" % r.returncode, r.text)
    if fw.variant != "nft":
        names = world.host.run(["ipset", "list", "-n"]).stdout.split()
        check(sorted(names) == sorted(n for n in names if n.startswith("ringfence-bad-")) and len(names) == 2,
              "no leftover set generations after the kills: %s" % names)


LL_DENY_POLICY = """\
policy in drop
allow in tcp/22 from 10.91.0.0/24 fd91::/64 fe80::/10
deny in from fe80::/10
"""
LL_ALLOW_POLICY = "policy in drop\nallow in tcp/22 from fe80::/10\n"
# (SSH_CONNECTION, what the refusal names)
UNREADABLE_SSH_CONNECTION = [
    ("garbage", "1 field,"),
    ("10.91.0.10 51234 10.91.0.1", "3 fields"),
    ("10.91.0.10 51234 10.91.0.1 22 x", "5 fields"),
    ("10.91.0.10 99999 10.91.0.1 22", "client port"),
    ("10.91.0.10 51234 10.91.0.1 ssh", "server port"),
    ("fe80::a8fb:f9ff:fee6:f02 53402 fe80::94f9:8aff:fede:51c5%vh 22", "only the server address"),
    ("fe80::1%vh 53402 fe80::2%eth0 22", "different zones"),
    ("fd91::10%vh 51234 fd91::1%vh 22", "not an IPv6 link-local"),
    ("[fd91::10] 51234 fd91::1 22", "client address"),
    ("10.91.0.10 51234 fd91::1 22", "different families"),
]


def group_refusals(world):
    fw = world.fw
    conf = world.main_policy()
    p1 = world.file("p1.conf", SMALL_P1)
    r = fw.run("apply", p1)
    check(r.returncode == 0, "apply p1.conf: exit %d" % r.returncode, r.text)
    if fw.variant == "auto" and real_tool("nft") and "nf_tables" in subprocess.run(
            [real_tool("iptables") or "true", "-V"], stdout=subprocess.PIPE, text=True).stdout:
        check("backend: nft" in r.stdout, "--backend auto picks nft (nft present, iptables is iptables-nft)", r.text)
    base = fw.snapshot()

    def refused(what, r, want_rc, pattern):
        after = fw.snapshot()
        check(r.returncode == want_rc and re.search(pattern, r.text, re.I) is not None,
              "%s: exit %d (want %d), message matches %r" % (what, r.returncode, want_rc, pattern), r.text)
        check(after == base, "%s: nothing changed" % what, snap_diff(base, after))

    # SSH lockout: the session comes from 10.92.0.20, main.conf lets only the
    # management network reach tcp/22.
    ssh = {"SSH_CONNECTION": "10.92.0.20 51234 10.92.0.1 22"}
    refused("SSH session from 10.92.0.20 that main.conf would cut", fw.run("apply", conf, extra_env=ssh),
            4, r"ssh|lock ?out|cut")
    ssh6 = {"SSH_CONNECTION": "fd92::20 51234 fd92::1 22"}
    refused("IPv6 SSH session from fd92::20", fw.run("apply", conf, extra_env=ssh6), 4, r"ssh|lock ?out|cut")
    blk = {"SSH_CONNECTION": "10.91.0.66 51234 10.91.0.1 22"}
    refused("SSH session from a blocklisted admin address", fw.run("apply", conf, extra_env=blk), 4,
            r"ssh|lock ?out|cut")
    ok = {"SSH_CONNECTION": "10.91.0.10 51234 10.91.0.1 22"}
    r = fw.run("apply", conf, extra_env=ok)
    check(r.returncode == 0, "SSH session from the management network: applies, exit %d" % r.returncode, r.text)
    quick(world, "main", "applied from an allowed SSH session")
    r = fw.run("apply", p1)
    base = fw.snapshot()
    r = fw.run("--force", "apply", conf, extra_env=ssh)
    check(r.returncode == 0, "--force applies despite the SSH session: exit %d" % r.returncode, r.text)
    quick(world, "main", "applied with --force")
    r = fw.run("apply", p1)
    base = fw.snapshot()

    # A link-local session, as OpenSSH writes it: both addresses carry the
    # interface as a zone index. The policy's fe80::/10 has no zone and must
    # match it all the same.
    ll = {"SSH_CONNECTION": "fe80::a8fb:f9ff:fee6:f02%vh 53402 fe80::94f9:8aff:fede:51c5%vh 22"}
    ll_deny = world.file("ll-deny.conf", LL_DENY_POLICY)
    refused("link-local SSH session, policy denies fe80::/10", fw.run("apply", ll_deny, extra_env=ll), 4,
            r"would cut the SSH session.*fe80::a8fb:f9ff:fee6:f02%vh to port 22/tcp.*ll-deny\.conf:3")
    refused("link-local SSH session, main.conf allows no link-local source", fw.run("apply", conf, extra_env=ll),
            4, r"keep you from opening a new SSH session.*fe80::a8fb:f9ff:fee6:f02%vh")
    r = fw.run("apply", world.file("ll-allow.conf", LL_ALLOW_POLICY), extra_env=ll)
    check(r.returncode == 0 and "SSH_CONNECTION" not in r.text,
          "link-local SSH session, policy allows fe80::/10 to tcp/22: applies, exit %d" % r.returncode, r.text)
    r = fw.run("apply", p1)
    base = fw.snapshot()
    r = fw.run("--force", "apply", ll_deny, extra_env=ll)
    check(r.returncode == 0 and re.search(r"warning: .*would cut.*applying anyway \(--force\)", r.text),
          "link-local SSH session, --force: applies with a warning, exit %d" % r.returncode, r.text)
    check(fw.snapshot() != base, "link-local SSH session, --force: the ruleset changed")
    r = fw.run("apply", p1)
    base = fw.snapshot()

    # An SSH_CONNECTION that cannot be read entirely is a session that cannot
    # be checked: refused, never skipped.
    for value, says in UNREADABLE_SSH_CONNECTION:
        refused("unreadable SSH_CONNECTION %r" % value, fw.run("apply", conf, extra_env={"SSH_CONNECTION": value}),
                4, r"refusing: cannot read SSH_CONNECTION .*" + says + r".*--force or --confirm SECONDS")
    bad = {"SSH_CONNECTION": UNREADABLE_SSH_CONNECTION[0][0]}
    r = fw.run("--force", "apply", conf, extra_env=bad)
    check(r.returncode == 0 and "cannot read SSH_CONNECTION" in r.text,
          "unreadable SSH_CONNECTION, --force: applies with a warning, exit %d" % r.returncode, r.text)
    quick(world, "main", "applied with --force despite an unreadable SSH_CONNECTION")
    r = fw.run("apply", p1)
    base = fw.snapshot()
    r = fw.run("--confirm", "60", "apply", conf, extra_env=bad)
    check(r.returncode == 0 and "cannot read SSH_CONNECTION" in r.text,
          "unreadable SSH_CONNECTION, --confirm 60: applies with a warning, exit %d" % r.returncode, r.text)
    r = fw.run("rollback")
    check(r.returncode == 0 and fw.snapshot() == base, "rollback after the --confirm apply: exit %d"
          % r.returncode, r.text)
    # Unset: nothing to check (a console login), as before.
    r = fw.run("apply", conf)
    check(r.returncode == 0, "SSH_CONNECTION unset: applies, exit %d" % r.returncode, r.text)
    r = fw.run("apply", p1)
    base = fw.snapshot()

    # firewalld running: a process whose comm is firewalld.
    fake = os.path.join(world.work, "firewalld")
    shutil.copy("/bin/sleep", fake)
    fd = subprocess.Popen([fake, "1000"])
    try:
        time.sleep(0.1)
        refused("firewalld running", fw.run("apply", conf), 4, r"firewalld")
    finally:
        fd.kill()
        fd.wait()
    r = fw.run("apply", conf)
    check(r.returncode == 0, "firewalld gone: applies, exit %d" % r.returncode, r.text)

    # The lock: a second apply waits for the first (serialised), both succeed.
    pa = fw.popen("apply", p1, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pb = fw.popen("apply", conf, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    oa, ob = pa.communicate(60), pb.communicate(60)
    check(pa.returncode == 0 and pb.returncode == 0, "two concurrent applies both succeed (serialised): %d, %d"
          % (pa.returncode, pb.returncode), (oa[0] or "") + (ob[0] or ""))
    r = fw.run("status")
    st1 = fw.run("status", p1).returncode
    st2 = fw.run("status", conf).returncode
    check(sorted([st1, st2]) == [0, 1], "after concurrent applies exactly one policy is in sync (%d, %d)"
          % (st1, st2))


SSHD = "/usr/sbin/sshd"
SSH_PORT = 2022   # the host's agent listens on 22 already
HOST_LL, ADM_LL = "fe80::91:1", "fe80::91:10"


def sshd_missing():
    for tool in (SSHD, shutil.which("ssh"), shutil.which("ssh-keygen")):
        if not tool or not os.access(tool, os.X_OK):
            return "sshd, ssh or ssh-keygen is not installed"
    return None


def group_sshd(world):
    """A real OpenSSH session over IPv6 link-local from "adm" to "host": its
    SSH_CONNECTION carries zone indexes, and `apply` run inside it must
    refuse a policy that cuts it or locks its client out."""
    fw = world.fw
    host_if, adm_if = world.links["adm"]
    world.host.run(["ip", "-6", "addr", "add", HOST_LL + "/64", "dev", host_if, "nodad"])
    world.lab.ns["adm"].run(["ip", "-6", "addr", "add", ADM_LL + "/64", "dev", adm_if, "nodad"])
    d = os.path.join(world.work, "ssh")
    os.makedirs(d, 0o700)
    os.makedirs("/run/sshd", 0o755, exist_ok=True)   # privilege separation; /run is the sandbox's
    for key in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, key)], check=True)
    shutil.copy(os.path.join(d, "client.pub"), os.path.join(d, "authorized_keys"))
    config = os.path.join(d, "sshd_config")
    text = ("ListenAddress %s%%%s\nPort %d\nHostKey %s/host\nPidFile %s/sshd.pid\n"
            "AuthorizedKeysFile %s/authorized_keys\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            % (HOST_LL, host_if, SSH_PORT, d, d, d))
    with open(config, "w") as f:
        f.write(text)
    # OpenSSH 9.8 and later slow down sources whose sessions end badly.
    if subprocess.run([SSHD, "-t", "-f", config, "-o", "PerSourcePenalties=no"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        with open(config, "a") as f:
            f.write("PerSourcePenalties no\n")
    sshd_log = os.path.join(d, "sshd.log")
    sshd = world.host.popen([SSHD, "-D", "-f", config, "-E", sshd_log])

    def ssh(command, timeout=60):
        argv = ["ssh", "-F", "/dev/null", "-i", os.path.join(d, "client"), "-o", "IdentitiesOnly=yes",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-p", str(SSH_PORT),
                "-b", "%s%%%s" % (ADM_LL, adm_if), "root@%s%%%s" % (HOST_LL, adm_if), command]
        try:
            r = world.lab.ns["adm"].run(argv, check=False, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            r = subprocess.CompletedProcess(argv, -1, e.stdout or "", (e.stderr or "") + "\n(timed out)")
        r.text = ((r.stdout or "") + (r.stderr or "")).strip()
        return r

    def remote_fw(*args):
        env = "RINGFENCE_FIREWALL_PATH=%s " % shlex.quote(fw.path) if fw.path else ""
        return ssh("exec env %s%s" % (env, " ".join(shlex.quote(a) for a in fw.argv(*args))))

    try:
        r = None
        for _ in range(50):   # sshd takes a moment to listen
            r = ssh('printf "%s\\n" "$SSH_CONNECTION"', timeout=20)
            if r.returncode == 0 or sshd.poll() is not None:
                break
            time.sleep(0.2)
        log_text = open(sshd_log).read() if os.path.exists(sshd_log) else ""
        if r.returncode != 0 and "account is locked" in log_text:
            log("SKIP: sshd refuses root here (account is locked)")
            return SKIP
        want = r"^%s%%%s \d+ %s%%%s %d$" % (ADM_LL, host_if, HOST_LL, host_if, SSH_PORT)
        if not check(r.returncode == 0 and re.match(want, r.stdout.strip()) is not None,
                     "sshd over link-local: SSH_CONNECTION %r has zone indexes" % r.stdout.strip(),
                     r.text + "\n" + log_text):
            return
        # The starting point lets the session in.
        start = world.file("sshd-start.conf", "policy in drop\nallow in tcp/%d from fe80::/10\n"
                           "allow in tcp/22 from 10.91.0.0/24\n" % SSH_PORT)
        r = fw.run("apply", start)
        check(r.returncode == 0, "apply sshd-start.conf (no SSH_CONNECTION): exit %d" % r.returncode, r.text)
        base = fw.snapshot()
        deny = world.file("sshd-deny.conf", "policy in drop\nallow in tcp/%d from any\ndeny in from fe80::/10\n"
                          % SSH_PORT)
        r = remote_fw("apply", deny)
        check(r.returncode == 4 and re.search(r"would cut the SSH session.*%s%%%s" % (ADM_LL, host_if), r.text),
              "over ssh: a policy denying fe80::/10 is refused, exit %d (want 4)" % r.returncode, r.text)
        check(fw.snapshot() == base, "over ssh: the refused policy changed nothing", snap_diff(base, fw.snapshot()))
        other = world.file("sshd-other.conf", "policy in drop\nallow in tcp/%d from fd91::/64 10.91.0.0/24\n"
                           % SSH_PORT)
        r = remote_fw("apply", other)
        check(r.returncode == 4 and "keep you from opening a new SSH session" in r.text,
              "over ssh: a policy without the link-local client is refused, exit %d (want 4)" % r.returncode,
              r.text)
        check(fw.snapshot() == base, "over ssh: that policy changed nothing", snap_diff(base, fw.snapshot()))
        allow = world.file("sshd-allow.conf", "policy in drop\nallow in tcp/%d from fe80::/10\n" % SSH_PORT)
        r = remote_fw("apply", allow)
        check(r.returncode == 0 and "SSH_CONNECTION" not in r.text,
              "over ssh: a policy allowing fe80::/10 applies, exit %d" % r.returncode, r.text)
        r = ssh("true", timeout=30)
        check(r.returncode == 0, "a new ssh session over link-local still gets in: exit %d" % r.returncode, r.text)
    finally:
        sshd.terminate()
        sshd.wait()


# ---------------------------------------------------------------------------


def have_backend(variant):
    if variant == "auto":
        return True
    return all(real_tool(t) for t in TOOLS[variant].values())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fw", required=True, help="ringfence-firewall")
    ap.add_argument("--backend", default="iptables-nft", choices=["iptables-nft", "iptables-legacy", "nft", "auto"])
    ap.add_argument("group", choices=["verdicts", "confirm", "status", "failures", "sets", "boot", "kill",
                                       "refusals", "sshd"])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("RINGFENCE_KILL_ROUNDS", "20")))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.fw = os.path.abspath(args.fw)
    if not os.access(args.fw, os.X_OK):
        log("SKIP: %s is not built" % args.fw)
        return SKIP
    if not have_backend(args.backend):
        log("SKIP: the %s tools are not installed" % args.backend)
        return SKIP
    if args.backend != "nft" and not real_tool("ipset"):
        log("SKIP: ipset is not installed")
        return SKIP
    if args.group == "sshd" and sshd_missing():
        log("SKIP: " + sshd_missing())
        return SKIP
    fwnet.enter_sandbox(sys.argv)
    world = World(args, args.backend)
    t0 = time.time()
    skipped = False
    try:
        if args.group == "kill":
            group_kill(world, args.rounds)
        else:
            skipped = globals()["group_" + args.group](world) == SKIP
    except Exception as e:
        import traceback
        traceback.print_exc()
        check(False, "the %s group ran to the end (%s: %s)" % (args.group, type(e).__name__, e))
    finally:
        world.close()
    log("firewall %s (%s): %d checks, %d failed, %.1f s" % (args.group, args.backend, checks, len(failed),
                                                            time.time() - t0))
    for f in failed:
        log("  failed: " + f)
    return 1 if failed else SKIP if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
