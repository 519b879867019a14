/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "actions/kernel.h"
#include "diff/links.h"
#include "util/mutant.h"

#ifndef RTPROT_RA
#define RTPROT_RA 9
#endif

char *vmnet_link_alias_for_plan(const char *plan_name)
{
        return g_strconcat(VMNET_ALIAS_PREFIX, plan_name, NULL);
}

/* --- foreign state ------------------------------------------------------------ */

static void change_free(gpointer p)
{
        VmnetForeignChange *c = p;

        g_free(c->object);
        g_free(c->attr);
        g_free(c->value);
        g_free(c);
}

VmnetForeignState *vmnet_foreign_state_new(void)
{
        VmnetForeignState *st = g_new0(VmnetForeignState, 1);

        st->changes = g_ptr_array_new_with_free_func(change_free);
        st->index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        return st;
}

void vmnet_foreign_state_free(VmnetForeignState *st)
{
        if (!st)
                return;
        g_hash_table_unref(st->index);
        g_ptr_array_unref(st->changes);
        if (st->interrupted)
                g_hash_table_unref(st->interrupted);
        g_free(st);
}

/* Hashed: a host with a thousand enslaved uplinks has a thousand records, looked up per link. */
static char *index_key(const char *object, const char *attr)
{
        return g_strconcat(object, "\n", attr, NULL);
}

static VmnetForeignChange *find_change(const VmnetForeignState *st, const char *object,
                                       const char *attr)
{
        g_autofree char *key = NULL;

        if (!st)
                return NULL;
        key = index_key(object, attr);
        return g_hash_table_lookup(st->index, key);
}

const VmnetForeignChange *vmnet_foreign_state_find(const VmnetForeignState *st,
                                                   const char *object, const char *attr)
{
        return find_change(st, object, attr);
}

void vmnet_foreign_state_set(VmnetForeignState *st, const char *object, const char *attr,
                             const char *value)
{
        VmnetForeignChange *c = find_change(st, object, attr);

        if (c) {
                g_free(c->value);
                c->value = g_strdup(value);
                return;
        }
        c = g_new0(VmnetForeignChange, 1);
        c->object = g_strdup(object);
        c->attr = g_strdup(attr);
        c->value = g_strdup(value);
        g_ptr_array_add(st->changes, c);
        g_hash_table_insert(st->index, index_key(object, attr), c);
}

void vmnet_foreign_state_remove(VmnetForeignState *st, const char *object, const char *attr)
{
        VmnetForeignChange *c = find_change(st, object, attr);
        g_autofree char *key = NULL;

        if (!c)
                return;
        key = index_key(object, attr);
        g_hash_table_remove(st->index, key);
        g_ptr_array_remove(st->changes, c); /* frees c */
}

/* First change records the original; returning to it forgets it. */
static void record_value(VmnetForeignState *st, const char *object, const char *attr,
                         const char *old, const char *value)
{
        const VmnetForeignChange *c = vmnet_foreign_state_find(st, object, attr);

        if (!c)
                vmnet_foreign_state_set(st, object, attr, old);
        else if (g_strcmp0(c->value, value) == 0)
                vmnet_foreign_state_remove(st, object, attr);
}

/* What vmnet added to a bridge it adopted, by the attr of its record: "address 10.0.0.1/24". */
#define ADDED_ADDRESS "address "
#define ADDED_ROUTE "route "
#define ADDED "added"

static char *added_address_attr(const VmnetAddrSpec *a)
{
        g_autofree char *s = vmnet_addr_to_string(&a->addr);

        return g_strdup_printf(ADDED_ADDRESS "%s/%u", s, a->prefixlen);
}

static char *added_route_attr(const VmnetPrefix *dst)
{
        g_autofree char *s = vmnet_prefix_to_string(dst);

        return g_strconcat(ADDED_ROUTE, s, NULL);
}

/* A bridge vmnet took over (adopt="yes"): its alias is recorded, to give it back. */
static gboolean recorded_adopted(const VmnetForeignState *st, const char *link)
{
        return link && vmnet_foreign_state_find(st, link, "alias") != NULL;
}

static void record_link_set(VmnetForeignState *st, const VmnetLinkSet *s)
{
        static const char *const num_attrs[] = {
                [VMNET_LINK_ATTR_MTU] = "mtu",
                [VMNET_LINK_ATTR_STP] = "stp",
                [VMNET_LINK_ATTR_FORWARD_DELAY] = "forward-delay",
                [VMNET_LINK_ATTR_VLAN_FILTERING] = "vlan-filtering",
                [VMNET_LINK_ATTR_DEFAULT_PVID] = "default-pvid",
                [VMNET_LINK_ATTR_UP] = "up",
        };
        g_autofree char *old = NULL, *value = NULL;

        switch (s->attr) {
        case VMNET_LINK_ATTR_MASTER:
                record_value(st, s->link, "master", s->old.str, s->value.str);
                return;
        case VMNET_LINK_ATTR_ALIAS:
                record_value(st, s->link, "alias", s->old.str, s->value.str);
                return;
        case VMNET_LINK_ATTR_MAC:
                old = vmnet_mac_to_string(&s->old.mac);
                value = vmnet_mac_to_string(&s->value.mac);
                record_value(st, s->link, "mac", old, value);
                return;
        default:
                if ((guint)s->attr >= G_N_ELEMENTS(num_attrs) || !num_attrs[s->attr])
                        return;
                old = g_strdup_printf("%u", s->old.num);
                value = g_strdup_printf("%u", s->value.num);
                record_value(st, s->link, num_attrs[s->attr], old, value);
                return;
        }
}

/* Adds (or forgets) the record of an address or route vmnet adds to (removes from) an adopted bridge. */
static void record_added(VmnetForeignState *st, const char *link, char *attr, gboolean add)
{
        if (add)
                vmnet_foreign_state_set(st, link, attr, ADDED);
        else
                vmnet_foreign_state_remove(st, link, attr);
        g_free(attr);
}

void vmnet_foreign_state_record(VmnetForeignState *st, const GPtrArray *executed)
{
        for (guint i = 0; executed && i < executed->len; i++) {
                const VmnetAction *a = g_ptr_array_index(executed, i);

                if (a->type == &vmnet_action_type_link_set) {
                        const VmnetLinkSet *s = a->data;

                        if (s->foreign)
                                record_link_set(st, s);
                } else if (a->type == &vmnet_action_type_addr_add ||
                           a->type == &vmnet_action_type_addr_del) {
                        const VmnetAddrAction *x = a->data;

                        if (recorded_adopted(st, x->link))
                                record_added(st, x->link, added_address_attr(&x->a),
                                             a->type == &vmnet_action_type_addr_add);
                } else if (a->type == &vmnet_action_type_route_add ||
                           a->type == &vmnet_action_type_route_del) {
                        const VmnetRouteSpec *r = a->data;

                        if (recorded_adopted(st, r->oif))
                                record_added(st, r->oif, added_route_attr(&r->dst),
                                             a->type == &vmnet_action_type_route_add);
                } else if (a->type == &vmnet_action_type_bond_enslave) {
                        const VmnetBondMemberSpec *s = a->data;

                        vmnet_foreign_state_set(st, s->member, "bond", s->up ? "up" : "down");
                } else if (a->type == &vmnet_action_type_bond_release) {
                        vmnet_foreign_state_remove(st, ((const VmnetBondMemberSpec *)a->data)->member,
                                                   "bond");
                } else if (a->type == &vmnet_action_type_sysctl_set) {
                        const VmnetSysctlSet *s = a->data;

                        /* no old value: a link this run made, which nobody needs back */
                        if (s->old)
                                record_value(st, s->key, "sysctl", s->old, s->value);
                } else if (a->type == &vmnet_action_type_addr_migrate) {
                        const VmnetMigrateSpec *s = a->data;
                        const VmnetForeignChange *c = vmnet_foreign_state_find(st, s->to,
                                                                               "migrated");

                        /* Moving back to the link the addresses came from ends the record. */
                        if (c && g_strcmp0(c->value, s->from) == 0)
                                vmnet_foreign_state_remove(st, s->to, "migrated");
                        else
                                vmnet_foreign_state_set(st, s->from, "migrated", s->to);
                }
        }
}

#define FOREIGN_GROUP "foreign-change "

void vmnet_foreign_state_to_keyfile(const VmnetForeignState *st, GKeyFile *kf)
{
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

        for (guint i = 0; groups && groups[i]; i++)
                if (g_str_has_prefix(groups[i], FOREIGN_GROUP))
                        g_key_file_remove_group(kf, groups[i], NULL);
        for (guint i = 0; i < st->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(st->changes, i);
                g_autofree char *group = g_strdup_printf(FOREIGN_GROUP "%u", i);

                g_key_file_set_string(kf, group, "object", c->object);
                g_key_file_set_string(kf, group, "attr", c->attr);
                if (c->value)
                        g_key_file_set_string(kf, group, "value", c->value);
        }
}

VmnetForeignState *vmnet_foreign_state_from_keyfile(GKeyFile *kf, GError **error)
{
        g_autoptr(VmnetForeignState) st = vmnet_foreign_state_new();
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

        for (guint i = 0; groups && groups[i]; i++) {
                g_autofree char *object = NULL, *attr = NULL, *value = NULL;

                if (!g_str_has_prefix(groups[i], FOREIGN_GROUP))
                        continue;
                object = g_key_file_get_string(kf, groups[i], "object", NULL);
                attr = g_key_file_get_string(kf, groups[i], "attr", NULL);
                value = g_key_file_get_string(kf, groups[i], "value", NULL);
                if (!object || !attr) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_PARSE,
                                    "state group [%s]: missing object or attr", groups[i]);
                        return NULL;
                }
                vmnet_foreign_state_set(st, object, attr, value);
        }
        return g_steal_pointer(&st);
}

/* --- desired state ------------------------------------------------------------ */

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

static void desired_link_free(gpointer p)
{
        DesiredLink *l = p;

        g_free(l->name);
        g_free(l->parent);
        if (l->fdb)
                g_array_unref(l->fdb);
        g_free(l);
}

static void desired_port_free(gpointer p)
{
        DesiredPort *dp = p;

        g_free(dp->name);
        g_free(dp->bridge);
        g_array_unref(dp->vids);
        g_free(dp);
}

static void desired_addr_free(gpointer p)
{
        DesiredAddr *a = p;

        g_free(a->link);
        g_free(a);
}

static void diff_init(Diff *d, const char *file, const char *plan_name, const VmnetHost *host,
                      const VmnetForeignState *rec, VmnetDiags *warnings)
{
        memset(d, 0, sizeof(*d));
        d->file = file;
        d->alias = vmnet_link_alias_for_plan(plan_name);
        d->host = host;
        d->rec = rec;
        d->warnings = warnings;
        d->bridges = g_ptr_array_new_with_free_func(desired_link_free);
        d->vlans = g_ptr_array_new_with_free_func(desired_link_free);
        d->vxlans = g_ptr_array_new_with_free_func(desired_link_free);
        d->bonds = g_ptr_array_new_with_free_func(desired_link_free);
        d->bond_of = g_hash_table_new(g_str_hash, g_str_equal);
        d->ports = g_ptr_array_new_with_free_func(desired_port_free);
        d->addrs = g_ptr_array_new_with_free_func(desired_addr_free);
        d->routes = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_route_spec_free);
        d->desired = g_hash_table_new(g_str_hash, g_str_equal);
        d->port_by_name = g_hash_table_new(g_str_hash, g_str_equal);
        d->mtu_names = g_ptr_array_new_with_free_func(g_free);
        d->foreign_mtu = g_hash_table_new(g_str_hash, g_str_equal);
        d->deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        d->released = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        d->pending = g_hash_table_new(g_str_hash, g_str_equal);
        d->migration_targets = g_hash_table_new(g_str_hash, g_str_equal);
        d->addrs_by_link = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                 (GDestroyNotify)g_ptr_array_unref);
        d->link_sysctls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        d->pvid_dropped = g_hash_table_new(g_str_hash, g_str_equal);
        for (int i = 0; i < N_STAGES; i++)
                d->stage[i] = vmnet_action_list_new();
}

static void diff_clear(Diff *d)
{
        g_free(d->alias);
        g_hash_table_unref(d->desired);
        g_hash_table_unref(d->port_by_name);
        g_hash_table_unref(d->foreign_mtu);
        g_hash_table_unref(d->deleted);
        g_hash_table_unref(d->released);
        g_hash_table_unref(d->pending);
        g_hash_table_unref(d->migration_targets);
        g_hash_table_unref(d->addrs_by_link);
        g_hash_table_unref(d->link_sysctls);
        g_hash_table_unref(d->pvid_dropped);
        g_ptr_array_unref(d->bridges);
        g_ptr_array_unref(d->vlans);
        g_ptr_array_unref(d->vxlans);
        g_ptr_array_unref(d->bonds);
        g_hash_table_unref(d->bond_of);
        g_ptr_array_unref(d->ports);
        g_ptr_array_unref(d->addrs);
        g_ptr_array_unref(d->routes);
        g_ptr_array_unref(d->mtu_names);
        for (int i = 0; i < N_STAGES; i++)
                g_ptr_array_unref(d->stage[i]);
}

static void emit(Diff *d, int stage, VmnetAction *a)
{
        g_ptr_array_add(d->stage[stage], a);
}

static void want_foreign_mtu(Diff *d, const char *name, guint mtu)
{
        gpointer key, cur;

        if (g_hash_table_lookup_extended(d->foreign_mtu, name, &key, &cur)) {
                if (mtu > GPOINTER_TO_UINT(cur))
                        g_hash_table_insert(d->foreign_mtu, key, GUINT_TO_POINTER(mtu));
                return;
        }
        key = g_strdup(name);
        g_ptr_array_add(d->mtu_names, key);
        g_hash_table_insert(d->foreign_mtu, key, GUINT_TO_POINTER(mtu));
}

static DesiredPort *want_port(Diff *d, const char *name, const char *bridge,
                              const VmnetNetwork *net, gboolean owned)
{
        DesiredPort *p = g_hash_table_lookup(d->port_by_name, name);

        if (p)
                return p;
        p = g_new0(DesiredPort, 1);
        p->name = g_strdup(name);
        p->bridge = g_strdup(bridge);
        p->net = net;
        p->owned = owned;
        p->vids = g_array_new(FALSE, FALSE, sizeof(guint));
        g_ptr_array_add(d->ports, p);
        g_hash_table_insert(d->port_by_name, p->name, p);
        return p;
}

/* The desired addresses of link (its key borrowed from them), created empty. */
static GPtrArray *link_addrs(Diff *d, const char *link)
{
        GPtrArray *a = g_hash_table_lookup(d->addrs_by_link, link);

        if (!a) {
                a = g_ptr_array_new();
                g_hash_table_insert(d->addrs_by_link, (gpointer)link, a);
        }
        return a;
}

/* The network's VXLAN segment: a link of its own, a port of the network's bridge. */
static void want_vxlan(Diff *d, const VmnetNetwork *net)
{
        const VmnetVxlan *vx = net->vxlan;
        DesiredLink *v = g_new0(DesiredLink, 1);

        v->kind = VMNET_LINK_KIND_VXLAN;
        v->name = g_strdup(vx->name);
        v->net = net;
        v->mtu = net->mtu;
        v->stp = v->forward_delay = v->vlan_filtering = v->default_pvid = -1;
        v->parent = g_strdup(vx->dev);
        v->vni = vx->vni;
        v->port = vx->port;
        v->local = vx->local;
        v->fdb = g_array_copy(vx->remotes);
        g_ptr_array_add(d->vxlans, v);
        g_hash_table_insert(d->desired, v->name, v);
        want_port(d, vx->name, net->bridge, net, TRUE)->line = vx->line;
}

static void want_bonds(Diff *d, const VmnetPlan *plan)
{
        for (guint i = 0; i < plan->bonds->len; i++) {
                const VmnetBond *b = g_ptr_array_index(plan->bonds, i);
                DesiredLink *dl = g_new0(DesiredLink, 1);

                dl->kind = VMNET_LINK_KIND_BOND;
                dl->name = g_strdup(b->name);
                dl->stp = dl->forward_delay = dl->vlan_filtering = dl->default_pvid = -1;
                dl->bond = b;
                g_ptr_array_add(d->bonds, dl);
                g_hash_table_insert(d->desired, dl->name, dl);
                for (guint j = 0; b->members[j]; j++)
                        g_hash_table_insert(d->bond_of, b->members[j], dl->name);
        }
}

/* The plan's bond of that name, NULL when name is not one: a link vmnet creates. */
static DesiredLink *desired_bond(const Diff *d, const char *name)
{
        DesiredLink *dl = g_hash_table_lookup(d->desired, name);

        return dl && dl->kind == VMNET_LINK_KIND_BOND ? dl : NULL;
}

/* An uplink's MTU: set on a bond of the plan, raised on a NIC. */
static void want_uplink_mtu(Diff *d, const char *dev, guint mtu)
{
        DesiredLink *bond = desired_bond(d, dev);

        if (!mtu)
                return;
        if (!bond)
                want_foreign_mtu(d, dev, mtu);
        else if (mtu > bond->mtu)
                bond->mtu = mtu;
}

static void build_desired(Diff *d, const VmnetPlan *plan)
{
        want_bonds(d, plan);
        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);
                const VmnetUplink *u = net->uplink;
                DesiredLink *br = g_hash_table_lookup(d->desired, net->bridge);

                if (!br) {
                        br = g_new0(DesiredLink, 1);
                        br->kind = VMNET_LINK_KIND_BRIDGE;
                        br->name = g_strdup(net->bridge);
                        br->net = net;
                        br->stp = -1;
                        br->forward_delay = -1;
                        br->vlan_filtering = -1;
                        br->default_pvid = -1;
                        g_ptr_array_add(d->bridges, br);
                        g_hash_table_insert(d->desired, br->name, br);
                }
                /* A VLAN-aware bridge is shared: the first network that sets a value wins. */
                if (net->mtu > br->mtu)
                        br->mtu = net->mtu;
                if (net->has_mac && !br->has_mac) {
                        br->has_mac = TRUE;
                        br->mac = net->mac;
                }
                if (br->stp < 0)
                        br->stp = net->stp;
                if (br->forward_delay < 0)
                        br->forward_delay = net->forward_delay;
                /* Fail closed: a guest port joins no VLAN, rather than the trunk's native one. */
                if (net->vlan_aware) {
                        br->vlan_filtering = 1;
                        br->default_pvid = 0;
                }
                br->adopt |= net->adopt;

                if (u && u->vlan && !net->vlan_aware) {
                        DesiredLink *v = g_new0(DesiredLink, 1);

                        v->kind = VMNET_LINK_KIND_VLAN;
                        v->name = g_strdup(u->ifname);
                        v->net = net;
                        v->mtu = net->mtu;
                        v->stp = v->forward_delay = v->vlan_filtering = v->default_pvid = -1;
                        v->parent = g_strdup(u->dev);
                        v->vlan_id = u->vlan;
                        g_ptr_array_add(d->vlans, v);
                        g_hash_table_insert(d->desired, v->name, v);
                        want_port(d, u->ifname, net->bridge, net, TRUE)->line = u->line;
                        /* The kernel caps a VLAN's MTU at its parent's. */
                        want_uplink_mtu(d, u->dev, net->mtu);
                } else if (u) {
                        /* A bond of the plan is vmnet's: enslaved like a VLAN link. */
                        DesiredPort *p = want_port(d, u->dev, net->bridge, net,
                                                   desired_bond(d, u->dev) != NULL);

                        p->line = u->line;

                        p->migrate |= u->migrate_addresses;
                        if (net->vlan_aware && u->vlan)
                                g_array_append_val(p->vids, u->vlan);
                        /* A port group with a VLAN of its own: the trunk carries it too. */
                        for (guint j = 0; net->vlan_aware && j < net->portgroups->len; j++) {
                                const VmnetPortgroup *pg = g_ptr_array_index(net->portgroups, j);

                                if (pg->vlan && pg->vlan != u->vlan)
                                        g_array_append_val(p->vids, pg->vlan);
                        }
                        want_uplink_mtu(d, u->dev, net->mtu);
                }

                if (net->vxlan)
                        want_vxlan(d, net);
                if (vmnet_mode_has_host_address(net->mode)) {
                        for (guint j = 0; j < net->subnets->len; j++) {
                                const VmnetSubnet *s = g_ptr_array_index(net->subnets, j);
                                DesiredAddr *a;

                                if (!s->has_gateway || VMNET_MUTANT_IS(NO_GATEWAY))
                                        continue;
                                a = g_new0(DesiredAddr, 1);
                                a->link = g_strdup(net->bridge);
                                a->addr = s->gateway;
                                a->prefixlen = s->cidr.prefix;
                                a->net = net;
                                g_ptr_array_add(d->addrs, a);
                                g_ptr_array_add(link_addrs(d, a->link), a);
                        }
                }
                if (net->mode == VMNET_MODE_ROUTED) {
                        for (guint j = 0; j < net->routes->len; j++) {
                                const VmnetRoute *r = g_ptr_array_index(net->routes, j);
                                VmnetRouteSpec *rs = g_new0(VmnetRouteSpec, 1);

                                rs->dst = r->to;
                                rs->has_gateway = TRUE;
                                rs->gateway = r->via;
                                rs->oif = g_strdup(net->bridge);
                                rs->protocol = RTPROT_STATIC;
                                g_ptr_array_add(d->routes, rs);
                        }
                }
                if (net->mode == VMNET_MODE_NAT || net->mode == VMNET_MODE_ROUTED) {
                        for (guint j = 0; j < net->subnets->len; j++) {
                                const VmnetSubnet *s = g_ptr_array_index(net->subnets, j);

                                d->want_sysctl[s->cidr.addr.family == AF_INET6 ? 1 : 0] = TRUE;
                        }
                }
        }
}

/* --- helpers over the observed host ------------------------------------------- */

/* Its alias says so, or a run of the plan was creating it when it was interrupted. */
static gboolean is_owned(const Diff *d, const VmnetHostLink *l)
{
        if (!l)
                return FALSE;
        if (l->alias)
                return g_str_equal(l->alias, d->alias);
        return d->rec && d->rec->interrupted && g_hash_table_contains(d->rec->interrupted, l->name) &&
               (g_strcmp0(l->kind, "bridge") == 0 || g_strcmp0(l->kind, "vlan") == 0 ||
                g_strcmp0(l->kind, "vxlan") == 0 || g_strcmp0(l->kind, "bond") == 0);
}

/* The observed link, unless this run deletes it first. */
static VmnetHostLink *live(const Diff *d, const char *name)
{
        if (!name || g_hash_table_contains(d->deleted, name))
                return NULL;
        return vmnet_host_find_link(d->host, name);
}

/* Addresses that belong to the host's configuration: not link-local, not SLAAC. */
static gboolean addr_movable(const VmnetHostAddr *a)
{
        if (a->scope >= RT_SCOPE_LINK)
                return FALSE;
        return a->addr.family != AF_INET6 || (a->flags & IFA_F_PERMANENT);
}

/* Routes someone configured, as opposed to those the kernel or an RA made. */
static gboolean route_movable(const VmnetHostRoute *r)
{
        return r->protocol != RTPROT_KERNEL && r->protocol != RTPROT_RA;
}

static VmnetRouteSpec *route_spec_from(const VmnetHostRoute *r, const char *oif)
{
        VmnetRouteSpec *rs = g_new0(VmnetRouteSpec, 1);

        rs->dst = r->dst;
        rs->has_gateway = r->has_gateway;
        rs->gateway = r->gateway;
        rs->oif = g_strdup(oif);
        rs->priority = r->priority;
        rs->protocol = r->protocol;
        return rs;
}

static gboolean prefix_equal(const VmnetPrefix *a, const VmnetPrefix *b)
{
        return a->prefix == b->prefix && vmnet_addr_equal(&a->addr, &b->addr);
}

static gboolean route_matches(const VmnetHostRoute *h, const VmnetRouteSpec *r)
{
        if (!prefix_equal(&h->dst, &r->dst) || h->has_gateway != r->has_gateway)
                return FALSE;
        if (r->has_gateway && !vmnet_addr_equal(&h->gateway, &r->gateway))
                return FALSE;
        return g_strcmp0(h->oif_name, r->oif) == 0;
}

static gboolean link_has_addr(const VmnetHostLink *l, const VmnetAddr *addr, guint prefixlen)
{
        for (guint i = 0; l && i < l->addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, i);

                if (a->prefixlen == prefixlen && vmnet_addr_equal(&a->addr, addr))
                        return TRUE;
        }
        return FALSE;
}

/* The bridges that a port with migrate-addresses, or a recorded migration, gives addresses to. */
static void collect_migration_targets(Diff *d)
{
        for (guint i = 0; i < d->ports->len; i++) {
                const DesiredPort *p = g_ptr_array_index(d->ports, i);

                if (p->migrate)
                        g_hash_table_add(d->migration_targets, p->bridge);
        }
        for (guint i = 0; d->rec && i < d->rec->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(d->rec->changes, i);

                if (g_str_equal(c->attr, "migrated") && c->value)
                        g_hash_table_add(d->migration_targets, c->value);
        }
}

static gboolean migration_target(const Diff *d, const char *bridge)
{
        return g_hash_table_contains(d->migration_targets, bridge);
}

/*
 * Addresses and routes on links vmnet owns are vmnet's to remove, except on
 * adopted bridges (they were someone's before) and on bridges holding an
 * uplink's migrated configuration.
 */
static gboolean manages_l3(const Diff *d, const VmnetHostLink *l)
{
        DesiredLink *dl = g_hash_table_lookup(d->desired, l->name);

        return dl && dl->kind == VMNET_LINK_KIND_BRIDGE && g_strcmp0(l->kind, "bridge") == 0 &&
               is_owned(d, l) && !recorded_adopted(d->rec, l->name) && !migration_target(d, l->name);
}

static gboolean addr_desired(const Diff *d, const char *link, const VmnetHostAddr *a)
{
        const GPtrArray *mine = g_hash_table_lookup(d->addrs_by_link, link);

        for (guint i = 0; mine && i < mine->len; i++) {
                const DesiredAddr *da = g_ptr_array_index(mine, i);

                if (da->prefixlen == a->prefixlen && vmnet_addr_equal(&da->addr, &a->addr))
                        return TRUE;
        }
        return FALSE;
}

static gboolean route_desired(const Diff *d, const VmnetHostRoute *r)
{
        for (guint i = 0; i < d->routes->len; i++)
                if (route_matches(r, g_ptr_array_index(d->routes, i)))
                        return TRUE;
        return FALSE;
}

static gboolean spec_moves_addr(const VmnetMigrateSpec *s, const VmnetHostAddr *a)
{
        for (guint i = 0; s && i < s->addrs->len; i++) {
                const VmnetAddrSpec *as = &g_array_index(s->addrs, VmnetAddrSpec, i);

                if (as->prefixlen == a->prefixlen && vmnet_addr_equal(&as->addr, &a->addr))
                        return TRUE;
        }
        return FALSE;
}

static gboolean spec_moves_route(const VmnetMigrateSpec *s, const VmnetHostRoute *r)
{
        for (guint i = 0; s && i < s->routes->len; i++) {
                const VmnetRouteSpec *rs = g_ptr_array_index(s->routes, i);

                if (prefix_equal(&rs->dst, &r->dst) && rs->priority == r->priority)
                        return TRUE;
        }
        return FALSE;
}

static const VmnetMigrateSpec *pending_from(const Diff *d, const char *link)
{
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, d->pending);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                const VmnetMigrateSpec *s = value;

                if (g_str_equal(s->from, link))
                        return s;
        }
        return NULL;
}

/* The link as it is now, as a spec to delete it with (and re-create it from, on undo). */
static VmnetLinkSpec *observed_spec(const Diff *d, const VmnetHostLink *l)
{
        VmnetLinkSpec *s = vmnet_link_spec_new(g_strcmp0(l->kind, "vlan") == 0  ? VMNET_LINK_KIND_VLAN :
                                               g_strcmp0(l->kind, "vxlan") == 0 ? VMNET_LINK_KIND_VXLAN :
                                               g_strcmp0(l->kind, "bond") == 0  ? VMNET_LINK_KIND_BOND :
                                                                                   VMNET_LINK_KIND_BRIDGE,
                                               l->name);
        const VmnetMigrateSpec *moving = pending_from(d, l->name);

        s->mtu = l->mtu;
        s->has_mac = l->has_mac;
        s->mac = l->mac;
        s->alias = g_strdup(l->alias);
        s->up = l->up;
        if (s->kind == VMNET_LINK_KIND_BRIDGE) {
                s->stp = l->stp_state;
                s->forward_delay = l->forward_delay;
                s->vlan_filtering = l->vlan_filtering == 1 ? 1 : -1;
                s->default_pvid = l->vlan_filtering == 1 ? l->vlan_default_pvid : -1;
        } else if (s->kind == VMNET_LINK_KIND_BOND) {
                s->bond_mode = l->bond_mode;
                s->miimon = l->bond_miimon;
                s->lacp_rate = l->bond_lacp_rate;
                s->xmit_hash_policy = l->bond_xmit_hash_policy;
        } else if (s->kind == VMNET_LINK_KIND_VXLAN) {
                s->parent = g_strdup(l->vxlan_link_name);
                s->vni = l->vxlan_id;
                s->port = l->vxlan_port;
                s->local = l->vxlan_local;
                if (l->fdb_flood)
                        g_array_append_vals(s->fdb, l->fdb_flood->data, l->fdb_flood->len);
        } else {
                s->parent = g_strdup(l->link_name);
                s->vlan_id = l->vlan_id;
        }
        s->master = g_strdup(l->master_name);
        /* What an unmigrate moves off this link is put back by that action's undo. */
        for (guint i = 0; i < l->addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, i);
                VmnetAddrSpec as = { .addr = a->addr, .prefixlen = a->prefixlen };

                if (addr_movable(a) && !spec_moves_addr(moving, a))
                        g_array_append_val(s->addrs, as);
        }
        for (guint i = 0; i < l->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(l->routes, i);

                if (route_movable(r) && !spec_moves_route(moving, r))
                        g_ptr_array_add(s->routes, route_spec_from(r, l->name));
        }
        for (guint i = 0; i < d->host->links->len; i++) {
                const VmnetHostLink *p = g_ptr_array_index(d->host->links, i);

                if (p->master == l->ifindex && !g_hash_table_contains(d->deleted, p->name) &&
                    !g_hash_table_contains(d->released, p->name))
                        g_ptr_array_add(s->ports, g_strdup(p->name));
        }
        return s;
}

static VmnetLinkSpec *desired_spec(const Diff *d, const DesiredLink *dl)
{
        VmnetLinkSpec *s = vmnet_link_spec_new(dl->kind, dl->name);

        s->mtu = dl->mtu;
        s->has_mac = dl->has_mac;
        s->mac = dl->mac;
        s->alias = g_strdup(d->alias);
        s->up = TRUE;
        s->stp = dl->stp;
        s->forward_delay = dl->forward_delay;
        s->vlan_filtering = dl->vlan_filtering;
        s->default_pvid = dl->default_pvid;
        s->parent = g_strdup(dl->parent);
        s->vlan_id = dl->vlan_id;
        s->vni = dl->vni;
        s->port = dl->port;
        s->local = dl->local;
        if (dl->fdb)
                g_array_append_vals(s->fdb, dl->fdb->data, dl->fdb->len);
        if (dl->bond) {
                s->bond_mode = dl->bond->mode;
                s->miimon = dl->bond->miimon;
                s->lacp_rate = dl->bond->lacp_rate;
                s->xmit_hash_policy = dl->bond->xmit_hash_policy;
        }
        return s;
}

static void set_num(Diff *d, int stage, const char *link, VmnetLinkAttr attr, guint value,
                    guint old, gboolean foreign, VmnetImpact impact)
{
        VmnetLinkValue v = { .num = value }, o = { .num = old };

        emit(d, stage, vmnet_action_link_set(link, attr, &v, &o, foreign, impact));
}

static void set_str(Diff *d, int stage, const char *link, VmnetLinkAttr attr, const char *value,
                    const char *old, gboolean foreign, VmnetImpact impact)
{
        VmnetLinkValue v = { .str = (char *)value }, o = { .str = (char *)old };

        emit(d, stage, vmnet_action_link_set(link, attr, &v, &o, foreign, impact));
}

/* An owned link without its mark (an interrupted creation) gets it. */
static void mark_owned(Diff *d, int stage, const VmnetHostLink *l)
{
        if (g_strcmp0(l->alias, d->alias) != 0)
                set_str(d, stage, l->name, VMNET_LINK_ATTR_ALIAS, d->alias, l->alias, FALSE,
                        VMNET_IMPACT_SAFE);
}

static char *where(const Diff *d, const VmnetNetwork *net, guint line)
{
        return g_strdup_printf("%s:%u: network '%s'", d->file, line ? line : net->line,
                               net->name);
}

static char *owner_of(const VmnetHostLink *l)
{
        if (!l->alias)
                return g_strdup("it has no vmnet alias");
        if (g_str_has_prefix(l->alias, VMNET_ALIAS_PREFIX))
                return g_strdup_printf("it belongs to vmnet plan '%s'",
                                       l->alias + strlen(VMNET_ALIAS_PREFIX));
        return g_strdup_printf("its alias is \"%s\"", l->alias);
}

/* --- the trunk's native VLAN on a VLAN-aware bridge -------------------------------- */

/*
 * A VLAN-aware bridge vmnet manages gives a new port no VLAN at all (default
 * PVID 0): a guest's tap plugged in by libvirt is in no VLAN until it is put
 * in its own, instead of landing in VLAN 1 with the trunk's untagged frames
 * and the host. Those stay in VLAN 1, as with the kernel's default, but
 * explicitly: VLAN 1 PVID untagged on the trunk port and on the bridge itself.
 */
#define NATIVE_VID 1
#define NATIVE_FLAGS (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED)

/* The flags of VLAN vid on l (a bridge port, or a bridge itself); -1 when it has none. */
static int vlan_flags(const VmnetHostLink *l, guint vid)
{
        for (guint i = 0; l && l->bridge_vlans && i < l->bridge_vlans->len; i++) {
                const VmnetHostBridgeVlan *v =
                        &g_array_index(l->bridge_vlans, VmnetHostBridgeVlan, i);

                if (v->vid == vid)
                        return v->flags;
        }
        return -1;
}

/*
 * The same once this run has set the default PVID of bridge (l's master, or
 * l itself): the kernel takes the old default PVID away from every port, and
 * from the bridge, where it is the PVID and untagged.
 */
static int vlan_flags_then(const Diff *d, const VmnetHostLink *l, const char *bridge, guint vid)
{
        int flags = vlan_flags(l, vid);
        guint dropped = GPOINTER_TO_UINT(g_hash_table_lookup(d->pvid_dropped, bridge));

        return dropped == vid && flags == NATIVE_FLAGS ? -1 : flags;
}

/*
 * VLAN 1, PVID untagged, on port (of bridge, or bridge itself) unless it
 * will be there; l is the port as observed, NULL for a new membership.
 */
static void want_native(Diff *d, int stage, const VmnetHostLink *l, const char *port,
                        const char *bridge)
{
        if (l && vlan_flags_then(d, l, bridge, NATIVE_VID) == NATIVE_FLAGS)
                return;
        emit(d, stage, vmnet_action_bridge_vlan(port, bridge, NATIVE_VID, NATIVE_FLAGS, TRUE,
                                                VMNET_IMPACT_SAFE));
}

/* l's master when the port steps run: none when this run deletes it. */
static const char *master_then(const Diff *d, const VmnetHostLink *l)
{
        if (l && l->master_name && !g_hash_table_contains(d->deleted, l->master_name))
                return l->master_name;
        return NULL;
}

/*
 * Right after the default PVID of an existing VLAN-aware bridge is set: the
 * bridge and the trunk ports it keeps get VLAN 1 back at once (a trunk the
 * run enslaves gets it in setup_ports()).
 */
static void bridge_native(Diff *d, const DesiredLink *dl, const VmnetHostLink *l)
{
        want_native(d, S_BRIDGES, l, dl->name, dl->name);
        for (guint i = 0; i < d->ports->len; i++) {
                const DesiredPort *p = g_ptr_array_index(d->ports, i);
                const VmnetHostLink *pl = live(d, p->name);

                if (!p->owned && g_str_equal(p->bridge, dl->name) &&
                    g_strcmp0(master_then(d, pl), dl->name) == 0)
                        want_native(d, S_BRIDGES, pl, p->name, dl->name);
        }
}

/* --- checks before any action ---------------------------------------------------- */

static gboolean check_names(Diff *d, GError **error)
{
        for (guint i = 0; i < d->bridges->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->bridges, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, dl->name);
                g_autofree char *w = NULL, *owner = NULL;

                if (!l || is_owned(d, l))
                        continue;
                w = where(d, dl->net, 0);
                owner = owner_of(l);
                if (dl->adopt && g_strcmp0(l->kind, "bridge") == 0)
                        continue;
                if (dl->adopt) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                                    "%s: link '%s' exists as a %s, not a bridge; adopt=\"yes\" "
                                    "can only take over a bridge",
                                    w, dl->name, l->kind ? l->kind : "network device");
                        return FALSE;
                }
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                            "%s: bridge name '%s' is taken by an existing %s that this plan does "
                            "not manage (%s); set adopt=\"yes\" on the network to take over an "
                            "existing bridge, or choose another bridge name",
                            w, dl->name, l->kind ? l->kind : "network device", owner);
                return FALSE;
        }
        for (guint i = 0; i < d->vlans->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->vlans, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, dl->name);
                g_autofree char *w = where(d, dl->net, dl->net->uplink->line);

                if (!vmnet_host_find_link(d->host, dl->parent) && !desired_bond(d, dl->parent)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                    "%s: uplink device '%s' does not exist", w, dl->parent);
                        return FALSE;
                }
                if (l && !is_owned(d, l)) {
                        g_autofree char *owner = owner_of(l);

                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                                    "%s: uplink link name '%s' is taken by an existing %s that "
                                    "this plan does not manage (%s); remove it, or give <uplink> "
                                    "another name=",
                                    w, dl->name, l->kind ? l->kind : "network device", owner);
                        return FALSE;
                }
        }
        for (guint i = 0; i < d->bonds->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->bonds, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, dl->name);
                g_autofree char *w = g_strdup_printf("%s:%u: bond '%s'", d->file, dl->bond->line,
                                                     dl->name);

                if (l && !is_owned(d, l)) {
                        g_autofree char *owner = owner_of(l);

                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                                    "%s: the name is taken by an existing %s that this plan does "
                                    "not manage (%s); remove it, or name the bond otherwise",
                                    w, l->kind ? l->kind : "network device", owner);
                        return FALSE;
                }
                for (guint j = 0; dl->bond->members[j]; j++) {
                        const char *m = dl->bond->members[j];
                        const VmnetHostLink *ml = vmnet_host_find_link(d->host, m);
                        const VmnetHostLink *master = ml ? vmnet_host_find_link(d->host,
                                                                                ml->master_name)
                                                         : NULL;

                        if (!ml) {
                                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                            "%s: member '%s' does not exist", w, m);
                                return FALSE;
                        }
                        if (master && !is_owned(d, master)) {
                                g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                                            "%s: member '%s' is already a port of '%s', which "
                                            "this plan does not manage; release it first",
                                            w, m, master->name);
                                return FALSE;
                        }
                }
        }
        for (guint i = 0; i < d->vxlans->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->vxlans, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, dl->name);
                g_autofree char *w = where(d, dl->net, dl->net->vxlan->line);

                if (dl->parent && !vmnet_host_find_link(d->host, dl->parent)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                    "%s: underlay device '%s' does not exist", w, dl->parent);
                        return FALSE;
                }
                if (l && !is_owned(d, l)) {
                        g_autofree char *owner = owner_of(l);

                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                                    "%s: vxlan link name '%s' is taken by an existing %s that "
                                    "this plan does not manage (%s); remove it, or give <vxlan> "
                                    "another name=",
                                    w, dl->name, l->kind ? l->kind : "network device", owner);
                        return FALSE;
                }
        }
        for (guint i = 0; i < d->ports->len; i++) {
                const DesiredPort *p = g_ptr_array_index(d->ports, i);
                g_autofree char *w = where(d, p->net, p->line);

                if (!p->owned && !vmnet_host_find_link(d->host, p->name)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                    "%s: uplink device '%s' does not exist", w, p->name);
                        return FALSE;
                }
        }
        return TRUE;
}

/* --- teardown: what the plan no longer has ----------------------------------------- */

static void teardown_sysctls(Diff *d)
{
        for (guint i = 0; vmnet_host_sysctl_keys[i]; i++) {
                const char *key = vmnet_host_sysctl_keys[i];
                const VmnetForeignChange *c = vmnet_foreign_state_find(d->rec, key, "sysctl");
                const char *cur = vmnet_host_sysctl(d->host, key);

                if (!c || !c->value || d->want_sysctl[i] || !cur || g_str_equal(cur, c->value))
                        continue;
                emit(d, T_SYSCTL, vmnet_action_sysctl(key, c->value, cur, VMNET_IMPACT_SAFE));
        }
}

static gboolean is_host_sysctl_key(const char *key)
{
        for (guint i = 0; vmnet_host_sysctl_keys[i]; i++)
                if (g_str_equal(key, vmnet_host_sysctl_keys[i]))
                        return TRUE;
        return FALSE;
}

/* Per-link sysctls vmnet set and the plan no longer wants: back to the recorded value. */
static void teardown_link_sysctls(Diff *d)
{
        for (guint i = 0; d->rec && i < d->rec->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(d->rec->changes, i);
                const char *cur;

                if (g_strcmp0(c->attr, "sysctl") != 0 || !c->value || is_host_sysctl_key(c->object) ||
                    g_hash_table_contains(d->link_sysctls, c->object))
                        continue;
                /* gone with its link: nothing to restore */
                cur = vmnet_host_sysctl(d->host, c->object);
                if (!cur || g_str_equal(cur, c->value))
                        continue;
                emit(d, T_SYSCTL, vmnet_action_sysctl(c->object, c->value, cur, VMNET_IMPACT_SAFE));
        }
}

static void teardown_l3(Diff *d)
{
        for (guint i = 0; i < d->host->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(d->host->routes, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, r->oif_name);
                g_autoptr(VmnetRouteSpec) rs = NULL;

                /* vmnet adds its routes as "static"; others are someone else's. */
                if (!l || !manages_l3(d, l) || r->protocol != RTPROT_STATIC || route_desired(d, r))
                        continue;
                rs = route_spec_from(r, l->name);
                emit(d, T_ROUTES, vmnet_action_route(rs, FALSE, VMNET_IMPACT_SAFE));
        }
        for (guint i = 0; i < d->host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(d->host->links, i);

                if (!manages_l3(d, l))
                        continue;
                for (guint j = 0; j < l->addrs->len; j++) {
                        const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, j);

                        if (a->scope >= RT_SCOPE_LINK || addr_desired(d, l->name, a))
                                continue;
                        emit(d, T_ADDRS, vmnet_action_addr(l->name, &a->addr, a->prefixlen, FALSE,
                                                           VMNET_IMPACT_SAFE));
                }
        }
}

static void teardown_bridge_vlans(Diff *d)
{
        for (guint i = 0; i < d->ports->len; i++) {
                const DesiredPort *p = g_ptr_array_index(d->ports, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, p->name);

                if (!p->vids->len || !l || !l->bridge_vlans ||
                    g_strcmp0(l->master_name, p->bridge) != 0)
                        continue;
                for (guint j = 0; j < l->bridge_vlans->len; j++) {
                        const VmnetHostBridgeVlan *v =
                                &g_array_index(l->bridge_vlans, VmnetHostBridgeVlan, j);
                        gboolean wanted = v->vid == NATIVE_VID;

                        for (guint k = 0; k < p->vids->len && !wanted; k++)
                                wanted = g_array_index(p->vids, guint, k) == v->vid;
                        if (!wanted)
                                emit(d, T_BVLANS,
                                     vmnet_action_bridge_vlan(p->name, p->bridge, v->vid,
                                                              v->flags, FALSE,
                                                              VMNET_IMPACT_SAFE));
                }
        }
}

static void teardown_migrations(Diff *d)
{
        for (guint i = 0; d->rec && i < d->rec->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(d->rec->changes, i);
                const DesiredPort *p;
                const VmnetHostLink *br, *dev;
                VmnetMigrateSpec *s;

                if (!g_str_equal(c->attr, "migrated") || !c->value)
                        continue;
                p = g_hash_table_lookup(d->port_by_name, c->object);
                if (p && p->migrate && g_str_equal(p->bridge, c->value))
                        continue;
                br = vmnet_host_find_link(d->host, c->value);
                dev = vmnet_host_find_link(d->host, c->object);
                if (!br || !dev)
                        continue;
                s = vmnet_migrate_spec_new(br->name, dev->name);
                for (guint j = 0; j < br->addrs->len; j++) {
                        const VmnetHostAddr *a = &g_array_index(br->addrs, VmnetHostAddr, j);
                        VmnetAddrSpec as = { .addr = a->addr, .prefixlen = a->prefixlen };

                        if (addr_movable(a) && !addr_desired(d, br->name, a))
                                g_array_append_val(s->addrs, as);
                }
                for (guint j = 0; j < br->routes->len; j++) {
                        const VmnetHostRoute *r = g_ptr_array_index(br->routes, j);

                        if (route_movable(r) && !route_desired(d, r))
                                g_ptr_array_add(s->routes, route_spec_from(r, NULL));
                }
                if (!s->addrs->len && !s->routes->len) {
                        vmnet_migrate_spec_free(s);
                        continue;
                }
                g_hash_table_insert(d->pending, dev->name, s);
                emit(d, T_UNMIGRATE, vmnet_action_migrate(s, VMNET_IMPACT_DISRUPTIVE));
        }
}

static void teardown_releases(Diff *d)
{
        for (guint i = 0; d->rec && i < d->rec->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(d->rec->changes, i);
                const VmnetHostLink *l, *m;
                const char *back;

                if (!g_str_equal(c->attr, "master") ||
                    g_hash_table_contains(d->port_by_name, c->object))
                        continue;
                l = vmnet_host_find_link(d->host, c->object);
                if (!l || !l->master_name)
                        continue;
                /* Only undo what is still vmnet's doing: a port of one of its bridges. */
                m = vmnet_host_find_link(d->host, l->master_name);
                if (!is_owned(d, m))
                        continue;
                back = c->value && vmnet_host_find_link(d->host, c->value) ? c->value : NULL;
                if (g_strcmp0(back, l->master_name) == 0)
                        continue;
                g_hash_table_add(d->released, g_strdup(l->name));
                set_str(d, T_RELEASE, l->name, VMNET_LINK_ATTR_MASTER, back, l->master_name, TRUE,
                        VMNET_IMPACT_DISRUPTIVE);
        }
}

static void teardown_links(Diff *d)
{
        for (guint i = 0; i < d->host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(d->host->links, i);

                if (!is_owned(d, l) || g_hash_table_contains(d->desired, l->name) ||
                    g_hash_table_contains(d->port_by_name, l->name) || recorded_adopted(d->rec, l->name))
                        continue;
                if (g_strcmp0(l->kind, "bridge") != 0 && g_strcmp0(l->kind, "vlan") != 0 &&
                    g_strcmp0(l->kind, "vxlan") != 0 && g_strcmp0(l->kind, "bond") != 0) {
                        if (d->warnings)
                                vmnet_diags_add(d->warnings, d->file, 0,
                                                "link '%s' carries vmnet's alias \"%s\" but is a "
                                                "%s, which vmnet never creates; left alone",
                                                l->name, d->alias,
                                                l->kind ? l->kind : "network device");
                        continue;
                }
                g_hash_table_add(d->deleted, g_strdup(l->name));
        }
        for (guint i = 0; i < d->host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(d->host->links, i);
                VmnetLinkSpec *s;

                if (!g_hash_table_contains(d->deleted, l->name))
                        continue;
                s = observed_spec(d, l);
                emit(d, s->kind == VMNET_LINK_KIND_BRIDGE || s->kind == VMNET_LINK_KIND_BOND ?
                             T_DEL_LINKS : T_DEL_VLANS,
                     vmnet_action_link_delete(s, s->ports->len ? VMNET_IMPACT_DISRUPTIVE :
                                                                 VMNET_IMPACT_SAFE));
        }
}

static void teardown_foreign(Diff *d)
{
        for (guint i = 0; d->rec && i < d->rec->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(d->rec->changes, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, c->object);

                /* An adopted bridge's records are teardown_adopted()'s. */
                if (!l || recorded_adopted(d->rec, c->object))
                        continue;
                if (g_str_equal(c->attr, "mtu") && c->value &&
                    !g_hash_table_contains(d->foreign_mtu, c->object)) {
                        guint old = (guint)g_ascii_strtoull(c->value, NULL, 10);

                        if (old && old != l->mtu)
                                set_num(d, T_MTU_RESTORE, l->name, VMNET_LINK_ATTR_MTU, old,
                                        l->mtu, TRUE, VMNET_IMPACT_DISRUPTIVE);
                }
        }
}

/*
 * With STP on, the kernel refuses a forward delay outside 2..30 s. So the
 * delay changes while STP is off: before STP goes on, after it goes off.
 * Each order is the reverse of the other, so the undo (inverses in reverse)
 * is valid too. stp and fd < 0: leave as is.
 */
static void set_stp(Diff *d, int stage, const VmnetHostLink *l, int stp, int fd, gboolean foreign)
{
        gboolean change_stp = stp >= 0 && stp != l->stp_state;
        gboolean change_fd = fd >= 0 && fd != l->forward_delay;
        guint old_fd = l->forward_delay >= 0 ? (guint)l->forward_delay : 0;

        if (change_stp && stp == 0)
                set_num(d, stage, l->name, VMNET_LINK_ATTR_STP, 0, l->stp_state > 0, foreign,
                        VMNET_IMPACT_SAFE);
        if (change_fd)
                set_num(d, stage, l->name, VMNET_LINK_ATTR_FORWARD_DELAY, (guint)fd, old_fd,
                        foreign, VMNET_IMPACT_SAFE);
        if (change_stp && stp != 0)
                set_num(d, stage, l->name, VMNET_LINK_ATTR_STP, 1, l->stp_state > 0, foreign,
                        VMNET_IMPACT_SAFE);
}

/* The recorded value of attr on link, as a number; -1 when none is recorded. */
static int recorded_num(const Diff *d, const char *link, const char *attr)
{
        const VmnetForeignChange *c = vmnet_foreign_state_find(d->rec, link, attr);

        return c && c->value ? (int)g_ascii_strtoll(c->value, NULL, 10) : -1;
}

/* The addresses and routes vmnet added to an adopted bridge: all of them, or those the plan no longer has. */
static void remove_added_l3(Diff *d, const VmnetHostLink *l, gboolean all)
{
        for (guint i = 0; i < l->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(l->routes, i);
                g_autofree char *attr = added_route_attr(&r->dst);
                g_autoptr(VmnetRouteSpec) rs = NULL;

                if (r->protocol != RTPROT_STATIC || !vmnet_foreign_state_find(d->rec, l->name, attr) ||
                    (!all && route_desired(d, r)))
                        continue;
                rs = route_spec_from(r, l->name);
                emit(d, T_ROUTES, vmnet_action_route(rs, FALSE, VMNET_IMPACT_SAFE));
        }
        for (guint i = 0; i < l->addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, i);
                VmnetAddrSpec as = { .addr = a->addr, .prefixlen = a->prefixlen };
                g_autofree char *attr = added_address_attr(&as);

                if (!vmnet_foreign_state_find(d->rec, l->name, attr) ||
                    (!all && addr_desired(d, l->name, a)))
                        continue;
                emit(d, T_ADDRS, vmnet_action_addr(l->name, &a->addr, a->prefixlen, FALSE,
                                                   VMNET_IMPACT_SAFE));
        }
}

/* Each attribute vmnet changed goes back to what it was; the alias last, which ends the adoption. */
static void give_back(Diff *d, const VmnetHostLink *l)
{
        const VmnetForeignChange *mac = vmnet_foreign_state_find(d->rec, l->name, "mac");
        const VmnetForeignChange *alias = vmnet_foreign_state_find(d->rec, l->name, "alias");
        int mtu = recorded_num(d, l->name, "mtu");
        int vf = recorded_num(d, l->name, "vlan-filtering");
        int pvid = recorded_num(d, l->name, "default-pvid");
        int up = recorded_num(d, l->name, "up");
        VmnetMac m;

        if (mtu > 0 && (guint)mtu != l->mtu)
                set_num(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_MTU, (guint)mtu, l->mtu, TRUE,
                        VMNET_IMPACT_SAFE);
        if (mac && mac->value && vmnet_mac_parse(mac->value, &m) &&
            (!l->has_mac || !vmnet_mac_equal(&m, &l->mac))) {
                VmnetLinkValue v = { .mac = m }, o = { .mac = l->mac };

                emit(d, T_UNADOPT, vmnet_action_link_set(l->name, VMNET_LINK_ATTR_MAC, &v, &o, TRUE,
                                                         VMNET_IMPACT_SAFE));
        }
        /* The kernel gives the default PVID back to the ports (and the bridge) without a VLAN 1. */
        if (pvid >= 0 && pvid != l->vlan_default_pvid)
                set_num(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_DEFAULT_PVID, (guint)pvid,
                        (guint)MAX(l->vlan_default_pvid, 0), TRUE, VMNET_IMPACT_SAFE);
        if (vf >= 0 && vf != l->vlan_filtering)
                set_num(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_VLAN_FILTERING, (guint)vf,
                        l->vlan_filtering > 0, TRUE, VMNET_IMPACT_SAFE);
        set_stp(d, T_UNADOPT, l, recorded_num(d, l->name, "stp"),
                recorded_num(d, l->name, "forward-delay"), TRUE);
        if (up == 0 && l->up)
                set_num(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_UP, 0, 1, TRUE, VMNET_IMPACT_SAFE);
        set_str(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_ALIAS, alias->value, l->alias, TRUE,
                VMNET_IMPACT_SAFE);
}

/*
 * A bridge taken over with adopt="yes" was someone's before: vmnet removes
 * what it added (addresses and routes, recorded as it added them) once the
 * plan no longer has them, and when the network leaves the plan, or the plan
 * is destroyed, gives the bridge back as it found it.
 */
static void teardown_adopted(Diff *d)
{
        for (guint i = 0; d->rec && i < d->rec->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(d->rec->changes, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, c->object);
                gboolean stays;

                if (!g_str_equal(c->attr, "alias") || !is_owned(d, l) ||
                    g_strcmp0(l->kind, "bridge") != 0)
                        continue;
                stays = g_hash_table_contains(d->desired, l->name);
                remove_added_l3(d, l, !stays);
                if (!stays)
                        give_back(d, l);
        }
}

/* --- setup: what the plan wants ---------------------------------------------------- */

static void recreate(Diff *d, int stage, const VmnetHostLink *l, VmnetLinkSpec *want)
{
        emit(d, stage, vmnet_action_link_delete(observed_spec(d, l), VMNET_IMPACT_RECREATE));
        g_hash_table_add(d->deleted, g_strdup(l->name));
        emit(d, stage, vmnet_action_link_create(want, VMNET_IMPACT_RECREATE));
}

static void setup_bridges(Diff *d)
{
        for (guint i = 0; i < d->bridges->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->bridges, i);
                const VmnetHostLink *l = live(d, dl->name);
                gboolean adopted;

                if (!l || g_strcmp0(l->kind, "bridge") != 0) {
                        if (!l)
                                emit(d, S_BRIDGES, vmnet_action_link_create(desired_spec(d, dl),
                                                                            VMNET_IMPACT_SAFE));
                        else /* check_names() let through only a link vmnet owns. */
                                recreate(d, S_BRIDGES, l, desired_spec(d, dl));
                        if (dl->default_pvid == 0)
                                want_native(d, S_BRIDGES, NULL, dl->name, dl->name);
                        continue;
                }
                /* Taken over now, or before: what it was is recorded, to give it back. */
                adopted = !is_owned(d, l) || recorded_adopted(d->rec, l->name);
                if (!is_owned(d, l))
                        set_str(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_ALIAS, d->alias, l->alias,
                                TRUE, VMNET_IMPACT_SAFE);
                else
                        mark_owned(d, S_BRIDGES, l);
                if (dl->mtu && dl->mtu != l->mtu)
                        set_num(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_MTU, dl->mtu, l->mtu,
                                adopted, VMNET_IMPACT_SAFE);
                if (dl->has_mac && (!l->has_mac || !vmnet_mac_equal(&dl->mac, &l->mac))) {
                        VmnetLinkValue v = { .mac = dl->mac }, o = { .mac = l->mac };

                        emit(d, S_BRIDGES, vmnet_action_link_set(l->name, VMNET_LINK_ATTR_MAC, &v,
                                                                 &o, adopted, VMNET_IMPACT_SAFE));
                }
                set_stp(d, S_BRIDGES, l, dl->stp, dl->forward_delay, adopted);
                if (dl->vlan_filtering >= 0 && dl->vlan_filtering != l->vlan_filtering)
                        set_num(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_VLAN_FILTERING,
                                (guint)dl->vlan_filtering, l->vlan_filtering > 0, adopted,
                                VMNET_IMPACT_SAFE);
                if (dl->default_pvid >= 0 && dl->default_pvid != l->vlan_default_pvid) {
                        /* Unknown: a kernel without VLAN filtering; its default is 1. */
                        guint cur = l->vlan_default_pvid >= 0 ? (guint)l->vlan_default_pvid : 1;

                        set_num(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_DEFAULT_PVID,
                                (guint)dl->default_pvid, cur, adopted, VMNET_IMPACT_SAFE);
                        if (cur)
                                g_hash_table_insert(d->pvid_dropped, dl->name,
                                                    GUINT_TO_POINTER(cur));
                }
                if (dl->default_pvid == 0)
                        bridge_native(d, dl, l);
                if (!l->up)
                        set_num(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_UP, 1, 0, adopted,
                                VMNET_IMPACT_SAFE);
        }
}

static void setup_foreign_mtu(Diff *d)
{
        for (guint i = 0; i < d->mtu_names->len; i++) {
                const char *name = g_ptr_array_index(d->mtu_names, i);
                guint want = GPOINTER_TO_UINT(g_hash_table_lookup(d->foreign_mtu, name));
                const VmnetHostLink *l = vmnet_host_find_link(d->host, name);

                /* Raised, never lowered: the uplink may carry other traffic with its own needs. */
                if (l && l->mtu < want)
                        set_num(d, S_FOREIGN_MTU, name, VMNET_LINK_ATTR_MTU, want, l->mtu, TRUE,
                                VMNET_IMPACT_DISRUPTIVE);
        }
}

static void setup_vlans(Diff *d)
{
        for (guint i = 0; i < d->vlans->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->vlans, i);
                const VmnetHostLink *l = live(d, dl->name);

                if (!l) {
                        emit(d, S_VLANS, vmnet_action_link_create(desired_spec(d, dl),
                                                                  VMNET_IMPACT_SAFE));
                        continue;
                }
                /* The kernel cannot change a VLAN's id or parent in place. */
                if (g_strcmp0(l->kind, "vlan") != 0 || l->vlan_id != dl->vlan_id ||
                    g_strcmp0(l->link_name, dl->parent) != 0) {
                        recreate(d, S_VLANS, l, desired_spec(d, dl));
                        continue;
                }
                mark_owned(d, S_VLANS, l);
                if (dl->mtu && dl->mtu != l->mtu)
                        set_num(d, S_VLANS, l->name, VMNET_LINK_ATTR_MTU, dl->mtu, l->mtu, FALSE,
                                VMNET_IMPACT_SAFE);
                if (!l->up)
                        set_num(d, S_VLANS, l->name, VMNET_LINK_ATTR_UP, 1, 0, FALSE,
                                VMNET_IMPACT_SAFE);
        }
}

/* --- bonds ------------------------------------------------------------------------- */

/*
 * Members vmnet enslaved ("bond" records) that the plan no longer puts in
 * the bond they are in: released, and up again when they were up.
 */
static void teardown_bond_members(Diff *d)
{
        for (guint i = 0; d->rec && i < d->rec->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(d->rec->changes, i);
                const VmnetHostLink *l, *m;

                if (!g_str_equal(c->attr, "bond"))
                        continue;
                l = vmnet_host_find_link(d->host, c->object);
                if (!l || !l->master_name ||
                    g_strcmp0(g_hash_table_lookup(d->bond_of, l->name), l->master_name) == 0)
                        continue;
                m = vmnet_host_find_link(d->host, l->master_name);
                if (!is_owned(d, m) || g_strcmp0(m->kind, "bond") != 0)
                        continue;
                g_hash_table_add(d->released, g_strdup(l->name));
                emit(d, T_BOND_RELEASE,
                     vmnet_action_bond_member(l->name, m->name, g_strcmp0(c->value, "up") == 0,
                                              FALSE, VMNET_IMPACT_DISRUPTIVE));
        }
}

/* The kernel cannot change a bond's mode while it has members: any difference re-creates it. */
static gboolean bond_same(const DesiredLink *dl, const VmnetHostLink *l)
{
        const VmnetBond *b = dl->bond;

        return g_strcmp0(l->kind, "bond") == 0 && l->bond_mode == b->mode &&
               (b->miimon < 0 || l->bond_miimon == b->miimon) &&
               (b->lacp_rate < 0 || l->bond_lacp_rate == b->lacp_rate) &&
               (b->xmit_hash_policy < 0 || l->bond_xmit_hash_policy == b->xmit_hash_policy);
}

static void setup_bonds(Diff *d)
{
        for (guint i = 0; i < d->bonds->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->bonds, i);
                const VmnetHostLink *l = live(d, dl->name);

                if (!l) {
                        emit(d, S_BONDS, vmnet_action_link_create(desired_spec(d, dl),
                                                                  VMNET_IMPACT_SAFE));
                } else if (!bond_same(dl, l)) {
                        recreate(d, S_BONDS, l, desired_spec(d, dl));
                } else {
                        mark_owned(d, S_BONDS, l);
                        if (dl->mtu && dl->mtu != l->mtu)
                                set_num(d, S_BONDS, l->name, VMNET_LINK_ATTR_MTU, dl->mtu, l->mtu,
                                        FALSE, VMNET_IMPACT_SAFE);
                        if (!l->up)
                                set_num(d, S_BONDS, l->name, VMNET_LINK_ATTR_UP, 1, 0, FALSE,
                                        VMNET_IMPACT_SAFE);
                }
                for (guint j = 0; dl->bond->members[j]; j++) {
                        const VmnetHostLink *ml = vmnet_host_find_link(d->host,
                                                                       dl->bond->members[j]);

                        /* Mutant bond-member: the last member is left out. */
                        if (VMNET_MUTANT_IS(BOND_MEMBER) && !dl->bond->members[j + 1])
                                continue;
                        /* check_names() made sure it exists; the NIC goes down for a moment. */
                        if (ml && g_strcmp0(master_then(d, ml), dl->name) != 0)
                                emit(d, S_BOND_MEMBERS,
                                     vmnet_action_bond_member(ml->name, dl->name, ml->up, TRUE,
                                                              VMNET_IMPACT_DISRUPTIVE));
                }
        }
}

/* --- VXLAN segments ----------------------------------------------------------------- */

static gboolean addr_in(const GArray *list, const VmnetAddr *a)
{
        for (guint i = 0; list && i < list->len; i++)
                if (vmnet_addr_equal(&g_array_index(list, VmnetAddr, i), a))
                        return TRUE;
        return FALSE;
}

/* The kernel cannot change a VXLAN's VNI, port, local address or underlay in place. */
static gboolean vxlan_same(const DesiredLink *dl, const VmnetHostLink *l)
{
        return g_strcmp0(l->kind, "vxlan") == 0 && l->vxlan_id == dl->vni &&
               l->vxlan_port == dl->port && g_strcmp0(l->vxlan_link_name, dl->parent) == 0 &&
               (dl->local.family ? vmnet_addr_equal(&l->vxlan_local, &dl->local) :
                                   !l->vxlan_local.family);
}

/*
 * Flood entries of an owned VXLAN link the plan no longer has (a host
 * removed from the fleet or from the network): only those go, the link and
 * the other entries stay.
 */
static void teardown_fdb(Diff *d)
{
        for (guint i = 0; i < d->vxlans->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->vxlans, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, dl->name);

                if (!l || !is_owned(d, l) || !vxlan_same(dl, l) || !l->fdb_flood)
                        continue;
                for (guint j = 0; j < l->fdb_flood->len; j++) {
                        const VmnetAddr *a = &g_array_index(l->fdb_flood, VmnetAddr, j);

                        if (!addr_in(dl->fdb, a))
                                emit(d, T_FDB, vmnet_action_fdb(l->name, a, FALSE,
                                                                VMNET_IMPACT_SAFE));
                }
        }
}

static void setup_vxlans(Diff *d)
{
        for (guint i = 0; i < d->vxlans->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->vxlans, i);
                const VmnetHostLink *l = live(d, dl->name);

                if (!l) {
                        emit(d, S_VXLANS, vmnet_action_link_create(desired_spec(d, dl),
                                                                   VMNET_IMPACT_SAFE));
                        continue;
                }
                if (!vxlan_same(dl, l)) {
                        recreate(d, S_VXLANS, l, desired_spec(d, dl));
                        continue;
                }
                mark_owned(d, S_VXLANS, l);
                if (dl->mtu && dl->mtu != l->mtu)
                        set_num(d, S_VXLANS, l->name, VMNET_LINK_ATTR_MTU, dl->mtu, l->mtu, FALSE,
                                VMNET_IMPACT_SAFE);
                if (!l->up)
                        set_num(d, S_VXLANS, l->name, VMNET_LINK_ATTR_UP, 1, 0, FALSE,
                                VMNET_IMPACT_SAFE);
                for (guint j = 0; j < dl->fdb->len; j++) {
                        const VmnetAddr *a = &g_array_index(dl->fdb, VmnetAddr, j);

                        if (!addr_in(l->fdb_flood, a))
                                emit(d, S_FDB, vmnet_action_fdb(l->name, a, TRUE,
                                                                VMNET_IMPACT_SAFE));
                }
        }
}

static char *describe_l3(const GArray *addrs, const GPtrArray *routes)
{
        g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < addrs->len; i++) {
                const VmnetAddrSpec *as = &g_array_index(addrs, VmnetAddrSpec, i);
                g_autofree char *s = vmnet_addr_to_string(&as->addr);

                g_ptr_array_add(parts, g_strdup_printf("%s/%u", s, as->prefixlen));
        }
        for (guint i = 0; i < routes->len; i++) {
                const VmnetRouteSpec *r = g_ptr_array_index(routes, i);

                if (r->dst.prefix == 0)
                        g_ptr_array_add(parts, g_strdup("the default route"));
        }
        if (parts->len > 1) {
                /* "a, b and c" */
                g_autofree char *last = g_ptr_array_steal_index(parts, parts->len - 1);
                g_autofree char *head = NULL;

                g_ptr_array_add(parts, NULL);
                head = g_strjoinv(", ", (char **)parts->pdata);
                return g_strdup_printf("%s and %s", head, last);
        }
        return g_strdup(parts->len ? g_ptr_array_index(parts, 0) : "");
}

/* The addresses and routes dev will have when its port step runs. */
static VmnetMigrateSpec *effective_l3(const Diff *d, const VmnetHostLink *dev,
                                      const char *bridge)
{
        const VmnetMigrateSpec *back = g_hash_table_lookup(d->pending, dev->name);
        VmnetMigrateSpec *s = vmnet_migrate_spec_new(dev->name, bridge);

        for (guint i = 0; i < dev->addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(dev->addrs, VmnetHostAddr, i);
                VmnetAddrSpec as = { .addr = a->addr, .prefixlen = a->prefixlen };

                if (addr_movable(a))
                        g_array_append_val(s->addrs, as);
        }
        for (guint i = 0; i < dev->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(dev->routes, i);

                if (route_movable(r))
                        g_ptr_array_add(s->routes, route_spec_from(r, NULL));
        }
        if (back) {
                g_array_append_vals(s->addrs, back->addrs->data, back->addrs->len);
                for (guint i = 0; i < back->routes->len; i++)
                        g_ptr_array_add(s->routes,
                                        vmnet_route_spec_copy(g_ptr_array_index(back->routes, i)));
        }
        return s;
}

static gboolean setup_ports(Diff *d, GError **error)
{
        for (guint i = 0; i < d->ports->len; i++) {
                const DesiredPort *p = g_ptr_array_index(d->ports, i);
                const VmnetHostLink *l = live(d, p->name);
                const DesiredLink *br = g_hash_table_lookup(d->desired, p->bridge);
                const char *cur = NULL;
                gboolean enslave;
                g_autoptr(VmnetMigrateSpec) l3 = NULL;
                g_autofree char *w = where(d, p->net, p->line);

                if (!p->owned && !l)
                        continue; /* check_names() made sure it exists */
                /* A master deleted earlier in this run has released the port. */
                cur = master_then(d, l);
                enslave = g_strcmp0(cur, p->bridge) != 0;
                if (!p->owned)
                        l3 = effective_l3(d, l, p->bridge);
                if (enslave && !p->owned) {
                        const VmnetHostLink *m = vmnet_host_find_link(d->host, cur);
                        gboolean strands = l3->addrs->len > 0;

                        if (cur && !is_owned(d, m)) {
                                g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                                            "%s: uplink '%s' is already a port of '%s', which "
                                            "this plan does not manage; release it first",
                                            w, p->name, cur);
                                return FALSE;
                        }
                        for (guint j = 0; j < l3->routes->len; j++)
                                strands |= ((VmnetRouteSpec *)g_ptr_array_index(l3->routes, j))
                                                   ->dst.prefix == 0;
                        if (strands && !p->migrate) {
                                g_autofree char *what = describe_l3(l3->addrs, l3->routes);

                                g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                                            "%s: uplink '%s' carries %s; enslaving it to bridge "
                                            "'%s' would leave them on a bridge port, where they "
                                            "stop working, and could cut this host off the "
                                            "network. Set migrate-addresses=\"yes\" on <uplink> "
                                            "to move them (and %s's MAC) to the bridge in the "
                                            "same step, or move them to the bridge yourself "
                                            "first",
                                            w, p->name, what, p->bridge, p->name);
                                return FALSE;
                        }
                }
                if (enslave)
                        set_str(d, S_PORTS, p->name, VMNET_LINK_ATTR_MASTER, p->bridge, cur,
                                !p->owned,
                                p->owned ? VMNET_IMPACT_SAFE : VMNET_IMPACT_DISRUPTIVE);
                /* A new port of a VLAN-aware bridge is in no VLAN: the native one first,
                 * before the host's addresses move to the bridge. */
                if (enslave && !p->owned && br->default_pvid == 0)
                        want_native(d, S_PORTS, NULL, p->name, p->bridge);
                if (!p->owned && p->migrate && (l3->addrs->len || l3->routes->len)) {
                        const VmnetHostLink *bl = live(d, p->bridge);
                        VmnetMigrateSpec *s = g_steal_pointer(&l3);

                        /* Field note 9: the bridge keeps the NIC's MAC, so DHCP keeps the lease. */
                        if (!br->has_mac && l->has_mac) {
                                s->mac_link = g_strdup(p->bridge);
                                s->mac = l->mac;
                                s->has_old_mac = bl && bl->has_mac;
                                if (bl)
                                        s->old_mac = bl->mac;
                                if (bl && bl->has_mac && vmnet_mac_equal(&bl->mac, &l->mac))
                                        g_clear_pointer(&s->mac_link, g_free);
                        }
                        emit(d, S_PORTS, vmnet_action_migrate(s, VMNET_IMPACT_DISRUPTIVE));
                }
                for (guint j = 0; j < p->vids->len; j++) {
                        guint vid = g_array_index(p->vids, guint, j);

                        /* VLAN 1 is the native VLAN, untagged: not also tagged. */
                        if (vid == NATIVE_VID && br->default_pvid == 0)
                                continue;
                        if (!enslave && vlan_flags_then(d, l, p->bridge, vid) >= 0)
                                continue;
                        emit(d, S_PORTS, vmnet_action_bridge_vlan(p->name, p->bridge, vid, 0, TRUE,
                                                                  VMNET_IMPACT_SAFE));
                }
        }
        return TRUE;
}

static void warn_overlaps(Diff *d, const DesiredAddr *da)
{
        g_autofree char *as = vmnet_addr_to_string(&da->addr);
        g_autofree char *cidr = g_strdup_printf("%s/%u", as, da->prefixlen);
        VmnetPrefix want;

        if (!d->warnings || !vmnet_prefix_parse(cidr, &want, NULL))
                return;
        for (guint i = 0; i < d->host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(d->host->links, i);

                if (g_str_equal(l->name, da->link) || g_hash_table_contains(d->deleted, l->name))
                        continue;
                for (guint j = 0; j < l->addrs->len; j++) {
                        const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, j);
                        g_autofree char *s = NULL, *c = NULL;
                        VmnetPrefix have;

                        if (a->scope >= RT_SCOPE_LINK || a->addr.family != da->addr.family)
                                continue;
                        s = vmnet_addr_to_string(&a->addr);
                        c = g_strdup_printf("%s/%u", s, a->prefixlen);
                        if (vmnet_prefix_parse(c, &have, NULL) &&
                            vmnet_prefix_overlaps(&want, &have))
                                vmnet_diags_add(d->warnings, d->file, da->net->line,
                                                "network '%s': %s on %s overlaps %s on %s, which "
                                                "is already in use on this host",
                                                da->net->name, cidr, da->link, c, l->name);
                }
        }
}

static void setup_l3(Diff *d)
{
        for (guint i = 0; i < d->addrs->len; i++) {
                const DesiredAddr *da = g_ptr_array_index(d->addrs, i);

                if (link_has_addr(live(d, da->link), &da->addr, da->prefixlen))
                        continue;
                warn_overlaps(d, da);
                emit(d, S_ADDRS, vmnet_action_addr(da->link, &da->addr, da->prefixlen, TRUE,
                                                   VMNET_IMPACT_SAFE));
        }
        for (guint i = 0; i < d->routes->len; i++) {
                const VmnetRouteSpec *rs = g_ptr_array_index(d->routes, i);
                gboolean found = FALSE;

                for (guint j = 0; j < d->host->routes->len && !found; j++) {
                        const VmnetHostRoute *r = g_ptr_array_index(d->host->routes, j);

                        found = route_matches(r, rs) && live(d, r->oif_name);
                }
                if (!found)
                        emit(d, S_ROUTES, vmnet_action_route(rs, TRUE, VMNET_IMPACT_SAFE));
        }
}

static void setup_sysctls(Diff *d)
{
        for (guint i = 0; vmnet_host_sysctl_keys[i]; i++) {
                const char *key = vmnet_host_sysctl_keys[i];
                const char *cur = vmnet_host_sysctl(d->host, key);
                gboolean v6 = i == 1;

                if (!d->want_sysctl[i] || g_strcmp0(cur, "1") == 0)
                        continue;
                if (!cur) {
                        if (d->warnings)
                                vmnet_diags_add(d->warnings, d->file, 0,
                                                "sysctl %s is not available (is IPv%s "
                                                "disabled?); routed and NAT networks of that "
                                                "family will not forward",
                                                key, v6 ? "6" : "4");
                        continue;
                }
                if (v6 && d->warnings)
                        vmnet_diags_add(d->warnings, d->file, 0,
                                        "enabling %s makes interfaces with accept_ra=1 ignore "
                                        "router advertisements; set accept_ra=2 on the host's "
                                        "uplink if it configures IPv6 from them",
                                        key);
                emit(d, S_SYSCTL, vmnet_action_sysctl(key, "1", cur,
                                                      v6 ? VMNET_IMPACT_DISRUPTIVE :
                                                           VMNET_IMPACT_SAFE));
        }
}

/*
 * Bridges where the host must have no presence (isolated networks, bridged
 * ones that are not the host's uplink): no IPv6 at all, so no link-local
 * address and no router advertisement taken from a guest or the LAN
 * (disable_ipv6=1), and no ARP answer for any host address (arp_ignore=8),
 * so a guest cannot find the host as a gateway. The forward and input
 * chains drop what is sent to the host's MAC all the same.
 */
static void want_link_sysctls(Diff *d, const VmnetPlan *plan)
{
        static const struct {
                const char *family, *knob, *value;
        } knobs[] = {
                { "ipv6", "disable_ipv6", "1" },
                { "ipv4", "arp_ignore", "8" },
        };

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);

                if (!net->bridge || !vmnet_network_host_absent(plan, net) ||
                    VMNET_MUTANT_IS(HOST_PRESENT))
                        continue;
                for (guint k = 0; k < G_N_ELEMENTS(knobs); k++)
                        g_hash_table_insert(d->link_sysctls,
                                            vmnet_link_sysctl_key(knobs[k].family, net->bridge,
                                                                  knobs[k].knob),
                                            (gpointer)knobs[k].value);
        }
}

/*
 * Right after the bridges are made, before any port joins. A bridge this
 * run creates has no value to restore ("was unset": rollback deletes it);
 * an existing one's value is recorded, and destroy puts it back.
 */
static void setup_link_sysctls(Diff *d)
{
        g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(d->link_sysctls),
                                            (GCompareFunc)strcmp);

        for (GList *k = keys; k; k = k->next) {
                const char *key = k->data;
                const char *want = g_hash_table_lookup(d->link_sysctls, key);
                const char *cur = vmnet_host_sysctl(d->host, key);
                g_auto(GStrv) parts = g_strsplit(key, ".", -1);
                /* net.FAMILY.conf.LINK.KNOB: the link, its '.' written '/' */
                g_autofree char *link = g_strdelimit(g_strdup(parts[3]), "/", '.');
                gboolean exists = live(d, link) != NULL;

                if (exists && (!cur || g_str_equal(cur, want)))
                        continue; /* no IPv6 on this host, or already so */
                /* a bridge still to be made, on a host without IPv6: no such file to write */
                if (!exists && g_str_has_prefix(key, "net.ipv6.") &&
                    !vmnet_host_sysctl(d->host, "net.ipv6.conf.all.forwarding"))
                        continue;
                emit(d, S_LINK_SYSCTL,
                     vmnet_action_sysctl(key, want, exists ? cur : NULL, VMNET_IMPACT_SAFE));
        }
}

static gboolean run(Diff *d, const VmnetPlan *plan, GPtrArray *actions, GError **error)
{
        if (plan) {
                build_desired(d, plan);
                want_link_sysctls(d, plan);
        }
        collect_migration_targets(d);
        if (!check_names(d, error))
                return FALSE;
        teardown_sysctls(d);
        teardown_link_sysctls(d);
        teardown_l3(d);
        teardown_bridge_vlans(d);
        teardown_fdb(d);
        teardown_migrations(d);
        teardown_releases(d);
        teardown_bond_members(d);
        teardown_links(d);
        teardown_foreign(d);
        teardown_adopted(d);
        setup_bonds(d);
        setup_bridges(d);
        setup_link_sysctls(d);
        setup_foreign_mtu(d);
        setup_vlans(d);
        setup_vxlans(d);
        if (!setup_ports(d, error))
                return FALSE;
        setup_l3(d);
        setup_sysctls(d);
        for (int i = 0; i < N_STAGES; i++) {
                for (guint j = 0; j < d->stage[i]->len; j++)
                        g_ptr_array_add(actions, g_ptr_array_index(d->stage[i], j));
                /* The actions now belong to the caller's array. */
                g_ptr_array_set_free_func(d->stage[i], NULL);
        }
        return TRUE;
}

gboolean vmnet_diff_links(const VmnetPlan *plan, const VmnetHost *host,
                          const VmnetForeignState *recorded, GPtrArray *actions,
                          VmnetDiags *warnings, GError **error)
{
        Diff d;
        gboolean ok;

        diff_init(&d, plan->file, plan->name, host, recorded, warnings);
        ok = run(&d, plan, actions, error);
        diff_clear(&d);
        return ok;
}

gboolean vmnet_diff_links_destroy(const char *plan_name, const VmnetHost *host,
                                  const VmnetForeignState *recorded, GPtrArray *actions,
                                  VmnetDiags *warnings, GError **error)
{
        Diff d;
        gboolean ok;

        diff_init(&d, plan_name, plan_name, host, recorded, warnings);
        ok = run(&d, NULL, actions, error);
        diff_clear(&d);
        return ok;
}
