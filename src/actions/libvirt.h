/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The action types of the libvirt part: libvirt networks
 * (libvirt-network.c), guest interfaces (domain-iface.c) and vmnet's
 * dnsmasq instances (dnsmasq.c). Like every action they carry what their
 * inverse needs, captured by the diff from what it observed (the network's
 * persistent XML, the interface as libvirt formatted it, the previous
 * dnsmasq configuration and leases), so a rollback puts back exactly what
 * was there.
 *
 * Libvirt actions need ctx->virt; dnsmasq actions need nothing from ctx.
 * describe() strings are stable (golden-tested) and end in " [recreate]" or
 * " [disruptive]" when the impact is not SAFE.
 */

#include <libvirt/libvirt.h>

#include "actions/action.h"
#include "backend/dnsmasq/dnsmasq.h"
#include "model/port-vlans.h"

/* A guest interface to refresh live (virDomainUpdateDeviceFlags) after its network changed. */
typedef struct {
        char *domain;
        char *mac;
        char *xml; /* the <interface> to send */
} VmnetIfaceRef;

VmnetIfaceRef *vmnet_iface_ref_new(const char *domain, const char *mac, const char *xml);
void vmnet_iface_ref_free(VmnetIfaceRef *r);

/* --- libvirt networks (libvirt-network.c) -------------------------------- */

/*
 * Defines (or re-defines: old_xml is then the persistent XML it replaces,
 * restored by the inverse) the network. reason says what a re-define
 * changes ("mode nat -> routed"); NULL for a new network.
 */
VmnetAction *vmnet_action_network_define(const char *name, const char *xml, const char *old_xml,
                                         const char *reason);
/* Undefines the (stopped) network; the inverse defines old_xml again. */
VmnetAction *vmnet_action_network_undefine(const char *name, const char *old_xml);
VmnetAction *vmnet_action_network_start(const char *name);
VmnetAction *vmnet_action_network_stop(const char *name);
VmnetAction *vmnet_action_network_autostart(const char *name, gboolean on);

/*
 * virNetworkUpdate of one <portgroup>: command is a
 * VIR_NETWORK_UPDATE_COMMAND_* (ADD_LAST, MODIFY, DELETE); xml is the
 * element to add / the new element / the element to delete, old_xml the
 * observed element (MODIFY) or NULL. live / config: update the running
 * network / its persistent definition (config is FALSE when a re-define in
 * the same run replaces the persistent definition wholesale). refresh
 * (VmnetIfaceRef*, may be NULL, taken) are guest interfaces in that port
 * group, updated live afterwards: libvirt computes a port's bandwidth when
 * the port is plugged, so only an interface update applies the group's new
 * rate to a running guest.
 */
VmnetAction *vmnet_action_network_portgroup(const char *name, int command, const char *portgroup,
                                            const char *xml, const char *old_xml, gboolean live,
                                            gboolean config, GPtrArray *refresh);

/*
 * Re-creates the network with xml (what cannot change on a defined
 * network: the bridge, the forward mode, the UUID): destroy, undefine,
 * define, restore autostart, start again when it ran (active), then update
 * every interface of refresh (VmnetIfaceRef*, taken) live so that libvirt
 * plugs the guests' taps into the new bridge. Impact RECREATE. The
 * inverse re-creates old_xml the same way.
 */
VmnetAction *vmnet_action_network_recreate(const char *name, const char *xml,
                                           const char *old_xml, gboolean active,
                                           gboolean autostart, const char *reason,
                                           GPtrArray *refresh);

/* --- guest interfaces (domain-iface.c) --------------------------------------- */

/*
 * flags are VIR_DOMAIN_AFFECT_LIVE and/or VIR_DOMAIN_AFFECT_CONFIG. network
 * and detail only feed describe().
 */
/* Attaches xml; the inverse detaches it. */
VmnetAction *vmnet_action_iface_attach(const char *domain, const char *mac, const char *network,
                                       const char *xml, guint flags);
/* Detaches the observed interface old_xml; the inverse attaches it again (same PCI slot). */
VmnetAction *vmnet_action_iface_detach(const char *domain, const char *mac, const char *network,
                                       const char *old_xml, guint flags);
/* Updates the interface in place to xml; the inverse updates it back to old_xml. */
VmnetAction *vmnet_action_iface_update(const char *domain, const char *mac, const char *network,
                                       const char *xml, const char *old_xml, guint flags,
                                       const char *detail);

/*
 * Replugs the running guest's interface (old_xml, as observed) as xml, for
 * what cannot change on a plugged NIC (model, queues, MTU): when
 * conf_old_xml is given, first updates the persistent definition's
 * interface (conf_old_xml) to xml, so that it never lacks the NIC; then
 * detaches the running one, waits for the guest to release it (libvirt's
 * device-removed event, at most ctx->unplug_timeout seconds, default 30)
 * and attaches xml. A guest that does not release it in time keeps the old
 * NIC (and the persistent definition the new one): the action fails saying
 * so. Impact DISRUPTIVE. The inverse replugs back.
 */
VmnetAction *vmnet_action_iface_replug(const char *domain, const char *mac, const char *network,
                                       const char *xml, const char *old_xml,
                                       const char *conf_old_xml, const char *detail);

/*
 * After a live attach or update, puts the guest's port in its VLANs on its
 * VLAN-aware bridge (empty: it needs none), as the network hook does for
 * ports libvirt plugs by itself.
 */
void vmnet_action_iface_place(VmnetAction *a, const VmnetPortVlans *vlans);

/* The domain name through ctx's libvirt connection (virDomainFree), NULL with error set. */
virDomainPtr vmnet_action_ctx_domain(VmnetApplyCtx *ctx, const char *name, GError **error);

/* "live+config", "live" or "config". */
const char *vmnet_affect_to_string(guint flags);

/*
 * Is a a live-only detach: an interface already gone from the domain's
 * persistent definition that the running guest has not released yet (an
 * unplug needs the guest OS's cooperation)?
 */
gboolean vmnet_action_is_pending_unplug(const VmnetAction *a);

/*
 * Is a an unplug of a running guest's interface alone (a live-only detach,
 * or a live-only replug)? Then *domain and *mac (borrowed) say whose.
 */
gboolean vmnet_action_iface_unplug_target(const VmnetAction *a, const char **domain,
                                          const char **mac);

/* --- domains (domain-start.c) ------------------------------------------------ */

/*
 * Starts domain, an autostarted guest whose start failed while vmnet's
 * bridge (for messages) was missing. The inverse stops it again.
 */
VmnetAction *vmnet_action_domain_start(const char *domain, const char *bridge);

/* --- dnsmasq (dnsmasq.c) ----------------------------------------------------- */

/*
 * Makes network's dnsmasq run with conf: writes the file and (re)starts the
 * process. old_conf is the file's content before (NULL: none) and
 * old_running whether an instance served it; the inverse puts both back.
 * Described as a start when nothing ran, else a restart.
 */
VmnetAction *vmnet_action_dnsmasq_start(const VmnetDnsmasqPaths *paths, const char *bridge,
                                        const char *conf, const char *old_conf,
                                        gboolean old_running);
/*
 * Stops network's dnsmasq and removes its configuration and lease file;
 * the inverse restores old_conf and old_leases and starts it again when
 * old_running.
 */
VmnetAction *vmnet_action_dnsmasq_stop(const VmnetDnsmasqPaths *paths, const char *old_conf,
                                       const char *old_leases, gboolean old_running);
