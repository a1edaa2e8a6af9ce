#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Integration tests of pam_ringfence.so through the real libpam.

Each section sets up files (in the test's private /etc/security, a tmpfs in
its own mount namespace, or in its temporary directory), asks pam_harness and
checks the PAM return codes and, where it matters, the syslog lines (a socket
at /dev/log in the test's /dev overlay). Where stock pam_access is the
reference, the same request also goes through stock pam_access.so; where
ringfence differs on purpose, stock's answer is printed for the record and
only ours is checked.

Usage (CTest passes the paths):
  pam_ringfence_integration.py --harness H --ours pam_ringfence.so \
      --stock pam_access.so --permit pam_permit.so --nss-wrapper libnss_wrapper.so [-k SECTION]
"""

import argparse
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rftest  # noqa: E402

SEC = "/etc/security"
S, D, U = "PAM_SUCCESS", "PAM_PERM_DENIED", "PAM_USER_UNKNOWN"


class Checks:
    def __init__(self):
        self.count = 0
        self.failures = []
        self.section = ""
        self.notes = []

    def eq(self, what, got, want):
        self.count += 1
        if got != want:
            self.failures.append("[%s] %s: got %s, want %s" % (self.section, what, got, want))
            rftest.log("  FAIL %s: got %s, want %s" % (what, got, want))

    def true(self, what, cond, detail=""):
        self.count += 1
        if not cond:
            self.failures.append("[%s] %s %s" % (self.section, what, detail))
            rftest.log("  FAIL %s %s" % (what, detail))

    def note(self, text):
        self.notes.append("[%s] %s" % (self.section, text))
        rftest.log("  note: " + text)


class World:
    """The test's environment: service directories, files, the syslog sink."""

    def __init__(self, env, sink):
        self.env = env
        self.sink = sink
        self.n = 0
        self.harnesses = {}  # one long-running harness per environment

    def close(self):
        for h in self.harnesses.values():
            h.close()
        self.harnesses = {}

    def path(self, name):
        return os.path.join(self.env.workdir, name)

    def clear_security(self):
        for name in os.listdir(SEC):
            p = os.path.join(SEC, name)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)

    def service(self, module, options=(), stack="plain", services=("sshd", "login", "crond")):
        self.n += 1
        return rftest.write_service_dir(self.path("svc%03d" % self.n), module, ["noaudit"] + list(options),
                                        services=services, stack=stack, permit=self.env.permit)

    def ask(self, svcdir, user, rhost=None, tty=None, service="sshd", ops="acct", extra_env=None):
        key = tuple(sorted((extra_env or {}).items(), key=lambda kv: kv[0]))
        if key not in self.harnesses:
            self.harnesses[key] = rftest.Harness(self.env, extra_env)
        try:
            return self.harnesses[key].ask(rftest.request_line(svcdir, service, user, rhost, tty, ops))
        except RuntimeError:
            del self.harnesses[key]  # it died (a crash in a module): start afresh next time
            raise

    def ask_both(self, opts, user, rhost=None, tty=None, service="sshd", ops="acct", stack="plain"):
        """(stock, ours) for the same options."""
        return (self.ask(self.service(self.env.stock, opts, stack), user, rhost, tty, service, ops),
                self.ask(self.service(self.env.ours, opts, stack), user, rhost, tty, service, ops))

    def logs(self, module="pam_ringfence"):
        return [m for m in self.sink.drain() if module + "(" in m]


def write(path, text, mode=0o644):
    rftest.write_file(path, text, mode)
    return path


# ------------------------------------------------------------------ sections

SEED_000 = """\
# access.conf of the classic ESX recipe (its addresses were lost, these stand in)
+ : root : crond console tty1 tty2 tty3 tty3 tty5 tty6
+ : root : 192.168.1.10
+ : @vmadmins EXCEPT badadmin : ALL
+ : badadmin : 192.168.1.20
- : root : ALL
- : ALL : ALL
"""


def t_recipe(w, c):
    """The classic ESX recipe, with atgroup: @vmadmins is the UNIX group."""
    w.clear_security()
    write(SEC + "/access.conf", SEED_000)
    recipe = w.service(w.env.ours, ["atgroup"], stack="recipe")
    plain = w.service(w.env.ours, ["atgroup"])
    cases = [
        ("root from an unlisted host", "root", "10.1.2.3", None, "sshd", D),
        ("root from the admin station", "root", "192.168.1.10", None, "sshd", S),
        ("root on tty1", "root", None, "/dev/tty1", "login", S),
        ("root on the console", "root", None, "console", "login", S),
        ("root's cron job (no tty: origin is the service crond)", "root", None, None, "crond", S),
        ("root's cron job under cronie (PAM_TTY=cron is not listed)", "root", None, "cron", "crond", D),
        ("alice, vmadmins member (supplementary)", "alice", "10.1.2.3", None, "sshd", S),
        ("carol, vmadmins by primary group only", "carol", "10.1.2.3", None, "sshd", S),
        ("vpxuser (vCenter), vmadmins member", "vpxuser", "2001:db8:1::6", None, "sshd", S),
        ("badadmin from elsewhere (EXCEPT badadmin)", "badadmin", "10.1.2.3", None, "sshd", D),
        ("badadmin from his station", "badadmin", "192.168.1.20", None, "sshd", S),
        ("dave, not an admin", "dave", "10.1.2.3", None, "sshd", D),
        ("dave locally", "dave", None, "tty1", "login", D),
    ]
    for what, user, rhost, tty, service, want in cases:
        c.eq(what + " [recipe stack]", w.ask(recipe, user, rhost, tty, service), want)
        c.eq(what + " [plain stack]", w.ask(plain, user, rhost, tty, service), want)
    c.eq("unknown user, recipe stack (user_unknown=ignore, then pam_permit)", w.ask(recipe, "nosuch", "10.1.2.3"), S)
    c.eq("unknown user, plain stack", w.ask(plain, "nosuch", "10.1.2.3"), U)

    # Without atgroup, @vmadmins is a netgroup, exactly as stock reads it.
    if w.env.netgroups:
        for what, user, rhost, tty, service, _ in cases:
            a, b = w.ask_both([], user, rhost, tty, service)
            c.eq(what + " [no atgroup: same as stock]", b, a)
        a, b = w.ask_both([], "carol", "10.1.2.3")
        c.eq("carol is in the group, not in the netgroup: denied without atgroup", b, D)
        c.eq("... and by stock", a, D)
    else:
        c.note("netgroups unavailable: no-atgroup comparison skipped")


def t_user_unknown(w, c):
    """Nonexistent users: PAM_USER_UNKNOWN from every hook, as stock."""
    w.clear_security()
    write(SEC + "/access.conf", "- : ALL : ALL\n")
    for user in ("nosuch", "DAVE", ""):
        for ops in ("acct", "auth", "open", "close", "chauthtok"):
            a, b = w.ask_both([], user, "10.1.2.3", ops=ops)
            c.eq("user %r, %s: same as stock" % (user, ops), b, a)
            c.eq("user %r, %s" % (user, ops), b, U)
    a, b = w.ask_both([], None, "10.1.2.3")
    c.eq("no PAM_USER and no conversation: same as stock", b, a)
    a, b = w.ask_both([], "dave", "10.1.2.3", ops="auth,setcred")
    c.eq("setcred (PAM_IGNORE from the module): same as stock", b, a)
    a, b = w.ask_both([], "nosuch", "10.1.2.3", stack="recipe")
    c.eq("unknown user with user_unknown=ignore: stack result", b, S)
    c.eq("... same as stock", b, a)
    a, b = w.ask_both([], "dave", "10.1.2.3", stack="recipe")
    c.eq("known user denied with the recipe stack", b, D)
    c.eq("... same as stock", b, a)


def t_dropins(w, c):
    """/etc/security/access.d/*.conf: after access.conf, in strcmp order,
    first match wins; other names are not read."""
    w.clear_security()
    os.mkdir(SEC + "/access.d")
    write(SEC + "/access.conf", "+ : root : ALL\n- : eve : ALL\n")
    write(SEC + "/access.d/10-first.conf", "+ : dave : 10.1.2.3\n+ : eve : ALL\n")
    write(SEC + "/access.d/20-second.conf", "- : dave : ALL\n+ : alice : tty1\n")
    write(SEC + "/access.d/9-late.conf", "- : alice : ALL\n+ : dave : ALL\n")
    write(SEC + "/access.d/README", "- : ALL : ALL\n")
    write(SEC + "/access.d/00-old.conf.rpmsave", "- : ALL : ALL\n")
    cases = [
        ("access.conf comes first", "root", "10.9.9.9", None, S),
        ("access.conf before drop-ins", "eve", "10.1.2.3", None, D),
        ("10-first.conf before 20-second.conf", "dave", "10.1.2.3", None, S),
        ("20-second.conf", "dave", "10.9.9.9", None, D),
        ("20-second.conf before 9-late.conf (strcmp order)", "alice", None, "tty1", S),
        ("9-late.conf is read", "alice", "10.9.9.9", None, D),
        ("no match anywhere: allowed; README and *.rpmsave not read", "bob", "10.9.9.9", None, S),
    ]
    for what, user, rhost, tty, want in cases:
        a, b = w.ask_both([], user, rhost, tty)
        c.eq(what, b, want)
        c.eq(what + " (same as stock)", b, a)

    # A dot file matches glob's "*.conf" only with GLOB_PERIOD: stock never reads it.
    write(SEC + "/access.d/.hidden.conf", "- : ALL : ALL\n")
    a, b = w.ask_both([], "bob", "10.9.9.9")
    c.eq("dot file .hidden.conf is not a drop-in (same as stock)", b, a)
    os.unlink(SEC + "/access.d/.hidden.conf")
    # Emacs keeps a lock while a file is edited: a dangling symlink ".#name".
    os.symlink("root@rfhost.4242:1700000000", SEC + "/access.d/.#20-second.conf")
    a, b = w.ask_both([], "bob", "10.9.9.9")
    c.eq("editor lock file .#20-second.conf is not a drop-in (same as stock)", b, a)
    os.unlink(SEC + "/access.d/.#20-second.conf")
    # Recorded only: ringfence refuses symlinks (O_NOFOLLOW) and non-files.
    write(w.path("shared.conf"), "+ : bob : ALL\n")
    os.symlink(w.path("shared.conf"), SEC + "/access.d/60-link.conf")
    a, b = w.ask_both([], "bob", "10.9.9.9")
    c.note("symlinked drop-in 60-link.conf: stock %s, pam_ringfence %s" % (a, b))
    os.unlink(SEC + "/access.d/60-link.conf")
    os.mkdir(SEC + "/access.d/70-dir.conf")
    a, b = w.ask_both([], "bob", "10.9.9.9")
    c.note("directory named 70-dir.conf in access.d: stock %s, pam_ringfence %s" % (a, b))
    os.rmdir(SEC + "/access.d/70-dir.conf")

    # The main file missing: the drop-ins are still read (stock D17).
    os.unlink(SEC + "/access.conf")
    a, b = w.ask_both([], "alice", "10.9.9.9")
    c.eq("access.conf missing: drop-ins still read", b, D)
    c.eq("access.conf missing: same as stock", b, a)


def t_accessfile(w, c):
    """accessfile=: that file only, access.d is not read."""
    w.clear_security()
    os.mkdir(SEC + "/access.d")
    write(SEC + "/access.d/10-deny.conf", "- : ALL : ALL\n")
    custom = write(w.path("custom-access.conf"), "- : dave : ALL\n")
    a, b = w.ask_both(["accessfile=" + custom], "alice", "10.1.2.3")
    c.eq("accessfile=: drop-ins not read (alice matches nothing: allowed)", b, S)
    c.eq("... same as stock", b, a)
    a, b = w.ask_both(["accessfile=" + custom], "dave", "10.1.2.3")
    c.eq("accessfile=: its own rule applies", b, D)
    c.eq("... same as stock", b, a)
    a, b = w.ask_both([], "alice", "10.1.2.3")
    c.eq("without accessfile= the drop-in applies", b, D)
    c.eq("... same as stock", b, a)
    missing = w.path("no-such-access.conf")
    a, b = w.ask_both(["accessfile=" + missing], "alice", "10.1.2.3")
    c.eq("accessfile= naming a missing file: same as stock (PAM_ABORT)", b, a)


def t_missing(w, c):
    """No access.conf and no access.d at all: everyone is allowed, as stock."""
    w.clear_security()
    for user, rhost, tty in (("dave", "10.1.2.3", None), ("root", None, "tty1"), ("alice", None, None)):
        a, b = w.ask_both([], user, rhost, tty)
        c.eq("no files: %s allowed" % user, b, S)
        c.eq("no files: %s same as stock" % user, b, a)
    os.mkdir(SEC + "/access.d")
    a, b = w.ask_both([], "dave", "10.1.2.3")
    c.eq("empty access.d: allowed", b, S)
    c.eq("empty access.d: same as stock", b, a)


MALFORMED = [
    ("bad field count", "+ : dave"),
    ("no field separator", "+ dave ALL"),
    ("bad first field", "x : dave : ALL"),
    ("empty users field", "+ :   : ALL"),
    ("EXCEPT at the start (users)", "+ : EXCEPT dave : ALL"),
    ("EXCEPT at the end (users)", "+ : dave EXCEPT : ALL"),
    ("EXCEPT twice (users)", "+ : ALL EXCEPT EXCEPT dave : ALL"),
    ("EXCEPT at the end (origins)", "+ : dave : ALL EXCEPT"),
    ("'#' in an origin token", "+ : dave : 10.0.0.1#office"),
    ("'#' comment after a rule", "+ : dave : LOCAL # console only"),
    ("prefix length too long", "+ : dave : 10.0.0.0/33"),
    ("IPv6 prefix length too long", "+ : dave : 2001:db8::/129"),
    ("hex prefix length", "+ : dave : 10.0.0.0/0x8"),
    # stock reads prefix lengths with strtol(base 0): /010 is /8 and /08 is
    # invalid; a decimal reading would silently change the network
    ("prefix length with a leading zero (octal for stock)", "+ : dave : 10.0.0.0/010"),
    ("prefix length with a leading zero (invalid octal)", "+ : dave : 10.0.0.0/08"),
    ("non-contiguous netmask", "+ : dave : 10.0.0.0/255.0.255.0"),
    ("mask is not a number", "+ : dave : 10.0.0.0/abc"),
    ("trailing-dot host name", "+ : dave : host.example.com."),
    # Items with a colon that are neither an IPv6 address nor an X display:
    # stock compares them as text, so each deny line denied nobody.
    ("times without a day code, glued to the origin", "- : ALL EXCEPT root : ALL:0800-1800"),
    ("times without a day code after 'ALL: '", "- : ALL EXCEPT root : ALL: 0800-1800"),
    ("a stray ':' after an origin", "- : ALL : tty1:"),
    ("a stray ':' after ALL", "- : ALL : ALL:"),
    ("IPv6 address with a zone", "- : ALL : fe80::1%eth0"),
    ("X display of another host", "- : ALL : host:0"),
    ("btmp's ssh:notty", "- : ALL : ssh:notty"),
    ("a name with a colon", "- : ALL : a:b"),
    ("address with a port", "- : ALL : 10.0.0.1:22"),
    ("bad time field (day)", "+ : dave : ALL : Xx0800-1700"),
    ("bad time field (colon in time)", "+ : dave : ALL : Wk08:00-17:00"),
]


def t_malformed(w, c):
    """A malformed line anywhere makes the whole policy invalid: everyone is
    refused and syslog names file:line."""
    w.clear_security()
    for i, (what, line) in enumerate(MALFORMED):
        conf = write(w.path("malformed-%02d.conf" % i), "+ : ALL : ALL\n" + line + "\n")
        svc = w.service(w.env.ours, ["accessfile=" + conf])
        w.sink.drain(0)
        for user, rhost, tty in (("dave", "10.1.2.3", None), ("root", None, "tty1")):
            c.eq("%s: %s refused" % (what, user), w.ask(svc, user, rhost, tty), D)
        logs = w.logs()
        c.true("%s: syslog names %s:2:" % (what, conf), any(conf + ":2:" in m for m in logs),
               "; logged: %r" % logs[:3])
        stock = w.ask(w.service(w.env.stock, ["accessfile=" + conf]), "dave", "10.1.2.3")
        if stock != S:
            c.note("%s: stock says %s" % (what, stock))
    # an unknown module option with a valid file
    conf = write(w.path("valid.conf"), "+ : ALL : ALL\n")
    svc = w.service(w.env.ours, ["accessfile=" + conf, "frobnicate"])
    w.sink.drain(0)
    c.eq("unknown module option: refused", w.ask(svc, "dave", "10.1.2.3"), D)
    c.true("unknown module option is logged", any("frobnicate" in m for m in w.logs()))
    # and the same file without the bad line is fine again
    svc = w.service(w.env.ours, ["accessfile=" + conf])
    c.eq("valid file, valid options: allowed", w.ask(svc, "dave", "10.1.2.3"), S)


def t_insecure(w, c):
    """Files writable by group or others, or owned by someone else, are not
    trusted: everyone is refused."""
    w.clear_security()
    good = "+ : ALL : ALL\n"
    for mode in (0o664, 0o646, 0o666, 0o620):
        conf = write(w.path("insecure-%o.conf" % mode), good, mode)
        svc = w.service(w.env.ours, ["accessfile=" + conf])
        w.sink.drain(0)
        c.eq("accessfile mode %o: refused" % mode, w.ask(svc, "dave", "10.1.2.3"), D)
        c.true("mode %o: logged" % mode, any(conf in m for m in w.logs()))
    conf = write(w.path("not-root.conf"), good)
    os.chown(conf, 1000, 100)
    svc = w.service(w.env.ours, ["accessfile=" + conf])
    c.eq("accessfile owned by uid 1000: refused", w.ask(svc, "dave", "10.1.2.3"), D)
    conf = write(w.path("ok.conf"), good, 0o600)
    svc = w.service(w.env.ours, ["accessfile=" + conf])
    c.eq("mode 600, root: allowed", w.ask(svc, "dave", "10.1.2.3"), S)
    # default path and drop-ins
    write(SEC + "/access.conf", good, 0o666)
    c.eq("world-writable /etc/security/access.conf: refused",
         w.ask(w.service(w.env.ours), "dave", "10.1.2.3"), D)
    os.chmod(SEC + "/access.conf", 0o644)
    os.mkdir(SEC + "/access.d")
    write(SEC + "/access.d/50-x.conf", good, 0o664)
    c.eq("group-writable drop-in: refused", w.ask(w.service(w.env.ours), "dave", "10.1.2.3"), D)
    os.chmod(SEC + "/access.d/50-x.conf", 0o644)
    c.eq("after chmod go-w: allowed", w.ask(w.service(w.env.ours), "dave", "10.1.2.3"), S)


def t_huge_group(w, c):
    """A /etc/group line over 256 KiB: stock pam_access cannot read it
    (nor, with glibc's files backend, any group after it); ours must."""
    members = ["hm%05d" % i for i in range(40000)]
    members.insert(23456, "hugeuser")
    huge = "huge:x:5000:%s\n" % ",".join(members)
    c.true("the huge group line is over 256 KiB (%d bytes)" % len(huge), len(huge) > 256 * 1024)
    groups = open(w.env.group).read() + huge + "after:x:5001:hugeuser\n"
    conf = write(w.path("huge.conf"), "- : (huge) : 10.1.2.3\n+ : (huge) : ALL\n+ : after : tty1\n- : ALL : ALL\n")
    ours = w.service(w.env.ours, ["accessfile=" + conf])
    stock = w.service(w.env.stock, ["accessfile=" + conf])
    cases = (("deny line for the huge group", "hugeuser", "10.1.2.3", None, D),
             ("allow line for the huge group", "hugeuser", "10.9.9.9", None, S),
             ("group listed after the huge one", "hugeuser", None, "tty1", S),
             ("non-member falls through to the final deny", "dave", "10.9.9.9", None, D))

    # glibc's own files backend, as on a real host: the namespace's private
    # /etc/passwd and /etc/group (the test's users, never the host's).
    if w.env.netgroups:  # i.e. /etc is our overlay
        write("/etc/passwd", open(w.env.passwd).read())
        write("/etc/group", groups)
        files = {"NSS_WRAPPER": None}
        for what, user, rhost, tty, want in cases:
            b = w.ask(ours, user, rhost, tty, extra_env=files)
            a = w.ask(stock, user, rhost, tty, extra_env=files)
            c.eq(what + " [glibc files]", b, want)
            c.note("%s [glibc files]: stock pam_access says %s" % (what, a))
    else:
        c.note("no overlay for /etc: glibc files backend variant skipped")

    # nss_wrapper: its getgrgid_r answers a short buffer with -1/errno=ERANGE
    # (glibc returns ERANGE); libpam copes with both.
    group = write(w.path("group-huge"), groups)
    nss = {"NSS_WRAPPER_GROUP": group}
    # Recorded, not checked: pam_ringfence retries only on a return of ERANGE.
    for what, user, rhost, tty, want in cases:
        b = w.ask(ours, user, rhost, tty, extra_env=nss)
        a = w.ask(stock, user, rhost, tty, extra_env=nss)
        c.note("%s [nss_wrapper]: pam_ringfence says %s%s, stock pam_access says %s" % (
            what, b, "" if b == want else " (glibc semantics would give %s)" % want, a))


def nss_counts(w, svc, user, rhost, extra_env):
    """One decision in a fresh harness process with nss_count.so preloaded:
    (PAM answer, {counter: calls}) for that process."""
    out = w.path("nss-count.out")
    if os.path.exists(out):
        os.unlink(out)
    env = dict(extra_env)
    env["LD_PRELOAD"] = " ".join(x for x in (w.env.nss_count, env.get("LD_PRELOAD")) if x)
    env["BENCH_NSS_COUNT_OUT"] = out
    line = rftest.request_line(svc, "sshd", user, rhost, None)
    t0 = time.time()
    answer = rftest.run_batch(w.env, [line], env)[0]
    seconds = time.time() - t0
    counts = dict(kv.split("=", 1) for kv in open(out).read().split() if "=" in kv)
    return answer, {k: int(v) for k, v in counts.items() if v.isdigit()}, seconds


def t_many_groups(w, c):
    """A user in more groups than the kernel allows (70,000): every
    group-based deny rule still applies, as with stock pam_access; the cost
    follows the names in the policy, not the user's group count."""
    if not w.env.netgroups:  # i.e. /etc is not our overlay
        c.note("no overlay for /etc: skipped")
        return
    count = 70000
    # bigu is in all of them; midu in 10,000 (under the kernel's limit).
    lines = ["g%05d:x:%d:%s\n" % (i, 200000 + i, "bigu,midu" if i < 10000 else "bigu") for i in range(count)]
    lines.insert(count // 2, "bad:x:99999:bigu\n")
    lines.append("other:x:99998:dave\n")  # lists somebody else: bigu's group list is needed
    groups = open(w.env.group).read() + "".join(lines)
    passwd = open(w.env.passwd).read() + "bigu:x:1200:100:bigu:/home/bigu:/bin/sh\n" + \
        "midu:x:1201:100:midu:/home/midu:/bin/sh\n"
    write("/etc/passwd", passwd)
    write("/etc/group", groups)
    big_group = write(w.path("group-big"), groups)
    big_passwd = write(w.path("passwd-big"), passwd)
    backends = (("glibc files", {"NSS_WRAPPER": None}),
                ("nss_wrapper", {"NSS_WRAPPER_GROUP": big_group, "NSS_WRAPPER_PASSWD": big_passwd}))
    rules = (("(bad)", []), ("bad", []), ("@bad", ["atgroup"]), ("ALL EXCEPT (g00007) root", []))
    for backend, extra in backends:
        for item, opts in rules:
            conf = write(w.path("many-groups.conf"), "- : %s : ALL\n" % item)
            o = opts + ["accessfile=" + conf]
            ours = w.ask(w.service(w.env.ours, o), "bigu", "10.1.2.3", extra_env=extra)
            stock = w.ask(w.service(w.env.stock, o), "bigu", "10.1.2.3", extra_env=extra)
            want = S if item.startswith("ALL EXCEPT") else D
            c.eq("[%s] bigu in %d groups, '- : %s : ALL'" % (backend, count + 1, item), ours, want)
            c.note("[%s] '- : %s : ALL' for bigu: stock pam_access says %s" % (backend, item, stock))

    # NSS calls for one decision in a fresh process (glibc's files backend):
    # the user, the group named by the rule and at most one group list,
    # however many groups the user is in. (Each group of the user used to be
    # looked up by gid: 70,001 getgrgid_r calls, each a scan of /etc/group.)
    if not w.env.nss_count:
        c.note("no nss_count.so given: call counts not checked")
        return
    conf = write(w.path("many-groups.conf"), "- : (other) : ALL\n")
    svc = w.service(w.env.ours, ["accessfile=" + conf])
    for user in ("bigu", "midu"):
        answer, n, seconds = nss_counts(w, svc, user, "10.1.2.3", {"NSS_WRAPPER": None})
        c.eq("'- : (other) : ALL' for %s (not a member)" % user, answer, S)
        c.true("%s: group lookups for one decision: at most 3" % user, n.get("group", 10 ** 9) <= 3, str(n))
        c.true("%s: no lookup by gid" % user, n.get("getgrgid_r", 0) + n.get("getgrgid", 0) == 0, str(n))
        c.note("one fresh-process decision for %s: %.2f s, NSS calls %s" % (
            user, seconds, {k: v for k, v in n.items() if v and k not in ("pid",)}))


def evening_tz():
    """A TZ under which the local time now is 20:xx: outside 0800-1800 on every day."""
    shift = (20 - time.gmtime().tm_hour) % 24
    shift = shift - 24 if shift > 12 else shift
    return "RFT%d" % -shift  # POSIX: RFT-3 is UTC+3


def t_denial_log(w, c):
    """A denial is logged to authpriv with user, origin, file:line and why."""
    conf = write(w.path("deny-log.conf"), "# first line\n+ : root : ALL\n- : dave : ALL\n")
    svc = w.service(w.env.ours, ["accessfile=" + conf])
    w.sink.drain(0)
    c.eq("dave refused", w.ask(svc, "dave", "10.1.2.3"), D)
    logs = w.logs()
    pat = re.compile(r"^<(\d+)>.*pam_ringfence\(sshd:account\): access denied for user 'dave' from '10\.1\.2\.3' "
                     r"\(" + re.escape(conf) + r":3: - : dave : ALL\)$")
    hit = [m for m in logs if pat.search(m)]
    c.true("denial line with file:line", bool(hit), "; logged: %r" % logs)
    if hit:
        prio = int(pat.search(hit[0]).group(1))
        c.eq("facility authpriv, level err", (prio >> 3, prio & 7), (10, 3))
    c.eq("local denial", w.ask(svc, "dave", None, "/dev/tty2", "login"), D)
    c.true("local denial names the tty", any("from 'tty2'" in m and conf + ":3" in m for m in w.logs()))
    c.eq("root allowed", w.ask(svc, "root", "10.1.2.3"), S)
    c.true("no denial line for an allowed login", not any("denied" in m for m in w.logs()))
    quiet = w.service(w.env.ours, ["accessfile=" + conf, "quiet_log"])
    c.eq("quiet_log: still refused", w.ask(quiet, "dave", "10.1.2.3"), D)
    c.true("quiet_log: no denial line", not any("denied" in m for m in w.logs()))
    # hostile text in items is escaped, never raw control characters
    c.eq("rhost with an escape character refused", w.ask(svc, "dave", "evil\x1bhost"), D)
    c.true("control characters are escaped in the log", not any("\x1b" in m for m in w.logs()))

    # An earlier allow rule named the user but its time field did not match:
    # the line says which rule and why.
    tz = {"TZ": evening_tz()}
    timed = write(w.path("deny-log-time.conf"),
                  "+ : root : ALL\n+ : dave : ALL : Wk0800-1800\n+ : carol : ALL\n- : ALL : ALL\n")
    tsvc = w.service(w.env.ours, ["accessfile=" + timed])
    w.sink.drain(0)
    c.eq("dave refused in the evening", w.ask(tsvc, "dave", "10.1.2.3", extra_env=tz), D)
    want = ("access denied for user 'dave' from '10.1.2.3' (%s:4: - : ALL : ALL; "
            "line 2 did not match: outside Wk0800-1800)" % timed)
    logs = w.logs()
    c.true("denial names the time rule that did not match", any(m.endswith(want) for m in logs),
           "; want %r, logged: %r" % (want, logs))
    for m in logs:
        c.note("logged: " + m[m.index("pam_ringfence("):])

    # ... or its origins field did not match.
    nets = write(w.path("deny-log-origin.conf"),
                 "+ : dave : 10.0.0.0/8\n+ : root : ALL\n- : ALL EXCEPT root : ALL\n")
    osvc = w.service(w.env.ours, ["accessfile=" + nets])
    c.eq("dave refused from outside 10/8", w.ask(osvc, "dave", "192.0.2.9"), D)
    want = ("access denied for user 'dave' from '192.0.2.9' (%s:3: - : ALL EXCEPT root : ALL; "
            "line 1 did not match: 192.0.2.9 is not in 10.0.0.0/8)" % nets)
    logs = w.logs()
    c.true("denial names the origin that did not match", any(m.endswith(want) for m in logs),
           "; want %r, logged: %r" % (want, logs))
    for m in logs:
        c.note("logged: " + m[m.index("pam_ringfence("):])
    c.eq("dave allowed from 10/8", w.ask(osvc, "dave", "10.9.9.9"), S)

    # A rule that did not name the user is not the reason.
    other = write(w.path("deny-log-other.conf"), "+ : carol : ALL : Wk0800-1800\n- : ALL : ALL\n")
    xsvc = w.service(w.env.ours, ["accessfile=" + other])
    c.eq("dave refused by the catch-all", w.ask(xsvc, "dave", "10.1.2.3", extra_env=tz), D)
    logs = w.logs()
    c.true("no reason from a rule for another user",
           any(m.endswith("(%s:2: - : ALL : ALL)" % other) for m in logs), "; logged: %r" % logs)

    # A long rule and a long reason are cut; the line stays bounded.
    long_nets = " ".join("10.%d.0.0/16" % i for i in range(60))
    big = write(w.path("deny-log-long.conf"),
                "+ : dave : %s\n- : dave : %s 192.0.2.0/24\n" % (long_nets, long_nets))
    bsvc = w.service(w.env.ours, ["accessfile=" + big])
    c.eq("dave refused by a long rule", w.ask(bsvc, "dave", "192.0.2.9"), D)
    logs = [m for m in w.logs() if "access denied" in m]
    c.true("long denial logged", len(logs) == 1, "; logged: %r" % logs)
    if logs:
        m = logs[0][logs[0].index("access denied"):]
        c.true("long denial line under 900 bytes", len(m) < 900, "%d bytes: %r" % (len(m), m))
        c.true("long denial still names the rule that did not match",
               "...; line 1 did not match: 192.0.2.9 is not in 10.0.0.0/16" in m, "; logged: %r" % m)


def t_reload(w, c):
    """One process, the file rewritten between two pam_start/pam_end: the
    second decision follows the new file (ours caches the compiled policy)."""
    conf = w.path("reload.conf")
    write(conf, "+ : dave : ALL\n")
    ours = w.service(w.env.ours, ["accessfile=" + conf])
    stock = w.service(w.env.stock, ["accessfile=" + conf])
    h = rftest.Harness(w.env)
    hs = rftest.Harness(w.env)

    def ask(what, want):
        b = h.ask(rftest.request_line(ours, "sshd", "dave", "10.1.2.3", None))
        a = hs.ask(rftest.request_line(stock, "sshd", "dave", "10.1.2.3", None))
        c.eq(what, b, want)
        c.eq(what + " (same as stock)", b, a)

    ask("first version allows", S)
    ask("unchanged file, second call", S)
    with open(conf, "r+") as f:            # in place, same size, same inode
        f.write("- : dave : ALL\n")
    ask("rewritten in place (same size and inode) denies", D)
    tmp = conf + ".new"
    write(tmp, "+ : dave : ALL\n")
    os.rename(tmp, conf)                   # new inode, same size
    ask("replaced by rename allows", S)
    write(conf, "+ : alice : ALL\n- : dave : 10.1.2.0/24\n")
    ask("longer file denies", D)
    os.unlink(conf)
    b = h.ask(rftest.request_line(ours, "sshd", "dave", "10.1.2.3", None))
    a = hs.ask(rftest.request_line(stock, "sshd", "dave", "10.1.2.3", None))
    c.eq("file removed: same as stock", b, a)
    write(conf, "- : dave : ALL\n")
    ask("file back again denies", D)
    os.chmod(conf, 0o666)
    b = h.ask(rftest.request_line(ours, "sshd", "root", "10.1.2.3", None))
    c.eq("made world-writable: everyone refused", b, D)
    os.chmod(conf, 0o644)
    b = h.ask(rftest.request_line(ours, "sshd", "root", "10.1.2.3", None))
    c.eq("chmod back: root allowed again", b, S)
    # default file + drop-in directory: a new drop-in is noticed
    w.clear_security()
    write(SEC + "/access.conf", "+ : root : ALL\n")
    dflt = w.service(w.env.ours)
    c.eq("default file: dave allowed (no match)", h.ask(rftest.request_line(dflt, "sshd", "dave", "10.1.2.3", None)), S)
    os.mkdir(SEC + "/access.d")
    write(SEC + "/access.d/50-new.conf", "- : dave : ALL\n")
    c.eq("new drop-in noticed", h.ask(rftest.request_line(dflt, "sshd", "dave", "10.1.2.3", None)), D)
    os.unlink(SEC + "/access.d/50-new.conf")
    c.eq("removed drop-in noticed", h.ask(rftest.request_line(dflt, "sshd", "dave", "10.1.2.3", None)), S)
    h.close()
    hs.close()


def t_deliberate(w, c):
    """Where ringfence deliberately differs from stock 1.5.2 (a stock bug, not
    a design): ours is checked, stock's answer is noted for the record."""
    cases = [
        ("/0 matches every IPv4 address", "- : dave : 0.0.0.0/0\n", [], "dave", "10.1.2.3", None, D),
        ("::/0 matches every IPv6 address", "- : dave : ::/0\n", [], "dave", "2001:db8:1::6", None, D),
        ("last line without a newline is honoured", "+ : root : ALL\n- : dave : ALL", [], "dave", "10.1.2.3", None,
         D),
        ("line longer than 8 KiB works",
         "- : " + " ".join("nobody%04d" % i for i in range(900)) + " dave : ALL\n+ : ALL : ALL\n", [], "dave",
         "10.1.2.3", None, D),
        ("long line: no phantom rule from its tail",
         "+ : " + " ".join("nobody%04d" % i for i in range(900)) + " : ALL\n", [], "dave", "10.1.2.3", None, S),
        ("v4-mapped rhost matches an IPv4 network", "- : dave : 10.1.2.0/24\n", [], "dave", "::ffff:10.1.2.3", None,
         D),
        ("v4-mapped rhost matches an IPv4 prefix", "- : dave : 10.1.\n", [], "dave", "::ffff:10.1.2.3", None, D),
        ("v4-mapped rhost matches an IPv4 address", "- : dave : 10.1.2.3\n", [], "dave", "::FFFF:10.1.2.3", None, D),
        ("a line starting with blanks is parsed", "  - : dave : ALL\n", [], "dave", "10.1.2.3", None, D),
        ("host-name tokens are not resolved (same as 1.5.2)", "- : dave : ws1.lab.example.com\n", [], "dave",
         "10.1.2.3", None, S),
        ("IPv6 network after an IPv4 prefix, dual-stack host name (stock's AF_INET cache hides it)",
         "+ : dave : 192.168.\n- : dave : 2001:db8:1::/48\n", [], "dave", "dual.lab.example.com", None, D),
        ("IPv6 network after an IPv4 prefix, IPv6-only host name",
         "+ : dave : 192.168.\n- : dave : 2001:db8:1::/48\n", [], "dave", "ws6.lab.example.com", None, D),
        ("listsep without blanks: blanks around items are ignored", "- : dave, alice : ALL\n", ["listsep=,"],
         "alice", "10.1.2.3", None, D),
    ]
    for i, (what, text, opts, user, rhost, tty, want) in enumerate(cases):
        conf = write(w.path("deliberate-%02d.conf" % i), text)
        o = opts + ["accessfile=" + conf]
        a, b = w.ask_both(o, user, rhost, tty)
        c.eq(what, b, want)
        c.note("%s: stock pam_access says %s" % (what, a))


def t_stock_syntax(w, c):
    """Lines stock pam_access accepts and that are not on ringfence's list of
    malformed input: ours must accept them and decide as stock."""
    cases = [
        ("(group)@host", "+ : (wheel)@%s : ALL\n- : ALL : ALL\n" % rftest.HOST_NAME, [], "eve", "10.1.2.3", None),
        ("(group)@.domain", "- : (vmadmins)@.lab.example.com : ALL\n", [], "alice", "10.1.2.3", None),
        ("IPv6 address ending in '::' before ALL", "+ : dave : 2001:db8:: ALL\n- : ALL : ALL\n", [], "dave",
         "10.1.2.3", None),
        ("IPv6 address ending in '::' before a host name", "- : dave : fe80:: sales.example.com\n", [], "dave",
         "10.1.2.3", None),
        ("nodns: the rhost name is still resolved for IP tokens", "- : dave : 10.1.2.0/24\n", ["nodns"], "dave",
         "ws1.lab.example.com", None),
        ("nodns: this host's name is still resolved for user@IP",
         "- : dave@10.20.30.0/24 : ALL\n", ["nodns"], "dave", "10.1.2.3", None),
        # A group is looked up by its name, as stock: a second name for the
        # GID of vmadmins matches vmadmins' members and primary members.
        ("a second group name sharing a GID", "- : vmadm-alias : ALL\n", [], "alice", "10.1.2.3", None),
        ("(group) sharing a GID with another", "- : (vmadm-alias) : ALL\n", [], "carol", "10.1.2.3", None),
    ]
    for i, (what, text, opts, user, rhost, tty) in enumerate(cases):
        conf = write(w.path("stock-syntax-%02d.conf" % i), text)
        w.sink.drain(0)
        a, b = w.ask_both(opts + ["accessfile=" + conf], user, rhost, tty)
        c.eq(what + " (same as stock)", b, a)
        errs = [m.split(": ", 1)[-1] for m in w.logs() if "error" in m]
        c.true(what + ": accepted", not errs, "; pam_ringfence logged %s" % (errs[0][:200] if errs else ""))


def fresh_peak_kb(w, svc, user, rhost):
    """One decision in a new harness process: (answer, the process's peak
    resident memory in KB). VmHWM is the peak of the process's own address
    space, so it does not count what the process had before exec."""
    h = rftest.Harness(w.env)
    try:
        answer = h.ask(rftest.request_line(svc, "sshd", user, rhost, None))
        with open("/proc/%d/status" % h.proc.pid) as f:
            hwm = [int(l.split()[1]) for l in f if l.startswith("VmHWM:")][0]
    finally:
        h.close()
    return answer, hwm


def t_fresh_memory(w, c):
    """A fresh process deciding on a 100,000-line policy: its peak resident
    memory above the same decision on a 10-line policy stays under four
    times the file's size (the compiled rules are not all kept)."""
    ours = w.env.ours
    with open(ours, "rb") as f:
        if b"__asan_init" in f.read():
            c.note("skipped: the module is built with AddressSanitizer, whose memory says nothing here")
            return
    sizes = {}
    peaks = {}
    for n in (10, 100000):
        conf = w.path("fresh-%d.conf" % n)
        # Written line by line: this process's memory stays the same for
        # both sizes, whatever the harness starts with.
        with open(conf, "w") as f:
            for i in range(n - 2):
                # None of these lets dave from 192.168.1.1 in, and none needs
                # a group lookup to say so: the walk is the compiler's.
                f.write("- : (g%d) u%d ALL EXCEPT root : 10.%d.%d.0/24 172.16.%d. .example.org\n" %
                        (i % 97, i, i % 250, i // 250 % 250, i % 200))
            f.write("+ : dave : 192.168.1.0/24\n- : ALL : ALL\n")
        os.chmod(conf, 0o644)
        sizes[n] = os.path.getsize(conf)
        svc = w.service(ours, ["accessfile=" + conf])
        answer, peaks[n] = fresh_peak_kb(w, svc, "dave", "192.168.1.1")
        c.eq("%d lines: dave allowed by the second-to-last rule" % n, answer, S)
    extra_kb = peaks[100000] - peaks[10]
    c.note("peak RSS: 10 lines %d KB, 100,000 lines %d KB (file %d KB): %.1fx the file" %
           (peaks[10], peaks[100000], sizes[100000] // 1024, extra_kb * 1024 / sizes[100000]))
    c.true("peak RSS above the 10-line decision under 4x the file's size",
           extra_kb * 1024 < 4 * sizes[100000], "%d KB more for a %d KB file" % (extra_kb, sizes[100000] // 1024))


def t_checked_stamps(w, c):
    """Checked stamps: a fresh process stamps the clean file, the next
    decides on the stamp with the same answers and log lines, and a
    same-size edit that breaks the file is refused, whatever its stamp."""
    stamps = w.path("checked-stamps")
    os.makedirs(stamps, exist_ok=True)
    os.chmod(stamps, 0o755)

    def fresh(svc, user, rhost, where):
        h = rftest.Harness(w.env, {"RINGFENCE_CHECKED_DIR": where})
        try:
            return h.ask(rftest.request_line(svc, "sshd", user, rhost, None))
        finally:
            h.close()

    conf = write(w.path("stamped.conf"), "+ : dave : 10.0.0.0/8\n- : ALL : ALL\n")
    svc = w.service(w.env.ours, ["accessfile=" + conf])
    c.eq("first decision (no stamp yet): dave allowed from 10/8", fresh(svc, "dave", "10.1.2.3", stamps), S)
    names = os.listdir(stamps)
    c.eq("one stamp written for the clean file", len(names), 1)
    stamp = os.path.join(stamps, names[0]) if names else None
    if stamp:
        text = open(stamp).read()
        c.true("the stamp names the file and the options", "file %s\n" % conf in text and
               "check access.conf fieldsep=3a listsep=2c2009 nodefgroup=0 atgroup=0\n" in text, repr(text))
        st = os.stat(stamp)
        c.true("the stamp is root's, 0644", st.st_uid == 0 and (st.st_mode & 0o777) == 0o644, oct(st.st_mode))
        inode = st.st_ino
    w.sink.drain(0)
    c.eq("on the stamp: dave allowed from 10/8", fresh(svc, "dave", "10.1.2.3", stamps), S)
    c.eq("on the stamp: dave refused from 192.0.2.9", fresh(svc, "dave", "192.0.2.9", stamps), D)
    on_stamp = w.logs()
    c.eq("without stamps: dave refused from 192.0.2.9", fresh(svc, "dave", "192.0.2.9", "off"), D)
    off = w.logs()
    strip = lambda ms: [m[m.index("pam_ringfence("):] for m in ms]  # noqa: E731
    c.eq("the same denial line on the stamp as without stamps", strip(on_stamp), strip(off))
    if stamp:
        c.eq("the stamp was believed, not written again", os.stat(stamp).st_ino, inode)
    # The same size, the same inode, the old modification time: only the
    # content differs. The stamp must not be believed: the file is invalid.
    before = os.stat(conf)
    with open(conf, "r+") as f:
        f.seek(len("+ : dave : 10.0.0.0/8\n"))
        f.write("*")
    os.utime(conf, ns=(before.st_atime_ns, before.st_mtime_ns))
    c.eq("edited in place, same size and mtime", (os.stat(conf).st_size, os.stat(conf).st_ino),
         (before.st_size, before.st_ino))
    w.sink.drain(0)
    c.eq("an invalid file under an old stamp: dave refused", fresh(svc, "dave", "10.1.2.3", stamps), D)
    c.true("the error is logged with file:line", any(conf + ":2:" in m for m in w.logs()))
    c.eq("no stamp for the invalid file", sorted(os.listdir(stamps)), sorted(names))
    # An edit within one clock tick keeps even the change time: a stamp that
    # says so about the new file in every field but the content's hash (as
    # root wrote it for the old content) must not be believed either.
    if stamp:
        now = os.stat(conf)
        fields = {"dev": "dev %d ino %d size %d" % (now.st_dev, now.st_ino, now.st_size),
                  "mtime": "mtime %d ctime %d" % (now.st_mtime_ns, now.st_ctime_ns),
                  "mode": "mode %d uid %d" % (now.st_mode, now.st_uid)}
        lines = [fields.get(l.split(" ")[0], l) for l in text.split("\n")]
        with open(stamp, "w") as f:
            f.write("\n".join(lines))
        os.chmod(stamp, 0o644)
        w.sink.drain(0)
        c.eq("a stamp with every field but the hash: dave still refused", fresh(svc, "dave", "10.1.2.3", stamps), D)
        c.true("... and the error logged", any(conf + ":2:" in m for m in w.logs()))


SECTIONS = [
    ("recipe", t_recipe),
    ("user_unknown", t_user_unknown),
    ("dropins", t_dropins),
    ("accessfile", t_accessfile),
    ("missing", t_missing),
    ("malformed", t_malformed),
    ("insecure", t_insecure),
    ("huge_group", t_huge_group),
    ("many_groups", t_many_groups),
    ("denial_log", t_denial_log),
    ("reload", t_reload),
    ("deliberate", t_deliberate),
    ("stock_syntax", t_stock_syntax),
    ("fresh_memory", t_fresh_memory),
    ("checked_stamps", t_checked_stamps),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rftest.add_common_args(ap)
    ap.add_argument("-k", dest="only", action="append", default=[], choices=[n for n, _ in SECTIONS],
                    help="run only these sections")
    args = ap.parse_args()
    if not (args.ours and args.stock and args.permit):
        ap.error("--ours, --stock and --permit are required")
    rftest.enter_namespace(sys.argv)
    env = rftest.Env(args)
    try:
        rftest.setup(env, keep=args.keep, alias_group=True, extra_users=[("hugeuser", 1100, 100)])
        return run(args, env)
    finally:
        rftest.cleanup(env)


def run(args, env):
    if not env.dev_overlay:
        rftest.log("FAIL: no overlay for /dev, cannot capture syslog")
        return 1
    sink = rftest.SyslogSink()
    w = World(env, sink)
    c = Checks()
    t0 = time.time()
    sections = [(n, f) for n, f in SECTIONS if not args.only or n in args.only]
    for name, fn in sections:
        c.section = name
        before, failed_before = c.count, len(c.failures)
        rftest.log("== %s: %s" % (name, (fn.__doc__ or "").strip().splitlines()[0]))
        try:
            fn(w, c)
        except Exception as e:  # a broken section must not hide the others
            c.failures.append("[%s] crashed: %r" % (name, e))
            rftest.log("  FAIL crashed: %r" % e)
        rftest.log("   %d checks, %d failed" % (c.count - before, len(c.failures) - failed_before))
    try:
        w.close()
    except RuntimeError as e:
        c.failures.append("harness: %s" % e)
    sink.close()
    rftest.log("")
    for f in c.failures:
        rftest.log("FAILED " + f)
    rftest.log("pam_ringfence_integration: %d sections, %d checks, %d failed (%.1fs)" % (
        len(sections), c.count, len(c.failures), time.time() - t0))
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
