/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * `vmnet doctor --probe NETWORK`: an active test of a network's data plane.
 * A temporary port (a veth) joins the network's bridge; its other end lives
 * in a network namespace of its own, made by a child process with
 * unshare(CLONE_NEWNET) and never named in /run/netns, where the child acts
 * as a guest would:
 *
 *   dhcp     DHCPDISCOVER/OFFER/REQUEST/ACK with the network's dnsmasq; the
 *            address, router and DNS server it hands out are configured
 *   gateway  ICMP echo to the router (the gateway)
 *   dns      DNS queries to the DNS server (dnsmasq on the gateway)
 *   outside  ICMP echo to a target beyond the host (--probe-target), through
 *            the NAT or the routes
 *   forward  a port forward back in: the probe takes the address of the
 *            network's first TCP forward (unless the host's neighbour table
 *            shows its guest there), listens on its port, and the parent
 *            connects to the forward from the host
 *
 * then releases its lease (DHCPRELEASE). Each step reports sent, received
 * and the round trip times; a step whose every attempt went unanswered has
 * failed. When the child exits, its namespace goes and the veth with it;
 * the host end is deleted too, whatever happened, so no trace is left.
 */

#include <glib.h>

#include "model/model.h"
#include "util/addr.h"

typedef enum {
        VMNET_PROBE_OK,
        VMNET_PROBE_FAILED,
        VMNET_PROBE_SKIPPED, /* not run: detail says why */
} VmnetProbeStatus;

const char *vmnet_probe_status_to_string(VmnetProbeStatus s);

typedef struct {
        char *name;      /* dhcp, gateway, dns, outside, forward */
        VmnetProbeStatus status;
        guint sent;
        guint received;
        double avg_ms;   /* of the answered attempts; 0 when none */
        double max_ms;
        char *detail;    /* what was found, or why it failed or was skipped */
} VmnetProbeStep;

typedef struct {
        char *network;
        char *port;         /* the temporary port's name */
        GPtrArray *steps;   /* VmnetProbeStep*, in order */
        const char *failed; /* the first failed step's name (borrowed from steps), NULL when none */
} VmnetProbe;

void vmnet_probe_free(VmnetProbe *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetProbe, vmnet_probe_free)

/*
 * Probes net of plan from the current network namespace (the one holding
 * its bridge). target: the outside address to reach, NULL to skip that
 * step. Fails (error) only when the probe could not be set up; a step that
 * fails is a result. *out is the caller's.
 */
gboolean vmnet_probe_run(const VmnetNetwork *net, const VmnetAddr *target, VmnetProbe **out,
                         GError **error);
