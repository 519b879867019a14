# tests/vm/lib.sh: helpers for test scripts that run INSIDE the test VM
# (through tests/vm/run-suite or tests/vm/vm-run).  Source it, never run it:
#
#   #!/bin/bash
#   . "${0%/*}/lib.sh"
#   t_vlan() {
#           vm_ns "$NS" ip link add up0 type dummy
#           vm_assert_jq "$(vm_ns "$NS" ip -d -j link show up0)" '.[0].linkinfo.info_kind == "dummy"' "up0 is a dummy"
#   }
#   NS=$(vm_netns_add)
#   vm_test "dummy uplink" t_vlan
#   vm_summary                      # last line: "N passed, N failed"; exit 0 iff none failed
#
# vm_test runs each check function in a subshell with errexit on: the first
# failing assertion (or any failing command) ends that check, prints why, and
# the next check runs.  Kernel state persists between checks; shell
# variables set inside a check do not.  Anything the helpers create (network
# namespaces, libvirt daemons, domains) is removed when the script exits.
#
# Variables set here (the caller's value wins): top_srcdir, top_builddir,
# VMNET (the binary under test, default $top_builddir/vmnet).

if ! grep -qw 'vmnet.testbed=1' /proc/cmdline 2>/dev/null; then
        echo "lib.sh: not inside the vmnet test VM; refusing to touch this machine." >&2
        echo "lib.sh: run it with tests/vm/run-suite or tests/vm/vm-run." >&2
        exit 2
fi

VM_LIB_DIR=$(cd "${BASH_SOURCE[0]%/*}" && pwd)
: "${top_srcdir:=$(cd "$VM_LIB_DIR/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${VMNET:=$top_builddir/vmnet}"
export top_srcdir top_builddir VMNET
. "$top_srcdir/tests/lib/jcheck.sh"

VM_LIBVIRT_URI=qemu:///system
_vm_pass=0
_vm_fail=0
_vm_failed=()
_vm_state=$(mktemp -d /tmp/vmtest.XXXXXX)
: >"$_vm_state/cleanup"

# --- cleanup registry -----------------------------------------------------------
# A file, not a variable, so that helpers called inside a vm_test subshell or
# a $(...) still register with the top-level script.

# vm_on_exit CMD [ARGS...]: run CMD when the script ends (last registered, first run).
vm_on_exit() {
        printf '%q ' "$@" >>"$_vm_state/cleanup"
        echo >>"$_vm_state/cleanup"
}

_vm_cleanup() {
        local lines i
        [[ -f $_vm_state/cleanup ]] || return 0
        mapfile -t lines <"$_vm_state/cleanup"
        : >"$_vm_state/cleanup"
        for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
                [[ -n ${lines[i]} ]] && eval "${lines[i]}" >/dev/null 2>&1
        done
        rm -rf "$_vm_state"
        return 0
}
trap _vm_cleanup EXIT

# --- tests and assertions -----------------------------------------------------------

# vm_test NAME FUNC [ARGS...]: run one check; prints "ok - NAME" or "not ok - NAME".
vm_test() {
        local name=$1 rc start=$SECONDS errexit=0
        shift
        # Not `( ... ) || rc=$?`: inside a || list bash ignores errexit, and
        # the check would run on past its first failing command.
        [[ $- == *e* ]] && errexit=1
        set +e
        (
                set -eE -o pipefail
                trap '_vm_trace_err $? "$BASH_COMMAND"' ERR
                "$@"
        ) </dev/null
        rc=$?
        ((errexit)) && set -e
        if ((rc == 0)); then
                _vm_pass=$((_vm_pass + 1))
                echo "ok - $name ($((SECONDS - start))s)"
        else
                _vm_fail=$((_vm_fail + 1))
                _vm_failed+=("$name")
                echo "not ok - $name ($((SECONDS - start))s)"
        fi
        return 0
}

# A command that failed outside an assertion: say which, and where.
_vm_trace_err() {
        echo "  failed (exit $1): $2   [${BASH_SOURCE[1]##*/}:${BASH_LINENO[0]}]" >&2
}

# vm_summary: clean up, print "N passed, N failed" as the last line, exit 0 iff none failed.
vm_summary() {
        _vm_cleanup
        trap - EXIT
        if ((_vm_pass + _vm_fail == 0)); then
                echo "vm_summary: no checks ran" >&2
                _vm_fail=1
        fi
        ((_vm_fail)) && echo "failed: ${_vm_failed[*]}"
        echo "$_vm_pass passed, $_vm_fail failed"
        ((_vm_fail == 0))
        exit
}

# vm_fail MESSAGE...: fail the current check (or the script, outside vm_test).
vm_fail() {
        echo "  FAIL: $*" >&2
        exit 1
}

# vm_assert CMD [ARGS...]: CMD must succeed; its output is shown if it does not.
vm_assert() {
        local out rc=0
        out=$(trap - ERR; "$@" 2>&1) || rc=$?
        ((rc == 0)) || vm_fail "exit $rc from: $*${out:+$'\n'$(sed 's/^/    | /' <<<"$out")}"
}

# vm_assert_not CMD [ARGS...]: CMD must fail.
vm_assert_not() {
        local out
        if out=$(trap - ERR; "$@" 2>&1); then
                vm_fail "expected to fail but succeeded: $*${out:+$'\n'$(sed 's/^/    | /' <<<"$out")}"
        fi
        return 0
}

# vm_assert_eq EXPECTED ACTUAL [WHAT]
vm_assert_eq() {
        [[ $1 == "$2" ]] || vm_fail "${3:-value}: expected '$1', got '$2'"
}

# vm_assert_match REGEX ACTUAL [WHAT]  (bash extended regex)
vm_assert_match() {
        [[ $2 =~ $1 ]] || vm_fail "${3:-value}: '$2' does not match /$1/"
}

# vm_assert_jq JSON FILTER [WHAT]: FILTER applied to JSON must yield exactly
# true (jtrue, tests/lib/jcheck.sh): empty JSON (a reading that printed
# nothing) fails.
vm_assert_jq() {
        local why
        printf '%s\n' "$1" >"$_vm_state/assert.json"
        why=$(trap - ERR; jtrue "$2" cat "$_vm_state/assert.json" 2>&1) && return 0
        vm_fail "${3:-json check}:"$'\n'"$why"
}

# vm_wait_until SECS CMD [ARGS...]: poll CMD every 0.2 s until it succeeds; 1 on timeout.
vm_wait_until() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@" >/dev/null 2>&1; do
                ((SECONDS < deadline)) || return 1
                sleep 0.2
        done
}

# --- network namespaces ---------------------------------------------------------------

# vm_netns_add [PREFIX]: create a fresh, uniquely named netns (lo up); prints its name.
vm_netns_add() {
        local name
        name=${1:-vmt}-$$-$RANDOM
        ip netns add "$name" || vm_fail "ip netns add $name"
        vm_on_exit ip netns del "$name"
        ip -n "$name" link set lo up
        echo "$name"
}

# vm_ns NS CMD [ARGS...]: run CMD in network namespace NS.
vm_ns() {
        local ns=$1
        shift
        ip netns exec "$ns" "$@"
}

# --- libvirt ------------------------------------------------------------------------

# vm_virsh ARGS...: virsh against the guest's own libvirtd.
vm_virsh() {
        virsh -q -c "$VM_LIBVIRT_URI" "$@"
}

# vm_libvirt_start: start virtlogd + libvirtd (in the current network
# namespace) and wait until they answer.  Stopped when the script exits.
vm_libvirt_start() {
        local timeout=${VMNET_VM_LIBVIRT_TIMEOUT:-240}
        if [[ -S /run/libvirt/libvirt-sock ]] && vm_virsh version >/dev/null 2>&1; then
                return 0
        fi
        mkdir -p /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /run/libvirt
        vm_on_exit _vm_libvirt_stop
        virtlogd -d || vm_fail "virtlogd -d failed"
        LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" libvirtd -d ||
                vm_fail "libvirtd -d failed"
        if ! vm_wait_until "$timeout" vm_virsh version; then
                vm_fail "libvirtd did not answer within ${timeout}s"$'\n'"$(tail -n 20 /var/log/libvirt/libvirtd.log 2>/dev/null | sed 's/^/    | /')"
        fi
}

_vm_libvirt_stop() {
        local f pid
        for f in /run/libvirtd.pid /run/virtlogd.pid; do
                [[ -f $f ]] || continue
                pid=$(<"$f")
                kill "$pid" 2>/dev/null || continue
                for _ in $(seq 50); do
                        kill -0 "$pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$pid" 2>/dev/null
        done
        return 0
}

# The test domains' firmware: 64 KiB whose reset vector is `cli; hlt`, so a
# domain runs (for libvirt, qemu and the kernel: taps, bridge ports, hot-plug)
# but its vCPU sleeps.  SeaBIOS under nested emulation took ~20 s of CPU to
# start each domain and kept taking a third of the VM's CPU while it ran.
VM_HALT_BIOS=/var/lib/libvirt/vmnet-test-halt.bin
_vm_halt_bios() {
        [[ -s $VM_HALT_BIOS ]] && return 0
        mkdir -p "${VM_HALT_BIOS%/*}"
        # 0xfff0: fa (cli), f4 (hlt), eb fd (jmp back to the hlt)
        { head -c 65520 /dev/zero; printf '\xfa\xf4\xeb\xfd'; head -c 12 /dev/zero; } >"$VM_HALT_BIOS.tmp" &&
                chmod 644 "$VM_HALT_BIOS.tmp" && mv "$VM_HALT_BIOS.tmp" "$VM_HALT_BIOS"
}

# vm_domain_xml NAME [DEVICES_XML]: a disk-less test domain (64 MiB, machine pc,
# ACPI on so that NICs can be hot-plugged, the halting firmware above), extra
# <devices> children appended.
vm_domain_xml() {
        _vm_halt_bios || vm_fail "cannot write $VM_HALT_BIOS"
        cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><loader type='rom' readonly='yes'>$VM_HALT_BIOS</loader></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    ${2:-}
  </devices>
</domain>
EOF
}

# vm_domain_start NAME [DEVICES_XML]: define and start a test domain; it is
# destroyed and undefined when the script exits.
vm_domain_start() {
        local xml=$_vm_state/domain-$1.xml
        vm_domain_xml "$@" >"$xml"
        vm_assert vm_virsh define "$xml"
        vm_on_exit vm_domain_remove "$1"
        vm_assert vm_virsh start "$1"
}

# vm_domain_remove NAME: destroy (if running) and undefine.
vm_domain_remove() {
        vm_virsh destroy "$1" >/dev/null 2>&1
        vm_virsh undefine "$1" >/dev/null 2>&1
        return 0
}

# vm_domain_state NAME: prints e.g. "running", "shut off".
vm_domain_state() {
        vm_virsh domstate "$1" 2>/dev/null
}
