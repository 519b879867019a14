#!/bin/bash
# Issue 12 points 3-5 against a real kernel, in private network namespaces:
# the plan an apply keeps (also from standard input) and `vmnet reapply`
# putting a "rebooted" namespace back without the file; destroy forgetting
# it; --confirm-within keeping it only once confirmed; `vmnet reapply
# --watch` bringing table vmnet back after `nft flush ruleset` and on
# SIGHUP, and a killed dnsmasq; the journal entries of apply, rollback, destroy, confirm, watchdog
# and reapply, read from a stand-in journald socket (tests/lib/dgram-sink.py).
#
# The whole test runs in a private mount namespace whose /run is a fresh
# tmpfs: vmnet's journal socket (/run/systemd/journal/socket) is then the
# stand-in's, and nothing reaches the machine's own journal.
if [ -z "${VMNET_T_DURABLE_INNER:-}" ]; then
        if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
                echo "SKIP: needs root and mount namespaces"
                exit 77
        fi
        exec unshare -m --propagation private env VMNET_T_DURABLE_INNER=1 bash "$0" "$@"
fi
mount -t tmpfs -o mode=0755 vmnet-t-durable /run || { echo "FAIL: cannot mount a tmpfs on /run"; exit 1; }
. "$top_srcdir/tests/netns/lib.sh"

base=$PLANS/base.xml
changed=$PLANS/changed.xml
BOUND=${VMNET_TEST_WAIT:-120} # how long an awaited event may take before the check fails
J=$T/journal.jsonl
NOTIFY=$T/notify.jsonl
sink=$top_srcdir/tests/lib/dgram-sink.py

saved() { echo "$VMNET_STATE_DIR/netns-$1/plans/t-engine.xml"; }
journal() { jq -s . "$J"; }
# The MESSAGE_ID of each kind of event (vmnet(8), JOURNAL).
IDS='{"step":"6f56b25b0f094a60866462fc548f3dda","apply":"58b744e854a14546b790aa56d7d738ea",
"destroy":"1e6a4a077a914a3ab964460bd0c4bdc9","rollback":"5624ea1308f145098ee770aa31eb709c",
"confirm":"950b9c7aeec944d4bad516805e1c2bb8","watchdog":"283a12ab1e87414785998b8bd5f5c3fd",
"reapply":"1bf529bd5bac4ccbb5f70d5641b84ecd"}'
# Every entry so far is vmnet's, of one known kind with its MESSAGE_ID, for plan t-engine in NS.
well_formed() {
        jtrue --argjson ids "$IDS" --arg ns "$1" 'length > 0 and all(.[];
                .SYSLOG_IDENTIFIER == "vmnet" and .MESSAGE_ID == $ids[.VMNET_EVENT] and
                .VMNET_PLAN == "t-engine" and .VMNET_NETNS == $ns and (.MESSAGE | length > 0) and
                (.PRIORITY | test("^[0-7]$")))' journal
}

# The namespace as a reboot would have to give it back: links, addresses,
# routes, the nft ruleset (not MACs: the kernel gives a new bridge a random one
# unless the plan sets it, and the veth standing in for the uplink is new).
view() {
        local ns=$1 out=$2
        if ! {
                jread '[.[] | {ifname, mtu, master, ifalias, kind: .linkinfo.info_kind,
                        up: (.flags | index("UP") != null)}] | sort_by(.ifname)' ip -n "$ns" -d -j link show &&
                jread '[.[] | {ifname, a: [.addr_info[] | select(.scope != "link") | "\(.local)/\(.prefixlen)"] | sort}] | sort_by(.ifname)' \
                        ip -n "$ns" -j addr show &&
                jread 'map(.flags = ((.flags // []) - ["linkdown"])) | sort_by(.dst)' ip -n "$ns" -j route show table main &&
                jread '[.nftables[] | del(.. | .handle?) | select(.metainfo == null)]' ip netns exec "$ns" nft -j list ruleset
        } >"$out"; then
                echo "  view of $ns failed" >&2
                return 1
        fi
}
has_link() { ip -n "$1" link show "$2" >/dev/null 2>&1; }
has_table() { ip netns exec "$1" nft list table inet vmnet >/dev/null 2>&1; }

mkdir -p /run/systemd/journal
python3 "$sink" /run/systemd/journal/socket "$J" journal >/dev/null &
track_pid $!
check "the stand-in journal is listening" wait_for "$BOUND" test -S /run/systemd/journal/socket

# --- 3. the plan is kept, and re-applied without its file ----------------------
ns=$(newns keep)
check "apply from standard input" "$VMNET" --netns "$ns" apply --no-libvirt - <"$base" >"$T/out" 2>"$T/err"
check "the applied plan is saved, byte for byte" cmp "$(saved "$ns")" "$base"
n=$(sed -n 's/^apply: \([0-9]*\) actions done.*/\1/p' "$T/out")
check "journal: entries well formed (kind, MESSAGE_ID, plan, netns)" well_formed "$ns"
check "journal: one step entry 'done' per action ($n), then 'applied'" \
        jtrue --argjson n "${n:-0}" '([.[] | select(.VMNET_EVENT == "step")] | length == $n and
                all(.[]; .VMNET_OUTCOME == "done" and (.VMNET_ACTION | length > 0) and (.VMNET_OBJECT | length > 0)))
                and ([.[] | select(.VMNET_EVENT == "apply")] | length == 1 and .[0].VMNET_OUTCOME == "applied")' journal
check "the applied namespace read back" view "$ns" "$T/applied"
# A reboot: the namespace and /run are gone, /var/lib (the state directory) stays.
ip netns del "$ns"
rm -rf "$VMNET_RUN_DIR"
ns=$(newns keep)
: >"$J"
check "reapply after the reboot, without the plan's file" vm "$ns" reapply --no-libvirt
check "the namespace read back after reapply" view "$ns" "$T/reapplied"
check "reapply gave back every link, address, route and rule" diff -u "$T/applied" "$T/reapplied"
check "journal: a reapply entry, then the apply's entries, outcome applied" \
        jtrue '(map(.VMNET_EVENT) | .[0] == "reapply" and .[-1] == "apply") and .[-1].VMNET_OUTCOME == "applied"
                and .[-1].VMNET_COMMAND == "reapply"' journal
check "a second reapply changes nothing" vm "$ns" reapply --no-libvirt
check "  and says so" grep -q "no changes" "$T/out"
: >"$J"
check "destroy" vm "$ns" destroy --no-libvirt "$base"
check "destroy forgets the saved plan" test ! -e "$(saved "$ns")"
check "journal: destroy entry, outcome destroyed" \
        jtrue '[.[] | select(.VMNET_EVENT == "destroy")] | length == 1 and .[0].VMNET_OUTCOME == "destroyed"' journal
check "reapply after destroy" vm "$ns" reapply --no-libvirt
check "  brings nothing back (no bridge vt-lab)" bash -c "! ip -n '$ns' link show vt-lab >/dev/null 2>&1"

# --- 5. a failed apply: steps, rollback, outcome in the journal ------------------
ns=$(newns fail)
: >"$J"
VMNET_TEST_FAIL_AT=4 "$VMNET" --netns "$ns" apply --no-libvirt "$base" >"$T/out" 2>"$T/err"
check "an apply failing at step 4 exits 1" test $? -eq 1
check "a failed apply keeps no plan" test ! -e "$(saved "$ns")"
check "journal: entries well formed" well_formed "$ns"
check "journal: steps 1-3 done, step 4 failed (priority err)" \
        jtrue '[.[] | select(.VMNET_EVENT == "step")] | (map(.VMNET_OUTCOME) == ["done","done","done","failed"]) and .[3].PRIORITY == "3"' journal
check "journal: the undo steps of the rollback, each 'undoing'" \
        jtrue '[.[] | select(.VMNET_EVENT == "rollback")] | length >= 1 and all(.[]; .VMNET_OUTCOME == "undoing")' journal
check "journal: the apply's outcome is rolled-back, with the error" \
        jtrue '[.[] | select(.VMNET_EVENT == "apply")] | length == 1 and .[0].VMNET_OUTCOME == "rolled-back"
                and (.[0].MESSAGE | test("failure injected"))' journal

# --- 3 + 5. a safe apply's plan is kept once confirmed --------------------------
ns=$(newns safe)
: >"$J"
check "apply --confirm-within" vm "$ns" apply --no-libvirt --confirm-within 3600 "$base"
check "  keeps no plan before the confirmation" test ! -e "$(saved "$ns")"
check "vmnet confirm" vm "$ns" confirm
check "  the watchdog keeps the plan" wait_for "$BOUND" cmp -s "$(saved "$ns")" "$base"
check "  and lets the lock go" flock -w "$BOUND" "$VMNET_RUN_DIR/lock.netns-$ns" true
check "journal: the watchdog's entries and its outcome confirmed" \
        jtrue '[.[] | select(.VMNET_EVENT == "watchdog")] | length >= 2 and any(.[]; .VMNET_OUTCOME == "confirmed")' journal
check "journal: the confirm entry" \
        jtrue '[.[] | select(.VMNET_EVENT == "confirm")] | length == 1 and .[0].VMNET_OUTCOME == "confirmed"' journal

# --- 4. reapply --watch: nft flush ruleset, SIGHUP ------------------------------
ns=$(newns watch)
# base.xml with a DHCP range on lab: a dnsmasq to supervise.
sed 's|<subnet cidr="10.77.1.0/24" gateway="10.77.1.1"/>|<subnet cidr="10.77.1.0/24" gateway="10.77.1.1"><dhcp start="10.77.1.100" end="10.77.1.150"/></subnet>|' \
        "$base" >"$T/dhcp.xml"
check "apply (lab with DHCP)" vm "$ns" apply --no-libvirt "$T/dhcp.xml"
python3 "$sink" "$T/notify.sock" "$NOTIFY" raw >/dev/null &
track_pid $!
check "the stand-in notify socket is listening" wait_for "$BOUND" test -S "$T/notify.sock"
NOTIFY_SOCKET=$T/notify.sock "$VMNET" --netns "$ns" reapply --watch --no-libvirt >"$T/watch.out" 2>"$T/watch.err" &
watcher=$!
track_pid $watcher
ready() { grep -q 'READY=1' "$NOTIFY" 2>/dev/null; }
# ready_n N: the watcher has said READY=1 N times (once per finished round).
ready_n() { [ "$(grep -c 'READY=1' "$NOTIFY" 2>/dev/null)" -ge "$1" ]; }
check "the watcher tells systemd it is ready (READY=1)" wait_for "$BOUND" ready
: >"$J"
nft_view() { jread '[.nftables[] | del(.. | .handle?) | select(.metainfo == null)]' ip netns exec "$1" nft -j list ruleset; }
check "the ruleset read before the flush" eval 'nft_view "$ns" >"$T/nft-applied"'
ip netns exec "$ns" nft flush ruleset
check "nft flush ruleset: table inet vmnet comes back by itself" wait_for "$BOUND" has_table "$ns"
check "  with the whole ruleset as applied" eval 'nft_view "$ns" >"$T/nft-back" && diff -u "$T/nft-applied" "$T/nft-back"'
check "journal: a reapply entry naming the deleted table" \
        jtrue '[.[] | select(.VMNET_EVENT == "reapply")] | length >= 1 and (.[0].MESSAGE | test("deleted"))' journal
ip -n "$ns" link del vt-dev
kill -HUP "$watcher"
check "SIGHUP: the deleted bridge vt-dev comes back" wait_for "$BOUND" has_link "$ns" vt-dev
check "  and the round ends (the third READY=1)" wait_for "$BOUND" ready_n 3
pidfile=$VMNET_RUN_DIR/netns-$ns/dnsmasq/t-engine/lab.pid
conf=$VMNET_STATE_DIR/netns-$ns/dnsmasq/t-engine/lab.conf
# serving PID: PID is a live dnsmasq of lab's configuration
serving() { [[ $1 =~ ^[0-9]+$ ]] && tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qx -- "--conf-file=$conf"; }
old_pid=$(cat "$pidfile" 2>/dev/null)
check "lab's dnsmasq runs (pid ${old_pid:-none})" serving "$old_pid"
kill -KILL "$old_pid"
restarted() { local p; p=$(cat "$pidfile" 2>/dev/null) && [ "$p" != "$old_pid" ] && serving "$p"; }
check "SIGKILL to dnsmasq: a new one serves lab's configuration" wait_for "$BOUND" restarted
# The watcher waits for its signals with them blocked, and a blocked mask survives exec:
# the dnsmasq it starts must not inherit it, or SIGTERM (destroy) would never reach it.
new_pid=$(cat "$pidfile" 2>/dev/null)
check "  the restarted dnsmasq blocks no signal (SigBlk 0)" \
        grep -qx 'SigBlk:[[:space:]]*0*' "/proc/${new_pid:-none}/status"
check "journal: a reapply entry naming the dnsmasq that exited" \
        jtrue '[.[] | select(.VMNET_EVENT == "reapply" and (.MESSAGE | test("dnsmasq of network lab")))] | length >= 1' journal
kill -TERM "$watcher"
wait "$watcher"
check "SIGTERM: the watcher exits 0" test $? -eq 0
check "destroy after the watcher" vm "$ns" destroy --no-libvirt "$T/dhcp.xml"
# pgrep -f -x: no process left whose whole command line is a dnsmasq of lab's configuration.
check "  leaves no dnsmasq of lab (the one the watcher started included)" \
        wait_for "$BOUND" eval '! pgrep -f -x ".*dnsmasq --conf-file=$conf" >/dev/null'

finish
