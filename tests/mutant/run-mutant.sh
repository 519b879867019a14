#!/bin/bash
# run-mutant.sh: build vmnet with one deliberate fault (src/util/mutant.h) and
# check that each given test file FAILS against it (tests/README, "Mutants").
#
#   tests/mutant/run-mutant.sh [--configure ARG]... MUTANT TEST...
#
# TEST is a test file as make check names it: tests/netns/t-nat.sh,
# tests/unit/check-ipam (a Check program), tests/fuzz/replay-corpus.sh, ...
# Builds in $MUTANT_BUILDDIR (default build-mutant-MUTANT in the checkout),
# a test build (--enable-test-hooks), only what the tests need, runs each test natively with make check's
# environment, and prints for each "mutant M caught by T" (T failed) or
# "mutant M NOT caught by T" (T passed or skipped), then "N passed, N failed"
# where a caught mutant counts as passed. Exits 0 only if every test caught
# it. Test output goes to BUILDDIR/mutant-logs/T.log; the failed checks are
# shown. --configure passes an extra argument to configure (for example
# --enable-sanitizers, for leaks that only ASan sees).
set -uo pipefail

src=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
conf=()
while (($#)); do
        case $1 in
        --configure) (($# >= 2)) || { echo "run-mutant: --configure needs an argument" >&2; exit 2; }
                conf+=("$2"); shift 2 ;;
        --) shift; break ;;
        -*) echo "run-mutant: unknown option $1" >&2; exit 2 ;;
        *) break ;;
        esac
done
(($# >= 2)) || { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
mutant=$1; shift
builddir=${MUTANT_BUILDDIR:-$src/build-mutant-$mutant}

# What to build: vmnet for the scripts, each Check program by name.
targets=(vmnet)
for t in "$@"; do
        [[ -e $src/$t || -e $src/$t.c ]] || { echo "run-mutant: no such test: $t" >&2; exit 2; }
        case $t in
        *.sh) ;;
        *) targets+=("$t") ;;
        esac
        [[ $t == tests/fuzz/replay-corpus.sh ]] && targets+=(tests/fuzz/fuzz-plan-replay)
done

echo "run-mutant: building vmnet with mutant $mutant in $builddir"
start=$SECONDS
mkdir -p "$builddir"
blog=$builddir/mutant-build.log
if ! BUILDDIR=$builddir sh "$src/build-aux/build.sh" --enable-test-hooks --enable-mutant="$mutant" "${conf[@]}" >"$blog" 2>&1 ||
        ! make -C "$builddir" -j"$(nproc)" "${targets[@]}" >>"$blog" 2>&1; then
        tail -20 "$blog"
        echo "run-mutant: the build with mutant $mutant failed"
        exit 1
fi
"$builddir/vmnet" --version | grep -q "(mutant $mutant:" || {
        echo "run-mutant: $builddir/vmnet does not carry mutant $mutant"
        exit 1
}
echo "run-mutant: built in $((SECONDS - start))s"

# make check's environment (Makefile.am, AM_TESTS_ENVIRONMENT).
export top_srcdir=$src top_builddir=$builddir VMNET=$builddir/vmnet
export VIRT_XML_VALIDATE=${VIRT_XML_VALIDATE:-$(command -v virt-xml-validate || true)}
mkdir -p "$builddir/mutant-logs"
caught=0 missed=0
for t in "$@"; do
        log=$builddir/mutant-logs/$(echo "$t" | tr / _).log
        start=$SECONDS
        case $t in
        *.sh) (cd "$builddir" && bash "$src/$t") >"$log" 2>&1 ;;
        *) (cd "$builddir" && "./$t") >"$log" 2>&1 ;;
        esac
        rc=$?
        took=$((SECONDS - start))
        if ((rc != 0 && rc != 77)); then
                caught=$((caught + 1))
                echo "mutant $mutant caught by $t (exit $rc, ${took}s); failed checks:"
                # Shell tests print "FAIL: name"; Check prints "file:line:F:tcase:test:i: message".
                grep -E '^FAIL: |^FAIL |:[FE]:[^:]*:[^:]*:[0-9]+: |ERROR: (Leak|AddressSanitizer)' "$log" |
                        cut -c1-200 | head -12 | sed 's/^/    /'
        else
                missed=$((missed + 1))
                why="it passed"
                ((rc == 77)) && why="it was skipped"
                echo "mutant $mutant NOT caught by $t ($why, ${took}s; log: $log)"
        fi
done
echo "$caught passed, $missed failed"
((missed == 0))
