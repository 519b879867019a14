#!/bin/bash
# t-libvirt: vmnet's libvirt part against a real libvirtd (9.0) in the test
# VM: networks defined active + autostart, a running disk-less guest gets its
# virtio interface hot-plugged on vmnet's bridge (live and persistent), a
# port group's bandwidth changes live (no network restart, the guest's tap
# gets the new rate, peak and bursts: tc class and police on the tap), dnsmasq runs on the bridge, and destroy removes
# exactly what vmnet added.  Everything goes through the real vmnet binary
# and is read back with virsh, ip, tc and /proc, never through vmnet; and
# the counters and the picture of `vmnet status` name the running guest.
. "${0%/*}/lib.sh"

VMNET=${VMNET:-$top_builddir/vmnet}
URI=$VM_LIBVIRT_URI
W=$(mktemp -d /tmp/t-libvirt.XXXXXX)
vm_on_exit rm -rf "$W"
export VMNET_STATE_DIR=$W/state VMNET_RUN_DIR=$W/run
MAC=52:54:00:50:00:21
ALIAS=ua-vmnet-lvt-525400500021
TAP=vmn525400500021 # the tap name vmnet gives the interface: vmn + MAC

# write_plan RATE [MODE [BRIDGE]]: the plan, with port group web at RATE
# inbound (100mbit or 200mbit), and besides that average an inbound peak
# (htb ceil) and burst and an outbound burst (police burst) that change with
# it, so that t_portgroup_live changes all of them at once.
write_plan() {
        local IN_PEAK=200mbit IN_BURST=250kb OUT_BURST=500kb
        [ "$1" = 200mbit ] && IN_PEAK=400mbit IN_BURST=500kb OUT_BURST=1000kb
        cat >"$W/plan.xml" <<EOF
<plan xmlns="urn:vmnet:plan:1" name="lvt">
  <network name="lab" mode="${2:-nat}" bridge="${3:-vm-lab}">
    <subnet cidr="192.168.50.0/24" gateway="192.168.50.1">
      <dhcp start="192.168.50.100" end="192.168.50.150"/>
    </subnet>
    <portgroup name="web" default="yes"><bandwidth inbound="$1" outbound="100mbit"
      inbound-peak="$IN_PEAK" inbound-burst="$IN_BURST" outbound-burst="$OUT_BURST"/></portgroup>
  </network>
  <network name="iso" mode="isolated" bridge="vm-iso"/>
  <domain name="web1">
    <interface network="lab" mac="$MAC"/>
  </domain>
</plan>
EOF
}

# driver plan|apply|destroy: runs vmnet, prints "+ description" per action, then "N actions".
driver() {
        local out rc
        out=$("$VMNET" --json "$1" --connect "$URI" "$W/plan.xml")
        rc=$?
        if [ "$rc" != 0 ]; then
                echo "$out" >&2
                return "$rc"
        fi
        jq -r '.actions[] | "+ " + .description' <<<"$out"
        echo "$(jq '.actions | length' <<<"$out") actions"
}
# Only the libvirt and dnsmasq lines of a run (the kernel side has its own tests).
virt_lines() { grep -E 'libvirt|interface|dnsmasq' || true; }

# The tap libvirt made for the guest's interface.
tap_of_guest() {
        vm_virsh domiflist web1 | awk -v mac="$MAC" '$5 == mac { print $1 }'
}

# The rates of the tap's HTB classes, where libvirt shapes a guest's inbound
# (this iproute2 has no JSON for htb classes).
tap_rates() {
        tc class show dev "$1" | grep -o 'rate [^ ]*' | sort -u | tr '\n' ' '
}

# shaping TAP: what tc applies on the tap, one line: the htb class's
# "rate R ceil C burst B" (the guest's inbound) and the ingress police's
# "rate R burst B" (its outbound). Text: this iproute2 prints htb classes and
# u32 police filters in JSON without these fields.
shaping() {
        printf 'in: %s; out: %s' \
                "$(tc -s class show dev "$1" | grep -o 'rate [^ ]* ceil [^ ]* burst [^ ]*' | sort -u | tr '\n' ' ')" \
                "$(tc filter show dev "$1" parent ffff: | grep -o 'police [^ ]* rate [^ ]* burst [^ ]*' | sed 's/police [^ ]* //' | sort -u | tr '\n' ' ')"
}

t_setup() {
        vm_libvirt_start
        vm_domain_start web1
        vm_assert_eq running "$(vm_domain_state web1)" "web1 runs"
        write_plan 100mbit
}

t_apply() {
        local out tap
        out=$(driver apply)
        echo "$out" | sed 's/^/    | /'
        vm_assert_match 'define libvirt network lab' "$out"
        vm_assert_match "attach interface $MAC to domain web1 \\(network lab, live\\+config\\)" "$out"
        for n in lab iso; do
                vm_assert_match 'Active: +yes' "$(vm_virsh net-info $n)" "$n active"
                vm_assert_match 'Persistent: +yes' "$(vm_virsh net-info $n)" "$n persistent"
                vm_assert_match 'Autostart: +yes' "$(vm_virsh net-info $n)" "$n autostart"
                vm_assert_match 'plan="lvt"' "$(vm_virsh net-dumpxml $n)" "$n carries vmnet's metadata"
        done
        # Hot-plugged: a virtio NIC on network lab, its tap in vmnet's bridge.
        # (a running guest's network interface shows its port's type: bridge)
        vm_assert_match "(network|bridge) +lab +virtio +$MAC" "$(vm_virsh domiflist web1)" "domiflist"
        tap=$(tap_of_guest)
        vm_assert test -n "$tap"
        vm_assert_jq "$(ip -j link show dev "$tap")" '.[0].master == "vm-lab"' "$tap enslaved to vm-lab"
        vm_assert_jq "$(bridge -j link show)" "[.[] | select(.ifname == \"$tap\" and .master == \"vm-lab\")] | length == 1" "bridge link"
        # libvirt kept the name vmnet gave the tap, in the persistent definition too,
        # and the port is in the anti-spoofing sets of table bridge vmnet.
        vm_assert_eq "$TAP" "$tap" "tap named by vmnet"
        vm_assert_match "<target dev='$TAP'/>" "$(vm_virsh dumpxml --inactive web1)" "persistent target dev"
        for set in guest_ports mac_deny dhcp_deny ra_deny; do
                vm_assert_jq "$(nft -j list set bridge vmnet $set)" \
                        "[.nftables[] | .set? | select(.) | .elem[]] | index(\"$TAP\") != null" "$TAP in $set"
        done
        # Persistent too, with vmnet's mark.
        vm_assert_match "$MAC" "$(vm_virsh dumpxml --inactive web1)" "in the persistent definition"
        vm_assert_match "$ALIAS" "$(vm_virsh dumpxml --inactive web1)" "vmnet's alias"
        # The port group's 100mbit, rendered as average='12500', on the guest's tap.
        # libvirt hands average to tc as "kbps", 1000 bytes/s: 12500 x 8 = 100000 Kbit/s = 100Mbit.
        vm_assert_match 'rate 100Mbit' "$(tap_rates "$tap")" "tap rate"
        # Peak and bursts: htb ceil 200Mbit (peak='25000') and burst 250Kb
        # (burst='250' KiB, whole microseconds at 12500 kB/s, so tc keeps it
        # as written), the police burst 500Kb.
        vm_assert_eq "in: rate 100Mbit ceil 200Mbit burst 250Kb ; out: rate 100Mbit burst 500Kb " \
                "$(shaping "$tap")" "tap shaping"
        # dnsmasq serves the bridge.
        vm_assert pgrep -f "conf-file=$VMNET_STATE_DIR/dnsmasq/lvt/lab.conf"
        vm_assert_match '192\.168\.50\.1:53' "$(ss -lnu)" "DNS on the bridge address"
}

t_idempotent() {
        local out
        out=$(driver plan)
        vm_assert_eq "0 actions" "$out" "second plan"
}

t_portgroup_live() {
        local out tap before_index after_index
        tap=$(tap_of_guest)
        before_index=$(ip -j link show dev "$tap" | jq '.[0].ifindex')
        write_plan 200mbit
        out=$(driver apply)
        echo "$out" | sed 's/^/    | /'
        # One action, safe, that names every rate that changes (the whole line).
        vm_assert grep -qxF '+ update portgroup web of libvirt network lab (live+config, re-plugs 1 guest interface): inbound 12500 -> 25000 kB/s, inbound peak 25000 -> 50000 kB/s, inbound burst 250 -> 500 KiB, outbound burst 500 -> 1000 KiB' <<<"$out"
        vm_assert_not grep -Eq 'stop|start|re-create' <<<"$out"
        vm_assert_eq "1 actions" "$(echo "$out" | tail -n 1)" "one action: nothing else changes"
        # The running network and its persistent definition both have the new rate (25000 kB/s).
        vm_assert_match "inbound average='25000'" "$(vm_virsh net-dumpxml lab)" "live network"
        vm_assert_match "inbound average='25000'" "$(vm_virsh net-dumpxml --inactive lab)" "persistent network"
        # The guest kept its tap (no re-plug of the NIC, no network restart) and got the new rate.
        after_index=$(ip -j link show dev "$tap" | jq '.[0].ifindex')
        vm_assert_eq "$before_index" "$after_index" "same tap"
        vm_assert_jq "$(ip -j link show dev "$tap")" '.[0].master == "vm-lab"' "$tap still in vm-lab"
        # 200mbit: average='25000', exactly 200Mbit, and the old rate is gone.
        vm_assert_match 'rate 200Mbit' "$(tap_rates "$tap")" "tap rate after"
        vm_assert_not grep -q 'rate 100Mbit' <<<"$(tap_rates "$tap")"
        # The peak and both bursts changed live too.
        vm_assert_match "inbound average='25000' peak='50000' burst='500'" "$(vm_virsh net-dumpxml lab)" "live peak and burst"
        vm_assert_match "outbound average='12500' burst='1000'" "$(vm_virsh net-dumpxml --inactive lab)" "persistent outbound burst"
        vm_assert_eq "in: rate 200Mbit ceil 400Mbit burst 500Kb ; out: rate 100Mbit burst 1000Kb " \
                "$(shaping "$tap")" "tap shaping after"
        vm_assert_eq "0 actions" "$(driver plan)" "then nothing left"
}

# A metadata change of a running network: a re-define, live, nothing restarted.
t_redefine_live() {
        local out tap before_index
        tap=$(tap_of_guest)
        before_index=$(ip -j link show dev "$tap" | jq '.[0].ifindex')
        write_plan 200mbit routed
        out=$(driver apply)
        echo "$out" | sed 's/^/    | /'
        vm_assert_match 'redefine libvirt network lab \(mode nat -> routed\)' "$out"
        # The kernel side changes too (no masquerade in routed mode); libvirt only re-defines.
        vm_assert_eq "redefine libvirt network lab (mode nat -> routed)" "$(virt_lines <<<"$out" | sed 's/^+ //')" "one libvirt action"
        vm_assert_match 'mode="routed"' "$(vm_virsh net-dumpxml --inactive lab)" "persistent definition"
        # The running definition keeps the old metadata until the network restarts.
        vm_assert_match 'mode="nat"' "$(vm_virsh net-dumpxml lab)" "running definition"
        vm_assert_match 'Active: +yes' "$(vm_virsh net-info lab)" "lab still active"
        vm_assert_eq "$before_index" "$(ip -j link show dev "$tap" | jq '.[0].ifindex')" "same tap"
        vm_assert_eq "0 actions" "$(driver plan)" "then nothing left"
}

# A new bridge: the network is re-created and the running guest re-plugged into it.
t_recreate_bridge() {
        local out tap
        write_plan 200mbit routed vm-lab2
        out=$(driver apply)
        echo "$out" | sed 's/^/    | /'
        vm_assert_match 're-create libvirt network lab \(bridge vm-lab -> vm-lab2; re-plugs 1 guest interface\) \[recreate\]' "$out"
        vm_assert_match 'restart dnsmasq for network lab on vm-lab2' "$out"
        vm_assert_match 'Active: +yes' "$(vm_virsh net-info lab)" "lab active"
        vm_assert_match 'Autostart: +yes' "$(vm_virsh net-info lab)" "lab autostart"
        vm_assert_match "<bridge name='vm-lab2'/>" "$(vm_virsh net-dumpxml lab)" "new bridge"
        tap=$(tap_of_guest)
        vm_assert test -n "$tap"
        vm_assert_eq "$TAP" "$tap" "the re-plugged tap keeps vmnet's name"
        vm_assert_jq "$(ip -j link show dev "$tap")" '.[0].master == "vm-lab2"' "$tap re-plugged into vm-lab2"
        vm_assert_match 'rate 200Mbit' "$(tap_rates "$tap")" "tap rate kept"
        vm_assert pgrep -f "conf-file=$VMNET_STATE_DIR/dnsmasq/lvt/lab.conf"
        vm_assert_match 'interface=vm-lab2' "$(cat "$VMNET_STATE_DIR/dnsmasq/lvt/lab.conf")"
        vm_assert_eq "0 actions" "$(driver plan)" "then nothing left"
}

# Issue 18 against a real guest: status --stats and metrics name the running
# guest's port with its domain and MAC (from libvirt's running definition),
# and its picture renders and names the guest.
t_observe() {
        local tap out
        tap=$(tap_of_guest)
        out=$("$VMNET" --json status --stats --connect "$URI" "$W/plan.xml")
        vm_assert_jq "$out" "[.traffic[] | select(.kind == \"port\") | [.network, .link, .domain, .mac]] == [[\"lab\", \"$tap\", \"web1\", \"$MAC\"]]" \
                "status --stats: the guest's port"
        out=$("$VMNET" metrics --connect "$URI" "$W/plan.xml")
        vm_assert_match "vmnet_port_transmit_bytes_total\\{network=\"lab\",port=\"$tap\",domain=\"web1\",mac=\"$MAC\"\\} [0-9]+" "$out" "metrics: the guest's port"
        "$VMNET" status --format dot --connect "$URI" "$W/plan.xml" >"$W/host.dot"
        vm_assert dot -Tsvg -o "$W/host.svg" "$W/host.dot"
        vm_assert grep -q ">domain web1</text>" "$W/host.svg"
}

t_destroy() {
        local out
        out=$(driver destroy)
        echo "$out" | sed 's/^/    | /'
        vm_assert_match "detach interface $MAC from domain web1" "$out"
        vm_assert_not grep -Eq '^(lab|iso)$' <<<"$(vm_virsh net-list --all --name)"
        vm_assert_not grep -q "$MAC" <<<"$(vm_virsh dumpxml --inactive web1)"
        # A live unplug needs the guest's ACPI cooperation, which a disk-less guest cannot give.
        if vm_virsh dumpxml web1 | grep -q "$MAC"; then
                echo "    note: $MAC still in web1's running definition (unplug requested; no guest OS to ack it)"
        fi
        vm_assert_not pgrep -f "conf-file=$VMNET_STATE_DIR/dnsmasq/lvt/lab.conf"
        vm_assert_not test -e "$VMNET_STATE_DIR/dnsmasq/lvt/lab.conf"
        vm_assert_not test -e "$VMNET_RUN_DIR/dnsmasq/lvt/lab.pid"
        # What vmnet did not make is still there; what it made is gone.
        vm_assert_eq running "$(vm_domain_state web1)" "web1 still runs"
        vm_assert_not ip link show dev vm-lab2
        vm_assert_not ip link show dev vm-iso
        vm_assert_not nft list table bridge vmnet
}

vm_test "libvirtd, bridges, a running guest" t_setup
vm_test "apply: networks, hot-plugged NIC, dnsmasq" t_apply
vm_test "apply again: nothing to do" t_idempotent
vm_test "port group bandwidth changed live" t_portgroup_live
vm_test "metadata change of a running network: re-define" t_redefine_live
vm_test "bridge change: re-create, guest re-plugged" t_recreate_bridge
vm_test "status --stats, metrics and the picture name the guest" t_observe
vm_test "destroy removes what vmnet added" t_destroy
vm_summary
