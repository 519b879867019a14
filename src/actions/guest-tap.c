/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "backend/netlink/netlink.h"

/*
 * A running guest's tap plugged back into the bridge of its libvirt
 * network (diff/guest-taps.c). libvirt plugs a tap only when the guest
 * starts or its interface is attached or updated; a bridge deleted under
 * the guest (by hand, a reboot, a destroy and apply) comes back without its
 * ports, and only this puts them back. On a VLAN-aware bridge the port also
 * goes into its VLAN, as libvirt's own plug would (vmnet's network hook).
 */

typedef struct {
        char *tap;
        char *bridge;
        char *old_master; /* NULL: on no bridge */
        char *domain;     /* for humans */
        char *mac;
        VmnetPortVlans vlans; /* empty: no VLAN to join */
} TapPlug;

static char *plug_describe(const VmnetAction *a)
{
        const TapPlug *p = a->data;
        g_autofree char *vlan = vmnet_port_vlans_placed(&p->vlans);

        if (!p->bridge)
                return vmnet_action_tag_impact(a, g_strdup_printf("release tap %s of domain %s "
                                                                  "(interface %s) from %s",
                                                                  p->tap, p->domain, p->mac,
                                                                  p->old_master));
        return vmnet_action_tag_impact(a, g_strdup_printf("plug tap %s of domain %s (interface %s) "
                                                          "into bridge %s%s%s%s%s",
                                                          p->tap, p->domain, p->mac, p->bridge,
                                                          p->old_master ? " (was on " : "",
                                                          p->old_master ? p->old_master : "",
                                                          p->old_master ? ")" : "", vlan));
}

static gboolean plug_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const TapPlug *p = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);
        gboolean exists = FALSE;

        if (!sk || !vmnet_nl_link_exists(sk, p->tap, &exists, error))
                return FALSE;
        /* Gone since the host was read: the guest stopped or its interface was unplugged. */
        if (!exists)
                return TRUE;
        if (!vmnet_nl_link_set_master(sk, p->tap, p->bridge, error))
                return FALSE;
        if (p->bridge && !vmnet_port_vlans_is_empty(&p->vlans) &&
            !vmnet_nl_guest_port_vlans(sk, p->tap, &p->vlans, error)) {
                g_prefix_error(error, "tap %s of domain %s: ", p->tap, p->domain);
                return FALSE;
        }
        return TRUE;
}

static VmnetAction *plug_invert(const VmnetAction *a)
{
        const TapPlug *p = a->data;

        return vmnet_action_guest_tap_plug(p->tap, p->old_master, p->bridge, p->domain, p->mac,
                                           NULL);
}

static void plug_free(gpointer data)
{
        TapPlug *p = data;

        g_free(p->tap);
        g_free(p->bridge);
        g_free(p->old_master);
        g_free(p->domain);
        g_free(p->mac);
        g_free(p);
}

const VmnetActionType vmnet_action_type_guest_tap_plug = {
        .name = "guest-tap-plug",
        .describe = plug_describe,
        .execute = plug_execute,
        .invert = plug_invert,
        .free_data = plug_free,
};

VmnetAction *vmnet_action_guest_tap_plug(const char *tap, const char *bridge,
                                         const char *old_master, const char *domain,
                                         const char *mac, const VmnetPortVlans *vlans)
{
        TapPlug *p = g_new0(TapPlug, 1);

        p->tap = g_strdup(tap);
        p->bridge = g_strdup(bridge);
        p->old_master = g_strdup(old_master);
        p->domain = g_strdup(domain);
        p->mac = g_strdup(mac);
        if (vlans)
                p->vlans = *vlans;
        return vmnet_action_new(&vmnet_action_type_guest_tap_plug, VMNET_IMPACT_SAFE,
                                g_strdup_printf("link %s", tap), p);
}
