#!/bin/bash
# Reviewable firewall diffs (issue 13, point 2): with a port forward
# changed from 8080 -> 10.77.5.10:80 to 8081 -> 10.77.5.11:22, `vmnet plan`,
# `apply --check` (--json: the action's changes) and `apply --diff` show the
# old forward removed and the new one added, entry by entry, and nothing
# else of the firewall; the kernel's map is read back with nft, never
# through vmnet. Entries are compared as the kernel holds them, so the old
# side is decoded from the namespace's own table.
. "$top_srcdir/tests/netns/lib.sh"

cat >"$T/old.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-review">
  <network name="nat" mode="nat" bridge="vr-nat">
    <subnet cidr="10.77.5.0/24" gateway="10.77.5.1"/>
    <nat>
      <port-forward proto="tcp" host-port="8080" to="10.77.5.10" to-port="80"/>
    </nat>
  </network>
</plan>
XML
sed 's/8080/8081/; s/10\.77\.5\.10/10.77.5.11/; s/to-port="80"/to-port="22"/' "$T/old.xml" >"$T/new.xml"
OLD='forward @fwd4: tcp . 8080 : 10.77.5.10 . 80'
NEW='forward @fwd4: tcp . 8081 : 10.77.5.11 . 22'

ns=$(newns review) || { echo "FAIL: cannot create a network namespace"; exit 1; }
vm "$ns" apply "$T/old.xml"; rc=$?
check "apply of the old plan succeeds" test "$rc" = 0
check "the kernel's map has the old forward" sh -c "ip netns exec $ns nft list map inet vmnet fwd4 | grep -qF '8080 : 10.77.5.10 . 80'"

vm "$ns" plan "$T/new.xml"; rc=$?
check "plan succeeds" test "$rc" = 0
check "plan: one action, the table" grep -q "would take 1 actions" "$T/out"
check "plan: the old forward removed" grep -qxF "         - $OLD" "$T/out"
check "plan: the new forward added" grep -qxF "         + $NEW" "$T/out"
check "plan: nothing else of the firewall changes" test "$(grep -cE '^ +[-+] ' "$T/out")" = 2
check "plan: no checksum" sh -c "! grep -q 'ruleset [0-9a-f]' '$T/out'"

"$VMNET" --json --netns "$ns" apply --check --diff "$T/new.xml" >"$T/check.json" 2>"$T/err"; rc=$?
check "apply --check --diff --json succeeds" test "$rc" = 0
check "apply --check --json: the changes of the table's action" jtrue \
        "[.actions[0].changes[] | [.change, .kind, .text]] == [[\"remove\", \"forward\", \"$OLD\"], [\"add\", \"forward\", \"$NEW\"]]" \
        cat "$T/check.json"
check "apply --check: the kernel still has the old forward" sh -c "ip netns exec $ns nft list map inet vmnet fwd4 | grep -qF '8080 : 10.77.5.10 . 80'"

vm "$ns" apply --diff "$T/new.xml"; rc=$?
check "apply --diff succeeds" test "$rc" = 0
check "apply --diff: the old forward left" grep -qxF "  - nftables $OLD" "$T/out"
check "apply --diff: the new forward came" grep -qxF "  + nftables $NEW" "$T/out"
check "apply --diff: only those two lines changed" test "$(grep -cE '^  [-+] ' "$T/out")" = 2
check "the kernel's map has the new forward only" sh -c \
        "ip netns exec $ns nft list map inet vmnet fwd4 | grep -qF '8081 : 10.77.5.11 . 22' && ! ip netns exec $ns nft list map inet vmnet fwd4 | grep -q 8080"
vm "$ns" destroy "$T/new.xml"
finish
