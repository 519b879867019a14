/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * vmnet's record of what it did to a host, kept across runs and reboots:
 *   $(localstatedir)/lib/vmnet/<plan>.state          (root network namespace)
 *   $(localstatedir)/lib/vmnet/netns-<ns>/<plan>.state (with --netns)
 * (In a test build VMNET_STATE_DIR overrides the directory.)
 *
 * It is a GKeyFile: each part of the engine owns its own groups
 * ("foreign-link <name>", "sysctl", "nft", "ipam <network>", ...) and reads
 * and writes them through the GKeyFile API. The file is replaced atomically
 * (write to a temporary file, fsync, rename, fsync of the directory), so a
 * crash leaves the old or the new state, never half of one.
 *
 * It is a write-ahead record: before the first step of an apply or destroy
 * changes anything, the file holds every old value needed to undo the
 * steps (the foreign changes they will make) and a "transaction" group
 * naming the run and its steps, and it is on disk (file and directory
 * fsync'ed). Which steps ran is not written step by step: the next run
 * reads it from the host (it diffs), and the record keeps the originals of
 * what those steps may have changed. When the run ends the group goes
 * (vmnet_state_transaction_end) or the file is put back as loaded if the
 * run was undone (vmnet_state_put_back). A "transaction" group found by
 * the next run is the sign of a run killed (SIGKILL, power loss) midway.
 */

#include <glib.h>

typedef struct {
        char *path;
        GKeyFile *kf;
        char *before; /* the file as loaded; NULL when there was none */
        gsize before_len;
} VmnetState;

/* Loads the state of plan (empty when there is none yet). Caller frees. */
VmnetState *vmnet_state_load(const char *plan_name, const char *netns, GError **error);
/* Writes the file durably: on disk (file and directory) when this returns TRUE. */
gboolean vmnet_state_save(VmnetState *state, GError **error);

/*
 * The transaction group: command ("apply" or "destroy"), this process's
 * pid, the start time, and the steps' descriptions, in order. _begin only
 * sets it in the key file (vmnet_state_save() writes it); _end removes it.
 */
void vmnet_state_transaction_begin(VmnetState *state, const char *command,
                                   const GPtrArray *descriptions);
void vmnet_state_transaction_end(VmnetState *state);

/*
 * A run of the plan that did not end (its transaction group is there): its
 * command, pid, start time and number of steps. FALSE when there is none.
 * *command is the caller's.
 */
gboolean vmnet_state_transaction_left(const VmnetState *state, char **command, int *pid,
                                      gint64 *started, guint *steps);

/*
 * Removes the temporary files a killed run left while replacing a file of
 * the state or run directory of netns (NAME.XXXXXX next to NAME.state,
 * .pending, .unplugs). Only under the host lock: no other run writes there
 * then. Returns how many were removed.
 */
guint vmnet_state_clean_temporaries(const char *netns);

/*
 * Puts a state file back as it was: writes before (durably), or removes the
 * file when before is NULL (there was none).
 */
gboolean vmnet_state_put_back(const char *path, const char *before, gsize before_len,
                              GError **error);
/* Removes the file (after a destroy). */
gboolean vmnet_state_remove(VmnetState *state, GError **error);
void vmnet_state_free(VmnetState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetState, vmnet_state_free)

/* Removes every group whose name starts with prefix. */
void vmnet_state_clear_prefix(VmnetState *state, const char *prefix);

/*
 * The links an apply creates, listed in the run directory while it runs:
 *   $(runstatedir)/vmnet/[netns-<ns>/]<plan>.pending
 * The kernel takes a new link's alias, vmnet's mark, only in a second message
 * after the one that creates it, so a run killed in between leaves a link
 * without the mark. The next run of the plan reads the list and takes such a
 * link as vmnet's. It lives under /run because the links do not outlive a
 * reboot either: a link of that name seen after one is someone else's.
 */
typedef struct {
        char *path;
        char *before; /* the file as loaded; NULL when there was none */
        gsize before_len;
        GHashTable *names; /* the links listed: those an interrupted run was creating */
} VmnetPending;

VmnetPending *vmnet_pending_load(const char *plan_name, const char *netns, GError **error);
/* Lists names too, before a run creates them. */
gboolean vmnet_pending_add(VmnetPending *pending, const GPtrArray *names, GError **error);
/*
 * After the run: when every step stands (or was undone), what it created has
 * its mark (or is gone) and the list goes (or is put back as loaded);
 * otherwise it stays, naming links a failed rollback left.
 */
gboolean vmnet_pending_done(VmnetPending *pending, gboolean settled, gboolean undone,
                            GError **error);
void vmnet_pending_free(VmnetPending *pending);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetPending, vmnet_pending_free)

/*
 * Unplugs of running guests' interfaces that vmnet requested and the guest
 * had not acknowledged (a live detach only asks the guest OS; a guest
 * without one never answers), listed in the run directory:
 *   $(runstatedir)/vmnet/[netns-<ns>/]<plan>.unplugs
 * Each is the domain, the interface's MAC, the domain's id when asked (a
 * restarted guest has another id, and the interface is gone from it) and
 * the time. While the same running guest still has the interface, vmnet
 * does not ask again on every run: plan, apply and status say it is
 * pending, doctor too. Under /run: guests do not outlive a reboot.
 */
typedef struct {
        char *path;
        GKeyFile *kf;
} VmnetUnplugs;

VmnetUnplugs *vmnet_unplugs_load(const char *plan_name, const char *netns, GError **error);
/* When the unplug of domain's (running as id) interface mac was requested; 0 when not recorded. */
gint64 vmnet_unplugs_requested(const VmnetUnplugs *u, const char *domain, const char *mac,
                               guint id);
/* Records (or keeps the earlier time of) a request; vmnet_unplugs_save() writes it. */
void vmnet_unplugs_note(VmnetUnplugs *u, const char *domain, const char *mac, guint id,
                        gint64 when);
/* Drops the records keep(domain, mac, id, data) says are over (the guest released it, restarted). */
void vmnet_unplugs_prune(VmnetUnplugs *u,
                         gboolean (*keep)(const char *domain, const char *mac, guint id,
                                          gpointer data),
                         gpointer data);
/* Calls fn for each record. */
void vmnet_unplugs_foreach(const VmnetUnplugs *u,
                           void (*fn)(const char *domain, const char *mac, guint id,
                                      gint64 requested, gpointer data),
                           gpointer data);
/* Writes the list (removes the file when it is empty). */
gboolean vmnet_unplugs_save(VmnetUnplugs *u, GError **error);
void vmnet_unplugs_free(VmnetUnplugs *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetUnplugs, vmnet_unplugs_free)
