#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A fleet plan's VXLAN segments across three hosts (namespaces joined by a
# router namespace: a routed underlay) on the VM's stock kernel: the same
# test make check runs in namespaces on the build machine (issue 14, "In the
# test VM (stock kernel...)"). Debian's kernel loads vxlan, udp_tunnel and
# ip6_udp_tunnel as modules on demand, as a real host does.
exec bash "$top_srcdir/tests/netns/t-vxlan.sh"
