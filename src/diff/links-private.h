/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the files of the links diff share (links.c: the desired state, the
 * helpers over the observed host, the checks and the order of the run;
 * links-teardown.c: what the plan no longer has; links-setup.c: what it
 * wants; foreign-state.c: the record of changes to links vmnet does not
 * own). Not for use outside src/diff/ (links.h is the API).
 */

#include <glib.h>
#include <linux/if_bridge.h>

#include "actions/kernel.h"
#include "diff/links.h"

typedef struct {
        VmnetLinkKind kind;
        char *name;
        const VmnetNetwork *net; /* the first network needing it: for messages */
        guint mtu;
        gboolean has_mac;
        VmnetMac mac;
        int stp;
        int forward_delay;
        int vlan_filtering;
        int default_pvid; /* 0 on a VLAN-aware bridge: a new port joins no VLAN; -1: unmanaged */
        gboolean adopt;
        char *parent;     /* vlan; vxlan: the underlay device (NULL: none) */
        guint vlan_id;
        guint32 vni;      /* vxlan */
        guint16 port;     /* vxlan */
        VmnetAddr local;  /* vxlan */
        GArray *fdb;      /* vxlan: VmnetAddr, the flood list */
        const VmnetBond *bond; /* bond: the plan's (mode, options, members) */
} DesiredLink;

typedef struct {
        char *name;
        char *bridge;
        const VmnetNetwork *net;
        guint line;       /* of <uplink> or <vxlan>: for messages */
        gboolean owned;   /* a vmnet vlan or vxlan; else the uplink device itself (foreign) */
        gboolean migrate;
        GArray *vids;     /* guint: tagged VIDs of a VLAN-aware trunk */
} DesiredPort;

typedef struct {
        char *link;
        VmnetAddr addr;
        guint prefixlen;
        const VmnetNetwork *net;
} DesiredAddr;

/* Deletions bottom-up, then creations and changes top-down. */
enum {
        T_SYSCTL,
        T_ROUTES,
        T_ADDRS,
        T_BVLANS,
        T_FDB,
        T_UNMIGRATE,
        T_RELEASE,
        T_BOND_RELEASE,
        T_DEL_VLANS,
        T_DEL_LINKS,
        T_MTU_RESTORE,
        T_UNADOPT,
        S_BONDS,
        S_BOND_MEMBERS,
        S_BRIDGES,
        S_LINK_SYSCTL,
        S_FOREIGN_MTU,
        S_VLANS,
        S_VXLANS,
        S_PORTS,
        S_FDB,
        S_ADDRS,
        S_ROUTES,
        S_SYSCTL,
        N_STAGES
};

typedef struct {
        const char *file;
        char *alias;
        const VmnetHost *host;
        const VmnetForeignState *rec;
        VmnetDiags *warnings;
        GPtrArray *bridges; /* DesiredLink* */
        GPtrArray *vlans;   /* DesiredLink* */
        GPtrArray *vxlans;  /* DesiredLink* */
        GPtrArray *bonds;   /* DesiredLink* */
        GHashTable *bond_of; /* member -> the name of the bond the plan puts it in */
        GPtrArray *ports;   /* DesiredPort* */
        GPtrArray *addrs;   /* DesiredAddr* */
        GPtrArray *routes;  /* VmnetRouteSpec* */
        GHashTable *desired;   /* name -> DesiredLink* (bridges and vlans) */
        GHashTable *port_by_name;
        GPtrArray *mtu_names;  /* foreign links whose MTU must be at least foreign_mtu[name] */
        GHashTable *foreign_mtu;
        gboolean want_sysctl[2]; /* ip_forward, all.forwarding */
        GHashTable *link_sysctls; /* per-link sysctl key -> wanted value ("1") */
        GHashTable *deleted;   /* names of links deleted by this run */
        GHashTable *released;  /* foreign ports released by this run */
        /* dev -> VmnetMigrateSpec* moving addresses back to dev (borrowed from its action) */
        GHashTable *pending;
        GHashTable *migration_targets; /* bridges that receive an uplink's addresses */
        GHashTable *addrs_by_link;     /* link -> GPtrArray of its DesiredAddr (borrowed) */
        /* bridge -> the default PVID this run takes away from it, which the kernel drops from
         * the ports (and the bridge) where it is PVID and untagged */
        GHashTable *pvid_dropped;
        GPtrArray *stage[N_STAGES];
} Diff;

/*
 * A VLAN-aware bridge vmnet manages gives a new port no VLAN at all (default
 * PVID 0): a guest's tap plugged in by libvirt is in no VLAN until it is put
 * in its own, instead of landing in VLAN 1 with the trunk's untagged frames
 * and the host. Those stay in VLAN 1, as with the kernel's default, but
 * explicitly: VLAN 1 PVID untagged on the trunk port and on the bridge itself.
 */
#define NATIVE_VID 1
#define NATIVE_FLAGS (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED)

/* links.c */
void vmnet_links_emit(Diff *d, int stage, VmnetAction *a);
gboolean vmnet_links_is_owned(const Diff *d, const VmnetHostLink *l);
VmnetHostLink *vmnet_links_live(const Diff *d, const char *name);
gboolean vmnet_links_addr_movable(const VmnetHostAddr *a);
gboolean vmnet_links_route_movable(const VmnetHostRoute *r);
VmnetRouteSpec *vmnet_links_route_spec_from(const VmnetHostRoute *r, const char *oif);
gboolean vmnet_links_route_matches(const VmnetHostRoute *h, const VmnetRouteSpec *r);
gboolean vmnet_links_link_has_addr(const VmnetHostLink *l, const VmnetAddr *addr, guint prefixlen);
gboolean vmnet_links_manages_l3(const Diff *d, const VmnetHostLink *l);
gboolean vmnet_links_addr_desired(const Diff *d, const char *link, const VmnetHostAddr *a);
gboolean vmnet_links_route_desired(const Diff *d, const VmnetHostRoute *r);
VmnetLinkSpec *vmnet_links_observed_spec(const Diff *d, const VmnetHostLink *l);
VmnetLinkSpec *vmnet_links_desired_spec(const Diff *d, const DesiredLink *dl);
void vmnet_links_set_num(Diff *d, int stage, const char *link, VmnetLinkAttr attr, guint value,
                         guint old, gboolean foreign, VmnetImpact impact);
void vmnet_links_set_str(Diff *d, int stage, const char *link, VmnetLinkAttr attr,
                         const char *value, const char *old, gboolean foreign, VmnetImpact impact);
void vmnet_links_mark_owned(Diff *d, int stage, const VmnetHostLink *l);
char *vmnet_links_where(const Diff *d, const VmnetNetwork *net, guint line);
int vmnet_links_vlan_flags_then(const Diff *d, const VmnetHostLink *l, const char *bridge,
                                guint vid);
void vmnet_links_want_native(Diff *d, int stage, const VmnetHostLink *l, const char *port,
                             const char *bridge);
const char *vmnet_links_master_then(const Diff *d, const VmnetHostLink *l);
void vmnet_links_bridge_native(Diff *d, const DesiredLink *dl, const VmnetHostLink *l);

/* foreign-state.c */
char *vmnet_links_added_address_attr(const VmnetAddrSpec *a);
char *vmnet_links_added_route_attr(const VmnetPrefix *dst);
gboolean vmnet_links_recorded_adopted(const VmnetForeignState *st, const char *link);

/* links-teardown.c */
void vmnet_links_teardown_sysctls(Diff *d);
void vmnet_links_teardown_link_sysctls(Diff *d);
void vmnet_links_teardown_l3(Diff *d);
void vmnet_links_teardown_bridge_vlans(Diff *d);
void vmnet_links_teardown_migrations(Diff *d);
void vmnet_links_teardown_releases(Diff *d);
void vmnet_links_teardown_links(Diff *d);
void vmnet_links_teardown_foreign(Diff *d);
void vmnet_links_set_stp(Diff *d, int stage, const VmnetHostLink *l, int stp, int fd,
                         gboolean foreign);
void vmnet_links_teardown_adopted(Diff *d);

/* links-setup.c */
void vmnet_links_setup_bridges(Diff *d);
void vmnet_links_setup_foreign_mtu(Diff *d);
void vmnet_links_setup_vlans(Diff *d);
void vmnet_links_teardown_bond_members(Diff *d);
void vmnet_links_setup_bonds(Diff *d);
void vmnet_links_teardown_fdb(Diff *d);
void vmnet_links_setup_vxlans(Diff *d);
gboolean vmnet_links_setup_ports(Diff *d, GError **error);
void vmnet_links_setup_l3(Diff *d);
void vmnet_links_setup_sysctls(Diff *d);
void vmnet_links_want_link_sysctls(Diff *d, const VmnetPlan *plan);
void vmnet_links_setup_link_sysctls(Diff *d);
