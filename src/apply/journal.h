/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * vmnet's history in the systemd journal (vmnet(8), JOURNAL): every apply,
 * destroy, rollback, confirm, watchdog and re-apply event, one entry each,
 * with structured fields and one MESSAGE_ID per kind of event:
 *
 *   SYSLOG_IDENTIFIER=vmnet   (journalctl -t vmnet)
 *   VMNET_EVENT     step, apply, destroy, rollback, confirm, watchdog, reapply
 *   VMNET_PLAN      the plan's name
 *   VMNET_NETNS     the network namespace (absent in the host's own)
 *   VMNET_COMMAND   apply, destroy, reapply, confirm, watchdog
 *   VMNET_ACTION    the action's type (link-create, nft-replace, ...), for steps
 *   VMNET_OBJECT    what it acts on ("link vm-lab", "table inet vmnet")
 *   VMNET_OUTCOME   done, failed, undone, applied, unchanged, rolled-back, ...
 *
 * Written with glib's journald writer (g_log_writer_journald), straight to
 * the journal's socket and never to the terminal: without a journal (a test
 * namespace, a container without systemd) nothing is written and nothing
 * fails.
 */

#include <glib.h>

#include "actions/action.h"

typedef enum {
        VMNET_EVENT_STEP,     /* one action of an apply or destroy ran */
        VMNET_EVENT_APPLY,    /* how an apply ended */
        VMNET_EVENT_DESTROY,  /* how a destroy ended */
        VMNET_EVENT_ROLLBACK, /* one undo step */
        VMNET_EVENT_CONFIRM,  /* `vmnet confirm` kept a safe apply */
        VMNET_EVENT_WATCHDOG, /* the --confirm-within watchdog: armed, confirmed, undoing, ... */
        VMNET_EVENT_REAPPLY,  /* saved plans re-applied: boot, nftables flushed or reloaded */
        VMNET_EVENT_LAST
} VmnetEvent;

typedef struct {
        const char *plan;
        const char *netns;
        const char *command;
        const char *action;
        const char *object;
        const char *outcome;
} VmnetEventFields;

/* The MESSAGE_ID of kind (32 hex digits). */
const char *vmnet_event_message_id(VmnetEvent kind);

/* One journal entry; priority is syslog's (LOG_INFO, LOG_ERR, ...). */
void vmnet_journal_event(VmnetEvent kind, int priority, const VmnetEventFields *f, const char *fmt,
                         ...) G_GNUC_PRINTF(4, 5);

/*
 * The journal of one apply or destroy run: a step entry for each action once
 * its outcome is known (done when the next one starts or the run succeeds,
 * failed when the run fails in it), a rollback entry for each undo step, and
 * the run's outcome at the end.
 */
typedef struct VmnetJournalRun VmnetJournalRun;
VmnetJournalRun *vmnet_journal_run_new(const char *command, const char *plan, const char *netns);
/* A VmnetApplyProgress; call it from the one given to the apply. */
void vmnet_journal_run_progress(const VmnetAction *a, gboolean undo, gpointer run);
/* The run ended: n_actions ran (ok), or it failed with error. */
void vmnet_journal_run_end(VmnetJournalRun *run, gboolean ok, guint n_actions, const GError *error);
void vmnet_journal_run_free(VmnetJournalRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetJournalRun, vmnet_journal_run_free)
