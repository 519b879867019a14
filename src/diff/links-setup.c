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

/*
 * The links diff's setup: actions for what the plan wants, in the stages
 * S_* (links-private.h), top-down: bonds, bridges, VLANs, VXLAN segments,
 * ports, addresses, routes, sysctls.
 */

/* --- setup: what the plan wants ---------------------------------------------------- */

static void recreate(Diff *d, int stage, const VmnetHostLink *l, VmnetLinkSpec *want)
{
        vmnet_links_emit(
                d, stage,
                vmnet_action_link_delete(vmnet_links_observed_spec(d, l), VMNET_IMPACT_RECREATE));
        g_hash_table_add(d->deleted, g_strdup(l->name));
        vmnet_links_emit(d, stage, vmnet_action_link_create(want, VMNET_IMPACT_RECREATE));
}

void vmnet_links_setup_bridges(Diff *d)
{
        for (guint i = 0; i < d->bridges->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->bridges, i);
                const VmnetHostLink *l = vmnet_links_live(d, dl->name);
                gboolean adopted;

                if (!l || g_strcmp0(l->kind, "bridge") != 0) {
                        if (!l)
                                vmnet_links_emit(
                                        d, S_BRIDGES,
                                        vmnet_action_link_create(vmnet_links_desired_spec(d, dl),
                                                                 VMNET_IMPACT_SAFE));
                        else /* check_names() let through only a link vmnet owns. */
                                recreate(d, S_BRIDGES, l, vmnet_links_desired_spec(d, dl));
                        if (dl->default_pvid == 0)
                                vmnet_links_want_native(d, S_BRIDGES, NULL, dl->name, dl->name);
                        continue;
                }
                /* Taken over now, or before: what it was is recorded, to give it back. */
                adopted = !vmnet_links_is_owned(d, l) ||
                          vmnet_links_recorded_adopted(d->rec, l->name);
                if (!vmnet_links_is_owned(d, l))
                        vmnet_links_set_str(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_ALIAS, d->alias,
                                            l->alias, TRUE, VMNET_IMPACT_SAFE);
                else
                        vmnet_links_mark_owned(d, S_BRIDGES, l);
                if (dl->mtu && dl->mtu != l->mtu)
                        vmnet_links_set_num(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_MTU, dl->mtu,
                                            l->mtu, adopted, VMNET_IMPACT_SAFE);
                if (dl->has_mac && (!l->has_mac || !vmnet_mac_equal(&dl->mac, &l->mac))) {
                        VmnetLinkValue v = { .mac = dl->mac }, o = { .mac = l->mac };

                        vmnet_links_emit(d, S_BRIDGES,
                                         vmnet_action_link_set(l->name, VMNET_LINK_ATTR_MAC, &v, &o,
                                                               adopted, VMNET_IMPACT_SAFE));
                }
                vmnet_links_set_stp(d, S_BRIDGES, l, dl->stp, dl->forward_delay, adopted);
                if (dl->vlan_filtering >= 0 && dl->vlan_filtering != l->vlan_filtering)
                        vmnet_links_set_num(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_VLAN_FILTERING,
                                            (guint)dl->vlan_filtering, l->vlan_filtering > 0,
                                            adopted, VMNET_IMPACT_SAFE);
                if (dl->default_pvid >= 0 && dl->default_pvid != l->vlan_default_pvid) {
                        /* Unknown: a kernel without VLAN filtering; its default is 1. */
                        guint cur = l->vlan_default_pvid >= 0 ? (guint)l->vlan_default_pvid : 1;

                        vmnet_links_set_num(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_DEFAULT_PVID,
                                            (guint)dl->default_pvid, cur, adopted,
                                            VMNET_IMPACT_SAFE);
                        if (cur)
                                g_hash_table_insert(d->pvid_dropped, dl->name,
                                                    GUINT_TO_POINTER(cur));
                }
                if (dl->default_pvid == 0)
                        vmnet_links_bridge_native(d, dl, l);
                if (!l->up)
                        vmnet_links_set_num(d, S_BRIDGES, l->name, VMNET_LINK_ATTR_UP, 1, 0,
                                            adopted, VMNET_IMPACT_SAFE);
        }
}

void vmnet_links_setup_foreign_mtu(Diff *d)
{
        for (guint i = 0; i < d->mtu_names->len; i++) {
                const char *name = g_ptr_array_index(d->mtu_names, i);
                guint want = GPOINTER_TO_UINT(g_hash_table_lookup(d->foreign_mtu, name));
                const VmnetHostLink *l = vmnet_host_find_link(d->host, name);

                /* Raised, never lowered: the uplink may carry other traffic with its own needs. */
                if (l && l->mtu < want)
                        vmnet_links_set_num(d, S_FOREIGN_MTU, name, VMNET_LINK_ATTR_MTU, want,
                                            l->mtu, TRUE, VMNET_IMPACT_DISRUPTIVE);
        }
}

void vmnet_links_setup_vlans(Diff *d)
{
        for (guint i = 0; i < d->vlans->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->vlans, i);
                const VmnetHostLink *l = vmnet_links_live(d, dl->name);

                if (!l) {
                        vmnet_links_emit(d, S_VLANS,
                                         vmnet_action_link_create(vmnet_links_desired_spec(d, dl),
                                                                  VMNET_IMPACT_SAFE));
                        continue;
                }
                /* The kernel cannot change a VLAN's id or parent in place. */
                if (g_strcmp0(l->kind, "vlan") != 0 || l->vlan_id != dl->vlan_id ||
                    g_strcmp0(l->link_name, dl->parent) != 0) {
                        recreate(d, S_VLANS, l, vmnet_links_desired_spec(d, dl));
                        continue;
                }
                vmnet_links_mark_owned(d, S_VLANS, l);
                if (dl->mtu && dl->mtu != l->mtu)
                        vmnet_links_set_num(d, S_VLANS, l->name, VMNET_LINK_ATTR_MTU, dl->mtu,
                                            l->mtu, FALSE, VMNET_IMPACT_SAFE);
                if (!l->up)
                        vmnet_links_set_num(d, S_VLANS, l->name, VMNET_LINK_ATTR_UP, 1, 0, FALSE,
                                            VMNET_IMPACT_SAFE);
        }
}

/* --- bonds ------------------------------------------------------------------------- */

/*
 * Members vmnet enslaved ("bond" records) that the plan no longer puts in
 * the bond they are in: released, and up again when they were up.
 */
void vmnet_links_teardown_bond_members(Diff *d)
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
                if (!vmnet_links_is_owned(d, m) || g_strcmp0(m->kind, "bond") != 0)
                        continue;
                g_hash_table_add(d->released, g_strdup(l->name));
                vmnet_links_emit(d, T_BOND_RELEASE,
                                 vmnet_action_bond_member(l->name, m->name,
                                                          g_strcmp0(c->value, "up") == 0, FALSE,
                                                          VMNET_IMPACT_DISRUPTIVE));
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

void vmnet_links_setup_bonds(Diff *d)
{
        for (guint i = 0; i < d->bonds->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->bonds, i);
                const VmnetHostLink *l = vmnet_links_live(d, dl->name);

                if (!l) {
                        vmnet_links_emit(d, S_BONDS,
                                         vmnet_action_link_create(vmnet_links_desired_spec(d, dl),
                                                                  VMNET_IMPACT_SAFE));
                } else if (!bond_same(dl, l)) {
                        recreate(d, S_BONDS, l, vmnet_links_desired_spec(d, dl));
                } else {
                        vmnet_links_mark_owned(d, S_BONDS, l);
                        if (dl->mtu && dl->mtu != l->mtu)
                                vmnet_links_set_num(d, S_BONDS, l->name, VMNET_LINK_ATTR_MTU,
                                                    dl->mtu, l->mtu, FALSE, VMNET_IMPACT_SAFE);
                        if (!l->up)
                                vmnet_links_set_num(d, S_BONDS, l->name, VMNET_LINK_ATTR_UP, 1, 0,
                                                    FALSE, VMNET_IMPACT_SAFE);
                }
                for (guint j = 0; dl->bond->members[j]; j++) {
                        const VmnetHostLink *ml = vmnet_host_find_link(d->host,
                                                                       dl->bond->members[j]);

                        /* Mutant bond-member: the last member is left out. */
                        if (VMNET_MUTANT_IS(BOND_MEMBER) && !dl->bond->members[j + 1])
                                continue;
                        /* check_names() made sure it exists; the NIC goes down for a moment. */
                        if (ml && g_strcmp0(vmnet_links_master_then(d, ml), dl->name) != 0)
                                vmnet_links_emit(d, S_BOND_MEMBERS,
                                                 vmnet_action_bond_member(ml->name, dl->name,
                                                                          ml->up, TRUE,
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
void vmnet_links_teardown_fdb(Diff *d)
{
        for (guint i = 0; i < d->vxlans->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->vxlans, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, dl->name);

                if (!l || !vmnet_links_is_owned(d, l) || !vxlan_same(dl, l) || !l->fdb_flood)
                        continue;
                for (guint j = 0; j < l->fdb_flood->len; j++) {
                        const VmnetAddr *a = &g_array_index(l->fdb_flood, VmnetAddr, j);

                        if (!addr_in(dl->fdb, a))
                                vmnet_links_emit(
                                        d, T_FDB,
                                        vmnet_action_fdb(l->name, a, FALSE, VMNET_IMPACT_SAFE));
                }
        }
}

void vmnet_links_setup_vxlans(Diff *d)
{
        for (guint i = 0; i < d->vxlans->len; i++) {
                const DesiredLink *dl = g_ptr_array_index(d->vxlans, i);
                const VmnetHostLink *l = vmnet_links_live(d, dl->name);

                if (!l) {
                        vmnet_links_emit(d, S_VXLANS,
                                         vmnet_action_link_create(vmnet_links_desired_spec(d, dl),
                                                                  VMNET_IMPACT_SAFE));
                        continue;
                }
                if (!vxlan_same(dl, l)) {
                        recreate(d, S_VXLANS, l, vmnet_links_desired_spec(d, dl));
                        continue;
                }
                vmnet_links_mark_owned(d, S_VXLANS, l);
                if (dl->mtu && dl->mtu != l->mtu)
                        vmnet_links_set_num(d, S_VXLANS, l->name, VMNET_LINK_ATTR_MTU, dl->mtu,
                                            l->mtu, FALSE, VMNET_IMPACT_SAFE);
                if (!l->up)
                        vmnet_links_set_num(d, S_VXLANS, l->name, VMNET_LINK_ATTR_UP, 1, 0, FALSE,
                                            VMNET_IMPACT_SAFE);
                for (guint j = 0; j < dl->fdb->len; j++) {
                        const VmnetAddr *a = &g_array_index(dl->fdb, VmnetAddr, j);

                        if (!addr_in(l->fdb_flood, a))
                                vmnet_links_emit(
                                        d, S_FDB,
                                        vmnet_action_fdb(l->name, a, TRUE, VMNET_IMPACT_SAFE));
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

                if (vmnet_links_addr_movable(a))
                        g_array_append_val(s->addrs, as);
        }
        for (guint i = 0; i < dev->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(dev->routes, i);

                if (vmnet_links_route_movable(r))
                        g_ptr_array_add(s->routes, vmnet_links_route_spec_from(r, NULL));
        }
        if (back) {
                g_array_append_vals(s->addrs, back->addrs->data, back->addrs->len);
                for (guint i = 0; i < back->routes->len; i++)
                        g_ptr_array_add(s->routes,
                                        vmnet_route_spec_copy(g_ptr_array_index(back->routes, i)));
        }
        return s;
}

gboolean vmnet_links_setup_ports(Diff *d, GError **error)
{
        for (guint i = 0; i < d->ports->len; i++) {
                const DesiredPort *p = g_ptr_array_index(d->ports, i);
                const VmnetHostLink *l = vmnet_links_live(d, p->name);
                const DesiredLink *br = g_hash_table_lookup(d->desired, p->bridge);
                const char *cur = NULL;
                gboolean enslave;
                g_autoptr(VmnetMigrateSpec) l3 = NULL;
                g_autofree char *w = vmnet_links_where(d, p->net, p->line);

                if (!p->owned && !l)
                        continue; /* check_names() made sure it exists */
                /* A master deleted earlier in this run has released the port. */
                cur = vmnet_links_master_then(d, l);
                enslave = g_strcmp0(cur, p->bridge) != 0;
                if (!p->owned)
                        l3 = effective_l3(d, l, p->bridge);
                if (enslave && !p->owned) {
                        const VmnetHostLink *m = vmnet_host_find_link(d->host, cur);
                        gboolean strands = l3->addrs->len > 0;

                        if (cur && !vmnet_links_is_owned(d, m)) {
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
                        vmnet_links_set_str(d, S_PORTS, p->name, VMNET_LINK_ATTR_MASTER, p->bridge,
                                            cur, !p->owned,
                                            p->owned ? VMNET_IMPACT_SAFE : VMNET_IMPACT_DISRUPTIVE);
                /* A new port of a VLAN-aware bridge is in no VLAN: the native one first,
                 * before the host's addresses move to the bridge. */
                if (enslave && !p->owned && br->default_pvid == 0)
                        vmnet_links_want_native(d, S_PORTS, NULL, p->name, p->bridge);
                if (!p->owned && p->migrate && (l3->addrs->len || l3->routes->len)) {
                        const VmnetHostLink *bl = vmnet_links_live(d, p->bridge);
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
                        vmnet_links_emit(d, S_PORTS,
                                         vmnet_action_migrate(s, VMNET_IMPACT_DISRUPTIVE));
                }
                for (guint j = 0; j < p->vids->len; j++) {
                        guint vid = g_array_index(p->vids, guint, j);

                        /* VLAN 1 is the native VLAN, untagged: not also tagged. */
                        if (vid == NATIVE_VID && br->default_pvid == 0)
                                continue;
                        if (!enslave && vmnet_links_vlan_flags_then(d, l, p->bridge, vid) >= 0)
                                continue;
                        vmnet_links_emit(d, S_PORTS,
                                         vmnet_action_bridge_vlan(p->name, p->bridge, vid, 0, TRUE,
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

void vmnet_links_setup_l3(Diff *d)
{
        for (guint i = 0; i < d->addrs->len; i++) {
                const DesiredAddr *da = g_ptr_array_index(d->addrs, i);

                if (vmnet_links_link_has_addr(vmnet_links_live(d, da->link), &da->addr,
                                              da->prefixlen))
                        continue;
                warn_overlaps(d, da);
                vmnet_links_emit(d, S_ADDRS,
                                 vmnet_action_addr(da->link, &da->addr, da->prefixlen, TRUE,
                                                   VMNET_IMPACT_SAFE));
        }
        for (guint i = 0; i < d->routes->len; i++) {
                const VmnetRouteSpec *rs = g_ptr_array_index(d->routes, i);
                gboolean found = FALSE;

                for (guint j = 0; j < d->host->routes->len && !found; j++) {
                        const VmnetHostRoute *r = g_ptr_array_index(d->host->routes, j);

                        found = vmnet_links_route_matches(r, rs) &&
                                vmnet_links_live(d, r->oif_name);
                }
                if (!found)
                        vmnet_links_emit(d, S_ROUTES,
                                         vmnet_action_route(rs, TRUE, VMNET_IMPACT_SAFE));
        }
}

void vmnet_links_setup_sysctls(Diff *d)
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
                vmnet_links_emit(
                        d, S_SYSCTL,
                        vmnet_action_sysctl(key, "1", cur,
                                            v6 ? VMNET_IMPACT_DISRUPTIVE : VMNET_IMPACT_SAFE));
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
void vmnet_links_want_link_sysctls(Diff *d, const VmnetPlan *plan)
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
void vmnet_links_setup_link_sysctls(Diff *d)
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
                gboolean exists = vmnet_links_live(d, link) != NULL;

                if (exists && (!cur || g_str_equal(cur, want)))
                        continue; /* no IPv6 on this host, or already so */
                /* a bridge still to be made, on a host without IPv6: no such file to write */
                if (!exists && g_str_has_prefix(key, "net.ipv6.") &&
                    !vmnet_host_sysctl(d->host, "net.ipv6.conf.all.forwarding"))
                        continue;
                vmnet_links_emit(
                        d, S_LINK_SYSCTL,
                        vmnet_action_sysctl(key, want, exists ? cur : NULL, VMNET_IMPACT_SAFE));
        }
}
