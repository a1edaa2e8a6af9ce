#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Loads each golden rendering in tests/golden/firewall for real, inside a
# private network namespace (`unshare -n`: never the host's firewall), with
# every iptables backend present (nft, legacy):
#   ipset restore; iptables-restore --test, then --noflush (twice: the second
#   time without the hook lines, as the applier does when `-C` finds them);
#   the INPUT/OUTPUT jumps must then exist exactly once, at position 1; the
#   ipset input must load twice (create -exist, flush). Same for IPv6.
# Exit 77 (skipped) when not root or the tools are missing.
set -u
dir=${1:?usage: restore_check.sh GOLDEN_DIR}
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v iptables-restore >/dev/null ||
   ! command -v ipset >/dev/null; then
    echo "SKIP: needs root, unshare, iptables and ipset"
    exit 77
fi
if [ -z "${RF_IN_NETNS:-}" ]; then
    RF_IN_NETNS=1 exec unshare -n "$0" "$@"
fi

fail=0
backends=""
for b in nft legacy; do
    command -v "iptables-$b-restore" >/dev/null && backends="$backends $b"
done
[ -n "$backends" ] || backends=" default"

check_hooks() {  # tool chain target
    n=$("$1" -w 5 -S "$2" | grep -c -- "-j $3\$")
    first=$("$1" -w 5 -S "$2" | sed -n 2p)
    if [ "$n" != 1 ] || [ "$first" != "-A $2 -j $3" ]; then
        echo "FAIL: $1 $2: $n jumps to $3, first rule '$first'"
        return 1
    fi
}

for conf in "$dir"/*.conf; do
    name=${conf%.conf}
    [ -f "$name.iptables" ] || continue
    for b in $backends; do
        if [ "$b" = default ]; then ipt=iptables; ip6t=ip6tables; else ipt=iptables-$b; ip6t=ip6tables-$b; fi
        # A clean slate for each case: our chains and sets from the last one go.
        for t in $ipt $ip6t; do
            $t -w 5 -F 2>/dev/null; $t -w 5 -X 2>/dev/null
        done
        ipset destroy 2>/dev/null
        ok=1
        if [ -s "$name.ipset" ]; then
            ipset restore < "$name.ipset" && ipset restore < "$name.ipset" || { echo "FAIL: ipset restore $name.ipset"; ok=0; }
        fi
        for pair in "$ipt:iptables" "$ip6t:ip6tables"; do
            tool=${pair%%:*}; ext=${pair#*:}
            "$tool-restore" -w 5 --test --noflush < "$name.$ext" || { echo "FAIL: $tool-restore --test $name.$ext"; ok=0; continue; }
            "$tool-restore" -w 5 --noflush < "$name.$ext" || { echo "FAIL: $tool-restore $name.$ext"; ok=0; continue; }
            grep -v '^-I ' "$name.$ext" | "$tool-restore" -w 5 --noflush ||
                { echo "FAIL: $tool-restore (reload without hooks) $name.$ext"; ok=0; continue; }
            check_hooks "$tool" INPUT RINGFENCE-IN || ok=0
            check_hooks "$tool" OUTPUT RINGFENCE-OUT || ok=0
        done
        if [ $ok = 1 ]; then echo "ok   $(basename "$name") ($b)"; else fail=1; fi
    done
done
exit $fail
