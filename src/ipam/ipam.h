/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * IPAM: which address each guest interface gets, and what the subnets look
 * like in use.
 *
 * An interface's address comes from the plan (ip=, or a <reservation> of
 * its MAC) or is allocated by vmnet from its network's first IPv4 subnet,
 * outside the dynamic DHCP range and never the network, broadcast or
 * gateway address nor an address the plan gives to someone else. Only
 * networks where vmnet serves DHCP (nat, host-only, routed) get
 * allocations: an address nothing hands out would only be a promise.
 *
 * Allocations are stable: they are kept in vmnet's state, one group per
 * network,
 *     [ipam lab]
 *     52:54:00:12:34:56=192.168.100.2
 * (the MAC identifies the interface), and an allocation that is still valid
 * is never moved, so adding an interface to the plan does not renumber the
 * others. Plan addresses are not stored: the plan is their record.
 *
 * The entries become static DHCP leases in vmnet's dnsmasq (dhcp-host=).
 */

#include <glib.h>

#include "apply/state.h"
#include "model/model.h"
#include "util/addr.h"
#include "util/error.h"
#include "util/json-text.h"

/* State groups: "ipam <network>". */
#define VMNET_IPAM_STATE_PREFIX "ipam "
/* State groups: "ipam-freed <network>", released addresses in quarantine. */
#define VMNET_IPAM_FREED_PREFIX "ipam-freed "

typedef enum {
        VMNET_IPAM_SOURCE_PLAN,      /* interface ip= or a <reservation> */
        VMNET_IPAM_SOURCE_ALLOCATED, /* chosen by vmnet, kept in the state */
        VMNET_IPAM_SOURCE_LEASE,     /* a dynamic lease in dnsmasq's lease file */
        VMNET_IPAM_SOURCE_AGENT,     /* the guest agent (libvirt's interface addresses, source agent) */
        VMNET_IPAM_SOURCE_NEIGHBOUR, /* the host's neighbour table (ARP, NDP) on the network's bridge */
} VmnetIpamSource;

const char *vmnet_ipam_source_to_string(VmnetIpamSource s);

typedef struct {
        char *network;
        char *domain;   /* the plan domain owning the MAC, NULL when none (a bare <reservation>) */
        char *hostname; /* DHCP/DNS name: the reservation's name, the domain's, or the lease's; may be NULL */
        VmnetMac mac;
        VmnetAddr ip;
        VmnetIpamSource source;
        gboolean from_reservation; /* PLAN from a <reservation> (dnsmasq renders those from the model) */
        gint64 expiry;  /* LEASE: unix time the lease ends, 0 = infinite */
} VmnetIpamEntry;

void vmnet_ipam_entry_free(VmnetIpamEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetIpamEntry, vmnet_ipam_entry_free)

typedef struct {
        GPtrArray *entries; /* VmnetIpamEntry*: reservations, then interfaces in plan order */
} VmnetIpam;

void vmnet_ipam_free(VmnetIpam *ipam);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetIpam, vmnet_ipam_free)

/*
 * Assigns an address to every interface of plan's domains that can have one,
 * keeping the allocations recorded in state, and rewrites state's
 * "ipam <network>" groups to the result (allocations of interfaces no longer
 * in the plan are released). The caller saves the state when it wants the
 * allocations kept (after an apply). Fails when a subnet has no free
 * address left, naming the network, subnet and interface. *out is the
 * caller's.
 */
gboolean vmnet_ipam_assign(const VmnetPlan *plan, VmnetState *state, VmnetIpam **out,
                           GError **error);

/*
 * The same, at unix time now, never handing an address to a new MAC while
 * another MAC may still use it: a live lease of leases (network name ->
 * GPtrArray of VmnetLease*, as vmnet_dnsmasq_read_plan_leases() gives; may
 * be NULL), or an allocation released less than a quarantine ago (the
 * network's longest lease time, at least an hour), recorded in state:
 *     [ipam-freed lab]
 *     192.168.100.2=1767225600 52:54:00:12:34:56
 * The MAC that had it may take it back. New allocations are made in MAC
 * order, so they never depend on the order of the plan.
 */
gboolean vmnet_ipam_assign_full(const VmnetPlan *plan, VmnetState *state, GHashTable *leases,
                                gint64 now, VmnetIpam **out, GError **error);

/*
 * The static DHCP hosts dnsmasq must add for network (interface addresses,
 * not the network's own <reservation>s, which the renderer takes from the
 * model) as VmnetReservation* (mac, ip, name = the domain's name on its
 * first interface in that network), in address order. Caller frees the array.
 */
GPtrArray *vmnet_ipam_dhcp_hosts(const VmnetIpam *ipam, const char *network);

/*
 * Whether vmnet allocates addresses on n (it serves DHCP there: nat,
 * host-only, routed). An interface there without ip= or a <reservation>
 * still needs an IPv4 subnet to get one.
 */
gboolean vmnet_ipam_network_allocates(const VmnetNetwork *n);

/* The entry for mac in network, NULL when none. Borrowed. */
const VmnetIpamEntry *vmnet_ipam_lookup(const VmnetIpam *ipam, const char *network,
                                        const VmnetMac *mac);

/* ------------------------------------------------------------ report */

/* A DHCP lease, as dnsmasq's lease file has it. */
typedef struct {
        gint64 expiry;  /* unix time, 0 = infinite */
        VmnetMac mac;
        VmnetAddr ip;
        char *hostname; /* NULL for "*" */
        char *client_id; /* NULL for "*" */
} VmnetLease;

void vmnet_lease_free(VmnetLease *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetLease, vmnet_lease_free)

/*
 * An address a guest uses, on the interface with MAC mac: as its guest
 * agent reports it (source VMNET_IPAM_SOURCE_AGENT; 0, PLAN, is read as
 * AGENT) or as the host's neighbour table has it on a network's bridge
 * (VMNET_IPAM_SOURCE_NEIGHBOUR, network set).
 */
typedef struct {
        char *domain;   /* NULL when not known */
        VmnetMac mac;
        VmnetAddr ip;
        VmnetIpamSource source;
        char *network;  /* NEIGHBOUR: the network whose bridge has the entry; else NULL */
} VmnetGuestAddr;

void vmnet_guest_addr_free(VmnetGuestAddr *g);

/*
 * One subnet's numbers. used + reserved + free = size, where
 *  size     the usable addresses (IPv4: without the network and broadcast
 *           addresses; saturates at G_MAXUINT64 for big IPv6 subnets),
 *  used     distinct addresses taken: the gateway, plan addresses,
 *           allocations, leases,
 *  reserved the rest of the dynamic DHCP range (kept for future leases),
 *  free     what vmnet can still allocate.
 */
typedef struct {
        char *network;
        VmnetPrefix cidr;
        guint64 size;
        guint64 used;
        guint64 reserved;
        guint64 free;
} VmnetIpamSubnetReport;

typedef struct {
        GPtrArray *subnets; /* VmnetIpamSubnetReport*, plan order */
        GPtrArray *entries; /* VmnetIpamEntry*: the static entries, then the leases */
} VmnetIpamReport;

void vmnet_ipam_report_free(VmnetIpamReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetIpamReport, vmnet_ipam_report_free)

/*
 * The data of `vmnet ipam`: per subnet counts and every address entry.
 * leases maps a network name to a GPtrArray of VmnetLease* (networks
 * without one have no leases; NULL = no leases at all). guest_addrs
 * (VmnetGuestAddr*, may be NULL) are the addresses guest agents report.
 *
 * guest_addrs (agent and neighbour addresses, except link-local and
 * loopback ones) are listed among the entries with their source. The
 * address audit adds a warning to warnings (may be NULL) for each
 * address a guest holds (a lease, a guest-agent address on a plan
 * interface, a neighbour entry on a network's bridge) that lies in none of
 * its network's subnets, that another MAC is assigned or holds, or that
 * differs from the address the plan or IPAM assigned to that MAC. Each warning names the domain (when known) and
 * the MAC. Caller frees the report.
 */
VmnetIpamReport *vmnet_ipam_report(const VmnetPlan *plan, const VmnetIpam *ipam,
                                   GHashTable *leases, const GPtrArray *guest_addrs,
                                   VmnetDiags *warnings);

/*
 * Writes r as one JSON object value into j:
 *   {"subnets": [{"network", "cidr", "size", "used", "reserved", "free"}],
 *    "addresses": [{"network", "domain", "hostname", "mac", "ip", "source", "expiry"}]}
 * (domain and hostname null when unknown; expiry only for leases, 0 = never).
 */
void vmnet_ipam_report_to_json(const VmnetIpamReport *r, JsonBuilder *j);

/* One entry of "addresses" above, as one JSON object value into j. */
void vmnet_ipam_entry_to_json(const VmnetIpamEntry *e, JsonBuilder *j);
