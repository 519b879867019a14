#!/bin/bash
# Files vmnet writes as root are never reached through a symbolic link or
# a directory that someone left in their place (issue 16, point 5; vmnet(8),
# FILES): the lock and the confirm watchdog's log are opened with
# O_NOFOLLOW; the state file, the pending list, the confirm records and
# dnsmasq's configuration are replaced by a rename, which replaces a link
# itself, never its target; every directory from the state and run
# directories down is created 0700 and opened without following a link, and
# must be vmnet's own (its owner, writable by no one else); a link at the
# state file or at a file dnsmasq writes is refused.
. "$top_srcdir/tests/netns/lib.sh"

ns=$(newns files) || { echo "FAIL: cannot create a network namespace"; exit 1; }
cat >"$T/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-files">
  <network name="dev" mode="host-only" bridge="vt-dev">
    <subnet cidr="10.77.4.0/24" gateway="10.77.4.1">
      <dhcp start="10.77.4.100" end="10.77.4.150"/>
    </subnet>
  </network>
</plan>
XML
S=$VMNET_STATE_DIR R=$VMNET_RUN_DIR
snapshot "$ns" "$T/before"

# victim NAME: a file of the test's that must never change; prints its path.
victim() { echo precious >"$T/victim-$1"; echo "$T/victim-$1"; }
untouched() { check "$1" sh -c "test \"\$(cat '$2')\" = precious"; }
# refused NAME PATTERN: the apply failed, saying PATTERN, and left the namespace as it was.
refused() {
        vm "$ns" apply "$T/plan.xml"; local rc=$?
        check "$1: apply refuses (exit $rc)" test "$rc" = 1
        check "$1: the error names it" grep -q -- "$2" "$T/err" || sed 's/^/    | /' "$T/err" | head -5
        snapshot "$ns" "$T/after"
        same "$1: nothing changed in the namespace" "$T/before" "$T/after"
}
# applied NAME: apply succeeds (and destroy after it).
applied() {
        vm "$ns" apply "$T/plan.xml"; local rc=$?
        check "$1: apply succeeds (exit $rc)" test "$rc" = 0
        [ "$rc" = 0 ] || sed 's/^/    | /' "$T/err" | head -5
}
destroyed() { check "destroy" vm "$ns" destroy "$T/plan.xml"; }
# reset: whatever a scenario left (a vmnet that followed a link leaves more), gone.
reset() {
        rm -rf "$S/netns-$ns" "$R/netns-$ns" "$R/lock.netns-$ns" "$T/elsewhere"
        "$VMNET" --netns "$ns" destroy "$T/plan.xml" >/dev/null 2>&1
        pkill -f -- "--conf-file=$T/" && sleep 1
        rm -rf "$S/netns-$ns" "$R/netns-$ns" "$R/lock.netns-$ns"
}

# --- the lock ----------------------------------------------------------------
mkdir -p "$R"
ln -s "$(victim lock)" "$R/lock.netns-$ns"
refused "a link at the lock" "lock.netns-$ns: Too many levels of symbolic links"
untouched "the lock link's target is untouched" "$T/victim-lock"
reset

# --- a link at the state file -------------------------------------------------
mkdir -p "$S/netns-$ns"
printf '[note]\nx=precious\n' >"$T/victim-state"
ln -s "$T/victim-state" "$S/netns-$ns/t-files.state"
refused "a link at the state file" "t-files.state: a symbolic link"
check "the state link's target is untouched" grep -qx 'x=precious' "$T/victim-state"
reset

# --- a link at the pending list (written while links are created) -------------
# (a key file, so that a vmnet that reads through the link goes on to write)
mkdir -p "$R/netns-$ns"
printf '[note]\nx=precious\n' >"$T/victim-pending"
ln -s "$T/victim-pending" "$R/netns-$ns/t-files.pending"
refused "a link at the pending list" "t-files.pending: a symbolic link"
check "the pending list's link target is untouched" grep -qx 'x=precious' "$T/victim-pending"
reset

# --- a link at dnsmasq's lease file -------------------------------------------
# (dnsmasq would write its leases through it with the next lease)
mkdir -p "$S/netns-$ns/dnsmasq/t-files"
ln -s "$(victim lease)" "$S/netns-$ns/dnsmasq/t-files/dev.leases"
refused "a link at the lease file" "dev.leases: a symbolic link"
untouched "the lease link's target is untouched" "$T/victim-lease"
reset

# --- directories that are links ------------------------------------------------
for d in "$S/netns-$ns" "$S/netns-$ns/dnsmasq" "$R/netns-$ns" "$R/netns-$ns/dnsmasq/t-files"; do
        name=${d#"$T"/}
        mkdir -p "$(dirname "$d")" "$T/elsewhere"
        ln -s "$T/elsewhere" "$d"
        refused "$name is a link" "$name: Too many levels of symbolic links\|$name: Not a directory"
        check "$name is a link: nothing written through it" test -z "$(ls -A "$T/elsewhere")"
        reset
done

# --- directories someone else may write to --------------------------------------
mkdir -p "$S/netns-$ns"
chmod 0777 "$S/netns-$ns"
refused "a state directory writable by all" "netns-$ns: owned by uid 0 with mode 0777"
reset
mkdir -p "$S/netns-$ns"
chmod 0700 "$S/netns-$ns"
chown nobody "$S/netns-$ns"
refused "a state directory of another user" "netns-$ns: owned by uid $(id -u nobody) with mode 0700"
reset

# --- what vmnet creates ---------------------------------------------------------------
applied "with no link planted"
for d in "$S/netns-$ns" "$S/netns-$ns/dnsmasq" "$S/netns-$ns/dnsmasq/t-files" "$R/netns-$ns" \
        "$R/netns-$ns/dnsmasq/t-files"; do
        check "${d#"$T"/} is created with mode 0700" test "$(stat -c %a "$d")" = 700
done
check "the lock is a plain file" test -f "$R/lock.netns-$ns" -a ! -L "$R/lock.netns-$ns"
destroyed
snapshot "$ns" "$T/after"
same "after destroy the namespace is as before" "$T/before" "$T/after"
finish
