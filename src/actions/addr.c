/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "apply/context.h"
#include "backend/netlink/netlink.h"

/* --- addr-add / addr-del ------------------------------------------------------- */

static char *addr_describe(const VmnetAction *a)
{
        const VmnetAddrAction *s = a->data;
        g_autofree char *as = vmnet_addr_to_string(&s->a.addr);
        gboolean add = a->type == &vmnet_action_type_addr_add;

        return vmnet_action_tag_impact(a, g_strdup_printf("%s address %s/%u %s %s",
                                                          add ? "add" : "remove", as,
                                                          s->a.prefixlen, add ? "to" : "from",
                                                          s->link));
}

static gboolean addr_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetAddrAction *s = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);

        return sk && vmnet_nl_addr(sk, s->link, &s->a.addr, s->a.prefixlen,
                                   a->type == &vmnet_action_type_addr_add, error);
}

static VmnetAction *addr_invert(const VmnetAction *a)
{
        const VmnetAddrAction *s = a->data;

        return vmnet_action_addr(s->link, &s->a.addr, s->a.prefixlen,
                                 a->type != &vmnet_action_type_addr_add, a->impact);
}

static void addr_free(gpointer p)
{
        VmnetAddrAction *s = p;

        g_free(s->link);
        g_free(s);
}

const VmnetActionType vmnet_action_type_addr_add = {
        .name = "addr-add",
        .describe = addr_describe,
        .execute = addr_execute,
        .invert = addr_invert,
        .free_data = addr_free,
};

const VmnetActionType vmnet_action_type_addr_del = {
        .name = "addr-del",
        .describe = addr_describe,
        .execute = addr_execute,
        .invert = addr_invert,
        .free_data = addr_free,
};

VmnetAction *vmnet_action_addr(const char *link, const VmnetAddr *addr, guint prefixlen,
                               gboolean add, VmnetImpact impact)
{
        VmnetAddrAction *s = g_new0(VmnetAddrAction, 1);
        g_autofree char *as = vmnet_addr_to_string(addr);

        s->link = g_strdup(link);
        s->a.addr = *addr;
        s->a.prefixlen = prefixlen;
        return vmnet_action_new(add ? &vmnet_action_type_addr_add : &vmnet_action_type_addr_del,
                                impact, g_strdup_printf("address %s/%u on %s", as, prefixlen, link),
                                s);
}

/* --- addr-migrate ------------------------------------------------------------------ */

VmnetMigrateSpec *vmnet_migrate_spec_new(const char *from, const char *to)
{
        VmnetMigrateSpec *s = g_new0(VmnetMigrateSpec, 1);

        s->from = g_strdup(from);
        s->to = g_strdup(to);
        s->addrs = g_array_new(FALSE, TRUE, sizeof(VmnetAddrSpec));
        s->routes = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_route_spec_free);
        return s;
}

void vmnet_migrate_spec_free(VmnetMigrateSpec *s)
{
        if (!s)
                return;
        g_free(s->from);
        g_free(s->to);
        g_free(s->mac_link);
        g_array_unref(s->addrs);
        g_ptr_array_unref(s->routes);
        g_free(s);
}

static char *migrate_describe(const VmnetAction *a)
{
        const VmnetMigrateSpec *s = a->data;
        g_autoptr(GPtrArray) what = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *list = NULL;
        GString *text = g_string_new(NULL);

        for (guint i = 0; i < s->addrs->len; i++) {
                const VmnetAddrSpec *as = &g_array_index(s->addrs, VmnetAddrSpec, i);
                g_autofree char *str = vmnet_addr_to_string(&as->addr);

                g_ptr_array_add(what, g_strdup_printf("%s/%u", str, as->prefixlen));
        }
        for (guint i = 0; i < s->routes->len; i++) {
                g_autofree char *r = vmnet_route_spec_to_string(g_ptr_array_index(s->routes, i));

                g_ptr_array_add(what, g_strdup_printf("route %s", r));
        }
        g_ptr_array_add(what, NULL);
        list = g_strjoinv(", ", (char **)what->pdata);
        g_string_append_printf(text, "move %s from %s to %s", list[0] ? list : "nothing", s->from,
                               s->to);
        if (s->mac_link) {
                g_autofree char *mac = vmnet_mac_to_string(&s->mac);

                g_string_append_printf(text, ", %s takes mac %s", s->mac_link, mac);
        }
        return vmnet_action_tag_impact(a, g_string_free(text, FALSE));
}

static VmnetNlRoute nl_route(const VmnetRouteSpec *r, const char *oif)
{
        VmnetNlRoute nr = { .dst = r->dst, .has_gateway = r->has_gateway, .gateway = r->gateway,
                            .oif = oif, .priority = r->priority, .protocol = r->protocol };

        return nr;
}

static gboolean migrate_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetMigrateSpec *s = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);
        guint added = 0, moved = 0, removed = 0;
        gboolean mac_done = FALSE;

        if (!sk)
                return FALSE;
        /*
         * Add first, re-point routes, remove last: at no point does the host
         * have neither the old nor the new path. On failure the completed
         * steps are undone here, since rollback only inverts whole actions.
         */
        if (s->mac_link && !vmnet_nl_link_set_mac(sk, s->mac_link, &s->mac, error))
                goto undo;
        mac_done = s->mac_link != NULL;
        for (; added < s->addrs->len; added++) {
                const VmnetAddrSpec *as = &g_array_index(s->addrs, VmnetAddrSpec, added);

                if (!vmnet_nl_addr(sk, s->to, &as->addr, as->prefixlen, TRUE, error))
                        goto undo;
        }
        for (; moved < s->routes->len; moved++) {
                VmnetNlRoute nr = nl_route(g_ptr_array_index(s->routes, moved), s->to);

                if (!vmnet_nl_route(sk, VMNET_NL_ROUTE_REPLACE, &nr, error))
                        goto undo;
        }
        for (; removed < s->addrs->len; removed++) {
                const VmnetAddrSpec *as = &g_array_index(s->addrs, VmnetAddrSpec, removed);

                if (!vmnet_nl_addr(sk, s->from, &as->addr, as->prefixlen, FALSE, error))
                        goto undo;
        }
        return TRUE;

undo:
        while (removed-- > 0) {
                const VmnetAddrSpec *as = &g_array_index(s->addrs, VmnetAddrSpec, removed);

                vmnet_nl_addr(sk, s->from, &as->addr, as->prefixlen, TRUE, NULL);
        }
        while (moved-- > 0) {
                VmnetNlRoute nr = nl_route(g_ptr_array_index(s->routes, moved), s->from);

                vmnet_nl_route(sk, VMNET_NL_ROUTE_REPLACE, &nr, NULL);
        }
        while (added-- > 0) {
                const VmnetAddrSpec *as = &g_array_index(s->addrs, VmnetAddrSpec, added);

                vmnet_nl_addr(sk, s->to, &as->addr, as->prefixlen, FALSE, NULL);
        }
        if (mac_done && s->has_old_mac)
                vmnet_nl_link_set_mac(sk, s->mac_link, &s->old_mac, NULL);
        return FALSE;
}

static VmnetAction *migrate_invert(const VmnetAction *a)
{
        const VmnetMigrateSpec *s = a->data;
        VmnetMigrateSpec *inv = vmnet_migrate_spec_new(s->to, s->from);

        g_array_append_vals(inv->addrs, s->addrs->data, s->addrs->len);
        for (guint i = 0; i < s->routes->len; i++)
                g_ptr_array_add(inv->routes,
                                vmnet_route_spec_copy(g_ptr_array_index(s->routes, i)));
        if (s->mac_link && s->has_old_mac) {
                inv->mac_link = g_strdup(s->mac_link);
                inv->mac = s->old_mac;
                inv->has_old_mac = TRUE;
                inv->old_mac = s->mac;
        }
        return vmnet_action_migrate(inv, a->impact);
}

static void migrate_free(gpointer p)
{
        vmnet_migrate_spec_free(p);
}

const VmnetActionType vmnet_action_type_addr_migrate = {
        .name = "addr-migrate",
        .describe = migrate_describe,
        .execute = migrate_execute,
        .invert = migrate_invert,
        .free_data = migrate_free,
};

VmnetAction *vmnet_action_migrate(VmnetMigrateSpec *spec, VmnetImpact impact)
{
        return vmnet_action_new(&vmnet_action_type_addr_migrate, impact,
                                g_strdup_printf("addresses of %s", spec->from), spec);
}
