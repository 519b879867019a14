#!/bin/bash
# tests/vm/reboot/boot1.sh: the first boot of the reboot test (run-reboot),
# run by systemd (vm-run --systemd) once multi-user.target is reached.
# vmnet.service starts with nothing saved; the plan is applied with libvirt
# (its networks set to autostart), the disk-less guest is defined with
# autostart; then vm-run cuts the power.
. "${0%/*}/../lib.sh"
. "${0%/*}/common.sh"
VMNET=/usr/sbin/vmnet # as installed by setup.sh
P=$(mktemp -d /tmp/rb1.XXXXXX)

t_systemd() {
        vm_assert_match '/systemd$' "$(readlink /proc/1/exe)" "PID 1"
        vm_assert_eq enabled "$(systemctl is-enabled vmnet.service)" "vmnet.service"
        vm_assert_eq active "$(systemctl is-active vmnet.service)" "vmnet.service (reapply --watch, nothing saved)"
        vm_assert_eq active "$(systemctl is-active libvirtd.service)" "libvirtd.service"
        vm_assert_not test -e /var/lib/vmnet/plans/$RB_PLAN.xml
}

t_apply() {
        vm_domain_xml "$RB_GUEST" >"$P/guest.xml"
        vm_assert vm_virsh define "$P/guest.xml"
        vm_assert vm_virsh autostart "$RB_GUEST"
        rb_plan >"$P/plan.xml"
        "$VMNET" apply --connect "$URI" "$P/plan.xml" >"$P/out" 2>&1 || { sed 's/^/    | /' "$P/out"; vm_fail "vmnet apply"; }
        rb_real_state
        vm_assert cmp -s "$P/plan.xml" /var/lib/vmnet/plans/$RB_PLAN.xml
}

t_libvirt() {
        local n
        for n in lan v100 lab; do
                vm_assert_match 'Autostart: +yes' "$(vm_virsh net-info "$n")" "libvirt network $n"
        done
        vm_assert_match "<source network=.lab./>" "$(vm_virsh dumpxml --inactive "$RB_GUEST")" "the guest's NIC, persistent"
        vm_assert_match 'Autostart: +enable' "$(vm_virsh dominfo "$RB_GUEST")" "the guest"
        vm_assert_eq 'shut off' "$(vm_domain_state "$RB_GUEST")" "the guest, until the reboot"
        sync
}

vm_test "boot 1: systemd is PID 1, vmnet.service and libvirtd run" t_systemd
vm_test "boot 1: apply: the bridges, VLAN, address, table and dnsmasq; the plan is saved" t_apply
vm_test "boot 1: libvirt networks and the guest set to autostart" t_libvirt
vm_summary
