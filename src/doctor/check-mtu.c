/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "doctor/doctor.h"
#include "util/mutant.h"

/*
 * MTU along uplink -> VLAN -> bridge -> ports (field note 12). A bridge
 * forwards a frame to a port only if it fits the port's MTU, and a VLAN
 * carries nothing bigger than its parent, so one smaller hop silently drops
 * every large frame: small packets (ping, DNS, TCP handshakes) pass and
 * bulk transfers hang.
 */

/* target: the plan's MTU when it sets one, else the bridge's. */
static void check_port(VmnetDoctor *doc, const VmnetNetwork *net, const VmnetHostLink *br,
                       const VmnetHostLink *p, guint target)
{
        g_autofree char *args = NULL;
        g_autofree char *ip = NULL;
        gboolean tap = g_strcmp0(p->kind, "tun") == 0;

        if (p->mtu == target || VMNET_MUTANT_IS(NO_DOCTOR_MTU))
                return;
        args = g_strdup_printf("link set dev %s mtu %u", p->name, target);
        ip = vmnet_doctor_cmd_ip(doc, args);
        vmnet_doctor_add(doc, p->mtu < target ? VMNET_SEVERITY_ERROR : VMNET_SEVERITY_WARNING,
                         g_strdup_printf("link %s", p->name),
                         tap ? g_strdup_printf("%s, and the same MTU inside the guest (or "
                                               "<mtu size='%u'/> on its libvirt interface)",
                                               ip, target)
                             : g_strdup(ip),
                         "%s %s of bridge %s (network '%s') has MTU %u, the %s %u: frames larger "
                         "than %u bytes %s are dropped",
                         tap ? "guest tap" : "port", p->name, br->name, net->name, p->mtu,
                         net->mtu ? "network" : "bridge", target, MIN(p->mtu, target),
                         p->mtu < target ? "to or from it" : "from it");
}

static void check_uplink(VmnetDoctor *doc, const VmnetNetwork *net, const VmnetHostLink *br)
{
        const VmnetUplink *u = net->uplink;
        const VmnetHostLink *dev = vmnet_host_find_link(doc->host, u->dev);
        const VmnetHostLink *v = u->vlan && !net->vlan_aware ? vmnet_host_find_link(doc->host, u->ifname)
                                                             : NULL;
        guint want = net->mtu ? net->mtu : br->mtu;

        if (!dev)
                return;
        if (dev->mtu < want) {
                g_autofree char *args = g_strdup_printf("link set dev %s mtu %u", u->dev, want);

                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", u->dev),
                                 net->mtu ? vmnet_doctor_cmd_apply(doc) : vmnet_doctor_cmd_ip(doc, args),
                                 "uplink %s has MTU %u, less than the %u of network '%s': frames "
                                 "between %u and %u bytes cannot leave the host",
                                 u->dev, dev->mtu, want, net->name, dev->mtu + 1, want);
        }
        if (v && v->mtu > dev->mtu) {
                g_autofree char *args = g_strdup_printf("link set dev %s mtu %u", u->dev, v->mtu);

                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", u->ifname),
                                 vmnet_doctor_cmd_ip(doc, args),
                                 "VLAN link %s has MTU %u but its parent %s only %u", u->ifname,
                                 v->mtu, u->dev, dev->mtu);
        }
}

static gboolean run(VmnetDoctor *doc, G_GNUC_UNUSED char **skipped)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < doc->plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(doc->plan->networks, i);
                const VmnetHostLink *br = vmnet_host_find_link(doc->host, net->bridge);
                g_autoptr(GPtrArray) ports = NULL;

                if (!br || g_strcmp0(br->kind, "bridge") != 0)
                        continue; /* the links check reports it */
                if (net->mtu && br->mtu != net->mtu)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("bridge %s", net->bridge),
                                         vmnet_doctor_cmd_apply(doc),
                                         "bridge %s has MTU %u, the plan says %u for network '%s'%s",
                                         net->bridge, br->mtu, net->mtu, net->name,
                                         br->mtu < net->mtu ? " (until its MTU is set, a bridge "
                                                              "takes its smallest port's)"
                                                            : "");
                if (net->uplink)
                        check_uplink(doc, net, br);
                if (!g_hash_table_add(seen, net->bridge))
                        continue;
                ports = vmnet_doctor_ports(doc, net->bridge);
                for (guint j = 0; j < ports->len; j++)
                        check_port(doc, net, br, g_ptr_array_index(ports, j),
                                   net->mtu ? net->mtu : br->mtu);
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_mtu = {
        .name = "mtu",
        .summary = "one MTU along uplink, VLAN, bridge and its ports",
        .needs_plan = TRUE,
        .run = run,
};
