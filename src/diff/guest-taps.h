/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Running guests' taps that belong on a vmnet bridge but are not on it.
 * libvirt plugs a guest's tap into its network's bridge only when the guest
 * starts or the interface is attached or updated; when the bridge goes away
 * under a running guest (`ip link del`, a reboot that keeps the guest's
 * definition autostarted, a destroy and apply), apply makes the bridge
 * again and must plug every such tap back, whoever's guest it is.
 *
 * One walk gives the verdict for the diff (apply, plan, status) and for
 * doctor (check-libvirt), so they never disagree.
 */

#include "backend/libvirt/libvirt.h"
#include "model/model.h"
#include "observe/host.h"

typedef struct {
        const char *domain;
        const VmnetLibvirtIface *iface; /* running definition: network, portgroup, target */
        const VmnetNetwork *net;        /* the plan's network the interface is on */
        const VmnetHostLink *tap;       /* the tap; never NULL */
        VmnetPortVlans vlans;           /* what its port carries on a VLAN-aware bridge, empty = none */
} VmnetGuestTap;

typedef void (*VmnetGuestTapFunc)(const VmnetGuestTap *tap, gpointer data);

/*
 * Calls fn for every running guest's interface on a libvirt network that
 * plan owns (by its metadata, on the plan's bridge) whose tap exists here,
 * wherever the tap is plugged: the one walk the checks of guests' taps
 * (below) and of their VLANs (diff/guest-ports.h) share.
 */
void vmnet_guest_nics_foreach(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                              const VmnetHost *host, VmnetGuestTapFunc fn, gpointer data);

/*
 * Calls fn for every running guest's interface on a libvirt network that
 * plan owns whose tap exists here and is on no bridge or on another one than
 * the network's. Skipped: a network whose bridge changes in this run (its
 * re-create re-plugs the guests), taps that are not in this namespace.
 */
void vmnet_guest_taps_foreach(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                              const VmnetHost *host, VmnetGuestTapFunc fn, gpointer data);

/* Appends the actions that plug every such tap back (and into its VLAN). */
void vmnet_diff_guest_taps(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                           const VmnetHost *host, GPtrArray *actions);
