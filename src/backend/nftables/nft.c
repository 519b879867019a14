/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>

#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/udata.h>

#include "backend/nftables/nft-private.h"
#include "backend/nftables/nft.h"
#include "util/autoptr.h"
#include "util/mutant.h"

/*
 * Talking to the kernel: the NETLINK_NETFILTER socket, consistent dumps of
 * vmnet's tables, and the batches that replace and delete them (nft.h).
 * What this file shares with encode.c, digest.c, snapshot.c and foreign.c
 * is declared in nft-private.h.
 */

/* vmnet's tables, in the order every operation handles them (nft-private.h, N_TABLES). */
const guint32 vmnet_nft_table_family[N_TABLES] = { NFPROTO_INET, NFPROTO_BRIDGE };

const char *vmnet_nft_nfproto_name(guint32 family)
{
        switch (family) {
        case NFPROTO_INET:
                return "inet";
        case NFPROTO_IPV4:
                return "ip";
        case NFPROTO_IPV6:
                return "ip6";
        case NFPROTO_ARP:
                return "arp";
        case NFPROTO_BRIDGE:
                return "bridge";
        case NFPROTO_NETDEV:
                return "netdev";
        }
        return "unknown";
}

const char *vmnet_nft_hook_name(guint32 hook)
{
        static const char *const names[] = { "prerouting", "input", "forward", "output",
                                             "postrouting" };

        return hook < G_N_ELEMENTS(names) ? names[hook] : "unknown";
}

/* Not printf per byte: digests of big tables hex every element (~25k instructions each). */
void vmnet_nft_hex_append(GString *out, const void *data, guint32 len)
{
        static const char digits[] = "0123456789abcdef";
        const guint8 *p = data;

        for (guint32 i = 0; i < len; i++) {
                g_string_append_c(out, digits[p[i] >> 4]);
                g_string_append_c(out, digits[p[i] & 0xf]);
        }
}

void vmnet_nft_objs_clear(NftObjs *o)
{
        g_clear_pointer(&o->table, nftnl_table_free);
        g_clear_pointer(&o->chains, g_ptr_array_unref);
        g_clear_pointer(&o->sets, g_ptr_array_unref);
        g_clear_pointer(&o->rules, g_ptr_array_unref);
        g_clear_pointer(&o->rule_what, g_ptr_array_unref);
}

void vmnet_nft_objs_init(NftObjs *o, guint32 family)
{
        o->family = family;
        o->table = NULL;
        o->chains = g_ptr_array_new_with_free_func((GDestroyNotify)nftnl_chain_free);
        o->sets = g_ptr_array_new_with_free_func((GDestroyNotify)nftnl_set_free);
        o->rules = g_ptr_array_new_with_free_func((GDestroyNotify)nftnl_rule_free);
        o->rule_what = g_ptr_array_new_with_free_func(g_free);
}

/* ------------------------------------------------------------------------ */
/* Talking to the kernel */

struct mnl_socket *vmnet_nft_socket_open(GError **error)
{
        g_autoptr(VmnetMnlSocket) nl = mnl_socket_open(NETLINK_NETFILTER);

        if (!nl) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "opening a NETLINK_NETFILTER socket: %s", g_strerror(errno));
                return NULL;
        }
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "binding the NETLINK_NETFILTER socket: %s", g_strerror(errno));
                return NULL;
        }
        return g_steal_pointer(&nl);
}

guint32 vmnet_nft_next_seq(void)
{
        static guint32 seq;

        /* Unique per process and unlikely to repeat a previous run's. */
        if (seq == 0)
                seq = (guint32)g_get_real_time();
        return ++seq;
}

/* Throws away replies nobody waits for (so a dump never reads a stale ack). */
void vmnet_nft_drain(struct mnl_socket *nl)
{
        char buf[8192];

        while (recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT) > 0)
                ;
}

/*
 * Sends one request and runs cb on each reply message until the dump or the
 * ack ends. Returns 0, or a negative errno (-EINTR: the ruleset changed
 * during the dump, start over).
 */
int vmnet_nft_talk(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb, gpointer data)
{
        g_autofree char *buf = g_malloc(RECV_BUF_SIZE);
        guint32 portid = mnl_socket_get_portid(nl);
        guint32 seq = req->nlmsg_seq;
        int ret;

        if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
                return -errno;
        do {
                ret = mnl_socket_recvfrom(nl, buf, RECV_BUF_SIZE);
                if (ret < 0)
                        return -errno;
                ret = mnl_cb_run(buf, ret, seq, portid, cb, data);
        } while (ret > 0);
        if (ret < 0) {
                int err = errno;

                vmnet_nft_drain(nl);
                return -err;
        }
        return 0;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
        struct nftnl_gen *gen = nftnl_gen_alloc();

        if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
                *(guint32 *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
        nftnl_gen_free(gen);
        return MNL_CB_OK;
}

static int get_genid(struct mnl_socket *nl, guint32 *genid)
{
        g_autofree char *buf = g_malloc0(MNL_SOCKET_BUFFER_SIZE);
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
                                                     vmnet_nft_next_seq());

        return vmnet_nft_talk(nl, nlh, gen_cb, genid);
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
        struct nftnl_table **out = data;
        struct nftnl_table *t = nftnl_table_alloc();

        if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
                nftnl_table_free(t);
                return MNL_CB_ERROR;
        }
        if (*out)
                nftnl_table_free(*out);
        *out = t;
        return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
        ListCb *l = data;
        struct nftnl_set *s = nftnl_set_alloc();

        if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
                nftnl_set_free(s);
                return MNL_CB_ERROR;
        }
        if (nftnl_set_get_u32(s, NFTNL_SET_FAMILY) == l->family &&
            g_strcmp0(nftnl_set_get_str(s, NFTNL_SET_TABLE), VMNET_NFT_TABLE) == 0)
                g_ptr_array_add(l->out, s);
        else
                nftnl_set_free(s);
        return MNL_CB_OK;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
        return nftnl_set_elems_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int vmnet_nft_chain_cb(const struct nlmsghdr *nlh, void *data)
{
        ListCb *l = data;
        struct nftnl_chain *c = nftnl_chain_alloc();

        if (nftnl_chain_nlmsg_parse(nlh, c) < 0) {
                nftnl_chain_free(c);
                return MNL_CB_ERROR;
        }
        if (!l->only_vmnet || (nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY) == l->family &&
                               g_strcmp0(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
                                         VMNET_NFT_TABLE) == 0))
                g_ptr_array_add(l->out, c);
        else
                nftnl_chain_free(c);
        return MNL_CB_OK;
}

int vmnet_nft_rule_cb(const struct nlmsghdr *nlh, void *data)
{
        ListCb *l = data;
        struct nftnl_rule *r = nftnl_rule_alloc();

        if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
                nftnl_rule_free(r);
                return MNL_CB_ERROR;
        }
        if (!l->only_vmnet || (nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) == l->family &&
                               g_strcmp0(nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
                                         VMNET_NFT_TABLE) == 0))
                g_ptr_array_add(l->out, r);
        else
                nftnl_rule_free(r);
        return MNL_CB_OK;
}

/*
 * One attempt at reading table FAMILY vmnet; -EINTR when it changed
 * meanwhile. A family the kernel does not support (no bridge family in
 * nf_tables) holds no table.
 */
static int read_table_once(struct mnl_socket *nl, NftObjs *o, guint32 family)
{
        g_autofree char *buf = g_malloc0(MNL_SOCKET_BUFFER_SIZE);
        struct nlmsghdr *nlh;
        ListCb l;
        int ret;

        vmnet_nft_objs_init(o, family);

        {
                g_autoptr(VmnetNftnlTable) t = nftnl_table_alloc();

                nftnl_table_set_str(t, NFTNL_TABLE_NAME, VMNET_NFT_TABLE);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK,
                                            vmnet_nft_next_seq());
                nftnl_table_nlmsg_build_payload(nlh, t);
                ret = vmnet_nft_talk(nl, nlh, table_cb, &o->table);
                if (ret == -ENOENT || ret == -EAFNOSUPPORT) {
                        g_clear_pointer(&o->table, nftnl_table_free);
                        return 0;
                }
                if (ret < 0)
                        return ret;
        }

        {
                g_autoptr(VmnetNftnlChain) c = nftnl_chain_alloc();

                nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, VMNET_NFT_TABLE);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, NLM_F_DUMP,
                                            vmnet_nft_next_seq());
                nftnl_chain_nlmsg_build_payload(nlh, c);
                l = (ListCb){ o->chains, TRUE, family };
                if ((ret = vmnet_nft_talk(nl, nlh, vmnet_nft_chain_cb, &l)) < 0)
                        return ret;
        }

        {
                g_autoptr(VmnetNftnlSet) s = nftnl_set_alloc();

                nftnl_set_set_str(s, NFTNL_SET_TABLE, VMNET_NFT_TABLE);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, family, NLM_F_DUMP,
                                            vmnet_nft_next_seq());
                nftnl_set_nlmsg_build_payload(nlh, s);
                l = (ListCb){ o->sets, TRUE, family };
                if ((ret = vmnet_nft_talk(nl, nlh, set_cb, &l)) < 0)
                        return ret;
        }

        for (guint i = 0; i < o->sets->len; i++) {
                struct nftnl_set *s = g_ptr_array_index(o->sets, i);

                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP,
                                            vmnet_nft_next_seq());
                nftnl_set_elems_nlmsg_build_payload(nlh, s);
                if ((ret = vmnet_nft_talk(nl, nlh, elems_cb, s)) < 0)
                        return ret;
        }

        {
                g_autoptr(VmnetNftnlRule) r = nftnl_rule_alloc();

                nftnl_rule_set_str(r, NFTNL_RULE_TABLE, VMNET_NFT_TABLE);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP,
                                            vmnet_nft_next_seq());
                nftnl_rule_nlmsg_build_payload(nlh, r);
                l = (ListCb){ o->rules, TRUE, family };
                if ((ret = vmnet_nft_talk(nl, nlh, vmnet_nft_rule_cb, &l)) < 0)
                        return ret;
        }
        return 0;
}

/* Reads both of vmnet's tables consistently: retried when the generation moved. */
gboolean vmnet_nft_read_tables(struct mnl_socket *nl, NftObjs *o, GError **error)
{
        int ret = 0;

        vmnet_nft_drain(nl);
        for (int attempt = 0; attempt < DUMP_RETRIES; attempt++) {
                guint32 gen_before = 0, gen_after = 0;

                if ((ret = get_genid(nl, &gen_before)) < 0)
                        break;
                ret = read_table_once(nl, &o[0], vmnet_nft_table_family[0]);
                if (ret == 0)
                        ret = read_table_once(nl, &o[1], vmnet_nft_table_family[1]);
                else
                        vmnet_nft_objs_init(&o[1], vmnet_nft_table_family[1]);
                if (ret == 0 && (ret = get_genid(nl, &gen_after)) == 0 &&
                    gen_before == gen_after)
                        return TRUE;
                vmnet_nft_tables_clear(o);
                if (ret != 0 && ret != -EINTR)
                        break;
                ret = -EINTR;
        }
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT, "reading table inet %s: %s",
                    VMNET_NFT_TABLE,
                    ret == -EINTR ? "the ruleset kept changing while it was read"
                                  : g_strerror(-ret));
        return FALSE;
}

/* --- batches --- */

void vmnet_nft_batch_init(Batch *b)
{
        b->batch = nftnl_batch_alloc(BATCH_PAGE_SIZE, NLMSG_MAXSIZE);
        b->family = NFPROTO_INET;
        b->seq = vmnet_nft_next_seq();
        b->first_seq = b->seq;
        b->what = g_ptr_array_new_with_free_func(g_free);
        nftnl_batch_begin(nftnl_batch_buffer(b->batch), b->seq++);
        g_ptr_array_add(b->what, g_strdup("starting the transaction"));
        nftnl_batch_update(b->batch);
}

void vmnet_nft_batch_clear(Batch *b)
{
        g_clear_pointer(&b->batch, nftnl_batch_free);
        g_clear_pointer(&b->what, g_ptr_array_unref);
}

/* Starts a message; the caller fills the payload, then calls nftnl_batch_update(). */
static struct nlmsghdr *batch_msg(Batch *b, guint16 type, guint16 flags, char *what)
{
        /*
         * libmnl leaves attribute padding unwritten: zero the room a message
         * may take (a page always has NLMSG_MAXSIZE left), so no stale heap
         * bytes go to the kernel.
         */
        memset(nftnl_batch_buffer(b->batch), 0, NLMSG_MAXSIZE);
        g_ptr_array_add(b->what, what);
        return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->batch), type, b->family,
                                     flags | NLM_F_ACK, b->seq++);
}

static void batch_table(Batch *b, struct nftnl_table *t, guint16 type, guint16 flags, char *what)
{
        struct nlmsghdr *nlh = batch_msg(b, type, flags, what);

        nftnl_table_nlmsg_build_payload(nlh, t);
        nftnl_batch_update(b->batch);
}

/*
 * add table (no-op when present) + delete table: whatever was there is
 * gone after commit.
 */
void vmnet_nft_batch_drop_table(Batch *b, guint32 family)
{
        g_autoptr(VmnetNftnlTable) t = nftnl_table_alloc();
        const char *fam = vmnet_nft_nfproto_name(family);

        b->family = family;
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, VMNET_NFT_TABLE);
        nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
        nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
        batch_table(b, t, NFT_MSG_NEWTABLE, NLM_F_CREATE,
                    g_strdup_printf("adding table %s " VMNET_NFT_TABLE, fam));
        batch_table(b, t, NFT_MSG_DELTABLE, 0,
                    g_strdup_printf("deleting table %s " VMNET_NFT_TABLE, fam));
}

void vmnet_nft_batch_objs(Batch *b, const NftObjs *o, guint16 table_flags)
{
        struct nlmsghdr *nlh;

        b->family = o->family;
        batch_table(b, o->table, NFT_MSG_NEWTABLE, NLM_F_CREATE | table_flags,
                    g_strdup_printf("creating table %s " VMNET_NFT_TABLE,
                                    vmnet_nft_nfproto_name(o->family)));

        /* Same order as nft -f (chains, sets, rules), so even the handles match. */
        for (guint i = 0; i < o->chains->len; i++) {
                struct nftnl_chain *c = g_ptr_array_index(o->chains, i);

                nlh = batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
                                g_strdup_printf("adding chain %s",
                                                nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)));
                nftnl_chain_nlmsg_build_payload(nlh, c);
                nftnl_batch_update(b->batch);
        }

        for (guint i = 0; i < o->sets->len; i++) {
                struct nftnl_set *s = g_ptr_array_index(o->sets, i);
                const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
                struct nftnl_set_elems_iter *it;
                gboolean empty;
                int more;

                nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE,
                                g_strdup_printf("adding set %s", name));
                nftnl_set_nlmsg_build_payload(nlh, s);
                nftnl_batch_update(b->batch);

                it = nftnl_set_elems_iter_create(s);
                empty = nftnl_set_elems_iter_cur(it) == NULL;
                nftnl_set_elems_iter_destroy(it);
                if (empty)
                        continue;
                /* One attribute holds at most 64 KiB of elements: split big sets. */
                it = nftnl_set_elems_iter_create(s);
                do {
                        nlh = batch_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE,
                                        g_strdup_printf("adding elements to set %s", name));
                        more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
                        nftnl_batch_update(b->batch);
                } while (more > 0);
                nftnl_set_elems_iter_destroy(it);
        }

        for (guint i = 0; i < o->rules->len; i++) {
                struct nftnl_rule *r = g_ptr_array_index(o->rules, i);
                const char *what = o->rule_what ? g_ptr_array_index(o->rule_what, i) : NULL;

                nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
                                what ? g_strdup_printf("adding %s", what)
                                     : g_strdup_printf("adding a rule to chain %s",
                                                       nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)));
                nftnl_rule_nlmsg_build_payload(nlh, r);
                nftnl_batch_update(b->batch);
        }
}

static void grow_buffer(int fd, int opt_force, int opt, int want)
{
        int cur = 0;
        socklen_t len = sizeof(cur);

        if (getsockopt(fd, SOL_SOCKET, opt, &cur, &len) == 0 && cur >= want)
                return;
        /* FORCE ignores wmem_max/rmem_max but needs CAP_NET_ADMIN, which nft needs anyway. */
        if (setsockopt(fd, SOL_SOCKET, opt_force, &want, sizeof(want)) < 0)
                setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
}

/*
 * Sends the whole batch in one sendmsg(). nfnetlink processes a batch
 * synchronously inside sendmsg(), so when it returns every ack and error is
 * already queued on the socket: read them without blocking.
 */
gboolean vmnet_nft_batch_send(struct mnl_socket *nl, Batch *b, const char *doing, GError **error)
{
        int fd = mnl_socket_get_fd(nl);
        int iovlen, one = 1;
        struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
        struct msghdr msg = { 0 };
        g_autofree struct iovec *iov = NULL;
        g_autofree char *buf = g_malloc(RECV_BUF_SIZE);
        guint32 n_msgs, acks = 0, err_seq = 0;
        int first_err = 0;
        g_autofree char *ext_msg = NULL;
        gsize total = 0;
        ssize_t ret;

        nftnl_batch_end(nftnl_batch_buffer(b->batch), b->seq++);
        nftnl_batch_update(b->batch);
        n_msgs = b->seq - b->first_seq - 2; /* all but begin and end carry NLM_F_ACK */

        iovlen = nftnl_batch_iovec_len(b->batch);
        iov = g_new0(struct iovec, iovlen);
        nftnl_batch_iovec(b->batch, iov, iovlen);
        for (int i = 0; i < iovlen; i++)
                total += iov[i].iov_len;

        setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        grow_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, (int)MIN(total + 4096, G_MAXINT / 2));
        /* one ack per message, each a small skb whose truesize the kernel charges in full */
        grow_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF,
                    (int)MIN((gsize)n_msgs * 2048 + 65536, G_MAXINT / 2));
        vmnet_nft_drain(nl);

        msg.msg_name = &snl;
        msg.msg_namelen = sizeof(snl);
        msg.msg_iov = iov;
        msg.msg_iovlen = iovlen;
        if (sendmsg(fd, &msg, 0) < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT, "%s: sending the batch: %s",
                            doing, g_strerror(errno));
                return FALSE;
        }

        while ((ret = recv(fd, buf, RECV_BUF_SIZE, MSG_DONTWAIT)) > 0) {
                struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
                int len = (int)ret;

                for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
                        struct nlmsgerr *err;

                        if (nlh->nlmsg_type != NLMSG_ERROR)
                                continue;
                        err = mnl_nlmsg_get_payload(nlh);
                        if (err->error == 0) {
                                acks++;
                                continue;
                        }
                        /* keep the first failure in batch order: later ones often follow from it */
                        if (first_err == 0 || nlh->nlmsg_seq < err_seq) {
                                struct nlattr *attr;
                                gsize off = sizeof(*err);

                                first_err = err->error;
                                err_seq = nlh->nlmsg_seq;
                                g_clear_pointer(&ext_msg, g_free);
                                if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                                        off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
                                if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
                                        mnl_attr_for_each_payload((void *)((char *)err + off),
                                                                  nlh->nlmsg_len -
                                                                          MNL_NLMSG_HDRLEN - off)
                                        {
                                                if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG)
                                                        ext_msg = g_strdup(
                                                                mnl_attr_get_str(attr));
                                        }
                        }
                }
        }
        if (ret < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "%s: reading the kernel's answer: %s (the transaction may or may "
                            "not have been committed)",
                            doing, g_strerror(errno));
                return FALSE;
        }
        if (first_err) {
                guint idx = err_seq - b->first_seq;
                const char *what = idx < b->what->len ? g_ptr_array_index(b->what, idx)
                                                      : "the transaction";

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT, "%s: %s: %s%s%s%s; nothing was changed",
                            doing, what, g_strerror(-first_err), ext_msg ? " (kernel: " : "",
                            ext_msg ? ext_msg : "", ext_msg ? ")" : "");
                return FALSE;
        }
        if (acks != n_msgs) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "%s: the kernel acknowledged %u of %u messages", doing, acks, n_msgs);
                return FALSE;
        }
        return TRUE;
}

/*
 * Whether table FAMILY vmnet exists now. Only asked where a transaction
 * would otherwise add and delete a bridge table just in case: on a kernel
 * without the bridge family that would fail the whole transaction.
 */
gboolean vmnet_nft_table_exists(struct mnl_socket *nl, guint32 family)
{
        NftObjs o;
        gboolean exists;

        vmnet_nft_drain(nl);
        read_table_once(nl, &o, family);
        exists = o.table != NULL;
        vmnet_nft_objs_clear(&o);
        return exists;
}

gboolean vmnet_nft_replace(struct mnl_socket *nl, const VmnetNftIr *ir, gboolean absent,
                           GError **error)
{
        Batch b;
        NftObjs o[N_TABLES];
        gboolean ok, drop_bridge;

        drop_bridge = !absent && (ir->bridge || vmnet_nft_table_exists(nl, NFPROTO_BRIDGE));
        vmnet_nft_tables_from_ir(o, ir);
        vmnet_nft_batch_init(&b);
        /*
         * A transaction that deletes a table makes the kernel wait for an
         * RCU grace period when the socket is closed (~10 ms measured, most
         * of an apply of a small plan), so a table known to be absent is
         * created exclusively instead: one that appeared since then fails
         * the transaction (EEXIST) rather than being merged into.
         */
        /* the order of vmnet_nft_ir_to_text()'s script, so even the handles match */
        if (!absent)
                vmnet_nft_batch_drop_table(&b, NFPROTO_INET);
        if (drop_bridge)
                vmnet_nft_batch_drop_table(&b, NFPROTO_BRIDGE);
        vmnet_nft_batch_objs(&b, &o[0], absent ? NLM_F_EXCL : 0);
        if (o[1].table)
                vmnet_nft_batch_objs(&b, &o[1], absent ? NLM_F_EXCL : 0);
        ok = vmnet_nft_batch_send(nl, &b, "replacing table inet " VMNET_NFT_TABLE, error);
        vmnet_nft_batch_clear(&b);
        vmnet_nft_tables_clear(o);
        return ok;
}

gboolean vmnet_nft_delete_table(struct mnl_socket *nl, GError **error)
{
        Batch b;
        gboolean ok;

        vmnet_nft_batch_init(&b);
        vmnet_nft_batch_drop_table(&b, NFPROTO_INET);
        if (vmnet_nft_table_exists(nl, NFPROTO_BRIDGE))
                vmnet_nft_batch_drop_table(&b, NFPROTO_BRIDGE);
        ok = vmnet_nft_batch_send(nl, &b, "deleting table inet " VMNET_NFT_TABLE, error);
        vmnet_nft_batch_clear(&b);
        return ok;
}
