/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/rtnetlink.h>

#include "actions/kernel.h"
#include "diff/forwarding-users.h"
#include "diff/links.h"

typedef struct {
        const VmnetHost *host;
        char *mark;                      /* vmnet's alias for the plan */
        const GPtrArray *bridges;        /* char*: the plan's bridges (adopted ones too) */
        const VmnetForeignState *foreign; /* links vmnet changed (adopted, migrated) */
} Own;

static gboolean own_link(const Own *o, const VmnetHostLink *l)
{
        if (g_strcmp0(l->alias, o->mark) == 0)
                return TRUE;
        for (guint i = 0; o->bridges && i < o->bridges->len; i++)
                if (g_strcmp0(g_ptr_array_index(o->bridges, i), l->name) == 0)
                        return TRUE;
        for (guint i = 0; o->foreign && i < o->foreign->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(o->foreign->changes, i);

                if (g_strcmp0(c->attr, "sysctl") != 0 && g_strcmp0(c->object, l->name) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* Is l vmnet's (its alias, the plan, its record), or a port of one of vmnet's bridges? */
static gboolean vmnet_owns(const Own *o, const VmnetHostLink *l)
{
        const VmnetHostLink *m = l->master ? vmnet_host_find_link_index(o->host, l->master) : NULL;

        return own_link(o, l) || (m && own_link(o, m));
}

static gboolean has_global_addr(const VmnetHostLink *l, int family)
{
        for (guint i = 0; l->addrs && i < l->addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, i);

                if (a->addr.family == family && a->scope == RT_SCOPE_UNIVERSE)
                        return TRUE;
        }
        return FALSE;
}

char *vmnet_forwarding_needed_by(const char *key, const char *plan_name, const GPtrArray *bridges,
                                 const VmnetForeignState *foreign, const VmnetHost *host,
                                 const VmnetLibvirtHost *virt)
{
        int family = g_str_equal(key, "net.ipv4.ip_forward") ? AF_INET : AF_INET6;
        g_autofree char *mark = vmnet_link_alias_for_plan(plan_name);
        Own own = { host, mark, bridges, foreign };
        g_autoptr(GPtrArray) why = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(host->links, i);

                /* A bridge that is down routes nothing. */
                if (g_strcmp0(l->kind, "bridge") != 0 || !l->up || vmnet_owns(&own, l) ||
                    !has_global_addr(l, family))
                        continue;
                g_ptr_array_add(why, g_strdup_printf("bridge %s%s routes for its ports", l->name,
                                                     g_str_equal(l->name, "docker0") ? " (docker)"
                                                                                     : ""));
        }
        for (guint i = 0; family == AF_INET && virt && i < virt->networks->len; i++) {
                const VmnetLibvirtNetwork *n = g_ptr_array_index(virt->networks, i);

                if (!n->active || g_strcmp0(n->owner_plan, plan_name) == 0 ||
                    !(g_strcmp0(n->forward_mode, "nat") == 0 ||
                      g_strcmp0(n->forward_mode, "route") == 0 ||
                      g_strcmp0(n->forward_mode, "open") == 0))
                        continue;
                g_ptr_array_add(why, g_strdup_printf("libvirt network '%s' (forward mode %s) is "
                                                     "active",
                                                     n->name, n->forward_mode));
        }
        for (guint i = 0; i < host->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(host->routes, i);
                const VmnetHostLink *l = r->oif ? vmnet_host_find_link_index(host, r->oif) : NULL;
                g_autofree char *dst = NULL;

                /*
                 * A network routed behind a virtual link of someone else's;
                 * not the host's own uplink (a NIC), nor a link's own subnet.
                 */
                if (r->dst.addr.family != family || !r->dst.prefix ||
                    r->protocol == RTPROT_KERNEL || !l || !l->up || !l->kind ||
                    g_str_equal(l->kind, "bridge") || vmnet_owns(&own, l))
                        continue;
                dst = vmnet_prefix_to_string(&r->dst);
                g_ptr_array_add(why, g_strdup_printf("route %s through %s %s", dst, l->kind,
                                                     l->name));
        }
        if (!why->len)
                return NULL;
        g_ptr_array_add(why, NULL);
        return g_strjoinv("; ", (char **)why->pdata);
}

void vmnet_keep_needed_forwarding(const char *plan_name, const GPtrArray *bridges,
                                  const VmnetForeignState *foreign, const VmnetHost *host,
                                  const VmnetLibvirtHost *virt, GPtrArray *actions,
                                  VmnetDiags *warnings)
{
        for (guint i = 0; i < actions->len;) {
                const VmnetAction *a = g_ptr_array_index(actions, i);
                const VmnetSysctlSet *s = a->data;
                g_autofree char *why = NULL;

                if (a->type != &vmnet_action_type_sysctl_set || g_strcmp0(s->value, "0") != 0 ||
                    (!g_str_equal(s->key, "net.ipv4.ip_forward") &&
                     !g_str_equal(s->key, "net.ipv6.conf.all.forwarding")) ||
                    !(why = vmnet_forwarding_needed_by(s->key, plan_name, bridges, foreign, host,
                                                       virt))) {
                        i++;
                        continue;
                }
                vmnet_diags_add(warnings, "sysctl", 0,
                                "%s stays %s (vmnet found it %s and turned it on), since others "
                                "still route through this host: %s",
                                s->key, s->old ? s->old : "1", s->value, why);
                g_ptr_array_remove_index(actions, i);
        }
}
