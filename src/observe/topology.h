/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The host's network for a plan as a Graphviz graph (`vmnet status
 * --format dot`): one cluster per network, labelled with its name, mode and
 * subnets; its bridge; its uplink chain down to the NICs (VLAN links, bonds
 * and their slaves: whatever the links' IFLA_LINK and masters say); a
 * fleet network's VXLAN link with its VNI and underlay device; each guest
 * port with its domain, MAC, address, VLAN (a trunk port group's: "trunk
 * 100,300 native 200") and MTU; the NAT egress. What
 * the plan wants and the host lacks is drawn dashed red, an MTU that
 * differs from the bridge's in red, and the drift's actions in a red note. A pure function of what was observed.
 */

#include <glib.h>

#include "model/model.h"
#include "observe/host.h"
#include "observe/ports.h"

/*
 * ports from vmnet_guest_ports(); leases as vmnet_dnsmasq_read_plan_leases()
 * returns them (may be NULL); drift: the descriptions (char*) of the
 * actions that would bring the host back to the plan. Caller frees.
 */
char *vmnet_topology_dot(const VmnetPlan *plan, const VmnetHost *host, const GPtrArray *ports,
                         GHashTable *leases, const GPtrArray *drift);
