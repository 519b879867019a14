/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "apply/apply.h"
#include "backend/dnsmasq/dnsmasq.h"
#include "backend/libvirt/ops.h"
#include "cli/cli.h"
#include "cli/traffic.h"
#include "diff/engine.h"
#include "diff/mirrors.h"
#include "observe/guest-addrs.h"
#include "observe/topology.h"
#include "util/mutant.h"

/* Links carrying a vmnet alias ("vmnet:<plan>"), optionally only those of one plan. */
static void list_links(JsonBuilder *j, const VmnetHost *host, const char *plan_name)
{
        g_autofree char *want = plan_name ? vmnet_link_alias_for_plan(plan_name) : NULL;

        if (j) {
                json_builder_set_member_name(j, "links");
                json_builder_begin_array(j);
        } else {
                printf("links:\n");
        }
        for (guint i = 0; i < host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(host->links, i);

                if (!l->alias || !g_str_has_prefix(l->alias, VMNET_ALIAS_PREFIX))
                        continue;
                if (want && !g_str_equal(l->alias, want))
                        continue;
                if (j) {
                        json_builder_begin_object(j);
                        vmnet_json_member_string(j, "name", l->name);
                        vmnet_json_member_string(j, "kind", l->kind);
                        vmnet_json_member_string(j, "plan", l->alias + strlen(VMNET_ALIAS_PREFIX));
                        vmnet_json_member_int(j, "mtu", l->mtu);
                        vmnet_json_member_bool(j, "up", l->up);
                        vmnet_json_member_string(j, "master", l->master_name);
                        json_builder_end_object(j);
                } else {
                        printf("  %-15s %-7s mtu %-5u %-4s%s%s  (plan %s)\n", l->name,
                               l->kind ? l->kind : "-", l->mtu, l->up ? "up" : "down",
                               l->master_name ? " master " : "", l->master_name ? l->master_name : "",
                               l->alias + strlen(VMNET_ALIAS_PREFIX));
                }
        }
        if (j)
                json_builder_end_array(j);
}

/*
 * vmnet's active port mirrors (diff/mirrors.h), as the kernel has them;
 * with the plan, each port and destination is named by its guest.
 */
static void print_mirrors(JsonBuilder *j, const VmnetHost *host, const GPtrArray *wanted)
{
        if (j) {
                json_builder_set_member_name(j, "mirrors");
                json_builder_begin_array(j);
        } else if (host->mirrors->len) {
                printf("mirrors:\n");
        }
        for (guint i = 0; i < host->mirrors->len; i++) {
                const VmnetHostMirror *m = g_ptr_array_index(host->mirrors, i);
                const VmnetWantedMirror *w = NULL;

                for (guint k = 0; wanted && k < wanted->len; k++) {
                        const VmnetWantedMirror *x = g_ptr_array_index(wanted, k);

                        if (x->direction == m->direction && g_str_equal(x->port, m->port))
                                w = x;
                }
                if (j) {
                        json_builder_begin_object(j);
                        vmnet_json_member_string(j, "port", m->port);
                        vmnet_json_member_string(j, "direction", vmnet_mirror_dir_to_string(m->direction));
                        vmnet_json_member_string(j, "to", m->to);
                        vmnet_json_member_string(j, "port_owner", w ? w->port_desc : NULL);
                        vmnet_json_member_string(j, "to_owner", w && g_strcmp0(w->to, m->to) == 0 ? w->to_desc
                                                                                          : NULL);
                        json_builder_end_object(j);
                        continue;
                }
                printf("  %-15s %-7s -> %s%s%s%s%s%s%s\n", m->port,
                       vmnet_mirror_dir_to_string(m->direction), m->to ? m->to : "(a link gone)",
                       w ? "  (" : "", w ? w->port_desc : "",
                       w && g_strcmp0(w->to, m->to) == 0 ? " -> " : "",
                       w && g_strcmp0(w->to, m->to) == 0 ? w->to_desc : "", w ? ")" : "",
                       w && g_strcmp0(w->to, m->to) != 0 ? "  (not the plan's destination)" : "");
        }
        if (j)
                json_builder_end_array(j);
}

/* The addresses guests use beyond the leases: the guest agents' and the neighbour table's. */
static void print_guest_addrs(JsonBuilder *j, const VmnetIpamReport *report)
{
        gboolean header = FALSE;

        if (j) {
                json_builder_set_member_name(j, "guest_addresses");
                json_builder_begin_array(j);
        }
        for (guint i = 0; report && i < report->entries->len; i++) {
                const VmnetIpamEntry *e = g_ptr_array_index(report->entries, i);
                g_autofree char *mac = NULL, *ip = NULL;

                if (e->source != VMNET_IPAM_SOURCE_AGENT && e->source != VMNET_IPAM_SOURCE_NEIGHBOUR)
                        continue;
                if (j) {
                        vmnet_ipam_entry_to_json(e, j);
                        continue;
                }
                mac = vmnet_mac_to_string(&e->mac);
                ip = vmnet_addr_to_string(&e->ip);
                if (!header)
                        printf("guest addresses (guest agent, neighbour table):\n");
                header = TRUE;
                printf("  %-12s %-14s %-17s %-16s %s\n", e->network, e->domain ? e->domain : "-", mac,
                       ip, vmnet_ipam_source_to_string(e->source));
        }
        if (j)
                json_builder_end_array(j);
}

/* DHCP leases of the plan's dnsmasq instances, per network in plan order. */
static void print_leases(JsonBuilder *j, const VmnetPlan *plan, GHashTable *leases)
{
        gboolean header = FALSE;

        for (guint i = 0; plan && leases && i < plan->networks->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);
                GPtrArray *list = g_hash_table_lookup(leases, n->name);

                for (guint k = 0; list && k < list->len; k++) {
                        const VmnetLease *l = g_ptr_array_index(list, k);
                        g_autofree char *mac = vmnet_mac_to_string(&l->mac);
                        g_autofree char *ip = vmnet_addr_to_string(&l->ip);

                        if (j) {
                                json_builder_begin_object(j);
                                vmnet_json_member_string(j, "network", n->name);
                                vmnet_json_member_string(j, "mac", mac);
                                vmnet_json_member_string(j, "ip", ip);
                                vmnet_json_member_string(j, "hostname", l->hostname);
                                vmnet_json_member_int(j, "expiry", l->expiry);
                                json_builder_end_object(j);
                                continue;
                        }
                        if (!header)
                                printf("leases:\n");
                        header = TRUE;
                        printf("  %-12s %-17s %-16s %s\n", n->name, mac, ip,
                               l->hostname ? l->hostname : "-");
                }
        }
}

int vmnet_cmd_status(VmnetCli *cli, int argc, char **argv)
{
        const VmnetCommand *cmd = vmnet_cli_command("status");
        char *netns_opt = NULL, *uri = NULL;
        gboolean no_libvirt = FALSE, stats = FALSE, detailed = FALSE;
        int interval = 0;
        char *format = NULL;
        const GOptionEntry entries[] = {
                { "stats", 0, 0, G_OPTION_ARG_NONE, &stats,
                  "Traffic counters of the plan's networks and guest ports", NULL },
                { "interval", 'i', 0, G_OPTION_ARG_INT, &interval,
                  "With --stats: read the counters twice, SECONDS apart, and show rates", "SECONDS" },
                { "format", 0, 0, G_OPTION_ARG_STRING, &format,
                  "text (default), json (as --json) or dot (a Graphviz graph of the host)", "FORMAT" },
                { "netns", 0, 0, G_OPTION_ARG_STRING, &netns_opt,
                  "Look inside the network namespace /run/netns/NAME", "NAME" },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
                  "libvirt URI (default qemu:///system; not used with --netns unless given)", "URI" },
                { "no-libvirt", 0, 0, G_OPTION_ARG_NONE, &no_libvirt, "Do not look at libvirt", NULL },
                { "detailed-exitcode", 0, 0, G_OPTION_ARG_NONE, &detailed,
                  "Exit 0 when the host matches the PLAN, 2 when it has drifted, 1 on an error",
                  NULL },
                G_OPTION_ENTRY_NULL
        };
        g_autofree char *netns = NULL, *connect = NULL, *fmt = NULL;
        g_autoptr(GPtrArray) ports = NULL;
        g_autoptr(GArray) rows = NULL;
        g_autoptr(GArray) before = NULL;
        g_autoptr(GPtrArray) guest_addrs = NULL;
        g_autoptr(VmnetIpamReport) addr_report = NULL;
        g_autoptr(GHashTable) leases = NULL;
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(VmnetObserved) obs = NULL;
        g_autoptr(GPtrArray) drift = vmnet_action_list_new();
        g_autoptr(VmnetDiags) warnings = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonBuilder) j = NULL;
        g_autoptr(GPtrArray) mirrors = NULL;
        VmnetApplyCtx ctx = { 0 };
        int rc = VMNET_EXIT_OK;

        if (!vmnet_cli_parse(cli, cmd, entries, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        netns = netns_opt ? netns_opt : g_strdup(cli->netns);
        if (!vmnet_cli_netns_ok(cli, "status", netns))
                return VMNET_EXIT_FAILURE;
        connect = uri;
        fmt = format;
        if (argc > 2)
                return vmnet_cli_usage(cli, "status", "expected at most one PLAN");
        if (fmt && g_str_equal(fmt, "json"))
                cli->json = TRUE;
        else if (fmt && !g_str_equal(fmt, "text") && !g_str_equal(fmt, "dot"))
                return vmnet_cli_usage(cli, "status", "--format: expected text, json or dot, not '%s'",
                                       fmt);
        if (interval < 0 || interval > 3600)
                return vmnet_cli_usage(cli, "status", "--interval: expected 1 to 3600 seconds");
        if (interval)
                stats = TRUE;
        if (detailed && argc != 2)
                return vmnet_cli_usage(cli, "status", "--detailed-exitcode needs the PLAN");
        if ((stats || (fmt && g_str_equal(fmt, "dot"))) && argc != 2)
                return vmnet_cli_usage(cli, "status", "--stats and --format dot need the PLAN");
        if (argc == 2 && !(plan = vmnet_cli_load_plan(cli, "status", argv[1])))
                return VMNET_EXIT_FAILURE;
        if (netns && !vmnet_netns_enter(netns, &error))
                return vmnet_cli_fail(cli, "status", error);
        if (!vmnet_apply_ctx_open(&ctx, &error) ||
            (plan && !vmnet_engine_connect_libvirt(&ctx, connect, netns, no_libvirt, &error)) ||
            !(obs = vmnet_engine_observe(&ctx, plan ? plan->name : "-", netns, &error)) ||
            (plan && !vmnet_engine_diff(plan, obs, drift, warnings, &error))) {
                rc = vmnet_cli_fail(cli, "status", error);
                goto out;
        }
        if (plan) {
                mirrors = vmnet_mirrors_wanted(plan, obs->virt, obs->host);
                vmnet_engine_warn_foreign_drops(&ctx, warnings);
                leases = vmnet_dnsmasq_read_plan_leases(plan, netns);
                /* the addresses guests use, audited against the plan and IPAM (obs->ipam) */
                guest_addrs = vmnet_guest_addrs_observe(plan, ctx.nl, ctx.virt, warnings);
                addr_report = vmnet_ipam_report(plan, obs->ipam, leases, guest_addrs, warnings);
        }
        if (stats && !vmnet_cli_read_traffic(&ctx, plan, obs, (guint)interval, &ports, &rows,
                                             &before, &error)) {
                rc = vmnet_cli_fail(cli, "status", error);
                goto out;
        }
        if (fmt && g_str_equal(fmt, "dot")) {
                g_autoptr(GPtrArray) described = g_ptr_array_new_with_free_func(g_free);
                g_autofree char *dot = NULL;

                for (guint i = 0; i < drift->len; i++)
                        g_ptr_array_add(described, vmnet_action_describe(g_ptr_array_index(drift, i)));
                if (!ports)
                        ports = vmnet_guest_ports(plan, obs->host, obs->virt);
                dot = vmnet_topology_dot(plan, obs->host, ports, leases, described);
                fputs(dot, stdout);
                goto out;
        }

        if (cli->json) {
                j = vmnet_cli_json_begin("status", FALSE, FALSE);
                vmnet_json_member_string(j, "plan", plan ? plan->name : NULL);
                vmnet_json_member_string(j, "netns", netns);
                list_links(j, obs->host, plan ? plan->name : NULL);
                json_builder_set_member_name(j, "nft_table");
                json_builder_begin_object(j);
                vmnet_json_member_bool(j, "exists", obs->nft->exists);
                vmnet_json_member_string(j, "comment", obs->nft->comment);
                json_builder_end_object(j);
                print_mirrors(j, obs->host, mirrors);
                json_builder_set_member_name(j, "leases");
                json_builder_begin_array(j);
                print_leases(j, plan, leases);
                json_builder_end_array(j);
                print_guest_addrs(j, addr_report);
                if (plan) {
                        json_builder_set_member_name(
                                j, VMNET_MUTANT_IS(JSON_RENAMED_MEMBER) ? "synced" : "in_sync");
                        json_builder_add_boolean_value(j, drift->len == 0);
                        json_builder_set_member_name(j, "drift");
                        json_builder_begin_array(j);
                        for (guint i = 0; i < drift->len; i++) {
                                g_autofree char *d = vmnet_action_describe(g_ptr_array_index(drift, i));

                                json_builder_add_string_value(j, d);
                        }
                        json_builder_end_array(j);
                }
                if (rows)
                        vmnet_cli_traffic(j, rows, before, interval);
                vmnet_cli_json_diags(j, "warnings", warnings);
                vmnet_cli_confirm_status(j, netns);
                json_builder_end_object(j);
                vmnet_cli_json_print(j);
                goto out;
        }

        /* -q: nothing when in sync, only the drift otherwise; warnings on stderr (vmnet(8), -q). */
        if (cli->quiet) {
                for (guint i = 0; i < warnings->items->len; i++) {
                        const VmnetDiag *d = g_ptr_array_index(warnings->items, i);
                        g_autofree char *w = vmnet_diag_format(d);

                        fprintf(stderr, "warning: %s\n", w);
                }
                if (plan && drift->len) {
                        printf("drift: %u actions would bring the host back to plan '%s':\n",
                               drift->len, plan->name);
                        vmnet_cli_print_actions(drift);
                }
                goto out;
        }
        if (netns)
                printf("network namespace: %s\n", netns);
        list_links(NULL, obs->host, plan ? plan->name : NULL);
        printf("nftables: table inet vmnet %s%s%s%s\n", obs->nft->exists ? "present" : "absent",
               obs->nft->comment ? " (" : "", obs->nft->comment ? obs->nft->comment : "",
               obs->nft->comment ? ")" : "");
        print_mirrors(NULL, obs->host, mirrors);
        print_leases(NULL, plan, leases);
        print_guest_addrs(NULL, addr_report);
        if (rows)
                vmnet_cli_traffic(NULL, rows, before, interval);
        for (guint i = 0; i < warnings->items->len; i++) {
                g_autofree char *w = vmnet_diag_format(g_ptr_array_index(warnings->items, i));

                printf("warning: %s\n", w);
        }
        vmnet_cli_confirm_status(NULL, netns);
        if (plan) {
                if (!drift->len) {
                        printf("in sync: the host matches plan '%s'\n", plan->name);
                } else {
                        printf("drift: %u actions would bring the host back to plan '%s':\n",
                               drift->len, plan->name);
                        vmnet_cli_print_actions(drift);
                }
        }
out:
        vmnet_apply_ctx_close(&ctx);
        vmnet_libvirt_close(ctx.virt);
        if (rc == VMNET_EXIT_OK && detailed && drift->len && !VMNET_MUTANT_IS(STATUS_DRIFT_OK))
                return VMNET_EXIT_CHANGED;
        return rc;
}
