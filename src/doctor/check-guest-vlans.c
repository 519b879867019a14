/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <unistd.h>

#include "backend/libvirt/libvirt.h"
#include "diff/guest-ports.h"
#include "doctor/doctor.h"

/*
 * Guest ports of the plan's VLAN-aware bridges: each running guest's tap
 * must be in its network's (or port group's) VLAN, untagged and PVID, and
 * in no other. The verdict is the one apply acts on (diff/guest-ports.c),
 * so doctor never reports what apply would not repair, nor the other way
 * round. Also: the network hook that places the ports libvirt plugs must be
 * installed, else every guest start needs a `vmnet apply`.
 */

static gboolean plan_has_vlan_aware(const VmnetPlan *plan)
{
        for (guint i = 0; i < plan->networks->len; i++)
                if (((const VmnetNetwork *)g_ptr_array_index(plan->networks, i))->vlan_aware)
                        return TRUE;
        return FALSE;
}

static void report(const VmnetGuestPort *p, gpointer data)
{
        VmnetDoctor *doc = data;
        g_autoptr(GString) other = g_string_new(NULL);

        if (vmnet_guest_port_ok(p))
                return;
        for (guint i = 0; i < p->stray->len; i++)
                g_string_append_printf(other, "%s%u", other->len ? ", " : "",
                                       g_array_index(p->stray, VmnetHostBridgeVlan, i).vid);
        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", p->tap->name),
                         vmnet_doctor_cmd_apply(doc),
                         "port %s of domain %s on bridge %s should be in vlan %u of network '%s' "
                         "(untagged, pvid) and in no other, but it is %s%s%s: the guest %s",
                         p->tap->name, p->domain, p->net->bridge, p->vid, p->net->name,
                         p->in_vid ? "also in vlan" : (other->len ? "in vlan" : "in no vlan"),
                         other->len ? (p->in_vid ? "" : " ") : "", other->str,
                         p->in_vid ? "can reach another VLAN" : "is cut off from its network");
}

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        g_autoptr(VmnetLibvirtHost) virt = NULL;

        if (!plan_has_vlan_aware(doc->plan)) {
                *skipped = g_strdup("the plan has no VLAN-aware bridge");
                return FALSE;
        }
        if (doc->netns && !doc->libvirt_uri) {
                *skipped = g_strdup("libvirt is not used inside a network namespace without --connect");
                return FALSE;
        }
        if (access(VMNET_LIBVIRT_HOOK, X_OK) != 0)
                vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup_printf("file %s", VMNET_LIBVIRT_HOOK),
                                 g_strdup("install vmnet (the Debian package or make install: either "
                                          "installs the hook), then systemctl restart libvirtd"),
                                 "vmnet's libvirt network hook is not installed: a guest that "
                                 "libvirt starts or hot-plugs on a VLAN-aware bridge stays in no "
                                 "VLAN until the next vmnet apply");
        if (!(virt = vmnet_doctor_libvirt_observe(doc, skipped)))
                return FALSE;
        vmnet_guest_ports_foreach(doc->plan, virt, doc->host, report, doc);
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_guest_vlans = {
        .name = "guest-vlans",
        .summary = "guest ports of VLAN-aware bridges are in their VLAN, and only there",
        .needs_plan = TRUE,
        .run = run,
};
