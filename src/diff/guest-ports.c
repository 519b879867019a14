/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/if_bridge.h>

#include "actions/kernel.h"
#include "diff/guest-ports.h"
#include "diff/guest-taps.h"

#define PVID_UNTAGGED (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED)

typedef struct {
        VmnetGuestPortVlansFunc fn;
        gpointer data;
} Walk;

/* Adds the wanted vid, with the flags it must have, unless the port has it so. */
static void want(GArray *missing, const GArray *have, guint vid, guint16 flags)
{
        VmnetHostBridgeVlan m = { .vid = (guint16)vid, .flags = flags };

        for (guint k = 0; have && k < have->len; k++) {
                const VmnetHostBridgeVlan *v = &g_array_index(have, VmnetHostBridgeVlan, k);

                if (v->vid == vid && (v->flags & PVID_UNTAGGED) == flags)
                        return;
        }
        g_array_append_val(missing, m);
}

/* A NIC of the shared walk (diff/guest-taps.c) plugged into its VLAN-aware bridge. */
static void if_on_vlan_aware(const VmnetGuestTap *t, gpointer data)
{
        const Walk *w = data;
        g_autoptr(GArray) missing = NULL;
        g_autoptr(GArray) stray = NULL;
        const GArray *have = t->tap->bridge_vlans;
        VmnetGuestPortVlans p = { .domain = t->domain, .iface = t->iface, .net = t->net,
                                  .tap = t->tap, .want = t->vlans };

        if (vmnet_port_vlans_is_empty(&p.want) || g_strcmp0(p.tap->master_name, p.net->bridge) != 0)
                return;
        missing = g_array_new(FALSE, FALSE, sizeof(VmnetHostBridgeVlan));
        stray = g_array_new(FALSE, FALSE, sizeof(VmnetHostBridgeVlan));
        if (p.want.untagged)
                want(missing, have, p.want.untagged, PVID_UNTAGGED);
        for (guint k = 0; k < p.want.n_tagged; k++)
                want(missing, have, p.want.tagged[k], 0);
        for (guint k = 0; have && k < have->len; k++) {
                const VmnetHostBridgeVlan *v = &g_array_index(have, VmnetHostBridgeVlan, k);

                if (vmnet_port_vlans_flags(&p.want, v->vid) < 0)
                        g_array_append_val(stray, *v);
        }
        p.missing = missing;
        p.stray = stray;
        w->fn(&p, w->data);
}

void vmnet_guest_ports_foreach(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                               const VmnetHost *host, VmnetGuestPortVlansFunc fn, gpointer data)
{
        Walk w = { fn, data };

        vmnet_guest_nics_foreach(plan, virt, host, if_on_vlan_aware, &w);
}

gboolean vmnet_guest_port_ok(const VmnetGuestPortVlans *port)
{
        return !port->missing->len && !port->stray->len;
}

static void repair(const VmnetGuestPortVlans *p, gpointer data)
{
        GPtrArray *actions = data;

        for (guint i = 0; i < p->missing->len; i++) {
                const VmnetHostBridgeVlan *v = &g_array_index(p->missing, VmnetHostBridgeVlan, i);

                g_ptr_array_add(actions, vmnet_action_bridge_vlan(p->tap->name, p->net->bridge,
                                                                  v->vid, v->flags, TRUE,
                                                                  VMNET_IMPACT_SAFE));
        }
        /*
         * Taking a guest out of a VLAN it was talking in cuts that
         * conversation. The flags are the entry's own, for the undo.
         */
        for (guint i = 0; i < p->stray->len; i++) {
                const VmnetHostBridgeVlan *v = &g_array_index(p->stray, VmnetHostBridgeVlan, i);

                g_ptr_array_add(actions, vmnet_action_bridge_vlan(p->tap->name, p->net->bridge,
                                                                  v->vid, v->flags, FALSE,
                                                                  VMNET_IMPACT_DISRUPTIVE));
        }
}

void vmnet_diff_guest_ports(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                            const VmnetHost *host, GPtrArray *actions)
{
        vmnet_guest_ports_foreach(plan, virt, host, repair, actions);
}
