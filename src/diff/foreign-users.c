/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "diff/foreign-users.h"

static gboolean in_set(const GPtrArray *set, const char *name)
{
        for (guint i = 0; name && set && i < set->len; i++)
                if (g_strcmp0(g_ptr_array_index(set, i), name) == 0)
                        return TRUE;
        return FALSE;
}

GPtrArray *vmnet_plan_bridges(const VmnetPlan *plan)
{
        GPtrArray *out = g_ptr_array_new();

        for (guint i = 0; plan && i < plan->networks->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);

                if (n->bridge)
                        g_ptr_array_add(out, n->bridge);
        }
        return out;
}

char *vmnet_foreign_user_describe(const VmnetForeignUser *u)
{
        g_autofree char *mac = NULL;

        if (u->kind == VMNET_FOREIGN_USER_NETWORK)
                return g_strdup_printf("libvirt network '%s' (%s%s), not vmnet's, declares vmnet's "
                                       "bridge %s",
                                       u->network, u->running ? "active" : "inactive",
                                       u->persistent ? ", persistent" : "", u->bridge);
        mac = u->iface->has_mac ? vmnet_mac_to_string(&u->iface->mac) : g_strdup("?");
        if (!u->network)
                return g_strdup_printf("domain %s (interface %s, %s) is plugged into vmnet's bridge "
                                       "%s",
                                       u->domain, mac,
                                       u->running && u->persistent ? "running and persistent"
                                       : u->running                ? "running"
                                                                   : "persistent",
                                       u->bridge);
        return g_strdup_printf("domain %s (interface %s, %s) is on %slibvirt network '%s' (bridge %s)",
                               u->domain, mac,
                               u->running && u->persistent ? "running and persistent"
                               : u->running                ? "running"
                                                           : "persistent",
                               u->vmnet_network ? "vmnet's " : "", u->network, u->bridge);
}

GArray *vmnet_foreign_users(const char *plan_name, const GPtrArray *bridges,
                            const VmnetLibvirtHost *virt)
{
        GArray *out = g_array_new(FALSE, TRUE, sizeof(VmnetForeignUser));
        g_autoptr(GPtrArray) all = g_ptr_array_new();

        for (guint i = 0; bridges && i < bridges->len; i++)
                g_ptr_array_add(all, g_ptr_array_index(bridges, i));
        for (guint i = 0; virt && i < virt->networks->len; i++) {
                const VmnetLibvirtNetwork *n = g_ptr_array_index(virt->networks, i);

                if (g_strcmp0(n->owner_plan, plan_name) == 0 && n->bridge && !in_set(all, n->bridge))
                        g_ptr_array_add(all, n->bridge);
        }
        for (guint i = 0; virt && i < virt->networks->len; i++) {
                const VmnetLibvirtNetwork *n = g_ptr_array_index(virt->networks, i);
                VmnetForeignUser u = { .kind = VMNET_FOREIGN_USER_NETWORK, .bridge = n->bridge,
                                       .network = n->name, .running = n->active,
                                       .persistent = n->persistent };

                if (g_strcmp0(n->owner_plan, plan_name) != 0 && in_set(all, n->bridge))
                        g_array_append_val(out, u);
        }
        for (guint i = 0; virt && i < virt->domains->len; i++) {
                const VmnetLibvirtDomain *d = g_ptr_array_index(virt->domains, i);
                const GPtrArray *scopes[2] = { d->active ? d->live : NULL,
                                               d->persistent ? d->config : NULL };

                for (guint s = 0; s < 2; s++) {
                        for (guint j = 0; scopes[s] && j < scopes[s]->len; j++) {
                                const VmnetLibvirtIface *f = g_ptr_array_index(scopes[s], j);
                                const VmnetLibvirtNetwork *n = NULL;
                                VmnetForeignUser u = { .kind = VMNET_FOREIGN_USER_GUEST,
                                                       .domain = d->name, .iface = f };

                                if (vmnet_libvirt_alias_is_plan(f->alias, plan_name))
                                        continue;
                                /* The running one stands for both when both have it. */
                                if (s == 1 && f->has_mac && scopes[0] &&
                                    vmnet_libvirt_ifaces_find_mac(scopes[0], &f->mac))
                                        continue;
                                if (g_strcmp0(f->type, "network") == 0) {
                                        n = vmnet_libvirt_host_find_network(virt, f->network);
                                        if (!n || !in_set(all, n->bridge))
                                                continue;
                                        u.network = n->name;
                                        u.bridge = n->bridge;
                                        u.vmnet_network = g_strcmp0(n->owner_plan, plan_name) == 0;
                                } else if (g_strcmp0(f->type, "bridge") == 0 && in_set(all, f->bridge)) {
                                        u.bridge = f->bridge;
                                } else {
                                        continue;
                                }
                                u.running = s == 0;
                                u.persistent = s == 1 || (f->has_mac && scopes[1] &&
                                                          vmnet_libvirt_ifaces_find_mac(scopes[1],
                                                                                        &f->mac));
                                g_array_append_val(out, u);
                        }
                }
        }
        return out;
}

char *vmnet_foreign_user_breaks(const VmnetForeignUser *u)
{
        if (u->kind == VMNET_FOREIGN_USER_NETWORK)
                return g_strdup_printf("bridge %s is deleted under it: its guests lose their network "
                                       "and it cannot start again",
                                       u->bridge);
        if (u->vmnet_network)
                return g_strdup_printf("network '%s' is removed: %s%s%s", u->network,
                                       u->running ? "the guest loses its network now" : "",
                                       u->running && u->persistent ? " and " : "",
                                       u->persistent ? "its next start fails (network not found)"
                                                     : "");
        return g_strdup_printf("bridge %s is deleted: the guest loses its network", u->bridge);
}
