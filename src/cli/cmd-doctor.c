/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "apply/apply.h"
#include "backend/nftables/nft.h"
#include "cli/cli.h"
#include "doctor/doctor.h"
#include "doctor/probe.h"
#include "util/autoptr.h"

/*
 * `vmnet doctor [PLAN]`: read-only; exit 0 when healthy, 1 when a check found
 * a problem or the doctor could not run; with --detailed-exitcode, 2 when a
 * check found a problem and 1 only when it could not run.
 */

/* Loss in whole percent of the attempts. */
static gint64 loss_percent(const VmnetProbeStep *s)
{
        return s->sent ? (gint64)((s->sent - MIN(s->received, s->sent)) * 100 / s->sent) : 0;
}

static void json_probe(JsonBuilder *j, const VmnetProbe *probe)
{
        json_builder_set_member_name(j, "probe");
        json_builder_begin_object(j);
        vmnet_json_member_string(j, "network", probe->network);
        vmnet_json_member_string(j, "port", probe->port);
        vmnet_json_member_bool(j, "passed", probe->failed == NULL);
        vmnet_json_member_string(j, "failed_step", probe->failed);
        json_builder_set_member_name(j, "steps");
        json_builder_begin_array(j);
        for (guint i = 0; i < probe->steps->len; i++) {
                const VmnetProbeStep *s = g_ptr_array_index(probe->steps, i);

                json_builder_begin_object(j);
                vmnet_json_member_string(j, "name", s->name);
                vmnet_json_member_string(j, "status", vmnet_probe_status_to_string(s->status));
                vmnet_json_member_int(j, "sent", s->sent);
                vmnet_json_member_int(j, "received", s->received);
                vmnet_json_member_int(j, "loss_percent", loss_percent(s));
                /* microseconds: JSON numbers here are integers */
                vmnet_json_member_int(j, "avg_us", (gint64)(s->avg_ms * 1000));
                vmnet_json_member_int(j, "max_us", (gint64)(s->max_ms * 1000));
                vmnet_json_member_string(j, "detail", s->detail);
                json_builder_end_object(j);
        }
        json_builder_end_array(j);
        json_builder_end_object(j);
}

static void text_probe(const VmnetProbe *probe)
{
        printf("probe of network %s (temporary port %s, removed):\n", probe->network, probe->port);
        for (guint i = 0; i < probe->steps->len; i++) {
                const VmnetProbeStep *s = g_ptr_array_index(probe->steps, i);

                if (s->status == VMNET_PROBE_SKIPPED)
                        printf("  %-8s skipped  %s\n", s->name, s->detail);
                else
                        printf("  %-8s %-8s %u/%u answered, loss %" G_GINT64_FORMAT "%%, rtt avg %.2f ms max %.2f ms: %s\n",
                               s->name, vmnet_probe_status_to_string(s->status), s->received, s->sent,
                               loss_percent(s), s->avg_ms, s->max_ms, s->detail);
        }
        if (probe->failed)
                printf("probe failed at step %s\n", probe->failed);
        else
                printf("probe passed\n");
}

static void print_json(const VmnetDoctor *doc, const VmnetProbe *probe)
{
        g_autoptr(JsonBuilder) j = vmnet_cli_json_begin("doctor", FALSE, FALSE);

        vmnet_json_member_bool(j, "healthy", vmnet_doctor_healthy(doc));
        vmnet_json_member_string(j, "plan", doc->plan ? doc->plan->name : NULL);
        vmnet_json_member_string(j, "netns", doc->netns);
        json_builder_set_member_name(j, "checks");
        json_builder_begin_array(j);
        for (guint i = 0; i < doc->results->len; i++) {
                const VmnetCheckResult *r = &g_array_index(doc->results, VmnetCheckResult, i);

                json_builder_begin_object(j);
                vmnet_json_member_string(j, "name", r->name);
                vmnet_json_member_string(j, "status", vmnet_check_status_to_string(r->status));
                vmnet_json_member_string(j, "reason", r->reason);
                json_builder_end_object(j);
        }
        json_builder_end_array(j);
        json_builder_set_member_name(j, "findings");
        json_builder_begin_array(j);
        for (guint i = 0; i < doc->findings->len; i++) {
                const VmnetFinding *f = g_ptr_array_index(doc->findings, i);

                json_builder_begin_object(j);
                vmnet_json_member_string(j, "check", f->check);
                vmnet_json_member_string(j, "severity", vmnet_severity_to_string(f->severity));
                vmnet_json_member_string(j, "object", f->object);
                vmnet_json_member_string(j, "message", f->message);
                vmnet_json_member_string(j, "fix", f->fix);
                json_builder_end_object(j);
        }
        json_builder_end_array(j);
        if (probe)
                json_probe(j, probe);
        json_builder_end_object(j);
        vmnet_cli_json_print(j);
}

static void print_text(const VmnetDoctor *doc, const VmnetProbe *probe)
{
        guint errors = vmnet_doctor_count(doc, VMNET_SEVERITY_ERROR);
        guint warnings = vmnet_doctor_count(doc, VMNET_SEVERITY_WARNING);
        g_autoptr(GPtrArray) reasons = g_ptr_array_new();
        guint ran = 0;

        if (doc->plan)
                printf("plan '%s'", doc->plan->name);
        else
                printf("no plan given: host-wide checks only");
        if (doc->netns)
                printf(", network namespace %s", doc->netns);
        printf("\n");
        /* The object is for machines (--json); the message names it for humans. */
        for (guint i = 0; i < doc->findings->len; i++) {
                const VmnetFinding *f = g_ptr_array_index(doc->findings, i);

                printf("%-8s [%s] %s\n", vmnet_severity_to_string(f->severity), f->check, f->message);
                if (f->fix)
                        printf("         fix: %s\n", f->fix);
        }
        /* "not checked: a, b (why)", one line per distinct reason. */
        for (guint i = 0; i < doc->results->len; i++) {
                const VmnetCheckResult *r = &g_array_index(doc->results, VmnetCheckResult, i);

                if (r->status != VMNET_CHECK_SKIPPED)
                        ran++;
                else if (!g_ptr_array_find_with_equal_func(reasons, r->reason, g_str_equal, NULL))
                        g_ptr_array_add(reasons, r->reason);
        }
        for (guint k = 0; k < reasons->len; k++) {
                const char *why = g_ptr_array_index(reasons, k);
                gboolean first = TRUE;

                printf("not checked: ");
                for (guint i = 0; i < doc->results->len; i++) {
                        const VmnetCheckResult *r = &g_array_index(doc->results, VmnetCheckResult, i);

                        if (r->status == VMNET_CHECK_SKIPPED && g_str_equal(r->reason, why)) {
                                printf("%s%s", first ? "" : ", ", r->name);
                                first = FALSE;
                        }
                }
                printf(" (%s)\n", why);
        }
        if (!errors && !warnings)
                printf("healthy: no problem found (%u checks)\n", ran);
        else
                printf("%u problem%s: %u error%s, %u warning%s (%u checks)\n", errors + warnings,
                       errors + warnings == 1 ? "" : "s", errors, errors == 1 ? "" : "s", warnings,
                       warnings == 1 ? "" : "s", ran);
        if (probe)
                text_probe(probe);
}

int vmnet_cmd_doctor(VmnetCli *cli, int argc, char **argv)
{
        const VmnetCommand *cmd = vmnet_cli_command("doctor");
        char *netns_opt = NULL;
        char *uri = NULL, *probe_net = NULL, *probe_target = NULL;
        gboolean detailed = FALSE;
        const GOptionEntry entries[] = {
                { "netns", 0, 0, G_OPTION_ARG_STRING, &netns_opt,
                  "Look inside the network namespace /run/netns/NAME", "NAME" },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
                  "libvirt URI for the plan's domains (default qemu:///system)", "URI" },
                { "probe", 0, 0, G_OPTION_ARG_STRING, &probe_net,
                  "Plug a temporary probe port into NETWORK and act as a guest (DHCP, gateway, DNS, outside, a port forward)",
                  "NETWORK" },
                { "probe-target", 0, 0, G_OPTION_ARG_STRING, &probe_target,
                  "With --probe: an IPv4 address beyond the host the probe must reach", "ADDRESS" },
                { "detailed-exitcode", 0, 0, G_OPTION_ARG_NONE, &detailed,
                  "Exit 0 when healthy, 2 when a problem was found, 1 when the doctor could "
                  "not run",
                  NULL },
                G_OPTION_ENTRY_NULL
        };
        g_autofree char *netns = NULL;
        g_autofree char *uri_owned = NULL;
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(VmnetDoctor) doc = NULL;
        g_autoptr(VmnetMnlSocket) nft = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *probe_name = NULL, *target_text = NULL;
        g_autoptr(VmnetProbe) probe = NULL;
        const VmnetNetwork *probed = NULL;
        VmnetAddr target = { 0 };

        if (!vmnet_cli_parse(cli, cmd, entries, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        probe_name = probe_net;
        target_text = probe_target;
        netns = netns_opt ? netns_opt : g_strdup(cli->netns);
        if (!vmnet_cli_netns_ok(cli, "doctor", netns))
                return VMNET_EXIT_FAILURE;
        uri_owned = uri;
        if (argc > 2)
                return vmnet_cli_usage(cli, "doctor", "expected at most one PLAN");
        if (argc == 2 && !(plan = vmnet_cli_load_plan(cli, "doctor", argv[1])))
                return VMNET_EXIT_FAILURE;
        if (target_text && (!vmnet_addr_parse(target_text, &target) || target.family != AF_INET))
                return vmnet_cli_usage(cli, "doctor", "--probe-target: '%s' is no IPv4 address",
                                       target_text);
        if (probe_name && !(probed = plan ? vmnet_plan_find_network(plan, probe_name) : NULL))
                return vmnet_cli_usage(cli, "doctor", "--probe: %s",
                                       plan ? "no network of that name in the plan"
                                            : "needs the PLAN");
        /* No lock: the doctor only reads, and must work while an apply hangs. */
        if (netns && !vmnet_netns_enter(netns, &error))
                return vmnet_cli_fail(cli, "doctor", error);
        doc = vmnet_doctor_new(plan, netns, uri);
        if (!(nft = vmnet_nft_socket_open(&error)) || !vmnet_doctor_observe(doc, nft, &error))
                return vmnet_cli_fail(cli, "doctor", error);
        vmnet_doctor_run(doc);
        if (probed && !vmnet_probe_run(probed, target_text ? &target : NULL, &probe, &error))
                return vmnet_cli_fail(cli, "doctor", error);

        if (cli->json)
                print_json(doc, probe);
        else if (!cli->quiet)
                print_text(doc, probe);
        if (vmnet_doctor_healthy(doc) && (!probe || !probe->failed))
                return VMNET_EXIT_OK;
        return detailed ? VMNET_EXIT_CHANGED : VMNET_EXIT_FAILURE;
}
