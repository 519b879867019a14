#!/bin/bash
# Signals during an apply (issue 12, points 1 and 2; vmnet(8), SIGNALS):
# SIGINT, SIGTERM and SIGHUP at each step N stop the run and undo every
# step done (exit 3, the namespace exactly as before, no dnsmasq, no file
# left); one that comes after the last step lets the run finish (exit 4, the
# full plan); SIGPIPE never ends vmnet (the full plan). SIGKILL at step N
# leaves the write-ahead record with its transaction: the next apply goes on
# from it (the full plan, then "no changes"), and destroy puts the namespace
# back as it was, the uplink's addresses and route, its master and
# ip_forward included, because the originals were on disk before the first
# step. The plan migrates the uplink's addresses (migrate-addresses).
. "$top_srcdir/tests/netns/lib.sh"

BOUND=${VMNET_TEST_WAIT:-120} # how long an awaited line may take before the check fails
ns=$(newns signals) || { echo "FAIL: cannot create a network namespace"; exit 1; }
ip -n "$ns" addr add 192.0.2.10/24 dev vt-up0
ip -n "$ns" route add 198.51.100.0/24 via 192.0.2.1
cat >"$T/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-signals">
  <network name="lab" mode="nat" bridge="vt-lab">
    <subnet cidr="10.77.5.0/24" gateway="10.77.5.1">
      <dhcp start="10.77.5.100" end="10.77.5.150"/>
    </subnet>
  </network>
  <network name="lan" mode="bridged" bridge="vt-lan">
    <uplink dev="vt-up0" migrate-addresses="yes"/>
  </network>
</plan>
XML
S=$VMNET_STATE_DIR/netns-$ns R=$VMNET_RUN_DIR/netns-$ns
paused_pid=
trap '[ -n "$paused_pid" ] && kill -9 "$paused_pid" 2>/dev/null; cleanup' EXIT

# files: what vmnet left in its directories for the namespace (the lock and
# dnsmasq's directories aside), one a line.
files() { find "$S" "$R" -type f ! -path '*/dnsmasq/*' -printf '%f\n' 2>/dev/null | sort | tr '\n' ' '; }
# no_processes: nothing runs in the namespace (a dnsmasq left behind would).
no_processes() { test -z "$(ip netns pids "$ns")"; }
# What an applied plan leaves: the record and the saved plan (vmnet(8), SAVED PLANS).
applied_files="t-signals.state t-signals.xml "

# planned_snapshot FILE: a snapshot without vt-lab's MAC, which the kernel
# picks at random for a bridge with no port, on each creation (the keys are
# sorted: address, fd, ifalias, ifname).
planned_snapshot() {
        snapshot "$ns" "$1.raw" &&
                sed -E '/"address": /{N;N;N;/"ifname": "vt-lab"/s/"address": "[^"]*"/"address": "random"/}' "$1.raw" >"$1"
}

snapshot "$ns" "$T/before"
check "the uplink has its address before" grep -q '"192.0.2.10/24"' "$T/before"
vm "$ns" plan "$T/plan.xml"
total=$(sed -n 's/^apply would take \([0-9]*\) actions.*/\1/p' "$T/out")
check "the plan has steps (${total:-none})" test "${total:-0}" -ge 6
check "apply" vm "$ns" apply "$T/plan.xml"
planned_snapshot "$T/full"
check "the MAC of vt-lab only is left out" test "$(grep -c '"address": "random"' "$T/full")" = 1
check "applied: the uplink's address is on the bridge" jtrue '.[0].addr_info | any(.local == "192.0.2.10")' ip -n "$ns" -j addr show vt-lan
check "destroy" vm "$ns" destroy "$T/plan.xml"
snapshot "$ns" "$T/now"
same "destroy: back to the snapshot" "$T/before" "$T/now"

# at_line N: the run printed its progress line N, or is gone (then paused fails).
at_line() { grep -q "\[$1/" "$T/out" || ! kill -0 "$paused_pid" 2>/dev/null; }
# paused N SIG: an apply paused before step N (N = total + 1: after the last
# step) gets SIG; its exit status in $rc.
paused() {
        local n=$1 sig=$2 line=$1
        ((line > total)) && line=$total
        paused_pid=
        # No old output a progress line could be read from before the new run starts.
        rm -f "$T/out"
        VMNET_TEST_PAUSE_AT=$n "$VMNET" --netns "$ns" apply "$T/plan.xml" >"$T/out" 2>"$T/err" &
        paused_pid=$!
        if ! wait_for "$BOUND" at_line "$line"; then
                ko "step $n: the apply did not reach its pause"
                kill -9 "$paused_pid"
        else
                kill -"$sig" "$paused_pid"
        fi
        wait "$paused_pid"; rc=$?
        paused_pid=
}
# as_before WHAT: the namespace is back to its snapshot, nothing runs in it, no file is left.
as_before() {
        snapshot "$ns" "$T/now"
        same "$1: the namespace is exactly as before" "$T/before" "$T/now"
        check "$1: no process left in the namespace" no_processes
        check "$1: no file left (found: $(files))" test -z "$(files)"
        # After a failed check, what the next case starts from: the snapshot again.
        cmp -s "$T/before" "$T/now" || vm "$ns" destroy "$T/plan.xml"
}
# as_planned WHAT: the full plan; destroy then gives the snapshot back.
as_planned() {
        planned_snapshot "$T/now"
        same "$1: the namespace has the full plan" "$T/full" "$T/now"
        check "$1: only the record is left (found: $(files))" test "$(files)" = "$applied_files"
        vm "$ns" destroy "$T/plan.xml"
        snapshot "$ns" "$T/now"
        same "$1, then destroy: exactly as before" "$T/before" "$T/now"
}

for ((n = 1; n <= total + 1; n++)); do
        for sig in INT TERM HUP; do
                paused "$n" "$sig"
                if ((n <= total)); then
                        check "SIG$sig at step $n: exit 3 (got $rc)" test "$rc" = 3
                        check "SIG$sig at step $n: the message says it was undone" \
                                grep -q "interrupted by SIG$sig.*" "$T/err"
                        as_before "SIG$sig at step $n"
                else
                        check "SIG$sig after the last step: exit 4 (got $rc)" test "$rc" = 4
                        check "SIG$sig after the last step: the message says it was finished" \
                                grep -q "finished and verified, not undone" "$T/err"
                        as_planned "SIG$sig after the last step"
                fi
        done
        paused "$n" PIPE
        check "SIGPIPE at step $n: ignored, exit 0 (got $rc)" test "$rc" = 0
        as_planned "SIGPIPE at step $n"

        paused "$n" KILL
        check "SIGKILL at step $n: the record names the run in progress" \
                grep -q '^\[transaction\]' "$S/t-signals.state"
        vm "$ns" apply "$T/plan.xml"; rc=$?
        check "SIGKILL at step $n: the next apply converges (exit $rc)" test "$rc" = 0
        check "SIGKILL at step $n: ... saying the run before did not finish" grep -q "did not finish" "$T/err"
        vm "$ns" apply --detailed-exitcode "$T/plan.xml"; rc=$?
        check "SIGKILL at step $n: then nothing is left to do (exit $rc)" test "$rc" = 0
        check "SIGKILL at step $n: the record's transaction is closed" \
                sh -c "! grep -q '^\[transaction\]' '$S/t-signals.state'"
        as_planned "SIGKILL at step $n"
done

# A destroy stopped midway (SIGTERM before its step 4, after the table and
# ip_forward went): every step undone, the full plan again.
check "apply for the destroy case" vm "$ns" apply "$T/plan.xml"
rm -f "$T/out"
VMNET_TEST_PAUSE_AT=4 "$VMNET" --netns "$ns" destroy "$T/plan.xml" >"$T/out" 2>"$T/err" &
paused_pid=$!
if wait_for "$BOUND" at_line 4; then kill -TERM "$paused_pid"; else kill -9 "$paused_pid"; fi
wait "$paused_pid"; rc=$?
paused_pid=
check "SIGTERM during destroy: exit 3 (got $rc)" test "$rc" = 3
check "SIGTERM during destroy: the message says so" grep -q "destroy stopped: interrupted by SIGTERM" "$T/err"
as_planned "SIGTERM during destroy"

# Output to a closed pipe: the apply is not killed, and finishes.
"$VMNET" --netns "$ns" apply "$T/plan.xml" 2>"$T/err" | head -c 1 >/dev/null
rc=${PIPESTATUS[0]}
check "apply | head -c 1: exit 0 (got $rc)" test "$rc" = 0
as_planned "apply | head -c 1"

# Temporaries a run killed while replacing a file leaves are removed by the next run.
mkdir -p "$S" "$R"
touch "$S/t-signals.state.Ab12Cd" "$R/t-signals.pending.Xy34Zw"
check "planted temporaries: apply" vm "$ns" apply "$T/plan.xml"
check "planted temporaries: the next run removed them (left: $(files))" test "$(files)" = "$applied_files"
check "destroy" vm "$ns" destroy "$T/plan.xml"
finish
