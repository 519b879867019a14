/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reading the kernel's rtnetlink state: one dump per kind of object, each
 * message decoded into a plain struct handed to the caller's callback
 * (observe/host.c builds its VmnetHost from them). The decoding of a link
 * message is also what vmnet_nl_wait_bridge_port() reads link events with.
 *
 * Dumps are raw, not libnl caches: see dump.c.
 */

#include <glib.h>
#include <linux/netlink.h>

#include "util/addr.h"
#include "util/error.h"

#define VMNET_NL_IFNAMSIZ 16 /* IFNAMSIZ, without linux/if.h (it clashes with net/if.h) */

/* One RTM_NEWLINK. */
typedef struct {
        int ifindex;
        char name[VMNET_NL_IFNAMSIZ];
        char kind[32];    /* IFLA_INFO_KIND, "" for none (a NIC) */
        char alias[256];  /* IFLA_IFALIAS, "" for none */
        gboolean up;      /* IFF_UP */
        gboolean oper_up; /* IFLA_OPERSTATE up or unknown (TRUE when not reported) */
        gboolean has_mtu;
        guint mtu;
        int master;       /* ifindex, 0 = none */
        int link;         /* IFLA_LINK in this namespace, 0 = none */
        gboolean has_mac;
        VmnetMac mac;
        /* kind "bridge"; -1 = not reported. forward_delay in seconds. */
        int stp_state, forward_delay, vlan_filtering, vlan_default_pvid;
        /* kind "vlan"; protocol in host byte order */
        guint vlan_id;
        guint16 vlan_protocol;
        /* kind "vxlan"; port in host byte order, local family 0 = none, link 0 = none */
        guint32 vxlan_id;
        guint16 vxlan_port;
        VmnetAddr vxlan_local;
        int vxlan_link;
        /* kind "bond"; -1 = not reported */
        int bond_mode, bond_miimon, bond_lacp_rate, bond_xmit_hash_policy;
        gboolean bond_has_partner; /* 802.3ad: an LACP partner answered */
        int bond_member_mii;       /* a bond member's MII status, -1 = not a member */
        /* From IFLA_AF_SPEC: net.ipv4.conf.LINK.arp_ignore, net.ipv6.conf.LINK.disable_ipv6; -1 = absent */
        gint64 arp_ignore, disable_ipv6;
} VmnetNlLinkInfo;

/* One RTM_NEWADDR of IPv4 or IPv6. */
typedef struct {
        int ifindex;
        VmnetAddr addr;  /* IFA_LOCAL (IFA_ADDRESS when there is no local) */
        guint prefixlen;
        guint8 scope;    /* RT_SCOPE_* */
        guint32 flags;   /* IFA_F_* */
} VmnetNlAddrInfo;

/* One unicast route of the main table (RTM_NEWROUTE); its first next hop. */
typedef struct {
        VmnetPrefix dst;
        gboolean has_gateway; /* a gateway of the route's own family */
        VmnetAddr gateway;
        int oif;
        guint8 protocol; /* RTPROT_* */
        guint8 scope;
        guint32 priority;
} VmnetNlRouteInfo;

/* A bridge VLAN entry of a port or of a bridge itself. */
typedef struct {
        guint16 vid;
        guint16 flags; /* BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED */
} VmnetNlBridgeVlan;

/*
 * Decodes an RTM_NEWLINK into *out; FALSE (out undefined) when nlh is
 * another message or has no name.
 */
gboolean vmnet_nl_link_decode(const struct nlmsghdr *nlh, VmnetNlLinkInfo *out);

/* A NETLINK_ROUTE socket with a receive buffer, for dumps. */
typedef struct VmnetNlDumper VmnetNlDumper;

VmnetNlDumper *vmnet_nl_dumper_new(GError **error);
void vmnet_nl_dumper_free(VmnetNlDumper *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNlDumper, vmnet_nl_dumper_free)

/*
 * Did a dump since the last call say NLM_F_DUMP_INTR (a concurrent change:
 * objects may be missing or repeated, read everything again)? Clears it.
 */
gboolean vmnet_nl_dumper_take_interrupted(VmnetNlDumper *d);

/*
 * The dumps. Each calls cb once per object, in the kernel's order, and
 * fails with one VMNET_ERROR_NETLINK "reading WHAT: reason" when the dump
 * does (a dump that ends in an error is never an empty result).
 */
typedef void (*VmnetNlLinkCb)(const VmnetNlLinkInfo *link, void *arg);
typedef void (*VmnetNlAddrCb)(const VmnetNlAddrInfo *addr, void *arg);
typedef void (*VmnetNlRouteCb)(const VmnetNlRouteInfo *route, void *arg);
/* The VLAN entries of one port or bridge: n may be 0. */
typedef void (*VmnetNlBridgeVlansCb)(int ifindex, const VmnetNlBridgeVlan *vlans, guint n,
                                     void *arg);
typedef void (*VmnetNlFloodCb)(int ifindex, const VmnetAddr *dst, void *arg);

/* Every link, without counters. */
gboolean vmnet_nl_dump_links(VmnetNlDumper *d, VmnetNlLinkCb cb, void *arg, GError **error);
/*
 * The VLAN entries (RTEXT_FILTER_BRVLAN) of the ports of VLAN-filtering
 * bridges, and of each bridge itself ("self"): one call per port or bridge.
 */
gboolean vmnet_nl_dump_bridge_vlans(VmnetNlDumper *d, VmnetNlBridgeVlansCb cb, void *arg,
                                    GError **error);
/*
 * Head-end replication lists: every link's own (NTF_SELF) all-zeros FDB
 * entries with a remote, one call per remote. Learned entries and the
 * bridge's (NTF_MASTER) are left out.
 */
gboolean vmnet_nl_dump_flood(VmnetNlDumper *d, VmnetNlFloodCb cb, void *arg, GError **error);
/* Every IPv4 and IPv6 address. */
gboolean vmnet_nl_dump_addrs(VmnetNlDumper *d, VmnetNlAddrCb cb, void *arg, GError **error);
/* The unicast routes of the main table (no cached clones). */
gboolean vmnet_nl_dump_routes(VmnetNlDumper *d, VmnetNlRouteCb cb, void *arg, GError **error);
