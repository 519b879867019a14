/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "apply/context.h"
#include "backend/netlink/netlink.h"

/* --- bond-enslave / bond-release: a NIC in one of vmnet's bonds --------------------- */

static char *member_describe(const VmnetAction *a)
{
        const VmnetBondMemberSpec *s = a->data;

        if (a->type == &vmnet_action_type_bond_enslave)
                return vmnet_action_tag_impact(a, g_strdup_printf("enslave %s to bond %s",
                                                                  s->member, s->bond));
        return vmnet_action_tag_impact(a, g_strdup_printf("release %s from bond %s%s", s->member,
                                                          s->bond, s->up ? " (up again)" : ""));
}

static gboolean member_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetBondMemberSpec *s = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);
        gboolean enslave = a->type == &vmnet_action_type_bond_enslave;

        return sk && vmnet_nl_bond_member(sk, s->member, enslave ? s->bond : NULL, s->up, error);
}

static VmnetAction *member_invert(const VmnetAction *a)
{
        const VmnetBondMemberSpec *s = a->data;

        return vmnet_action_bond_member(s->member, s->bond, s->up,
                                        a->type != &vmnet_action_type_bond_enslave, a->impact);
}

static void member_free(gpointer p)
{
        VmnetBondMemberSpec *s = p;

        g_free(s->member);
        g_free(s->bond);
        g_free(s);
}

const VmnetActionType vmnet_action_type_bond_enslave = {
        .name = "bond-enslave",
        .describe = member_describe,
        .execute = member_execute,
        .invert = member_invert,
        .free_data = member_free,
};

const VmnetActionType vmnet_action_type_bond_release = {
        .name = "bond-release",
        .describe = member_describe,
        .execute = member_execute,
        .invert = member_invert,
        .free_data = member_free,
};

VmnetAction *vmnet_action_bond_member(const char *member, const char *bond, gboolean was_up,
                                      gboolean enslave, VmnetImpact impact)
{
        VmnetBondMemberSpec *s = g_new0(VmnetBondMemberSpec, 1);

        s->member = g_strdup(member);
        s->bond = g_strdup(bond);
        s->up = was_up;
        return vmnet_action_new(enslave ? &vmnet_action_type_bond_enslave :
                                          &vmnet_action_type_bond_release,
                                impact, g_strdup_printf("bond member %s", member), s);
}
