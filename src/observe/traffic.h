/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Traffic counters per network and per guest port of a plan, from the
 * kernel's 64-bit link statistics (vmnet_nl_link_stats()).
 *
 * A network's counters are its bridge's, as the host sees the bridge:
 * "receive" is what guests sent to the host itself (and, NAT and routed,
 * through it), "transmit" what the host sent into the network. A port's
 * counters are the guest's point of view, as `virsh domifstat` reports
 * them: "receive" is what the guest received (what left the host's end of
 * the port), "transmit" what the guest sent.
 */

#include <glib.h>

#include "backend/netlink/netlink.h"
#include "observe/ports.h"

typedef struct {
        const VmnetNetwork *network;   /* borrowed */
        const VmnetGuestPort *port;    /* borrowed; NULL: the network's own row (its bridge) */
        const char *link;              /* the bridge or the port's link name */
        gboolean present;              /* the link has counters (exists) */
        VmnetNlLinkStats stats;        /* oriented as above; zero when !present */
} VmnetTrafficRow;

/*
 * One row per network of plan (plan order), each followed by the rows of
 * its ports (of ports, from vmnet_guest_ports()), with their counters in
 * stats (from vmnet_nl_link_stats()). The array of VmnetTrafficRow is the
 * caller's; it borrows from plan, ports and the links' names.
 */
GArray *vmnet_traffic_rows(const VmnetPlan *plan, const GPtrArray *ports, GHashTable *stats);

/* The eight counters of a row, in the order of vmnet_traffic_counter_names. */
#define VMNET_TRAFFIC_COUNTERS 8
extern const char *const vmnet_traffic_counter_names[VMNET_TRAFFIC_COUNTERS];
void vmnet_traffic_counters(const VmnetTrafficRow *row, guint64 out[VMNET_TRAFFIC_COUNTERS]);

/*
 * The Prometheus text exposition (format 0.0.4) of rows: per counter one
 * HELP and TYPE line, then one sample a row, vmnet_network_<name>_total
 * {network, bridge, mode} and vmnet_port_<name>_total {network, port,
 * domain, mac}, with <name> receive_bytes, transmit_bytes, receive_packets,
 * transmit_packets, receive_errors, transmit_errors, receive_drops,
 * transmit_drops. Rows of links that do not exist are left out. Caller frees.
 */
char *vmnet_traffic_prometheus(const GArray *rows);
