#!/bin/bash
# A plan subnet that an active libvirt network of someone else's already has
# (issue 17, point 7): libvirt's test driver has 'default', active,
# 192.168.122.1/24 on virbr0, as Debian's libvirtd has it. plan, apply and
# status refuse it before anything changes, naming the network, its bridge
# and subnet and the plan's line; doctor reports the same (one verdict). The
# namespace is read back with ip and nft, never through vmnet.
. "$top_srcdir/tests/netns/lib.sh"

cat >"$T/clash.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-clash">
  <network name="clash" mode="nat" bridge="vc-clash">
    <subnet cidr="192.168.122.0/24" gateway="192.168.122.254"/>
  </network>
</plan>
XML
sed 's/192\.168\.122\./10.84.1./g' "$T/clash.xml" >"$T/other.xml"
URI=test:///default
WHAT="clash.xml:3: network 'clash': subnet 192.168.122.0/24 (gateway 192.168.122.254) overlaps libvirt network 'default' (active, not vmnet's) on bridge virbr0, subnet 192.168.122.0/24 (host address 192.168.122.1)"

ns=$(newns clash)
snapshot "$ns" "$T/before"
for cmd in plan apply status; do
        vm "$ns" "$cmd" --connect "$URI" "$T/clash.xml"
        rc=$?
        check "$cmd refuses (exit 1)" test "$rc" = 1
        check "  names the network, its bridge and subnet, the plan's line" grep -qF "$WHAT" "$T/err"
done
snapshot "$ns" "$T/after"
check "nothing changed in the namespace" diff -u "$T/before" "$T/after"
vm "$ns" --json doctor --connect "$URI" "$T/clash.xml"
check "doctor: one subnet-overlap error naming 'default' on virbr0" jtrue \
        '[.findings[] | select(.check == "subnet-overlap" and .severity == "error" and (.message | test("overlaps libvirt network .default. .*on bridge virbr0")))] | length == 1' \
        cat "$T/out"
# Another subnet: no conflict.
vm "$ns" plan --connect "$URI" "$T/other.xml"
check "a subnet nobody has: plan goes ahead" test "$?" = 0
check "  and names no conflict" sh -c "! grep -q 'overlaps libvirt network' '$T/err'"

finish
