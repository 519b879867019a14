/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/addr.h"
#include "util/error.h"
#include "util/json-text.h"

START_TEST(test_addr_parse)
{
        VmnetAddr a;
        g_autofree char *s4 = NULL, *s6 = NULL;

        ck_assert(vmnet_addr_parse("192.168.50.1", &a));
        ck_assert_int_eq(a.family, AF_INET);
        s4 = vmnet_addr_to_string(&a);
        ck_assert_str_eq(s4, "192.168.50.1");
        ck_assert(vmnet_addr_parse("fd00::1", &a));
        ck_assert_int_eq(a.family, AF_INET6);
        s6 = vmnet_addr_to_string(&a);
        ck_assert_str_eq(s6, "fd00::1");
        ck_assert(!vmnet_addr_parse("10.1", &a));
        ck_assert(!vmnet_addr_parse("192.168.50.256", &a));
        ck_assert(!vmnet_addr_parse("", &a));
        ck_assert(!vmnet_addr_parse(NULL, &a));
        ck_assert(!vmnet_addr_parse("010.1.1.1x", &a));
}
END_TEST

START_TEST(test_addr_add)
{
        VmnetAddr a;
        g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL;

        vmnet_addr_parse("10.0.0.255", &a);
        vmnet_addr_add(&a, 1);
        s1 = vmnet_addr_to_string(&a);
        ck_assert_str_eq(s1, "10.0.1.0");
        vmnet_addr_add(&a, -2);
        s2 = vmnet_addr_to_string(&a);
        ck_assert_str_eq(s2, "10.0.0.254");
        vmnet_addr_parse("fd00::ffff", &a);
        vmnet_addr_add(&a, 0x10001);
        s3 = vmnet_addr_to_string(&a);
        ck_assert_str_eq(s3, "fd00::2:0"); /* 0xffff + 0x10001 */
}
END_TEST

START_TEST(test_prefix)
{
        VmnetPrefix p, q;
        VmnetAddr a, last, mask;
        gboolean host_bits;
        g_autofree char *ls = NULL, *ms = NULL, *ps = NULL;

        ck_assert(vmnet_prefix_parse("192.168.50.0/24", &p, &host_bits));
        ck_assert(!host_bits);
        ck_assert(vmnet_prefix_parse("192.168.50.7/24", &q, &host_bits));
        ck_assert(host_bits);
        ps = vmnet_prefix_to_string(&q);
        ck_assert_str_eq(ps, "192.168.50.0/24");
        ck_assert(!vmnet_prefix_parse("192.168.50.0/33", &q, NULL));
        ck_assert(!vmnet_prefix_parse("192.168.50.0/", &q, NULL));
        ck_assert(!vmnet_prefix_parse("192.168.50.0/-1", &q, NULL));
        ck_assert(!vmnet_prefix_parse("192.168.50.0/+24", &q, NULL));
        ck_assert(!vmnet_prefix_parse("192.168.50.0/24 ", &q, NULL));
        ck_assert(!vmnet_prefix_parse("192.168.0.0/18446744073709551640", &q, NULL));
        ck_assert(!vmnet_prefix_parse("fd00::/129", &q, NULL));
        ck_assert(vmnet_prefix_parse("fd00::/128", &q, NULL));
        ck_assert(!vmnet_prefix_parse("192.168.50.0", &q, NULL));
        vmnet_addr_parse("192.168.50.77", &a);
        ck_assert(vmnet_prefix_contains(&p, &a));
        vmnet_addr_parse("192.168.51.77", &a);
        ck_assert(!vmnet_prefix_contains(&p, &a));
        vmnet_prefix_last(&p, &last);
        ls = vmnet_addr_to_string(&last);
        ck_assert_str_eq(ls, "192.168.50.255");
        vmnet_prefix_netmask(&p, &mask);
        ms = vmnet_addr_to_string(&mask);
        ck_assert_str_eq(ms, "255.255.255.0");
        ck_assert_uint_eq(vmnet_prefix_size(&p), 256);
        vmnet_prefix_parse("192.168.48.0/22", &q, NULL);
        ck_assert(vmnet_prefix_overlaps(&p, &q));
        ck_assert(vmnet_prefix_overlaps(&q, &p));
        vmnet_prefix_parse("192.168.51.0/24", &q, NULL);
        ck_assert(!vmnet_prefix_overlaps(&p, &q));
        vmnet_prefix_parse("fd00::/64", &q, NULL);
        ck_assert(!vmnet_prefix_overlaps(&p, &q));
        ck_assert_uint_eq(vmnet_prefix_size(&q), G_MAXUINT64);
}
END_TEST

START_TEST(test_mac)
{
        VmnetMac m;
        g_autofree char *s = NULL;

        ck_assert(vmnet_mac_parse("52:54:00:AB:cd:01", &m));
        s = vmnet_mac_to_string(&m);
        ck_assert_str_eq(s, "52:54:00:ab:cd:01");
        ck_assert(!vmnet_mac_is_multicast(&m));
        ck_assert(vmnet_mac_parse("01:00:5e:00:00:01", &m));
        ck_assert(vmnet_mac_is_multicast(&m));
        ck_assert(vmnet_mac_parse("00:00:00:00:00:00", &m));
        ck_assert(vmnet_mac_is_zero(&m));
        ck_assert(!vmnet_mac_parse("52:54:00:ab:cd", &m));
        ck_assert(!vmnet_mac_parse("52-54-00-ab-cd-01", &m));
        ck_assert(!vmnet_mac_parse("52:54:00:ab:cd:0g", &m));
}
END_TEST

START_TEST(test_ifname)
{
        ck_assert_ptr_null(vmnet_ifname_invalid_reason("eno1.100"));
        ck_assert_ptr_null(vmnet_ifname_invalid_reason("123456789012345"));
        ck_assert_ptr_nonnull(vmnet_ifname_invalid_reason("1234567890123456"));
        ck_assert_ptr_nonnull(vmnet_ifname_invalid_reason(""));
        ck_assert_ptr_nonnull(vmnet_ifname_invalid_reason("a/b"));
        ck_assert_ptr_nonnull(vmnet_ifname_invalid_reason("a:b"));
        ck_assert_ptr_nonnull(vmnet_ifname_invalid_reason("a b"));
        ck_assert_ptr_nonnull(vmnet_ifname_invalid_reason("a\"b"));
        ck_assert_ptr_nonnull(vmnet_ifname_invalid_reason("."));
        ck_assert_ptr_nonnull(vmnet_ifname_invalid_reason(".."));
        ck_assert_ptr_nonnull(vmnet_ifname_invalid_reason("caf\xc3\xa9"));
        /* An allow-list: what the kernel takes but dnsmasq or nftables would read otherwise. */
        ck_assert_ptr_null(vmnet_ifname_invalid_reason("br_lab-1.10"));
        ck_assert_str_eq(vmnet_ifname_invalid_reason("n,up0"), "contains ','");
        ck_assert_str_eq(vmnet_ifname_invalid_reason("*"), "contains '*'");
        ck_assert_str_eq(vmnet_ifname_invalid_reason("br#1"), "contains '#'");
        ck_assert_str_eq(vmnet_ifname_invalid_reason("a=b"), "contains '='");
        ck_assert_str_eq(vmnet_ifname_invalid_reason("a\nb"), "contains the byte 0x0a");
        ck_assert_str_eq(vmnet_ifname_invalid_reason("a b"), "contains a space");
        ck_assert_str_eq(vmnet_ifname_invalid_reason("a/b"), "contains '/'");
}
END_TEST

START_TEST(test_dns_name)
{
        ck_assert_ptr_null(vmnet_dns_name_invalid_reason("lab.example", FALSE));
        ck_assert_ptr_null(vmnet_dns_name_invalid_reason("web-1", FALSE));
        ck_assert_ptr_null(vmnet_dns_name_invalid_reason("_tcp.lab", TRUE));
        ck_assert_str_eq(vmnet_dns_name_invalid_reason("_tcp.lab", FALSE), "contains '_'");
        ck_assert_str_eq(vmnet_dns_name_invalid_reason("a,b", TRUE), "contains ','");
        ck_assert_str_eq(vmnet_dns_name_invalid_reason("a\nserver=1.1.1.1", TRUE),
                         "contains the byte 0x0a");
        ck_assert_str_eq(vmnet_dns_name_invalid_reason("", TRUE), "is empty");
        ck_assert_str_eq(vmnet_dns_name_invalid_reason("a..b", TRUE), "has an empty label");
        ck_assert_str_eq(vmnet_dns_name_invalid_reason(".a", TRUE), "has an empty label");
        ck_assert_str_eq(vmnet_dns_name_invalid_reason("a.", TRUE), "has an empty label");
        ck_assert_str_eq(vmnet_dns_name_invalid_reason("-a.b", TRUE),
                         "has a label that starts or ends with '-'");
        ck_assert_str_eq(vmnet_dns_name_invalid_reason("a.b-", TRUE),
                         "has a label that starts or ends with '-'");
        {
                g_autofree char *label64 = g_strnfill(64, 'a');
                g_autofree char *label63 = g_strnfill(63, 'a');
                g_autofree char *too_long = g_strjoin(".", label63, label63, label63, label63, NULL);

                ck_assert_str_eq(vmnet_dns_name_invalid_reason(label64, TRUE),
                                 "has a label longer than 63 characters");
                ck_assert_ptr_null(vmnet_dns_name_invalid_reason(label63, TRUE));
                ck_assert_uint_eq(strlen(too_long), 255);
                ck_assert_str_eq(vmnet_dns_name_invalid_reason(too_long, TRUE),
                                 "is longer than 253 characters");
        }
}
END_TEST

START_TEST(test_rate)
{
        guint64 r;

        ck_assert(vmnet_rate_parse("100mbit", &r));
        ck_assert_uint_eq(r, 100000000);
        ck_assert(vmnet_rate_parse("1Gbit", &r));
        ck_assert_uint_eq(r, 1000000000);
        ck_assert(vmnet_rate_parse("10mbps", &r));
        ck_assert_uint_eq(r, 80000000);
        ck_assert(vmnet_rate_parse("64000", &r));
        ck_assert_uint_eq(r, 64000);
        ck_assert(!vmnet_rate_parse("0", &r));
        ck_assert(!vmnet_rate_parse("fast", &r));
        ck_assert(!vmnet_rate_parse("10 mbit", &r));
        ck_assert(!vmnet_rate_parse("99999999999999999999tbit", &r));
        /* strtoull saturates at 2^64-1: with a multiplier of 1 that used to pass. */
        ck_assert_int_eq(vmnet_rate_parse_status("99999999999999999999bit", &r), VMNET_RATE_OVERFLOW);
        ck_assert_int_eq(vmnet_rate_parse_status("99999999999999999999", &r), VMNET_RATE_OVERFLOW);
        ck_assert_int_eq(vmnet_rate_parse_status("18446744073709551616", &r), VMNET_RATE_OVERFLOW);
        ck_assert_int_eq(vmnet_rate_parse_status("2306000000000000tbit", &r), VMNET_RATE_OVERFLOW);
        ck_assert_int_eq(vmnet_rate_parse_status("18446744073709551615", &r), VMNET_RATE_OK);
        ck_assert_uint_eq(r, G_MAXUINT64);
        ck_assert_int_eq(vmnet_rate_parse_status("2305843009213693951bps", &r), VMNET_RATE_OK);
        ck_assert_int_eq(vmnet_rate_parse_status("2305843009213693952bps", &r), VMNET_RATE_OVERFLOW);
        ck_assert_int_eq(vmnet_rate_parse_status("0kbit", &r), VMNET_RATE_ZERO);
        ck_assert_int_eq(vmnet_rate_parse_status("10 mbit", &r), VMNET_RATE_MALFORMED);
        ck_assert_int_eq(vmnet_rate_parse_status("99999999999999999999parsecs", &r),
                         VMNET_RATE_MALFORMED);
        /* libvirt wants kB/s (tc's 1000 bytes), rounded up so a limit never becomes unlimited. */
        ck_assert_uint_eq(vmnet_rate_to_libvirt_kib(100000000), 12500);
        ck_assert_uint_eq(vmnet_rate_to_libvirt_kib(1), 1);
        ck_assert_uint_eq(vmnet_rate_to_libvirt_kib(8000), 1);
        ck_assert_uint_eq(vmnet_rate_to_libvirt_kib(8001), 2);
}
END_TEST

START_TEST(test_json)
{
        g_autoptr(JsonBuilder) j = json_builder_new();
        g_autofree char *text = NULL;

        json_builder_begin_object(j);
        json_builder_set_member_name(j, "a");
        json_builder_add_string_value(j, "x\"y\\z\n\001\037");
        json_builder_set_member_name(j, "list");
        json_builder_begin_array(j);
        json_builder_add_int_value(j, 1);
        json_builder_add_boolean_value(j, TRUE);
        json_builder_add_null_value(j);
        json_builder_begin_object(j);
        json_builder_end_object(j);
        json_builder_end_array(j);
        json_builder_set_member_name(j, "n");
        json_builder_add_string_value(j, NULL);
        /* not UTF-8 (a name from the system): still a valid document */
        json_builder_set_member_name(j, "bad");
        json_builder_add_string_value(j, "e\xff");
        json_builder_end_object(j);
        text = vmnet_json_text(j);
        ck_assert_str_eq(text, "{\"a\":\"x\\\"y\\\\z\\n\\u0001\\u001f\",\"list\":[1,true,null,{}],"
                               "\"n\":null,\"bad\":\"e\xef\xbf\xbd\"}");
}
END_TEST

START_TEST(test_diags)
{
        g_autoptr(VmnetDiags) d = vmnet_diags_new();
        g_autoptr(GError) e = NULL;

        vmnet_diags_add(d, "p.xml", 9, "second");
        vmnet_diags_add(d, "p.xml", 3, "first");
        vmnet_diags_add(d, "p.xml", 9, "third");
        vmnet_diags_add(d, "p.xml", 0, "whole file");
        vmnet_diags_sort(d);
        vmnet_diags_to_error(d, &e, VMNET_ERROR_INVALID);
        ck_assert_str_eq(e->message, "p.xml: whole file\np.xml:3: first\np.xml:9: second\np.xml:9: third");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("addr");
        TCase *tc = tcase_create("core");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_addr_parse);
        tcase_add_test(tc, test_addr_add);
        tcase_add_test(tc, test_prefix);
        tcase_add_test(tc, test_mac);
        tcase_add_test(tc, test_ifname);
        tcase_add_test(tc, test_rate);
        tcase_add_test(tc, test_dns_name);
        tcase_add_test(tc, test_json);
        tcase_add_test(tc, test_diags);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
