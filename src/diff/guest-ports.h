/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Guest ports of VLAN-aware bridges (vmnet-plan(5) VLANS). libvirt plugs a
 * guest's tap into the bridge but cannot put it in a VLAN (it refuses <vlan>
 * on a Linux bridge), so vmnet does: its network hook places every port
 * libvirt creates (vmnet hook, src/cli/cmd-hook.c), the attach action places
 * the interfaces vmnet attaches, and every apply looks at every running
 * guest's port, whoever started the guest, and repairs it.
 *
 * One walk gives the verdict for the diff (apply, plan, status) and for
 * doctor: a port is right when it is in exactly the VLANs of its network or
 * port group, with their flags: an access port in one VLAN, untagged and
 * PVID; a trunk port (<portgroup trunk=>) in its VLANs tagged and its native
 * one (if any) untagged and PVID.
 */

#include "backend/libvirt/libvirt.h"
#include "model/model.h"
#include "observe/host.h"

/*
 * One guest port on a VLAN-aware bridge and its VLANs: those it must carry,
 * those it lacks, those it must not be in. (Not a port of observe/ports.h,
 * VmnetGuestPort: any port of a plan's bridge, for counters and pictures.)
 */
typedef struct {
        const char *domain;
        const VmnetLibvirtIface *iface; /* running definition: network, portgroup, target */
        const VmnetNetwork *net;        /* the plan's network the interface is on */
        const VmnetHostLink *tap;       /* the port; never NULL */
        VmnetPortVlans want;            /* the VLANs it must carry */
        GArray *missing;                /* VmnetHostBridgeVlan: wanted VLANs it lacks, or has
                                         * with other flags (the flags it must have) */
        GArray *stray;                  /* VmnetHostBridgeVlan: the other VLANs it is in */
} VmnetGuestPortVlans;

typedef void (*VmnetGuestPortVlansFunc)(const VmnetGuestPortVlans *port, gpointer data);

/*
 * Calls fn for every running guest's interface on a VLAN-aware network of
 * plan whose tap is a port of that network's bridge, right or wrong: the
 * NICs of vmnet_guest_nics_foreach() (diff/guest-taps.h) that are plugged
 * in; a tap on no bridge or another one is plugged back first
 * (vmnet_diff_guest_taps(), which also places it).
 */
void vmnet_guest_ports_foreach(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                               const VmnetHost *host, VmnetGuestPortVlansFunc fn, gpointer data);

/* Is the port exactly where it must be? */
gboolean vmnet_guest_port_ok(const VmnetGuestPortVlans *port);

/* Appends the actions that put every wrong guest port right: its VLANs first, then the strays out. */
void vmnet_diff_guest_ports(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                            const VmnetHost *host, GPtrArray *actions);
