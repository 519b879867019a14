/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "actions/libvirt.h"
#include "apply/context.h"
#include "backend/libvirt/libvirt.h"
#include "backend/netlink/netlink.h"
#include "util/mutant.h"
#include "util/testhook.h"

/*
 * Guest interface actions: libvirt's device attach, detach and update with
 * VIR_DOMAIN_AFFECT_LIVE (the running guest) and/or
 * VIR_DOMAIN_AFFECT_CONFIG (its persistent definition). A detach sends the
 * interface without its PCI address, so libvirt finds it by MAC and
 * vmnet's alias alone (the live and persistent slots can differ: the diff
 * then makes one action per scope, each with that scope's own XML). An
 * update can change the source network, the port group and the bandwidth
 * of a running guest (qemu driver qemuDomainChangeNet()), and anything in
 * the persistent definition; the model, the driver queues and the MTU of a
 * running guest's NIC only change by a replug (IFACE_REPLUG).
 *
 * A live detach only asks the guest to release the device (ACPI
 * hot-unplug): libvirt waits 5 s and returns, and the device stays until
 * the guest OS acknowledges, maybe never (a guest without an OS). A replug
 * therefore waits for libvirt's device-removed event (bounded:
 * --unplug-timeout seconds) before it plugs the new NIC, and changes
 * the persistent definition by an update, never leaving it without the NIC.
 */

typedef enum {
        IFACE_ATTACH,
        IFACE_DETACH,
        IFACE_UPDATE,
        IFACE_REPLUG,
} IfaceOp;

typedef struct {
        IfaceOp op;
        char *domain;
        char *mac;
        char *network;
        char *xml;     /* ATTACH, UPDATE, REPLUG: to send; DETACH: the observed interface */
        char *old_xml; /* UPDATE, REPLUG: the observed interface (REPLUG: the running guest's) */
        char *conf_xml;     /* REPLUG: the persistent definition's update, NULL = none */
        char *conf_old_xml; /* REPLUG: the persistent definition's interface before */
        guint flags;
        char *detail;  /* UPDATE: what changes */
        VmnetPortVlans vlans; /* ATTACH, UPDATE live: the VLANs of its port, empty = none */
} IfaceData;

static const VmnetActionType attach_type, detach_type, update_type, replug_type;

gboolean vmnet_action_iface_unplug_target(const VmnetAction *a, const char **domain,
                                          const char **mac)
{
        const IfaceData *d = a->data;

        if ((a->type != &detach_type && a->type != &replug_type) ||
            d->flags != VIR_DOMAIN_AFFECT_LIVE)
                return FALSE;
        *domain = d->domain;
        *mac = d->mac;
        return TRUE;
}

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
        g_free(d->conf_xml);
        g_free(d->conf_old_xml);
        g_free(d->detail);
        g_free(d);
}

static VmnetAction *iface_action(const VmnetActionType *type, IfaceOp op, const char *domain,
                                 const char *mac, const char *network, const char *xml,
                                 const char *old_xml, guint flags, const char *detail)
{
        IfaceData *d = g_new0(IfaceData, 1);
        /* Taking a NIC away from a running guest (for good or to plug a new one) cuts what runs over it. */
        VmnetImpact impact = (op == IFACE_DETACH || op == IFACE_REPLUG) &&
                                             (flags & VIR_DOMAIN_AFFECT_LIVE)
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

VmnetAction *vmnet_action_iface_replug(const char *domain, const char *mac, const char *network,
                                       const char *xml, const char *old_xml,
                                       const char *conf_old_xml, const char *detail)
{
        VmnetAction *a = iface_action(&replug_type, IFACE_REPLUG, domain, mac, network, xml,
                                      old_xml, VIR_DOMAIN_AFFECT_LIVE, detail);
        IfaceData *d = a->data;

        if (conf_old_xml) {
                d->flags |= VIR_DOMAIN_AFFECT_CONFIG;
                d->conf_xml = g_strdup(xml);
                d->conf_old_xml = g_strdup(conf_old_xml);
        }
        return a;
}

void vmnet_action_iface_place(VmnetAction *a, const VmnetPortVlans *vlans)
{
        ((IfaceData *)a->data)->vlans = *vlans;
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
        case IFACE_REPLUG:
                text = g_strdup_printf("replug interface %s of domain %s (%s; %s: unplugged, "
                                       "then plugged anew)",
                                       d->mac, d->domain, d->detail ? d->detail : "definition",
                                       affect);
                break;
        default:
                text = g_strdup_printf("update interface %s of domain %s (%s; %s)", d->mac,
                                       d->domain, d->detail ? d->detail : "definition", affect);
                break;
        }
        if (!vmnet_port_vlans_is_empty(&d->vlans)) {
                g_autofree char *in = vmnet_port_vlans_placed(&d->vlans);
                char *placed = g_strconcat(text, in, NULL);

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
        g_autofree char *xml = vmnet_libvirt_domain_xml(dom, 0, error);
        g_autoptr(GPtrArray) ifaces = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        const VmnetLibvirtIface *f = NULL;
        struct nl_sock *sk;
        VmnetMac mac;

        if (!xml || !vmnet_libvirt_domain_parse_ifaces(xml, ifaces, error))
                return FALSE;
        if (vmnet_mac_parse(d->mac, &mac))
                f = vmnet_libvirt_ifaces_find_mac(ifaces, &mac);
        if (!f || !f->target) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "interface %s of domain %s has no tap to put in its vlan", d->mac,
                            d->domain);
                return FALSE;
        }
        sk = vmnet_action_ctx_nl(ctx, error);
        if (!sk || !vmnet_nl_guest_port_vlans(sk, f->target, &d->vlans, error)) {
                g_prefix_error(error, "interface %s of domain %s: ", d->mac, d->domain);
                return FALSE;
        }
        return TRUE;
}

/* The running guest's interface with mac, NULL when it has none (or on error). Caller frees. */
static VmnetLibvirtIface *live_iface(virDomainPtr dom, const char *mac_text, GError **error)
{
        g_autofree char *xml = vmnet_libvirt_domain_xml(dom, 0, error);
        /* No free function: the one found is the caller's, the others are freed here. */
        g_autoptr(GPtrArray) ifaces = g_ptr_array_new();
        VmnetLibvirtIface *f = NULL;
        VmnetMac mac;

        if (!xml)
                return NULL;
        if (vmnet_libvirt_domain_parse_ifaces(xml, ifaces, error) &&
            vmnet_mac_parse(mac_text, &mac))
                f = vmnet_libvirt_ifaces_find_mac(ifaces, &mac);
        for (guint i = 0; i < ifaces->len; i++)
                if (g_ptr_array_index(ifaces, i) != f)
                        vmnet_libvirt_iface_free(g_ptr_array_index(ifaces, i));
        return f;
}

/* What the running guest has now with d's MAC, for messages. Caller frees. */
static char *guest_has(virDomainPtr dom, const IfaceData *d)
{
        g_autoptr(GError) e = NULL;
        g_autoptr(VmnetLibvirtIface) f = live_iface(dom, d->mac, &e);
        g_autofree char *sum = NULL;

        if (e)
                return g_strdup_printf("what the running guest has could not be read (%s)",
                                       e->message);
        if (!f)
                return g_strdup_printf("the running guest has no interface %s", d->mac);
        sum = vmnet_libvirt_iface_summary(f);
        return g_strdup_printf("the running guest has interface %s as %s", d->mac, sum);
}

/* --unplug-timeout; else, in a test build, VMNET_UNPLUG_TIMEOUT; else 30 s. */
static guint unplug_timeout(const VmnetApplyCtx *ctx)
{
        const char *env = vmnet_test_hook(VMNET_HOOK_UNPLUG_TIMEOUT);
        guint64 s = VMNET_UNPLUG_TIMEOUT_DEFAULT;

        if (ctx->unplug_timeout)
                return ctx->unplug_timeout;
        if (env)
                g_ascii_string_to_unsigned(env, 10, 0, VMNET_UNPLUG_TIMEOUT_MAX, &s, NULL);
        return (guint)s;
}

/*
 * Waits until the running guest no longer has d's interface: libvirt's
 * device-removed event for its alias, or the running XML (read every half
 * second, so that an event missed before the watch began is no hang) no
 * longer showing its MAC. FALSE on timeout (error says what the guest has)
 * or when the domain cannot be read.
 */
static gboolean wait_released(VmnetApplyCtx *ctx, virDomainPtr dom, const IfaceData *d,
                              const char *alias, GError **error)
{
        guint timeout = unplug_timeout(ctx);
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout * G_USEC_PER_SEC;
        g_autoptr(VmnetLibvirtRemovedWatch) watch =
                vmnet_libvirt_watch_removed(ctx->virt, d->domain, alias);
        gboolean ok = FALSE;

        for (;;) {
                g_autoptr(GError) e = NULL;
                g_autoptr(VmnetLibvirtIface) f = NULL;
                gboolean removed = vmnet_libvirt_watch_seen(watch);

                if (!removed) {
                        f = live_iface(dom, d->mac, &e);
                        if (e) {
                                g_propagate_error(error, g_steal_pointer(&e));
                                break;
                        }
                }
                if (removed || !f) {
                        ok = TRUE;
                        break;
                }
                if (g_get_monotonic_time() >= deadline) {
                        g_autofree char *sum = vmnet_libvirt_iface_summary(f);

                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "the guest did not release interface %s within %u s "
                                    "(--unplug-timeout; a guest OS must acknowledge the "
                                    "unplug, a guest without one never does): the running "
                                    "guest still has it as %s, its unplug pending",
                                    d->mac, timeout, sum);
                        break;
                }
                vmnet_libvirt_watch_wait(watch);
        }
        return ok;
}

/*
 * IFACE_REPLUG: the persistent definition first, by an update (it never
 * lacks the NIC), then the running guest: detach, wait for the guest's
 * release, attach. Every way out says what the guest has.
 */
static gboolean replug(VmnetApplyCtx *ctx, virDomainPtr dom, const IfaceData *d, GError **error)
{
        g_autofree char *match = vmnet_libvirt_iface_xml_for_match(d->old_xml);
        g_autoptr(VmnetLibvirtIface) old = vmnet_libvirt_iface_parse(d->old_xml, NULL);
        g_autofree char *has = NULL;
        g_autoptr(GError) e = NULL;

        if (d->conf_xml &&
            !vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_UPDATE, d->conf_xml,
                                         VIR_DOMAIN_AFFECT_CONFIG, error,
                                         "updating interface %s in the persistent definition of "
                                         "domain %s (nothing changed)",
                                         d->mac, d->domain))
                return FALSE;
        if (!vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_DETACH, match,
                                         VIR_DOMAIN_AFFECT_LIVE, &e,
                                         "detaching interface %s of domain %s (live)", d->mac,
                                         d->domain)) {
                g_autoptr(GError) back = NULL;

                /* Nothing happened to the running guest: the persistent definition goes back too. */
                if (d->conf_xml &&
                    !vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_UPDATE, d->conf_old_xml,
                                                 VIR_DOMAIN_AFFECT_CONFIG, &back,
                                                 "putting back its persistent definition")) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_LIBVIRT,
                                    "%s; %s; the persistent definition has the new interface",
                                    e->message, back->message);
                        return FALSE;
                }
                has = guest_has(dom, d);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_LIBVIRT, "%s; %s", e->message, has);
                return FALSE;
        }
        if (!wait_released(ctx, dom, d, old ? old->alias : NULL, &e)) {
                vmnet_apply_ctx_note_unplug(ctx, d->domain, d->mac, vmnet_libvirt_domain_id(dom));
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_PARTIAL,
                            "replugging interface %s of domain %s: %s; %s; apply again once the "
                            "guest has released it or after it restarts",
                            d->mac, d->domain, e->message,
                            d->conf_xml ? "its persistent definition has the new interface, "
                                          "which the guest gets at its next start"
                                        : "it has no persistent definition");
                return FALSE;
        }
        if (!VMNET_MUTANT_IS(NO_ATTACH) &&
            !vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_ATTACH, d->xml,
                                         VIR_DOMAIN_AFFECT_LIVE, &e,
                                         "attaching interface %s to domain %s (live)", d->mac,
                                         d->domain)) {
                g_autofree char *why = g_strdup(e->message);

                g_clear_error(&e);
                /* The guest released its NIC: it gets the old one back rather than none. */
                vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_ATTACH, d->old_xml,
                                            VIR_DOMAIN_AFFECT_LIVE, &e,
                                            "plugging its old interface back");
                has = guest_has(dom, d);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_PARTIAL, "%s%s%s; %s%s", why,
                            e ? "; " : "; its old interface was plugged back",
                            e ? e->message : "", has,
                            d->conf_xml ? "; its persistent definition has the new interface"
                                        : "");
                return FALSE;
        }
        return TRUE;
}

/*
 * Before a live attach (a rollback re-attaching what an earlier step
 * detached, typically): is the interface still in the running guest, an
 * unplug it has not acknowledged? Then attaching it again cannot work
 * (libvirt: "non unique alias"); the persistent definition gets it back
 * alone, and error says what the guest has. TRUE when so (error set).
 */
static gboolean still_plugged(virDomainPtr dom, const IfaceData *d, GError **error)
{
        g_autoptr(GError) e = NULL;
        g_autoptr(VmnetLibvirtIface) f = live_iface(dom, d->mac, &e);
        g_autofree char *sum = NULL;
        gboolean conf_ok = TRUE;

        if (!f)
                return FALSE; /* not there (or unreadable: the attach says why) */
        if (d->flags & VIR_DOMAIN_AFFECT_CONFIG)
                conf_ok = vmnet_libvirt_domain_device(
                        dom, VMNET_LIBVIRT_DEVICE_ATTACH, d->xml, VIR_DOMAIN_AFFECT_CONFIG, &e,
                        "and attaching it to the persistent definition failed");
        sum = vmnet_libvirt_iface_summary(f);
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_PARTIAL,
                    "interface %s of domain %s: the running guest still has it, as %s (an "
                    "unplug requested earlier is pending: the guest has not released it, and "
                    "may still do so), so it cannot be attached again%s%s",
                    d->mac, d->domain, sum,
                    !(d->flags & VIR_DOMAIN_AFFECT_CONFIG) ? ""
                    : conf_ok ? "; its persistent definition has it again"
                              : "; ",
                    conf_ok ? "" : e->message);
        return TRUE;
}

virDomainPtr vmnet_action_ctx_domain(VmnetApplyCtx *ctx, const char *name, GError **error)
{
        if (!ctx || !ctx->virt) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "internal error: no libvirt connection");
                return NULL;
        }
        return vmnet_libvirt_domain_lookup(ctx->virt, name, error);
}

static gboolean iface_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const IfaceData *d = a->data;
        g_autoptr(VmnetVirDomain) dom = NULL;
        g_autofree char *match = NULL;
        g_autofree char *what = g_strdup_printf("%s interface %s of domain %s (%s)",
                                                d->op == IFACE_ATTACH   ? "attaching"
                                                : d->op == IFACE_DETACH ? "detaching"
                                                                        : "updating",
                                                d->mac, d->domain,
                                                vmnet_affect_to_string(d->flags));
        g_autoptr(GError) e = NULL;
        gboolean ok;

        if (!(dom = vmnet_action_ctx_domain(ctx, d->domain, error)))
                return FALSE;
        switch (d->op) {
        case IFACE_ATTACH:
                if ((d->flags & VIR_DOMAIN_AFFECT_LIVE) && vmnet_libvirt_domain_is_active(dom) == 1 &&
                    still_plugged(dom, d, error))
                        return FALSE;
                ok = VMNET_MUTANT_IS(NO_ATTACH) ||
                     vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_ATTACH, d->xml, d->flags,
                                                 &e, "%s", what);
                break;
        case IFACE_DETACH:
                match = vmnet_libvirt_iface_xml_for_match(d->xml);
                ok = vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_DETACH, match, d->flags,
                                                 &e, "%s", what);
                break;
        case IFACE_REPLUG:
                if (!replug(ctx, dom, d, error))
                        return FALSE;
                ok = TRUE;
                break;
        default:
                ok = vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_UPDATE, d->xml, d->flags,
                                                 &e, "%s", what);
                break;
        }
        if (!ok) {
                g_autofree char *has = NULL;

                if (!(d->flags & VIR_DOMAIN_AFFECT_LIVE) || vmnet_libvirt_domain_is_active(dom) != 1) {
                        g_propagate_error(error, g_steal_pointer(&e));
                        return FALSE;
                }
                /*
                 * Say what the running guest has: an attach (a rollback's
                 * too) fails while the guest has not released the same
                 * interface from an earlier unplug.
                 */
                has = guest_has(dom, d);
                g_set_error(error, VMNET_ERROR, e->code, "%s; %s%s", e->message, has,
                            d->op == IFACE_ATTACH && !g_str_has_prefix(has, "the running guest has no")
                                    ? " (its unplug is still pending: the guest has not released it)"
                                    : "");
                return FALSE;
        }
        /* libvirt returns after a few seconds whether or not the guest let go. */
        if (d->op == IFACE_DETACH && (d->flags & VIR_DOMAIN_AFFECT_LIVE)) {
                g_autoptr(VmnetLibvirtIface) still = live_iface(dom, d->mac, NULL);

                if (still)
                        vmnet_apply_ctx_note_unplug(ctx, d->domain, d->mac,
                                                    vmnet_libvirt_domain_id(dom));
        }
        if (!vmnet_port_vlans_is_empty(&d->vlans) && (d->flags & VIR_DOMAIN_AFFECT_LIVE) &&
            !place_port(dom, d, ctx, error)) {
                /* Not left half done: a guest plugged in no VLAN is taken out again. */
                if (d->op == IFACE_ATTACH)
                        vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_DETACH, d->xml,
                                                    d->flags, NULL, "taking it out again");
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
        case IFACE_REPLUG: {
                VmnetAction *inv = vmnet_action_iface_replug(d->domain, d->mac, d->network,
                                                             d->old_xml, d->xml, NULL, "restore");
                IfaceData *i = inv->data;

                i->flags = d->flags;
                i->conf_xml = g_strdup(d->conf_old_xml);
                i->conf_old_xml = g_strdup(d->conf_xml);
                return inv;
        }
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

static const VmnetActionType replug_type = {
        .name = "domain-iface-replug",
        .describe = iface_describe,
        .execute = iface_execute,
        .invert = iface_invert,
        .free_data = iface_data_free,
};
