/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "actions/action.h"
#include "apply/context.h"

/* Called before each action runs (undo = TRUE while rolling back). */
typedef void (*VmnetApplyProgress)(const VmnetAction *a, gboolean undo, gpointer user_data);

/* Runs once every action has: its failure undoes them all, as a failed action would. */
typedef gboolean (*VmnetApplyGate)(gpointer data, GError **error);

/*
 * Executes the actions in order. If one fails, the inverses of the completed
 * ones run in reverse order, so the host ends as it was, and error reports the
 * first failure (plus any rollback step that failed too, which needs a human).
 * gate (optional) is what the whole depends on once the last action is done
 * (the apply's durable record): if it fails, every action is undone likewise.
 * *done is the number of actions that completed and stayed applied: all of
 * them, or after a failure those whose undo failed too.
 *
 * Consecutive actions whose type has a batch (actions/action.h: the
 * dnsmasq starts) run as one: each begun in order, then each finished, so
 * their waits overlap. Progress, the signal check and the test hooks below
 * come before each begin, so a batch shows and fails step by step; after a
 * failure (or a signal) no further step of the batch begins, the steps
 * begun are finished all the same, and those that completed are undone
 * with the rest (a step that failed has undone its own part).
 *
 * Signals (apply/signals.h): one noted before a step (not the first
 * to run once the last has started) stops the run there, as a failure
 * would, with VMNET_ERROR_INTERRUPTED; the completed steps are undone.
 *
 * Testing hooks (a test build only, util/testhook.h): with
 * VMNET_TEST_FAIL_AT=N in the environment, action N (1-based) fails instead
 * of running, to prove rollback from every step; with VMNET_TEST_PAUSE_AT=N
 * the run stops before action N (after its progress line; in a batch,
 * with the actions of the batch before N begun), or with N one
 * past the last, after the last step, until a signal comes (an hour at
 * most), so a test can signal or kill it at step N with no race against
 * the clock.
 */
gboolean vmnet_apply_actions_gated(VmnetApplyCtx *ctx, GPtrArray *actions,
                                   VmnetApplyProgress progress, gpointer user_data,
                                   VmnetApplyGate gate, gpointer gate_data, guint *done,
                                   GError **error);
/* The same without a gate. */
gboolean vmnet_apply_actions(VmnetApplyCtx *ctx, GPtrArray *actions, VmnetApplyProgress progress,
                             gpointer user_data, guint *done, GError **error);

/*
 * Is name a network namespace name vmnet accepts (util/addr.h,
 * vmnet_netns_name_invalid_reason())? FALSE with error saying why not.
 */
gboolean vmnet_netns_name_check(const char *name, GError **error);

/* Enters the network namespace /run/netns/NAME (a name vmnet accepts) for the rest of the process. */
gboolean vmnet_netns_enter(const char *name, GError **error);

/*
 * Takes the host-wide apply lock (one per network namespace) under the run
 * directory; waits up to wait_seconds (0 = fail at once). Returns the lock fd
 * (close it to release) or -1 with error naming the holder's pid.
 */
int vmnet_lock_take(const char *netns, guint wait_seconds, GError **error);

/* The run and state directories; in a test build VMNET_RUN_DIR / VMNET_STATE_DIR override them. */
const char *vmnet_run_dir(void);
const char *vmnet_state_dir(void);

/*
 * Makes dir exist as vmnet's own before vmnet writes in it. dir is
 * vmnet_state_dir(), vmnet_run_dir() or a directory below one of them;
 * each component from that base down is created with mode 0700 when
 * missing, and opened without following a symbolic link (openat,
 * O_NOFOLLOW): it must be a directory owned by vmnet's user that no one
 * else may write to, so no one else can plant a link or a file where vmnet
 * writes. The base's parents (/var/lib, /run) are the system's, taken as
 * they are. FALSE with error naming the offending directory.
 */
gboolean vmnet_own_dir(const char *dir, GError **error);
