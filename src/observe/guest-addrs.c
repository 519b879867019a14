/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "backend/libvirt/libvirt.h"
#include "backend/netlink/netlink.h"
#include "observe/guest-addrs.h"

void vmnet_guest_addrs_from_neighbours(const VmnetPlan *plan, const GPtrArray *neigh,
                                       GPtrArray *out)
{
        for (guint i = 0; i < neigh->len; i++) {
                const VmnetNlNeighbour *ne = g_ptr_array_index(neigh, i);
                const VmnetNetwork *net = NULL;
                VmnetGuestAddr *g;

                for (guint k = 0; k < plan->networks->len; k++) {
                        const VmnetNetwork *n = g_ptr_array_index(plan->networks, k);
                        gboolean holds;

                        if (g_strcmp0(n->bridge, ne->ifname) != 0)
                                continue;
                        holds = vmnet_network_subnet_for(n, &ne->ip) != NULL;
                        if (!net || holds)
                                net = n;
                        if (holds)
                                break;
                }
                if (!net)
                        continue;
                g = g_new0(VmnetGuestAddr, 1);
                g->mac = ne->mac;
                g->ip = ne->ip;
                g->source = VMNET_IPAM_SOURCE_NEIGHBOUR;
                g->network = g_strdup(net->name);
                g_ptr_array_add(out, g);
        }
}

GPtrArray *vmnet_guest_addrs_observe(const VmnetPlan *plan, struct nl_sock *sk, virConnectPtr virt,
                                     VmnetDiags *warnings)
{
        GPtrArray *out = NULL;
        g_autoptr(GPtrArray) neigh = NULL;
        g_autoptr(GError) error = NULL;

        if (virt && plan->domains->len) {
                g_autoptr(GPtrArray) names = g_ptr_array_new();

                for (guint i = 0; i < plan->domains->len; i++)
                        g_ptr_array_add(names, ((VmnetDomain *)g_ptr_array_index(plan->domains, i))->name);
                g_ptr_array_add(names, NULL);
                out = vmnet_libvirt_guest_addresses(virt, (const char *const *)names->pdata);
        }
        if (!out)
                out = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_guest_addr_free);
        if (!(neigh = vmnet_nl_neighbours(sk, &error)))
                vmnet_diags_add(warnings, "neighbours", 0, "%s", error->message);
        else
                vmnet_guest_addrs_from_neighbours(plan, neigh, out);
        return out;
}
