/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "doctor/doctor.h"

/*
 * What is plugged into each bridge: the uplink of a bridged network must be
 * a port, and a bridge without any port connects nobody (the guest's tap is
 * elsewhere, or the guest is not running).
 */

static const char *uplink_port(const VmnetNetwork *net)
{
        if (!net->uplink)
                return NULL;
        /* A VLAN-aware bridge takes the trunk; otherwise the subinterface (or the NIC). */
        return net->uplink->vlan && !net->vlan_aware ? net->uplink->ifname : net->uplink->dev;
}

static void check_bridge(VmnetDoctor *doc, const VmnetNetwork *net, gboolean first)
{
        const VmnetHostLink *br = vmnet_host_find_link(doc->host, net->bridge);
        const char *up = uplink_port(net);
        g_autoptr(GPtrArray) ports = NULL;

        if (!br || g_strcmp0(br->kind, "bridge") != 0)
                return; /* the links check reports it */
        ports = vmnet_doctor_ports(doc, net->bridge);

        if (up) {
                const VmnetHostLink *l = vmnet_host_find_link(doc->host, up);

                if (l && g_strcmp0(l->master_name, net->bridge) != 0)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", up),
                                         vmnet_doctor_cmd_apply(doc),
                                         "uplink %s of network '%s' is not a port of bridge %s "
                                         "(%s%s): guests on the bridge cannot reach the LAN",
                                         up, net->name, net->bridge,
                                         l->master_name ? "its master is " : "it has no master",
                                         l->master_name ? l->master_name : "");
        }
        if (!first)
                return; /* a shared VLAN-aware bridge: its ports were looked at once */

        if (!ports->len) {
                gboolean expected = up || vmnet_doctor_network_has_guests(doc, net);
                g_autofree char *args = g_strdup_printf("link show master %s", net->bridge);
                g_autofree char *show = vmnet_doctor_cmd_ip(doc, args);
                g_autofree char *apply = vmnet_doctor_cmd_apply(doc);
                char *fix = NULL;

                if (up)
                        fix = g_strdup(apply);
                else if (expected)
                        fix = g_strdup_printf("start the guests of network '%s' (virsh start "
                                              "DOMAIN) or attach their interfaces (%s); check "
                                              "with: %s",
                                              net->name, apply, show);
                vmnet_doctor_add(doc, expected ? VMNET_SEVERITY_WARNING : VMNET_SEVERITY_INFO,
                                 g_strdup_printf("bridge %s", net->bridge), fix,
                                 "bridge %s of network '%s' has no ports: %s", net->bridge,
                                 net->name,
                                 expected ? "no guest interface (tap) and no uplink is plugged "
                                            "into it, so nothing on it can talk to anything"
                                          : "no guest is attached yet");
                return;
        }
        for (guint i = 0; i < ports->len; i++) {
                const VmnetHostLink *p = g_ptr_array_index(ports, i);
                g_autofree char *args = NULL;

                if (p->up)
                        continue;
                args = g_strdup_printf("link set dev %s up", p->name);
                vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup_printf("link %s", p->name),
                                 vmnet_doctor_cmd_ip(doc, args),
                                 "port %s of bridge %s is down: what is behind it is cut off",
                                 p->name, net->bridge);
        }
}

static gboolean run(VmnetDoctor *doc, G_GNUC_UNUSED char **skipped)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < doc->plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(doc->plan->networks, i);

                check_bridge(doc, net, g_hash_table_add(seen, net->bridge));
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_bridge_ports = {
        .name = "bridge-ports",
        .summary = "every bridge has its uplink and guest taps as ports",
        .needs_plan = TRUE,
        .run = run,
};
