#!/bin/bash
# The dnsmasq instances of an apply start as one batch (apply/apply.h,
# actions/dnsmasq.c: every instance forked, then each waited for), in a
# throwaway namespace with five NAT networks with DHCP. The five starts
# overlap: each dnsmasq, through a wrapper (VMNET_DNSMASQ), waits until all
# five have been forked, which one start after the other never reaches.
# The progress still names every network, and each network's dnsmasq
# serves DNS on its own gateway (ss). A failure in the middle of the
# batch, from empty (n3's DNS address already taken by another socket; a
# failure injected at each dnsmasq step) and over the applied plan (a
# changed lease time restarts all five; a failure injected at the third
# restart), leaves no dnsmasq of that apply and the namespace, the files
# and the instances as they were. Everything is read from ip, ss, /proc
# and the files, never from vmnet's report.
. "$top_srcdir/tests/netns/lib.sh"

N=5
# plan LEASE_SECONDS: the plan, to stdout.
plan() {
        echo '<plan xmlns="urn:vmnet:plan:1" name="t-batch">'
        for i in $(seq "$N"); do
                cat <<EOF
  <network name="n$i" mode="nat" bridge="vb-n$i">
    <subnet cidr="10.79.$i.0/24" gateway="10.79.$i.1">
      <dhcp start="10.79.$i.100" end="10.79.$i.150" lease="$1"/>
    </subnet>
  </network>
EOF
        done
        echo '</plan>'
}
plan 3600 >"$T/plan.xml"
plan 7200 >"$T/changed.xml"
ns=$(newns batch)
D=$VMNET_STATE_DIR/netns-$ns/dnsmasq/t-batch

# instances: "nK PID" for every process in the namespace that is a dnsmasq of the plan.
instances() {
        local pid
        for pid in $(ip netns pids "$ns"); do
                tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null |
                        sed -n "s|^--conf-file=$D/\(n[0-9]*\)\.conf\$|\1 $pid|p"
        done | sort
}
no_instances() { test -z "$(instances)"; }
# serving: one dnsmasq per network, each bound to its gateway's port 53.
serving() {
        local i
        test "$(instances | cut -d' ' -f1 | tr '\n' ' ')" = "$(printf 'n%s ' $(seq "$N"))" || return 1
        for i in $(seq "$N"); do
                ip netns exec "$ns" ss -Hlun 'sport = :53' | grep -Eq " 10\.79\.$i\.1(%[^ :]*)?:53 " || return 1
        done
}
# confs: the configuration files of the plan's instances, their content.
confs() { cat "$D"/*.conf 2>/dev/null; }
# dnsmasq_steps PLAN: the 1-based numbers of apply's dnsmasq steps, one a line.
dnsmasq_steps() {
        "$VMNET" --netns "$ns" --json apply --check "$1" |
                jq -r '.actions | to_entries[] | select(.value.type | startswith("dnsmasq-")) | .key + 1'
}

# --- the starts overlap ----------------------------------------------------------
cat >"$T/barrier" <<EOF
#!/bin/sh
# Each start waits until all $N have been forked (one file each).
touch "$T/began/\$\$"
for _ in \$(seq 300); do
        [ "\$(ls "$T/began" | wc -l)" -lt $N ] || exec ${VMNET_DNSMASQ:-/usr/sbin/dnsmasq} "\$@"
        sleep 0.05
done
echo "\$(ls "$T/began" | wc -l) of $N starts had begun after 15 s" >&2
exit 1
EOF
chmod +x "$T/barrier"
mkdir "$T/began"
snapshot "$ns" "$T/before"
VMNET_DNSMASQ=$T/barrier vm "$ns" apply "$T/plan.xml"; rc=$?
check "apply of $N networks whose dnsmasq starts wait for each other succeeds (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || cat "$T/err"
check "all $N starts had begun before any dnsmasq ran" test "$(ls "$T/began" | wc -l)" = "$N"
for i in $(seq "$N"); do
        check "the progress names n$i's start" grep -q "\] start dnsmasq for network n$i on vb-n$i\$" "$T/out"
done
check "one dnsmasq per network, each on its gateway's port 53" serving
vm "$ns" apply --detailed-exitcode "$T/plan.xml"; rc=$?
check "re-apply is a no-op (exit $rc)" test "$rc" = 0
check "destroy" vm "$ns" destroy "$T/plan.xml"
check "destroy: no dnsmasq left" no_instances
snapshot "$ns" "$T/now"
same "destroy: the namespace as before" "$T/before" "$T/now"

# --- from empty: n3's dnsmasq cannot bind, in the middle of the batch ---------------
# A socket on 10.79.3.1:53 before vmnet adds the address (IP_FREEBIND).
ip netns exec "$ns" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 15, 1)  # IP_FREEBIND
s.bind(("10.79.3.1", 53))
open(sys.argv[1], "w").write("bound\n")
time.sleep(3600)' "$T/bound" &
squatter=$!
track_pid "$squatter"
wait_for 30 test -s "$T/bound"
check "a socket holds 10.79.3.1:53" test -s "$T/bound"
vm "$ns" apply "$T/plan.xml"; rc=$?
check "apply with n3's DNS address taken fails (exit $rc)" test "$rc" = 1
check "the error names n3's dnsmasq" grep -q "dnsmasq for network n3 did not start" "$T/err"
check "... with dnsmasq's own message" grep -q "Address already in use" "$T/err"
check "... and says every completed step was undone" grep -q "every completed step was undone" "$T/err"
check "the batch began after n3 too (n4 and n5 named before the error)" \
        grep -q "\] start dnsmasq for network n5 on vb-n5\$" "$T/out"
check "no dnsmasq of the failed apply is left" no_instances
check "no configuration file is left" test -z "$(confs)"
snapshot "$ns" "$T/now"
same "the namespace as before the failed apply" "$T/before" "$T/now"
kill "$squatter"
wait "$squatter" 2>/dev/null

# --- from empty: a failure injected at each dnsmasq step -----------------------------
for n in $(dnsmasq_steps "$T/plan.xml"); do
        VMNET_TEST_FAIL_AT=$n vm "$ns" apply "$T/plan.xml"; rc=$?
        snapshot "$ns" "$T/now"
        if [ "$rc" = 1 ] && no_instances && [ -z "$(confs)" ] && cmp -s "$T/before" "$T/now"; then
                ok "failure injected at dnsmasq step $n: no dnsmasq, no file, the namespace as before"
        else
                ko "failure injected at dnsmasq step $n (exit $rc; left: $(instances | tr '\n' ' '))"
                diff -u "$T/before" "$T/now" | head -20
                cat "$T/err"
                vm "$ns" destroy "$T/plan.xml"
        fi
done

# --- over the applied plan: a failure at the third of five restarts ------------------
check "apply" vm "$ns" apply "$T/plan.xml"
check "one dnsmasq per network" serving
confs >"$T/confs-before"
snapshot "$ns" "$T/applied"
steps=$(dnsmasq_steps "$T/changed.xml")
check "the changed plan restarts all $N instances" test "$(echo "$steps" | wc -l)" = "$N"
third=$(echo "$steps" | sed -n 3p)
VMNET_TEST_FAIL_AT=$third vm "$ns" apply "$T/changed.xml"; rc=$?
check "a failure at the third restart (step $third) fails the apply (exit $rc)" test "$rc" = 1
check "the progress shows n1 and n2 restarted before it" \
        sh -c "grep -q 'restart dnsmasq for network n2 on vb-n2' '$T/out'"
confs >"$T/confs-after"
same "every configuration as before" "$T/confs-before" "$T/confs-after"
check "one dnsmasq per network again, each on its gateway" serving
snapshot "$ns" "$T/now"
same "the namespace as before" "$T/applied" "$T/now"
check "destroy" vm "$ns" destroy "$T/plan.xml"
check "destroy: no dnsmasq left" no_instances

finish
