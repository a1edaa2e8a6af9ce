#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Boundary tests for the fourth (time) field of pam_ringfence.so, through
the real libpam with the clock faked by libfaketime: midnight, 23:59, 24:00
as an end, ranges across midnight on their second day, the excluded end
minute, '!' negation, Wk against Wd, left-to-right operators, three-field
lines, malformed specs (the whole policy denies everyone) and TZ.

Each check names a policy (access.conf lines, U = the test user), a local
time (to the second) in a time zone, and the PAM answer it must give."""

import argparse
import collections
import os
import re
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import timetest  # noqa: E402
from timetest import OTHER_USER, PAM_PERM_DENIED, PAM_SUCCESS, USER, UTC, Zone, verdict  # noqa: E402

ALLOW = PAM_SUCCESS
DENY = PAM_PERM_DENIED
DAYS = {"Sun": 0, "Mon": 1, "Tue": 2, "Wed": 3, "Thu": 4, "Fri": 5, "Sat": 6}

Check = collections.namedtuple("Check", "policy lines zone when epoch want module")


class Plan(object):
    def __init__(self):
        self.checks = []
        self.policies = 0

    def policy(self, title, lines, module="ours"):
        """Returns add(when, want, zone=UTC) for checks against this policy.
        when: 'Mon 23:59:59' (local time in zone, week of 2024-01-07) or an
        int epoch. module 'pam_time' takes time.conf rules instead."""
        self.policies += 1
        lines = [re.sub(r"^([+-]\s*:\s*)U(\s*:)", r"\g<1>%s\g<2>" % USER, l).replace("{user}", USER)
                 for l in lines]

        def add(when, want, zone=UTC):
            if isinstance(when, int):
                epoch = when
            else:
                day, clock = when.split()
                parts = [int(p) for p in clock.split(":")]
                second = parts[2] if len(parts) > 2 else 30
                epoch = zone.epoch(1, DAYS[day], parts[0] * 60 + parts[1], second)
            self.checks.append(Check(title, lines, zone, when, epoch, want, module))
            return add

        return add


def allow_deny(spec):
    return ["+ : U : ALL : " + spec, "- : U : ALL"]


def build_plan(have_tzdata):
    p = Plan()

    # Midnight, 23:59 and 24:00.
    add = p.policy("Al0000-2400 is every minute of every day", allow_deny("Al0000-2400"))
    add("Mon 00:00:00", ALLOW)("Mon 23:59:59", ALLOW)("Sun 12:00", ALLOW)("Sat 23:59:59", ALLOW)
    add = p.policy("Mo0000-0100 starts at 00:00 sharp", allow_deny("Mo0000-0100"))
    add("Mon 00:00:00", ALLOW)("Sun 23:59:59", DENY)("Mon 00:59:59", ALLOW)("Mon 01:00:00", DENY)
    add = p.policy("Mo2300-2400: 2400 as an end is the end of Monday", allow_deny("Mo2300-2400"))
    add("Mon 22:59:59", DENY)("Mon 23:00:00", ALLOW)("Mon 23:59:59", ALLOW)("Tue 00:00:00", DENY)
    add = p.policy("Mo0000-2359 leaves out the last minute", allow_deny("Mo0000-2359"))
    add("Mon 23:58:59", ALLOW)("Mon 23:59:00", DENY)
    add = p.policy("Al0000-0000 (start = end) is always", allow_deny("Al0000-0000"))
    add("Mon 00:00:00", ALLOW)("Wed 12:00", ALLOW)("Sun 23:59:59", ALLOW)
    add = p.policy("We1200-1200 is Wednesday noon to Thursday noon", allow_deny("We1200-1200"))
    add("Wed 11:59:59", DENY)("Wed 12:00:00", ALLOW)("Thu 11:59:59", ALLOW)("Thu 12:00:00", DENY)

    # Ranges across midnight belong to the day they start on.
    add = p.policy("Fr2200-0200 crosses into Saturday", allow_deny("Fr2200-0200"))
    add("Sat 01:30", ALLOW)("Fri 01:30", DENY)("Fri 21:59:59", DENY)("Fri 22:00:00", ALLOW)("Fri 23:59:59", ALLOW)
    add("Sat 00:00:00", ALLOW)("Sat 01:59:59", ALLOW)("Sat 22:30", DENY)("Sun 01:30", DENY)("Thu 23:00", DENY)
    add = p.policy("Fr2200-0200: the end minute is outside (half-open)", allow_deny("Fr2200-0200"))
    add("Sat 02:00:00", DENY)("Sat 02:00:59", DENY)
    add = p.policy("pam_time, for contrast, counts that end minute in", ["{service};*;{user};Fr2200-0200"],
                   module="pam_time")
    add("Sat 01:59:59", ALLOW)("Sat 02:00:00", ALLOW)("Sat 02:01:00", DENY)("Fri 01:30", DENY)
    add = p.policy("Sa2200-0200 wraps from Saturday to Sunday", allow_deny("Sa2200-0200"))
    add("Sat 23:00", ALLOW)("Sun 01:00", ALLOW)("Sun 02:00:00", DENY)("Mon 01:00", DENY)("Fri 23:00", DENY)
    add = p.policy("Mo2200-0000 ends at midnight: Tuesday 00:00 is outside", allow_deny("Mo2200-0000"))
    add("Mon 21:59:59", DENY)("Mon 22:00:00", ALLOW)("Mon 23:59:59", ALLOW)("Tue 00:00:00", DENY)
    add = p.policy("Mo2400-0300 is Tuesday 00:00-03:00", allow_deny("Mo2400-0300"))
    add("Mon 01:00", DENY)("Tue 00:00:00", ALLOW)("Tue 02:59:59", ALLOW)("Tue 03:00:00", DENY)
    add = p.policy("Al2200-0600 every night", allow_deny("Al2200-0600"))
    add("Sun 05:59:59", ALLOW)("Sun 06:00:00", DENY)("Wed 21:59:59", DENY)("Wed 22:00:00", ALLOW)

    # Negation.
    add = p.policy("!Wk0900-1700 is everything but office hours", allow_deny("!Wk0900-1700"))
    add("Mon 08:59:59", ALLOW)("Mon 09:00:00", DENY)("Mon 16:59:59", DENY)("Mon 17:00:00", ALLOW)
    add("Sat 10:00", ALLOW)
    add = p.policy("!SaSu is the working week", allow_deny("!SaSu"))
    add("Sat 12:00", DENY)("Sun 23:59:59", DENY)("Mon 00:00:00", ALLOW)("Fri 23:59:59", ALLOW)
    add = p.policy("!!Mo: two negations cancel", allow_deny("!!Mo"))
    add("Mon 12:00", ALLOW)("Tue 12:00", DENY)
    add = p.policy("! Fr2200-0200 (blank after '!') negates a crossing range", allow_deny("! Fr2200-0200"))
    add("Sat 01:00", DENY)("Sat 02:00:00", ALLOW)("Fri 12:00", ALLOW)

    # Day codes.
    add = p.policy("Wk is Monday to Friday, whole days", allow_deny("Wk"))
    add("Mon 00:00:00", ALLOW)("Fri 23:59:59", ALLOW)("Sat 00:00:00", DENY)("Sun 23:59:59", DENY)
    add = p.policy("Wd is Saturday and Sunday, whole days", allow_deny("Wd"))
    add("Sat 00:00:00", ALLOW)("Sun 23:59:59", ALLOW)("Mon 00:00:00", DENY)("Fri 23:59:59", DENY)
    add = p.policy("wkMO toggles Monday off (case-insensitive)", allow_deny("wkMO"))
    add("Mon 12:00", DENY)("Tue 12:00", ALLOW)("Fri 12:00", ALLOW)("Sat 12:00", DENY)
    add = p.policy("AlFr is every day but Friday", allow_deny("AlFr"))
    add("Fri 12:00", DENY)("Thu 12:00", ALLOW)("Sat 12:00", ALLOW)
    add = p.policy("WdSa0800-1200 is Sunday morning only", allow_deny("WdSa0800-1200"))
    add("Sun 09:00", ALLOW)("Sat 09:00", DENY)

    # Operators: strictly left to right, no precedence.
    add = p.policy("Wk0800-1800|SaSu", allow_deny("Wk0800-1800|SaSu"))
    add("Sat 03:00", ALLOW)("Wed 07:59:59", DENY)("Wed 08:00:00", ALLOW)("Wed 18:00:00", DENY)
    add = p.policy("Mo|Tu&Tu0800-0900 is (Mo|Tu)&Tu0800-0900", allow_deny("Mo|Tu&Tu0800-0900"))
    add("Mon 12:00", DENY)("Tue 08:30", ALLOW)("Tue 12:00", DENY)
    add = p.policy("Al0800-2000 & !Fr (blanks around operators)", allow_deny("Al0800-2000 & !Fr"))
    add("Fri 12:00", DENY)("Thu 12:00", ALLOW)("Thu 20:00:00", DENY)

    # Three-field lines mean every time; first match wins; no match allows.
    add = p.policy("three-field allow line: every time", ["+ : U : ALL", "- : U : ALL"])
    add("Mon 00:00:00", ALLOW)("Wed 12:34", ALLOW)("Sun 23:59:59", ALLOW)
    add = p.policy("three-field deny line: every time", ["- : U : ALL", "+ : U : ALL"])
    add("Mon 00:00:00", DENY)("Wed 12:34", DENY)("Sun 23:59:59", DENY)
    add = p.policy("a deny line with times only; no match allows", ["- : U : ALL : SaSu"])
    add("Sat 12:00", DENY)("Mon 12:00", ALLOW)
    add = p.policy("first match: timed deny, then allow", ["- : U : ALL : Wk0900-1700", "+ : U : ALL",
                                                             "- : ALL : ALL"])
    add("Mon 10:00", DENY)("Mon 18:00", ALLOW)
    add = p.policy("another user's timed line does not apply", ["+ : %s : ALL : Al0000-0001" % OTHER_USER,
                                                                 "- : %s : ALL" % OTHER_USER, "+ : U : ALL",
                                                                 "- : ALL : ALL"])
    add("Mon 12:00", ALLOW)
    add = p.policy("time field after an IPv6 origin", ["+ : U : ::1 tty1 : Wk0900-1700", "- : U : ALL"])
    add("Mon 10:00", ALLOW)("Mon 18:00", DENY)

    # A malformed time spec anywhere makes the policy invalid: everyone is
    # refused, even users the policy would otherwise allow.
    add = p.policy("control for the malformed specs: a valid spec on another user's line",
                   ["+ : U : ALL", "+ : %s : ALL : Mo0800-1000" % OTHER_USER])
    add("Mon 12:00", ALLOW)
    bad = ["MoMo0800-1000", "MoMo", "wkWK", "Wk0800-170", "Wk800-1700", "Wk0800", "Wk0800-", "Wk-1700",
           "Xx0800-1000", "Mon0800-1000", "Wk2500-2600", "Wk0860-0900", "Wk2401-0100", "Wk0800-1800|",
           "Wk0800-1800||Sa", "Wk0800-1800&", "Wk0800-1800 Sa", "Wk0800-1800!Sa", "Sa Su", "M", "Wk08:00-17:00",
           "Wk0800-1800-1900", "Wk00800-1800", "Wk0800-18000", "0800-1800", "!", "|Wk", "Al0000-2400 #x"]
    for b in bad:
        add = p.policy("malformed time spec %r on another user's line denies everyone" % b,
                       ["+ : U : ALL", "+ : %s : ALL : %s" % (OTHER_USER, b)])
        add("Mon 12:00", DENY)
    add = p.policy("malformed time spec on the user's own allow line denies", ["+ : U : ALL : Wk0800-170"])
    add("Mon 12:00", DENY)
    add = p.policy("malformed time spec on a deny line denies everyone",
                   ["- : %s : ALL : Sa0800-1000|" % OTHER_USER, "+ : U : ALL"])
    add("Mon 12:00", DENY)

    # TZ is honoured: the same instant, different local times.
    instant = UTC.epoch(1, 1, 16 * 60 + 30)  # Mon 2024-01-08 16:30:30 UTC
    zones = [(UTC, ALLOW), (Zone("<+09>-9", 9 * 3600), DENY), (Zone("<-05>5", -5 * 3600), ALLOW),
             (Zone("<-10>10", -10 * 3600), DENY), (Zone("<+0530>-05:30", 19800), DENY)]
    if have_tzdata:
        zones += [(Zone("Asia/Tokyo", 9 * 3600), DENY), (Zone("America/New_York", -5 * 3600), ALLOW)]
    add = p.policy("Wk0900-1700 at Mon 16:30:30 UTC in several zones", allow_deny("Wk0900-1700"))
    for z, want in zones:
        add(instant, want, z)
    late = UTC.epoch(1, 1, 23 * 60 + 30)  # Mon 23:30:30 UTC = Tue 08:30:30 in UTC+9
    add = p.policy("Mo (whole day) at Mon 23:30:30 UTC", allow_deny("Mo"))
    add(late, ALLOW, UTC)(late, DENY, Zone("<+09>-9", 9 * 3600))
    sunday = UTC.epoch(1, 0, 23 * 60 + 30)  # Sun 23:30:30 UTC = Mon 08:30:30 in UTC+9
    add(sunday, DENY, UTC)(sunday, ALLOW, Zone("<+09>-9", 9 * 3600))
    return p


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    timetest.add_common_arguments(parser)
    args = parser.parse_args()

    have_tzdata = all(os.path.exists(os.path.join("/usr/share/zoneinfo", z)) for z in ("Asia/Tokyo",
                                                                                      "America/New_York"))
    plan = build_plan(have_tzdata)
    bench = timetest.Bench(args)
    ok = False
    try:
        services = {}
        for c in plan.checks:
            key = (c.module, tuple(c.lines))
            if key not in services:
                if c.module == "ours":
                    services[key] = bench.ours_service(c.lines)
                else:
                    services[key] = bench.pam_time_service(c.lines)
        by_zone = collections.OrderedDict()
        for i, c in enumerate(plan.checks):
            by_zone.setdefault(c.zone.tz, []).append(i)
        batches = []
        for tz, idx in by_zone.items():
            zone = plan.checks[idx[0]].zone
            batches.append((zone, [(plan.checks[i].epoch, services[(plan.checks[i].module,
                                                                    tuple(plan.checks[i].lines))], USER)
                                   for i in idx]))
        results = bench.run_parallel(batches)

        failures = 0
        for (tz, idx), answers in zip(by_zone.items(), results):
            for i, (rc, wday, minute) in zip(idx, answers):
                c = plan.checks[i]
                if rc != c.want:
                    failures += 1
                    print("FAIL: %s\n      %s at %s (%s, epoch %d; the harness saw %s %s): got %s, want %s\n"
                          "      %s: %s" %
                          (c.policy, c.module, c.when, c.zone, c.epoch, timetest.DAY_NAMES[wday],
                           timetest.hhmm(minute), timetest.rc_name(rc), verdict(c.want),
                           "access.conf" if c.module == "ours" else "time.conf", " | ".join(c.lines)))
        total = len(plan.checks)
        print("%d boundary checks on %d policies in %d time zones: %d passed, %d failed" %
              (total, plan.policies, len(by_zone), total - failures, failures))
        if failures:
            sys.exit(1)
        ok = True
    finally:
        bench.cleanup(keep=not ok)


if __name__ == "__main__":
    main()
