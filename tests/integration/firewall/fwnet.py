# SPDX-License-Identifier: BSD-3-Clause
"""A small network lab for the ringfence-firewall integration tests.

Everything lives in namespaces the test creates for itself:

* enter_sandbox() re-executes the test in private mount, network and PID
  namespaces (`unshare -m -n -p --fork --mount-proc`). PID 1 there is a
  reaper; when the test ends, however it ends, the kernel kills every process
  left in the PID namespace (listeners, revert timers, fake firewalld), and
  the network namespaces below die with the processes that hold them. Nothing
  has a global name, so tests can run in parallel.
* Lab() makes network namespaces ("host", "adm", "oth", ...), each held by a
  `sleep` started with `unshare -n`, and joins them with veth pairs. Commands
  run in a namespace through `nsenter --net=/proc/PID/ns/net` (nsenter execs,
  so the PID is the program's own).
* An Agent is a copy of this file running in one namespace (`agent` mode),
  driven over JSON lines on stdin/stdout: it opens TCP and UDP listeners that
  answer with the peer address they saw, and runs batches of probes (TCP
  connect, UDP request/reply) from given source addresses in parallel, so a
  batch of dropped probes costs one timeout, not one per probe.

Probe results: "open" (the listener answered and saw our source address),
"refused" (TCP RST / ICMP port unreachable: a reject), "timeout" (no answer:
a drop), or "error: ...".
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------------------
# Sandbox


def enter_sandbox(argv, marker="RF_FWT_SANDBOX"):
    """Re-executes `argv` (a Python script and its arguments) in private
    mount, network and PID namespaces; returns only inside them."""
    if os.environ.get(marker) == "1":
        return
    if os.geteuid() != 0:
        log("SKIP: needs root (network namespaces, iptables)")
        sys.exit(SKIP)
    for tool in ("unshare", "nsenter", "ip"):
        if not shutil.which(tool):
            log("SKIP: %s is missing" % tool)
            sys.exit(SKIP)
    probe = subprocess.run(["unshare", "-m", "-n", "-p", "--fork", "--mount-proc", "--propagation", "private",
                            "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if probe.returncode != 0:
        log("SKIP: unshare -m -n -p failed: " + probe.stderr.strip())
        sys.exit(SKIP)
    env = dict(os.environ, **{marker: "1"})
    sys.stdout.flush()
    os.execvpe("unshare", ["unshare", "-m", "-n", "-p", "--fork", "--mount-proc", "--propagation", "private",
                           "--", sys.executable, "-u", os.path.abspath(__file__), "reaper",
                           sys.executable, "-u"] + argv, env)


def reaper_main(argv):
    """PID 1 of the sandbox: runs argv as its child, reaps orphans (revert
    timers, killed process groups), exits with the child's status."""
    # A private /run: iptables' lock file and anything else the tools put
    # there stay in this mount namespace.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "rf-fwt-run", "/run"], check=False)
    # A private /dev/log (an overlay on /dev, upper layer in a temporary
    # directory): what the program logs goes to the test, not the host.
    dev = tempfile.mkdtemp(prefix="rf-fwt-dev-")
    os.makedirs(os.path.join(dev, "upper"))
    os.makedirs(os.path.join(dev, "work"))
    r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=/dev,upperdir=%s/upper,workdir=%s/work"
                        % (dev, dev), "/dev"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode == 0:
        if os.path.lexists("/dev/log"):
            os.unlink("/dev/log")
        os.environ["RF_FWT_DEVLOG"] = "1"
        # The overlay hides the mounts below /dev: a devpts of our own (the
        # confirm tests run apply on a pty) and a /dev/shm.
        os.makedirs("/dev/pts", exist_ok=True)
        subprocess.run(["mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=0620", "devpts", "/dev/pts"],
                       stderr=subprocess.DEVNULL)
        if not os.path.exists("/dev/ptmx"):
            open("/dev/ptmx", "w").close()
        subprocess.run(["mount", "--bind", "/dev/pts/ptmx", "/dev/ptmx"], stderr=subprocess.DEVNULL)
        os.makedirs("/dev/shm", exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", "/dev/shm"], stderr=subprocess.DEVNULL)
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.execvp(argv[0], argv)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: os.kill(child, s))
    status = 0
    while True:
        try:
            pid, st = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = os.waitstatus_to_exitcode(st)
            break
    # Returning from PID 1 kills everything left in the namespace.
    subprocess.run(["umount", "-l", "/dev"], stderr=subprocess.DEVNULL)
    shutil.rmtree(dev, ignore_errors=True)
    sys.exit(status if status >= 0 else 128 - status)


class SyslogSink:
    """Our own datagram socket at /dev/log (inside the sandbox's /dev
    overlay), read by a thread. None when there is no private /dev."""

    @staticmethod
    def start():
        if os.environ.get("RF_FWT_DEVLOG") != "1":
            return None
        return SyslogSink()

    def __init__(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            with self.lock:
                self.lines.append(data.decode("utf-8", "replace").rstrip("\n\0"))

    def take(self, settle=0.1):
        time.sleep(settle)
        with self.lock:
            out, self.lines = self.lines, []
        return out


# ---------------------------------------------------------------------------
# Namespaces


class Netns:
    def __init__(self, name):
        self.name = name
        self.holder = subprocess.Popen(["unshare", "-n", "sleep", "1000000"])
        mine = os.stat("/proc/self/ns/net").st_ino
        path = "/proc/%d/ns/net" % self.holder.pid
        for _ in range(200):
            try:
                if os.stat(path).st_ino != mine:
                    break
            except OSError:
                pass
            time.sleep(0.01)
        else:
            raise RuntimeError("namespace %s did not appear" % name)
        self.path = path
        self.run(["ip", "link", "set", "lo", "up"])

    def argv(self, cmd):
        return ["nsenter", "--net=" + self.path, "--"] + list(cmd)

    def run(self, cmd, check=True, input=None, env=None, timeout=300):
        r = subprocess.run(self.argv(cmd), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("[%s] %s: exit %d: %s%s" % (self.name, " ".join(cmd), r.returncode, r.stdout,
                                                           r.stderr))
        return r

    def popen(self, cmd, **kw):
        return subprocess.Popen(self.argv(cmd), **kw)

    def close(self):
        if self.holder.poll() is None:
            self.holder.kill()
        self.holder.wait()


class Lab:
    """Namespaces joined by veth pairs. link(a, b, [(a_addr, b_addr)...])."""

    def __init__(self):
        self.ns = {}
        self.agents = {}
        self.nlinks = 0

    def add(self, name):
        self.ns[name] = Netns(name)
        return self.ns[name]

    def link(self, a, b, pairs):
        self.nlinks += 1
        ia, ib = "v%d%s" % (self.nlinks, b[:6]), "v%d%s" % (self.nlinks, a[:6])
        subprocess.run(["ip", "link", "add", "name", ia, "type", "veth", "peer", "name", ib], check=True)
        subprocess.run(["ip", "link", "set", ia, "netns", str(self.ns[a].holder.pid)], check=True)
        subprocess.run(["ip", "link", "set", ib, "netns", str(self.ns[b].holder.pid)], check=True)
        for name, dev, addrs in ((a, ia, [p[0] for p in pairs]), (b, ib, [p[1] for p in pairs])):
            ns = self.ns[name]
            for addr in addrs:
                for one in addr if isinstance(addr, (list, tuple)) else [addr]:
                    if ":" in one:
                        ns.run(["ip", "-6", "addr", "add", one, "dev", dev, "nodad"])
                    else:
                        ns.run(["ip", "addr", "add", one, "dev", dev])
            ns.run(["ip", "link", "set", dev, "up"])
        return ia, ib

    def agent(self, name):
        if name not in self.agents:
            self.agents[name] = Agent(self.ns[name])
        return self.agents[name]

    def close(self):
        for a in self.agents.values():
            a.close()
        for n in self.ns.values():
            n.close()


# ---------------------------------------------------------------------------
# Agents


class Agent:
    def __init__(self, ns):
        self.ns = ns
        self.proc = ns.popen([sys.executable, "-u", os.path.abspath(__file__), "agent"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lock = threading.Lock()

    def call(self, **req):
        with self.lock:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("agent in %s died" % self.ns.name)
        ans = json.loads(line)
        if "exception" in ans:
            raise RuntimeError("agent in %s: %s" % (self.ns.name, ans["exception"]))
        return ans["result"]

    def listen(self, proto, addr, port):
        return self.call(op="listen", proto=proto, addr=addr, port=port)

    def probe(self, probes, timeout=1.5):
        """probes: [(proto, src, dst, port)] -> list of results."""
        return self.call(op="probe", probes=[list(p) for p in probes], timeout=timeout)

    def seen(self):
        return self.call(op="seen")

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


class _AgentServer:
    def __init__(self):
        self.seen = []
        self.lock = threading.Lock()
        self.socks = []

    def listen(self, proto, addr, port):
        fam = _family(addr)
        s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        if proto == "tcp":
            s.listen(128)
            threading.Thread(target=self._tcp, args=(s, port), daemon=True).start()
        else:
            threading.Thread(target=self._udp, args=(s, port), daemon=True).start()
        self.socks.append(s)
        return True

    def _tcp(self, s, port):
        while True:
            try:
                c, peer = s.accept()
            except OSError:
                return
            with self.lock:
                self.seen.append(["tcp", peer[0], port])
            try:
                c.sendall(("hello %s %d\n" % (peer[0], port)).encode())
            except OSError:
                pass
            c.close()

    def _udp(self, s, port):
        while True:
            try:
                data, peer = s.recvfrom(4096)
            except OSError:
                return
            with self.lock:
                self.seen.append(["udp", peer[0], port])
            try:
                s.sendto(("pong %s %d\n" % (peer[0], port)).encode(), peer)
            except OSError:
                pass

    @staticmethod
    def probe_one(proto, src, dst, port, timeout):
        fam = _family(dst)
        s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.settimeout(timeout)
        try:
            if src:
                s.bind((src, 0))
            expect = "%s %s %d" % ("hello" if proto == "tcp" else "pong", src, port) if src else None
            s.connect((dst, port))
            if proto == "udp":
                s.send(b"ping\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            text = data.decode(errors="replace").strip()
            if expect is None and text.startswith(("hello", "pong")):
                return "open"
            return "open" if text == expect else "error: answer %r" % text
        except socket.timeout:
            return "timeout"
        except ConnectionRefusedError:
            return "refused"
        except ConnectionResetError:
            return "refused"
        except OSError as e:
            return "error: %s" % e
        finally:
            s.close()

    def probe(self, probes, timeout):
        results = [None] * len(probes)

        def run(i, p):
            results[i] = self.probe_one(p[0], p[1], p[2], p[3], timeout)
        threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(probes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results


def agent_main():
    srv = _AgentServer()
    for line in sys.stdin:
        req = json.loads(line)
        try:
            op = req["op"]
            if op == "listen":
                res = srv.listen(req["proto"], req["addr"], req["port"])
            elif op == "probe":
                res = srv.probe(req["probes"], req["timeout"])
            elif op == "seen":
                with srv.lock:
                    res, srv.seen = srv.seen, []
            else:
                raise ValueError(op)
            out = {"result": res}
        except Exception as e:  # reported to the driver, which fails the test
            out = {"exception": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


# ---------------------------------------------------------------------------
# Rulesets


_COUNTERS = re.compile(r"\[\d+:\d+\]")


def normalize_save(text):
    """iptables-save output without its timestamp comments and counters."""
    out = []
    for l in text.splitlines():
        if l.startswith("#"):
            continue
        out.append(_COUNTERS.sub("[0:0]", l))
    return "\n".join(out) + "\n"


def normalize_nft(text):
    return re.sub(r"counter packets \d+ bytes \d+", "counter packets 0 bytes 0", text)


def sorted_ipset(text):
    """`ipset save` with each set's members sorted (a hash set's order is
    not part of its meaning)."""
    lines = (re.sub(r" initval 0x[0-9a-f]+", "", l) for l in text.splitlines() if l.strip())
    return "\n".join(sorted(lines)) + "\n"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "agent":
        agent_main()
    elif len(sys.argv) > 2 and sys.argv[1] == "reaper":
        reaper_main(sys.argv[2:])
    else:
        sys.exit("usage: fwnet.py agent | reaper ARGV...")
