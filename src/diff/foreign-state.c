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
 * The foreign changes (VmnetForeignState, links.h): the original values of
 * what vmnet changed on objects it does not own, and what it added to them,
 * persisted between runs by the caller so that removing a network or
 * destroying the plan restores them.
 */

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

char *vmnet_links_added_address_attr(const VmnetAddrSpec *a)
{
        g_autofree char *s = vmnet_addr_to_string(&a->addr);

        return g_strdup_printf(ADDED_ADDRESS "%s/%u", s, a->prefixlen);
}

char *vmnet_links_added_route_attr(const VmnetPrefix *dst)
{
        g_autofree char *s = vmnet_prefix_to_string(dst);

        return g_strconcat(ADDED_ROUTE, s, NULL);
}

/* A bridge vmnet took over (adopt="yes"): its alias is recorded, to give it back. */
gboolean vmnet_links_recorded_adopted(const VmnetForeignState *st, const char *link)
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

                        if (vmnet_links_recorded_adopted(st, x->link))
                                record_added(st, x->link, vmnet_links_added_address_attr(&x->a),
                                             a->type == &vmnet_action_type_addr_add);
                } else if (a->type == &vmnet_action_type_route_add ||
                           a->type == &vmnet_action_type_route_del) {
                        const VmnetRouteSpec *r = a->data;

                        if (vmnet_links_recorded_adopted(st, r->oif))
                                record_added(st, r->oif, vmnet_links_added_route_attr(&r->dst),
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
