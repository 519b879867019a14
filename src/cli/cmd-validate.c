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
                fprintf(stderr, "vmnet validate: expected exactly one PLAN (or '-' for standard input)\n");
                return VMNET_EXIT_FAILURE;
        }
        plan = vmnet_cli_load_plan(cli, "validate", argv[1]);
        if (!plan)
                return VMNET_EXIT_FAILURE;

        for (guint i = 0; i < plan->domains->len; i++)
                ifaces += ((VmnetDomain *)g_ptr_array_index(plan->domains, i))->interfaces->len;
        if (cli->json) {
                g_autoptr(VmnetJson) j = vmnet_json_new();

                vmnet_json_begin_object(j);
                vmnet_json_key(j, "command");
                vmnet_json_string(j, "validate");
                vmnet_json_key(j, "failed");
                vmnet_json_bool(j, FALSE);
                vmnet_json_key(j, "changed");
                vmnet_json_bool(j, FALSE);
                vmnet_json_key(j, "plan");
                vmnet_json_string(j, plan->name);
                vmnet_json_key(j, "file");
                vmnet_json_string(j, plan->file);
                vmnet_json_key(j, "networks");
                vmnet_json_int(j, plan->networks->len);
                vmnet_json_key(j, "domains");
                vmnet_json_int(j, plan->domains->len);
                vmnet_json_key(j, "interfaces");
                vmnet_json_int(j, ifaces);
                vmnet_cli_json_diags(j, "errors", NULL);
                vmnet_json_end_object(j);
                vmnet_cli_json_print(j);
        } else if (!cli->quiet) {
                printf("%s: plan '%s' is valid (%u networks, %u domains, %u interfaces)\n", plan->file,
                       plan->name, plan->networks->len, plan->domains->len, ifaces);
        }
        return VMNET_EXIT_OK;
}
