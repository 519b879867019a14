/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "actions/mirror.h"
#include "backend/netlink/netlink.h"
#include "backend/netlink/tc.h"
#include "model/model.h"

typedef struct {
        char *port;
        char *port_desc;
        guint direction;
        char *to;     /* NULL: remove */
        char *to_desc;
        char *old_to; /* NULL: there was none */
} Mirror;

static char *describe(const VmnetAction *a)
{
        const Mirror *m = a->data;
        const char *dir = vmnet_mirror_dir_to_string(m->direction);

        if (!m->to)
                return vmnet_action_tag_impact(a, g_strdup_printf("remove %s mirror of port %s%s%s%s "
                                                                  "(to %s)",
                                                                  dir, m->port,
                                                                  m->port_desc ? " (" : "",
                                                                  m->port_desc ? m->port_desc : "",
                                                                  m->port_desc ? ")" : "",
                                                                  m->old_to ? m->old_to : "a link gone"));
        return vmnet_action_tag_impact(a, g_strdup_printf("mirror %s of port %s%s%s%s to %s%s%s%s%s%s%s",
                                                          dir, m->port, m->port_desc ? " (" : "",
                                                          m->port_desc ? m->port_desc : "",
                                                          m->port_desc ? ")" : "", m->to,
                                                          m->to_desc ? " (" : "",
                                                          m->to_desc ? m->to_desc : "",
                                                          m->to_desc ? ")" : "",
                                                          m->old_to ? " (was to " : "",
                                                          m->old_to ? m->old_to : "",
                                                          m->old_to ? ")" : ""));
}

static gboolean execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const Mirror *m = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);
        gboolean exists = FALSE;

        if (!sk || !vmnet_nl_link_exists(sk, m->port, &exists, error))
                return FALSE;
        /* Gone since the host was read: the guest stopped, its filters went with its tap. */
        if (!exists)
                return TRUE;
        if (!m->to)
                return vmnet_tc_mirror_del(sk, m->port, m->direction, error);
        return vmnet_tc_mirror_add(sk, m->port, m->direction, m->to, error);
}

static VmnetAction *invert(const VmnetAction *a)
{
        const Mirror *m = a->data;

        if (!m->to && !m->old_to)
                return NULL;
        return vmnet_action_port_mirror(m->port, m->port_desc, m->direction, m->old_to, NULL,
                                        m->to);
}

static void free_data(gpointer data)
{
        Mirror *m = data;

        g_free(m->port);
        g_free(m->port_desc);
        g_free(m->to);
        g_free(m->to_desc);
        g_free(m->old_to);
        g_free(m);
}

const VmnetActionType vmnet_action_type_port_mirror_set = {
        .name = "port-mirror-set",
        .describe = describe,
        .execute = execute,
        .invert = invert,
        .free_data = free_data,
};

const VmnetActionType vmnet_action_type_port_mirror_del = {
        .name = "port-mirror-del",
        .describe = describe,
        .execute = execute,
        .invert = invert,
        .free_data = free_data,
};

VmnetAction *vmnet_action_port_mirror(const char *port, const char *port_desc, guint direction,
                                      const char *to, const char *to_desc, const char *old_to)
{
        Mirror *m = g_new0(Mirror, 1);

        m->port = g_strdup(port);
        m->port_desc = g_strdup(port_desc);
        m->direction = direction;
        m->to = g_strdup(to);
        m->to_desc = g_strdup(to_desc);
        m->old_to = g_strdup(old_to);
        return vmnet_action_new(to ? &vmnet_action_type_port_mirror_set
                                   : &vmnet_action_type_port_mirror_del,
                                VMNET_IMPACT_SAFE, g_strdup_printf("link %s", port), m);
}
