/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ipam/ipam.h"
#include "observe/topology.h"
#include "util/mutant.h"

/* A DOT string body: the label's lines are joined with "\n", quotes and backslashes escaped. */
static void quoted(GString *out, const char *s)
{
        g_string_append_c(out, '"');
        for (const char *p = s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        g_string_append_c(out, '\\');
                if (*p == '\n')
                        g_string_append(out, "\\n");
                else
                        g_string_append_c(out, *p);
        }
        g_string_append_c(out, '"');
}

/* A link's node id, quoted: "link:NAME". */
static void node_id(GString *out, const char *name)
{
        g_autofree char *id = g_strconcat("link:", name, NULL);

        quoted(out, id);
}

static void node(GString *out, const char *id, const char *label, const char *attrs)
{
        g_string_append(out, "    ");
        node_id(out, id);
        g_string_append(out, " [label=");
        quoted(out, label);
        if (attrs && *attrs)
                g_string_append_printf(out, ", %s", attrs);
        g_string_append(out, "];\n");
}

static void edge(GString *out, const char *from, const char *to, const char *attrs)
{
        g_string_append(out, "  ");
        node_id(out, from);
        g_string_append(out, " -> ");
        node_id(out, to);
        if (attrs && *attrs)
                g_string_append_printf(out, " [%s]", attrs);
        g_string_append(out, ";\n");
}

static const char *mode_colour(VmnetMode m)
{
        switch (m) {
        case VMNET_MODE_NAT:
                return "#dbe9f6";
        case VMNET_MODE_ROUTED:
                return "#dff0d8";
        case VMNET_MODE_BRIDGED:
                return "#f6e3d4";
        case VMNET_MODE_HOST_ONLY:
                return "#fcf8e3";
        default:
                return "#eeeeee";
        }
}

static void link_lines(GString *l, const VmnetHostLink *link)
{
        g_string_append(l, link->name);
        g_string_append_printf(l, "\n%s, mtu %u%s", link->kind ? link->kind : "device", link->mtu,
                               link->up ? "" : ", down");
        if (link->kind && g_str_equal(link->kind, "vlan"))
                g_string_append_printf(l, "\nVLAN %u", link->vlan_id);
        for (guint i = 0; i < link->addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(link->addrs, VmnetHostAddr, i);
                g_autofree char *s = NULL;

                if (a->scope == 253 /* RT_SCOPE_LINK */)
                        continue;
                s = vmnet_addr_to_string(&a->addr);
                g_string_append_printf(l, "\n%s/%u", s, a->prefixlen);
        }
}

/*
 * A link below a bridge or another link: its IFLA_LINK parent (a VLAN's NIC,
 * a VXLAN's underlay) and its slaves (a bond's NICs), drawn once each.
 */
static void lower(GString *out, const VmnetHost *host, const VmnetHostLink *link, GHashTable *drawn,
                  guint depth)
{
        if (depth > 8)
                return;
        /* a veth's IFLA_LINK is its peer, no lower link */
        if (link->link_name && g_strcmp0(link->kind, "veth") != 0) {
                const VmnetHostLink *p = vmnet_host_find_link(host, link->link_name);

                if (p && g_hash_table_add(drawn, p->name)) {
                        g_autoptr(GString) l = g_string_new(NULL);

                        link_lines(l, p);
                        node(out, p->name, l->str, "shape=box3d");
                        lower(out, host, p, drawn, depth + 1);
                }
                if (p)
                        edge(out, p->name, link->name, NULL);
        }
        for (guint i = 0; i < host->links->len; i++) {
                const VmnetHostLink *s = g_ptr_array_index(host->links, i);

                if (g_strcmp0(s->master_name, link->name) != 0)
                        continue;
                if (g_hash_table_add(drawn, s->name)) {
                        g_autoptr(GString) l = g_string_new(NULL);

                        link_lines(l, s);
                        node(out, s->name, l->str, "shape=box3d");
                        lower(out, host, s, drawn, depth + 1);
                }
                edge(out, s->name, link->name, "label=\"slave\"");
        }
}

/*
 * A port's VLANs on a VLAN-aware bridge, as the plan gives them: "VLAN 30"
 * (an access port), "trunk 100,300 native 200" (a trunk port group: its
 * tagged VLANs, then the untagged one), nothing elsewhere.
 */
static void port_vlans_line(GString *p, const VmnetNetwork *net, const VmnetGuestPort *gp)
{
        VmnetPortVlans v;
        g_autofree char *tagged = NULL;

        vmnet_network_port_vlans(net, gp->planned ? gp->planned->portgroup : NULL, &v);
        if (!v.n_tagged) {
                if (v.untagged)
                        g_string_append_printf(p, "\nVLAN %u", v.untagged);
                return;
        }
        tagged = vmnet_vlan_list_format(&v);
        g_string_append_printf(p, "\ntrunk %s", tagged);
        if (v.untagged)
                g_string_append_printf(p, " native %u", v.untagged);
}

/* The address a port's guest has: the plan's, else its lease's. */
static char *port_address(const VmnetGuestPort *gp, GHashTable *leases)
{
        GPtrArray *list;

        if (!gp->has_mac)
                return NULL;
        if (gp->planned && gp->planned->has_ip) {
                g_autofree char *a = vmnet_addr_to_string(&gp->planned->ip);

                return g_strdup_printf("%s (plan)", a);
        }
        list = leases ? g_hash_table_lookup(leases, gp->network->name) : NULL;
        for (guint i = 0; list && i < list->len; i++) {
                const VmnetLease *l = g_ptr_array_index(list, i);

                if (vmnet_mac_equal(&l->mac, &gp->mac)) {
                        g_autofree char *a = vmnet_addr_to_string(&l->ip);

                        return g_strdup_printf("%s (lease)", a);
                }
        }
        return NULL;
}

static void network(GString *out, const VmnetPlan *plan, const VmnetHost *host,
                    const VmnetNetwork *net, guint index, const GPtrArray *ports,
                    GHashTable *leases, GHashTable *drawn)
{
        const VmnetHostLink *br = vmnet_host_find_link(host, net->bridge);
        g_autoptr(GString) label = g_string_new(NULL);
        g_autoptr(GString) l = g_string_new(NULL);
        gboolean bridge_here = g_hash_table_add(drawn, net->bridge);

        g_string_append_printf(label, "network %s (%s)", net->name, vmnet_mode_to_string(net->mode));
        for (guint s = 0; s < net->subnets->len; s++) {
                const VmnetSubnet *sub = g_ptr_array_index(net->subnets, s);
                g_autofree char *c = vmnet_prefix_to_string(&sub->cidr);

                g_string_append_printf(label, "\n%s", c);
        }
        g_string_append_printf(out, "  subgraph \"cluster_%u\" {\n    label=", index);
        quoted(out, label->str);
        g_string_append_printf(out, ";\n    style=\"rounded,filled\"; fillcolor=\"%s\";\n",
                               mode_colour(net->mode));
        if (bridge_here) {
                if (br) {
                        link_lines(l, br);
                        node(out, net->bridge, l->str, "shape=box, style=\"filled\", fillcolor=white");
                } else {
                        g_string_append_printf(l, "%s\nbridge\nmissing (plan wants it)", net->bridge);
                        node(out, net->bridge, l->str, "shape=box, style=dashed, color=red, fontcolor=red");
                }
        }
        for (guint i = 0; i < ports->len; i++) {
                const VmnetGuestPort *gp = g_ptr_array_index(ports, i);
                g_autoptr(GString) p = g_string_new(gp->link->name);
                g_autofree char *addr = port_address(gp, leases);
                gboolean mtu_differs = br && gp->link->mtu != br->mtu;

                if (gp->network != net || VMNET_MUTANT_IS(DOT_NO_PORTS))
                        continue;
                g_string_append_printf(p, "\ndomain %s", gp->domain ? gp->domain : "(unknown)");
                if (gp->has_mac) {
                        g_autofree char *mac = vmnet_mac_to_string(&gp->mac);

                        g_string_append_printf(p, "\n%s", mac);
                }
                if (addr)
                        g_string_append_printf(p, "\n%s", addr);
                port_vlans_line(p, net, gp);
                g_string_append_printf(p, "\nmtu %u%s%s", gp->link->mtu,
                                       mtu_differs ? " (bridge has another)" : "",
                                       gp->link->up ? "" : ", down");
                g_hash_table_add(drawn, gp->link->name);
                node(out, gp->link->name, p->str,
                     mtu_differs ? "shape=ellipse, color=red, fontcolor=red"
                                 : "shape=ellipse, style=filled, fillcolor=white");
        }
        /* Planned interfaces of this network with no port: shut off, or not plugged. */
        for (guint d = 0; d < plan->domains->len; d++) {
                const VmnetDomain *dom = g_ptr_array_index(plan->domains, d);

                for (guint i = 0; i < dom->interfaces->len; i++) {
                        const VmnetInterface *ifc = g_ptr_array_index(dom->interfaces, i);
                        gboolean found = FALSE;
                        g_autofree char *mac = NULL, *id = NULL, *text = NULL;

                        if (g_strcmp0(ifc->network, net->name) != 0 || !ifc->has_mac)
                                continue;
                        for (guint k = 0; k < ports->len && !found; k++) {
                                const VmnetGuestPort *gp = g_ptr_array_index(ports, k);

                                found = gp->planned == ifc;
                        }
                        if (found)
                                continue;
                        mac = vmnet_mac_to_string(&ifc->mac);
                        id = g_strdup_printf("unplugged:%s", mac);
                        text = g_strdup_printf("domain %s\n%s\nnot plugged in", dom->name, mac);
                        node(out, id, text, "shape=ellipse, style=dashed, color=gray40, fontcolor=gray40");
                        edge(out, id, net->bridge, "style=dashed, color=gray40");
                }
        }
        g_string_append(out, "  }\n");
        for (guint i = 0; i < ports->len; i++) {
                const VmnetGuestPort *gp = g_ptr_array_index(ports, i);

                if (gp->network == net)
                        edge(out, gp->link->name, net->bridge, NULL);
        }
        if (net->uplink) {
                const VmnetHostLink *up = vmnet_host_find_link(host, net->uplink->ifname);

                if (g_hash_table_add(drawn, net->uplink->ifname)) {
                        g_autoptr(GString) u = g_string_new(NULL);

                        if (up) {
                                link_lines(u, up);
                                node(out, up->name, u->str, "shape=box3d");
                                lower(out, host, up, drawn, 0);
                        } else {
                                g_string_append_printf(u, "%s\nuplink\nmissing (plan wants it)",
                                                       net->uplink->ifname);
                                node(out, net->uplink->ifname, u->str,
                                     "shape=box3d, style=dashed, color=red, fontcolor=red");
                        }
                }
                edge(out, net->uplink->ifname, net->bridge,
                     up && g_strcmp0(up->master_name, net->bridge) == 0
                             ? "label=\"uplink\""
                             : "label=\"uplink (not enslaved)\", style=dashed, color=red, fontcolor=red");
        }
        if (net->vxlan && net->vxlan->name) {
                const VmnetHostLink *vx = vmnet_host_find_link(host, net->vxlan->name);
                g_autofree char *vxlabel = g_strdup_printf("VXLAN %u", net->vxlan->vni);
                g_autofree char *attrs = NULL;

                if (g_hash_table_add(drawn, net->vxlan->name)) {
                        g_autoptr(GString) u = g_string_new(NULL);

                        if (vx) {
                                link_lines(u, vx);
                                g_string_append_printf(u, "\nVNI %u", net->vxlan->vni);
                                node(out, vx->name, u->str, "shape=box3d");
                                lower(out, host, vx, drawn, 0);
                        } else {
                                g_string_append_printf(u, "%s\nvxlan VNI %u\nmissing (plan wants it)",
                                                       net->vxlan->name, net->vxlan->vni);
                                node(out, net->vxlan->name, u->str,
                                     "shape=box3d, style=dashed, color=red, fontcolor=red");
                        }
                }
                attrs = vx && g_strcmp0(vx->master_name, net->bridge) == 0
                                ? g_strdup_printf("label=\"%s\"", vxlabel)
                                : g_strdup_printf("label=\"%s (not enslaved)\", style=dashed, color=red, fontcolor=red", vxlabel);
                edge(out, net->vxlan->name, net->bridge, attrs);
        }
        if (net->has_nat && net->nat_out) {
                const VmnetHostLink *o = vmnet_host_find_link(host, net->nat_out);

                if (g_hash_table_add(drawn, net->nat_out)) {
                        g_autoptr(GString) u = g_string_new(NULL);

                        if (o) {
                                link_lines(u, o);
                                node(out, o->name, u->str, "shape=box3d");
                                lower(out, host, o, drawn, 0);
                        } else {
                                g_string_append_printf(u, "%s\nmissing", net->nat_out);
                                node(out, net->nat_out, u->str,
                                     "shape=box3d, style=dashed, color=red, fontcolor=red");
                        }
                }
                edge(out, net->bridge, net->nat_out, "label=\"NAT\", style=bold, color=\"#3c78b4\"");
        }
}

char *vmnet_topology_dot(const VmnetPlan *plan, const VmnetHost *host, const GPtrArray *ports,
                         GHashTable *leases, const GPtrArray *drift)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GHashTable) drawn = g_hash_table_new(g_str_hash, g_str_equal);
        g_autofree char *title = g_strdup_printf("vmnet plan %s", plan->name);

        g_string_append(out, "digraph vmnet {\n  graph [rankdir=LR, labelloc=t, fontname=\"sans-serif\", label=");
        quoted(out, title);
        g_string_append(out, "];\n  node [fontname=\"sans-serif\", fontsize=10];\n"
                             "  edge [fontname=\"sans-serif\", fontsize=9];\n");
        for (guint n = 0; n < plan->networks->len; n++)
                network(out, plan, host, g_ptr_array_index(plan->networks, n), n, ports, leases,
                        drawn);
        if (drift && drift->len) {
                g_autoptr(GString) d = g_string_new(NULL);

                g_string_append_printf(d, "drift: %u action%s would bring the host back to the plan",
                                       drift->len, drift->len == 1 ? "" : "s");
                for (guint i = 0; i < drift->len && i < 20; i++)
                        g_string_append_printf(d, "\n%s", (const char *)g_ptr_array_index(drift, i));
                if (drift->len > 20)
                        g_string_append_printf(d, "\n(and %u more)", drift->len - 20);
                node(out, "(drift)", d->str, "shape=note, color=red, fontcolor=red");
        }
        g_string_append(out, "}\n");
        return g_string_free(g_steal_pointer(&out), FALSE);
}
