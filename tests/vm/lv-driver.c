/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "actions/libvirt.h"
#include "apply/apply.h"
#include "apply/state.h"
#include "diff/dnsmasq.h"
#include "diff/libvirt.h"
#include "ipam/ipam.h"
#include "observe/libvirt.h"
#include "plan/plan.h"
#include "validate/validate.h"

/*
 * Drives vmnet's libvirt part (networks, guest interfaces, dnsmasq, IPAM)
 * the way `vmnet apply` will, for tests/vm/t-libvirt.sh, until the CLI
 * has it:
 *
 *   lv-driver URI PLAN.xml plan|apply|destroy
 *
 * Prints one line per action ("+ description"), then "N actions", and
 * executes them for apply and destroy (rolling back on failure). Kernel
 * links are not its business: the test makes the bridges.
 */

static void print_actions(const GPtrArray *actions)
{
        for (guint i = 0; i < actions->len; i++) {
                g_autofree char *d = vmnet_action_describe(g_ptr_array_index(actions, i));

                printf("+ %s\n", d);
        }
        printf("%u actions\n", actions->len);
        fflush(stdout);
}

int main(int argc, char **argv)
{
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(VmnetLibvirtHost) host = NULL;
        g_autoptr(VmnetState) state = NULL;
        g_autoptr(VmnetIpam) ipam = NULL;
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        virConnectPtr conn;
        VmnetApplyCtx ctx = { 0 };
        const char *cmd;
        gboolean ok;

        if (argc != 4) {
                fprintf(stderr, "usage: %s URI PLAN.xml plan|apply|destroy\n", argv[0]);
                return 2;
        }
        cmd = argv[3];
        plan = vmnet_plan_load_file(argv[2], diags, &error);
        if (!plan || !vmnet_plan_validate(plan, diags)) {
                g_autoptr(GError) all = NULL;

                vmnet_diags_to_error(diags, &all, VMNET_ERROR_INVALID);
                fprintf(stderr, "%s\n%s\n", error ? error->message : "", all->message);
                return 1;
        }
        if (!(conn = vmnet_libvirt_connect(argv[1], &error)) ||
            !vmnet_libvirt_observe(conn, &host, &error) ||
            !(state = vmnet_state_load(plan->name, NULL, &error))) {
                fprintf(stderr, "%s\n", error->message);
                return 1;
        }
        if (g_str_equal(cmd, "destroy"))
                ok = vmnet_diff_libvirt_destroy(plan->name, host, actions, NULL, &error) &&
                     vmnet_diff_dnsmasq_destroy(plan->name, NULL, actions, &error);
        else
                ok = vmnet_ipam_assign(plan, state, &ipam, &error) &&
                     vmnet_diff_libvirt(plan, host, actions, NULL, &error) &&
                     vmnet_diff_dnsmasq(plan, ipam, NULL, actions, &error);
        if (!ok) {
                fprintf(stderr, "%s\n", error->message);
                return 1;
        }
        print_actions(actions);
        if (g_str_equal(cmd, "plan"))
                return 0;
        ctx.plan = plan;
        ctx.virt = conn;
        if (!vmnet_apply_actions(&ctx, actions, NULL, NULL, NULL, &error)) {
                fprintf(stderr, "%s\n", error->message);
                return 1;
        }
        if (g_str_equal(cmd, "destroy") ? !vmnet_state_remove(state, &error)
                                        : !vmnet_state_save(state, &error)) {
                fprintf(stderr, "%s\n", error->message);
                return 1;
        }
        virConnectClose(conn);
        return 0;
}
