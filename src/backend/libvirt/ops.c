/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>

#include <libvirt/virterror.h>

#include "backend/libvirt/libvirt.h"
#include "backend/libvirt/ops.h"
#include "util/autoptr.h"

/*
 * libvirt's public calls clear the last error when they begin, its Get*Name
 * calls too: a message names its object from a name read before the call
 * that may fail.
 */

/*
 * rc, what a libvirt call returned: TRUE when it succeeded (0 or more), else
 * FALSE with error "WHAT: <libvirt's message>", WHAT formatted from fmt.
 */
static gboolean checked_va(int rc, GError **error, const char *fmt, va_list ap)
        G_GNUC_PRINTF(3, 0);

static gboolean checked_va(int rc, GError **error, const char *fmt, va_list ap)
{
        g_autofree char *what = NULL;

        if (rc >= 0)
                return TRUE;
        what = g_strdup_vprintf(fmt, ap);
        vmnet_libvirt_set_error(error, "%s", what);
        return FALSE;
}

static gboolean checked(int rc, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean checked(int rc, GError **error, const char *fmt, ...)
{
        va_list ap;
        gboolean ok;

        va_start(ap, fmt);
        ok = checked_va(rc, error, fmt, ap);
        va_end(ap);
        return ok;
}

/* ------------------------------------------------------------ connections */

/* libvirt's default handler prints every error to stderr; vmnet reports them itself. */
static void silent_error(G_GNUC_UNUSED void *data, G_GNUC_UNUSED virErrorPtr err)
{
}

virConnectPtr vmnet_libvirt_connect(const char *uri, GError **error)
{
        virConnectPtr conn;

        virSetErrorFunc(NULL, silent_error);
        if (!uri)
                uri = "qemu:///system";
        conn = virConnectOpen(uri);
        if (!conn) {
                vmnet_libvirt_set_error(error, "connecting to libvirt at %s", uri);
                return NULL;
        }
        return conn;
}

virConnectPtr vmnet_libvirt_connect_read_only(const char *uri)
{
        virSetErrorFunc(NULL, silent_error);
        return virConnectOpenReadOnly(uri ? uri : "qemu:///system");
}

void vmnet_libvirt_close(virConnectPtr conn)
{
        if (conn)
                virConnectClose(conn);
}

char *vmnet_libvirt_uri(virConnectPtr conn)
{
        char *uri = virConnectGetURI(conn);
        char *copy = g_strdup(uri);

        free(uri);
        return copy;
}

const char *vmnet_libvirt_last_error(void)
{
        const char *m = virGetLastErrorMessage();

        return m && *m ? m : "unknown libvirt error";
}

/* ------------------------------------------------------------ networks */

virNetworkPtr vmnet_libvirt_network_lookup(virConnectPtr conn, const char *name, GError **error)
{
        virNetworkPtr net = virNetworkLookupByName(conn, name);

        if (!net && error)
                vmnet_libvirt_set_error(error, "libvirt network %s", name);
        else if (!net)
                virResetLastError();
        return net;
}

virNetworkPtr vmnet_libvirt_network_define(virConnectPtr conn, const char *name, const char *xml,
                                           GError **error)
{
        virNetworkPtr net = virNetworkDefineXML(conn, xml);

        if (!net)
                vmnet_libvirt_set_error(error, "defining libvirt network %s", name);
        return net;
}

gboolean vmnet_libvirt_network_undefine(virNetworkPtr net, GError **error)
{
        const char *name = virNetworkGetName(net);

        return checked(virNetworkUndefine(net), error, "undefining libvirt network %s", name);
}

gboolean vmnet_libvirt_network_start(virNetworkPtr net, GError **error)
{
        const char *name = virNetworkGetName(net);

        return checked(virNetworkCreate(net), error, "starting libvirt network %s", name);
}

gboolean vmnet_libvirt_network_stop(virNetworkPtr net, GError **error)
{
        const char *name = virNetworkGetName(net);

        return checked(virNetworkDestroy(net), error, "stopping libvirt network %s", name);
}

gboolean vmnet_libvirt_network_set_autostart(virNetworkPtr net, gboolean on, GError **error)
{
        const char *name = virNetworkGetName(net);

        return checked(virNetworkSetAutostart(net, on ? 1 : 0), error,
                       "setting autostart of libvirt network %s", name);
}

gboolean vmnet_libvirt_network_is_active(virNetworkPtr net)
{
        return virNetworkIsActive(net) == 1;
}

gboolean vmnet_libvirt_network_is_persistent(virNetworkPtr net)
{
        return virNetworkIsPersistent(net) == 1;
}

gboolean vmnet_libvirt_network_update_portgroup(virNetworkPtr net, int command,
                                                const char *portgroup, const char *xml,
                                                gboolean live, gboolean config, GError **error)
{
        const char *name = virNetworkGetName(net);
        unsigned int flags = 0;

        if (live)
                flags |= VIR_NETWORK_UPDATE_AFFECT_LIVE;
        if (config)
                flags |= VIR_NETWORK_UPDATE_AFFECT_CONFIG;
        return checked(virNetworkUpdate(net, (unsigned int)command, VIR_NETWORK_SECTION_PORTGROUP,
                                        -1, xml, flags),
                       error, "updating portgroup %s of libvirt network %s", portgroup, name);
}

/* ------------------------------------------------------------ domains */

virDomainPtr vmnet_libvirt_domain_lookup(virConnectPtr conn, const char *name, GError **error)
{
        virDomainPtr dom = virDomainLookupByName(conn, name);

        if (!dom && error)
                vmnet_libvirt_set_error(error, "domain %s", name);
        else if (!dom)
                virResetLastError();
        return dom;
}

int vmnet_libvirt_domain_is_active(virDomainPtr dom)
{
        return virDomainIsActive(dom);
}

guint vmnet_libvirt_domain_id(virDomainPtr dom)
{
        return virDomainGetID(dom);
}

char *vmnet_libvirt_domain_xml(virDomainPtr dom, guint flags, GError **error)
{
        const char *name = virDomainGetName(dom);
        char *xml = virDomainGetXMLDesc(dom, flags);
        char *copy;

        if (!xml) {
                vmnet_libvirt_set_error(error, "reading the XML of domain %s", name);
                return NULL;
        }
        copy = g_strdup(xml);
        free(xml);
        return copy;
}

gboolean vmnet_libvirt_domain_start(virDomainPtr dom, GError **error)
{
        const char *name = virDomainGetName(dom);

        return checked(virDomainCreate(dom), error, "starting domain %s", name);
}

gboolean vmnet_libvirt_domain_stop(virDomainPtr dom, GError **error)
{
        const char *name = virDomainGetName(dom);

        return checked(virDomainDestroy(dom), error, "stopping domain %s", name);
}

gboolean vmnet_libvirt_domain_device(virDomainPtr dom, VmnetLibvirtDeviceOp op, const char *xml,
                                     guint flags, GError **error, const char *fmt, ...)
{
        va_list ap;
        gboolean ok;
        int rc;

        switch (op) {
        case VMNET_LIBVIRT_DEVICE_ATTACH:
                rc = virDomainAttachDeviceFlags(dom, xml, flags);
                break;
        case VMNET_LIBVIRT_DEVICE_DETACH:
                rc = virDomainDetachDeviceFlags(dom, xml, flags);
                break;
        default:
                rc = virDomainUpdateDeviceFlags(dom, xml, flags);
                break;
        }
        va_start(ap, fmt);
        ok = checked_va(rc, error, fmt, ap);
        va_end(ap);
        return ok;
}

/* ------------------------------------------------------------ the device-removed watch */

struct VmnetLibvirtRemovedWatch {
        char *alias;
        gboolean removed;
        virConnectPtr conn;
        virDomainPtr dom;
        int callback;
        int timer;
};

static void on_device_removed(G_GNUC_UNUSED virConnectPtr conn, G_GNUC_UNUSED virDomainPtr dom,
                              const char *alias, void *opaque)
{
        VmnetLibvirtRemovedWatch *w = opaque;

        if (g_strcmp0(alias, w->alias) == 0)
                w->removed = TRUE;
}

/* Wakes the event loop every half second, so that a wait is never longer. */
static void on_tick(G_GNUC_UNUSED int timer, G_GNUC_UNUSED void *opaque)
{
}

static gboolean event_loop_ready(void)
{
        static gsize once;
        static gboolean ok;

        if (g_once_init_enter(&once)) {
                ok = virEventRegisterDefaultImpl() == 0;
                g_once_init_leave(&once, 1);
        }
        return ok;
}

VmnetLibvirtRemovedWatch *vmnet_libvirt_watch_removed(virConnectPtr conn, const char *domain,
                                                      const char *alias)
{
        g_autoptr(VmnetLibvirtRemovedWatch) w = g_new0(VmnetLibvirtRemovedWatch, 1);
        g_autofree char *uri = NULL;

        w->alias = g_strdup(alias);
        w->callback = w->timer = -1;
        if (event_loop_ready() && (uri = vmnet_libvirt_uri(conn)) &&
            (w->conn = virConnectOpen(uri)) && (w->dom = virDomainLookupByName(w->conn, domain)))
                w->callback = virConnectDomainEventRegisterAny(
                        w->conn, w->dom, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                        VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), w, NULL);
        if (w->callback >= 0)
                w->timer = virEventAddTimeout(500, on_tick, NULL, NULL);
        virResetLastError();
        return w->timer >= 0 ? g_steal_pointer(&w) : NULL;
}

gboolean vmnet_libvirt_watch_seen(const VmnetLibvirtRemovedWatch *w)
{
        return w && w->removed;
}

void vmnet_libvirt_watch_wait(VmnetLibvirtRemovedWatch *w)
{
        if (w)
                virEventRunDefaultImpl();
        else
                g_usleep(G_USEC_PER_SEC / 2);
}

void vmnet_libvirt_watch_free(VmnetLibvirtRemovedWatch *w)
{
        if (!w)
                return;
        if (w->timer >= 0)
                virEventRemoveTimeout(w->timer);
        if (w->callback >= 0)
                virConnectDomainEventDeregisterAny(w->conn, w->callback);
        if (w->dom)
                virDomainFree(w->dom);
        if (w->conn)
                virConnectClose(w->conn);
        virResetLastError();
        g_free(w->alias);
        g_free(w);
}
