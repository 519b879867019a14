/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "apply/confirm.h"
#include "doctor/doctor.h"

/*
 * Safe applies (`vmnet apply --confirm-within`): one waiting for
 * confirmation is about to be undone; one that was undone explains a
 * network that "went back"; a record whose watchdog is gone will never be
 * undone nor confirmed by itself.
 */

static char *when(gint64 t)
{
        g_autoptr(GDateTime) d = t ? g_date_time_new_from_unix_local(t) : NULL;

        return d ? g_date_time_format(d, "%F %T") : g_strdup("?");
}

static gboolean run(VmnetDoctor *doc, G_GNUC_UNUSED char **skipped)
{
        g_autoptr(VmnetConfirmInfo) p = vmnet_confirm_read_pending(doc->netns);
        g_autoptr(VmnetConfirmInfo) last = NULL;

        if (p) {
                g_autofree char *deadline = when(p->deadline);
                gint64 left = p->deadline - g_get_real_time() / G_USEC_PER_SEC;

                if (!p->alive)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("confirmation of plan %s", p->plan),
                                         vmnet_doctor_cmd_vmnet(doc, "confirm"),
                                         "an apply of plan '%s' waits for confirmation, but its "
                                         "watchdog (pid %d) is gone: it will not be rolled back; "
                                         "confirm to keep it, or apply the previous plan",
                                         p->plan, p->pid);
                else if (g_strcmp0(p->state, "pending") == 0)
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("confirmation of plan %s", p->plan),
                                         vmnet_doctor_cmd_vmnet(doc, "confirm"),
                                         "an apply of plan '%s' waits for confirmation: it is "
                                         "undone at %s (in %" G_GINT64_FORMAT " s) unless "
                                         "confirmed",
                                         p->plan, deadline, MAX(left, 0));
                else
                        vmnet_doctor_add(doc, VMNET_SEVERITY_INFO,
                                         g_strdup_printf("confirmation of plan %s", p->plan), NULL,
                                         "an apply of plan '%s' with --confirm-within is running",
                                         p->plan);
                return TRUE;
        }
        last = vmnet_confirm_read_last(doc->netns);
        if (last && g_str_has_prefix(last->state, "rollback")) {
                g_autofree char *t = when(last->finished);

                vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                                 g_strdup_printf("confirmation of plan %s", last->plan),
                                 last->errors ? g_strdup_printf("repair by hand: %s", last->errors)
                                              : NULL,
                                 "the rollback of an unconfirmed apply of plan '%s' at %s did not "
                                 "complete (%u of %u steps failed): the host may be partly changed (this note "
                                 "stays until the next safe apply)",
                                 last->plan, t, last->failed, last->undone);
        } else if (last && g_str_equal(last->state, "rolled-back")) {
                g_autofree char *t = when(last->finished);
                g_autofree char *args = g_strdup_printf("apply --confirm-within SECONDS %s",
                                                        last->plan_file ? last->plan_file : "PLAN");

                vmnet_doctor_add(doc, VMNET_SEVERITY_INFO,
                                 g_strdup_printf("confirmation of plan %s", last->plan),
                                 vmnet_doctor_cmd_vmnet(doc, args),
                                 "the last safe apply of plan '%s' was rolled back at %s (%s): the "
                                 "host is as it was before that apply",
                                 last->plan, t, last->reason ? last->reason : "not confirmed");
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_confirm = {
        .name = "confirm",
        .summary = "no safe apply is waiting for confirmation or was rolled back",
        .needs_plan = FALSE,
        .run = run,
};
