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
tap_of() { vm_virsh domiflist "$1" | awk -v mac="$2" '$5 == mac { print $1 }'; }
master_of() { ip -j link show dev "$1" | jq -r '.[0].master // "none"'; }
fwd() { sysctl -n net.ipv4.ip_forward; }

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
        "$VMNET" --json doctor --connect "$URI" "$W/plan.xml" >"$W/out" 2>"$W/err" || true
        vm_assert jtrue '[.findings[] | select(.check == "libvirt" and .object == "domain f1")] | length == 1' cat "$W/out"
        vm_assert jtrue '[.findings[] | select(.check == "libvirt" and .object == "libvirt network other" and .severity == "warning")] | length == 1' cat "$W/out"
}

# A reboot as far as the network goes: the bridge gone, libvirtd started
# again; the guests keep running (autostarted again, on a real host).
t_reboot() {
        local pid
        ip link del vm-lab
        pid=$(cat /run/libvirtd.pid)
        kill "$pid"
        vm_assert vm_wait_until 60 sh -c "! kill -0 $pid"
        LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" libvirtd -d
        vm_assert vm_wait_until 240 vm_virsh version
        vm_assert_eq running "$(vm_domain_state b1)" "b1 still runs"
        vm_assert_eq running "$(vm_domain_state f1)" "f1 still runs"
        vm_assert_eq none "$(master_of "$(tap_of b1 "$MAC")")" "b1's tap on no bridge"
        vm_assert_eq none "$(master_of "$(tap_of f1 "$FMAC")")" "f1's tap on no bridge"
        # One verdict before the repair: status sees drift, doctor says apply fixes it.
        "$VMNET" --json status --connect "$URI" "$W/plan.xml" >"$W/out" 2>"$W/err" || true
        vm_assert jtrue '.in_sync == false' cat "$W/out"
        "$VMNET" --json doctor --connect "$URI" "$W/plan.xml" >"$W/out" 2>"$W/err" || true
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
        "$VMNET" --json status --connect "$URI" "$W/plan.xml" >"$W/out" 2>"$W/err" || true
        vm_assert jtrue '.in_sync == true' cat "$W/out"
        "$VMNET" --json doctor --connect "$URI" "$W/plan.xml" >"$W/out" 2>"$W/err" || true
        vm_assert jtrue '[.findings[] | select(.message | test("on no bridge"))] | length == 0' cat "$W/out"
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
vm_test "destroy refuses, says what would break" t_destroy_refused
vm_test "destroy --force; forwarding stays for 'default'" t_destroy_force
vm_summary
