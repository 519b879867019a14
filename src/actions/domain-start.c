/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/libvirt.h"
#include "apply/context.h"
#include "backend/libvirt/libvirt.h"
#include "util/autoptr.h"

/*
 * Starts a plan's domain whose autostart failed on vmnet's missing bridge
 * (diff/guest-starts.h), once the bridge is back; the inverse (a rollback)
 * stops it again, as it was.
 */

typedef struct {
        char *domain;
        char *bridge; /* the bridge it needed, for humans */
        gboolean stop;
} DomainStart;

static char *start_describe(const VmnetAction *a)
{
        const DomainStart *d = a->data;

        if (d->stop)
                return g_strdup_printf("stop domain %s again", d->domain);
        return g_strdup_printf("start domain %s (autostarted, its start failed while vmnet's "
                               "bridge %s was missing)",
                               d->domain, d->bridge);
}

static gboolean start_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const DomainStart *d = a->data;
        g_autoptr(VmnetVirDomain) dom = NULL;
        int active;

        if (!(dom = vmnet_action_ctx_domain(ctx, d->domain, error)))
                return FALSE;
        active = vmnet_libvirt_domain_is_active(dom);
        /* Already as wanted (someone was quicker): nothing to do. */
        if (active == (d->stop ? 0 : 1))
                return TRUE;
        return d->stop ? vmnet_libvirt_domain_stop(dom, error)
                       : vmnet_libvirt_domain_start(dom, error);
}

static VmnetAction *start_new(const char *domain, const char *bridge, gboolean stop);

static VmnetAction *start_invert(const VmnetAction *a)
{
        const DomainStart *d = a->data;

        return start_new(d->domain, d->bridge, !d->stop);
}

static void start_free(gpointer data)
{
        DomainStart *d = data;

        g_free(d->domain);
        g_free(d->bridge);
        g_free(d);
}

static const VmnetActionType start_type = {
        .name = "domain-start",
        .describe = start_describe,
        .execute = start_execute,
        .invert = start_invert,
        .free_data = start_free,
};

static VmnetAction *start_new(const char *domain, const char *bridge, gboolean stop)
{
        DomainStart *d = g_new0(DomainStart, 1);

        d->domain = g_strdup(domain);
        d->bridge = g_strdup(bridge);
        d->stop = stop;
        return vmnet_action_new(&start_type, stop ? VMNET_IMPACT_DISRUPTIVE : VMNET_IMPACT_SAFE,
                                g_strdup_printf("domain %s", domain), d);
}

VmnetAction *vmnet_action_domain_start(const char *domain, const char *bridge)
{
        return start_new(domain, bridge, FALSE);
}
