/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "diff/mirrors.h"
#include "doctor/doctor.h"
#include "util/mutant.h"

/*
 * The plan's port mirrors (vmnet-plan(5) PORT MIRRORING) as the kernel has
 * them. Each mirror the plan wants on a port that is here (the list apply
 * installs, diff/mirrors.c, so doctor and apply never disagree) must be
 * vmnet's tc filter on that hook of the port, its mirred action sending to
 * the planned destination. Without it (the filter deleted, the tap's
 * qdiscs replaced by libvirt on a live bandwidth change), or with the
 * copies going to a link that is gone (the destination re-created: a
 * monitoring guest restarted without the hook, a capture veth made again),
 * the destination gets nothing; a destination that is not here at all is
 * a mirror that waits for it. The guests' own traffic flows all the same:
 * warnings, not errors.
 */

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        g_autoptr(GPtrArray) wanted = NULL;

        if (!vmnet_plan_has_mirrors(doc->plan)) {
                *skipped = g_strdup("the plan has no mirror");
                return FALSE;
        }
        /* libvirt's running guests on mirrored port groups too, when apply would see them */
        wanted = vmnet_mirrors_wanted(doc->plan, vmnet_doctor_libvirt(doc, NULL), doc->host);
        for (guint i = 0; i < wanted->len; i++) {
                const VmnetWantedMirror *x = g_ptr_array_index(wanted, i);
                const VmnetHostMirror *m = vmnet_host_find_mirror(doc->host, x->port, x->direction);
                const char *dir = vmnet_mirror_dir_to_string(x->direction);
                g_autofree char *apply = vmnet_doctor_cmd_apply(doc);

                if (!x->to_here) {
                        g_autofree char *where = vmnet_doctor_plan_where(doc, x->line);

                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("link %s", x->port),
                                         x->to_link ? g_strdup_printf("create the host link %s, or change "
                                                                "the <mirror> at %s; then %s",
                                                                x->to, where, apply)
                                              : g_strdup_printf("start the monitoring guest (%s, "
                                                                "port %s), or change the <mirror> "
                                                                "at %s; then %s",
                                                                x->to_desc, x->to, where, apply),
                                         "the %s mirror of port %s (%s) has no destination: %s "
                                         "(%s) is not here%s",
                                         dir, x->port, x->port_desc, x->to, x->to_desc,
                                         m ? "; the filter left on the port copies to nowhere" : "");
                        continue;
                }
                if (m && (g_strcmp0(m->to, x->to) == 0 ||
                          VMNET_MUTANT_IS(DOCTOR_MIRROR_ANY_DEST)))
                        continue;
                if (!m && VMNET_MUTANT_IS(NO_DOCTOR_MIRROR))
                        continue;
                if (!m)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("link %s", x->port), g_strdup(apply),
                                         "the %s mirror of port %s (%s) to %s (%s) is missing: "
                                         "the port has no vmnet filter (tc, clsact, mirred) at "
                                         "%s, so %s gets no copy of its frames",
                                         dir, x->port, x->port_desc, x->to, x->to_desc, dir,
                                         x->to);
                else if (!m->to)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("link %s", x->port), g_strdup(apply),
                                         "the %s mirror of port %s (%s) copies to a link that is "
                                         "gone, not to %s (%s), which was made again since: %s "
                                         "gets no copy of its frames",
                                         dir, x->port, x->port_desc, x->to, x->to_desc, x->to);
                else
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("link %s", x->port), g_strdup(apply),
                                         "the %s mirror of port %s (%s) copies to %s, not to %s "
                                         "(%s)",
                                         dir, x->port, x->port_desc, m->to, x->to, x->to_desc);
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_mirrors = {
        .name = "mirrors",
        .summary = "the plan's port mirrors: vmnet's tc filter on each mirrored port, to its destination",
        .needs_plan = TRUE,
        .run = run,
};
