/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "plan/plan.h"
#include "tests/unit/testutil.h"
#include "validate/validate.h"

/* Loads and validates; returns the sorted diagnostics as text ("" when valid). */
static char *check_text(const char *data, gsize len, const char *name)
{
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetPlan) plan = vmnet_plan_load_data(data, len, name, diags, &error);
        g_autoptr(GString) out = g_string_new(NULL);

        if (plan)
                vmnet_plan_validate(plan, diags);
        else
                ck_assert_msg(error != NULL, "%s: load failed without a GError", name);
        vmnet_diags_sort(diags);
        for (guint i = 0; i < diags->items->len; i++) {
                g_autofree char *line = vmnet_diag_format(g_ptr_array_index(diags->items, i));

                g_string_append_printf(out, "%s\n", line);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

START_TEST(test_examples_valid)
{
        g_auto(GStrv) files = vmnet_test_list_dir("examples", ".xml");

        ck_assert_uint_ge(g_strv_length(files), 8);
        for (char **f = files; *f; f++) {
                g_autoptr(VmnetPlan) plan = vmnet_test_load_plan(*f);

                ck_assert_ptr_nonnull(plan->name);
                ck_assert_uint_gt(plan->networks->len, 0);
        }
}
END_TEST

/* Every tests/data/invalid/X.xml must fail with exactly the messages in X.err. */
START_TEST(test_invalid_golden)
{
        g_auto(GStrv) files = vmnet_test_list_dir("tests/data/invalid", ".xml");

        ck_assert_uint_ge(g_strv_length(files), 40);
        for (char **f = files; *f; f++) {
                g_autofree char *path = vmnet_test_path(*f);
                g_autofree char *base = g_path_get_basename(*f);
                g_autofree char *data = NULL;
                g_autofree char *text = NULL;
                g_autofree char *golden = NULL;
                gsize len;

                ck_assert(g_file_get_contents(path, &data, &len, NULL));
                text = check_text(data, len, base);
                ck_assert_msg(*text, "%s: expected a failure, but the plan is valid", base);
                golden = g_strdup_printf("invalid/%.*s.err", (int)(strlen(base) - 4), base);
                vmnet_test_golden(golden, text);
        }
}
END_TEST

START_TEST(test_too_large)
{
        gsize n = VMNET_PLAN_MAX_BYTES + 1;
        g_autofree char *data = g_malloc(n);
        g_autofree char *text = NULL;

        memset(data, ' ', n);
        text = check_text(data, n, "big.xml");
        ck_assert_str_eq(text, "big.xml: plan is larger than 8388608 bytes\n");
}
END_TEST

START_TEST(test_deep_nesting)
{
        g_autoptr(GString) s = g_string_new("<plan xmlns=\"urn:vmnet:plan:1\" name=\"x\">");
        g_autofree char *text = NULL;

        for (int i = 0; i < 100000; i++)
                g_string_append(s, "<a>");
        text = check_text(s->str, s->len, "deep.xml");
        ck_assert_msg(g_str_has_prefix(text, "deep.xml:1: not well-formed XML: "), "%s", text);
}
END_TEST

START_TEST(test_empty_and_garbage)
{
        g_autofree char *t1 = check_text("", 0, "empty.xml");
        g_autofree char *t2 = check_text("\x89PNG\r\n", 6, "png.xml");
        g_autofree char *t3 = check_text("<other/>", 8, "other.xml");

        ck_assert_msg(g_str_has_prefix(t1, "empty.xml"), "%s", t1);
        ck_assert_msg(*t2, "binary input accepted");
        ck_assert_msg(strstr(t3, "schema"), "%s", t3);
}
END_TEST

#define MAC_PLAN                                                                        \
        "<plan xmlns=\"urn:vmnet:plan:1\" name=\"hv1\">\n"                        \
        "<network name=\"lab\" mode=\"isolated\"/>\n"                                     \
        "<network name=\"lab2\" mode=\"isolated\"/>\n"                                    \
        "<domain name=\"web1\">%s<interface network=\"lab\"/><interface network=\"lab\"/></domain>\n" \
        "<domain name=\"web2\"><interface network=\"lab\"/></domain>\n"                   \
        "</plan>\n"

static char *mac_of(const VmnetPlan *plan, guint dom, guint ifc)
{
        VmnetDomain *d = g_ptr_array_index(plan->domains, dom);
        VmnetInterface *i = g_ptr_array_index(d->interfaces, ifc);

        return vmnet_mac_to_string(&i->mac);
}

/* Derived MACs are stable, distinct, in 52:54:00, and do not move when another network's interface is added. */
START_TEST(test_derived_macs)
{
        g_autofree char *xml1 = g_strdup_printf(MAC_PLAN, "");
        g_autofree char *xml2 = g_strdup_printf(MAC_PLAN, "<interface network=\"lab2\"/>");
        g_autoptr(VmnetPlan) p1 = vmnet_test_plan_from_string(xml1, "t.xml");
        g_autoptr(VmnetPlan) p1b = vmnet_test_plan_from_string(xml1, "t.xml");
        g_autoptr(VmnetPlan) p2 = vmnet_test_plan_from_string(xml2, "t.xml");
        g_autofree char *a = mac_of(p1, 0, 0), *b = mac_of(p1, 0, 1), *c = mac_of(p1, 1, 0);
        g_autofree char *a_again = mac_of(p1b, 0, 0);
        g_autofree char *a2 = mac_of(p2, 0, 1), *b2 = mac_of(p2, 0, 2);

        ck_assert(g_str_has_prefix(a, "52:54:00:"));
        ck_assert_str_ne(a, b);
        ck_assert_str_ne(a, c);
        ck_assert_str_eq(a, a_again);
        ck_assert_str_eq(a, a2);
        ck_assert_str_eq(b, b2);
}
END_TEST

START_TEST(test_defaults)
{
        static const char *xml =
                "<plan xmlns=\"urn:vmnet:plan:1\" name=\"hv1\">"
                "<network name=\"prod\" mode=\"bridged\"><uplink dev=\"eno1\" vlan=\"100\"/></network>"
                "<network name=\"dmz\" mode=\"bridged\" bridge=\"trunk0\" vlan-aware=\"yes\"><uplink dev=\"eno2\" vlan=\"200\"/></network>"
                "<network name=\"lan\" mode=\"bridged\" bridge=\"br0\"><uplink dev=\"eno3\" name=\"lan0\" vlan=\"7\"/></network>"
                "<domain name=\"d\"><interface network=\"prod\"/></domain>"
                "</plan>";
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(xml, "t.xml");
        VmnetNetwork *prod = vmnet_plan_find_network(plan, "prod");
        VmnetNetwork *dmz = vmnet_plan_find_network(plan, "dmz");
        VmnetNetwork *lan = vmnet_plan_find_network(plan, "lan");
        VmnetInterface *ifc = g_ptr_array_index(((VmnetDomain *)g_ptr_array_index(plan->domains, 0))->interfaces, 0);

        ck_assert_str_eq(prod->bridge, "vm-prod");
        ck_assert_str_eq(prod->uplink->ifname, "eno1.100");
        ck_assert_uint_eq(prod->uplink->vlan, 100);
        ck_assert_str_eq(dmz->uplink->ifname, "eno2"); /* the trunk itself is the bridge port */
        ck_assert_str_eq(lan->uplink->ifname, "lan0");
        ck_assert_int_eq(prod->mtu, 0);
        ck_assert_int_eq(prod->stp, -1);
        ck_assert_str_eq(ifc->model, "virtio");
        ck_assert_int_eq(plan->networks->len, 3);
        ck_assert_str_eq(plan->file, "t.xml");
}
END_TEST

START_TEST(test_stdin_name)
{
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetPlan) plan = vmnet_plan_load_data("<x/>", 4, "-", diags, &error);
        g_autofree char *line = NULL;

        ck_assert_ptr_null(plan);
        ck_assert_uint_gt(diags->items->len, 0);
        line = vmnet_diag_format(g_ptr_array_index(diags->items, 0));
        ck_assert_msg(g_str_has_prefix(line, "<stdin>"), "%s", line);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("plan");
        TCase *tc = tcase_create("core");
        SRunner *sr;
        int failed;

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_examples_valid);
        tcase_add_test(tc, test_invalid_golden);
        tcase_add_test(tc, test_too_large);
        tcase_add_test(tc, test_deep_nesting);
        tcase_add_test(tc, test_empty_and_garbage);
        tcase_add_test(tc, test_derived_macs);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_stdin_name);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
