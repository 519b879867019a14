#!/bin/bash
# The same test make check runs in namespaces on the build machine, here on
# the VM's stock kernel.
exec bash "$top_srcdir/tests/netns/t-doctor.sh"
