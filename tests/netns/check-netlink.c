/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The observer and every rtnetlink operation of src/backend/netlink/netlink.c against
 * the real kernel, each test in its own network namespace. What vmnet did is
 * read back with `ip -j` and jq, never with vmnet's own observer (except in
 * the tests of the observer, which compare it to `ip -j`).
 */
#include "config.h"

#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <stdlib.h>
#include <string.h>

#include "backend/netlink/netlink.h"
#include "observe/host.h"
#include "tests/netns/nstest.h"
#include "util/autoptr.h"

#define SH(...) g_autofree char *G_PASTE(sh_, __LINE__) = vmnet_nstest_sh(__VA_ARGS__)

static struct nl_sock *open_sock(void)
{
        g_autoptr(GError) error = NULL;
        struct nl_sock *sk = vmnet_nl_open(&error);

        ck_assert_msg(sk != NULL, "%s", error ? error->message : "");
        return sk;
}

/* jq over `ip -d -j link show dev`, e.g. jq_link("vm-t", ".mtu"). Caller frees. */
static char *jq_link(const char *dev, const char *filter)
{
        return vmnet_nstest_sh("ip -d -j link show dev %s | jq -r '.[0] | %s'", dev, filter);
}

static void assert_link(const char *dev, const char *filter, const char *expected)
{
        g_autofree char *v = jq_link(dev, filter);

        ck_assert_msg(g_strcmp0(v, expected) == 0, "%s %s: \"%s\", expected \"%s\"", dev, filter,
                      v, expected);
}

/* The output of a shell command line must be expected. */
static void assert_sh(const char *expected, const char *cmd)
{
        g_autofree char *v = vmnet_nstest_sh("%s", cmd);

        ck_assert_msg(g_strcmp0(v, expected) == 0, "`%s`: \"%s\", expected \"%s\"", cmd, v,
                      expected);
}

static void assert_ok(gboolean ok, GError *error)
{
        ck_assert_msg(ok, "unexpected failure: %s", error ? error->message : "(no error)");
}

static VmnetAddr addr(const char *s)
{
        VmnetAddr a;

        ck_assert(vmnet_addr_parse(s, &a));
        return a;
}

static VmnetPrefix prefix(const char *s)
{
        VmnetPrefix p;

        ck_assert(vmnet_prefix_parse(s, &p, NULL));
        return p;
}

/* --- the observer, compared with ip -j ----------------------------------------- */

START_TEST(test_observe_matches_ip)
{
        g_autoptr(VmnetHost) host = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *names = NULL;
        g_auto(GStrv) lines = NULL;
        VmnetHostLink *br, *v0;
        VmnetHostRoute *rt = NULL;

        vmnet_nstest_enter();
        SH("ip link add br9 type bridge stp_state 1 forward_delay 700 && "
           "ip link add v0 type veth peer name v1 && "
           "ip link set v0 master br9 mtu 1400 alias 'vmnet:test' && "
           "ip link set br9 up && ip link set v0 up && ip link set v1 up && "
           "ip addr add 10.9.0.1/24 dev br9 && ip -6 addr add 2001:db8::1/64 dev br9 nodad && "
           "ip route add 10.10.0.0/16 via 10.9.0.254 dev br9 proto static metric 7");

        assert_ok(vmnet_observe_host(&host, &error), error);

        /* Every link ip sees, with the same index, mtu, master and alias. */
        names = vmnet_nstest_sh("ip -j link show | jq -r '.[] | \"\\(.ifindex) \\(.ifname) "
                                "\\(.mtu) \\(.master // \"-\") \\(.ifalias // \"-\") "
                                "\\(.address // \"-\")\"'");
        lines = g_strsplit(names, "\n", -1);
        ck_assert_uint_eq(g_strv_length(lines), host->links->len);
        for (guint i = 0; lines[i]; i++) {
                g_auto(GStrv) f = g_strsplit(lines[i], " ", -1);
                VmnetHostLink *l = vmnet_host_find_link(host, f[1]);
                g_autofree char *mac = NULL;

                ck_assert_msg(l != NULL, "observer misses %s", f[1]);
                ck_assert_int_eq(l->ifindex, atoi(f[0]));
                ck_assert_uint_eq(l->mtu, (guint)atoi(f[2]));
                ck_assert_str_eq(l->master_name ? l->master_name : "-", f[3]);
                ck_assert_str_eq(l->alias ? l->alias : "-", f[4]);
                mac = l->has_mac ? vmnet_mac_to_string(&l->mac) : g_strdup("00:00:00:00:00:00");
                ck_assert_str_eq(mac, f[5]);
        }

        br = vmnet_host_find_link(host, "br9");
        v0 = vmnet_host_find_link(host, "v0");
        ck_assert_str_eq(br->kind, "bridge");
        ck_assert_str_eq(v0->kind, "veth");
        ck_assert_ptr_null(vmnet_host_find_link(host, "lo")->kind);
        ck_assert_int_eq(br->stp_state, 1);
        ck_assert_int_eq(br->forward_delay, 7);
        ck_assert_int_eq(br->vlan_filtering, 0);
        ck_assert(br->up);
        ck_assert_int_eq(v0->master, br->ifindex);
        ck_assert_str_eq(v0->alias, "vmnet:test");
        /* A veth's peer is in the same namespace here, and IFLA_LINK names it. */
        ck_assert_str_eq(v0->link_name, "v1");

        /* Addresses: both global ones, plus the kernel's link-local. */
        {
                gboolean v4 = FALSE, v6 = FALSE;

                for (guint i = 0; i < br->addrs->len; i++) {
                        const VmnetHostAddr *a = &g_array_index(br->addrs, VmnetHostAddr, i);
                        g_autofree char *s = vmnet_addr_to_string(&a->addr);

                        if (g_str_equal(s, "10.9.0.1") && a->prefixlen == 24)
                                v4 = TRUE;
                        if (g_str_equal(s, "2001:db8::1") && a->prefixlen == 64 && a->scope == 0)
                                v6 = TRUE;
                }
                ck_assert(v4 && v6);
        }

        for (guint i = 0; i < host->routes->len; i++) {
                VmnetHostRoute *r = g_ptr_array_index(host->routes, i);
                g_autofree char *dst = vmnet_prefix_to_string(&r->dst);

                if (g_str_equal(dst, "10.10.0.0/16"))
                        rt = r;
        }
        ck_assert_msg(rt != NULL, "static route not observed");
        ck_assert(rt->has_gateway);
        ck_assert_str_eq(rt->oif_name, "br9");
        ck_assert_uint_eq(rt->priority, 7);
        ck_assert_uint_eq(rt->protocol, 4 /* RTPROT_STATIC */);

        /* Sysctls of this namespace: a fresh one does not forward. */
        ck_assert_str_eq(vmnet_host_sysctl(host, "net.ipv4.ip_forward"), "0");
}
END_TEST

/*
 * Addresses and routes, compared line by line with ip -j. The routes are
 * those of the main table whose type is unicast, as ip lists them from a dump
 * of every table ("table all"), so that the kernel-side table filter of the
 * observer is checked against an unfiltered reading.
 */
static int cmp_line(gconstpointer a, gconstpointer b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *observed_routes(const VmnetHost *host)
{
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < host->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(host->routes, i);
                g_autofree char *dst = vmnet_prefix_to_string(&r->dst);
                g_autofree char *gw = r->has_gateway ? vmnet_addr_to_string(&r->gateway) : NULL;

                g_ptr_array_add(lines, g_strdup_printf("%s %s %s %u %u %u", dst, gw ? gw : "-",
                                                       r->oif_name ? r->oif_name : "-",
                                                       r->protocol, r->scope, r->priority));
        }
        g_ptr_array_sort(lines, cmp_line);
        g_ptr_array_add(lines, NULL);
        return g_strjoinv("\n", (char **)lines->pdata);
}

static char *ip_routes(void)
{
        /* With -d -N, ip prints type, table, protocol and scope as numbers, and omits metric 0. */
        return vmnet_nstest_sh(
                "for f in 4 6; do ip -$f -d -N -j route show table all | jq -r --arg f $f '"
                ".[] | select(.table == \"254\" and .type == \"1\") | "
                "(if .dst == \"default\" then "
                "(if $f == \"4\" then \"0.0.0.0/0\" else \"::/0\" end) "
                "elif (.dst | contains(\"/\")) then .dst "
                "else .dst + (if $f == \"4\" then \"/32\" else \"/128\" end) end) + \" \" + "
                "(.gateway // .nexthops[0].gateway // \"-\") + \" \" + "
                "(.dev // .nexthops[0].dev // \"-\") + \" \" + .protocol + \" \" + .scope + "
                "\" \" + (.metric // 0 | tostring)'; done | LC_ALL=C sort");
}

static char *observed_addrs(const VmnetHost *host)
{
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(host->links, i);

                for (guint j = 0; j < l->addrs->len; j++) {
                        const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, j);
                        g_autofree char *s = vmnet_addr_to_string(&a->addr);

                        g_ptr_array_add(lines, g_strdup_printf("%s %s/%u %u", l->name, s,
                                                               a->prefixlen, a->scope));
                }
        }
        g_ptr_array_sort(lines, cmp_line);
        g_ptr_array_add(lines, NULL);
        return g_strjoinv("\n", (char **)lines->pdata);
}

static char *ip_addrs(void)
{
        return vmnet_nstest_sh("ip -N -j addr show | jq -r '.[] | .ifname as $n | .addr_info[] | "
                               "\"\\($n) \\(.local)/\\(.prefixlen) \\(.scope)\"' | LC_ALL=C sort");
}

static const VmnetHostRoute *find_route(const VmnetHost *host, const char *dst, const char *oif)
{
        for (guint i = 0; i < host->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(host->routes, i);
                g_autofree char *s = vmnet_prefix_to_string(&r->dst);

                if (g_str_equal(s, dst) && (!oif || g_strcmp0(r->oif_name, oif) == 0))
                        return r;
        }
        return NULL;
}

static const VmnetHostAddr *find_addr(const VmnetHostLink *l, const char *addr)
{
        for (guint i = 0; i < l->addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(l->addrs, VmnetHostAddr, i);
                g_autofree char *s = vmnet_addr_to_string(&a->addr);

                if (g_str_equal(s, addr))
                        return a;
        }
        return NULL;
}

START_TEST(test_observe_addrs_routes)
{
        g_autoptr(VmnetHost) host = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *obs = NULL, *ip = NULL;
        const VmnetHostRoute *r;
        const VmnetHostAddr *a;
        VmnetHostLink *o0;

        vmnet_nstest_enter();
        /* An empty namespace has no IPv4 main table yet: a filtered dump must still succeed. */
        assert_ok(vmnet_observe_host(&host, &error), error);
        obs = observed_routes(host);
        ip = ip_routes();
        ck_assert_str_eq(obs, ip);
        g_clear_pointer(&host, vmnet_host_free);
        g_clear_pointer(&obs, g_free);
        g_clear_pointer(&ip, g_free);

        /* No IPv6 link-local addresses: they appear when linkwatch gets to it, racing ip -j. */
        SH("sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 && "
           "ip link add o0 type veth peer name o1 && ip link set o0 up && ip link set o1 up && "
           "ip addr add 192.0.2.1/24 dev o0 && "
           "ip addr add 198.51.100.1 peer 198.51.100.2/32 dev o0 && "
           "ip -6 addr add 2001:db8:1::1/64 dev o0 nodad && "
           "ip -6 addr add 2001:db8:2::1/64 dev o0 nodad noprefixroute && "
           "ip route add 203.0.113.0/24 via 192.0.2.254 dev o0 proto static metric 7 && "
           "ip route add 198.18.0.0/15 dev o0 scope link proto static && "
           "ip route add 100.64.0.0/10 nexthop via 192.0.2.253 dev o0 "
           "nexthop via 192.0.2.252 dev o0 && "
           "ip -6 route add 2001:db8:99::/48 via 2001:db8:1::fe dev o0 metric 9 && "
           /* Same destination and metric on two links: two routes, not one. */
           "ip -6 route add 2001:db8:aa::/64 dev o0 metric 5 && "
           "ip -6 route append 2001:db8:aa::/64 dev o1 metric 5 && "
           "ip route add 10.5.0.0/16 dev o0 && ip route append 10.5.0.0/16 dev o1 && "
           "ip route add 10.77.0.0/16 dev o0 table 100 && "
           "ip route add blackhole 10.88.0.0/16 && "
           "for i in $(seq 100); do "
           "[ \"$(ip -j link show o0 | jq -r '.[0].operstate')\" = UP ] && break; sleep 0.05; "
           "done");

        assert_ok(vmnet_observe_host(&host, &error), error);
        obs = observed_routes(host);
        ip = ip_routes();
        ck_assert_str_eq(obs, ip);
        g_clear_pointer(&obs, g_free);
        g_clear_pointer(&ip, g_free);
        obs = observed_addrs(host);
        ip = ip_addrs();
        ck_assert_str_eq(obs, ip);

        /* The comparison is only worth something if these are really there. */
        r = find_route(host, "203.0.113.0/24", "o0");
        ck_assert_ptr_nonnull(r);
        ck_assert(r->has_gateway);
        ck_assert_uint_eq(r->priority, 7);
        ck_assert_uint_eq(r->protocol, RTPROT_STATIC);
        r = find_route(host, "198.18.0.0/15", "o0");
        ck_assert_ptr_nonnull(r);
        ck_assert(!r->has_gateway);
        ck_assert_uint_eq(r->scope, RT_SCOPE_LINK);
        /* Multipath: the first next hop. */
        r = find_route(host, "100.64.0.0/10", "o0");
        ck_assert_ptr_nonnull(r);
        ck_assert(r->has_gateway);
        {
                g_autofree char *gw = vmnet_addr_to_string(&r->gateway);

                ck_assert_str_eq(gw, "192.0.2.253");
        }
        ck_assert_ptr_nonnull(find_route(host, "2001:db8:99::/48", "o0"));
        ck_assert_ptr_nonnull(find_route(host, "2001:db8:aa::/64", "o0"));
        ck_assert_ptr_nonnull(find_route(host, "2001:db8:aa::/64", "o1"));
        ck_assert_ptr_nonnull(find_route(host, "10.5.0.0/16", "o0"));
        ck_assert_ptr_nonnull(find_route(host, "10.5.0.0/16", "o1"));
        /* Not unicast, not in the main table, or in the local table: not reported. */
        ck_assert_ptr_null(find_route(host, "10.88.0.0/16", NULL));
        ck_assert_ptr_null(find_route(host, "10.77.0.0/16", NULL));
        ck_assert_int_eq(
                vmnet_nstest_sh_status("ip -6 route show table local | grep -q ^multicast"), 0);
        ck_assert_ptr_null(find_route(host, "ff00::/8", NULL));
        ck_assert_ptr_null(find_route(host, "192.0.2.1/32", NULL));
        ck_assert_ptr_null(find_route(host, "2001:db8:1::1/128", NULL));

        o0 = vmnet_host_find_link(host, "o0");
        /* The local address of a point-to-point one (IFA_LOCAL), not its peer (IFA_ADDRESS). */
        a = find_addr(o0, "198.51.100.1");
        ck_assert_ptr_nonnull(a);
        ck_assert_uint_eq(a->prefixlen, 32);
        ck_assert_ptr_null(find_addr(o0, "198.51.100.2"));
        /* Flags beyond the 8 bits of ifa_flags come from IFA_FLAGS. */
        a = find_addr(o0, "2001:db8:2::1");
        ck_assert_ptr_nonnull(a);
        ck_assert_uint_eq(a->flags & (IFA_F_NODAD | IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE),
                          IFA_F_NODAD | IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE);
        a = find_addr(o0, "2001:db8:1::1");
        ck_assert_uint_eq(a->flags & IFA_F_NOPREFIXROUTE, 0);
}
END_TEST

/* The benchmark observes thousands of links: one dump must stay fast. */
START_TEST(test_observe_many_links)
{
        g_autoptr(VmnetHost) host = NULL;
        g_autoptr(GError) error = NULL;
        gint64 t0;
        double secs;

        vmnet_nstest_enter();
        SH("i=0; while [ $i -lt 1000 ]; do echo \"link add vp$i type veth peer name vq$i\"; "
           "echo \"addr add 10.$((i / 250)).$((i %% 250)).1/24 dev vp$i\"; i=$((i+1)); done "
           "> batch && ip -batch batch && rm -f batch");
        t0 = g_get_monotonic_time();
        assert_ok(vmnet_observe_host(&host, &error), error);
        secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
        ck_assert_uint_eq(host->links->len, 2001); /* lo + 1000 veth pairs */
        ck_assert_uint_eq(vmnet_host_find_link(host, "vp999")->addrs->len, 1);
        printf("observed %u links in %.3f s\n", host->links->len, secs);
        ck_assert_msg(secs < 2.0, "observing 2001 links took %.2f s", secs);
}
END_TEST

/* --- links ------------------------------------------------------------------------ */

START_TEST(test_bridge_create)
{
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(GError) error = NULL;
        VmnetNlBridgeOpts o = { .stp = 0, .forward_delay = 0, .vlan_filtering = -1 };
        VmnetMac mac;

        vmnet_nstest_enter();
        sk = open_sock();
        ck_assert(vmnet_mac_parse("02:00:00:00:00:42", &mac));
        assert_ok(vmnet_nl_bridge_create(sk, "vm-t", &o, &mac, &error), error);
        assert_link("vm-t", ".linkinfo.info_kind", "bridge");
        assert_link("vm-t", ".linkinfo.info_data.stp_state", "0");
        assert_link("vm-t", ".linkinfo.info_data.forward_delay", "0");
        assert_link("vm-t", ".address", "02:00:00:00:00:42");

        /* Defaults untouched when no option is given. */
        o = (VmnetNlBridgeOpts)VMNET_NL_BRIDGE_OPTS_INIT;
        assert_ok(vmnet_nl_bridge_create(sk, "vm-d", &o, NULL, &error), error);
        assert_link("vm-d", ".linkinfo.info_data.forward_delay", "1500");

        /* The error names the object and keeps the kernel's errno text. */
        ck_assert(!vmnet_nl_bridge_create(sk, "vm-t", &o, NULL, &error));
        ck_assert_int_eq(error->code, VMNET_ERROR_NETLINK);
        ck_assert_str_eq(error->message, "creating bridge vm-t: File exists");
}
END_TEST

START_TEST(test_bridge_change_stp)
{
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(GError) error = NULL;
        VmnetNlBridgeOpts o = { .stp = 1, .forward_delay = 4, .vlan_filtering = -1 };

        vmnet_nstest_enter();
        sk = open_sock();
        SH("ip link add vm-s type bridge stp_state 0 forward_delay 0");
        assert_ok(vmnet_nl_bridge_change(sk, "vm-s", &o, &error), error);
        assert_link("vm-s", ".linkinfo.info_data.stp_state", "1");
        assert_link("vm-s", ".linkinfo.info_data.forward_delay", "400");
        /* STP off with a delay the kernel refuses while STP is on: order matters. */
        o.stp = 0;
        o.forward_delay = 0;
        assert_ok(vmnet_nl_bridge_change(sk, "vm-s", &o, &error), error);
        assert_link("vm-s", ".linkinfo.info_data.stp_state", "0");
        assert_link("vm-s", ".linkinfo.info_data.forward_delay", "0");
}
END_TEST

START_TEST(test_link_attributes)
{
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(GError) error = NULL;
        VmnetMac mac;

        vmnet_nstest_enter();
        sk = open_sock();
        SH("ip link add br1 type bridge && ip link add br2 type bridge && "
           "ip link add up0 type veth peer name up1");

        assert_ok(vmnet_nl_link_set_mtu(sk, "up0", 9000, &error), error);
        assert_link("up0", ".mtu", "9000");
        assert_ok(vmnet_nl_link_set_alias(sk, "up0", "vmnet:plan", &error), error);
        assert_link("up0", ".ifalias", "vmnet:plan");
        assert_ok(vmnet_nl_link_set_alias(sk, "up0", NULL, &error), error);
        assert_link("up0", ".ifalias // \"none\"", "none");
        ck_assert(vmnet_mac_parse("02:11:22:33:44:55", &mac));
        assert_ok(vmnet_nl_link_set_mac(sk, "up0", &mac, &error), error);
        assert_link("up0", ".address", "02:11:22:33:44:55");
        assert_ok(vmnet_nl_link_set_up(sk, "up0", TRUE, &error), error);
        assert_link("up0", ".flags | index(\"UP\") != null", "true");
        assert_ok(vmnet_nl_link_set_up(sk, "up0", FALSE, &error), error);
        assert_link("up0", ".flags | index(\"UP\") != null", "false");

        assert_ok(vmnet_nl_link_set_master(sk, "up0", "br1", &error), error);
        assert_link("up0", ".master", "br1");
        assert_ok(vmnet_nl_link_set_master(sk, "up0", "br2", &error), error);
        assert_link("up0", ".master", "br2");
        assert_ok(vmnet_nl_link_set_master(sk, "up0", NULL, &error), error);
        assert_link("up0", ".master // \"none\"", "none");

        /* A missing master is NOT_FOUND, named. */
        ck_assert(!vmnet_nl_link_set_master(sk, "up0", "nope", &error));
        ck_assert_int_eq(error->code, VMNET_ERROR_NOT_FOUND);
        ck_assert_str_eq(error->message, "enslaving up0 to nope: link nope does not exist");
        g_clear_error(&error);

        assert_ok(vmnet_nl_link_delete(sk, "br2", &error), error);
        ck_assert_int_ne(vmnet_nstest_sh_status("ip link show br2 2>/dev/null"), 0);
        ck_assert(!vmnet_nl_link_delete(sk, "br2", &error));
        ck_assert_int_eq(error->code, VMNET_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* An MTU the device refuses: the kernel's reason comes through. */
        ck_assert(!vmnet_nl_link_set_mtu(sk, "up0", 10, &error));
        ck_assert_int_eq(error->code, VMNET_ERROR_NETLINK);
        ck_assert_msg(g_str_has_prefix(error->message, "setting mtu 10 on up0: Invalid argument"),
                      "%s", error->message);
}
END_TEST

/* No 802.1Q here (CONFIG_VLAN_8021Q off): the path must fail cleanly; in the VM it must work. */
START_TEST(test_vlan)
{
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(GError) error = NULL;

        vmnet_nstest_enter();
        sk = open_sock();
        SH("ip link add up0 type veth peer name up1");
        if (vmnet_nl_vlan_create(sk, "up0.100", "up0", 100, &error)) {
                assert_link("up0.100", ".linkinfo.info_kind", "vlan");
                assert_link("up0.100", ".linkinfo.info_data.id", "100");
                assert_link("up0.100", ".linkinfo.info_data.protocol", "802.1Q");
                assert_link("up0.100", ".link", "up0");
        } else {
                ck_assert_int_eq(error->code, VMNET_ERROR_NETLINK);
                ck_assert_msg(g_str_has_prefix(error->message, "creating vlan up0.100 (id 100 on "
                                                               "up0): Operation not supported"),
                              "%s", error->message);
                ck_assert_int_ne(vmnet_nstest_sh_status("ip link show up0.100 2>/dev/null"), 0);
        }
        g_clear_error(&error);
        ck_assert(!vmnet_nl_vlan_create(sk, "x.5", "missing0", 5, &error));
        ck_assert_int_eq(error->code, VMNET_ERROR_NOT_FOUND);
}
END_TEST

/* No bridge VLAN filtering here either: same contract. */
START_TEST(test_bridge_vlan_filtering)
{
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(GError) error = NULL;
        VmnetNlBridgeOpts o = { .stp = -1, .forward_delay = -1, .vlan_filtering = 1 };

        vmnet_nstest_enter();
        sk = open_sock();
        SH("ip link add up0 type veth peer name up1");
        if (vmnet_nl_bridge_create(sk, "vm-vf", &o, NULL, &error)) {
                g_autofree char *vids = NULL;

                assert_link("vm-vf", ".linkinfo.info_data.vlan_filtering", "1");
                SH("ip link set up0 master vm-vf");
                assert_ok(vmnet_nl_bridge_vlan(sk, "up0", 100, 0, TRUE, &error), error);
                vids = vmnet_nstest_sh("bridge -j vlan show dev up0 | jq -r '[.[0].vlans[].vlan] "
                                       "| map(tostring) | join(\",\")'");
                ck_assert_str_eq(vids, "1,100");
                /* The observer's second dump (AF_BRIDGE, RTEXT_FILTER_BRVLAN) sees the same. */
                {
                        g_autoptr(VmnetHost) host = NULL;
                        VmnetHostLink *up0;

                        assert_ok(vmnet_observe_host(&host, &error), error);
                        up0 = vmnet_host_find_link(host, "up0");
                        ck_assert_ptr_nonnull(up0->bridge_vlans);
                        ck_assert_uint_eq(up0->bridge_vlans->len, 2);
                        ck_assert_uint_eq(g_array_index(up0->bridge_vlans, VmnetHostBridgeVlan,
                                                        0).flags,
                                          BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
                        ck_assert_uint_eq(g_array_index(up0->bridge_vlans, VmnetHostBridgeVlan,
                                                        1).vid, 100);
                }
                assert_ok(vmnet_nl_bridge_vlan(sk, "up0", 100, 0, FALSE, &error), error);
        } else {
                ck_assert_int_eq(error->code, VMNET_ERROR_NETLINK);
                ck_assert_msg(g_str_has_prefix(error->message, "changing bridge vm-vf: Operation "
                                                               "not supported"),
                              "%s", error->message);
                g_clear_error(&error);
                /* All or nothing: no half-made bridge is left behind. */
                ck_assert_int_ne(vmnet_nstest_sh_status("ip link show vm-vf 2>/dev/null"), 0);
                /* And a port VLAN entry on a plain bridge is refused, not ignored. */
                SH("ip link add vm-p type bridge && ip link set up0 master vm-p");
                ck_assert(!vmnet_nl_bridge_vlan(sk, "up0", 100, 0, TRUE, &error));
                ck_assert_int_eq(error->code, VMNET_ERROR_NETLINK);
        }
}
END_TEST

/* --- addresses and routes --------------------------------------------------------- */

START_TEST(test_addresses)
{
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(GError) error = NULL;
        VmnetAddr a4 = addr("192.168.50.1"), a6 = addr("fd00:50::1");

        vmnet_nstest_enter();
        sk = open_sock();
        SH("ip link add vm-a type bridge && ip link set vm-a up");
        assert_ok(vmnet_nl_addr(sk, "vm-a", &a4, 24, TRUE, &error), error);
        assert_ok(vmnet_nl_addr(sk, "vm-a", &a6, 64, TRUE, &error), error);
        assert_sh("192.168.50.1/24 fd00:50::1/64",
                  "ip -j addr show dev vm-a | jq -r '[.[0].addr_info[] | "
                  "select(.scope == \"global\") | "
                  "\"\\(.local)/\\(.prefixlen)\"] | join(\" \")'");
        /* IPv6 without DAD: a bridge without ports would keep it tentative forever. */
        assert_sh("false",
                  "ip -j addr show dev vm-a | jq -r '.[0].addr_info[] | "
                  "select(.local == \"fd00:50::1\") | .tentative // false'");
        ck_assert(!vmnet_nl_addr(sk, "vm-a", &a4, 24, TRUE, &error));
        /* errno text, then the kernel's extended ack. */
        ck_assert_str_eq(error->message, "adding address 192.168.50.1/24 to vm-a: File exists "
                                         "(kernel: ipv4: Address already assigned)");
        g_clear_error(&error);
        assert_ok(vmnet_nl_addr(sk, "vm-a", &a4, 24, FALSE, &error), error);
        assert_ok(vmnet_nl_addr(sk, "vm-a", &a6, 64, FALSE, &error), error);
        assert_sh("0",
                  "ip -j addr show dev vm-a | jq -r '[.[0].addr_info[] | "
                  "select(.scope == \"global\")] | length'");
}
END_TEST

START_TEST(test_routes)
{
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(GError) error = NULL;
        VmnetNlRoute r = { .dst = prefix("10.20.0.0/16"), .has_gateway = TRUE,
                           .gateway = addr("10.10.0.254"), .oif = "vm-r" };
        VmnetNlRoute def = { .dst = prefix("0.0.0.0/0"), .has_gateway = TRUE,
                             .gateway = addr("10.10.0.1"), .oif = "vm-r" };

        vmnet_nstest_enter();
        sk = open_sock();
        SH("ip link add vm-r type bridge && ip link set vm-r up && "
           "ip link add vm-o type bridge && ip link set vm-o up && "
           "ip addr add 10.10.0.2/24 dev vm-r && ip addr add 10.10.0.3/24 dev vm-o");
        assert_ok(vmnet_nl_route(sk, VMNET_NL_ROUTE_ADD, &r, &error), error);
        assert_sh("10.10.0.254 vm-r static",
                  "ip -j route show 10.20.0.0/16 | jq -r '.[0] | "
                  "\"\\(.gateway) \\(.dev) \\(.protocol)\"'");
        ck_assert(!vmnet_nl_route(sk, VMNET_NL_ROUTE_ADD, &r, &error));
        ck_assert_int_eq(error->code, VMNET_ERROR_NETLINK);
        g_clear_error(&error);

        /* Replace moves a route to another link in one step. */
        assert_ok(vmnet_nl_route(sk, VMNET_NL_ROUTE_ADD, &def, &error), error);
        def.oif = "vm-o";
        assert_ok(vmnet_nl_route(sk, VMNET_NL_ROUTE_REPLACE, &def, &error), error);
        assert_sh("vm-o",
                  "ip -j route show default | jq -r '[.[] | .dev] | "
                  "join(\" \")'");

        assert_ok(vmnet_nl_route(sk, VMNET_NL_ROUTE_DELETE, &r, &error), error);
        assert_ok(vmnet_nl_route(sk, VMNET_NL_ROUTE_DELETE, &def, &error), error);
        assert_sh("0",
                  "ip -j route show | jq -r '[.[] | "
                  "select(.protocol != \"kernel\")] | length'");
}
END_TEST

/* --- sysctls ------------------------------------------------------------------------ */

START_TEST(test_sysctl)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *v = NULL;

        vmnet_nstest_enter();
        /* Per namespace: a fresh namespace starts at 0, whatever the machine's value. */
        v = vmnet_sysctl_read("net.ipv4.ip_forward", &error);
        ck_assert_str_eq(v, "0");
        assert_ok(vmnet_sysctl_write("net.ipv4.ip_forward", "1", &error), error);
        assert_sh("1",
                  "cat /proc/sys/net/ipv4/ip_forward");
        assert_ok(vmnet_sysctl_write("net.ipv6.conf.all.forwarding", "1", &error), error);
        assert_sh("1",
                  "sysctl -n net.ipv6.conf.all.forwarding");
        ck_assert_ptr_null(vmnet_sysctl_read("net.ipv4.no_such_thing", &error));
        ck_assert_int_eq(error->code, VMNET_ERROR_NOT_FOUND);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("netlink");
        TCase *tc = tcase_create("netns");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_observe_matches_ip);
        tcase_add_test(tc, test_observe_addrs_routes);
        tcase_add_test(tc, test_observe_many_links);
        tcase_add_test(tc, test_bridge_create);
        tcase_add_test(tc, test_bridge_change_stp);
        tcase_add_test(tc, test_link_attributes);
        tcase_add_test(tc, test_vlan);
        tcase_add_test(tc, test_bridge_vlan_filtering);
        tcase_add_test(tc, test_addresses);
        tcase_add_test(tc, test_routes);
        tcase_add_test(tc, test_sysctl);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return vmnet_nstest_run(suite(), TRUE);
}
