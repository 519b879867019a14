/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "diff/links.h"
#include "doctor/doctor.h"

/*
 * The plan's bridges, VLAN links and uplink devices: present, of the right
 * kind, administratively up. A bridge that is down forwards nothing, so
 * every guest on it is cut off.
 */

static void check_uplink(VmnetDoctor *doc, const VmnetNetwork *net)
{
        const VmnetUplink *u = net->uplink;
        const VmnetHostLink *dev = vmnet_host_find_link(doc->host, u->dev);
        g_autofree char *where = vmnet_doctor_plan_where(doc, u->line);

        if (!dev) {
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", u->dev),
                                 g_strdup_printf("correct <uplink dev=\"%s\"> of network '%s' (%s) "
                                                 "to the NIC that reaches the LAN",
                                                 u->dev, net->name, where),
                                 "uplink device %s of network '%s' does not exist: the bridge has "
                                 "no way to the LAN",
                                 u->dev, net->name);
                return;
        }
        if (!dev->up) {
                g_autofree char *args = g_strdup_printf("link set dev %s up", u->dev);

                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", u->dev),
                                 vmnet_doctor_cmd_ip(doc, args),
                                 "uplink device %s of network '%s' is down", u->dev, net->name);
        }
        /* A subinterface vmnet creates (vlan-aware bridges take the trunk itself). */
        if (u->vlan && !net->vlan_aware) {
                const VmnetHostLink *v = vmnet_host_find_link(doc->host, u->ifname);

                if (!v)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                         g_strdup_printf("link %s", u->ifname),
                                         vmnet_doctor_cmd_apply(doc),
                                         "VLAN link %s (%s, VLAN %u) of network '%s' does not exist",
                                         u->ifname, u->dev, u->vlan, net->name);
                else if (g_strcmp0(v->kind, "vlan") != 0 || v->vlan_id != u->vlan)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                         g_strdup_printf("link %s", u->ifname),
                                         g_strdup_printf("remove or rename that link, or set "
                                                         "<uplink name=> in %s",
                                                         where),
                                         "%s should be VLAN %u of %s for network '%s', but it is "
                                         "a %s%s",
                                         u->ifname, u->vlan, u->dev, net->name,
                                         v->kind ? v->kind : "NIC",
                                         g_strcmp0(v->kind, "vlan") == 0 ? " with another VLAN id"
                                                                          : " link");
                else if (!v->up)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                         g_strdup_printf("link %s", u->ifname),
                                         vmnet_doctor_cmd_apply(doc),
                                         "VLAN link %s of network '%s' is down", u->ifname,
                                         net->name);
        }
}

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        g_autofree char *alias = vmnet_link_alias_for_plan(doc->plan->name);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < doc->plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(doc->plan->networks, i);
                const VmnetHostLink *br = vmnet_host_find_link(doc->host, net->bridge);
                g_autofree char *where = vmnet_doctor_plan_where(doc, net->line);

                if (net->uplink)
                        check_uplink(doc, net);
                if (!g_hash_table_add(seen, net->bridge))
                        continue; /* a VLAN-aware bridge shared by several networks */
                if (!br) {
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                         g_strdup_printf("bridge %s", net->bridge),
                                         vmnet_doctor_cmd_apply(doc),
                                         "bridge %s of network '%s' does not exist: guests of the "
                                         "network have nothing to plug into",
                                         net->bridge, net->name);
                        continue;
                }
                if (g_strcmp0(br->kind, "bridge") != 0) {
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                         g_strdup_printf("link %s", net->bridge),
                                         g_strdup_printf("remove or rename that link, or choose "
                                                         "another bridge= for network '%s' (%s)",
                                                         net->name, where),
                                         "%s of network '%s' is not a bridge but a %s link",
                                         net->bridge, net->name, br->kind ? br->kind : "physical");
                        continue;
                }
                if (!net->adopt && g_strcmp0(br->alias, alias) != 0)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("bridge %s", net->bridge),
                                         g_strdup_printf("rename or remove the other bridge, or "
                                                         "set adopt=\"yes\" on network '%s' (%s)",
                                                         net->name, where),
                                         "bridge %s is not managed by plan '%s' (its alias is %s%s%s): "
                                         "vmnet apply will refuse to touch it",
                                         net->bridge, doc->plan->name, br->alias ? "'" : "",
                                         br->alias ? br->alias : "unset", br->alias ? "'" : "");
                if (!br->up) {
                        g_autofree char *args = g_strdup_printf("link set dev %s up", net->bridge);
                        g_autofree char *ip = vmnet_doctor_cmd_ip(doc, args);
                        g_autofree char *apply = vmnet_doctor_cmd_apply(doc);

                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                         g_strdup_printf("bridge %s", net->bridge),
                                         g_strdup_printf("%s (or: %s)", apply, ip),
                                         "bridge %s of network '%s' is down: it forwards nothing, "
                                         "every guest on it is cut off",
                                         net->bridge, net->name);
                }
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_links = {
        .name = "links",
        .summary = "the plan's bridges, VLAN links and uplinks exist and are up",
        .needs_plan = TRUE,
        .run = run,
};
