/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "backend/libvirt/libvirt.h"
#include "backend/nftables/ir.h"
#include "diff/guest-taps.h"
#include "doctor/doctor.h"

/*
 * What the anti-spoofing of table bridge vmnet (vmnet-plan(5) SECURITY)
 * does not cover:
 *  - a running guest's NIC on one of the plan's networks whose tap is not
 *    named vmn + MAC (plugged before vmnet named taps, or by someone
 *    else): the table's sets are keyed on that name, so none of its checks
 *    apply; vmnet does not replug a running NIC for its name alone;
 *  - a plan interface with ip-spoofing denied but no IPv4 address, from
 *    the plan or vmnet's IPAM: its IPv4 and ARP sources are not checked
 *    (info, with vmnet_nft_port_ip4()'s reason).
 * The table itself (present, exactly as planned) is check nft-table's.
 */

static const VmnetInterface *plan_iface(const VmnetPlan *plan, const char *domain,
                                        const VmnetMac *mac)
{
        const VmnetDomain *d = vmnet_plan_find_domain(plan, domain);

        for (guint i = 0; d && i < d->interfaces->len; i++) {
                const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, i);

                if (vmnet_mac_equal(&ifc->mac, mac))
                        return ifc;
        }
        return NULL;
}

static void report_tap(const VmnetGuestTap *t, gpointer data)
{
        VmnetDoctor *doc = data;
        char want[VMNET_IFNAMSIZ] = "";
        g_autofree char *mac = NULL;
        const VmnetInterface *ifc;

        if (!t->iface->has_mac)
                return;
        vmnet_tap_name(&t->iface->mac, want);
        if (g_str_equal(t->tap->name, want))
                return;
        mac = vmnet_mac_to_string(&t->iface->mac);
        ifc = plan_iface(doc->plan, t->domain, &t->iface->mac);
        if (!ifc) {
                vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup_printf("link %s", t->tap->name),
                                 g_strdup_printf("list the interface (mac=\"%s\") under <domain "
                                                 "name=\"%s\"> in the plan, or move it to a "
                                                 "network that is not vmnet's",
                                                 mac, t->domain),
                                 "port %s of domain %s on bridge %s (MAC %s) is not an interface "
                                 "of the plan: no anti-spoofing applies to it",
                                 t->tap->name, t->domain, t->net->bridge, mac);
                return;
        }
        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup_printf("link %s", t->tap->name),
                         g_strdup_printf("restart the guest (virsh shutdown %s; virsh start %s), or "
                                         "replug the interface, so that libvirt names its tap %s",
                                         t->domain, t->domain, want),
                         "port %s of domain %s on bridge %s (MAC %s) is not covered by "
                         "anti-spoofing: its tap is not named %s (it was plugged before vmnet "
                         "named taps), and vmnet does not replug a running interface for its "
                         "name alone",
                         t->tap->name, t->domain, t->net->bridge, mac, want);
}

static void report_unknown_addresses(VmnetDoctor *doc, const VmnetIpam *ipam)
{
        g_autoptr(GArray) unbound = vmnet_nft_unbound_ip4_ports(doc->plan, ipam);

        for (guint i = 0; i < unbound->len; i++) {
                const VmnetUnboundPort *u = &g_array_index(unbound, VmnetUnboundPort, i);
                g_autofree char *mac = vmnet_mac_to_string(&u->iface->mac);

                vmnet_doctor_add(doc, VMNET_SEVERITY_INFO,
                                 g_strdup_printf("interface %s of domain %s", mac, u->domain->name),
                                 g_strdup_printf("%s:%u: give the interface ip= (or a "
                                                 "<reservation> of its MAC)",
                                                 doc->plan->file, u->iface->line),
                                 "the IPv4 and ARP sources of domain %s's interface %s on "
                                 "network '%s' are not checked (ip-spoofing deny): %s",
                                 u->domain->name, mac, u->network->name, u->why);
        }
}

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        g_autoptr(VmnetLibvirtHost) virt = NULL;
        const VmnetIpam *ipam = vmnet_doctor_ipam(doc, skipped);

        if (!ipam)
                return FALSE;
        report_unknown_addresses(doc, ipam);
        if (doc->netns && !doc->libvirt_uri)
                return TRUE; /* libvirt is not used inside a namespace without --connect */
        if (!(virt = vmnet_doctor_libvirt_observe(doc, skipped)))
                return FALSE;
        vmnet_guest_nics_foreach(doc->plan, virt, doc->host, report_tap, doc);
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_antispoof = {
        .name = "antispoof",
        .summary = "guest ports of the plan's networks are covered by anti-spoofing",
        .needs_plan = TRUE,
        .run = run,
};
