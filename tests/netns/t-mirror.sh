#!/bin/bash
# Port mirroring (issue 15 point 3, vmnet-plan(5) PORT MIRRORING), with real
# frames between stand-in guests:
#
#   vr-lan (isolated)
#     port vmn525400780001  g1   port group "watched": ingress mirrored to mon
#     port vmn525400780002  g2   not mirrored (later: egress to the host link cap0)
#   vr-span (isolated): nothing but the monitor
#     port vmn525400780003  mon  the destination; it sees nothing but copies
#   cap0: a host link (a veth) whose other end is in the namespace "cap"
#
# Each port is a veth named as vmnet names a guest's tap. A mirror is proven
# at the destination: mon's raw-frame listener logs the token of every
# frame that reaches it, and must log exactly the mirrored port's frames,
# each once, and nothing of the other guest's. The filters are read with tc,
# never from vmnet's report of itself.
. "$top_srcdir/tests/netns/lib.sh"
. "$top_srcdir/tests/lib/standin.sh"

GOLDEN=$top_srcdir/tests/data/actions
ns_new host
plan() { # G1-MIRROR G2-MIRROR: the plan, with the given <mirror> elements
        cat >"$T/plan.xml" <<XML
<plan xmlns="urn:vmnet:plan:1" name="t-mirror">
  <network name="lan" mode="isolated" bridge="vr-lan">
    <portgroup name="watched">
      $1
    </portgroup>
  </network>
  <network name="span" mode="isolated" bridge="vr-span"/>
  <domain name="g1"><interface network="lan" portgroup="watched" mac="52:54:00:78:00:01"/></domain>
  <domain name="g2"><interface network="lan" mac="52:54:00:78:00:02">$2</interface></domain>
  <domain name="mon"><interface network="span" mac="52:54:00:78:00:03"/></domain>
</plan>
XML
}
golden() { # NAME: vmnet plan's actions, but the bridge table's, against tests/data/actions/NAME.txt
        local name=$1 got
        if ! vm "$P-host" --json plan "$T/plan.xml"; then
                ko "golden $name: vmnet plan failed"; cat "$T/err"; return
        fi
        got=$(jq -r '.actions[] | select(.object | startswith("table ") | not) | "[\(.impact)] \(.type) \(.description)"' "$T/out")
        [ -z "${VMNET_REGENERATE:-}" ] || printf '%s\n' "$got" >"$GOLDEN/$name.txt"
        if [ "$got" = "$(cat "$GOLDEN/$name.txt")" ]; then
                ok "golden $name"
        else
                ko "golden $name"; diff -u "$GOLDEN/$name.txt" <(printf '%s\n' "$got") | head -20
        fi
}
P1=vmn525400780001 P2=vmn525400780002 PM=vmn525400780003
plan '<mirror direction="ingress" domain="mon"/>' ''
apply_or_stop "the plan (bridges only: no guest yet)"
vm "$P-host" --json status "$T/plan.xml"
check "no mirror without the guests' ports (status: in sync, no mirror)" jtrue '.in_sync and .mirrors == []' cat "$T/out"

sguest() { # NAME N BRIDGE: a stand-in guest on port vmn52540078000N, MAC 52:54:00:78:00:0N
        ns_new "$1"
        ip -n "$P-host" link add "vmn52540078000$2" type veth peer name eth0 netns "$P-$1"
        ip -n "$P-host" link set "vmn52540078000$2" master "$3" up
        ip -n "$P-$1" link set eth0 address "52:54:00:78:00:0$2" up
}
sguest g1 1 vr-lan; sguest g2 2 vr-lan; sguest mon 3 vr-span
ns_new cap
ip -n "$P-host" link add cap0 type veth peer name eth0 netns "$P-cap"
ip -n "$P-host" link set cap0 up; ip -n "$P-cap" link set eth0 up
golden mirror-add
# not apply_or_stop: against a vmnet that mirrors the wrong port, the frames must tell too
check "apply of the plan with the guests' ports there" vm "$P-host" apply "$T/plan.xml"

# the kernel's filter: on g1's tap, ingress, vmnet's priority, u32 matching all, mirred to mon's tap
# (u32 at pref 30317 at ingress, 30318 at egress: the priorities of vmnet's mirrors)
filter='[.[] | select(.kind == "u32" and (.pref == 30317 or .pref == 30318) and .options.actions != null)]'
check "g1's port: one u32 filter at ingress, pref 30317, mirred egress mirror to $PM" \
        jtrue "$filter | length == 1 and .[0].pref == 30317 and (.[0].options.actions | length == 1 and (.[0] | .kind == \"mirred\"
                and .mirred_action == \"mirror\" and .direction == \"egress\" and .to_dev == \"$PM\"))" \
        x host tc -j filter show dev $P1 ingress
check "g1's port: nothing at egress" jtrue "$filter | length == 0" x host tc -j filter show dev $P1 egress
check "g2's and mon's ports: no qdisc in the ingress slot" \
        sh -c "[ \"\$(ip netns exec $P-host tc -j qdisc show dev $P2 ingress)\$(ip netns exec $P-host tc -j qdisc show dev $PM ingress)\" = '[][]' ]"

# frames: g2 -> g1 (g1 receives them: not mirrored by an ingress mirror), then g1 -> g2
for ns in mon g1 g2 cap; do
        x $ns timeout 3600 "$PY" "$PROBE" fserve "$T/flog-$ns" "$T/fready-$ns" eth0 >/dev/null 2>"$T/fserve-$ns.err" &
        track_pid $!
done
ready "$T/fready-mon" "$T/fready-g1" "$T/fready-g2" "$T/fready-cap"
send() { # FROM(g1|g2) TO-MAC PREFIX N: N frames from FROM's own MAC, tokens PREFIX1..PREFIXN
        for i in $(seq "$4"); do x "$1" "$PY" "$PROBE" frame eth0 "52:54:00:78:00:0${1#g}" "$2" "$3$i" >/dev/null; done
}
logged() { # NS PREFIX: how many tokens PREFIX* the listener of NS logged
        grep -c "^$2[0-9]* " "$T/flog-$1" 2>/dev/null || true
}
arrived() { # NS TOKEN: waits (bounded) until NS logged TOKEN
        wait_for 5 grep -q "^$2 " "$T/flog-$1"
}
send g2 52:54:00:78:00:01 b 10
send g1 52:54:00:78:00:02 a 10
arrived g2 a10; arrived mon a10
check "g1's 10 frames reach g2 ($(logged g2 a))" test "$(logged g2 a)" = 10
check "mon receives a copy of each of g1's 10 frames, once ($(logged mon a))" test "$(logged mon a)" = 10
check "g2's 10 frames reach g1 ($(logged g1 b))" test "$(logged g1 b)" = 10
check "none of g2's frames reaches mon ($(logged mon b))" test "$(logged mon b)" = 0

vm "$P-host" --json apply --detailed-exitcode "$T/plan.xml"; rc=$?
check "re-apply is a no-op (rc $rc)" test "$rc" = 0
vm "$P-host" --json status "$T/plan.xml"
check "status --json: the one active mirror, named by its guests" \
        jtrue ".in_sync and (.mirrors == [{port: \"$P1\", direction: \"ingress\", to: \"$PM\",
                port_owner: \"domain g1 interface 1\", to_owner: \"domain mon interface 1\"}])" cat "$T/out"
check "status --json: valid against schemas/json/status.schema.json" \
        /usr/bin/python3 "$top_srcdir/tests/lib/jschema.py" status "$T/out"
vm "$P-host" status "$T/plan.xml"
check "status: the mirror in the text" grep -qE "^  $P1 +ingress +-> $PM  \(domain g1 interface 1 -> domain mon interface 1\)$" "$T/out"

# --- both directions of g1, and g2's egress to a host link
plan '<mirror direction="both" domain="mon"/>' '<mirror direction="egress" link="cap0"/>'
golden mirror-change
apply_or_stop "both directions of g1, g2's egress to cap0"
check "g1's port: the egress filter too (pref 30318), to $PM" \
        jtrue "$filter | length == 1 and .[0].pref == 30318 and .[0].options.actions[0].to_dev == \"$PM\"" x host tc -j filter show dev $P1 egress
check "g2's port: egress to cap0, nothing at ingress" \
        jtrue "$filter | length == 1 and .[0].options.actions[0].to_dev == \"cap0\"" x host tc -j filter show dev $P2 egress
check "g2's port: nothing at ingress" jtrue "$filter | length == 0" x host tc -j filter show dev $P2 ingress
send g2 52:54:00:78:00:01 c 5
send g1 52:54:00:78:00:02 d 5
arrived mon d5; arrived cap d5
check "mon now sees what g1 receives too: g2's 5 frames ($(logged mon c))" test "$(logged mon c)" = 5
check "  and what g1 sends ($(logged mon d))" test "$(logged mon d)" = 5
check "cap sees what g2 receives ($(logged cap d))" test "$(logged cap d)" = 5
check "  and nothing g2 sends ($(logged cap c))" test "$(logged cap c)" = 0
check "cap saw nothing before ($(logged cap a) $(logged cap b))" test "$(logged cap a)$(logged cap b)" = 00

# mirrors NAME JQ: vmnet doctor's mirrors check (--json) in the host namespace;
# passes when the jq filter over its findings ([.findings[] | select(.check ==
# "mirrors")]) and its result (.checks[] of that name) is true
mirrors() {
        "$VMNET" --netns "$P-host" --json doctor "$T/plan.xml" >"$T/doctor.json" 2>"$T/doctor.err"
        if jtrue "([.findings[] | select(.check == \"mirrors\")] as \$f | [.checks[] | select(.name == \"mirrors\")][0] as \$c | $2)" \
                cat "$T/doctor.json"; then
                ok "$1"
        else
                ko "$1"; jq -c '.findings[] | select(.check == "mirrors")' "$T/doctor.json"; cat "$T/doctor.err"
        fi
}
mirrors "doctor: the mirrors are as planned (check ok, no finding)" '$c.status == "ok" and $f == []'

# --- drift: a filter removed by hand is put back
x host tc filter del dev $P1 ingress pref 30317
# ... which doctor names, with the fix
mirrors "doctor names g1's ingress mirror, missing from $P1, fix: vmnet apply" \
        "\$c.status == \"problems\" and (\$f | length == 1) and (\$f[0] | .severity == \"warning\" and .object == \"link $P1\"
                and (.message | test(\"ingress mirror of port $P1 .domain g1 interface 1. to $PM .domain mon interface 1. is missing\"))
                and (.fix | test(\"^vmnet --netns $P-host apply .*plan.xml\$\")))"
vm "$P-host" --json status --detailed-exitcode "$T/plan.xml"; rc=$?
check "status: a mirror removed by hand is drift (rc $rc)" test "$rc" = 2
vm "$P-host" --json apply --detailed-exitcode "$T/plan.xml"; rc=$?
check "apply repairs it (rc $rc)" test "$rc" = 2
check "  the ingress filter is back" jtrue "$filter | length == 1 and .[0].options.actions[0].to_dev == \"$PM\"" \
        x host tc -j filter show dev $P1 ingress
mirrors "  and doctor finds nothing wrong with the mirrors" '$c.status == "ok" and $f == []'

# --- a destination gone, then made again: the filter copies to nowhere until the next apply
x host ip link del cap0
mirrors "cap0 gone: doctor says g2's egress mirror has no destination, fix: create cap0, then vmnet apply" \
        "(\$f | length == 1) and (\$f[0] | .object == \"link $P2\" and
                (.message | test(\"egress mirror of port $P2 .domain g2 interface 1. has no destination: cap0 .host link. is not here\"))
                and (.fix | test(\"^create the host link cap0, or change the <mirror> at .*plan.xml:[0-9]+; then vmnet --netns $P-host apply \")))"
ip -n "$P-host" link add cap0 type veth peer name eth0 netns "$P-cap"
ip -n "$P-host" link set cap0 up; ip -n "$P-cap" link set eth0 up
mirrors "cap0 made again: doctor says g2's egress mirror copies to a link that is gone, fix: vmnet apply" \
        "(\$f | length == 1) and (\$f[0] | .object == \"link $P2\" and
                (.message | test(\"egress mirror of port $P2 .* copies to a link that is gone, not to cap0 .host link.\"))
                and (.fix | test(\"^vmnet --netns $P-host apply \")))"
vm "$P-host" --json apply --detailed-exitcode "$T/plan.xml"; rc=$?
check "apply sets g2's mirror to the new cap0 (rc $rc)" test "$rc" = 2
check "  g2's egress filter copies to cap0" jtrue "$filter | length == 1 and .[0].options.actions[0].to_dev == \"cap0\"" \
        x host tc -j filter show dev $P2 egress
mirrors "  and doctor finds nothing wrong with the mirrors again" '$c.status == "ok" and $f == []'

# --- g2's mirror left out of the plan: removed, and its clsact with it
plan '<mirror direction="both" domain="mon"/>' ''
golden mirror-remove
apply_or_stop "g2's mirror removed"
check "g2's port: no filter, no clsact left" jtrue 'length == 0' x host tc -j qdisc show dev $P2 ingress

# --- destroy leaves no qdisc or filter behind on any port
check "destroy" vm "$P-host" destroy "$T/plan.xml"
for p in $P1 $P2 $PM; do
        check "after destroy: $p has no qdisc in the ingress slot and no filter" \
                sh -c "[ \"\$(ip netns exec $P-host tc -j qdisc show dev $p ingress)\$(ip netns exec $P-host tc -j filter show dev $p ingress)\$(ip netns exec $P-host tc -j filter show dev $p egress)\" = '[][][]' ]"
done
finish
