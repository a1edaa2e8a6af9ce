#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Integration tests of ringfence-wrap and libringfence-preload.so.

Real daemons run under ringfence-wrap in a private mount + network namespace
(unshare -m -n, needs root): a blocking multi-threaded daemon of our own
(shim_test_server.c) and nginx (master + 2 workers, epoll, non-blocking
listeners on 127.0.0.1 and [::1]). Clients connect from 127.0.0.2, 127.0.0.3
and ::1. /dev is an overlay whose upper layer lives in the test's temporary
directory, so the test's own syslog socket sits at /dev/log without touching
the host's /dev.

The `names` test gives the sandbox a private /etc/hosts and an
/etc/nsswitch.conf with `hosts: files` (bind mounts; no DNS is ever asked)
and counts, with inotify, every open of that hosts file: rules without a
name pattern must cause none, name rules at most one reverse + one forward
lookup per client address within the shim's 60 s cache.

The `dns` test gives the sandbox a resolver that never answers (a UDP and
TCP server on 127.0.0.53 that reads queries and drops them; resolv.conf,
nsswitch.conf and hosts bind-mounted) and queues 40 clients from 40 new
addresses, all of which need a name, ahead of one client that an address
rule allows: the allowed client must be answered within a few seconds (the
lookups of one accept call share one budget), and the daemon must not pile
up lookup threads.

The `syslog` test stops reading the test's /dev/log socket, so that the log
socket fills up (512 datagrams, systemd's setting), and queues 1000 refused
clients ahead of an allowed one: logging must never hold the accept path; the lines that could not be
sent are counted and reported once the socket drains.

usage: shim_integration.py --wrap W --shim S --server X [--nginx N]
                           [--sanitize MODE] [--probe-wait S] TEST...
TEST: symbols | blocking | stress | nginx | badpolicy | names | dns | syslog
"""

import argparse
import ctypes
import ctypes.util
import errno
import os
import resource
import select
import struct
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def log(msg):
    print("shim-test: " + msg, flush=True)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    log("ok: " + what)


# ---------------------------------------------------------------------------
# sandbox

def enter_sandbox(argv):
    """Re-executes this script in a new mount + network namespace."""
    if os.environ.get("RINGFENCE_SHIM_SANDBOX") == "1":
        return
    if os.geteuid() != 0:
        print("skipped: needs root (unshare -m -n)")
        sys.exit(SKIP)
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        print("skipped: needs unshare and ip")
        sys.exit(SKIP)
    env = dict(os.environ, RINGFENCE_SHIM_SANDBOX="1")
    rc = subprocess.call(["unshare", "-m", "-n", "--propagation", "private", "--",
                          sys.executable] + argv, env=env)
    sys.exit(rc)


def setup_sandbox(work):
    subprocess.check_call(["ip", "link", "set", "lo", "up"])
    # The queue of a log socket, as systemd sets it at boot (the kernel's
    # default, 10 datagrams, is per network namespace; this one is ours).
    with open("/proc/sys/net/unix/max_dgram_qlen", "w") as f:
        f.write("512\n")
    upper, wdir = os.path.join(work, "dev-upper"), os.path.join(work, "dev-work")
    os.mkdir(upper)
    os.mkdir(wdir)
    subprocess.check_call(["mount", "-t", "overlay", "overlay", "-o",
                           "lowerdir=/dev,upperdir=%s,workdir=%s" % (upper, wdir), "/dev"])


class SyslogSink:
    """Our datagram socket at /dev/log (in the /dev overlay), read by a thread."""

    def __init__(self):
        if os.path.lexists("/dev/log"):
            os.unlink("/dev/log")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        os.chmod("/dev/log", 0o666)
        self.sock.settimeout(0.05)
        self.lock = threading.Lock()
        self.messages = []
        self.stopping = False
        self.paused = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def pause(self):
        """Stops reading: the socket's queue fills up as a stalled syslog's would."""
        self.paused.set()
        time.sleep(0.2)  # a recv() in progress has timed out

    def resume(self):
        self.paused.clear()

    def _read(self):
        while not self.stopping:
            if self.paused.is_set():
                time.sleep(0.05)
                continue
            try:
                m = self.sock.recv(65536).decode(errors="replace")
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append(m)

    def drain(self, settle=0.2):
        time.sleep(settle)
        with self.lock:
            out, self.messages = self.messages, []
        return out

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


# ---------------------------------------------------------------------------
# clients

def fetch(family, source, port, payload=b"", timeout=5.0):
    """Connects from `source`, sends payload, returns everything received
    until the server closes (b"" = closed without data)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect((source if family == socket.AF_INET6 else "127.0.0.1", port))
        if payload:
            try:
                s.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


def v4(source, port, payload=b""):
    return fetch(socket.AF_INET, source, port, payload)


def v6(port, payload=b""):
    return fetch(socket.AF_INET6, "::1", port, payload)


def wait_port(port, host="127.0.0.1", timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise Failure("nothing listens on %s:%d" % (host, port))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


class Daemon:
    def __init__(self, argv, env=None, stdout_path=None):
        self.out_path = stdout_path
        self.out = open(stdout_path, "w") if stdout_path else subprocess.DEVNULL
        self.err_path = (stdout_path or "/tmp/daemon") + ".err"
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.err, env=env)

    def lines(self):
        with open(self.out_path) as f:
            return f.read().splitlines()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def sanitizer_env(args):
    env = dict(os.environ)
    env.pop("RINGFENCE_SHIM_SANDBOX", None)
    if args.sanitize == "address":
        env["ASAN_OPTIONS"] = "verify_asan_link_order=0:detect_leaks=0"
    elif args.sanitize == "thread":
        env["TSAN_OPTIONS"] = "halt_on_error=1:exitcode=66:suppressions=" + os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "tsan.supp")
    return env


def no_sanitizer_reports(daemon):
    err = daemon.stderr()
    check("Sanitizer" not in err and "runtime error" not in err,
          "no sanitizer report from the daemon" + ("" if "Sanitizer" not in err else ":\n" + err[-3000:]))


# ---------------------------------------------------------------------------
# tests

def test_symbols(args, work, sink):
    out = subprocess.check_output(["nm", "-D", "--defined-only", args.shim], text=True)
    names = sorted(line.split()[-1] for line in out.splitlines() if line.strip())
    check(names == ["accept", "accept4"], "only accept and accept4 are exported (got %s)" % names)
    dyn = subprocess.check_output(["objdump", "-p", args.shim], text=True)
    needed = [line.split()[-1] for line in dyn.splitlines() if line.strip().startswith("NEEDED")]
    if not args.sanitize:
        check(not any("stdc++" in n or "gcc_s" in n for n in needed),
              "no dynamic libstdc++ / libgcc_s (NEEDED: %s)" % needed)
    # dlopen with RTLD_NOW in a fresh process: everything resolves.
    code = ("import ctypes,os,sys; ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW|os.RTLD_LOCAL); print('loaded')")
    env = sanitizer_env(args)
    env["RINGFENCE_HOSTS_ALLOW"] = os.path.join(work, "none.allow")
    env["RINGFENCE_HOSTS_DENY"] = os.path.join(work, "none.deny")
    if args.sanitize:
        log("sanitizer build: dlopen check skipped (the runtime comes from the host executable)")
        return
    r = subprocess.run([sys.executable, "-c", code, args.shim], capture_output=True, text=True, env=env)
    check(r.returncode == 0 and "loaded" in r.stdout, "dlopen(RTLD_NOW) works: " + (r.stderr.strip() or "ok"))


def policy_files(work, allow, deny):
    pa, pd = os.path.join(work, "hosts.allow"), os.path.join(work, "hosts.deny")
    write(pa, allow)
    write(pd, deny)
    return pa, pd


def start_server(args, work, pa, pd, port, threads, extra_env=None, name="shimtest", unix=True):
    """threads: a number (blocking accept threads) or "epoll" (one thread)."""
    env = sanitizer_env(args)
    env.pop("LD_PRELOAD", None)
    if extra_env:
        env.update(extra_env)
    d = Daemon([args.wrap, "--name", name, "--allow", pa, "--deny", pd, "--",
                args.server, str(port), str(threads)] + ([os.path.join(work, "unix.sock")] if unix else []),
               env=env, stdout_path=os.path.join(work, "server-%d.out" % port))
    end = time.time() + 10
    while time.time() < end:
        if d.proc.poll() is not None:
            raise Failure("server exited: %s" % d.stderr())
        if any(line.startswith("ready") for line in d.lines()):
            return d
        time.sleep(0.05)
    raise Failure("server did not start")


def served(daemon, who):
    return sum(1 for line in daemon.lines() if line.startswith("served ") and line.endswith(who))


def test_blocking(args, work, sink):
    pa, pd = policy_files(work, "shimtest: 127.0.0.2 [::1]\n", "ALL: ALL\n")
    port = 7101
    d = start_server(args, work, pa, pd, port, 4)
    try:
        check(b"hello ::ffff:127.0.0.2" in v4("127.0.0.2", port), "127.0.0.2 is served (seen v4-mapped)")
        check(v4("127.0.0.3", port) == b"", "127.0.0.3 sees the connection closed without data")
        check(b"hello ::1" in v6(port), "::1 is served")
        for i in range(5):
            check(v4("127.0.0.3", port) == b"", "refused again (%d)" % i)
        check(b"hello ::ffff:127.0.0.2" in v4("127.0.0.2", port), "still serving allowed clients after refusals")
        check(served(d, "127.0.0.3") == 0, "the daemon never saw 127.0.0.3")
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        u.settimeout(5)
        u.connect(os.path.join(work, "unix.sock"))
        check(u.recv(100).startswith(b"hello unix"), "Unix socket untouched (ALL: ALL does not apply)")
        u.close()
        lines = d.lines()
        check("LD_PRELOAD (unset)" in lines, "LD_PRELOAD removed from the daemon's environment (%s)" % lines[0])
        check(not any(line.startswith("ERRNO-CLOBBERED") for line in lines), "errno preserved on allowed accepts")
        msgs = sink.drain()
        want = "refused connect from 127.0.0.3 to shimtest (%s:1)" % pd
        hits = [m for m in msgs if want in m]
        check(len(hits) == 6, "one syslog line per refusal (%d): %s" % (len(hits), hits[:1]))
        why = want + ": client 127.0.0.3 matches ALL; daemon shimtest matches ALL"
        check(all(m.endswith(why) for m in hits), "the refusal says why after the location: %s" % hits[:1])
        check(hits and hits[0].startswith("<%d>" % (4 * 8 + 4)) and "ringfence-wrap[%d]: " % d.proc.pid in hits[0],
              "syslog line is auth.warning from ringfence-wrap[PID]")

        # Reload: the files change under the running daemon.
        write(pa, "shimtest: 127.0.0.2 127.0.0.3 [::1]\n")
        time.sleep(1.2)
        check(b"hello ::ffff:127.0.0.3" in v4("127.0.0.3", port), "reloaded: 127.0.0.3 now allowed")
        # A policy broken at runtime refuses everything (fail closed).
        write(pd, "ALL ALL\n")
        time.sleep(1.2)
        check(v4("127.0.0.2", port) == b"", "invalid policy at runtime: refused (fail closed)")
        msgs = sink.drain()
        check(any("policy is invalid" in m for m in msgs), "invalid policy logged")
        write(pd, "ALL: ALL\n")
        time.sleep(1.2)
        check(b"hello" in v4("127.0.0.2", port), "fixed policy: served again")

        # Options are not run in the shim; reported once.
        write(pa, "shimtest: 127.0.0.2 : spawn /bin/touch %s/spawned\n" % work)
        time.sleep(1.2)
        v4("127.0.0.2", port)
        v4("127.0.0.2", port)
        msgs = sink.drain()
        check(not os.path.exists(os.path.join(work, "spawned")), "spawn was not run")
        check(sum("spawn" in m and "not run" in m for m in msgs) == 1, "ignored option logged once")
        check(d.proc.poll() is None, "daemon still running")
        no_sanitizer_reports(d)
    finally:
        d.stop()

    # Children do not inherit the preload unless asked.
    d = start_server(args, work, pa, pd, port + 1, 1, extra_env={"RINGFENCE_PRELOAD_INHERIT": "1"})
    try:
        check(any(line.startswith("LD_PRELOAD ") and "libringfence-preload.so" in line for line in d.lines()),
              "RINGFENCE_PRELOAD_INHERIT=1 keeps LD_PRELOAD")
    finally:
        d.stop()


def test_stress(args, work, sink):
    pa, pd = policy_files(work, "shimtest: 127.0.0.2 [::1]\n", "ALL: ALL\n")
    port = 7201
    d = start_server(args, work, pa, pd, port, 16)
    errors = []
    counts = {"allowed": 0, "refused": 0}
    lock = threading.Lock()

    def client(k):
        try:
            for i in range(30):
                which = (k + i) % 3
                if which == 0:
                    ok = b"hello" in v4("127.0.0.2", port)
                    kind = "allowed"
                elif which == 1:
                    ok = v4("127.0.0.3", port) == b""
                    kind = "refused"
                else:
                    ok = b"hello ::1" in v6(port)
                    kind = "allowed"
                with lock:
                    counts[kind] += 1
                    if not ok:
                        errors.append("%s client %d/%d" % (kind, k, i))
                if i == 15 and k == 0:
                    os.utime(pa)  # a reload in the middle
        except Exception as e:  # noqa: BLE001
            with lock:
                errors.append(repr(e))

    try:
        start = time.time()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(not errors, "every client got its verdict (%d allowed, %d refused, %.1fs) %s" %
              (counts["allowed"], counts["refused"], time.time() - start, errors[:3]))
        time.sleep(0.2)
        total = sum(1 for line in d.lines() if line.startswith("served "))
        check(total == counts["allowed"], "the daemon served exactly the allowed clients (%d)" % total)
        check(d.proc.poll() is None, "daemon survived")
        no_sanitizer_reports(d)
        sink.drain(0)
    finally:
        d.stop()


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log info;
events {{ use epoll; worker_connections 128; }}
http {{
  access_log {work}/nginx-access.log;
  client_body_temp_path {work}/nginx-tmp/body;
  proxy_temp_path {work}/nginx-tmp/proxy;
  fastcgi_temp_path {work}/nginx-tmp/fastcgi;
  uwsgi_temp_path {work}/nginx-tmp/uwsgi;
  scgi_temp_path {work}/nginx-tmp/scgi;
  server {{
    listen 127.0.0.1:{port};
    listen [::1]:{port};
    location / {{ return 200 "ok from nginx\\n"; }}
  }}
}}
"""

GET = b"GET / HTTP/1.0\r\nHost: t\r\n\r\n"


def test_nginx(args, work, sink):
    if not args.nginx:
        print("skipped: nginx not found (apt-get install nginx-light)")
        sys.exit(SKIP)
    if args.sanitize:
        print("skipped: a sanitizer build of the shim cannot be preloaded into an uninstrumented nginx")
        sys.exit(SKIP)
    port = 7301
    os.makedirs(os.path.join(work, "nginx-tmp"))
    conf = os.path.join(work, "nginx.conf")
    write(conf, NGINX_CONF.format(work=work, port=port))
    pa, pd = policy_files(work, "nginx: 127.0.0.2 [::1]\n", "ALL: ALL\n")
    env = sanitizer_env(args)
    env.pop("LD_PRELOAD", None)
    d = Daemon([args.wrap, "--name", "nginx", "--allow", pa, "--deny", pd, "--",
                args.nginx, "-p", work, "-c", conf, "-e", os.path.join(work, "nginx-error.log")],
               env=env, stdout_path=os.path.join(work, "nginx.out"))
    try:
        end = time.time() + 10
        while True:
            if d.proc.poll() is not None:
                raise Failure("nginx exited: " + d.stderr())
            if time.time() > end:
                raise Failure("nginx did not answer on [::1]:%d: %s" % (port, d.stderr()))
            try:
                if v6(port, GET):
                    break
            except OSError:
                pass
            time.sleep(0.1)
        workers = subprocess.run(["pgrep", "-P", str(d.proc.pid)], capture_output=True, text=True).stdout.split()
        check(len(workers) == 2, "nginx runs master + 2 workers (%s)" % workers)
        sink.drain(0)
        refused = 0
        for i in range(20):
            check(b"ok from nginx" in v4("127.0.0.2", port, GET), "round %d: 127.0.0.2 served" % i)
            check(v4("127.0.0.3", port, GET) == b"", "round %d: 127.0.0.3 closed without data" % i)
            refused += 1
            check(b"ok from nginx" in v6(port, GET), "round %d: ::1 served" % i)

        # A burst of refused clients, then allowed ones still get through.
        burst = [socket.socket(socket.AF_INET) for _ in range(30)]
        for s in burst:
            s.bind(("127.0.0.3", 0))
            s.connect(("127.0.0.1", port))
            refused += 1
        for s in burst:
            s.settimeout(5)
            check(s.recv(10) == b"", "burst client closed") if s is burst[0] else s.recv(10)
            s.close()
        for i in range(5):
            check(b"ok from nginx" in v4("127.0.0.2", port, GET), "after the burst: 127.0.0.2 served (%d)" % i)

        msgs = sink.drain(0.5)
        want = "refused connect from 127.0.0.3 to nginx (%s:1)" % pd
        hits = [m for m in msgs if want in m]
        check(len(hits) == refused, "one syslog line per refusal (%d of %d)" % (len(hits), refused))
        pids = {m.split("ringfence-wrap[")[1].split("]")[0] for m in hits}
        log("refusals logged by worker pids %s" % sorted(pids))
        with open(os.path.join(work, "nginx-access.log")) as f:
            access = f.read()
        check("127.0.0.3" not in access, "nginx never saw 127.0.0.3 (access log)")
        check(d.proc.poll() is None, "nginx still running")
    finally:
        d.stop()


def test_badpolicy(args, work, sink):
    pa, pd = policy_files(work, "sshd: 10.0.0.0/33\n", "ALL ALL\n")
    marker = os.path.join(work, "started")
    r = subprocess.run([args.wrap, "--allow", pa, "--deny", pd, "--", "/bin/touch", marker],
                       capture_output=True, text=True, env=sanitizer_env(args))
    check(r.returncode == 1, "ringfence-wrap exits 1 on a broken policy (%d)" % r.returncode)
    check(("%s:1:" % pd) in r.stderr and "error:" in r.stderr, "file:line: error: diagnostic:\n" + r.stderr)
    check(not os.path.exists(marker), "the program was not started")
    r = subprocess.run([args.wrap, "--", "/nonexistent/prog"], capture_output=True, text=True,
                       env=dict(sanitizer_env(args)))
    check(r.returncode in (1, 127), "missing program: exit %d" % r.returncode)


class OpenCounter:
    """Counts the opens of one file (inotify IN_OPEN on its inode), whoever
    opens it and through whatever path (here: the bind mount /etc/hosts).
    The kernel merges identical consecutive unread events: closes are watched
    too, so that sequential open/close pairs are all counted (overlapping
    opens may be counted once: never more than there were)."""

    IN_OPEN = 0x20
    IN_CLOSE_NOWRITE = 0x10
    IN_NONBLOCK = 0o4000

    def __init__(self, path):
        self.libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(self.IN_NONBLOCK)
        if self.fd < 0:
            raise Failure("inotify_init1: errno %d" % ctypes.get_errno())
        if self.libc.inotify_add_watch(self.fd, path.encode(), self.IN_OPEN | self.IN_CLOSE_NOWRITE) < 0:
            raise Failure("inotify_add_watch(%s): errno %d" % (path, ctypes.get_errno()))
        self.total = 0

    def count(self, settle=0.2):
        """Opens seen so far (reads every pending event)."""
        time.sleep(settle)
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except OSError as e:
                if e.errno == errno.EAGAIN:
                    break
                raise
            off = 0
            while off + 16 <= len(buf):
                _wd, mask, _cookie, length = struct.unpack_from("iIII", buf, off)
                if mask & self.IN_OPEN:
                    self.total += 1
                off += 16 + length
        return self.total

    def close(self):
        os.close(self.fd)


NAMES_HOSTS = """\
127.0.0.1 localhost
127.0.0.2 ws.lab.example
127.0.0.3 bad.evil.example
127.0.0.5 other.lab.example
127.0.0.6 127.0.0.66
"""


def private_name_service(work):
    """/etc/hosts and /etc/nsswitch.conf (hosts: files) of our own, bind-mounted
    in the sandbox's mount namespace. 127.0.0.4 has no name; the PTR name of
    127.0.0.6 is a numeric address (forged: "paranoid")."""
    hosts = os.path.join(work, "hosts")
    write(hosts, NAMES_HOSTS)
    nss_lines = []
    if os.path.exists("/etc/nsswitch.conf"):
        with open("/etc/nsswitch.conf") as f:
            nss_lines = [line for line in f.read().splitlines() if not line.split(":")[0].strip() == "hosts"]
    nss = os.path.join(work, "nsswitch.conf")
    write(nss, "\n".join(nss_lines + ["hosts: files", ""]))
    for src, dst in ((hosts, "/etc/hosts"), (nss, "/etc/nsswitch.conf")):
        if not os.path.exists(dst):
            raise Failure("%s does not exist: cannot bind-mount over it" % dst)
        subprocess.check_call(["mount", "--bind", src, dst])
    return hosts


def log_hits(msgs, text):
    return [m for m in msgs if text in m]


def test_names(args, work, sink):
    hosts = private_name_service(work)
    counter = OpenCounter(hosts)
    try:
        _test_names(args, work, sink, counter)
    finally:
        counter.close()


def _test_names(args, work, sink, counter):
    # Phase 1: rules that need no name. The daemon must not look any up.
    pa, pd = policy_files(work, "shimtest: 127.0.0.2 [::1] 10.0.0.0/8 : severity auth.info\n",
                          "ALL: 127.0.0.3 127.0.0.6\n")
    port = 7501
    d = start_server(args, work, pa, pd, port, 4)
    try:
        before = counter.count()
        for _ in range(3):
            check(b"hello ::ffff:127.0.0.2" in v4("127.0.0.2", port), "no name rules: 127.0.0.2 served")
            check(v4("127.0.0.3", port) == b"", "no name rules: 127.0.0.3 refused by address")
            check(b"hello ::ffff:127.0.0.4" in v4("127.0.0.4", port), "no name rules: 127.0.0.4 served (default)")
            check(b"hello ::1" in v6(port), "no name rules: ::1 served")
        opened = counter.count() - before
        check(opened == 0, "rules without name patterns: /etc/hosts never opened (%d opens)" % opened)
        msgs = sink.drain()
        hits = log_hits(msgs, "refused connect from 127.0.0.3 to shimtest (%s:1)" % pd)
        check(len(hits) == 3, "refusals logged with the bare address (%d)" % len(hits))

        # Phase 2: the classic setup, by name. hosts.allow names a host; hosts.deny
        # refuses a domain, forged and unknown names, then everything else.
        write(pa, "shimtest: ws.lab.example : severity auth.info\n")
        write(pd, "ALL: .evil.example\nALL: PARANOID\nALL: UNKNOWN\nALL: ALL\n")
        time.sleep(1.2)  # the shim compares the files' stamps at most once a second
        sink.drain(0)
        base = counter.count()
        got = v4("127.0.0.2", port)
        check(b"hello ::ffff:127.0.0.2" in got, "127.0.0.2 (ws.lab.example) served by name" +
              ("" if got else ": %s" % sink.drain()))
        check(v4("127.0.0.3", port) == b"", "127.0.0.3 (bad.evil.example) refused by name")
        check(v4("127.0.0.4", port) == b"", "127.0.0.4 (no name) refused as UNKNOWN")
        check(v4("127.0.0.5", port) == b"", "127.0.0.5 (other.lab.example) refused by ALL: ALL")
        check(v4("127.0.0.6", port) == b"", "127.0.0.6 (numeric PTR) refused as PARANOID")
        first = counter.count() - base
        # A lookup of a name opens the hosts file; 5 clients: 5 reverse
        # lookups, and a forward one for each of the 4 PTR names that are
        # names (a numeric PTR is paranoid without one); glibc may open the
        # file more than once per lookup, so only bounds are checked.
        check(5 <= first <= 2 * 8, "name rules: the hosts file was read (%d opens; glibc here: 8 = 5 reverse + "
              "3 forward lookups) - the counter works" % first)
        msgs = sink.drain()
        expect = [
            ("connect from 127.0.0.2 (ws.lab.example) to shimtest (%s:1)" % pa, "allowed by hosts.allow:1, named"),
            ("refused connect from 127.0.0.3 (bad.evil.example) to shimtest (%s:1)" % pd, "refused by .evil.example"),
            ("refused connect from 127.0.0.6 to shimtest (%s:2)" % pd, "refused by PARANOID"),
            ("refused connect from 127.0.0.4 to shimtest (%s:3)" % pd, "refused by UNKNOWN"),
            ("refused connect from 127.0.0.5 (other.lab.example) to shimtest (%s:4)" % pd, "refused by ALL: ALL"),
        ]
        for text, what in expect:
            check(len(log_hits(msgs, text)) == 1, "%s: logged \"%s\"" % (what, text))
        # Refusals say why after the location, with the name that matched.
        reasons = [
            ("(%s:1): name bad.evil.example ends in .evil.example; daemon shimtest matches ALL" % pd, "127.0.0.3"),
            ("(%s:2): name paranoid is PARANOID; daemon shimtest matches ALL" % pd, "127.0.0.6"),
            ("(%s:3): name unknown is UNKNOWN; daemon shimtest matches ALL" % pd, "127.0.0.4"),
            ("(%s:4): client 127.0.0.5 matches ALL; daemon shimtest matches ALL" % pd, "127.0.0.5"),
        ]
        for text, who in reasons:
            check(len([m for m in msgs if m.endswith(text)]) == 1, "%s: the refusal says why: \"%s\"" % (who, text))
        check(served(d, "127.0.0.3") == 0 and served(d, "127.0.0.5") == 0,
              "the daemon never saw the refused clients")

        # Within the cache's TTL (60 s) the same clients cost no lookup at all.
        base = counter.count()
        for _ in range(5):
            check(b"hello ::ffff:127.0.0.2" in v4("127.0.0.2", port), "again: 127.0.0.2 served")
            check(v4("127.0.0.3", port) == b"", "again: 127.0.0.3 refused")
            check(v4("127.0.0.4", port) == b"", "again: 127.0.0.4 refused")
            check(v4("127.0.0.6", port) == b"", "again: 127.0.0.6 refused")
        again = counter.count() - base
        check(again == 0, "cached: 20 more connections from known addresses, %d opens" % again)

        # Many threads, same and new addresses at once: still one lookup per address.
        errors = []
        lock = threading.Lock()

        def client(k):
            src = "127.0.1.%d" % (k // 2 % 4) if k % 2 == 0 else "127.0.0.%d" % (2 + k // 2 % 2)
            want_served = src == "127.0.0.2"
            try:
                got = v4(src, port)
                if (b"hello" in got) != want_served:
                    with lock:
                        errors.append("%s: %r" % (src, got))
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(repr(e))

        base = counter.count()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(not errors, "concurrent clients got their verdicts %s" % errors[:3])
        burst = counter.count() - base
        # 16 clients from 4 new addresses 127.0.1.0..3 (no name): one reverse
        # lookup per address (glibc opens the file once or twice per lookup);
        # the 16 others come from cached addresses.
        check(0 < burst <= 2 * 4, "concurrent misses coalesced: %d opens for 4 new addresses, 16 clients" % burst)
        check(d.proc.poll() is None, "daemon still running")
        no_sanitizer_reports(d)
        sink.drain(0)
    finally:
        d.stop()


# ---------------------------------------------------------------------------
# dns: a resolver that never answers

class DeadDns:
    """A DNS server on 127.0.0.53:53 (UDP and TCP) that reads every query and
    never answers: the worst case for a resolver, every lookup runs into the
    resolver's own timeout."""

    ADDRESS = "127.0.0.53"

    def __init__(self):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((self.ADDRESS, 53))
        self.udp.settimeout(0.1)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind((self.ADDRESS, 53))
        self.tcp.listen(64)
        self.tcp.settimeout(0.1)
        self.held = []
        self.queries = 0
        self.stopping = False
        self.threads = [threading.Thread(target=self._udp, daemon=True),
                        threading.Thread(target=self._tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def _udp(self):
        while not self.stopping:
            try:
                self.udp.recv(4096)
                self.queries += 1
            except socket.timeout:
                continue
            except OSError:
                return

    def _tcp(self):
        while not self.stopping:
            try:
                c, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.held.append(c)  # read by nobody, answered never
            self.queries += 1

    def close(self):
        self.stopping = True
        for t in self.threads:
            t.join()
        for c in self.held:
            c.close()
        self.udp.close()
        self.tcp.close()


def dead_name_service(work):
    """resolv.conf naming DeadDns (glibc's default timeout and attempts:
    a PTR lookup gives up after 2 x 5 s), `hosts: files dns`, and a hosts
    file that names only localhost: every other client address goes to DNS."""
    files = {
        "/etc/resolv.conf": "nameserver %s\noptions timeout:5 attempts:2\n" % DeadDns.ADDRESS,
        "/etc/hosts": "127.0.0.1 localhost\n::1 localhost\n",
    }
    nss_lines = []
    if os.path.exists("/etc/nsswitch.conf"):
        with open("/etc/nsswitch.conf") as f:
            nss_lines = [line for line in f.read().splitlines() if not line.split(":")[0].strip() == "hosts"]
    files["/etc/nsswitch.conf"] = "\n".join(nss_lines + ["hosts: files dns", ""])
    for dst, text in files.items():
        src = os.path.join(work, os.path.basename(dst))
        write(src, text)
        if not os.path.exists(dst):
            raise Failure("%s does not exist: cannot bind-mount over it" % dst)
        subprocess.check_call(["mount", "--bind", src, dst])


def task_count(pid):
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return 0


class TaskSampler:
    """The largest number of threads a process had, sampled every 20 ms."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = task_count(pid)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            self.peak = max(self.peak, task_count(self.pid))
            time.sleep(0.02)

    def stop(self):
        self.stopping = True
        self.thread.join()
        return self.peak


def queue_clients(sources, port):
    """Connects from each source address without waiting for the daemon:
    the kernel completes the handshakes, the connections wait in the
    listening socket's queue in this order."""
    socks = []
    for src in sources:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    for s in socks:  # every handshake done before anything else is queued
        p = select.poll()
        p.register(s, select.POLLOUT)
        if not p.poll(5000) or s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
            raise Failure("a queued client could not connect")
        s.setblocking(True)
    return socks


def probe(source, port, wait):
    """Seconds until the daemon answers a client from `source`, or None."""
    start = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(wait)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        data = s.recv(100)
        return (time.monotonic() - start, data)
    except socket.timeout:
        return (None, b"")
    except ConnectionResetError:
        return (time.monotonic() - start, b"")
    finally:
        s.close()


def alive(daemon):
    """Raises with the daemon's last words if it is gone."""
    if daemon.proc.poll() is not None:
        raise Failure("the daemon exited (%s):\n%s" % (daemon.proc.returncode, daemon.stderr()[-4000:]))


def closed_without_data(socks):
    bad = 0
    for s in socks:
        try:
            s.settimeout(5)
            if s.recv(100) != b"":
                bad += 1
        except ConnectionResetError:
            pass
        except OSError:
            bad += 1
        finally:
            s.close()
    return bad


# The most lookup threads the shim keeps at once (kMaxLookupThreads in
# preload.cc).
LOOKUP_THREAD_CAP = 8


def test_dns(args, work, sink):
    dead_name_service(work)
    dns = DeadDns()
    try:
        _test_dns(args, work, sink, dns)
    finally:
        dns.close()


def _test_dns(args, work, sink, dns):
    # A name pattern after the address: 127.0.0.1 is decided by its address,
    # every other client needs its name (and never gets one).
    pa, pd = policy_files(work, "mtsrv: 127.0.0.1 .example.com\n", "ALL: ALL\n")
    sources = ["127.0.0.%d" % i for i in range(2, 42)]
    for port, threads in ((7601, "epoll"), (7602, 1), (7603, 8)):
        kind = "one-thread epoll daemon" if threads == "epoll" else "%d-thread blocking daemon" % threads
        d = start_server(args, work, pa, pd, port, threads, name="mtsrv", unix=False)
        try:
            time.sleep(0.3)
            base = task_count(d.proc.pid)
            sampler = TaskSampler(d.proc.pid)
            queries_before = dns.queries
            socks = queue_clients(sources, port)
            took, data = probe("127.0.0.1", port, args.probe_wait)
            alive(d)
            log("%s: 40 clients that need a name queued ahead; the allowed 127.0.0.1 answered after %s" %
                (kind, "%.3f s" % took if took is not None else "no answer within %.0f s" % args.probe_wait))
            check(took is not None and b"hello" in data and took <= 10.0,
                  "%s, dead DNS: the address-allowed client is answered within 10 s (%s)" %
                  (kind, "%.3f s" % took if took is not None else "no answer"))
            bad = closed_without_data(socks)
            check(bad == 0, "%s: the 40 clients without a name were refused (%d not)" % (kind, bad))
            time.sleep(1.0)
            peak = sampler.stop()
            log("%s: %d threads before the burst, at most %d during it; %d DNS queries" %
                (kind, base, peak, dns.queries - queries_before))
            check(dns.queries > queries_before, "%s: the shim did ask the dead DNS server" % kind)
            # TSan starts a background thread of its own with the first thread.
            extra = 1 if args.sanitize == "thread" else 0
            check(peak - base <= LOOKUP_THREAD_CAP + extra,
                  "%s: at most %d lookup threads at once (%d threads before, peak %d)" %
                  (kind, LOOKUP_THREAD_CAP, base, peak))
            # A client whose lookup is still outstanding is not waited for again.
            took, data = probe("127.0.0.2", port, 20)
            alive(d)
            check(took is not None and data == b"" and took < 1.9,
                  "%s: 127.0.0.2 again, its lookup outstanding: refused without a wait (%s)" %
                  (kind, "%.3f s" % took if took is not None else "no answer"))
            took, data = probe("127.0.0.1", port, 20)
            alive(d)
            check(took is not None and b"hello" in data and took < 1.9,
                  "%s: 127.0.0.1 again: answered at once (%s)" %
                  (kind, "%.3f s" % took if took is not None else "no answer"))
            check(sum(served(d, src) for src in sources) == 0, "%s: the daemon never saw a refused client" % kind)
            check(d.proc.poll() is None, "%s: daemon still running" % kind)
            no_sanitizer_reports(d)
        finally:
            d.stop()
        sink.drain(0)


# ---------------------------------------------------------------------------
# syslog: a log socket that is never read

def test_syslog(args, work, sink):
    pa, pd = policy_files(work, "shimtest: 127.0.0.2\n", "ALL: ALL\n")
    flood = 1000  # more than the log socket's queue holds
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 2 * flood:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2 * flood, hard) if hard != resource.RLIM_INFINITY
                                                    else 2 * flood, hard))
    for port, threads in ((7701, "epoll"), (7702, 8)):
        kind = "one-thread epoll daemon" if threads == "epoll" else "%d-thread blocking daemon" % threads
        d = start_server(args, work, pa, pd, port, threads, unix=False)
        try:
            check(b"hello" in v4("127.0.0.2", port), "%s: 127.0.0.2 served" % kind)
            sink.drain()
            sink.pause()
            start = time.monotonic()
            socks = queue_clients(["127.0.0.3"] * flood, port)
            took, data = probe("127.0.0.2", port, args.probe_wait)
            alive(d)
            log("%s: %d refused clients queued ahead, /dev/log not read; 127.0.0.2 answered after %s "
                "(%.3f s after the first refused client)" %
                (kind, flood, "%.3f s" % took if took is not None else "no answer within %.0f s" % args.probe_wait,
                 time.monotonic() - start))
            check(took is not None and b"hello" in data and took <= 3.0,
                  "%s, stalled syslog: the allowed client is answered within 3 s (%s)" %
                  (kind, "%.3f s" % took if took is not None else "no answer"))
            bad = closed_without_data(socks)
            check(bad == 0, "%s: the %d flooding clients were refused (%d not)" % (kind, flood, bad))
            sink.resume()
            time.sleep(0.3)
            # The next line that gets through is preceded by the count of
            # those that did not.
            check(v4("127.0.0.3", port) == b"", "%s: 127.0.0.3 refused once more" % kind)
            msgs = sink.drain(0.5)
            refusals = log_hits(msgs, "refused connect from 127.0.0.3 to shimtest (%s:1)" % pd)
            dropped = 0
            for m in msgs:
                if " log lines dropped" in m:
                    dropped += int(m.split("]: ", 1)[1].split()[0])
            log("%s: %d refusal lines delivered, %d reported dropped" % (kind, len(refusals), dropped))
            check(dropped > 0, "%s: a line says how many log lines were dropped" % kind)
            check(len(refusals) + dropped == flood + 1,
                  "%s: every refusal was either logged or counted (%d + %d = %d)" %
                  (kind, len(refusals), dropped, flood + 1))
            check(served(d, "127.0.0.3") == 0, "%s: the daemon never saw 127.0.0.3" % kind)
            check(d.proc.poll() is None, "%s: daemon still running" % kind)
            no_sanitizer_reports(d)
        finally:
            sink.resume()
            d.stop()
        sink.drain(0)


TESTS = {"symbols": test_symbols, "blocking": test_blocking, "stress": test_stress,
         "nginx": test_nginx, "badpolicy": test_badpolicy, "names": test_names,
         "dns": test_dns, "syslog": test_syslog}


def main():
    enter_sandbox(sys.argv)
    p = argparse.ArgumentParser()
    p.add_argument("--wrap", required=True)
    p.add_argument("--shim", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--nginx", default="")
    p.add_argument("--sanitize", default="")
    p.add_argument("--probe-wait", type=float, default=20.0,
                   help="how long a timed probe waits for its answer (seconds)")
    p.add_argument("tests", nargs="+")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="rf-shim-")
    os.chmod(work, 0o755)  # nginx workers (nobody) re-check the policy files
    sink = None
    try:
        setup_sandbox(work)
        sink = SyslogSink()
        for name in args.tests:
            log("=== " + name)
            TESTS[name](args, work, sink)
        log("PASS")
        return 0
    except Failure as e:
        log("FAIL: %s" % e)
        return 1
    finally:
        if sink:
            sink.close()
        if os.environ.get("RINGFENCE_KEEP"):
            log("kept " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
