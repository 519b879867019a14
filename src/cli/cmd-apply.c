/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apply/apply.h"
#include "apply/confirm.h"
#include "apply/journal.h"
#include "backend/nftables/nft.h"
#include "apply/saved-plan.h"
#include "apply/signals.h"
#include "backend/nftables/review.h"
#include "cli/cli.h"
#include "diff/engine.h"
#include "actions/nft.h"

/*
 * plan, apply and destroy share one flow: load the plan, enter the namespace,
 * take the lock, observe, diff, then print (plan, --check) or execute,
 * record and verify (apply, destroy).
 */

typedef enum { MODE_PLAN, MODE_APPLY, MODE_DESTROY } Mode;

typedef VmnetApplyOpts Opts;

typedef struct {
        VmnetCli *cli;
        guint n;
        guint total;
        VmnetJournalRun *journal;
        VmnetConfirm *confirm;
} Progress;

/* An nft-replace action's firewall changes: "changes": [{"change", "kind", "text"}]. */
static void json_changes(JsonBuilder *j, const VmnetAction *a)
{
        g_autoptr(GPtrArray) changes = vmnet_action_nft_changes(a);

        if (!changes)
                return;
        json_builder_set_member_name(j, "changes");
        json_builder_begin_array(j);
        for (guint i = 0; i < changes->len; i++) {
                const VmnetNftChange *c = g_ptr_array_index(changes, i);

                json_builder_begin_object(j);
                vmnet_json_member_string(j, "change", c->added ? "add" : "remove");
                vmnet_json_member_string(j, "kind", c->kind);
                vmnet_json_member_string(j, "text", c->text);
                json_builder_end_object(j);
        }
        json_builder_end_array(j);
}

void vmnet_cli_print_changes(const VmnetAction *a)
{
        g_autoptr(GPtrArray) changes = vmnet_action_nft_changes(a);

        for (guint i = 0; changes && i < changes->len; i++) {
                const VmnetNftChange *c = g_ptr_array_index(changes, i);

                printf("         %c %s\n", c->added ? '+' : '-', c->text);
        }
}

void vmnet_cli_json_actions(JsonBuilder *j, const char *key, const GPtrArray *actions)
{
        json_builder_set_member_name(j, key);
        json_builder_begin_array(j);
        for (guint i = 0; actions && i < actions->len; i++) {
                const VmnetAction *a = g_ptr_array_index(actions, i);
                g_autofree char *d = vmnet_action_describe(a);

                json_builder_begin_object(j);
                vmnet_json_member_string(j, "type", a->type->name);
                vmnet_json_member_string(j, "object", a->object);
                vmnet_json_member_string(j, "impact", vmnet_impact_to_string(a->impact));
                vmnet_json_member_string(j, "description", d);
                json_changes(j, a);
                json_builder_end_object(j);
        }
        json_builder_end_array(j);
}

void vmnet_cli_print_actions(const GPtrArray *actions)
{
        for (guint i = 0; i < actions->len; i++) {
                const VmnetAction *a = g_ptr_array_index(actions, i);
                g_autofree char *d = vmnet_action_describe(a);
                g_autofree char *tag = g_strdup_printf(" [%s]", vmnet_impact_to_string(a->impact));

                /* The impact leads the line; do not repeat a trailing tag. */
                if (g_str_has_suffix(d, tag))
                        d[strlen(d) - strlen(tag)] = '\0';
                printf("  %3u. [%s] %s\n", i + 1, vmnet_impact_to_string(a->impact), d);
                vmnet_cli_print_changes(a);
        }
}

static void print_progress(const VmnetAction *a, gboolean undo, gpointer user_data)
{
        Progress *p = user_data;
        g_autofree char *d = vmnet_action_describe(a);

        if (p->cli->json || p->cli->quiet)
                return;
        if (undo)
                fprintf(stderr, "  undo: %s\n", d);
        else
                printf("  [%u/%u] %s\n", ++p->n, p->total, d);
        fflush(stdout);
}

/* Every step goes to the journal, then to the watchdog (which prints) or the terminal. */
static void progress(const VmnetAction *a, gboolean undo, gpointer user_data)
{
        Progress *p = user_data;

        vmnet_journal_run_progress(a, undo, p->journal);
        if (p->confirm)
                vmnet_confirm_progress(a, undo, p->confirm);
        else
                print_progress(a, undo, p);
}

/* Prints the warnings from index `from` on (those not printed yet). */
static void print_warnings(VmnetCli *cli, const VmnetDiags *warnings, guint from)
{
        for (guint i = from; !cli->json && i < warnings->items->len; i++) {
                g_autofree char *w = vmnet_diag_format(g_ptr_array_index(warnings->items, i));

                fprintf(stderr, "warning: %s\n", w);
        }
}

/* The lines of before that after lacks ("-") and of after that before lacks ("+"). */
static void print_text_diff(const char *before, const char *after)
{
        g_auto(GStrv) b = g_strsplit(before, "\n", -1);
        g_auto(GStrv) a = g_strsplit(after, "\n", -1);

        for (char **l = b; *l; l++)
                if (**l && !g_strv_contains((const char *const *)a, *l))
                        printf("  - %s\n", *l);
        for (char **l = a; *l; l++)
                if (**l && !g_strv_contains((const char *const *)b, *l))
                        printf("  + %s\n", *l);
}

static int finish(VmnetCli *cli, const char *command, const VmnetPlan *plan, const Opts *o,
                  const GPtrArray *actions, gboolean executed, const VmnetDiags *warnings,
                  gdouble seconds, const char *before, const char *after)
{
        gboolean changed = actions->len > 0;
        guint disruptive = 0;

        for (guint i = 0; i < actions->len; i++)
                disruptive += ((VmnetAction *)g_ptr_array_index(actions, i))->impact ==
                              VMNET_IMPACT_DISRUPTIVE;
        if (cli->json) {
                g_autoptr(JsonBuilder) j = vmnet_cli_json_begin(command, FALSE, changed);

                vmnet_json_member_bool(j, "check", o->check);
                vmnet_json_member_string(j, "plan", plan->name);
                vmnet_json_member_string(j, "netns", o->netns);
                vmnet_cli_json_actions(j, "actions", actions);
                vmnet_cli_json_diags(j, "warnings", warnings);
                if (before && after) {
                        json_builder_set_member_name(j, "diff");
                        json_builder_begin_object(j);
                        vmnet_json_member_string(j, "before", before);
                        vmnet_json_member_string(j, "after", after);
                        json_builder_end_object(j);
                }
                json_builder_set_member_name(j, "msg");
                if (!changed)
                        json_builder_add_string_value(j, "no changes");
                else {
                        g_autofree char *msg = g_strdup_printf("%s%u actions", executed ? "" : "would take ",
                                                               actions->len);

                        json_builder_add_string_value(j, msg);
                }
                json_builder_end_object(j);
                vmnet_cli_json_print(j);
        } else if (!cli->quiet) {
                if (!changed && g_str_equal(command, "destroy"))
                        printf("no changes: nothing of plan '%s' is left on the host\n", plan->name);
                else if (!changed)
                        printf("no changes: the host matches plan '%s'\n", plan->name);
                else if (!executed) {
                        printf("%s would take %u actions (%u disruptive):\n",
                               g_str_equal(command, "destroy") ? "destroy" : "apply",
                               actions->len, disruptive);
                        vmnet_cli_print_actions(actions);
                } else {
                        printf("%s: %u actions done (%u disruptive) in %.3f s\n", command, actions->len,
                               disruptive, seconds);
                        if (before && after)
                                print_text_diff(before, after);
                }
        }
        if (o->detailed && changed)
                return VMNET_EXIT_CHANGED;
        return VMNET_EXIT_OK;
}

static int run(VmnetCli *cli, Mode mode, int argc, char **argv)
{
        static const char *const names[] = { "plan", "apply", "destroy" };
        const char *command = names[mode];
        const VmnetCommand *cmd = vmnet_cli_command(command);
        Opts o = { .wait = 0, .unplug_timeout = -1 };
        const GOptionEntry apply_entries[] = {
                { "check", 0, 0, G_OPTION_ARG_NONE, &o.check, "Report what would change; change nothing",
                  NULL },
                { "diff", 0, 0, G_OPTION_ARG_NONE, &o.diff,
                  "After a change, show what it changed: links, addresses, routes, sysctls and "
                  "the firewall entry by entry (with --json: a \"diff\" member)",
                  NULL },
                { "detailed-exitcode", 0, 0, G_OPTION_ARG_NONE, &o.detailed,
                  "Exit 2 when something changed (or would, with --check), 0 when nothing did", NULL },
                { "wait", 0, 0, G_OPTION_ARG_INT, &o.wait,
                  "Wait up to SECONDS for another vmnet to finish (default: fail at once)", "SECONDS" },
                { "netns", 0, 0, G_OPTION_ARG_STRING, &o.netns,
                  "Work inside the network namespace /run/netns/NAME", "NAME" },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &o.connect,
                  "libvirt URI (default qemu:///system; not used with --netns unless given)", "URI" },
                { "no-libvirt", 0, 0, G_OPTION_ARG_NONE, &o.no_libvirt,
                  "Manage only the kernel side: bridges, VLANs, addresses, nftables, dnsmasq", NULL },
                { "confirm-within", 0, 0, G_OPTION_ARG_INT, &o.confirm_within,
                  "Roll everything back after SECONDS unless 'vmnet confirm' runs", "SECONDS" },
                { "unplug-timeout", 0, 0, G_OPTION_ARG_INT, &o.unplug_timeout,
                  "Wait up to SECONDS for a running guest to release a NIC vmnet replugs "
                  "(default 30)",
                  "SECONDS" },
                G_OPTION_ENTRY_NULL
        };
        /* destroy's own: the same, and --force. */
        GOptionEntry destroy_entries[G_N_ELEMENTS(apply_entries) + 1] = {
                { "force", 0, 0, G_OPTION_ARG_NONE, &o.force,
                  "Remove vmnet's networks and bridges even when guests or libvirt networks that "
                  "vmnet does not manage use them",
                  NULL },
        };
        g_autoptr(VmnetPlan) plan = NULL;
        g_autofree char *netns = NULL;
        g_autofree char *connect = NULL;

        for (guint i = 0; i < G_N_ELEMENTS(apply_entries); i++)
                destroy_entries[i + 1] = apply_entries[i];
        if (!vmnet_cli_parse(cli, cmd, mode == MODE_DESTROY ? destroy_entries : apply_entries, &argc,
                             &argv))
                return VMNET_EXIT_FAILURE;
        netns = o.netns ? o.netns : g_strdup(cli->netns);
        o.netns = netns;
        if (!vmnet_cli_netns_ok(cli, command, netns))
                return VMNET_EXIT_FAILURE;
        connect = o.connect;
        if (mode == MODE_PLAN)
                o.check = TRUE;
        if (argc != 2) {
                return vmnet_cli_usage(cli, command,
                                       "expected exactly one PLAN (or '-' for standard input)");
        }
        if (!vmnet_cli_apply_opts_ok(cli, command, &o))
                return VMNET_EXIT_FAILURE;
        plan = vmnet_cli_load_plan(cli, command, argv[1]);
        if (!plan)
                return VMNET_EXIT_FAILURE;
        return vmnet_cli_apply_plan(cli, command, &o, plan);
}

gboolean vmnet_cli_apply_opts_ok(VmnetCli *cli, const char *command, const VmnetApplyOpts *o)
{
        if (o->wait < 0)
                return !vmnet_cli_usage(cli, command, "--wait takes a number of seconds");
        if (o->confirm_within < 0)
                return !vmnet_cli_usage(cli, command, "--confirm-within takes a number of seconds");
        if (o->unplug_timeout != -1 &&
            (o->unplug_timeout < 1 || o->unplug_timeout > VMNET_UNPLUG_TIMEOUT_MAX))
                return !vmnet_cli_usage(cli, command, "--unplug-timeout takes 1 to %d seconds",
                                        VMNET_UNPLUG_TIMEOUT_MAX);
        return TRUE;
}

int vmnet_cli_apply_plan(VmnetCli *cli, const char *command, const VmnetApplyOpts *o,
                         const VmnetPlan *plan)
{
        gboolean destroy = g_str_equal(command, "destroy");
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetConfirm) confirm = NULL;
        g_autoptr(VmnetJournalRun) journal = NULL;
        g_auto(VmnetRun) run = { .lock = -1 };
        int rc;
        VmnetRunOpts ro = { .destroy = destroy };
        Progress p = { .cli = cli };
        gboolean executed;
        g_autoptr(VmnetNftIr) ir = NULL;
        g_autofree char *before = NULL;
        g_autofree char *after = NULL;
        gint64 t0;
        guint n_warnings;

        ro.netns = o->netns;
        ro.connect = o->connect;
        ro.no_libvirt = o->no_libvirt;
        ro.wait = (guint)o->wait;
        ro.force = o->force;
        ro.unplug_timeout = o->unplug_timeout > 0 ? (guint)o->unplug_timeout : 0;
        ro.check = o->check;
        /* Caught from here: a signal stops the run between steps and undoes it (apply/signals.h). */
        if (!o->check)
                vmnet_signals_catch();

        if (!vmnet_engine_prepare(&run, plan, &ro, &error))
                return vmnet_cli_fail(cli, command, error);
        print_warnings(cli, run.warnings, 0);
        if (o->check)
                return finish(cli, command, plan, o, run.actions, FALSE, run.warnings, 0, NULL,
                              NULL);
        journal = vmnet_journal_run_new(command, plan->name, o->netns);
        if (!run.actions->len) {
                /* Nothing to do: the host is the plan, which is kept all the same
                 * (applied before saved plans existed, or given anew). */
                vmnet_journal_run_end(journal, TRUE, 0, NULL);
                if (!vmnet_saved_plan_follow(plan, o->netns, destroy, &error))
                        return vmnet_cli_fail(cli, command, error);
                return finish(cli, command, plan, o, run.actions, FALSE, run.warnings, 0, NULL,
                              NULL);
        }
        if (o->diff) {
                ir = vmnet_nft_ir_from_plan(plan, run.obs->ipam);
                before = vmnet_cli_state_text(run.obs, plan, ir);
        }

        p.total = run.actions->len;
        p.journal = journal;
        n_warnings = run.warnings->items->len;
        /* --confirm-within: a watchdog, armed before the first step, undoes it all unless confirmed. */
        if (o->confirm_within > 0 &&
            !(confirm = vmnet_confirm_arm(&run.ctx, o->netns, run.actions, run.obs->state, run.lock,
                                          (guint)o->confirm_within, print_progress, &p, &error)))
                return vmnet_cli_fail(cli, command, error);
        p.confirm = confirm;
        t0 = g_get_monotonic_time();
        if (!vmnet_engine_commit(&run, plan, &ro, progress, &p, &executed, &error)) {
                vmnet_journal_run_end(journal, FALSE, run.actions->len, error);
                /* A failed step undid itself: the watchdog has nothing to do. After a
                 * failed record or verify it rolls the host back when this process exits. */
                if (!executed)
                        vmnet_confirm_abort(confirm);
                vmnet_cli_fail(cli, command, error);
                return g_error_matches(error, VMNET_ERROR, VMNET_ERROR_INTERRUPTED)
                               ? VMNET_EXIT_INTERRUPTED
                               : VMNET_EXIT_FAILURE;
        }
        vmnet_journal_run_end(journal, TRUE, run.actions->len, NULL);
        print_warnings(cli, run.warnings, n_warnings);
        if (o->diff && run.after)
                after = vmnet_cli_state_text(run.after, plan, ir);
        /* A safe apply's plan is kept by its watchdog once confirmed. */
        if (!confirm && !vmnet_saved_plan_follow(plan, o->netns, destroy, &error))
                return vmnet_cli_fail(cli, command, error);
        if (confirm && !vmnet_confirm_handoff(confirm, &run.ctx, &error))
                return vmnet_cli_fail(cli, command, error);
        rc = finish(cli, command, plan, o, run.actions, TRUE, run.warnings,
                    (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, before, after);
        if (confirm)
                vmnet_cli_confirm_notice(cli, confirm, o->netns);
        if (vmnet_signals_received()) {
                if (!cli->json)
                        fprintf(stderr,
                                "vmnet %s: %s came once the last step had started: the %s was "
                                "finished and verified, not undone\n",
                                command, vmnet_signal_name(vmnet_signals_received()), command);
                return VMNET_EXIT_FINISHED_ANYWAY;
        }
        return rc;
}

int vmnet_cmd_plan(VmnetCli *cli, int argc, char **argv)
{
        return run(cli, MODE_PLAN, argc, argv);
}

int vmnet_cmd_apply(VmnetCli *cli, int argc, char **argv)
{
        return run(cli, MODE_APPLY, argc, argv);
}

int vmnet_cmd_destroy(VmnetCli *cli, int argc, char **argv)
{
        return run(cli, MODE_DESTROY, argc, argv);
}
