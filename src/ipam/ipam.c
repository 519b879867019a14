/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "ipam/ipam.h"
#include "util/mutant.h"

const char *vmnet_ipam_source_to_string(VmnetIpamSource s)
{
        switch (s) {
        case VMNET_IPAM_SOURCE_PLAN:
                return "plan";
        case VMNET_IPAM_SOURCE_ALLOCATED:
                return "allocated";
        case VMNET_IPAM_SOURCE_LEASE:
                return "lease";
        case VMNET_IPAM_SOURCE_AGENT:
                return "agent";
        case VMNET_IPAM_SOURCE_NEIGHBOUR:
                return "neighbour";
        }
        return "unknown";
}

void vmnet_ipam_entry_free(VmnetIpamEntry *e)
{
        if (!e)
                return;
        g_free(e->network);
        g_free(e->domain);
        g_free(e->hostname);
        g_free(e);
}

static VmnetIpamEntry *entry_new(const char *network, const char *domain, const char *hostname,
                                 const VmnetMac *mac, const VmnetAddr *ip, VmnetIpamSource source)
{
        VmnetIpamEntry *e = g_new0(VmnetIpamEntry, 1);

        e->network = g_strdup(network);
        e->domain = g_strdup(domain);
        e->hostname = g_strdup(hostname);
        e->mac = *mac;
        e->ip = *ip;
        e->source = source;
        return e;
}

static VmnetIpamEntry *entry_copy(const VmnetIpamEntry *src)
{
        VmnetIpamEntry *e = entry_new(src->network, src->domain, src->hostname, &src->mac, &src->ip,
                                      src->source);

        e->from_reservation = src->from_reservation;
        e->expiry = src->expiry;
        return e;
}

void vmnet_ipam_free(VmnetIpam *ipam)
{
        if (!ipam)
                return;
        g_ptr_array_unref(ipam->entries);
        g_free(ipam);
}

void vmnet_lease_free(VmnetLease *l)
{
        if (!l)
                return;
        g_free(l->hostname);
        g_free(l->client_id);
        g_free(l);
}

void vmnet_guest_addr_free(VmnetGuestAddr *g)
{
        if (!g)
                return;
        g_free(g->network);
        g_free(g->domain);
        g_free(g);
}

static void subnet_report_free(VmnetIpamSubnetReport *s)
{
        g_free(s->network);
        g_free(s);
}

void vmnet_ipam_report_free(VmnetIpamReport *r)
{
        if (!r)
                return;
        g_ptr_array_unref(r->subnets);
        g_ptr_array_unref(r->entries);
        g_free(r);
}

/* ------------------------------------------------------------ helpers */

/* Networks where vmnet's dnsmasq hands addresses out. */
gboolean vmnet_ipam_network_allocates(const VmnetNetwork *n)
{
        return n->mode == VMNET_MODE_NAT || n->mode == VMNET_MODE_HOST_ONLY ||
               n->mode == VMNET_MODE_ROUTED;
}

static char *addr_key(const VmnetAddr *a)
{
        return vmnet_addr_to_string(a);
}

static gboolean in_dhcp_range(const VmnetSubnet *s, const VmnetAddr *a)
{
        return s->has_dhcp && a->family == s->dhcp_start.family &&
               vmnet_addr_cmp(a, &s->dhcp_start) >= 0 && vmnet_addr_cmp(a, &s->dhcp_end) <= 0;
}

/* b - a + 1 for a <= b of one family, saturating. */
static guint64 addr_span(const VmnetAddr *a, const VmnetAddr *b)
{
        guint len = vmnet_addr_len(a);
        guint64 hi_a = 0, hi_b = 0, lo_a = 0, lo_b = 0;

        if (vmnet_addr_cmp(a, b) > 0)
                return 0;
        for (guint i = 0; i < len; i++) {
                if (len == 16 && i < 8) {
                        hi_a = (hi_a << 8) | a->bytes[i];
                        hi_b = (hi_b << 8) | b->bytes[i];
                } else {
                        lo_a = (lo_a << 8) | a->bytes[i];
                        lo_b = (lo_b << 8) | b->bytes[i];
                }
        }
        if (hi_a != hi_b || lo_b - lo_a == G_MAXUINT64)
                return G_MAXUINT64;
        return lo_b - lo_a + 1;
}

/* Addresses of the subnet a host can hold. */
static guint64 usable_size(const VmnetPrefix *p)
{
        guint64 n = vmnet_prefix_size(p);

        if (p->addr.family == AF_INET && p->prefix <= 30)
                return n - 2;
        return n;
}

/* Could a guest hold a in s at all (not the network/broadcast address nor the gateway)? */
static gboolean host_address_ok(const VmnetSubnet *s, const VmnetAddr *a)
{
        VmnetAddr last;

        if (a->family != s->cidr.addr.family || !vmnet_prefix_contains(&s->cidr, a))
                return FALSE;
        if (a->family == AF_INET && s->cidr.prefix <= 30) {
                vmnet_prefix_last(&s->cidr, &last);
                if (vmnet_addr_equal(a, &s->cidr.addr) || vmnet_addr_equal(a, &last))
                        return FALSE;
        }
        if (s->has_gateway && vmnet_addr_equal(a, &s->gateway))
                return FALSE;
        return TRUE;
}

static const VmnetReservation *find_reservation(const VmnetNetwork *n, const VmnetMac *mac)
{
        for (guint i = 0; i < n->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(n->subnets, i);

                for (guint j = 0; j < s->reservations->len; j++) {
                        const VmnetReservation *r = g_ptr_array_index(s->reservations, j);

                        if (vmnet_mac_equal(&r->mac, mac))
                                return r;
                }
        }
        return NULL;
}

/* The plan domain with an interface of MAC mac (in network, or any network when NULL). */
static const VmnetDomain *domain_of_mac(const VmnetPlan *plan, const char *network,
                                        const VmnetMac *mac, const VmnetInterface **ifc_out)
{
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; j < d->interfaces->len; j++) {
                        const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);

                        if (vmnet_mac_equal(&ifc->mac, mac) &&
                            (!network || g_strcmp0(ifc->network, network) == 0)) {
                                if (ifc_out)
                                        *ifc_out = ifc;
                                return d;
                        }
                }
        }
        return NULL;
}

/* The DHCP host name of ifc: its domain's name, on the first of its interfaces in that network. */
static const char *interface_hostname(const VmnetDomain *d, const VmnetInterface *ifc)
{
        for (guint j = 0; j < d->interfaces->len; j++) {
                const VmnetInterface *o = g_ptr_array_index(d->interfaces, j);

                if (g_strcmp0(o->network, ifc->network) == 0)
                        return o == ifc ? d->name : NULL;
        }
        return NULL;
}

/* ------------------------------------------------------------ assign */

typedef struct {
        const VmnetDomain *dom;
        const VmnetInterface *ifc;
        const VmnetNetwork *net;
        gboolean done;
} Pending;

/* Is a an address the allocator may hand to an interface of net? */
static gboolean allocatable(const VmnetNetwork *net, GHashTable *taken, const VmnetAddr *a)
{
        g_autofree char *k = NULL;

        if (a->family != AF_INET)
                return FALSE;
        for (guint i = 0; i < net->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(net->subnets, i);

                if (!host_address_ok(s, a))
                        continue;
                if (in_dhcp_range(s, a))
                        return FALSE;
                k = addr_key(a);
                return !g_hash_table_contains(taken, k);
        }
        return FALSE;
}

/*
 * Addresses a new MAC must not get yet, per network: "ip" -> the MAC
 * (string) that may still use it: a live lease of the lease file, or an
 * allocation released less than a quarantine ago (the guest may keep
 * using the address until its lease runs out).
 */
static gboolean held_by_other(GHashTable *held, const VmnetAddr *a, const VmnetMac *mac)
{
        g_autofree char *k = addr_key(a);
        g_autofree char *m = vmnet_mac_to_string(mac);
        const char *holder = held ? g_hash_table_lookup(held, k) : NULL;

        return holder && !g_str_equal(holder, m);
}

/* An address held for mac (its own lease, or its own allocation in quarantine), or NULL. Caller frees. */
static char *held_own(GHashTable *held, const VmnetMac *mac)
{
        g_autofree char *m = vmnet_mac_to_string(mac);
        GHashTableIter it;
        gpointer k, v;

        g_hash_table_iter_init(&it, held);
        while (g_hash_table_iter_next(&it, &k, &v))
                if (g_str_equal(v, m))
                        return g_strdup(k);
        return NULL;
}

/* The lowest free address of net's IPv4 subnets, in plan order, that nobody else still holds. */
static gboolean allocate_lowest(const VmnetNetwork *net, GHashTable *taken, GHashTable *held,
                                const VmnetMac *mac, VmnetAddr *out)
{
        for (guint i = 0; i < net->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(net->subnets, i);
                VmnetAddr a = s->cidr.addr, last;

                if (s->cidr.addr.family != AF_INET || s->cidr.prefix > 30)
                        continue;
                vmnet_prefix_last(&s->cidr, &last);
                for (vmnet_addr_add(&a, 1); vmnet_addr_cmp(&a, &last) < 0; vmnet_addr_add(&a, 1)) {
                        g_autofree char *k = NULL;

                        if (in_dhcp_range(s, &a)) {
                                /* Skip the whole dynamic range at once. */
                                a = s->dhcp_end;
                                continue;
                        }
                        if (!host_address_ok(s, &a))
                                continue;
                        k = addr_key(&a);
                        if ((!g_hash_table_contains(taken, k) && !held_by_other(held, &a, mac)) ||
                            VMNET_MUTANT_IS(IPAM_REUSE)) {
                                *out = a;
                                return TRUE;
                        }
                }
        }
        return FALSE;
}

static gboolean has_ipv4_subnet(const VmnetNetwork *n)
{
        return vmnet_network_first_subnet(n, AF_INET) != NULL;
}

static void set_exhausted_error(const VmnetPlan *plan, const Pending *p, GError **error)
{
        g_autoptr(GString) subnets = g_string_new(NULL);
        g_autofree char *mac = vmnet_mac_to_string(&p->ifc->mac);

        for (guint i = 0; i < p->net->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(p->net->subnets, i);
                g_autofree char *ps = NULL;

                if (s->cidr.addr.family != AF_INET)
                        continue;
                ps = vmnet_prefix_to_string(&s->cidr);
                if (subnets->len)
                        g_string_append(subnets, ", ");
                g_string_append(subnets, ps);
                if (s->has_dhcp) {
                        g_autofree char *ds = vmnet_addr_to_string(&s->dhcp_start);
                        g_autofree char *de = vmnet_addr_to_string(&s->dhcp_end);

                        g_string_append_printf(subnets, " (dhcp range %s-%s)", ds, de);
                }
        }
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                    "%s:%u: network '%s': subnet %s has no free address left outside the dhcp "
                    "range for domain '%s' interface %s; give the interface an ip=, shrink the "
                    "dhcp range or add a subnet",
                    plan->file ? plan->file : "plan", p->ifc->line, p->net->name, subnets->str,
                    p->dom->name, mac);
}

/* Pending allocations by network, then MAC: what a new interface gets never depends on plan order. */
static gint pending_cmp(gconstpointer a, gconstpointer b)
{
        const Pending *x = a, *y = b;
        int c = g_strcmp0(x->net->name, y->net->name);

        return c ? c : memcmp(x->ifc->mac.b, y->ifc->mac.b, sizeof(x->ifc->mac.b));
}

/* How long a released address stays out of reach: the network's longest lease time, 1 h at least. */
static gint64 quarantine_seconds(const VmnetNetwork *n)
{
        guint longest = 3600;

        for (guint i = 0; n && i < n->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(n->subnets, i);

                longest = MAX(longest, s->lease_seconds);
        }
        return longest;
}

/*
 * The held table of network: live leases (leases: network -> VmnetLease*),
 * then released addresses still in quarantine (state group "ipam-freed
 * NETWORK": ip = "UNIXTIME MAC").
 */
static GHashTable *held_addresses(const VmnetNetwork *n, VmnetState *state, GHashTable *leases,
                                  gint64 now)
{
        GHashTable *held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        GPtrArray *ls = leases ? g_hash_table_lookup(leases, n->name) : NULL;
        g_autofree char *group = g_strconcat(VMNET_IPAM_FREED_PREFIX, n->name, NULL);
        g_auto(GStrv) keys = state ? g_key_file_get_keys(state->kf, group, NULL, NULL) : NULL;

        for (guint i = 0; ls && i < ls->len; i++) {
                const VmnetLease *l = g_ptr_array_index(ls, i);

                if (l->expiry && l->expiry <= now)
                        continue;
                g_hash_table_replace(held, addr_key(&l->ip), vmnet_mac_to_string(&l->mac));
        }
        for (char **k = keys; k && *k; k++) {
                g_autofree char *v = g_key_file_get_string(state->kf, group, *k, NULL);
                g_auto(GStrv) f = v ? g_strsplit(g_strstrip(v), " ", 2) : NULL;
                gint64 t;
                VmnetAddr a;

                if (!f || !f[0] || !f[1] || !vmnet_addr_parse(*k, &a) ||
                    (t = g_ascii_strtoll(f[0], NULL, 10)) <= 0 ||
                    t + quarantine_seconds(n) <= now)
                        continue;
                if (!g_hash_table_contains(held, *k))
                        g_hash_table_insert(held, addr_key(&a), g_strdup(f[1]));
        }
        return held;
}

/*
 * Rewrites the "ipam-freed" groups: the allocations of old (group -> key ->
 * value of the "ipam" groups before this run) that are gone now start their
 * quarantine; earlier ones stay until theirs ends, unless the address is
 * allocated again.
 */
static void record_freed(const VmnetPlan *plan, VmnetState *state, GHashTable *old,
                         const VmnetIpam *ipam, gint64 now)
{
        g_auto(GStrv) groups = g_key_file_get_groups(state->kf, NULL);
        g_autoptr(GHashTable) now_used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GHashTableIter it;
        gpointer k, v;

        for (guint i = 0; i < ipam->entries->len; i++) {
                const VmnetIpamEntry *e = g_ptr_array_index(ipam->entries, i);
                g_autofree char *ip = vmnet_addr_to_string(&e->ip);

                g_hash_table_add(now_used, g_strdup_printf("%s/%s", e->network, ip));
        }
        /* Expired or re-allocated quarantines end. */
        for (char **g = groups; *g; g++) {
                const char *network = *g + strlen(VMNET_IPAM_FREED_PREFIX);
                const VmnetNetwork *n;
                g_auto(GStrv) keys = NULL;

                if (!g_str_has_prefix(*g, VMNET_IPAM_FREED_PREFIX))
                        continue;
                n = vmnet_plan_find_network(plan, network);
                keys = g_key_file_get_keys(state->kf, *g, NULL, NULL);
                for (char **key = keys; key && *key; key++) {
                        g_autofree char *val = g_key_file_get_string(state->kf, *g, *key, NULL);
                        g_autofree char *used = g_strdup_printf("%s/%s", network, *key);
                        gint64 t = val ? g_ascii_strtoll(val, NULL, 10) : 0;

                        if (!n || t <= 0 || t + quarantine_seconds(n) <= now ||
                            g_hash_table_contains(now_used, used))
                                g_key_file_remove_key(state->kf, *g, *key, NULL);
                }
                g_strfreev(keys);
                keys = g_key_file_get_keys(state->kf, *g, NULL, NULL);
                if (!keys || !*keys)
                        g_key_file_remove_group(state->kf, *g, NULL);
        }
        g_hash_table_iter_init(&it, old);
        while (g_hash_table_iter_next(&it, &k, &v)) {
                /* k: "NETWORK\nMAC", v: the address it had. */
                g_auto(GStrv) nm = g_strsplit(k, "\n", 2);
                g_autofree char *used = g_strdup_printf("%s/%s", nm[0], (char *)v);
                g_autofree char *group = g_strconcat(VMNET_IPAM_FREED_PREFIX, nm[0], NULL);
                g_autofree char *val = g_strdup_printf("%" G_GINT64_FORMAT " %s", now, nm[1]);
                VmnetMac mac;

                if (g_hash_table_contains(now_used, used) || !vmnet_mac_parse(nm[1], &mac) ||
                    vmnet_ipam_lookup(ipam, nm[0], &mac))
                        continue;
                g_key_file_set_string(state->kf, group, v, val);
        }
}

gboolean vmnet_ipam_assign(const VmnetPlan *plan, VmnetState *state, VmnetIpam **out,
                           GError **error)
{
        return vmnet_ipam_assign_full(plan, state, NULL, g_get_real_time() / G_USEC_PER_SEC, out,
                                      error);
}

gboolean vmnet_ipam_assign_full(const VmnetPlan *plan, VmnetState *state, GHashTable *leases,
                                gint64 now, VmnetIpam **out, GError **error)
{
        /* network name -> held table (held_addresses()) */
        g_autoptr(GHashTable) held = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                           (GDestroyNotify)g_hash_table_unref);
        /* "NETWORK\nMAC" -> address, of the allocations recorded before this run */
        g_autoptr(GHashTable) old = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(VmnetIpam) ipam = g_new0(VmnetIpam, 1);
        /* network name -> set of address strings nobody else may get */
        g_autoptr(GHashTable) taken = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                            (GDestroyNotify)g_hash_table_unref);
        g_autoptr(GArray) pending = g_array_new(FALSE, TRUE, sizeof(Pending));

        ipam->entries = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_ipam_entry_free);

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);
                GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

                g_hash_table_insert(taken, n->name, set);
                g_hash_table_insert(held, n->name, held_addresses(n, state, leases, now));
                for (guint j = 0; j < n->subnets->len; j++) {
                        const VmnetSubnet *s = g_ptr_array_index(n->subnets, j);

                        if (s->has_gateway)
                                g_hash_table_add(set, addr_key(&s->gateway));
                        for (guint k = 0; k < s->reservations->len; k++) {
                                const VmnetReservation *r = g_ptr_array_index(s->reservations, k);
                                const VmnetDomain *d = domain_of_mac(plan, n->name, &r->mac, NULL);
                                VmnetIpamEntry *e = entry_new(n->name, d ? d->name : NULL, r->name,
                                                              &r->mac, &r->ip,
                                                              VMNET_IPAM_SOURCE_PLAN);

                                e->from_reservation = TRUE;
                                g_ptr_array_add(ipam->entries, e);
                                g_hash_table_add(set, addr_key(&r->ip));
                        }
                }
        }
        /* Every plan address first, so that no allocation can take one. */
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; j < d->interfaces->len; j++) {
                        const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);
                        const VmnetNetwork *n = vmnet_plan_find_network(plan, ifc->network);
                        Pending p = { .dom = d, .ifc = ifc, .net = n };

                        if (!n || find_reservation(n, &ifc->mac))
                                continue; /* a <reservation> already covers it */
                        if (ifc->has_ip) {
                                g_ptr_array_add(ipam->entries,
                                                entry_new(n->name, d->name,
                                                          interface_hostname(d, ifc), &ifc->mac,
                                                          &ifc->ip, VMNET_IPAM_SOURCE_PLAN));
                                g_hash_table_add(g_hash_table_lookup(taken, n->name),
                                                 addr_key(&ifc->ip));
                        } else if (vmnet_ipam_network_allocates(n) && has_ipv4_subnet(n)) {
                                g_array_append_val(pending, p);
                        }
                }
        }
        /* Keep every recorded allocation that is still valid, before allocating anew. */
        for (guint i = 0; i < pending->len; i++) {
                Pending *p = &g_array_index(pending, Pending, i);
                g_autofree char *group = g_strconcat(VMNET_IPAM_STATE_PREFIX, p->net->name, NULL);
                g_autofree char *mac = vmnet_mac_to_string(&p->ifc->mac);
                g_autofree char *ip = state ? g_key_file_get_string(state->kf, group, mac, NULL)
                                            : NULL;
                GHashTable *set = g_hash_table_lookup(taken, p->net->name);
                VmnetAddr a;

                /* Without a recorded allocation, the address it had before a release. */
                if (!ip)
                        ip = held_own(g_hash_table_lookup(held, p->net->name), &p->ifc->mac);
                if (!ip || !vmnet_addr_parse(g_strstrip(ip), &a) ||
                    !allocatable(p->net, set, &a))
                        continue;
                g_hash_table_add(set, addr_key(&a));
                g_ptr_array_add(ipam->entries,
                                entry_new(p->net->name, p->dom->name,
                                          interface_hostname(p->dom, p->ifc), &p->ifc->mac, &a,
                                          VMNET_IPAM_SOURCE_ALLOCATED));
                p->done = TRUE;
        }
        g_array_sort(pending, pending_cmp);
        for (guint i = 0; i < pending->len; i++) {
                Pending *p = &g_array_index(pending, Pending, i);
                GHashTable *set = g_hash_table_lookup(taken, p->net->name);
                VmnetAddr a;

                if (p->done)
                        continue;
                if (!allocate_lowest(p->net, set, g_hash_table_lookup(held, p->net->name),
                                     &p->ifc->mac, &a)) {
                        set_exhausted_error(plan, p, error);
                        return FALSE;
                }
                g_hash_table_add(set, addr_key(&a));
                g_ptr_array_add(ipam->entries,
                                entry_new(p->net->name, p->dom->name,
                                          interface_hostname(p->dom, p->ifc), &p->ifc->mac, &a,
                                          VMNET_IPAM_SOURCE_ALLOCATED));
                p->done = TRUE;
        }

        if (state) {
                g_auto(GStrv) groups = g_key_file_get_groups(state->kf, NULL);

                for (char **g = groups; *g; g++) {
                        g_auto(GStrv) keys = NULL;

                        if (!g_str_has_prefix(*g, VMNET_IPAM_STATE_PREFIX))
                                continue;
                        keys = g_key_file_get_keys(state->kf, *g, NULL, NULL);
                        for (char **k = keys; k && *k; k++)
                                g_hash_table_insert(
                                        old,
                                        g_strdup_printf("%s\n%s",
                                                        *g + strlen(VMNET_IPAM_STATE_PREFIX), *k),
                                        g_strstrip(g_key_file_get_string(state->kf, *g, *k, NULL)));
                }
                vmnet_state_clear_prefix(state, VMNET_IPAM_STATE_PREFIX);
                for (guint i = 0; i < ipam->entries->len; i++) {
                        const VmnetIpamEntry *e = g_ptr_array_index(ipam->entries, i);
                        g_autofree char *group = NULL;
                        g_autofree char *mac = NULL;
                        g_autofree char *ip = NULL;

                        if (e->source != VMNET_IPAM_SOURCE_ALLOCATED)
                                continue;
                        group = g_strconcat(VMNET_IPAM_STATE_PREFIX, e->network, NULL);
                        mac = vmnet_mac_to_string(&e->mac);
                        ip = vmnet_addr_to_string(&e->ip);
                        g_key_file_set_string(state->kf, group, mac, ip);
                }
                record_freed(plan, state, old, ipam, now);
        }
        *out = g_steal_pointer(&ipam);
        return TRUE;
}

static void dhcp_host_free(gpointer p)
{
        VmnetReservation *r = p;

        g_free(r->name);
        g_free(r);
}

/* dhcp-host= lines in address order: the configuration never depends on plan or allocation order. */
static gint dhcp_host_cmp(gconstpointer a, gconstpointer b)
{
        const VmnetReservation *x = *(VmnetReservation *const *)a;
        const VmnetReservation *y = *(VmnetReservation *const *)b;
        int c = vmnet_addr_cmp(&x->ip, &y->ip);

        return c ? c : memcmp(x->mac.b, y->mac.b, sizeof(x->mac.b));
}

GPtrArray *vmnet_ipam_dhcp_hosts(const VmnetIpam *ipam, const char *network)
{
        GPtrArray *hosts = g_ptr_array_new_with_free_func(dhcp_host_free);

        for (guint i = 0; ipam && i < ipam->entries->len; i++) {
                const VmnetIpamEntry *e = g_ptr_array_index(ipam->entries, i);
                VmnetReservation *r;

                if (e->from_reservation || e->source == VMNET_IPAM_SOURCE_LEASE ||
                    g_strcmp0(e->network, network) != 0)
                        continue;
                r = vmnet_reservation_new();
                r->mac = e->mac;
                r->ip = e->ip;
                r->name = g_strdup(e->hostname);
                g_ptr_array_add(hosts, r);
        }
        g_ptr_array_sort(hosts, dhcp_host_cmp);
        return hosts;
}

const VmnetIpamEntry *vmnet_ipam_lookup(const VmnetIpam *ipam, const char *network,
                                        const VmnetMac *mac)
{
        for (guint i = 0; i < ipam->entries->len; i++) {
                const VmnetIpamEntry *e = g_ptr_array_index(ipam->entries, i);

                if (g_strcmp0(e->network, network) == 0 && vmnet_mac_equal(&e->mac, mac))
                        return e;
        }
        return NULL;
}

/* ------------------------------------------------------------ report */

/* Who holds or was given an address, for the collision audit. */
typedef struct {
        VmnetMac mac;
        const char *domain; /* may be NULL */
        const char *how;    /* "is assigned", "holds a lease for", "uses" */
} Holder;

typedef struct {
        const VmnetPlan *plan;
        VmnetDiags *warnings;
        GHashTable *holders; /* "network/ip" -> Holder* (first holder) */
} Audit;

static char *who(const char *domain, const VmnetMac *mac)
{
        g_autofree char *m = vmnet_mac_to_string(mac);

        return domain ? g_strdup_printf("domain '%s' (MAC %s)", domain, m)
                      : g_strdup_printf("MAC %s", m);
}

static void warn(Audit *au, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void warn(Audit *au, const char *fmt, ...)
{
        g_autofree char *msg = NULL;
        va_list ap;

        if (!au->warnings)
                return;
        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        vmnet_diags_add(au->warnings, au->plan->file, 0, "%s", msg);
}

/* Records that holder has ip in network; warns when another MAC already has it. */
static void audit_hold(Audit *au, const char *network, const VmnetAddr *ip, const VmnetMac *mac,
                       const char *domain, const char *how)
{
        g_autofree char *ips = vmnet_addr_to_string(ip);
        char *key = g_strdup_printf("%s/%s", network, ips);
        Holder *first = g_hash_table_lookup(au->holders, key);

        if (!first) {
                Holder *h = g_new0(Holder, 1);

                h->mac = *mac;
                h->domain = domain;
                h->how = how;
                g_hash_table_insert(au->holders, key, h);
                return;
        }
        g_free(key);
        if (!vmnet_mac_equal(&first->mac, mac)) {
                g_autofree char *a = who(domain, mac);
                g_autofree char *b = who(first->domain, &first->mac);

                warn(au, "network '%s': address %s collides: %s %s it, but %s %s it", network,
                     ips, a, how, b, first->how);
        }
}

static gboolean in_any_subnet(const VmnetNetwork *n, const VmnetAddr *a)
{
        return vmnet_network_subnet_for(n, a) != NULL;
}

/* Addresses that say nothing about IPAM: link-local and loopback. */
static gboolean addr_is_local_scope(const VmnetAddr *a)
{
        if (a->family == AF_INET)
                return a->bytes[0] == 127 || (a->bytes[0] == 169 && a->bytes[1] == 254);
        return (a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80) ||
               (memcmp(a->bytes, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0);
}

static void count_subnet(VmnetIpamReport *r, const VmnetNetwork *n, const VmnetSubnet *s)
{
        VmnetIpamSubnetReport *sr = g_new0(VmnetIpamSubnetReport, 1);
        g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        guint64 used_in_range = 0;

        sr->network = g_strdup(n->name);
        sr->cidr = s->cidr;
        sr->size = usable_size(&s->cidr);
        if (s->has_gateway)
                g_hash_table_add(used, addr_key(&s->gateway));
        for (guint i = 0; i < r->entries->len; i++) {
                const VmnetIpamEntry *e = g_ptr_array_index(r->entries, i);

                if (g_strcmp0(e->network, n->name) != 0 ||
                    e->ip.family != s->cidr.addr.family || !vmnet_prefix_contains(&s->cidr, &e->ip))
                        continue;
                if (g_hash_table_add(used, addr_key(&e->ip)) && in_dhcp_range(s, &e->ip))
                        used_in_range++;
        }
        sr->used = MIN((guint64)g_hash_table_size(used), sr->size);
        if (s->has_dhcp) {
                guint64 span = addr_span(&s->dhcp_start, &s->dhcp_end);

                sr->reserved = span > used_in_range ? span - used_in_range : 0;
        }
        if (sr->size == G_MAXUINT64)
                sr->free = G_MAXUINT64; /* a /64 does not run out */
        else
                sr->free = sr->size > sr->used + sr->reserved ? sr->size - sr->used - sr->reserved
                                                              : 0;
        g_ptr_array_add(r->subnets, sr);
}

VmnetIpamReport *vmnet_ipam_report(const VmnetPlan *plan, const VmnetIpam *ipam,
                                   GHashTable *leases, const GPtrArray *guest_addrs,
                                   VmnetDiags *warnings)
{
        g_autoptr(VmnetIpamReport) r = g_new0(VmnetIpamReport, 1);
        g_autoptr(GHashTable) holders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                              g_free);
        Audit au = { .plan = plan, .warnings = warnings, .holders = holders };

        r->subnets = g_ptr_array_new_with_free_func((GDestroyNotify)subnet_report_free);
        r->entries = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_ipam_entry_free);

        for (guint i = 0; ipam && i < ipam->entries->len; i++) {
                const VmnetIpamEntry *e = g_ptr_array_index(ipam->entries, i);

                g_ptr_array_add(r->entries, entry_copy(e));
                audit_hold(&au, e->network, &e->ip, &e->mac, e->domain, "is assigned");
        }

        for (guint i = 0; leases && i < plan->networks->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);
                GPtrArray *ls = g_hash_table_lookup(leases, n->name);

                for (guint j = 0; ls && j < ls->len; j++) {
                        const VmnetLease *l = g_ptr_array_index(ls, j);
                        const VmnetDomain *d = domain_of_mac(plan, n->name, &l->mac, NULL);
                        const VmnetIpamEntry *assigned = ipam ? vmnet_ipam_lookup(ipam, n->name,
                                                                                  &l->mac)
                                                              : NULL;
                        VmnetIpamEntry *e = entry_new(n->name, d ? d->name : NULL, l->hostname,
                                                      &l->mac, &l->ip, VMNET_IPAM_SOURCE_LEASE);
                        g_autofree char *w = who(e->domain, &l->mac);
                        g_autofree char *ips = vmnet_addr_to_string(&l->ip);

                        e->expiry = l->expiry;
                        g_ptr_array_add(r->entries, e);
                        if (!in_any_subnet(n, &l->ip))
                                warn(&au, "network '%s': %s holds a lease for %s, which is in "
                                          "none of the network's subnets",
                                     n->name, w, ips);
                        if (assigned && assigned->ip.family == l->ip.family &&
                            !vmnet_addr_equal(&assigned->ip, &l->ip)) {
                                g_autofree char *as = vmnet_addr_to_string(&assigned->ip);

                                warn(&au, "network '%s': %s holds a lease for %s but is assigned "
                                          "%s (%s); it gets that address when it renews",
                                     n->name, w, ips, as,
                                     vmnet_ipam_source_to_string(assigned->source));
                        }
                        audit_hold(&au, n->name, &l->ip, &l->mac, e->domain,
                                   "holds a lease for");
                }
        }

        for (guint i = 0; guest_addrs && i < guest_addrs->len; i++) {
                const VmnetGuestAddr *g = g_ptr_array_index(guest_addrs, i);
                VmnetIpamSource src = g->source == VMNET_IPAM_SOURCE_NEIGHBOUR
                                              ? VMNET_IPAM_SOURCE_NEIGHBOUR
                                              : VMNET_IPAM_SOURCE_AGENT;
                const VmnetInterface *ifc = NULL;
                const VmnetDomain *d = domain_of_mac(plan, g->network, &g->mac, &ifc);
                const VmnetNetwork *n = g->network ? vmnet_plan_find_network(plan, g->network)
                                      : d ? vmnet_plan_find_network(plan, ifc->network)
                                          : NULL;
                const char *dom = g->domain ? g->domain : d ? d->name : NULL;
                const VmnetIpamEntry *assigned = NULL;
                g_autofree char *w = NULL;
                g_autofree char *ips = NULL;
                const char *verb = src == VMNET_IPAM_SOURCE_AGENT ? "uses"
                                                                   : "answers the host for";

                /* Only addresses on the plan's networks say anything about IPAM. */
                if (!n || addr_is_local_scope(&g->ip))
                        continue;
                g_ptr_array_add(r->entries, entry_new(n->name, dom, NULL, &g->mac, &g->ip, src));
                if (!n->subnets->len)
                        continue;
                w = who(dom, &g->mac);
                ips = vmnet_addr_to_string(&g->ip);
                if (!in_any_subnet(n, &g->ip) && !VMNET_MUTANT_IS(GUEST_ADDR_NO_SUBNET)) {
                        warn(&au, "network '%s': %s %s address %s (%s), which is in none of the "
                                  "network's subnets",
                             n->name, w, verb, ips, vmnet_ipam_source_to_string(src));
                        continue;
                }
                assigned = ipam ? vmnet_ipam_lookup(ipam, n->name, &g->mac) : NULL;
                if (assigned && assigned->ip.family == g->ip.family &&
                    !vmnet_addr_equal(&assigned->ip, &g->ip)) {
                        g_autofree char *as = vmnet_addr_to_string(&assigned->ip);

                        warn(&au, "network '%s': %s %s address %s (%s) but is assigned %s (%s)",
                             n->name, w, verb, ips, vmnet_ipam_source_to_string(src), as,
                             vmnet_ipam_source_to_string(assigned->source));
                }
                audit_hold(&au, n->name, &g->ip, &g->mac, dom, verb);
        }

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);

                for (guint j = 0; j < n->subnets->len; j++)
                        count_subnet(r, n, g_ptr_array_index(n->subnets, j));
        }
        return g_steal_pointer(&r);
}

void vmnet_ipam_entry_to_json(const VmnetIpamEntry *e, JsonBuilder *j)
{
        g_autofree char *mac = vmnet_mac_to_string(&e->mac);
        g_autofree char *ip = vmnet_addr_to_string(&e->ip);

        json_builder_begin_object(j);
        vmnet_json_member_string(j, "network", e->network);
        vmnet_json_member_string(j, "domain", e->domain);
        vmnet_json_member_string(j, "hostname", e->hostname);
        vmnet_json_member_string(j, "mac", mac);
        vmnet_json_member_string(j, "ip", ip);
        vmnet_json_member_string(j, "source", vmnet_ipam_source_to_string(e->source));
        if (e->source == VMNET_IPAM_SOURCE_LEASE) {
                vmnet_json_member_int(j, "expiry", e->expiry);
        }
        json_builder_end_object(j);
}

void vmnet_ipam_report_to_json(const VmnetIpamReport *r, JsonBuilder *j)
{
        json_builder_begin_object(j);
        json_builder_set_member_name(j, "subnets");
        json_builder_begin_array(j);
        for (guint i = 0; i < r->subnets->len; i++) {
                const VmnetIpamSubnetReport *s = g_ptr_array_index(r->subnets, i);
                g_autofree char *cidr = vmnet_prefix_to_string(&s->cidr);

                json_builder_begin_object(j);
                vmnet_json_member_string(j, "network", s->network);
                vmnet_json_member_string(j, "cidr", cidr);
                /* Saturated IPv6 counts are clamped to what JSON integers carry. */
                vmnet_json_member_int(j, "size", (gint64)MIN(s->size, (guint64)G_MAXINT64));
                vmnet_json_member_int(j, "used", (gint64)MIN(s->used, (guint64)G_MAXINT64));
                vmnet_json_member_int(j, "reserved", (gint64)MIN(s->reserved, (guint64)G_MAXINT64));
                vmnet_json_member_int(j, "free", (gint64)MIN(s->free, (guint64)G_MAXINT64));
                json_builder_end_object(j);
        }
        json_builder_end_array(j);
        json_builder_set_member_name(j, "addresses");
        json_builder_begin_array(j);
        for (guint i = 0; i < r->entries->len; i++)
                vmnet_ipam_entry_to_json(g_ptr_array_index(r->entries, i), j);
        json_builder_end_array(j);
        json_builder_end_object(j);
}
