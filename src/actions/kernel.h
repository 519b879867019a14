/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The action types that change the kernel's links, addresses, routes and
 * sysctls (one file each: link.c, addr.c, route.c, sysctl.c). Each action
 * carries everything needed to execute it and to build its inverse, captured
 * by the diff from the observed state, and names objects by name (ifindexes
 * are resolved at execution time).
 *
 * describe() strings are stable (golden-tested) and end in " [recreate]" or
 * " [disruptive]" when the action's impact is not SAFE.
 */

#include "actions/action.h"
#include "model/port-vlans.h"
#include "util/addr.h"

/* --- shared pieces ------------------------------------------------------- */

typedef struct {
        VmnetAddr addr;
        guint prefixlen;
} VmnetAddrSpec;

typedef struct {
        VmnetPrefix dst;
        gboolean has_gateway;
        VmnetAddr gateway;
        char *oif;        /* NULL inside a migration: the route follows the addresses */
        guint32 priority; /* 0 = kernel default */
        guint8 protocol;  /* RTPROT_*, 0 = static */
} VmnetRouteSpec;

VmnetRouteSpec *vmnet_route_spec_copy(const VmnetRouteSpec *r);
void vmnet_route_spec_free(VmnetRouteSpec *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetRouteSpec, vmnet_route_spec_free)
/* "10.20.0.0/16 via 10.10.0.254", "default via 192.168.1.1". Caller frees. */
char *vmnet_route_spec_to_string(const VmnetRouteSpec *r);
/* Appends " [recreate]" / " [disruptive]" to text for a non-SAFE impact; consumes text. */
char *vmnet_action_tag_impact(const VmnetAction *a, char *text);
/* The context's rtnetlink socket, or NULL with an error when it was not opened. Borrowed. */
struct nl_sock *vmnet_action_ctx_nl(VmnetApplyCtx *ctx, GError **error);

/* --- links (link.c) ---------------------------------------------------------- */

typedef enum {
        VMNET_LINK_KIND_BRIDGE,
        VMNET_LINK_KIND_VLAN,
        VMNET_LINK_KIND_VXLAN,
        VMNET_LINK_KIND_BOND,
} VmnetLinkKind;

const char *vmnet_link_kind_to_string(VmnetLinkKind kind);

/* A link as vmnet creates it, or as the diff saw it before deleting it. */
typedef struct {
        VmnetLinkKind kind;
        char *name;
        guint mtu;          /* 0 = kernel default */
        gboolean has_mac;
        VmnetMac mac;
        char *alias;        /* NULL = none */
        gboolean up;
        int stp;            /* bridge; -1 = kernel default */
        int forward_delay;  /* bridge, seconds; -1 = kernel default */
        int vlan_filtering; /* bridge; -1 = kernel default */
        int default_pvid;   /* bridge with vlan filtering: VLAN of a new port, 0 = none;
                             * -1 = kernel default (1) */
        char *parent;       /* vlan; vxlan: the underlay device, NULL = none */
        guint vlan_id;      /* vlan */
        guint32 vni;        /* vxlan */
        guint16 port;       /* vxlan: UDP destination port */
        VmnetAddr local;    /* vxlan: local underlay address, family 0 = none */
        GArray *fdb;        /* vxlan: VmnetAddr, the flood list (all-zeros FDB entries),
                             * restored after creation */
        int bond_mode;      /* bond: BOND_MODE_* */
        int miimon;         /* bond; -1 = kernel default */
        int lacp_rate;      /* bond; -1 = kernel default */
        int xmit_hash_policy; /* bond; -1 = kernel default */
        char *master;       /* NULL = none */
        /* Restored after creation when undoing a delete: */
        GArray *addrs;      /* VmnetAddrSpec */
        GPtrArray *routes;  /* VmnetRouteSpec* */
        GPtrArray *ports;   /* char*: links to enslave again (those that still exist) */
} VmnetLinkSpec;

VmnetLinkSpec *vmnet_link_spec_new(VmnetLinkKind kind, const char *name);
VmnetLinkSpec *vmnet_link_spec_copy(const VmnetLinkSpec *spec);
void vmnet_link_spec_free(VmnetLinkSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetLinkSpec, vmnet_link_spec_free)

typedef enum {
        VMNET_LINK_ATTR_MTU,
        VMNET_LINK_ATTR_MAC,
        VMNET_LINK_ATTR_ALIAS,
        VMNET_LINK_ATTR_STP,
        VMNET_LINK_ATTR_FORWARD_DELAY,
        VMNET_LINK_ATTR_VLAN_FILTERING,
        VMNET_LINK_ATTR_DEFAULT_PVID,
        VMNET_LINK_ATTR_UP,
        VMNET_LINK_ATTR_MASTER,
} VmnetLinkAttr;

/*
 * One attribute value: num (mtu, stp, forward delay, vlan filtering,
 * default pvid, up), mac, or str (alias, master; NULL = none).
 */
typedef struct {
        guint num;
        VmnetMac mac;
        char *str;
} VmnetLinkValue;

typedef struct {
        char *link;
        VmnetLinkAttr attr;
        VmnetLinkValue value;
        VmnetLinkValue old;
        gboolean foreign; /* a link vmnet does not own: the old value is recorded for destroy */
} VmnetLinkSet;

extern const VmnetActionType vmnet_action_type_link_create;
extern const VmnetActionType vmnet_action_type_link_delete;
extern const VmnetActionType vmnet_action_type_link_set;
extern const VmnetActionType vmnet_action_type_bridge_vlan_add;
extern const VmnetActionType vmnet_action_type_bridge_vlan_del;

/* The constructors take ownership of spec. */
VmnetAction *vmnet_action_link_create(VmnetLinkSpec *spec, VmnetImpact impact);
VmnetAction *vmnet_action_link_delete(VmnetLinkSpec *spec, VmnetImpact impact);
VmnetAction *vmnet_action_link_set(const char *link, VmnetLinkAttr attr,
                                   const VmnetLinkValue *value, const VmnetLinkValue *old,
                                   gboolean foreign, VmnetImpact impact);

/* A VLAN entry of a bridge port, or of the bridge itself ("self") when port is the bridge. */
typedef struct {
        char *port;
        char *bridge; /* for humans, and to tell the bridge itself from a port */
        guint vid;
        guint16 flags; /* BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED; 0 = tagged */
} VmnetBridgeVlanSpec;

VmnetAction *vmnet_action_bridge_vlan(const char *port, const char *bridge, guint vid,
                                      guint16 flags, gboolean add, VmnetImpact impact);

/* --- bond members (bond.c) ------------------------------------------------------ */

/* A NIC vmnet enslaves to one of its bonds; up: whether it was up before. */
typedef struct {
        char *member;
        char *bond;
        gboolean up;
} VmnetBondMemberSpec;

extern const VmnetActionType vmnet_action_type_bond_enslave;
extern const VmnetActionType vmnet_action_type_bond_release;

VmnetAction *vmnet_action_bond_member(const char *member, const char *bond, gboolean was_up,
                                      gboolean enslave, VmnetImpact impact);

/* --- VXLAN flood lists (fdb.c) ------------------------------------------------ */

/* An all-zeros FDB entry of a VXLAN link: broadcast and unknown unicast go to dst. */
typedef struct {
        char *link;
        VmnetAddr dst;
} VmnetFdbSpec;

extern const VmnetActionType vmnet_action_type_fdb_add;
extern const VmnetActionType vmnet_action_type_fdb_del;

VmnetAction *vmnet_action_fdb(const char *link, const VmnetAddr *dst, gboolean add,
                              VmnetImpact impact);

/* --- addresses (addr.c) ------------------------------------------------------ */

typedef struct {
        char *link;
        VmnetAddrSpec a;
} VmnetAddrAction;

extern const VmnetActionType vmnet_action_type_addr_add;
extern const VmnetActionType vmnet_action_type_addr_del;
extern const VmnetActionType vmnet_action_type_addr_migrate;

VmnetAction *vmnet_action_addr(const char *link, const VmnetAddr *addr, guint prefixlen,
                               gboolean add, VmnetImpact impact);

/*
 * Moves addresses and routes from one link to another in one step (an
 * uplink's onto the bridge it was enslaved to, or back): optionally give
 * mac_link a MAC first, add the addresses to `to`, re-point the routes at
 * `to` (NLM_F_REPLACE, so there is never a moment without them), then
 * remove the addresses from `from`.
 */
typedef struct {
        char *from;
        char *to;
        GArray *addrs;     /* VmnetAddrSpec */
        GPtrArray *routes; /* VmnetRouteSpec*, oif ignored */
        char *mac_link;    /* NULL: no MAC change */
        VmnetMac mac;
        gboolean has_old_mac; /* FALSE: the inverse leaves mac_link's MAC alone */
        VmnetMac old_mac;
} VmnetMigrateSpec;

VmnetMigrateSpec *vmnet_migrate_spec_new(const char *from, const char *to);
void vmnet_migrate_spec_free(VmnetMigrateSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetMigrateSpec, vmnet_migrate_spec_free)
VmnetAction *vmnet_action_migrate(VmnetMigrateSpec *spec, VmnetImpact impact);

/* --- routes (route.c) -------------------------------------------------------- */

extern const VmnetActionType vmnet_action_type_route_add;
extern const VmnetActionType vmnet_action_type_route_del;

VmnetAction *vmnet_action_route(const VmnetRouteSpec *route, gboolean add, VmnetImpact impact);

/* --- sysctls (sysctl.c) ------------------------------------------------------ */

typedef struct {
        char *key;
        char *value;
        char *old;
} VmnetSysctlSet;

extern const VmnetActionType vmnet_action_type_sysctl_set;

VmnetAction *vmnet_action_sysctl(const char *key, const char *value, const char *old,
                                 VmnetImpact impact);

/* --- guest taps (guest-tap.c) ------------------------------------------------ */

extern const VmnetActionType vmnet_action_type_guest_tap_plug;

/*
 * Plugs a running guest's tap into bridge (NULL: releases it from
 * old_master), and on a VLAN-aware bridge puts the port in its VLANs
 * (vmnet_nl_guest_port_vlans(); NULL or empty = none). A tap gone by then is
 * left alone. domain and mac only feed describe(). The inverse puts it back
 * on old_master.
 */
VmnetAction *vmnet_action_guest_tap_plug(const char *tap, const char *bridge,
                                         const char *old_master, const char *domain,
                                         const char *mac, const VmnetPortVlans *vlans);
