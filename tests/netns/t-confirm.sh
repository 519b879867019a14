#!/bin/bash
# Safe apply (apply --confirm-within + vmnet confirm) against a real kernel,
# in private network namespaces: an unconfirmed apply puts the namespace back
# as it was by itself, a confirmed one stays, also when the applying process
# is killed with SIGKILL after the apply or in the middle of it.
. "$top_srcdir/tests/netns/lib.sh"

base=$PLANS/base.xml
changed=$PLANS/changed.xml

# Nothing here races the clock: the test must pass on a loaded machine, and
# under emulation (tests/vm/run-suite tests/netns/t-confirm.sh), where a
# command can take seconds.  Every check waits for an event (a record's state, the watchdog letting the
# lock go, a line of output, the clock passing a deadline the watchdog wrote)
# within a generous bound, and an apply meant to be rolled back by its
# deadline gets WINDOW seconds, far more than the few commands checked inside
# its window.  The five cases that wait for a deadline run side by side, so
# the test waits it out once.  Cases that must not reach a deadline get one of
# an hour.
WINDOW=${VMNET_TEST_CONFIRM_WINDOW:-30}
NEVER=3600
BOUND=${VMNET_TEST_WAIT:-300}   # how long an awaited event may take before the check fails

# settled NS: waits until no watchdog holds the namespace's lock.
settled() { flock -w "$((WINDOW + BOUND))" "$VMNET_RUN_DIR/lock.netns-$1" true; }
quiet() { "$@" >/dev/null 2>&1; }
record() { echo "$VMNET_RUN_DIR/confirm.netns-$1"; }
state_file() { echo "$VMNET_STATE_DIR/netns-$1/t-engine.state"; }
field() { sed -n "s/^$2=//p" "$1" 2>/dev/null; } # field FILE KEY
is_pending() { grep -q '^state=pending' "$(record "$1")" 2>/dev/null; }
# pending NS: waits until the apply was handed to the watchdog.
pending() { wait_for "$BOUND" is_pending "$1"; }
# past EPOCH: waits until the clock has passed EPOCH (a deadline a record gave).
past() {
        [[ $1 =~ ^[0-9]+$ ]] || return 1
        while (($(date +%s) <= $1)); do sleep 0.5; done
}
# has_lab FILE: a snapshot with the plan's bridge in it (an applied namespace).
has_lab() { grep -q '"ifname": "vt-lab"' "$1"; }

# A failed run leaves no watchdog or paused apply behind (they wait for an hour).
stop_leftovers() {
        local f pid
        for f in "$VMNET_RUN_DIR"/confirm.netns-*; do
                case $f in *.log | *.last) continue ;; esac
                pid=$(field "$f" pid)
                [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == *vmnet* ]] && kill -9 "$pid"
        done
        [[ -n ${paused_pid:-} ]] && kill -9 "$paused_pid" 2>/dev/null
        cleanup
}
trap stop_leftovers EXIT

# --- five applies whose deadline passes, side by side ---------------------------------------

# Not confirmed: rolled back by itself.
ns_u=$(newns unconfirmed)
snapshot "$ns_u" "$T/before"
vm "$ns_u" apply --confirm-within "$WINDOW" "$base"; rc=$?
check "apply --confirm-within succeeds" test "$rc" = 0
check "it says how to confirm" grep -q "vmnet --netns $ns_u confirm' within" "$T/err"
deadline_u=$(field "$(record "$ns_u")" deadline)
check "the bridges exist during the window" quiet ip -n "$ns_u" link show vt-lab
check "the record is pending" is_pending "$ns_u"
vm "$ns_u" apply "$base"; rc=$?
check "another apply is refused during the window" test "$rc" = 1
check "the refusal says a confirmation is awaited" grep -q "awaiting confirm" "$T/err"
check "still pending after these checks: they ran inside the window" is_pending "$ns_u"

# Confirmed: stays.
ns_c=$(newns confirmed)
vm "$ns_c" apply --confirm-within "$WINDOW" "$base"
deadline_c=$(field "$(record "$ns_c")" deadline)
vm "$ns_c" confirm; rc=$?
check "confirm succeeds" test "$rc" = 0
check "confirm names the plan" grep -q "plan 't-engine'" "$T/out"
snapshot "$ns_c" "$T/applied"
check "confirmed: the plan is applied" has_lab "$T/applied"
vm "$ns_c" apply "$base"; rc=$?
check "the lock is free right after confirm" test "$rc" = 0

# A changed plan, not confirmed: back to the previous plan, state file included.
ns_ch=$(newns change)
vm "$ns_ch" apply "$base"
snapshot "$ns_ch" "$T/c-before"
cp "$(state_file "$ns_ch")" "$T/c-state"
vm "$ns_ch" apply --confirm-within "$WINDOW" "$changed"; rc=$?
check "changed plan applied with --confirm-within" test "$rc" = 0
check "the change is visible during the window" jtrue '.[0].mtu == 1400' ip -n "$ns_ch" -j link show vt-lab

# SIGKILL of the applying process right after the apply, not confirmed.
ns_k=$(newns killed)
snapshot "$ns_k" "$T/k-before"
"$VMNET" --netns "$ns_k" apply --confirm-within "$WINDOW" "$base" >/dev/null 2>&1 & pid=$!
check "killed after the apply: the apply was handed to the watchdog" pending "$ns_k"
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null

# The same, confirmed from another process.
ns_kc=$(newns killed-confirmed)
"$VMNET" --netns "$ns_kc" apply --confirm-within "$WINDOW" "$base" >/dev/null 2>&1 & pid=$!
pending "$ns_kc"
deadline_kc=$(field "$(record "$ns_kc")" deadline)
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
vm "$ns_kc" confirm; rc=$?
check "killed after the apply: confirm from another process works" test "$rc" = 0
snapshot "$ns_kc" "$T/kc-applied"
check "killed after the apply, confirmed: the plan is applied" has_lab "$T/kc-applied"

# --- their deadlines pass -------------------------------------------------------------------

check "the watchdog finishes" settled "$ns_u"
check "it waited for the deadline" test "$(date +%s)" -ge "${deadline_u:-99999999999}"
snapshot "$ns_u" "$T/after"
same "unconfirmed apply: the namespace is back to its snapshot" "$T/before" "$T/after"
check "unconfirmed apply: the state file is gone again" test ! -e "$(state_file "$ns_u")"
check "unconfirmed apply: no record left" test ! -e "$(record "$ns_u")"
vm "$ns_u" confirm; rc=$?
check "a late confirm exits 1" test "$rc" = 1
check "a late confirm says it was rolled back" grep -q "rolled back" "$T/err"
"$VMNET" --netns "$ns_u" --json confirm >"$T/out"
check "confirm --json reports the rollback" jtrue '.confirmed == false and .last.state == "rolled-back" and .last.undone > 0' cat "$T/out"

check "confirmed apply: its deadline passes" past "$deadline_c"
snapshot "$ns_c" "$T/later"
same "confirmed apply: still applied after the deadline" "$T/applied" "$T/later"
vm "$ns_c" confirm; rc=$?
check "a second confirm finds nothing pending" test "$rc" = 1

settled "$ns_ch"
snapshot "$ns_ch" "$T/c-after"
same "unconfirmed change: back to the previous plan" "$T/c-before" "$T/c-after"
check "unconfirmed change: the state file is as before" cmp -s "$T/c-state" "$(state_file "$ns_ch")"

settled "$ns_k"
snapshot "$ns_k" "$T/k-after"
same "killed after the apply, not confirmed: rolled back" "$T/k-before" "$T/k-after"

past "$deadline_kc"
snapshot "$ns_kc" "$T/kc-later"
same "killed after the apply, confirmed: stays" "$T/kc-applied" "$T/kc-later"

# --- SIGKILL in the middle of the apply: undone at once, long before the deadline -------------
ns=$(newns midway)
snapshot "$ns" "$T/m-before"
# The pause hook holds the apply before its step 11 (after the five bridges,
# the four sysctls of the bridges without host presence and the enslaved
# uplink) until it is killed.
VMNET_TEST_PAUSE_AT=11 "$VMNET" --netns "$ns" apply --confirm-within "$NEVER" "$base" >"$T/m-out" 2>&1 & paused_pid=$!
at_step_11() { grep -q '\[11/' "$T/m-out"; }
check "the apply pauses at its step 11" wait_for "$BOUND" at_step_11
check "paused in the middle with bridges made and the uplink enslaved" \
        jtrue '.[0].master == "vt-lan"' ip -n "$ns" -j link show vt-up0
start=$(date +%s)
kill -9 "$paused_pid"; wait "$paused_pid" 2>/dev/null; paused_pid=
check "the watchdog finishes" settled "$ns"
check "killed mid-apply: undone at once (not at the $NEVER s deadline)" test $(($(date +%s) - start)) -lt "$NEVER"
snapshot "$ns" "$T/m-after"
same "killed mid-apply: the namespace is back to its snapshot" "$T/m-before" "$T/m-after"
check "the last outcome says why" grep -q '^reason=the applying process ended before the apply was complete' "$(record "$ns").last"

# --- a logout that stops the watchdog (SIGTERM) undoes at once -------------------------------
ns=$(newns term)
snapshot "$ns" "$T/t-before"
vm "$ns" apply --confirm-within "$NEVER" "$base"
wpid=$(field "$(record "$ns")" pid)
kill -TERM "$wpid"
check "SIGTERM: the watchdog finishes" settled "$ns"
snapshot "$ns" "$T/t-after"
same "SIGTERM to the watchdog: rolled back" "$T/t-before" "$T/t-after"
check "SIGTERM: the last outcome says the watchdog was stopped" \
        grep -q '^reason=the watchdog was stopped' "$(record "$ns").last"

# --- a watchdog killed with SIGKILL: confirm keeps the apply and says so ------------------------
ns=$(newns wdkill)
vm "$ns" apply --confirm-within "$NEVER" "$base"
wpid=$(field "$(record "$ns")" pid)
kill -9 "$wpid"
settled "$ns"
vm "$ns" confirm; rc=$?
check "confirm after the watchdog died: exit 0" test "$rc" = 0
check "confirm after the watchdog died: says so" grep -q "no longer running" "$T/err"
check "the apply stays" quiet ip -n "$ns" link show vt-lab

# --- a failing apply under --confirm-within undoes itself; the watchdog does nothing --------------
ns=$(newns fail)
snapshot "$ns" "$T/f-before"
VMNET_TEST_FAIL_AT=4 vm "$ns" apply --confirm-within "$NEVER" "$base"; rc=$?
check "failing apply exits 1" test "$rc" = 1
check "the watchdog finishes at once" settled "$ns"
check "no record left" test ! -e "$(record "$ns")"
snapshot "$ns" "$T/f-after"
same "failing apply with --confirm-within: the namespace is back" "$T/f-before" "$T/f-after"

finish
