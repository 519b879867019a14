/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions/nft.h"
#include "backend/nftables/ir.h"
#include "backend/nftables/nft.h"
#include "render/render.h"
#include "tests/unit/testutil.h"

/*
 * The nftables IR and its text form, without a kernel:
 *  - models built here, checked line by line;
 *  - a golden `nft -f` script for every plan in examples/ and in
 *    tests/data/nft/ (tests/data/nft/<name>.nft);
 *  - nft itself parses every golden script in check mode (`nft -c -f`),
 *    inside a throwaway network namespace (`unshare -n`, or `unshare -rn`
 *    when not root), so the scripts are real nft syntax;
 *  - the actions' descriptions and inverses.
 * The kernel side is tests/netns/check-nft-netns.c.
 */

static char **plans; /* the .xml files of examples/, then of tests/data/nft/ */

/* ---------------------------------------------------------------- models */

static VmnetPlan *new_plan(const char *name)
{
        VmnetPlan *plan = vmnet_plan_new("test.xml");

        plan->name = g_strdup(name);
        return plan;
}

static VmnetSubnet *add_subnet(VmnetNetwork *net, const char *cidr, const char *gw)
{
        VmnetSubnet *sub = vmnet_subnet_new();

        ck_assert(vmnet_prefix_parse(cidr, &sub->cidr, NULL));
        if (gw) {
                sub->has_gateway = TRUE;
                ck_assert(vmnet_addr_parse(gw, &sub->gateway));
        }
        g_ptr_array_add(net->subnets, sub);
        return sub;
}

static void add_forward(VmnetNetwork *net, VmnetProto proto, guint16 port, const char *to,
                        guint16 to_port, const char *host_ip)
{
        VmnetPortForward *fw = vmnet_port_forward_new();

        net->has_nat = TRUE;
        fw->proto = proto;
        fw->host_port = port;
        ck_assert(vmnet_addr_parse(to, &fw->to));
        fw->to_port = to_port;
        if (host_ip) {
                fw->has_host_ip = TRUE;
                ck_assert(vmnet_addr_parse(host_ip, &fw->host_ip));
        }
        g_ptr_array_add(net->forwards, fw);
}

static void add_allow(VmnetPlan *plan, const char *from, const char *to, VmnetProto proto,
                      guint16 port)
{
        VmnetAllow *a = vmnet_allow_new();

        a->from = g_strdup(from);
        a->to = g_strdup(to);
        a->proto = proto;
        a->port = port;
        g_ptr_array_add(plan->allows, a);
}

/* A NAT network with two forwards, a host-only one, a routed one, a bridged one. */
static VmnetPlan *sample_plan(void)
{
        VmnetPlan *plan = new_plan("hv1");
        VmnetNetwork *lab = vmnet_test_add_network(plan, "lab", VMNET_MODE_NAT, "vm-lab");
        VmnetNetwork *ho = vmnet_test_add_network(plan, "ho", VMNET_MODE_HOST_ONLY, "vm-ho");
        VmnetNetwork *rt = vmnet_test_add_network(plan, "rt", VMNET_MODE_ROUTED, "vm-rt");
        VmnetNetwork *lan = vmnet_test_add_network(plan, "lan", VMNET_MODE_BRIDGED, "br-lan");

        add_subnet(lab, "192.168.50.0/24", "192.168.50.1");
        lab->has_nat = TRUE;
        lab->nat_out = g_strdup("eno1");
        /* declared with-host-ip first: the maps still come in fixed order */
        add_forward(lab, VMNET_PROTO_TCP, 443, "192.168.50.10", 0, "203.0.113.5");
        add_forward(lab, VMNET_PROTO_TCP, 8080, "192.168.50.10", 80, NULL);
        add_subnet(ho, "172.16.0.0/24", "172.16.0.1");
        add_subnet(rt, "203.0.113.64/26", "203.0.113.65");
        (void)lan;
        add_allow(plan, "ho", "lab", VMNET_PROTO_TCP, 22);
        return plan;
}

static gboolean has_line(const char *text, const char *line)
{
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (char **l = lines; *l; l++)
                if (g_str_equal(g_strstrip(*l), line))
                        return TRUE;
        return FALSE;
}

#define assert_line(text, line) \
        ck_assert_msg(has_line(text, line), "missing line \"%s\" in:\n%s", line, text)
#define assert_no_line(text, line) \
        ck_assert_msg(!has_line(text, line), "unexpected line \"%s\" in:\n%s", line, text)

START_TEST(test_sample_lines)
{
        g_autoptr(VmnetPlan) plan = sample_plan();
        g_autofree char *text = vmnet_render_nft(plan, NULL);

        ck_assert(g_str_has_prefix(text, "# table inet vmnet"));
        assert_line(text, "add table inet vmnet");
        assert_line(text, "delete table inet vmnet");
        assert_line(text, "comment \"managed by vmnet plan hv1\"");
        /*
         * every guest bridge, whatever its mode; br-lan (bridged, not the
         * host's uplink) is also one where the host has no presence
         */
        ck_assert_ptr_nonnull(strstr(text, "set bridges {\n\t\ttype ifname\n\t\telements = { "
                                           "\"vm-lab\",\n\t\t\t     \"vm-ho\",\n\t\t\t     "
                                           "\"vm-rt\",\n\t\t\t     \"br-lan\" }\n\t}\n"));
        ck_assert_ptr_nonnull(strstr(text, "set l2_bridges {\n\t\ttype ifname\n\t\telements = { "
                                           "\"br-lan\" }\n\t}\n"));
        assert_line(text, "elements = { \"vm-ho\" . \"vm-lab\" . tcp . 22 }");
        ck_assert_ptr_nonnull(strstr(text, "map fwd4 {\n\t\ttype inet_proto . inet_service : "
                                           "ipv4_addr . inet_service\n\t\telements = { tcp . "
                                           "8080 : 192.168.50.10 . 80 }\n\t}\n\n\tmap fwd4_addr {"));
        assert_line(text, "elements = { 203.0.113.5 . tcp . 443 : 192.168.50.10 . 443 }");
        assert_line(text, "type nat hook prerouting priority dstnat; policy accept;");
        assert_line(text, "meta nfproto ipv4 fib daddr type local dnat ip to ip daddr . meta "
                          "l4proto . th dport map @fwd4_addr");
        assert_line(text, "meta nfproto ipv4 ip daddr != 127.0.0.0/8 fib daddr type local dnat "
                          "ip to meta l4proto . th dport map @fwd4");
        assert_line(text, "type nat hook output priority -100; policy accept;");
        /* per-network rules are set elements: the chains do not grow with networks */
        assert_line(text, "meta nfproto ipv4 oifname . ip saddr @masq_via4 ip daddr "
                          "!= 224.0.0.0/24 ip daddr != 255.255.255.255 masquerade");
        ck_assert_ptr_nonnull(strstr(text, "set masq_via4 {\n\t\ttype ifname . ipv4_addr\n"
                                           "\t\tflags interval\n\t\telements = { \"eno1\" . "
                                           "192.168.50.0/24 }\n"));
        assert_line(text, "meta nfproto ipv4 ct status dnat ip saddr . ip daddr @hairpin4 "
                          "masquerade");
        assert_line(text, "elements = { 192.168.50.0/24 . 192.168.50.0/24 }");
        assert_line(text, "iifname . oifname @same_bridge accept");
        assert_line(text, "iifname != @bridges oifname != @bridges accept");
        assert_line(text, "ct state established,related accept");
        assert_line(text, "ct state invalid drop");
        assert_line(text, "iifname @l2_bridges drop");
        assert_line(text, "oifname @l2_bridges reject with icmpx admin-prohibited");
        assert_line(text, "ct status dnat accept");
        assert_no_line(text, "iifname . oifname @allow_pairs accept");
        assert_line(text, "iifname . oifname . meta l4proto . th dport @allow_ports accept");
        assert_no_line(text, "iifname . oifname . meta l4proto @allow_proto accept");
        assert_line(text, "iifname @bridges oifname @bridges reject with icmpx admin-prohibited");
        /* NAT: out of out= only, from its subnet only; host-only: nothing */
        assert_line(text, "meta nfproto ipv4 ct state new,untracked oifname != @bridges iifname . oifname . ip saddr @out_via4 accept");
        assert_line(text, "elements = { \"vm-lab\" . \"eno1\" . 192.168.50.0/24 }");
        ck_assert_ptr_null(strstr(text, "172.16.0.0/24"));
        assert_line(text, "meta nfproto ipv4 ct state new,untracked oifname != @bridges iifname . ip saddr @out4 accept");
        ck_assert_ptr_nonnull(strstr(text, "set out4 {\n\t\ttype ifname . ipv4_addr\n"
                                           "\t\tflags interval\n\t\telements = { \"vm-rt\" . "
                                           "203.0.113.64/26 }\n"));
        assert_line(text, "meta nfproto ipv4 ct state new,untracked iifname != @bridges oifname . ip daddr @in4 accept");
        ck_assert_ptr_nonnull(strstr(text, "set in4 {\n\t\ttype ifname . ipv4_addr\n"
                                           "\t\tflags interval\n\t\telements = { \"vm-rt\" . "
                                           "203.0.113.64/26 }\n"));
        assert_line(text, "iifname @bridges reject with icmpx admin-prohibited");
        assert_line(text, "oifname @bridges reject with icmpx admin-prohibited");
        /* the host: ICMP, DNS and DHCP, then a reset or admin-prohibited */
        assert_line(text, "type filter hook input priority filter; policy accept;");
        assert_line(text, "iifname != @bridges accept");
        assert_line(text, "meta l4proto ipv6-icmp accept");
        assert_line(text, "meta l4proto . th dport @host_services accept");
        assert_line(text, "meta l4proto tcp reject with tcp reset");
        assert_line(text, "reject with icmpx admin-prohibited");
}
END_TEST

/* The whole text of the smallest interesting table, so any change of form shows. */
START_TEST(test_exact_small)
{
        g_autoptr(VmnetPlan) plan = new_plan("p");
        VmnetNetwork *net = vmnet_test_add_network(plan, "r", VMNET_MODE_ROUTED, "vm-r");
        g_autofree char *text = NULL;

        add_subnet(net, "10.0.0.0/24", "10.0.0.1");
        text = vmnet_render_nft(plan, NULL);
        ck_assert_str_eq(text,
                         "# table inet vmnet, generated by vmnet: do not edit.\n"
                         "# Loading this file replaces the whole table in one transaction;\n"
                         "# vmnet never touches any other table.\n"
                         "add table inet vmnet\n"
                         "delete table inet vmnet\n"
                         "\n"
                         "table inet vmnet {\n"
                         "\tcomment \"managed by vmnet plan p\"\n"
                         "\n"
                         "\tset bridges {\n"
                         "\t\ttype ifname\n"
                         "\t\telements = { \"vm-r\" }\n"
                         "\t}\n"
                         "\n"
                         "\tset same_bridge {\n"
                         "\t\ttype ifname . ifname\n"
                         "\t\telements = { \"vm-r\" . \"vm-r\" }\n"
                         "\t}\n"
                         "\n"
                         "\tset host_services {\n"
                         "\t\ttype inet_proto . inet_service\n"
                         "\t\telements = { udp . 53,\n"
                         "\t\t\t     tcp . 53,\n"
                         "\t\t\t     udp . 67,\n"
                         "\t\t\t     udp . 547 }\n"
                         "\t}\n"
                         "\n"
                         "\tset out4 {\n"
                         "\t\ttype ifname . ipv4_addr\n"
                         "\t\tflags interval\n"
                         "\t\telements = { \"vm-r\" . 10.0.0.0/24 }\n"
                         "\t}\n"
                         "\n"
                         "\tset in4 {\n"
                         "\t\ttype ifname . ipv4_addr\n"
                         "\t\tflags interval\n"
                         "\t\telements = { \"vm-r\" . 10.0.0.0/24 }\n"
                         "\t}\n"
                         "\n"
                         "\tchain input {\n"
                         "\t\ttype filter hook input priority filter; policy accept;\n"
                         "\t\tiifname != @bridges accept\n"
                         "\t\tct state established,related accept\n"
                         "\t\tct state invalid drop\n"
                         "\t\tmeta l4proto icmp accept\n"
                         "\t\tmeta l4proto ipv6-icmp accept\n"
                         "\t\tmeta l4proto . th dport @host_services accept\n"
                         "\t\tmeta l4proto tcp reject with tcp reset\n"
                         "\t\treject with icmpx admin-prohibited\n"
                         "\t}\n"
                         "\n"
                         "\tchain forward {\n"
                         "\t\ttype filter hook forward priority filter; policy accept;\n"
                         "\t\tct state established,related accept\n"
                         "\t\tmeta nfproto ipv4 ct state new,untracked oifname != @bridges "
                         "iifname . ip saddr @out4 accept\n"
                         "\t\tmeta nfproto ipv4 ct state new,untracked iifname != @bridges "
                         "oifname . ip daddr @in4 accept\n"
                         "\t\tiifname . oifname @same_bridge accept\n"
                         "\t\tiifname != @bridges oifname != @bridges accept\n"
                         "\t\tct state invalid drop\n"
                         "\t\tiifname @bridges oifname @bridges reject with icmpx admin-prohibited\n"
                         "\t\tiifname @bridges reject with icmpx admin-prohibited\n"
                         "\t\toifname @bridges reject with icmpx admin-prohibited\n"
                         "\t}\n"
                         "}\n");
}
END_TEST

/*
 * A bridged network's bridge that carries, or may carry, the host's own
 * address (migrate-addresses, or an adopted bridge) is the host's uplink:
 * not a guest bridge of the policy, so the host's own traffic on it is left
 * alone.
 */
START_TEST(test_host_uplink_bridges)
{
        g_autoptr(VmnetPlan) plan = new_plan("up");
        VmnetNetwork *adopted = vmnet_test_add_network(plan, "lan", VMNET_MODE_BRIDGED, "br0");
        VmnetNetwork *migrated = vmnet_test_add_network(plan, "lan2", VMNET_MODE_BRIDGED, "br1");
        VmnetNetwork *prod = vmnet_test_add_network(plan, "prod", VMNET_MODE_BRIDGED, "br-prod");
        g_autofree char *text = NULL;

        adopted->adopt = TRUE;
        migrated->uplink = vmnet_uplink_new();
        migrated->uplink->dev = g_strdup("eno2");
        migrated->uplink->migrate_addresses = TRUE;
        text = vmnet_render_nft(plan, NULL);
        ck_assert_ptr_null(strstr(text, "\"br0\""));
        ck_assert_ptr_null(strstr(text, "\"br1\""));
        assert_line(text, "elements = { \"br-prod\" }");
        ck_assert(vmnet_bridge_is_host_uplink(plan, "br0"));
        ck_assert(!vmnet_network_host_absent(plan, adopted));
        ck_assert(!vmnet_network_host_absent(plan, migrated));
        ck_assert(vmnet_network_host_absent(plan, prod));
}
END_TEST

/*
 * Bridged and isolated networks only: the host is on none of them, so
 * nothing from them reaches the host or is routed, and nothing is routed
 * onto them; frames inside each bridge pass (br_netfilter).
 */
START_TEST(test_l2_only_is_empty)
{
        g_autoptr(VmnetPlan) plan = new_plan("l2");
        g_autofree char *text = NULL;

        vmnet_test_add_network(plan, "lan", VMNET_MODE_BRIDGED, "br-lan");
        vmnet_test_add_network(plan, "iso", VMNET_MODE_ISOLATED, "vm-iso");
        text = vmnet_render_nft(plan, NULL);
        assert_line(text, "elements = { \"br-lan\" . \"br-lan\",");
        assert_line(text, "iifname . oifname @same_bridge accept");
        assert_line(text, "iifname @l2_bridges drop");
        assert_line(text, "oifname @l2_bridges reject with icmpx admin-prohibited");
        assert_no_line(text, "meta l4proto icmp accept");
        ck_assert_ptr_null(strstr(text, "host_services"));
}
END_TEST

START_TEST(test_ipv6_and_prefixes)
{
        g_autoptr(VmnetPlan) plan = new_plan("v6");
        VmnetNetwork *net = vmnet_test_add_network(plan, "lab", VMNET_MODE_NAT, "vm-lab");
        g_autofree char *text = NULL;

        add_subnet(net, "10.20.16.0/20", "10.20.16.1");
        add_subnet(net, "fd00:20::/64", "fd00:20::1");
        net->has_nat = TRUE;
        add_forward(net, VMNET_PROTO_UDP, 53, "fd00:20::10", 5353, NULL);
        add_forward(net, VMNET_PROTO_TCP, 22, "fd00:20::11", 0, "2001:db8::7");
        text = vmnet_render_nft(plan, NULL);

        assert_line(text, "type inet_proto . inet_service : ipv6_addr . inet_service");
        assert_line(text, "elements = { udp . 53 : fd00:20::10 . 5353 }");
        /* to-port defaults to the host port */
        assert_line(text, "elements = { 2001:db8::7 . tcp . 22 : fd00:20::11 . 22 }");
        assert_line(text, "meta nfproto ipv6 ip6 daddr != ::1 fib daddr type local dnat ip6 to "
                          "meta l4proto . th dport map @fwd6");
        assert_line(text, "meta nfproto ipv4 oifname != @bridges ip saddr @masq4 ip daddr "
                          "!= 224.0.0.0/24 ip daddr != 255.255.255.255 masquerade");
        ck_assert_ptr_nonnull(strstr(text, "set masq4 {\n\t\ttype ipv4_addr\n\t\tflags "
                                           "interval\n\t\telements = { 10.20.16.0/20 }\n"));
        assert_line(text, "meta nfproto ipv6 oifname != @bridges ip6 saddr @masq6 masquerade");
        ck_assert_ptr_nonnull(strstr(text, "set masq6 {\n\t\ttype ipv6_addr\n\t\tflags "
                                           "interval\n\t\telements = { fd00:20::/64 }\n"));
        /* hairpin only where a forward lands */
        assert_line(text, "meta nfproto ipv6 ct status dnat ip6 saddr . ip6 daddr @hairpin6 "
                          "masquerade");
        assert_line(text, "elements = { fd00:20::/64 . fd00:20::/64 }");
        ck_assert_ptr_null(strstr(text, "hairpin4"));
        ck_assert_ptr_null(strstr(text, "fwd4"));
}
END_TEST

START_TEST(test_deterministic)
{
        g_autoptr(VmnetPlan) plan = sample_plan();
        g_autofree char *a = vmnet_render_nft(plan, NULL);
        g_autofree char *b = vmnet_render_nft(plan, NULL);
        g_autoptr(VmnetNftIr) ir1 = vmnet_nft_ir_from_plan(plan, NULL);
        g_autoptr(VmnetNftIr) ir2 = vmnet_nft_ir_from_plan(plan, NULL);
        g_autofree char *d1 = vmnet_nft_ir_digest(ir1);
        g_autofree char *d2 = vmnet_nft_ir_digest(ir2);

        ck_assert_str_eq(a, b);
        ck_assert_str_eq(d1, d2);
}
END_TEST

/* The same forward twice (the validator's job to refuse) never reaches the kernel twice. */
START_TEST(test_duplicate_elements)
{
        g_autoptr(VmnetPlan) plan = new_plan("dup");
        VmnetNetwork *net = vmnet_test_add_network(plan, "lab", VMNET_MODE_NAT, "vm-lab");
        g_autoptr(VmnetNftIr) ir = NULL;
        VmnetNftSet *map;

        add_subnet(net, "10.1.0.0/24", "10.1.0.1");
        add_forward(net, VMNET_PROTO_TCP, 80, "10.1.0.5", 0, NULL);
        add_forward(net, VMNET_PROTO_TCP, 80, "10.1.0.6", 0, NULL);
        ir = vmnet_nft_ir_from_plan(plan, NULL);
        map = vmnet_nft_ir_find_set(ir, "fwd4");
        ck_assert_ptr_nonnull(map);
        ck_assert_uint_eq(vmnet_nft_set_n_elements(map), 1);
}
END_TEST

START_TEST(test_value_bytes)
{
        VmnetNftValue v;
        VmnetAddr a;
        guint8 b[16];

        v = vmnet_nft_value_ifname("vm-lab");
        vmnet_nft_value_bytes(&v, b);
        ck_assert_mem_eq(b, "vm-lab\0\0\0\0\0\0\0\0\0\0", 16);
        v = vmnet_nft_value_port(8080);
        vmnet_nft_value_bytes(&v, b);
        ck_assert_mem_eq(b, "\x1f\x90\0\0", 4);
        v = vmnet_nft_value_proto(6);
        vmnet_nft_value_bytes(&v, b);
        ck_assert_mem_eq(b, "\x06\0\0\0", 4);
        ck_assert(vmnet_addr_parse("192.168.50.10", &a));
        v = vmnet_nft_value_addr(&a);
        ck_assert_int_eq(v.type, VMNET_NFT_DT_IPV4_ADDR);
        vmnet_nft_value_bytes(&v, b);
        ck_assert_mem_eq(b, "\xc0\xa8\x32\x0a", 4);
        /* nft's datatype ids (src/datatype.h) and the concatenated set type */
        ck_assert_uint_eq(vmnet_nft_datatype_id(VMNET_NFT_DT_IFNAME), 41);
        ck_assert_uint_eq(vmnet_nft_datatype_id(VMNET_NFT_DT_INET_SERVICE), 13);
}
END_TEST

START_TEST(test_rule_to_text)
{
        g_autoptr(VmnetNftIr) ir = vmnet_nft_ir_new(NULL);
        VmnetNftChain *c = vmnet_nft_ir_add_chain(ir, "forward", VMNET_NFT_CHAIN_FILTER,
                                                  VMNET_NFT_HOOK_FORWARD, 0, TRUE);
        VmnetNftRule *r = vmnet_nft_chain_add_rule(c);
        static const VmnetNftSelector sel[] = { VMNET_NFT_SEL_IIFNAME };
        VmnetPrefix host, any;
        g_autofree char *t1 = NULL, *t2 = NULL, *all = NULL;

        ck_assert(vmnet_prefix_parse("10.1.2.3/32", &host, NULL));
        ck_assert(vmnet_prefix_parse("0.0.0.0/0", &any, NULL));
        vmnet_nft_rule_match_nfproto(r, AF_INET);
        vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP_SADDR, FALSE, &host);
        vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP_DADDR, TRUE, &any);
        vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATE, VMNET_NFT_CT_NEW | 0x100);
        vmnet_nft_rule_match_lookup(r, sel, 1, TRUE, "s");
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);
        t1 = vmnet_nft_rule_to_text(r);
        ck_assert_str_eq(t1, "meta nfproto ipv4 ip saddr 10.1.2.3 ip daddr != 0.0.0.0/0 ct state "
                             "new,0x100 iifname != @s drop");
        r = vmnet_nft_chain_add_rule(c);
        t2 = vmnet_nft_rule_to_text(r);
        ck_assert_str_eq(t2, "");
        all = vmnet_nft_ir_to_text(ir);
        ck_assert_ptr_nonnull(strstr(all, "type filter hook forward priority filter; policy drop;"));
        ck_assert_ptr_null(strstr(all, "comment"));
}
END_TEST

/* ---------------------------------------------------------------- actions */

START_TEST(test_actions)
{
        g_autoptr(VmnetPlan) plan = sample_plan();
        g_autoptr(VmnetAction) replace = vmnet_action_nft_replace_new(vmnet_nft_ir_from_plan(plan, NULL),
                                                                      NULL);
        g_autoptr(VmnetAction) del = vmnet_action_nft_delete_new(NULL);
        g_autofree char *d1 = vmnet_action_describe(replace);
        g_autofree char *d2 = vmnet_action_describe(del);

        ck_assert_str_eq(replace->type->name, "nft-replace");
        ck_assert_str_eq(replace->object, "table inet vmnet");
        ck_assert_str_eq(d1, "replace table inet vmnet (12 sets with 21 elements, 5 chains, "
                             "29 rules)");
        ck_assert_str_eq(d2, "delete table inet vmnet [disruptive]");
        /* nothing observed before: nothing to undo */
        ck_assert_ptr_null(replace->type->invert(replace));
        ck_assert_ptr_null(del->type->invert(del));
}
END_TEST

/* ---------------------------------------------------------------- golden */

static char *golden_name(const char *plan_path)
{
        g_autofree char *base = g_path_get_basename(plan_path);

        return g_strdup_printf("nft/%.*s.nft", (int)(strlen(base) - 4), base);
}

/* A plan whose nat guests get their IPv4 from IPAM, domains in the given order. */
static VmnetPlan *ipam_plan(gboolean reversed)
{
        const char *a = "  <domain name=\"a\"><interface network=\"lan\" mac=\"52:54:00:00:00:01\"/></domain>\n";
        const char *b = "  <domain name=\"b\"><interface network=\"lan\" mac=\"52:54:00:00:00:02\"/>"
                        "<interface network=\"l2\" mac=\"52:54:00:00:00:03\"/>"
                        "<interface network=\"bare\" mac=\"52:54:00:00:00:04\"/></domain>\n";
        g_autofree char *xml = g_strdup_printf(
                "<plan xmlns=\"urn:vmnet:plan:1\" name=\"ipam\">\n"
                "  <network name=\"lan\" mode=\"nat\" bridge=\"vi-lan\">\n"
                "    <subnet cidr=\"10.9.0.0/24\" gateway=\"10.9.0.1\">"
                "<dhcp start=\"10.9.0.100\" end=\"10.9.0.150\"/></subnet>\n"
                "  </network>\n"
                "  <network name=\"l2\" mode=\"bridged\" bridge=\"vi-l2\">\n"
                "    <uplink dev=\"eth9\"/><subnet cidr=\"10.9.1.0/24\" gateway=\"10.9.1.1\"/>\n"
                "  </network>\n"
                "  <network name=\"bare\" mode=\"isolated\" bridge=\"vi-bare\"/>\n"
                "%s%s</plan>\n",
                reversed ? b : a, reversed ? a : b);

        return vmnet_test_plan_from_string(xml, "ipam.xml");
}

/* issue 16 point 3: what IPAM allocates is bound, in MAC order whatever the plan's order. */
START_TEST(test_ipam_bound)
{
        g_autoptr(VmnetPlan) plan = ipam_plan(FALSE);
        g_autoptr(VmnetPlan) rev = ipam_plan(TRUE);
        g_autoptr(VmnetIpam) ipam = vmnet_test_fresh_ipam(plan);
        g_autoptr(VmnetIpam) ipam_rev = vmnet_test_fresh_ipam(rev);
        g_autoptr(VmnetNftIr) ir = vmnet_nft_ir_from_plan(plan, ipam);
        g_autoptr(VmnetNftIr) ir_rev = vmnet_nft_ir_from_plan(rev, ipam_rev);
        g_autofree char *text = vmnet_nft_ir_to_text(ir->bridge);
        g_autofree char *text_rev = vmnet_nft_ir_to_text(ir_rev->bridge);
        g_autofree char *bare = vmnet_render_nft(plan, NULL);
        g_autoptr(GArray) unbound = vmnet_nft_unbound_ip4_ports(plan, ipam);
        const VmnetUnboundPort *u;

        /* Elements follow the plan's order; the addresses do not. */
        for (guint i = 0; i < 2; i++) {
                const char *t = i ? text_rev : text;

                ck_assert_msg(strstr(t, "\"vmn525400000001\" . 10.9.0.2") &&
                                      strstr(t, "\"vmn525400000002\" . 10.9.0.3"),
                              "port_ip4 lacks IPAM's addresses (plan %s):\n%s",
                              i ? "reversed" : "in order", t);
        }
        /* Without IPAM nothing is known: no port is checked for IPv4. */
        ck_assert_msg(!strstr(bare, "port_ip4"), "%s", bare);
        /* The two ports nothing is bound to, and why. */
        ck_assert_uint_eq(unbound->len, 2);
        u = &g_array_index(unbound, VmnetUnboundPort, 0);
        ck_assert_str_eq(u->network->name, "l2");
        ck_assert_msg(strstr(u->why, "bridged or isolated"), "%s", u->why);
        u = &g_array_index(unbound, VmnetUnboundPort, 1);
        ck_assert_str_eq(u->network->name, "bare");
        ck_assert_msg(strstr(u->why, "no IPv4 subnet"), "%s", u->why);
}
END_TEST

START_TEST(test_plans_exist)
{
        guint examples = 0;

        for (char **p = plans; p && *p; p++)
                examples += g_str_has_prefix(*p, "examples/");
        ck_assert_msg(examples >= 8, "expected the examples/*.xml plans, found %u", examples);
}
END_TEST

START_TEST(test_golden)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan(plans[_i]);
        /* As a first apply renders it: with the addresses IPAM allocates. */
        g_autoptr(VmnetIpam) ipam = vmnet_test_fresh_ipam(plan);
        g_autofree char *text = vmnet_render_nft(plan, ipam);
        g_autofree char *golden = golden_name(plans[_i]);

        vmnet_test_golden(golden, text);
}
END_TEST

/* Runs `sh -c cmd`; returns its exit status, stderr in *err when asked. */
static int sh(const char *cmd, char **err)
{
        const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
        g_autofree char *out = NULL, *errbuf = NULL;
        int status = 0;

        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errbuf,
                          &status, NULL))
                return -1;
        if (err)
                *err = g_steal_pointer(&errbuf);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* How to run nft in a throwaway namespace here, or NULL when impossible. */
static const char *unshare_cmd(void)
{
        static const char *cmd;
        static gboolean probed;
        static const char *const candidates[] = { "unshare -n", "unshare -rn" };
        g_autofree char *nft = NULL;

        if (probed)
                return cmd;
        probed = TRUE;
        nft = g_find_program_in_path("nft");
        if (!nft && !g_file_test("/usr/sbin/nft", G_FILE_TEST_EXISTS))
                return NULL;
        for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
                g_autofree char *probe = g_strdup_printf("%s nft list ruleset", candidates[i]);

                if (sh(probe, NULL) == 0) {
                        cmd = candidates[i];
                        break;
                }
        }
        return cmd;
}

/* nft parses the golden script and checks it against the kernel without committing. */
START_TEST(test_golden_nft_check)
{
        g_autofree char *golden = golden_name(plans[_i]);
        g_autofree char *path = g_build_filename(TOP_SRCDIR, "tests", "data", golden, NULL);
        g_autofree char *cmd = NULL;
        g_autofree char *err = NULL;
        const char *unshare = unshare_cmd();

        if (!unshare) {
                fprintf(stderr, "SKIP %s: nft check mode needs nft and unshare -n (or -rn)\n",
                        golden);
                return;
        }
        ck_assert_msg(g_file_test(path, G_FILE_TEST_EXISTS), "%s missing", path);
        cmd = g_strdup_printf("%s nft -c -f %s", unshare, path);
        ck_assert_msg(sh(cmd, &err) == 0, "`%s` failed:\n%s", cmd, err ? err : "");
}
END_TEST

static Suite *nft_suite(void)
{
        Suite *s = suite_create("nft");
        TCase *tc = tcase_create("model");
        guint n = plans ? g_strv_length(plans) : 0;

        tcase_add_test(tc, test_sample_lines);
        tcase_add_test(tc, test_exact_small);
        tcase_add_test(tc, test_l2_only_is_empty);
        tcase_add_test(tc, test_host_uplink_bridges);
        tcase_add_test(tc, test_ipv6_and_prefixes);
        tcase_add_test(tc, test_deterministic);
        tcase_add_test(tc, test_duplicate_elements);
        tcase_add_test(tc, test_value_bytes);
        tcase_add_test(tc, test_rule_to_text);
        tcase_add_test(tc, test_actions);
        tcase_add_test(tc, test_ipam_bound);
        suite_add_tcase(s, tc);

        tc = tcase_create("golden");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_plans_exist);
        tcase_add_loop_test(tc, test_golden, 0, n);
        tcase_add_loop_test(tc, test_golden_nft_check, 0, n);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        static const char *const plan_dirs[] = { "examples", "tests/data/nft", NULL };
        SRunner *sr;
        int failed;

        plans = vmnet_test_list_dirs(plan_dirs, ".xml");

        sr = srunner_create(nft_suite());
        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        g_strfreev(plans);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
