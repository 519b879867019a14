/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>
#include <libxml/xpathInternals.h>

#include "backend/libvirt/libvirt.h"
#include "backend/libvirt/ops.h"
#include "ipam/ipam.h"
#include "render/render.h"
#include "util/autoptr.h"

#define ALIAS_PREFIX "ua-vmnet-"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)

void vmnet_libvirt_set_error(GError **error, const char *fmt, ...)
{
        g_autofree char *what = NULL;
        const char *msg = vmnet_libvirt_last_error();
        va_list ap;

        va_start(ap, fmt);
        what = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_LIBVIRT, "%s: %s", what, msg);
}

/* ------------------------------------------------------------ free */

static void portgroup_free(VmnetLibvirtPortgroup *pg)
{
        g_free(pg->name);
        g_free(pg->xml);
        g_free(pg);
}

void vmnet_libvirt_network_free(VmnetLibvirtNetwork *n)
{
        if (!n)
                return;
        g_free(n->name);
        g_free(n->uuid);
        g_free(n->xml);
        g_free(n->owner_plan);
        g_free(n->owner_mode);
        g_free(n->forward_mode);
        g_free(n->bridge);
        g_ptr_array_unref(n->portgroups);
        if (n->ips)
                g_array_unref(n->ips);
        g_free(n);
}

void vmnet_libvirt_iface_free(VmnetLibvirtIface *i)
{
        if (!i)
                return;
        g_free(i->type);
        g_free(i->network);
        g_free(i->portgroup);
        g_free(i->model);
        g_free(i->address);
        g_free(i->alias);
        g_free(i->target);
        g_free(i->bridge);
        g_free(i->xml);
        g_free(i->xml_no_bandwidth);
        g_free(i);
}

void vmnet_libvirt_domain_free(VmnetLibvirtDomain *d)
{
        if (!d)
                return;
        g_free(d->name);
        g_ptr_array_unref(d->live);
        g_ptr_array_unref(d->config);
        g_free(d);
}

VmnetLibvirtHost *vmnet_libvirt_host_new(const char *uri)
{
        VmnetLibvirtHost *h = g_new0(VmnetLibvirtHost, 1);

        h->uri = g_strdup(uri);
        h->networks = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_network_free);
        h->domains = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_domain_free);
        return h;
}

void vmnet_libvirt_host_free(VmnetLibvirtHost *h)
{
        if (!h)
                return;
        g_free(h->uri);
        g_ptr_array_unref(h->networks);
        g_ptr_array_unref(h->domains);
        g_free(h);
}

/* ------------------------------------------------------------ XML */

static xmlDoc *parse_xml(const char *xml, const char *what, GError **error)
{
        /* Without blank nodes, so that elements dumped from it are indented afresh. */
        xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), what, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                            XML_PARSE_NOBLANKS);

        if (!doc)
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_LIBVIRT,
                            "libvirt returned %s XML that does not parse", what);
        return doc;
}

static char *prop(xmlNode *node, const char *name)
{
        g_autoptr(VmnetXmlStr) v = node ? xmlGetProp(node, (const xmlChar *)name) : NULL;

        return v ? g_strdup((const char *)v) : NULL;
}

static guint64 prop_u64(xmlNode *node, const char *name)
{
        g_autofree char *v = prop(node, name);
        guint64 n = 0;

        if (v)
                g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, &n, NULL);
        return n;
}

static xmlNode *child(xmlNode *node, const char *name)
{
        for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && g_str_equal((const char *)c->name, name))
                        return c;
        return NULL;
}

static char *child_text(xmlNode *node, const char *name)
{
        xmlNode *c = child(node, name);
        g_autoptr(VmnetXmlStr) v = c ? xmlNodeGetContent(c) : NULL;

        return v ? g_strstrip(g_strdup((const char *)v)) : NULL;
}

static char *node_to_string(xmlDoc *doc, xmlNode *node)
{
        g_autoptr(xmlBuffer) buf = xmlBufferCreate();

        xmlNodeDump(buf, doc, node, 0, 1);
        return g_strconcat((const char *)xmlBufferContent(buf), "\n", NULL);
}

gboolean vmnet_libvirt_rates_equal(const VmnetLibvirtRates *a, const VmnetLibvirtRates *b)
{
        return a->in_average == b->in_average && a->in_peak == b->in_peak &&
               a->in_burst == b->in_burst && a->out_average == b->out_average &&
               a->out_burst == b->out_burst;
}

gboolean vmnet_libvirt_rates_set(const VmnetLibvirtRates *r)
{
        return r->in_average || r->out_average;
}

/* Only what vmnet renders (floor and an outbound peak are never in its plans). */
static void read_bandwidth(xmlNode *parent, VmnetLibvirtRates *r)
{
        xmlNode *bw = child(parent, "bandwidth");
        xmlNode *in = child(bw, "inbound"), *out = child(bw, "outbound");

        r->in_average = prop_u64(in, "average");
        r->in_peak = prop_u64(in, "peak");
        r->in_burst = prop_u64(in, "burst");
        r->out_average = prop_u64(out, "average");
        r->out_burst = prop_u64(out, "burst");
}

void vmnet_libvirt_rates_of_xml(const char *xml, VmnetLibvirtRates *r)
{
        g_autoptr(xmlDoc) doc = xml ? parse_xml(xml, "element", NULL) : NULL;

        memset(r, 0, sizeof(*r));
        if (doc)
                read_bandwidth(xmlDocGetRootElement(doc), r);
}

char *vmnet_libvirt_rates_change(const VmnetLibvirtRates *from, const VmnetLibvirtRates *to)
{
        static const struct {
                const char *name;
                gsize offset;
                const char *unit;
        } fields[] = {
                { "inbound", G_STRUCT_OFFSET(VmnetLibvirtRates, in_average), "kB/s" },
                { "inbound peak", G_STRUCT_OFFSET(VmnetLibvirtRates, in_peak), "kB/s" },
                { "inbound burst", G_STRUCT_OFFSET(VmnetLibvirtRates, in_burst), "KiB" },
                { "outbound", G_STRUCT_OFFSET(VmnetLibvirtRates, out_average), "kB/s" },
                { "outbound burst", G_STRUCT_OFFSET(VmnetLibvirtRates, out_burst), "KiB" },
        };
        g_autoptr(GString) out = g_string_new(NULL);
        gboolean empty;

        for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
                guint64 a = G_STRUCT_MEMBER(guint64, from, fields[i].offset);
                guint64 b = G_STRUCT_MEMBER(guint64, to, fields[i].offset);
                g_autofree char *as = a ? g_strdup_printf("%" G_GUINT64_FORMAT, a) : g_strdup("none");
                g_autofree char *bs = b ? g_strdup_printf("%" G_GUINT64_FORMAT, b) : g_strdup("none");

                if (a != b)
                        g_string_append_printf(out, "%s%s %s -> %s %s", out->len ? ", " : "",
                                               fields[i].name, as, bs, fields[i].unit);
        }
        empty = out->len == 0;
        return g_string_free(g_steal_pointer(&out), empty);
}

static void unlink_node(xmlNode *node)
{
        xmlUnlinkNode(node);
        xmlFreeNode(node);
}

/* The prefix length of a netmask (255.255.252.0: 22); -1 when it is not one. */
static int netmask_prefix(const VmnetAddr *mask)
{
        guint len = vmnet_addr_len(mask), n = 0;
        gboolean ended = FALSE;

        for (guint i = 0; i < len; i++) {
                for (int b = 7; b >= 0; b--) {
                        gboolean set = (mask->bytes[i] >> b) & 1;

                        if (set && ended)
                                return -1;
                        if (set)
                                n++;
                        else
                                ended = TRUE;
                }
        }
        return (int)n;
}

/*
 * One <ip address= (prefix=|netmask=)>. libvirt takes an IPv4 address
 * without either by its class (virSocketAddrGetIPPrefix()); an address it
 * would refuse is skipped.
 */
static gboolean parse_ip(xmlNode *node, VmnetLibvirtIp *out)
{
        g_autofree char *address = prop(node, "address");
        g_autofree char *prefix = prop(node, "prefix");
        g_autofree char *netmask = prop(node, "netmask");
        guint64 len = 0;

        memset(out, 0, sizeof(*out));
        if (!address || !vmnet_addr_parse(address, &out->address))
                return FALSE;
        if (prefix) {
                if (!g_ascii_string_to_unsigned(prefix, 10, 0, vmnet_addr_len(&out->address) * 8,
                                                &len, NULL))
                        return FALSE;
        } else if (netmask) {
                VmnetAddr mask;
                int n;

                if (!vmnet_addr_parse(netmask, &mask) || mask.family != out->address.family ||
                    (n = netmask_prefix(&mask)) < 0)
                        return FALSE;
                len = (guint64)n;
        } else if (out->address.family == AF_INET) {
                guint8 first = out->address.bytes[0];

                len = first < 128 ? 8 : first < 192 ? 16 : first < 224 ? 24 : 0;
                if (!len)
                        return FALSE;
        } else {
                len = 64;
        }
        out->subnet.addr = out->address;
        out->subnet.prefix = (guint)len;
        vmnet_addr_mask(&out->subnet.addr, out->subnet.prefix);
        return TRUE;
}

/*
 * <vmnet:portgroup vlan=> or <vmnet:portgroup trunk= native=> (written by
 * render/libvirt-network.c). A trunk that does not read is a trunk of no
 * VLAN: its ports are placed nowhere rather than in the network's VLAN.
 */
static void read_port_vlans(xmlNode *c, VmnetLibvirtPortgroup *pg)
{
        g_autofree char *list = prop(c, "trunk");
        g_autofree char *why = NULL;
        guint64 native = prop_u64(c, "native");

        pg->vlan = (guint)prop_u64(c, "vlan");
        if (!list)
                return;
        pg->has_trunk = TRUE;
        if (native <= 4094 && vmnet_vlan_list_parse(list, &pg->trunk, &why))
                pg->trunk.untagged = (guint)native;
        else
                vmnet_port_vlans_access(&pg->trunk, 0);
}

VmnetLibvirtNetwork *vmnet_libvirt_network_parse(const char *xml, GError **error)
{
        g_autoptr(xmlDoc) doc = parse_xml(xml, "network", error);
        g_autoptr(xmlXPathContext) ctx = NULL;
        g_autoptr(xmlXPathObject) meta = NULL;
        VmnetLibvirtNetwork *n;
        xmlNode *root, *vmeta = NULL;

        if (!doc)
                return NULL;
        root = xmlDocGetRootElement(doc);
        n = g_new0(VmnetLibvirtNetwork, 1);
        n->portgroups = g_ptr_array_new_with_free_func((GDestroyNotify)portgroup_free);
        n->xml = g_strdup(xml);
        n->name = child_text(root, "name");
        n->uuid = child_text(root, "uuid");
        n->forward_mode = prop(child(root, "forward"), "mode");
        /* <forward> without mode= is NAT. */
        if (child(root, "forward") && !n->forward_mode)
                n->forward_mode = g_strdup("nat");
        n->bridge = prop(child(root, "bridge"), "name");
        n->ips = g_array_new(FALSE, TRUE, sizeof(VmnetLibvirtIp));
        for (xmlNode *c = root->children; c; c = c->next) {
                VmnetLibvirtIp ip;

                if (c->type == XML_ELEMENT_NODE && g_str_equal((const char *)c->name, "ip") &&
                    parse_ip(c, &ip))
                        g_array_append_val(n->ips, ip);
        }

        ctx = xmlXPathNewContext(doc);
        xmlXPathRegisterNs(ctx, (const xmlChar *)"vmnet", (const xmlChar *)VMNET_LIBVIRT_METADATA_NS);
        meta = xmlXPathEvalExpression((const xmlChar *)"/network/metadata/vmnet:network", ctx);
        if (meta && meta->nodesetval && meta->nodesetval->nodeNr > 0) {
                xmlNode *m = vmeta = meta->nodesetval->nodeTab[0];

                n->owner_plan = prop(m, "plan");
                n->owner_mode = prop(m, "mode");
                n->vlan = (guint)prop_u64(m, "vlan");
        }
        for (xmlNode *c = root->children; c; c = c->next) {
                VmnetLibvirtPortgroup *pg;
                g_autofree char *def = NULL;

                if (c->type != XML_ELEMENT_NODE || !g_str_equal((const char *)c->name, "portgroup"))
                        continue;
                pg = g_new0(VmnetLibvirtPortgroup, 1);
                pg->name = prop(c, "name");
                def = prop(c, "default");
                pg->is_default = g_strcmp0(def, "yes") == 0;
                read_bandwidth(c, &pg->rates);
                pg->xml = node_to_string(doc, c);
                g_ptr_array_add(n->portgroups, pg);
        }
        /* <vmnet:portgroup name= vlan=> children: the VLANs of port groups. */
        for (xmlNode *c = vmeta ? vmeta->children : NULL; c; c = c->next) {
                g_autofree char *name = NULL;

                if (c->type != XML_ELEMENT_NODE || !g_str_equal((const char *)c->name, "portgroup"))
                        continue;
                name = prop(c, "name");
                for (guint j = 0; j < n->portgroups->len; j++) {
                        VmnetLibvirtPortgroup *pg = g_ptr_array_index(n->portgroups, j);

                        if (g_strcmp0(pg->name, name) == 0)
                                read_port_vlans(c, pg);
                }
        }
        return n;
}

gboolean vmnet_libvirt_network_port_vlans(const VmnetLibvirtNetwork *n, const char *group,
                                          VmnetPortVlans *out)
{
        const VmnetLibvirtPortgroup *own = NULL;

        vmnet_port_vlans_access(out, 0);
        /* Only vmnet's own metadata says so; anything else is no VLAN. */
        if (!n->owner_plan || !n->vlan || n->vlan > 4094)
                return FALSE;
        for (guint i = 0; i < n->portgroups->len; i++) {
                const VmnetLibvirtPortgroup *pg = g_ptr_array_index(n->portgroups, i);

                if (group ? g_strcmp0(pg->name, group) == 0 : pg->is_default)
                        own = pg;
        }
        if (own && own->has_trunk)
                *out = own->trunk;
        else if (own && own->vlan)
                vmnet_port_vlans_access(out, own->vlan <= 4094 ? own->vlan : 0);
        else
                vmnet_port_vlans_access(out, n->vlan);
        return TRUE;
}

static VmnetLibvirtIface *parse_iface(xmlDoc *doc, xmlNode *node)
{
        VmnetLibvirtIface *i = g_new0(VmnetLibvirtIface, 1);
        g_autofree char *mac = prop(child(node, "mac"), "address");
        xmlNode *source = child(node, "source");
        xmlNode *target;

        i->type = prop(node, "type");
        i->has_mac = mac && vmnet_mac_parse(mac, &i->mac);
        /*
         * A running guest's <interface type='network'> is formatted with
         * the type of the port libvirt plugged (libvirtd 9.0 shows
         * type='bridge' with <source network= portid= bridge=> for a
         * forward mode='bridge' network): the network= attribute says it
         * is a network interface, which is also what must be sent back.
         */
        if (source && g_strcmp0(i->type, "network") != 0 && xmlHasProp(source, (const xmlChar *)"network")) {
                g_free(i->type);
                i->type = g_strdup("network");
                xmlSetProp(node, (const xmlChar *)"type", (const xmlChar *)"network");
        }
        if (g_strcmp0(i->type, "network") == 0) {
                i->network = prop(source, "network");
                i->portgroup = prop(source, "portgroup");
        }
        i->model = prop(child(node, "model"), "type");
        i->queues = (guint)prop_u64(child(node, "driver"), "queues");
        i->mtu = (guint)prop_u64(child(node, "mtu"), "size");
        read_bandwidth(node, &i->rates);
        i->alias = prop(child(node, "alias"), "name");
        if (child(node, "address"))
                i->address = node_to_string(doc, child(node, "address"));

        /* Fit to send back: see VmnetLibvirtIface.xml. */
        if ((target = child(node, "target"))) {
                i->target = prop(target, "dev");
                unlink_node(target);
        }
        /* <source bridge=>: a running network interface's bridge, or a type='bridge' one's. */
        if (source)
                i->bridge = prop(source, "bridge");
        if (source && g_strcmp0(i->type, "network") == 0) {
                xmlUnsetProp(source, (const xmlChar *)"portid");
                xmlUnsetProp(source, (const xmlChar *)"bridge");
        }
        i->xml = node_to_string(doc, node);
        for (xmlNode *bw; (bw = child(node, "bandwidth"));)
                unlink_node(bw);
        i->xml_no_bandwidth = node_to_string(doc, node);
        return i;
}

gboolean vmnet_libvirt_domain_parse_ifaces(const char *xml, GPtrArray *out, GError **error)
{
        g_autoptr(xmlDoc) doc = parse_xml(xml, "domain", error);
        xmlNode *devices;

        if (!doc)
                return FALSE;
        devices = child(xmlDocGetRootElement(doc), "devices");
        for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && g_str_equal((const char *)c->name, "interface"))
                        g_ptr_array_add(out, parse_iface(doc, c));
        return TRUE;
}

VmnetLibvirtIface *vmnet_libvirt_iface_parse(const char *xml, GError **error)
{
        g_autoptr(xmlDoc) doc = parse_xml(xml, "interface", error);
        xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

        if (!doc)
                return NULL;
        if (!root || !g_str_equal((const char *)root->name, "interface")) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_LIBVIRT,
                            "the XML of an interface is not an <interface> element");
                return NULL;
        }
        return parse_iface(doc, root);
}

char *vmnet_libvirt_iface_xml_for_match(const char *xml)
{
        g_autoptr(xmlDoc) doc = parse_xml(xml, "interface", NULL);
        xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

        if (!root)
                return g_strdup(xml);
        for (xmlNode *a; (a = child(root, "address"));)
                unlink_node(a);
        return node_to_string(doc, root);
}

char *vmnet_libvirt_iface_summary(const VmnetLibvirtIface *f)
{
        GString *s = g_string_new(f->model ? f->model : "default model");

        if (f->network)
                g_string_append_printf(s, ", network %s", f->network);
        if (f->portgroup)
                g_string_append_printf(s, ", port group %s", f->portgroup);
        if (f->mtu)
                g_string_append_printf(s, ", mtu %u", f->mtu);
        if (f->queues)
                g_string_append_printf(s, ", %u queues", f->queues);
        return g_string_free(s, FALSE);
}

gboolean vmnet_libvirt_hook_port_parse(const char *xml, VmnetLibvirtHookPort *out, GError **error)
{
        g_autoptr(xmlDoc) doc = parse_xml(xml, "hook", error);
        xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
        xmlNode *net = child(root, "network"), *port = child(root, "networkport");
        g_autofree char *net_xml = NULL, *mac = NULL;

        memset(out, 0, sizeof(*out));
        if (!doc)
                return FALSE;
        mac = prop(child(port, "mac"), "address");
        if (!root || !g_str_equal((const char *)root->name, "hookData") || !net || !port ||
            !mac || !vmnet_mac_parse(mac, &out->mac)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_LIBVIRT,
                            "the hook's input is not <hookData> with a <network> and a "
                            "<networkport> that has a MAC address");
                return FALSE;
        }
        net_xml = node_to_string(doc, net);
        if (!(out->network = vmnet_libvirt_network_parse(net_xml, error)))
                return FALSE;
        out->group = child_text(port, "group");
        out->bridge = prop(child(port, "plug"), "bridge");
        return TRUE;
}

void vmnet_libvirt_hook_port_clear(VmnetLibvirtHookPort *p)
{
        g_clear_pointer(&p->network, vmnet_libvirt_network_free);
        g_clear_pointer(&p->group, g_free);
        g_clear_pointer(&p->bridge, g_free);
}

/* ------------------------------------------------------------ observe */

static gboolean observe_network(virNetworkPtr net, VmnetLibvirtHost *host, GError **error)
{
        const char *name = virNetworkGetName(net);
        g_autofree char *xml = NULL;
        VmnetLibvirtNetwork *n;
        int active = virNetworkIsActive(net);
        int persistent = virNetworkIsPersistent(net);
        int autostart = 0;

        if (active < 0 || persistent < 0 || virNetworkGetAutostart(net, &autostart) < 0) {
                vmnet_libvirt_set_error(error, "reading libvirt network %s", name);
                return FALSE;
        }
        if (persistent)
                xml = virNetworkGetXMLDesc(net, VIR_NETWORK_XML_INACTIVE);
        if (!xml) {
                /* Transient, or a driver without the flag (the test driver): the running XML. */
                virResetLastError();
                xml = virNetworkGetXMLDesc(net, 0);
        }
        if (!xml) {
                vmnet_libvirt_set_error(error, "reading the XML of libvirt network %s", name);
                return FALSE;
        }
        if (!(n = vmnet_libvirt_network_parse(xml, error))) {
                g_prefix_error(error, "libvirt network %s: ", name);
                return FALSE;
        }
        n->active = active;
        n->persistent = persistent;
        n->autostart = autostart;
        g_ptr_array_add(host->networks, n);
        return TRUE;
}

static gboolean observe_domain(virDomainPtr dom, VmnetLibvirtHost *host, GError **error)
{
        const char *name = virDomainGetName(dom);
        g_autoptr(VmnetLibvirtDomain) d = g_new0(VmnetLibvirtDomain, 1);
        int active = virDomainIsActive(dom);
        int persistent = virDomainIsPersistent(dom);

        d->name = g_strdup(name);
        d->live = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        d->config = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        if (active < 0 || persistent < 0) {
                vmnet_libvirt_set_error(error, "reading libvirt domain %s", name);
                return FALSE;
        }
        d->active = active;
        d->persistent = persistent;
        if (active)
                d->id = virDomainGetID(dom);
        if (persistent) {
                int autostart = 0, state = 0, reason = 0;

                if (virDomainGetAutostart(dom, &autostart) == 0)
                        d->autostart = autostart;
                if (!active && virDomainGetState(dom, &state, &reason, 0) == 0)
                        d->start_failed = state == VIR_DOMAIN_SHUTOFF &&
                                          reason == VIR_DOMAIN_SHUTOFF_FAILED;
                virResetLastError();
        }
        if (active) {
                g_autofree char *xml = virDomainGetXMLDesc(dom, 0);

                if (!xml || !vmnet_libvirt_domain_parse_ifaces(xml, d->live, error)) {
                        if (!xml)
                                vmnet_libvirt_set_error(error, "reading the XML of domain %s", name);
                        return FALSE;
                }
        }
        if (persistent) {
                g_autofree char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);

                if (!xml || !vmnet_libvirt_domain_parse_ifaces(xml, d->config, error)) {
                        if (!xml)
                                vmnet_libvirt_set_error(error,
                                                        "reading the persistent XML of domain %s",
                                                        name);
                        return FALSE;
                }
        }
        g_ptr_array_add(host->domains, g_steal_pointer(&d));
        return TRUE;
}

static gint cmp_network(gconstpointer a, gconstpointer b)
{
        const VmnetLibvirtNetwork *x = *(VmnetLibvirtNetwork *const *)a;
        const VmnetLibvirtNetwork *y = *(VmnetLibvirtNetwork *const *)b;

        return g_strcmp0(x->name, y->name);
}

static gint cmp_domain(gconstpointer a, gconstpointer b)
{
        const VmnetLibvirtDomain *x = *(VmnetLibvirtDomain *const *)a;
        const VmnetLibvirtDomain *y = *(VmnetLibvirtDomain *const *)b;

        return g_strcmp0(x->name, y->name);
}

gboolean vmnet_libvirt_observe(virConnectPtr conn, VmnetLibvirtHost **out, GError **error)
{
        g_autofree char *uri = virConnectGetURI(conn);
        g_autoptr(VmnetLibvirtHost) host = vmnet_libvirt_host_new(uri);
        virNetworkPtr *nets = NULL;
        virDomainPtr *doms = NULL;
        gboolean ok = TRUE;
        int n;

        n = virConnectListAllNetworks(conn, &nets, 0);
        if (n < 0) {
                vmnet_libvirt_set_error(error, "listing libvirt networks");
                return FALSE;
        }
        for (int i = 0; i < n; i++) {
                /*
                 * A network can vanish between the listing and the read
                 * (another tool); that is an error: the diff must not
                 * work from a half-read host.
                 */
                if (ok && !observe_network(nets[i], host, error))
                        ok = FALSE;
                virNetworkFree(nets[i]);
        }
        free(nets);
        if (!ok)
                return FALSE;

        n = virConnectListAllDomains(conn, &doms, 0);
        if (n < 0) {
                vmnet_libvirt_set_error(error, "listing libvirt domains");
                return FALSE;
        }
        for (int i = 0; i < n; i++) {
                if (ok && !observe_domain(doms[i], host, error))
                        ok = FALSE;
                virDomainFree(doms[i]);
        }
        free(doms);
        if (!ok)
                return FALSE;
        g_ptr_array_sort(host->networks, cmp_network);
        g_ptr_array_sort(host->domains, cmp_domain);
        *out = g_steal_pointer(&host);
        return TRUE;
}

/* ------------------------------------------------------------ look-ups */

VmnetLibvirtNetwork *vmnet_libvirt_host_find_network(const VmnetLibvirtHost *host,
                                                     const char *name)
{
        for (guint i = 0; i < host->networks->len; i++) {
                VmnetLibvirtNetwork *n = g_ptr_array_index(host->networks, i);

                if (g_strcmp0(n->name, name) == 0)
                        return n;
        }
        return NULL;
}

VmnetLibvirtDomain *vmnet_libvirt_host_find_domain(const VmnetLibvirtHost *host,
                                                   const char *name)
{
        for (guint i = 0; i < host->domains->len; i++) {
                VmnetLibvirtDomain *d = g_ptr_array_index(host->domains, i);

                if (g_strcmp0(d->name, name) == 0)
                        return d;
        }
        return NULL;
}

VmnetLibvirtIface *vmnet_libvirt_ifaces_find_mac(const GPtrArray *ifaces, const VmnetMac *mac)
{
        for (guint i = 0; ifaces && i < ifaces->len; i++) {
                VmnetLibvirtIface *f = g_ptr_array_index(ifaces, i);

                if (f->has_mac && vmnet_mac_equal(&f->mac, mac))
                        return f;
        }
        return NULL;
}

gboolean vmnet_libvirt_alias_is_vmnet(const char *alias)
{
        return alias && g_str_has_prefix(alias, ALIAS_PREFIX);
}

gboolean vmnet_libvirt_alias_is_plan(const char *alias, const char *plan_name)
{
        static const VmnetMac zero;
        g_autofree char *sample = NULL;
        gsize prefix_len;

        if (!vmnet_libvirt_alias_is_vmnet(alias))
                return FALSE;
        /* The alias of this plan for some MAC: the same prefix, then exactly 12 hex digits. */
        sample = vmnet_render_iface_alias(plan_name, &zero);
        prefix_len = strlen(sample) - 12;
        if (strlen(alias) != strlen(sample) || strncmp(alias, sample, prefix_len) != 0)
                return FALSE;
        for (const char *p = alias + prefix_len; *p; p++)
                if (!g_ascii_isxdigit(*p))
                        return FALSE;
        return TRUE;
}

/* ------------------------------------------------------------ guest agent */

GPtrArray *vmnet_libvirt_guest_addresses(virConnectPtr conn, const char *const *domains)
{
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_guest_addr_free);

        for (const char *const *name = domains; name && *name; name++) {
                g_autoptr(VmnetVirDomain) dom = virDomainLookupByName(conn, *name);
                virDomainInterfacePtr *ifaces = NULL;
                int n;

                if (!dom || virDomainIsActive(dom) != 1)
                        continue;
                n = virDomainInterfaceAddresses(dom, &ifaces,
                                                VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, 0);
                for (int i = 0; i < n; i++) {
                        VmnetMac mac;

                        if (ifaces[i]->hwaddr && vmnet_mac_parse(ifaces[i]->hwaddr, &mac)) {
                                for (guint j = 0; j < ifaces[i]->naddrs; j++) {
                                        VmnetGuestAddr *g = g_new0(VmnetGuestAddr, 1);

                                        g->domain = g_strdup(*name);
                                        g->source = VMNET_IPAM_SOURCE_AGENT;
                                        g->mac = mac;
                                        if (!vmnet_addr_parse(ifaces[i]->addrs[j].addr, &g->ip)) {
                                                vmnet_guest_addr_free(g);
                                                continue;
                                        }
                                        g_ptr_array_add(out, g);
                                }
                        }
                        virDomainInterfaceFree(ifaces[i]);
                }
                free(ifaces);
                virResetLastError();
        }
        return out;
}
