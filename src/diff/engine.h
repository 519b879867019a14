/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The reconcile engine: observe the host once, diff every part (links,
 * addresses, routes, sysctls; the nftables table; libvirt) against the plan
 * into one ordered list of actions, and record what an apply did.
 *
 * Each part has its own observe/diff under src/observe and src/diff; this
 * file only puts them in order, so a new part is one more call here.
 */

#include "apply/apply.h"
#include "apply/context.h"
#include "backend/nftables/nft.h"
#include "apply/state.h"
#include "diff/links.h"
#include "model/model.h"
#include "ipam/ipam.h"
#include "observe/host.h"
#include "backend/libvirt/libvirt.h"

typedef struct {
        char *plan_name;
        char *plan_file;             /* absolute path, for the state file; NULL for stdin */
        char *netns;                 /* NULL: the process's own namespace */
        VmnetHost *host;
        VmnetNftObserved *nft;
        VmnetNftSnapshot *nft_snap;  /* the table as it was, for rollback */
        VmnetState *state;
        VmnetForeignState *foreign;  /* what vmnet changed on objects it does not own */
        VmnetPending *pending;       /* links an interrupted run was creating */
        VmnetLibvirtHost *virt;      /* NULL when libvirt is not used (no connection) */
        VmnetIpam *ipam;             /* set by vmnet_engine_diff() */
        VmnetUnplugs *unplugs;       /* unplugs requested that guests had not acknowledged */
        GPtrArray *held;             /* char*: what the diff did not ask again, and why */
} VmnetObserved;

void vmnet_observed_free(VmnetObserved *obs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetObserved, vmnet_observed_free)

/*
 * Opens ctx->virt when this run manages libvirt: with an explicit URI, or by
 * default (qemu:///system) when not working inside a network namespace (the
 * system's libvirt cannot see a namespace's bridges). no_libvirt skips it.
 */
gboolean vmnet_engine_connect_libvirt(VmnetApplyCtx *ctx, const char *uri, const char *netns,
                                      gboolean no_libvirt, GError **error);

/* Reads the host (through ctx's sockets) and vmnet's state for plan_name. Caller frees. */
VmnetObserved *vmnet_engine_observe(VmnetApplyCtx *ctx, const char *plan_name, const char *netns,
                                    GError **error);

/*
 * The address of every guest interface of plan, as apply keeps it: the
 * plan's, or vmnet's allocations (recorded in state, or in the state of
 * plan in netns when state is NULL), never one a live lease of dnsmasq's
 * holds for another MAC (vmnet_ipam_assign_full() now). The one
 * computation behind the DHCP hosts and the addresses table bridge vmnet
 * binds to guest ports, for apply, doctor and `render --nft` alike. *out is
 * the caller's.
 */
gboolean vmnet_engine_ipam(const VmnetPlan *plan, VmnetState *state, const char *netns,
                           VmnetIpam **out, GError **error);

/*
 * What a first apply would allocate: no record, no leases. For output that
 * must not fail when the record cannot be read (render, tests).
 */
gboolean vmnet_engine_ipam_fresh(const VmnetPlan *plan, VmnetIpam **out, GError **error);

/*
 * Appends the actions that make the host match plan, in execution order.
 * Warnings (things vmnet cannot fix, such as another table's drop policy)
 * go to warnings. An empty list means the host already matches.
 */
gboolean vmnet_engine_diff(const VmnetPlan *plan, VmnetObserved *obs, GPtrArray *actions,
                           VmnetDiags *warnings, GError **error);

/* Appends the actions that remove what vmnet made for the plan and undo its foreign changes. */
gboolean vmnet_engine_diff_destroy(VmnetObserved *obs, GPtrArray *actions, VmnetDiags *warnings,
                                   GError **error);

/*
 * The write-ahead record (apply/state.h): records in the state the foreign
 * changes the actions make (for an apply), the plan, and the transaction
 * (the steps about to run), and writes it durably. Nothing may change
 * before this has returned TRUE.
 */
gboolean vmnet_engine_record_ahead(VmnetObserved *obs, const GPtrArray *actions,
                                   gboolean destroy, GError **error);

/*
 * After an apply (or destroy), the host must match: observes it again and
 * diffs. Anything left is an error naming it, except an interface unplug the
 * guest has not acknowledged yet, which is a warning. Returns the new
 * observation (caller frees) or NULL with error set.
 */
VmnetObserved *vmnet_engine_verify(VmnetApplyCtx *ctx, const VmnetPlan *plan, const char *netns,
                                   gboolean destroyed, VmnetDiags *warnings, GError **error);

/* What a run of plan, apply or destroy needs to know, from the CLI or the Ansible module. */
typedef struct {
        gboolean destroy;    /* remove what the plan made, instead of applying it */
        const char *netns;   /* NULL: the process's own namespace */
        const char *connect; /* libvirt URI, NULL: the default (see vmnet_engine_connect_libvirt) */
        gboolean no_libvirt;
        guint wait;          /* seconds to wait for the lock */
        gboolean force;      /* destroy even what others' guests and networks use */
        guint unplug_timeout; /* seconds a replug waits for the guest (0: the default) */
        gboolean check;      /* only report: prepare writes nothing either */
} VmnetRunOpts;

/* A run in progress: the open sockets, the lock, what was observed and the actions. */
typedef struct {
        VmnetApplyCtx ctx;
        int lock;            /* -1 when not held */
        VmnetObserved *obs;
        VmnetObserved *after; /* after commit: the host as verified */
        GPtrArray *actions;
        VmnetDiags *warnings;
} VmnetRun;

void vmnet_run_clear(VmnetRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VmnetRun, vmnet_run_clear)

/*
 * The first half of a run: enters the namespace, takes the lock (even a
 * check does: a plan made while another apply runs would be stale), opens
 * the sockets and libvirt, observes, diffs, and adds the warnings about
 * other tables. run must be zero-initialised (g_auto(VmnetRun) run = { .lock = -1 }).
 * Unless opts->check, a run killed after its last step (the host as its
 * record says, nothing left to do) has its record closed here: there will
 * be no commit to do it.
 */
gboolean vmnet_engine_prepare(VmnetRun *run, const VmnetPlan *plan, const VmnetRunOpts *opts,
                              GError **error);

/*
 * The second half: writes the record ahead (vmnet_engine_record_ahead),
 * executes the actions, and closes the record (rolling back if a step, a
 * signal between steps or the closing write fails, and then putting the
 * state file back), and verifies the host. *executed says whether the
 * actions ran and stayed (so a later failure is of verify, or of removing
 * the state after a destroy).
 */
gboolean vmnet_engine_commit(VmnetRun *run, const VmnetPlan *plan, const VmnetRunOpts *opts,
                             VmnetApplyProgress progress, gpointer progress_data,
                             gboolean *executed, GError **error);

/* Adds warnings about other nftables tables that may drop what vmnet accepts (field notes 1-3). */
void vmnet_engine_warn_foreign_drops(VmnetApplyCtx *ctx, VmnetDiags *warnings);
