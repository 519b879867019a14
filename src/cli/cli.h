/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The CLI is the only code that prints. Each subcommand is one file with a
 * run function, dispatched from the table in main.c.
 */

#include <glib.h>

#include "actions/action.h"
#include "diff/engine.h"
#include "model/model.h"
#include "util/error.h"
#include "util/json-text.h"

/* Exit statuses (vmnet(8) EXIT STATUS). */
enum {
        VMNET_EXIT_OK = 0,
        VMNET_EXIT_FAILURE = 1,
        VMNET_EXIT_CHANGED = 2, /* with --detailed-exitcode */
        VMNET_EXIT_INTERRUPTED = 3, /* a signal stopped apply/destroy: every step done was undone */
        VMNET_EXIT_FINISHED_ANYWAY = 4, /* a signal came once the last step had started: finished */
};

typedef struct {
        gboolean json;
        gboolean quiet;
        char *netns; /* --netns before the command */
        char *host;  /* --host: whose part of a fleet plan; NULL: this machine's hostname */
} VmnetCli;

typedef struct {
        const char *name;
        const char *args;    /* usage after the name, e.g. "PLAN" */
        const char *summary; /* one line for --help */
        int (*run)(VmnetCli *cli, int argc, char **argv);
} VmnetCommand;

/* The command table entry of a subcommand (for its usage line). */
const VmnetCommand *vmnet_cli_command(const char *name);

/*
 * Parses a subcommand's options (its own entries plus the global ones) and
 * leaves the positional arguments in argc/argv. Returns FALSE after printing
 * a usage error.
 */
gboolean vmnet_cli_parse(VmnetCli *cli, const VmnetCommand *cmd, const GOptionEntry *entries,
                         int *argc, char ***argv);

/*
 * Loads, finalizes and validates a plan; of a fleet plan, every command but
 * validate then keeps the part of the host (--host, else the machine's
 * hostname) and validates it again. On any problem prints every
 * diagnostic (stderr, or a JSON document on stdout with --json) and returns
 * NULL.
 */
VmnetPlan *vmnet_cli_load_plan(VmnetCli *cli, const char *command, const char *path);

/* Prints an error (stderr, or JSON on stdout with --json) and returns VMNET_EXIT_FAILURE. */
int vmnet_cli_fail(VmnetCli *cli, const char *command, const GError *error);

/*
 * A usage error (arguments, an option's value): printed as vmnet_cli_fail()
 * prints an error, "vmnet COMMAND: message" on stderr or the failure document
 * with --json. Returns VMNET_EXIT_FAILURE.
 */
int vmnet_cli_usage(VmnetCli *cli, const char *command, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/*
 * TRUE when netns is NULL or a network namespace name vmnet accepts; else
 * prints the error (as vmnet_cli_fail() does) and returns FALSE. Every
 * command checks its --netns before using it.
 */
gboolean vmnet_cli_netns_ok(VmnetCli *cli, const char *command, const char *netns);

/* Writes diagnostics as a JSON array member "key". */
void vmnet_cli_json_diags(JsonBuilder *j, const char *key, const VmnetDiags *diags);

/*
 * The version of the --json contract (vmnet(8), JSON OUTPUT; the schemas in
 * schemas/json/): within one format members are only added. A member
 * removed, renamed or given another type or meaning is a new format.
 */
#define VMNET_JSON_FORMAT 1

/*
 * A new --json document: its object opened, with the members every command's
 * document begins with (format, command, failed, changed). Caller frees.
 */
JsonBuilder *vmnet_cli_json_begin(const char *command, gboolean failed, gboolean changed);

/* Prints a finished JSON document (and a newline) on stdout. */
void vmnet_cli_json_print(JsonBuilder *j);

/* The options of apply and destroy (and reapply, which applies saved plans). */
typedef struct {
        gboolean check;
        gboolean diff; /* apply --diff: the managed state before and after */
        gboolean detailed;
        int wait;
        char *netns;
        int confirm_within;
        char *connect;
        gboolean no_libvirt;
        gboolean force;
        int unplug_timeout; /* -1: not given */
} VmnetApplyOpts;

/* FALSE after printing why (vmnet_cli_usage()), when an option's value is out of range. */
gboolean vmnet_cli_apply_opts_ok(VmnetCli *cli, const char *command, const VmnetApplyOpts *o);
/*
 * Applies (command "apply" or "reapply") or destroys ("destroy") plan as the
 * apply and destroy commands do: prints, journals, keeps or forgets the
 * saved plan. Returns the exit status.
 */
int vmnet_cli_apply_plan(VmnetCli *cli, const char *command, const VmnetApplyOpts *o,
                         const VmnetPlan *plan);

int vmnet_cmd_validate(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_render(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_plan(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_apply(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_destroy(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_status(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_ipam(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_doctor(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_confirm(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_hook(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_reapply(VmnetCli *cli, int argc, char **argv);
int vmnet_cmd_metrics(VmnetCli *cli, int argc, char **argv);


/* After `apply --confirm-within`: how to confirm, and until when (stderr). */
typedef struct _VmnetConfirm VmnetConfirm;
void vmnet_cli_confirm_notice(VmnetCli *cli, const VmnetConfirm *c, const char *netns);
/*
 * For `vmnet status`: a safe apply waiting for confirmation, or how the last
 * one ended. Writes the member "confirm" into j, or a line on stdout when j
 * is NULL (nothing when there is nothing to say).
 */
void vmnet_cli_confirm_status(JsonBuilder *j, const char *netns);

/* Writes actions (NULL: none) as a JSON array member "key": type, object, impact, description. */
void vmnet_cli_json_actions(JsonBuilder *j, const char *key, const GPtrArray *actions);

/*
 * What plan manages, as observed in obs, one fact a line (links, addresses,
 * routes, sysctls, the firewall entry by entry, rule texts from ir, which
 * may be NULL): what `apply --diff` compares before and after. Caller frees.
 */
char *vmnet_cli_state_text(const VmnetObserved *obs, const VmnetPlan *plan, const VmnetNftIr *ir);

/* An nft-replace action's firewall changes, one "+ entry" or "- entry" line each, on stdout. */
void vmnet_cli_print_changes(const VmnetAction *a);

/* Numbered list of actions with their impact (and firewall changes), on stdout. */
void vmnet_cli_print_actions(const GPtrArray *actions);

