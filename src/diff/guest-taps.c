/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "diff/guest-taps.h"

void vmnet_guest_nics_foreach(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                              const VmnetHost *host, VmnetGuestTapFunc fn, gpointer data)
{
        for (guint i = 0; virt && i < virt->domains->len; i++) {
                const VmnetLibvirtDomain *d = g_ptr_array_index(virt->domains, i);

                for (guint j = 0; d->active && j < d->live->len; j++) {
                        const VmnetLibvirtIface *f = g_ptr_array_index(d->live, j);
                        const VmnetLibvirtNetwork *ln;
                        VmnetGuestTap t = { .domain = d->name, .iface = f };

                        if (g_strcmp0(f->type, "network") != 0 || !f->network || !f->target ||
                            !(t.net = vmnet_plan_find_network(plan, f->network)) ||
                            !(ln = vmnet_libvirt_host_find_network(virt, f->network)) ||
                            g_strcmp0(ln->owner_plan, plan->name) != 0 ||
                            g_strcmp0(ln->bridge, t.net->bridge) != 0 ||
                            !(t.tap = vmnet_host_find_link(host, f->target)))
                                continue;
                        vmnet_network_port_vlans(t.net, f->portgroup, &t.vlans);
                        fn(&t, data);
                }
        }
}

typedef struct {
        VmnetGuestTapFunc fn;
        gpointer data;
} Unplugged;

static void if_unplugged(const VmnetGuestTap *t, gpointer data)
{
        const Unplugged *u = data;

        if (g_strcmp0(t->tap->master_name, t->net->bridge) != 0)
                u->fn(t, u->data);
}

void vmnet_guest_taps_foreach(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                              const VmnetHost *host, VmnetGuestTapFunc fn, gpointer data)
{
        Unplugged u = { fn, data };

        vmnet_guest_nics_foreach(plan, virt, host, if_unplugged, &u);
}

static void plug(const VmnetGuestTap *t, gpointer data)
{
        GPtrArray *actions = data;
        g_autofree char *mac = t->iface->has_mac ? vmnet_mac_to_string(&t->iface->mac)
                                                 : g_strdup("?");

        g_ptr_array_add(actions, vmnet_action_guest_tap_plug(t->tap->name, t->net->bridge,
                                                             t->tap->master_name, t->domain, mac,
                                                             &t->vlans));
}

void vmnet_diff_guest_taps(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                           const VmnetHost *host, GPtrArray *actions)
{
        vmnet_guest_taps_foreach(plan, virt, host, plug, actions);
}
