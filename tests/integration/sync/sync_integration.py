#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""`ringfence sync` against real HTTPS servers on loopback, with the real
ringfence-firewall applying real netfilter rules, all inside private mount,
network and PID namespaces (tests/integration/firewall/fwnet.py): /etc and
/var/lib are overlays whose changes vanish with the test, the ruleset is the
sandbox's own. Nothing reaches the host's files or firewall.

Groups (one ctest each):
  fetch    the transport: a good feed, 304 without a reload, and a feed
           behind each broken server (endless body, silent server, redirect
           to http://, another CA, wrong pinned key, 500, 404)
  feeds    the content: junk lines, 500,000 lines, /0, the management
           network, loopback, the never list, this host's address, an SSH
           session's source, Spamhaus DROP with Expires
  bundle   signed bundles: install, tampered file, truncated signature,
           wrong key, replayed older serial, expired, wrong scope, an
           access.conf with a syntax error, rollback, key rotation
  minisign the formats against the real minisign tool (skipped without it)

Every bad input must leave the host exactly as it was (policy files byte
for byte, the feed caches, the ruleset) and say why in one line.
"""

import argparse
import base64
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "firewall"))
sys.path.insert(0, HERE)
import fwnet  # noqa: E402
import synclab  # noqa: E402

SKIP = 77
FAILS = []


def log(*a):
    print(*a, flush=True)


def check(cond, what, detail=None):
    if cond:
        log("ok   " + what)
    else:
        log("FAIL " + what + ("\n     " + str(detail).replace("\n", "\n     ") if detail else ""))
        FAILS.append(what)
    return cond


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(text, bytes) else "w") as f:
        f.write(text)
    os.chmod(path, mode)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def private_tree():
    """/etc and /var/lib become overlays on a tmpfs: writable here, the
    host's copies untouched; lo comes up."""
    base = tempfile.mkdtemp(prefix="rf-sync-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700", "rf-sync", base], check=True)
    for d in ("/etc", "/var/lib"):
        tag = d.strip("/").replace("/", "-")
        up, wk = os.path.join(base, tag + "-up"), os.path.join(base, tag + "-wk")
        os.makedirs(up)
        os.makedirs(wk)
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        "lowerdir=%s,upperdir=%s,workdir=%s" % (d, up, wk), d], check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    work = os.path.join(base, "work")
    os.makedirs(work)
    return work


class World:
    def __init__(self, args):
        self.args = args
        self.work = private_tree()
        self.www = os.path.join(self.work, "www")
        os.makedirs(self.www)
        ca_key, self.ca = synclab.make_ca(self.work, "ca")
        key, crt = synclab.make_server_cert(self.work, "server", ca_key, self.ca)
        self.server_crt = crt
        other_key, other_ca = synclab.make_ca(self.work, "other")
        okey, ocrt = synclab.make_server_cert(self.work, "otherserver", other_key, other_ca)
        self.https = synclab.HttpsServer(self.www, key, crt, {
            "/endless.txt": "endless", "/e500.txt": 500,
            "/redirect.txt": ("redirect", "http://127.0.0.1:9/feed.txt")})
        self.other = synclab.HttpsServer(self.www, okey, ocrt)
        self.silent = synclab.SilentServer()
        self.syslog = fwnet.SyslogSink.start()
        self.key = synclab.MinisignKey(self.work, "k1")
        self.key2 = synclab.MinisignKey(self.work, "k2")
        for d in ("/etc/ringfence", "/etc/security", "/var/lib/ringfence"):
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
        write("/etc/hosts.allow", "")
        write("/etc/hosts.deny", "")
        write("/etc/security/access.conf", "+ : root : LOCAL\n- : ALL : ALL\n")

    def firewall_conf(self, feed_url, fmt="plain", extra=""):
        write("/etc/ringfence/firewall.conf",
              "policy in drop\n"
              "service ssh tcp/22\n"
              "allow in ssh from 10.9.0.0/24\n"
              "never 192.0.2.1\n"
              "set block url %s every 1h format %s max 100000\n"
              "deny in from block\n%s" % (feed_url, fmt, extra))

    def sync_conf(self, extra=""):
        write("/etc/ringfence/sync.conf", "ca-file %s\ntimeout 3s\nmax-bytes 2000000\nhost console1\n%s"
              % (self.ca, extra))

    def run(self, *args, timeout=120):
        t0 = time.monotonic()
        r = subprocess.run([self.args.ringfence, "sync"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        r.seconds = time.monotonic() - t0
        return r

    def ruleset(self):
        out = []
        for cmd in (["nft", "list", "ruleset"], ["iptables-save"], ["ip6tables-save"], ["ipset", "save"]):
            if shutil.which(cmd[0]):
                r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                # Without packet counters: the HTTPS traffic of the test itself moves them.
                text = re.sub(r"counter packets \d+ bytes \d+|\[\d+:\d+\]", "", r.stdout)
                out.append("\n".join(l for l in text.splitlines() if not l.startswith("#")))
        return "\n".join(out)

    def snapshot(self):
        files = {}
        for top in ("/etc/ringfence", "/etc/security", "/var/lib/ringfence/feeds"):
            for d, _, names in os.walk(top):
                for n in names:
                    p = os.path.join(d, n)
                    files[p] = hashlib.sha256(read(p)).hexdigest()
        for p in ("/etc/hosts.allow", "/etc/hosts.deny"):
            files[p] = hashlib.sha256(read(p) or b"").hexdigest()
        return files, self.ruleset()


def unchanged(world, before, title, r, want_rc, words):
    after = world.snapshot()
    err = r.stderr.strip().splitlines()
    why = [l for l in err if l.startswith("ringfence sync:")]
    check(r.returncode == want_rc, "%s: exit status %d" % (title, want_rc),
          "got %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    check(after[0] == before[0], title + ": files byte for byte as before",
          [k for k in set(after[0]) | set(before[0]) if after[0].get(k) != before[0].get(k)])
    check(after[1] == before[1], title + ": ruleset as before")
    check(len(why) == 1 and all(w in why[0] for w in words), "%s: one line says why (%s)" % (title, ", ".join(words)),
          r.stderr)


# ---------------------------------------------------------------------------


def group_fetch(world):
    write(os.path.join(world.www, "feed.txt"), "# test feed\n198.51.100.0/24\n203.0.113.7\n2001:db8:bad::/48\n")
    world.firewall_conf(world.https.url("feed.txt"))
    world.sync_conf()
    r = world.run("--force")
    check(r.returncode == 0, "good feed: exit 0", r.stdout + r.stderr)
    check("loaded 3 entries" in r.stdout, "good feed: loaded 3 entries", r.stdout)
    rules = world.ruleset()
    check("198.51.100.0/24" in rules and "203.0.113.7" in rules and "2001:db8:bad::/48" in rules,
          "good feed: the addresses are in the live set", rules[-2000:])
    cache = read("/var/lib/ringfence/feeds/block.list") or b""
    check(b"198.51.100.0/24" in cache, "good feed: last good list written")

    # A changed feed: sync applies it through the firewall library, which
    # loads the set members alone; ringfence-firewall status stays in sync.
    feed = os.path.join(world.www, "feed.txt")
    for text, gone, new in (("198.51.100.0/24\n203.0.113.8\n2001:db8:bad::/48\n", "203.0.113.7", "203.0.113.8"),
                            ("# test feed\n198.51.100.0/24\n203.0.113.7\n2001:db8:bad::/48\n", "203.0.113.8",
                             "203.0.113.7")):
        write(feed, text)
        if world.syslog:
            world.syslog.take()
        r = world.run("--force")
        check(r.returncode == 0 and "loaded 3 entries" in r.stdout, "changed feed: loaded", r.stdout + r.stderr)
        rules = world.ruleset()
        check(new in rules and gone not in rules, "changed feed: %s in the live set, %s gone" % (new, gone))
        if world.syslog:
            said = world.syslog.take()
            check(any("set members only" in l for l in said), "changed feed: the set members alone were loaded",
                  said)
        st = subprocess.run([world.args.fw, "status"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        check(st.returncode == 0 and "in sync" in st.stdout, "changed feed: ringfence-firewall status in sync",
              st.stdout)

    # 304: no reload. The firewall's active state is not rewritten.
    active = "/var/lib/ringfence/firewall/active.bundle"

    def stamp():
        try:
            st = os.stat(active)
            return st.st_ino, st.st_mtime_ns
        except FileNotFoundError:
            return None

    before = stamp()
    n = len(world.https.requests)
    r = world.run("--force")
    check(r.returncode == 0 and "not modified" in r.stdout, "304: exit 0, says not modified", r.stdout + r.stderr)
    sent = world.https.requests[n][1] if len(world.https.requests) > n else {}
    check("If-None-Match" in sent and "If-Modified-Since" in sent, "304: validators sent", sent)
    check(before is not None and stamp() == before, "304: no firewall reload")
    check(r.seconds < 5, "304: quick (%.3f s)" % r.seconds)
    r = world.run()
    check(r.returncode == 0 and "not due" in r.stdout, "not due within 'every': no fetch", r.stdout)

    cases = [
        ("endless response", world.https.url("endless.txt"), 3, ["larger than"]),
        ("server that never answers", world.silent.url("feed.txt"), 3, ["timed out"]),
        ("redirect to plain HTTP", world.https.url("redirect.txt"), 3, ["not https://"]),
        ("certificate from another CA", world.other.url("feed.txt"), 3, ["certificate"]),
        ("HTTP 500", world.https.url("e500.txt"), 3, ["HTTP status 500"]),
        ("HTTP 404", world.https.url("missing.txt"), 3, ["HTTP status 404"]),
    ]
    for title, url, rc, words in cases:
        world.firewall_conf(url)
        before = world.snapshot()
        r = world.run("--force", timeout=90)
        unchanged(world, before, title, r, rc, words + ["keeping the last good list"])
        if title == "server that never answers":
            check(r.seconds < 60, "never-answering server: gave up in %.1f s" % r.seconds)
    # A pinned key that is not the server's.
    world.firewall_conf(world.https.url("feed.txt"))
    write(os.path.join(world.www, "feed.txt"), "198.51.100.99\n")
    world.sync_conf("pin sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    before = world.snapshot()
    unchanged(world, before, "wrong pinned key", world.run("--force"), 3, ["pinned public key", "keeping the last good list"])
    # The server's own key pinned: accepted.
    der = subprocess.run("openssl x509 -in %s -pubkey -noout | openssl pkey -pubin -outform DER" % world.server_crt,
                         shell=True, stdout=subprocess.PIPE, check=True).stdout
    pin = base64.b64encode(hashlib.sha256(der).digest()).decode()
    world.sync_conf("pin sha256//%s\n" % pin)
    r = world.run("--force")
    check(r.returncode == 0 and "loaded 1 entries" in r.stdout, "the server's own key pinned: loaded",
          r.stdout + r.stderr)
    # Only https:// is accepted in the policy itself.
    world.firewall_conf("http://127.0.0.1/feed.txt")
    r = subprocess.run([world.args.fw, "check", "/etc/ringfence/firewall.conf"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check(r.returncode != 0 and "not an https:// URL" in r.stdout, "firewall.conf: an http:// feed is an error",
          r.stdout)


def group_feeds(world):
    world.sync_conf("max-bytes 16000000\n")
    feed = os.path.join(world.www, "feed.txt")
    world.firewall_conf(world.https.url("feed.txt"))
    write(feed, "198.51.100.0/24\n")
    r = world.run("--force")
    check(r.returncode == 0, "first good list loaded", r.stdout + r.stderr)

    # An SSH session from a client namespace to port 22 here.
    client = fwnet.Netns("client")
    subprocess.run(["ip", "link", "add", "rfs0", "type", "veth", "peer", "name", "rfs1"], check=True)
    subprocess.run(["ip", "link", "set", "rfs1", "netns", str(client.holder.pid)], check=True)
    subprocess.run(["ip", "addr", "add", "10.20.0.1/24", "dev", "rfs0"], check=True)
    subprocess.run(["ip", "link", "set", "rfs0", "up"], check=True)
    client.run(["ip", "addr", "add", "10.20.0.2/24", "dev", "rfs1"])
    client.run(["ip", "link", "set", "rfs1", "up"])
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("10.20.0.1", 22))
    lsock.listen(1)
    # The firewall (policy in drop) lets only 10.9.0.0/24 reach ssh: the
    # session is made before the policy is loaded here, as a live session
    # would be, and it stays up (established).
    subprocess.run([world.args.fw, "flush"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn = client.popen([sys.executable, "-c", "import socket,time\ns=socket.create_connection(('10.20.0.1',22))\n"
                         "print('up',flush=True)\ntime.sleep(600)"], stdout=subprocess.PIPE, text=True)
    conn.stdout.readline()
    peer, _ = lsock.accept()
    world.run("--force")  # the ruleset back (nothing changed in the feed: reload once)
    write(feed, "198.51.100.0/24\n")
    subprocess.run([world.args.fw, "apply", "/etc/ringfence/firewall.conf"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)

    big = "".join("10.%d.%d.%d\n" % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(500000))
    junk = "198.51.100.1\nthis is not an address\n"
    cases = [
        ("feed with junk lines", "plain", junk, ["line 2", "not an address"]),
        ("feed of 500,000 lines", "plain", big, ["more than 100000 entries"]),
        ("feed that lists 0.0.0.0/0", "plain", "198.51.100.1\n0.0.0.0/0\n", ["lists every address"]),
        ("feed that lists the management network", "plain", "10.9.0.0/16\n", ["management network"]),
        ("feed that lists loopback", "plain", "127.0.0.1\n", ["loopback"]),
        ("feed that lists a never address", "plain", "192.0.2.0/24\n", ["never list"]),
        ("feed that lists this host's address", "plain", "10.20.0.1\n", ["address of this host"]),
        ("feed that lists an SSH session's source", "plain", "10.20.0.2\n", ["SSH session"]),
        ("empty feed", "plain", "# nothing\n", ["no entries"]),
        ("expired Spamhaus list", "spamhaus", "; Expires: Mon, 01 Jan 2024 00:00:00 GMT\n198.51.100.0/24 ; SBL1\n",
         ["expired"]),
        ("Spamhaus line without SBL", "spamhaus", "198.51.100.1/32\n", ["SBLnnn"]),
    ]
    for title, fmt, text, words in cases:
        world.firewall_conf(world.https.url("feed.txt"), fmt)
        write(feed, text)
        before = world.snapshot()
        r = world.run("--force")
        unchanged(world, before, title, r, 4, words + ["refused", "keeping the last good list"])
    # The blocklist in effect, with real packets: 10.20.0.3 is listed,
    # 10.20.0.2 (the SSH client) is not; both try tcp/8080 here.
    client.run(["ip", "addr", "add", "10.20.0.3/24", "dev", "rfs1"])
    web = socket.socket()
    web.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    web.bind(("10.20.0.1", 8080))
    web.listen(16)
    threading.Thread(target=lambda: [web.accept()[0].close() for _ in range(100)], daemon=True).start()
    world.firewall_conf(world.https.url("feed.txt"), extra="allow in tcp/8080\n")
    write(feed, "10.20.0.3\n198.51.100.0/24\n")
    r = world.run("--force")
    check(r.returncode == 0 and "loaded 2 entries" in r.stdout, "feed listing 10.20.0.3 loaded", r.stdout + r.stderr)
    probe = ("import socket,sys\ns=socket.socket()\ns.bind((sys.argv[1],0))\ns.settimeout(2)\n"
             "try:\n s.connect(('10.20.0.1',8080)); print('open')\nexcept socket.timeout: print('timeout')\n"
             "except OSError as e: print('error', e)\n")
    got = {src: client.run([sys.executable, "-c", probe, src]).stdout.strip() for src in ("10.20.0.2", "10.20.0.3")}
    check(got == {"10.20.0.2": "open", "10.20.0.3": "timeout"},
          "packets: the listed address is dropped, the other gets through", got)
    conn.kill()
    client.close()

    world.firewall_conf(world.https.url("feed.txt"), "spamhaus")
    write(feed, "; Spamhaus DROP List\n; Expires: Fri, 01 Jan 2100 00:00:00 GMT\n"
                "198.51.100.0/24 ; SBL1\n203.0.113.0/25 ; SBL2\n")
    r = world.run("--force")
    check(r.returncode == 0 and "loaded 2 entries" in r.stdout, "Spamhaus DROP list loaded", r.stdout + r.stderr)
    check("203.0.113.0/25" in world.ruleset(), "Spamhaus entries in the live set")
    r = subprocess.run([world.args.ringfence, "sync", "--status"], stdout=subprocess.PIPE, text=True)
    check(r.returncode == 0 and "SYNC OK" in r.stdout, "status: OK after a good fetch", r.stdout)
    world.sync_conf("stale 1s\n")
    time.sleep(2.1)
    r = subprocess.run([world.args.ringfence, "sync", "--status"], stdout=subprocess.PIPE, text=True)
    check(r.returncode == 1 and "feed block stale" in r.stdout, "status: WARNING, stale past the threshold",
          r.stdout)


ACCESS_OK = b"+ : root : LOCAL\n+ : @admins : 10.9.0.0/24\n- : ALL : ALL\n"
FIREWALL_OK = b"policy in drop\nservice ssh tcp/22\nallow in ssh from 10.9.0.0/24\ndeny in from bad\n" \
              b"set bad file sets/bad.list\n"


def bundle_files(serial):
    fw = FIREWALL_OK.replace(b"deny in from bad\nset bad file sets/bad.list\n",
                             b"set bad file sets/bad.list\ndeny in from bad\n")
    return {"access.conf": ACCESS_OK, "hosts.allow": b"sshd: 10.9.0.\n", "firewall.conf": fw,
            "sets/bad.list": b"198.51.100.%d\n" % serial}


def group_bundle(world):
    world.sync_conf("bundle %s\nkey %s\n" % (world.https.url("bundle/"), world.key.public_line()))
    write("/etc/ringfence/firewall.conf", "policy in accept\n")

    def publish(serial, files=None, key=None, **kw):
        files = files or bundle_files(serial)
        man = synclab.manifest(serial, files, **kw)
        shutil.rmtree(os.path.join(world.www, "bundle"), ignore_errors=True)
        synclab.publish(world.www, files, man, (key or world.key).sign(man.encode()))
        return files, man

    files, _ = publish(5)
    r = world.run()
    check(r.returncode == 0 and "serial 5 installed" in r.stdout, "good bundle installed", r.stdout + r.stderr)
    check(read("/etc/security/access.conf") == ACCESS_OK and read("/etc/ringfence/sets/bad.list") == b"198.51.100.5\n",
          "good bundle: files in place")
    check("198.51.100.5" in world.ruleset(), "good bundle: firewall applied")
    r = world.run()
    check(r.returncode == 0 and "nothing to do" in r.stdout, "same serial again: nothing to do", r.stdout + r.stderr)

    def bad(title, words, prepare):
        prepare()
        before = world.snapshot()
        unchanged(world, before, title, world.run(), 4, ["bundle refused", "nothing changed"] + words)

    def tampered():
        publish(6)
        write(os.path.join(world.www, "bundle", "access.conf"), ACCESS_OK + b"+ : ALL : ALL\n")

    def truncated():
        publish(6)
        p = os.path.join(world.www, "bundle", "MANIFEST.minisig")
        write(p, read(p)[:90])

    def stale_sig():
        _, man = publish(6)
        write(os.path.join(world.www, "bundle", "MANIFEST"), man.replace("serial 6", "serial 60"))

    def broken_access():
        f = bundle_files(6)
        f["access.conf"] = b"+ : root\n"
        publish(6, f)

    bad("tampered file", ["access.conf does not match its SHA-256"], tampered)
    bad("truncated signature", ["truncated"], truncated)
    bad("manifest changed after signing", ["does not match"], stale_sig)
    bad("wrong key", ["not a trusted key"], lambda: publish(6, key=world.key2))
    bad("replayed older bundle", ["serial 4 is not above the installed serial 5"], lambda: publish(4))
    bad("expired manifest", ["expired"], lambda: publish(6, issued=int(time.time()) - 7200,
                                                          expires=int(time.time()) - 3600))
    bad("wrong scope", ["does not name this host"], lambda: publish(6, scope="console2 @other"))
    bad("access.conf with a syntax error", ["bundle:access.conf:1"], broken_access)

    def broken_hosts():
        f = bundle_files(6)
        f["hosts.allow"] = b"sshd 10.9.0.\n"
        publish(6, f)

    bad("hosts.allow with a syntax error", ["bundle:hosts.allow:1"], broken_hosts)

    # Key rotation: the next key is trusted next to the current one.
    world.sync_conf("bundle %s\nkey %s\nkey %s\n" % (world.https.url("bundle/"), world.key.public_line(),
                                                       world.key2.public_line()))
    publish(7, key=world.key2, scope="console2 @site")
    with open("/etc/ringfence/sync.conf", "a") as f:
        f.write("group site\n")
    r = world.run()
    check(r.returncode == 0 and "serial 7 installed" in r.stdout, "second key and @group scope: installed",
          r.stdout + r.stderr)
    check("198.51.100.7" in world.ruleset() and "198.51.100.5" not in world.ruleset(), "serial 7 in the ruleset")
    r = world.run("--rollback")
    check(r.returncode == 0, "rollback: exit 0", r.stdout + r.stderr)
    check(read("/etc/ringfence/sets/bad.list") == b"198.51.100.5\n" and "198.51.100.5" in world.ruleset(),
          "rollback: serial 5's files and ruleset are back")
    r = world.run()
    check(r.returncode == 4 or "nothing to do" in r.stdout, "after rollback the same serial is not reinstalled",
          r.stdout + r.stderr)
    check(read("/etc/ringfence/sets/bad.list") == b"198.51.100.5\n", "after rollback: still serial 5's files")

    # bundle make: the publisher's side, linted.
    src = os.path.join(world.work, "pub")
    for n, data in bundle_files(8).items():
        write(os.path.join(src, n), data)
    r = subprocess.run([world.args.ringfence, "bundle", "make", src, "--serial", "8", "--scope", "console1"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    man = (read(os.path.join(src, "MANIFEST")) or b"").decode()
    check(r.returncode == 0 and "serial 8" in man and "file sets/bad.list" in man, "bundle make writes MANIFEST",
          r.stdout + r.stderr + man)
    write(os.path.join(src, "access.conf"), b"+ : root\n")
    if os.path.exists(os.path.join(src, "MANIFEST")):
        os.unlink(os.path.join(src, "MANIFEST"))
    r = subprocess.run([world.args.ringfence, "bundle", "make", src], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    check(r.returncode == 1 and read(os.path.join(src, "MANIFEST")) is None and "access.conf:1" in r.stderr,
          "bundle make refuses a bundle that fails lint", r.stderr)
    r = subprocess.run([world.args.ringfence, "sync", "--status"], stdout=subprocess.PIPE, text=True)
    check(r.returncode == 0 and "bundle serial 7 rolled back" in r.stdout, "status says serial 7 was rolled back",
          r.stdout)
    # A bundle whose firewall.conf has an error names the bundle's file.
    f = bundle_files(9)
    f["firewall.conf"] = b"policy in sideways\n"
    publish(9, f)
    before = world.snapshot()
    unchanged(world, before, "firewall.conf with an error", world.run(), 4, ["bundle:firewall.conf:1:"])
    f = bundle_files(9)
    f["sets/bad.list"] = b"not-an-address\n"
    publish(9, f)
    unchanged(world, before, "set file with an error", world.run(), 4, ["bundle:sets/bad.list:1:"])


def group_minisign(world):
    if not shutil.which("minisign"):
        log("SKIP: the minisign tool is not installed; its format is checked against OpenSSL-made signatures only")
        sys.exit(SKIP)
    d = os.path.join(world.work, "ms")
    os.makedirs(d)
    pub, sec = os.path.join(d, "k.pub"), os.path.join(d, "k.key")
    subprocess.run(["minisign", "-G", "-W", "-p", pub, "-s", sec], check=True, stdout=subprocess.DEVNULL)
    files = bundle_files(3)
    man = synclab.manifest(3, files)
    synclab.publish(world.www, files, man, "")
    mpath = os.path.join(world.www, "bundle", "MANIFEST")
    subprocess.run(["minisign", "-S", "-s", sec, "-m", mpath, "-t", "ringfence test"], check=True,
                   stdout=subprocess.DEVNULL)
    write("/etc/ringfence/keys/site.pub", read(pub))
    write("/etc/ringfence/firewall.conf", "policy in accept\n")
    world.sync_conf("bundle %s\nkey /etc/ringfence/keys/site.pub\n" % world.https.url("bundle/"))
    r = world.run()
    check(r.returncode == 0 and "serial 3 installed" in r.stdout, "a signature made by minisign verifies",
          r.stdout + r.stderr)
    # And minisign accepts what the tests sign with OpenSSL.
    write(os.path.join(d, "ours.pub"), world.key.public_file())
    write(mpath + ".minisig", world.key.sign(read(mpath)))
    r = subprocess.run(["minisign", "-V", "-p", os.path.join(d, "ours.pub"), "-m", mpath], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check(r.returncode == 0, "minisign verifies the OpenSSL-made test signature", r.stdout)
    # A legacy (not pre-hashed) signature is refused.
    subprocess.run(["minisign", "-S", "-l", "-s", sec, "-m", mpath], check=True, stdout=subprocess.DEVNULL)
    before = world.snapshot()
    files2 = bundle_files(4)
    man2 = synclab.manifest(4, files2)
    synclab.publish(world.www, files2, man2, "")
    subprocess.run(["minisign", "-S", "-l", "-s", sec, "-m", mpath], check=True, stdout=subprocess.DEVNULL)
    unchanged(world, before, "legacy minisign signature", world.run(), 4, ["legacy"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ringfence", required=True)
    ap.add_argument("--fw", required=True)
    ap.add_argument("group", choices=["fetch", "feeds", "bundle", "minisign"])
    args = ap.parse_args()
    args.ringfence, args.fw = os.path.abspath(args.ringfence), os.path.abspath(args.fw)
    fwnet.enter_sandbox([os.path.abspath(__file__)] + sys.argv[1:], marker="RF_SYNC_SANDBOX")
    world = World(args)
    globals()["group_" + args.group](world)
    log("FAILED: %d check(s): %s" % (len(FAILS), "; ".join(FAILS)) if FAILS else "all checks passed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
