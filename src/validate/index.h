/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The look-ups that keep the checks between objects of a plan linear in its
 * size: chains of the earlier objects that share a key, and an index of the
 * plan's subnets by overlap. Pure data structures over a finalized plan;
 * validate.c decides what to look up.
 */

#include <glib.h>

#include "model/model.h"

/*
 * The checks between objects look for the earlier objects that share a value
 * with the current one. Comparing every pair made validation quadratic in the
 * plan (a 1000-network plan spent a quarter of a no-op apply in g_strcmp0), so
 * these checks follow a chain instead: a hash table from a key to the latest
 * object that has it, and for each object the one before it with the same
 * key. Keys are borrowed from the plan and hashed on the fields that make
 * them equal, so adding an object allocates nothing. A chain only narrows
 * the candidates: the exact check still runs on each of them, in plan order,
 * so the messages and their order are those of comparing every pair.
 */
typedef struct {
        GHashTable *latest; /* key -> 1 + position of the latest object with it */
        guint *prev;        /* position -> 1 + position of the one before with its key, 0: none */
} VmnetChain;

void vmnet_chain_init(VmnetChain *c, guint size, GHashFunc hash, GEqualFunc equal);
void vmnet_chain_clear(VmnetChain *c);
/* 1 + the position of the latest object with key, 0 when there is none. */
guint vmnet_chain_latest(const VmnetChain *c, gconstpointer key);
/* key must live as long as the chain (an equal key already there is kept). */
void vmnet_chain_add(VmnetChain *c, gconstpointer key, guint pos);
/* Appends the positions of the objects with key to out (guint), latest first. */
void vmnet_chain_collect(const VmnetChain *c, gconstpointer key, GArray *out);
/* Candidates from several chains: sorted, each once, so they are checked in plan order. */
void vmnet_positions_sort_unique(GArray *pos);

/* Hashes for chain keys. */
guint vmnet_hash_mix(guint h, guint x);
/* Strings that may be NULL: equal as g_strcmp0() sees them. */
guint vmnet_nstr_hash(gconstpointer s);
gboolean vmnet_nstr_equal(gconstpointer a, gconstpointer b);

/*
 * Two prefixes overlap only when one contains the other. So the subnets that
 * overlap a prefix are those that contain it (the prefix cut to each length
 * the plan uses, looked up by exact value) and those inside it (a run of the
 * subnets sorted by address, from its own address to its last one). A query
 * costs about the number of subnets it finds, not the number in the plan.
 */
typedef struct {
        const VmnetNetwork *net;
        guint net_pos; /* position of net in the plan */
        const VmnetSubnet *subnet;
} VmnetSubnetRef;

typedef struct {
        GArray *refs;    /* VmnetSubnetRef: every subnet that has an address family, in plan order */
        GArray *by_addr; /* positions in refs, by family, address and prefix length */
        VmnetChain exact;     /* VmnetPrefix -> positions in refs */
        gboolean lengths[2][129]; /* the prefix lengths in use, IPv4 and IPv6 */
} VmnetSubnetIndex;

void vmnet_subnet_index_init(VmnetSubnetIndex *si, const GPtrArray *nets);
void vmnet_subnet_index_clear(VmnetSubnetIndex *si);
/* Appends to out the positions in si->refs of the subnets that overlap p (which has a family), in any order. */
void vmnet_subnet_index_overlapping(VmnetSubnetIndex *si, const VmnetPrefix *p, GArray *out);
