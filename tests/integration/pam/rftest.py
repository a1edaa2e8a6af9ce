# SPDX-License-Identifier: BSD-3-Clause
"""Shared plumbing for the pam_ringfence integration tests.

Everything runs in a private mount + UTS namespace that the test creates for
itself (unshare), so the host is never touched:

* /etc is an overlay whose upper layer lives in the test's temporary
  directory: nsswitch.conf (hosts and netgroups from files only, never DNS),
  hosts, netgroup and an empty /etc/security (a tmpfs) are the test's own
  (and, for the one check that needs glibc's own files backend rather than
  nss_wrapper, /etc/passwd and /etc/group with the test's users);
* /dev is an overlay too, so a test can put its own syslog socket at /dev/log;
* the host name and NIS domain are the test's (needed for user@host, @@netgroup).

Users and groups come from nss_wrapper (LD_PRELOAD, NSS_WRAPPER_PASSWD and
NSS_WRAPPER_GROUP files the test writes); the harness reads requests from
stdin and keeps /dev/null on fd 0 while modules run.
"""

import ctypes
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77  # CTest SKIP_RETURN_CODE

HOST_NAME = "rfhost.lab.example.com"
NIS_DOMAIN = "rfnis"

NSSWITCH = """\
# written by the ringfence integration tests (private mount namespace)
passwd:     files
group:      files
shadow:     files
hosts:      files
networks:   files
netgroup:   files
"""

HOSTS = """\
127.0.0.1       localhost
::1             localhost
10.1.2.3        ws1.lab.example.com ws1
10.1.2.4        ws2.lab.example.com
2001:db8:1::6   ws6.lab.example.com
10.1.5.7        dual.lab.example.com
2001:db8:1::7   dual.lab.example.com
192.168.1.10    admin.corp.example.org
172.16.0.9      tty1
10.20.30.40     rfhost.lab.example.com rfhost
2001:db8:20::40 rfhost.lab.example.com rfhost
"""

NETGROUP = """\
vmadmins    (,alice,) (,vpxuser,)
ngusers     (,dave,) (,carol,) (,frank,otherdomain)
ngdomain    (,eve,rfnis) (,bob,otherdomain)
nghosts     (ws1.lab.example.com,,) (10.1.2.4,,) (tty1,,) (crond,,)
nghere      (rfhost.lab.example.com,eve,) (otherhost,dave,)
ngnested    ngusers (,oscar,)
"""

# name, uid, primary gid
USERS = [
    ("root", 0, 0),
    ("dave", 1000, 100),
    ("alice", 1001, 100),
    ("bob", 1002, 2001),
    ("badadmin", 1003, 100),
    ("carol", 1004, 1001),     # in vmadmins by primary group only
    ("eve", 1005, 100),
    ("frank", 1006, 999),      # primary gid has no group entry
    ("vpxuser", 1007, 100),
    ("Oscar", 1008, 50),       # mixed-case name
]

# name, gid, members
GROUPS = [
    ("root", 0, []),
    ("users", 100, []),
    ("wheel", 10, ["eve", "root"]),
    ("staff", 50, ["dave"]),
    ("vmadmins", 1001, ["alice", "badadmin", "vpxuser"]),
    ("ops", 1002, []),
    ("bob", 2001, ["alice"]),   # a group named like a user
    ("dev", 1003, ["dave", "Oscar", "frank"]),
]

# A second name for an existing GID (vmadmins): "(vmadm-alias)" matches the
# members of GID 1001, as in stock pam_access.
ALIAS_GROUP = ("vmadm-alias", 1001, [])


def log(*args):
    print(*args, flush=True)


class Env:
    """Paths handed over by CMake plus the environment for the harness."""

    def __init__(self, args):
        self.harness = os.path.abspath(args.harness)
        self.ours = os.path.abspath(args.ours) if args.ours else None
        self.stock = os.path.abspath(args.stock) if args.stock else None
        self.nss_wrapper = args.nss_wrapper
        self.permit = args.permit
        self.nss_count = os.path.abspath(args.nss_count) if getattr(args, "nss_count", None) else None
        self.workdir = None
        self.netgroups = False
        self.passwd = None
        self.group = None

    def child_env(self, extra=None):
        """The harness environment. extra={"NSS_WRAPPER": None} runs without
        nss_wrapper (then the namespace's own /etc/passwd and /etc/group)."""
        env = dict(os.environ)
        if extra is None or "NSS_WRAPPER" not in extra:
            env["LD_PRELOAD"] = self.nss_wrapper
            env["NSS_WRAPPER_PASSWD"] = self.passwd
            env["NSS_WRAPPER_GROUP"] = self.group
            # RTLD_DEEPBIND (nss_wrapper's default) is refused by ASan.
            env["NSS_WRAPPER_DISABLE_DEEPBIND"] = "1"
        # The harness may be built with ASan; nss_wrapper is preloaded ahead of
        # the ASan runtime, which is fine for this use.
        asan = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        env["LC_ALL"] = "C"
        if extra:
            env.update((k, v) for k, v in extra.items() if k != "NSS_WRAPPER")
        return env


def add_common_args(parser):
    parser.add_argument("--harness", required=True)
    parser.add_argument("--ours", help="pam_ringfence.so")
    parser.add_argument("--stock", help="stock pam_access.so")
    parser.add_argument("--nss-wrapper", default="libnss_wrapper.so")
    parser.add_argument("--permit", help="pam_permit.so (for stacks)")
    parser.add_argument("--nss-count", help="nss_count.so (counts name-service calls; bench/nss_count.c)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")


def _run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def enter_namespace(argv):
    """Re-executes this script inside `unshare --mount --uts` (once)."""
    if os.environ.get("RINGFENCE_IT_IN_NS") == "1":
        return
    if os.geteuid() != 0:
        log("SKIP: these tests need root to create a private mount namespace (unshare -m)")
        sys.exit(SKIP)
    probe = subprocess.run(["unshare", "--mount", "--uts", "--propagation", "private", "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if probe.returncode != 0:
        log("SKIP: unshare --mount --uts failed: " + probe.stderr.strip())
        sys.exit(SKIP)
    env = dict(os.environ, RINGFENCE_IT_IN_NS="1")
    sys.stdout.flush()
    os.execvpe("unshare", ["unshare", "--mount", "--uts", "--propagation", "private", "--",
                           sys.executable] + argv, env)


def _set_domainname(name):
    libc = ctypes.CDLL(None, use_errno=True)
    b = name.encode()
    if libc.setdomainname(b, len(b)) != 0:
        raise OSError(ctypes.get_errno(), "setdomainname")


def write_file(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def setup(env, keep=False, alias_group=False, extra_groups=None, extra_users=None):
    """Builds the private world. Must run inside the namespace."""
    work = tempfile.mkdtemp(prefix="rf-it-")
    os.chmod(work, 0o755)
    env.workdir = work
    env.keep = keep

    socket.sethostname(HOST_NAME)
    _set_domainname(NIS_DOMAIN)

    # /etc: overlay (preferred) or, failing that, bind mounts without netgroups.
    upper, wdir = os.path.join(work, "etc-upper"), os.path.join(work, "etc-work")
    os.mkdir(upper)
    os.mkdir(wdir)
    try:
        _run(["mount", "-t", "overlay", "overlay", "-o",
              "lowerdir=/etc,upperdir=%s,workdir=%s" % (upper, wdir), "/etc"])
        write_file("/etc/nsswitch.conf", NSSWITCH)
        write_file("/etc/hosts", HOSTS)
        write_file("/etc/netgroup", NETGROUP)
        env.netgroups = True
    except subprocess.CalledProcessError:
        for name, text in (("nsswitch.conf", NSSWITCH), ("hosts", HOSTS)):
            p = os.path.join(work, name)
            write_file(p, text)
            _run(["mount", "--bind", p, "/etc/" + name])
        env.netgroups = False
        log("note: no overlayfs for /etc; netgroup cases are skipped")
    if not os.path.isdir("/etc/security"):
        os.mkdir("/etc/security", 0o755)
    _run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/etc/security"])

    # /dev: overlay so that /dev/log can be our socket.
    dup, dwork = os.path.join(work, "dev-upper"), os.path.join(work, "dev-work")
    os.mkdir(dup)
    os.mkdir(dwork)
    try:
        _run(["mount", "-t", "overlay", "overlay", "-o",
              "lowerdir=/dev,upperdir=%s,workdir=%s" % (dup, dwork), "/dev"])
        env.dev_overlay = True
    except subprocess.CalledProcessError:
        env.dev_overlay = False

    users = USERS + (extra_users or [])
    groups = GROUPS + ([ALIAS_GROUP] if alias_group else []) + (extra_groups or [])
    env.passwd = os.path.join(work, "passwd")
    env.group = os.path.join(work, "group")
    write_file(env.passwd, "".join("%s:x:%d:%d:%s:/home/%s:/bin/sh\n" % (n, u, g, n, n) for n, u, g in users))
    write_file(env.group, "".join("%s:x:%d:%s\n" % (n, g, ",".join(m)) for n, g, m in groups))
    return work


def cleanup(env):
    if env.workdir and not getattr(env, "keep", False):
        shutil.rmtree(env.workdir, ignore_errors=True)
    elif env.workdir:
        log("kept " + env.workdir)


class SyslogSink:
    """A datagram socket at /dev/log (inside the /dev overlay), read by a
    thread: a Unix datagram queue holds only a few messages, and a module
    that logs into a full queue blocks."""

    def __init__(self):
        if os.path.lexists("/dev/log"):
            os.unlink("/dev/log")  # only in our overlay: the host keeps its own
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        self.sock.settimeout(0.05)
        self.lock = threading.Lock()
        self.messages = []
        self.stopping = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.stopping:
            try:
                m = self.sock.recv(65536).decode(errors="replace")
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append(m)

    def drain(self, settle=0.2):
        """Messages received so far (after a short pause for stragglers)."""
        time.sleep(settle)
        with self.lock:
            out, self.messages = self.messages, []
        return out

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()
        try:
            os.unlink("/dev/log")
        except OSError:
            pass


def service_text(module, options, stack="plain", permit=None):
    """The body of a service file that runs `module` for every hook."""
    args = " ".join(options)
    if stack == "plain":
        return "".join("%-8s required %s %s\n" % (t, module, args)
                       for t in ("auth", "account", "password", "session"))
    if stack == "recipe":
        # The classic recipe: account [default=bad success=ok user_unknown=ignore] pam_access.so
        return ("account [default=bad success=ok user_unknown=ignore] %s %s\n"
                "account required %s\n" % (module, args, permit))
    raise ValueError(stack)


def write_service_dir(path, module, options, services=("sshd", "login", "crond"), stack="plain", permit=None):
    os.makedirs(path, exist_ok=True)
    # An empty "other" keeps libpam from logging "no default config other".
    write_file(os.path.join(path, "other"), "")
    for s in services:
        write_file(os.path.join(path, s), service_text(module, options, stack, permit))
    return path


def encode(value):
    """Harness item encoding: None -> '-', text -> '=text'."""
    return "-" if value is None else "=" + value


def request_line(confdir, service, user, rhost, tty, ops="acct"):
    for v in (confdir, service, user or "", rhost or "", tty or "", ops):
        if "\t" in v or "\n" in v:
            raise ValueError("TAB or newline in a request field: %r" % v)
    return "\t".join([confdir, service, encode(user), encode(rhost), encode(tty), ops])


class Harness:
    """One long-running harness process, asked one request at a time."""

    def __init__(self, env, extra_env=None):
        self.proc = subprocess.Popen([env.harness], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env.child_env(extra_env), text=True, bufsize=1)

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("harness died (exit %s) on: %s" % (self.proc.poll(), line))
        return answer.rstrip("\n")

    def close(self):
        self.proc.stdin.close()
        rc = self.proc.wait()
        if rc != 0:
            raise RuntimeError("harness exited with %d" % rc)


def run_batch(env, lines, extra_env=None):
    """Runs many requests through one harness process; returns the answers."""
    proc = subprocess.run([env.harness], input="".join(l + "\n" for l in lines), stdout=subprocess.PIPE,
                          env=env.child_env(extra_env), text=True)
    answers = proc.stdout.splitlines()
    if proc.returncode != 0 or len(answers) != len(lines):
        raise RuntimeError("harness exited %d after %d of %d answers" % (proc.returncode, len(answers), len(lines)))
    return answers
