/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <sys/socket.h>
#include <string.h>

#include "backend/nftables/nft.h"
#include "backend/nftables/review.h"
#include "util/mutant.h"

/*
 * Reads the digest's line format (src/backend/nftables/digest.c, objs_digest()):
 *
 *   table FAMILY NAME flags 0xF [udata HEX] use N
 *     set NAME flags 0xF key TYPE/LEN [data TYPE/LEN] ...
 *       elem HEX[-HEX] [: HEX] [flags 0xF] ...
 *     chain NAME [type T hook H prio P policy N] ...
 *       rule [ expr ] [ expr ] ... [udata HEX]
 *
 * Nothing else is assumed: a line of another shape is an entry of its own,
 * shown as it is, so a change in the digest never hides a change.
 */

#define NFT_SET_INTERVAL_FLAG 0x4u
#define NFT_SET_CONCAT_FLAG 0x80u
#define NFT_SET_ELEM_INTERVAL_END_FLAG 0x1u
#define TYPE_BITS 6 /* nft concatenates datatype ids 6 bits each */

typedef struct {
        char *key;        /* identity: family, container and canonical line */
        const char *kind; /* static */
        char *text;
        gboolean bridge;  /* in table bridge vmnet */
        char *chain;      /* a rule's chain */
} Entry;

static void entry_free(gpointer p)
{
        Entry *e = p;

        g_free(e->key);
        g_free(e->chain);
        g_free(e->text);
        g_free(e);
}

void vmnet_nft_change_free(VmnetNftChange *c)
{
        if (!c)
                return;
        g_free(c->text);
        g_free(c);
}

/* --- element bytes to values --- */

static GByteArray *hex_bytes(const char *s, gsize n)
{
        GByteArray *b = g_byte_array_new();

        for (gsize i = 0; i + 1 < n; i += 2) {
                int hi = g_ascii_xdigit_value(s[i]), lo = g_ascii_xdigit_value(s[i + 1]);
                guint8 v;

                if (hi < 0 || lo < 0) {
                        g_byte_array_unref(b);
                        return NULL;
                }
                v = (guint8)(hi * 16 + lo);
                g_byte_array_append(b, &v, 1);
        }
        return b;
}

/* The fields of a key or data type (nft's concatenated id), with their lengths in the element. */
typedef struct {
        VmnetNftDatatype type[VMNET_NFT_MAX_CONCAT];
        guint len[VMNET_NFT_MAX_CONCAT];
        guint n;
} Fields;

static gboolean datatype_from_id(guint32 id, VmnetNftDatatype *out)
{
        for (int t = 0; t <= VMNET_NFT_DT_ICMPV6_TYPE; t++)
                if (vmnet_nft_datatype_id((VmnetNftDatatype)t) == id) {
                        *out = (VmnetNftDatatype)t;
                        return TRUE;
                }
        return FALSE;
}

static gboolean fields_from_type(guint32 id, guint len, Fields *f)
{
        guint32 ids[VMNET_NFT_MAX_CONCAT];
        guint n = 0, total = 0;

        while (id) {
                if (n == VMNET_NFT_MAX_CONCAT)
                        return FALSE;
                ids[n++] = id & ((1u << TYPE_BITS) - 1);
                id >>= TYPE_BITS;
        }
        f->n = n;
        for (guint i = 0; i < n; i++) {
                /* ids[] is last field first */
                if (!datatype_from_id(ids[n - 1 - i], &f->type[i]))
                        return FALSE;
                f->len[i] = vmnet_nft_datatype_len(f->type[i]);
                if (n > 1)
                        f->len[i] = (f->len[i] + 3) / 4 * 4; /* registers: 4-byte units */
                total += f->len[i];
        }
        return n > 0 && (total == len || (n == 1 && f->len[0] <= len));
}

static VmnetNftValue value_from_bytes(VmnetNftDatatype t, const guint8 *b)
{
        VmnetNftValue v = { .type = t };
        guint32 u32;

        switch (t) {
        case VMNET_NFT_DT_IFNAME:
                memcpy(v.ifname, b, VMNET_IFNAMSIZ);
                v.ifname[VMNET_IFNAMSIZ - 1] = '\0';
                break;
        case VMNET_NFT_DT_IPV4_ADDR:
                v.addr.family = AF_INET;
                memcpy(v.addr.bytes, b, 4);
                v.prefix = 32;
                break;
        case VMNET_NFT_DT_IPV6_ADDR:
                v.addr.family = AF_INET6;
                memcpy(v.addr.bytes, b, 16);
                v.prefix = 128;
                break;
        case VMNET_NFT_DT_INET_PROTO:
        case VMNET_NFT_DT_NFPROTO:
        case VMNET_NFT_DT_ICMPV6_TYPE:
                v.num = b[0];
                break;
        case VMNET_NFT_DT_ETHER_ADDR:
                memcpy(v.mac.b, b, 6);
                break;
        case VMNET_NFT_DT_INET_SERVICE:
        case VMNET_NFT_DT_ETHER_TYPE:
                v.num = (guint32)b[0] << 8 | b[1];
                break;
        case VMNET_NFT_DT_FIB_ADDRTYPE:
        case VMNET_NFT_DT_CT_STATE:
        case VMNET_NFT_DT_CT_STATUS:
                memcpy(&u32, b, 4); /* host byte order */
                v.num = u32;
                break;
        }
        return v;
}

/* The prefix length when [first, last] is exactly one prefix, else -1. */
static int range_prefix(const guint8 *first, const guint8 *last, guint len)
{
        guint bits = len * 8, p = 0;

        while (p < bits && ((first[p / 8] ^ last[p / 8]) & (0x80 >> (p % 8))) == 0)
                p++;
        for (guint i = p; i < bits; i++) {
                guint8 m = (guint8)(0x80 >> (i % 8));

                if ((first[i / 8] & m) || !(last[i / 8] & m))
                        return -1;
        }
        return (int)p;
}

/* One field as nft writes it; [first, last] an address range when last is not NULL. */
static void field_text(GString *out, VmnetNftDatatype t, const guint8 *first, const guint8 *last)
{
        VmnetNftValue v = value_from_bytes(t, first);
        g_autofree char *s = NULL;

        if (last && (t == VMNET_NFT_DT_IPV4_ADDR || t == VMNET_NFT_DT_IPV6_ADDR)) {
                int p = range_prefix(first, last, vmnet_nft_datatype_len(t));

                if (p < 0) {
                        VmnetNftValue w = value_from_bytes(t, last);
                        g_autofree char *a = vmnet_nft_values_to_text(&v, 1, FALSE);
                        g_autofree char *b = vmnet_nft_values_to_text(&w, 1, FALSE);

                        g_string_append_printf(out, "%s-%s", a, b);
                        return;
                }
                v.prefix = (guint)p;
        }
        s = vmnet_nft_values_to_text(&v, 1, last != NULL);
        g_string_append(out, s);
}

/* Key (and key_end) or data bytes as "f1 . f2 ..."; FALSE when they do not fit the fields. */
static gboolean fields_text(GString *out, const Fields *f, const GByteArray *first,
                            const GByteArray *last)
{
        guint off = 0;

        for (guint i = 0; i < f->n; i++) {
                if (off + f->len[i] > first->len || (last && off + f->len[i] > last->len))
                        return FALSE;
                if (i)
                        g_string_append(out, " . ");
                field_text(out, f->type[i], first->data + off, last ? last->data + off : NULL);
                off += f->len[i];
        }
        return TRUE;
}

/* --- the digest's lines to entries --- */

typedef struct {
        GPtrArray *entries;      /* Entry* */
        GHashTable *rule_text;   /* rule key -> text (borrowed from the caller), may be NULL */
        GHashTable *seen_rules;  /* rule line -> occurrences so far, for identical rules */
        char *family;
        /* the current set */
        char *set;
        const char *set_kind;
        guint32 set_flags;
        gboolean fields_ok;
        gboolean is_map;
        Fields key, data;
        GByteArray *open_start;  /* an interval set (not concatenated): a start awaiting its end */
        char *open_hex;
        /* the current chain */
        char *chain;
} Reader;

/* What a set is for, by its name (the IR's vocabulary, backend/nftables/ir-inet.c and ir-bridge.c). */
static const char *set_kind(const char *family, const char *name)
{
        static const struct {
                const char *prefix;
                const char *kind;
        } kinds[] = {
                { "fwd", "forward" },        { "masq", "masquerade" },
                { "hairpin", "masquerade" }, { "same_bridge", "isolation" },
                { "l2_bridges", "isolation" }, { "bridges", "isolation" },
                { "allow_", "policy" },      { "host_allow", "policy" },
                { "host_services", "policy" }, { "out", "access" },
                { "in", "access" },
        };

        if (g_str_equal(family, "bridge"))
                return "antispoof";
        for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++)
                if (g_str_has_prefix(name, kinds[i].prefix))
                        return kinds[i].kind;
        return "set";
}

static Entry *add_entry(Reader *r, const char *kind, char *key, char *text)
{
        Entry *e = g_new0(Entry, 1);

        e->kind = kind;
        e->key = key;
        e->text = text;
        e->bridge = g_strcmp0(r->family, "bridge") == 0;
        g_ptr_array_add(r->entries, e);
        return e;
}

/* "bridge " in table bridge vmnet, "" in table inet vmnet. */
static const char *where(const Reader *r)
{
        return g_strcmp0(r->family, "inet") == 0 ? "" : "bridge ";
}

static void element_entry(Reader *r, const char *hexkey, const GByteArray *first,
                          const GByteArray *last, const GByteArray *data, const char *line)
{
        GString *t = g_string_new(NULL);

        g_string_append_printf(t, "%s %s@%s: ", r->set_kind, where(r), r->set);
        if (!r->fields_ok || !fields_text(t, &r->key, first, last) ||
            (data && (!r->is_map || (g_string_append(t, " : "), !fields_text(t, &r->data, data,
                                                                              NULL))))) {
                /* Types vmnet does not know: the element as the digest has it. */
                g_autofree char *raw = g_strstrip(g_strdup(line));

                g_string_truncate(t, 0);
                g_string_append_printf(t, "%s %s@%s: %s", r->set_kind, where(r), r->set, raw);
        }
        add_entry(r, r->set_kind, g_strdup_printf("%s set %s elem %s", r->family, r->set, hexkey),
                  g_string_free(t, FALSE));
}

/* An interval set's start without an end: the range runs to the last address. */
static void flush_open(Reader *r)
{
        g_autoptr(GByteArray) last = NULL;

        if (!r->open_start)
                return;
        last = g_byte_array_sized_new(r->open_start->len);
        g_byte_array_set_size(last, r->open_start->len);
        memset(last->data, 0xff, last->len);
        element_entry(r, r->open_hex, r->open_start, last, NULL, r->open_hex);
        g_clear_pointer(&r->open_start, g_byte_array_unref);
        g_clear_pointer(&r->open_hex, g_free);
}

static void end_container(Reader *r)
{
        flush_open(r);
        g_clear_pointer(&r->set, g_free);
        g_clear_pointer(&r->chain, g_free);
}

static char *types_text(const Fields *f)
{
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < f->n; i++)
                g_string_append_printf(s, "%s%s", i ? " . " : "",
                                       vmnet_nft_datatype_name(f->type[i]));
        return g_string_free(s, FALSE);
}

static void read_set(Reader *r, const char *line)
{
        char name[256];
        guint32 flags = 0, ktype = 0, klen = 0, dtype = 0, dlen = 0;
        const char *d;
        GString *t;

        end_container(r);
        if (sscanf(line, "  set %255s flags 0x%x key %u/%u", name, &flags, &ktype, &klen) != 4) {
                add_entry(r, "set", g_strdup_printf("%s %s", r->family, line), g_strdup(line + 2));
                return;
        }
        r->set = g_strdup(name);
        r->set_kind = set_kind(r->family, name);
        r->set_flags = flags;
        r->fields_ok = fields_from_type(ktype, klen, &r->key);
        d = strstr(line, " data ");
        r->is_map = d && sscanf(d, " data %u/%u", &dtype, &dlen) == 2;
        if (r->is_map)
                r->fields_ok = r->fields_ok && fields_from_type(dtype, dlen, &r->data);
        t = g_string_new(NULL);
        g_string_append_printf(t, "%s %s%s", r->is_map ? "map" : "set", where(r), name);
        if (r->fields_ok) {
                g_autofree char *k = types_text(&r->key);

                g_string_append_printf(t, ": type %s", k);
                if (r->is_map) {
                        g_autofree char *v = types_text(&r->data);

                        g_string_append_printf(t, " : %s", v);
                }
                if (flags & NFT_SET_INTERVAL_FLAG)
                        g_string_append(t, ", interval");
        }
        add_entry(r, "set", g_strdup_printf("%s %s", r->family, line), g_string_free(t, FALSE));
}

static void read_elem(Reader *r, const char *line)
{
        const char *p = line + strlen("    elem ");
        gsize klen = strspn(p, "0123456789abcdef");
        const char *dash = p[klen] == '-' ? p + klen + 1 : NULL;
        gsize elen = dash ? strspn(dash, "0123456789abcdef") : 0;
        const char *colon = strstr(p, " : ");
        const char *fl = strstr(p, " flags 0x");
        guint32 flags = fl ? (guint32)g_ascii_strtoull(fl + strlen(" flags 0x"), NULL, 16) : 0;
        g_autoptr(GByteArray) first = hex_bytes(p, klen);
        g_autoptr(GByteArray) last = dash ? hex_bytes(dash, elen) : NULL;
        g_autoptr(GByteArray) data = NULL;
        g_autofree char *hexkey = g_strndup(p, dash ? (gsize)(dash - p) + elen : klen);

        if (colon)
                data = hex_bytes(colon + 3, strspn(colon + 3, "0123456789abcdef"));
        if (!r->set || !first) {
                add_entry(r, "set", g_strdup_printf("%s %s", r->family, line),
                          g_strstrip(g_strdup(line)));
                return;
        }
        if ((r->set_flags & NFT_SET_INTERVAL_FLAG) && !(r->set_flags & NFT_SET_CONCAT_FLAG) &&
            !dash) {
                /*
                 * An interval set of one field: the kernel keeps [start, end) as a
                 * start element and an end element (flag interval-end), in key order.
                 */
                if (flags & NFT_SET_ELEM_INTERVAL_END_FLAG) {
                        g_autofree char *key = NULL;

                        if (!r->open_start)
                                return; /* the end of the gap before the first range */
                        /* the end is exclusive: last = end - 1 */
                        for (guint i = first->len; i-- > 0;)
                                if (first->data[i]-- != 0)
                                        break;
                        key = g_strdup_printf("%s-%s", r->open_hex, hexkey);
                        element_entry(r, key, r->open_start, first, NULL, key);
                        g_clear_pointer(&r->open_start, g_byte_array_unref);
                        g_clear_pointer(&r->open_hex, g_free);
                        return;
                }
                flush_open(r);
                r->open_start = g_steal_pointer(&first);
                r->open_hex = g_steal_pointer(&hexkey);
                return;
        }
        /* with data or flags, the whole element is its identity */
        if (colon || flags) {
                g_free(hexkey);
                hexkey = g_strstrip(g_strdup(p));
        }
        element_entry(r, hexkey, first, last, data, line);
}

static void read_chain(Reader *r, const char *line)
{
        char name[256], type[64], hook[64];
        int prio = 0;
        guint policy = 1;
        int n;

        end_container(r);
        n = sscanf(line, "  chain %255s type %63s hook %63s prio %d policy %u", name, type, hook,
                   &prio, &policy);
        if (n < 1) {
                add_entry(r, "chain", g_strdup_printf("%s %s", r->family, line), g_strdup(line + 2));
                return;
        }
        r->chain = g_strdup(name);
        add_entry(r, "chain", g_strdup_printf("%s %s", r->family, line),
                  n == 5 ? g_strdup_printf("chain %s%s: type %s hook %s priority %d; policy %s",
                                           where(r), name, type, hook, prio,
                                           policy == 0 ? "drop" : "accept")
                         : g_strdup_printf("chain %s%s", where(r), name));
}

/* "inet forward [ ... ] #2": a rule's identity; identical rules in a chain count up. */
static char *rule_key(Reader *r, const char *line)
{
        g_autofree char *base = g_strdup_printf("%s %s %s", r->family, r->chain ? r->chain : "",
                                                line);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(r->seen_rules, base));

        g_hash_table_insert(r->seen_rules, g_strdup(base), GUINT_TO_POINTER(n + 1));
        return g_strdup_printf("%s #%u", base, n);
}

static void read_rule(Reader *r, const char *line)
{
        char *key = rule_key(r, line);
        const char *text = r->rule_text ? g_hash_table_lookup(r->rule_text, key) : NULL;
        Entry *e;

        e = add_entry(r, "rule", key,
                  text ? g_strdup_printf("rule %s%s: %s", where(r), r->chain ? r->chain : "?",
                                         text)
                       : g_strdup_printf("rule %s%s: %s", where(r), r->chain ? r->chain : "?",
                                         line + strlen("    rule ")));
        e->chain = g_strdup(r->chain);
}

static char *udata_comment(const char *line)
{
        const char *u = strstr(line, " udata ");
        g_autoptr(GByteArray) b = NULL;

        if (!u)
                return NULL;
        u += strlen(" udata ");
        b = hex_bytes(u, strspn(u, "0123456789abcdef"));
        /* TLV: type 0 (comment), length, NUL-terminated text */
        if (!b || b->len < 3 || b->data[0] != 0 || b->data[1] + 2u > b->len)
                return NULL;
        return g_strndup((const char *)b->data + 2, b->data[1]);
}

static void read_table(Reader *r, const char *line)
{
        char family[32];
        const char *use = strstr(line, " use ");
        g_autofree char *comment = udata_comment(line);

        end_container(r);
        g_clear_pointer(&r->family, g_free);
        r->family = g_strdup(sscanf(line, "table %31s", family) == 1 ? family : "?");
        /* "use N" counts the table's objects: their own entries show what changed. */
        add_entry(r, "table",
                  g_strdup_printf("%.*s", use ? (int)(use - line) : (int)strlen(line), line),
                  comment ? g_strdup_printf("table %s %s: comment \"%s\"", r->family,
                                            VMNET_NFT_TABLE, comment)
                          : g_strdup_printf("table %s %s", r->family, VMNET_NFT_TABLE));
}

static GPtrArray *read_digest(const char *digest, GHashTable *rule_text)
{
        g_auto(GStrv) lines = g_strsplit(digest ? digest : "", "\n", -1);
        Reader r = { .entries = g_ptr_array_new_with_free_func(entry_free),
                     .rule_text = rule_text,
                     .seen_rules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
                     .family = g_strdup("inet") };

        for (char **l = lines; *l; l++) {
                if (!**l)
                        continue;
                if (g_str_has_prefix(*l, "table "))
                        read_table(&r, *l);
                else if (g_str_has_prefix(*l, "  set "))
                        read_set(&r, *l);
                else if (g_str_has_prefix(*l, "    elem "))
                        read_elem(&r, *l);
                else if (g_str_has_prefix(*l, "  chain "))
                        read_chain(&r, *l);
                else if (g_str_has_prefix(*l, "    rule"))
                        read_rule(&r, *l);
                else
                        add_entry(&r, "table", g_strdup_printf("%s %s", r.family, *l),
                                  g_strstrip(g_strdup(*l)));
        }
        end_container(&r);
        g_free(r.family);
        g_hash_table_unref(r.seen_rules);
        return r.entries;
}

/*
 * Rule key -> nft text for every rule of ir: the IR's own digest lists each
 * chain's rules in the IR's order, so the k-th rule line of chain C is
 * rule k of the IR's chain C.
 */
static GHashTable *ir_rule_texts(const VmnetNftIr *ir)
{
        GHashTable *map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(GHashTable) next = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autofree char *digest = NULL;
        g_autoptr(GPtrArray) entries = NULL;

        if (!ir)
                return map;
        digest = vmnet_nft_ir_digest(ir);
        entries = read_digest(digest, NULL);
        for (guint i = 0; i < entries->len; i++) {
                const Entry *e = g_ptr_array_index(entries, i);
                const VmnetNftIr *table = e->bridge ? ir->bridge : ir;
                const VmnetNftChain *c = NULL;
                g_autofree char *chain_key = NULL;
                guint k;

                if (!g_str_equal(e->kind, "rule") || !e->chain || !table ||
                    !(c = vmnet_nft_ir_find_chain(table, e->chain)))
                        continue;
                chain_key = g_strdup_printf("%d %s", e->bridge, e->chain);
                k = GPOINTER_TO_UINT(g_hash_table_lookup(next, chain_key));
                if (k < c->rules->len)
                        g_hash_table_insert(map, g_strdup(e->key),
                                            vmnet_nft_rule_to_text(g_ptr_array_index(c->rules, k)));
                g_hash_table_insert(next, g_steal_pointer(&chain_key), GUINT_TO_POINTER(k + 1));
        }
        return map;
}

static int cmp_text(gconstpointer a, gconstpointer b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *vmnet_nft_review_entries(const char *digest, const VmnetNftIr *ir)
{
        g_autoptr(GHashTable) texts = ir_rule_texts(ir);
        g_autoptr(GPtrArray) entries = read_digest(digest, texts);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < entries->len; i++)
                g_ptr_array_add(out, g_strdup(((Entry *)g_ptr_array_index(entries, i))->text));
        g_ptr_array_sort(out, cmp_text);
        return out;
}

static guint kind_rank(const char *kind)
{
        static const char *const order[] = { "table",     "chain",  "set",    "forward",
                                             "masquerade", "isolation", "policy", "access",
                                             "antispoof", "rule",   NULL };

        for (guint i = 0; order[i]; i++)
                if (g_str_equal(kind, order[i]))
                        return i;
        return G_N_ELEMENTS(order);
}

static int cmp_change(gconstpointer a, gconstpointer b)
{
        const VmnetNftChange *x = *(VmnetNftChange *const *)a, *y = *(VmnetNftChange *const *)b;
        guint rx = kind_rank(x->kind), ry = kind_rank(y->kind);

        if (rx != ry)
                return rx < ry ? -1 : 1;
        if (x->added != y->added)
                return x->added ? 1 : -1;
        return strcmp(x->text, y->text);
}

/* Adds a change for each entry of `from` whose key `other` does not have. */
static void changes_between(GPtrArray *out, GPtrArray *from, GPtrArray *other, gboolean added)
{
        g_autoptr(GHashTable) keys = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < other->len; i++)
                g_hash_table_add(keys, ((Entry *)g_ptr_array_index(other, i))->key);
        for (guint i = 0; i < from->len; i++) {
                const Entry *e = g_ptr_array_index(from, i);
                VmnetNftChange *c;

                if (g_hash_table_contains(keys, e->key))
                        continue;
                c = g_new0(VmnetNftChange, 1);
                c->added = added;
                c->kind = e->kind;
                c->text = g_strdup(e->text);
                g_ptr_array_add(out, c);
        }
}

GPtrArray *vmnet_nft_review_diff(const char *before, const char *after, const VmnetNftIr *ir)
{
        g_autoptr(GHashTable) texts = ir_rule_texts(ir);
        g_autoptr(GPtrArray) b = read_digest(before, texts);
        g_autoptr(GPtrArray) a = read_digest(after, texts);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_nft_change_free);

        if (!VMNET_MUTANT_IS(REVIEW_NO_REMOVED))
                changes_between(out, b, a, FALSE);
        changes_between(out, a, b, TRUE);
        g_ptr_array_sort(out, cmp_change);
        return out;
}
