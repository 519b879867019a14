/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the kernel has, read once per run (one dump per object type) into
 * plain structs that know nothing of libnl, so that the diff is a pure
 * function and tests can build a host in C without a kernel.
 */

#include <glib.h>

#include "util/addr.h"
#include "util/error.h"

typedef struct {
        VmnetAddr addr;  /* IFA_LOCAL (IFA_ADDRESS when there is no local) */
        guint prefixlen;
        guint8 scope;    /* RT_SCOPE_*: RT_SCOPE_LINK for fe80::/64 */
        guint32 flags;   /* IFA_F_* */
} VmnetHostAddr;

typedef struct {
        guint16 vid;
        guint16 flags; /* BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED */
} VmnetHostBridgeVlan;

typedef struct {
        int ifindex;
        char *name;
        char *kind;        /* IFLA_INFO_KIND: "bridge", "vlan", "veth", ...; NULL for a NIC */
        int master;        /* ifindex, 0 = none */
        char *master_name; /* NULL = none */
        guint mtu;
        gboolean up;       /* IFF_UP: administratively up */
        gboolean has_mac;
        VmnetMac mac;
        char *alias;       /* IFLA_IFALIAS, NULL when none */
        int link;          /* IFLA_LINK in this namespace (a vlan's parent), 0 = none */
        char *link_name;
        guint vlan_id;        /* kind "vlan" */
        guint16 vlan_protocol; /* host byte order: 0x8100, 0x88a8 */
        int stp_state;        /* kind "bridge": 0/1, -1 = unknown */
        int forward_delay;    /* kind "bridge": seconds, -1 = unknown */
        int vlan_filtering;   /* kind "bridge": 0/1, -1 = unknown */
        int vlan_default_pvid; /* kind "bridge": VLAN of a new port (0 none), -1 = unknown */
        GArray *addrs;        /* VmnetHostAddr, in dump order */
        GPtrArray *routes;    /* VmnetHostRoute* leaving through this link (first next hop), in
                               * dump order; borrowed from VmnetHost.routes, set by
                               * vmnet_host_resolve() */
        GArray *bridge_vlans; /* VmnetHostBridgeVlan of a port of a VLAN-filtering bridge, or of
                               * the bridge itself ("self"); NULL when it has none */
        guint32 vxlan_id;     /* kind "vxlan": VNI */
        guint16 vxlan_port;   /* kind "vxlan": UDP destination port, host byte order */
        VmnetAddr vxlan_local; /* kind "vxlan": local address, family 0 = none */
        int vxlan_link;       /* kind "vxlan": underlay ifindex, 0 = none */
        char *vxlan_link_name;
        int bond_mode;        /* kind "bond": BOND_MODE_*, -1 = unknown */
        int bond_miimon;      /* kind "bond": ms, -1 = unknown */
        int bond_lacp_rate;   /* kind "bond": -1 = unknown */
        int bond_xmit_hash_policy; /* kind "bond": -1 = unknown */
        gboolean bond_has_partner; /* kind "bond", 802.3ad: an LACP partner answered */
        int bond_member_mii;  /* a bond member: its MII status (BOND_LINK_UP 0 ...), -1 = none */
        gboolean oper_up;     /* IFLA_OPERSTATE is up (or unknown) */
        GArray *fdb_flood;    /* kind "vxlan": VmnetAddr, the remotes of its all-zeros FDB
                               * entries (head-end replication); NULL when not read */
} VmnetHostLink;

typedef struct {
        VmnetPrefix dst;
        gboolean has_gateway;
        VmnetAddr gateway;
        int oif;           /* of the first next hop */
        char *oif_name;
        guint8 protocol;   /* RTPROT_* */
        guint8 scope;
        guint32 priority;
} VmnetHostRoute;

/* A vmnet port mirror: a tc filter at vmnet's priority (backend/netlink/tc.h). */
typedef struct {
        char *port;      /* the mirrored link */
        guint direction; /* VMNET_MIRROR_INGRESS or VMNET_MIRROR_EGRESS */
        int to_ifindex;
        char *to;        /* the destination's name; NULL: the link is gone */
} VmnetHostMirror;

typedef struct {
        GPtrArray *links;  /* VmnetHostLink*, in ifindex (dump) order */
        GPtrArray *routes; /* VmnetHostRoute*: unicast routes of the main table */
        GHashTable *sysctls; /* key ("net.ipv4.ip_forward") -> value; absent when unreadable */
        GPtrArray *mirrors;  /* VmnetHostMirror*, by port then direction */
        /* private: look-ups */
        GHashTable *by_name;
        GHashTable *by_index;
} VmnetHost;

/* The sysctls vmnet may change, NULL-terminated. */
extern const char *const vmnet_host_sysctl_keys[];

/*
 * The key of a per-link sysctl in sysctl(8)'s notation, a '.' of the name
 * written '/': ("ipv6", "vm-a.b", "disable_ipv6") gives
 * "net.ipv6.conf.vm-a/b.disable_ipv6". The observer fills in
 * net.ipv4.conf.LINK.arp_ignore and net.ipv6.conf.LINK.disable_ipv6 for
 * every link, in VmnetHost.sysctls. Caller frees.
 */
char *vmnet_link_sysctl_key(const char *family, const char *ifname, const char *knob);

/*
 * Reads the links, addresses, main-table routes and sysctls of the current
 * network namespace. *out is the caller's (vmnet_host_free).
 */
gboolean vmnet_observe_host(VmnetHost **out, GError **error);

/* An empty host, for tests and for the observer. Caller frees. */
VmnetHost *vmnet_host_new(void);
void vmnet_host_free(VmnetHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetHost, vmnet_host_free)

/* Appends a link (borrowed pointer into host). kind may be NULL. */
VmnetHostLink *vmnet_host_add_link(VmnetHost *host, int ifindex, const char *name,
                                   const char *kind);
void vmnet_host_link_add_addr(VmnetHostLink *link, const VmnetAddr *addr, guint prefixlen,
                              guint8 scope);
/* Appends a route (borrowed pointer into host); oif_name is resolved by vmnet_host_resolve(). */
VmnetHostRoute *vmnet_host_add_route(VmnetHost *host, const VmnetPrefix *dst,
                                     const VmnetAddr *gateway /* nullable */, int oif);
void vmnet_host_set_sysctl(VmnetHost *host, const char *key, const char *value);
/* Appends a mirror (names resolved from host's links, which must be there already). */
void vmnet_host_add_mirror(VmnetHost *host, int ifindex, guint direction, int to_ifindex);
/* The mirror of port in direction, NULL when none. Borrowed. */
const VmnetHostMirror *vmnet_host_find_mirror(const VmnetHost *host, const char *port,
                                              guint direction);
/* Appends a remote to the flood list (all-zeros FDB entries) of a VXLAN link. */
void vmnet_host_link_add_flood(VmnetHostLink *link, const VmnetAddr *dst);
/* Fills master_name, link_name, oif_name and each link's routes from the indexes. */
void vmnet_host_resolve(VmnetHost *host);

/* Borrowed; NULL when absent. */
VmnetHostLink *vmnet_host_find_link(const VmnetHost *host, const char *name);
VmnetHostLink *vmnet_host_find_link_index(const VmnetHost *host, int ifindex);
const char *vmnet_host_sysctl(const VmnetHost *host, const char *key);
