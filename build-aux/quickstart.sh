#!/bin/sh
# The README's first command: install what is missing, build, and run vmnet's
# main job on an example plan.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
VMNET_NO_VM=1 sh "$src/build-aux/deps.sh"
sh "$src/build-aux/build.sh"
vmnet=${BUILDDIR:-$src/build}/vmnet
plan=$src/examples/quickstart.xml
set -x
"$vmnet" validate "$plan"
"$vmnet" render --libvirt "$plan"
"$vmnet" render --nft "$plan"
