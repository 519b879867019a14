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
 * The links diff's teardown: actions for what the plan no longer has, in the
 * stages T_* (links-private.h), bottom-up.
 */

/* --- teardown: what the plan no longer has ----------------------------------------- */

void vmnet_links_teardown_sysctls(Diff *d)
{
        for (guint i = 0; vmnet_host_sysctl_keys[i]; i++) {
                const char *key = vmnet_host_sysctl_keys[i];
                const VmnetForeignChange *c = vmnet_foreign_state_find(d->rec, key, "sysctl");
                const char *cur = vmnet_host_sysctl(d->host, key);

                if (!c || !c->value || d->want_sysctl[i] || !cur || g_str_equal(cur, c->value))
                        continue;
                vmnet_links_emit(d, T_SYSCTL,
                                 vmnet_action_sysctl(key, c->value, cur, VMNET_IMPACT_SAFE));
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
void vmnet_links_teardown_link_sysctls(Diff *d)
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
                vmnet_links_emit(d, T_SYSCTL,
                                 vmnet_action_sysctl(c->object, c->value, cur, VMNET_IMPACT_SAFE));
        }
}

void vmnet_links_teardown_l3(Diff *d)
{
        for (guint i = 0; i < d->host->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(d->host->routes, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, r->oif_name);
                g_autoptr(VmnetRouteSpec) rs = NULL;

                /* vmnet adds its routes as "static"; others are someone else's. */
                if (!l || !vmnet_links_manages_l3(d, l) || r->protocol != RTPROT_STATIC ||
                    vmnet_links_route_desired(d, r))
                        continue;
                rs = vmnet_links_route_spec_from(r, l->name);
                vmnet_links_emit(d, T_ROUTES, vmnet_action_route(rs, FALSE, VMNET_IMPACT_SAFE));
        }
        for (guint i = 0; i < d->host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(d->host->links, i);

                if (!vmnet_links_manages_l3(d, l))
                        continue;
                for (guint j = 0; j < l->addrs->len; j++) {
                        const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, j);

                        if (a->scope >= RT_SCOPE_LINK || vmnet_links_addr_desired(d, l->name, a))
                                continue;
                        vmnet_links_emit(d, T_ADDRS,
                                         vmnet_action_addr(l->name, &a->addr, a->prefixlen, FALSE,
                                                           VMNET_IMPACT_SAFE));
                }
        }
}

void vmnet_links_teardown_bridge_vlans(Diff *d)
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
                                vmnet_links_emit(d, T_BVLANS,
                                                 vmnet_action_bridge_vlan(p->name, p->bridge,
                                                                          v->vid, v->flags, FALSE,
                                                                          VMNET_IMPACT_SAFE));
                }
        }
}

void vmnet_links_teardown_migrations(Diff *d)
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

                        if (vmnet_links_addr_movable(a) &&
                            !vmnet_links_addr_desired(d, br->name, a))
                                g_array_append_val(s->addrs, as);
                }
                for (guint j = 0; j < br->routes->len; j++) {
                        const VmnetHostRoute *r = g_ptr_array_index(br->routes, j);

                        if (vmnet_links_route_movable(r) && !vmnet_links_route_desired(d, r))
                                g_ptr_array_add(s->routes, vmnet_links_route_spec_from(r, NULL));
                }
                if (!s->addrs->len && !s->routes->len) {
                        vmnet_migrate_spec_free(s);
                        continue;
                }
                g_hash_table_insert(d->pending, dev->name, s);
                vmnet_links_emit(d, T_UNMIGRATE, vmnet_action_migrate(s, VMNET_IMPACT_DISRUPTIVE));
        }
}

void vmnet_links_teardown_releases(Diff *d)
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
                if (!vmnet_links_is_owned(d, m))
                        continue;
                back = c->value && vmnet_host_find_link(d->host, c->value) ? c->value : NULL;
                if (g_strcmp0(back, l->master_name) == 0)
                        continue;
                g_hash_table_add(d->released, g_strdup(l->name));
                vmnet_links_set_str(d, T_RELEASE, l->name, VMNET_LINK_ATTR_MASTER, back,
                                    l->master_name, TRUE, VMNET_IMPACT_DISRUPTIVE);
        }
}

void vmnet_links_teardown_links(Diff *d)
{
        for (guint i = 0; i < d->host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(d->host->links, i);

                if (!vmnet_links_is_owned(d, l) || g_hash_table_contains(d->desired, l->name) ||
                    g_hash_table_contains(d->port_by_name, l->name) ||
                    vmnet_links_recorded_adopted(d->rec, l->name))
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
                s = vmnet_links_observed_spec(d, l);
                vmnet_links_emit(d,
                                 s->kind == VMNET_LINK_KIND_BRIDGE ||
                                                 s->kind == VMNET_LINK_KIND_BOND
                                         ? T_DEL_LINKS
                                         : T_DEL_VLANS,
                                 vmnet_action_link_delete(s, s->ports->len ? VMNET_IMPACT_DISRUPTIVE
                                                                           : VMNET_IMPACT_SAFE));
        }
}

void vmnet_links_teardown_foreign(Diff *d)
{
        for (guint i = 0; d->rec && i < d->rec->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(d->rec->changes, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, c->object);

                /* An adopted bridge's records are vmnet_links_teardown_adopted()'s. */
                if (!l || vmnet_links_recorded_adopted(d->rec, c->object))
                        continue;
                if (g_str_equal(c->attr, "mtu") && c->value &&
                    !g_hash_table_contains(d->foreign_mtu, c->object)) {
                        guint old = (guint)g_ascii_strtoull(c->value, NULL, 10);

                        if (old && old != l->mtu)
                                vmnet_links_set_num(d, T_MTU_RESTORE, l->name, VMNET_LINK_ATTR_MTU,
                                                    old, l->mtu, TRUE, VMNET_IMPACT_DISRUPTIVE);
                }
        }
}

/*
 * With STP on, the kernel refuses a forward delay outside 2..30 s. So the
 * delay changes while STP is off: before STP goes on, after it goes off.
 * Each order is the reverse of the other, so the undo (inverses in reverse)
 * is valid too. stp and fd < 0: leave as is.
 */
void vmnet_links_set_stp(Diff *d, int stage, const VmnetHostLink *l, int stp, int fd,
                         gboolean foreign)
{
        gboolean change_stp = stp >= 0 && stp != l->stp_state;
        gboolean change_fd = fd >= 0 && fd != l->forward_delay;
        guint old_fd = l->forward_delay >= 0 ? (guint)l->forward_delay : 0;

        if (change_stp && stp == 0)
                vmnet_links_set_num(d, stage, l->name, VMNET_LINK_ATTR_STP, 0, l->stp_state > 0,
                                    foreign, VMNET_IMPACT_SAFE);
        if (change_fd)
                vmnet_links_set_num(d, stage, l->name, VMNET_LINK_ATTR_FORWARD_DELAY, (guint)fd,
                                    old_fd, foreign, VMNET_IMPACT_SAFE);
        if (change_stp && stp != 0)
                vmnet_links_set_num(d, stage, l->name, VMNET_LINK_ATTR_STP, 1, l->stp_state > 0,
                                    foreign, VMNET_IMPACT_SAFE);
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
                g_autofree char *attr = vmnet_links_added_route_attr(&r->dst);
                g_autoptr(VmnetRouteSpec) rs = NULL;

                if (r->protocol != RTPROT_STATIC ||
                    !vmnet_foreign_state_find(d->rec, l->name, attr) ||
                    (!all && vmnet_links_route_desired(d, r)))
                        continue;
                rs = vmnet_links_route_spec_from(r, l->name);
                vmnet_links_emit(d, T_ROUTES, vmnet_action_route(rs, FALSE, VMNET_IMPACT_SAFE));
        }
        for (guint i = 0; i < l->addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, i);
                VmnetAddrSpec as = { .addr = a->addr, .prefixlen = a->prefixlen };
                g_autofree char *attr = vmnet_links_added_address_attr(&as);

                if (!vmnet_foreign_state_find(d->rec, l->name, attr) ||
                    (!all && vmnet_links_addr_desired(d, l->name, a)))
                        continue;
                vmnet_links_emit(d, T_ADDRS,
                                 vmnet_action_addr(l->name, &a->addr, a->prefixlen, FALSE,
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
                vmnet_links_set_num(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_MTU, (guint)mtu, l->mtu,
                                    TRUE, VMNET_IMPACT_SAFE);
        if (mac && mac->value && vmnet_mac_parse(mac->value, &m) &&
            (!l->has_mac || !vmnet_mac_equal(&m, &l->mac))) {
                VmnetLinkValue v = { .mac = m }, o = { .mac = l->mac };

                vmnet_links_emit(d, T_UNADOPT,
                                 vmnet_action_link_set(l->name, VMNET_LINK_ATTR_MAC, &v, &o, TRUE,
                                                       VMNET_IMPACT_SAFE));
        }
        /* The kernel gives the default PVID back to the ports (and the bridge) without a VLAN 1. */
        if (pvid >= 0 && pvid != l->vlan_default_pvid)
                vmnet_links_set_num(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_DEFAULT_PVID,
                                    (guint)pvid, (guint)MAX(l->vlan_default_pvid, 0), TRUE,
                                    VMNET_IMPACT_SAFE);
        if (vf >= 0 && vf != l->vlan_filtering)
                vmnet_links_set_num(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_VLAN_FILTERING,
                                    (guint)vf, l->vlan_filtering > 0, TRUE, VMNET_IMPACT_SAFE);
        vmnet_links_set_stp(d, T_UNADOPT, l, recorded_num(d, l->name, "stp"),
                            recorded_num(d, l->name, "forward-delay"), TRUE);
        if (up == 0 && l->up)
                vmnet_links_set_num(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_UP, 0, 1, TRUE,
                                    VMNET_IMPACT_SAFE);
        vmnet_links_set_str(d, T_UNADOPT, l->name, VMNET_LINK_ATTR_ALIAS, alias->value, l->alias,
                            TRUE, VMNET_IMPACT_SAFE);
}

/*
 * A bridge taken over with adopt="yes" was someone's before: vmnet removes
 * what it added (addresses and routes, recorded as it added them) once the
 * plan no longer has them, and when the network leaves the plan, or the plan
 * is destroyed, gives the bridge back as it found it.
 */
void vmnet_links_teardown_adopted(Diff *d)
{
        for (guint i = 0; d->rec && i < d->rec->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(d->rec->changes, i);
                const VmnetHostLink *l = vmnet_host_find_link(d->host, c->object);
                gboolean stays;

                if (!g_str_equal(c->attr, "alias") || !vmnet_links_is_owned(d, l) ||
                    g_strcmp0(l->kind, "bridge") != 0)
                        continue;
                stays = g_hash_table_contains(d->desired, l->name);
                remove_added_l3(d, l, !stays);
                if (!stays)
                        give_back(d, l);
        }
}
