#!/bin/bash
# systemd-dnsmasq.sh: vmnet's dnsmasq instances as transient units of a real
# systemd (vmnet(8), SYSTEMD, "dnsmasq under systemd"; issue 12, point 4).
# It needs systemd as PID 1 with a system bus, so it is not a t-*.sh of
# run-suite (whose VM has none); run it with the VM booted under systemd:
#
#   flock /var/tmp/vmnet-vm.lock env top_builddir=$PWD/build \
#           tests/vm/vm-run --systemd tests/vm/systemd-dnsmasq.sh
#
# Everything is read from systemd (systemctl), /proc and ss, never from
# vmnet's report: a plan with a DHCP network applied on the VM's host side
# and one in a network namespace; each dnsmasq runs as its unit in
# system-vmnet.slice (its cgroup, not the caller's), is started again by
# systemd after SIGKILL and after SIGTERM, is seen stopped by doctor when
# its unit is stopped, comes back with the next apply, and is gone with its
# unit after destroy. A plan of four networks starts its units' jobs as one
# batch (they overlap), and one that fails in the middle (its address
# taken) leaves no unit of that apply.
. "${0%/*}/lib.sh"

[[ -d /run/systemd/system ]] && [[ $(cat /proc/1/comm) == systemd ]] ||
        { echo "systemd-dnsmasq.sh: systemd is not PID 1 here (boot with vm-run --systemd)"; exit 77; }

W=$(mktemp -d /tmp/sd-dnsmasq.XXXXXX)
vm_on_exit rm -rf "$W"
export VMNET_STATE_DIR=$W/state VMNET_RUN_DIR=$W/run
unset VMNET_DNSMASQ_SUPERVISOR
cat >"$W/plan.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<plan xmlns="urn:vmnet:plan:1" name="sdt">
  <network name="lab" mode="host-only" bridge="sd-lab">
    <subnet cidr="10.79.1.0/24" gateway="10.79.1.1">
      <dhcp start="10.79.1.100" end="10.79.1.150"/>
    </subnet>
  </network>
</plan>
EOF
UNIT='vmnet-dnsmasq-sdt:lab.service'
CONF=$W/state/dnsmasq/sdt/lab.conf
NS=$(vm_netns_add sdns)
NSUNIT="vmnet-dnsmasq-$NS:sdt:lab.service"
NSCONF=$W/state/netns-$NS/dnsmasq/sdt/lab.conf

main_pid() { systemctl show -p MainPID --value "$1"; }
# The unit is active and its main process is a dnsmasq of conf.
serving() {
        local pid
        [[ $(systemctl is-active "$1") == active ]] || return 1
        pid=$(main_pid "$1")
        ((pid > 0)) && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--conf-file=$2 "
}
# serving, by a main process other than $3.
restarted() { serving "$1" "$2" && [[ $(main_pid "$1") != "$3" ]]; }

t_apply() {
        vm_assert "$VMNET" apply --no-libvirt "$W/plan.xml"
        vm_assert serving "$UNIT" "$CONF"
        local pid cg
        pid=$(main_pid "$UNIT")
        cg=$(cut -d: -f3- "/proc/$pid/cgroup") # the unit name has colons too
        vm_assert_eq "/system.slice/system-vmnet.slice/$UNIT" "$cg" "dnsmasq's cgroup"
        vm_assert_eq forking "$(systemctl show -p Type --value "$UNIT")" "Type"
        vm_assert_eq always "$(systemctl show -p Restart --value "$UNIT")" "Restart"
        # It serves DHCP on the bridge (bound to port 67 there).
        vm_assert_match 'sd-lab' "$(ss -Hlunp 'sport = :67')" "dnsmasq's DHCP socket"
}

# t_signal SIG: dnsmasq killed with SIG; systemd starts a new one (Restart=always).
t_signal() {
        local old
        old=$(main_pid "$UNIT")
        # Never kill 0 (the whole process group) when no dnsmasq runs.
        ((old > 1)) || vm_fail "$UNIT has no main process to kill ($(systemctl is-active "$UNIT"))"
        kill -"$1" "$old"
        vm_wait_until 30 restarted "$UNIT" "$CONF" "$old" ||
                vm_fail "no new dnsmasq in $UNIT within 30 s of SIG$1 to $old ($(systemctl is-active "$UNIT"))"
        echo "  SIG$1 to $old; $(main_pid "$UNIT") serves lab"
}

t_reapply_noop() {
        local pid out
        pid=$(main_pid "$UNIT")
        out=$("$VMNET" apply --no-libvirt "$W/plan.xml" 2>&1)
        vm_assert_eq "$pid" "$(main_pid "$UNIT")" "dnsmasq's pid after a re-apply that changes nothing"
        [[ $out != *dnsmasq* ]] || vm_fail "the re-apply touched dnsmasq: $out"
}

t_stopped_unit() {
        systemctl stop "$UNIT"
        local out
        out=$("$VMNET" doctor "$W/plan.xml" 2>&1) || true
        vm_assert_match "DHCP server for network 'lab' is not running \(unit $UNIT" "$out" "doctor"
        vm_assert "$VMNET" apply --no-libvirt "$W/plan.xml"
        vm_assert serving "$UNIT" "$CONF"
}

t_netns() {
        local pid
        vm_assert "$VMNET" --netns "$NS" apply --no-libvirt "$W/plan.xml"
        vm_assert serving "$NSUNIT" "$NSCONF"
        pid=$(main_pid "$NSUNIT")
        vm_assert_eq "$(stat -L -c %i "/run/netns/$NS")" "$(stat -L -c %i "/proc/$pid/ns/net")" \
                "dnsmasq's network namespace"
        vm_assert_match 'sd-lab' "$(vm_ns "$NS" ss -Hlunp 'sport = :67')" "DHCP socket in $NS"
        vm_assert "$VMNET" --netns "$NS" destroy --no-libvirt "$W/plan.xml"
        vm_assert_not systemctl is-active "$NSUNIT"
}

t_destroy() {
        local pid
        pid=$(main_pid "$UNIT")
        vm_assert "$VMNET" destroy --no-libvirt "$W/plan.xml"
        vm_assert_not systemctl is-active "$UNIT"
        # CollectMode=inactive-or-failed: no unit left behind.
        vm_assert_eq not-found "$(systemctl show -p LoadState --value "$UNIT")" "the unit after destroy"
        [[ ! -e /proc/$pid ]] || vm_fail "dnsmasq $pid still runs"
}

# --- one apply's starts as a batch (apply/apply.h): four units' jobs queued, then waited for ---
BN=4
{
        echo '<plan xmlns="urn:vmnet:plan:1" name="sdb">'
        for i in $(seq "$BN"); do
                cat <<EOF
  <network name="n$i" mode="host-only" bridge="sd-b$i">
    <subnet cidr="10.79.$((10 + i)).0/24" gateway="10.79.$((10 + i)).1">
      <dhcp start="10.79.$((10 + i)).100" end="10.79.$((10 + i)).150"/>
    </subnet>
  </network>
EOF
        done
        echo '</plan>'
} >"$W/batch.xml"
bunit() { echo "vmnet-dnsmasq-sdb:n$1.service"; }
bconf() { echo "$W/state/dnsmasq/sdb/n$1.conf"; }
vm_on_exit "$VMNET" destroy --no-libvirt "$W/batch.xml"
# A wrapper as the units' dnsmasq (VMNET_DNSMASQ, a test build): each waits
# until all BN have been started; jobs waited for one by one never get there.
mkdir "$W/began"
cat >"$W/barrier" <<EOF
#!/bin/sh
touch "$W/began/\$\$"
for _ in \$(seq 300); do
        [ "\$(ls "$W/began" | wc -l)" -lt $BN ] || exec /usr/sbin/dnsmasq "\$@"
        sleep 0.05
done
echo "only \$(ls "$W/began" | wc -l) of $BN started after 15 s" >&2
exit 1
EOF
chmod +x "$W/barrier"

# gone N: unit N is neither running nor loaded (stopped and collected).
gone() { [[ $(systemctl show -p LoadState --value "$(bunit "$1")") == not-found ]]; }

t_batch() {
        local i
        vm_assert env VMNET_DNSMASQ="$W/barrier" "$VMNET" apply --no-libvirt "$W/batch.xml"
        vm_assert_eq "$BN" "$(ls "$W/began" | wc -l)" "starts begun before any dnsmasq ran"
        for i in $(seq "$BN"); do
                vm_assert serving "$(bunit "$i")" "$(bconf "$i")"
        done
        vm_assert "$VMNET" destroy --no-libvirt "$W/batch.xml"
        for i in $(seq "$BN"); do
                vm_wait_until 30 gone "$i" || vm_fail "$(bunit "$i") still loaded after destroy"
        done
}

# n3's dnsmasq cannot bind (a socket holds 10.79.13.1:53, IP_FREEBIND): the
# apply fails naming n3, and no unit of it is left, running or waiting to restart.
t_batch_failure() {
        local squatter out i
        python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 15, 1)
s.bind(("10.79.13.1", 53))
open(sys.argv[1], "w").write("bound\n")
time.sleep(600)' "$W/bound" &
        squatter=$!
        vm_on_exit kill "$squatter"
        vm_wait_until 30 test -s "$W/bound" || vm_fail "the socket on 10.79.13.1:53 was not bound"
        if out=$("$VMNET" apply --no-libvirt "$W/batch.xml" 2>&1); then
                vm_fail "apply succeeded with n3's address taken: $out"
        fi
        vm_assert_match "dnsmasq for network n3 did not start: .*$(bunit 3).*'failed'" "$out" "the error"
        vm_assert_match "every completed step was undone" "$out" "the error"
        for i in $(seq "$BN"); do
                vm_wait_until 30 gone "$i" || vm_fail "$(bunit "$i"): $(systemctl is-active "$(bunit "$i")") after the failed apply"
        done
        vm_assert_not pgrep -f -- "--conf-file=$W/state/dnsmasq/sdb/"
        vm_assert_not ip link show sd-b1
        kill "$squatter"
}

vm_test "apply: dnsmasq is unit $UNIT in system-vmnet.slice" t_apply
vm_test "SIGKILL to dnsmasq: systemd starts a new one" t_signal KILL
vm_test "SIGTERM to dnsmasq: systemd starts a new one" t_signal TERM
vm_test "a re-apply leaves the running unit alone" t_reapply_noop
vm_test "unit stopped: doctor names it, apply starts it again" t_stopped_unit
vm_test "--netns: the unit runs dnsmasq in the namespace, destroy stops it" t_netns
vm_test "destroy: the unit and dnsmasq are gone" t_destroy
vm_test "a batch of $BN: the start jobs overlap, each unit serves its network, destroy removes them" t_batch
vm_test "a batch whose third dnsmasq cannot bind: the apply fails naming it, no unit is left" t_batch_failure
vm_summary
