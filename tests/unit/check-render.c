/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "observe/ports.h"
#include "observe/topology.h"
#include "render/render.h"
#include "tests/unit/testutil.h"
#include "util/autoptr.h"

/*
 * The libvirt renderers, checked three ways: exact text (inline expectations
 * for models built here, golden files under tests/data/render/ for every
 * plan in examples/), libvirt's own RelaxNG schemas (virt-xml-validate),
 * and libvirt's test driver, which parses the XML with the same code as
 * libvirtd and must hand the same settings back.
 *
 * Golden files: tests/data/render/<example>/network-<net>.xml and
 * domain-<dom>-<n>.xml, n the 0-based index of the interface in the domain;
 * topology.dot, the picture of `vmnet status --format dot` of a host that
 * has exactly what the example asks for (applied_host() below).
 */

/* ---------------------------------------------------------------- models */

static VmnetPortgroup *add_portgroup(VmnetNetwork *net, const char *name, gboolean is_default,
                                     guint64 in, guint64 out)
{
        VmnetPortgroup *pg = vmnet_portgroup_new();

        pg->name = g_strdup(name);
        pg->is_default = is_default;
        if (in || out) {
                pg->has_bandwidth = TRUE;
                pg->bandwidth.inbound = in;
                pg->bandwidth.outbound = out;
        }
        g_ptr_array_add(net->portgroups, pg);
        return pg;
}

static VmnetInterface *add_interface(VmnetDomain *dom, const char *network, const char *portgroup,
                                     const char *model, guint queues)
{
        VmnetInterface *ifc = vmnet_interface_new();

        ifc->network = g_strdup(network);
        ifc->portgroup = g_strdup(portgroup);
        ifc->model = g_strdup(model);
        ifc->queues = queues;
        g_ptr_array_add(dom->interfaces, ifc);
        return ifc;
}

/*
 * hv1: "lab" (nat, jumbo MTU, three port groups, one with a VLAN that must
 * not be rendered) and "iso" (isolated, default bridge name, no port
 * groups); domain "web1" with an interface of each kind.
 */
static VmnetPlan *make_plan(void)
{
        g_autoptr(VmnetPlan) plan = vmnet_plan_new("hv1.xml");
        VmnetNetwork *lab, *iso;
        VmnetDomain *dom;
        VmnetInterface *ifc;
        VmnetPortgroup *pg;

        plan->name = g_strdup("hv1");
        lab = vmnet_test_add_network(plan, "lab", VMNET_MODE_NAT, "vmbr-lab");
        lab->mtu = 9000;
        add_portgroup(lab, "web", TRUE, 100000000, 100000000);
        add_portgroup(lab, "slow", FALSE, 1, 0);
        pg = add_portgroup(lab, "plain", FALSE, 0, 0);
        pg->vlan = 100;
        iso = vmnet_test_add_network(plan, "iso", VMNET_MODE_ISOLATED, NULL);
        (void)iso;

        dom = vmnet_domain_new();
        dom->name = g_strdup("web1");
        g_ptr_array_add(plan->domains, dom);
        ifc = add_interface(dom, "lab", "web", "virtio", 2);
        g_assert_true(vmnet_mac_parse("52:54:00:12:34:56", &ifc->mac));
        ifc->has_mac = TRUE;
        ifc->has_bandwidth = TRUE;
        ifc->bandwidth.inbound = 10000000;
        ifc->bandwidth.outbound = 10000000;
        add_interface(dom, "iso", NULL, "e1000", 4);
        add_interface(dom, "lab", NULL, NULL, 0);

        vmnet_plan_finalize(plan);
        return g_steal_pointer(&plan);
}

static VmnetNetwork *net_at(const VmnetPlan *plan, guint i)
{
        return g_ptr_array_index(plan->networks, i);
}

static VmnetInterface *ifc_at(const VmnetDomain *dom, guint i)
{
        return g_ptr_array_index(dom->interfaces, i);
}

static VmnetDomain *dom_at(const VmnetPlan *plan, guint i)
{
        return g_ptr_array_index(plan->domains, i);
}

/* --------------------------------------------------------------- helpers */

static xmlDoc *parse_xml(const char *xml)
{
        xmlDoc *doc = xmlReadMemory(xml, strlen(xml), "rendered.xml", "UTF-8",
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

        ck_assert_msg(doc != NULL, "not well-formed XML:\n%s", xml);
        return doc;
}

/* The XPath 1.0 string value of expr (use string(...) / count(...)). Caller frees. */
static char *xpath_str(xmlDoc *doc, const char *expr)
{
        xmlXPathContext *ctxt = xmlXPathNewContext(doc);
        xmlXPathObject *obj;
        char *ret;

        xmlXPathRegisterNs(ctxt, BAD_CAST "vmnet", BAD_CAST VMNET_LIBVIRT_METADATA_NS);
        obj = xmlXPathEvalExpression(BAD_CAST expr, ctxt);
        ck_assert_msg(obj != NULL, "bad XPath %s", expr);
        if (obj->type == XPATH_NUMBER)
                ret = g_strdup_printf("%g", obj->floatval);
        else
                ret = g_strdup(obj->stringval ? (const char *)obj->stringval : "");
        xmlXPathFreeObject(obj);
        xmlXPathFreeContext(ctxt);
        return ret;
}

#define assert_xpath(doc, expr, expected)                                                  \
        do {                                                                               \
                g_autofree char *_v = xpath_str((doc), (expr));                            \
                ck_assert_msg(g_strcmp0(_v, (expected)) == 0, "%s: got '%s', expected '%s'", \
                              (expr), _v, (expected));                                     \
        } while (0)

/* ---------------------------------------------------- virt-xml-validate */

static const char *virt_xml_validate(void)
{
        static char *path;
        const char *env = g_getenv("VIRT_XML_VALIDATE");

        if (env && *env)
                return env;
        if (!path)
                path = g_find_program_in_path("virt-xml-validate");
        ck_assert_msg(path != NULL, "virt-xml-validate not found (configure's VIRT_XML_VALIDATE "
                                    "or PATH; Debian: libvirt-clients)");
        return path;
}

/* Runs virt-xml-validate on xml as schema type; TRUE when valid, *output gets its messages. */
static gboolean run_validate(const char *xml, const char *type, char **output)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        int fd, status;
        gboolean ok;

        fd = g_file_open_tmp("vmnet-render-XXXXXX.xml", &path, &error);
        ck_assert_msg(fd >= 0, "temp file: %s", error ? error->message : "");
        close(fd);
        ck_assert(g_file_set_contents(path, xml, -1, &error));
        {
                const char *argv[] = { virt_xml_validate(), path, type, NULL };

                ck_assert_msg(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                           &out, &err, &status, &error),
                              "running %s: %s", argv[0], error ? error->message : "");
        }
        ok = g_spawn_check_wait_status(status, NULL);
        g_unlink(path);
        if (output)
                *output = g_strconcat(out ? out : "", err ? err : "", NULL);
        return ok;
}

static char *wrap_in_domain(const char *iface)
{
        return g_strdup_printf("<domain type='qemu'>\n  <name>t</name>\n  <memory>65536</memory>\n"
                               "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n  </os>\n"
                               "  <devices>\n%s  </devices>\n</domain>\n",
                               iface);
}

static void assert_valid(const char *xml, const char *type)
{
        g_autofree char *output = NULL;

        ck_assert_msg(run_validate(xml, type, &output),
                      "virt-xml-validate rejects this %s XML:\n%s\n%s", type, xml, output);
}

static void assert_network_valid(const char *xml)
{
        assert_valid(xml, "network");
}

static void assert_interface_valid(const char *iface)
{
        g_autofree char *dom = wrap_in_domain(iface);

        assert_valid(dom, "domain");
}

/* ---------------------------------------------------- libvirt test driver */

static void ignore_libvirt_error(void *opaque, virErrorPtr err)
{
}

/* test:///default with its sample network and domain removed. */
static virConnectPtr open_test_driver(void)
{
        virConnectPtr conn;
        virNetworkPtr *nets = NULL;
        virDomainPtr *doms = NULL;
        int n;

        virSetErrorFunc(NULL, ignore_libvirt_error);
        conn = virConnectOpen("test:///default");
        ck_assert_msg(conn != NULL, "test:///default: %s", virGetLastErrorMessage());
        n = virConnectListAllNetworks(conn, &nets, 0);
        ck_assert_int_ge(n, 0);
        for (int i = 0; i < n; i++) {
                if (virNetworkIsActive(nets[i]) == 1)
                        virNetworkDestroy(nets[i]);
                ck_assert_int_eq(virNetworkUndefine(nets[i]), 0);
                virNetworkFree(nets[i]);
        }
        free(nets);
        n = virConnectListAllDomains(conn, &doms, 0);
        ck_assert_int_ge(n, 0);
        for (int i = 0; i < n; i++) {
                if (virDomainIsActive(doms[i]) == 1)
                        virDomainDestroy(doms[i]);
                ck_assert_int_eq(virDomainUndefine(doms[i]), 0);
                virDomainFree(doms[i]);
        }
        free(doms);
        return conn;
}

/*
 * Defines the rendered network in the test driver and checks from libvirt's
 * own XML that name, UUID, forward mode, bridge, port groups (with their
 * bandwidth in KiB/s) and vmnet's metadata survived.
 */
static void check_network_in_libvirt(virConnectPtr conn, const VmnetPlan *plan,
                                     const VmnetNetwork *net, const char *xml)
{
        g_autoptr(VmnetVirNetwork) vnet = virNetworkDefineXML(conn, xml);
        g_autofree char *back = NULL;
        g_autoptr(xmlDoc) doc = NULL;
        g_autoptr(xmlDoc) mine = parse_xml(xml);
        g_autofree char *uuid = xpath_str(mine, "string(/network/uuid)");
        char vuuid[VIR_UUID_STRING_BUFLEN];

        ck_assert_msg(vnet != NULL, "virNetworkDefineXML rejects:\n%s\n%s", xml,
                      virGetLastErrorMessage());
        back = virNetworkGetXMLDesc(vnet, 0);
        ck_assert_msg(back != NULL, "%s", virGetLastErrorMessage());
        doc = parse_xml(back);

        ck_assert_int_eq(virNetworkGetUUIDString(vnet, vuuid), 0);
        ck_assert_str_eq(vuuid, uuid);
        assert_xpath(doc, "string(/network/name)", net->name);
        assert_xpath(doc, "string(/network/uuid)", uuid);
        assert_xpath(doc, "string(/network/forward/@mode)", "bridge");
        assert_xpath(doc, "string(/network/bridge/@name)", net->bridge);
        assert_xpath(doc, "count(/network/ip)", "0");
        assert_xpath(doc, "count(/network/mtu)", "0");
        assert_xpath(doc, "count(//vlan)", "0");
        assert_xpath(doc, "count(/network/metadata/vmnet:network)", "1");
        assert_xpath(doc, "string(/network/metadata/vmnet:network/@plan)", plan->name);
        assert_xpath(doc, "string(/network/metadata/vmnet:network/@mode)",
                     vmnet_mode_to_string(net->mode));
        {
                g_autofree char *count = g_strdup_printf("%u", net->portgroups->len);

                assert_xpath(doc, "count(/network/portgroup)", count);
        }
        for (guint i = 0; i < net->portgroups->len; i++) {
                const VmnetPortgroup *pg = g_ptr_array_index(net->portgroups, i);
                g_autofree char *at = g_strdup_printf("/network/portgroup[%u]", i + 1);
                g_autofree char *e_name = g_strdup_printf("string(%s/@name)", at);
                g_autofree char *e_def = g_strdup_printf("string(%s/@default)", at);
                g_autofree char *e_in = g_strdup_printf("string(%s/bandwidth/inbound/@average)",
                                                        at);
                g_autofree char *e_out = g_strdup_printf("string(%s/bandwidth/outbound/@average)",
                                                         at);
                g_autofree char *in = NULL;
                g_autofree char *out = NULL;

                if (pg->has_bandwidth && pg->bandwidth.inbound)
                        in = g_strdup_printf("%" G_GUINT64_FORMAT,
                                             vmnet_rate_to_libvirt_kib(pg->bandwidth.inbound));
                if (pg->has_bandwidth && pg->bandwidth.outbound)
                        out = g_strdup_printf("%" G_GUINT64_FORMAT,
                                              vmnet_rate_to_libvirt_kib(pg->bandwidth.outbound));
                assert_xpath(doc, e_name, pg->name);
                assert_xpath(doc, e_def, pg->is_default ? "yes" : "");
                assert_xpath(doc, e_in, in ? in : "");
                assert_xpath(doc, e_out, out ? out : "");
        }
}

/*
 * Defines (or, with uuid, redefines) the test domain "vmnet-check-NAME"
 * whose <devices> are the given XML text.
 */
static virDomainPtr define_test_domain(virConnectPtr conn, const char *name, const char *uuid,
                                       const char *devices)
{
        g_autofree char *esc = g_markup_escape_text(name, -1);
        g_autofree char *uuid_elt = uuid ? g_strdup_printf("<uuid>%s</uuid>", uuid) : g_strdup("");
        g_autofree char *xml = g_strdup_printf(
                "<domain type='test'><name>vmnet-check-%s</name>%s<memory>65536</memory>"
                "<os><type arch='x86_64'>hvm</type></os><devices>\n%s</devices></domain>",
                esc, uuid_elt, devices);
        virDomainPtr dom = virDomainDefineXML(conn, xml);

        ck_assert_msg(dom != NULL, "virDomainDefineXML rejects:\n%s\n%s", xml,
                      virGetLastErrorMessage());
        return dom;
}

/*
 * Attaches the rendered interface to the persistent definition of vdom and
 * checks libvirt's domain XML: MAC, source network and port group, model,
 * vhost queues, the interface's own bandwidth and the MTU.
 */
static void check_interface_in_libvirt(virConnectPtr conn, virDomainPtr *vdom, const char *name,
                                       GString *devices, const VmnetPlan *plan,
                                       const VmnetInterface *ifc, const char *xml)
{
        g_autofree char *back = NULL;
        g_autoptr(xmlDoc) doc = NULL;
        g_autofree char *mac = vmnet_mac_to_string(&ifc->mac);
        g_autofree char *at = g_strdup_printf("/domain/devices/interface[mac/@address='%s']", mac);
        const VmnetNetwork *net = vmnet_plan_find_network(plan, ifc->network);
        gboolean vhost = ifc->queues && g_str_equal(ifc->model, "virtio");
        struct {
                const char *fn;  /* XPath function applied to at + rel */
                const char *rel;
                char *expected;
        } checks[] = {
                { "count", "", g_strdup("1") },
                { "string", "/@type", g_strdup("network") },
                { "string", "/source/@network", g_strdup(ifc->network) },
                { "string", "/source/@portgroup", g_strdup(ifc->portgroup ? ifc->portgroup : "") },
                { "string", "/model/@type", g_strdup(ifc->model) },
                { "string", "/driver/@queues",
                  vhost ? g_strdup_printf("%u", ifc->queues) : g_strdup("") },
                { "string", "/bandwidth/inbound/@average",
                  ifc->has_bandwidth && ifc->bandwidth.inbound
                          ? g_strdup_printf("%" G_GUINT64_FORMAT,
                                            vmnet_rate_to_libvirt_kib(ifc->bandwidth.inbound))
                          : g_strdup("") },
                { "string", "/bandwidth/outbound/@average",
                  ifc->has_bandwidth && ifc->bandwidth.outbound
                          ? g_strdup_printf("%" G_GUINT64_FORMAT,
                                            vmnet_rate_to_libvirt_kib(ifc->bandwidth.outbound))
                          : g_strdup("") },
                { "string", "/mtu/@size",
                  net && net->mtu ? g_strdup_printf("%u", net->mtu) : g_strdup("") },
        };

        if (virDomainAttachDeviceFlags(*vdom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
                char uuid[VIR_UUID_STRING_BUFLEN];

                /*
                 * libvirt 9.0's test driver has no device attach
                 * (VIR_ERR_NO_SUPPORT). Redefining the domain with the
                 * interface in <devices> runs the same <interface> parser
                 * (virDomainNetDefParseXML()) an attach would.
                 */
                ck_assert_msg(virGetLastErrorCode() == VIR_ERR_NO_SUPPORT,
                              "virDomainAttachDeviceFlags rejects:\n%s\n%s", xml,
                              virGetLastErrorMessage());
                ck_assert_int_eq(virDomainGetUUIDString(*vdom, uuid), 0);
                g_string_append(devices, xml);
                virDomainFree(*vdom);
                *vdom = define_test_domain(conn, name, uuid,
                                           devices->str);
        }
        back = virDomainGetXMLDesc(*vdom, VIR_DOMAIN_XML_INACTIVE);
        ck_assert_msg(back != NULL, "%s", virGetLastErrorMessage());
        doc = parse_xml(back);
        for (gsize i = 0; i < G_N_ELEMENTS(checks); i++) {
                g_autofree char *expr = g_strdup_printf("%s(%s%s)", checks[i].fn, at,
                                                        checks[i].rel);
                g_autofree char *expected = checks[i].expected;

                assert_xpath(doc, expr, expected);
        }
}

/* Everything of plan through virt-xml-validate and the test driver. */
static void check_plan_against_libvirt(const VmnetPlan *plan)
{
        g_autoptr(VmnetVirConnect) conn = open_test_driver();

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = net_at(plan, i);
                g_autofree char *xml = vmnet_render_libvirt_network(plan, net);

                assert_network_valid(xml);
                check_network_in_libvirt(conn, plan, net, xml);
        }
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *dom = dom_at(plan, i);
                g_autoptr(GString) devices = g_string_new(NULL);
                g_autoptr(VmnetVirDomain) vdom = define_test_domain(conn, dom->name, NULL, "");

                for (guint j = 0; j < dom->interfaces->len; j++) {
                        const VmnetInterface *ifc = ifc_at(dom, j);
                        g_autofree char *xml = vmnet_render_domain_interface(plan, dom, ifc);

                        assert_interface_valid(xml);
                        check_interface_in_libvirt(conn, &vdom, dom->name, devices, plan, ifc,
                                                   xml);
                }
        }
}

/* ------------------------------------------------------ exact rendering */

START_TEST(test_network_exact)
{
        g_autoptr(VmnetPlan) plan = make_plan();
        g_autofree char *lab = vmnet_render_libvirt_network(plan, net_at(plan, 0));
        g_autofree char *iso = vmnet_render_libvirt_network(plan, net_at(plan, 1));

        /* 100 Mbit/s = 12500000 B/s = 12500 kB/s (tc's kbps); 1 bit/s -> 1. */
        ck_assert_str_eq(lab, "<network>\n"
                              "  <name>lab</name>\n"
                              "  <uuid>2d392626-325b-580f-b07f-fc7a730f5bf5</uuid>\n"
                              "  <metadata>\n"
                              "    <vmnet:network xmlns:vmnet='urn:vmnet:libvirt:1' plan='hv1' "
                              "mode='nat'/>\n"
                              "  </metadata>\n"
                              "  <forward mode='bridge'/>\n"
                              "  <bridge name='vmbr-lab'/>\n"
                              "  <portgroup name='web' default='yes'>\n"
                              "    <bandwidth>\n"
                              "      <inbound average='12500'/>\n"
                              "      <outbound average='12500'/>\n"
                              "    </bandwidth>\n"
                              "  </portgroup>\n"
                              "  <portgroup name='slow'>\n"
                              "    <bandwidth>\n"
                              "      <inbound average='1'/>\n"
                              "    </bandwidth>\n"
                              "  </portgroup>\n"
                              "  <portgroup name='plain'/>\n"
                              "</network>\n");
        /* Bridge name defaulted by vmnet_plan_finalize(); no port groups. */
        ck_assert_ptr_nonnull(strstr(iso, "  <bridge name='vm-iso'/>\n"));
        ck_assert_ptr_nonnull(strstr(iso, " mode='isolated'/>\n"));
        ck_assert_ptr_null(strstr(iso, "portgroup"));
}
END_TEST

START_TEST(test_interface_exact)
{
        g_autoptr(VmnetPlan) plan = make_plan();
        VmnetDomain *dom = dom_at(plan, 0);
        g_autofree char *xml = vmnet_render_domain_interface(plan, dom, ifc_at(dom, 0));

        /* 10 Mbit/s = 1250000 B/s = 1250 kB/s. */
        ck_assert_str_eq(xml, "<interface type='network'>\n"
                              "  <mac address='52:54:00:12:34:56'/>\n"
                              "  <source network='lab' portgroup='web'/>\n"
                              "  <target dev='vmn525400123456'/>\n"
                              "  <model type='virtio'/>\n"
                              "  <driver name='vhost' queues='2'/>\n"
                              "  <bandwidth>\n"
                              "    <inbound average='1250'/>\n"
                              "    <outbound average='1250'/>\n"
                              "  </bandwidth>\n"
                              "  <mtu size='9000'/>\n"
                              "  <alias name='ua-vmnet-hv1-525400123456'/>\n"
                              "</interface>\n");
}
END_TEST

START_TEST(test_deterministic)
{
        g_autoptr(VmnetPlan) a = make_plan();
        g_autoptr(VmnetPlan) b = make_plan();

        for (guint i = 0; i < a->networks->len; i++) {
                g_autofree char *x = vmnet_render_libvirt_network(a, net_at(a, i));
                g_autofree char *y = vmnet_render_libvirt_network(b, net_at(b, i));

                ck_assert_str_eq(x, y);
        }
        for (guint i = 0; i < dom_at(a, 0)->interfaces->len; i++) {
                g_autofree char *x = vmnet_render_domain_interface(a, dom_at(a, 0),
                                                                   ifc_at(dom_at(a, 0), i));
                g_autofree char *y = vmnet_render_domain_interface(b, dom_at(b, 0),
                                                                   ifc_at(dom_at(b, 0), i));

                ck_assert_str_eq(x, y);
                ck_assert(g_str_has_suffix(x, "</interface>\n"));
        }
}
END_TEST

/* ------------------------------------------------------------------ UUID */

START_TEST(test_uuid_v5)
{
        g_autoptr(VmnetPlan) plan = make_plan();
        g_autofree char *lab = vmnet_render_libvirt_network(plan, net_at(plan, 0));
        g_autoptr(xmlDoc) doc = parse_xml(lab);
        g_autofree char *uuid = xpath_str(doc, "string(/network/uuid)");
        g_autofree char *other_xml = NULL;
        g_autoptr(xmlDoc) other_doc = NULL;
        g_autofree char *other = NULL;

        /*
         * Python: ns = uuid.uuid5(uuid.NAMESPACE_URL, "urn:vmnet:libvirt:1");
         * uuid.uuid5(ns, "hv1/lab") and uuid.uuid5(ns, "hv2/lab").
         */
        ck_assert_str_eq(uuid, "2d392626-325b-580f-b07f-fc7a730f5bf5");
        ck_assert_int_eq(uuid[14], '5');             /* version 5 */
        ck_assert_ptr_nonnull(strchr("89ab", uuid[19])); /* RFC 4122 variant */

        /* The same network name in another plan is another libvirt network. */
        g_free(plan->name);
        plan->name = g_strdup("hv2");
        other_xml = vmnet_render_libvirt_network(plan, net_at(plan, 0));
        other_doc = parse_xml(other_xml);
        other = xpath_str(other_doc, "string(/network/uuid)");
        ck_assert_str_eq(other, "97316f0c-b14d-5024-916f-9810752614a9");
}
END_TEST

/* -------------------------------------------------------------- escaping */

START_TEST(test_escaping)
{
        static const char odd[] = "a&b<c>'d\"e";
        g_autoptr(VmnetPlan) plan = vmnet_plan_new("odd.xml");
        VmnetNetwork *net;
        VmnetDomain *dom;
        g_autofree char *nxml = NULL;
        g_autofree char *ixml = NULL;
        g_autoptr(xmlDoc) ndoc = NULL;
        g_autoptr(xmlDoc) idoc = NULL;

        plan->name = g_strdup(odd);
        net = vmnet_test_add_network(plan, odd, VMNET_MODE_BRIDGED, "br&'\"<>");
        add_portgroup(net, "pg&<'\">", TRUE, 0, 0);
        dom = vmnet_domain_new();
        dom->name = g_strdup(odd);
        g_ptr_array_add(plan->domains, dom);
        add_interface(dom, odd, "pg&<'\">", "virtio", 0);
        vmnet_plan_finalize(plan);

        nxml = vmnet_render_libvirt_network(plan, net);
        ixml = vmnet_render_domain_interface(plan, dom, ifc_at(dom, 0));
        ck_assert_ptr_null(strstr(nxml, odd));
        ck_assert_ptr_nonnull(strstr(nxml, "<name>a&amp;b&lt;c&gt;&apos;d&quot;e</name>"));

        /* What a parser reads back is exactly the name in the model. */
        ndoc = parse_xml(nxml);
        assert_xpath(ndoc, "string(/network/name)", odd);
        assert_xpath(ndoc, "string(/network/bridge/@name)", "br&'\"<>");
        assert_xpath(ndoc, "string(/network/portgroup/@name)", "pg&<'\">");
        assert_xpath(ndoc, "string(/network/metadata/vmnet:network/@plan)", odd);
        idoc = parse_xml(ixml);
        assert_xpath(idoc, "string(/interface/source/@network)", odd);
        assert_xpath(idoc, "string(/interface/source/@portgroup)", "pg&<'\">");
}
END_TEST

/* An odd network and plan name must also come back from libvirt unchanged. */
START_TEST(test_escaping_libvirt)
{
        g_autoptr(VmnetPlan) plan = vmnet_plan_new("odd.xml");
        g_autoptr(VmnetVirConnect) conn = open_test_driver();
        VmnetNetwork *net;
        g_autofree char *xml = NULL;

        plan->name = g_strdup("p&<'\">");
        net = vmnet_test_add_network(plan, "n&<'\">x", VMNET_MODE_NAT, "vm-odd");
        add_portgroup(net, "pg", TRUE, 8193, 8192);
        vmnet_plan_finalize(plan);
        xml = vmnet_render_libvirt_network(plan, net);
        assert_network_valid(xml);
        check_network_in_libvirt(conn, plan, net, xml);
}
END_TEST

/* ------------------------------------------------------------- bandwidth */

static char *portgroup_rate(guint64 bps)
{
        g_autoptr(VmnetPlan) plan = vmnet_plan_new("r.xml");
        VmnetNetwork *net;
        g_autofree char *xml = NULL;
        g_autoptr(xmlDoc) doc = NULL;

        plan->name = g_strdup("r");
        net = vmnet_test_add_network(plan, "n", VMNET_MODE_ISOLATED, "vm-n");
        add_portgroup(net, "pg", FALSE, bps, bps);
        xml = vmnet_render_libvirt_network(plan, net);
        doc = parse_xml(xml);
        {
                g_autofree char *in = xpath_str(doc,
                                                "string(//portgroup/bandwidth/inbound/@average)");
                g_autofree char *out = xpath_str(doc,
                                                 "string(//portgroup/bandwidth/outbound/@average)");

                ck_assert_str_eq(in, out);
                return g_steal_pointer(&in);
        }
}

static char *interface_rate(guint64 in, guint64 out)
{
        g_autoptr(VmnetPlan) plan = make_plan();
        VmnetDomain *dom = dom_at(plan, 0);
        VmnetInterface *ifc = ifc_at(dom, 1);

        ifc->has_bandwidth = TRUE;
        ifc->bandwidth.inbound = in;
        ifc->bandwidth.outbound = out;
        return vmnet_render_domain_interface(plan, dom, ifc);
}

START_TEST(test_bandwidth_rounding)
{
        static const struct {
                guint64 bps;
                const char *kib;
        } cases[] = {
                { 1, "1" },          /* never 0: libvirt would read 0 as "no limit" */
                { 7999, "1" },
                { 8000, "1" },       /* exactly 1 kB/s (tc's kbps: 1000 bytes/s) */
                { 8001, "2" },       /* rounded up, never below the plan's rate */
                { 1000000, "125" },  /* 1 Mbit/s */
                { 100000000, "12500" },
                { G_GUINT64_CONSTANT(10000000000), "1250000" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *got = portgroup_rate(cases[i].bps);

                ck_assert_msg(g_str_equal(got, cases[i].kib), "%" G_GUINT64_FORMAT
                              " bit/s: got %s kB/s, expected %s", cases[i].bps, got,
                              cases[i].kib);
        }
}
END_TEST

START_TEST(test_interface_bandwidth)
{
        g_autofree char *only_in = interface_rate(1, 0);
        g_autofree char *none = interface_rate(0, 0);
        g_autoptr(VmnetPlan) plan = make_plan();
        VmnetDomain *dom = dom_at(plan, 0);
        g_autofree char *pg_only = vmnet_render_domain_interface(plan, dom, ifc_at(dom, 2));

        ck_assert_ptr_nonnull(strstr(only_in, "  <bandwidth>\n    <inbound average='1'/>\n"
                                              "  </bandwidth>\n"));
        ck_assert_ptr_null(strstr(only_in, "outbound"));
        /* has_bandwidth with no rate set: no empty <bandwidth/>. */
        ck_assert_ptr_null(strstr(none, "bandwidth"));
        /* The default port group's 100 Mbit/s is libvirt's to apply, not copied in. */
        ck_assert_ptr_null(strstr(pg_only, "bandwidth"));
}
END_TEST

/* ------------------------------------------------- portgroup, queues, mtu */

START_TEST(test_no_portgroup)
{
        g_autoptr(VmnetPlan) plan = make_plan();
        VmnetDomain *dom = dom_at(plan, 0);
        g_autofree char *xml = vmnet_render_domain_interface(plan, dom, ifc_at(dom, 2));
        g_autoptr(xmlDoc) doc = parse_xml(xml);

        assert_xpath(doc, "string(/interface/source/@network)", "lab");
        assert_xpath(doc, "count(/interface/source/@portgroup)", "0");
        /* Model defaulted to virtio by vmnet_plan_finalize(); no queues set. */
        assert_xpath(doc, "string(/interface/model/@type)", "virtio");
        assert_xpath(doc, "count(/interface/driver)", "0");
        /* A derived, stable MAC is always rendered. */
        assert_xpath(doc, "count(/interface/mac/@address)", "1");
}
END_TEST

START_TEST(test_queues_virtio_only)
{
        static const struct {
                const char *model;
                guint queues;
                const char *driver;
        } cases[] = {
                { "virtio", 4, "<driver name='vhost' queues='4'/>" },
                { "virtio", 1, "<driver name='vhost' queues='1'/>" },
                { "virtio", 0, NULL },
                { "e1000e", 4, NULL },
                { "e1000", 4, NULL },
                { "rtl8139", 2, NULL },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(VmnetPlan) plan = make_plan();
                VmnetDomain *dom = dom_at(plan, 0);
                VmnetInterface *ifc = ifc_at(dom, 1);
                g_autofree char *xml = NULL;
                g_autofree char *model = g_strdup_printf("<model type='%s'/>", cases[i].model);

                g_free(ifc->model);
                ifc->model = g_strdup(cases[i].model);
                ifc->queues = cases[i].queues;
                xml = vmnet_render_domain_interface(plan, dom, ifc);
                ck_assert_ptr_nonnull(strstr(xml, model));
                if (cases[i].driver)
                        ck_assert_msg(strstr(xml, cases[i].driver) != NULL, "%s", xml);
                else
                        ck_assert_msg(strstr(xml, "<driver") == NULL, "%s", xml);
                assert_interface_valid(xml);
        }
}
END_TEST

START_TEST(test_mtu_and_vlan)
{
        g_autoptr(VmnetPlan) plan = make_plan();
        VmnetDomain *dom = dom_at(plan, 0);
        g_autofree char *lab = vmnet_render_libvirt_network(plan, net_at(plan, 0));
        g_autofree char *on_lab = vmnet_render_domain_interface(plan, dom, ifc_at(dom, 0));
        g_autofree char *on_iso = vmnet_render_domain_interface(plan, dom, ifc_at(dom, 1));

        /* libvirt rejects <mtu> and (on a Linux bridge) <vlan> with forward mode='bridge'. */
        ck_assert_ptr_null(strstr(lab, "mtu"));
        ck_assert_ptr_null(strstr(lab, "vlan"));
        /* So the MTU goes on the interface, only when the network sets one. */
        ck_assert_ptr_nonnull(strstr(on_lab, "  <mtu size='9000'/>\n"));
        ck_assert_ptr_null(strstr(on_iso, "mtu"));
}
END_TEST

/* ---------------------------------------------------- libvirt acceptance */

START_TEST(test_schema_rejects_bad_xml)
{
        g_autofree char *output = NULL;

        /* The schema check must be able to fail, or it proves nothing. */
        ck_assert(!run_validate("<network><name>x</name><forward mode='bogus'/></network>",
                                "network", &output));
        g_clear_pointer(&output, g_free);
        {
                g_autofree char *dom = wrap_in_domain("<interface type='bogus'/>\n");

                ck_assert(!run_validate(dom, "domain", &output));
        }
}
END_TEST

START_TEST(test_model_against_libvirt)
{
        g_autoptr(VmnetPlan) plan = make_plan();

        check_plan_against_libvirt(plan);
}
END_TEST

/* The test driver must also be able to fail: it parses like libvirtd does. */
START_TEST(test_libvirt_rejects_mtu_in_bridge_mode)
{
        g_autoptr(VmnetVirConnect) conn = open_test_driver();
        virNetworkPtr net = virNetworkDefineXML(
                conn, "<network><name>m</name><forward mode='bridge'/><bridge name='vm-m'/>"
                      "<mtu size='9000'/></network>");

        ck_assert_ptr_null(net);
        ck_assert_ptr_nonnull(strstr(virGetLastErrorMessage(), "mtu size only allowed"));
}
END_TEST

/* ------------------------------------------------------------- examples */

static char **examples;

static gint cmp_path(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static char *example_stem(const char *relpath)
{
        g_autofree char *base = g_path_get_basename(relpath);

        return g_strndup(base, strlen(base) - strlen(".xml"));
}

START_TEST(test_example_golden)
{
        const char *relpath = examples[_i];
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan(relpath);
        g_autofree char *stem = example_stem(relpath);
        g_autoptr(GHashTable) expected = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                               NULL);
        g_autofree char *dir = NULL;
        g_autoptr(GDir) gdir = NULL;
        const char *name;

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = net_at(plan, i);
                g_autofree char *xml = vmnet_render_libvirt_network(plan, net);
                char *file = g_strdup_printf("network-%s.xml", net->name);
                g_autofree char *golden = g_build_filename("render", stem, file, NULL);

                g_hash_table_add(expected, file);
                vmnet_test_golden(golden, xml);
        }
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *dom = dom_at(plan, i);

                for (guint j = 0; j < dom->interfaces->len; j++) {
                        g_autofree char *xml = vmnet_render_domain_interface(plan, dom,
                                                                             ifc_at(dom, j));
                        char *file = g_strdup_printf("domain-%s-%u.xml", dom->name, j);
                        g_autofree char *golden = g_build_filename("render", stem, file, NULL);

                        g_hash_table_add(expected, file);
                        vmnet_test_golden(golden, xml);
                }
        }

        /* A golden file nothing renders any more is a stale expectation. */
        dir = g_build_filename(TOP_SRCDIR, "tests", "data", "render", stem, NULL);
        gdir = g_dir_open(dir, 0, NULL);
        while (gdir && (name = g_dir_read_name(gdir))) {
                if (!g_str_has_suffix(name, ".xml"))
                        continue;
                ck_assert_msg(g_hash_table_contains(expected, name),
                              "%s/%s is rendered from nothing in %s; delete it", dir, name,
                              relpath);
        }
}
END_TEST

/* The link called name, added (up, with that MTU) unless host has one. */
static VmnetHostLink *host_link(VmnetHost *host, const char *name, const char *kind, guint mtu)
{
        VmnetHostLink *l = (VmnetHostLink *)vmnet_host_find_link(host, name);

        if (l)
                return l;
        l = vmnet_host_add_link(host, (int)host->links->len + 2, name, kind);
        l->mtu = mtu;
        l->up = TRUE;
        return l;
}

/*
 * A host as a successful apply of plan leaves it, every guest running: per
 * network its bridge (with the host's gateway addresses), its uplink (a
 * VLAN link on its NIC, or the NIC), its VXLAN link, its NAT egress, and
 * one tap named as vmnet names it per interface of the plan.
 */
static VmnetHost *applied_host(const VmnetPlan *plan)
{
        VmnetHost *host = vmnet_host_new();

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = net_at(plan, i);
                guint mtu = net->mtu ? net->mtu : 1500;
                VmnetHostLink *br = host_link(host, net->bridge, "bridge", mtu);

                br->vlan_filtering = net->vlan_aware;
                for (guint s = 0; net->mode != VMNET_MODE_BRIDGED && s < net->subnets->len; s++) {
                        const VmnetSubnet *sub = g_ptr_array_index(net->subnets, s);

                        if (sub->has_gateway)
                                vmnet_host_link_add_addr(br, &sub->gateway, sub->cidr.prefix, 0);
                }
                if (net->uplink) {
                        VmnetHostLink *dev = host_link(host, net->uplink->dev, NULL, mtu);

                        if (g_strcmp0(net->uplink->ifname, net->uplink->dev) != 0) {
                                VmnetHostLink *vl = host_link(host, net->uplink->ifname, "vlan", mtu);

                                vl->link = dev->ifindex;
                                vl->vlan_id = net->uplink->vlan;
                                dev = vl;
                        }
                        dev->master = br->ifindex;
                }
                if (net->vxlan && net->vxlan->name)
                        host_link(host, net->vxlan->name, "vxlan", mtu)->master = br->ifindex;
                if (net->has_nat && net->nat_out)
                        host_link(host, net->nat_out, NULL, 1500);
        }
        for (guint d = 0; d < plan->domains->len; d++) {
                const VmnetDomain *dom = dom_at(plan, d);

                for (guint j = 0; j < dom->interfaces->len; j++) {
                        const VmnetInterface *ifc = ifc_at(dom, j);
                        const VmnetNetwork *net = vmnet_plan_find_network(plan, ifc->network);
                        char tap[VMNET_IFNAMSIZ];

                        vmnet_tap_name(&ifc->mac, tap);
                        host_link(host, tap, "tun", net->mtu ? net->mtu : 1500)->master =
                                vmnet_host_find_link(host, net->bridge)->ifindex;
                }
        }
        vmnet_host_resolve(host);
        return host;
}

START_TEST(test_example_topology)
{
        const char *relpath = examples[_i];
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan(relpath);
        g_autofree char *stem = example_stem(relpath);
        g_autofree char *golden = g_build_filename("render", stem, "topology.dot", NULL);
        g_autoptr(VmnetHost) host = applied_host(plan);
        g_autoptr(GPtrArray) ports = vmnet_guest_ports(plan, host, NULL);
        g_autofree char *dot = vmnet_topology_dot(plan, host, ports, NULL, NULL);

        vmnet_test_golden(golden, dot);
}
END_TEST

START_TEST(test_example_libvirt)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan(examples[_i]);

        check_plan_against_libvirt(plan);
}
END_TEST

START_TEST(test_examples_exist)
{
        ck_assert_msg(examples && examples[0], "no examples/*.xml to render");
}
END_TEST

static Suite *render_suite(void)
{
        Suite *s = suite_create("render");
        TCase *tc = tcase_create("model");
        guint n = examples ? g_strv_length(examples) : 0;

        tcase_add_test(tc, test_network_exact);
        tcase_add_test(tc, test_interface_exact);
        tcase_add_test(tc, test_deterministic);
        tcase_add_test(tc, test_uuid_v5);
        tcase_add_test(tc, test_escaping);
        tcase_add_test(tc, test_bandwidth_rounding);
        tcase_add_test(tc, test_interface_bandwidth);
        tcase_add_test(tc, test_no_portgroup);
        tcase_add_test(tc, test_mtu_and_vlan);
        suite_add_tcase(s, tc);

        tc = tcase_create("libvirt");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_schema_rejects_bad_xml);
        tcase_add_test(tc, test_queues_virtio_only);
        tcase_add_test(tc, test_escaping_libvirt);
        tcase_add_test(tc, test_model_against_libvirt);
        tcase_add_test(tc, test_libvirt_rejects_mtu_in_bridge_mode);
        suite_add_tcase(s, tc);

        tc = tcase_create("examples");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_examples_exist);
        tcase_add_loop_test(tc, test_example_golden, 0, n);
        tcase_add_loop_test(tc, test_example_topology, 0, n);
        tcase_add_loop_test(tc, test_example_libvirt, 0, n);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        g_autofree char *dir = vmnet_test_path("examples");
        SRunner *sr;
        int failed;

        if (g_file_test(dir, G_FILE_TEST_IS_DIR)) {
                g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
                g_autoptr(GPtrArray) list = g_ptr_array_new();
                const char *name;

                while (d && (name = g_dir_read_name(d)))
                        if (g_str_has_suffix(name, ".xml"))
                                g_ptr_array_add(list, g_build_filename("examples", name, NULL));
                g_ptr_array_sort(list, cmp_path);
                g_ptr_array_add(list, NULL);
                examples = (char **)g_ptr_array_free(g_steal_pointer(&list), FALSE);
        }
        sr = srunner_create(render_suite());
        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        g_strfreev(examples);
        return failed ? 1 : 0;
}
