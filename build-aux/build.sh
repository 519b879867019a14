#!/bin/sh
# Configures and builds vmnet in BUILDDIR (default: build/) from this checkout.
# Extra arguments go to configure.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$src/build}
cd "$src"
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi >/dev/null
mkdir -p "$builddir"
cd "$builddir"
if [ ! -f Makefile ] || [ "$#" -gt 0 ]; then
        "$src/configure" --quiet --prefix=/usr --sysconfdir=/etc --localstatedir=/var "$@"
fi
make -j"$(nproc)" >/dev/null
