/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Compile-time faults ("mutants") that prove the test suite can fail
 * (tests/README): `./configure --enable-mutant=NAME` defines
 * VMNET_MUTANT_<NAME> to 1 (-D, NAME upper-cased, '-' as '_'; `vmnet
 * --version` names it), and the code at the one place that
 * behaviour lives reads `if (VMNET_MUTANT_IS(NAME))`. In a normal build
 * every name below is 0 and the compiler drops the branch.
 *
 * One line per mutant; configure refuses a name that is not listed here.
 */

#ifndef VMNET_MUTANT_PORT_VLAN
#define VMNET_MUTANT_PORT_VLAN 0 /* guest ports of a VLAN-aware bridge are not put in their VLAN */
#endif
#ifndef VMNET_MUTANT_VLAN_ID
#define VMNET_MUTANT_VLAN_ID 0 /* backend/netlink/netlink.c: an 802.1Q subinterface is created with VLAN id + 1 */
#endif
#ifndef VMNET_MUTANT_NO_BRIDGE
#define VMNET_MUTANT_NO_BRIDGE 0 /* backend/netlink/netlink.c: creating a bridge sends nothing and reports success */
#endif
#ifndef VMNET_MUTANT_NO_GATEWAY
#define VMNET_MUTANT_NO_GATEWAY 0 /* diff/links.c: a network's gateway address is never added */
#endif
#ifndef VMNET_MUTANT_NO_FORWARD
#define VMNET_MUTANT_NO_FORWARD 0 /* backend/nftables/encode.c: port forwards (map elements) are not sent to the kernel */
#endif
#ifndef VMNET_MUTANT_FWD_OUT_ANY
#define VMNET_MUTANT_FWD_OUT_ANY 0 /* backend/nftables/ir-inet.c: the early out4/in4/... forward accepts lack "the other side is not a vmnet bridge" */
#endif
#ifndef VMNET_MUTANT_NO_MASQUERADE
#define VMNET_MUTANT_NO_MASQUERADE 0 /* backend/nftables/ir-inet.c: a NAT subnet gets no masquerade rule */
#endif
#ifndef VMNET_MUTANT_NO_ROLLBACK
#define VMNET_MUTANT_NO_ROLLBACK 0 /* apply/apply.c: a failed step's completed steps are not undone */
#endif
#ifndef VMNET_MUTANT_NO_BATCH
#define VMNET_MUTANT_NO_BATCH 0 /* apply/apply.c: batchable steps (the dnsmasq starts) run one after the other, as before batches */
#endif
#ifndef VMNET_MUTANT_BATCH_LEAK
#define VMNET_MUTANT_BATCH_LEAK 0 /* apply/apply.c: once a step of a batch failed, the batch's completed steps are not undone */
#endif
#ifndef VMNET_MUTANT_SIGNAL_IGNORED
#define VMNET_MUTANT_SIGNAL_IGNORED 0 /* apply/apply.c: a signal between steps does not stop the run */
#endif
#ifndef VMNET_MUTANT_RECORD_LATE
#define VMNET_MUTANT_RECORD_LATE 0 /* diff/engine.c: the record is written after the steps, not ahead of them */
#endif
#ifndef VMNET_MUTANT_CONFIRM_NO_ROLLBACK
#define VMNET_MUTANT_CONFIRM_NO_ROLLBACK 0 /* apply/confirm.c: the confirm watchdog never rolls back */
#endif
#ifndef VMNET_MUTANT_NO_DHCP_RANGE
#define VMNET_MUTANT_NO_DHCP_RANGE 0 /* render/dnsmasq.c: a subnet's DHCP range is not given to dnsmasq */
#endif
#ifndef VMNET_MUTANT_DHCP_NO_NTP
#define VMNET_MUTANT_DHCP_NO_NTP 0 /* render/dnsmasq.c: <dhcp-options> ntp-server is not given to dnsmasq */
#endif
#ifndef VMNET_MUTANT_SHAPING_NO_PEAK
#define VMNET_MUTANT_SHAPING_NO_PEAK 0 /* render/bandwidth.c: <bandwidth> inbound-peak is not given to libvirt */
#endif
#ifndef VMNET_MUTANT_MIRROR_WRONG_PORT
#define VMNET_MUTANT_MIRROR_WRONG_PORT 0 /* backend/netlink/tc.c: a port mirror is installed on the destination, copying to the mirrored port */
#endif
#ifndef VMNET_MUTANT_NO_DOCTOR_MTU
#define VMNET_MUTANT_NO_DOCTOR_MTU 0 /* doctor/check-mtu.c: a bridge port with another MTU is never reported */
#endif
#ifndef VMNET_MUTANT_NO_DOCTOR_MIRROR
#define VMNET_MUTANT_NO_DOCTOR_MIRROR 0 /* doctor/check-mirrors.c: a planned mirror missing from the kernel is never reported */
#endif
#ifndef VMNET_MUTANT_DOCTOR_MIRROR_ANY_DEST
#define VMNET_MUTANT_DOCTOR_MIRROR_ANY_DEST 0 /* doctor/check-mirrors.c: a mirror filter counts whatever its destination (a link gone, another) */
#endif
#ifndef VMNET_MUTANT_NO_ATTACH
#define VMNET_MUTANT_NO_ATTACH 0 /* actions/domain-iface.c: a guest interface is not attached, yet the step succeeds */
#endif
#ifndef VMNET_MUTANT_NO_INTERFACE_MTU
#define VMNET_MUTANT_NO_INTERFACE_MTU 0 /* render/domain-interface.c: a guest interface lacks its network's MTU */
#endif
#ifndef VMNET_MUTANT_IPAM_REUSE
#define VMNET_MUTANT_IPAM_REUSE 0 /* ipam/ipam.c: an allocation ignores the addresses already taken */
#endif
#ifndef VMNET_MUTANT_FIRST_ERROR_ONLY
#define VMNET_MUTANT_FIRST_ERROR_ONLY 0 /* util/error.c: only a plan's first diagnostic is kept */
#endif
#ifndef VMNET_MUTANT_JSON_RENAMED_MEMBER
#define VMNET_MUTANT_JSON_RENAMED_MEMBER 0 /* cli/cmd-status.c: status --json names in_sync "synced" */
#endif
#ifndef VMNET_MUTANT_JSON_RAW_CONTROL
#define VMNET_MUTANT_JSON_RAW_CONTROL 0 /* util/json-text.c: 0x1f, which json-glib 1.6 writes raw, stays unescaped in a JSON string */
#endif
#ifndef VMNET_MUTANT_NAT_OUT_LEAK
#define VMNET_MUTANT_NAT_OUT_LEAK 0 /* plan/parse.c: a second <nat> leaks the first one's out= (ASan finds it) */
#endif
#ifndef VMNET_MUTANT_READY_EARLY
#define VMNET_MUTANT_READY_EARLY 0 /* cli/cmd-reapply.c: reapply --watch tells systemd READY=1 before it applies the saved plans */
#endif
#ifndef VMNET_MUTANT_NO_LIBVIRT_FALLBACK
#define VMNET_MUTANT_NO_LIBVIRT_FALLBACK 0 /* backend/libvirt/lazy.c: without libvirt.so.0 a call jumps to NULL */
#endif
#ifndef VMNET_MUTANT_L2_HOP
#define VMNET_MUTANT_L2_HOP 0 /* backend/nftables/ir-inet.c: isolated and bridged bridges are left out of the forward policy, as before issue 16 */
#endif
#ifndef VMNET_MUTANT_HOST_OPEN
#define VMNET_MUTANT_HOST_OPEN 0 /* backend/nftables/ir-inet.c: no input chain: guests reach every service of the host */
#endif
#ifndef VMNET_MUTANT_HOST_PRESENT
#define VMNET_MUTANT_HOST_PRESENT 0 /* diff/links.c: isolated and bridged bridges keep IPv6 and ARP answers */
#endif
#ifndef VMNET_MUTANT_HOSTONLY_ROUTER
#define VMNET_MUTANT_HOSTONLY_ROUTER 0 /* render/dnsmasq.c: host-only IPv6 advertises the host as default router */
#endif
#ifndef VMNET_MUTANT_NO_ANTISPOOF_MAC
#define VMNET_MUTANT_NO_ANTISPOOF_MAC 0 /* backend/nftables/ir-bridge.c: the bridge table does not drop frames from a port with another source MAC */
#endif
#ifndef VMNET_MUTANT_NO_ANTISPOOF_IP
#define VMNET_MUTANT_NO_ANTISPOOF_IP 0 /* backend/nftables/ir-bridge.c: the bridge table does not drop IPv4/IPv6/ARP from a port's unbound source addresses */
#endif
#ifndef VMNET_MUTANT_ANTISPOOF_FAST_DHCP
#define VMNET_MUTANT_ANTISPOOF_FAST_DHCP 0 /* backend/nftables/ir-bridge.c: the anti-spoofing fast path accepts a port's UDP from port 67 too (its DHCP offers) */
#endif
#ifndef VMNET_MUTANT_NO_ANTISPOOF_IPAM
#define VMNET_MUTANT_NO_ANTISPOOF_IPAM 0 /* backend/nftables/ir-bridge.c: an address vmnet's IPAM allocated is not bound to its guest's port (as before) */
#endif
#ifndef VMNET_MUTANT_NO_ANTISPOOF_DHCP
#define VMNET_MUTANT_NO_ANTISPOOF_DHCP 0 /* backend/nftables/ir-bridge.c: the bridge table does not drop DHCP and DHCPv6 server replies from a port */
#endif
#ifndef VMNET_MUTANT_NO_ANTISPOOF_RA
#define VMNET_MUTANT_NO_ANTISPOOF_RA 0 /* backend/nftables/ir-bridge.c: the bridge table does not drop router advertisements and redirects from a port */
#endif
#ifndef VMNET_MUTANT_NO_ANTISPOOF_VLAN
#define VMNET_MUTANT_NO_ANTISPOOF_VLAN 0 /* backend/nftables/ir-bridge.c: the bridge table does not drop 802.1Q/802.1ad-tagged frames from a checked port */
#endif
#ifndef VMNET_MUTANT_NO_ANTISPOOF_ARP_MAC
#define VMNET_MUTANT_NO_ANTISPOOF_ARP_MAC 0 /* backend/nftables/ir-bridge.c: the bridge table does not check an ARP packet's sender MAC */
#endif
#ifndef VMNET_MUTANT_LIBVIRT_SUBNET
#define VMNET_MUTANT_LIBVIRT_SUBNET 0 /* diff/engine.c: a plan subnet an active libvirt network already has applies anyway (issue 17, point 7) */
#endif
#ifndef VMNET_MUTANT_MOVE_SAFE
#define VMNET_MUTANT_MOVE_SAFE 0 /* diff/libvirt.c: a running guest's NIC moved to another subnet is marked safe (issue 17, point 7) */
#endif
#ifndef VMNET_MUTANT_REVIEW_NO_REMOVED
#define VMNET_MUTANT_REVIEW_NO_REMOVED 0 /* backend/nftables/review.c: the firewall review shows what is added, never what is removed (issue 13, point 2) */
#endif
#ifndef VMNET_MUTANT_JOURNAL_NO_ROLLBACK
#define VMNET_MUTANT_JOURNAL_NO_ROLLBACK 0 /* apply/journal.c: undo steps of a rollback are not logged to the journal (issue 12, point 5) */
#endif
#ifndef VMNET_MUTANT_SAVED_KEEP_ON_DESTROY
#define VMNET_MUTANT_SAVED_KEEP_ON_DESTROY 0 /* apply/saved-plan.c: destroy leaves the saved plan, so reapply brings it back (issue 12, point 3) */
#endif
#ifndef VMNET_MUTANT_WATCH_DEAF
#define VMNET_MUTANT_WATCH_DEAF 0 /* cli/cmd-reapply.c: reapply --watch does not re-apply when table vmnet is deleted or a dnsmasq exits (issue 12, point 4) */
#endif
#ifndef VMNET_MUTANT_DNSMASQ_UNIT_NO_RESTART
#define VMNET_MUTANT_DNSMASQ_UNIT_NO_RESTART 0 /* render/dnsmasq.c: the systemd unit of a dnsmasq has no Restart=always (issue 12, point 4) */
#endif
#ifndef VMNET_MUTANT_VXLAN_VNI
#define VMNET_MUTANT_VXLAN_VNI 0 /* backend/netlink/netlink.c: a VXLAN link is created with VNI + 1 */
#endif
#ifndef VMNET_MUTANT_NO_FDB
#define VMNET_MUTANT_NO_FDB 0 /* model/fleet.c: the last host of a segment is left out of the others' flood lists */
#endif
#ifndef VMNET_MUTANT_GATEWAY_EVERY_HOST
#define VMNET_MUTANT_GATEWAY_EVERY_HOST 0 /* model/fleet.c: <vxlan gateway-host=> is ignored: every host of the segment holds the gateway and runs dnsmasq */
#endif
#ifndef VMNET_MUTANT_BOND_MEMBER
#define VMNET_MUTANT_BOND_MEMBER 0 /* diff/links.c: the last member of a bond is never enslaved */
#endif
#ifndef VMNET_MUTANT_STATS_HOST_VIEW
#define VMNET_MUTANT_STATS_HOST_VIEW 0 /* observe/traffic.c: a guest port's counters are the host end's (receive and transmit swapped) */
#endif
#ifndef VMNET_MUTANT_DOT_NO_PORTS
#define VMNET_MUTANT_DOT_NO_PORTS 0 /* observe/topology.c: status --format dot leaves out the guest ports */
#endif
#ifndef VMNET_MUTANT_PROBE_NO_RELEASE
#define VMNET_MUTANT_PROBE_NO_RELEASE 0 /* doctor/probe.c: the probe keeps its DHCP lease (no DHCPRELEASE) */
#endif
#ifndef VMNET_MUTANT_PROBE_ANY_ANSWER
#define VMNET_MUTANT_PROBE_ANY_ANSWER 0 /* doctor/probe.c: an ICMP error about an echo counts as its reply */
#endif
#ifndef VMNET_MUTANT_GUEST_ADDR_NO_SUBNET
#define VMNET_MUTANT_GUEST_ADDR_NO_SUBNET 0 /* ipam/ipam.c: an agent or neighbour address in no subnet of its network is not flagged */
#endif
#ifndef VMNET_MUTANT_PROBE_NO_FORWARD_CHECK
#define VMNET_MUTANT_PROBE_NO_FORWARD_CHECK 0 /* doctor/probe.c: the forward step passes without its token arriving */
#endif
#ifndef VMNET_MUTANT_STATUS_DRIFT_OK
#define VMNET_MUTANT_STATUS_DRIFT_OK 0 /* cli/cmd-status.c: status --detailed-exitcode exits 0 on a drifted host */
#endif
#ifndef VMNET_MUTANT_TRUNK_DROP_VLAN
#define VMNET_MUTANT_TRUNK_DROP_VLAN 0 /* plan/parse.c: a port group's trunk= loses its last VLAN */
#endif

#define VMNET_MUTANT_IS(name) (VMNET_MUTANT_##name)
