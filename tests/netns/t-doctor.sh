#!/bin/bash
# vmnet doctor against a real kernel, in private network namespaces: healthy
# on a freshly applied plan; each problem, staged with ip/nft/sysctl, is
# found (check, severity, object) with a fix; the doctor changes nothing.
. "$top_srcdir/tests/netns/lib.sh"

base=$PLANS/base.xml

# doctor NS [ARGS...]: vmnet --json doctor in NS; the document is in $T/out, the status in $rc.
doctor() {
        local ns=$1; shift
        "$VMNET" --netns "$ns" --json doctor "$@" >"$T/out" 2>"$T/err"; rc=$?
}
# has CHECK SEVERITY OBJECT-REGEX: a finding of that check, severity and object, with a fix.
has() {
        jtrue --arg c "$1" --arg s "$2" --arg o "$3" \
                '[.findings[] | select(.check == $c and .severity == $s and (.object | test($o)) and .fix != null)] | length > 0' \
                cat "$T/out"
}
# lacks CHECK: no warning or error of that check.
lacks() {
        jtrue --arg c "$1" '[.findings[] | select(.check == $c and .severity != "info")] | length == 0' \
                cat "$T/out"
}
q() { jtrue "$1" cat "$2"; } # q FILTER FILE: the filter holds
fresh() { # NAME: a namespace with the base plan applied
        local ns
        ns=$(newns "$1") && "$VMNET" --netns "$ns" apply "$base" >/dev/null 2>&1 && echo "$ns"
}

# --- an empty namespace: nothing of the plan is there ------------------------------
ns=$(newns empty)
doctor "$ns" "$base"
check "doctor exits 1 before apply" test "$rc" = 1
check "missing bridge reported" has links error '^bridge vt-lab$'
check "the fix is vmnet apply" q '[.findings[] | select(.object == "bridge vt-lab") | .fix | test("vmnet --netns .* apply .*base.xml")] | all' "$T/out"
check "missing table reported" has nft-table error 'table inet vmnet'
check "forwarding off reported" has forwarding error 'net.ipv4.ip_forward'

# --- healthy after a fresh apply ------------------------------------------------------
ns=$(fresh healthy)
snapshot "$ns" "$T/before"
doctor "$ns" "$base"
check "doctor exits 0 on a freshly applied plan" test "$rc" = 0
check "healthy and no warning or error" q '.healthy == true and ([.findings[] | select(.severity != "info")] | length == 0)' "$T/out"
check "every finding has check, severity, object, message, fix" \
        q '[.findings[] | has("check") and has("severity") and has("object") and has("message") and has("fix")] | all' "$T/out"
check "skipped checks say why" q '([.checks[] | select(.status == "skipped") | .reason != null] | all) and ([.checks[] | select(.name == "libvirt")][0].status == "skipped")' "$T/out"
doctor "$ns"
check "doctor without a plan exits 0 there" test "$rc" = 0
check "without a plan the plan checks are skipped" q '[.checks[] | select(.name == "links")][0].status == "skipped" and ([.checks[] | select(.name == "foreign-drops")][0].status == "ok")' "$T/out"
"$VMNET" --netns "$ns" doctor "$base" >"$T/text"; rc=$?
check "text output says healthy" grep -q '^healthy: no problem found' "$T/text"
snapshot "$ns" "$T/after"
same "doctor changes nothing" "$T/before" "$T/after"

# --- exit statuses with --detailed-exitcode, and -q (vmnet(8), EXIT STATUS) ------------
# status/doctor NS ARGS...: the exit status in $rc, stdout in $T/q
st() { local ns=$1; shift; "$VMNET" --netns "$ns" "$@" >"$T/q" 2>"$T/qerr"; rc=$?; }
ns=$(newns exits)
st "$ns" status --detailed-exitcode "$base"
check "status --detailed-exitcode: drift exits 2 (rc $rc)" test "$rc" = 2
st "$ns" status "$base"
check "status without --detailed-exitcode: drift exits 0 (rc $rc)" test "$rc" = 0
st "$ns" -q status "$base"
check "-q status on a drifted host prints only the drift (rc $rc)" \
        sh -c "head -1 '$T/q' | grep -q '^drift: ' && ! grep -qE '^(links|nftables):' '$T/q'"
st "$ns" doctor --detailed-exitcode "$base"
check "doctor --detailed-exitcode: problems found exit 2 (rc $rc)" test "$rc" = 2
st "$ns" doctor "$base"
check "doctor without --detailed-exitcode: problems found exit 1 as before (rc $rc)" test "$rc" = 1
st "no-such-ns-$$" doctor --detailed-exitcode "$base"
check "doctor --detailed-exitcode: could not run exits 1 (rc $rc)" test "$rc" = 1
st "no-such-ns-$$" status --detailed-exitcode "$base"
check "status --detailed-exitcode: an error exits 1 (rc $rc)" test "$rc" = 1
"$VMNET" --netns "$ns" apply "$base" >/dev/null 2>&1
st "$ns" status --detailed-exitcode "$base"
check "status --detailed-exitcode: in sync exits 0 (rc $rc)" test "$rc" = 0
st "$ns" -q status "$base"
check "-q status in sync prints nothing (rc $rc)" sh -c "[ $rc = 0 ] && [ ! -s '$T/q' ]"
st "$ns" doctor --detailed-exitcode "$base"
check "doctor --detailed-exitcode: healthy exits 0 (rc $rc)" test "$rc" = 0
st "$ns" -q ipam "$base"
check "-q ipam prints nothing (rc $rc)" sh -c "[ $rc = 0 ] && [ ! -s '$T/q' ]"
st "$ns" -q metrics "$base"
check "-q metrics prints nothing (rc $rc)" sh -c "[ $rc = 0 ] && [ ! -s '$T/q' ]"

# --- bridge down ---------------------------------------------------------------------
ns=$(fresh down)
ip -n "$ns" link set vt-lab down
doctor "$ns" "$base"
check "bridge down: exit 1" test "$rc" = 1
check "bridge down: found" has links error '^bridge vt-lab$'
check "bridge down: fix names ip link set up" q '[.findings[] | select(.check == "links") | .fix | test("ip -n .* link set dev vt-lab up")] | any' "$T/out"
"$VMNET" --netns "$ns" apply "$base" >/dev/null 2>&1
doctor "$ns" "$base"
check "bridge down: the fix (vmnet apply) makes it healthy" test "$rc" = 0

# --- bridge without ports --------------------------------------------------------------
ns=$(fresh noports)
ip -n "$ns" link set vt-up0 nomaster
doctor "$ns" "$base"
check "bridge without ports: found" has bridge-ports warning '^bridge vt-lan$'
check "bridge without ports: says so" q '[.findings[] | select(.object == "bridge vt-lan") | .message | test("no ports")] | any' "$T/out"
check "uplink not a port: found" has bridge-ports error '^link vt-up0$'

# --- MTU mismatch with a veth port ------------------------------------------------------
ns=$(fresh mtu)
ip -n "$ns" link add vt-p1 mtu 1400 type veth peer name vt-p1p
ip -n "$ns" link set vt-p1 master vt-lab
doctor "$ns" "$base"
check "mtu mismatch: the port is found" has mtu error '^link vt-p1$'
check "mtu mismatch: fix sets the port's MTU" q '[.findings[] | select(.object == "link vt-p1") | .fix | test("link set dev vt-p1 mtu 1500")] | any' "$T/out"
ip -n "$ns" link set vt-p1 mtu 1500
"$VMNET" --netns "$ns" apply "$base" >/dev/null 2>&1
doctor "$ns" "$base"
check "mtu mismatch: gone after the fix" lacks mtu

# --- forwarding off ----------------------------------------------------------------------
ns=$(fresh fwd)
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0
doctor "$ns" "$base"
check "forwarding off: found with the plan" has forwarding error 'sysctl net.ipv4.ip_forward'
doctor "$ns"
check "forwarding off: found without a plan (from the state file)" has forwarding error 'sysctl net.ipv4.ip_forward'

# --- nft table flushed -------------------------------------------------------------------
ns=$(fresh flush)
ip netns exec "$ns" nft flush ruleset
doctor "$ns" "$base"
check "flushed table: found with the plan" has nft-table error 'table inet vmnet'
check "flushed table: fix is vmnet apply" q '[.findings[] | select(.check == "nft-table") | .fix | test("apply")] | all' "$T/out"
doctor "$ns"
check "flushed table: found without a plan (state file vs kernel)" has nft-table error 'table inet vmnet'
"$VMNET" --netns "$ns" apply "$base" >/dev/null 2>&1
doctor "$ns" "$base"
check "flushed table: healthy after vmnet apply" test "$rc" = 0
ip netns exec "$ns" nft add rule inet vmnet forward accept 2>/dev/null ||
        ip netns exec "$ns" nft add table inet vmnet '{ chain extra { } }'
doctor "$ns" "$base"
check "drifted table: found" has nft-table error 'table inet vmnet'

# --- a foreign FORWARD policy drop (Docker) and br_netfilter ----------------------------
ns=$(fresh drop)
ip netns exec "$ns" nft -f - <<'NFT'
table ip filter {
        chain FORWARD {
                type filter hook forward priority 0; policy drop;
        }
}
NFT
snapshot "$ns" "$T/d-before"
doctor "$ns" "$base"
check "foreign drop: found" has foreign-drops error '^table ip filter chain FORWARD$'
check "foreign drop: fix accepts vmnet's bridges" q '[.findings[] | select(.check == "foreign-drops") | .fix | test("nft insert rule ip filter FORWARD iifname .*vt-lab")] | any' "$T/out"
doctor "$ns"
check "foreign drop: found without a plan" has foreign-drops error '^table ip filter chain FORWARD$'
if ip netns exec "$ns" test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
        ip netns exec "$ns" sysctl -qw net.bridge.bridge-nf-call-iptables=1
        doctor "$ns" "$base"
        check "br_netfilter with a drop at forward: found" has br-netfilter error 'bridge-nf-call-iptables'
        ip netns exec "$ns" sysctl -qw net.bridge.bridge-nf-call-iptables=0
        doctor "$ns" "$base"
        check "br_netfilter off: no br-netfilter finding" lacks br-netfilter
        check "br_netfilter off: the foreign drop is still reported" has foreign-drops error 'FORWARD'
        ip netns exec "$ns" sysctl -qw net.bridge.bridge-nf-call-iptables=1
else
        skip=$((skip + 1)); echo "SKIP: br_netfilter is not loaded (no /proc/sys/net/bridge)"
fi
snapshot "$ns" "$T/d-after"
same "doctor leaves the foreign table alone" "$T/d-before" "$T/d-after"

# --- a subnet that overlaps a route already on the host (field note 14) -------------------
ns=$(fresh overlap)
ip -n "$ns" route add 10.77.2.128/25 dev vt-up0p
doctor "$ns" "$base"
check "overlapping route: found" has subnet-overlap error '^subnet 10.77.2.0/24$'
check "overlapping route: names the route" q '[.findings[] | select(.check == "subnet-overlap") | .message | test("10.77.2.128/25 dev vt-up0p")] | any' "$T/out"
ip -n "$ns" route del 10.77.2.128/25 dev vt-up0p
ip -n "$ns" route add 10.0.0.0/8 dev vt-up0p
doctor "$ns" "$base"
check "a broader foreign route: warning" has subnet-overlap warning '^subnet 10.77.1.0/24$'

# --- DHCP pool exhausted (dnsmasq's lease file) ---------------------------------------------
cat >"$T/dhcp.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-doctor-dhcp">
  <network name="lab" mode="nat" bridge="vt-dlab">
    <subnet cidr="10.79.1.0/24" gateway="10.79.1.1">
      <dhcp start="10.79.1.100" end="10.79.1.103"/>
    </subnet>
  </network>
</plan>
XML
ns=$(newns dhcp)
leases=$VMNET_STATE_DIR/netns-$ns/dnsmasq/t-doctor-dhcp/lab.leases
mkdir -p "$(dirname "$leases")"
future=$(($(date +%s) + 3600))
for i in 0 1 2 3; do echo "$future 52:54:00:00:00:0$i 10.79.1.10$i guest$i *"; done >"$leases"
doctor "$ns" "$T/dhcp.xml"
check "exhausted DHCP pool: found" has dhcp error '^dhcp 10.79.1.100-10.79.1.103$'
past=$(($(date +%s) - 60))
for i in 0 1 2 3; do echo "$past 52:54:00:00:00:0$i 10.79.1.10$i guest$i *"; done >"$leases"
doctor "$ns" "$T/dhcp.xml"
check "expired leases do not count" lacks dhcp

# --- libvirt: the test driver's running domain "test" (tap testnet0, no model) ---------------
cat >"$T/guests.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-engine">
  <network name="lab" mode="nat" bridge="vt-lab" mtu="1500">
    <subnet cidr="10.77.1.0/24" gateway="10.77.1.1"/>
  </network>
  <network name="dev" mode="host-only" bridge="vt-dev">
    <subnet cidr="10.77.2.0/24" gateway="10.77.2.1"/>
  </network>
  <domain name="test">
    <interface network="lab" mac="aa:bb:cc:dd:ee:ff"/>
  </domain>
</plan>
XML
ns=$(fresh libvirt)
ip -n "$ns" link add testnet0 type veth peer name testnet0p
ip -n "$ns" link set testnet0 master vt-dev
doctor "$ns" "$T/guests.xml" --connect test:///default
check "libvirt: interface without virtio found" has libvirt warning '^domain test interface aa:bb:cc:dd:ee:ff$'
check "libvirt: tap on the wrong bridge found" has libvirt error '^link testnet0$'
check "libvirt: an interface vmnet did not attach is found" q '[.findings[] | select(.check == "libvirt" and (.message | test("not attached by vmnet")))] | length == 1' "$T/out"
check "libvirt: the message names both bridges" q '[.findings[] | select(.object == "link testnet0") | .message | test("vt-dev.*vt-lab")] | any' "$T/out"
ip -n "$ns" link set testnet0 master vt-lab
doctor "$ns" "$T/guests.xml" --connect test:///default
check "libvirt: tap on the right bridge is not reported" q '[.findings[] | select(.check == "libvirt" and .object == "link testnet0")] | length == 0' "$T/out"
sed 's/domain name="test"/domain name="no-such-guest"/' "$T/guests.xml" >"$T/guests2.xml"
doctor "$ns" "$T/guests2.xml" --connect test:///default
check "libvirt: a domain libvirt lacks is found" has libvirt error '^domain no-such-guest$'
doctor "$ns" "$T/guests.xml" --connect "test://$T/no-such-file.xml"
check "libvirt: an unreachable libvirt is found" has libvirt error '^libvirt test://'

finish
