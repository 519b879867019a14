/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A subnet of the plan that a libvirt network vmnet does not own already
 * declares (libvirt's own 'default', 192.168.122.0/24 on virbr0, typically).
 * Both would put the subnet on a bridge of their own: the host routes it
 * to one of them only, so the guests on the other cannot reach their
 * gateway. Against an active network that is a conflict: plan and apply
 * refuse before anything changes, status says so, and doctor reports it
 * (one observation, one verdict). An inactive one is a warning: it cannot
 * start while vmnet's network has the subnet, and if it starts first (at
 * boot) vmnet's apply is refused.
 *
 * Bridged networks are left out: their subnet is the LAN's, which vmnet
 * does not address.
 */

#include "backend/libvirt/libvirt.h"
#include "model/model.h"

typedef struct {
        const VmnetNetwork *net;          /* the plan's */
        const VmnetSubnet *subnet;        /* the plan's */
        const VmnetLibvirtNetwork *other; /* libvirt's, not vmnet's for this plan */
        const VmnetLibvirtIp *ip;         /* the <ip> of other that overlaps */
} VmnetSubnetConflict;

/* The conflicts, in plan order (VmnetSubnetConflict, borrowing from plan and virt). Caller frees. */
GArray *vmnet_subnet_conflicts(const VmnetPlan *plan, const VmnetLibvirtHost *virt);

/*
 * "FILE:LINE: network 'lab': subnet ... overlaps libvirt network 'default'
 * (active, ...) on bridge virbr0, subnet ...: what breaks". Caller frees.
 */
char *vmnet_subnet_conflict_describe(const VmnetSubnetConflict *c, const char *file);

/* What to do about it: another subnet, or stop the other network. Caller frees. */
char *vmnet_subnet_conflict_fix(const VmnetSubnetConflict *c, const char *file);
