/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <linux/if_bridge.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "actions/libvirt.h"
#include "apply/apply.h"
#include "backend/libvirt/libvirt.h"
#include "diff/foreign-users.h"
#include "diff/guest-ports.h"
#include "diff/guest-starts.h"
#include "diff/guest-taps.h"
#include "diff/libvirt.h"
#include "diff/subnet-conflicts.h"
#include "ipam/ipam.h"
#include "plan/plan.h"
#include "render/render.h"
#include "tests/unit/testutil.h"
#include "util/autoptr.h"
#include "validate/validate.h"

/*
 * The libvirt part against libvirt's test driver (test:///default: no
 * daemon, the same XML parsers as libvirtd; each test gets a fresh one,
 * since the driver's state lives as long as a connection to it). State is
 * read back with libvirt's own API, never through vmnet's observer:
 * virNetworkGetXMLDesc, virNetworkIsActive, virNetworkGetAutostart.
 *
 * The test driver cannot attach, detach or update domain devices
 * (virDomainAttachDeviceFlags & co. are "not supported"), so the guest
 * interface part is tested on its decisions and on the XML it would send
 * (golden files), with domains defined in the test driver so that the
 * observer reads libvirt's real formatting; tests/vm/ runs it against
 * libvirtd. The test driver also cannot give a network's inactive XML,
 * and keeps showing a running network's old definition after a re-define,
 * so a re-define is tested on a stopped network.
 *
 * Golden files: tests/data/actions-libvirt/<case>.txt, one action per
 * line: "<type> <impact>: <description>".
 */

#define URI "test:///default"

static virConnectPtr conn;

static void setup(void)
{
        g_autoptr(GError) error = NULL;

        conn = vmnet_libvirt_connect(URI, &error);
        ck_assert_msg(conn, "%s", error ? error->message : "");
        /* The test driver's own NAT network is a foreign network for vmnet. */
}

static void teardown(void)
{
        if (conn)
                virConnectClose(conn);
        conn = NULL;
}

/* ------------------------------------------------------------ helpers */

static VmnetLibvirtHost *observe(void)
{
        g_autoptr(GError) error = NULL;
        VmnetLibvirtHost *host = NULL;

        ck_assert_msg(vmnet_libvirt_observe(conn, &host, &error), "observe: %s",
                      error ? error->message : "");
        return host;
}

static GPtrArray *diff_ok(const VmnetPlan *plan)
{
        g_autoptr(VmnetLibvirtHost) host = observe();
        g_autoptr(GError) error = NULL;
        GPtrArray *actions = vmnet_action_list_new();

        ck_assert_msg(vmnet_diff_libvirt(plan, host, actions, NULL, &error), "diff: %s",
                      error ? error->message : "");
        return actions;
}

static char *actions_text(const GPtrArray *actions)
{
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < actions->len; i++) {
                const VmnetAction *a = g_ptr_array_index(actions, i);
                g_autofree char *d = vmnet_action_describe(a);

                g_string_append_printf(s, "%s %s: %s\n", a->type->name,
                                       vmnet_impact_to_string(a->impact), d);
        }
        return g_string_free(s, FALSE);
}

static gboolean apply(const VmnetPlan *plan, GPtrArray *actions, GError **error)
{
        VmnetApplyCtx ctx = { .plan = plan, .virt = conn };

        return vmnet_apply_actions(&ctx, actions, NULL, NULL, NULL, error);
}

static void apply_ok(const VmnetPlan *plan, GPtrArray *actions)
{
        g_autoptr(GError) error = NULL;

        ck_assert_msg(apply(plan, actions, &error), "apply: %s", error ? error->message : "");
}

/* Diff, check against the golden file, apply, and check that nothing is left to do. */
static void converge(const VmnetPlan *plan, const char *golden);

/* converge() on a plan made here, freed after. */
static void converge_xml(const char *xml)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(xml, "hv1.xml");

        converge(plan, NULL);
}

static void converge(const VmnetPlan *plan, const char *golden)
{
        g_autoptr(GPtrArray) actions = diff_ok(plan);
        g_autoptr(GPtrArray) again = NULL;
        g_autofree char *text = actions_text(actions);
        g_autofree char *left = NULL;

        if (golden)
                vmnet_test_golden(golden, text);
        apply_ok(plan, actions);
        again = diff_ok(plan);
        left = actions_text(again);
        ck_assert_msg(again->len == 0, "not idempotent, a second diff wants:\n%s", left);
}

/* The network as libvirt itself reports it, NULL when absent. */
static char *net_xml(const char *name)
{
        g_autoptr(VmnetVirNetwork) net = virNetworkLookupByName(conn, name);

        virResetLastError();
        return net ? virNetworkGetXMLDesc(net, 0) : NULL;
}

static void net_state(const char *name, int *active, int *autostart, int *persistent)
{
        g_autoptr(VmnetVirNetwork) net = virNetworkLookupByName(conn, name);

        ck_assert_msg(net, "no libvirt network %s", name);
        *active = virNetworkIsActive(net);
        *persistent = virNetworkIsPersistent(net);
        ck_assert_int_eq(virNetworkGetAutostart(net, autostart), 0);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* Every network with its state and XML: what a rollback must give back exactly. */
static char *snapshot(void)
{
        virNetworkPtr *nets = NULL;
        GString *s = g_string_new(NULL);
        int n = virConnectListAllNetworks(conn, &nets, 0);
        g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);

        ck_assert_int_ge(n, 0);
        for (int i = 0; i < n; i++) {
                int autostart = 0;
                g_autofree char *xml = virNetworkGetXMLDesc(nets[i], 0);

                virNetworkGetAutostart(nets[i], &autostart);
                g_ptr_array_add(parts, g_strdup_printf("== %s active=%d persistent=%d autostart=%d\n%s",
                                                       virNetworkGetName(nets[i]),
                                                       virNetworkIsActive(nets[i]),
                                                       virNetworkIsPersistent(nets[i]), autostart,
                                                       xml));
                virNetworkFree(nets[i]);
        }
        free(nets);
        g_ptr_array_sort(parts, cmp_str);
        for (guint i = 0; i < parts->len; i++)
                g_string_append(s, g_ptr_array_index(parts, i));
        return g_string_free(s, FALSE);
}

static void define_raw(const char *xml, gboolean start, gboolean autostart)
{
        g_autoptr(VmnetVirNetwork) net = virNetworkDefineXML(conn, xml);

        ck_assert_msg(net, "defining %s", virGetLastErrorMessage());
        if (autostart)
                ck_assert_int_eq(virNetworkSetAutostart(net, 1), 0);
        if (start)
                ck_assert_int_eq(virNetworkCreate(net), 0);
}

/* ------------------------------------------------------------ plans */

#define HEAD "<plan xmlns='urn:vmnet:plan:1' name='hv1'>\n"
#define LAB(mode, bridge, pgs)                                                                   \
        "  <network name='lab' mode='" mode "' bridge='" bridge "'>\n"                          \
        "    <subnet cidr='192.168.50.0/24' gateway='192.168.50.1'/>\n" pgs "  </network>\n"
#define PGS_V1                                                                                   \
        "    <portgroup name='web' default='yes'>\n"                                            \
        "      <bandwidth inbound='100mbit' outbound='50mbit'/></portgroup>\n"                   \
        "    <portgroup name='db'/>\n"
/* web loses the default and gets a new rate, db goes, batch comes as the default. */
#define PGS_V2                                                                                   \
        "    <portgroup name='web'>\n"                                                           \
        "      <bandwidth inbound='200mbit' outbound='50mbit'/></portgroup>\n"                   \
        "    <portgroup name='batch' default='yes'>\n"                                          \
        "      <bandwidth outbound='10mbit'/></portgroup>\n"
#define ISO "  <network name='iso' mode='isolated'/>\n"
#define TAIL "</plan>\n"

static const char *plan_v1 = HEAD LAB("nat", "vm-lab", PGS_V1) ISO TAIL;
static const char *plan_v2 = HEAD LAB("nat", "vm-lab", PGS_V2) ISO TAIL;
static const char *plan_bridge = HEAD LAB("nat", "br-lab", PGS_V1) ISO TAIL;
static const char *plan_routed = HEAD LAB("routed", "vm-lab", PGS_V1) ISO TAIL;
static const char *plan_lab_only = HEAD LAB("nat", "vm-lab", PGS_V1) TAIL;

/* ------------------------------------------------------------ networks */

START_TEST(test_define_and_idempotence)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(plan_v1, "hv1.xml");
        g_autofree char *xml = NULL;
        int active, autostart, persistent;

        converge(plan, "actions-libvirt/define.txt");
        net_state("lab", &active, &autostart, &persistent);
        ck_assert(active == 1 && autostart == 1 && persistent == 1);
        net_state("iso", &active, &autostart, &persistent);
        ck_assert(active == 1 && autostart == 1 && persistent == 1);
        xml = net_xml("lab");
        ck_assert_msg(strstr(xml, "plan=\"hv1\"") && strstr(xml, "mode=\"nat\"") &&
                              strstr(xml, "<bridge name='vm-lab'/>") &&
                              strstr(xml, "<forward mode='bridge'/>") &&
                              strstr(xml, "<portgroup name='web' default='yes'>") &&
                              strstr(xml, "<inbound average='12500'/>"),
                      "%s", xml);
}
END_TEST

START_TEST(test_portgroups_updated_live)
{
        g_autoptr(VmnetPlan) v1 = vmnet_test_plan_from_string(plan_v1, "hv1.xml");
        g_autoptr(VmnetPlan) v2 = vmnet_test_plan_from_string(plan_v2, "hv1.xml");
        g_autofree char *xml = NULL;

        converge(v1, NULL);
        converge(v2, "actions-libvirt/portgroups.txt");
        xml = net_xml("lab");
        ck_assert_msg(!strstr(xml, "'db'") && strstr(xml, "<portgroup name='web'>") &&
                              strstr(xml, "<inbound average='25000'/>") &&
                              strstr(xml, "<portgroup name='batch' default='yes'>"),
                      "%s", xml);
        /* And back, in the other order of default flags. */
        converge(v1, NULL);
}
END_TEST

START_TEST(test_redefine_metadata)
{
        g_autoptr(VmnetPlan) v1 = vmnet_test_plan_from_string(plan_v1, "hv1.xml");
        g_autoptr(VmnetPlan) routed = vmnet_test_plan_from_string(plan_routed, "hv1.xml");
        g_autoptr(VmnetVirNetwork) lab = NULL;
        g_autofree char *xml = NULL;

        converge(v1, NULL);
        /* Stopped: the test driver shows a running network's new definition only after a restart. */
        lab = virNetworkLookupByName(conn, "lab");
        ck_assert_int_eq(virNetworkDestroy(lab), 0);
        converge(routed, "actions-libvirt/redefine.txt");
        xml = net_xml("lab");
        ck_assert_msg(strstr(xml, "mode=\"routed\"") && virNetworkIsActive(lab) == 1, "%s", xml);
}
END_TEST

START_TEST(test_recreate_bridge_and_rollback)
{
        g_autoptr(VmnetPlan) v1 = vmnet_test_plan_from_string(plan_v1, "hv1.xml");
        g_autoptr(VmnetPlan) moved = vmnet_test_plan_from_string(plan_bridge, "hv1.xml");
        g_autoptr(GPtrArray) actions = NULL;
        g_autoptr(VmnetAction) inv = NULL;
        g_autoptr(GPtrArray) undo = vmnet_action_list_new();
        g_autofree char *before = NULL;
        g_autofree char *after = NULL;
        g_autofree char *restored = NULL;
        g_autofree char *xml = NULL;
        int active, autostart, persistent;

        converge(v1, NULL);
        before = snapshot();
        actions = diff_ok(moved);
        {
                g_autofree char *text = actions_text(actions);

                vmnet_test_golden("actions-libvirt/recreate.txt", text);
        }
        ck_assert_uint_eq(actions->len, 1);
        ck_assert_int_eq(((VmnetAction *)g_ptr_array_index(actions, 0))->impact,
                         VMNET_IMPACT_RECREATE);
        inv = ((VmnetAction *)g_ptr_array_index(actions, 0))->type->invert(
                g_ptr_array_index(actions, 0));
        apply_ok(moved, actions);
        xml = net_xml("lab");
        ck_assert_msg(strstr(xml, "<bridge name='br-lab'/>"), "%s", xml);
        net_state("lab", &active, &autostart, &persistent);
        ck_assert(active == 1 && autostart == 1 && persistent == 1);
        after = snapshot();
        ck_assert_str_ne(before, after);

        g_ptr_array_add(undo, g_steal_pointer(&inv));
        apply_ok(v1, undo);
        restored = snapshot();
        ck_assert_str_eq(restored, before);
}
END_TEST

START_TEST(test_removed_networks)
{
        g_autoptr(VmnetPlan) v1 = vmnet_test_plan_from_string(plan_v1, "hv1.xml");
        g_autoptr(VmnetPlan) lab_only = vmnet_test_plan_from_string(plan_lab_only, "hv1.xml");
        g_autofree char *default_before = net_xml("default");
        g_autofree char *default_after = NULL;
        g_autofree char *iso = NULL;
        g_autofree char *lab = NULL;

        converge(v1, NULL);
        converge(lab_only, "actions-libvirt/remove.txt");
        iso = net_xml("iso");
        ck_assert_ptr_null(iso);
        lab = net_xml("lab");
        ck_assert_ptr_nonnull(lab);
        default_after = net_xml("default");
        ck_assert_str_eq(default_after, default_before);
}
END_TEST

START_TEST(test_destroy)
{
        g_autoptr(VmnetPlan) v1 = vmnet_test_plan_from_string(plan_v1, "hv1.xml");
        g_autoptr(VmnetLibvirtHost) host = NULL;
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *before = snapshot();
        g_autofree char *text = NULL;
        g_autofree char *after = NULL;

        converge(v1, NULL);
        host = observe();
        ck_assert(vmnet_diff_libvirt_destroy("hv1", host, actions, NULL, &error));
        text = actions_text(actions);
        vmnet_test_golden("actions-libvirt/destroy.txt", text);
        apply_ok(v1, actions);
        after = snapshot();
        ck_assert_str_eq(after, before);
}
END_TEST

START_TEST(test_foreign_network_refused)
{
        g_autoptr(VmnetPlan) v1 = vmnet_test_plan_from_string(plan_v1, "hv1.xml");
        g_autoptr(VmnetLibvirtHost) host = NULL;
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *before = NULL;
        g_autofree char *after = NULL;

        /* Someone else's "lab", running, on its own bridge. */
        define_raw("<network><name>lab</name><forward mode='nat'/>"
                   "<bridge name='virbr9'/><ip address='10.9.9.1' netmask='255.255.255.0'/>"
                   "</network>",
                   TRUE, FALSE);
        before = snapshot();
        host = observe();
        ck_assert(!vmnet_diff_libvirt(v1, host, actions, NULL, &error));
        ck_assert(g_error_matches(error, VMNET_ERROR, VMNET_ERROR_CONFLICT));
        ck_assert_msg(strstr(error->message, "'lab'") && strstr(error->message, "did not define") &&
                              strstr(error->message, "hv1.xml:"),
                      "%s", error->message);
        ck_assert_uint_eq(actions->len, 0);
        after = snapshot();
        ck_assert_str_eq(after, before);
}
END_TEST

START_TEST(test_other_plans_network)
{
        g_autoptr(VmnetPlan) v1 = vmnet_test_plan_from_string(plan_v1, "hv1.xml");
        g_autoptr(VmnetPlan) lab_only = vmnet_test_plan_from_string(plan_lab_only, "hv1.xml");
        g_autoptr(VmnetLibvirtHost) host = NULL;
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *other_before = NULL;
        g_autofree char *other_after = NULL;
#define OTHER(name)                                                                               \
        "<network><name>" name "</name><metadata><vmnet:network "                                \
        "xmlns:vmnet='urn:vmnet:libvirt:1' plan='hv2' mode='isolated'/></metadata>"              \
        "<forward mode='bridge'/><bridge name='vm-" name "'/></network>"
        const char *shared = OTHER("shared");
        const char *iso = OTHER("iso");

        /* A network of plan hv2 that hv1 does not name: left alone, even when hv1 removes its own. */
        define_raw(shared, TRUE, TRUE);
        other_before = net_xml("shared");
        converge(lab_only, NULL);
        other_after = net_xml("shared");
        ck_assert_str_eq(other_after, other_before);

        /* hv2's "iso" where hv1 wants its own: a conflict that names the owner. */
        define_raw(iso, FALSE, FALSE);
        host = observe();
        ck_assert(!vmnet_diff_libvirt(v1, host, actions, NULL, &error));
        ck_assert(g_error_matches(error, VMNET_ERROR, VMNET_ERROR_CONFLICT));
        ck_assert_msg(strstr(error->message, "plan 'hv2'"), "%s", error->message);
}
END_TEST

/*
 * Rollback from every step: a host with a foreign network, another plan's,
 * a stale one of this plan (running, autostart) and an outdated "lab";
 * the apply fails at action N (VMNET_TEST_FAIL_AT) for every N, and each
 * time the host must be back exactly as observed. Then the same through
 * the inverses executed by hand, after a complete run.
 */
START_TEST(test_rollback_every_step)
{
        g_autoptr(VmnetPlan) v1 = vmnet_test_plan_from_string(plan_v1, "hv1.xml");
        g_autoptr(VmnetPlan) target = vmnet_test_plan_from_string(HEAD LAB("nat", "vm-lab", PGS_V2) TAIL, "hv1.xml");
        g_autoptr(GPtrArray) actions = NULL;
        g_autofree char *start = NULL;
        guint n;

        define_raw("<network><name>shared</name><metadata><vmnet:network "
                   "xmlns:vmnet='urn:vmnet:libvirt:1' plan='hv2' mode='isolated'/></metadata>"
                   "<forward mode='bridge'/><bridge name='vm-shared'/></network>",
                   TRUE, TRUE);
        converge(v1, NULL); /* lab (outdated for target) and iso (stale for target) */
        start = snapshot();
        actions = diff_ok(target);
        n = actions->len;
        ck_assert_uint_ge(n, 5);
        for (guint i = 1; i <= n; i++) {
                g_autoptr(GPtrArray) again = diff_ok(target);
                g_autoptr(GError) error = NULL;
                g_autofree char *now = NULL;
                g_autofree char *at = g_strdup_printf("%u", i);

                g_setenv("VMNET_TEST_FAIL_AT", at, TRUE);
                ck_assert(!apply(target, again, &error));
                g_unsetenv("VMNET_TEST_FAIL_AT");
                ck_assert_msg(strstr(error->message, "injected"), "%s", error->message);
                now = snapshot();
                ck_assert_msg(g_str_equal(now, start), "failing at action %u did not roll back:\n%s\n--- expected\n%s",
                              i, now, start);
        }
        {
                g_autoptr(GPtrArray) undo = vmnet_action_list_new();
                g_autofree char *done = NULL;
                g_autofree char *now = NULL;

                for (guint i = 0; i < actions->len; i++) {
                        VmnetAction *a = g_ptr_array_index(actions, i);

                        g_ptr_array_insert(undo, 0, a->type->invert(a));
                }
                apply_ok(target, actions);
                done = snapshot();
                ck_assert_str_ne(done, start);
                apply_ok(v1, undo);
                now = snapshot();
                ck_assert_str_eq(now, start);
        }
}
END_TEST

/* ------------------------------------------------------------ guest interfaces */

static void define_domain(const char *name, const char *ifaces, gboolean start)
{
        g_autofree char *xml = g_strdup_printf(
                "<domain type='test'><name>%s</name><memory>65536</memory>"
                "<os><type>hvm</type></os><devices>%s</devices></domain>",
                name, ifaces);
        g_autoptr(VmnetVirDomain) dom = virDomainDefineXML(conn, xml);

        ck_assert_msg(dom, "defining domain %s: %s", name, virGetLastErrorMessage());
        if (start)
                ck_assert_int_eq(virDomainCreate(dom), 0);
}

static char *iface_xml(const char *mac, const char *network, const char *pg, const char *alias_plan,
                       const char *model)
{
        VmnetMac m;
        g_autofree char *alias = NULL;

        ck_assert(vmnet_mac_parse(mac, &m));
        alias = alias_plan ? vmnet_render_iface_alias(alias_plan, &m) : NULL;
        return g_strdup_printf("<interface type='network'><mac address='%s'/>"
                               "<source network='%s'%s%s%s/><model type='%s'/>%s%s%s</interface>",
                               mac, network, pg ? " portgroup='" : "", pg ? pg : "", pg ? "'" : "",
                               model, alias ? "<alias name='" : "", alias ? alias : "",
                               alias ? "'/>" : "");
}

static const char *plan_domains =
        HEAD LAB("nat", "vm-lab", PGS_V1) ISO
        "  <domain name='web1'>\n"
        /* vmnet's, now in port group db and with a rate of its own: update in place */
        "    <interface network='lab' mac='52:54:00:00:00:01' portgroup='db'>\n"
        "      <bandwidth inbound='10mbit'/></interface>\n"
        /* vmnet's, model changed: detach + attach */
        "    <interface network='iso' mac='52:54:00:00:00:02' model='e1000e'/>\n"
        /* new */
        "    <interface network='lab' mac='52:54:00:00:00:03' queues='4'/>\n"
        "  </domain>\n"
        "  <domain name='web2'>\n"
        "    <interface network='lab' mac='52:54:00:00:00:04'/>\n"
        "  </domain>\n" TAIL;

START_TEST(test_domain_interfaces_decisions)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(plan_domains, "hv1.xml");
        g_autoptr(GPtrArray) actions = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *if1 = iface_xml("52:54:00:00:00:01", "lab", "web", "hv1", "virtio");
        g_autofree char *if2 = iface_xml("52:54:00:00:00:02", "iso", NULL, "hv1", "virtio");
        g_autofree char *stale = iface_xml("52:54:00:00:00:09", "lab", NULL, "hv1", "virtio");
        g_autofree char *foreign = iface_xml("52:54:00:00:00:0f", "default", NULL, NULL, "virtio");
        g_autofree char *other_plan = iface_xml("52:54:00:00:00:0e", "lab", NULL, "hv1.x", "virtio");
        g_autofree char *web1 = g_strconcat(if1, if2, stale, foreign, other_plan, NULL);
        g_autofree char *text = NULL;
        g_autofree char *sent = NULL;
        VmnetApplyCtx ctx = { .plan = plan, .virt = conn };

        converge_xml(HEAD LAB("nat", "vm-lab", PGS_V1) ISO TAIL);
        define_domain("web1", web1, TRUE);  /* running, persistent */
        define_domain("web2", "", FALSE);   /* shut off */
        define_domain("gone", stale, TRUE); /* vmnet's interface on a domain the plan dropped */
        actions = diff_ok(plan);
        text = actions_text(actions);
        vmnet_test_golden("actions-libvirt/interfaces.txt", text);

        /* What would be sent for the new interface, exactly as rendered (with vmnet's mark). */
        for (guint i = 0; i < actions->len; i++) {
                g_autofree char *d = vmnet_action_describe(g_ptr_array_index(actions, i));

                if (g_str_has_prefix(d, "attach interface 52:54:00:00:00:03"))
                        sent = g_strdup(d);
        }
        ck_assert_ptr_nonnull(sent);
        {
                g_autofree char *xml = vmnet_render_domain_interface(
                        plan, g_ptr_array_index(plan->domains, 0),
                        g_ptr_array_index(((VmnetDomain *)g_ptr_array_index(plan->domains, 0))->interfaces, 2));

                vmnet_test_golden("actions-libvirt/attach-web1-3.xml", xml);
        }
        /* The observed interface a detach sends (and its undo re-attaches): libvirt's own XML, cleaned. */
        {
                g_autoptr(VmnetLibvirtHost) host = observe();
                VmnetLibvirtDomain *gone = vmnet_libvirt_host_find_domain(host, "gone");
                VmnetLibvirtIface *f;

                ck_assert_uint_eq(gone->live->len, 1);
                f = g_ptr_array_index(gone->live, 0);
                ck_assert_ptr_null(strstr(f->xml, "<target"));
                vmnet_test_golden("actions-libvirt/detach-gone.xml", f->xml);
        }

        /* The test driver has no device hot-plug: the attempt fails with libvirt's own reason. */
        ck_assert(!vmnet_apply_actions(&ctx, actions, NULL, NULL, NULL, &error));
        ck_assert(g_error_matches(error, VMNET_ERROR, VMNET_ERROR_LIBVIRT));
        ck_assert_msg(strstr(error->message, "not supported"), "%s", error->message);
}
END_TEST

/*
 * A running guest's NIC moved to another network keeps its address of the
 * old subnet until it renews its lease: disruptive, unless both networks
 * have the same subnet. A shut-off guest's is only its definition: safe.
 */
START_TEST(test_network_move_impact)
{
        static const char *nets = HEAD LAB("nat", "vm-lab", PGS_V1) ISO
                "  <network name='lab2' mode='nat' bridge='vm-lab2'>\n"
                "    <subnet cidr='192.168.122.0/24' gateway='192.168.122.254'/></network>\n";
        g_autofree char *plan_xml = g_strconcat(
                nets,
                "  <domain name='web1'><interface network='lab' mac='52:54:00:00:00:01'/></domain>\n"
                "  <domain name='web2'><interface network='lab' mac='52:54:00:00:00:04'/></domain>\n"
                "  <domain name='web3'><interface network='lab2' mac='52:54:00:00:00:05'/></domain>\n",
                TAIL, NULL);
        g_autofree char *nets_xml = g_strconcat(nets, TAIL, NULL);
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(plan_xml, "hv1.xml");
        g_autofree char *on_iso1 = iface_xml("52:54:00:00:00:01", "iso", NULL, "hv1", "virtio");
        g_autofree char *on_iso4 = iface_xml("52:54:00:00:00:04", "iso", NULL, "hv1", "virtio");
        /* The test driver's own 'default' is 192.168.122.0/24, as lab2. */
        g_autofree char *on_default = iface_xml("52:54:00:00:00:05", "default", NULL, "hv1", "virtio");
        g_autoptr(GPtrArray) actions = NULL;
        g_autofree char *text = NULL;

        converge_xml(nets_xml);
        define_domain("web1", on_iso1, TRUE);    /* running: iso (no subnet) -> lab */
        define_domain("web2", on_iso4, FALSE);   /* shut off: its definition only */
        define_domain("web3", on_default, TRUE); /* running: the same subnet */
        actions = diff_ok(plan);
        text = actions_text(actions);
        vmnet_test_golden("actions-libvirt/move.txt", text);
}
END_TEST

/*
 * A plan subnet that a libvirt network of someone else's has: the test
 * driver's own 'default' (active, 192.168.122.1 netmask 255.255.255.0 on
 * virbr0), and a stopped one of prefix= form. Bridged networks (the LAN's
 * subnet) and vmnet's own networks are no conflict.
 */
START_TEST(test_subnet_conflicts)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(
                HEAD
                "  <network name='lab' mode='nat' bridge='vm-lab'>\n"
                "    <subnet cidr='192.168.122.0/24' gateway='192.168.122.254'/></network>\n"
                "  <network name='lan' mode='bridged' bridge='br-lan'><uplink dev='eth9'/>\n"
                "    <subnet cidr='10.8.9.0/24' gateway='10.8.9.1'/></network>\n"
                "  <network name='rt' mode='routed' bridge='vm-rt'>\n"
                "    <subnet cidr='10.8.5.0/24' gateway='10.8.5.1'/></network>\n" TAIL,
                "hv1.xml");
        g_autoptr(VmnetLibvirtHost) host = NULL;
        g_autoptr(GArray) conflicts = NULL;
        g_autoptr(VmnetVirNetwork) stopped = virNetworkDefineXML(
                conn, "<network><name>old</name><bridge name='virbr9'/>"
                      "<ip address='10.8.0.1' prefix='16'/></network>");
        const VmnetSubnetConflict *c;
        g_autofree char *d0 = NULL, *d1 = NULL, *fix = NULL;

        ck_assert_msg(stopped, "%s", virGetLastErrorMessage());
        host = observe();
        conflicts = vmnet_subnet_conflicts(plan, host);
        ck_assert_uint_eq(conflicts->len, 2);
        c = &g_array_index(conflicts, VmnetSubnetConflict, 0);
        d0 = vmnet_subnet_conflict_describe(c, plan->file);
        fix = vmnet_subnet_conflict_fix(c, plan->file);
        ck_assert_str_eq(d0, "hv1.xml:3: network 'lab': subnet 192.168.122.0/24 (gateway "
                             "192.168.122.254) overlaps libvirt network 'default' (active, not "
                             "vmnet's) on bridge virbr0, subnet 192.168.122.0/24 (host address "
                             "192.168.122.1): the host routes the subnet to one bridge only, so "
                             "the guests of one network cannot reach their gateway");
        ck_assert_msg(strstr(fix, "virsh net-destroy default") && strstr(fix, "hv1.xml:3"), "%s",
                      fix);
        c = &g_array_index(conflicts, VmnetSubnetConflict, 1);
        ck_assert(!c->other->active);
        d1 = vmnet_subnet_conflict_describe(c, plan->file);
        ck_assert_msg(strstr(d1, "network 'rt': subnet 10.8.5.0/24 (gateway 10.8.5.1) overlaps "
                                 "libvirt network 'old' (inactive, not vmnet's) on bridge virbr9, "
                                 "subnet 10.8.0.0/16 (host address 10.8.0.1): it cannot start"),
                      "%s", d1);
}
END_TEST

static void add_net(VmnetLibvirtHost *virt, const char *name, const char *owner, const char *bridge)
{
        g_autofree char *xml = g_strdup_printf("<network><name>%s</name><forward mode='bridge'/>"
                                               "<bridge name='%s'/></network>",
                                               name, bridge);
        VmnetLibvirtNetwork *n = vmnet_libvirt_network_parse(xml, NULL);

        ck_assert_ptr_nonnull(n);
        n->owner_plan = g_strdup(owner);
        n->active = n->persistent = TRUE;
        g_ptr_array_add(virt->networks, n);
}

/* A shut-off domain as libvirt has it after a failed autostart (or not), with one interface. */
static void add_stopped(VmnetLibvirtHost *virt, const char *name, const char *iface,
                        gboolean autostart, gboolean failed)
{
        VmnetLibvirtDomain *d = g_new0(VmnetLibvirtDomain, 1);
        g_autofree char *xml = g_strdup_printf("<domain><devices>%s</devices></domain>", iface);

        d->name = g_strdup(name);
        d->persistent = TRUE;
        d->autostart = autostart;
        d->start_failed = failed;
        d->live = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        d->config = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        ck_assert(vmnet_libvirt_domain_parse_ifaces(xml, d->config, NULL));
        g_ptr_array_add(virt->domains, d);
}

/*
 * After a reboot: autostarted guests whose start failed on vmnet's missing
 * bridge. The plan's is started again (last); someone else's is named with
 * the command; one that was not autostarted, one that failed for no bridge
 * of vmnet's, and one shut off on purpose are left alone.
 */
START_TEST(test_guest_starts)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(
                HEAD LAB("nat", "vm-lab", PGS_V1)
                "  <domain name='b1'><interface network='lab' mac='52:54:00:00:00:01'/></domain>\n" TAIL,
                "hv1.xml");
        g_autoptr(VmnetLibvirtHost) virt = vmnet_libvirt_host_new("test:///starts");
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        g_autoptr(VmnetDiags) warnings = vmnet_diags_new();
        g_autofree char *text = NULL;
        g_autofree char *w = NULL;
        const char *on_lab = "<interface type='network'><mac address='52:54:00:00:00:01'/>"
                             "<source network='lab'/></interface>";
        const char *on_default = "<interface type='network'><mac address='52:54:00:00:00:09'/>"
                                 "<source network='default'/></interface>";
        const char *on_bridge = "<interface type='bridge'><mac address='52:54:00:00:00:02'/>"
                                "<source bridge='vm-lab'/></interface>";

        add_net(virt, "default", NULL, "virbr0");
        add_net(virt, "lab", "hv1", "vm-lab");
        add_stopped(virt, "b1", on_lab, TRUE, TRUE);
        add_stopped(virt, "f1", on_bridge, TRUE, TRUE);
        add_stopped(virt, "manual", on_lab, FALSE, TRUE);
        add_stopped(virt, "elsewhere", on_default, TRUE, TRUE);
        add_stopped(virt, "stopped", on_lab, TRUE, FALSE);
        vmnet_diff_guest_starts(plan, virt, actions, warnings);
        text = actions_text(actions);
        ck_assert_str_eq(text, "domain-start safe: start domain b1 (autostarted, its start failed "
                               "while vmnet's bridge vm-lab was missing)\n");
        ck_assert_uint_eq(warnings->items->len, 1);
        w = vmnet_diag_format(g_ptr_array_index(warnings->items, 0));
        ck_assert_msg(strstr(w, "domain f1, which vmnet does not manage, is autostarted but shut off") &&
                              strstr(w, "virsh start f1"),
                      "%s", w);
}
END_TEST

START_TEST(test_domain_interfaces_in_sync)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(HEAD LAB("nat", "vm-lab", PGS_V1)
                                                      "  <domain name='web1'>\n"
                                                      "    <interface network='lab' mac='52:54:00:00:00:01'/>\n"
                                                      "  </domain>\n" TAIL, "hv1.xml");
        const VmnetDomain *d = g_ptr_array_index(plan->domains, 0);
        g_autofree char *xml = vmnet_render_domain_interface(plan, d,
                                                             g_ptr_array_index(d->interfaces, 0));
        g_autoptr(GPtrArray) actions = NULL;

        converge_xml(HEAD LAB("nat", "vm-lab", PGS_V1) TAIL);
        /* The domain already has exactly what vmnet would attach: nothing to do. */
        define_domain("web1", xml, TRUE);
        actions = diff_ok(plan);
        ck_assert_uint_eq(actions->len, 0);
}
END_TEST

/*
 * A running guest whose NIC was plugged before vmnet named taps (its tap is
 * the hypervisor's vnetN or the test driver's testnetN, not vmn + MAC): the
 * name alone is no reason to replug it (doctor's antispoof check reports it).
 */
START_TEST(test_domain_old_tap_name_kept)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(HEAD LAB("nat", "vm-lab", PGS_V1)
                                                      "  <domain name='web1'>\n"
                                                      "    <interface network='lab' mac='52:54:00:00:00:01'/>\n"
                                                      "  </domain>\n" TAIL, "hv1.xml");
        const VmnetDomain *d = g_ptr_array_index(plan->domains, 0);
        g_autofree char *xml = vmnet_render_domain_interface_full(plan, d,
                                                                  g_ptr_array_index(d->interfaces, 0),
                                                                  FALSE);
        g_autofree char *named = vmnet_render_domain_interface(plan, d,
                                                               g_ptr_array_index(d->interfaces, 0));
        g_autoptr(GPtrArray) actions = NULL;

        ck_assert_ptr_null(strstr(xml, "<target"));
        ck_assert_ptr_nonnull(strstr(named, "<target dev='vmn525400000001'/>"));
        converge_xml(HEAD LAB("nat", "vm-lab", PGS_V1) TAIL);
        define_domain("web1", xml, TRUE);
        actions = diff_ok(plan);
        ck_assert_uint_eq(actions->len, 0);
}
END_TEST

START_TEST(test_domain_missing_or_foreign_mac)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(
                HEAD LAB("nat", "vm-lab", PGS_V1)
                "  <domain name='nosuch'><interface network='lab' mac='52:54:00:00:00:01'/></domain>\n"
                "  <domain name='web1'><interface network='lab' mac='52:54:00:00:00:02'/></domain>\n" TAIL, "hv1.xml");
        g_autoptr(VmnetPlan) plan2 = vmnet_test_plan_from_string(
                HEAD LAB("nat", "vm-lab", PGS_V1)
                "  <domain name='web1'><interface network='lab' mac='52:54:00:00:00:02'/></domain>\n" TAIL, "hv1.xml");
        g_autofree char *foreign = iface_xml("52:54:00:00:00:02", "default", NULL, NULL, "virtio");
        g_autoptr(VmnetLibvirtHost) host = NULL;
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        g_autoptr(GError) error = NULL;

        define_domain("web1", foreign, FALSE);
        host = observe();
        /* Before anything: the diff fails, naming the domain and its line. */
        ck_assert(!vmnet_diff_libvirt(plan, host, actions, NULL, &error));
        ck_assert(g_error_matches(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND));
        ck_assert_msg(strstr(error->message, "hv1.xml:") && strstr(error->message, "'nosuch'"),
                      "%s", error->message);
        ck_assert_uint_eq(actions->len, 0);
        g_clear_error(&error);

        /* A MAC the domain already has on an interface vmnet did not attach. */
        ck_assert(!vmnet_diff_libvirt(plan2, host, actions, NULL, &error));
        ck_assert(g_error_matches(error, VMNET_ERROR, VMNET_ERROR_CONFLICT));
        ck_assert_msg(strstr(error->message, "52:54:00:00:00:02") &&
                              strstr(error->message, "did not attach"),
                      "%s", error->message);
        ck_assert_uint_eq(actions->len, 0);
}
END_TEST

/*
 * Guests re-plugged after their network changed: vmnet's interfaces in a
 * changed port group (by the first and last port group action), every
 * running guest on a re-created network.
 */
START_TEST(test_replug_decisions)
{
        g_autoptr(VmnetPlan) v2 = vmnet_test_plan_from_string(
                HEAD LAB("nat", "vm-lab", PGS_V2)
                "  <domain name='web1'>\n"
                "    <interface network='lab' mac='52:54:00:00:00:01'/>\n"
                "    <interface network='lab' mac='52:54:00:00:00:02' portgroup='web'/>\n"
                "  </domain>\n" TAIL, "hv1.xml");
        g_autoptr(VmnetPlan) moved = vmnet_test_plan_from_string(
                HEAD LAB("nat", "br-lab", PGS_V1)
                "  <domain name='web1'>\n"
                "    <interface network='lab' mac='52:54:00:00:00:01'/>\n"
                "    <interface network='lab' mac='52:54:00:00:00:02' portgroup='web'/>\n"
                "  </domain>\n" TAIL, "hv1.xml");
        g_autofree char *if1 = iface_xml("52:54:00:00:00:01", "lab", NULL, "hv1", "virtio");
        g_autofree char *if2 = iface_xml("52:54:00:00:00:02", "lab", "web", "hv1", "virtio");
        g_autofree char *foreign = iface_xml("52:54:00:00:00:0f", "lab", NULL, NULL, "virtio");
        g_autofree char *all = g_strconcat(if1, if2, foreign, NULL);
        g_autoptr(GPtrArray) a1 = NULL;
        g_autoptr(GPtrArray) a2 = NULL;
        g_autofree char *t1 = NULL;
        g_autofree char *t2 = NULL;
        g_autofree char *text = NULL;

        converge_xml(plan_lab_only);
        define_domain("web1", all, TRUE);
        a1 = diff_ok(v2);
        a2 = diff_ok(moved);
        t1 = actions_text(a1);
        t2 = actions_text(a2);
        text = g_strconcat(t1, "--\n", t2, NULL);
        vmnet_test_golden("actions-libvirt/replug.txt", text);
}
END_TEST

/*
 * A running guest whose persistent definition has vmnet's interface in
 * another PCI slot (its owner added a config-only NIC, which took the
 * slot): libvirt looks for a detach's or an update's address in both
 * definitions, so each scope gets its own action with its own XML, and a
 * detach is matched by MAC and vmnet's alias only. The host is built here:
 * the test driver cannot attach devices.
 */
static VmnetLibvirtIface *parse_one(const char *xml)
{
        g_autoptr(GError) error = NULL;
        VmnetLibvirtIface *f = vmnet_libvirt_iface_parse(xml, &error);

        ck_assert_msg(f, "%s", error ? error->message : "");
        return f;
}

#define SPLIT_IFACE(slot)                                                                          \
        "<interface type='network'><mac address='52:54:00:60:00:77'/>"                             \
        "<source network='lab'/><model type='virtio'/>"                                            \
        "<alias name='ua-vmnet-hv1-525400600077'/>"                                                \
        "<address type='pci' domain='0x0000' bus='0x00' slot='" slot "' function='0x0'/>"          \
        "</interface>"

START_TEST(test_split_slots)
{
        g_autoptr(VmnetPlan) same = vmnet_test_plan_from_string(
                HEAD LAB("nat", "vm-lab", PGS_V1)
                "  <domain name='bz'><interface network='lab' mac='52:54:00:60:00:77'/></domain>\n"
                TAIL, "hv1.xml");
        g_autoptr(VmnetPlan) rate = vmnet_test_plan_from_string(
                HEAD LAB("nat", "vm-lab", PGS_V1)
                "  <domain name='bz'><interface network='lab' mac='52:54:00:60:00:77'>"
                "<bandwidth inbound='10mbit'/></interface></domain>\n" TAIL, "hv1.xml");
        g_autoptr(VmnetPlan) model = vmnet_test_plan_from_string(
                HEAD LAB("nat", "vm-lab", PGS_V1)
                "  <domain name='bz'><interface network='lab' mac='52:54:00:60:00:77' "
                "model='e1000e'/></domain>\n" TAIL, "hv1.xml");
        g_autoptr(VmnetPlan) moved = vmnet_test_plan_from_string(
                HEAD LAB("nat", "vm-lab", PGS_V1)
                "  <domain name='bz'><interface network='lab' mac='52:54:00:60:00:78'/></domain>\n"
                TAIL, "hv1.xml");
        const VmnetPlan *plans[] = { same, rate, model, moved };
        g_autoptr(VmnetLibvirtHost) host = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        VmnetLibvirtDomain *bz = g_new0(VmnetLibvirtDomain, 1);
        g_autofree char *match = NULL;

        converge_xml(HEAD LAB("nat", "vm-lab", PGS_V1) TAIL);
        host = observe();
        bz->name = g_strdup("bz");
        bz->active = bz->persistent = TRUE;
        bz->live = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        bz->config = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        g_ptr_array_add(bz->live, parse_one(SPLIT_IFACE("0x03")));
        g_ptr_array_add(bz->config, parse_one("<interface type='network'>"
                                              "<mac address='52:54:00:99:99:99'/>"
                                              "<source network='default'/><model type='virtio'/>"
                                              "<address type='pci' domain='0x0000' bus='0x00' "
                                              "slot='0x03' function='0x0'/></interface>"));
        g_ptr_array_add(bz->config, parse_one(SPLIT_IFACE("0x04")));
        g_ptr_array_add(host->domains, bz);

        for (guint i = 0; i < G_N_ELEMENTS(plans); i++) {
                g_autoptr(GPtrArray) actions = vmnet_action_list_new();
                g_autoptr(GError) error = NULL;
                g_autofree char *t = NULL;

                ck_assert_msg(vmnet_diff_libvirt(plans[i], host, actions, NULL, &error), "%s",
                              error ? error->message : "");
                t = actions_text(actions);
                g_string_append_printf(text, "%s--\n", t);
        }
        {
                g_autoptr(GPtrArray) actions = vmnet_action_list_new();
                g_autoptr(GError) error = NULL;
                g_autofree char *t = NULL;

                ck_assert(vmnet_diff_libvirt_destroy("hv1", host, actions, NULL, &error));
                t = actions_text(actions);
                g_string_append(text, t);
        }
        vmnet_test_golden("actions-libvirt/split-slots.txt", text->str);

        /* A detach names no slot: MAC and vmnet's alias find the device in either definition. */
        match = vmnet_libvirt_iface_xml_for_match(SPLIT_IFACE("0x04"));
        ck_assert_ptr_null(strstr(match, "<address"));
        ck_assert_ptr_nonnull(strstr(match, "52:54:00:60:00:77"));
        ck_assert_ptr_nonnull(strstr(match, "ua-vmnet-hv1-525400600077"));
}
END_TEST

/* libvirtd formats a running guest's network interface with its port's type (seen in tests/vm). */
START_TEST(test_parse_live_interface)
{
        static const char *xml =
                "<domain type='kvm' id='1'><name>web1</name><devices>"
                "<interface type='bridge'><mac address='52:54:00:50:00:21'/>"
                "<source network='lab' portgroup='web' portid='7d5c3cf4-1f43-4bb6-9a41-3b9f0e4a6b3e' bridge='vm-lab'/>"
                "<target dev='vnet0'/><model type='virtio'/>"
                "<alias name='ua-vmnet-lvt-525400500021'/>"
                "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>"
                "</interface>"
                "<interface type='bridge'><mac address='52:54:00:50:00:22'/>"
                "<source bridge='br0'/><target dev='vnet1'/><model type='e1000'/></interface>"
                "</devices></domain>";
        g_autoptr(GPtrArray) ifaces = g_ptr_array_new_with_free_func(
                (GDestroyNotify)vmnet_libvirt_iface_free);
        g_autoptr(GError) error = NULL;
        const VmnetLibvirtIface *f;

        ck_assert(vmnet_libvirt_domain_parse_ifaces(xml, ifaces, &error));
        ck_assert_uint_eq(ifaces->len, 2);
        f = g_ptr_array_index(ifaces, 0);
        ck_assert_str_eq(f->type, "network");
        ck_assert_str_eq(f->network, "lab");
        ck_assert_str_eq(f->portgroup, "web");
        ck_assert_str_eq(f->alias, "ua-vmnet-lvt-525400500021");
        ck_assert_str_eq(f->xml, "<interface type=\"network\">\n"
                                 "  <mac address=\"52:54:00:50:00:21\"/>\n"
                                 "  <source network=\"lab\" portgroup=\"web\"/>\n"
                                 "  <model type=\"virtio\"/>\n"
                                 "  <alias name=\"ua-vmnet-lvt-525400500021\"/>\n"
                                 "  <address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" slot=\"0x03\" function=\"0x0\"/>\n"
                                 "</interface>\n");
        /* A plain bridge interface stays what it is. */
        f = g_ptr_array_index(ifaces, 1);
        ck_assert_str_eq(f->type, "bridge");
        ck_assert_ptr_null(f->network);
}
END_TEST

/* The address audit's guest-agent source (the test driver answers for its own "test" domain). */
START_TEST(test_guest_addresses)
{
        const char *const names[] = { "test", "nosuch", NULL };
        g_autoptr(GPtrArray) addrs = vmnet_libvirt_guest_addresses(conn, names);
        const VmnetGuestAddr *g;
        g_autofree char *mac = NULL;

        ck_assert_uint_ge(addrs->len, 1);
        g = g_ptr_array_index(addrs, 0);
        mac = vmnet_mac_to_string(&g->mac);
        ck_assert_str_eq(g->domain, "test");
        ck_assert_str_eq(mac, "aa:bb:cc:dd:ee:ff");
        ck_assert_int_eq(g->ip.family, AF_INET);
}
END_TEST

START_TEST(test_alias)
{
        VmnetMac m;
        g_autofree char *a = NULL;
        g_autofree char *b = NULL;

        ck_assert(vmnet_mac_parse("52:54:00:ab:cd:ef", &m));
        a = vmnet_render_iface_alias("hv-nat", &m);
        b = vmnet_render_iface_alias("hv.1_x", &m);
        ck_assert_str_eq(a, "ua-vmnet-hv-nat-525400abcdef");
        ck_assert_str_eq(b, "ua-vmnet-hv_2e1_5fx-525400abcdef");
        ck_assert(vmnet_libvirt_alias_is_plan(a, "hv-nat"));
        ck_assert(!vmnet_libvirt_alias_is_plan(a, "hv"));
        ck_assert(!vmnet_libvirt_alias_is_plan(a, "hv-nat-5"));
        ck_assert(vmnet_libvirt_alias_is_plan(b, "hv.1_x"));
        ck_assert(!vmnet_libvirt_alias_is_plan(b, "hv_1.x"));
        ck_assert(!vmnet_libvirt_alias_is_plan("ua-vmnet-hv-nat-52540", "hv-nat"));
        ck_assert(!vmnet_libvirt_alias_is_plan("net0", "hv-nat"));
        ck_assert(vmnet_libvirt_alias_is_vmnet(b) && !vmnet_libvirt_alias_is_vmnet("ua-mine"));
}
END_TEST

/* What libvirt hands its network hook at port-created, for a network rendered by vmnet. */
static char *hook_data(const char *network_xml, const char *group)
{
        return g_strdup_printf("<hookData>\n%s<networkport>\n  <uuid>f325592d-45d7-4c4c-bf94-76a5aa5726d4</uuid>\n"
                               "  <owner><name>proxy1</name><uuid>5e87314a-b0fb-498e-9474-2a90ffdbd80b</uuid></owner>\n"
                               "%s%s%s  <mac address='52:54:00:11:22:33'/>\n"
                               "  <plug type='bridge' bridge='br-trunk'/>\n</networkport>\n</hookData>\n",
                               network_xml, group ? "  <group>" : "", group ? group : "",
                               group ? "</group>\n" : "");
}

/* The network hook finds the VLAN of a port in vmnet's metadata, and nowhere else. */
START_TEST(test_hook_port_vlan)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan("examples/vlan-aware.xml");
        g_autofree char *dmz = vmnet_render_libvirt_network(plan, vmnet_plan_find_network(plan, "dmz"));
        static const struct {
                const char *group;
                guint vid;
        } cases[] = { { NULL, 30 }, { "dmz-mgmt", 31 }, { "nosuch", 30 } };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *in = hook_data(dmz, cases[i].group);
                g_auto(VmnetLibvirtHookPort) p = { 0 };
                g_autoptr(GError) error = NULL;
                g_autofree char *mac = NULL;
                VmnetPortVlans v;

                ck_assert_msg(vmnet_libvirt_hook_port_parse(in, &p, &error), "%s", error ? error->message : "");
                mac = vmnet_mac_to_string(&p.mac);
                ck_assert_str_eq(mac, "52:54:00:11:22:33");
                ck_assert_str_eq(p.bridge, "br-trunk");
                ck_assert_str_eq(p.network->owner_plan, "hv-trunk");
                ck_assert(vmnet_libvirt_network_port_vlans(p.network, p.group, &v));
                ck_assert_uint_eq(v.n_tagged, 0);
                ck_assert_uint_eq(v.untagged, cases[i].vid);
        }
        /* Not vmnet's (no metadata), and garbage. */
        {
                g_autofree char *in = hook_data("<network><name>default</name><bridge name='virbr0'/></network>\n", NULL);
                g_auto(VmnetLibvirtHookPort) p = { 0 };
                g_autoptr(GError) error = NULL;

                VmnetPortVlans v;

                ck_assert(vmnet_libvirt_hook_port_parse(in, &p, &error));
                ck_assert(!vmnet_libvirt_network_port_vlans(p.network, NULL, &v));
                ck_assert(vmnet_port_vlans_is_empty(&v));
        }
        {
                g_auto(VmnetLibvirtHookPort) p = { 0 };
                g_autoptr(GError) error = NULL;

                ck_assert(!vmnet_libvirt_hook_port_parse("<hookData><network/></hookData>", &p, &error));
                ck_assert_ptr_nonnull(error);
        }
}
END_TEST

/*
 * A trunk port group (examples/vlan-trunk.xml): the hook reads its tagged
 * VLANs and native one from the metadata, as the plan has them; the other
 * ports of the network stay access ports.
 */
START_TEST(test_hook_port_trunk)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan("examples/vlan-trunk.xml");
        const VmnetNetwork *net = vmnet_plan_find_network(plan, "servers");
        g_autofree char *xml = vmnet_render_libvirt_network(plan, net);
        static const struct {
                const char *group;
                const char *want;
        } cases[] = { { "router", "vlans 10, 20, 99 (tagged) and 5 (untagged, pvid)" },
                      { NULL, "vlan 10 (untagged, pvid)" } };

        ck_assert_msg(strstr(xml, "<vmnet:portgroup name='router' trunk='10,20,99' native='5'/>"),
                      "%s", xml);
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *in = hook_data(xml, cases[i].group);
                g_auto(VmnetLibvirtHookPort) p = { 0 };
                g_autoptr(GError) error = NULL;
                g_autofree char *got = NULL, *planned = NULL;
                VmnetPortVlans v, w;

                ck_assert_msg(vmnet_libvirt_hook_port_parse(in, &p, &error), "%s", error ? error->message : "");
                ck_assert(vmnet_libvirt_network_port_vlans(p.network, p.group, &v));
                got = vmnet_port_vlans_describe(&v);
                ck_assert_str_eq(got, cases[i].want);
                ck_assert(vmnet_network_port_vlans(net, cases[i].group, &w));
                ck_assert(vmnet_port_vlans_equal(&v, &w));
                planned = vmnet_port_vlans_describe(&w);
                ck_assert_str_eq(planned, cases[i].want);
        }
}
END_TEST

/* One running guest of examples/vlan-aware.xml with its tap in the given VLANs (vid:flags). */
static VmnetHost *guest_host(const char *master, const guint16 (*vlans)[2], guint n)
{
        VmnetHost *host = vmnet_host_new();
        VmnetHostLink *tap;

        vmnet_host_add_link(host, 2, "br-trunk", "bridge");
        vmnet_host_add_link(host, 3, "vnet7", "tun")->master = master ? 2 : 0;
        tap = vmnet_host_find_link(host, "vnet7");
        tap->bridge_vlans = g_array_new(FALSE, TRUE, sizeof(VmnetHostBridgeVlan));
        for (guint i = 0; i < n; i++) {
                VmnetHostBridgeVlan v = { .vid = vlans[i][0], .flags = vlans[i][1] };

                g_array_append_val(tap->bridge_vlans, v);
        }
        vmnet_host_resolve(host);
        return host;
}

/* vmnet's network dmz as libvirt has it (owner NULL: someone else's of that name). */
static void add_dmz(VmnetLibvirtHost *virt, const char *owner, const char *bridge)
{
        VmnetLibvirtNetwork *n = g_new0(VmnetLibvirtNetwork, 1);

        n->name = g_strdup("dmz");
        n->owner_plan = g_strdup(owner);
        n->bridge = g_strdup(bridge);
        n->active = n->persistent = TRUE;
        n->portgroups = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(virt->networks, n);
}

static VmnetLibvirtHost *guest_virt(const char *group)
{
        VmnetLibvirtHost *virt = vmnet_libvirt_host_new("test:///guest-ports");
        VmnetLibvirtDomain *d = g_new0(VmnetLibvirtDomain, 1);
        g_autofree char *xml = g_strdup_printf(
                "<domain><devices><interface type='bridge'><mac address='52:54:00:77:00:01'/>"
                "<source network='dmz'%s%s%s bridge='br-trunk'/><target dev='vnet7'/></interface>"
                "</devices></domain>",
                group ? " portgroup='" : "", group ? group : "", group ? "'" : "");

        d->name = g_strdup("proxy1");
        d->active = TRUE;
        d->live = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        d->config = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        ck_assert(vmnet_libvirt_domain_parse_ifaces(xml, d->live, NULL));
        g_ptr_array_add(virt->domains, d);
        return virt;
}

static char *guest_port_actions(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                                const VmnetHost *host)
{
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        GString *out = g_string_new(NULL);

        vmnet_diff_guest_ports(plan, virt, host, actions);
        for (guint i = 0; i < actions->len; i++) {
                g_autofree char *d = vmnet_action_describe(g_ptr_array_index(actions, i));

                g_string_append_printf(out, "%s\n", d);
        }
        return g_string_free(out, FALSE);
}

/* A running guest's port on a VLAN-aware bridge: put in its VLAN, strays out, whoever moved it. */
START_TEST(test_guest_port_repair)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan("examples/vlan-aware.xml");
        const guint16 pu = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED;
        const guint16 default_vlan[][2] = { { 1, pu } };
        const guint16 right[][2] = { { 30, pu } };
        const guint16 moved[][2] = { { 1, pu }, { 30, BRIDGE_VLAN_INFO_UNTAGGED }, { 20, 0 } };
        g_autoptr(VmnetLibvirtHost) virt = guest_virt(NULL);
        g_autoptr(VmnetLibvirtHost) mgmt = guest_virt("dmz-mgmt");
        g_autoptr(VmnetLibvirtHost) others = guest_virt(NULL);
        struct {
                VmnetLibvirtHost *virt;
                VmnetHost *host;
                const char *want;
        } cases[] = {
                { virt, guest_host("br-trunk", default_vlan, 1),
                  "add vlan 30 (pvid, untagged) to port vnet7 of br-trunk\n"
                  "remove vlan 1 (pvid, untagged) from port vnet7 of br-trunk [disruptive]\n" },
                { virt, guest_host("br-trunk", NULL, 0), "add vlan 30 (pvid, untagged) to port vnet7 of br-trunk\n" },
                { virt, guest_host("br-trunk", right, 1), "" },
                { virt, guest_host("br-trunk", moved, 3),
                  "add vlan 30 (pvid, untagged) to port vnet7 of br-trunk\n"
                  "remove vlan 1 (pvid, untagged) from port vnet7 of br-trunk [disruptive]\n"
                  "remove vlan 20 (tagged) from port vnet7 of br-trunk [disruptive]\n" },
                /* A tap on no bridge is not this check's: the libvirt part replugs. */
                { virt, guest_host(NULL, default_vlan, 1), "" },
                /* Port group dmz-mgmt: VLAN 31, and 30 is a stray there. */
                { mgmt, guest_host("br-trunk", right, 1),
                  "add vlan 31 (pvid, untagged) to port vnet7 of br-trunk\n"
                  "remove vlan 30 (pvid, untagged) from port vnet7 of br-trunk [disruptive]\n" },
                /* A network of that name that is not vmnet's: its guests are not vmnet's to move. */
                { others, guest_host("br-trunk", default_vlan, 1), "" },
        };

        add_dmz(virt, plan->name, "br-trunk");
        add_dmz(mgmt, plan->name, "br-trunk");
        add_dmz(others, NULL, "br-trunk");
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *got = guest_port_actions(plan, cases[i].virt, cases[i].host);

                ck_assert_msg(g_str_equal(got, cases[i].want), "case %u:\n%s\nwanted:\n%s", i, got,
                              cases[i].want);
                vmnet_host_free(cases[i].host);
        }
}
END_TEST

/* virt's libvirt network dmz on bridge, defined by vmnet for plan owner (NULL: someone else's). */
static char *guest_tap_actions(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                               const VmnetHost *host)
{
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        GString *out = g_string_new(NULL);

        vmnet_diff_guest_taps(plan, virt, host, actions);
        for (guint i = 0; i < actions->len; i++) {
                g_autofree char *d = vmnet_action_describe(g_ptr_array_index(actions, i));

                g_string_append_printf(out, "%s\n", d);
        }
        return g_string_free(out, FALSE);
}

/*
 * A running guest's tap that belongs on a bridge of the plan's libvirt
 * network but is on none (the bridge was deleted under it): plugged back,
 * into its VLAN, whoever's guest it is; nothing when it is there, when the
 * network is not the plan's, or when its bridge is about to change (the
 * re-create re-plugs).
 */
START_TEST(test_guest_tap_replug)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan("examples/vlan-aware.xml");
        const guint16 pu = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED;
        const guint16 right[][2] = { { 30, pu } };
        g_autoptr(VmnetLibvirtHost) ours = guest_virt(NULL);
        g_autoptr(VmnetLibvirtHost) mgmt = guest_virt("dmz-mgmt");
        g_autoptr(VmnetLibvirtHost) others = guest_virt(NULL);
        g_autoptr(VmnetLibvirtHost) moving = guest_virt(NULL);
        struct {
                VmnetLibvirtHost *virt;
                VmnetHost *host;
                const char *want;
        } cases[] = {
                { ours, guest_host(NULL, NULL, 0),
                  "plug tap vnet7 of domain proxy1 (interface 52:54:00:77:00:01) into bridge "
                  "br-trunk, port in vlan 30\n" },
                { mgmt, guest_host(NULL, NULL, 0),
                  "plug tap vnet7 of domain proxy1 (interface 52:54:00:77:00:01) into bridge "
                  "br-trunk, port in vlan 31\n" },
                { ours, guest_host("br-trunk", right, 1), "" },
                { others, guest_host(NULL, NULL, 0), "" },
                { moving, guest_host(NULL, NULL, 0), "" },
        };

        add_dmz(ours, plan->name, "br-trunk");
        add_dmz(mgmt, plan->name, "br-trunk");
        add_dmz(others, NULL, "br-trunk");
        add_dmz(moving, plan->name, "br-old");
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *got = guest_tap_actions(plan, cases[i].virt, cases[i].host);

                ck_assert_msg(g_str_equal(got, cases[i].want), "case %u:\n%s\nwanted:\n%s", i, got,
                              cases[i].want);
                vmnet_host_free(cases[i].host);
        }
}
END_TEST

/*
 * fw1 of examples/vlan-trunk.xml running, its interface in the trunk port
 * group router of network servers (vmnet's) on br-trunk.
 */
static VmnetLibvirtHost *trunk_virt(const VmnetPlan *plan)
{
        VmnetLibvirtHost *virt = vmnet_libvirt_host_new("test:///guest-trunk");
        VmnetLibvirtDomain *d = g_new0(VmnetLibvirtDomain, 1);
        VmnetLibvirtNetwork *n = g_new0(VmnetLibvirtNetwork, 1);

        d->name = g_strdup("fw1");
        d->active = TRUE;
        d->live = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        d->config = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_libvirt_iface_free);
        ck_assert(vmnet_libvirt_domain_parse_ifaces(
                "<domain><devices><interface type='bridge'><mac address='52:54:00:77:00:05'/>"
                "<source network='servers' portgroup='router' bridge='br-trunk'/>"
                "<target dev='vnet7'/></interface></devices></domain>",
                d->live, NULL));
        g_ptr_array_add(virt->domains, d);
        n->name = g_strdup("servers");
        n->owner_plan = g_strdup(plan->name);
        n->bridge = g_strdup("br-trunk");
        n->active = n->persistent = TRUE;
        n->portgroups = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(virt->networks, n);
        return virt;
}

/*
 * A trunk port (examples/vlan-trunk.xml, port group router: 10, 20, 99
 * tagged, 5 native): every VLAN it lacks or has with the wrong flags is
 * added with the right ones, every other one removed (disruptive), VLAN 1
 * included; a tap on no bridge is plugged back carrying the whole trunk.
 */
START_TEST(test_guest_trunk_repair)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan("examples/vlan-trunk.xml");
        g_autoptr(VmnetLibvirtHost) virt = trunk_virt(plan);
        const guint16 pu = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED;
        const guint16 right[][2] = { { 5, pu }, { 10, 0 }, { 20, 0 }, { 99, 0 } };
        const guint16 fresh[][2] = { { 1, pu } };
        const guint16 drift[][2] = { { 5, pu }, { 10, 0 }, { 30, 0 }, { 99, 0 } };
        const guint16 flags[][2] = { { 5, 0 }, { 10, pu }, { 20, 0 }, { 99, 0 } };
        struct {
                VmnetHost *host;
                const char *want;
        } cases[] = {
                { guest_host("br-trunk", right, 4), "" },
                { guest_host("br-trunk", fresh, 1),
                  "add vlan 5 (pvid, untagged) to port vnet7 of br-trunk\n"
                  "add vlan 10 (tagged) to port vnet7 of br-trunk\n"
                  "add vlan 20 (tagged) to port vnet7 of br-trunk\n"
                  "add vlan 99 (tagged) to port vnet7 of br-trunk\n"
                  "remove vlan 1 (pvid, untagged) from port vnet7 of br-trunk [disruptive]\n" },
                { guest_host("br-trunk", drift, 4),
                  "add vlan 20 (tagged) to port vnet7 of br-trunk\n"
                  "remove vlan 30 (tagged) from port vnet7 of br-trunk [disruptive]\n" },
                { guest_host("br-trunk", flags, 4),
                  "add vlan 5 (pvid, untagged) to port vnet7 of br-trunk\n"
                  "add vlan 10 (tagged) to port vnet7 of br-trunk\n" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *got = guest_port_actions(plan, virt, cases[i].host);

                ck_assert_msg(g_str_equal(got, cases[i].want), "case %u:\n%s\nwanted:\n%s", i, got,
                              cases[i].want);
                vmnet_host_free(cases[i].host);
        }
        {
                g_autoptr(VmnetHost) host = guest_host(NULL, NULL, 0);
                g_autofree char *got = guest_tap_actions(plan, virt, host);

                ck_assert_str_eq(got, "plug tap vnet7 of domain fw1 (interface 52:54:00:77:00:05) "
                                      "into bridge br-trunk, port in vlans 10, 20, 99 (tagged) and "
                                      "5 (untagged, pvid)\n");
        }
}
END_TEST

/* A guest vmnet did not attach on the plan's network, and someone's network on its bridge. */
START_TEST(test_foreign_users)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan("examples/vlan-aware.xml");
        g_autoptr(VmnetLibvirtHost) virt = guest_virt(NULL);
        g_autoptr(GPtrArray) bridges = vmnet_plan_bridges(plan);
        g_autoptr(GArray) users = NULL;
        VmnetLibvirtNetwork *other;
        g_autofree char *d0 = NULL, *d1 = NULL, *b0 = NULL, *b1 = NULL;

        add_dmz(virt, plan->name, "br-trunk");
        add_dmz(virt, NULL, "br-trunk");
        other = g_ptr_array_index(virt->networks, 1);
        g_free(other->name);
        other->name = g_strdup("other");
        users = vmnet_foreign_users(plan->name, bridges, virt);
        ck_assert_uint_eq(users->len, 2);
        d0 = vmnet_foreign_user_describe(&g_array_index(users, VmnetForeignUser, 0));
        b0 = vmnet_foreign_user_breaks(&g_array_index(users, VmnetForeignUser, 0));
        d1 = vmnet_foreign_user_describe(&g_array_index(users, VmnetForeignUser, 1));
        b1 = vmnet_foreign_user_breaks(&g_array_index(users, VmnetForeignUser, 1));
        ck_assert_str_eq(d0, "libvirt network 'other' (active, persistent), not vmnet's, declares "
                             "vmnet's bridge br-trunk");
        ck_assert_str_eq(b0, "bridge br-trunk is deleted under it: its guests lose their network "
                             "and it cannot start again");
        ck_assert_str_eq(d1, "domain proxy1 (interface 52:54:00:77:00:01, running) is on vmnet's "
                             "libvirt network 'dmz' (bridge br-trunk)");
        ck_assert_str_eq(b1, "network 'dmz' is removed: the guest loses its network now");
        /* Not a foreign user: an interface vmnet attached for this plan. */
        {
                VmnetLibvirtDomain *d = g_ptr_array_index(virt->domains, 0);
                VmnetLibvirtIface *f = g_ptr_array_index(d->live, 0);
                g_autoptr(GArray) mine = NULL;

                f->alias = vmnet_render_iface_alias(plan->name, &f->mac);
                ck_assert(vmnet_libvirt_alias_is_plan(f->alias, plan->name));
                mine = vmnet_foreign_users(plan->name, bridges, virt);
                ck_assert_uint_eq(mine->len, 1);
        }
}
END_TEST

static Suite *libvirt_suite(void)
{
        Suite *s = suite_create("libvirt");
        TCase *net = tcase_create("networks");
        TCase *dom = tcase_create("interfaces");

        tcase_add_checked_fixture(net, setup, teardown);
        tcase_add_test(net, test_define_and_idempotence);
        tcase_add_test(net, test_portgroups_updated_live);
        tcase_add_test(net, test_redefine_metadata);
        tcase_add_test(net, test_recreate_bridge_and_rollback);
        tcase_add_test(net, test_removed_networks);
        tcase_add_test(net, test_destroy);
        tcase_add_test(net, test_foreign_network_refused);
        tcase_add_test(net, test_other_plans_network);
        tcase_add_test(net, test_rollback_every_step);
        suite_add_tcase(s, net);
        tcase_add_checked_fixture(dom, setup, teardown);
        tcase_add_test(dom, test_domain_interfaces_decisions);
        tcase_add_test(dom, test_domain_interfaces_in_sync);
        tcase_add_test(dom, test_domain_old_tap_name_kept);
        tcase_add_test(dom, test_network_move_impact);
        tcase_add_test(dom, test_subnet_conflicts);
        tcase_add_test(dom, test_guest_starts);
        tcase_add_test(dom, test_domain_missing_or_foreign_mac);
        tcase_add_test(dom, test_replug_decisions);
        tcase_add_test(dom, test_split_slots);
        tcase_add_test(dom, test_parse_live_interface);
        tcase_add_test(dom, test_guest_addresses);
        tcase_add_test(dom, test_alias);
        tcase_add_test(dom, test_hook_port_vlan);
        tcase_add_test(dom, test_hook_port_trunk);
        tcase_add_test(dom, test_guest_port_repair);
        tcase_add_test(dom, test_guest_tap_replug);
        tcase_add_test(dom, test_guest_trunk_repair);
        tcase_add_test(dom, test_foreign_users);
        suite_add_tcase(s, dom);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(libvirt_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
