#!/bin/bash
# The reconcile engine against a real kernel, in private network namespaces:
# apply creates exactly the plan, re-apply is a no-op, a changed plan
# converges, destroy restores the namespace, foreign objects survive,
# failures at every step roll back, concurrent applies never interleave.
. "$top_srcdir/tests/netns/lib.sh"

base=$PLANS/base.xml
changed=$PLANS/changed.xml

# --- apply from empty ---------------------------------------------------------
ns=$(newns apply)
snapshot "$ns" "$T/before"
check "apply succeeds" vm "$ns" apply "$base"
for br in vt-lab vt-dev vt-priv vt-rt vt-lan; do
        check "bridge $br exists, up, owned by vmnet" jtrue \
                '.[0].linkinfo.info_kind == "bridge" and .[0].ifalias == "vmnet:t-engine" and (.[0].flags | index("UP") != null)' \
                ip -n "$ns" -d -j link show "$br"
done
check "mtu 1500 on vt-lab" jtrue '.[0].mtu == 1500' ip -n "$ns" -j link show vt-lab
check "gateway address on vt-lab" jtrue '[.[0].addr_info[] | select(.local == "10.77.1.1" and .prefixlen == 24)] | length == 1' ip -n "$ns" -j addr show vt-lab
check "no address on isolated vt-priv" jtrue '[.[0].addr_info[] | select(.family == "inet")] | length == 0' ip -n "$ns" -j addr show vt-priv
check "uplink enslaved to vt-lan" jtrue '.[0].master == "vt-lan"' ip -n "$ns" -j link show vt-up0
check "static route of routed network" jtrue '.[0].gateway == "10.77.3.254" and .[0].dev == "vt-rt"' ip -n "$ns" -j route show 10.78.0.0/16
check "ip_forward on" test "$(ip netns exec "$ns" sysctl -n net.ipv4.ip_forward)" = 1
check "nft table inet vmnet exists" ip netns exec "$ns" nft list table inet vmnet
check "port forward in the map" sh -c "ip netns exec $ns nft list table inet vmnet | grep -q '8080 : 10.77.1.10 . 80'"
# Not the hairpin rule (ct status dnat ip saddr . ip daddr @hairpin4 masquerade): the way out,
# one rule for every NAT network, whose subnets are the elements of @masq4.
check "masquerade for @masq4 out of the host" sh -c "ip netns exec $ns nft list table inet vmnet | grep -q 'oifname != @bridges ip saddr @masq4 .*masquerade'"
check "10.77.1.0/24 in @masq4" jtrue '[.nftables[].set? // empty | .elem[] | select(.prefix.addr == "10.77.1.0" and .prefix.len == 24)] | length == 1' ip netns exec "$ns" nft -j list set inet vmnet masq4

# --- re-apply is a no-op ---------------------------------------------------------
snapshot "$ns" "$T/applied"
vm "$ns" --json apply --detailed-exitcode "$base"; rc=$?
check "re-apply exits 0 with --detailed-exitcode (no changes)" test "$rc" = 0
check "re-apply reports changed=false, check=false (a real run) and no actions" \
        jtrue '.changed == false and .check == false and (.actions | length) == 0' cat "$T/out"
snapshot "$ns" "$T/reapplied"
same "re-apply changes nothing in the kernel" "$T/applied" "$T/reapplied"

# --- drift is repaired ----------------------------------------------------------
ip netns exec "$ns" nft flush ruleset
vm "$ns" --json status "$base"; rc=$?
check "status reports drift after 'nft flush ruleset'" jtrue '.in_sync == false' cat "$T/out"
vm "$ns" --json apply "$base"
check "apply after flush reports changed" jtrue '.changed == true' cat "$T/out"
snapshot "$ns" "$T/repaired"
same "apply after flush restores the ruleset" "$T/applied" "$T/repaired"

# --- --check and plan change nothing ---------------------------------------------
vm "$ns" --json apply --check --detailed-exitcode "$changed"; rc=$?
check "--check of a changed plan exits 2" test "$rc" = 2
check "--check lists the actions" jtrue '.changed == true and (.actions | length) > 0' cat "$T/out"
vm "$ns" plan "$changed"; rc=$?
check "plan succeeds" test "$rc" = 0
check "plan marks impacts" grep -qE '\[(safe|recreate|disruptive)\]' "$T/out"
snapshot "$ns" "$T/checked"
same "--check and plan change nothing" "$T/applied" "$T/checked"

# --- a changed plan converges ------------------------------------------------------
vm "$ns" --json apply --detailed-exitcode "$changed"; rc=$?
check "apply of a changed plan exits 2" test "$rc" = 2
check "mtu changed to 1400" jtrue '.[0].mtu == 1400' ip -n "$ns" -j link show vt-lab
check "removed network's bridge deleted" sh -c "! ip -n $ns link show vt-priv 2>/dev/null"
check "new bridge with stp" jtrue '.[0].linkinfo.info_data.stp_state == 1' ip -n "$ns" -d -j link show vt-iso2
vm "$ns" --json apply --detailed-exitcode "$changed"; rc=$?
check "changed plan re-applied is a no-op" test "$rc" = 0

# --- destroy restores the namespace ------------------------------------------------
check "destroy succeeds" vm "$ns" destroy "$changed"
snapshot "$ns" "$T/destroyed"
same "destroy leaves the namespace as before apply" "$T/before" "$T/destroyed"
vm "$ns" destroy --detailed-exitcode "$changed"; rc=$?
check "a second destroy changes nothing (exit 0 with --detailed-exitcode)" test "$rc" = 0
check "a second destroy says nothing is left, not that the host matches the plan" \
        grep -qx "no changes: nothing of plan 't-engine' is left on the host" "$T/out"

# --- an adopted bridge is given back as it was found ------------------------------------
# Someone's bridge, STP off, with an address and a route of its own.
ns=$(newns adopt)
ip -n "$ns" link add vt-own type bridge stp_state 0
ip -n "$ns" addr add 172.30.0.1/24 dev vt-own
ip -n "$ns" link set vt-own up
ip -n "$ns" route add 172.31.0.0/16 via 172.30.0.254 dev vt-own
snapshot "$ns" "$T/ad-before"
adopt=$PLANS/adopt.xml
check "apply adopting vt-own succeeds" vm "$ns" apply "$adopt"
check "vt-own: vmnet's alias, STP on, mtu 1400" jtrue '.[0].ifalias == "vmnet:t-adopt" and (.[0].flags | index("UP") != null) and .[0].linkinfo.info_data.stp_state == 1 and .[0].mtu == 1400' ip -n "$ns" -d -j link show vt-own
check "vt-own: the gateway added, its own address kept" jtrue '[.[0].addr_info[] | select(.family == "inet") | .local] | sort == ["10.79.1.1", "172.30.0.1"]' ip -n "$ns" -j addr show vt-own
check "vt-own: the plan's route added" jtrue '.[0].dev == "vt-own"' ip -n "$ns" -j route show 10.80.0.0/16
vm "$ns" apply --detailed-exitcode "$adopt"; rc=$?
check "re-apply of the adopting plan is a no-op" test "$rc" = 0
check "a moved gateway and route apply" vm "$ns" apply "$PLANS/adopt-moved.xml"
check "the old gateway is gone, the owner's address stays" \
        jtrue '[.[0].addr_info[] | select(.family == "inet") | .local] | sort == ["10.79.2.1", "172.30.0.1"]' ip -n "$ns" -j addr show vt-own
check "the old route is gone" jtrue 'length == 0' ip -n "$ns" -j route show 10.80.0.0/16 via 10.79.1.254
check "destroy succeeds" vm "$ns" destroy "$PLANS/adopt-moved.xml"
snapshot "$ns" "$T/ad-after"
same "destroy gives vt-own back as it was: STP, mtu, alias, its owner's address and route only" "$T/ad-before" "$T/ad-after"

# --- foreign objects survive ---------------------------------------------------------
ns=$(newns foreign)
ip -n "$ns" link add br-user type bridge
ip -n "$ns" addr add 192.0.2.1/24 dev br-user
ip netns exec "$ns" nft -f - <<'NFT'
table inet other {
        chain input {
                type filter hook input priority 0; policy accept;
                tcp dport 22 accept
        }
}
table ip filter {
        chain FORWARD {
                type filter hook forward priority 0; policy accept;
        }
}
NFT
snapshot "$ns" "$T/f-before"
check "apply next to foreign objects" vm "$ns" apply "$base"
check "foreign bridge untouched by apply" jtrue '.[0].addr_info[0].local == "192.0.2.1"' ip -n "$ns" -j addr show br-user
check "foreign table untouched by apply" sh -c "ip netns exec $ns nft list table inet other | grep -q 'tcp dport 22 accept'"
check "destroy next to foreign objects" vm "$ns" destroy "$base"
snapshot "$ns" "$T/f-after"
same "foreign bridge and tables survive apply + destroy" "$T/f-before" "$T/f-after"

# --- another table that drops at the same hook is reported (field notes 1-2) ------------
ns=$(newns drops)
ip netns exec "$ns" nft -f - <<'NFT'
table ip filter {
        chain FORWARD {
                type filter hook forward priority 0; policy drop;
        }
}
NFT
vm "$ns" --json apply "$base"
check "apply warns about a foreign FORWARD chain with policy drop" \
        jtrue '[.warnings[].message | select(test("table ip filter chain FORWARD"))] | length == 1' cat "$T/out"
vm "$ns" status "$base"
check "status shows the warning too" grep -q "table ip filter chain FORWARD" "$T/out"
check "the foreign drop chain is left alone" sh -c "ip netns exec $ns nft list chain ip filter FORWARD | grep -q 'policy drop'"

# --- a name taken by a foreign object is refused ---------------------------------------
ns=$(newns conflict)
ip -n "$ns" link add vt-dev type bridge
snapshot "$ns" "$T/c-before"
vm "$ns" apply "$base"; rc=$?
check "apply refuses a foreign bridge of the same name" test "$rc" = 1
check "conflict error names the link" grep -q "vt-dev" "$T/err"
snapshot "$ns" "$T/c-after"
same "refused apply changed nothing" "$T/c-before" "$T/c-after"

# --- a failure at every step rolls back ------------------------------------------------
ns=$(newns rollback)
snapshot "$ns" "$T/r-before"
"$VMNET" --netns "$ns" --json apply --check "$base" >"$T/plan.json"
n=$(jq '.actions | length' "$T/plan.json")
check "the base plan takes several actions" test "$n" -gt 5
state=$VMNET_STATE_DIR/netns-$ns/t-engine.state
for i in $(seq 1 "$n"); do
        VMNET_TEST_FAIL_AT=$i vm "$ns" apply "$base"; rc=$?
        snapshot "$ns" "$T/r-after"
        if [ "$rc" = 1 ] && cmp -s "$T/r-before" "$T/r-after" && [ ! -e "$state" ]; then
                ok "failure injected at step $i/$n rolls back completely, and leaves no record"
        else
                ko "failure injected at step $i/$n (exit $rc)"; diff -u "$T/r-before" "$T/r-after" | head -30; cat "$T/err"
                ls -l "$state" 2>&1
        fi
done

# --- over an applied plan, a failure puts the record back as it was ------------------
ns=$(newns rollback-record)
check "base plan applied" vm "$ns" apply "$base"
state=$VMNET_STATE_DIR/netns-$ns/t-engine.state
cp "$state" "$T/record-before"
snapshot "$ns" "$T/rr-before"
sleep 1 # a new record differs at least by its time ("applied")
"$VMNET" --netns "$ns" --json apply --check "$changed" >"$T/plan.json"
n=$(jq '.actions | length' "$T/plan.json")
for i in 1 $(((n + 1) / 2)) "$n"; do
        VMNET_TEST_FAIL_AT=$i vm "$ns" apply "$changed"; rc=$?
        snapshot "$ns" "$T/rr-after"
        if [ "$rc" = 1 ] && cmp -s "$T/rr-before" "$T/rr-after" && cmp -s "$T/record-before" "$state"; then
                ok "failure at step $i/$n of a changed plan: the host and its record are as before"
        else
                ko "failure at step $i/$n of a changed plan (exit $rc)"; diff -u "$T/rr-before" "$T/rr-after" | head -30
                diff -u "$T/record-before" "$state"; cat "$T/err"
        fi
done
check "the changed plan then applies" vm "$ns" apply "$changed"
check "and its record differs from the old one" sh -c "! cmp -s '$T/record-before' '$state'"

# --- a run killed between creating a link and marking it --------------------------------
# The kernel takes a new link's alias (vmnet's mark) only in a second message. strace kills
# vmnet at that message: the first apply's sendmsg calls are counted up to the first
# create (NLM_F_CREATE|NLM_F_EXCL), in a namespace of its own, then the same apply in a
# fresh one gets SIGKILL at the next sendmsg.
ns=$(newns kill-count)
strace -f -qq -e trace=sendmsg -e signal=none -o "$T/sendmsg" "$VMNET" --netns "$ns" apply "$base" >/dev/null 2>&1
n=$(grep -n -m1 -E 'NLM_F_EXCL|0x600' "$T/sendmsg" | cut -d: -f1)
check "the first create is found among the apply's messages" test -n "$n"
ns=$(newns killed)
snapshot "$ns" "$T/k-before"
strace -f -qq -o /dev/null -e trace=sendmsg -e signal=none -e "inject=sendmsg:signal=KILL:when=$((n + 1))" \
        "$VMNET" --netns "$ns" apply "$base" >/dev/null 2>&1
unmarked=$(ip -n "$ns" -j link show type bridge | jq -r '.[] | select(.ifalias == null) | .ifname')
check "killed after the create: a bridge without vmnet's mark is left" test -n "$unmarked"
check "the run directory lists it" grep -q "$unmarked" "$VMNET_RUN_DIR/netns-$ns/t-engine.pending"
vm "$ns" status "$base"
check "status shows the mark still to set" grep -q "set alias \"vmnet:t-engine\" on $unmarked" "$T/out"
check "the next apply takes it as vmnet's and converges" vm "$ns" apply "$base"
check "it now carries the mark" jtrue '.[0].ifalias == "vmnet:t-engine"' ip -n "$ns" -j link show "$unmarked"
check "and the list is gone" test ! -e "$VMNET_RUN_DIR/netns-$ns/t-engine.pending"
vm "$ns" apply --detailed-exitcode "$base"; rc=$?
check "re-apply is a no-op" test "$rc" = 0
check "destroy succeeds" vm "$ns" destroy "$base"
snapshot "$ns" "$T/k-after"
same "destroy after the killed apply leaves the namespace as before" "$T/k-before" "$T/k-after"

# --- a record that cannot be written stops the apply before any change ----------------
# The state directory read-only, in a private mount namespace: writing the record
# ahead of the first step fails (it is a write-ahead record), and no step runs.
ns=$(newns record-fails)
mkdir -p "$VMNET_STATE_DIR/netns-$ns"
snapshot "$ns" "$T/rf-before"
unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift &&
        exec "$@"' sh "$VMNET_STATE_DIR" "$VMNET" --netns "$ns" apply "$base" >"$T/out" 2>"$T/err"; rc=$?
snapshot "$ns" "$T/rf-after"
check "apply fails when its record cannot be written" test "$rc" = 1
check "the error names the state file" grep -q "writing state file $VMNET_STATE_DIR/netns-$ns/t-engine.state" "$T/err"
check "and says nothing was changed" grep -q "apply failed before any change" "$T/err"
same "the namespace is as before" "$T/rf-before" "$T/rf-after"
check "no record is left" test ! -e "$VMNET_STATE_DIR/netns-$ns/t-engine.state"
check "with the directory writable again, the apply succeeds" vm "$ns" apply "$base"

# --- two concurrent applies never interleave ---------------------------------------------
ns=$(newns lock)
"$VMNET" --netns "$ns" apply "$base" >"$T/a1" 2>&1 & p1=$!
"$VMNET" --netns "$ns" apply "$base" >"$T/a2" 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
if { [ $r1 = 0 ] && [ $r2 = 0 ]; } || { [ $r1 = 0 ] && grep -q "another vmnet" "$T/a2"; } ||
   { [ $r2 = 0 ] && grep -q "another vmnet" "$T/a1"; }; then
        ok "concurrent applies: one waits or is refused with a clear message"
else
        ko "concurrent applies ($r1/$r2)"; cat "$T/a1" "$T/a2"
fi
exec 9>"$VMNET_RUN_DIR/lock.netns-$ns"
flock 9
vm "$ns" apply "$base"; rc=$?
check "a held lock refuses apply" test "$rc" = 1
check "the lock error says who holds it" grep -q "another vmnet (pid" "$T/err"
"$VMNET" --netns "$ns" apply --wait 30 "$base" >"$T/w" 2>&1 & pw=$!
sleep 1
flock -u 9; exec 9>&-
wait $pw; rc=$?
check "--wait waits for the lock, then applies" test "$rc" = 0

finish
