#!/bin/sh
# Replays the fuzz corpus, the examples and every invalid test plan through
# the fuzz target (parser + validator + renderers).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
set -- "$top_srcdir"/tests/fuzz/corpus/* "$top_srcdir"/examples/*.xml "$top_srcdir"/tests/data/invalid/*.xml
exec "$top_builddir/tests/fuzz/fuzz-plan-replay" "$@"
