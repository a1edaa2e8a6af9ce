#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Differential test: stock pam_access.so (the oracle) against pam_ringfence.so.

Generates random well-formed access.conf files and many requests, runs every
request through the real libpam with each module (pam_harness, one process
per module) and fails on any disagreement, printing the file, the request and
both answers, plus a minimised file that still disagrees.

Not generated, because they are deliberate differences (checked in
pam_ringfence_integration.py, section "deliberate"): `/0` masks, a last line
without newline, lines over 8 KiB, v4-mapped rhosts or tokens, lines that
start with blanks, blanks around items when listsep= has none, host-name
rhosts in files where stock's shared AF_INET/AF_UNSPEC lookup cache could
hide a match (see stock_cache_quirk_possible), and anything ringfence rejects
as malformed (field count, first field, empty users, misplaced EXCEPT, '#' in
tokens, bad or hex masks, trailing-dot host names). Nor are fieldsep= and
listsep= values that share a character (then the tail of the origins field
can read as a fourth, time, field). DNS is never involved: names resolve from the test's
own /etc/hosts (nsswitch "hosts: files" in the test's namespace), and
host-name tokens are never resolved (as 1.5.2). Netgroups come from the
test's /etc/netgroup.

Usage (CTest passes the paths):
  pam_access_diff.py --harness H --ours pam_ringfence.so --stock pam_access.so \
                     --nss-wrapper libnss_wrapper.so [--files 300] [--seed N]
"""

import argparse
import ipaddress
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rftest  # noqa: E402

# ---------------------------------------------------------------- the world

USER_NAMES = [u[0] for u in rftest.USERS]
GROUP_NAMES = [g[0] for g in rftest.GROUPS]
UNKNOWN_NAMES = ["nosuch", "mallory", "admins", "1000", "NONE"]

V4_HOSTS = ["10.1.2.3", "10.1.2.4", "10.1.5.7", "10.1.20.5", "192.168.1.10", "192.168.10.5", "172.16.0.9",
            "10.20.30.40", "127.0.0.1", "8.8.8.8", "10.100.1.1"]
V6_HOSTS = ["2001:db8:1::6", "2001:db8:1::7", "::1", "2001:db8:20::40", "fe80::1", "2001:db8:ffff::1",
            "2001:db8:1:2::9"]
HOST_NAMES = ["ws1.lab.example.com", "WS1.LAB.Example.COM", "ws2.lab.example.com", "ws6.lab.example.com",
              "dual.lab.example.com", "ghost.lab.example.com", "admin.corp.example.org", "tty1", "localhost",
              "rfhost.lab.example.com", "ws1", "crond"]
TTYS = ["tty1", "/dev/tty1", "tty2", "/dev/tty2", "/dev/pts/0", "pts/0", ":0", "cron", "ssh", "", "/dev/ttyS0",
        "console", "TTY1"]
SERVICES = ["sshd", "login", "crond"]

TTY_TOKENS = ["tty1", "tty2", "TTY1", "pts/0", "ttyS0", ":0", ":1", "cron", "crond", "sshd", "login", "console",
              "ssh", "/dev/tty1"]
DOMAIN_TOKENS = [".lab.example.com", ".example.com", ".LAB.EXAMPLE.COM", ".other.org", ".com", ".example.org",
                 ".lab.example"]
NAME_TOKENS = ["ws1.lab.example.com", "WS1.lab.example.com", "ws1", "dual.lab.example.com", "ghost.lab.example.com",
               "admin.corp.example.org", "tty1", "localhost", "rfhost", "rfhost.lab.example.com", "nowhere.test",
               "LOCALHOST", "sun1.lab.example.com", "web.example.org", "Fred", "monitor", "wd40.example.com"]
PREFIX_TOKENS = ["10.", "10.1.", "10.1.2.", "10.1.20.", "192.168.1.", "192.168.", "172.16.", "10.20.", "127.",
                 "192.168.10.", "8."]
V4_BASES = ["10.1.2.3", "10.1.5.7", "192.168.1.10", "172.16.0.9", "10.20.30.40", "10.1.2.4", "127.0.0.1",
            "10.1.20.5", "8.8.8.8"]
V6_BASES = ["2001:db8:1::6", "2001:db8:1::7", "::1", "2001:db8:20::40", "2001:db8::", "fe80::1", "2001:db8:1:2::9",
            "2001:db8:1::", "fe80::"]


def v6_form(rng, addr):
    """The same IPv6 address in another textual form (stock compares binary)."""
    a = ipaddress.IPv6Address(addr)
    c = rng.random()
    if c < 0.6:
        return str(a)
    if c < 0.8:
        return a.exploded
    if c < 0.9:
        return str(a).upper()
    # drop leading zeros but do not compress
    return ":".join("%x" % int(h, 16) for h in a.exploded.split(":"))


def v4_random(rng):
    return "10.1.%d.%d" % (rng.choice([2, 5, 20, rng.randrange(256)]), rng.randrange(1, 255))


def v6_random(rng):
    return "2001:db8:%x:%x::%x" % (rng.choice([1, 20, 0xffff, rng.randrange(65536)]), rng.choice([0, 2]),
                                   rng.randrange(1, 65536))


def v4_cidr(rng):
    base = rng.choice(V4_BASES + [v4_random(rng)])
    plen = rng.randint(1, 32)
    if rng.random() < 0.6:
        base = str(ipaddress.IPv4Network("%s/%d" % (base, plen), strict=False).network_address)
    if rng.random() < 0.25:
        mask = str(ipaddress.IPv4Network("0.0.0.0/%d" % plen).netmask)
        return "%s/%s" % (base, mask)
    return "%s/%d" % (base, plen)


def v6_cidr(rng):
    base = rng.choice(V6_BASES + [v6_random(rng)])
    plen = rng.choice([rng.randint(1, 128), rng.choice([16, 32, 48, 64, 96, 112, 120, 127, 128])])
    if rng.random() < 0.6:
        base = str(ipaddress.IPv6Network("%s/%d" % (base, plen), strict=False).network_address)
    return "%s/%d" % (v6_form(rng, base), plen)


# Constructs that can be left out with --exclude while a known disagreement
# is being fixed (each is a divergence of pam_ringfence, not of stock):
EXCLUDABLE = {
    "group-at-host": "(group)@host in the users field",
    "nodns": "the nodns module option",
}


class Features:
    """What a file may contain; set per file from its module options."""

    def __init__(self, fieldsep, v6_in_users, netgroups, alias_group, exclude=()):
        self.exclude = set(exclude)
        self.fieldsep = fieldsep
        self.v6_in_users = v6_in_users
        self.netgroups = netgroups
        self.alias_group = alias_group


def origin_token(rng, f):
    r = rng.random()
    if r < 0.07:
        return rng.choice(["ALL", "all"])
    if r < 0.14:
        return rng.choice(["LOCAL", "local", "Local"])
    if r < 0.26:
        return rng.choice(TTY_TOKENS)
    if r < 0.36:
        return rng.choice(DOMAIN_TOKENS)
    if r < 0.46:
        return rng.choice(NAME_TOKENS)
    if r < 0.56:
        return rng.choice(PREFIX_TOKENS)
    if r < 0.70:
        return v4_cidr(rng)
    if r < 0.78:
        return rng.choice(V4_BASES + V4_HOSTS + [v4_random(rng)])
    if r < 0.90:
        return v6_cidr(rng)
    if r < 0.96:
        return v6_form(rng, rng.choice(V6_BASES + V6_HOSTS + [v6_random(rng)]))
    if f.netgroups:
        return rng.choice(["@nghosts", "@nosuchng", "@ngusers"])
    return rng.choice(TTY_TOKENS)


def user_token(rng, f):
    r = rng.random()
    if r < 0.08:
        return rng.choice(["ALL", "all"])
    if r < 0.38:
        n = rng.choice(USER_NAMES)
        return n.upper() if rng.random() < 0.1 else n
    if r < 0.50:
        return rng.choice(GROUP_NAMES + (["vmadm-alias"] if f.alias_group else []))
    if r < 0.66:
        g = rng.choice(GROUP_NAMES + ["nosuchgrp", "VMADMINS", "1001"] + (["vmadm-alias"] if f.alias_group else []))
        return "(%s)" % g
    if r < 0.72:
        return rng.choice(UNKNOWN_NAMES)
    if r < 0.86:
        # user@host: the host part is matched against this host's name
        u = rng.choice(USER_NAMES + ["ALL", "vmadmins", "wheel"] +
                       ([] if "group-at-host" in f.exclude else ["(wheel)", "(vmadmins)"]) +
                       (["@ngusers", "@ngdomain"] if f.netgroups else []))
        h = rng.choice([rftest.HOST_NAME, rftest.HOST_NAME.upper(), "rfhost", ".lab.example.com", ".example.com",
                        ".other.org", "ALL", "10.20.", "10.21.", "10.20.30.0/24", "10.21.0.0/16", "10.20.30.40",
                        "ws1.lab.example.com"] + (["@nghere", "@nghosts"] if f.netgroups else []))
        if f.v6_in_users and rng.random() < 0.3:
            h = rng.choice(["2001:db8:20::/48", "2001:db8:21::/48", "2001:db8:20::40"])
        return "%s@%s" % (u, h)
    if f.netgroups:
        return rng.choice(["@vmadmins", "@ngusers", "@ngdomain", "@ngnested", "@nosuchng", "@@nghere", "@@ngusers"])
    return rng.choice(USER_NAMES)


def token_parts(rng, f, make):
    """Tokens of one field as EXCEPT parts: [[A...], [B...], [C...]] means
    A EXCEPT B EXCEPT C."""
    parts = [[make(rng, f) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))]]
    while len(parts) < 3 and rng.random() < 0.3:
        parts.append([make(rng, f) for _ in range(rng.choice([1, 1, 2]))])
    return parts


class Line:
    """One generated line. Kept as structure (not text) so that a failing
    file can be minimised without ever becoming malformed."""

    def __init__(self, raw=None, perm=None, users=None, origins=None, style=None):
        self.raw = raw            # comment or blank line, verbatim
        self.perm = perm
        self.users = users        # list of parts, each a list of tokens
        self.origins = origins
        self.style = style        # seed for separators and spacing

    def render(self, fieldsep, listsep):
        if self.raw is not None:
            return self.raw
        rng = random.Random(self.style)

        def join(parts):
            toks = []
            for i, p in enumerate(parts):
                if i:
                    toks.append(rng.choice(["EXCEPT", "except", "Except"]))
                toks.extend(p)
            if listsep is None:
                seps = [", ", ",", " ", "\t", "  ", " , ", ",\t"]
            elif listsep == ", ":
                seps = [", ", ",", " ", "  "]
            else:
                seps = list(listsep)
            out = toks[0]
            for t in toks[1:]:
                out += rng.choice(seps) + t
            return out

        if listsep is None:
            seps = [" %s " % fieldsep, fieldsep, " %s\t" % fieldsep, "\t%s " % fieldsep, "%s " % fieldsep]
        elif listsep == ", ":
            seps = [" %s " % fieldsep, fieldsep, "%s " % fieldsep, " %s" % fieldsep]
        else:
            seps = [fieldsep]  # blanks would be part of the tokens
        a, b = rng.choice(seps), rng.choice(seps)
        text = self.perm + a + join(self.users) + b + join(self.origins)
        if listsep is None and rng.random() < 0.1:
            text += rng.choice([" ", "\t", "  ", "\r"])
        return text


def make_line(rng, f):
    return Line(perm=rng.choice("+-"), users=token_parts(rng, f, user_token),
                origins=token_parts(rng, f, origin_token), style=rng.randrange(1 << 30))


def make_lines(rng, f):
    lines = []
    for _ in range(rng.randint(3, 18)):
        r = rng.random()
        if r < 0.08:
            lines.append(Line(raw="# " + rng.choice(["comment", "- : ALL : ALL", "+:root:ALL"])))
        elif r < 0.12:
            lines.append(Line(raw=""))
        else:
            lines.append(make_line(rng, f))
    if rng.random() < 0.4:
        lines.append(Line(perm="-", users=[["ALL"]], origins=[["ALL"]], style=rng.randrange(1 << 30)))
    return lines


def render(lines, fieldsep, listsep):
    return "".join(l.render(fieldsep, listsep) + "\n" for l in lines)


def make_options(rng, exclude=()):
    """Module options (same for both modules) and the matching features."""
    opts = ["noaudit"]  # never write to the host's audit log
    fieldsep, fieldsep_set, listsep = ":", ":", None
    r = rng.random()
    if r < 0.12:
        fieldsep = fieldsep_set = "|"
        opts.append("fieldsep=|")
    elif r < 0.16:
        fieldsep, fieldsep_set = ";", ";:"
        opts.append("fieldsep=;:")
    r = rng.random()
    if r < 0.08:
        listsep = ","
        opts.append("listsep=,")
    elif r < 0.12 and ";" not in fieldsep_set:
        listsep = ",;"
        opts.append("listsep=,;")
    elif r < 0.16:
        listsep = ", "
        opts.append("[listsep=, ]")
    for o, p in (("nodefgroup", 0.3), ("debug", 0.04), ("quiet_log", 0.1), ("nodns", 0.1)):
        if rng.random() < p and o not in exclude:
            opts.append(o)
    rng.shuffle(opts)
    return opts, fieldsep, fieldsep_set, listsep


def stock_cache_quirk_possible(lines):
    """True if stock's shared getaddrinfo cache can hide a match in this file.

    Stock resolves a host-name rhost once per request and keeps the first
    answer: AF_INET only if a "10.1." prefix token asks first, so a later
    IPv6 token or address never matches that host (and nothing matches after
    a failed AF_INET lookup of an IPv6-only host). pam_ringfence does what the
    admin wrote; the difference is tested in pam_ringfence_integration.py,
    and such files get no host-name rhosts here."""
    toks = [t for l in lines if l.raw is None for p in l.origins for t in p]
    prefix = any(t.endswith(".") and t[0].isdigit() for t in toks)
    v6 = any(":" in t and not (t.startswith(":") and t[1:].replace(".", "").isdigit()) for t in toks)
    return prefix and v6


def make_request(rng, host_names=True):
    r = rng.random()
    if r < 0.01:
        user = None   # no PAM_USER: pam_get_user asks the conversation, which fails
    elif r < 0.02:
        user = ""
    else:
        user = rng.choice(USER_NAMES * 3 + UNKNOWN_NAMES[:2] + ["DAVE"])
    service = rng.choice(SERVICES)
    r = rng.random()
    rhost = tty = None
    if not host_names and 0.40 <= r < 0.60:
        r = rng.random() * 0.40
    if r < 0.25:
        rhost = rng.choice(V4_HOSTS + [v4_random(rng)])
    elif r < 0.40:
        rhost = v6_form(rng, rng.choice(V6_HOSTS + [v6_random(rng)]))
    elif r < 0.60:
        rhost = rng.choice(HOST_NAMES)
    elif r < 0.65:
        rhost = ""
    if rhost is None or rhost == "" or rng.random() < 0.2:
        if rng.random() < 0.85:
            tty = rng.choice(TTYS)
    r = rng.random()
    if r < 0.85:
        ops = "acct"
    elif r < 0.95:
        ops = rng.choice(["auth", "open", "close", "chauthtok", "acct,gettty"])
    else:
        ops = "auth,setcred,acct,open,close"
    return service, user, rhost, tty, ops


# ---------------------------------------------------------------- running


class Case:
    def __init__(self, idx, lines, options, fieldsep, listsep):
        self.idx = idx
        self.lines = lines
        self.options = options
        self.fieldsep = fieldsep
        self.listsep = listsep
        self.text = render(lines, fieldsep, listsep)
        self.requests = []

    def variant(self, idx, lines):
        return Case(idx, lines, self.options, self.fieldsep, self.listsep)


def write_case(env, case, sub="cases"):
    d = os.path.join(env.workdir, sub, "%04d" % case.idx)
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "access.conf")
    rftest.write_file(conf, case.text)
    opts = case.options + ["accessfile=" + conf]
    rftest.write_service_dir(os.path.join(d, "stock"), env.stock, opts)
    rftest.write_service_dir(os.path.join(d, "ours"), env.ours, opts)
    return d


def lines_for(case, d, which):
    return [rftest.request_line(os.path.join(d, which), *r) for r in case.requests]


def show_request(r):
    service, user, rhost, tty, ops = r
    return "service=%s user=%r rhost=%r tty=%r ops=%s" % (service, user, rhost, tty, ops)


def numbered(text):
    return "".join("    %3d| %s\n" % (i + 1, l.replace("\t", "\\t").replace("\r", "\\r"))
                   for i, l in enumerate(text.split("\n")[:-1]))


def smaller_lines(lines):
    """Candidates one step smaller than `lines`, all still well-formed:
    a line dropped, an EXCEPT part dropped, or one token dropped."""
    for i in range(len(lines)):
        yield lines[:i] + lines[i + 1:]
    for i, l in enumerate(lines):
        if l.raw is not None:
            continue
        for field in ("users", "origins"):
            parts = getattr(l, field)
            for pi in range(len(parts)):
                if pi > 0:
                    n = Line(perm=l.perm, users=l.users, origins=l.origins, style=l.style)
                    setattr(n, field, parts[:pi] + parts[pi + 1:])
                    yield lines[:i] + [n] + lines[i + 1:]
                if len(parts[pi]) > 1:
                    for ti in range(len(parts[pi])):
                        np = [list(p) for p in parts]
                        del np[pi][ti]
                        n = Line(perm=l.perm, users=l.users, origins=l.origins, style=l.style)
                        setattr(n, field, np)
                        yield lines[:i] + [n] + lines[i + 1:]


def minimise(env, stock_h, ours_h, case, req, counter):
    """Shrinks the file while the two modules still disagree on `req`."""

    def answers(c):
        d = write_case(env, c, "minimise")
        return (stock_h.ask(rftest.request_line(os.path.join(d, "stock"), *req)),
                ours_h.ask(rftest.request_line(os.path.join(d, "ours"), *req)))

    best = case
    progress = True
    while progress:
        progress = False
        for cand in smaller_lines(best.lines):
            counter[0] += 1
            c = case.variant(100000 + counter[0], cand)
            a, b = answers(c)
            if a != b:
                best = c
                progress = True
                break
    return best, answers(best)


def ours_diagnostics(env, case, req, sink):
    """What pam_ringfence logs for this file and request (policy errors)."""
    if sink is None:
        return []
    sink.drain()
    d = write_case(env, case.variant(200000 + case.idx, case.lines), "diagnose")
    rftest.run_batch(env, [rftest.request_line(os.path.join(d, "ours"), *req)])
    return [m.split(": ", 1)[-1] for m in sink.drain() if "pam_ringfence(" in m]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rftest.add_common_args(ap)
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--requests", type=int, default=24, help="requests per file")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--show", type=int, default=5, help="disagreements to print in full")
    ap.add_argument("--alias-group", action="store_true",
                    help="also generate a group that shares its GID with another")
    ap.add_argument("--exclude", action="append", default=[], choices=sorted(EXCLUDABLE),
                    help="leave out a construct with a known disagreement: " +
                    "; ".join("%s = %s" % kv for kv in sorted(EXCLUDABLE.items())))
    args = ap.parse_args()
    if not args.ours or not args.stock:
        ap.error("--ours and --stock are required")
    rftest.enter_namespace(sys.argv)

    # A fixed seed by default (reproducible CI); RINGFENCE_DIFF_SEED=random
    # or a number overrides it.
    seed = args.seed
    if seed is None:
        env_seed = os.environ.get("RINGFENCE_DIFF_SEED", "20261123")
        seed = random.SystemRandom().randrange(1, 2 ** 31) if env_seed == "random" else int(env_seed)
    env = rftest.Env(args)
    try:
        rftest.setup(env, keep=args.keep, alias_group=args.alias_group)
        return run(args, env, seed)
    finally:
        rftest.cleanup(env)


def run(args, env, seed):
    rng = random.Random(seed)
    rftest.log("pam_access_diff: seed %d (rerun with --seed %d), stock %s, ours %s" % (seed, seed, env.stock, env.ours))
    if not env.netgroups:
        rftest.log("pam_access_diff: netgroups not covered (no overlayfs for /etc/netgroup)")

    t0 = time.time()
    cases = []
    for idx in range(args.files):
        opts, fieldsep, fieldsep_set, listsep = make_options(rng, args.exclude)
        f = Features(fieldsep, ":" not in fieldsep_set, env.netgroups, args.alias_group, args.exclude)
        case = Case(idx, make_lines(rng, f), opts, fieldsep, listsep)
        names = not stock_cache_quirk_possible(case.lines)
        case.requests = [make_request(rng, names) for _ in range(args.requests)]
        cases.append(case)

    stock_lines, ours_lines = [], []
    for case in cases:
        d = write_case(env, case)
        stock_lines += lines_for(case, d, "stock")
        ours_lines += lines_for(case, d, "ours")

    results = {}

    def run(name, lines):
        results[name] = rftest.run_batch(env, lines)

    threads = [threading.Thread(target=run, args=("stock", stock_lines)),
               threading.Thread(target=run, args=("ours", ours_lines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if "stock" not in results or "ours" not in results:
        rftest.log("FAIL: a harness run did not finish")
        return 1
    # Again, in a new process: as root the first run stamped every clean
    # file (RINGFENCE_CHECKED_DIR), so each file's first decision is now
    # made on checked stamps, compiling only what it needs. Same answers.
    run("ours-again", ours_lines)
    stamped = os.environ.get("RINGFENCE_CHECKED_DIR", "")
    if os.geteuid() == 0 and stamped and stamped != "off":
        names = os.listdir(stamped) if os.path.isdir(stamped) else []
        if not names:
            rftest.log("FAIL: no checked stamp was written to %s" % stamped)
            return 1
    again = [(k, a, b) for k, (a, b) in enumerate(zip(results["ours"], results.get("ours-again", [])))
             if a != b]
    if "ours-again" not in results or len(results["ours-again"]) != len(results["ours"]) or again:
        for k, a, b in again[:5]:
            rftest.log("ON STAMPS DIFFERENT: decision %d: %s, then on checked stamps %s" % (k, a, b))
        rftest.log("FAIL: decisions on checked stamps differ from the first ones (%d)" % len(again))
        return 1

    failures = []
    k = 0
    hooks = 0
    for case in cases:
        for r in case.requests:
            a, b = results["stock"][k], results["ours"][k]
            hooks += len(r[4].split(","))
            if a.startswith("HARNESS_ERROR") or b.startswith("HARNESS_ERROR"):
                failures.append((case, r, a, b))
            elif a != b:
                failures.append((case, r, a, b))
            k += 1
    elapsed = time.time() - t0

    outcome = {}
    for a in results["stock"]:
        for code in a.split(","):
            outcome[code] = outcome.get(code, 0) + 1
    rftest.log("pam_access_diff: stock answers: %s" % ", ".join("%s=%d" % kv for kv in sorted(outcome.items())))

    if failures:
        sink = rftest.SyslogSink() if env.dev_overlay else None
        stock_h, ours_h = rftest.Harness(env), rftest.Harness(env)
        counter = [0]
        shown = set()
        for case, r, a, b in failures:
            if len(shown) >= args.show:
                break
            if case.idx in shown:
                continue
            shown.add(case.idx)
            rftest.log("\nDISAGREEMENT in file %04d, options: %s" % (case.idx, " ".join(case.options)))
            rftest.log(numbered(case.text).rstrip("\n"))
            rftest.log("  request: " + show_request(r))
            rftest.log("  stock pam_access: %s\n  pam_ringfence:    %s" % (a, b))
            try:
                small, (ma, mb) = minimise(env, stock_h, ours_h, case, r, counter)
                rftest.log("  minimised file (stock %s, ours %s):" % (ma, mb))
                rftest.log(numbered(small.text).rstrip("\n"))
                for m in ours_diagnostics(env, small, r, sink):
                    rftest.log("  pam_ringfence logged: " + m)
            except RuntimeError as e:
                rftest.log("  (could not minimise: %s)" % e)
        stock_h.close()
        ours_h.close()
        if sink:
            sink.close()
        rftest.log("\npam_access_diff: %d files, %d decisions (%d hook calls), %d DISAGREE (seed %d, %.1fs)" % (
            len(cases), len(stock_lines), hooks, len(failures), seed, elapsed))
        return 1
    rftest.log("pam_access_diff: %d files, %d decisions (%d hook calls), all agree (seed %d, %.1fs)" % (
        len(cases), len(stock_lines), hooks, seed, elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
