/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Fleet plans (vmnet-plan(5) FLEET PLANS): one plan for several hosts,
 * each applying its own part. Pure: no I/O.
 */

#include "model/model.h"
#include "util/error.h"

/* VXLAN's cost on the underlay: outer IPv4/IPv6 + UDP + VXLAN + inner Ethernet header. */
#define VMNET_VXLAN_OVERHEAD_V4 50
#define VMNET_VXLAN_OVERHEAD_V6 70
#define VMNET_VXLAN_DEFAULT_PORT 4789

/* Whether the plan describes a fleet (has <host> elements). */
gboolean vmnet_plan_is_fleet(const VmnetPlan *plan);
/* Borrowed; NULL when absent. */
VmnetFleetHost *vmnet_plan_find_host(const VmnetPlan *plan, const char *name);
/* Whether net exists on host (hosts= names it, or is absent). */
gboolean vmnet_network_on_host(const VmnetNetwork *net, const char *host);
/* The uplink device host h names for network net (<uplink-dev>), NULL when none. Borrowed. */
const char *vmnet_fleet_host_uplink_dev(const VmnetFleetHost *h, const char *net);
/* The bytes VXLAN adds on an underlay of that family (AF_INET / AF_INET6). */
guint vmnet_vxlan_overhead(int family);

/*
 * Whether host serves net's segment (holds the gateway address, runs its
 * DHCP server, routes it): a network without <vxlan gateway-host=> is
 * served on every host it is on.
 */
gboolean vmnet_vxlan_serves(const VmnetNetwork *net, const char *host);

/*
 * Turns a validated fleet plan into the part of host: drops the networks
 * not on it (and the domains and policy lines of other hosts), gives each
 * uplink the host's own device, and fills each VXLAN segment's local
 * address, underlay device and flood list (the other hosts of the network,
 * in plan order). A segment another host serves (gateway-host=) becomes
 * an isolated network with no subnet here (l2_only); on the gateway host
 * the other hosts' guests with ip= become reservations. A plan without
 * hosts is left as it is. Fails with VMNET_ERROR_NOT_FOUND, naming the plan's hosts, when host is not one.
 */
gboolean vmnet_plan_select_host(VmnetPlan *plan, const char *host, GError **error);
