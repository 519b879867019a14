/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "apply/apply.h"
#include "backend/nftables/ir.h"
#include "doctor/doctor.h"

/*
 * vmnet's table inet vmnet: there, and exactly what the plan renders.
 * `nft flush ruleset` (which `systemctl restart nftables` runs, field note
 * 3) removes it and guests lose NAT, port forwards and DHCP/DNS accepts,
 * with nothing else looking wrong. Without a plan, the state files say
 * which plan is applied here, so a missing table is still noticed.
 */

static const char *owner_of(const char *comment, const char *ir_comment_of_any_plan_prefix)
{
        if (!comment || !g_str_has_prefix(comment, ir_comment_of_any_plan_prefix))
                return NULL;
        return comment + strlen(ir_comment_of_any_plan_prefix);
}

/* The comment prefix vmnet_nft_ir_from_plan() writes, derived from the plan's own comment. */
static char *owner_prefix(const VmnetNftIr *ir, const char *plan_name)
{
        if (ir->comment && g_str_has_suffix(ir->comment, plan_name))
                return g_strndup(ir->comment, strlen(ir->comment) - strlen(plan_name));
        return g_strdup("managed by vmnet plan ");
}

static gboolean with_plan(VmnetDoctor *doc, char **skipped)
{
        /* What the plan renders depends on its addresses. */
        const VmnetIpam *ipam = vmnet_doctor_ipam(doc, skipped);
        g_autoptr(VmnetNftIr) ir = NULL;
        g_autofree char *prefix = NULL, *list = NULL;
        const char *owner;

        if (!ipam)
                return FALSE;
        ir = vmnet_nft_ir_from_plan(doc->plan, ipam);
        prefix = owner_prefix(ir, doc->plan->name);
        owner = owner_of(doc->nft->comment, prefix);
        list = vmnet_doctor_cmd_in_ns(doc, "nft list table inet vmnet");
        if (!doc->nft->exists) {
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup("table inet vmnet"),
                                 vmnet_doctor_cmd_apply(doc),
                                 "vmnet's nftables table is missing (after `nft flush ruleset` or a "
                                 "restart of nftables.service or a firewall?): guests lose NAT, "
                                 "port forwards and the accepts for DHCP and DNS");
                return TRUE;
        }
        if (owner && !g_str_equal(owner, doc->plan->name)) {
                g_autofree char *destroy = g_strdup_printf("destroy the plan '%s' first (%s) or use "
                                                           "another network namespace",
                                                           owner, "vmnet destroy ITS-PLAN-FILE");

                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup("table inet vmnet"),
                                 g_steal_pointer(&destroy),
                                 "table inet vmnet belongs to plan '%s', not '%s': one plan per "
                                 "host (or network namespace)",
                                 owner, doc->plan->name);
                return TRUE;
        }
        if (!vmnet_nft_observed_matches(doc->nft, ir)) {
                g_autofree char *apply = vmnet_doctor_cmd_apply(doc);

                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup("table inet vmnet"),
                                 g_strdup_printf("%s (see what changed first: %s)", apply, list),
                                 "table inet vmnet differs from what plan '%s' renders (changed by "
                                 "hand or by another tool): rules guests rely on may be gone",
                                 doc->plan->name);
        }
        return TRUE;
}

static void without_plan(VmnetDoctor *doc)
{
        g_autoptr(GHashTable) plans = vmnet_doctor_state_plans(doc);
        const char *owner = owner_of(doc->nft->comment, "managed by vmnet plan ");
        GHashTableIter it;
        gpointer name, path;

        g_hash_table_iter_init(&it, plans);
        while (g_hash_table_iter_next(&it, &name, &path)) {
                /* Ours, or another plan's (apply refuses two plans in one namespace). */
                if (doc->nft->exists && owner)
                        continue;
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup("table inet vmnet"),
                                 vmnet_doctor_cmd_apply_state(doc, name, path),
                                 "plan '%s' is applied here (%s) but vmnet's nftables table is "
                                 "%s (after `nft flush ruleset` or a restart of nftables.service "
                                 "or a firewall?): its guests lose NAT, port forwards and the "
                                 "accepts for DHCP and DNS",
                                 (char *)name, (char *)path,
                                 doc->nft->exists ? "not vmnet's" : "missing");
        }
        if (doc->nft->exists && owner && !g_hash_table_contains(plans, owner)) {
                g_autofree char *del = vmnet_doctor_cmd_in_ns(doc, "nft delete table inet vmnet");

                vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup("table inet vmnet"),
                                 g_strdup_printf("re-apply plan '%s' (vmnet apply ITS-PLAN-FILE) "
                                                 "or, if it is gone for good: %s",
                                                 owner, del),
                                 "table inet vmnet of plan '%s' has no state file (%s): a "
                                 "left-over, or the state directory was lost",
                                 owner, vmnet_state_dir());
        }
}

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        if (doc->plan)
                return with_plan(doc, skipped);
        without_plan(doc);
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_nft_table = {
        .name = "nft-table",
        .summary = "vmnet's nftables table is present and as the plan renders it",
        .needs_plan = FALSE,
        .run = run,
};
