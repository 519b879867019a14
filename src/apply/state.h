/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * vmnet's record of what it did to a host, kept across runs and reboots:
 *   $(localstatedir)/lib/vmnet/<plan>.state          (root network namespace)
 *   $(localstatedir)/lib/vmnet/netns-<ns>/<plan>.state (with --netns)
 * (VMNET_STATE_DIR overrides the directory, for tests.)
 *
 * It is a GKeyFile: each part of the engine owns its own groups
 * ("foreign-link <name>", "sysctl", "nft", "ipam <network>", ...) and reads
 * and writes them through the GKeyFile API. The file is replaced atomically
 * (write to a temporary file, fsync, rename), so a crash leaves the old or
 * the new state, never half of one.
 */

#include <glib.h>

typedef struct {
        char *path;
        GKeyFile *kf;
} VmnetState;

/* Loads the state of plan (empty when there is none yet). Caller frees. */
VmnetState *vmnet_state_load(const char *plan_name, const char *netns, GError **error);
gboolean vmnet_state_save(VmnetState *state, GError **error);
/* Removes the file (after a destroy). */
gboolean vmnet_state_remove(VmnetState *state, GError **error);
void vmnet_state_free(VmnetState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetState, vmnet_state_free)

/* Removes every group whose name starts with prefix. */
void vmnet_state_clear_prefix(VmnetState *state, const char *prefix);
