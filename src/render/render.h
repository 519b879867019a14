/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Renderers: pure functions from the (validated, finalized) plan model to
 * text. No I/O, no host state. Each returns a newly allocated string that
 * the caller frees; output is deterministic so it can be golden-tested.
 */

#include "ipam/ipam.h"
#include "model/model.h"

/* The XML namespace vmnet puts in <metadata> of what it defines in libvirt. */
#define VMNET_LIBVIRT_METADATA_NS "urn:vmnet:libvirt:1"

/* libvirt network XML for one network (virNetworkDefineXML input). */
char *vmnet_render_libvirt_network(const VmnetPlan *plan, const VmnetNetwork *net);

/*
 * Appends libvirt's <bandwidth> element for bw at indent (nothing when bw
 * sets no average): a port group's or an interface's.
 */
void vmnet_render_bandwidth(GString *out, const char *indent, const VmnetBandwidth *bw);

/* libvirt <interface> XML for one domain interface (virDomainAttachDeviceFlags input). */
char *vmnet_render_domain_interface(const VmnetPlan *plan, const VmnetDomain *dom,
                                    const VmnetInterface *ifc);
/*
 * The same; target FALSE leaves out <target dev='vmn...'/>: what a live
 * update of a NIC plugged under another tap name sends, since libvirt
 * refuses to rename a running NIC's tap.
 */
char *vmnet_render_domain_interface_full(const VmnetPlan *plan, const VmnetDomain *dom,
                                         const VmnetInterface *ifc, gboolean target);

/*
 * The libvirt user alias marking an interface vmnet attached for plan_name:
 * "ua-vmnet-" + the plan name (bytes other than [A-Za-z0-9-] as "_xx", since
 * libvirt keeps only [A-Za-z0-9_-] aliases) + "-" + the MAC's 12 hex digits.
 */
char *vmnet_render_iface_alias(const char *plan_name, const VmnetMac *mac);

/*
 * The dnsmasq configuration of one network (dnsmasq --conf-file= input):
 * DHCP ranges, the network's <reservation>s plus hosts (VmnetReservation*:
 * the IPAM addresses of the plan's interfaces, may be NULL) as static
 * leases, DNS for domain=, bound to the network's bridge only. NULL, with
 * error set, when a value (a name, a path) cannot be written safely into
 * dnsmasq's syntax; the caller frees the string.
 */
char *vmnet_render_dnsmasq(const VmnetPlan *plan, const VmnetNetwork *net, const GPtrArray *hosts,
                           const char *lease_file, const char *pid_file, GError **error);

/*
 * The systemd service of one dnsmasq instance, as the properties
 * StartTransientUnit takes (D-Bus type a(sv); vmnet(8), SYSTEMD): ExecStart
 * binary --conf-file=conf_path, Type=forking with PIDFile=pid_file (the
 * start job ends when dnsmasq has read its configuration and bound its
 * sockets, failed when it could not: what vmnet waits for when it forks
 * dnsmasq itself), Restart=always after 1 s (dnsmasq exits 0 on SIGTERM,
 * which Restart=on-failure takes for a clean exit: kill(1) would end it for
 * good), in system-vmnet.slice, unloaded once stopped or failed
 * (CollectMode=inactive-or-failed), and
 * NetworkNamespacePath=/run/netns/NETNS for a plan applied in network
 * namespace netns (NULL: the host's). A new reference the caller unrefs.
 */
GVariant *vmnet_render_dnsmasq_unit(const char *description, const char *binary,
                                    const char *conf_path, const char *pid_file,
                                    const char *netns);

/*
 * The nftables tables vmnet owns, as an `nft -f` script, with ipam's
 * allocations bound to guest ports (may be NULL; vmnet_nft_ir_from_plan()).
 * Defined with the rest of the nftables path, in src/backend/nftables/text.c.
 */
char *vmnet_render_nft(const VmnetPlan *plan, const VmnetIpam *ipam);
