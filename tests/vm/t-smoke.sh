#!/bin/bash
# t-smoke: proves the test bed itself: a stock kernel with 802.1Q, dummy
# links, VLAN-filtering bridges and nftables, and a real libvirtd that starts
# a domain.  Kernel state is read back independently (ip/bridge/nft JSON,
# virsh), never trusted from the command that made it.
#
# VMNET_SMOKE_VLAN_EXPECT (default 42) is the VLAN id the check expects; set
# it to anything else to watch this test fail.
. "${0%/*}/lib.sh"

VID=42
EXPECT=${VMNET_SMOKE_VLAN_EXPECT:-$VID}

NS=$(vm_netns_add smoke) || vm_fail "cannot create a network namespace"

t_kernel() {
        vm_assert_match '-amd64$' "$(uname -r)" "kernel release"
        vm_assert test -f "/lib/modules/$(uname -r)/modules.dep"
        vm_assert_eq 1 "$(grep -c ' / overlay ' /proc/mounts)" "root is an overlay"
        # The per-test sandbox of run-suite: nothing of the VM's links leaks in.
        vm_assert_eq lo "$(vm_ns "$NS" ip -j link show | jq -r '[.[].ifname] | join(",")')" "links in a fresh netns"
}

# vm-run shares the source and build trees at their own path, wherever they
# are (a checkout under /var would otherwise be hidden by the guest's fresh
# /var), and run-suite mounts them again in each test's sandbox.
t_trees() {
        local d t found
        vm_assert test -s /.vmnet/shares
        for t in "$top_srcdir" "$top_builddir"; do
                found=
                while IFS= read -r d; do
                        [[ $t == "$d" || $t == "$d"/* ]] && found=$d
                done </.vmnet/shares
                [[ -n $found ]] || vm_fail "$t is in none of the shared trees: $(tr '\n' ' ' </.vmnet/shares)"
                vm_assert mountpoint -q "$found"
        done
        vm_assert test -f "$top_srcdir/tests/vm/lib.sh"
}

t_vlan() {
        vm_ns "$NS" ip link add up0 type dummy
        vm_ns "$NS" ip link add link up0 name up0.$VID type vlan id $VID
        vm_ns "$NS" ip link set up0 up
        vm_ns "$NS" ip link set up0.$VID up
        local js
        js=$(vm_ns "$NS" ip -d -j link show dev up0.$VID)
        vm_assert_jq "$js" '.[0].linkinfo.info_kind == "vlan"' "up0.$VID kind"
        vm_assert_jq "$js" '.[0].linkinfo.info_data.protocol == "802.1Q"' "up0.$VID protocol"
        vm_assert_jq "$js" ".[0].linkinfo.info_data.id == $EXPECT" "up0.$VID VLAN id"
        vm_assert_jq "$js" '.[0].link == "up0"' "up0.$VID parent"
        vm_assert_jq "$(vm_ns "$NS" ip -d -j link show dev up0)" '.[0].linkinfo.info_kind == "dummy"' "up0 kind"
        # Outside the namespace the link does not exist.
        vm_assert_not ip link show dev up0.$VID
}

# The checker itself must be able to fail: a wrong VLAN id is caught.
t_wrong_vlan_is_detected() {
        local js
        js=$(vm_ns "$NS" ip -d -j link show dev up0.$VID)
        if (vm_assert_jq "$js" ".[0].linkinfo.info_data.id == $((VID + 1))" "VLAN id") 2>/dev/null; then
                vm_fail "VLAN id $VID was accepted as $((VID + 1))"
        fi
}

t_bridge_vlan_filtering() {
        vm_ns "$NS" ip link add br0 type bridge vlan_filtering 1
        vm_ns "$NS" ip link add up1 type dummy
        vm_ns "$NS" ip link set up1 master br0
        vm_ns "$NS" bridge vlan add dev up1 vid 100 pvid untagged
        vm_ns "$NS" bridge vlan add dev up1 vid 200
        vm_assert_jq "$(vm_ns "$NS" ip -d -j link show dev br0)" \
                '.[0].linkinfo.info_kind == "bridge" and .[0].linkinfo.info_data.vlan_filtering == 1' "br0 vlan_filtering"
        local js
        js=$(vm_ns "$NS" bridge -j vlan show dev up1)
        vm_assert_jq "$js" '[.[] | select(.ifname == "up1") | .vlans[] | select(.vlan == 100) | .flags | index("PVID") != null and index("Egress Untagged") != null] == [true]' "up1 vid 100 pvid untagged"
        vm_assert_jq "$js" '[.[] | select(.ifname == "up1") | .vlans[] | select(.vlan == 200) | (.flags // []) | index("PVID") == null] == [true]' "up1 vid 200 tagged"
}

t_nftables() {
        vm_ns "$NS" nft add table inet vmnet_smoke
        vm_ns "$NS" nft add chain inet vmnet_smoke post '{ type nat hook postrouting priority srcnat; }'
        vm_ns "$NS" nft add rule inet vmnet_smoke post oifname up0.$VID masquerade
        local js
        js=$(vm_ns "$NS" nft -j list ruleset)
        vm_assert_jq "$js" '[.nftables[] | select(.table.name? == "vmnet_smoke")] | length == 1' "table inet vmnet_smoke"
        vm_assert_jq "$js" '[.nftables[] | select(.rule.chain? == "post") | .rule.expr[] | select(has("masquerade"))] | length == 1' "masquerade rule"
        # The VM's own ruleset stays untouched.
        vm_assert_not sh -c 'nft list tables | grep -q vmnet_smoke'
}

t_libvirt() {
        vm_libvirt_start
        vm_assert_match 'Running hypervisor: QEMU' "$(vm_virsh version)" "virsh version"
        vm_domain_start smoke1
        vm_assert_eq running "$(vm_domain_state smoke1)" "state of smoke1"
        vm_assert_match '<acpi/>' "$(vm_virsh dumpxml smoke1)" "smoke1 has ACPI"
        vm_assert pgrep -f 'guest=smoke1'
        vm_assert vm_virsh destroy smoke1
        vm_assert_eq "shut off" "$(vm_domain_state smoke1)" "state of smoke1 after destroy"
        vm_assert vm_virsh undefine smoke1
        vm_assert_eq "" "$(vm_virsh list --all --name | tr -d '\n')" "domains left"
}

vm_test "stock kernel, overlay root, fresh netns" t_kernel
vm_test "source and build trees shared at their own path" t_trees
vm_test "dummy link + 802.1Q VLAN $VID" t_vlan
vm_test "a wrong VLAN id is detected" t_wrong_vlan_is_detected
vm_test "bridge vlan_filtering + VLAN entries" t_bridge_vlan_filtering
vm_test "nftables table with masquerade" t_nftables
vm_test "libvirtd + virtlogd, disk-less domain starts" t_libvirt
vm_summary
