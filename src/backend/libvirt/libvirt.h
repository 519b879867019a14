/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What libvirt has, read once per run: every network and every domain's
 * interfaces (running and persistent definitions), as plain structs that
 * know nothing of libvirt's API, so that the diff is a pure function and
 * tests can build a host in C.
 *
 * All domains are read, not only the plan's: a network that must be
 * re-created takes every running guest on it along, and interfaces vmnet
 * attached to a domain the plan has since dropped must still be found.
 */

#include <glib.h>
#include <libvirt/libvirt.h>

#include "backend/libvirt/ops.h"
#include "model/port-vlans.h"
#include "util/addr.h"
#include "util/error.h"

/*
 * A <bandwidth> as libvirt keeps it: rates in kB/s (tc kbps), bursts in
 * KiB (tc kb); 0 = none. All zero: no <bandwidth>.
 */
typedef struct {
        guint64 in_average;
        guint64 in_peak;
        guint64 in_burst;
        guint64 out_average;
        guint64 out_burst;
} VmnetLibvirtRates;

gboolean vmnet_libvirt_rates_equal(const VmnetLibvirtRates *a, const VmnetLibvirtRates *b);
gboolean vmnet_libvirt_rates_set(const VmnetLibvirtRates *r);
/* The rates of the <bandwidth> child of the element xml (a <portgroup>); all 0 when none. */
void vmnet_libvirt_rates_of_xml(const char *xml, VmnetLibvirtRates *r);
/* "inbound 12500 -> 25000 kB/s, inbound burst none -> 250 KiB"; NULL when equal. Caller frees. */
char *vmnet_libvirt_rates_change(const VmnetLibvirtRates *from, const VmnetLibvirtRates *to);

typedef struct {
        char *name;
        gboolean is_default;
        VmnetLibvirtRates rates; /* its <bandwidth> */
        char *xml;        /* the <portgroup> element as libvirt formatted it */
        guint vlan;       /* <vmnet:portgroup vlan=> of vmnet's <metadata>, 0 = none */
        gboolean has_trunk;   /* <vmnet:portgroup trunk= native=>: a trunk port group */
        VmnetPortVlans trunk;
} VmnetLibvirtPortgroup;

typedef struct {
        char *name;
        char *uuid;
        gboolean active;
        gboolean persistent;
        gboolean autostart;
        /*
         * The persistent definition (VIR_NETWORK_XML_INACTIVE), which is what
         * a re-define replaces; the running one when the network is
         * transient or the driver cannot give the inactive one (the test
         * driver).
         */
        char *xml;
        char *owner_plan;   /* plan= of vmnet's <metadata>, NULL when vmnet did not define it */
        char *owner_mode;   /* mode= of vmnet's <metadata> */
        guint vlan;         /* vlan= of vmnet's <metadata>: the VLAN of its guest ports, 0 = none */
        char *forward_mode; /* NULL when there is no <forward> */
        char *bridge;       /* <bridge name=>, NULL when none */
        GPtrArray *portgroups; /* VmnetLibvirtPortgroup* */
        /*
         * Its <ip> elements: the host's address on the network's bridge and
         * the subnet (VmnetLibvirtIp), in document order. vmnet's own
         * networks have none (their addresses are vmnet's, on its bridge).
         */
        GArray *ips;
} VmnetLibvirtNetwork;

typedef struct {
        VmnetAddr address; /* <ip address=>: the host's address, the guests' gateway */
        VmnetPrefix subnet; /* with prefix= or netmask= (IPv4 without either: its class) */
} VmnetLibvirtIp;

typedef struct {
        char *type;      /* <interface type=>: "network", "bridge", ... */
        gboolean has_mac;
        VmnetMac mac;
        char *network;   /* <source network=> (type network) */
        char *portgroup; /* <source portgroup=> */
        char *model;     /* <model type=>, NULL when none */
        guint queues;    /* <driver queues=>, 0 when none */
        guint mtu;       /* <mtu size=>, 0 when none */
        VmnetLibvirtRates rates; /* own <bandwidth> */
        /*
         * The <address> element as libvirt formatted it, NULL when none: a
         * running guest and its persistent definition can have the same
         * interface in different PCI slots (an owner's config-only NIC took
         * the slot), so each scope is detached or updated by its own XML.
         */
        char *address;
        char *alias;     /* <alias name=>, NULL when none */
        char *target;    /* <target dev=> of a running guest: its tap, NULL when none */
        char *bridge;    /* <source bridge=>: where a running guest's network interface is plugged,
                          * or a type='bridge' interface's bridge; NULL when none */
        /*
         * The element as libvirt formatted it, made fit to send back
         * (attach after a detach, update): without <target> (a generated
         * tap name) and without the running-only source attributes portid
         * and bridge. <address> and <alias> stay, so a re-attach takes the
         * same PCI slot and keeps vmnet's mark.
         */
        char *xml;
        /*
         * The same without <bandwidth>: a running guest's XML shows the
         * port's rates, its port group's when it has none of its own, and
         * sending those back would pin them as its own.
         */
        char *xml_no_bandwidth;
} VmnetLibvirtIface;

typedef struct {
        char *name;
        gboolean active;
        gboolean persistent;
        guint id;              /* while it runs: its id, another at each start */
        gboolean autostart;    /* started with libvirtd (at boot) */
        gboolean start_failed; /* shut off because its last start failed (reason "failed") */
        GPtrArray *live;   /* VmnetLibvirtIface* of the running definition; empty when shut off */
        GPtrArray *config; /* VmnetLibvirtIface* of the persistent definition; empty when transient */
} VmnetLibvirtDomain;

typedef struct {
        char *uri;            /* the connection's URI, for messages */
        GPtrArray *networks;  /* VmnetLibvirtNetwork*, by name */
        GPtrArray *domains;   /* VmnetLibvirtDomain*, by name */
} VmnetLibvirtHost;

/* Sets error to "what: <libvirt's last error message>" (code VMNET_ERROR_LIBVIRT). */
void vmnet_libvirt_set_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Reads every network and domain. *out is the caller's. */
gboolean vmnet_libvirt_observe(virConnectPtr conn, VmnetLibvirtHost **out, GError **error);

VmnetLibvirtHost *vmnet_libvirt_host_new(const char *uri);
void vmnet_libvirt_host_free(VmnetLibvirtHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetLibvirtHost, vmnet_libvirt_host_free)

/* Parses libvirt network XML into a new VmnetLibvirtNetwork (state flags left FALSE). Caller frees. */
VmnetLibvirtNetwork *vmnet_libvirt_network_parse(const char *xml, GError **error);
void vmnet_libvirt_network_free(VmnetLibvirtNetwork *n);

/*
 * Parses the <interface> elements of libvirt domain XML into
 * VmnetLibvirtIface* appended to out.
 */
gboolean vmnet_libvirt_domain_parse_ifaces(const char *xml, GPtrArray *out, GError **error);
void vmnet_libvirt_iface_free(VmnetLibvirtIface *i);
void vmnet_libvirt_domain_free(VmnetLibvirtDomain *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetLibvirtNetwork, vmnet_libvirt_network_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetLibvirtIface, vmnet_libvirt_iface_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetLibvirtDomain, vmnet_libvirt_domain_free)

/* Look-ups; NULL when absent. Borrowed. */
VmnetLibvirtNetwork *vmnet_libvirt_host_find_network(const VmnetLibvirtHost *host,
                                                     const char *name);
VmnetLibvirtDomain *vmnet_libvirt_host_find_domain(const VmnetLibvirtHost *host,
                                                   const char *name);
VmnetLibvirtIface *vmnet_libvirt_ifaces_find_mac(const GPtrArray *ifaces, const VmnetMac *mac);

/* Parses one <interface> element (as libvirt formats it, or as vmnet sends it). Caller frees. */
VmnetLibvirtIface *vmnet_libvirt_iface_parse(const char *xml, GError **error);

/*
 * The <interface> xml without its <address>, for a detach: libvirt then
 * finds the device by its MAC and vmnet's alias alone, never by a PCI
 * slot that may be another scope's or stale. Caller frees.
 */
char *vmnet_libvirt_iface_xml_for_match(const char *xml);

/* "virtio, network lab, mtu 9000, 4 queues" (what a guest has), for messages. Caller frees. */
char *vmnet_libvirt_iface_summary(const VmnetLibvirtIface *f);
/*
 * What a guest port of network n in port group group (NULL: the network's
 * default group) carries, from vmnet's <metadata>: the group's trunk, else
 * its vlan=, else the network's vlan= (an access port). FALSE (out empty)
 * when the network is not one of vmnet's VLAN-aware networks.
 */
gboolean vmnet_libvirt_network_port_vlans(const VmnetLibvirtNetwork *n, const char *group,
                                          VmnetPortVlans *out);

/*
 * A network hook's standard input for a port (operations port-created and
 * port-deleted: <hookData><network/><networkport/></hookData>): the network
 * as libvirt has it, and the port's MAC, port group (NULL: the network's
 * default) and bridge. Caller frees what it gets.
 */
typedef struct {
        VmnetLibvirtNetwork *network;
        VmnetMac mac;
        char *group;
        char *bridge;
} VmnetLibvirtHookPort;

gboolean vmnet_libvirt_hook_port_parse(const char *xml, VmnetLibvirtHookPort *out, GError **error);
void vmnet_libvirt_hook_port_clear(VmnetLibvirtHookPort *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VmnetLibvirtHookPort, vmnet_libvirt_hook_port_clear)

/* Is alias the mark of an interface vmnet attached (for any plan / for plan_name)? */
gboolean vmnet_libvirt_alias_is_vmnet(const char *alias);
gboolean vmnet_libvirt_alias_is_plan(const char *alias, const char *plan_name);

/*
 * The addresses the guest agents of the named running domains (char*)
 * report, per interface MAC (VmnetGuestAddr*, see ipam/ipam.h), for the
 * address audit. A domain that does not run, or whose agent does not
 * answer, is skipped: the agent is optional. Caller frees.
 */
GPtrArray *vmnet_libvirt_guest_addresses(virConnectPtr conn, const char *const *domains);
