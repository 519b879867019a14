/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The plans vmnet has applied, kept so the host can be put back without the
 * file they came from (vmnet(8), SAVED PLANS): after a reboot, after
 * `systemctl restart nftables`, or when the plan was given as Ansible
 * `content:` or on standard input.
 *
 *   $(localstatedir)/lib/vmnet/plans/<plan>.xml             (root network namespace)
 *   $(localstatedir)/lib/vmnet/netns-<ns>/plans/<plan>.xml  (with --netns)
 *
 * and, for a fleet plan, <plan>.host beside it: the host it was applied for.
 *
 * The bytes are those the apply read, replaced atomically and durably (a
 * new file renamed over the old, fsync of the file and of the directory).
 * A successful apply stores its plan (a --confirm-within apply only once
 * confirmed), a successful destroy removes it.
 */

#include <glib.h>

#include "model/model.h"

/* The path of plan_name's saved copy (caller frees). */
char *vmnet_saved_plan_path(const char *plan_name, const char *netns);
/*
 * The host a saved fleet plan was applied for (NAME.host beside it; caller
 * frees), NULL for a single-host plan.
 */
char *vmnet_saved_plan_host(const char *plan_name, const char *netns);
/* Stores plan->source as plan->name's saved copy, and the host it was applied for. */
gboolean vmnet_saved_plan_store(const VmnetPlan *plan, const char *netns, GError **error);
/* Removes plan_name's saved copy; TRUE when there was none. */
gboolean vmnet_saved_plan_remove(const char *plan_name, const char *netns, GError **error);
/*
 * After a successful apply (store) or destroy (remove) of plan; the error
 * says that the host was changed all the same.
 */
gboolean vmnet_saved_plan_follow(const VmnetPlan *plan, const char *netns, gboolean destroyed,
                                 GError **error);
/* The names of the saved plans, sorted (caller frees; empty when none). */
char **vmnet_saved_plan_list(const char *netns);
