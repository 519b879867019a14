/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "actions/nft.h"
#include "apply/context.h"
#include "backend/nftables/nft.h"
#include "backend/nftables/review.h"

/*
 * The nftables actions. There is only ever one object, table inet vmnet
 * with table bridge vmnet beside it (src/backend/nftables/nft.c handles both as one),
 * and every change to it is one transaction, so the undo of any of them is
 * simply "put back the table the diff saw": the snapshot taken before
 * anything changed, shared (by reference) between an action and its inverse.
 */

typedef struct {
        VmnetNftIr *ir;          /* nft-replace only */
        VmnetNftSnapshot *snap;  /* before (replace, delete) or what to restore; may be NULL */
} NftData;

static void nft_data_free(gpointer p)
{
        NftData *d = p;

        vmnet_nft_ir_free(d->ir);
        vmnet_nft_snapshot_unref(d->snap);
        g_free(d);
}

static struct mnl_socket *ctx_nft(VmnetApplyCtx *ctx, GError **error)
{
        if (!ctx->nft)
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "no netfilter netlink socket (apply context not opened)");
        return ctx->nft;
}

static void count_ir(const VmnetNftIr *ir, guint *elements, guint *rules)
{
        *elements = 0;
        *rules = 0;
        for (guint i = 0; i < ir->sets->len; i++)
                *elements += vmnet_nft_set_n_elements(g_ptr_array_index(ir->sets, i));
        for (guint i = 0; i < ir->chains->len; i++)
                *rules += ((VmnetNftChain *)g_ptr_array_index(ir->chains, i))->rules->len;
}

/* --- nft-replace --- */

/* "table inet vmnet (2 sets with 4 elements, 3 chains, 12 rules)" */
static void describe_ir(GString *out, const VmnetNftIr *ir)
{
        guint elements, rules;

        count_ir(ir, &elements, &rules);
        g_string_append_printf(out, "table %s %s (%u set%s with %u element%s, %u chain%s, %u rule%s)",
                               vmnet_nft_family_name(ir->family), VMNET_NFT_TABLE, ir->sets->len,
                               ir->sets->len == 1 ? "" : "s", elements, elements == 1 ? "" : "s",
                               ir->chains->len, ir->chains->len == 1 ? "" : "s", rules,
                               rules == 1 ? "" : "s");
}

static char *replace_describe(const VmnetAction *a)
{
        const NftData *d = a->data;
        GString *out = g_string_new("replace ");

        describe_ir(out, d->ir);
        if (d->ir->bridge) {
                g_string_append(out, " and ");
                describe_ir(out, d->ir->bridge);
        }
        return vmnet_action_tag_impact(a, g_string_free(out, FALSE));
}

static gboolean replace_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const NftData *d = a->data;
        struct mnl_socket *nl = ctx_nft(ctx, error);

        return nl && vmnet_nft_replace(nl, d->ir, d->snap && !vmnet_nft_snapshot_exists(d->snap),
                                       error);
}

static VmnetAction *replace_invert(const VmnetAction *a)
{
        const NftData *d = a->data;

        if (!d->snap)
                return NULL;
        if (!vmnet_nft_snapshot_exists(d->snap))
                return vmnet_action_nft_delete_new(NULL);
        return vmnet_action_nft_restore_new(d->snap);
}

const VmnetActionType vmnet_action_type_nft_replace = {
        .name = "nft-replace",
        .describe = replace_describe,
        .execute = replace_execute,
        .invert = replace_invert,
        .free_data = nft_data_free,
};

/* --- nft-delete --- */

static char *delete_describe(const VmnetAction *a)
{
        const NftData *d = a->data;

        if (d->snap && vmnet_nft_snapshot_n_bridge_rules(d->snap) >= 0)
                return vmnet_action_tag_impact(a, g_strdup("delete table inet " VMNET_NFT_TABLE
                                                           " and table bridge " VMNET_NFT_TABLE));
        return vmnet_action_tag_impact(a, g_strdup("delete table inet " VMNET_NFT_TABLE));
}

static gboolean delete_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        struct mnl_socket *nl = ctx_nft(ctx, error);

        return nl && vmnet_nft_delete_table(nl, error);
}

static VmnetAction *delete_invert(const VmnetAction *a)
{
        const NftData *d = a->data;

        if (!d->snap || !vmnet_nft_snapshot_exists(d->snap))
                return NULL;
        return vmnet_action_nft_restore_new(d->snap);
}

const VmnetActionType vmnet_action_type_nft_delete = {
        .name = "nft-delete",
        .describe = delete_describe,
        .execute = delete_execute,
        .invert = delete_invert,
        .free_data = nft_data_free,
};

/* --- nft-restore --- */

static char *restore_describe(const VmnetAction *a)
{
        const NftData *d = a->data;
        guint rules = vmnet_nft_snapshot_n_rules(d->snap);
        int bridge = vmnet_nft_snapshot_n_bridge_rules(d->snap);

        if (!vmnet_nft_snapshot_exists(d->snap))
                return vmnet_action_tag_impact(
                        a, g_strdup("restore table inet " VMNET_NFT_TABLE
                                    " to its earlier state: absent"));
        if (bridge >= 0)
                return vmnet_action_tag_impact(
                        a, g_strdup_printf("restore table inet %s to its earlier state (%u rule%s; "
                                           "table bridge %s: %d rule%s)",
                                           VMNET_NFT_TABLE, rules, rules == 1 ? "" : "s",
                                           VMNET_NFT_TABLE, bridge, bridge == 1 ? "" : "s"));
        return vmnet_action_tag_impact(
                a, g_strdup_printf("restore table inet %s to its earlier state (%u rule%s)",
                                   VMNET_NFT_TABLE, rules, rules == 1 ? "" : "s"));
}

static gboolean restore_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const NftData *d = a->data;
        struct mnl_socket *nl = ctx_nft(ctx, error);

        return nl && vmnet_nft_restore(nl, d->snap, error);
}

const VmnetActionType vmnet_action_type_nft_restore = {
        .name = "nft-restore",
        .describe = restore_describe,
        .execute = restore_execute,
        .invert = NULL,
        .free_data = nft_data_free,
};

static VmnetAction *nft_action(const VmnetActionType *type, VmnetNftIr *ir,
                               VmnetNftSnapshot *snap, VmnetImpact impact)
{
        NftData *d = g_new0(NftData, 1);

        d->ir = ir;
        d->snap = vmnet_nft_snapshot_ref(snap);
        return vmnet_action_new(type, impact, g_strdup("table inet " VMNET_NFT_TABLE), d);
}

VmnetAction *vmnet_action_nft_replace_new(VmnetNftIr *ir, VmnetNftSnapshot *before)
{
        g_return_val_if_fail(ir != NULL, NULL);
        return nft_action(&vmnet_action_type_nft_replace, ir, before, VMNET_IMPACT_SAFE);
}

VmnetAction *vmnet_action_nft_delete_new(VmnetNftSnapshot *before)
{
        return nft_action(&vmnet_action_type_nft_delete, NULL, before, VMNET_IMPACT_DISRUPTIVE);
}

VmnetAction *vmnet_action_nft_restore_new(VmnetNftSnapshot *snap)
{
        g_return_val_if_fail(snap != NULL, NULL);
        return nft_action(&vmnet_action_type_nft_restore, NULL, snap, VMNET_IMPACT_SAFE);
}

GPtrArray *vmnet_action_nft_changes(const VmnetAction *a)
{
        const NftData *d = a->data;
        g_autofree char *after = NULL;

        if (a->type != &vmnet_action_type_nft_replace)
                return NULL;
        after = vmnet_nft_ir_digest(d->ir);
        return vmnet_nft_review_diff(d->snap ? vmnet_nft_snapshot_digest(d->snap) : "", after,
                                     d->ir);
}
