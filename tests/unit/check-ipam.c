/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "apply/state.h"
#include "ipam/ipam.h"
#include "plan/plan.h"
#include "tests/unit/testutil.h"
#include "validate/validate.h"

/*
 * IPAM: allocations are stable across runs (through the state file) and
 * plan edits, avoid every address someone else has, fail clearly when a
 * subnet is full, and the report counts and audits what guests hold.
 */

#define NET_24                                                                                   \
        "  <network name='lab' mode='nat'>\n"                                                    \
        "    <subnet cidr='10.0.0.0/24' gateway='10.0.0.1'>\n"                                   \
        "      <dhcp start='10.0.0.100' end='10.0.0.199'/>\n"                                    \
        "      <reservation mac='52:54:00:aa:00:02' ip='10.0.0.2' name='printer'/>\n"           \
        "    </subnet>\n"                                                                        \
        "  </network>\n"

static const char *plan_v1 =
        "<plan xmlns='urn:vmnet:plan:1' name='p'>\n" NET_24
        "  <domain name='a'><interface network='lab' mac='52:54:00:00:00:0a'/></domain>\n"
        "  <domain name='b'>\n"
        "    <interface network='lab' mac='52:54:00:00:00:0b' ip='10.0.0.5'/>\n"
        "    <interface network='lab' mac='52:54:00:00:00:0c'/>\n"
        "  </domain>\n"
        "</plan>\n";

/* v1 plus a domain listed first, whose interface must not take anyone's address. */
static const char *plan_v2 =
        "<plan xmlns='urn:vmnet:plan:1' name='p'>\n" NET_24
        "  <domain name='first'><interface network='lab' mac='52:54:00:00:00:01'/></domain>\n"
        "  <domain name='a'><interface network='lab' mac='52:54:00:00:00:0a'/></domain>\n"
        "  <domain name='b'>\n"
        "    <interface network='lab' mac='52:54:00:00:00:0b' ip='10.0.0.5'/>\n"
        "    <interface network='lab' mac='52:54:00:00:00:0c'/>\n"
        "  </domain>\n"
        "</plan>\n";

static char *tmp_state_dir;

static VmnetState *state_load(void)
{
        g_autoptr(GError) error = NULL;
        VmnetState *st;

        g_setenv("VMNET_STATE_DIR", tmp_state_dir, TRUE);
        /* vmnet_state_clean_temporaries() looks there too: never the host's /run/vmnet. */
        g_setenv("VMNET_RUN_DIR", tmp_state_dir, TRUE);
        st = vmnet_state_load("p", NULL, &error);
        ck_assert_msg(st, "state: %s", error ? error->message : "");
        return st;
}

static void setup(void)
{
        tmp_state_dir = g_dir_make_tmp("vmnet-ipam-XXXXXX", NULL);
        ck_assert(tmp_state_dir);
}

static void teardown(void)
{
        g_autofree char *state = g_build_filename(tmp_state_dir, "p.state", NULL);

        g_unlink(state);
        g_rmdir(tmp_state_dir);
        g_clear_pointer(&tmp_state_dir, g_free);
}

static const char *ip_of(const VmnetIpam *ipam, const char *network, const char *mac_s)
{
        static char buf[64];
        VmnetMac mac;
        const VmnetIpamEntry *e;
        g_autofree char *s = NULL;

        ck_assert(vmnet_mac_parse(mac_s, &mac));
        e = vmnet_ipam_lookup(ipam, network, &mac);
        if (!e)
                return "none";
        s = vmnet_addr_to_string(&e->ip);
        g_strlcpy(buf, s, sizeof(buf));
        return buf;
}

static VmnetIpam *assign_ok(const VmnetPlan *plan, VmnetState *st)
{
        g_autoptr(GError) error = NULL;
        VmnetIpam *ipam = NULL;

        ck_assert_msg(vmnet_ipam_assign(plan, st, &ipam, &error), "assign: %s",
                      error ? error->message : "");
        return ipam;
}

START_TEST(test_allocation_and_sources)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(plan_v1, "test.xml");
        g_autoptr(VmnetState) st = state_load();
        g_autoptr(VmnetIpam) ipam = assign_ok(plan, st);
        const VmnetIpamEntry *e;
        VmnetMac mac;

        /* .1 gateway, .2 reserved, .5 the plan's: a and b's second get .3 and .4. */
        ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:aa:00:02"), "10.0.0.2");
        ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:0a"), "10.0.0.3");
        ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:0b"), "10.0.0.5");
        ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:0c"), "10.0.0.4");
        vmnet_mac_parse("52:54:00:00:00:0b", &mac);
        e = vmnet_ipam_lookup(ipam, "lab", &mac);
        ck_assert_int_eq(e->source, VMNET_IPAM_SOURCE_PLAN);
        ck_assert_str_eq(e->domain, "b");
        ck_assert_str_eq(e->hostname, "b");
        vmnet_mac_parse("52:54:00:00:00:0c", &mac);
        e = vmnet_ipam_lookup(ipam, "lab", &mac);
        ck_assert_int_eq(e->source, VMNET_IPAM_SOURCE_ALLOCATED);
        /* b's second interface in the same network gets no name: one name, one host. */
        ck_assert_ptr_null(e->hostname);

        /* Recorded in the state: allocations only. */
        {
                g_autofree char *a = g_key_file_get_string(st->kf, "ipam lab", "52:54:00:00:00:0a",
                                                           NULL);
                g_autofree char *b = g_key_file_get_string(st->kf, "ipam lab", "52:54:00:00:00:0b",
                                                           NULL);

                ck_assert_str_eq(a, "10.0.0.3");
                ck_assert_ptr_null(b);
        }

        /* The static hosts dnsmasq gets: interfaces only, not the <reservation>. */
        {
                g_autoptr(GPtrArray) hosts = vmnet_ipam_dhcp_hosts(ipam, "lab");

                ck_assert_uint_eq(hosts->len, 3);
        }
}
END_TEST

START_TEST(test_stable_across_runs_and_edits)
{
        g_autoptr(VmnetPlan) v1 = vmnet_test_plan_from_string(plan_v1, "test.xml");
        g_autoptr(VmnetPlan) v2 = vmnet_test_plan_from_string(plan_v2, "test.xml");
        g_autoptr(GError) error = NULL;

        {
                g_autoptr(VmnetState) st = state_load();
                g_autoptr(VmnetIpam) ipam = assign_ok(v1, st);

                ck_assert(vmnet_state_save(st, &error));
        }
        {
                /* A later run (state read back from disk), with a domain added before the others. */
                g_autoptr(VmnetState) st = state_load();
                g_autoptr(VmnetIpam) ipam = assign_ok(v2, st);

                ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:0a"), "10.0.0.3");
                ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:0c"), "10.0.0.4");
                ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:01"), "10.0.0.6");
                ck_assert(vmnet_state_save(st, &error));
        }
        {
                /* Back to v1: "first" is released, the others stay. */
                g_autoptr(VmnetState) st = state_load();
                g_autoptr(VmnetIpam) ipam = assign_ok(v1, st);

                ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:0a"), "10.0.0.3");
                ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:0c"), "10.0.0.4");
                ck_assert(!g_key_file_has_key(st->kf, "ipam lab", "52:54:00:00:00:01", NULL));
        }
        {
                /* Without the state (fresh host), v2 allocates in plan order: different, as expected. */
                g_autoptr(VmnetIpam) ipam = assign_ok(v2, NULL);

                ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:01"), "10.0.0.3");
        }
}
END_TEST

START_TEST(test_invalid_record_reallocated)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(plan_v1, "test.xml");
        g_autoptr(VmnetState) st = state_load();
        g_autoptr(VmnetIpam) ipam = NULL;

        /* Records pointing into the DHCP range and at the plan's own .5 are not kept. */
        g_key_file_set_string(st->kf, "ipam lab", "52:54:00:00:00:0a", "10.0.0.150");
        g_key_file_set_string(st->kf, "ipam lab", "52:54:00:00:00:0c", "10.0.0.5");
        g_key_file_set_string(st->kf, "ipam gone", "52:54:00:00:00:0d", "10.9.0.5");
        ipam = assign_ok(plan, st);
        ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:0a"), "10.0.0.3");
        ck_assert_str_eq(ip_of(ipam, "lab", "52:54:00:00:00:0c"), "10.0.0.4");
        ck_assert(!g_key_file_has_group(st->kf, "ipam gone"));
}
END_TEST

/* /29: .0 network, .7 broadcast, .1 gateway, .2 reserved, .5-.6 dynamic: .3 and .4 are left. */
#define SMALL_PLAN(domains)                                                                      \
        "<plan xmlns='urn:vmnet:plan:1' name='p'>\n"                                             \
        "  <network name='tiny' mode='host-only'>\n"                                             \
        "    <subnet cidr='10.0.1.0/29' gateway='10.0.1.1'>\n"                                   \
        "      <dhcp start='10.0.1.5' end='10.0.1.6'/>\n"                                        \
        "      <reservation mac='52:54:00:aa:00:02' ip='10.0.1.2'/>\n"                              \
        "    </subnet>\n"                                                                        \
        "  </network>\n" domains "</plan>\n"

START_TEST(test_avoids_and_exhaustion)
{
        const char *two = SMALL_PLAN(
                "  <domain name='x'><interface network='tiny' mac='52:54:00:00:01:01'/>"
                "<interface network='tiny' mac='52:54:00:00:01:02'/></domain>\n");
        const char *three = SMALL_PLAN(
                "  <domain name='x'><interface network='tiny' mac='52:54:00:00:01:01'/>"
                "<interface network='tiny' mac='52:54:00:00:01:02'/></domain>\n"
                "  <domain name='y'><interface network='tiny' mac='52:54:00:00:01:03'/></domain>\n");
        g_autoptr(VmnetPlan) p2 = vmnet_test_plan_from_string(two, "test.xml");
        g_autoptr(VmnetPlan) p3 = vmnet_test_plan_from_string(three, "test.xml");
        g_autoptr(VmnetIpam) ipam = assign_ok(p2, NULL);
        g_autoptr(VmnetIpam) none = NULL;
        g_autoptr(GError) error = NULL;

        ck_assert_str_eq(ip_of(ipam, "tiny", "52:54:00:00:01:01"), "10.0.1.3");
        ck_assert_str_eq(ip_of(ipam, "tiny", "52:54:00:00:01:02"), "10.0.1.4");

        ck_assert(!vmnet_ipam_assign(p3, NULL, &none, &error));
        ck_assert_ptr_null(none);
        ck_assert(g_error_matches(error, VMNET_ERROR, VMNET_ERROR_INVALID));
        ck_assert_msg(strstr(error->message, "subnet 10.0.1.0/29") &&
                              strstr(error->message, "network 'tiny'") &&
                              strstr(error->message, "domain 'y'") &&
                              strstr(error->message, "52:54:00:00:01:03"),
                      "unclear: %s", error->message);
}
END_TEST

START_TEST(test_no_allocation_where_nothing_serves_dhcp)
{
        static const char *xml =
                "<plan xmlns='urn:vmnet:plan:1' name='p'>\n"
                "  <network name='lan' mode='bridged'><uplink dev='eth9'/>\n"
                "    <subnet cidr='10.1.0.0/24' gateway='10.1.0.254'/></network>\n"
                "  <network name='l2' mode='isolated'/>\n"
                "  <domain name='d'>\n"
                "    <interface network='lan' mac='52:54:00:00:02:01' ip='10.1.0.7'/>\n"
                "    <interface network='lan' mac='52:54:00:00:02:02'/>\n"
                "    <interface network='l2' mac='52:54:00:00:02:03'/>\n"
                "  </domain>\n"
                "</plan>\n";
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(xml, "test.xml");
        g_autoptr(VmnetIpam) ipam = assign_ok(plan, NULL);

        ck_assert_str_eq(ip_of(ipam, "lan", "52:54:00:00:02:01"), "10.1.0.7");
        ck_assert_str_eq(ip_of(ipam, "lan", "52:54:00:00:02:02"), "none");
        ck_assert_str_eq(ip_of(ipam, "l2", "52:54:00:00:02:03"), "none");
}
END_TEST

static VmnetLease *lease(const char *mac, const char *ip, const char *name)
{
        VmnetLease *l = g_new0(VmnetLease, 1);

        ck_assert(vmnet_mac_parse(mac, &l->mac));
        ck_assert(vmnet_addr_parse(ip, &l->ip));
        l->hostname = g_strdup(name);
        l->expiry = 1700000000;
        return l;
}

static gboolean diags_have(const VmnetDiags *d, const char *a, const char *b)
{
        for (guint i = 0; i < d->items->len; i++) {
                const VmnetDiag *x = g_ptr_array_index(d->items, i);

                if (strstr(x->message, a) && (!b || strstr(x->message, b)))
                        return TRUE;
        }
        return FALSE;
}

static char *diags_text(const VmnetDiags *d)
{
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < d->items->len; i++)
                g_string_append_printf(s, "%s\n",
                                       ((const VmnetDiag *)g_ptr_array_index(d->items, i))->message);
        return g_string_free(s, FALSE);
}

START_TEST(test_report_counts_and_audit)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_plan_from_string(plan_v1, "test.xml");
        g_autoptr(VmnetIpam) ipam = assign_ok(plan, NULL);
        g_autoptr(GHashTable) leases = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                             (GDestroyNotify)g_ptr_array_unref);
        GPtrArray *lab = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_lease_free);
        g_autoptr(GPtrArray) guests = g_ptr_array_new_with_free_func(
                (GDestroyNotify)vmnet_guest_addr_free);
        g_autoptr(VmnetDiags) warnings = vmnet_diags_new();
        g_autoptr(VmnetIpamReport) r = NULL;
        const VmnetIpamSubnetReport *sr;
        g_autofree char *text = NULL;
        VmnetGuestAddr *g;
        guint n_leases = 0;

        /* A stranger's dynamic lease; a's lease from before its allocation; a lease on b's second address. */
        g_ptr_array_add(lab, lease("52:54:00:99:99:01", "10.0.0.150", "stranger"));
        g_ptr_array_add(lab, lease("52:54:00:00:00:0a", "10.0.0.151", "a"));
        g_ptr_array_add(lab, lease("52:54:00:99:99:02", "10.0.0.4", NULL));
        g_hash_table_insert(leases, "lab", lab);
        /* b's agent reports an address outside every subnet of lab, and a link-local one. */
        g = g_new0(VmnetGuestAddr, 1);
        g->domain = g_strdup("b");
        vmnet_mac_parse("52:54:00:00:00:0b", &g->mac);
        vmnet_addr_parse("172.31.0.9", &g->ip);
        g_ptr_array_add(guests, g);
        g = g_new0(VmnetGuestAddr, 1);
        g->domain = g_strdup("b");
        vmnet_mac_parse("52:54:00:00:00:0b", &g->mac);
        vmnet_addr_parse("fe80::1", &g->ip);
        g_ptr_array_add(guests, g);

        r = vmnet_ipam_report(plan, ipam, leases, guests, warnings);
        text = diags_text(warnings);
        ck_assert_uint_eq(r->subnets->len, 1);
        sr = g_ptr_array_index(r->subnets, 0);
        ck_assert_str_eq(sr->network, "lab");
        ck_assert_uint_eq(sr->size, 254);
        /* gateway, .2, .3, .4, .5 and the leases .150 and .151 */
        ck_assert_uint_eq(sr->used, 7);
        ck_assert_uint_eq(sr->reserved, 98); /* the range's 100 minus the two leased */
        ck_assert_uint_eq(sr->free, 254 - 7 - 98);
        for (guint i = 0; i < r->entries->len; i++)
                n_leases += ((VmnetIpamEntry *)g_ptr_array_index(r->entries, i))->source ==
                            VMNET_IPAM_SOURCE_LEASE;
        ck_assert_uint_eq(n_leases, 3);

        ck_assert_msg(diags_have(warnings, "domain 'a' (MAC 52:54:00:00:00:0a) holds a lease for 10.0.0.151",
                                 "assigned 10.0.0.3"),
                      "%s", text);
        ck_assert_msg(diags_have(warnings, "address 10.0.0.4 collides", "domain 'b' (MAC 52:54:00:00:00:0c)"),
                      "%s", text);
        ck_assert_msg(diags_have(warnings, "MAC 52:54:00:99:99:02", NULL), "%s", text);
        ck_assert_msg(diags_have(warnings, "domain 'b' (MAC 52:54:00:00:00:0b) uses address 172.31.0.9",
                                 "none of the network's subnets"),
                      "%s", text);
        ck_assert_msg(!diags_have(warnings, "fe80::1", NULL), "%s", text);
        ck_assert_msg(!diags_have(warnings, "stranger", NULL) &&
                              !diags_have(warnings, "52:54:00:99:99:01", NULL),
                      "%s", text);
        ck_assert_uint_eq(vmnet_diags_count(warnings), 3);

        /* The JSON of `vmnet ipam --json`. */
        {
                g_autoptr(JsonBuilder) j = json_builder_new();
                g_autofree char *js = NULL;

                vmnet_ipam_report_to_json(r, j);
                js = vmnet_json_text(j);
                ck_assert_msg(g_str_has_prefix(js, "{\"subnets\":[{\"network\":\"lab\",\"cidr\":\"10.0.0.0/24\","
                                                   "\"size\":254,\"used\":7,\"reserved\":98,\"free\":149}],"
                                                   "\"addresses\":[{\"network\":\"lab\",\"domain\":null,"
                                                   "\"hostname\":\"printer\",\"mac\":\"52:54:00:aa:00:02\","
                                                   "\"ip\":\"10.0.0.2\",\"source\":\"plan\"}"),
                              "%s", js);
                ck_assert_msg(strstr(js, "\"ip\":\"10.0.0.150\",\"source\":\"lease\",\"expiry\":1700000000}"),
                              "%s", js);
        }
}
END_TEST


/*
 * The state file itself: written with its transaction (the write-ahead
 * record), which the next load sees until it is ended; kept as loaded, put
 * back as it was; a killed writer's temporaries cleaned.
 */
START_TEST(test_state_write_and_put_back)
{
        g_autofree char *path = g_build_filename(tmp_state_dir, "p.state", NULL);
        g_autofree char *stray = g_build_filename(tmp_state_dir, "p.state.Ab3x9Z", NULL);
        g_autofree char *other = g_build_filename(tmp_state_dir, "p.state.notmine", NULL);
        g_autoptr(GError) error = NULL;
        g_autofree char *bytes = NULL;
        gsize len;

        {
                g_autoptr(VmnetState) st = state_load();
                g_autoptr(GPtrArray) steps = g_ptr_array_new();

                ck_assert_ptr_null(st->before); /* there was none */
                g_key_file_set_string(st->kf, "vmnet", "plan", "one");
                g_ptr_array_add(steps, "create bridge br0");
                g_ptr_array_add(steps, "set sysctl x");
                vmnet_state_transaction_begin(st, "apply", steps);
                ck_assert_msg(vmnet_state_save(st, &error), "%s", error ? error->message : "");
        }
        {
                g_autoptr(VmnetState) st = state_load();
                g_autofree char *command = NULL;
                int pid = 0;
                gint64 started = 0;
                guint n = 0;

                ck_assert(vmnet_state_transaction_left(st, &command, &pid, &started, &n));
                ck_assert_str_eq(command, "apply");
                ck_assert_int_eq(pid, (int)getpid());
                ck_assert_uint_eq(n, 2);
                ck_assert(started > 0);
                vmnet_state_transaction_end(st);
                ck_assert(vmnet_state_save(st, NULL));
        }
        ck_assert(g_file_set_contents(stray, "x", 1, NULL));
        ck_assert(g_file_set_contents(other, "x", 1, NULL));
        ck_assert_uint_eq(vmnet_state_clean_temporaries(NULL), 1);
        ck_assert(!g_file_test(stray, G_FILE_TEST_EXISTS));
        ck_assert(g_file_test(other, G_FILE_TEST_EXISTS));
        g_unlink(other);
        {
                g_autoptr(VmnetState) st = state_load();
                g_autofree char *plan = g_key_file_get_string(st->kf, "vmnet", "plan", NULL);
                g_autofree char *command = NULL;
                int pid;
                gint64 started;
                guint n;

                ck_assert(!vmnet_state_transaction_left(st, &command, &pid, &started, &n));
                ck_assert_str_eq(plan, "one");
                ck_assert_ptr_nonnull(st->before);
                ck_assert(g_file_get_contents(path, &bytes, &len, NULL));
                ck_assert_uint_eq(st->before_len, len);
                ck_assert_int_eq(memcmp(st->before, bytes, len), 0);

                g_key_file_set_string(st->kf, "vmnet", "plan", "two");
                ck_assert(vmnet_state_save(st, NULL));
                /* Put back as loaded: the bytes of "one" again. */
                ck_assert(vmnet_state_put_back(st->path, st->before, st->before_len, &error));
        }
        {
                g_autofree char *now = NULL;
                gsize now_len;

                ck_assert(g_file_get_contents(path, &now, &now_len, NULL));
                ck_assert_uint_eq(now_len, len);
                ck_assert_int_eq(memcmp(now, bytes, len), 0);
        }
        /* Put back "there was none": the file goes; and going again is no error. */
        ck_assert(vmnet_state_put_back(path, NULL, 0, &error));
        ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
        ck_assert(vmnet_state_put_back(path, NULL, 0, &error));
}
END_TEST

static Suite *ipam_suite(void)
{
        Suite *s = suite_create("ipam");
        TCase *tc = tcase_create("ipam");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_allocation_and_sources);
        tcase_add_test(tc, test_stable_across_runs_and_edits);
        tcase_add_test(tc, test_invalid_record_reallocated);
        tcase_add_test(tc, test_avoids_and_exhaustion);
        tcase_add_test(tc, test_no_allocation_where_nothing_serves_dhcp);
        tcase_add_test(tc, test_report_counts_and_audit);
        tcase_add_test(tc, test_state_write_and_put_back);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(ipam_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
