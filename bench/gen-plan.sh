#!/bin/sh
# gen-plan.sh KIND N: prints a plan for the benchmark.
#   vlan N: N bridged networks, each a VLAN subinterface of the trunk bt0 enslaved to its own bridge
#   veth N: N bridged networks, each enslaving the existing link bu$i as its uplink
#   nat  N: one NAT network with N port forwards
set -eu
kind=$1 n=$2
echo '<?xml version="1.0" encoding="UTF-8"?>'
echo "<plan xmlns=\"urn:vmnet:plan:1\" name=\"bench-$kind-$n\">"
case $kind in
vlan)
        i=1
        while [ "$i" -le "$n" ]; do
                echo "  <network name=\"v$i\" mode=\"bridged\" bridge=\"bb$i\"><uplink dev=\"bt0\" vlan=\"$i\"/></network>"
                i=$((i + 1))
        done
        ;;
veth)
        i=1
        while [ "$i" -le "$n" ]; do
                echo "  <network name=\"v$i\" mode=\"bridged\" bridge=\"bb$i\"><uplink dev=\"bu$i\"/></network>"
                i=$((i + 1))
        done
        ;;
nat)
        echo '  <network name="lab" mode="nat" bridge="bn0"><subnet cidr="10.200.0.0/16" gateway="10.200.0.1"/><nat>'
        i=1
        while [ "$i" -le "$n" ]; do
                echo "    <port-forward proto=\"tcp\" host-port=\"$((20000 + i))\" to=\"10.200.$((i / 250)).$((i % 250 + 2))\" to-port=\"80\"/>"
                i=$((i + 1))
        done
        echo '  </nat></network>'
        ;;
esac
echo "</plan>"
