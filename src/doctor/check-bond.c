/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "doctor/doctor.h"

/*
 * The plan's bonds: each member enslaved and up (a member down leaves the
 * bond fewer links: traffic goes on, redundancy is gone), and an 802.3ad
 * bond with an LACP partner (without one the switch side is not
 * aggregating, and the bond carries at most one link's traffic, or none).
 */

#define BOND_MODE_8023AD 4
#define BOND_LINK_UP 0

static gboolean run(VmnetDoctor *doc, G_GNUC_UNUSED char **skipped)
{
        for (guint i = 0; i < doc->plan->bonds->len; i++) {
                const VmnetBond *b = g_ptr_array_index(doc->plan->bonds, i);
                const VmnetHostLink *l = vmnet_host_find_link(doc->host, b->name);
                guint up = 0;

                if (!l || g_strcmp0(l->kind, "bond") != 0) {
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("bond %s", b->name),
                                         vmnet_doctor_cmd_apply(doc), "bond %s is missing",
                                         b->name);
                        continue;
                }
                for (guint j = 0; b->members[j]; j++) {
                        const VmnetHostLink *m = vmnet_host_find_link(doc->host, b->members[j]);
                        g_autofree char *args = NULL;

                        if (!m || m->master != l->ifindex) {
                                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                                 g_strdup_printf("link %s", b->members[j]),
                                                 vmnet_doctor_cmd_apply(doc),
                                                 "%s is not a member of bond %s%s",
                                                 b->members[j], b->name,
                                                 m ? "" : " (it does not exist)");
                                continue;
                        }
                        if (m->up && m->oper_up && m->bond_member_mii == BOND_LINK_UP) {
                                up++;
                                continue;
                        }
                        args = g_strdup_printf("link set dev %s up", m->name);
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("link %s", m->name),
                                         m->up ? g_strdup("check its cable and the switch port")
                                               : vmnet_doctor_cmd_ip(doc, args),
                                         "member %s of bond %s is down (%s): the bond runs on "
                                         "fewer links, without redundancy",
                                         m->name, b->name,
                                         !m->up ? "administratively" : "no carrier or link");
                }
                if (l->bond_mode == BOND_MODE_8023AD && up && !l->bond_has_partner)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("bond %s", b->name),
                                         g_strdup("configure the switch ports of its members as "
                                                  "one LACP (802.3ad) aggregate"),
                                         "bond %s (802.3ad) has no LACP partner: the switch does "
                                         "not aggregate its links",
                                         b->name);
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_bond = {
        .name = "bond",
        .summary = "the plan's bonds: members enslaved and up, an LACP partner for 802.3ad",
        .needs_plan = TRUE,
        .run = run,
};
