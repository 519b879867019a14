/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/if_bridge.h>
#include <unistd.h>

#include "backend/libvirt/libvirt.h"
#include "diff/guest-ports.h"
#include "doctor/doctor.h"

/*
 * Guest ports of the plan's VLAN-aware bridges: each running guest's tap
 * must be in its network's (or port group's) VLAN, untagged and PVID, or
 * carry its trunk port group's VLANs, and be in no other. The verdict is
 * the one apply acts on (diff/guest-ports.c), so doctor never reports what
 * apply would not repair, nor the other way round. Also: the network hook that places the ports libvirt plugs must be
 * installed, else every guest start needs a `vmnet apply`.
 */

static gboolean plan_has_vlan_aware(const VmnetPlan *plan)
{
        for (guint i = 0; i < plan->networks->len; i++)
                if (((const VmnetNetwork *)g_ptr_array_index(plan->networks, i))->vlan_aware)
                        return TRUE;
        return FALSE;
}

/* "100 (tagged), 200 (untagged, pvid)": entries of a port, for messages. */
static char *entries(const GArray *vlans)
{
        GString *out = g_string_new(NULL);

        for (guint i = 0; i < vlans->len; i++) {
                const VmnetHostBridgeVlan *v = &g_array_index(vlans, VmnetHostBridgeVlan, i);

                gboolean pvid = v->flags & BRIDGE_VLAN_INFO_PVID;
                gboolean untagged = v->flags & BRIDGE_VLAN_INFO_UNTAGGED;

                g_string_append_printf(out, "%s%u (%s%s%s)", i ? ", " : "", v->vid,
                                       untagged ? "untagged" : "tagged", pvid ? ", " : "",
                                       pvid ? "pvid" : "");
        }
        return g_string_free(out, FALSE);
}

static void report(const VmnetGuestPortVlans *p, gpointer data)
{
        VmnetDoctor *doc = data;
        g_autofree char *want = NULL, *lacks = NULL, *other = NULL;

        if (vmnet_guest_port_ok(p))
                return;
        want = vmnet_port_vlans_describe(&p->want);
        lacks = entries(p->missing);
        other = entries(p->stray);
        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", p->tap->name),
                         vmnet_doctor_cmd_apply(doc),
                         "port %s of domain %s on bridge %s should be in %s of network '%s' and "
                         "in no other, but it %s%s%s%s%s: the guest %s",
                         p->tap->name, p->domain, p->net->bridge, want, p->net->name,
                         *lacks ? "lacks vlan " : "", lacks, *lacks && *other ? " and " : "",
                         *other ? "is also in vlan " : "", other,
                         *other ? "can reach a VLAN it must not" : "is cut off from its VLAN");
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
