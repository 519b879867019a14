/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"

int vmnet_cmd_validate(VmnetCli *cli, int argc, char **argv)
{
        const VmnetCommand *cmd = vmnet_cli_command("validate");
        g_autoptr(VmnetPlan) plan = NULL;
        guint ifaces = 0;

        if (!vmnet_cli_parse(cli, cmd, NULL, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        if (argc != 2) {
                return vmnet_cli_usage(cli, "validate",
                                       "expected exactly one PLAN (or '-' for standard input)");
        }
        plan = vmnet_cli_load_plan(cli, "validate", argv[1]);
        if (!plan)
                return VMNET_EXIT_FAILURE;

        for (guint i = 0; i < plan->domains->len; i++)
                ifaces += ((VmnetDomain *)g_ptr_array_index(plan->domains, i))->interfaces->len;
        if (cli->json) {
                g_autoptr(JsonBuilder) j = vmnet_cli_json_begin("validate", FALSE, FALSE);

                vmnet_json_member_string(j, "plan", plan->name);
                vmnet_json_member_string(j, "file", plan->file);
                vmnet_json_member_int(j, "networks", plan->networks->len);
                vmnet_json_member_int(j, "domains", plan->domains->len);
                vmnet_json_member_int(j, "interfaces", ifaces);
                vmnet_cli_json_diags(j, "errors", NULL);
                json_builder_end_object(j);
                vmnet_cli_json_print(j);
        } else if (!cli->quiet) {
                printf("%s: plan '%s' is valid (%u networks, %u domains, %u interfaces)\n", plan->file,
                       plan->name, plan->networks->len, plan->domains->len, ifaces);
        }
        return VMNET_EXIT_OK;
}
