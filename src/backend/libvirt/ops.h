/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The libvirt calls vmnet makes, for actions/, doctor/, cli/ and apply/:
 * connections, networks, domains and their devices, and the wait for a
 * guest to release a device. Every failure becomes one VMNET_ERROR_LIBVIRT
 * that names the network or domain and ends with libvirt's own message
 * ("starting libvirt network lab: ..."); functions that take a format
 * let the caller say more (which interface, which scope).
 *
 * Handles are libvirt's (virConnectPtr, virNetworkPtr, virDomainPtr), freed
 * with g_autoptr(VmnetVirConnect / VmnetVirNetwork / VmnetVirDomain) of
 * util/autoptr.h.
 */

#include <glib.h>
#include <libvirt/libvirt.h>

#include "util/error.h"

/* --- connections --------------------------------------------------------------------------- */

/*
 * Opens a libvirt connection (uri NULL = qemu:///system) and stops libvirt
 * from printing its errors to stderr (vmnet reports them through GError).
 * The connection is the caller's (vmnet_libvirt_close).
 */
virConnectPtr vmnet_libvirt_connect(const char *uri, GError **error);
/*
 * A read-only connection (uri NULL = qemu:///system), libvirt's printing of
 * errors to stderr silenced; NULL when it fails, and then
 * vmnet_libvirt_last_error() says why. The caller closes it.
 */
virConnectPtr vmnet_libvirt_connect_read_only(const char *uri);
/* Closes conn; NULL does nothing. */
void vmnet_libvirt_close(virConnectPtr conn);
/* conn's URI, NULL when libvirt cannot say. Caller frees (g_free). */
char *vmnet_libvirt_uri(virConnectPtr conn);
/* libvirt's message for the last failed call; "unknown libvirt error" when it has none. */
const char *vmnet_libvirt_last_error(void);

/* --- networks ------------------------------------------------------------------------------ */

/*
 * The network called name; NULL when there is none, with error "libvirt
 * network NAME: ..."; with error NULL its absence is no error (libvirt's
 * last error is cleared). Caller frees.
 */
virNetworkPtr vmnet_libvirt_network_lookup(virConnectPtr conn, const char *name, GError **error);
/* Defines (or re-defines) network name from xml. Caller frees what it returns. */
virNetworkPtr vmnet_libvirt_network_define(virConnectPtr conn, const char *name, const char *xml,
                                           GError **error);
gboolean vmnet_libvirt_network_undefine(virNetworkPtr net, GError **error);
gboolean vmnet_libvirt_network_start(virNetworkPtr net, GError **error);
gboolean vmnet_libvirt_network_stop(virNetworkPtr net, GError **error);
gboolean vmnet_libvirt_network_set_autostart(virNetworkPtr net, gboolean on, GError **error);
/* Is it running / persistent? FALSE too when libvirt cannot say. */
gboolean vmnet_libvirt_network_is_active(virNetworkPtr net);
gboolean vmnet_libvirt_network_is_persistent(virNetworkPtr net);
/*
 * virNetworkUpdate of the <portgroup> portgroup: command is a
 * VIR_NETWORK_UPDATE_COMMAND_*, xml the element; live / config: the running
 * network / its persistent definition.
 */
gboolean vmnet_libvirt_network_update_portgroup(virNetworkPtr net, int command,
                                                const char *portgroup, const char *xml,
                                                gboolean live, gboolean config, GError **error);

/* --- domains ------------------------------------------------------------------------------- */

/* The domain called name, as vmnet_libvirt_network_lookup() ("domain NAME: ..."). Caller frees. */
virDomainPtr vmnet_libvirt_domain_lookup(virConnectPtr conn, const char *name, GError **error);
/* libvirt's answer: 1 running, 0 shut off, -1 cannot say. */
int vmnet_libvirt_domain_is_active(virDomainPtr dom);
/* Its id while it runs (another at each start). */
guint vmnet_libvirt_domain_id(virDomainPtr dom);
/* Its XML (VIR_DOMAIN_XML_* flags); error "reading the XML of domain NAME: ...". Caller frees. */
char *vmnet_libvirt_domain_xml(virDomainPtr dom, guint flags, GError **error);
gboolean vmnet_libvirt_domain_start(virDomainPtr dom, GError **error);
/* Pulls the plug (virDomainDestroy): the guest OS is not asked. */
gboolean vmnet_libvirt_domain_stop(virDomainPtr dom, GError **error);

typedef enum {
        VMNET_LIBVIRT_DEVICE_ATTACH,
        VMNET_LIBVIRT_DEVICE_DETACH,
        VMNET_LIBVIRT_DEVICE_UPDATE,
} VmnetLibvirtDeviceOp;

/*
 * Attaches, detaches or updates the device xml in the scopes flags
 * (VIR_DOMAIN_AFFECT_LIVE and/or VIR_DOMAIN_AFFECT_CONFIG); on failure
 * error is "WHAT: <libvirt's message>", WHAT formatted from fmt.
 */
gboolean vmnet_libvirt_domain_device(virDomainPtr dom, VmnetLibvirtDeviceOp op, const char *xml,
                                     guint flags, GError **error, const char *fmt, ...)
        G_GNUC_PRINTF(6, 7);

/*
 * A watch for libvirt's device-removed event of the device alias of the
 * domain called domain. Events come only on connections opened after an
 * event loop was registered, and such a connection gets keepalive pings
 * that must be answered, so the watch opens a second connection to conn's
 * URI, alive only as long as the watch. NULL when no event can be had
 * (the caller then reads the domain again now and then).
 */
typedef struct VmnetLibvirtRemovedWatch VmnetLibvirtRemovedWatch;

VmnetLibvirtRemovedWatch *vmnet_libvirt_watch_removed(virConnectPtr conn, const char *domain,
                                                      const char *alias);
/* Has the device been removed? FALSE for w NULL. */
gboolean vmnet_libvirt_watch_seen(const VmnetLibvirtRemovedWatch *w);
/* Runs libvirt's event loop once, at most half a second; sleeps half a second when w is NULL. */
void vmnet_libvirt_watch_wait(VmnetLibvirtRemovedWatch *w);
void vmnet_libvirt_watch_free(VmnetLibvirtRemovedWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetLibvirtRemovedWatch, vmnet_libvirt_watch_free)
