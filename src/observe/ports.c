/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "observe/ports.h"

static void guest_port_free(gpointer p)
{
        VmnetGuestPort *gp = p;

        g_free(gp->domain);
        g_free(gp);
}

/*
 * The planned interface with MAC mac, or (mac NULL) whose vmnet tap name is
 * port; NULL when none. *domain is its domain's name.
 */
static const VmnetInterface *planned(const VmnetPlan *plan, const VmnetMac *mac, const char *port,
                                     const char **domain)
{
        for (guint d = 0; d < plan->domains->len; d++) {
                const VmnetDomain *dom = g_ptr_array_index(plan->domains, d);

                for (guint i = 0; i < dom->interfaces->len; i++) {
                        const VmnetInterface *ifc = g_ptr_array_index(dom->interfaces, i);
                        char tap[VMNET_IFNAMSIZ];

                        if (!ifc->has_mac)
                                continue;
                        vmnet_tap_name(&ifc->mac, tap);
                        if (mac ? vmnet_mac_equal(&ifc->mac, mac) : g_str_equal(tap, port)) {
                                *domain = dom->name;
                                return ifc;
                        }
                }
        }
        return NULL;
}

static void identify(VmnetGuestPort *gp, const VmnetPlan *plan, const VmnetLibvirtHost *virt)
{
        const char *domain = NULL;

        for (guint d = 0; virt && d < virt->domains->len && !gp->has_mac; d++) {
                const VmnetLibvirtDomain *dom = g_ptr_array_index(virt->domains, d);

                for (guint i = 0; i < dom->live->len; i++) {
                        const VmnetLibvirtIface *ifc = g_ptr_array_index(dom->live, i);

                        if (ifc->target && ifc->has_mac && g_str_equal(ifc->target, gp->link->name)) {
                                gp->domain = g_strdup(dom->name);
                                gp->has_mac = TRUE;
                                gp->mac = ifc->mac;
                                break;
                        }
                }
        }
        if (gp->has_mac) {
                gp->planned = planned(plan, &gp->mac, NULL, &domain);
                return;
        }
        gp->planned = planned(plan, NULL, gp->link->name, &domain);
        if (gp->planned) {
                gp->domain = g_strdup(domain);
                gp->has_mac = TRUE;
                gp->mac = gp->planned->mac;
        }
}

/* The network a port of a bridge shared by several networks belongs to. */
static const VmnetNetwork *owner(const VmnetPlan *plan, const VmnetNetwork *first,
                                 const VmnetGuestPort *gp)
{
        if (gp->planned) {
                const VmnetNetwork *n = vmnet_plan_find_network(plan, gp->planned->network);

                if (n && g_strcmp0(n->bridge, first->bridge) == 0)
                        return n;
        }
        return first;
}

/* Is link the uplink or the VXLAN link of a network of bridge? */
static gboolean is_uplink(const VmnetPlan *plan, const char *bridge, const char *link)
{
        for (guint n = 0; n < plan->networks->len; n++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                if (g_strcmp0(net->bridge, bridge) != 0)
                        continue;
                if ((net->uplink && g_strcmp0(net->uplink->ifname, link) == 0) ||
                    (net->vxlan && g_strcmp0(net->vxlan->name, link) == 0))
                        return TRUE;
        }
        return FALSE;
}

GPtrArray *vmnet_guest_ports(const VmnetPlan *plan, const VmnetHost *host,
                             const VmnetLibvirtHost *virt)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(guest_port_free);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) found = g_ptr_array_new();

        for (guint n = 0; n < plan->networks->len; n++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                /* A shared bridge's ports are listed once, under their own network. */
                if (!g_hash_table_add(seen, net->bridge))
                        continue;
                for (guint i = 0; i < host->links->len; i++) {
                        const VmnetHostLink *l = g_ptr_array_index(host->links, i);
                        VmnetGuestPort *gp;

                        if (g_strcmp0(l->master_name, net->bridge) != 0)
                                continue;
                        if (is_uplink(plan, net->bridge, l->name))
                                continue;
                        gp = g_new0(VmnetGuestPort, 1);
                        gp->link = l;
                        identify(gp, plan, virt);
                        gp->network = owner(plan, net, gp);
                        g_ptr_array_add(found, gp);
                }
        }
        /* In plan order of their networks. */
        for (guint n = 0; n < plan->networks->len; n++)
                for (guint i = 0; i < found->len; i++) {
                        VmnetGuestPort *gp = g_ptr_array_index(found, i);

                        if (gp->network == g_ptr_array_index(plan->networks, n))
                                g_ptr_array_add(out, gp);
                }
        return out;
}
