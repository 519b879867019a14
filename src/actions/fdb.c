/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "apply/context.h"
#include "backend/netlink/netlink.h"

/* --- fdb-add / fdb-del: a VXLAN link's flood list (head-end replication) ------------ */

static char *fdb_describe(const VmnetAction *a)
{
        const VmnetFdbSpec *s = a->data;
        g_autofree char *d = vmnet_addr_to_string(&s->dst);
        gboolean add = a->type == &vmnet_action_type_fdb_add;

        return vmnet_action_tag_impact(a, g_strdup_printf("%s flood entry 00:00:00:00:00:00 "
                                                          "dst %s %s %s",
                                                          add ? "add" : "remove", d,
                                                          add ? "to" : "from", s->link));
}

static gboolean fdb_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetFdbSpec *s = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);
        gboolean add = a->type == &vmnet_action_type_fdb_add;
        gboolean exists = FALSE;

        if (!sk)
                return FALSE;
        /* A removal from a link already gone is done: rollback and re-runs stay idempotent. */
        if (!add && (!vmnet_nl_link_exists(sk, s->link, &exists, error) || !exists))
                return !exists && !(error && *error);
        return vmnet_nl_fdb_flood(sk, s->link, &s->dst, add, error);
}

static VmnetAction *fdb_invert(const VmnetAction *a)
{
        const VmnetFdbSpec *s = a->data;

        return vmnet_action_fdb(s->link, &s->dst, a->type != &vmnet_action_type_fdb_add,
                                a->impact);
}

static void fdb_free(gpointer p)
{
        VmnetFdbSpec *s = p;

        g_free(s->link);
        g_free(s);
}

const VmnetActionType vmnet_action_type_fdb_add = {
        .name = "fdb-add",
        .describe = fdb_describe,
        .execute = fdb_execute,
        .invert = fdb_invert,
        .free_data = fdb_free,
};

const VmnetActionType vmnet_action_type_fdb_del = {
        .name = "fdb-del",
        .describe = fdb_describe,
        .execute = fdb_execute,
        .invert = fdb_invert,
        .free_data = fdb_free,
};

VmnetAction *vmnet_action_fdb(const char *link, const VmnetAddr *dst, gboolean add,
                              VmnetImpact impact)
{
        VmnetFdbSpec *s = g_new0(VmnetFdbSpec, 1);
        g_autofree char *d = vmnet_addr_to_string(dst);

        s->link = g_strdup(link);
        s->dst = *dst;
        return vmnet_action_new(add ? &vmnet_action_type_fdb_add : &vmnet_action_type_fdb_del,
                                impact, g_strdup_printf("flood entry %s on %s", d, link), s);
}
