/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/socket.h>

#include "doctor/doctor.h"
#include "model/fleet.h"

/*
 * A fleet plan's VXLAN segments on this host (vmnet-plan(5) FLEET PLANS):
 * the chain a guest frame crosses (bridge, VXLAN link, underlay device) as
 * an info finding per segment, and what breaks it: the link missing, of
 * another VNI or port, not in the bridge; a host missing from the flood
 * list (broadcast, ARP and DHCP never reach it); an underlay device whose
 * MTU cannot carry the segment's frames with VXLAN's overhead.
 */

static gboolean floods_to(const VmnetHostLink *l, const VmnetAddr *a)
{
        for (guint i = 0; l->fdb_flood && i < l->fdb_flood->len; i++)
                if (vmnet_addr_equal(&g_array_index(l->fdb_flood, VmnetAddr, i), a))
                        return TRUE;
        return FALSE;
}

static void check_segment(VmnetDoctor *doc, const VmnetNetwork *net)
{
        const VmnetVxlan *vx = net->vxlan;
        const VmnetHostLink *l = vmnet_host_find_link(doc->host, vx->name);
        const VmnetHostLink *br = vmnet_host_find_link(doc->host, net->bridge);
        const VmnetHostLink *dev = vx->dev ? vmnet_host_find_link(doc->host, vx->dev) : NULL;
        guint cost = vmnet_vxlan_overhead(vx->local.family);
        g_autofree char *under = NULL;

        if (!l || g_strcmp0(l->kind, "vxlan") != 0 || l->vxlan_id != vx->vni ||
            l->vxlan_port != vx->port) {
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("vxlan %s", vx->name),
                                 vmnet_doctor_cmd_apply(doc),
                                 "network '%s': %s, so its guests reach no other host of the "
                                 "segment",
                                 net->name,
                                 !l ? "the VXLAN link is missing" :
                                 g_strcmp0(l->kind, "vxlan") != 0 ? "the link is not a VXLAN" :
                                                                    "the link has another VNI or "
                                                                    "UDP port than the plan's");
                return;
        }
        if (!br || l->master != br->ifindex)
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("vxlan %s", vx->name),
                                 vmnet_doctor_cmd_apply(doc),
                                 "network '%s': %s is not a port of bridge %s: the segment ends "
                                 "at this host",
                                 net->name, vx->name, net->bridge);
        for (guint i = 0; i < vx->remotes->len; i++) {
                const VmnetAddr *a = &g_array_index(vx->remotes, VmnetAddr, i);
                g_autofree char *as = NULL;

                if (floods_to(l, a))
                        continue;
                as = vmnet_addr_to_string(a);
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("vxlan %s", vx->name),
                                 vmnet_doctor_cmd_apply(doc),
                                 "network '%s': %s has no flood entry for %s: broadcast, ARP and "
                                 "DHCP of the segment never reach that host",
                                 net->name, vx->name, as);
        }
        if (dev && dev->mtu < l->mtu + cost) {
                g_autofree char *args = g_strdup_printf("link set dev %s mtu %u", dev->name,
                                                        l->mtu + cost);

                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", dev->name),
                                 vmnet_doctor_cmd_ip(doc, args),
                                 "network '%s': underlay %s has MTU %u, less than %u (%s's %u + "
                                 "%u of VXLAN): the segment's large frames are lost",
                                 net->name, dev->name, dev->mtu, l->mtu + cost, vx->name, l->mtu,
                                 cost);
        }
        under = dev ? g_strdup_printf("underlay %s mtu %u", dev->name, dev->mtu)
                    : g_strdup("underlay routed by the kernel");
        vmnet_doctor_add(doc, VMNET_SEVERITY_INFO, g_strdup_printf("vxlan %s", vx->name), NULL,
                         "network '%s': guests mtu %u -> bridge %s mtu %u -> %s (vni %u) mtu %u "
                         "+ %u -> %s; floods to %u other host%s",
                         net->name, net->mtu ? net->mtu : 1500, net->bridge, br ? br->mtu : 0,
                         vx->name, vx->vni, l->mtu, cost, under, vx->remotes->len,
                         vx->remotes->len == 1 ? "" : "s");
}

static gboolean run(VmnetDoctor *doc, G_GNUC_UNUSED char **skipped)
{
        for (guint i = 0; i < doc->plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(doc->plan->networks, i);

                if (net->vxlan)
                        check_segment(doc, net);
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_vxlan = {
        .name = "vxlan",
        .summary = "VXLAN segments: link, bridge port, flood list, the MTU chain to the underlay",
        .needs_plan = TRUE,
        .run = run,
};
