#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/netns/t-vxlan.sh: a fleet plan's VXLAN segments across three "hosts"
# (namespaces) whose underlay addresses are in different subnets, joined by
# a router namespace (a routed underlay), each applying the same plan with
# its own --netns and --host (vmnet-plan(5) FLEET PLANS):
#
#   h1 ul0 10.201.1.1 --- r1 10.201.1.254 \
#   h2 ul0 10.201.2.1 --- r2 10.201.2.254  router
#   h3 ul0 10.201.3.1 --- r3 10.201.3.254 /
#
# Segment web (VNI 1001) is on all three, db (VNI 1002) on hv01 and hv02.
# web is a nat network that hv01 serves (<vxlan gateway-host="hv01">): hv01
# holds 192.168.77.254 and runs dnsmasq, hv02 and hv03 carry the segment
# only. Stand-in guests: w1, w2, w3 on web (192.168.77.1-3), g2, g3 on web
# by DHCP (on hv02, hv03), d1, d2 on db (192.168.77.11-12, the same subnet
# on purpose: db reaches web only if the segments leak into each other).
#
# Checks, read from the kernel (ip -d -j link, bridge -j fdb) and at the
# receiving guest, never from vmnet's report: the golden action lists
# (tests/data/actions/vxlan-*.txt, VMNET_REGENERATE=1 rewrites them), the
# VXLAN links and their flood lists, re-apply a no-op, guests ping across
# hosts at the segment MTU with DF and fail one byte above, db never sees
# web, removing a host removes exactly its flood entries (links not
# re-created), adding it back adds exactly them, destroy restores each
# namespace. One host serves web: the guests on hv02 and hv03 get their
# lease from hv01's dnsmasq (udhcpc's output, hv01's lease file), hv02 and
# hv03 hold no address on vm-web, run no dnsmasq and have no masquerade
# rule, and a guest on hv02 reaches hv01's gateway address.
. "$top_srcdir/tests/netns/lib.sh"
. "$top_srcdir/tests/lib/standin.sh"
GOLDEN=$top_srcdir/tests/data/actions

fleet_plan() { # HOSTS-OF-WEB-AND-FLEET ("hv01 hv02 hv03"): the plan on stdout
        local h
        echo '<plan xmlns="urn:vmnet:plan:1" name="fleet">'
        for h in $1; do
                echo "  <host name=\"$h\" underlay=\"10.201.${h#hv0}.1\" underlay-dev=\"ul0\"/>"
        done
        cat <<'XML'
  <network name="web" mode="nat" mtu="1450">
    <vxlan vni="1001" gateway-host="hv01"/>
    <subnet cidr="192.168.77.0/24" gateway="192.168.77.254">
      <dhcp start="192.168.77.100" end="192.168.77.150"/>
    </subnet>
  </network>
  <network name="db" mode="isolated" mtu="1450" hosts="hv01 hv02">
    <vxlan vni="1002" port="4790"/>
  </network>
</plan>
XML
}

# golden NAME HOST: vmnet plan's actions in HOST's namespace, but the nft table's (its own tests'), against tests/data/actions/NAME.txt
golden() {
        local name=$1 h=$2 got
        if ! "$VMNET" --json --host "hv0${h#h}" plan --netns "$P-$h" "$T/plan.xml" >"$T/plan.json" 2>"$T/err"; then
                ko "golden $name: vmnet plan failed"; cat "$T/err"; return
        fi
        got=$(jq -r '.actions[] | select(.object | startswith("table ") | not) | "[\(.impact)] \(.type) \(.description)"' "$T/plan.json")
        if [ -n "${VMNET_REGENERATE:-}" ]; then
                printf '%s\n' "$got" >"$GOLDEN/$name.txt"
        fi
        if [ "$got" = "$(cat "$GOLDEN/$name.txt")" ]; then
                ok "golden $name"
        else
                ko "golden $name"; diff -u "$GOLDEN/$name.txt" <(printf '%s\n' "$got") | head -20
        fi
}
apply_on() { # H [PLAN]: vmnet apply on host H (h1 -> --host hv01)
        if "$VMNET" --host "hv0${1#h}" apply --netns "$P-$1" "${2:-$T/plan.xml}" >"$T/out" 2>"$T/err"; then
                ok "apply on $1"
        else
                ko "apply on $1"; cat "$T/err"
        fi
}
noop_on() { # H: re-applying the same plan changes nothing
        check "re-apply on $1 is a no-op" "$VMNET" -q --host "hv0${1#h}" plan --detailed-exitcode --netns "$P-$1" "$T/plan.xml"
}
flood() { # H LINK: the link's all-zeros FDB destinations, sorted, one line
        jread '[.[] | select(.mac == "00:00:00:00:00:00") | .dst] | sort | join(" ")' \
                bridge -n "$P-$1" -j fdb show dev "$2" | tr -d '"'
}
vxlan_is() { # H LINK VNI PORT LOCAL BRIDGE: the link as the kernel has it
        check "$1: $2 is vxlan id $3 dstport $4 local $5 on ul0, port of $6, alias vmnet:fleet" \
                jtrue --argjson id "$3" --argjson port "$4" --arg local "$5" --arg br "$6" \
                '.[0] | .linkinfo.info_kind == "vxlan" and .linkinfo.info_data.id == $id and
                        .linkinfo.info_data.port == $port and .linkinfo.info_data.local == $local and
                        .linkinfo.info_data.link == "ul0" and .master == $br and .ifalias == "vmnet:fleet"' \
                ip -n "$P-$1" -d -j link show "$2"
}
ifindex() { jread '.[0].ifindex' ip -n "$P-$1" -j link show "$2"; }
vguest() { # NAME H BRIDGE ADDR/LEN: a stand-in guest on H's BRIDGE
        ns_new "$1"
        ip -n "$P-$2" link add "v-$1" type veth peer name eth0 netns "$P-$1"
        ip -n "$P-$2" link set "v-$1" master "$3" up
        ip -n "$P-$1" link set eth0 up
        ip -n "$P-$1" addr add "$4" dev eth0
}
dfping() { # yes|no FROM RECEIVER ADDR SIZE: one echo of SIZE payload bytes with DF set, counted at the receiver
        local before after got
        before=$(echoes "$3" 4)
        got=$(x "$2" "$PY" "$PROBE" dfping "$4" "$5")
        after=$(echoes "$3" 4)
        if [ "$1" = yes ]; then
                check "$2 -> $4: $5 bytes with DF answered ($got, $3 received $((after - before)))" \
                        test "$got" = answered -a "$after" -gt "$before"
        else
                check "$2 -> $4: $5 bytes with DF never reach $3 ($got, $3 received $((after - before)))" \
                        test "$got" != answered -a "$after" = "$before"
        fi
}

# --- the routed underlay ---
ns_new router
x router sysctl -qw net.ipv4.ip_forward=1
for i in 1 2 3; do
        ns_new "h$i"
        wire router "r$i" "h$i" ul0
        ip -n "$P-router" addr add "10.201.$i.254/24" dev "r$i"
        ip -n "$P-h$i" addr add "10.201.$i.1/24" dev ul0
        ip -n "$P-h$i" route add default via "10.201.$i.254"
        snapshot "$P-h$i" "$T/before-h$i" || { finish; exit 1; }
done

fleet_plan "hv01 hv02 hv03" >"$T/plan.xml"
check "validate: the fleet plan is valid" "$VMNET" -q validate "$T/plan.xml"
# a host not in the plan is refused, naming the plan's hosts
"$VMNET" --host hv09 plan --netns "$P-h1" "$T/plan.xml" >"$T/out" 2>"$T/err"
check "--host hv09: refused, naming the plan's hosts" grep -q "host 'hv09' is not in the fleet plan (its hosts: hv01, hv02, hv03)" "$T/err"

golden vxlan-empty h1
golden vxlan-empty-h3 h3
# rollback: an apply that fails at its last step (12: dnsmasq, after the
# gateway address, ip_forward and the nft table) leaves h1 as it was
VMNET_TEST_FAIL_AT=12 "$VMNET" --host hv01 apply --netns "$P-h1" "$T/plan.xml" >"$T/out" 2>"$T/err"
check "h1: an apply failing at step 12 exits 1" test $? = 1
snapshot "$P-h1" "$T/rolled-h1" && same "h1: the failed apply rolled back" "$T/before-h1" "$T/rolled-h1"
for h in h1 h2 h3; do apply_on $h; done
vxlan_is h1 vx1001 1001 4789 10.201.1.1 vm-web
vxlan_is h1 vx1002 1002 4790 10.201.1.1 vm-db
vxlan_is h3 vx1001 1001 4789 10.201.3.1 vm-web
check "h1: vx1001 floods to hv02 and hv03" test "$(flood h1 vx1001)" = "10.201.2.1 10.201.3.1"
check "h1: vx1002 floods to hv02 only" test "$(flood h1 vx1002)" = "10.201.2.1"
check "h3: vx1001 floods to hv01 and hv02" test "$(flood h3 vx1001)" = "10.201.1.1 10.201.2.1"
check "h3: no db segment" test -z "$(ip -n "$P-h3" link show vx1002 2>/dev/null)"
for h in h1 h2 h3; do noop_on $h; done
# the picture of `vmnet status --format dot` (issue 18) draws each segment's
# VXLAN link with its VNI on its bridge, and the VXLAN link is no guest port
"$VMNET" --host hv01 status --format dot --netns "$P-h1" "$T/plan.xml" >"$T/h1.dot" 2>"$T/err"
check "h1: status --format dot renders, vx1001 and vx1002 drawn as VXLAN 1001 and 1002 into their bridges" sh -c "
        dot -Tsvg -o '$T/h1.svg' '$T/h1.dot' &&
        grep -q '\"link:vx1001\" -> \"link:vm-web\" \\[label=\"VXLAN 1001\"\\]' '$T/h1.dot' &&
        grep -q '\"link:vx1002\" -> \"link:vm-db\" \\[label=\"VXLAN 1002\"\\]' '$T/h1.dot'"
check "h1: status --stats counts no VXLAN link as a guest port" \
        jtrue '[.traffic[] | select(.kind == "port" and (.link | startswith("vx")))] == []' \
        "$VMNET" --json --host hv01 status --stats --netns "$P-h1" "$T/plan.xml"

# --- traffic: stand-in guests on the segments ---
vguest w1 h1 vm-web 192.168.77.1/24
vguest w2 h2 vm-web 192.168.77.2/24
vguest w3 h3 vm-web 192.168.77.3/24
vguest d1 h1 vm-db 192.168.77.11/24
vguest d2 h2 vm-db 192.168.77.12/24
# the segment MTU is 1450: 1422 bytes of ICMP payload + 28 of headers
dfping yes w1 w2 192.168.77.2 1422
dfping yes w1 w3 192.168.77.3 1422
dfping yes w3 w2 192.168.77.2 1422
dfping no w1 w2 192.168.77.2 1423
dfping yes d2 d1 192.168.77.11 1422
icmp deny "db does not see web" d2 w1 192.168.77.1
icmp deny "web does not see db" w3 d2 192.168.77.12

# --- one host serves web: hv01 (gateway-host), read from each namespace ---
inet4() { # H: vm-web's IPv4 addresses on H, sorted, one line
        jread '[.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"] | sort | join(" ")' \
                ip -n "$P-$1" -j addr show dev vm-web | tr -d '"'
}
dnsmasqs() { # H: how many dnsmasq processes run in H's namespace
        local pid n=0
        for pid in $(ip netns pids "$P-$1"); do
                [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dnsmasq ] && n=$((n + 1))
        done
        echo "$n"
}
masquerades() { # H: how many masquerade statements H's ruleset has
        jread '[.nftables[] | select(.rule) | .rule.expr[] | select(has("masquerade"))] | length' \
                x "$1" nft -j list ruleset
}
check "h1: vm-web holds the gateway 192.168.77.254/24" test "$(inet4 h1)" = 192.168.77.254/24
check "h2, h3: vm-web holds no IPv4 address" test "$(inet4 h2)/$(inet4 h3)" = /
check "h1 runs one dnsmasq, h2 and h3 none" test "$(dnsmasqs h1)/$(dnsmasqs h2)/$(dnsmasqs h3)" = 1/0/0
check "h1 masquerades, h2 and h3 have no masquerade rule" \
        test "$(masquerades h1)/$(masquerades h2)/$(masquerades h3)" = 1/0/0
dguest() { # NAME H MAC: a guest on H's vm-web with no address
        ns_new "$1"
        ip -n "$P-$2" link add "v-$1" type veth peer name eth0 netns "$P-$1"
        ip -n "$P-$1" link set eth0 address "$3" up
        ip -n "$P-$2" link set "v-$1" master vm-web up
}
leases=$VMNET_STATE_DIR/netns-$P-h1/dnsmasq/fleet/web.leases
for g in g2/h2/52:54:00:77:00:02 g3/h3/52:54:00:77:00:03; do
        IFS=/ read -r name h mac <<<"$g"
        dguest "$name" "$h" "$mac"
        # udhcpc says "lease of ADDR obtained from SERVER"; -s /bin/true: the address is not configured
        got=$(x "$name" busybox udhcpc -i eth0 -n -q -t 8 -T 1 -s /bin/true 2>&1 |
                sed -n 's/.*lease of \([0-9.]*\) obtained from \([0-9.]*\).*/\1 \2/p')
        check "$name on $h: a lease of 192.168.77.100-150 from 192.168.77.254, hv01's dnsmasq (got: ${got:-none})" \
                grep -Eq '^192\.168\.77\.1([0-4][0-9]|50) 192\.168\.77\.254$' <<<"$got"
        check "$name on $h: hv01's lease file holds $mac with ${got%% *}" \
                wait_for 5 grep -q " $mac ${got%% *} " "$leases"
        # every host's server would say 192.168.77.254: no other host may have leased it
        check "$name on $h: no lease of $mac on h2 or h3" \
                sh -c "! cat '$VMNET_STATE_DIR'/netns-$P-h[23]/dnsmasq/fleet/web.leases 2>/dev/null | grep -q ' $mac '"
done
# w2's echoes to the gateway are counted in h1's namespace, which holds it
dfping yes w2 h1 192.168.77.254 1422

# --- a host leaves the fleet: only its flood entries go ---
idx1=$(ifindex h1 vx1001) idx2=$(ifindex h2 vx1001)
fleet_plan "hv01 hv02" >"$T/plan.xml"
golden vxlan-host-removed h1
apply_on h1; apply_on h2
check "h1: vx1001 floods to hv02 only" test "$(flood h1 vx1001)" = "10.201.2.1"
check "h2: vx1001 floods to hv01 only" test "$(flood h2 vx1001)" = "10.201.1.1"
check "h1: vx1002 untouched" test "$(flood h1 vx1002)" = "10.201.2.1"
check "h1, h2: vx1001 not re-created" test "$(ifindex h1 vx1001)/$(ifindex h2 vx1001)" = "$idx1/$idx2"
dfping yes w1 w2 192.168.77.2 1422
# ... and comes back: only its flood entries are added
fleet_plan "hv01 hv02 hv03" >"$T/plan.xml"
golden vxlan-host-added h1
apply_on h1; apply_on h2
check "h1: vx1001 floods to hv02 and hv03 again" test "$(flood h1 vx1001)" = "10.201.2.1 10.201.3.1"
# drift: a flood entry deleted behind vmnet's back is put back, nothing else
bridge -n "$P-h2" fdb del 00:00:00:00:00:00 dst 10.201.3.1 dev vx1001
# ... which doctor names, with the fix (this host's apply), and the chain of each segment
"$VMNET" --host hv02 --json doctor --netns "$P-h2" "$T/plan.xml" >"$T/doc.json" 2>"$T/err"
check "doctor on h2: vx1001 lacks the flood entry for 10.201.3.1, fix: vmnet --host hv02 apply" \
        jtrue '[.findings[] | select(.check == "vxlan" and .severity == "error" and .object == "vxlan vx1001" and
                (.message | test("no flood entry for 10.201.3.1")) and (.fix | test("--host hv02 apply")))] | length == 1' cat "$T/doc.json"
check "doctor on h2: the chain of web: guests 1450, vm-web, vx1001, underlay ul0 1500" \
        jtrue '[.findings[] | select(.check == "vxlan" and .severity == "info" and
                (.message | test("guests mtu 1450 -> bridge vm-web mtu 1450 -> vx1001 .vni 1001. mtu 1450 \\+ 50 -> underlay ul0 mtu 1500")))] | length == 1' cat "$T/doc.json"
golden vxlan-drift h2
apply_on h2
check "h2: vx1001 floods to hv01 and hv03 again" test "$(flood h2 vx1001)" = "10.201.1.1 10.201.3.1"
# reapply without --host: the saved plan keeps the host it was applied for
# (this machine's hostname is none of hv01-hv03)
bridge -n "$P-h2" fdb del 00:00:00:00:00:00 dst 10.201.3.1 dev vx1001
check "h2: reapply without --host takes hv02's part of the saved plan" "$VMNET" reapply --netns "$P-h2"
check "h2: vx1001 floods to hv01 and hv03 again, after reapply" test "$(flood h2 vx1001)" = "10.201.1.1 10.201.3.1"

# rollback of a re-creation: db moves to VNI 1003; the step after the new
# link fails, and vx1002 comes back with its flood list, in its bridge
sed 's/vni="1002"/vni="1003" name="vx1002"/' "$T/plan.xml" >"$T/vni.xml"
VMNET_TEST_FAIL_AT=3 "$VMNET" --host hv01 apply --netns "$P-h1" "$T/vni.xml" >"$T/out" 2>"$T/err"
check "h1: a VNI change failing at step 3 exits 1" test $? = 1
vxlan_is h1 vx1002 1002 4790 10.201.1.1 vm-db
check "h1: vx1002's flood list is back" test "$(flood h1 vx1002)" = "10.201.2.1"

# doctor: an underlay that cannot carry the segment's frames
ip -n "$P-h3" link set ul0 mtu 1400
"$VMNET" --host hv03 --json doctor --netns "$P-h3" "$T/plan.xml" >"$T/doc.json" 2>"$T/err"
check "doctor on h3: underlay ul0 mtu 1400 < 1500, fix sets it" \
        jtrue '[.findings[] | select(.check == "vxlan" and .severity == "error" and .object == "link ul0" and
                (.fix | test("link set dev ul0 mtu 1500")))] | length == 1' cat "$T/doc.json"
ip -n "$P-h3" link set ul0 mtu 1500

# --- destroy gives each namespace back as it was ---
for g in h1:w1 h2:w2 h3:w3 h1:d1 h2:d2 h2:g2 h3:g3; do ip -n "$P-${g%:*}" link del "v-${g#*:}"; done

for i in 1 2 3; do
        if "$VMNET" --host "hv0$i" destroy --netns "$P-h$i" "$T/plan.xml" >"$T/out" 2>"$T/err"; then
                ok "destroy on h$i"
        else
                ko "destroy on h$i"; cat "$T/err"
        fi
        snapshot "$P-h$i" "$T/after-h$i" && same "h$i: destroy restores the namespace" "$T/before-h$i" "$T/after-h$i"
done
finish
