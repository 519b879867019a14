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
 * An apply writes the record of what it changes ahead of the change, while
 * its steps run (vmnet_state_save_begin), and puts the file back as it was
 * loaded if the apply is undone (vmnet_state_put_back).
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
gboolean vmnet_state_save(VmnetState *state, GError **error);

/*
 * The same save, in a thread of its own: the fsyncs overlap the caller's
 * work. What is saved is the key file as it is now. _finish waits for the
 * write and reports it (it may be called again: it returns the same); the
 * write is waited for when it is freed too.
 */
typedef struct VmnetStateWrite VmnetStateWrite;
VmnetStateWrite *vmnet_state_save_begin(const VmnetState *state);
gboolean vmnet_state_save_finish(VmnetStateWrite *w, GError **error);
void vmnet_state_write_free(VmnetStateWrite *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetStateWrite, vmnet_state_write_free)

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
