#!/bin/bash
# Files vmnet writes as root are never reached through a symbolic link that
# someone left in their place (issue 16, point 5): the lock (opened with
# O_NOFOLLOW) and the confirm watchdog's log; the state files and records
# are replaced by a rename, which replaces a link itself, never its target.
. "$top_srcdir/tests/netns/lib.sh"

ns=$(newns files) || { echo "FAIL: cannot create a network namespace"; exit 1; }
cat >"$T/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-files">
  <network name="dev" mode="host-only" bridge="vt-dev">
    <subnet cidr="10.77.4.0/24" gateway="10.77.4.1"/>
  </network>
</plan>
XML
snapshot "$ns" "$T/before"
mkdir -p "$VMNET_RUN_DIR"
echo precious >"$T/victim"
ln -s "$T/victim" "$VMNET_RUN_DIR/lock.netns-$ns"

vm "$ns" apply "$T/plan.xml"; rc=$?
check "apply refuses a lock that is a symbolic link" test "$rc" = 1
check "and says which file, and why" grep -q "lock.netns-$ns: Too many levels of symbolic links" "$T/err"
check "the link's target is untouched" sh -c "test \"\$(cat '$T/victim')\" = precious"
snapshot "$ns" "$T/after"
same "nothing changed in the namespace" "$T/before" "$T/after"

rm "$VMNET_RUN_DIR/lock.netns-$ns"
check "with the link gone, apply works" vm "$ns" apply "$T/plan.xml"
check "the lock is a plain file" test -f "$VMNET_RUN_DIR/lock.netns-$ns" -a ! -L "$VMNET_RUN_DIR/lock.netns-$ns"
check "destroy" vm "$ns" destroy "$T/plan.xml"
finish
