/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Desired kernel links (bridges, 802.1Q uplinks, enslaved uplinks, host
 * addresses, static routes, forwarding sysctls) derived from a plan, diffed
 * against the observed host into an ordered list of actions
 * (src/actions/kernel.h). Pure: no I/O.
 *
 * Ownership: every link vmnet creates carries the alias "vmnet:<plan name>".
 * Only what the plan sets is compared (an unset MTU never produces an
 * action), so applying the same plan twice yields no action the second time.
 *
 * Links vmnet does not own but changes (an uplink enslaved to a bridge, its
 * MTU, an adopted bridge's alias, sysctls, addresses migrated to a bridge)
 * are "foreign changes": their original values are kept in a
 * VmnetForeignState, persisted between runs by the caller, so that removing
 * a network or destroying the plan restores them.
 */

#include <glib.h>

#include "model/model.h"
#include "observe/host.h"
#include "util/error.h"

#define VMNET_ALIAS_PREFIX "vmnet:"

/* "vmnet:<plan_name>". Caller frees. */
char *vmnet_link_alias_for_plan(const char *plan_name);

/* One original value vmnet changed on an object it does not own. */
typedef struct {
        char *object; /* link name, or sysctl key */
        char *attr;   /* "master", "mtu", "alias", "sysctl", "migrated", or "bond" (a member:
                       * value "up"/"down", what it was) */
        /* The value to put back (NULL = none: no master, no alias); for
         * "migrated", the bridge that now holds object's addresses. */
        char *value;
} VmnetForeignChange;

typedef struct {
        GPtrArray *changes; /* VmnetForeignChange*, in the order they were made */
        /* private: "object\nattr" -> its VmnetForeignChange*, for the look-ups */
        GHashTable *index;
        /*
         * Not persisted with the changes: links a run of this plan was creating
         * when it was interrupted (VmnetPending). Such a link without an alias is
         * vmnet's, and gets its mark. NULL: none.
         */
        GHashTable *interrupted;
} VmnetForeignState;

VmnetForeignState *vmnet_foreign_state_new(void);
void vmnet_foreign_state_free(VmnetForeignState *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetForeignState, vmnet_foreign_state_free)

/* Borrowed; NULL when nothing is recorded for that object and attribute. */
const VmnetForeignChange *vmnet_foreign_state_find(const VmnetForeignState *st,
                                                   const char *object, const char *attr);
/* Adds or replaces a record. */
void vmnet_foreign_state_set(VmnetForeignState *st, const char *object, const char *attr,
                             const char *value);
void vmnet_foreign_state_remove(VmnetForeignState *st, const char *object, const char *attr);

/*
 * Updates st after the actions in executed (VmnetAction*, in execution
 * order) all succeeded: a first change of a foreign value records the
 * original; a change back to the recorded original forgets it; a later
 * change keeps the first original.
 */
void vmnet_foreign_state_record(VmnetForeignState *st, const GPtrArray *executed);

/*
 * Persistence: one group "foreign-change N" per record (keys object, attr,
 * and value when there is one). to_keyfile replaces the groups it wrote
 * before and leaves every other group of kf alone.
 */
void vmnet_foreign_state_to_keyfile(const VmnetForeignState *st, GKeyFile *kf);
/* Caller frees. */
VmnetForeignState *vmnet_foreign_state_from_keyfile(GKeyFile *kf, GError **error);

/*
 * Appends to actions (a vmnet_action_list_new() array) what turns host into
 * what plan (validated, finalized) describes: deletions bottom-up first,
 * then creations and changes top-down (bridges, uplink MTUs, vlans, ports,
 * addresses, routes, sysctls). recorded may be NULL (nothing recorded);
 * warnings may be NULL.
 *
 * Fails with VMNET_ERROR_CONFLICT when a name the plan needs is taken by a
 * link vmnet does not own (and the network does not say adopt="yes"),
 * VMNET_ERROR_NOT_FOUND when an uplink device is missing, and
 * VMNET_ERROR_INVALID when enslaving an uplink would strand the host's
 * addresses without migrate-addresses="yes". On failure actions is left as
 * it was.
 */
gboolean vmnet_diff_links(const VmnetPlan *plan, const VmnetHost *host,
                          const VmnetForeignState *recorded, GPtrArray *actions,
                          VmnetDiags *warnings, GError **error);

/*
 * The actions removing everything that carries plan_name's alias and
 * undoing the recorded foreign changes (addresses moved back, uplinks
 * released, MTUs, aliases and sysctls restored).
 */
gboolean vmnet_diff_links_destroy(const char *plan_name, const VmnetHost *host,
                                  const VmnetForeignState *recorded, GPtrArray *actions,
                                  VmnetDiags *warnings, GError **error);
