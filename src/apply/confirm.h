/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Safe apply: `vmnet apply --confirm-within SECONDS` undoes itself unless
 * `vmnet confirm` runs in time (canonical/netplan#548: an apply that cuts
 * the admin off must come back by itself).
 *
 * Before the first action runs, the applying process forks a watchdog
 * (double fork + setsid: no controlling terminal, SIGHUP ignored, standard
 * streams on /dev/null and its log) that keeps, in its copy of the
 * process's memory, the action list and the state file as they were. The
 * inverses are built from the actions (type->invert), which carry what the
 * diff observed before anything changed, so nothing has to be serialised.
 * The applying process tells the watchdog over a socket pair when each
 * action starts, and when the apply is done and verified.
 *
 *  - The applying process dies (SIGKILL, lost SSH session) before it is
 *    done: the socket closes, and the watchdog undoes at once what was
 *    started (the action in flight included; undoing an action that never
 *    ran fails harmlessly, as each inverse puts back an observed value).
 *  - The apply completes: the watchdog waits until the deadline; unless
 *    `vmnet confirm` came first, it undoes every action in reverse order
 *    and puts the state file back. SIGTERM (a logout that kills the
 *    session's processes) makes it undo at once: nothing else would.
 *
 * The watchdog keeps the host lock (its copy of the lock descriptor) until
 * it is done, so no other apply can change the host under a pending
 * rollback; `vmnet confirm` does not need the lock.
 *
 * Files under vmnet_run_dir() (SUFFIX is "" or ".netns-NAME", like the lock):
 *   confirm SUFFIX            the pending record (key file: pid, plan, deadline, ...)
 *   confirm SUFFIX.confirmed  transient: renamed there by `vmnet confirm`
 *   confirm SUFFIX.rollback   transient: renamed there by the watchdog
 *   confirm SUFFIX.last       what the last safe apply ended with
 *   confirm SUFFIX.log        the watchdog's log
 * Confirm and rollback race for one rename(2) of the record: exactly one
 * wins, so a confirmation at the last moment is either kept or reported too
 * late, never both.
 */

#include <glib.h>
#include <sys/types.h>

#include "actions/action.h"
#include "apply/apply.h"
#include "apply/state.h"

typedef struct _VmnetConfirm VmnetConfirm;

/*
 * Starts the watchdog for an apply of ctx->plan that is about to execute
 * actions (borrowed; they must stay alive and unchanged until the apply
 * ends). state is the plan's state as observed (before the apply records
 * anything); lock_fd the host lock the caller holds. The watchdog is
 * running and has written its record when this returns.
 *
 * progress / progress_data: the caller's progress callback, called through
 * vmnet_confirm_progress(), which must be the callback given to
 * vmnet_apply_actions() (with the VmnetConfirm as its user data).
 *
 * VMNET_TEST_PAUSE_AT (apply.h) stops the applying process before a step,
 * so a test can kill it mid-apply with no race against the clock.
 */
VmnetConfirm *vmnet_confirm_arm(VmnetApplyCtx *ctx, const char *netns, const GPtrArray *actions,
                                const VmnetState *state, int lock_fd, guint seconds,
                                VmnetApplyProgress progress, gpointer progress_data,
                                GError **error);

/* A VmnetApplyProgress; user_data is the VmnetConfirm. */
void vmnet_confirm_progress(const VmnetAction *a, gboolean undo, gpointer user_data);

/* The apply failed and undid itself: the watchdog exits without doing anything. NULL-safe. */
void vmnet_confirm_abort(VmnetConfirm *c);

/*
 * The apply is done and verified: starts the countdown. If the watchdog is
 * gone (killed), nothing would undo the apply unconfirmed, so it is undone
 * here at once and FALSE returned with an error saying so.
 */
gboolean vmnet_confirm_handoff(VmnetConfirm *c, VmnetApplyCtx *ctx, GError **error);

pid_t vmnet_confirm_watchdog_pid(const VmnetConfirm *c);
/* Unix time of the deadline (after a successful handoff). */
gint64 vmnet_confirm_deadline(const VmnetConfirm *c);

/*
 * Neither handed off nor aborted (the apply failed after its actions ran,
 * e.g. verification): the watchdog undoes the apply now, and this waits
 * (up to a minute) until it has.
 */
void vmnet_confirm_free(VmnetConfirm *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetConfirm, vmnet_confirm_free)

/* --- the records, for `vmnet confirm`, `vmnet status` and `vmnet doctor` --- */

typedef struct {
        char *state;      /* pending record: "applying" or "pending"; last: the outcome
                           * ("confirmed", "rolled-back", "rollback-incomplete", "abandoned") */
        int pid;          /* the watchdog */
        char *plan;
        char *plan_file;
        char *netns;
        guint seconds;
        gint64 armed;     /* unix times; 0 = unknown */
        gint64 deadline;
        gint64 finished;  /* last: when it ended */
        char *reason;     /* last: why it was rolled back, or a note */
        guint undone;     /* last: inverse steps run */
        guint failed;     /* last: of which failed */
        char *errors;     /* last: their messages, one a line */
        gboolean alive;   /* pending record: the watchdog process still runs */
} VmnetConfirmInfo;

void vmnet_confirm_info_free(VmnetConfirmInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetConfirmInfo, vmnet_confirm_info_free)

/* The pending record of netns (NULL = the root namespace); NULL when none. Caller frees. */
VmnetConfirmInfo *vmnet_confirm_read_pending(const char *netns);
/* What the last safe apply in netns ended with; NULL when none is known. Caller frees. */
VmnetConfirmInfo *vmnet_confirm_read_last(const char *netns);

/*
 * Confirms the pending apply of netns: the watchdog exits without undoing
 * anything, and this waits (up to 5 s) until it has released the lock.
 * Returns the record (state "confirmed"; reason notes a watchdog that was
 * already gone). Errors: VMNET_ERROR_NOT_FOUND when nothing is pending,
 * VMNET_ERROR_FAILED when the apply is still running or the rollback has
 * already begun. Caller frees.
 */
VmnetConfirmInfo *vmnet_confirm_commit(const char *netns, GError **error);
