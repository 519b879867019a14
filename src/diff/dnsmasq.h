/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The dnsmasq part of the diff: which networks get vmnet's DHCP/DNS
 * server, with which configuration, against the configuration files and
 * processes that are there (src/backend/dnsmasq/dnsmasq.h). Run it after
 * vmnet_ipam_assign(), whose addresses become static leases, and order its
 * actions after the links' (dnsmasq binds the bridge's addresses).
 */

#include "ipam/ipam.h"
#include "model/model.h"
#include "util/error.h"

/*
 * Does net get a dnsmasq: a nat, host-only or routed network with a DHCP
 * range, a reservation, or an interface address to hand out (hosts:
 * vmnet_ipam_dhcp_hosts() of the network, may be NULL)?
 */
gboolean vmnet_network_wants_dnsmasq(const VmnetNetwork *net, const GPtrArray *hosts);

/*
 * Appends the actions that start, restart (configuration changed) or
 * stop plan's dnsmasq instances. netns: the namespace the plan is applied
 * in (NULL: the process's own), which places the files.
 */
gboolean vmnet_diff_dnsmasq(const VmnetPlan *plan, const VmnetIpam *ipam, const char *netns,
                            GPtrArray *actions, GError **error);

/* Appends the actions that stop every dnsmasq of plan_name and remove its files. */
gboolean vmnet_diff_dnsmasq_destroy(const char *plan_name, const char *netns, GPtrArray *actions,
                                    GError **error);
