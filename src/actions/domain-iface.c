/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libvirt/virterror.h>

#include "actions/kernel.h"
#include "actions/libvirt.h"
#include "apply/context.h"
#include "apply/netlink.h"
#include "observe/libvirt.h"
#include "util/mutant.h"

/*
 * Guest interface actions: virDomainAttachDeviceFlags,
 * virDomainDetachDeviceFlags and virDomainUpdateDeviceFlags with
 * VIR_DOMAIN_AFFECT_LIVE (the running guest) and/or
 * VIR_DOMAIN_AFFECT_CONFIG (its persistent definition). libvirt finds the
 * interface to detach or update by its MAC (and PCI address and alias when
 * given). An update can change the source network, the port group and the
 * bandwidth of a running guest (qemu driver qemuDomainChangeNet()); the
 * model, the driver queues and the MTU cannot change live, so the diff
 * replaces such an interface by a detach and an attach.
 */

typedef enum {
        IFACE_ATTACH,
        IFACE_DETACH,
        IFACE_UPDATE,
} IfaceOp;

typedef struct {
        IfaceOp op;
        char *domain;
        char *mac;
        char *network;
        char *xml;     /* ATTACH, UPDATE: to send; DETACH: the observed interface */
        char *old_xml; /* UPDATE: the observed interface */
        guint flags;
        char *detail;  /* UPDATE: what changes */
        guint vid;     /* ATTACH, UPDATE live: the VLAN its port joins, 0 = none */
} IfaceData;

static const VmnetActionType attach_type, detach_type, update_type;

gboolean vmnet_action_is_pending_unplug(const VmnetAction *a)
{
        const IfaceData *d = a->data;

        /* Gone from the persistent definition, still in the running one: libvirt
         * asked the guest to release it, and only the guest can finish that. */
        return a->type == &detach_type && d->flags == VIR_DOMAIN_AFFECT_LIVE;
}

const char *vmnet_affect_to_string(guint flags)
{
        if ((flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG))
                return "live+config";
        return (flags & VIR_DOMAIN_AFFECT_LIVE) ? "live" : "config";
}

static void iface_data_free(gpointer p)
{
        IfaceData *d = p;

        g_free(d->domain);
        g_free(d->mac);
        g_free(d->network);
        g_free(d->xml);
        g_free(d->old_xml);
        g_free(d->detail);
        g_free(d);
}

static VmnetAction *iface_action(const VmnetActionType *type, IfaceOp op, const char *domain,
                                 const char *mac, const char *network, const char *xml,
                                 const char *old_xml, guint flags, const char *detail)
{
        IfaceData *d = g_new0(IfaceData, 1);
        /* Taking a NIC away from a running guest cuts what runs over it. */
        VmnetImpact impact = op == IFACE_DETACH && (flags & VIR_DOMAIN_AFFECT_LIVE)
                                     ? VMNET_IMPACT_DISRUPTIVE
                                     : VMNET_IMPACT_SAFE;

        d->op = op;
        d->domain = g_strdup(domain);
        d->mac = g_strdup(mac);
        d->network = g_strdup(network);
        d->xml = g_strdup(xml);
        d->old_xml = g_strdup(old_xml);
        d->flags = flags;
        d->detail = g_strdup(detail);
        return vmnet_action_new(type, impact,
                                g_strdup_printf("interface %s of domain %s", mac, domain), d);
}

VmnetAction *vmnet_action_iface_attach(const char *domain, const char *mac, const char *network,
                                       const char *xml, guint flags)
{
        return iface_action(&attach_type, IFACE_ATTACH, domain, mac, network, xml, NULL, flags,
                            NULL);
}

VmnetAction *vmnet_action_iface_detach(const char *domain, const char *mac, const char *network,
                                       const char *old_xml, guint flags)
{
        return iface_action(&detach_type, IFACE_DETACH, domain, mac, network, old_xml, NULL, flags,
                            NULL);
}

VmnetAction *vmnet_action_iface_update(const char *domain, const char *mac, const char *network,
                                       const char *xml, const char *old_xml, guint flags,
                                       const char *detail)
{
        return iface_action(&update_type, IFACE_UPDATE, domain, mac, network, xml, old_xml, flags,
                            detail);
}

void vmnet_action_iface_place(VmnetAction *a, guint vid)
{
        ((IfaceData *)a->data)->vid = vid;
}

static char *iface_describe(const VmnetAction *a)
{
        const IfaceData *d = a->data;
        const char *affect = vmnet_affect_to_string(d->flags);
        g_autofree char *net = d->network ? g_strdup_printf("network %s, ", d->network)
                                          : g_strdup("");
        char *text;

        switch (d->op) {
        case IFACE_ATTACH:
                text = g_strdup_printf("attach interface %s to domain %s (%s%s)", d->mac,
                                       d->domain, net, affect);
                break;
        case IFACE_DETACH:
                text = g_strdup_printf("detach interface %s from domain %s (%s%s)", d->mac,
                                       d->domain, net, affect);
                break;
        default:
                text = g_strdup_printf("update interface %s of domain %s (%s; %s)", d->mac,
                                       d->domain, d->detail ? d->detail : "definition", affect);
                break;
        }
        if (d->vid) {
                char *placed = g_strdup_printf("%s, port in vlan %u", text, d->vid);

                g_free(text);
                text = placed;
        }
        if (a->impact != VMNET_IMPACT_SAFE) {
                char *tagged = g_strdup_printf("%s [%s]", text, vmnet_impact_to_string(a->impact));

                g_free(text);
                text = tagged;
        }
        return text;
}

/* The running guest's tap for the interface: libvirt names it only once plugged. */
static gboolean place_port(virDomainPtr dom, const IfaceData *d, VmnetApplyCtx *ctx, GError **error)
{
        g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
        g_autoptr(GPtrArray) ifaces = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        const VmnetLibvirtIface *f = NULL;
        struct nl_sock *sk;
        VmnetMac mac;

        if (!xml) {
                vmnet_libvirt_set_error(error, "reading the XML of domain %s", d->domain);
                return FALSE;
        }
        if (!vmnet_libvirt_domain_parse_ifaces(xml, ifaces, error))
                return FALSE;
        if (vmnet_mac_parse(d->mac, &mac))
                f = vmnet_libvirt_ifaces_find_mac(ifaces, &mac);
        if (!f || !f->target) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "interface %s of domain %s has no tap to put in vlan %u", d->mac,
                            d->domain, d->vid);
                return FALSE;
        }
        sk = vmnet_action_ctx_nl(ctx, error);
        if (!sk || !vmnet_nl_guest_port_vlan(sk, f->target, d->vid, error)) {
                g_prefix_error(error, "interface %s of domain %s: ", d->mac, d->domain);
                return FALSE;
        }
        return TRUE;
}

static gboolean iface_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const IfaceData *d = a->data;
        g_autoptr(VmnetVirDomain) dom = NULL;
        int rc;

        if (!ctx || !ctx->virt) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "internal error: no libvirt connection");
                return FALSE;
        }
        if (!(dom = virDomainLookupByName(ctx->virt, d->domain))) {
                vmnet_libvirt_set_error(error, "domain %s", d->domain);
                return FALSE;
        }
        switch (d->op) {
        case IFACE_ATTACH:
                rc = VMNET_MUTANT_IS(NO_ATTACH) ? 0 : virDomainAttachDeviceFlags(dom, d->xml, d->flags);
                break;
        case IFACE_DETACH:
                rc = virDomainDetachDeviceFlags(dom, d->xml, d->flags);
                break;
        default:
                rc = virDomainUpdateDeviceFlags(dom, d->xml, d->flags);
                break;
        }
        if (rc < 0) {
                vmnet_libvirt_set_error(error, "%s interface %s of domain %s (%s)",
                                        d->op == IFACE_ATTACH   ? "attaching"
                                        : d->op == IFACE_DETACH ? "detaching"
                                                                : "updating",
                                        d->mac, d->domain, vmnet_affect_to_string(d->flags));
                return FALSE;
        }
        if (d->vid && (d->flags & VIR_DOMAIN_AFFECT_LIVE) && !place_port(dom, d, ctx, error)) {
                /* Not left half done: a guest plugged in no VLAN is taken out again. */
                if (d->op == IFACE_ATTACH)
                        virDomainDetachDeviceFlags(dom, d->xml, d->flags);
                return FALSE;
        }
        return TRUE;
}

static VmnetAction *iface_invert(const VmnetAction *a)
{
        const IfaceData *d = a->data;

        switch (d->op) {
        case IFACE_ATTACH:
                return vmnet_action_iface_detach(d->domain, d->mac, d->network, d->xml, d->flags);
        case IFACE_DETACH:
                return vmnet_action_iface_attach(d->domain, d->mac, d->network, d->xml, d->flags);
        default:
                return vmnet_action_iface_update(d->domain, d->mac, d->network, d->old_xml, d->xml,
                                                 d->flags, "restore");
        }
}

static const VmnetActionType attach_type = {
        .name = "domain-iface-attach",
        .describe = iface_describe,
        .execute = iface_execute,
        .invert = iface_invert,
        .free_data = iface_data_free,
};

static const VmnetActionType detach_type = {
        .name = "domain-iface-detach",
        .describe = iface_describe,
        .execute = iface_execute,
        .invert = iface_invert,
        .free_data = iface_data_free,
};

static const VmnetActionType update_type = {
        .name = "domain-iface-update",
        .describe = iface_describe,
        .execute = iface_execute,
        .invert = iface_invert,
        .free_data = iface_data_free,
};
