#!/bin/bash
# libvirt is loaded on first use (src/backend/libvirt/lazy.c): vmnet is not
# linked with it, runs that do not talk to libvirt work on a host without it,
# and a run that needs it fails cleanly, before touching anything. "Without
# libvirt" is real: libvirt.so.0 is hidden in a private mount namespace.
. "$top_srcdir/tests/netns/lib.sh"

lib=$(ldconfig -p | awk '$1 == "libvirt.so.0" { print $NF; exit }')
if [ -z "$lib" ] || ! unshare -m true 2>/dev/null; then
        echo "SKIP: needs libvirt.so.0 in the loader cache and mount namespaces"
        exit 77
fi
# without CMD...: CMD in a mount namespace where libvirt.so.0 is /dev/null.
q() { jtrue "$1" cat "$2"; } # q FILTER FILE: the filter holds
without() { unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$lib" "$@"; }

cat >"$T/guests.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<plan xmlns="urn:vmnet:plan:1" name="t-no-libvirt">
  <network name="dev" mode="host-only" bridge="vt-dev">
    <subnet cidr="10.77.2.0/24" gateway="10.77.2.1"/>
  </network>
  <domain name="test">
    <interface network="dev" mac="52:54:00:77:02:10"/>
  </domain>
</plan>
XML

check "vmnet is not linked with libvirt" sh -c "! ldd '$VMNET' | grep -q libvirt"
check "the hiding works: libvirt.so.0 is empty there" without sh -c 'test ! -s "$0"' "$lib"

# --- without libvirt: a netns run that does not need it works -------------------
ns=$(newns nolv)
without "$VMNET" --netns "$ns" apply "$PLANS/base.xml" >"$T/out" 2>"$T/err"
check "apply --netns without libvirt succeeds" test $? = 0
check "  the bridges are there (ip -j link)" \
        jtrue '.[0].linkinfo == null and .[0].ifname == "vt-lab"' ip -n "$ns" -j link show vt-lab
check "validate without libvirt" without "$VMNET" --quiet validate "$T/guests.xml"

# --- without libvirt: a run that needs it fails before changing anything --------
ns2=$(newns nolv2)
snapshot "$ns2" "$T/before"
without "$VMNET" --netns "$ns2" apply --connect test:///default "$T/guests.xml" >"$T/out" 2>"$T/err"
rc=$?
check "apply --connect without libvirt exits 1 (not a crash)" test "$rc" = 1
check "  and says libvirt cannot be loaded" grep -q 'cannot load libvirt' "$T/err"
snapshot "$ns2" "$T/after"
check "  and changed nothing" diff -u "$T/before" "$T/after"
without "$VMNET" --netns "$ns2" --json doctor "$T/guests.xml" --connect test:///default >"$T/out" 2>"$T/err"
rc=$?
check "doctor without libvirt exits 1 (not a crash)" test "$rc" = 1
check "  with a libvirt finding that says why" q \
        '[.findings[] | select(.check == "libvirt" and .severity == "error" and (.message | test("cannot load libvirt")))] | length == 1' "$T/out"

# --- with libvirt: the same run loads it on first use -----------------------------
"$VMNET" --netns "$ns2" --json plan --connect test:///default "$T/guests.xml" >"$T/out" 2>"$T/err"
rc=$?
check "plan --connect test:///default with libvirt works" test "$rc" = 0 -o "$rc" = 2
check "  and plans the guest's interface (domain read from libvirt)" q \
        '[.actions[] | select(.description | test("^attach interface 52:54:00:77:02:10 to domain test "))] | length == 1' "$T/out"

finish
