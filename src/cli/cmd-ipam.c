/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "apply/apply.h"
#include "apply/state.h"
#include "backend/dnsmasq/dnsmasq.h"
#include "backend/libvirt/ops.h"
#include "backend/netlink/netlink.h"
#include "cli/cli.h"
#include "diff/engine.h"
#include "ipam/ipam.h"
#include "observe/guest-addrs.h"
#include "util/autoptr.h"

/*
 * vmnet ipam PLAN: per subnet, used / reserved / free, and every address
 * (network, domain, MAC, IP, source), with the address audit's warnings.
 * Read-only: the allocations shown are those apply would keep.
 */
int vmnet_cmd_ipam(VmnetCli *cli, int argc, char **argv)
{
        const VmnetCommand *cmd = vmnet_cli_command("ipam");
        char *netns_opt = NULL, *uri = NULL;
        gboolean no_libvirt = FALSE;
        const GOptionEntry entries[] = {
                { "netns", 0, 0, G_OPTION_ARG_STRING, &netns_opt,
                  "Look inside the network namespace /run/netns/NAME", "NAME" },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
                  "libvirt URI for guest-agent addresses (default qemu:///system without --netns)",
                  "URI" },
                { "no-libvirt", 0, 0, G_OPTION_ARG_NONE, &no_libvirt, "Do not ask libvirt", NULL },
                G_OPTION_ENTRY_NULL
        };
        g_autofree char *netns = NULL, *connect = NULL;
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(VmnetState) state = NULL;
        g_autoptr(VmnetIpam) ipam = NULL;
        g_autoptr(GHashTable) leases = NULL;
        g_autoptr(GPtrArray) guest = NULL;
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(VmnetIpamReport) report = NULL;
        g_autoptr(VmnetDiags) warnings = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        VmnetApplyCtx ctx = { 0 };
        int rc = VMNET_EXIT_OK;

        if (!vmnet_cli_parse(cli, cmd, entries, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        netns = netns_opt ? netns_opt : g_strdup(cli->netns);
        if (!vmnet_cli_netns_ok(cli, "ipam", netns))
                return VMNET_EXIT_FAILURE;
        connect = uri;
        if (argc != 2) {
                return vmnet_cli_usage(cli, "ipam",
                                       "expected exactly one PLAN (or '-' for standard input)");
        }
        if (!(plan = vmnet_cli_load_plan(cli, "ipam", argv[1])))
                return VMNET_EXIT_FAILURE;
        if (netns && !vmnet_netns_enter(netns, &error))
                return vmnet_cli_fail(cli, "ipam", error);
        leases = vmnet_dnsmasq_read_plan_leases(plan, netns);
        if (!(state = vmnet_state_load(plan->name, netns, &error)) ||
            !vmnet_ipam_assign_full(plan, state, leases, g_get_real_time() / G_USEC_PER_SEC, &ipam,
                                    &error))
                return vmnet_cli_fail(cli, "ipam", error);
        if (plan->domains->len &&
            !vmnet_engine_connect_libvirt(&ctx, connect, netns, no_libvirt, &error)) {
                /* The audit is still worth having without guest agents. */
                vmnet_diags_add(warnings, "libvirt", 0, "%s", error->message);
                g_clear_error(&error);
        }
        if (!(sk = vmnet_nl_open(&error))) {
                rc = vmnet_cli_fail(cli, "ipam", error);
                goto out;
        }
        guest = vmnet_guest_addrs_observe(plan, sk, ctx.virt, warnings);
        report = vmnet_ipam_report(plan, ipam, leases, guest, warnings);

        if (cli->json) {
                g_autoptr(JsonBuilder) j = vmnet_cli_json_begin("ipam", FALSE, FALSE);

                vmnet_json_member_string(j, "plan", plan->name);
                json_builder_set_member_name(j, "ipam");
                vmnet_ipam_report_to_json(report, j);
                vmnet_cli_json_diags(j, "warnings", warnings);
                json_builder_end_object(j);
                vmnet_cli_json_print(j);
                goto out;
        }
        /* -q: nothing on stdout but the warnings on stderr. */
        if (cli->quiet)
                goto warn;
        printf("%-12s %-20s %10s %8s %9s %10s\n", "NETWORK", "SUBNET", "SIZE", "USED", "RESERVED",
               "FREE");
        for (guint i = 0; i < report->subnets->len; i++) {
                const VmnetIpamSubnetReport *s = g_ptr_array_index(report->subnets, i);
                g_autofree char *cidr = vmnet_prefix_to_string(&s->cidr);

                printf("%-12s %-20s %10" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT
                       " %9" G_GUINT64_FORMAT " %10" G_GUINT64_FORMAT "\n",
                       s->network, cidr, s->size, s->used, s->reserved, s->free);
        }
        printf("\n%-12s %-14s %-17s %-16s %s\n", "NETWORK", "DOMAIN", "MAC", "IP", "SOURCE");
        for (guint i = 0; i < report->entries->len; i++) {
                const VmnetIpamEntry *e = g_ptr_array_index(report->entries, i);
                g_autofree char *mac = vmnet_mac_to_string(&e->mac);
                g_autofree char *ip = vmnet_addr_to_string(&e->ip);

                printf("%-12s %-14s %-17s %-16s %s\n", e->network, e->domain ? e->domain : "-", mac,
                       ip, vmnet_ipam_source_to_string(e->source));
        }
warn:
        for (guint i = 0; i < warnings->items->len; i++) {
                g_autofree char *w = vmnet_diag_format(g_ptr_array_index(warnings->items, i));

                fprintf(stderr, "warning: %s\n", w);
        }
out:
        vmnet_libvirt_close(ctx.virt);
        return rc;
}
