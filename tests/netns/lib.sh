# Helpers for engine tests that run vmnet in throwaway network namespaces.
# Sourced by tests/netns/t-*.sh. Never touches the machine's own namespace:
# every command that changes the kernel runs with `ip -n NS` or `--netns NS`.
set -u
: "${VMNET:?}" "${top_srcdir:?}"
. "$top_srcdir/tests/lib/jcheck.sh"
pass=0 fail=0 skip=0
T=$(mktemp -d)
export VMNET_STATE_DIR=$T/state VMNET_RUN_DIR=$T/run
# Namespaces to delete at exit; a file, because newns runs in $(...) subshells.
track_ns() { echo "$1" >>"$T/namespaces"; }
# Background processes to stop at exit (they outlive their namespace's name).
track_pid() { echo "$1" >>"$T/pids"; }
cleanup() {
        local ns pid
        [ -f "$T/pids" ] && while read -r pid; do kill "$pid" 2>/dev/null; done <"$T/pids"
        [ -f "$T/namespaces" ] && while read -r ns; do ip netns del "$ns" 2>/dev/null; done <"$T/namespaces"
        rm -rf "$T"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || ! ip netns add "vmnet-probe-$$" 2>/dev/null; then
        echo "SKIP: needs root and network namespaces"
        exit 77
fi
ip netns del "vmnet-probe-$$"

PLANS=$top_srcdir/tests/data/plans/engine

ok() { pass=$((pass + 1)); echo "PASS: $*"; }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # NAME COMMAND...: passes when the command succeeds
        local name=$1; shift
        if "$@"; then ok "$name"; else ko "$name"; fi
}
finish() {
        echo "$pass passed, $fail failed"
        [ "$fail" -eq 0 ]
}

# wait_for SECS CMD...: polls CMD every 0.1 s until it succeeds; 1 after SECS.
wait_for() {
        local end=$((SECONDS + $1))
        shift
        until "$@"; do
                ((SECONDS < end)) || return 1
                sleep 0.1
        done
}

# newns: a fresh namespace with loopback up and a veth standing in for the uplink.
newns() {
        local ns=vmnet-t$$-$1
        ip netns add "$ns" || return 1
        track_ns "$ns"
        ip -n "$ns" link set lo up
        ip -n "$ns" link add vt-up0 type veth peer name vt-up0p
        ip -n "$ns" link set vt-up0 up
        ip -n "$ns" link set vt-up0p up
        echo "$ns"
}

# vm NS ARGS...: runs vmnet in the namespace (stdout $T/out, stderr $T/err), returns its status.
vm() {
        local ns=$1; shift
        "$VMNET" --netns "$ns" "$@" >"$T/out" 2>"$T/err"
}

# snapshot NS FILE: the namespace's state, read independently of vmnet and
# normalised (sorted, no counters or ifindexes), for before/after comparisons.
# A reading that fails or prints nothing is a failed check (two empty
# snapshots would compare equal), and snapshot returns 1.
snapshot() {
        local ns=$1 out=$2
        if ! {
                echo "## links" &&
                jread '[.[] | {ifname, mtu, master, address, ifalias,
                        up: (.flags | index("UP") != null), kind: .linkinfo.info_kind,
                        stp: .linkinfo.info_data.stp_state, fd: .linkinfo.info_data.forward_delay,
                        vlan: .linkinfo.info_data.id}] | sort_by(.ifname)' ip -n "$ns" -d -j link show &&
                echo "## addresses" &&
                jread '[.[] | {ifname, a: [.addr_info[] | select(.scope != "link") | "\(.local)/\(.prefixlen)"] | sort}] | sort_by(.ifname)' \
                        ip -n "$ns" -j addr show &&
                echo "## routes" &&
                # without "linkdown": carrier, which a bridge's STP changes have the
                # kernel re-evaluate, is the kernel's state, not configuration
                jread 'map(.flags = ((.flags // []) - ["linkdown"])) | sort_by(.dst)' ip -n "$ns" -j route show table main &&
                echo "## nft" &&
                jread '[.nftables[] | del(.. | .handle?) | select(.metainfo == null)]' ip netns exec "$ns" nft -j list ruleset &&
                echo "## sysctl" &&
                _jcheck_run ip netns exec "$ns" sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding &&
                printf '%s\n' "$_jcheck_out"
        } >"$out"; then
                ko "snapshot of namespace $ns into ${out##*/}: a reading failed (above)"
                return 1
        fi
}

same() { # NAME A B
        if cmp -s "$2" "$3"; then ok "$1"; else ko "$1"; diff -u "$2" "$3" | head -40; fi
}

link_json() { ip -n "$1" -d -j link show "$2" 2>/dev/null; }
