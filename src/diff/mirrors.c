/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "actions/mirror.h"
#include "diff/guest-taps.h"
#include "diff/mirrors.h"

static void wanted_free(gpointer p)
{
        VmnetWantedMirror *w = p;

        g_free(w->port);
        g_free(w->port_desc);
        g_free(w->to);
        g_free(w->to_desc);
        g_free(w);
}

typedef struct {
        const VmnetPlan *plan;
        const VmnetHost *host;
        GPtrArray *out;
        GHashTable *seen; /* port names already mirrored (borrowed from out) */
} Walk;

/* One wanted mirror per direction bit of m, from port to m's destination. */
static void want(Walk *w, const char *port, const char *port_desc, const VmnetMirror *m)
{
        g_autofree char *to = NULL, *to_desc = NULL;

        if (g_hash_table_contains(w->seen, port))
                return;
        if (m->to_link) {
                to = g_strdup(m->to_link);
                to_desc = g_strdup("host link");
        } else {
                const VmnetDomain *d = vmnet_plan_find_domain(w->plan, m->to_domain);
                const VmnetInterface *ifc;
                char tap[VMNET_IFNAMSIZ];

                /* validated: the domain and its interface exist (in this host's part) */
                if (!d || m->to_interface < 1 || m->to_interface > d->interfaces->len)
                        return;
                ifc = g_ptr_array_index(d->interfaces, m->to_interface - 1);
                vmnet_tap_name(&ifc->mac, tap);
                to = g_strdup(tap);
                to_desc = g_strdup_printf("domain %s interface %u", d->name, m->to_interface);
        }
        for (guint bit = VMNET_MIRROR_INGRESS; bit <= VMNET_MIRROR_EGRESS; bit <<= 1) {
                VmnetWantedMirror *x;

                if (!(m->direction & bit))
                        continue;
                x = g_new0(VmnetWantedMirror, 1);
                x->port = g_strdup(port);
                x->port_desc = g_strdup(port_desc);
                x->direction = bit;
                x->to = g_strdup(to);
                x->to_desc = g_strdup(to_desc);
                x->to_link = m->to_link != NULL;
                x->to_here = vmnet_host_find_link(w->host, to) != NULL;
                x->line = m->line;
                g_ptr_array_add(w->out, x);
                g_hash_table_add(w->seen, x->port);
        }
}

/* A running guest's NIC on a plan network, whoever started it: its port group's mirror. */
static void libvirt_nic(const VmnetGuestTap *t, gpointer data)
{
        Walk *w = data;
        const VmnetMirror *m = vmnet_network_port_mirror(t->net, t->iface->portgroup);
        g_autofree char *desc = NULL;

        if (!m)
                return;
        desc = g_strdup_printf("domain %s, port group %s", t->domain,
                               t->iface->portgroup ? t->iface->portgroup : "(default)");
        want(w, t->tap->name, desc, m);
}

GPtrArray *vmnet_mirrors_wanted(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                                const VmnetHost *host)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        Walk w = { plan, host, g_ptr_array_new_with_free_func(wanted_free), seen };

        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; j < d->interfaces->len; j++) {
                        const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);
                        const VmnetNetwork *net = vmnet_plan_find_network(plan, ifc->network);
                        const VmnetMirror *m = vmnet_interface_mirror(net, ifc);
                        g_autofree char *desc = NULL;
                        char tap[VMNET_IFNAMSIZ];

                        vmnet_tap_name(&ifc->mac, tap);
                        if (!m || !vmnet_host_find_link(host, tap))
                                continue;
                        desc = g_strdup_printf("domain %s interface %u", d->name, j + 1);
                        want(&w, tap, desc, m);
                }
        }
        if (virt)
                vmnet_guest_nics_foreach(plan, virt, host, libvirt_nic, &w);
        return w.out;
}

/* The interface of the plan on network with that MAC, NULL when none; *idx is its number in its domain. */
static const VmnetInterface *plan_interface(const VmnetPlan *plan, const char *network,
                                            const VmnetMac *mac, const VmnetDomain **dom,
                                            guint *idx)
{
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; j < d->interfaces->len; j++) {
                        const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);

                        if (g_strcmp0(ifc->network, network) == 0 &&
                            memcmp(&ifc->mac, mac, sizeof(*mac)) == 0) {
                                *dom = d;
                                *idx = j + 1;
                                return ifc;
                        }
                }
        }
        return NULL;
}

GPtrArray *vmnet_mirrors_for_port(const VmnetPlan *plan, const VmnetHost *host,
                                  const char *network, const VmnetMac *mac,
                                  const char *portgroup, const char *tap)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        Walk w = { plan, host, g_ptr_array_new_with_free_func(wanted_free), seen };
        const VmnetNetwork *net = vmnet_plan_find_network(plan, network);
        const VmnetDomain *d = NULL;
        guint idx = 0;
        const VmnetInterface *ifc = plan_interface(plan, network, mac, &d, &idx);

        if (!net)
                return w.out;
        if (ifc) {
                const VmnetMirror *m = vmnet_interface_mirror(net, ifc);
                g_autofree char *desc = g_strdup_printf("domain %s interface %u", d->name, idx);

                if (m)
                        want(&w, tap, desc, m);
        } else if (vmnet_network_port_mirror(net, portgroup)) {
                g_autofree char *desc = g_strdup_printf("port group %s",
                                                        portgroup ? portgroup : "(default)");

                want(&w, tap, desc, vmnet_network_port_mirror(net, portgroup));
        }
        /* the mirrors whose destination this port is: the plan's interfaces that are here */
        for (guint i = 0; ifc && i < plan->domains->len; i++) {
                const VmnetDomain *sd = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; j < sd->interfaces->len; j++) {
                        const VmnetInterface *src = g_ptr_array_index(sd->interfaces, j);
                        const VmnetMirror *m = vmnet_interface_mirror(
                                vmnet_plan_find_network(plan, src->network), src);
                        g_autofree char *desc = NULL;
                        char stap[VMNET_IFNAMSIZ];

                        if (!m || g_strcmp0(m->to_domain, d->name) != 0 || m->to_interface != idx)
                                continue;
                        vmnet_tap_name(&src->mac, stap);
                        if (!vmnet_host_find_link(host, stap))
                                continue;
                        desc = g_strdup_printf("domain %s interface %u", sd->name, j + 1);
                        want(&w, stap, desc, m);
                }
        }
        return w.out;
}

static gboolean is_wanted(const GPtrArray *wanted, const VmnetHostMirror *m)
{
        for (guint i = 0; i < wanted->len; i++) {
                const VmnetWantedMirror *x = g_ptr_array_index(wanted, i);

                if (x->direction == m->direction && g_str_equal(x->port, m->port) && x->to_here)
                        return TRUE;
        }
        return FALSE;
}

void vmnet_diff_mirrors(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                        const VmnetHost *host, GPtrArray *actions, VmnetDiags *warnings)
{
        g_autoptr(GPtrArray) wanted = vmnet_mirrors_wanted(plan, virt, host);

        /* Unwanted first: a port's old mirror goes before its new one comes. */
        for (guint i = 0; i < host->mirrors->len; i++) {
                const VmnetHostMirror *m = g_ptr_array_index(host->mirrors, i);

                if (!is_wanted(wanted, m))
                        g_ptr_array_add(actions, vmnet_action_port_mirror(m->port, NULL,
                                                                          m->direction, NULL,
                                                                          NULL, m->to));
        }
        for (guint i = 0; i < wanted->len; i++) {
                const VmnetWantedMirror *x = g_ptr_array_index(wanted, i);
                const VmnetHostMirror *m = vmnet_host_find_mirror(host, x->port, x->direction);

                if (!x->to_here) {
                        if (warnings)
                                vmnet_diags_add(warnings, plan->file, x->line,
                                                "the %s mirror of port %s (%s) waits: its "
                                                "destination %s (%s) is not here",
                                                vmnet_mirror_dir_to_string(x->direction), x->port,
                                                x->port_desc, x->to, x->to_desc);
                        continue;
                }
                if (m && g_strcmp0(m->to, x->to) == 0)
                        continue;
                g_ptr_array_add(actions, vmnet_action_port_mirror(x->port, x->port_desc,
                                                                  x->direction, x->to, x->to_desc,
                                                                  m ? m->to : NULL));
        }
}

void vmnet_diff_mirrors_destroy(const VmnetHost *host, GPtrArray *actions)
{
        for (guint i = 0; i < host->mirrors->len; i++) {
                const VmnetHostMirror *m = g_ptr_array_index(host->mirrors, i);

                g_ptr_array_add(actions, vmnet_action_port_mirror(m->port, NULL, m->direction,
                                                                  NULL, NULL, m->to));
        }
}
