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

                json_builder_set_member_name(j, "plan");
                json_builder_add_string_value(j, plan->name);
                json_builder_set_member_name(j, "file");
                json_builder_add_string_value(j, plan->file);
                json_builder_set_member_name(j, "networks");
                json_builder_add_int_value(j, plan->networks->len);
                json_builder_set_member_name(j, "domains");
                json_builder_add_int_value(j, plan->domains->len);
                json_builder_set_member_name(j, "interfaces");
                json_builder_add_int_value(j, ifaces);
                vmnet_cli_json_diags(j, "errors", NULL);
                json_builder_end_object(j);
                vmnet_cli_json_print(j);
        } else if (!cli->quiet) {
                printf("%s: plan '%s' is valid (%u networks, %u domains, %u interfaces)\n", plan->file,
                       plan->name, plan->networks->len, plan->domains->len, ifaces);
        }
        return VMNET_EXIT_OK;
}
