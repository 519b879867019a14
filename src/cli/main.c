/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apply/apply.h"
#include "apply/signals.h"
#include "cli/cli.h"
#include "model/fleet.h"
#include "plan/plan.h"
#include "util/addr.h"
#include "util/testhook.h"
#include "validate/validate.h"

static const VmnetCommand commands[] = {
        { "validate", "PLAN", "check a plan against the schema and the semantic rules",
          vmnet_cmd_validate },
        { "render", "PLAN [--libvirt] [--network NAME] [--nft] [--domain NAME]",
          "print the libvirt XML and nftables ruleset the plan produces", vmnet_cmd_render },
        { "plan", "PLAN [--netns NAME] [--detailed-exitcode]",
          "print the actions apply would take, with their impact; change nothing", vmnet_cmd_plan },
        { "apply", "PLAN [--netns NAME] [--check] [--detailed-exitcode] [--wait SECONDS] [--confirm-within SECONDS] [--unplug-timeout SECONDS]",
          "make the host match the plan; undo everything if a step fails", vmnet_cmd_apply },
        { "reapply", "[PLAN-NAME...] [--netns NAME] [--wait SECONDS] [--wait-uplinks SECONDS] [--watch]",
          "apply the saved plans again (all, or those named), without their files", vmnet_cmd_reapply },
        { "destroy", "PLAN [--netns NAME] [--check] [--detailed-exitcode] [--wait SECONDS] [--unplug-timeout SECONDS] [--force]",
          "remove what vmnet created for the plan and undo its changes", vmnet_cmd_destroy },
        { "status", "[PLAN] [--netns NAME] [--detailed-exitcode] [--stats [--interval SECONDS]] [--format text|json|dot]",
          "what vmnet manages on this host, and drift against the plan", vmnet_cmd_status },
        { "ipam", "PLAN [--netns NAME] [--connect URI]",
          "addresses per subnet: used, reserved, free, and every allocation", vmnet_cmd_ipam },
        { "doctor", "[PLAN] [--netns NAME] [--connect URI] [--detailed-exitcode] [--probe NETWORK [--probe-target ADDRESS]]",
          "diagnose why guests have no network, with the fix for each problem; change nothing",
          vmnet_cmd_doctor },
        { "metrics", "PLAN [--netns NAME] [--output FILE]",
          "traffic counters of the plan's networks and guest ports for Prometheus",
          vmnet_cmd_metrics },
        { "confirm", "[--netns NAME]",
          "keep an apply made with --confirm-within (otherwise it is rolled back)",
          vmnet_cmd_confirm },
        { "hook", "network NETWORK OPERATION SUB-OPERATION [EXTRA]",
          "libvirt's network hook: puts guest ports of VLAN-aware bridges in their VLAN",
          vmnet_cmd_hook },
};

static const GOptionEntry global_entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, NULL, "Machine-readable output (one JSON document on stdout)",
          NULL },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, NULL, "Print nothing but errors", NULL },
        { "host", 0, 0, G_OPTION_ARG_STRING, NULL,
          "The host whose part of a fleet plan to use (default: this machine's hostname)",
          "NAME" },
        G_OPTION_ENTRY_NULL
};

static void usage(FILE *f)
{
        fprintf(f, "Usage: vmnet [--json] [--quiet] [--netns NAME] [--host NAME] COMMAND [OPTIONS] [ARGS]\n"
                   "       vmnet --version | --help\n\n"
                   "Provision the network of a hypervisor host from a declarative plan.\n\n"
                   "Commands:\n");
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(f, "\nGlobal options:\n"
                   "  --json       machine-readable output (one JSON document on stdout)\n"
                   "  -q, --quiet  print nothing but errors\n"
                   "  --netns NAME work inside the network namespace /run/netns/NAME\n"
                   "  --host NAME  the host whose part of a fleet plan to use (default: hostname)\n"
                   "  --version    print the version and exit\n"
                   "  -h, --help   print this help and exit\n\n"
                   "PLAN may be '-' for standard input. 'vmnet COMMAND --help' describes a command.\n"
                   "See vmnet(8) and vmnet-plan(5).\n");
}

static void print_failure(VmnetCli *cli, const char *command, const VmnetDiags *diags,
                          const GError *error);

gboolean vmnet_cli_parse(VmnetCli *cli, const VmnetCommand *cmd, const GOptionEntry *entries,
                         int *argc, char ***argv)
{
        g_autofree char *param = g_strdup_printf("%s %s", cmd->name, cmd->args);
        g_autoptr(GOptionContext) ctx = g_option_context_new(param);
        g_autoptr(GError) error = NULL;
        GOptionEntry globals[G_N_ELEMENTS(global_entries)];

        memcpy(globals, global_entries, sizeof(globals));
        globals[0].arg_data = &cli->json;
        globals[1].arg_data = &cli->quiet;
        globals[2].arg_data = &cli->host;
        g_option_context_set_summary(ctx, cmd->summary);
        if (entries)
                g_option_context_add_main_entries(ctx, entries, NULL);
        g_option_context_add_main_entries(ctx, globals, NULL);
        /* "-" (standard input) is an argument, not an option. */
        g_option_context_set_strict_posix(ctx, FALSE);
        /* --json anywhere asks for a JSON document, also when the option in error comes first. */
        for (int i = 1; i < *argc; i++)
                cli->json |= g_str_equal((*argv)[i], "--json");
        if (!g_option_context_parse(ctx, argc, argv, &error)) {
                if (cli->json)
                        print_failure(cli, cmd->name, NULL, error);
                else
                        fprintf(stderr, "vmnet %s: %s\nTry 'vmnet %s --help'.\n", cmd->name,
                                error->message, cmd->name);
                return FALSE;
        }
        return TRUE;
}

JsonBuilder *vmnet_cli_json_begin(const char *command, gboolean failed, gboolean changed)
{
        JsonBuilder *j = json_builder_new();

        json_builder_begin_object(j);
        vmnet_json_member_int(j, "format", VMNET_JSON_FORMAT);
        vmnet_json_member_string(j, "command", command);
        vmnet_json_member_bool(j, "failed", failed);
        vmnet_json_member_bool(j, "changed", changed);
        return j;
}

void vmnet_cli_json_print(JsonBuilder *j)
{
        g_autofree char *text = vmnet_json_text(j);

        fputs(text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
}

void vmnet_cli_json_diags(JsonBuilder *j, const char *key, const VmnetDiags *diags)
{
        json_builder_set_member_name(j, key);
        json_builder_begin_array(j);
        for (guint i = 0; diags && i < diags->items->len; i++) {
                const VmnetDiag *d = g_ptr_array_index(diags->items, i);
                g_autofree char *text = vmnet_diag_format(d);

                json_builder_begin_object(j);
                vmnet_json_member_string(j, "file", d->file);
                vmnet_json_member_int(j, "line", d->line);
                vmnet_json_member_string(j, "message", d->message);
                vmnet_json_member_string(j, "text", text);
                json_builder_end_object(j);
        }
        json_builder_end_array(j);
}

static void print_failure(VmnetCli *cli, const char *command, const VmnetDiags *diags,
                          const GError *error)
{
        if (cli->json) {
                g_autoptr(JsonBuilder) j = vmnet_cli_json_begin(command, TRUE, FALSE);
                g_autoptr(VmnetDiags) own = NULL;
                g_autofree char *who = command ? g_strdup_printf("vmnet %s", command)
                                               : g_strdup("vmnet");

                /* A failure that is no list of diagnostics is still one error, never []. */
                if (error && vmnet_diags_count(diags) == 0) {
                        own = vmnet_diags_new();
                        vmnet_diags_add(own, who, 0, "%s", error->message);
                        diags = own;
                }

                vmnet_json_member_string(j, "msg", error ? error->message : "failed");
                vmnet_cli_json_diags(j, "errors", diags);
                json_builder_end_object(j);
                vmnet_cli_json_print(j);
                return;
        }
        for (guint i = 0; diags && i < diags->items->len; i++) {
                g_autofree char *line = vmnet_diag_format(g_ptr_array_index(diags->items, i));

                fprintf(stderr, "%s\n", line);
        }
        if (error && vmnet_diags_count(diags) == 0 && !command)
                fprintf(stderr, "vmnet: %s\nTry 'vmnet --help'.\n", error->message);
        else if (error && vmnet_diags_count(diags) == 0)
                fprintf(stderr, "vmnet %s: %s\n", command, error->message);
        else if (vmnet_diags_count(diags) > 1)
                fprintf(stderr, "vmnet %s: %u errors\n", command, vmnet_diags_count(diags));
}

int vmnet_cli_fail(VmnetCli *cli, const char *command, const GError *error)
{
        print_failure(cli, command, NULL, error);
        return VMNET_EXIT_FAILURE;
}

int vmnet_cli_usage(VmnetCli *cli, const char *command, const char *fmt, ...)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        error = g_error_new_literal(VMNET_ERROR, VMNET_ERROR_FAILED, msg);
        return vmnet_cli_fail(cli, command, error);
}

gboolean vmnet_cli_netns_ok(VmnetCli *cli, const char *command, const char *netns)
{
        g_autoptr(GError) error = NULL;

        if (!netns || vmnet_netns_name_check(netns, &error))
                return TRUE;
        g_prefix_error(&error, "--netns: ");
        vmnet_cli_fail(cli, command, error);
        return FALSE;
}

/*
 * Of a fleet plan (validated), keeps the part of host want (NULL: the
 * machine's hostname, or its first label) and validates it again; a plan
 * without hosts is left alone.
 */
static gboolean select_host(const char *want, VmnetPlan *plan, VmnetDiags *diags, GError **error)
{
        g_autofree char *host = g_strdup(want);

        if (!vmnet_plan_is_fleet(plan))
                return TRUE;
        if (!host) {
                host = g_strdup(g_get_host_name());
                /* A hostname with its domain: the plan may name the host by its short name. */
                if (!vmnet_plan_find_host(plan, host) && strchr(host, '.'))
                        *strchr(host, '.') = '\0';
        }
        if (!vmnet_plan_select_host(plan, host, error))
                return FALSE;
        if (!vmnet_plan_validate(plan, diags)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                            "%s: invalid plan for host '%s'", plan->file, host);
                return FALSE;
        }
        return TRUE;
}

VmnetPlan *vmnet_cli_load_plan(VmnetCli *cli, const char *command, const char *path)
{
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetPlan) plan = vmnet_plan_load_file(path, diags, &error);

        if (plan && !vmnet_plan_validate(plan, diags)) {
                g_set_error(&error, VMNET_ERROR, VMNET_ERROR_INVALID, "%s: invalid plan", plan->file);
                g_clear_pointer(&plan, vmnet_plan_free);
        }
        if (plan && !g_str_equal(command, "validate") &&
            !select_host(cli->host, plan, diags, &error))
                g_clear_pointer(&plan, vmnet_plan_free);
        if (!plan) {
                vmnet_diags_sort(diags);
                print_failure(cli, command, diags, error);
                return NULL;
        }
        return g_steal_pointer(&plan);
}

int main(int argc, char **argv)
{
        VmnetCli cli = { 0 };
        int i;

        /* The character set only: no translations to load, and numbers in
         * messages and JSON must not follow LC_NUMERIC ("0,004 s"). */
        setlocale(LC_CTYPE, "");
        /* Each command parses its own options from argv + i: its usage line says "vmnet". */
        g_set_prgname("vmnet");
        vmnet_test_hooks_warn_ignored();
        /* `vmnet apply plan.xml | head -2`: output to a closed pipe is lost, the run is not. */
        vmnet_signals_ignore_sigpipe();
        for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
                if (g_str_equal(argv[i], "--version")) {
                        printf("vmnet %s", PACKAGE_VERSION);
                        if (VMNET_TEST_HOOKS)
                                printf(" (test build: obeys the test switches in its "
                                       "environment, never install it)");
#ifdef VMNET_MUTANT
                        printf(" (mutant %s: broken on purpose, tests only)", VMNET_MUTANT);
#endif
                        printf("\n");
                        return VMNET_EXIT_OK;
                } else if (g_str_equal(argv[i], "--help") || g_str_equal(argv[i], "-h")) {
                        usage(stdout);
                        return VMNET_EXIT_OK;
                } else if (g_str_equal(argv[i], "--json")) {
                        cli.json = TRUE;
                } else if (g_str_equal(argv[i], "--quiet") || g_str_equal(argv[i], "-q")) {
                        cli.quiet = TRUE;
                } else if (g_str_equal(argv[i], "--netns") && i + 1 < argc) {
                        cli.netns = argv[++i];
                } else if (g_str_has_prefix(argv[i], "--netns=")) {
                        cli.netns = argv[i] + strlen("--netns=");
                } else if (g_str_equal(argv[i], "--host") && i + 1 < argc) {
                        cli.host = argv[++i];
                } else if (g_str_has_prefix(argv[i], "--host=")) {
                        cli.host = argv[i] + strlen("--host=");
                } else {
                        g_autoptr(GError) error = NULL;

                        if (g_str_equal(argv[i], "--netns") || g_str_equal(argv[i], "--host"))
                                g_set_error(&error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                            "%s needs a value (%s)", argv[i],
                                            argv[i][2] == 'n' ? "a network namespace name"
                                                              : "a host of the fleet plan");
                        else
                                g_set_error(&error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                            "unknown option '%s'", argv[i]);
                        for (int k = i + 1; k < argc; k++)
                                cli.json |= g_str_equal(argv[k], "--json");
                        print_failure(&cli, NULL, NULL, error);
                        return VMNET_EXIT_FAILURE;
                }
        }
        if (i >= argc && cli.json)
                return vmnet_cli_usage(&cli, NULL, "no command given");
        if (i >= argc) {
                usage(stderr);
                return VMNET_EXIT_FAILURE;
        }
        if (!vmnet_cli_netns_ok(&cli, argv[i], cli.netns))
                return VMNET_EXIT_FAILURE;
        for (gsize c = 0; c < G_N_ELEMENTS(commands); c++)
                if (g_str_equal(argv[i], commands[c].name))
                        return commands[c].run(&cli, argc - i, argv + i);
        for (int k = i + 1; k < argc; k++)
                cli.json |= g_str_equal(argv[k], "--json");
        return vmnet_cli_usage(&cli, NULL, "unknown command '%s'", argv[i]);
}

const VmnetCommand *vmnet_cli_command(const char *name)
{
        for (gsize c = 0; c < G_N_ELEMENTS(commands); c++)
                if (g_str_equal(name, commands[c].name))
                        return &commands[c];
        g_assert_not_reached();
}
