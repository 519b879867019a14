#!/bin/bash
# t-foreign: vmnet on a host it shares, against a real libvirtd (9.0) in the
# test VM (issue 17, points 3-5).  Others are there too: libvirt's own NAT
# network 'default' (virbr0, which needs IP forwarding), a guest vmnet does
# not manage with a NIC on vmnet's network 'lab', a libvirt network of
# someone else's that declares vmnet's bridge.
#  - plan and doctor name the others;
#  - a reboot simulation (the bridge deleted, libvirtd restarted, the guests
#    still running): one apply brings every guest's NIC back on its bridge,
#    and status, doctor and apply agree before and after;
#  - a plan whose subnet libvirt's active 'default' already has (with
#    another gateway) is refused before anything changes, naming the
#    network, its bridge and subnet and the plan's line; status refuses
#    the same, doctor reports it (issue 17, point 7);
#  - a real reboot (guests stopped, libvirt's run state gone, the bridge
#    deleted, libvirtd started again): the autostarted guests' start fails
#    on the missing bridge; one apply makes the bridge and starts the
#    plan's guest, names the foreign one; a second apply has nothing to do;
#  - destroy refuses to pull the network and the bridge from under the
#    others and says what would break; --force does it, and IP forwarding,
#    which vmnet turned on, stays on for libvirt's NAT network.
# Everything is read back with virsh, ip and sysctl, never through vmnet.
. "${0%/*}/lib.sh"

VMNET=${VMNET:-$top_builddir/vmnet}
URI=$VM_LIBVIRT_URI
W=$(mktemp -d /tmp/t-foreign.XXXXXX)
vm_on_exit rm -rf "$W"
export VMNET_STATE_DIR=$W/state VMNET_RUN_DIR=$W/run
MAC=52:54:00:60:00:11
FMAC=52:54:00:61:00:22

cat >"$W/plan.xml" <<XML
<plan xmlns="urn:vmnet:plan:1" name="tfo">
  <network name="lab" mode="nat" bridge="vm-lab">
    <subnet cidr="192.168.60.0/24" gateway="192.168.60.1">
      <dhcp start="192.168.60.100" end="192.168.60.150"/>
    </subnet>
  </network>
  <domain name="b1">
    <interface network="lab" mac="$MAC"/>
  </domain>
</plan>
XML

# libvirt's own NAT network, as Debian ships it (virsh net-start default).
cat >"$W/default.xml" <<'XML'
<network>
  <name>default</name>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
  </ip>
</network>
XML
# Someone else's network on vmnet's bridge.
cat >"$W/other.xml" <<'XML'
<network>
  <name>other</name>
  <forward mode='bridge'/>
  <bridge name='vm-lab'/>
</network>
XML

# vmnet CMD [ARGS...]: runs vmnet with the plan; stdout $W/out, stderr $W/err.
vmnet() {
        local cmd=$1
        shift
        "$VMNET" "$cmd" --connect "$URI" "$@" "$W/plan.xml" >"$W/out" 2>"$W/err"
}
show() { sed 's/^/    | /' "$W/out" "$W/err"; }
# vmnet_json CMD [PLAN]: vmnet --json CMD on PLAN (default the plan), whatever it exits; stdout $W/out.
vmnet_json() { "$VMNET" --json "$1" --connect "$URI" "${2:-$W/plan.xml}" >"$W/out" 2>"$W/err" || true; }
tap_of() { vm_virsh domiflist "$1" | awk -v mac="$2" '$5 == mac { print $1 }'; }
master_of() { ip -j link show dev "$1" | jq -r '.[0].master // "none"'; }
fwd() { sysctl -n net.ipv4.ip_forward; }
libvirtd_stop() {
        local pid
        pid=$(cat /run/libvirtd.pid)
        kill "$pid"
        vm_assert vm_wait_until 60 sh -c "! kill -0 $pid"
}
libvirtd_start() {
        LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" libvirtd -d
        vm_assert vm_wait_until 240 vm_virsh version
}

t_setup() {
        vm_libvirt_start
        sysctl -qw net.ipv4.ip_forward=0
        vm_domain_start b1
        # Debian's libvirt defines it already (the sandbox has a copy of /etc/libvirt).
        if ! vm_virsh net-info default >/dev/null 2>&1; then
                vm_assert vm_virsh net-define "$W/default.xml"
                vm_on_exit vm_virsh net-undefine default
        fi
        vm_on_exit vm_virsh net-destroy default
        vm_assert_match 'forward mode=.nat' "$(vm_virsh net-dumpxml default)" "'default' is a NAT network"
        vm_assert_eq 0 "$(fwd)" "forwarding off before vmnet"
}

t_apply() {
        vmnet apply || { show; return 1; }
        show
        vm_assert_eq 1 "$(fwd)" "vmnet turned forwarding on"
        vm_assert_eq vm-lab "$(master_of "$(tap_of b1 "$MAC")")" "b1's NIC on vm-lab"
        # Now the others come: libvirt's NAT network, a guest on 'lab', a network on vm-lab.
        vm_assert vm_virsh net-start default
        vm_domain_start f1 "<interface type='network'><source network='lab'/><mac address='$FMAC'/><model type='virtio'/></interface>"
        vm_assert_eq vm-lab "$(master_of "$(tap_of f1 "$FMAC")")" "f1's NIC on vm-lab"
        vm_assert vm_virsh net-define "$W/other.xml"
        vm_on_exit vm_virsh net-undefine other
        vm_on_exit vm_virsh net-destroy other
        vm_assert vm_virsh net-start other
}

t_named() {
        vmnet plan || { show; return 1; }
        show
        vm_assert_match "domain f1 \\(interface $FMAC, running and persistent\\) is on vmnet's libvirt network 'lab'" "$(cat "$W/err")" "plan names the foreign guest"
        vm_assert_match "libvirt network 'other' \\(active, persistent\\), not vmnet's, declares vmnet's bridge vm-lab" "$(cat "$W/err")" "plan names the foreign network"
        vmnet_json doctor
        vm_assert jtrue '[.findings[] | select(.check == "libvirt" and .object == "domain f1")] | length == 1' cat "$W/out"
        vm_assert jtrue '[.findings[] | select(.check == "libvirt" and .object == "libvirt network other" and .severity == "warning")] | length == 1' cat "$W/out"
}

# A reboot as far as the network goes: the bridge gone, libvirtd started
# again; the guests keep running (autostarted again, on a real host).
t_reboot() {
        ip link del vm-lab
        libvirtd_stop
        libvirtd_start
        vm_assert_eq running "$(vm_domain_state b1)" "b1 still runs"
        vm_assert_eq running "$(vm_domain_state f1)" "f1 still runs"
        vm_assert_eq none "$(master_of "$(tap_of b1 "$MAC")")" "b1's tap on no bridge"
        vm_assert_eq none "$(master_of "$(tap_of f1 "$FMAC")")" "f1's tap on no bridge"
        # One verdict before the repair: status sees drift, doctor says apply fixes it.
        vmnet_json status
        vm_assert jtrue '.in_sync == false' cat "$W/out"
        vmnet_json doctor
        vm_assert jtrue '[.findings[] | select(.message | test("tap .* of domain b1 .* on no bridge"))] | length == 1' cat "$W/out"
        vm_assert jtrue '[.findings[] | select(.message | test("tap .* of domain f1 .* on no bridge"))] | length == 1' cat "$W/out"
}

t_replug() {
        vmnet apply || { show; return 1; }
        show
        vm_assert_match "plug tap .* of domain b1 \\(interface $MAC\\) into bridge vm-lab" "$(cat "$W/out")"
        vm_assert_match "plug tap .* of domain f1 \\(interface $FMAC\\) into bridge vm-lab" "$(cat "$W/out")"
        vm_assert_eq vm-lab "$(master_of "$(tap_of b1 "$MAC")")" "b1's NIC back on vm-lab"
        vm_assert_eq vm-lab "$(master_of "$(tap_of f1 "$FMAC")")" "f1's NIC back on vm-lab"
        vm_assert_match 'Active: +yes' "$(vm_virsh net-info lab)" "lab active"
        # One verdict after: nothing left for apply, status or doctor.
        "$VMNET" --json plan --connect "$URI" "$W/plan.xml" >"$W/out" 2>"$W/err"
        vm_assert jtrue '(.actions | length) == 0' cat "$W/out"
        vmnet_json status
        vm_assert jtrue '.in_sync == true' cat "$W/out"
        vmnet_json doctor
        vm_assert jtrue '[.findings[] | select(.message | test("on no bridge"))] | length == 0' cat "$W/out"
}

# A plan subnet libvirt's active 'default' (192.168.122.0/24 on virbr0) has.
t_default_subnet() {
        local rc=0
        cat >"$W/clash.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="tfo">
  <network name="lab" mode="nat" bridge="vm-lab">
    <subnet cidr="192.168.60.0/24" gateway="192.168.60.1">
      <dhcp start="192.168.60.100" end="192.168.60.150"/>
    </subnet>
  </network>
  <network name="clash" mode="nat" bridge="vm-clash">
    <subnet cidr="192.168.122.0/24" gateway="192.168.122.254"/>
  </network>
</plan>
XML
        vm_assert_match 'Active: +yes' "$(vm_virsh net-info default)" "default active"
        "$VMNET" apply --connect "$URI" "$W/clash.xml" >"$W/out" 2>"$W/err" || rc=$?
        show
        vm_assert_eq 1 "$rc" "apply refused"
        vm_assert grep -q "clash.xml:8: network 'clash': subnet 192.168.122.0/24 (gateway 192.168.122.254) overlaps libvirt network 'default' (active.*) on bridge virbr0, subnet 192.168.122.0/24 (host address 192.168.122.1)" "$W/err"
        # Nothing changed.
        vm_assert_not ip link show dev vm-clash
        vm_assert_not grep -qx clash <<<"$(vm_virsh net-list --all --name)"
        rc=0
        "$VMNET" status --connect "$URI" "$W/clash.xml" >"$W/out" 2>"$W/err" || rc=$?
        vm_assert_eq 1 "$rc" "status refuses the same"
        vm_assert grep -q "overlaps libvirt network 'default'" "$W/err"
        vmnet_json doctor "$W/clash.xml"
        vm_assert jtrue '[.findings[] | select(.check == "subnet-overlap" and .severity == "error" and (.message | test("overlaps libvirt network .default. .* on bridge virbr0")))] | length == 1' cat "$W/out"
}

# A reboot as a host has it: the guests are stopped, libvirt's run state
# goes, and libvirtd starts the autostarted networks and guests before
# anything made vmnet's bridge.
t_boot() {
        vm_assert vm_virsh autostart b1
        vm_assert vm_virsh autostart f1
        vm_assert vm_virsh net-autostart default
        vm_assert vm_virsh destroy b1
        vm_assert vm_virsh destroy f1
        # Its bridge goes with the reboot too; it comes back by its autostart.
        vm_assert vm_virsh net-destroy default
        [[ ! -f $VMNET_RUN_DIR/dnsmasq/tfo/lab.pid ]] || kill "$(cat "$VMNET_RUN_DIR/dnsmasq/tfo/lab.pid")" 2>/dev/null || true
        libvirtd_stop
        ip link del vm-lab
        rm -f /run/libvirt/network/*.xml /run/libvirt/network/autostarted \
                /run/libvirt/qemu/*.xml /run/libvirt/qemu/autostarted
        libvirtd_start
        # libvirtd autostarts before it answers; its failure is in its log.
        vm_assert vm_wait_until 120 grep -q "Failed to autostart VM 'f1'" /var/log/libvirt/libvirtd.log
        vm_assert vm_wait_until 120 grep -q "Failed to autostart VM 'b1'" /var/log/libvirt/libvirtd.log
        grep "Failed to autostart" /var/log/libvirt/libvirtd.log | sed 's/^/    | /'
        vm_assert_match 'Active: +yes' "$(vm_virsh net-info lab)" "lab autostarted without its bridge"
        vm_assert_match 'Active: +yes' "$(vm_virsh net-info default)" "default autostarted"
        vm_assert_eq "shut off (failed)" "$(vm_virsh domstate --reason b1)" "b1"
        vm_assert_eq "shut off (failed)" "$(vm_virsh domstate --reason f1)" "f1"
        vmnet_json status
        vm_assert jtrue '.in_sync == false and ([.drift[] | select(test("start domain b1"))] | length) == 1' cat "$W/out"
        vmnet_json doctor
        vm_assert jtrue '[.findings[] | select(.object == "domain b1" and .severity == "error" and (.message | test("last start failed")))] | length == 1' cat "$W/out"
        vm_assert jtrue '[.findings[] | select(.object == "domain f1" and (.fix == "virsh start f1"))] | length == 1' cat "$W/out"
}

t_boot_apply() {
        vmnet apply || { show; return 1; }
        show
        vm_assert_match "start domain b1" "$(cat "$W/out")"
        vm_assert_match "domain f1, which vmnet does not manage, is autostarted but shut off.*virsh start f1" "$(cat "$W/err")"
        vm_assert_eq running "$(vm_domain_state b1)" "b1 runs"
        vm_assert_eq "shut off" "$(vm_domain_state f1)" "f1 left to its owner"
        vm_assert_eq vm-lab "$(master_of "$(tap_of b1 "$MAC")")" "b1's NIC on vm-lab"
        vm_assert jtrue "[.[] | select(.ifname == \"$(tap_of b1 "$MAC")\" and .master == \"vm-lab\")] | length == 1" bridge -j link show
        vm_assert_match "<mac address='$MAC'/>" "$(vm_virsh dumpxml b1)" "b1's live XML has its NIC"
        # A second apply: nothing left.
        "$VMNET" apply --detailed-exitcode --connect "$URI" "$W/plan.xml" >"$W/out" 2>"$W/err" || { show; vm_fail "second apply not a no-op"; }
        show
        # Its owner starts f1: libvirt plugs it into the bridge vmnet made.
        vm_assert vm_virsh start f1
        vm_assert_eq vm-lab "$(master_of "$(tap_of f1 "$FMAC")")" "f1's NIC on vm-lab"
}

t_destroy_refused() {
        if vmnet destroy; then
                show
                vm_fail "destroy went ahead under f1 and network 'other'"
        fi
        show
        vm_assert_match "domain f1 .*network 'lab' is removed: the guest loses its network now and its next start fails" "$(cat "$W/err")"
        vm_assert_match "libvirt network 'other' .*bridge vm-lab is deleted under it" "$(cat "$W/err")"
        vm_assert_match 'destroy --force' "$(cat "$W/err")"
        vm_assert_match 'Active: +yes' "$(vm_virsh net-info lab)" "lab still there"
        vm_assert ip link show dev vm-lab
        vm_assert_eq vm-lab "$(master_of "$(tap_of f1 "$FMAC")")" "f1 still on vm-lab"
        vm_assert_eq 1 "$(fwd)" "forwarding untouched"
}

t_destroy_force() {
        vmnet destroy --force || { show; return 1; }
        show
        vm_assert_not grep -Eq '^lab$' <<<"$(vm_virsh net-list --all --name)"
        vm_assert_not ip link show dev vm-lab
        vm_assert_match "domain f1 .*\\(--force\\)" "$(cat "$W/err")" "says what it broke"
        # libvirt's NAT network still routes: forwarding stays on, and destroy says why.
        vm_assert_eq 1 "$(fwd)" "forwarding left on for libvirt's network"
        vm_assert_match "net.ipv4.ip_forward stays 1 .*libvirt network 'default' \\(forward mode nat\\)" "$(cat "$W/err")"
        vm_assert_match 'Active: +yes' "$(vm_virsh net-info default)" "default untouched"
}

vm_test "libvirtd, libvirt's NAT network, a guest of the plan" t_setup
vm_test "apply; then others' guest and network on vmnet's" t_apply
vm_test "plan and doctor name them" t_named
vm_test "reboot: the bridge gone, libvirtd restarted" t_reboot
vm_test "one apply plugs every guest back" t_replug
vm_test "a subnet libvirt's active 'default' has: refused, nothing changed" t_default_subnet
vm_test "boot: guests stopped, run state gone, bridge deleted, libvirtd started" t_boot
vm_test "boot: one apply makes the bridge and starts the plan's guest" t_boot_apply
vm_test "destroy refuses, says what would break" t_destroy_refused
vm_test "destroy --force; forwarding stays for 'default'" t_destroy_force
vm_summary
