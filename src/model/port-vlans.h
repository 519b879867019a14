/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The VLANs of one guest port on a VLAN-aware bridge (vmnet-plan(5) VLANS):
 * an access port is in one VLAN, untagged and PVID; a trunk port
 * (<portgroup trunk= native=>) carries a set of VLANs tagged, and at most one
 * native VLAN untagged and PVID. The plan (model), the libvirt network's
 * metadata (what the network hook reads) and the walk over running guests'
 * ports (diff/guest-ports.c) all speak it, so the three never disagree.
 *
 * A plain value: no allocation, copied by assignment. Pure.
 */

#include <glib.h>

#define VMNET_TRUNK_MAX 64 /* tagged VLANs of one trunk port */

typedef struct {
        guint untagged;                  /* untagged and PVID; 0 = none (a trunk without native VLAN) */
        guint n_tagged;                  /* 0: an access port (or nothing) */
        guint16 tagged[VMNET_TRUNK_MAX]; /* in the plan's order */
} VmnetPortVlans;

/* An access port in vid (0: in no VLAN, nothing to place). */
void vmnet_port_vlans_access(VmnetPortVlans *v, guint vid);
/* Whether the port carries no VLAN at all (not a port vmnet places). */
gboolean vmnet_port_vlans_is_empty(const VmnetPortVlans *v);
/* Same VLANs, same flags, tagged ones in the same order. */
gboolean vmnet_port_vlans_equal(const VmnetPortVlans *a, const VmnetPortVlans *b);
/*
 * The flags vid must have on the port (BRIDGE_VLAN_INFO_PVID |
 * BRIDGE_VLAN_INFO_UNTAGGED for the untagged one, 0 for a tagged one), or
 * -1 when the port must not be in vid.
 */
int vmnet_port_vlans_flags(const VmnetPortVlans *v, guint vid);

/*
 * Parses a trunk= list ("100,200,300": VLAN ids 1-4094 separated by commas,
 * blanks allowed around them) into v->tagged (v->untagged is left alone).
 * FALSE with *why (caller frees) when it is not such a list, has more than
 * VMNET_TRUNK_MAX ids or names one twice.
 */
gboolean vmnet_vlan_list_parse(const char *list, VmnetPortVlans *v, char **why);
/* v->tagged as trunk= writes it ("100,200"). Caller frees. */
char *vmnet_vlan_list_format(const VmnetPortVlans *v);
/*
 * For messages: "vlan 30 (untagged, pvid)", "vlans 100, 300 (tagged)",
 * "vlans 100, 300 (tagged) and 200 (untagged, pvid)". Caller frees.
 */
char *vmnet_port_vlans_describe(const VmnetPortVlans *v);
/*
 * For action lines: ", port in vlan 30", ", port in vlans 100, 300 (tagged)
 * and 200 (untagged, pvid)"; "" when v is empty. Caller frees.
 */
char *vmnet_port_vlans_placed(const VmnetPortVlans *v);
