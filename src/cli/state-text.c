/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/rtnetlink.h>
#include <string.h>

#include "backend/nftables/review.h"
#include "cli/cli.h"
#include "diff/engine.h"

/*
 * What a plan manages, as observed, as text for `apply --diff` (and the
 * Ansible module's before/after, which is that text): a unified diff of
 * the text before and after a run is what the run changed.
 */

static void names_add(GPtrArray *names, const char *name)
{
        if (name && !g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL))
                g_ptr_array_add(names, g_strdup(name));
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_host_addr(gconstpointer a, gconstpointer b)
{
        const VmnetHostAddr *x = a, *y = b;
        int c = vmnet_addr_cmp(&x->addr, &y->addr);

        return c ? c : (int)x->prefixlen - (int)y->prefixlen;
}

static void link_text(GString *out, const VmnetHost *host, const char *name)
{
        const VmnetHostLink *l = vmnet_host_find_link(host, name);
        g_autoptr(GArray) addrs = NULL;

        if (!l) {
                g_string_append_printf(out, "link %s: absent\n", name);
                return;
        }
        g_string_append_printf(out, "link %s: %s, mtu %u, %s", l->name,
                               l->kind ? l->kind : "device", l->mtu, l->up ? "up" : "down");
        if (l->master_name)
                g_string_append_printf(out, ", master %s", l->master_name);
        if (l->kind && g_str_equal(l->kind, "vlan"))
                g_string_append_printf(out, ", vlan %u on %s", l->vlan_id,
                                       l->link_name ? l->link_name : "?");
        if (l->stp_state >= 0)
                g_string_append_printf(out, ", stp %s", l->stp_state ? "on" : "off");
        if (l->forward_delay >= 0)
                g_string_append_printf(out, ", forward delay %d", l->forward_delay);
        if (l->alias)
                g_string_append_printf(out, ", alias %s", l->alias);
        g_string_append_c(out, '\n');
        if (!l->addrs)
                return;
        /* Dump order is the order addresses were added: sort so that only real changes show. */
        addrs = g_array_copy(l->addrs);
        g_array_sort(addrs, cmp_host_addr);
        for (guint i = 0; i < addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(addrs, VmnetHostAddr, i);
                g_autofree char *s = NULL;

                if (a->scope == RT_SCOPE_LINK || a->scope == RT_SCOPE_HOST)
                        continue;
                s = vmnet_addr_to_string(&a->addr);
                g_string_append_printf(out, "  address %s/%u\n", s, a->prefixlen);
        }
}

char *vmnet_cli_state_text(const VmnetObserved *obs, const VmnetPlan *plan, const VmnetNftIr *ir)
{
        g_autoptr(GPtrArray) fw = NULL;
        const VmnetHost *host = obs->host;
        g_autofree char *alias = vmnet_link_alias_for_plan(plan->name);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) routes = g_ptr_array_new_with_free_func(g_free);
        GString *out = g_string_new(NULL);
        guint n;

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);

                names_add(names, net->bridge);
                if (net->uplink) {
                        names_add(names, net->uplink->dev);
                        names_add(names, net->uplink->ifname);
                }
        }
        for (guint i = 0; i < host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(host->links, i);

                if (g_strcmp0(l->alias, alias) == 0)
                        names_add(names, l->name);
        }
        for (guint i = 0; obs->foreign && i < obs->foreign->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(obs->foreign->changes, i);

                if (vmnet_host_find_link(host, c->object))
                        names_add(names, c->object);
        }
        /* Ports of those links, once: enslaving is what a bridged network does. */
        n = names->len;
        for (guint i = 0; i < host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(host->links, i);

                for (guint k = 0; l->master_name && k < n; k++)
                        if (g_str_equal(l->master_name, g_ptr_array_index(names, k)))
                                names_add(names, l->name);
        }
        g_ptr_array_sort(names, cmp_str);
        for (guint i = 0; i < names->len; i++)
                link_text(out, host, g_ptr_array_index(names, i));

        /* Connected routes follow from the addresses above; show the others. */
        for (guint i = 0; i < host->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(host->routes, i);
                g_autofree char *dst = NULL;
                g_autofree char *via = NULL;

                if (r->protocol == RTPROT_KERNEL || !r->oif_name ||
                    !g_ptr_array_find_with_equal_func(names, r->oif_name, g_str_equal, NULL))
                        continue;
                dst = vmnet_prefix_to_string(&r->dst);
                via = r->has_gateway ? vmnet_addr_to_string(&r->gateway) : NULL;
                g_ptr_array_add(routes, g_strdup_printf("route %s%s%s dev %s\n", dst,
                                                        via ? " via " : "", via ? via : "",
                                                        r->oif_name));
        }
        g_ptr_array_sort(routes, cmp_str);
        for (guint i = 0; i < routes->len; i++)
                g_string_append(out, g_ptr_array_index(routes, i));

        for (const char *const *k = vmnet_host_sysctl_keys; *k; k++) {
                const char *v = vmnet_host_sysctl(host, *k);

                g_string_append_printf(out, "sysctl %s = %s\n", *k, v ? v : "(unreadable)");
        }
        /* The firewall entry by entry: a diff of two such texts shows what changed. */
        fw = vmnet_nft_review_entries(obs->nft->exists ? obs->nft->digest : "", ir);
        if (!fw->len)
                g_string_append(out, "nftables table inet vmnet: absent\n");
        for (guint i = 0; i < fw->len; i++)
                g_string_append_printf(out, "nftables %s\n", (char *)g_ptr_array_index(fw, i));
        return g_string_free(out, FALSE);
}

