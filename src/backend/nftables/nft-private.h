/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the files of the nftables kernel side share (nft.c: sockets, dumps,
 * batches; encode.c: IR -> libnftnl objects; digest.c: the canonical
 * digest; snapshot.c: observe, snapshot, restore; foreign.c: other tables'
 * drops): the nftnl form of vmnet's two tables and the calls between them.
 * Not for use outside src/backend/nftables/ (nft.h is the API).
 */

#include <glib.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "backend/nftables/nft.h"

#define BATCH_PAGE_SIZE (128 * 1024)
#define NLMSG_MAXSIZE (UINT16_MAX + 4096)
#define RECV_BUF_SIZE (256 * 1024)
#define DUMP_RETRIES 8

/*
 * vmnet's tables, in the order every operation handles them: table inet
 * vmnet (the policy) and table bridge vmnet (anti-spoofing per guest port,
 * the inet IR's bridge member). Replacing, deleting and restoring them is
 * one transaction for both; reading them is one consistent dump of both.
 */
#define N_TABLES 2

/* ------------------------------------------------------------------------ */
/* Objects: the nftnl form of a table, built from an IR or read from the kernel */

typedef struct {
        guint32 family;            /* NFPROTO_INET or NFPROTO_BRIDGE */
        struct nftnl_table *table; /* NULL: no table */
        GPtrArray *chains;         /* struct nftnl_chain* */
        GPtrArray *sets;           /* struct nftnl_set*, elements attached */
        GPtrArray *rules;          /* struct nftnl_rule*, per chain in order */
        GPtrArray *rule_what;      /* char*, parallel to rules: how to name each in errors */
} NftObjs;

typedef struct {
        GPtrArray *out;
        gboolean only_vmnet; /* keep only table FAMILY vmnet's objects */
        guint32 family;
} ListCb;

typedef struct {
        struct nftnl_batch *batch;
        guint32 family; /* of the messages batch_msg() starts */
        guint32 first_seq;
        guint32 seq;
        GPtrArray *what; /* char*: what message first_seq + i does, for errors */
} Batch;

/* nft.c */
extern const guint32 vmnet_nft_table_family[N_TABLES];
const char *vmnet_nft_nfproto_name(guint32 family);
const char *vmnet_nft_hook_name(guint32 hook);
void vmnet_nft_hex_append(GString *out, const void *data, guint32 len);
void vmnet_nft_objs_clear(NftObjs *o);
void vmnet_nft_objs_init(NftObjs *o, guint32 family);
guint32 vmnet_nft_next_seq(void);
void vmnet_nft_drain(struct mnl_socket *nl);
int vmnet_nft_talk(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb, gpointer data);
int vmnet_nft_chain_cb(const struct nlmsghdr *nlh, void *data);
int vmnet_nft_rule_cb(const struct nlmsghdr *nlh, void *data);
gboolean vmnet_nft_read_tables(struct mnl_socket *nl, NftObjs *o, GError **error);
void vmnet_nft_batch_init(Batch *b);
void vmnet_nft_batch_clear(Batch *b);
void vmnet_nft_batch_drop_table(Batch *b, guint32 family);
void vmnet_nft_batch_objs(Batch *b, const NftObjs *o, guint16 table_flags);
gboolean vmnet_nft_batch_send(struct mnl_socket *nl, Batch *b, const char *doing, GError **error);
gboolean vmnet_nft_table_exists(struct mnl_socket *nl, guint32 family);

/* encode.c */
void vmnet_nft_objs_from_ir(NftObjs *o, const VmnetNftIr *ir);

/* digest.c */
char *vmnet_nft_table_comment(const struct nftnl_table *t);
char *vmnet_nft_tables_digest(const NftObjs *o);
void vmnet_nft_tables_from_ir(NftObjs *o, const VmnetNftIr *ir);
void vmnet_nft_tables_clear(NftObjs *o);
