#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Checks the boot units of ringfence-firewall without touching the host:
#  - etc/init.d/ringfence-firewall parses (`sh -n`, and dash/bash when
#    present), and every action calls the program with the documented
#    arguments and maps its exit status as documented (LSB). The script runs
#    against a fake ringfence-firewall that records its arguments, through the
#    script's test hooks RINGFENCE_FIREWALL_BIN, RINGFENCE_FIREWALL_SYSCONFIG
#    and RINGFENCE_FIREWALL_LOCKFILE, all pointing into a temporary directory.
#  - etc/systemd/ringfence-firewall.service passes `systemd-analyze verify`
#    (skipped when systemd-analyze is missing), against a temporary root
#    holding the unit and a stub /usr/sbin/ringfence-firewall.
# Usage: boot_units_check.sh SOURCE_DIR
set -u
src=${1:?usage: boot_units_check.sh SOURCE_DIR}
script=$src/etc/init.d/ringfence-firewall
unit=$src/etc/systemd/ringfence-firewall.service

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rf-boot-units.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

fail=0
ok() { echo "ok   $1"; }
bad() {
    echo "FAIL: $1"
    fail=1
}

# --- init script: syntax -----------------------------------------------------
for sh in sh dash bash; do
    command -v "$sh" >/dev/null || continue
    if "$sh" -n "$script"; then ok "$sh -n init script"; else bad "$sh -n init script"; fi
done
head -n 1 "$script" | grep -qx '#!/bin/sh' || bad "init script does not start with #!/bin/sh"
grep -q '^# chkconfig: 2345 08 92$' "$script" || bad "chkconfig header missing"
if ! grep -q '^### BEGIN INIT INFO$' "$script" || ! grep -q '^### END INIT INFO$' "$script"; then
    bad "LSB header missing"
fi
grep -q '^RINGFENCE_FIREWALL_CONF=/etc/ringfence/firewall.conf$' "$script" || bad "default FILE is not /etc/ringfence/firewall.conf"
grep -q '/usr/sbin/ringfence-firewall boot /etc/ringfence/firewall.conf$' "$unit" || bad "unit ExecStart differs from the documented command"

# --- init script: behaviour against a fake program ------------------------------
fake=$tmp/ringfence-firewall
cat >"$fake" <<'EOF'
#!/bin/sh
# Fake ringfence-firewall: records its arguments (and two variables that the
# init script must pass on), exits with $FAKE_RC.
{
    printf '%s\n' "$*"
    printf 'backend=%s\n' "${RINGFENCE_FIREWALL_BACKEND-unset}"
} >>"$FAKE_LOG"
exit "${FAKE_RC:-0}"
EOF
chmod 755 "$fake"
conf=$tmp/firewall.conf
: >"$conf"
sysconfig=$tmp/sysconfig
lock=$tmp/subsys-lock

# run NAME EXPECTED_STATUS EXPECTED_ARGS FAKE_RC ACTION: runs the init script
# (with sh) and compares its exit status and the program's arguments
# (EXPECTED_ARGS "-" means: the program must not run).
run() {
    name=$1 want_rc=$2 want_args=$3 fake_rc=$4 action=$5
    : >"$tmp/log"
    FAKE_LOG=$tmp/log FAKE_RC=$fake_rc RINGFENCE_FIREWALL_BIN=$fake RINGFENCE_FIREWALL_SYSCONFIG=$sysconfig \
        RINGFENCE_FIREWALL_LOCKFILE=$lock sh "$script" "$action" >"$tmp/out" 2>&1
    rc=$?
    args=$(sed -n 1p "$tmp/log")
    [ -s "$tmp/log" ] || args=-
    if [ "$rc" = "$want_rc" ] && [ "$args" = "$want_args" ]; then
        ok "$name"
    else
        bad "$name: status $rc (want $want_rc), program called with '$args' (want '$want_args')"
        sed 's/^/    /' "$tmp/out"
    fi
}

printf 'RINGFENCE_FIREWALL_CONF=%s\n' "$conf" >"$sysconfig"
rm -f "$lock"
run "start runs boot FILE" 0 "boot $conf" 0 start
if [ -f "$lock" ]; then ok "start creates the lock file"; else bad "start did not create the lock file"; fi
run "start: boot fails -> 1" 1 "boot $conf" 1 start
run "start: boot refused -> 1" 1 "boot $conf" 4 start
run "restart runs boot FILE (no stop first)" 0 "boot $conf" 0 restart
run "reload runs boot FILE" 0 "boot $conf" 0 reload
run "force-reload runs boot FILE" 0 "boot $conf" 0 force-reload
run "status runs status FILE" 0 "status $conf" 0 status
run "status: drift -> 3" 3 "status $conf" 1 status
run "status: program error -> 4" 4 "status $conf" 2 status
run "condrestart with lock runs boot FILE" 0 "boot $conf" 0 condrestart
run "stop leaves the rules alone" 0 - 0 stop
if [ -f "$lock" ]; then bad "stop did not remove the lock file"; else ok "stop removes the lock file"; fi
run "condrestart without lock does nothing" 0 - 0 condrestart
run "try-restart without lock does nothing" 0 - 0 try-restart
run "unknown action -> 2" 2 - 0 frobnicate
run "no action -> 2" 2 - 0 ""

printf 'RINGFENCE_FIREWALL_CONF=%s\nRINGFENCE_FIREWALL_FLUSH_ON_STOP=yes\n' "$conf" >"$sysconfig"
run "stop with FLUSH_ON_STOP=yes runs flush" 0 "flush" 0 stop
run "stop: flush fails -> 1" 1 "flush" 3 stop

printf 'RINGFENCE_FIREWALL_CONF=%s\nRINGFENCE_FIREWALL_BACKEND=nft\n' "$conf" >"$sysconfig"
run "start with a backend set" 0 "boot $conf" 0 start
if grep -qx 'backend=nft' "$tmp/log"; then
    ok "RINGFENCE_FIREWALL_BACKEND passed on"
else
    bad "RINGFENCE_FIREWALL_BACKEND not passed on"
fi

printf 'RINGFENCE_FIREWALL_CONF=%s\n' "$tmp/missing.conf" >"$sysconfig"
run "start: FILE missing -> 6, program not run" 6 - 0 start

printf 'RINGFENCE_FIREWALL_CONF=%s\n' "$conf" >"$sysconfig"
mv "$fake" "$fake.away"
run "start: program missing -> 5" 5 - 0 start
run "status: program missing -> 4" 4 - 0 status
mv "$fake.away" "$fake"

# --- systemd unit ------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    root=$tmp/root
    mkdir -p "$root/usr/sbin" "$root/etc/systemd/system"
    printf '#!/bin/sh\nexit 0\n' >"$root/usr/sbin/ringfence-firewall"
    chmod 755 "$root/usr/sbin/ringfence-firewall"
    cp "$unit" "$root/etc/systemd/system/"
    if systemd-analyze verify --man=no --root="$root" ringfence-firewall.service >"$tmp/verify" 2>&1 &&
        [ ! -s "$tmp/verify" ]; then
        ok "systemd-analyze verify"
    elif grep -q -e "unrecognized option" -e "unknown option" "$tmp/verify"; then
        # An old systemd-analyze without --root/--man: verify in place and
        # accept only the complaint about the binary not being installed.
        systemd-analyze verify "$unit" 2>&1 | grep -v -e 'ringfence-firewall is not executable' -e "Command 'man " >"$tmp/verify"
        if [ -s "$tmp/verify" ]; then
            bad "systemd-analyze verify"
            sed 's/^/    /' "$tmp/verify"
        else
            ok "systemd-analyze verify (in place)"
        fi
    else
        bad "systemd-analyze verify"
        sed 's/^/    /' "$tmp/verify"
    fi
else
    echo "skip systemd-analyze verify (systemd-analyze not installed)"
fi

exit $fail
