/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The ports of a plan's bridges as the host has them, each named with the
 * guest behind it when that can be known: libvirt's running definition
 * (<target dev=> of the domain's interface), else vmnet's tap name
 * ("vmn" + the MAC of a planned interface). A pure function of what the
 * observers read, shared by `status --stats`, `metrics` and `status
 * --format dot`.
 */

#include <glib.h>

#include "backend/libvirt/libvirt.h"
#include "model/model.h"
#include "observe/host.h"

typedef struct {
        const VmnetNetwork *network;     /* borrowed from the plan */
        const VmnetHostLink *link;       /* borrowed from the host */
        char *domain;                    /* NULL when no guest is known */
        gboolean has_mac;
        VmnetMac mac;                    /* the guest's MAC, not the tap's */
        const VmnetInterface *planned;   /* the plan's interface with that MAC, NULL when none */
} VmnetGuestPort;

/*
 * The guest ports of every network of plan, in plan order, then the ports'
 * dump order: links enslaved to the network's bridge other than its uplink.
 * A VLAN-aware bridge shared by several networks gives each port to the
 * network of its planned interface, or to the first of them. virt may be
 * NULL. The array (of VmnetGuestPort*) is the caller's.
 */
GPtrArray *vmnet_guest_ports(const VmnetPlan *plan, const VmnetHost *host,
                             const VmnetLibvirtHost *virt);
