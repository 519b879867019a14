#!/bin/bash
# t-lifecycle: guests' NICs through their life against a real libvirtd (9.0)
# in the test VM (issue 17, points 1 and 2).
#
#  1. A running guest whose owner added a NIC to its persistent definition
#     only: vmnet's NIC then sits in one PCI slot in the running guest and
#     in another in the persistent definition.  A changed plan (another MAC:
#     detach + attach) and destroy must both work, and leave the owner's NIC.
#  2. A change a plugged NIC cannot take (the model) on a disk-less guest,
#     which never acknowledges an unplug: the persistent definition keeps
#     the NIC (with the new model), the error says what the running guest
#     has, and the first apply after the guest restarts has nothing left;
#     a rollback that would re-attach a NIC whose unplug is still pending
#     gives the persistent definition its NIC back and says so.
#  2b. Unplugs such a guest never acknowledges are requested once: the
#     next runs do not ask again, say since when it is pending, and have
#     nothing left to do (--detailed-exitcode 0); status and doctor say
#     the same (issue 17, point 7).
#  3. A Linux guest of its own (the VM's kernel and a busybox initramfs,
#     booted by libvirt), which acknowledges hot-unplug: an MTU change
#     replugs its NIC and it ends with exactly one NIC, with the new MTU.
#
# Everything goes through the real vmnet binary; state is read back with
# virsh, never through vmnet.  Unplug waits are events or bounded polls of
# the domain XML, never a fixed sleep.
. "${0%/*}/lib.sh"

VMNET=${VMNET:-$top_builddir/vmnet}
URI=$VM_LIBVIRT_URI
W=$(mktemp -d /tmp/t-lifecycle.XXXXXX)
vm_on_exit rm -rf "$W"
export VMNET_STATE_DIR=$W/state VMNET_RUN_DIR=$W/run
OWNER_MAC=52:54:00:99:99:99
BZ_MAC=52:54:00:60:00:77
BZ_MAC2=52:54:00:60:00:78
DL_MAC=52:54:00:60:00:21

# write_plan BZ_MAC DL_MODEL: the plan; "" leaves that domain out.
write_plan() {
        {
                cat <<EOF
<plan xmlns="urn:vmnet:plan:1" name="lc">
  <network name="lc" mode="isolated" bridge="vm-lc"/>
EOF
                [[ -z $1 ]] || cat <<EOF
  <domain name="bz">
    <interface network="lc" mac="$1"/>
  </domain>
EOF
                [[ -z $2 ]] || cat <<EOF
  <domain name="dl">
    <interface network="lc" mac="$DL_MAC" model="$2"/>
  </domain>
EOF
                echo "</plan>"
        } >"$W/plan.xml"
}

# vmnet_run CMD: runs vmnet CMD on the plan, output (both streams) in $W/out; its exit status.
vmnet_run() { # COMMAND [OPTION...]
        local rc=0
        "$VMNET" "$1" --connect "$URI" "${@:2}" "$W/plan.xml" >"$W/out" 2>&1 || rc=$?
        sed 's/^/    | /' "$W/out"
        return "$rc"
}

# slot DOMAIN MAC [--inactive]: the PCI slot of the domain's interface with MAC, "" when none.
slot() {
        vm_virsh dumpxml "${@:3}" "$1" | awk -v mac="$2" '
                /<interface/ { inif = 1; m = 0 }
                inif && index($0, "address=\x27" mac "\x27") { m = 1 }
                inif && m && /<address type=.pci./ { match($0, /slot=.0x[0-9a-f]+/); print substr($0, RSTART + 6, RLENGTH - 6) }
                /<\/interface>/ { inif = 0 }'
}

# iface_model DOMAIN MAC [--inactive]: the model of the domain's interface with MAC, "" when none.
iface_model() {
        vm_virsh dumpxml "${@:3}" "$1" | awk -v mac="$2" '
                /<interface/ { inif = 1; m = 0 }
                inif && index($0, "address=\x27" mac "\x27") { m = 1 }
                inif && m && /<model type=/ { match($0, /type=.[a-z0-9-]+/); print substr($0, RSTART + 6, RLENGTH - 6) }
                /<\/interface>/ { inif = 0 }'
}

has_iface() { vm_virsh dumpxml "${@:3}" "$1" | grep -q "address='$2'"; }

t_setup() {
        vm_libvirt_start
        vm_domain_start bz
        vm_domain_start dl
        vm_assert_eq running "$(vm_domain_state bz)" "bz runs"
        vm_assert_eq running "$(vm_domain_state dl)" "dl runs"
}

# Point 1: live slot != persistent slot.
t_split_slots() {
        local live conf
        # The owner's NIC, in the persistent definition only: it takes the first free slot there.
        vm_assert vm_virsh attach-interface bz network default --model virtio --config --mac "$OWNER_MAC"
        write_plan "$BZ_MAC" ""
        vmnet_run apply || vm_fail "apply failed"
        live=$(slot bz "$BZ_MAC")
        conf=$(slot bz "$BZ_MAC" --inactive)
        vm_assert test -n "$live"
        vm_assert test -n "$conf"
        echo "    $BZ_MAC: live slot $live, persistent slot $conf; owner's NIC persistent slot $(slot bz "$OWNER_MAC" --inactive)"
        [[ $live != "$conf" ]] || vm_fail "the reproduction needs different slots (live $live, persistent $conf)"
}

t_split_change() {
        write_plan "$BZ_MAC2" ""
        vmnet_run apply || vm_fail "apply of the changed plan failed"
        vm_assert_not grep -q 'no device found at address' "$W/out"
        vm_assert has_iface bz "$BZ_MAC2" --inactive
        vm_assert has_iface bz "$BZ_MAC2"
        vm_assert_not has_iface bz "$BZ_MAC" --inactive
        vm_assert has_iface bz "$OWNER_MAC" --inactive
}

t_split_destroy() {
        vmnet_run destroy || vm_fail "destroy failed"
        vm_assert_not has_iface bz "$BZ_MAC2" --inactive
        vm_assert_not has_iface bz "$BZ_MAC" --inactive
        vm_assert has_iface bz "$OWNER_MAC" --inactive
        vm_assert_not grep -qx lc <<<"$(vm_virsh net-list --all --name)"
        vm_assert_eq running "$(vm_domain_state bz)" "bz still runs"
}

# Point 7: bz never released the NICs detached by the changed plan and by
# destroy (a disk-less guest has no OS to acknowledge): a second destroy
# does not request them again, and says they are pending.
t_unplug_held() {
        local rc=0
        vm_assert has_iface bz "$BZ_MAC"
        vm_assert has_iface bz "$BZ_MAC2"
        "$VMNET" destroy --detailed-exitcode --connect "$URI" "$W/plan.xml" >"$W/out" 2>&1 || rc=$?
        sed 's/^/    | /' "$W/out"
        vm_assert_eq 0 "$rc" "destroy --detailed-exitcode (nothing left for vmnet)"
        vm_assert_not grep -q 'detach interface' "$W/out"
        vm_assert grep -q "interface $BZ_MAC of domain bz: unplug requested at 20[0-9-]*T[0-9:]*Z, the guest has not released it; it goes when the guest restarts or acknowledges" "$W/out"
        vm_assert grep -q "interface $BZ_MAC2 of domain bz: unplug requested at" "$W/out"
        # The guest still has both: pending, as said.
        vm_assert has_iface bz "$BZ_MAC"
        vm_assert has_iface bz "$BZ_MAC2"
}

# Point 2: a replug the guest never acknowledges (bz, its NICs still pending, is left out).
t_replug_setup() {
        vm_assert vm_virsh destroy bz
        write_plan "" virtio
        vmnet_run apply || vm_fail "apply failed"
        vm_assert_eq virtio "$(iface_model dl "$DL_MAC")" "dl's running NIC"
        vm_assert_eq virtio "$(iface_model dl "$DL_MAC" --inactive)" "dl's persistent NIC"
}

t_replug_unacknowledged() {
        local rc=0
        write_plan "" e1000
        "$VMNET" plan --connect "$URI" "$W/plan.xml" >"$W/plan.out" 2>&1
        sed 's/^/    | /' "$W/plan.out"
        vmnet_run apply --unplug-timeout 5 || rc=$?
        # The persistent definition never lost the NIC, and has the new model.
        vm_assert_eq e1000 "$(iface_model dl "$DL_MAC" --inactive)" "dl's persistent NIC"
        # The running guest still has the old one (its unplug pending).
        vm_assert_eq virtio "$(iface_model dl "$DL_MAC")" "dl's running NIC"
        [[ $rc != 0 ]] || vm_fail "apply succeeded although the guest cannot release its NIC"
        # What the guest has, exactly.
        vm_assert grep -q "did not release interface $DL_MAC within 5 s" "$W/out"
        vm_assert grep -q "the running guest still has it as virtio, network lc" "$W/out"
        vm_assert grep -q "persistent definition has the new interface" "$W/out"
        vm_assert_not grep -q 'non unique alias' "$W/out"
        vm_assert grep -q "every step before it was undone; that step left what it says" "$W/out"
        # One action, which says what the guest goes through.
        vm_assert grep -Eq "\\[disruptive\\] replug interface $DL_MAC of domain dl \\(model virtio -> e1000; live\\+config" "$W/plan.out"
}

# The replug left pending above is not asked again: apply has nothing to
# do, and apply, status and doctor say what the guest has.
t_replug_held() {
        local rc=0
        VMNET_UNPLUG_TIMEOUT=5 "$VMNET" apply --detailed-exitcode --connect "$URI" "$W/plan.xml" >"$W/out" 2>&1 || rc=$?
        sed 's/^/    | /' "$W/out"
        vm_assert_eq 0 "$rc" "apply --detailed-exitcode"
        vm_assert_not grep -q 'replug interface' "$W/out"
        vm_assert grep -q "interface $DL_MAC of domain dl: unplug requested at .*, the guest has not released it; the guest gets the new interface when it restarts" "$W/out"
        vm_assert_eq virtio "$(iface_model dl "$DL_MAC")" "dl's running NIC (its unplug still pending)"
        vm_assert_eq e1000 "$(iface_model dl "$DL_MAC" --inactive)" "dl's persistent NIC"
        "$VMNET" --json status --connect "$URI" "$W/plan.xml" >"$W/status.json" 2>/dev/null || true
        vm_assert jtrue ".in_sync == true and ([.warnings[] | select(.message | test(\"interface $DL_MAC of domain dl: unplug requested at\"))] | length) == 1" cat "$W/status.json"
        "$VMNET" --json doctor --connect "$URI" "$W/plan.xml" >"$W/doctor.json" 2>/dev/null || true
        vm_assert jtrue "[.findings[] | select(.check == \"libvirt\" and .severity == \"warning\" and (.message | test(\"interface $DL_MAC of domain dl: unplug requested at\")))] | length == 1" cat "$W/doctor.json"
}

t_replug_converges() {
        # The guest restarts: it gets its persistent definition.
        vm_assert vm_virsh destroy dl
        vm_assert vm_virsh start dl
        vm_assert_eq e1000 "$(iface_model dl "$DL_MAC")" "dl's running NIC after the restart"
        vmnet_run apply || vm_fail "apply after the restart failed"
        "$VMNET" --json plan --connect "$URI" "$W/plan.xml" >"$W/plan.json" 2>/dev/null
        vm_assert_jq "$(cat "$W/plan.json")" \
                "[.actions[] | select(.description | test(\"$DL_MAC\"))] | length == 0" \
                "nothing left for dl's NIC"
        vm_assert_eq e1000 "$(iface_model dl "$DL_MAC" --inactive)" "dl's persistent NIC"
}

# A rollback that re-attaches a NIC the guest has not released yet (destroy,
# failing at its second step, after the detach): the persistent definition
# gets the NIC back, and the error says what the running guest has.
t_rollback_pending() {
        local rc=0
        VMNET_TEST_FAIL_AT=2 vmnet_run destroy || rc=$?
        [[ $rc != 0 ]] || vm_fail "destroy succeeded although its step 2 was made to fail"
        vm_assert grep -q "\\[1/[0-9]*\\] detach interface $DL_MAC from domain dl (network lc, live+config)" "$W/out"
        vm_assert grep -q "rolling back did not complete" "$W/out"
        vm_assert grep -q "the running guest still has it, as e1000, network lc (an unplug requested earlier is pending" "$W/out"
        vm_assert grep -q "its persistent definition has it again" "$W/out"
        vm_assert_eq e1000 "$(iface_model dl "$DL_MAC" --inactive)" "dl's persistent NIC is back"
        vm_assert_eq e1000 "$(iface_model dl "$DL_MAC")" "dl's running NIC (unplug pending)"
}

# --- a real Linux guest, which acknowledges hot-unplug -------------------------
# The test VM's own kernel (vm-run puts it in /.vmnet/kernel) and an
# initramfs of busybox and the virtio-net modules, booted by libvirt.  Its
# init prints its NICs (MAC/MTU) on the serial console, a file here, every
# second; the test waits for the lines it expects, never for a time.
LX_MAC=52:54:00:60:00:31

lx_initrd() {
        local r=$W/lx-root m k mods=/lib/modules/$(uname -r)
        mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/lib"
        cp /bin/busybox "$r/bin/busybox"
        for k in sh mount insmod cat sleep echo; do ln -s busybox "$r/bin/$k"; done
        for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
                k=$(find "$mods/kernel" -name "$m.ko" | head -n 1)
                [[ -n $k ]] || vm_fail "module $m not found in $mods"
                cp "$k" "$r/lib/$m.ko"
        done
        cat >"$r/init" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
        insmod /lib/$m.ko
done
while :; do
        n=0 s=
        for d in /sys/class/net/*; do
                [ "${d##*/}" = lo ] && continue
                n=$((n + 1)) s="$s $(cat $d/address)/$(cat $d/mtu)"
        done
        echo "lx-nics $n:$s."
        sleep 1
done
EOF
        chmod 755 "$r/init"
        (cd "$r" && find . | cpio -o -H newc --quiet) >"$W/lx-initrd.img"
}

# lx_wait LINE SECS: waits until the guest's latest report is LINE.
lx_last() { grep -a '^lx-nics ' "$W/lx-console.log" 2>/dev/null | tail -n 1 | tr -d '\r'; }
lx_is() { [[ $(lx_last) == "$1" ]]; }
lx_wait() {
        vm_wait_until "$2" lx_is "$1" || vm_fail "the guest did not report '$1' within $2 s; it last said '$(lx_last)'"
}

# write_lx_plan [MTU]: the plan of the real guest's test.
write_lx_plan() {
        local mtu=
        [[ -z ${1:-} ]] || mtu=" mtu='$1'"
        cat >"$W/plan.xml" <<EOF
<plan xmlns="urn:vmnet:plan:1" name="lc">
  <network name="lc" mode="isolated" bridge="vm-lc"$mtu/>
  <domain name="lx">
    <interface network="lc" mac="$LX_MAC"/>
  </domain>
</plan>
EOF
}

t_lx_boot() {
        [[ -r /.vmnet/kernel ]] || vm_fail "no /.vmnet/kernel: vm-run puts the VM's kernel there"
        vm_domain_remove dl
        lx_initrd
        cat >"$W/lx.xml" <<EOF
<domain type='qemu'>
  <name>lx</name>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>/.vmnet/kernel</kernel>
    <initrd>$W/lx-initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 no_timer_check lpj=4000000 nokaslr mitigations=off</cmdline>
  </os>
  <features><acpi/></features>
  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='$W/lx-console.log'/><target port='0'/></serial>
  </devices>
</domain>
EOF
        vm_assert vm_virsh define "$W/lx.xml"
        vm_on_exit vm_domain_remove lx
        vm_assert vm_virsh start lx
        # Booting a kernel under TCG nested in TCG: minutes on a loaded machine.
        lx_wait "lx-nics 0:." 900
}

t_lx_attach() {
        write_lx_plan ""
        vmnet_run apply || vm_fail "apply failed"
        lx_wait "lx-nics 1: $LX_MAC/1500." 120
}

t_lx_mtu_replug() {
        write_lx_plan 9000
        vmnet_run apply --unplug-timeout 300 || vm_fail "apply failed"
        vm_assert grep -q "replug interface $LX_MAC of domain lx (mtu 0 -> 9000" "$W/out"
        # Exactly one NIC in the guest, with the new MTU.
        lx_wait "lx-nics 1: $LX_MAC/9000." 120
        vm_assert_match "<mtu size='9000'/>" "$(vm_virsh dumpxml lx)" "running definition"
        vm_assert_match "<mtu size='9000'/>" "$(vm_virsh dumpxml --inactive lx)" "persistent definition"
        vm_assert_eq 1 "$(vm_virsh dumpxml lx | grep -c "<mac address='$LX_MAC'/>")" "one NIC with the MAC in the running definition"
        "$VMNET" --json plan --connect "$URI" "$W/plan.xml" >"$W/plan.json" 2>/dev/null
        vm_assert_jq "$(cat "$W/plan.json")" '.actions | length == 0' "nothing left to do"
}

vm_test "libvirtd, two running disk-less guests" t_setup
vm_test "split slots: vmnet's NIC live and persistent in different PCI slots" t_split_slots
vm_test "split slots: a changed plan (another MAC) applies" t_split_change
vm_test "split slots: destroy detaches vmnet's NIC, keeps the owner's" t_split_destroy
vm_test "unplugs never acknowledged: not requested again, said pending, exit 0" t_unplug_held
vm_test "replug: a NIC on a disk-less guest" t_replug_setup
vm_test "replug: the guest never releases the NIC; persistent definition kept, error says what it has" t_replug_unacknowledged
vm_test "replug pending: not requested again; apply, status and doctor say so" t_replug_held
vm_test "replug: after the guest restarts, one apply converges" t_replug_converges
vm_test "rollback over a pending unplug: persistent NIC back, error says what the guest has" t_rollback_pending
vm_test "real guest: a Linux guest boots (kernel + busybox initramfs)" t_lx_boot
vm_test "real guest: its NIC attached" t_lx_attach
vm_test "real guest: an MTU change replugs; one NIC with the new MTU" t_lx_mtu_replug
vm_summary
