/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "render/render.h"
#include "util/mutant.h"

/*
 * The <interface type='network'> a guest gets for one plan interface
 * (virDomainAttachDeviceFlags input). It names the libvirt network vmnet
 * defined for the plan network (vmnet_render_libvirt_network()), so libvirt
 * plugs the tap into vmnet's bridge and applies port group settings itself.
 */

static void append_attr(GString *out, const char *name, const char *value)
{
        g_autofree char *esc = g_markup_escape_text(value, -1);

        g_string_append_printf(out, " %s='%s'", name, esc);
}

/*
 * vmnet recognises the interfaces it attached by this user alias (libvirt
 * keeps an <alias> only when it starts with "ua-" and has nothing but
 * [A-Za-z0-9_-], else it silently drops it: domain_conf.c
 * virDomainDeviceInfoParseXML()), so interfaces it did not attach are never
 * touched, and those of another plan are told apart by the encoded plan name.
 * The MAC makes the alias unique in the domain, as qemu needs for a device id.
 */
char *vmnet_render_iface_alias(const char *plan_name, const VmnetMac *mac)
{
        GString *out = g_string_new("ua-vmnet-");

        for (const char *p = plan_name; *p; p++) {
                if (g_ascii_isalnum(*p) || *p == '-')
                        g_string_append_c(out, *p);
                else
                        g_string_append_printf(out, "_%02x", (guint8)*p);
        }
        g_string_append_printf(out, "-%02x%02x%02x%02x%02x%02x", mac->b[0], mac->b[1], mac->b[2],
                               mac->b[3], mac->b[4], mac->b[5]);
        return g_string_free(out, FALSE);
}

char *vmnet_render_domain_interface(const VmnetPlan *plan, const VmnetDomain *dom,
                                    const VmnetInterface *ifc)
{
        return vmnet_render_domain_interface_full(plan, dom, ifc, TRUE);
}

/*
 * Renders interface ifc of domain dom as libvirt <interface> XML. Returns a
 * newly allocated string the caller frees.
 */
char *vmnet_render_domain_interface_full(const VmnetPlan *plan, const VmnetDomain *dom,
                                         const VmnetInterface *ifc, gboolean target)
{
        g_autoptr(GString) out = g_string_new(NULL);
        const VmnetNetwork *net;
        const char *model;

        g_return_val_if_fail(plan && dom && ifc && ifc->network, NULL);

        net = vmnet_plan_find_network(plan, ifc->network);
        model = ifc->model ? ifc->model : "virtio";

        g_string_append(out, "<interface type='network'>\n");
        /* vmnet_plan_finalize() gives every interface a stable MAC; without
         * one libvirt would pick a random MAC on every attach. */
        if (ifc->has_mac) {
                g_autofree char *mac = vmnet_mac_to_string(&ifc->mac);

                g_string_append(out, "  <mac");
                append_attr(out, "address", mac);
                g_string_append(out, "/>\n");
        }
        g_string_append(out, "  <source");
        append_attr(out, "network", ifc->network);
        /* No portgroup attribute: libvirt then uses the network's default one. */
        if (ifc->portgroup)
                append_attr(out, "portgroup", ifc->portgroup);
        g_string_append(out, "/>\n");
        /*
         * The tap's name, so the bridge table's anti-spoofing sets can be
         * keyed on it (backend/nftables/ir-bridge.c). libvirt keeps a target dev it was given
         * (only vnet*, vif* and macvtap* names are regenerated) in both the
         * running and the persistent definition.
         */
        if (target && ifc->has_mac) {
                char tap[VMNET_IFNAMSIZ];

                vmnet_tap_name(&ifc->mac, tap);
                g_string_append(out, "  <target");
                append_attr(out, "dev", tap);
                g_string_append(out, "/>\n");
        }
        g_string_append(out, "  <model");
        append_attr(out, "type", model);
        g_string_append(out, "/>\n");
        /* Multiqueue is a virtio-net (vhost) feature; emulated NICs have one queue. */
        if (ifc->queues > 0 && g_str_equal(model, "virtio"))
                g_string_append_printf(out, "  <driver name='vhost' queues='%u'/>\n",
                                       ifc->queues);
        /*
         * Only the interface's own rates: a port group's <bandwidth> is merged
         * in by libvirt when the port is allocated (an interface's own
         * bandwidth wins), so repeating it here would pin the group's rate
         * into every domain.
         */
        if (ifc->has_bandwidth)
                vmnet_render_bandwidth(out, "  ", &ifc->bandwidth);
        /*
         * The network XML cannot carry <mtu> in forward mode='bridge' (see
         * libvirt-network.c). Without it libvirt copies the bridge's MTU to
         * the tap (virNetDevTapAttachBridge()), but the guest is not told:
         * with <mtu> the qemu driver also passes host_mtu to virtio-net, so
         * the guest's NIC matches NIC -> bridge -> tap end to end.
         */
        if (net && net->mtu > 0 && !VMNET_MUTANT_IS(NO_INTERFACE_MTU))
                g_string_append_printf(out, "  <mtu size='%u'/>\n", net->mtu);
        if (ifc->has_mac) {
                g_autofree char *alias = vmnet_render_iface_alias(plan->name, &ifc->mac);

                g_string_append(out, "  <alias");
                append_attr(out, "name", alias);
                g_string_append(out, "/>\n");
        }
        g_string_append(out, "</interface>\n");
        return g_string_free(g_steal_pointer(&out), FALSE);
}
