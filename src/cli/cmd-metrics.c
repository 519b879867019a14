/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "apply/apply.h"
#include "backend/libvirt/ops.h"
#include "cli/cli.h"
#include "cli/traffic.h"

/*
 * `vmnet metrics PLAN`: the traffic counters in Prometheus' text format, on
 * stdout or, with --output, replaced atomically (a temporary file renamed
 * over it, as node_exporter's textfile collector asks: it must never read a
 * half-written file).
 */
int vmnet_cmd_metrics(VmnetCli *cli, int argc, char **argv)
{
        const VmnetCommand *cmd = vmnet_cli_command("metrics");
        char *netns_opt = NULL, *uri = NULL, *output_opt = NULL;
        gboolean no_libvirt = FALSE;
        const GOptionEntry entries[] = {
                { "netns", 0, 0, G_OPTION_ARG_STRING, &netns_opt,
                  "Look inside the network namespace /run/netns/NAME", "NAME" },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
                  "libvirt URI, to name the guests (default qemu:///system; not used with --netns unless given)",
                  "URI" },
                { "no-libvirt", 0, 0, G_OPTION_ARG_NONE, &no_libvirt, "Do not look at libvirt", NULL },
                { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output_opt,
                  "Replace FILE atomically instead of printing (for node_exporter's textfile collector: *.prom)",
                  "FILE" },
                G_OPTION_ENTRY_NULL
        };
        g_autofree char *netns = NULL, *connect = NULL, *output = NULL, *text = NULL;
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(VmnetObserved) obs = NULL;
        g_autoptr(GPtrArray) ports = NULL;
        g_autoptr(GArray) rows = NULL;
        g_autoptr(GArray) before = NULL;
        g_autoptr(GError) error = NULL;
        VmnetApplyCtx ctx = { 0 };
        int rc = VMNET_EXIT_OK;

        if (!vmnet_cli_parse(cli, cmd, entries, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        connect = uri;
        output = output_opt;
        netns = netns_opt ? netns_opt : g_strdup(cli->netns);
        if (!vmnet_cli_netns_ok(cli, "metrics", netns))
                return VMNET_EXIT_FAILURE;
        if (argc != 2) {
                return vmnet_cli_usage(cli, "metrics", "expected one PLAN");
        }
        if (!(plan = vmnet_cli_load_plan(cli, "metrics", argv[1])))
                return VMNET_EXIT_FAILURE;
        if (netns && !vmnet_netns_enter(netns, &error))
                return vmnet_cli_fail(cli, "metrics", error);
        if (!vmnet_apply_ctx_open(&ctx, &error) ||
            !vmnet_engine_connect_libvirt(&ctx, connect, netns, no_libvirt, &error) ||
            !(obs = vmnet_engine_observe(&ctx, plan->name, netns, &error)) ||
            !vmnet_cli_read_traffic(&ctx, plan, obs, 0, &ports, &rows, &before, &error)) {
                rc = vmnet_cli_fail(cli, "metrics", error);
                goto out;
        }
        text = vmnet_traffic_prometheus(rows);
        if (!output) {
                /* -q: nothing printed (the file of --output is still written). */
                if (!cli->quiet)
                        fputs(text, stdout);
        } else if (!g_file_set_contents_full(output, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                             0644, &error)) {
                rc = vmnet_cli_fail(cli, "metrics", error);
        }
out:
        vmnet_apply_ctx_close(&ctx);
        vmnet_libvirt_close(ctx.virt);
        return rc;
}
