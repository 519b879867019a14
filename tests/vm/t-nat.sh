#!/bin/bash
# NAT, masquerade and port forwards end to end on the VM's stock kernel: the
# same test make check runs in namespaces on the build machine.
exec bash "$top_srcdir/tests/netns/t-nat.sh"
