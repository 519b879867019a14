#!/bin/bash
# How vmnet fails: the lock error names the process holding the lock even
# before it wrote its pid (never "pid ?"), and a --json failure carries the
# real error in "errors", never an empty list.
. "$top_srcdir/tests/netns/lib.sh"

plan=$T/plan.xml
cat >"$plan" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-fail">
  <network name="lab" mode="isolated" bridge="vx-lab"/>
</plan>
XML
ns=$(newns fail)

# A holder that took the lock and wrote nothing yet (flock(1) on vmnet's lock file).
lock=$VMNET_RUN_DIR/lock.netns-$ns
mkdir -p "$VMNET_RUN_DIR"
: >"$lock"
# -o: only flock(1) holds the lock (its pid is the holder's), not the sleep it waits for.
flock -o "$lock" sleep 600 </dev/null >/dev/null 2>&1 &
holder=$!
release() {
        kill "$holder" $(pgrep -P "$holder") 2>/dev/null
        wait "$holder" 2>/dev/null
}
held() { ! flock -n "$lock" true; }
for _ in $(seq 300); do held && break; sleep 0.1; done
check "the lock is held" held

vm "$ns" apply "$plan"; rc=$?
check "apply fails while the lock is held" test "$rc" = 1
check "the lock error never reads 'pid ?'" sh -c "! grep -q 'pid ?' '$T/err'"
check "it names the holder's pid from /proc/locks" grep -q "another vmnet (pid $holder)" "$T/err"

vm "$ns" --json apply "$plan"; rc=$?
check "--json: the failure is reported" jtrue '.failed == true' cat "$T/out"
check "--json: errors carries the real error" \
        jtrue '(.errors | length) == 1 and (.errors[0].message | test("another vmnet"))' cat "$T/out"
release

vm "$ns" --json apply --netns vmnet-no-such-ns "$plan"; rc=$?
check "--json: a namespace that does not exist is an error in errors" \
        jtrue '.failed == true and (.errors | length) > 0 and (.errors[0].message | length) > 0' cat "$T/out"

finish
