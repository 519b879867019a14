/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "actions/kernel.h"
#include "diff/links-private.h"
#include "diff/links.h"
#include "util/mutant.h"

#ifndef RTPROT_RA
#define RTPROT_RA 9
#endif

char *vmnet_link_alias_for_plan(const char *plan_name)
{
        return g_strconcat(VMNET_ALIAS_PREFIX, plan_name, NULL);
}

/* --- desired state ------------------------------------------------------------ */

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

void vmnet_links_emit(Diff *d, int stage, VmnetAction *a)
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

/* A VLAN the trunk port p carries tagged (once, whichever networks and port groups want it). */
static void want_vid(DesiredPort *p, guint vid)
{
        for (guint i = 0; i < p->vids->len; i++)
                if (g_array_index(p->vids, guint, i) == vid)
                        return;
        if (vid)
                g_array_append_val(p->vids, vid);
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
                        if (net->vlan_aware)
                                want_vid(p, u->vlan);
                        /*
                         * A port group with a VLAN of its own, or a guest
                         * trunk's VLANs: the uplink carries them too.
                         */
                        for (guint j = 0; net->vlan_aware && j < net->portgroups->len; j++) {
                                const VmnetPortgroup *pg = g_ptr_array_index(net->portgroups, j);

                                want_vid(p, pg->vlan);
                                for (guint k = 0; pg->has_trunk && k < pg->trunk.n_tagged; k++)
                                        want_vid(p, pg->trunk.tagged[k]);
                                if (pg->has_trunk)
                                        want_vid(p, pg->trunk.untagged);
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
gboolean vmnet_links_is_owned(const Diff *d, const VmnetHostLink *l)
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
VmnetHostLink *vmnet_links_live(const Diff *d, const char *name)
{
        if (!name || g_hash_table_contains(d->deleted, name))
                return NULL;
        return vmnet_host_find_link(d->host, name);
}

/* Addresses that belong to the host's configuration: not link-local, not SLAAC. */
gboolean vmnet_links_addr_movable(const VmnetHostAddr *a)
{
        if (a->scope >= RT_SCOPE_LINK)
                return FALSE;
        return a->addr.family != AF_INET6 || (a->flags & IFA_F_PERMANENT);
}

/* Routes someone configured, as opposed to those the kernel or an RA made. */
gboolean vmnet_links_route_movable(const VmnetHostRoute *r)
{
        return r->protocol != RTPROT_KERNEL && r->protocol != RTPROT_RA;
}

VmnetRouteSpec *vmnet_links_route_spec_from(const VmnetHostRoute *r, const char *oif)
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

gboolean vmnet_links_route_matches(const VmnetHostRoute *h, const VmnetRouteSpec *r)
{
        if (!prefix_equal(&h->dst, &r->dst) || h->has_gateway != r->has_gateway)
                return FALSE;
        if (r->has_gateway && !vmnet_addr_equal(&h->gateway, &r->gateway))
                return FALSE;
        return g_strcmp0(h->oif_name, r->oif) == 0;
}

gboolean vmnet_links_link_has_addr(const VmnetHostLink *l, const VmnetAddr *addr, guint prefixlen)
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
gboolean vmnet_links_manages_l3(const Diff *d, const VmnetHostLink *l)
{
        DesiredLink *dl = g_hash_table_lookup(d->desired, l->name);

        return dl && dl->kind == VMNET_LINK_KIND_BRIDGE && g_strcmp0(l->kind, "bridge") == 0 &&
               vmnet_links_is_owned(d, l) && !vmnet_links_recorded_adopted(d->rec, l->name) &&
               !migration_target(d, l->name);
}

gboolean vmnet_links_addr_desired(const Diff *d, const char *link, const VmnetHostAddr *a)
{
        const GPtrArray *mine = g_hash_table_lookup(d->addrs_by_link, link);

        for (guint i = 0; mine && i < mine->len; i++) {
                const DesiredAddr *da = g_ptr_array_index(mine, i);

                if (da->prefixlen == a->prefixlen && vmnet_addr_equal(&da->addr, &a->addr))
                        return TRUE;
        }
        return FALSE;
}

gboolean vmnet_links_route_desired(const Diff *d, const VmnetHostRoute *r)
{
        for (guint i = 0; i < d->routes->len; i++)
                if (vmnet_links_route_matches(r, g_ptr_array_index(d->routes, i)))
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
VmnetLinkSpec *vmnet_links_observed_spec(const Diff *d, const VmnetHostLink *l)
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

                if (vmnet_links_addr_movable(a) && !spec_moves_addr(moving, a))
                        g_array_append_val(s->addrs, as);
        }
        for (guint i = 0; i < l->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(l->routes, i);

                if (vmnet_links_route_movable(r) && !spec_moves_route(moving, r))
                        g_ptr_array_add(s->routes, vmnet_links_route_spec_from(r, l->name));
        }
        for (guint i = 0; i < d->host->links->len; i++) {
                const VmnetHostLink *p = g_ptr_array_index(d->host->links, i);

                if (p->master == l->ifindex && !g_hash_table_contains(d->deleted, p->name) &&
                    !g_hash_table_contains(d->released, p->name))
                        g_ptr_array_add(s->ports, g_strdup(p->name));
        }
        return s;
}

VmnetLinkSpec *vmnet_links_desired_spec(const Diff *d, const DesiredLink *dl)
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

void vmnet_links_set_num(Diff *d, int stage, const char *link, VmnetLinkAttr attr, guint value,
                         guint old, gboolean foreign, VmnetImpact impact)
{
        VmnetLinkValue v = { .num = value }, o = { .num = old };

        vmnet_links_emit(d, stage, vmnet_action_link_set(link, attr, &v, &o, foreign, impact));
}

void vmnet_links_set_str(Diff *d, int stage, const char *link, VmnetLinkAttr attr,
                         const char *value, const char *old, gboolean foreign, VmnetImpact impact)
{
        VmnetLinkValue v = { .str = (char *)value }, o = { .str = (char *)old };

        vmnet_links_emit(d, stage, vmnet_action_link_set(link, attr, &v, &o, foreign, impact));
}

/* An owned link without its mark (an interrupted creation) gets it. */
void vmnet_links_mark_owned(Diff *d, int stage, const VmnetHostLink *l)
{
        if (g_strcmp0(l->alias, d->alias) != 0)
                vmnet_links_set_str(d, stage, l->name, VMNET_LINK_ATTR_ALIAS, d->alias, l->alias,
                                    FALSE, VMNET_IMPACT_SAFE);
}

char *vmnet_links_where(const Diff *d, const VmnetNetwork *net, guint line)
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
int vmnet_links_vlan_flags_then(const Diff *d, const VmnetHostLink *l, const char *bridge,
                                guint vid)
{
        int flags = vlan_flags(l, vid);
        guint dropped = GPOINTER_TO_UINT(g_hash_table_lookup(d->pvid_dropped, bridge));

        return dropped == vid && flags == NATIVE_FLAGS ? -1 : flags;
}

/*
 * VLAN 1, PVID untagged, on port (of bridge, or bridge itself) unless it
 * will be there; l is the port as observed, NULL for a new membership.
 */
void vmnet_links_want_native(Diff *d, int stage, const VmnetHostLink *l, const char *port,
                             const char *bridge)
{
        if (l && vmnet_links_vlan_flags_then(d, l, bridge, NATIVE_VID) == NATIVE_FLAGS)
                return;
        vmnet_links_emit(d, stage,
                         vmnet_action_bridge_vlan(port, bridge, NATIVE_VID, NATIVE_FLAGS, TRUE,
                                                  VMNET_IMPACT_SAFE));
}

/* l's master when the port steps run: none when this run deletes it. */
const char *vmnet_links_master_then(const Diff *d, const VmnetHostLink *l)
{
        if (l && l->master_name && !g_hash_table_contains(d->deleted, l->master_name))
                return l->master_name;
        return NULL;
}

/*
 * Right after the default PVID of an existing VLAN-aware bridge is set: the
 * bridge and the trunk ports it keeps get VLAN 1 back at once (a trunk the
 * run enslaves gets it in vmnet_links_setup_ports()).
 */
void vmnet_links_bridge_native(Diff *d, const DesiredLink *dl, const VmnetHostLink *l)
{
        vmnet_links_want_native(d, S_BRIDGES, l, dl->name, dl->name);
        for (guint i = 0; i < d->ports->len; i++) {
                const DesiredPort *p = g_ptr_array_index(d->ports, i);
                const VmnetHostLink *pl = vmnet_links_live(d, p->name);

                if (!p->owned && g_str_equal(p->bridge, dl->name) &&
                    g_strcmp0(vmnet_links_master_then(d, pl), dl->name) == 0)
                        vmnet_links_want_native(d, S_BRIDGES, pl, p->name, dl->name);
        }
}

/* --- checks before any action ---------------------------------------------------- */

static gboolean check_names(Diff *d, GError **error)
{
        for (guint i = 0; i < d->bridges->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->bridges, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, dl->name);
                g_autofree char *w = NULL, *owner = NULL;

                if (!l || vmnet_links_is_owned(d, l))
                        continue;
                w = vmnet_links_where(d, dl->net, 0);
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
                g_autofree char *w = vmnet_links_where(d, dl->net, dl->net->uplink->line);

                if (!vmnet_host_find_link(d->host, dl->parent) && !desired_bond(d, dl->parent)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                    "%s: uplink device '%s' does not exist", w, dl->parent);
                        return FALSE;
                }
                if (l && !vmnet_links_is_owned(d, l)) {
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

                if (l && !vmnet_links_is_owned(d, l)) {
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
                        if (master && !vmnet_links_is_owned(d, master)) {
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
                g_autofree char *w = vmnet_links_where(d, dl->net, dl->net->vxlan->line);

                if (dl->parent && !vmnet_host_find_link(d->host, dl->parent)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                    "%s: underlay device '%s' does not exist", w, dl->parent);
                        return FALSE;
                }
                if (l && !vmnet_links_is_owned(d, l)) {
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
                g_autofree char *w = vmnet_links_where(d, p->net, p->line);

                if (!p->owned && !vmnet_host_find_link(d->host, p->name)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                    "%s: uplink device '%s' does not exist", w, p->name);
                        return FALSE;
                }
        }
        return TRUE;
}

static gboolean run(Diff *d, const VmnetPlan *plan, GPtrArray *actions, GError **error)
{
        if (plan) {
                build_desired(d, plan);
                vmnet_links_want_link_sysctls(d, plan);
        }
        collect_migration_targets(d);
        if (!check_names(d, error))
                return FALSE;
        vmnet_links_teardown_sysctls(d);
        vmnet_links_teardown_link_sysctls(d);
        vmnet_links_teardown_l3(d);
        vmnet_links_teardown_bridge_vlans(d);
        vmnet_links_teardown_fdb(d);
        vmnet_links_teardown_migrations(d);
        vmnet_links_teardown_releases(d);
        vmnet_links_teardown_bond_members(d);
        vmnet_links_teardown_links(d);
        vmnet_links_teardown_foreign(d);
        vmnet_links_teardown_adopted(d);
        vmnet_links_setup_bonds(d);
        vmnet_links_setup_bridges(d);
        vmnet_links_setup_link_sysctls(d);
        vmnet_links_setup_foreign_mtu(d);
        vmnet_links_setup_vlans(d);
        vmnet_links_setup_vxlans(d);
        if (!vmnet_links_setup_ports(d, error))
                return FALSE;
        vmnet_links_setup_l3(d);
        vmnet_links_setup_sysctls(d);
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
