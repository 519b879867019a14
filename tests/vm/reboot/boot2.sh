#!/bin/bash
# tests/vm/reboot/boot2.sh: the second boot of the reboot test (run-reboot),
# on boot 1's disk, run by systemd once multi-user.target is reached.
# Everything is read from systemd, the journal, /proc, ip, nft and virsh:
#  - vmnet.service was ready (READY=1 after the re-apply) before libvirtd
#    started, and its re-apply ended (journal) before that too; the guest's
#    qemu and libvirt's autostart came after it, dnsmasq before libvirtd;
#  - the bridges, the migrated address, the VLAN, the table and dnsmasq are
#    there; the autostarted networks are active, the guest runs with its tap
#    on rb-lab, and a client on rb-lab gets a DHCP lease;
#  - systemctl restart nftables: the table is flushed and comes back;
#  - SIGKILL to the dnsmasq: a new one serves the network.
. "${0%/*}/../lib.sh"
. "${0%/*}/common.sh"
P=$(mktemp -d /tmp/rb2.XXXXXX)
HZ=$(getconf CLK_TCK)

mono() { systemctl show -P "$1" "$2"; } # PROPERTY UNIT: a monotonic timestamp in µs
# started_us PID: when PID started, in µs of CLOCK_MONOTONIC (/proc/PID/stat
# field 22, clock ticks since boot; no suspend in the VM).
started_us() { awk -v hz="$HZ" '{ sub(/^.*\) /, ""); print int($20 * 1000000 / hz) }' "/proc/$1/stat"; }
# journal FILTER...: this boot's journal as JSON lines, filtered by fields.
journal() { journalctl -b 0 -o json --no-pager "$@"; }
table_handle() { nft -j list tables | jq -r '.nftables[] | select(.table.family == "inet" and .table.name == "vmnet") | .table.handle'; }

t_order() {
        local ready lv_start applied
        ready=$(mono ActiveEnterTimestampMonotonic vmnet.service)
        lv_start=$(mono ExecMainStartTimestampMonotonic libvirtd.service)
        echo "  vmnet.service ready at ${ready} µs, libvirtd started at ${lv_start} µs"
        ((ready > 0)) || vm_fail "vmnet.service never became active"
        ((lv_start > 0)) || vm_fail "libvirtd.service never started"
        ((ready < lv_start)) || vm_fail "vmnet.service was ready at $ready µs, after libvirtd started ($lv_start µs)"
        # The re-apply itself, from vmnet's journal entry of its end.
        journal VMNET_EVENT=apply VMNET_COMMAND=reapply VMNET_PLAN=$RB_PLAN >"$P/applied.json"
        applied=$(jq -r 'select(.VMNET_OUTCOME == "applied") | .__MONOTONIC_TIMESTAMP' "$P/applied.json" | head -n 1)
        echo "  reapply of $RB_PLAN ended (journal) at ${applied:-never} µs"
        [[ -n $applied ]] || vm_fail "no journal entry of a reapply of $RB_PLAN that applied it: $(jq -c '{VMNET_OUTCOME, MESSAGE}' "$P/applied.json")"
        ((applied < lv_start)) || vm_fail "the reapply ended at $applied µs, after libvirtd started ($lv_start µs)"
}

t_processes() {
        local lv_start ready pid dn qemu_us
        lv_start=$(mono ExecMainStartTimestampMonotonic libvirtd.service)
        ready=$(mono ActiveEnterTimestampMonotonic vmnet.service)
        dn=$(rb_dnsmasq_pid)
        [[ -n $dn ]] || vm_fail "no dnsmasq serves lab"
        echo "  dnsmasq (pid $dn) runs in cgroup $(cut -d: -f3- "/proc/$dn/cgroup")"
        (($(started_us "$dn") < lv_start)) || vm_fail "dnsmasq (pid $dn) started at $(started_us "$dn") µs, after libvirtd ($lv_start µs)"
        vm_wait_until 120 sh -c "virsh -q -c '$URI' domstate '$RB_GUEST' | grep -qx running" ||
                vm_fail "the guest is $(vm_domain_state "$RB_GUEST"), not running, 120 s after the test started"
        pid=$(cat "/run/libvirt/qemu/$RB_GUEST.pid")
        qemu_us=$(started_us "$pid")
        echo "  the guest's qemu (pid $pid) started at $qemu_us µs"
        ((qemu_us > ready)) || vm_fail "the guest started at $qemu_us µs, before vmnet.service was ready ($ready µs)"
}

t_state() {
        rb_real_state
}

t_libvirt() {
        local n errors
        for n in lan v100 lab; do
                vm_assert_match 'Active: +yes' "$(vm_virsh net-info "$n")" "libvirt network $n, autostarted"
        done
        vm_assert_eq running "$(vm_domain_state "$RB_GUEST")" "the guest, autostarted"
        vm_assert jtrue '.[0].master == "rb-lab"' ip -j link show "$RB_TAP"
        # libvirtd logs a failed autostart (a missing bridge) to the journal.
        journal -u libvirtd.service >"$P/libvirtd.json"
        errors=$(jq -r 'select(((.PRIORITY // "6") | tonumber) <= 3) | .MESSAGE' "$P/libvirtd.json") ||
                vm_fail "libvirtd's journal could not be read"
        [[ -n $errors ]] && echo "  libvirtd's errors: $errors"
        vm_assert_not grep -qi 'autostart' <<<"$errors"
}

t_dhcp() {
        local a
        a=$(rb_lease)
        vm_assert_match '^192\.168\.70\.(1[0-4][0-9]|150)$' "$a" "lease on rb-lab"
}

t_nftables_restart() {
        local before since
        before=$(table_handle)
        [[ -n $before ]] || vm_fail "no table inet vmnet before the restart"
        since=$(date '+%Y-%m-%d %H:%M:%S')
        vm_assert systemctl restart nftables.service
        # Bounded: the table must come back, re-created (another handle).
        vm_wait_until 90 sh -c "h=\$(nft -j list tables | jq -r '.nftables[] | select(.table.family == \"inet\" and .table.name == \"vmnet\") | .table.handle'); [ -n \"\$h\" ] && [ \"\$h\" != $before ]" ||
                vm_fail "table inet vmnet not re-created within 90 s (handle before $before, now '$(table_handle)')"
        vm_assert jtrue '[.nftables[] | select(.table.family == "inet" and .table.name == "filter")] | length == 1' nft -j list tables
        vm_assert vm_wait_until 60 rb_dnsmasq_not 0
        rb_real_state
        journal --since "$since" VMNET_EVENT=apply VMNET_PLAN=$RB_PLAN >"$P/after.json"
        vm_assert jtrue '[.[] | select(.VMNET_OUTCOME == "applied")] | length >= 1' jq -s . "$P/after.json"
}

t_dnsmasq_kill() {
        local old new cg unit since
        old=$(rb_dnsmasq_pid)
        [[ -n $old ]] || vm_fail "no dnsmasq serves lab"
        since=$(date '+%Y-%m-%d %H:%M:%S')
        kill -KILL "$old"
        # Settled, not merely seen: a supervisor's restart, or a reapply that
        # vmnet.service's watch runs meanwhile (the nftables restart above may
        # flush the ruleset twice), can replace the first new dnsmasq again.
        vm_wait_until 60 rb_dnsmasq_settled "$old" "$P" || {
                journal --since "$since" -u vmnet.service -u 'vmnet-dnsmasq-*' -o short-monotonic | tail -n 30 | sed 's/^/    /'
                vm_fail "no new dnsmasq for lab settled within 60 s of SIGKILL to $old (now: '$(rb_dnsmasq_pid)')"
        }
        new=$(cat "$P/settled.pid")
        cg=$(cat "$P/settled.cgroup")
        echo "  dnsmasq $old killed; $new serves lab, in cgroup $cg"
        # Who started it again: vmnet.service's watch (a reapply naming the
        # dnsmasq that exited), or systemd restarting the unit dnsmasq runs as.
        if [[ $cg == */vmnet.service ]]; then
                journal --since "$since" VMNET_EVENT=reapply VMNET_PLAN=$RB_PLAN >"$P/kill.json"
                vm_assert jtrue --arg m "dnsmasq of network lab of plan $RB_PLAN (pid $old) exited" \
                        '[.[] | select(.MESSAGE | contains($m))] | length >= 1' jq -s . "$P/kill.json"
        else
                unit=${cg##*/}
                vm_assert_match '^[1-9]' "$(systemctl show -P NRestarts "$unit")" "restarts of $unit"
        fi
        vm_assert_match '^192\.168\.70\.' "$(rb_lease)" "lease from the new dnsmasq"
}

vm_test "boot 2: vmnet.service re-applied the saved plan before libvirtd started" t_order
vm_test "boot 2: dnsmasq started before libvirtd, the guest's qemu after vmnet.service" t_processes
vm_test "boot 2: bridges, migrated address, VLAN, table and dnsmasq are back" t_state
vm_test "boot 2: libvirt autostarted the networks and the guest, on rb-lab" t_libvirt
vm_test "boot 2: a DHCP lease on rb-lab" t_dhcp
vm_test "boot 2: systemctl restart nftables: the table comes back" t_nftables_restart
vm_test "boot 2: SIGKILL to dnsmasq: a new one serves lab, started by its supervisor" t_dnsmasq_kill
vm_summary
