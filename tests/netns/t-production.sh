#!/bin/bash
# A production build reads no test switch (issue 16, finding 8 and point 5;
# vmnet(8), ENVIRONMENT). Not part of make check, whose vmnet is a test
# build: build-aux/test.sh runs it with VMNET set to a build configured
# without --enable-test-hooks, and it cannot pass with a test build (the
# switches below would fail the apply, run a fake dnsmasq, move the state).
#
# Every switch is set to something that would show: VMNET_TEST_FAIL_AT=1
# (the apply would fail at its first step), VMNET_TEST_PAUSE_AT=1 (it would
# stop until killed), VMNET_DNSMASQ (a script that leaves a mark),
# VMNET_STATE_DIR / VMNET_RUN_DIR (lib.sh points them into $T). So the
# apply, in a throwaway namespace with a plan of its own, writes where a
# production vmnet does: RUNDIR (default /run/vmnet) and STATEDIR (default
# /var/lib/vmnet), under netns-NS/ and lock.netns-NS, which the test
# removes at the end (destroy first), with the directories themselves when
# it created them.
. "$top_srcdir/tests/netns/lib.sh"

real_state=${STATEDIR:-/var/lib/vmnet}
real_run=${RUNDIR:-/run/vmnet}
made=()
for d in "$real_state" "$real_run"; do [ -e "$d" ] || made+=("$d"); done

ns=$(newns prod) || { echo "FAIL: cannot create a network namespace"; exit 1; }
plan=$T/plan.xml
cat >"$plan" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-production">
  <network name="lab" mode="host-only" bridge="vt-prod">
    <subnet cidr="10.77.9.0/24" gateway="10.77.9.1">
      <dhcp start="10.77.9.100" end="10.77.9.150"/>
    </subnet>
  </network>
</plan>
XML
conf=$real_state/netns-$ns/dnsmasq/t-production/lab.conf
state=$real_state/netns-$ns/t-production.state

prod_cleanup() {
        local p
        "$VMNET" --netns "$ns" destroy "$plan" >/dev/null 2>&1
        for p in $(pgrep -f -- "--conf-file=$conf\$"); do kill "$p"; done
        rm -rf "$real_state/netns-$ns" "$real_run/netns-$ns"
        rm -f "$real_run/lock.netns-$ns" "$real_run"/confirm.netns-"$ns"*
        for p in "${made[@]}"; do rmdir "$p" 2>/dev/null; done
        cleanup
}
trap prod_cleanup EXIT

check "vmnet --version names no test build" sh -c "! '$VMNET' --version 2>/dev/null | grep -q 'test build'"

cat >"$T/fake-dnsmasq" <<EOF
#!/bin/sh
touch '$T/fake-dnsmasq-ran'
EOF
chmod +x "$T/fake-dnsmasq"
# 1. Where it writes and what it runs: VMNET_DNSMASQ, VMNET_STATE_DIR, VMNET_RUN_DIR.
VMNET_DNSMASQ=$T/fake-dnsmasq VMNET_UNPLUG_TIMEOUT=1 vm "$ns" apply "$plan"; rc=$?
check "apply with VMNET_DNSMASQ, VMNET_STATE_DIR, VMNET_RUN_DIR set succeeds (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/    | /' "$T/err" | head -20
check "the VMNET_DNSMASQ program never ran" test ! -e "$T/fake-dnsmasq-ran"
pid=$(pgrep -f -- "--conf-file=$conf\$" | head -1)
check "the dnsmasq serving the network is /usr/sbin/dnsmasq" test "$(readlink "/proc/${pid:-0}/exe")" = /usr/sbin/dnsmasq
check "the state file is under $real_state" test -f "$state"
check "the lock is under $real_run" test -f "$real_run/lock.netns-$ns"
check "nothing was written under VMNET_STATE_DIR or VMNET_RUN_DIR" test ! -e "$VMNET_STATE_DIR" -a ! -e "$VMNET_RUN_DIR"
check "the bridge is there (ip -j link)" jtrue '.[0].linkinfo.info_kind == "bridge"' ip -n "$ns" -d -j link show vt-prod
check "the gateway address is on it" jtrue 'any(.[0].addr_info[]; .local == "10.77.9.1")' ip -n "$ns" -j addr show vt-prod
check "destroy" vm "$ns" destroy "$plan"
check "destroy stopped dnsmasq" sh -c "! pgrep -f -- '--conf-file=$conf\$' >/dev/null"
check "destroy removed the state file" test ! -e "$state"

# 2. What it does: VMNET_TEST_FAIL_AT, VMNET_TEST_PAUSE_AT, VMNET_DNSMASQ_SUPERVISOR
# (systemd: where none answers, the start would fail) (and all seven for the message).
export VMNET_DNSMASQ=$T/fake-dnsmasq VMNET_TEST_FAIL_AT=1 VMNET_TEST_PAUSE_AT=1 VMNET_UNPLUG_TIMEOUT=1 \
        VMNET_DNSMASQ_SUPERVISOR=systemd
# A test build stops before its first step (VMNET_TEST_PAUSE_AT): timeout ends that.
timeout 60 "$VMNET" --netns "$ns" apply --confirm-within 600 "$plan" >"$T/out" 2>"$T/err"; rc=$?
check "a safe apply with every test switch set succeeds (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/    | /' "$T/err" | head -20
check "stderr says once that the switches are ignored" test "$(grep -c '^vmnet: ignoring ' "$T/err")" = 1
for v in VMNET_TEST_FAIL_AT VMNET_TEST_PAUSE_AT VMNET_DNSMASQ VMNET_STATE_DIR VMNET_RUN_DIR VMNET_UNPLUG_TIMEOUT \
        VMNET_DNSMASQ_SUPERVISOR; do
        check "... naming $v" grep -q "^vmnet: ignoring .*\\b$v\\b" "$T/err"
done
check "the bridge is there (ip -j link)" jtrue '.[0].linkinfo.info_kind == "bridge"' ip -n "$ns" -d -j link show vt-prod
check "confirm keeps the apply" vm "$ns" confirm
check "destroy" vm "$ns" destroy "$plan"
check "nothing was written under VMNET_STATE_DIR or VMNET_RUN_DIR" test ! -e "$VMNET_STATE_DIR" -a ! -e "$VMNET_RUN_DIR"
finish
