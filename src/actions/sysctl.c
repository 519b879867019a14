/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "apply/context.h"
#include "backend/netlink/netlink.h"

static char *sysctl_describe(const VmnetAction *a)
{
        const VmnetSysctlSet *s = a->data;

        return vmnet_action_tag_impact(a, g_strdup_printf("set sysctl %s = %s (was %s)", s->key,
                                                          s->value, s->old ? s->old : "unset"));
}

static gboolean sysctl_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetSysctlSet *s = a->data;

        /* /proc/sys/net follows the calling thread's network namespace, like ctx->nl. */
        return vmnet_sysctl_write(s->key, s->value, error);
}

static VmnetAction *sysctl_invert(const VmnetAction *a)
{
        const VmnetSysctlSet *s = a->data;

        if (!s->old)
                return NULL;
        return vmnet_action_sysctl(s->key, s->old, s->value, a->impact);
}

static void sysctl_free(gpointer p)
{
        VmnetSysctlSet *s = p;

        g_free(s->key);
        g_free(s->value);
        g_free(s->old);
        g_free(s);
}

const VmnetActionType vmnet_action_type_sysctl_set = {
        .name = "sysctl-set",
        .describe = sysctl_describe,
        .execute = sysctl_execute,
        .invert = sysctl_invert,
        .free_data = sysctl_free,
};

VmnetAction *vmnet_action_sysctl(const char *key, const char *value, const char *old,
                                 VmnetImpact impact)
{
        VmnetSysctlSet *s = g_new0(VmnetSysctlSet, 1);

        s->key = g_strdup(key);
        s->value = g_strdup(value);
        s->old = g_strdup(old);
        return vmnet_action_new(&vmnet_action_type_sysctl_set, impact,
                                g_strdup_printf("sysctl %s", key), s);
}
