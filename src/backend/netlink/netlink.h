/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The rtnetlink operations vmnet performs on the kernel, through libnl-route.
 *
 * Every function takes link names, never ifindexes: an index is resolved at
 * execution time because re-creating a link (rollback, recreate) changes it.
 * Every failure becomes one VMNET_ERROR_NETLINK that names the object and the
 * operation, with the kernel's errno text and, when the kernel sent one, its
 * extended-ack message: "creating bridge vm-lab: File exists".
 *
 * libnl 3.7 has no accessors for the bridge's IFLA_INFO_DATA (STP,
 * forward delay, VLAN filtering) nor for bridge port VLAN entries, so those
 * messages are built by hand with libnl's nl_msg API.
 */

#include <glib.h>
#include <netlink/netlink.h>

#include "model/port-vlans.h"
#include "util/addr.h"
#include "util/error.h"

/*
 * The kernel's explanation (extended ack, NLMSGERR_ATTR_MSG) in an
 * NLMSG_ERROR or in the NLMSG_DONE that ends a failed dump; NULL when there
 * is none. Caller frees.
 */
char *vmnet_nl_ext_ack(const struct nlmsghdr *nlh);

/*
 * For the other homes of rtnetlink requests (backend/netlink/tc.c): the kernel's
 * errno and extended ack of one request, captured between begin and end;
 * end turns a failed ret into one VMNET_ERROR_NETLINK "WHAT: reason".
 */
typedef struct {
        int errnum;
        char ext[256];
} VmnetNlErr;
void vmnet_nl_err_begin(struct nl_sock *sk, VmnetNlErr *rec);
gboolean vmnet_nl_err_end(struct nl_sock *sk, VmnetNlErr *rec, int ret, GError **error,
                          const char *fmt, ...) G_GNUC_PRINTF(5, 6);
/* A link's ifindex in the current namespace; VMNET_ERROR_NOT_FOUND names what and name. */
gboolean vmnet_nl_ifindex(const char *name, int *ifindex, GError **error, const char *what);

/* Opens and connects a NETLINK_ROUTE socket with extended acks. Caller frees (nl_socket_free). */
struct nl_sock *vmnet_nl_open(GError **error);

/*
 * Bridge options; -1 leaves the kernel's value (default on creation). forward_delay in seconds.
 * default_pvid (IFLA_BR_VLAN_DEFAULT_PVID: the VLAN a new port joins, untagged; 0 = none) is
 * sent only with has_default_pvid, so that an initializer that leaves it out leaves it alone.
 */
typedef struct {
        int stp;
        int forward_delay;
        int vlan_filtering;
        gboolean has_default_pvid;
        guint default_pvid;
} VmnetNlBridgeOpts;

#define VMNET_NL_BRIDGE_OPTS_INIT { .stp = -1, .forward_delay = -1, .vlan_filtering = -1 }

/* All or nothing: when an option cannot be set, the new bridge is deleted again. */
gboolean vmnet_nl_bridge_create(struct nl_sock *sk, const char *name,
                                const VmnetNlBridgeOpts *opts, const VmnetMac *mac /* nullable */,
                                GError **error);
gboolean vmnet_nl_bridge_change(struct nl_sock *sk, const char *name,
                                const VmnetNlBridgeOpts *opts, GError **error);
/* An 802.1Q link on parent (protocol 802.1Q). */
gboolean vmnet_nl_vlan_create(struct nl_sock *sk, const char *name, const char *parent,
                              guint vid, GError **error);
/*
 * A VXLAN link: vni, UDP destination port, local underlay address (NULL or
 * family 0: none) and underlay device (NULL: none); learning as the kernel's
 * default (on).
 */
gboolean vmnet_nl_vxlan_create(struct nl_sock *sk, const char *name, guint32 vni, guint16 port,
                               const VmnetAddr *local, const char *dev, GError **error);
/* Bond options, kernel values (BOND_MODE_*, ...); -1: the kernel's default. */
typedef struct {
        int mode;
        int miimon;
        int lacp_rate;
        int xmit_hash_policy;
} VmnetNlBondOpts;

gboolean vmnet_nl_bond_create(struct nl_sock *sk, const char *name, const VmnetNlBondOpts *opts,
                              GError **error);
/*
 * Enslaves member to bond (bond NULL: releases it, and brings it up again
 * when up_after_release): the kernel takes a member only while it is down,
 * opens it on enslaving and closes it on release.
 */
gboolean vmnet_nl_bond_member(struct nl_sock *sk, const char *member, const char *bond,
                              gboolean up_after_release, GError **error);
/*
 * Head-end replication: the all-zeros FDB entry of a VXLAN link that sends
 * broadcast, unknown unicast and multicast to dst (NTF_SELF, permanent), one
 * per remote, added with NLM_F_APPEND as `bridge fdb append` does.
 */
gboolean vmnet_nl_fdb_flood(struct nl_sock *sk, const char *link, const VmnetAddr *dst,
                            gboolean add, GError **error);
/* The same for n destinations, in order; stops at the first failure. */
gboolean vmnet_nl_fdb_flood_list(struct nl_sock *sk, const char *link, const VmnetAddr *dsts,
                                 guint n, gboolean add, GError **error);
gboolean vmnet_nl_link_delete(struct nl_sock *sk, const char *name, GError **error);

/* Changes to one link; what is unset is left alone. */
typedef struct {
        const VmnetMac *mac;  /* NULL: unchanged */
        guint mtu;            /* 0: unchanged */
        const char *alias;    /* NULL: unchanged; "" removes it */
        const char *master;   /* NULL: unchanged */
        gboolean nomaster;    /* releases the link from its master */
        int up;               /* -1: unchanged, 0: down, 1: up */
} VmnetNlLinkSet;

/*
 * Applies set to the link called name in one RTM_NEWLINK addressed by name,
 * as `ip link set` does; what names the operation in errors. A link that
 * does not exist is VMNET_ERROR_NOT_FOUND.
 */
gboolean vmnet_nl_link_set(struct nl_sock *sk, const char *name, const VmnetNlLinkSet *set,
                           const char *what, GError **error);
gboolean vmnet_nl_link_set_mtu(struct nl_sock *sk, const char *name, guint mtu, GError **error);

gboolean vmnet_nl_link_set_mac(struct nl_sock *sk, const char *name, const VmnetMac *mac,
                               GError **error);
/* alias NULL or "" removes it. */
gboolean vmnet_nl_link_set_alias(struct nl_sock *sk, const char *name, const char *alias,
                                 GError **error);
gboolean vmnet_nl_link_set_up(struct nl_sock *sk, const char *name, gboolean up, GError **error);
/* master NULL releases the link from its master (nomaster). */
gboolean vmnet_nl_link_set_master(struct nl_sock *sk, const char *name, const char *master,
                                  GError **error);
/* Does a link of that name exist? FALSE with error only when the question could not be asked. */
gboolean vmnet_nl_link_exists(struct nl_sock *sk, const char *name, gboolean *exists,
                              GError **error);

/* A VLAN entry (struct bridge_vlan_info, flags BRIDGE_VLAN_INFO_*) on a bridge port. */
gboolean vmnet_nl_bridge_vlan(struct nl_sock *sk, const char *port, guint vid, guint16 flags,
                              gboolean add, GError **error);
/* The same on a VLAN-filtering bridge itself (`bridge vlan add ... self`): its own traffic. */
gboolean vmnet_nl_bridge_vlan_self(struct nl_sock *sk, const char *bridge, guint vid,
                                   guint16 flags, gboolean add, GError **error);

/*
 * Puts a guest's port of a VLAN-aware bridge in its VLANs: v->untagged
 * untagged and PVID, v->tagged tagged; and takes it out of VLAN 1, the
 * kernel's default, unless v has it (vmnet-plan(5) VLANS).
 */
gboolean vmnet_nl_guest_port_vlans(struct nl_sock *sk, const char *port, const VmnetPortVlans *v,
                                   GError **error);

/*
 * Waits at most timeout_ms for a link whose MAC is mac to become a port of
 * bridge (libvirt plugs a guest's tap after its network hook has run) and
 * sets *port to its name (caller frees). Listens to link events before it
 * lists the links, so a port plugged in between is not missed.
 */
gboolean vmnet_nl_wait_bridge_port(const VmnetMac *mac, const char *bridge, guint timeout_ms,
                                   char **port, GError **error);

/* IPv6 addresses are added with IFA_F_NODAD: a bridge without ports would keep them tentative. */
gboolean vmnet_nl_addr(struct nl_sock *sk, const char *link, const VmnetAddr *addr,
                       guint prefixlen, gboolean add, GError **error);

typedef enum {
        VMNET_NL_ROUTE_ADD,     /* NLM_F_CREATE|NLM_F_EXCL */
        VMNET_NL_ROUTE_REPLACE, /* NLM_F_CREATE|NLM_F_REPLACE: moves a route atomically */
        VMNET_NL_ROUTE_DELETE,
} VmnetNlRouteOp;

/* A route of the main table. */
typedef struct {
        VmnetPrefix dst;
        gboolean has_gateway;
        VmnetAddr gateway;
        const char *oif;
        guint32 priority; /* metric, 0 = kernel default */
        guint8 protocol;  /* RTPROT_*, 0 = RTPROT_STATIC */
} VmnetNlRoute;

gboolean vmnet_nl_route(struct nl_sock *sk, VmnetNlRouteOp op, const VmnetNlRoute *route,
                        GError **error);

/*
 * sysctls of the current network namespace ("net.ipv4.ip_forward"), read
 * from and written to /proc/sys. vmnet_sysctl_read() returns the value
 * without trailing newline (caller frees), NULL with error when absent.
 */
char *vmnet_sysctl_read(const char *key, GError **error);
gboolean vmnet_sysctl_write(const char *key, const char *value, GError **error);

/*
 * A link's counters as the kernel keeps them (IFLA_STATS64, 64 bits: they
 * never wrap in practice), from the link's own point of view: rx is what
 * arrived on the link, tx what left through it.
 */
typedef struct {
        guint64 rx_bytes, tx_bytes;
        guint64 rx_packets, tx_packets;
        guint64 rx_errors, tx_errors;
        guint64 rx_dropped, tx_dropped;
} VmnetNlLinkStats;

/*
 * The counters of every link of the current network namespace, in one
 * RTM_GETLINK dump: link name -> VmnetNlLinkStats*. The table is the
 * caller's (g_hash_table_unref).
 */
GHashTable *vmnet_nl_link_stats(struct nl_sock *sk, GError **error);

/*
 * A veth pair: name here, its peer peer_name in the network namespace of
 * process peer_pid (doctor's probe puts the peer in a throwaway namespace:
 * when that process exits, the namespace and both ends go away).
 */
gboolean vmnet_nl_veth_create(struct nl_sock *sk, const char *name, const char *peer_name,
                              int peer_pid, GError **error);

/* An entry of the host's neighbour table (ARP, NDP) with a link-layer address. */
typedef struct {
        char *ifname;
        VmnetAddr ip;
        VmnetMac mac;
        guint16 state; /* NUD_* */
} VmnetNlNeighbour;

void vmnet_nl_neighbour_free(VmnetNlNeighbour *n);

/*
 * The neighbour entries of the current namespace that have a link-layer
 * address and are not failed (NUD_FAILED, NUD_INCOMPLETE) nor NOARP: the
 * peers the host has heard from. The array is the caller's.
 */
GPtrArray *vmnet_nl_neighbours(struct nl_sock *sk, GError **error);
