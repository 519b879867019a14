/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The traffic counters of `vmnet status --stats` and `vmnet metrics`. */

#include "diff/engine.h"
#include "observe/traffic.h"
#include "util/json-text.h"

/*
 * Prints traffic rows (vmnet_traffic_rows()) as a "traffic" array of j, or
 * as text when j is NULL; with before (the same rows read seconds earlier),
 * rates per second too.
 */
void vmnet_cli_traffic(JsonBuilder *j, const GArray *rows, const GArray *before, double seconds);

/*
 * The counters of plan's networks and guest ports, read through ctx->nl in
 * the current namespace: *rows, and *before read interval seconds earlier
 * when interval > 0 (else NULL). Both are the caller's; they borrow from
 * plan, obs and *ports (the caller's too).
 */
gboolean vmnet_cli_read_traffic(VmnetApplyCtx *ctx, const VmnetPlan *plan, const VmnetObserved *obs,
                                guint interval, GPtrArray **ports, GArray **rows, GArray **before,
                                GError **error);
