# tests/vm/reboot/common.sh: what both boots of the reboot test (run-reboot)
# share: names, the plan, helpers.  Sourced after tests/vm/lib.sh.
RB_PLAN=trb                   # the plan's name (its saved copy: /var/lib/vmnet/plans/trb.xml)
RB_GUEST=rbg                  # the disk-less guest, autostarted
RB_MAC=52:54:00:70:00:11
RB_TAP=vmn525400700011        # vmnet's name for the guest's tap: vmn + MAC
RB_UP_ADDR=192.0.2.10/24      # up0's address, migrated to rb-lan
URI=$VM_LIBVIRT_URI

# The plan: up0 (carrying the host's address) becomes the port of rb-lan,
# which takes the address over; VLAN 100 of up1 is rb-v100's port; rb-lab is
# a NAT network with DHCP; the guest's NIC is on it.  The uplinks are dummy
# links that vmnet-vm-uplinks.service (setup.sh) makes at every boot, as a
# host's NICs and their configured address are there at boot.
rb_plan() {
        cat <<XML
<plan xmlns="urn:vmnet:plan:1" name="$RB_PLAN">
  <network name="lan" mode="bridged" bridge="rb-lan" stp="no" forward-delay="0">
    <uplink dev="up0" migrate-addresses="yes"/>
  </network>
  <network name="v100" mode="bridged" bridge="rb-v100">
    <uplink dev="up1" vlan="100"/>
  </network>
  <network name="lab" mode="nat" bridge="rb-lab">
    <subnet cidr="192.168.70.0/24" gateway="192.168.70.1">
      <dhcp start="192.168.70.100" end="192.168.70.150"/>
    </subnet>
  </network>
  <domain name="$RB_GUEST">
    <interface network="lab" mac="$RB_MAC"/>
  </domain>
</plan>
XML
}

# rb_dnsmasq_pid: the pid of the dnsmasq serving network lab of the plan,
# read from /proc (a dnsmasq with its --conf-file), not from vmnet; empty if none.
rb_dnsmasq_pid() {
        local p
        for p in $(pgrep -x dnsmasq); do
                if tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | grep -qxF -- "--conf-file=/var/lib/vmnet/dnsmasq/$RB_PLAN/lab.conf"; then
                        echo "$p"
                        return 0
                fi
        done
}
# rb_dnsmasq_not PID: a dnsmasq serves lab, and it is not PID.
rb_dnsmasq_not() {
        local p
        p=$(rb_dnsmasq_pid)
        [[ -n $p && $p != "$1" ]]
}

# rb_dnsmasq_settled OLD DIR: a dnsmasq other than OLD serves lab, its pid
# file names it, and vmnet.service is not in the middle of a reapply; its pid
# and cgroup go to DIR/settled.pid and DIR/settled.cgroup.
rb_dnsmasq_settled() {
        local p
        p=$(rb_dnsmasq_pid)
        [[ -n $p && $p != "$1" ]] || return 1
        [[ $(cat "/run/vmnet/dnsmasq/$RB_PLAN/lab.pid" 2>/dev/null) == "$p" ]] || return 1
        [[ $(systemctl show -P ActiveState vmnet.service) == active ]] || return 1
        cut -d: -f3- "/proc/$p/cgroup" >"$2/settled.cgroup" 2>/dev/null || return 1
        echo "$p" >"$2/settled.pid"
}

# rb_real_state WHEN: the kernel side of the plan, read with ip and nft.
rb_real_state() {
        vm_assert jtrue '.[0].linkinfo.info_kind == "bridge" and (.[0].flags | index("UP"))' ip -d -j link show rb-lan
        vm_assert jtrue '.[0].master == "rb-lan"' ip -j link show up0
        vm_assert jtrue --arg a "${RB_UP_ADDR%/*}" '[.[0].addr_info[] | select(.local == $a and .prefixlen == 24)] | length == 1' ip -j addr show rb-lan
        vm_assert jtrue '[.[0].addr_info[] | select(.family == "inet")] | length == 0' ip -j addr show up0
        vm_assert jtrue '.[0].linkinfo.info_kind == "vlan" and .[0].linkinfo.info_data.id == 100 and .[0].link == "up1" and .[0].master == "rb-v100"' ip -d -j link show up1.100
        vm_assert jtrue '[.[0].addr_info[] | select(.local == "192.168.70.1" and .prefixlen == 24)] | length == 1' ip -j addr show rb-lab
        vm_assert jtrue '[.nftables[] | select(.table.family == "inet" and .table.name == "vmnet")] | length == 1' nft -j list tables
        [[ -n $(rb_dnsmasq_pid) ]] || vm_fail "no dnsmasq runs with lab's configuration"
}

# rb_lease: a DHCP lease on rb-lab, from busybox udhcpc in a namespace of
# its own whose veth is a port of rb-lab; prints the address.
rb_lease() {
        local ns out
        ns=$(vm_netns_add rbc)
        ip link add rbc0 type veth peer name eth0 netns "$ns"
        ip link set rbc0 master rb-lab up
        ip -n "$ns" link set eth0 up
        out=$(ip netns exec "$ns" busybox udhcpc -i eth0 -f -n -q -t 10 -T 2 -s /bin/true 2>&1) || true
        ip link del rbc0
        sed -n 's/.*lease of \([0-9.]*\) obtained.*/\1/p' <<<"$out"
}
