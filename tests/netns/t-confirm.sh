#!/bin/bash
# Safe apply (apply --confirm-within + vmnet confirm) against a real kernel,
# in private network namespaces: an unconfirmed apply puts the namespace back
# as it was by itself, a confirmed one stays, also when the applying process
# is killed with SIGKILL after the apply or in the middle of it.
. "$top_srcdir/tests/netns/lib.sh"

base=$PLANS/base.xml
changed=$PLANS/changed.xml

# settled NS: waits (up to 15 s) until no watchdog holds the namespace's lock.
settled() { flock -w 15 "$VMNET_RUN_DIR/lock.netns-$1" true; }
quiet() { "$@" >/dev/null 2>&1; }
record() { echo "$VMNET_RUN_DIR/confirm.netns-$1"; }
state_file() { echo "$VMNET_STATE_DIR/netns-$1/t-engine.state"; }
# pending NS: waits (up to 10 s) until the apply was handed to the watchdog.
pending() {
        local i
        for i in $(seq 100); do
                grep -q '^state=pending' "$(record "$1")" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}

# --- not confirmed: rolled back by itself -----------------------------------------------
ns=$(newns unconfirmed)
snapshot "$ns" "$T/before"
start=$(date +%s)
vm "$ns" apply --confirm-within 2 "$base"; rc=$?
check "apply --confirm-within succeeds" test "$rc" = 0
check "it says how to confirm" grep -q "vmnet --netns $ns confirm' within" "$T/err"
check "the bridges exist during the window" quiet ip -n "$ns" link show vt-lab
check "the record is pending" grep -q '^state=pending' "$(record "$ns")"
vm "$ns" apply "$base"; rc=$?
check "another apply is refused during the window" test "$rc" = 1
check "the refusal says a confirmation is awaited" grep -q "awaiting confirm" "$T/err"
check "the watchdog finishes" settled "$ns"
check "it waited for the deadline" test $(($(date +%s) - start)) -ge 2
snapshot "$ns" "$T/after"
same "unconfirmed apply: the namespace is back to its snapshot" "$T/before" "$T/after"
check "unconfirmed apply: the state file is gone again" test ! -e "$(state_file "$ns")"
check "unconfirmed apply: no record left" test ! -e "$(record "$ns")"
vm "$ns" confirm; rc=$?
check "a late confirm exits 1" test "$rc" = 1
check "a late confirm says it was rolled back" grep -q "rolled back" "$T/err"
"$VMNET" --netns "$ns" --json confirm >"$T/out"
check "confirm --json reports the rollback" jtrue '.confirmed == false and .last.state == "rolled-back" and .last.undone > 0' cat "$T/out"

# --- confirmed: stays -----------------------------------------------------------------
ns=$(newns confirmed)
vm "$ns" apply --confirm-within 3 "$base"
snapshot "$ns" "$T/applied"
vm "$ns" confirm; rc=$?
check "confirm succeeds" test "$rc" = 0
check "confirm names the plan" grep -q "plan 't-engine'" "$T/out"
vm "$ns" apply "$base"; rc=$?
check "the lock is free right after confirm" test "$rc" = 0
sleep 3.5
snapshot "$ns" "$T/later"
same "confirmed apply: still applied after the deadline" "$T/applied" "$T/later"
vm "$ns" confirm; rc=$?
check "a second confirm finds nothing pending" test "$rc" = 1

# --- a changed plan, not confirmed: back to the previous plan, state file included ------
ns=$(newns change)
vm "$ns" apply "$base"
snapshot "$ns" "$T/c-before"
cp "$(state_file "$ns")" "$T/c-state"
vm "$ns" apply --confirm-within 2 "$changed"; rc=$?
check "changed plan applied with --confirm-within" test "$rc" = 0
check "the change is visible during the window" jtrue '.[0].mtu == 1400' ip -n "$ns" -j link show vt-lab
settled "$ns"
snapshot "$ns" "$T/c-after"
same "unconfirmed change: back to the previous plan" "$T/c-before" "$T/c-after"
check "unconfirmed change: the state file is as before" cmp -s "$T/c-state" "$(state_file "$ns")"

# --- SIGKILL of the applying process right after the apply ---------------------------------
ns=$(newns killed)
snapshot "$ns" "$T/k-before"
"$VMNET" --netns "$ns" apply --confirm-within 2 "$base" >/dev/null 2>&1 & pid=$!
pending "$ns"
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
settled "$ns"
snapshot "$ns" "$T/k-after"
same "killed after the apply, not confirmed: rolled back" "$T/k-before" "$T/k-after"

ns=$(newns killed-confirmed)
"$VMNET" --netns "$ns" apply --confirm-within 3 "$base" >/dev/null 2>&1 & pid=$!
pending "$ns"
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
snapshot "$ns" "$T/kc-applied"
vm "$ns" confirm; rc=$?
check "killed after the apply: confirm from another process works" test "$rc" = 0
sleep 3.5
snapshot "$ns" "$T/kc-later"
same "killed after the apply, confirmed: stays" "$T/kc-applied" "$T/kc-later"

# --- SIGKILL in the middle of the apply: undone at once, long before the deadline -------------
ns=$(newns midway)
snapshot "$ns" "$T/m-before"
VMNET_TEST_PAUSE_AT=7 "$VMNET" --netns "$ns" apply --confirm-within 60 "$base" >"$T/m-out" 2>&1 & pid=$!
for i in $(seq 100); do grep -q '\[7/' "$T/m-out" && break; sleep 0.1; done
check "paused in the middle with bridges made and the uplink enslaved" \
        jtrue '.[0].master == "vt-lan"' ip -n "$ns" -j link show vt-up0
start=$(date +%s)
kill -9 "$pid"; wait "$pid" 2>/dev/null
check "the watchdog finishes" settled "$ns"
check "killed mid-apply: undone at once (not at the 60 s deadline)" test $(($(date +%s) - start)) -lt 10
snapshot "$ns" "$T/m-after"
same "killed mid-apply: the namespace is back to its snapshot" "$T/m-before" "$T/m-after"
check "the last outcome says why" grep -q '^reason=the applying process ended before the apply was complete' "$(record "$ns").last"

# --- a logout that stops the watchdog (SIGTERM) undoes at once -------------------------------
ns=$(newns term)
snapshot "$ns" "$T/t-before"
vm "$ns" apply --confirm-within 60 "$base"
wpid=$(sed -n 's/^pid=//p' "$(record "$ns")")
kill -TERM "$wpid"
check "SIGTERM: the watchdog finishes" settled "$ns"
snapshot "$ns" "$T/t-after"
same "SIGTERM to the watchdog: rolled back" "$T/t-before" "$T/t-after"

# --- a watchdog killed with SIGKILL: confirm keeps the apply and says so ------------------------
ns=$(newns wdkill)
vm "$ns" apply --confirm-within 60 "$base"
wpid=$(sed -n 's/^pid=//p' "$(record "$ns")")
kill -9 "$wpid"
settled "$ns"
vm "$ns" confirm; rc=$?
check "confirm after the watchdog died: exit 0" test "$rc" = 0
check "confirm after the watchdog died: says so" grep -q "no longer running" "$T/err"
check "the apply stays" quiet ip -n "$ns" link show vt-lab

# --- a failing apply under --confirm-within undoes itself; the watchdog does nothing --------------
ns=$(newns fail)
snapshot "$ns" "$T/f-before"
VMNET_TEST_FAIL_AT=4 vm "$ns" apply --confirm-within 2 "$base"; rc=$?
check "failing apply exits 1" test "$rc" = 1
check "the watchdog finishes at once" settled "$ns"
check "no record left" test ! -e "$(record "$ns")"
snapshot "$ns" "$T/f-after"
same "failing apply with --confirm-within: the namespace is back" "$T/f-before" "$T/f-after"

finish
