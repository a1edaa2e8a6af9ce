#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Loads each golden nftables script in tests/golden/firewall for real, inside
# a private network namespace (`unshare -n`: never the host's firewall):
#   nft -c -f (check), then nft -f twice (the script must replace the table
#   whether or not it exists), then `nft list table inet ringfence` must
#   succeed and be the same after both loads; a foreign table loaded first
#   must survive untouched.
# With FIREWALL_GOLDEN (the firewall_golden program) as second argument, it
# also renders and loads edge cases that the goldens do not hold: empty sets,
# overlapping and duplicate set entries, /0, overlapping ports, icmp without
# types, a v6-only rule, reject out by default.
# Exit 77 (skipped) when not root or unshare/nft are missing.
set -u
dir=${1:?usage: nft_check.sh GOLDEN_DIR [FIREWALL_GOLDEN]}
golden_bin=${2:-}
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v nft >/dev/null; then
    echo "SKIP: needs root, unshare and nft"
    exit 77
fi
if [ -z "${RF_IN_NETNS:-}" ]; then
    if ! unshare -n true 2>/dev/null; then
        echo "SKIP: cannot create a network namespace"
        exit 77
    fi
    RF_IN_NETNS=1 exec unshare -n "$0" "$@"
fi

fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Someone else's table: loading ours must leave it alone.
nft -f - <<'EOF' || { echo "FAIL: cannot load the foreign table"; exit 1; }
table inet other {
	chain c {
		type filter hook input priority 0; policy accept;
		tcp dport 9 counter accept
	}
}
EOF
nft list table inet other > "$tmp/other.before"

check_one() {  # file.nft
    f=$1
    name=$(basename "$f")
    nft delete table inet ringfence 2>/dev/null
    if ! nft -c -f "$f"; then
        echo "FAIL: nft -c -f $name"
        return 1
    fi
    if ! nft -f "$f"; then
        echo "FAIL: nft -f $name (table absent)"
        return 1
    fi
    if ! nft list table inet ringfence > "$tmp/first"; then
        echo "FAIL: nft list table inet ringfence after $name"
        return 1
    fi
    if ! nft -f "$f"; then
        echo "FAIL: nft -f $name (table present)"
        return 1
    fi
    if ! nft list table inet ringfence > "$tmp/second"; then
        echo "FAIL: nft list table inet ringfence after reloading $name"
        return 1
    fi
    if ! cmp -s "$tmp/first" "$tmp/second"; then
        echo "FAIL: $name: the table differs after the second load"
        diff "$tmp/first" "$tmp/second"
        return 1
    fi
    if [ "$(nft list tables | grep -c '^table inet ringfence$')" != 1 ]; then
        echo "FAIL: $name: table inet ringfence not there exactly once"
        return 1
    fi
    for c in input output log_drop log_reject; do
        if ! nft list chain inet ringfence "$c" >/dev/null; then
            echo "FAIL: $name: chain $c missing"
            return 1
        fi
    done
    nft list table inet other > "$tmp/other.after"
    if ! cmp -s "$tmp/other.before" "$tmp/other.after"; then
        echo "FAIL: $name: table inet other changed"
        return 1
    fi
    echo "ok   $name"
}

found=0
for f in "$dir"/*.nft; do
    [ -f "$f" ] || continue
    found=1
    check_one "$f" || fail=1
done
if [ $found = 0 ]; then
    echo "FAIL: no .nft files in $dir"
    fail=1
fi

if [ -n "$golden_bin" ]; then
    edge=$tmp/edge
    mkdir "$edge"
    printf '' > "$edge/empty.set"
    printf '%s\n' 198.51.100.0/24 198.51.100.7 198.51.100.7 198.51.100.0/25 10.0.0.0/8 10.0.0.0/8 \
        ::ffff:203.0.113.50 2001:db8::/32 2001:db8:1::/48 > "$edge/overlap.set"
    printf '0.0.0.0/0\n::/0\n' > "$edge/all.set"
    printf '2001:db8:5::/48\n' > "$edge/v6only.set"
    cat > "$edge/edge.conf" <<'EOF'
policy in reject
policy out reject
service web tcp/80,443,440-450,443 tcp/8000-8080,8080-8090
set none file empty.set
set over file overlap.set
set every file all.set
set six file v6only.set
deny in from none
deny in tcp from over 192.0.2.0/24 192.0.2.5 2001:db8::/32 2001:db8:1::1
reject in udp/53 from six
allow in web from every
allow in icmp icmpv6 from any
allow in icmp/0,8,8 from 2001:db8::/32
allow in all from 0.0.0.0/0
allow out all to any
allow out udp/123 to none
log denied rate 1/day
EOF
    printf 'service ssh tcp/22\nallow in ssh from 2001:db8::/32\npolicy out drop\n' > "$edge/v6rule.conf"
    if ! "$golden_bin" --update "$edge" > /dev/null; then
        echo "FAIL: cannot render the edge cases"
        fail=1
    fi
    for f in "$edge"/*.nft; do
        [ -f "$f" ] || continue
        check_one "$f" || fail=1
    done
fi

nft delete table inet ringfence 2>/dev/null
exit $fail
