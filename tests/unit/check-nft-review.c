/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "backend/nftables/ir.h"
#include "backend/nftables/nft.h"
#include "backend/nftables/review.h"
#include "tests/unit/testutil.h"

/*
 * The firewall review (src/backend/nftables/review.c) without a kernel:
 *  - round trip: for every plan of examples/ and tests/data/nft/, each set
 *    element of the IR, written by the text renderer, and each rule's text
 *    are entries of the review of that IR's digest (decoded back from the
 *    bytes), whatever the chain layout;
 *  - a changed port forward shows the old forward removed and the new one
 *    added, and nothing else.
 * tests/netns/t-review.sh does the same against the kernel's own table.
 */

static char **plans;

static gboolean has_entry(GPtrArray *entries, const char *text)
{
        for (guint i = 0; i < entries->len; i++)
                if (g_str_equal(g_ptr_array_index(entries, i), text))
                        return TRUE;
        return FALSE;
}

static void check_table(const VmnetNftIr *table, GPtrArray *entries, const char *where,
                        const char *plan)
{
        for (guint i = 0; i < table->sets->len; i++) {
                const VmnetNftSet *s = g_ptr_array_index(table->sets, i);

                for (guint k = 0; k < vmnet_nft_set_n_elements(s); k++) {
                        const VmnetNftValue *v = vmnet_nft_set_element(s, k);
                        g_autofree char *key = vmnet_nft_values_to_text(v, s->n_key, s->interval);
                        g_autofree char *data =
                                s->n_data ? vmnet_nft_values_to_text(v + s->n_key, s->n_data, FALSE)
                                          : NULL;
                        g_autofree char *suffix = g_strdup_printf("%s@%s: %s%s%s", where, s->name,
                                                                  key, data ? " : " : "",
                                                                  data ? data : "");
                        gboolean found = FALSE;

                        for (guint e = 0; e < entries->len && !found; e++)
                                found = g_str_has_suffix(g_ptr_array_index(entries, e), suffix);
                        ck_assert_msg(found, "%s: no review entry ends in '%s'", plan, suffix);
                }
        }
        for (guint i = 0; i < table->chains->len; i++) {
                const VmnetNftChain *c = g_ptr_array_index(table->chains, i);

                for (guint k = 0; k < c->rules->len; k++) {
                        g_autofree char *t = vmnet_nft_rule_to_text(g_ptr_array_index(c->rules, k));
                        g_autofree char *want = g_strdup_printf("rule %s%s: %s", where, c->name, t);

                        ck_assert_msg(has_entry(entries, want), "%s: no review entry '%s'", plan,
                                      want);
                }
        }
}

START_TEST(test_round_trip)
{
        const char *rel = plans[_i];
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan(rel);
        g_autoptr(VmnetIpam) ipam = vmnet_test_fresh_ipam(plan);
        g_autoptr(VmnetNftIr) ir = vmnet_nft_ir_from_plan(plan, ipam);
        g_autofree char *digest = vmnet_nft_ir_digest(ir);
        g_autoptr(GPtrArray) entries = vmnet_nft_review_entries(digest, ir);
        g_autoptr(GPtrArray) none = vmnet_nft_review_diff(digest, digest, ir);

        check_table(ir, entries, "", rel);
        if (ir->bridge)
                check_table(ir->bridge, entries, "bridge ", rel);
        ck_assert_uint_eq(none->len, 0);
}
END_TEST

static const char *const forward_plan =
        "<plan xmlns='urn:vmnet:plan:1' name='rv'>"
        " <network name='nat' mode='nat' bridge='rv-nat'>"
        "  <subnet cidr='10.88.1.0/24' gateway='10.88.1.1'/>"
        "  <nat><port-forward proto='tcp' host-port='%s' to='%s' to-port='%s'/></nat>"
        " </network>"
        "</plan>";

static VmnetNftIr *forward_ir(const char *port, const char *to, const char *to_port)
{
        g_autofree char *xml = g_strdup_printf(forward_plan, port, to, to_port);
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(xml, "rv.xml");

        return vmnet_nft_ir_from_plan(plan, NULL);
}

START_TEST(test_changed_forward)
{
        g_autoptr(VmnetNftIr) old_ir = forward_ir("8080", "10.88.1.10", "80");
        g_autoptr(VmnetNftIr) new_ir = forward_ir("8081", "10.88.1.11", "22");
        g_autofree char *before = vmnet_nft_ir_digest(old_ir);
        g_autofree char *after = vmnet_nft_ir_digest(new_ir);
        g_autoptr(GPtrArray) changes = vmnet_nft_review_diff(before, after, new_ir);
        const VmnetNftChange *c;

        ck_assert_uint_eq(changes->len, 2);
        c = g_ptr_array_index(changes, 0);
        ck_assert(!c->added);
        ck_assert_str_eq(c->kind, "forward");
        ck_assert_str_eq(c->text, "forward @fwd4: tcp . 8080 : 10.88.1.10 . 80");
        c = g_ptr_array_index(changes, 1);
        ck_assert(c->added);
        ck_assert_str_eq(c->text, "forward @fwd4: tcp . 8081 : 10.88.1.11 . 22");
}
END_TEST

/* From no table: every entry is added, the table's comment and the masquerade among them. */
START_TEST(test_from_nothing)
{
        g_autoptr(VmnetNftIr) ir = forward_ir("8080", "10.88.1.10", "80");
        g_autofree char *after = vmnet_nft_ir_digest(ir);
        g_autoptr(GPtrArray) changes = vmnet_nft_review_diff("", after, ir);
        g_autoptr(GPtrArray) gone = vmnet_nft_review_diff(after, "", ir);
        gboolean masq = FALSE, table = FALSE;

        for (guint i = 0; i < changes->len; i++) {
                const VmnetNftChange *c = g_ptr_array_index(changes, i);

                ck_assert(c->added);
                masq |= g_str_equal(c->text, "masquerade @masq4: 10.88.1.0/24");
                table |= g_str_equal(c->text, "table inet vmnet: comment \"managed by vmnet plan rv\"");
        }
        ck_assert(masq);
        ck_assert(table);
        ck_assert_uint_eq(gone->len, changes->len);
}
END_TEST

static Suite *review_suite(void)
{
        Suite *s = suite_create("nft-review");
        TCase *tc = tcase_create("review");
        static const char *const dirs[] = { "examples", "tests/data/nft", NULL };

        plans = vmnet_test_list_dirs(dirs, ".xml");
        tcase_add_loop_test(tc, test_round_trip, 0, (int)g_strv_length(plans));
        tcase_add_test(tc, test_changed_forward);
        tcase_add_test(tc, test_from_nothing);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(review_suite());
        int failed;

        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        g_strfreev(plans);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
