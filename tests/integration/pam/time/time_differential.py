#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Differential test: the fourth (time) field of pam_ringfence.so against
stock pam_time.so, both loaded by the real libpam.

For hundreds of random well-formed time specs and thousands of (spec, local
time) pairs, pam_time is asked with a time.conf line `SERVICE;*;USER;SPEC`
(it denies when the time test fails) and pam_ringfence with

    + : USER : ALL : SPEC
    - : USER : ALL

Both must give the same answer. Two things are left out, each on purpose:

* the end minute of a range that crosses midnight (Fr2200-0200 at Sat 02:00):
  pam_time counts it as inside, ringfence's windows are half-open. Those
  decisions are still run, and each module must give the answer its own
  rule predicts (so the one difference is exactly that minute);
* day codes without times (`SaSu`): pam_time logs "no/bad times specified"
  and treats such an entry as matching at every time. ringfence reads it as
  the whole day, so pam_time is asked the equivalent `SaSu0000-2400`.

Malformed specs are not generated here (pam_time's reading of them is a bug,
ringfence rejects them); time_boundaries.py checks that they deny everyone.
"""

import argparse
import collections
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import timetest  # noqa: E402
from timetest import DAY_NAMES, OTHER_USER, PAM_PERM_DENIED, PAM_SUCCESS, USER, Zone, hhmm, verdict  # noqa: E402

DAY_BITS = collections.OrderedDict([
    ("Su", 0o1), ("Mo", 0o2), ("Tu", 0o4), ("We", 0o10), ("Th", 0o20), ("Fr", 0o40), ("Sa", 0o100),
    ("Wk", 0o76), ("Wd", 0o101), ("Al", 0o177),
])

ZONES = [
    timetest.UTC,
    Zone("<+0530>-05:30", 5 * 3600 + 30 * 60),
    Zone("<-0330>+03:30", -(3 * 3600 + 30 * 60)),
]

SPECIAL_RANGES = [(0, 2400), (0, 0), (2400, 0), (2400, 2400), (0, 1200), (1200, 0), (2300, 2400), (2400, 100),
                  (0, 1), (2359, 2400), (2359, 0), (1, 0), (0, 2359), (1200, 1200)]


def minutes(hhmm_value):
    return (hhmm_value // 100) * 60 + hhmm_value % 100


class Entry(object):
    """[!]DAYS[HHMM-HHMM] as generated, with both spellings."""

    def __init__(self, bangs, codes, times):
        self.bangs = bangs          # number of '!' (the parity negates)
        self.codes = codes          # day codes as written (random case)
        self.times = times          # (start, end) as HHMM ints, or None
        self.mask = 0
        for c in codes:
            self.mask ^= DAY_BITS[c[0].upper() + c[1].lower()]
        self.negate = bool(bangs % 2)

    def render(self, for_pam_time, blank_after_bang):
        s = "!" * self.bangs + (" " if self.bangs and blank_after_bang else "") + "".join(self.codes)
        if self.times is not None:
            s += "%04d-%04d" % self.times
        elif for_pam_time:
            s += "0000-2400"  # see the module docstring
        return s

    def span(self):
        """(start, end) in minutes; a day-only entry is the whole day."""
        if self.times is None:
            return 0, 1440
        return minutes(self.times[0]), minutes(self.times[1])

    def crosses(self):
        start, end = self.span()
        return start >= end

    def value(self, weekday, minute, pam_time_rule):
        """The entry's truth at a local time. pam_time_rule: the second day of
        a crossing range includes its end minute."""
        start, end = self.span()
        today = bool(self.mask >> weekday & 1)
        yesterday = bool(self.mask >> ((weekday + 6) % 7) & 1)
        if start < end:
            v = today and start <= minute < end
        else:
            second_day = minute <= end if pam_time_rule else minute < end
            v = (today and minute >= start) or (yesterday and second_day)
        return v != self.negate


class Spec(object):
    def __init__(self, entries, ops, blanks):
        self.entries = entries
        self.ops = ops
        self.blanks = blanks

    def render(self, for_pam_time):
        out = self.entries[0].render(for_pam_time, self.blanks)
        for op, e in zip(self.ops, self.entries[1:]):
            sep = " %s " % op if self.blanks else op
            out += sep + e.render(for_pam_time, self.blanks)
        return out

    def value(self, weekday, minute, pam_time_rule):
        """Strictly left to right, no precedence, as pam_time."""
        result = self.entries[0].value(weekday, minute, pam_time_rule)
        for op, e in zip(self.ops, self.entries[1:]):
            v = e.value(weekday, minute, pam_time_rule)
            result = (result and v) if op == "&" else (result or v)
        return result

    def known_difference(self, weekday, minute):
        """True if some entry's value differs between the two rules here: the
        end minute of a midnight-crossing range on its second day."""
        return any(e.value(weekday, minute, True) != e.value(weekday, minute, False) for e in self.entries)

    def features(self):
        f = set()
        for e in self.entries:
            if e.times is None:
                f.add("day-only")
            elif e.crosses():
                f.add("across midnight")
            else:
                f.add("same-day range")
            if e.times is not None and 0 in e.times:
                f.add("0000")
            if e.times is not None and 2400 in e.times:
                f.add("2400")
            if e.times is not None and e.times[0] == e.times[1]:
                f.add("start = end")
            if e.negate:
                f.add("! negation")
            if len(e.codes) > 1:
                f.add("toggled day codes")
        for op in self.ops:
            f.add("'|'" if op == "|" else "'&'")
        if self.blanks:
            f.add("blanks")
        return f


def random_hhmm(rng):
    h = rng.randrange(24)
    m = rng.choice([0, 0, 30, 15, 45, rng.randrange(60), rng.randrange(60)])
    return h * 100 + m


def random_entry(rng):
    bangs = rng.choice([0] * 14 + [1] * 5 + [2])
    while True:
        n = rng.choice([1] * 10 + [2] * 6 + [3] * 3 + [4])
        codes = []
        for _ in range(n):
            code = rng.choice(list(DAY_BITS))
            case = rng.randrange(6)
            if case == 1:
                code = code.lower()
            elif case == 2:
                code = code.upper()
            elif case == 3:
                code = code[0].lower() + code[1].upper()
            codes.append(code)
        e = Entry(bangs, codes, None)
        if e.mask != 0:
            break
    kind = rng.choice(["same", "same", "same", "cross", "cross", "cross", "equal", "dayonly", "dayonly", "special",
                       "special"])
    if kind == "same":
        a, b = random_hhmm(rng), rng.choice([random_hhmm(rng), 2400])
        while a == b:
            b = random_hhmm(rng)
        times = (min(a, b), max(a, b))
    elif kind == "cross":
        a, b = random_hhmm(rng), rng.choice([random_hhmm(rng), random_hhmm(rng), 0])
        while a == b:
            b = random_hhmm(rng)
        times = (max(a, b), min(a, b))
    elif kind == "equal":
        a = random_hhmm(rng)
        times = (a, a)
    elif kind == "dayonly":
        times = None
    else:
        times = rng.choice(SPECIAL_RANGES)
    e.times = times
    return e


def random_spec(rng):
    n = rng.choice([1] * 8 + [2] * 6 + [3] * 4 + [4] * 2)
    entries = [random_entry(rng) for _ in range(n)]
    ops = [rng.choice("|&") for _ in range(n - 1)]
    return Spec(entries, ops, blanks=rng.random() < 0.12)


def sample_times(rng, spec, count):
    """Local (weekday, minute) pairs, most of them at the edges of the spec's
    windows, on the days the windows start and the days after."""
    edges = set()
    days = set()
    for e in spec.entries:
        start, end = e.span()
        for m in (start - 1, start, start + 1, end - 1, end, end + 1):
            edges.add(m % 1440)
        for d in range(7):
            if e.mask >> d & 1:
                days.add(d)
                days.add((d + 1) % 7)
    edges = sorted(edges)
    days = sorted(days)
    out = set()
    tries = 0
    while len(out) < count and tries < count * 20:
        tries += 1
        r = rng.random()
        if r < 0.6:
            pair = (rng.choice(days), rng.choice(edges))
        elif r < 0.75:
            pair = (rng.randrange(7), rng.choice(edges))
        else:
            pair = (rng.randrange(7), rng.randrange(1440))
        out.add(pair)
    out = sorted(out)
    rng.shuffle(out)
    return out


def sanity(bench):
    """Before trusting a thousand answers: the user exists (nss_wrapper), both
    modules can allow and deny, and both see the faked clock."""
    mon = lambda m: timetest.UTC.epoch(0, 1, m)  # noqa: E731
    cases = [
        ("ringfence, three-field allow", bench.ours_service(["+ : %s : ALL" % USER, "- : ALL : ALL"]), mon(600), 0),
        ("ringfence, three-field deny", bench.ours_service(["- : %s : ALL" % USER]), mon(600), 6),
        ("ringfence, Mo0900-1000 at Mon 09:30", bench.ours_service(["+ : %s : ALL : Mo0900-1000" % USER,
                                                                    "- : %s : ALL" % USER]), mon(570), 0),
        ("ringfence, Mo0900-1000 at Mon 10:30", bench.ours_service(["+ : %s : ALL : Mo0900-1000" % USER,
                                                                    "- : %s : ALL" % USER]), mon(630), 6),
        ("pam_time, Al0000-2400", bench.pam_time_service(["{service};*;%s;Al0000-2400" % USER]), mon(600), 0),
        ("pam_time, !Al0000-2400", bench.pam_time_service(["{service};*;%s;!Al0000-2400" % USER]), mon(600), 6),
        ("pam_time, Mo0900-1000 at Mon 09:30", bench.pam_time_service(["{service};*;%s;Mo0900-1000" % USER]),
         mon(570), 0),
        ("pam_time, Mo0900-1000 at Mon 10:30", bench.pam_time_service(["{service};*;%s;Mo0900-1000" % USER]),
         mon(630), 6),
        ("pam_time, rule for another user", bench.pam_time_service(["{service};*;%s;!Al0000-2400" % OTHER_USER]),
         mon(600), 0),
    ]
    answers = bench.run(timetest.UTC, [(epoch, svc, USER) for _, svc, epoch, _ in cases], tag="sanity")
    bad = 0
    for (what, _, _, want), (rc, _, _) in zip(cases, answers):
        if rc != want:
            bad += 1
            hint = ""
            if rc == 10:
                hint = " (user unknown: is nss_wrapper preloaded with NSS_WRAPPER_PASSWD?)"
            print("SANITY FAIL: %s: got %s, want %s%s" % (what, timetest.rc_name(rc), timetest.rc_name(want), hint))
    if bad:
        print("sanity checks failed; the differential run would mean nothing")
        sys.exit(1)
    print("sanity: %d checks passed (user known, both modules allow, deny and see the faked clock)" % len(cases))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    timetest.add_common_arguments(parser)
    parser.add_argument("--specs", type=int, default=int(os.environ.get("RF_TIME_SPECS", "500")))
    parser.add_argument("--per-spec", type=int, default=int(os.environ.get("RF_TIME_PER_SPEC", "12")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("RF_TIME_SEED", "20240107")))
    parser.add_argument("--show", type=int, default=25, help="disagreements to print in full")
    args = parser.parse_args()

    started = time.time()
    rng = random.Random(args.seed)
    print("seed %d (set RF_TIME_SEED or --seed to vary; RF_TIME_KEEP=1 keeps the work files)" % args.seed)
    bench = timetest.Bench(args)
    ok = False
    try:
        sanity(bench)

        specs = []
        seen = set()
        while len(specs) < args.specs:
            s = random_spec(rng)
            key = s.render(False)
            if key in seen:
                continue
            seen.add(key)
            specs.append(s)

        # One pair of services per spec; decisions spread over three zones
        # and two years of weeks.
        cases = []  # (spec index, zone index, week, weekday, minute)
        services = []
        for i, s in enumerate(specs):
            svc_pt = bench.pam_time_service(["{service};*;%s;%s" % (USER, s.render(True))])
            svc_rf = bench.ours_service(["+ : %s : ALL : %s" % (USER, s.render(False)), "- : %s : ALL" % USER])
            services.append((svc_pt, svc_rf))
            for weekday, minute in sample_times(rng, s, args.per_spec):
                cases.append((i, rng.randrange(len(ZONES)), rng.randrange(104), weekday, minute))

        batches = []
        index = []
        for z in range(len(ZONES)):
            reqs = []
            idx = []
            for n, (i, zi, week, weekday, minute) in enumerate(cases):
                if zi != z:
                    continue
                epoch = ZONES[z].epoch(week, weekday, minute)
                reqs.append((epoch, services[i][0], USER))
                reqs.append((epoch, services[i][1], USER))
                idx.append(n)
            batches.append((ZONES[z], reqs))
            index.append(idx)
        results = bench.run_parallel(batches)

        compared = 0
        excluded = 0
        allows = 0
        disagreements = []
        model_failures = []
        feature_count = collections.Counter()
        for s in specs:
            feature_count.update(s.features())
        for z, idx in enumerate(index):
            answers = results[z]
            for k, n in enumerate(idx):
                i, _, week, weekday, minute = cases[n]
                s = specs[i]
                rc_pt, wd_pt, min_pt = answers[2 * k]
                rc_rf, wd_rf, min_rf = answers[2 * k + 1]
                epoch = ZONES[z].epoch(week, weekday, minute)
                where = "%s %s %s (epoch %d)" % (DAY_NAMES[weekday], hhmm(minute), ZONES[z], epoch)
                if (wd_pt, min_pt) != (weekday, minute) or (wd_rf, min_rf) != (weekday, minute):
                    print("HARNESS FAIL: asked for %s, the harness saw %s %s" %
                          (where, DAY_NAMES[wd_pt], hhmm(min_pt)))
                    sys.exit(1)
                want_rf = PAM_SUCCESS if s.value(weekday, minute, False) else PAM_PERM_DENIED
                want_pt = PAM_SUCCESS if s.value(weekday, minute, True) else PAM_PERM_DENIED
                detail = {
                    "ours": s.render(False), "pam": s.render(True), "where": where,
                    "rc_pt": rc_pt, "rc_rf": rc_rf, "want_rf": want_rf, "want_pt": want_pt,
                    "svc": services[i],
                }
                if s.known_difference(weekday, minute):
                    # The deliberate difference: each module must follow its
                    # own rule here.
                    excluded += 1
                    if rc_rf != want_rf or rc_pt != want_pt:
                        model_failures.append(detail)
                    continue
                compared += 1
                if rc_pt == PAM_SUCCESS:
                    allows += 1
                if rc_pt != rc_rf or rc_pt not in (PAM_SUCCESS, PAM_PERM_DENIED):
                    disagreements.append(detail)

        elapsed = time.time() - started
        print("features covered (specs with each): " +
              ", ".join("%s %d" % (k, v) for k, v in sorted(feature_count.items())))
        print("decisions: %d compared (%d allow, %d deny), %d end-minute decisions checked separately, "
              "3 time zones, %.1f s" % (compared, allows, compared - allows, excluded, elapsed))

        failed = False
        if disagreements:
            failed = True
            print("\n%d DISAGREEMENTS between pam_time.so and pam_ringfence.so:" % len(disagreements))
            for d in disagreements[:args.show]:
                who = "ringfence" if d["rc_rf"] != d["want_rf"] else (
                    "pam_time" if d["rc_pt"] != d["want_pt"] else "?")
                print("  spec %-40s at %s: pam_time %s, ringfence %s (the spec says %s; %s looks wrong)" %
                      (d["ours"], d["where"], verdict(d["rc_pt"]), verdict(d["rc_rf"]), verdict(d["want_rf"]), who))
                if d["pam"] != d["ours"]:
                    print("       (pam_time was given %s)" % d["pam"])
            if len(disagreements) > args.show:
                print("  ... and %d more" % (len(disagreements) - args.show))
        if model_failures:
            failed = True
            print("\n%d END-MINUTE decisions where a module did not follow its own rule "
                  "(ringfence: [start, end) on the second day; pam_time: end minute inside):" % len(model_failures))
            for d in model_failures[:args.show]:
                print("  spec %-40s at %s: pam_time %s (want %s), ringfence %s (want %s)" %
                      (d["ours"], d["where"], verdict(d["rc_pt"]), verdict(d["want_pt"]), verdict(d["rc_rf"]),
                       verdict(d["want_rf"])))
        # A run that proves nothing must not pass.
        required = {"across midnight", "same-day range", "day-only", "0000", "2400", "! negation", "'|'", "'&'",
                    "start = end", "toggled day codes", "blanks"}
        missing = required - set(feature_count)
        if missing:
            failed = True
            print("FAIL: generated specs lack: %s" % ", ".join(sorted(missing)))
        if compared < args.specs * args.per_spec // 2 or not (0.15 < allows / max(compared, 1) < 0.85):
            failed = True
            print("FAIL: too few decisions or too one-sided (%d compared, %d allow)" % (compared, allows))
        if excluded == 0:
            failed = True
            print("FAIL: no end-minute decision was exercised")
        if failed:
            print("\nFAILED (seed %d). Reproduce one: its service files are kept under %s" % (args.seed, bench.dir))
            sys.exit(1)
        print("%d specs, %d decisions, all agree" % (len(specs), compared))
        ok = True
    finally:
        bench.cleanup(keep=not ok)


if __name__ == "__main__":
    main()
