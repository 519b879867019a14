/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "validate/index.h"

void vmnet_chain_init(VmnetChain *c, guint size, GHashFunc hash, GEqualFunc equal)
{
        c->latest = g_hash_table_new(hash, equal);
        c->prev = g_new0(guint, MAX(size, 1));
}

void vmnet_chain_clear(VmnetChain *c)
{
        g_clear_pointer(&c->latest, g_hash_table_unref);
        g_clear_pointer(&c->prev, g_free);
}

guint vmnet_chain_latest(const VmnetChain *c, gconstpointer key)
{
        return GPOINTER_TO_UINT(g_hash_table_lookup(c->latest, key));
}

void vmnet_chain_add(VmnetChain *c, gconstpointer key, guint pos)
{
        c->prev[pos] = vmnet_chain_latest(c, key);
        g_hash_table_insert(c->latest, (gpointer)key, GUINT_TO_POINTER(pos + 1));
}

void vmnet_chain_collect(const VmnetChain *c, gconstpointer key, GArray *out)
{
        for (guint p = vmnet_chain_latest(c, key); p; p = c->prev[p - 1]) {
                guint pos = p - 1;

                g_array_append_val(out, pos);
        }
}

static int pos_cmp(gconstpointer a, gconstpointer b)
{
        guint x = *(const guint *)a, y = *(const guint *)b;

        return x < y ? -1 : x > y;
}

void vmnet_positions_sort_unique(GArray *pos)
{
        guint n = 0;

        g_array_sort(pos, pos_cmp);
        for (guint i = 0; i < pos->len; i++)
                if (n == 0 || g_array_index(pos, guint, i) != g_array_index(pos, guint, n - 1))
                        g_array_index(pos, guint, n++) = g_array_index(pos, guint, i);
        g_array_set_size(pos, n);
}

guint vmnet_hash_mix(guint h, guint x)
{
        return h * 31 + x;
}

guint vmnet_nstr_hash(gconstpointer s)
{
        return s ? g_str_hash(s) : 0;
}

gboolean vmnet_nstr_equal(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(a, b) == 0;
}

/* ------------------------------------------------------------ subnet index */

static guint prefix_hash(gconstpointer p)
{
        const VmnetPrefix *x = p;

        return vmnet_hash_mix(vmnet_addr_hash(&x->addr), x->prefix);
}

static gboolean prefix_equal(gconstpointer a, gconstpointer b)
{
        const VmnetPrefix *x = a, *y = b;

        return x->prefix == y->prefix && vmnet_addr_equal(&x->addr, &y->addr);
}

static gboolean *index_lengths(VmnetSubnetIndex *si, const VmnetPrefix *p)
{
        return si->lengths[p->addr.family == AF_INET6];
}

static const VmnetPrefix *ref_prefix(const VmnetSubnetIndex *si, guint pos)
{
        return &g_array_index(si->refs, VmnetSubnetRef, pos).subnet->cidr;
}

static int by_addr_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
        const VmnetSubnetIndex *si = data;
        const VmnetPrefix *x = ref_prefix(si, *(const guint *)a);
        const VmnetPrefix *y = ref_prefix(si, *(const guint *)b);
        int c = vmnet_addr_cmp(&x->addr, &y->addr);

        if (c)
                return c;
        return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

void vmnet_subnet_index_init(VmnetSubnetIndex *si, const GPtrArray *nets)
{
        guint total = 0;

        memset(si, 0, sizeof(*si));
        for (guint i = 0; i < nets->len; i++)
                total += ((const VmnetNetwork *)g_ptr_array_index(nets, i))->subnets->len;
        si->refs = g_array_sized_new(FALSE, FALSE, sizeof(VmnetSubnetRef), total);
        si->by_addr = g_array_sized_new(FALSE, FALSE, sizeof(guint), total);
        vmnet_chain_init(&si->exact, total, prefix_hash, prefix_equal);
        for (guint i = 0; i < nets->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(nets, i);

                for (guint j = 0; j < n->subnets->len; j++) {
                        const VmnetSubnet *s = g_ptr_array_index(n->subnets, j);
                        VmnetSubnetRef ref = { .net = n, .net_pos = i, .subnet = s };
                        guint pos = si->refs->len;

                        /* No family overlaps no subnet that has one (vmnet_prefix_overlaps()). */
                        if (!s->cidr.addr.family || s->cidr.prefix > 128)
                                continue;
                        g_array_append_val(si->refs, ref);
                        g_array_append_val(si->by_addr, pos);
                        vmnet_chain_add(&si->exact, &s->cidr, pos);
                        index_lengths(si, &s->cidr)[s->cidr.prefix] = TRUE;
                }
        }
        g_array_sort_with_data(si->by_addr, by_addr_cmp, si);
}

void vmnet_subnet_index_clear(VmnetSubnetIndex *si)
{
        g_clear_pointer(&si->refs, g_array_unref);
        g_clear_pointer(&si->by_addr, g_array_unref);
        vmnet_chain_clear(&si->exact);
}

void vmnet_subnet_index_overlapping(VmnetSubnetIndex *si, const VmnetPrefix *p, GArray *out)
{
        const gboolean *lengths = index_lengths(si, p);
        guint lo = 0, hi = si->by_addr->len;
        VmnetAddr last;

        /* Those that contain p or equal it. */
        for (guint len = 0; len <= MIN(p->prefix, 128); len++) {
                VmnetPrefix outer = { .addr = p->addr, .prefix = len };

                if (!lengths[len])
                        continue;
                vmnet_addr_mask(&outer.addr, len);
                vmnet_chain_collect(&si->exact, &outer, out);
        }

        /* Those inside p: longer prefixes from p's first address to its last. */
        while (lo < hi) {
                guint mid = lo + (hi - lo) / 2;

                if (vmnet_addr_cmp(&ref_prefix(si, g_array_index(si->by_addr, guint, mid))->addr,
                                   &p->addr) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        vmnet_prefix_last(p, &last);
        for (guint i = lo; i < si->by_addr->len; i++) {
                guint pos = g_array_index(si->by_addr, guint, i);
                const VmnetPrefix *q = ref_prefix(si, pos);

                if (vmnet_addr_cmp(&q->addr, &last) > 0)
                        break;
                if (q->prefix > p->prefix)
                        g_array_append_val(out, pos);
        }
}
