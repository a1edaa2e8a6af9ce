#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ringfence-tcpd under a real inetd, in a sandbox.

The script re-executes itself in private mount and network namespaces
(`unshare -m -n`, needs root), brings `lo` up and, inside the namespace only:
  * mounts a tmpfs on its temporary directory (so overlay upper dirs work);
  * puts the test's hosts.allow and hosts.deny over /etc/hosts.allow and
    /etc/hosts.deny (bind mounts, or an overlay on /etc when they are absent);
  * puts an overlay on /dev and binds its own datagram socket at /dev/log, to
    read what ringfence-tcpd sends to syslog (the host's /dev is untouched);
  * runs xinetd with a private configuration (-f conf -dontfork), or socat
    when xinetd is missing or --inetd socat is given, as the inetd.
Clients connect from 127.0.0.2..6 and the test checks what each one sees
and the syslog lines. Exit 77 (skipped) without root or namespaces.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
PORT = 9902
UDP_PORT = 9903
failures = []


def log(*a):
    print(*a, flush=True)


def check(cond, what):
    log(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def sh(cmd):
    subprocess.run(cmd, check=True)


def enter_namespace():
    if os.environ.get("RF_TCPD_SANDBOX") == "1":
        return
    if os.geteuid() != 0:
        log("SKIP: needs root for unshare -m -n")
        sys.exit(SKIP)
    probe = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", "true"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if probe.returncode != 0:
        log("SKIP: unshare -m -n failed: " + probe.stderr.decode().strip())
        sys.exit(SKIP)
    env = dict(os.environ, RF_TCPD_SANDBOX="1")
    os.execvpe("unshare", ["unshare", "-m", "-n", "--propagation", "private", "--",
                           sys.executable] + sys.argv, env)


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def overlay(target, work):
    """An overlay on `target` whose upper layer is in `work`; True on success."""
    up, wk = os.path.join(work, "upper"), os.path.join(work, "work")
    os.makedirs(up)
    os.makedirs(wk)
    r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        "lowerdir=%s,upperdir=%s,workdir=%s" % (target, up, wk), target],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode == 0


class SyslogSink:
    def __init__(self, path):
        self.lines = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            data = self.sock.recv(65536)
            with self.lock:
                self.lines.append(data.decode("utf-8", "replace"))

    def matching(self, text):
        with self.lock:
            return [l for l in self.lines if text in l]


def wait_port(port, deadline=10.0):
    end = time.time() + deadline
    while time.time() < end:
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            s.close()
            return True
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    return False


def tcp_client(src, port=PORT):
    s = socket.socket()
    s.settimeout(10)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        data += b"<reset>"
    s.close()
    return data.decode("utf-8", "replace")


def udp_client(src, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.sendto(b"ping\n", ("127.0.0.1", UDP_PORT))
    try:
        return s.recv(4096).decode()
    except socket.timeout:
        return None
    finally:
        s.close()


def wait_for(fn, deadline=5.0):
    end = time.time() + deadline
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcpd", required=True)
    ap.add_argument("--inetd", choices=["auto", "xinetd", "socat"], default="auto")
    args = ap.parse_args()
    tcpd = os.path.abspath(args.tcpd)
    enter_namespace()

    inetd = args.inetd
    if inetd == "auto":
        inetd = "xinetd" if shutil.which("xinetd") else "socat"
    if inetd == "xinetd" and not shutil.which("xinetd"):
        log("SKIP: xinetd is not installed (Debian package xinetd)")
        return SKIP
    if inetd == "socat" and not shutil.which("socat"):
        log("SKIP: neither xinetd nor socat is installed")
        return SKIP

    sh(["ip", "link", "set", "lo", "up"])
    tmp = tempfile.mkdtemp(prefix="rf-tcpd-")
    procs = []
    try:
        sh(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", tmp])
        for d in ("bin", "banners", "etcov", "devov"):
            os.makedirs(os.path.join(tmp, d))

        # The wrapped services: a line on TCP, a reply per datagram on UDP.
        write(os.path.join(tmp, "bin", "echo-svc"),
              '#!/bin/sh\necho "hello from echo-svc argv0=$0 args=$* greeting=$RF_GREETING umask=$(umask)"\n',
              0o755)
        write(os.path.join(tmp, "bin", "udp-svc"),
              "#!%s\nimport socket\ns = socket.socket(fileno=0)\ndata, peer = s.recvfrom(4096)\n"
              "s.sendto(b'pong ' + data, peer)\n" % sys.executable, 0o755)
        write(os.path.join(tmp, "banners", "echo-svc"), "access to %d denied for %a\nbye\n")
        allow = ("echo-svc: 127.0.0.2 : setenv RF_GREETING hi-%a-%d : umask 027\n"
                 "echo-svc: 127.0.0.5 : twist /bin/echo twisted %a %d\n"
                 "echo-svc: 127.0.0.6 : user no-such-user-ringfence\n"
                 "udp-svc: 127.0.0.2\n")
        deny = ("echo-svc: 127.0.0.4 : spawn /bin/echo spawned %%a %%d > %s/spawned\n"
                "echo-svc: ALL : banners %s/banners\n"
                "udp-svc: ALL\n") % (tmp, tmp)

        # /etc/hosts.{allow,deny}: ours, in this namespace only.
        if os.path.isfile("/etc/hosts.allow") and os.path.isfile("/etc/hosts.deny"):
            write(os.path.join(tmp, "hosts.allow"), allow)
            write(os.path.join(tmp, "hosts.deny"), deny)
            sh(["mount", "--bind", os.path.join(tmp, "hosts.allow"), "/etc/hosts.allow"])
            sh(["mount", "--bind", os.path.join(tmp, "hosts.deny"), "/etc/hosts.deny"])
        elif overlay("/etc", os.path.join(tmp, "etcov")):
            write("/etc/hosts.allow", allow)
            write("/etc/hosts.deny", deny)
        else:
            log("SKIP: cannot put test tables at /etc/hosts.allow (no bind target, no overlayfs)")
            return SKIP

        # /dev/log: our socket, in an overlay on /dev.
        if not overlay("/dev", os.path.join(tmp, "devov")):
            log("SKIP: cannot mount an overlay on /dev for /dev/log")
            return SKIP
        if os.path.lexists("/dev/log"):
            os.unlink("/dev/log")  # in the overlay only
        sink = SyslogSink("/dev/log")

        if inetd == "xinetd":
            conf = os.path.join(tmp, "xinetd.conf")
            # NOLIBWRAP: xinetd's own libwrap check would refuse first.
            # flags must come before server_args (xinetd parses them in order).
            write(conf, """defaults
{
    log_type = FILE %(tmp)s/xinetd.log
}
service echo-svc
{
    type        = UNLISTED
    port        = %(port)d
    socket_type = stream
    protocol    = tcp
    wait        = no
    user        = root
    bind        = 127.0.0.1
    flags       = NAMEINARGS NOLIBWRAP
    server      = %(tcpd)s
    server_args = %(tmp)s/bin/echo-svc first second
}
service udp-svc
{
    type        = UNLISTED
    port        = %(uport)d
    socket_type = dgram
    protocol    = udp
    wait        = yes
    user        = root
    bind        = 127.0.0.1
    flags       = NAMEINARGS NOLIBWRAP
    server      = %(tcpd)s
    server_args = %(tmp)s/bin/udp-svc
}
""" % {"tmp": tmp, "port": PORT, "uport": UDP_PORT, "tcpd": tcpd})
            procs.append(subprocess.Popen(["xinetd", "-f", conf, "-dontfork",
                                           "-pidfile", os.path.join(tmp, "xinetd.pid")]))
        else:
            # socat as the inetd: nofork puts the connection itself on fds 0/1;
            # the launcher sets argv[0] to the real daemon, as inetd.conf does.
            launch = os.path.join(tmp, "bin", "launch")
            write(launch, "#!%s\nimport os, sys\nos.execv(%r, [%r, 'first', 'second'])\n"
                  % (sys.executable, tcpd, os.path.join(tmp, "bin", "echo-svc")), 0o755)
            procs.append(subprocess.Popen(["socat", "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork" % PORT,
                                           "EXEC:%s,nofork" % launch]))
        log("inetd: " + inetd)
        if not wait_port(PORT):
            check(False, "the inetd listens on 127.0.0.1:%d" % PORT)
            return 1

        got = tcp_client("127.0.0.2")
        check(got.startswith("hello from echo-svc argv0=%s/bin/echo-svc" % tmp) or
              got.startswith("hello from echo-svc argv0=echo-svc"),
              "127.0.0.2 reaches the service: %r" % got)
        check("args=first second" in got, "the service gets its arguments")
        check("greeting=hi-127.0.0.2-echo-svc" in got, "setenv with %a %d expanded")
        check("umask=0027" in got, "umask 027 applied")

        got = tcp_client("127.0.0.3")
        check(got == "access to echo-svc denied for 127.0.0.3\r\nbye\r\n",
              "127.0.0.3 refused with the banner: %r" % got)

        got = tcp_client("127.0.0.4")
        check(got == "", "127.0.0.4 refused with a plain close: %r" % got)
        spawned = wait_for(lambda: os.path.exists(os.path.join(tmp, "spawned")) and
                           open(os.path.join(tmp, "spawned")).read())
        check(spawned == "spawned 127.0.0.4 echo-svc\n", "spawn ran with expansions: %r" % spawned)

        got = tcp_client("127.0.0.5")
        check(got == "twisted 127.0.0.5 echo-svc\n", "twist replaced the service: %r" % got)

        got = tcp_client("127.0.0.6")
        check(got == "", "127.0.0.6 refused: the 'user' option names no user: %r" % got)

        if inetd == "xinetd":
            check(udp_client("127.0.0.2", 5) == "pong ping\n", "UDP from 127.0.0.2 reaches the service")
            # xinetd drops a datagram that arrives before it has seen the
            # previous server (wait = yes) exit: give it time to.
            time.sleep(0.5)
            check(udp_client("127.0.0.3", 1) is None, "UDP from 127.0.0.3 refused (no reply)")
            check(udp_client("127.0.0.2", 5) == "pong ping\n",
                  "UDP service still works after a refusal (the datagram was eaten)")

        # syslog: tcpd's format, one line per refusal with the deciding rule.
        def one(text):
            return wait_for(lambda: sink.matching(text))
        l2 = one("echo-svc[")
        ok2 = [l for l in sink.matching("echo-svc[") if "]: connect from 127.0.0.2 (127.0.0.2)" in l]
        check(len(ok2) == 1 and ok2[0].startswith("<30>"), "allowed: 'connect from' at daemon.info: %r" % ok2)
        r3 = one("refused connect from 127.0.0.3 (127.0.0.3) by /etc/hosts.deny:2")
        check(len(r3) == 1 and r3[0].startswith("<28>"), "refusal of 127.0.0.3 logged at daemon.warning: %r" % r3)
        r4 = one("refused connect from 127.0.0.4 (127.0.0.4) by /etc/hosts.deny:1")
        check(len(r4) == 1, "refusal of 127.0.0.4 logged once: %r" % r4)
        # After the location, why: the client and daemon patterns that matched.
        check(r3 and r3[0].endswith("by /etc/hosts.deny:2: client 127.0.0.3 matches ALL; daemon echo-svc is echo-svc"),
              "refusal of 127.0.0.3 says why: %r" % r3)
        check(r4 and r4[0].endswith("by /etc/hosts.deny:1: 127.0.0.4 is 127.0.0.4; daemon echo-svc is echo-svc"),
              "refusal of 127.0.0.4 says why: %r" % r4)
        r6 = one("refused connect from 127.0.0.6 (127.0.0.6) by /etc/hosts.allow:3: option 'user' failed")
        check(len(r6) == 1, "refusal of 127.0.0.6 names the failed option: %r" % r6)
        t5 = one("twist 127.0.0.5 (127.0.0.5) to /bin/echo twisted 127.0.0.5 echo-svc")
        check(len(t5) == 1, "twist logged: %r" % t5)
        if inetd == "xinetd":
            u3 = one("refused connect from 127.0.0.3 (127.0.0.3) by /etc/hosts.deny:3")
            check(len(u3) == 1 and "udp-svc[" in u3[0], "UDP refusal logged: %r" % u3)
        # (the readiness probe from 127.0.0.1 is refused and logged too)
        refusals = [l for l in sink.matching("refused connect from") if "from 127.0.0.1 " not in l]
        check(len(refusals) == (4 if inetd == "xinetd" else 3),
              "one syslog line per refusal (%d)" % len(refusals))
        if failures:
            log("syslog lines:")
            for l in sink.lines:
                log("  " + l)
    finally:
        if os.environ.get("RF_TCPD_DEBUG"):
            subprocess.run(["sh", "-c", "cat %s/xinetd.log" % tmp])
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["umount", "-l", tmp], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    log("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
