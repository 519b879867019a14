/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The link diff, two ways:
 *
 * - table-driven, without a kernel: a plan and an observed host built in C
 *   go through vmnet_diff_links() (or _destroy()), and the action list, each
 *   action followed by its inverse, must equal tests/data/actions/<case>.txt
 *   (VMNET_REGENERATE=1 rewrites them);
 *
 * - round trips in a private network namespace: apply the actions, observe
 *   again (the diff must be empty), then undo (inverses in reverse, or
 *   destroy with the recorded foreign state) and compare `ip -j` dumps with
 *   those taken before: the namespace must be exactly as it was.
 */
#include "config.h"

#include <linux/if_bridge.h>
#include <linux/rtnetlink.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "actions/kernel.h"
#include "apply/context.h"
#include "diff/links.h"
#include "observe/host.h"
#include "tests/netns/nstest.h"
#include "tests/unit/testutil.h"

/* --- building plans in C ---------------------------------------------------------- */

static VmnetPlan *plan_new(void)
{
        VmnetPlan *plan = vmnet_plan_new("plan.xml");

        plan->name = g_strdup("hv1");
        return plan;
}

static VmnetNetwork *net_add(VmnetPlan *plan, const char *name, VmnetMode mode, guint line)
{
        VmnetNetwork *n = vmnet_network_new();

        n->name = g_strdup(name);
        n->mode = mode;
        n->line = line;
        g_ptr_array_add(plan->networks, n);
        return n;
}

static void subnet_add(VmnetNetwork *n, const char *cidr, const char *gw)
{
        VmnetSubnet *s = vmnet_subnet_new();

        ck_assert(vmnet_prefix_parse(cidr, &s->cidr, NULL));
        if (gw) {
                s->has_gateway = TRUE;
                ck_assert(vmnet_addr_parse(gw, &s->gateway));
        }
        g_ptr_array_add(n->subnets, s);
}

static VmnetUplink *uplink_set(VmnetNetwork *n, const char *dev, guint vlan, gboolean migrate)
{
        n->uplink = vmnet_uplink_new();
        n->uplink->line = n->line + 1;
        n->uplink->dev = g_strdup(dev);
        n->uplink->vlan = vlan;
        n->uplink->migrate_addresses = migrate;
        return n->uplink;
}

static void route_add(VmnetNetwork *n, const char *to, const char *via)
{
        VmnetRoute *r = vmnet_route_new();

        ck_assert(vmnet_prefix_parse(to, &r->to, NULL));
        ck_assert(vmnet_addr_parse(via, &r->via));
        g_ptr_array_add(n->routes, r);
}

/*
 * The plan most cases start from: a NAT network, a bridged network on VLAN
 * 100 of eno1 with jumbo frames, a routed dual-stack network, an isolated one.
 */
static VmnetPlan *plan_std(void)
{
        VmnetPlan *plan = plan_new();
        VmnetNetwork *n;

        n = net_add(plan, "lab", VMNET_MODE_NAT, 3);
        n->mtu = 1500;
        n->stp = 0;
        n->forward_delay = 0;
        subnet_add(n, "192.168.50.0/24", "192.168.50.1");
        n = net_add(plan, "lan", VMNET_MODE_BRIDGED, 8);
        n->mtu = 9000;
        uplink_set(n, "eno1", 100, FALSE);
        n = net_add(plan, "pub", VMNET_MODE_ROUTED, 12);
        n->bridge = g_strdup("vm-pub");
        subnet_add(n, "10.10.0.0/24", "10.10.0.1");
        subnet_add(n, "fd00:10::/64", "fd00:10::1");
        route_add(n, "10.20.0.0/16", "10.10.0.254");
        net_add(plan, "iso", VMNET_MODE_ISOLATED, 20);
        return plan;
}

/* --- building observed hosts in C ------------------------------------------------ */

static VmnetAddr A(const char *s)
{
        VmnetAddr a;

        ck_assert_msg(vmnet_addr_parse(s, &a), "bad address %s", s);
        return a;
}

static void haddr(VmnetHostLink *l, const char *cidr, guint8 scope)
{
        g_auto(GStrv) parts = g_strsplit(cidr, "/", 2);
        VmnetAddr a = A(parts[0]);

        vmnet_host_link_add_addr(l, &a, (guint)g_ascii_strtoull(parts[1], NULL, 10), scope);
        g_array_index(l->addrs, VmnetHostAddr, l->addrs->len - 1).flags = IFA_F_PERMANENT;
}

static VmnetHostRoute *hroute(VmnetHost *h, const char *dst, const char *via, int oif,
                              guint8 proto)
{
        VmnetPrefix p;
        VmnetAddr gw = { 0 };
        VmnetHostRoute *r;

        ck_assert(vmnet_prefix_parse(dst, &p, NULL));
        if (via)
                gw = A(via);
        r = vmnet_host_add_route(h, &p, via ? &gw : NULL, oif);
        r->protocol = proto;
        return r;
}

static VmnetHostLink *hlink(VmnetHost *h, int idx, const char *name, const char *kind,
                            const char *alias, guint mtu)
{
        VmnetHostLink *l = vmnet_host_add_link(h, idx, name, kind);

        l->alias = g_strdup(alias);
        l->mtu = mtu;
        l->up = TRUE;
        l->has_mac = TRUE;
        l->mac = (VmnetMac){ { 0x52, 0x54, 0x00, 0x00, 0x00, (guint8)idx } };
        return l;
}

static VmnetHostLink *hbridge(VmnetHost *h, int idx, const char *name, const char *alias,
                              guint mtu, int stp, int fd)
{
        VmnetHostLink *l = hlink(h, idx, name, "bridge", alias, mtu);

        l->stp_state = stp;
        l->forward_delay = fd;
        l->vlan_filtering = 0;
        return l;
}

static VmnetHostLink *hvlan(VmnetHost *h, int idx, const char *name, const char *alias,
                            int parent, guint vid, guint mtu)
{
        VmnetHostLink *l = hlink(h, idx, name, "vlan", alias, mtu);

        l->link = parent;
        l->vlan_id = vid;
        l->vlan_protocol = 0x8100;
        return l;
}

/* lo and an unconfigured NIC eno1, nothing forwarding. */
static VmnetHost *host_base(void)
{
        VmnetHost *h = vmnet_host_new();
        VmnetHostLink *lo = hlink(h, 1, "lo", NULL, NULL, 65536);

        lo->has_mac = FALSE;
        haddr(lo, "127.0.0.1/8", RT_SCOPE_HOST);
        haddr(hlink(h, 2, "eno1", NULL, NULL, 1500), "fe80::5054:ff:fe00:2/64", RT_SCOPE_LINK);
        vmnet_host_set_sysctl(h, "net.ipv4.ip_forward", "0");
        vmnet_host_set_sysctl(h, "net.ipv6.conf.all.forwarding", "0");
        return h;
}

/* host_base() after plan_std() was applied. */
static VmnetHost *host_applied(void)
{
        VmnetHost *h = host_base();
        VmnetHostLink *l;

        vmnet_host_find_link(h, "eno1")->mtu = 9000;
        l = hbridge(h, 10, "vm-lab", "vmnet:hv1", 1500, 0, 0);
        haddr(l, "192.168.50.1/24", RT_SCOPE_UNIVERSE);
        haddr(l, "fe80::5054:ff:fe00:a/64", RT_SCOPE_LINK);
        hbridge(h, 11, "vm-lan", "vmnet:hv1", 9000, 0, 15);
        l = hbridge(h, 12, "vm-pub", "vmnet:hv1", 1500, 0, 15);
        haddr(l, "10.10.0.1/24", RT_SCOPE_UNIVERSE);
        haddr(l, "fd00:10::1/64", RT_SCOPE_UNIVERSE);
        hbridge(h, 13, "vm-iso", "vmnet:hv1", 1500, 0, 15);
        l = hvlan(h, 14, "eno1.100", "vmnet:hv1", 2, 100, 9000);
        l->master = 11;
        hroute(h, "10.10.0.0/24", NULL, 12, RTPROT_KERNEL);
        hroute(h, "192.168.50.0/24", NULL, 10, RTPROT_KERNEL);
        hroute(h, "10.20.0.0/16", "10.10.0.254", 12, RTPROT_STATIC);
        hroute(h, "fd00:10::/64", NULL, 12, RTPROT_KERNEL);
        vmnet_host_set_sysctl(h, "net.ipv4.ip_forward", "1");
        vmnet_host_set_sysctl(h, "net.ipv6.conf.all.forwarding", "1");
        return h;
}

/* What applying plan_std() to host_base() recorded. */
static VmnetForeignState *recorded_std(void)
{
        VmnetForeignState *st = vmnet_foreign_state_new();

        vmnet_foreign_state_set(st, "eno1", "mtu", "1500");
        vmnet_foreign_state_set(st, "net.ipv4.ip_forward", "sysctl", "0");
        vmnet_foreign_state_set(st, "net.ipv6.conf.all.forwarding", "sysctl", "0");
        return st;
}

/* A host whose only uplink eno1 carries its address and the default route. */
static VmnetHost *host_uplink_configured(void)
{
        VmnetHost *h = host_base();
        VmnetHostLink *eno1 = vmnet_host_find_link(h, "eno1");

        haddr(eno1, "192.168.1.10/24", RT_SCOPE_UNIVERSE);
        haddr(eno1, "2001:db8:1::10/64", RT_SCOPE_UNIVERSE);
        hroute(h, "192.168.1.0/24", NULL, 2, RTPROT_KERNEL);
        hroute(h, "0.0.0.0/0", "192.168.1.1", 2, 16 /* dhcp */)->priority = 100;
        return h;
}

static VmnetPlan *plan_bridged_untagged(gboolean migrate)
{
        VmnetPlan *plan = plan_new();
        VmnetNetwork *n = net_add(plan, "lan", VMNET_MODE_BRIDGED, 3);

        uplink_set(n, "eno1", 0, migrate);
        return plan;
}

/* --- the cases ---------------------------------------------------------------------- */

typedef struct {
        VmnetPlan *plan;          /* NULL: destroy */
        VmnetHost *host;
        VmnetForeignState *recorded;
} Input;

static void case_empty_host(Input *in)
{
        in->plan = plan_std();
        in->host = host_base();
}

static void case_reapply_noop(Input *in)
{
        in->plan = plan_std();
        in->host = host_applied();
        in->recorded = recorded_std();
}

static void case_mtu_change(Input *in)
{
        in->plan = plan_std();
        ((VmnetNetwork *)g_ptr_array_index(in->plan->networks, 0))->mtu = 9000;
        ((VmnetNetwork *)g_ptr_array_index(in->plan->networks, 1))->mtu = 9216;
        in->host = host_applied();
        in->recorded = recorded_std();
}

/* Network iso removed from the plan; a VM's tap is still on its bridge. */
static void case_network_removed(Input *in)
{
        VmnetHostLink *tap;

        in->plan = plan_std();
        g_ptr_array_remove_index(in->plan->networks, 3);
        in->host = host_applied();
        tap = hlink(in->host, 20, "vnet0", "tun", NULL, 1500);
        tap->master = 13;
        /* And a VLAN link of an earlier version of the plan. */
        hvlan(in->host, 21, "eno1.200", "vmnet:hv1", 2, 200, 1500);
        in->recorded = recorded_std();
}

/* The uplink keeps its name but moves to VLAN 200: the kernel cannot change a VLAN id. */
static void case_vlan_id_change(Input *in)
{
        VmnetNetwork *lan;
        VmnetHostLink *v;

        in->plan = plan_std();
        lan = g_ptr_array_index(in->plan->networks, 1);
        lan->uplink->vlan = 200;
        lan->uplink->ifname = g_strdup("lan0");
        in->host = host_applied();
        /* The observed vlan as an earlier apply created it for name="lan0", id 100. */
        v = vmnet_host_find_link(in->host, "eno1.100");
        g_hash_table_remove(in->host->by_name, v->name);
        g_free(v->name);
        v->name = g_strdup("lan0");
        g_hash_table_insert(in->host->by_name, v->name, v);
        in->recorded = recorded_std();
}

static void case_conflict_bridge(Input *in)
{
        in->plan = plan_std();
        in->host = host_base();
        hbridge(in->host, 30, "vm-lab", NULL, 1500, 1, 15);
}

static void case_conflict_other_plan(Input *in)
{
        in->plan = plan_std();
        in->host = host_base();
        hbridge(in->host, 30, "vm-lab", "vmnet:other", 1500, 0, 0);
}

static void case_conflict_vlan(Input *in)
{
        in->plan = plan_std();
        in->host = host_base();
        hvlan(in->host, 30, "eno1.100", NULL, 2, 100, 1500);
}

static void case_adopt(Input *in)
{
        VmnetHostLink *br;

        in->plan = plan_std();
        ((VmnetNetwork *)g_ptr_array_index(in->plan->networks, 0))->adopt = TRUE;
        in->host = host_base();
        br = hbridge(in->host, 30, "vm-lab", NULL, 1500, 1, 15);
        haddr(br, "192.168.50.1/24", RT_SCOPE_UNIVERSE);
        haddr(br, "172.16.0.1/16", RT_SCOPE_UNIVERSE);
}

/*
 * Destroy of a plan that adopted vm-lab: vmnet had set its alias, MTU, STP
 * and forward delay, brought it up, and added an address and a route, all
 * recorded. The bridge goes back as it was, without what vmnet added; its
 * owner's own address and route stay.
 */
static void case_adopt_give_back(Input *in)
{
        VmnetHostLink *br;

        in->host = host_base();
        br = hbridge(in->host, 30, "vm-lab", "vmnet:hv1", 9000, 1, 2);
        haddr(br, "172.16.0.1/16", RT_SCOPE_UNIVERSE);
        haddr(br, "192.168.50.1/24", RT_SCOPE_UNIVERSE);
        hroute(in->host, "10.30.0.0/16", "192.168.50.254", 30, RTPROT_STATIC);
        hroute(in->host, "10.40.0.0/16", "172.16.0.254", 30, RTPROT_STATIC);
        in->recorded = vmnet_foreign_state_new();
        vmnet_foreign_state_set(in->recorded, "vm-lab", "alias", NULL);
        vmnet_foreign_state_set(in->recorded, "vm-lab", "mtu", "1500");
        vmnet_foreign_state_set(in->recorded, "vm-lab", "stp", "0");
        vmnet_foreign_state_set(in->recorded, "vm-lab", "forward-delay", "15");
        vmnet_foreign_state_set(in->recorded, "vm-lab", "up", "0");
        vmnet_foreign_state_set(in->recorded, "vm-lab", "address 192.168.50.1/24", "added");
        vmnet_foreign_state_set(in->recorded, "vm-lab", "route 10.30.0.0/16", "added");
}

/* Still adopted, but the plan's gateway moved: the address vmnet added goes, its owner's stays. */
static void case_adopt_gateway_moved(Input *in)
{
        VmnetHostLink *br;

        in->plan = plan_std();
        ((VmnetNetwork *)g_ptr_array_index(in->plan->networks, 0))->adopt = TRUE;
        in->host = host_base();
        br = hbridge(in->host, 30, "vm-lab", "vmnet:hv1", 1500, 0, 0);
        haddr(br, "172.16.0.1/16", RT_SCOPE_UNIVERSE);
        haddr(br, "192.168.60.1/24", RT_SCOPE_UNIVERSE);
        in->recorded = vmnet_foreign_state_new();
        vmnet_foreign_state_set(in->recorded, "vm-lab", "alias", NULL);
        vmnet_foreign_state_set(in->recorded, "vm-lab", "address 192.168.60.1/24", "added");
}

/* A run killed between creating vm-lab and marking it: the next run finishes the job. */
static VmnetForeignState *recorded_interrupted(const char *link)
{
        VmnetForeignState *st = vmnet_foreign_state_new();

        st->interrupted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_add(st->interrupted, g_strdup(link));
        return st;
}

static void case_interrupted(Input *in)
{
        in->plan = plan_std();
        in->host = host_base();
        hbridge(in->host, 30, "vm-lab", NULL, 1500, 0, 0);
        in->recorded = recorded_interrupted("vm-lab");
}

/* Someone marked it since: not vmnet's. */
static void case_interrupted_taken(Input *in)
{
        case_interrupted(in);
        vmnet_host_find_link(in->host, "vm-lab")->alias = g_strdup("theirs");
}

static void case_interrupted_destroy(Input *in)
{
        in->host = host_base();
        hbridge(in->host, 30, "vm-lab", NULL, 1500, 0, 0);
        in->recorded = recorded_interrupted("vm-lab");
}

static void case_adopt_not_bridge(Input *in)
{
        in->plan = plan_std();
        ((VmnetNetwork *)g_ptr_array_index(in->plan->networks, 0))->adopt = TRUE;
        in->host = host_base();
        hlink(in->host, 30, "vm-lab", "veth", NULL, 1500);
}

static void case_uplink_missing(Input *in)
{
        VmnetHostLink *eno1;

        in->plan = plan_std();
        in->host = host_base();
        eno1 = vmnet_host_find_link(in->host, "eno1");
        g_hash_table_remove(in->host->by_name, "eno1");
        g_hash_table_remove(in->host->by_index, GINT_TO_POINTER(eno1->ifindex));
        g_ptr_array_remove(in->host->links, eno1);
}

static void case_uplink_addresses_refused(Input *in)
{
        in->plan = plan_bridged_untagged(FALSE);
        in->host = host_uplink_configured();
}

static void case_uplink_migrate(Input *in)
{
        in->plan = plan_bridged_untagged(TRUE);
        in->host = host_uplink_configured();
}

static void case_uplink_foreign_master(Input *in)
{
        in->plan = plan_bridged_untagged(FALSE);
        in->host = host_base();
        hbridge(in->host, 30, "br0", NULL, 1500, 0, 15);
        vmnet_host_find_link(in->host, "eno1")->master = 30;
}

/* Two networks on one VLAN-aware bridge; the trunk carries a VID nobody wants any more. */
static void case_vlan_aware(Input *in)
{
        VmnetNetwork *a, *b;

        in->plan = plan_new();
        a = net_add(in->plan, "dmz", VMNET_MODE_BRIDGED, 3);
        a->bridge = g_strdup("br-trunk");
        a->vlan_aware = TRUE;
        uplink_set(a, "eno1", 10, FALSE);
        b = net_add(in->plan, "srv", VMNET_MODE_BRIDGED, 6);
        b->bridge = g_strdup("br-trunk");
        b->vlan_aware = TRUE;
        b->mtu = 9000;
        uplink_set(b, "eno1", 20, FALSE);
        in->host = host_base();
}

/*
 * case_vlan_aware() with a trunk port group on dmz (trunk 20,30,99, native
 * 40): the uplink carries every VLAN of it too, 20 once although srv has it.
 */
static void case_vlan_aware_trunk(Input *in)
{
        VmnetPortgroup *pg = vmnet_portgroup_new();
        g_autofree char *why = NULL;

        case_vlan_aware(in);
        pg->name = g_strdup("router");
        pg->has_trunk = TRUE;
        ck_assert(vmnet_vlan_list_parse("20,30,99", &pg->trunk, &why));
        pg->trunk.untagged = 40;
        g_ptr_array_add(vmnet_plan_find_network(in->plan, "dmz")->portgroups, pg);
}

static void hvlans(VmnetHostLink *l, const VmnetHostBridgeVlan *v, guint n)
{
        l->bridge_vlans = g_array_new(FALSE, FALSE, sizeof(VmnetHostBridgeVlan));
        g_array_append_vals(l->bridge_vlans, v, n);
}

static const VmnetHostBridgeVlan native[] = {
        { 1, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED },
};

/*
 * case_vlan_aware() applied by an earlier vmnet, default_pvid the bridge's
 * (the kernel's default 1 when made by a vmnet from before 0 was set).
 */
static void vlan_aware_applied(Input *in, int default_pvid)
{
        VmnetHostLink *br, *eno1;
        VmnetHostBridgeVlan v[] = { { 1, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED },
                                    { 10, 0 }, { 20, 0 }, { 30, 0 } };

        case_vlan_aware(in);
        br = hbridge(in->host, 30, "br-trunk", "vmnet:hv1", 9000, 0, 15);
        br->vlan_filtering = 1;
        br->vlan_default_pvid = default_pvid;
        hvlans(br, native, G_N_ELEMENTS(native));
        eno1 = vmnet_host_find_link(in->host, "eno1");
        eno1->master = 30;
        eno1->mtu = 9000;
        hvlans(eno1, v, G_N_ELEMENTS(v));
        in->recorded = vmnet_foreign_state_new();
        vmnet_foreign_state_set(in->recorded, "eno1", "master", NULL);
        vmnet_foreign_state_set(in->recorded, "eno1", "mtu", "1500");
}

/* Only the VID nobody wants goes; VLAN 1 on the trunk and the bridge is the native VLAN. */
static void case_vlan_aware_reapply(Input *in)
{
        vlan_aware_applied(in, 0);
}

/*
 * A bridge made by an older vmnet gives each new port VLAN 1: its default
 * PVID becomes 0, which takes VLAN 1 from the trunk and the bridge, and
 * VLAN 1 is put back on both right after. A guest port that is in VLAN 1
 * by default (vnet0) loses it and stays in no VLAN.
 */
static void case_vlan_aware_converge(Input *in)
{
        VmnetHostLink *tap;

        vlan_aware_applied(in, 1);
        tap = hlink(in->host, 40, "vnet0", "tun", NULL, 9000);
        tap->master = 30;
        hvlans(tap, native, G_N_ELEMENTS(native));
}

/* A network on VLAN 1 of a VLAN-aware bridge is the native VLAN: untagged on the trunk. */
static void case_vlan_aware_native(Input *in)
{
        case_vlan_aware(in);
        ((VmnetNetwork *)g_ptr_array_index(in->plan->networks, 0))->uplink->vlan = 1;
}

/* The VLAN-aware bridge exists, someone else's, without VLAN filtering: taken over. */
static void case_vlan_aware_adopt(Input *in)
{
        VmnetHostLink *br;

        case_vlan_aware(in);
        ((VmnetNetwork *)g_ptr_array_index(in->plan->networks, 0))->adopt = TRUE;
        br = hbridge(in->host, 30, "br-trunk", NULL, 1500, 0, 15);
        br->vlan_default_pvid = 1;
        hvlans(br, native, G_N_ELEMENTS(native));
}

/*
 * Destroy after case_vlan_aware_adopt(): the trunk is released, and the
 * bridge gets its default PVID and VLAN filtering back; the kernel puts
 * VLAN 1 back on its remaining ports.
 */
static void case_vlan_aware_give_back(Input *in)
{
        VmnetHostLink *br, *eno1;
        VmnetHostBridgeVlan v[] = { { 1, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED },
                                    { 10, 0 }, { 20, 0 } };

        in->host = host_base();
        br = hbridge(in->host, 30, "br-trunk", "vmnet:hv1", 9000, 0, 15);
        br->vlan_filtering = 1;
        br->vlan_default_pvid = 0;
        hvlans(br, native, G_N_ELEMENTS(native));
        eno1 = vmnet_host_find_link(in->host, "eno1");
        eno1->master = 30;
        eno1->mtu = 9000;
        hvlans(eno1, v, G_N_ELEMENTS(v));
        in->recorded = vmnet_foreign_state_new();
        vmnet_foreign_state_set(in->recorded, "br-trunk", "alias", NULL);
        vmnet_foreign_state_set(in->recorded, "br-trunk", "mtu", "1500");
        vmnet_foreign_state_set(in->recorded, "br-trunk", "vlan-filtering", "0");
        vmnet_foreign_state_set(in->recorded, "br-trunk", "default-pvid", "1");
        vmnet_foreign_state_set(in->recorded, "eno1", "master", NULL);
        vmnet_foreign_state_set(in->recorded, "eno1", "mtu", "1500");
}

static void case_destroy(Input *in)
{
        in->host = host_applied();
        in->recorded = recorded_std();
        /* Someone else's bridge is never touched. */
        hbridge(in->host, 40, "virbr0", NULL, 1500, 1, 2);
}

/* Destroy after uplink eno1 was enslaved with its addresses migrated. */
static void case_destroy_migrated(Input *in)
{
        VmnetHostLink *br, *eno1;

        in->host = host_base();
        eno1 = vmnet_host_find_link(in->host, "eno1");
        br = hbridge(in->host, 10, "vm-lan", "vmnet:hv1", 1500, 0, 15);
        br->mac = eno1->mac;
        eno1->master = 10;
        haddr(br, "192.168.1.10/24", RT_SCOPE_UNIVERSE);
        hroute(in->host, "192.168.1.0/24", NULL, 10, RTPROT_KERNEL);
        hroute(in->host, "0.0.0.0/0", "192.168.1.1", 10, 16)->priority = 100;
        in->recorded = vmnet_foreign_state_new();
        vmnet_foreign_state_set(in->recorded, "eno1", "master", NULL);
        vmnet_foreign_state_set(in->recorded, "eno1", "migrated", "vm-lan");
}

/* The recorded state says eno1 was enslaved, but the plan dropped its network. */
static void case_uplink_dropped(Input *in)
{
        case_destroy_migrated(in);
        in->plan = plan_new();
        net_add(in->plan, "other", VMNET_MODE_ISOLATED, 3);
}

typedef struct {
        const char *name;
        void (*build)(Input *in);
} Case;

static const Case cases[] = {
        { "empty-host", case_empty_host },
        { "reapply-noop", case_reapply_noop },
        { "mtu-change", case_mtu_change },
        { "network-removed", case_network_removed },
        { "vlan-id-change", case_vlan_id_change },
        { "conflict-bridge", case_conflict_bridge },
        { "conflict-other-plan", case_conflict_other_plan },
        { "conflict-vlan", case_conflict_vlan },
        { "adopt", case_adopt },
        { "adopt-not-bridge", case_adopt_not_bridge },
        { "adopt-give-back", case_adopt_give_back },
        { "interrupted", case_interrupted },
        { "interrupted-taken", case_interrupted_taken },
        { "interrupted-destroy", case_interrupted_destroy },
        { "adopt-gateway-moved", case_adopt_gateway_moved },
        { "uplink-missing", case_uplink_missing },
        { "uplink-addresses-refused", case_uplink_addresses_refused },
        { "uplink-migrate", case_uplink_migrate },
        { "uplink-foreign-master", case_uplink_foreign_master },
        { "vlan-aware", case_vlan_aware },
        { "vlan-aware-trunk", case_vlan_aware_trunk },
        { "vlan-aware-reapply", case_vlan_aware_reapply },
        { "vlan-aware-converge", case_vlan_aware_converge },
        { "vlan-aware-native", case_vlan_aware_native },
        { "vlan-aware-adopt", case_vlan_aware_adopt },
        { "vlan-aware-give-back", case_vlan_aware_give_back },
        { "destroy", case_destroy },
        { "destroy-migrated", case_destroy_migrated },
        { "uplink-dropped", case_uplink_dropped },
};

static const char *code_name(int code)
{
        switch (code) {
        case VMNET_ERROR_CONFLICT:
                return "conflict";
        case VMNET_ERROR_NOT_FOUND:
                return "not-found";
        case VMNET_ERROR_INVALID:
                return "invalid";
        default:
                return "other";
        }
}

/* Each action, its impact-tagged description, and the description of its inverse. */
static char *format(const GPtrArray *actions, const VmnetDiags *warnings)
{
        GString *out = g_string_new(NULL);

        for (guint i = 0; i < actions->len; i++) {
                const VmnetAction *a = g_ptr_array_index(actions, i);
                g_autofree char *d = vmnet_action_describe(a);
                g_autoptr(VmnetAction) inv = a->type->invert(a);
                g_autofree char *u = inv ? vmnet_action_describe(inv) : g_strdup("nothing");

                g_string_append_printf(out, "%s: %s\n  undo: %s\n", a->type->name, d, u);
        }
        for (guint i = 0; warnings && i < warnings->items->len; i++) {
                g_autofree char *w = vmnet_diag_format(g_ptr_array_index(warnings->items, i));

                g_string_append_printf(out, "warning: %s\n", w);
        }
        return g_string_free(out, FALSE);
}

START_TEST(test_case)
{
        const Case *c = &cases[_i];
        Input in = { 0 };
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        g_autoptr(VmnetDiags) warnings = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *golden = g_strdup_printf("actions/%s.txt", c->name);
        g_autofree char *text = NULL;
        gboolean ok;

        c->build(&in);
        if (in.plan)
                vmnet_plan_finalize(in.plan);
        vmnet_host_resolve(in.host);
        ok = in.plan ? vmnet_diff_links(in.plan, in.host, in.recorded, actions, warnings, &error) :
                       vmnet_diff_links_destroy("hv1", in.host, in.recorded, actions, warnings,
                                                &error);
        if (ok) {
                text = format(actions, warnings);
        } else {
                ck_assert_uint_eq(actions->len, 0);
                text = g_strdup_printf("error (%s): %s\n", code_name(error->code), error->message);
        }
        vmnet_test_golden(golden, text);
        if (g_str_equal(c->name, "reapply-noop"))
                ck_assert_msg(actions->len == 0, "re-apply is not a no-op:\n%s", text);
        vmnet_plan_free(in.plan);
        vmnet_host_free(in.host);
        vmnet_foreign_state_free(in.recorded);
}
END_TEST

/* --- the foreign state ---------------------------------------------------------------- */

START_TEST(test_foreign_record_and_keyfile)
{
        g_autoptr(VmnetForeignState) st = vmnet_foreign_state_new();
        g_autoptr(VmnetForeignState) back = NULL;
        g_autoptr(GPtrArray) run1 = vmnet_action_list_new();
        g_autoptr(GPtrArray) run2 = vmnet_action_list_new();
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        VmnetLinkValue none = { 0 }, br = { .str = "vm-lan" };
        VmnetLinkValue m1500 = { .num = 1500 }, m9000 = { .num = 9000 }, m9216 = { .num = 9216 };
        const VmnetForeignChange *c;

        g_ptr_array_add(run1, vmnet_action_link_set("eno1", VMNET_LINK_ATTR_MASTER, &br, &none,
                                                    TRUE, VMNET_IMPACT_DISRUPTIVE));
        g_ptr_array_add(run1, vmnet_action_link_set("eno1", VMNET_LINK_ATTR_MTU, &m9000, &m1500,
                                                    TRUE, VMNET_IMPACT_DISRUPTIVE));
        /* vmnet's own links are not foreign: nothing recorded. */
        g_ptr_array_add(run1, vmnet_action_link_set("vm-lan", VMNET_LINK_ATTR_MTU, &m9000, &m1500,
                                                    FALSE, VMNET_IMPACT_SAFE));
        g_ptr_array_add(run1, vmnet_action_sysctl("net.ipv4.ip_forward", "1", "0",
                                                  VMNET_IMPACT_SAFE));
        vmnet_foreign_state_record(st, run1);
        ck_assert_uint_eq(st->changes->len, 3);
        c = vmnet_foreign_state_find(st, "eno1", "master");
        ck_assert_ptr_nonnull(c);
        ck_assert_ptr_null(c->value);
        ck_assert_str_eq(vmnet_foreign_state_find(st, "eno1", "mtu")->value, "1500");

        /* A later change keeps the first original; going back to it forgets the record. */
        g_ptr_array_add(run2, vmnet_action_link_set("eno1", VMNET_LINK_ATTR_MTU, &m9216, &m9000,
                                                    TRUE, VMNET_IMPACT_DISRUPTIVE));
        g_ptr_array_add(run2, vmnet_action_sysctl("net.ipv4.ip_forward", "0", "1",
                                                  VMNET_IMPACT_SAFE));
        vmnet_foreign_state_record(st, run2);
        ck_assert_str_eq(vmnet_foreign_state_find(st, "eno1", "mtu")->value, "1500");
        ck_assert_ptr_null(vmnet_foreign_state_find(st, "net.ipv4.ip_forward", "sysctl"));

        /* Persistence leaves other groups alone and survives a save/load. */
        g_key_file_set_string(kf, "vmnet", "plan", "hv1");
        vmnet_foreign_state_to_keyfile(st, kf);
        vmnet_foreign_state_to_keyfile(st, kf);
        {
                g_autofree char *data = g_key_file_to_data(kf, NULL, NULL);
                g_autoptr(GKeyFile) kf2 = g_key_file_new();

                ck_assert(g_key_file_load_from_data(kf2, data, -1, G_KEY_FILE_NONE, NULL));
                back = vmnet_foreign_state_from_keyfile(kf2, &error);
                ck_assert_msg(back != NULL, "%s", error ? error->message : "");
                g_autofree char *plan = g_key_file_get_string(kf2, "vmnet", "plan", NULL);

                ck_assert_str_eq(plan, "hv1");
        }
        ck_assert_uint_eq(back->changes->len, 2);
        ck_assert_ptr_null(vmnet_foreign_state_find(back, "eno1", "master")->value);
        ck_assert_str_eq(vmnet_foreign_state_find(back, "eno1", "mtu")->value, "1500");
}
END_TEST

/* An adopted bridge: each attribute vmnet changes, and what it adds, is recorded; removing it forgets it. */
START_TEST(test_foreign_record_adopted)
{
        g_autoptr(VmnetForeignState) st = vmnet_foreign_state_new();
        g_autoptr(GPtrArray) run1 = vmnet_action_list_new();
        g_autoptr(GPtrArray) run2 = vmnet_action_list_new();
        VmnetLinkValue none = { 0 }, mine = { .str = "vmnet:hv1" };
        VmnetLinkValue off = { .num = 0 }, on = { .num = 1 }, fd15 = { .num = 15 }, fd2 = { .num = 2 };
        VmnetAddr gw = A("192.168.50.1"), other = A("10.0.0.1");
        VmnetRouteSpec rs = { .has_gateway = TRUE, .gateway = A("192.168.50.254"), .oif = "vm-lab" };

        ck_assert(vmnet_prefix_parse("10.30.0.0/16", &rs.dst, NULL));
        g_ptr_array_add(run1, vmnet_action_link_set("vm-lab", VMNET_LINK_ATTR_ALIAS, &mine, &none,
                                                    TRUE, VMNET_IMPACT_SAFE));
        g_ptr_array_add(run1, vmnet_action_link_set("vm-lab", VMNET_LINK_ATTR_FORWARD_DELAY, &fd2,
                                                    &fd15, TRUE, VMNET_IMPACT_SAFE));
        g_ptr_array_add(run1, vmnet_action_link_set("vm-lab", VMNET_LINK_ATTR_STP, &on, &off,
                                                    TRUE, VMNET_IMPACT_SAFE));
        g_ptr_array_add(run1, vmnet_action_link_set("vm-lab", VMNET_LINK_ATTR_UP, &on, &off, TRUE,
                                                    VMNET_IMPACT_SAFE));
        g_ptr_array_add(run1, vmnet_action_link_set("vm-lab", VMNET_LINK_ATTR_DEFAULT_PVID, &off,
                                                    &on, TRUE, VMNET_IMPACT_SAFE));
        g_ptr_array_add(run1, vmnet_action_addr("vm-lab", &gw, 24, TRUE, VMNET_IMPACT_SAFE));
        g_ptr_array_add(run1, vmnet_action_route(&rs, TRUE, VMNET_IMPACT_SAFE));
        /* Not adopted (no alias record): an address vmnet adds to its own bridge is not recorded. */
        g_ptr_array_add(run1, vmnet_action_addr("vm-pub", &other, 24, TRUE, VMNET_IMPACT_SAFE));
        vmnet_foreign_state_record(st, run1);
        ck_assert_uint_eq(st->changes->len, 7);
        ck_assert_str_eq(vmnet_foreign_state_find(st, "vm-lab", "default-pvid")->value, "1");
        ck_assert_str_eq(vmnet_foreign_state_find(st, "vm-lab", "forward-delay")->value, "15");
        ck_assert_str_eq(vmnet_foreign_state_find(st, "vm-lab", "stp")->value, "0");
        ck_assert_str_eq(vmnet_foreign_state_find(st, "vm-lab", "up")->value, "0");
        ck_assert_str_eq(vmnet_foreign_state_find(st, "vm-lab", "address 192.168.50.1/24")->value,
                         "added");
        ck_assert_str_eq(vmnet_foreign_state_find(st, "vm-lab", "route 10.30.0.0/16")->value,
                         "added");

        /* Removing what it added, and going back, forgets each record. */
        g_ptr_array_add(run2, vmnet_action_route(&rs, FALSE, VMNET_IMPACT_SAFE));
        g_ptr_array_add(run2, vmnet_action_addr("vm-lab", &gw, 24, FALSE, VMNET_IMPACT_SAFE));
        g_ptr_array_add(run2, vmnet_action_link_set("vm-lab", VMNET_LINK_ATTR_STP, &off, &on,
                                                    TRUE, VMNET_IMPACT_SAFE));
        vmnet_foreign_state_record(st, run2);
        ck_assert_uint_eq(st->changes->len, 4);
        ck_assert_ptr_null(vmnet_foreign_state_find(st, "vm-lab", "stp"));
        ck_assert_ptr_null(vmnet_foreign_state_find(st, "vm-lab", "address 192.168.50.1/24"));
        ck_assert_ptr_null(vmnet_foreign_state_find(st, "vm-lab", "route 10.30.0.0/16"));
}
END_TEST

/* --- round trips in a network namespace -------------------------------------------------- */

/*
 * Everything the plan below touches, by name (ifindexes change when a link is
 * re-created). Left out: carrier (a bridge without ports keeps the carrier
 * it was born with until the kernel first runs its port state selection,
 * which setting the STP state does) and the link-local addresses IPv6
 * generates when carrier comes: operational state, not configuration.
 */
static char *snapshot(void)
{
        return vmnet_nstest_sh(
                "ip -d -j link show | jq -S -c 'sort_by(.ifname) | .[] | {ifname, mtu, master, "
                "address, ifalias, flags: (.flags - [\"LOWER_UP\", \"NO-CARRIER\"] | sort), "
                "kind: .linkinfo.info_kind, stp: .linkinfo.info_data.stp_state, "
                "fd: .linkinfo.info_data.forward_delay}' && "
                "ip -j addr show | jq -S -c 'sort_by(.ifname) | .[] | {ifname, a: "
                "([.addr_info[] | select(.scope != \"link\") | "
                "\"\\(.local)/\\(.prefixlen) \\(.scope)\"] | sort)}' && "
                "ip -4 -j route show table main | jq -S -c 'sort_by(.dst) | .[] | "
                "{dst, gateway, dev, protocol, metric}' && "
                "ip -6 -j route show table main | jq -S -c '[.[] | select(.dst != \"fe80::/64\")] "
                "| sort_by(.dst, .dev) | .[] | {dst, gateway, dev, protocol, metric}' && "
                "cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding");
}

/* Fails with a unified diff on stderr: Check cannot carry long messages. */
static void assert_same(const char *what, const char *expected, const char *actual)
{
        g_autofree char *dir = NULL, *a = NULL, *b = NULL, *cmd = NULL, *out = NULL;

        if (g_str_equal(expected, actual))
                return;
        dir = g_dir_make_tmp("vmnet-snap-XXXXXX", NULL);
        a = g_build_filename(dir, "expected", NULL);
        b = g_build_filename(dir, "actual", NULL);
        g_file_set_contents(a, expected, -1, NULL);
        g_file_set_contents(b, actual, -1, NULL);
        cmd = g_strdup_printf("diff -u %s %s", a, b);
        g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL);
        fprintf(stderr, "%s differs:\n%s\n", what, out ? out : "");
        g_unlink(a);
        g_unlink(b);
        g_rmdir(dir);
        ck_abort_msg("%s differs (diff on stderr)", what);
}

/* A veth pair stands in for the uplink: up0 has the host's addresses and default routes. */
static void make_uplink(void)
{
        g_free(vmnet_nstest_sh("ip link add up0 type veth peer name up0p && "
                               "ip link set up0 up && ip link set up0p up && "
                               "ip addr add 10.99.0.2/24 dev up0 && "
                               "ip -6 addr add 2001:db8:99::2/64 dev up0 nodad && "
                               "ip route add default via 10.99.0.1 dev up0 && "
                               "ip -6 route add default via 2001:db8:99::1 dev up0"));
}

static VmnetPlan *plan_ns(void)
{
        VmnetPlan *plan = plan_new();
        VmnetNetwork *n;

        n = net_add(plan, "lab", VMNET_MODE_NAT, 3);
        n->mtu = 1400;
        n->stp = 0;
        n->forward_delay = 0;
        subnet_add(n, "192.168.77.0/24", "192.168.77.1");
        subnet_add(n, "fd00:77::/64", "fd00:77::1");
        n = net_add(plan, "rt", VMNET_MODE_ROUTED, 8);
        subnet_add(n, "10.77.0.0/24", "10.77.0.1");
        route_add(n, "10.78.0.0/16", "10.77.0.254");
        n = net_add(plan, "lan", VMNET_MODE_BRIDGED, 12);
        n->mtu = 1500;
        uplink_set(n, "up0", 0, TRUE);
        n = net_add(plan, "iso", VMNET_MODE_ISOLATED, 16);
        n->stp = 1;
        n->forward_delay = 4;
        vmnet_plan_finalize(plan);
        return plan;
}

static GPtrArray *diff(const VmnetPlan *plan, const VmnetForeignState *rec, gboolean destroy)
{
        g_autoptr(VmnetHost) host = NULL;
        g_autoptr(GError) error = NULL;
        GPtrArray *actions = vmnet_action_list_new();

        ck_assert_msg(vmnet_observe_host(&host, &error), "%s", error ? error->message : "");
        if (destroy)
                ck_assert_msg(vmnet_diff_links_destroy("hv1", host, rec, actions, NULL, &error),
                              "%s", error ? error->message : "");
        else
                ck_assert_msg(vmnet_diff_links(plan, host, rec, actions, NULL, &error), "%s",
                              error ? error->message : "");
        return actions;
}

static void execute(VmnetApplyCtx *ctx, const VmnetAction *a)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *d = vmnet_action_describe(a);

        ck_assert_msg(a->type->execute(a, ctx, &error), "executing \"%s\": %s", d,
                      error ? error->message : "(no error)");
}

static void apply(VmnetApplyCtx *ctx, const GPtrArray *actions)
{
        for (guint i = 0; i < actions->len; i++)
                execute(ctx, g_ptr_array_index(actions, i));
}

static void undo(VmnetApplyCtx *ctx, const GPtrArray *actions)
{
        for (guint i = actions->len; i-- > 0;) {
                const VmnetAction *a = g_ptr_array_index(actions, i);
                g_autoptr(VmnetAction) inv = a->type->invert(a);

                if (inv)
                        execute(ctx, inv);
        }
}

static void assert_no_drift(const VmnetPlan *plan, const VmnetForeignState *rec)
{
        g_autoptr(GPtrArray) again = diff(plan, rec, FALSE);
        g_autoptr(VmnetDiags) none = vmnet_diags_new();
        g_autofree char *text = format(again, none);

        ck_assert_msg(again->len == 0, "re-apply is not a no-op:\n%s", text);
}

static void open_ctx(VmnetApplyCtx *ctx, const VmnetPlan *plan)
{
        g_autoptr(GError) error = NULL;

        ctx->plan = plan;
        ck_assert_msg(vmnet_apply_ctx_open(ctx, &error), "%s", error ? error->message : "");
}

START_TEST(test_roundtrip_undo)
{
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(GPtrArray) actions = NULL;
        g_autofree char *before = NULL, *after = NULL, *applied = NULL;
        VmnetApplyCtx ctx = { 0 };

        vmnet_nstest_enter();
        make_uplink();
        plan = plan_ns();
        open_ctx(&ctx, plan);
        before = snapshot();

        actions = diff(plan, NULL, FALSE);
        ck_assert_uint_gt(actions->len, 10);
        apply(&ctx, actions);
        /* Independent look: the uplink's configuration now lives on the bridge. */
        applied = vmnet_nstest_sh("ip -j addr show dev vm-lan | jq -r '[.[0].addr_info[] | "
                                  "select(.scope == \"global\") | .local] | join(\" \")' && "
                                  "ip -j route show default | jq -r '.[0].dev' && "
                                  "ip -j link show up0 | jq -r '.[0].master' && "
                                  "ip -d -j link show vm-iso | jq -r '.[0].linkinfo.info_data | "
                                  "\"\\(.stp_state) \\(.forward_delay)\"' && "
                                  "ip -j link show vm-lab | jq -r '.[0].ifalias' && "
                                  "ip -j route show 10.78.0.0/16 | jq -r '.[0].dev'");
        ck_assert_str_eq(applied,
                         "10.99.0.2 2001:db8:99::2\nvm-lan\nvm-lan\n1 400\nvmnet:hv1\nvm-rt");
        assert_no_drift(plan, NULL);

        undo(&ctx, actions);
        after = snapshot();
        assert_same("the namespace after undo", before, after);
        vmnet_apply_ctx_close(&ctx);
}
END_TEST

START_TEST(test_roundtrip_destroy)
{
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(GPtrArray) actions = NULL;
        g_autoptr(GPtrArray) teardown = NULL;
        g_autoptr(VmnetForeignState) rec = vmnet_foreign_state_new();
        g_autoptr(VmnetForeignState) loaded = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *before = NULL, *after = NULL, *left = NULL;
        VmnetApplyCtx ctx = { 0 };

        vmnet_nstest_enter();
        make_uplink();
        /* Something vmnet must not touch. */
        g_free(vmnet_nstest_sh("ip link add virbr0 type bridge && ip link set virbr0 up"));
        plan = plan_ns();
        open_ctx(&ctx, plan);
        before = snapshot();

        actions = diff(plan, NULL, FALSE);
        apply(&ctx, actions);
        vmnet_foreign_state_record(rec, actions);
        vmnet_foreign_state_to_keyfile(rec, kf);
        loaded = vmnet_foreign_state_from_keyfile(kf, NULL);
        assert_no_drift(plan, loaded);

        teardown = diff(NULL, loaded, TRUE);
        apply(&ctx, teardown);
        left = vmnet_nstest_sh("ip -j link show | jq -r '[.[] | select(.ifalias != null)] | "
                               "length'");
        ck_assert_str_eq(left, "0");
        after = snapshot();
        assert_same("the namespace after destroy", before, after);
        vmnet_apply_ctx_close(&ctx);
}
END_TEST

/* A second plan changes MTUs and STP and drops networks; its undo returns to the first. */
START_TEST(test_roundtrip_change)
{
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(VmnetPlan) plan2 = NULL;
        g_autoptr(GPtrArray) first = NULL;
        g_autoptr(GPtrArray) second = NULL;
        g_autoptr(VmnetForeignState) rec = vmnet_foreign_state_new();
        g_autofree char *applied = NULL, *undone = NULL, *mtus = NULL;
        VmnetNetwork *n;
        VmnetApplyCtx ctx = { 0 };

        vmnet_nstest_enter();
        make_uplink();
        plan = plan_ns();
        open_ctx(&ctx, plan);
        first = diff(plan, NULL, FALSE);
        apply(&ctx, first);
        vmnet_foreign_state_record(rec, first);
        applied = snapshot();

        plan2 = plan_ns();
        n = vmnet_plan_find_network(plan2, "lab");
        n->mtu = 9000;
        n->stp = 1;
        n->forward_delay = 2;
        vmnet_plan_find_network(plan2, "lan")->mtu = 9000;
        g_ptr_array_remove(plan2->networks, vmnet_plan_find_network(plan2, "iso"));
        g_ptr_array_remove(plan2->networks, vmnet_plan_find_network(plan2, "rt"));
        second = diff(plan2, rec, FALSE);
        apply(&ctx, second);
        mtus = vmnet_nstest_sh("ip -j link show | jq -r '[.[] | select(.ifname == \"vm-lab\" or "
                               ".ifname == \"vm-lan\" or .ifname == \"up0\") | "
                               "\"\\(.ifname)=\\(.mtu)\"] | sort | join(\" \")' && "
                               "ip link show vm-iso 2>/dev/null | wc -l");
        ck_assert_str_eq(mtus, "up0=9000 vm-lab=9000 vm-lan=9000\n0");
        vmnet_foreign_state_record(rec, second);
        assert_no_drift(plan2, rec);

        undo(&ctx, second);
        undone = snapshot();
        assert_same("the namespace after undoing the second plan", applied, undone);
        vmnet_apply_ctx_close(&ctx);
}
END_TEST

static Suite *suite(gboolean with_netns)
{
        Suite *s = suite_create("links-diff");
        TCase *tc = tcase_create("golden");
        TCase *ns = tcase_create("netns");

        tcase_add_loop_test(tc, test_case, 0, G_N_ELEMENTS(cases));
        tcase_add_test(tc, test_foreign_record_and_keyfile);
        tcase_add_test(tc, test_foreign_record_adopted);
        suite_add_tcase(s, tc);
        if (!with_netns)
                return s;
        tcase_set_timeout(ns, 60);
        tcase_add_test(ns, test_roundtrip_undo);
        tcase_add_test(ns, test_roundtrip_destroy);
        tcase_add_test(ns, test_roundtrip_change);
        suite_add_tcase(s, ns);
        return s;
}

int main(void)
{
        gboolean with_netns = vmnet_nstest_available();

        /* The golden cases need no kernel; only the round trips are skipped without root. */
        if (!with_netns)
                printf("SKIP: namespace round trips need root and unshare(CLONE_NEWNET)\n");
        return vmnet_nstest_run(suite(with_netns), FALSE);
}
