#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ringfence-tcpdmatch on checked stamps (core/checked_stamp.h).

A run as root that finds no stamp checks both tables whole and stamps each
clean one into $RINGFENCE_CHECKED_DIR; a later run that believes the stamps
compiles only the lines that can decide. This test runs
`ringfence-tcpdmatch -d --addr ...` (no lookups) in a temporary directory
with the stamps in another temporary directory (root's, 0755, never /run)
and checks that:
  * the first run stamps both tables, a second run believes the stamps
    (they are not rewritten) and prints byte for byte what the first run
    and a run with RINGFENCE_CHECKED_DIR=off print, for requests granted
    and refused, several daemons, EXCEPT, daemon@host and port patterns;
  * a table edited in place to an invalid one of the same size (also with
    its mtime put back) is checked whole: the error is printed and the
    decision is the one made without stamps;
  * a stamp forged for the invalid content (exact but for its owner,
    uid 65534) is ignored, while the same bytes owned by root are believed
    (so the forgery is exact and the owner is what refuses it); a root
    stamp that matches the edited file but hashes the earlier content is
    not believed (an edit within one clock tick);
  * a stamp directory that is not root's alone is not believed nor
    written, and one that does not exist is not made;
  * a table with a /path pattern file is never stamped.
Needs root (only root writes stamps; the forged stamp is chowned); exit 77
otherwise.
"""
import argparse
import os
import shutil
import sys
import subprocess
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "cli"))
import clitest  # noqa: E402
from clitest import check  # noqa: E402

ALLOW = """\
# the admin network; one host for ftp, with exceptions
sshd: 192.168.10.0/24 [2001:db8::]/32
vsftpd: ALL EXCEPT 10.0.0.0/8 EXCEPT 10.1.0.0/16
in.telnetd@192.0.2.1: 10.0.0.5
22: 172.16.0.0/12
portmap, rpcbind: LOCAL, 127.0.0.1
ALL EXCEPT vsftpd: 198.51.100.0/24 : allow
"""

DENY = """\
sshd: 192.168.11.0/24 : spawn /bin/true
ALL: ALL
"""

# One request per line: the arguments after `ringfence-tcpdmatch -d`.
REQUESTS = [
    ["--addr", "192.168.10.7", "sshd"],                        # allow:2
    ["--addr", "2001:db8::42", "sshd"],                        # allow:2, v6
    ["--addr", "192.168.11.7", "sshd"],                        # deny:1
    ["--addr", "192.168.12.7", "sshd"],                        # deny:2
    ["--addr", "192.0.2.9", "vsftpd"],                         # allow:3
    ["--addr", "10.2.0.1", "vsftpd"],                          # EXCEPT: deny:2
    ["--addr", "10.1.0.1", "vsftpd"],                          # EXCEPT EXCEPT: allow:3
    ["--addr", "10.0.0.5", "in.telnetd@192.0.2.1"],            # daemon@host: allow:4
    ["--addr", "10.0.0.5", "in.telnetd@192.0.2.2"],            # another server: deny:2
    ["--addr", "10.0.0.5", "in.telnetd"],                      # no server: deny:2
    ["--addr", "172.16.1.1", "--port", "22", "anyd"],          # port: allow:5
    ["--addr", "172.16.1.1", "--port", "23", "anyd"],          # another port: deny:2
    ["--addr", "172.16.1.1", "anyd"],                          # no port: deny:2
    ["--addr", "127.0.0.1", "rpcbind"],                        # allow:6
    ["--addr", "192.0.2.9", "--name", "localhost", "portmap"],  # LOCAL: allow:6
    ["--addr", "198.51.100.3", "nrpe"],                        # after EXCEPT: allow:7
    ["--addr", "198.51.100.3", "vsftpd"],                      # not ALL EXCEPT vsftpd: allow:3
]


# core::content_hash, bit for bit: a forged stamp must be exact but for
# what the test means to get wrong.
MASK = (1 << 64) - 1
MUL1 = 0x9e3779b97f4a7c15
MUL2 = 0xbf58476d1ce4e5b9
MUL3 = 0x94d049bb133111eb


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & MASK


def mix(acc, word):
    return (rotl((acc + word * MUL2) & MASK, 31) * MUL1) & MASK


def content_hash(data):
    n = len(data)

    def load(i):
        return int.from_bytes(data[i:i + 8], sys.byteorder)

    lane = [MUL1, MUL2, MUL3, ~MUL1 & MASK]
    i = 0
    while i + 32 <= n:
        for k in range(4):
            lane[k] = mix(lane[k], load(i + 8 * k))
        i += 32
    h = (rotl(lane[0], 1) + rotl(lane[1], 7) + rotl(lane[2], 12) + rotl(lane[3], 18) + n) & MASK
    while i + 8 <= n:
        h = (rotl(h ^ mix(0, load(i)), 27) * MUL1 + MUL3) & MASK
        i += 8
    while i < n:
        h = (rotl(h ^ ((data[i] * MUL3) & MASK), 11) * MUL1) & MASK
        i += 1
    h ^= h >> 31
    h = (h * MUL2) & MASK
    h ^= h >> 29
    h = (h * MUL3) & MASK
    h ^= h >> 32
    return h


class Sandbox:
    """hosts.allow and hosts.deny in one temporary directory, the stamps in
    another (root's, 0755)."""

    def __init__(self, tcpdmatch, root):
        self.tcpdmatch = tcpdmatch
        self.policy = tempfile.mkdtemp(prefix="policy-", dir=root)
        self.stamps = tempfile.mkdtemp(prefix="checked-", dir=root)
        os.chmod(self.policy, 0o755)
        os.chmod(self.stamps, 0o755)

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.policy, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def edit_in_place(self, name, text):
        """Rewrites the file through the same inode (no rename)."""
        path = os.path.join(self.policy, name)
        with open(path, "r+b") as f:
            f.write(text.encode())
            f.truncate()
        return path

    def run(self, args, checked_dir=None):
        env = dict(os.environ)
        env["RINGFENCE_CHECKED_DIR"] = self.stamps if checked_dir is None else checked_dir
        p = subprocess.run([self.tcpdmatch, "-d"] + args, cwd=self.policy, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def stamp_files(self):
        """{name: (inode, text)} of the stamp directory."""
        out = {}
        for name in sorted(os.listdir(self.stamps)):
            path = os.path.join(self.stamps, name)
            with open(path, "rb") as f:
                out[name] = (os.lstat(path).st_ino, f.read().decode("utf-8", "replace"))
        return out

    def stamp_for(self, table):
        """The name of the stamp whose text names `table` (hosts.allow...)."""
        for name, (_, text) in self.stamp_files().items():
            if ("\nfile %s\n" % table) in text:
                return name
        return None


def show(run):
    rc, out, err = run
    return "exit %d\n--- stdout\n%s--- stderr\n%s" % (rc, out.decode("utf-8", "replace"),
                                                        err.decode("utf-8", "replace"))


def test_clean_policy(tcpdmatch, root):
    box = Sandbox(tcpdmatch, root)
    box.write("hosts.allow", ALLOW)
    box.write("hosts.deny", DENY)
    check(box.stamp_files() == {}, "clean: no stamp before the first run")
    first = box.run(REQUESTS[0])
    check(first[0] == 0 and first[2] == b"", "clean: first run, exit 0 and no error", show(first))
    check(b"matched:  hosts.allow:2\n" in first[1] and b"access:   granted\n" in first[1],
          "clean: first run decides on hosts.allow:2", show(first))
    stamps = box.stamp_files()
    check(len(stamps) == 2, "clean: the first run writes 2 stamps", "%r" % sorted(stamps))
    for table in ("hosts.allow", "hosts.deny"):
        name = box.stamp_for(table)
        if not check(name is not None, "clean: a stamp names %s" % table, "%r" % stamps):
            continue
        st = os.lstat(os.path.join(box.stamps, name))
        text = stamps[name][1]
        check(st.st_uid == 0 and (st.st_mode & 0o7777) == 0o644, "clean: stamp of %s is root's, 0644" % table,
              "uid %d mode %o" % (st.st_uid, st.st_mode))
        check(text.startswith("ringfence checked stamp 1\n") and "\ncheck hosts_access\n" in text,
              "clean: stamp of %s says what it is" % table, text)
        with open(os.path.join(box.policy, table), "rb") as f:
            data = f.read()
        check(("\nhash %016x\n" % content_hash(data)) in text,
              "clean: stamp of %s holds the content's hash" % table, text)
    second = box.run(REQUESTS[0])
    off = box.run(REQUESTS[0], "off")
    check(second == first, "clean: second run (on stamps) prints what the first printed",
          show(first) + "\n" + show(second))
    check(off == first, "clean: RINGFENCE_CHECKED_DIR=off prints the same", show(first) + "\n" + show(off))
    check(box.stamp_files() == stamps, "clean: the stamps were believed, not rewritten")

    # Every request: cold (no stamps: checked whole, then stamped), warm (on
    # the stamps) and off give the same output, byte for byte.
    for args in REQUESTS:
        what = " ".join(args)
        shutil.rmtree(box.stamps)
        os.mkdir(box.stamps, 0o755)
        cold = box.run(args)
        check(cold[0] == 0 and cold[2] == b"" and b"access:   " in cold[1], "request %s: cold run" % what,
              show(cold))
        stamped = box.stamp_files()
        check(len(stamped) == 2, "request %s: cold run stamps both tables" % what, "%r" % sorted(stamped))
        warm = box.run(args)
        check(warm == cold, "request %s: warm == cold" % what, show(cold) + "\n" + show(warm))
        check(box.stamp_files() == stamped, "request %s: warm run believed the stamps" % what)
        off = box.run(args, "off")
        check(off == cold, "request %s: off == cold" % what, show(cold) + "\n" + show(off))
    return box


# hosts.allow edited to an invalid table of the same size, and where the
# error is. A bad option in the last rule: only a whole check finds it (a run
# on stamps for sshd stops at line 2). A rule without ':' refuses every
# request that reaches it: rpcbind and nrpe are refused at line 4 instead
# of granted at lines 6 and 7.
INVALID = [
    ("bad option", ALLOW.replace(": allow\n", ": allox\n"), b"hosts.allow:7:", None),
    ("missing ':'", ALLOW.replace("in.telnetd@192.0.2.1: ", "in.telnetd@192.0.2.1  "), b"hosts.allow:4:",
     ("--addr 127.0.0.1 rpcbind", b"matched:  hosts.allow:4\n")),
]
for _, _text, _, _ in INVALID:
    assert len(_text) == len(ALLOW) and _text != ALLOW

# sshd granted at line 2; vsftpd granted at line 3; rpcbind granted at 6
# and nrpe at 7 when the table is valid.
INVALID_REQUESTS = [REQUESTS[0], REQUESTS[4], REQUESTS[13], REQUESTS[15]]


def test_invalid_edit(tcpdmatch, root, variant):
    kind, invalid_text, where, refused = variant
    box = Sandbox(tcpdmatch, root)
    allow = box.write("hosts.allow", ALLOW)
    box.write("hosts.deny", DENY)
    requests = INVALID_REQUESTS
    for args in requests:
        box.run(args)
    before = box.stamp_files()
    check(len(before) == 2, "invalid (%s): the valid tables are stamped" % kind)
    old = os.stat(allow)

    # Off: the reference for the invalid tables.
    box.edit_in_place("hosts.allow", invalid_text)
    new = os.stat(allow)
    check(new.st_ino == old.st_ino and new.st_size == old.st_size,
          "invalid (%s): edited in place, same size" % kind)
    refs = {}
    for args in requests:
        refs[" ".join(args)] = ref = box.run(args, "off")
        check(where in ref[2] and b"error:" in ref[2],
              "invalid (%s): off: the error is reported for %s" % (kind, " ".join(args)), show(ref))
    if refused:
        what, line = refused
        check(line in refs[what][1] and b"access:   denied\n" in refs[what][1],
              "invalid (%s): off: %s is refused by the broken rule" % (kind, what), show(refs[what]))

    for restore_mtime in (False, True):
        if restore_mtime:
            os.utime(allow, ns=(old.st_atime_ns, old.st_mtime_ns))
            check(os.stat(allow).st_mtime_ns == old.st_mtime_ns, "invalid (%s): mtime put back" % kind)
        label = "invalid (%s)%s" % (kind, ", mtime put back" if restore_mtime else "")
        for args in requests:
            what = " ".join(args)
            got = box.run(args)
            check(got == refs[what], "%s: %s: not believed: error and decision as with stamps off" % (label, what),
                  show(refs[what]) + "\n" + show(got))
        # hosts.allow's stamp is left as it was; hosts.deny, checked whole
        # and clean, is stamped again with the same text.
        after = box.stamp_files()
        name = box.stamp_for("hosts.allow")
        check(name is not None and name in before and after[name] == before[name],
              "%s: nothing stamped for the invalid table" % label, "%r\n%r" % (before, after))
        check({k: v[1] for k, v in after.items()} == {k: v[1] for k, v in before.items()},
              "%s: the same stamps" % label, "%r\n%r" % (before, after))
    return box, requests, refs


def forged_stamp(box, table):
    """The stamp record() would write for `table` as it is now, made from
    the text of its valid stamp: the same lines with the file's current
    times and hash."""
    name = box.stamp_for(table)
    if name is None:
        return None, None, None
    text = box.stamp_files()[name][1]
    path = os.path.join(box.policy, table)
    st = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    lines = text.split("\n")
    out = []
    for line in lines:
        if line.startswith("mtime "):
            line = "mtime %d ctime %d" % (st.st_mtime_ns, st.st_ctime_ns)
        elif line.startswith("hash "):
            line = "hash %016x" % content_hash(data)
        elif line.startswith("dev "):
            line = "dev %d ino %d size %d" % (st.st_dev, st.st_ino, st.st_size)
        elif line.startswith("mode "):
            line = "mode %d uid %d" % (st.st_mode, st.st_uid)
        out.append(line)
    return name, text, "\n".join(out)


def put_stamp(box, name, text, uid):
    path = os.path.join(box.stamps, name)
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.chown(tmp, uid, 0)
    os.rename(tmp, path)


def test_forged_stamp(box, requests, refs, kind):
    name, valid_text, forged = forged_stamp(box, "hosts.allow")
    if not check(name is not None, "forged (%s): a valid stamp of hosts.allow to start from" % kind,
                 "%r" % box.stamp_files()):
        return
    check(forged != valid_text and forged.count("\n") == valid_text.count("\n"),
          "forged (%s): a stamp for the invalid content differs from the valid one" % kind, forged)
    put_stamp(box, name, forged, 65534)
    for args in requests:
        what = " ".join(args)
        got = box.run(args)
        check(got == refs[what], "forged (%s): owned by uid 65534: ignored, the error reported: %s" % (kind, what),
              show(refs[what]) + "\n" + show(got))

    # The control: the same bytes owned by root are believed (the forgery is
    # exact), so a run for sshd on stamps stops at line 2 and never reads
    # the error. This is what the owner check prevents above.
    put_stamp(box, name, forged, 0)
    got = box.run(requests[0])
    ref = refs[" ".join(requests[0])]
    check(got[0] == 0 and got[2] == b"", "forged (%s): owned by root: believed, no whole check (the control)" % kind,
          show(got))
    check(got[1] == ref[1], "forged (%s): owned by root: the same decision for sshd" % kind,
          show(ref) + "\n" + show(got))

    # A root stamp exact for the edited file but for its hash, which is the
    # earlier valid content's: as if the edit had kept every time of the
    # file (within one clock tick). Only the hash tells them apart.
    valid_hash = next((v for v in valid_text.split("\n") if v.startswith("hash ")), None)
    if not check(valid_hash is not None, "same tick (%s): the valid stamp has a hash line" % kind, valid_text):
        return
    same_tick = "\n".join(valid_hash if line.startswith("hash ") else line for line in forged.split("\n"))
    check(same_tick != forged and "hash %016x" % content_hash(ALLOW.encode()) in same_tick,
          "same tick (%s): the stamp holds the valid content's hash" % kind, same_tick)
    put_stamp(box, name, same_tick, 0)
    for args in requests:
        what = " ".join(args)
        got = box.run(args)
        check(got == refs[what], "same tick (%s): another content's hash: not believed: %s" % (kind, what),
              show(refs[what]) + "\n" + show(got))

    # The exact forged stamp, root's, in a directory that is not root's
    # alone: not believed.
    put_stamp(box, name, forged, 0)
    for mode, uid in ((0o757, 0), (0o775, 0), (0o755, 65534)):
        os.chmod(box.stamps, mode)
        os.chown(box.stamps, uid, 0)
        for args in requests:
            what = " ".join(args)
            got = box.run(args)
            check(got == refs[what], "forged (%s), directory mode %o uid %d: not believed: %s" %
                  (kind, mode, uid, what), show(refs[what]) + "\n" + show(got))
    os.chmod(box.stamps, 0o755)
    os.chown(box.stamps, 0, 0)


def test_untrusted_dir(tcpdmatch, root):
    box = Sandbox(tcpdmatch, root)
    box.write("hosts.allow", ALLOW)
    box.write("hosts.deny", DENY)
    ref = box.run(REQUESTS[0], "off")
    os.chmod(box.stamps, 0o777)
    got = box.run(REQUESTS[0])
    check(got == ref, "untrusted directory: the same output", show(ref) + "\n" + show(got))
    check(box.stamp_files() == {}, "untrusted directory (0777): nothing written", "%r" % box.stamp_files())
    missing = os.path.join(box.stamps, "missing")
    got = box.run(REQUESTS[0], missing)
    check(got == ref, "missing directory: the same output", show(ref) + "\n" + show(got))
    check(not os.path.exists(missing), "missing directory: not created")


def test_pattern_file(tcpdmatch, root):
    box = Sandbox(tcpdmatch, root)
    nets = box.write("admin-nets", "192.168.10.0/24\n10.9.0.0/16\n")
    box.write("hosts.allow", "sshd: %s\nALL: 127.0.0.1\n" % nets)
    box.write("hosts.deny", DENY)
    args_list = [["--addr", "10.9.1.1", "sshd"], ["--addr", "10.8.1.1", "sshd"], ["--addr", "127.0.0.1", "ftpd"]]
    for args in args_list:
        what = " ".join(args)
        first = box.run(args)
        check(first[0] == 0 and first[2] == b"", "pattern file: %s: clean" % what, show(first))
        check(box.stamp_for("hosts.allow") is None, "pattern file: %s: hosts.allow is never stamped" % what,
              "%r" % sorted(box.stamp_files()))
        check(box.stamp_for("hosts.deny") is not None and len(box.stamp_files()) == 1,
              "pattern file: %s: only hosts.deny is stamped" % what, "%r" % sorted(box.stamp_files()))
        again = box.run(args)
        off = box.run(args, "off")
        check(again == first and off == first, "pattern file: %s: the same output again and off" % what,
              show(first) + "\n" + show(again) + "\n" + show(off))
    first = box.run(args_list[0])
    check(b"matched:  hosts.allow:1\n" in first[1] and b"granted" in first[1],
          "pattern file: the pattern file decides", show(first))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcpdmatch", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("skipped: needs root (only root writes checked stamps)")
        return 77
    root = tempfile.mkdtemp(prefix="rf-stamps-")
    try:
        os.chmod(root, 0o755)
        tcpdmatch = os.path.abspath(args.tcpdmatch)
        test_clean_policy(tcpdmatch, root)
        for variant in INVALID:
            box, requests, refs = test_invalid_edit(tcpdmatch, root, variant)
            test_forged_stamp(box, requests, refs, variant[0])
        test_untrusted_dir(tcpdmatch, root)
        test_pattern_file(tcpdmatch, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return clitest.summary()


if __name__ == "__main__":
    sys.exit(main())
