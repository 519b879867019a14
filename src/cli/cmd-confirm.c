/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <syslog.h>

#include "apply/confirm.h"
#include "apply/journal.h"
#include "cli/cli.h"

/*
 * `vmnet confirm`: keep the apply a watchdog would otherwise undo
 * (src/apply/confirm.h). Without one pending, says how the last safe apply
 * ended and exits 1, so a script learns that its confirmation came too late.
 */

static char *when(gint64 t)
{
        g_autoptr(GDateTime) d = t ? g_date_time_new_from_unix_local(t) : NULL;

        return d ? g_date_time_format(d, "%F %T") : g_strdup("?");
}

static void json_info(JsonBuilder *j, const char *key, const VmnetConfirmInfo *info)
{
        json_builder_set_member_name(j, key);
        if (!info) {
                json_builder_add_null_value(j);
                return;
        }
        json_builder_begin_object(j);
        vmnet_json_member_string(j, "state", info->state);
        vmnet_json_member_string(j, "plan", info->plan);
        vmnet_json_member_string(j, "plan_file", info->plan_file);
        vmnet_json_member_int(j, "watchdog_pid", info->pid);
        vmnet_json_member_int(j, "deadline", info->deadline);
        vmnet_json_member_int(j, "finished", info->finished);
        vmnet_json_member_string(j, "reason", info->reason);
        vmnet_json_member_int(j, "undone", info->undone);
        vmnet_json_member_int(j, "undo_failed", info->failed);
        json_builder_end_object(j);
}

static void describe_last(const VmnetConfirmInfo *last)
{
        g_autofree char *t = when(last->finished);

        if (g_str_equal(last->state, "confirmed"))
                fprintf(stderr, "the last safe apply (plan '%s') was confirmed at %s\n", last->plan, t);
        else
                fprintf(stderr,
                        "the last safe apply (plan '%s') was %s at %s: %s (%u step%s undone, %u "
                        "failed)%s%s\n",
                        last->plan, g_str_equal(last->state, "rolled-back") ? "rolled back"
                                                                             : "partly rolled back",
                        t, last->reason ? last->reason : "not confirmed", last->undone,
                        last->undone == 1 ? "" : "s", last->failed, last->errors ? ":\n  " : "",
                        last->errors ? last->errors : "");
}

int vmnet_cmd_confirm(VmnetCli *cli, int argc, char **argv)
{
        const VmnetCommand *cmd = vmnet_cli_command("confirm");
        char *netns_opt = NULL;
        const GOptionEntry entries[] = {
                { "netns", 0, 0, G_OPTION_ARG_STRING, &netns_opt,
                  "Confirm the apply made in the network namespace /run/netns/NAME", "NAME" },
                G_OPTION_ENTRY_NULL
        };
        g_autofree char *netns = NULL;
        g_autoptr(VmnetConfirmInfo) info = NULL;
        g_autoptr(VmnetConfirmInfo) last = NULL;
        g_autoptr(GError) error = NULL;

        if (!vmnet_cli_parse(cli, cmd, entries, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        netns = netns_opt ? netns_opt : g_strdup(cli->netns);
        if (!vmnet_cli_netns_ok(cli, "confirm", netns))
                return VMNET_EXIT_FAILURE;
        if (argc != 1)
                return vmnet_cli_usage(cli, "confirm", "takes no arguments");
        /* No namespace to enter: the records live in the run directory, named after it. */
        info = vmnet_confirm_commit(netns, &error);
        if (!info)
                last = vmnet_confirm_read_last(netns);
        {
                VmnetEventFields f = { .plan = info ? info->plan : last ? last->plan : NULL,
                                       .netns = netns, .command = "confirm",
                                       .outcome = info ? "confirmed" : "too-late" };

                vmnet_journal_event(VMNET_EVENT_CONFIRM, info ? LOG_NOTICE : LOG_WARNING, &f,
                                    "confirm: %s", info ? "the safe apply stays" : error->message);
        }

        if (cli->json) {
                g_autoptr(JsonBuilder) j = vmnet_cli_json_begin("confirm", info == NULL, FALSE);

                vmnet_json_member_bool(j, "confirmed", info != NULL);
                vmnet_json_member_string(j, "netns", netns);
                json_builder_set_member_name(j, "msg");
                if (info) {
                        g_autofree char *msg = g_strdup_printf("confirmed: the apply of plan '%s' stays",
                                                               info->plan);

                        json_builder_add_string_value(j, msg);
                } else {
                        json_builder_add_string_value(j, error->message);
                }
                json_info(j, info ? "confirmation" : "last", info ? info : last);
                json_builder_end_object(j);
                vmnet_cli_json_print(j);
                return info ? VMNET_EXIT_OK : VMNET_EXIT_FAILURE;
        }
        if (!info) {
                fprintf(stderr, "vmnet confirm: %s\n", error->message);
                if (last)
                        describe_last(last);
                return VMNET_EXIT_FAILURE;
        }
        if (!cli->quiet)
                printf("confirmed: the apply of plan '%s' (%s) stays\n", info->plan,
                       info->plan_file ? info->plan_file : "?");
        if (info->reason)
                fprintf(stderr, "note: %s\n", info->reason);
        return VMNET_EXIT_OK;
}

void vmnet_cli_confirm_notice(VmnetCli *cli, const VmnetConfirm *c, const char *netns)
{
        g_autofree char *t = when(vmnet_confirm_deadline(c));
        gint64 left = vmnet_confirm_deadline(c) - g_get_real_time() / G_USEC_PER_SEC;

        if (cli->quiet)
                return;
        /* stderr: with --json, stdout holds only the JSON document. */
        fprintf(stderr,
                "confirm with 'vmnet%s%s confirm' within %" G_GINT64_FORMAT " s (before %s), or "
                "the watchdog (pid %d) rolls this apply back\n",
                netns ? " --netns " : "", netns ? netns : "", MAX(left, 0), t,
                (int)vmnet_confirm_watchdog_pid(c));
}

void vmnet_cli_confirm_status(JsonBuilder *j, const char *netns)
{
        g_autoptr(VmnetConfirmInfo) pending = vmnet_confirm_read_pending(netns);
        g_autoptr(VmnetConfirmInfo) last = vmnet_confirm_read_last(netns);

        if (j) {
                json_builder_set_member_name(j, "confirm");
                json_builder_begin_object(j);
                json_info(j, "pending", pending);
                json_info(j, "last", last);
                json_builder_end_object(j);
                return;
        }
        if (pending) {
                g_autofree char *t = when(pending->deadline);

                if (!pending->alive)
                        printf("safe apply: plan '%s' waits for confirmation, but its watchdog "
                               "(pid %d) is gone: run 'vmnet confirm'\n",
                               pending->plan, pending->pid);
                else if (g_strcmp0(pending->state, "pending") == 0)
                        printf("safe apply: plan '%s' is rolled back at %s unless 'vmnet confirm' "
                               "runs (watchdog pid %d)\n",
                               pending->plan, t, pending->pid);
                else
                        printf("safe apply: plan '%s' is being applied (watchdog pid %d)\n",
                               pending->plan, pending->pid);
        } else if (last) {
                g_autofree char *t = when(last->finished);

                printf("last safe apply: plan '%s' %s at %s%s%s%s\n", last->plan,
                       g_str_equal(last->state, "confirmed") ? "confirmed"
                       : g_str_equal(last->state, "rolled-back") ? "rolled back"
                                                                 : "partly rolled back",
                       t, last->reason ? " (" : "", last->reason ? last->reason : "",
                       last->reason ? ")" : "");
        }
}
