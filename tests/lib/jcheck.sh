# tests/lib/jcheck.sh: the one way the tests check a JSON document. Sourced
# (bash) by tests/netns/lib.sh, tests/vm/lib.sh, tests/cli/run-cli-tests.sh and
# tests/ansible/run.sh; tested by tests/lib/check-jcheck.sh.
#
# Why not `CMD | jq -e FILTER`: jq 1.6 (Debian 12) exits 0 for -e when it gets
# no input at all, so `ip -j link show X | jq -e ...` passes when X does not
# exist, and the pipe hides CMD's own failure. jtrue runs the command itself.
#
#   jtrue [--arg NAME VALUE | --argjson NAME JSON]... FILTER CMD [ARGS...]
#
# runs CMD and succeeds only when CMD exits 0, prints something other than
# white space, that output is JSON, and FILTER on it prints exactly `true`
# (one value; not `false`, `null`, nothing, or several values). On failure it
# says why on stderr and returns 1. CMD's stderr is left as it is. A file is
# checked with `jtrue FILTER cat FILE`.
#
#   jread FILTER CMD [ARGS...]
#
# runs CMD and prints `jq -S FILTER` of its output; fails loudly (stderr,
# status 1) when CMD fails or prints nothing or jq fails: for snapshots,
# where an empty reading would compare equal to another empty reading.

# _jcheck_run CMD [ARGS...]: CMD's stdout into _jcheck_out, its status into
# _jcheck_rc; 1 (with a reason on stderr) when it failed or printed nothing.
_jcheck_run() {
        _jcheck_rc=0
        _jcheck_out=$("$@") || _jcheck_rc=$?
        if [ "$_jcheck_rc" -ne 0 ]; then
                echo "  jcheck: '$*' exited $_jcheck_rc" >&2
                return 1
        fi
        case $_jcheck_out in
        *[![:space:]]*) ;;
        *)
                echo "  jcheck: '$*' printed nothing" >&2
                return 1
                ;;
        esac
        return 0
}

jtrue() {
        local opts=() filter res rc=0
        while [ $# -gt 0 ]; do
                case $1 in
                --arg | --argjson)
                        [ $# -ge 3 ] || { echo "  jtrue: $1 needs NAME and VALUE" >&2; return 2; }
                        opts+=("$1" "$2" "$3")
                        shift 3
                        ;;
                *) break ;;
                esac
        done
        if [ $# -lt 2 ]; then
                echo "  jtrue: usage: jtrue [--arg NAME VALUE]... FILTER CMD [ARGS...]" >&2
                return 2
        fi
        filter=$1
        shift
        _jcheck_run "$@" || return 1
        res=$(printf '%s\n' "$_jcheck_out" | jq -c "${opts[@]}" "$filter" 2>&1) || rc=$?
        if [ "$rc" -ne 0 ]; then
                echo "  jtrue: jq '$filter' failed (exit $rc) on the output of '$*': $res" >&2
                return 1
        fi
        if [ "$res" != true ]; then
                echo "  jtrue: jq '$filter' gave '${res:-nothing}', not 'true', on the output of '$*':" >&2
                printf '%s\n' "$_jcheck_out" | jq -c . 2>/dev/null | cut -c1-1500 | sed 's/^/    | /' >&2
                return 1
        fi
        return 0
}

jread() {
        local filter rc=0
        if [ $# -lt 2 ]; then
                echo "  jread: usage: jread FILTER CMD [ARGS...]" >&2
                return 2
        fi
        filter=$1
        shift
        _jcheck_run "$@" || return 1
        printf '%s\n' "$_jcheck_out" | jq -S "$filter" || rc=$?
        if [ "$rc" -ne 0 ]; then
                echo "  jread: jq '$filter' failed (exit $rc) on the output of '$*'" >&2
                return 1
        fi
        return 0
}
