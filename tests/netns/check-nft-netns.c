/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions/nft.h"
#include "apply/context.h"
#include "backend/nftables/ir.h"
#include "backend/nftables/nft.h"
#include "render/render.h"
#include "tests/netns/nstest.h"
#include "tests/unit/testutil.h"

/*
 * The kernel side of src/backend/nftables/ against the kernel. Every test runs in its own forked
 * process that first moves into a fresh network namespace
 * (vmnet_nstest_enter()); the whole suite is skipped (exit 77) when that is
 * impossible. State is read back with the nft CLI, never with vmnet's own
 * reader alone:
 *  1. netlink and text agree: the table applied through libnftnl lists (nft
 *     list, nft -j list, nft --debug=netlink list) exactly like the rendered
 *     script loaded with `nft -f` in another fresh namespace, for every plan;
 *  2. other tables survive replace and delete byte for byte;
 *  3. a batch the kernel refuses changes nothing, and the error names the
 *     refused object;
 *  4. drift (flush ruleset, a deleted rule, an added element, chain or
 *     object) is seen by vmnet_nft_observe();
 *  5. snapshot/restore and the actions' inverses put the table back exactly;
 *  6. real traffic between namespaces the test creates: masquerade, port
 *     forwards from outside, from the host itself and from the same network
 *     (hairpin), and the drops.
 */

static char **plans; /* the .xml files of examples/, then of tests/data/nft/ */

/* ---------------------------------------------------------------- helpers */

static VmnetNftIr *load_ir(const char *relpath)
{
        g_autoptr(VmnetPlan) plan = vmnet_test_load_plan(relpath);
        g_autoptr(VmnetIpam) ipam = vmnet_test_fresh_ipam(plan);

        return vmnet_nft_ir_from_plan(plan, ipam);
}

static struct mnl_socket *open_nl(void)
{
        g_autoptr(GError) error = NULL;
        struct mnl_socket *nl = vmnet_nft_socket_open(&error);

        ck_assert_msg(nl != NULL, "%s", error ? error->message : "");
        return nl;
}

static void replace_ok(struct mnl_socket *nl, const VmnetNftIr *ir)
{
        g_autoptr(GError) error = NULL;

        ck_assert_msg(vmnet_nft_replace(nl, ir, FALSE, &error), "replace: %s",
                      error ? error->message : "");
}

static VmnetNftObserved *observe(struct mnl_socket *nl)
{
        g_autoptr(GError) error = NULL;
        VmnetNftObserved *o = vmnet_nft_observe(nl, &error);

        ck_assert_msg(o != NULL, "observe: %s", error ? error->message : "");
        return o;
}

static char *tmpdir_new(void)
{
        g_autoptr(GError) error = NULL;
        char *dir = g_dir_make_tmp("vmnet-nft-XXXXXX", &error);

        ck_assert_msg(dir != NULL, "%s", error ? error->message : "");
        return dir;
}

static void rm_rf(const char *dir)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(dir, name, NULL);

                unlink(p);
        }
        rmdir(dir);
}

static char *read_file(const char *dir, const char *name)
{
        g_autofree char *path = g_build_filename(dir, name, NULL);
        char *text = NULL;

        ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "cannot read %s", path);
        return text;
}

/*
 * What nft itself says about table inet vmnet, plus vmnet's digest, into
 * DIR/PREFIX.{list,json,nl,dig}. Runs in forked children too, so it uses
 * plain exit codes instead of Check assertions. The --debug=netlink dump is
 * sorted: set elements come out in the kernel's hash order, which differs
 * between two namespaces.
 */
static int capture(const char *dir, const char *prefix)
{
        g_autofree char *cmd = g_strdup_printf(
                "nft list table inet vmnet > %1$s/%2$s.list && "
                "nft -j list table inet vmnet > %1$s/%2$s.json && "
                "nft --debug=netlink list table inet vmnet | LC_ALL=C sort > %1$s/%2$s.nl && "
                /* table bridge vmnet, when the plan has guest ports */
                "{ ! nft list table bridge vmnet >/dev/null 2>&1 || "
                "{ nft list table bridge vmnet >> %1$s/%2$s.list && "
                "nft -j list table bridge vmnet >> %1$s/%2$s.json && "
                "nft --debug=netlink list table bridge vmnet | LC_ALL=C sort >> %1$s/%2$s.nl; }; }",
                dir, prefix);
        g_autofree char *dig = g_strdup_printf("%s/%s.dig", dir, prefix);
        struct mnl_socket *nl;
        VmnetNftObserved *o;
        gboolean ok;

        if (system(cmd) != 0)
                return 2;
        if (!(nl = vmnet_nft_socket_open(NULL)))
                return 3;
        o = vmnet_nft_observe(nl, NULL);
        mnl_socket_close(nl);
        if (!o)
                return 4;
        ok = g_file_set_contents(dig, o->digest, -1, NULL);
        vmnet_nft_observed_free(o);
        return ok ? 0 : 5;
}

/* Loads script with `nft -f` in a brand-new namespace and captures it there as "text". */
static void nft_f_elsewhere(const char *dir, const char *script)
{
        int status = 0;
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                g_autofree char *cmd = g_strdup_printf("nft -f %s", script);

                if (unshare(CLONE_NEWNET) < 0)
                        _exit(10);
                if (system(cmd) != 0)
                        _exit(11);
                _exit(capture(dir, "text"));
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "nft -f %s in a fresh namespace failed (status %d)", script,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static char *nft_out(const char *cmd)
{
        return vmnet_nstest_sh("%s", cmd);
}

/* ------------------------------------------- 1. netlink == text, all plans */

START_TEST(test_netlink_equals_text)
{
        g_autofree char *dir = tmpdir_new();
        g_autoptr(VmnetNftIr) ir = NULL;
        g_autoptr(VmnetMnlSocket) nl = NULL;
        g_autofree char *script = g_build_filename(dir, "table.nft", NULL);
        g_autofree char *text = NULL;
        g_autofree char *want_digest = NULL;
        static const char *const kinds[] = { "list", "json", "nl", "dig" };

        vmnet_nstest_enter();
        ir = load_ir(plans[_i]);
        nl = open_nl();
        text = vmnet_nft_ir_to_text(ir);
        ck_assert(g_file_set_contents(script, text, -1, NULL));

        replace_ok(nl, ir);
        ck_assert_int_eq(capture(dir, "netlink"), 0);
        nft_f_elsewhere(dir, script);

        for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
                g_autofree char *na = g_strdup_printf("netlink.%s", kinds[k]);
                g_autofree char *nb = g_strdup_printf("text.%s", kinds[k]);
                g_autofree char *a = read_file(dir, na);
                g_autofree char *b = read_file(dir, nb);

                if (!g_str_equal(a, b)) {
                        g_autofree char *pa = g_build_filename(dir, na, NULL);
                        g_autofree char *pb = g_build_filename(dir, nb, NULL);
                        g_autofree char *cmd = g_strdup_printf("diff -u %s %s", pa, pb);
                        g_autofree char *diff = NULL;

                        /* Check messages are limited to a few KiB: show the start of a diff */
                        g_spawn_command_line_sync(cmd, &diff, NULL, NULL, NULL);
                        ck_abort_msg("%s: `%s` differs between netlink (-) and nft -f (+):\n%.2000s",
                                     plans[_i], kinds[k], diff ? diff : "");
                }
                ck_assert_msg(*a, "%s: empty %s", plans[_i], kinds[k]);
        }

        /* ... and the digest the engine computes offline is that same state */
        {
                g_autofree char *dig = read_file(dir, "netlink.dig");

                want_digest = vmnet_nft_ir_digest(ir);
                ck_assert_str_eq(dig, want_digest);
        }
        rm_rf(dir);
}
END_TEST

/* -------------------------------------------- 2. foreign tables untouched */

static const char foreign_ruleset[] =
        "table ip filter {\n"
        "\tchain FORWARD {\n"
        "\t\ttype filter hook forward priority filter; policy drop;\n"
        "\t\tiifname \"docker0\" accept\n"
        "\t\tjump DOCKER-USER\n"
        "\t}\n"
        "\tchain DOCKER-USER {\n"
        "\t\treturn\n"
        "\t}\n"
        "}\n"
        "table inet other {\n"
        "\tset s {\n"
        "\t\ttype ipv4_addr\n"
        "\t\telements = { 192.0.2.1, 192.0.2.7 }\n"
        "\t}\n"
        "\tchain input {\n"
        "\t\ttype filter hook input priority 10; policy accept;\n"
        "\t\ttcp dport 22 accept\n"
        "\t\tip saddr @s counter drop\n"
        "\t}\n"
        "\tchain vmnet {\n"
        "\t}\n"
        "}\n";

static char *foreign_listing(void)
{
        return nft_out("nft -a list table ip filter && nft -a list table inet other && "
                       "nft -j list table ip filter && nft -j list table inet other");
}

static void assert_foreign_same(const char *before, const char *after_what)
{
        g_autofree char *now = foreign_listing();

        ck_assert_msg(g_str_equal(now, before), "other tables changed after %s:\n%s\n---\n%s",
                      after_what, before, now);
}

START_TEST(test_foreign_tables_untouched)
{
        g_autofree char *dir = tmpdir_new();
        g_autofree char *path = g_build_filename(dir, "foreign.nft", NULL);
        g_autoptr(VmnetMnlSocket) nl = NULL;
        g_autoptr(VmnetNftIr) a = NULL;
        g_autoptr(VmnetNftIr) b = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *before = NULL;
        g_autoptr(GPtrArray) drops = NULL;

        vmnet_nstest_enter();
        nl = open_nl();
        a = load_ir("tests/data/nft/everything.xml");
        b = load_ir("examples/nat.xml");
        ck_assert(g_file_set_contents(path, foreign_ruleset, -1, NULL));
        g_free(vmnet_nstest_sh("nft -f %s", path));
        before = foreign_listing();

        replace_ok(nl, a);
        assert_foreign_same(before, "creating the table");
        replace_ok(nl, b);
        assert_foreign_same(before, "replacing the table");
        ck_assert(vmnet_nft_delete_table(nl, &error));
        assert_foreign_same(before, "deleting the table");
        ck_assert_int_ne(vmnet_nstest_sh_status("nft list table inet vmnet"), 0);
        /* deleting what is not there is fine, and still touches nothing else */
        ck_assert(vmnet_nft_delete_table(nl, &error));
        assert_foreign_same(before, "deleting the absent table");

        /* and the read-only scan names exactly the two chains that can drop */
        replace_ok(nl, a);
        drops = vmnet_nft_foreign_drops(nl, &error);
        ck_assert_msg(drops != NULL, "%s", error ? error->message : "");
        ck_assert_uint_eq(drops->len, 2);
        {
                g_autofree char *d0 = vmnet_nft_foreign_chain_describe(drops->pdata[0]);
                g_autofree char *d1 = vmnet_nft_foreign_chain_describe(drops->pdata[1]);
                g_autofree char *both = g_strdup_printf("%s\n%s", d0, d1);

                ck_assert_msg(strstr(both, "table ip filter chain FORWARD (hook forward, "
                                           "priority 0, policy drop; docker?)"),
                              "%s", both);
                ck_assert_msg(strstr(both, "table inet other chain input (hook input, priority "
                                           "10, 1 rule that drops)"),
                              "%s", both);
        }
        rm_rf(dir);
}
END_TEST

/* ------------------------------------------------------------ 3. atomic */

static void add_broken_rule(VmnetNftIr *ir)
{
        VmnetNftChain *fwd = vmnet_nft_ir_find_chain(ir, "forward");
        static const VmnetNftSelector sel[] = { VMNET_NFT_SEL_IIFNAME };
        VmnetNftRule *r;

        ck_assert_ptr_nonnull(fwd);
        r = vmnet_nft_chain_add_rule(fwd);
        vmnet_nft_rule_match_lookup(r, sel, 1, FALSE, "no_such_set");
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
}

START_TEST(test_replace_is_atomic)
{
        g_autoptr(VmnetMnlSocket) nl = NULL;
        g_autoptr(VmnetNftIr) good = NULL;
        g_autoptr(VmnetNftIr) bad = NULL;
        g_autoptr(VmnetNftIr) bad_chain = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetNftObserved) before = NULL;
        g_autoptr(VmnetNftObserved) after = NULL;
        g_autofree char *list_before = NULL;
        g_autofree char *list_after = NULL;
        guint n_rules;

        vmnet_nstest_enter();
        nl = open_nl();
        good = load_ir("examples/quickstart.xml");
        bad = load_ir("tests/data/nft/everything.xml");
        n_rules = vmnet_nft_ir_find_chain(bad, "forward")->rules->len;
        add_broken_rule(bad);

        /* the table did not exist: a refused batch leaves it absent */
        ck_assert(!vmnet_nft_replace(nl, bad, TRUE, &error));
        ck_assert_int_ne(vmnet_nstest_sh_status("nft list table inet vmnet"), 0);
        g_clear_error(&error);

        replace_ok(nl, good);
        before = observe(nl);
        list_before = nft_out("nft -a list table inet vmnet");

        /* the last rule of a large batch refers to a set that does not exist */
        ck_assert(!vmnet_nft_replace(nl, bad, FALSE, &error));
        ck_assert(g_error_matches(error, VMNET_ERROR, VMNET_ERROR_NFT));
        {
                g_autofree char *want = g_strdup_printf(
                        "replacing table inet vmnet: adding rule %u of chain forward (iifname "
                        "@no_such_set accept): No such file or directory",
                        n_rules + 1);

                ck_assert_msg(g_str_has_prefix(error->message, want), "error: %s",
                              error->message);
                ck_assert_msg(strstr(error->message, "nothing was changed"), "%s",
                              error->message);
        }
        after = observe(nl);
        list_after = nft_out("nft -a list table inet vmnet");
        ck_assert_str_eq(after->digest, before->digest);
        ck_assert_str_eq(list_after, list_before); /* even the handles: nothing was re-created */

        /* a chain the kernel refuses (nat at the forward hook) is named too */
        g_clear_error(&error);
        bad_chain = load_ir("examples/quickstart.xml");
        vmnet_nft_ir_add_chain(bad_chain, "bogus", VMNET_NFT_CHAIN_NAT, VMNET_NFT_HOOK_FORWARD, 0,
                               FALSE);
        ck_assert(!vmnet_nft_replace(nl, bad_chain, FALSE, &error));
        ck_assert_msg(strstr(error->message, ": adding chain bogus: "), "%s", error->message);
        g_free(list_after);
        list_after = nft_out("nft -a list table inet vmnet");
        ck_assert_str_eq(list_after, list_before);
}
END_TEST

/*
 * A table the caller saw absent is created exclusively (no delete in the
 * transaction): the result is the same table, and a table that appeared in
 * the meantime makes the transaction fail and is left as it was.
 */
START_TEST(test_replace_absent)
{
        g_autoptr(VmnetMnlSocket) nl = NULL;
        g_autoptr(VmnetNftIr) ir = NULL;
        g_autoptr(VmnetNftIr) other = NULL;
        g_autoptr(VmnetNftObserved) excl = NULL;
        g_autoptr(VmnetNftObserved) plain = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *list_before = NULL;
        g_autofree char *list_after = NULL;

        vmnet_nstest_enter();
        nl = open_nl();
        ir = load_ir("tests/data/nft/everything.xml");
        other = load_ir("examples/quickstart.xml");

        ck_assert_msg(vmnet_nft_replace(nl, ir, TRUE, &error), "%s",
                      error ? error->message : "");
        excl = observe(nl);
        ck_assert(excl->exists);
        ck_assert_int_eq(vmnet_nstest_sh_status("nft delete table inet vmnet"), 0);
        replace_ok(nl, ir);
        plain = observe(nl);
        ck_assert_str_eq(excl->digest, plain->digest);

        /* the table exists now: an exclusive create must not merge into it */
        list_before = nft_out("nft -a list table inet vmnet");
        ck_assert(!vmnet_nft_replace(nl, other, TRUE, &error));
        ck_assert(g_error_matches(error, VMNET_ERROR, VMNET_ERROR_NFT));
        ck_assert_msg(strstr(error->message, "File exists"), "%s", error->message);
        list_after = nft_out("nft -a list table inet vmnet");
        ck_assert_str_eq(list_after, list_before);
}
END_TEST

/*
 * A table far beyond any real plan: 30000 port forwards (their elements
 * need several messages of at most 64 KiB) and 3000 rules (3000 acks to
 * read back), in one transaction.
 */
START_TEST(test_big_table)
{
        g_autoptr(VmnetMnlSocket) nl = NULL;
        g_autoptr(VmnetNftIr) ir = vmnet_nft_ir_new("big");
        static const VmnetNftDatatype key[] = { VMNET_NFT_DT_INET_PROTO,
                                                VMNET_NFT_DT_INET_SERVICE };
        static const VmnetNftDatatype data[] = { VMNET_NFT_DT_IPV4_ADDR,
                                                 VMNET_NFT_DT_INET_SERVICE };
        static const VmnetNftSelector sel[] = { VMNET_NFT_SEL_L4PROTO, VMNET_NFT_SEL_TH_DPORT };
        VmnetNftSet *map = vmnet_nft_ir_add_set(ir, "fwd4", key, 2, data, 2);
        VmnetNftChain *pre = vmnet_nft_ir_add_chain(ir, "prerouting", VMNET_NFT_CHAIN_NAT,
                                                    VMNET_NFT_HOOK_PREROUTING, -100, FALSE);
        VmnetNftChain *fwd = vmnet_nft_ir_add_chain(ir, "forward", VMNET_NFT_CHAIN_FILTER,
                                                    VMNET_NFT_HOOK_FORWARD, 0, FALSE);
        g_autoptr(VmnetNftObserved) o = NULL;
        g_autofree char *count = NULL;
        VmnetNftRule *r;

        vmnet_nstest_enter();
        nl = open_nl();
        for (guint i = 0; i < 30000; i++) {
                VmnetAddr to = { .family = AF_INET, .bytes = { 10, 1, (i >> 8) & 0xff, i & 0xff } };
                VmnetNftValue v[] = {
                        vmnet_nft_value_proto(i % 2 ? VMNET_PROTO_UDP : VMNET_PROTO_TCP),
                        vmnet_nft_value_port(1024 + i / 2),
                        vmnet_nft_value_addr(&to),
                        vmnet_nft_value_port(80),
                };

                ck_assert(vmnet_nft_set_add_element(map, v));
        }
        r = vmnet_nft_chain_add_rule(pre);
        vmnet_nft_rule_match_nfproto(r, AF_INET);
        vmnet_nft_rule_set_dnat_map(r, AF_INET, sel, 2, "fwd4");
        for (guint i = 0; i < 3000; i++) {
                VmnetPrefix p = { .addr = { .family = AF_INET,
                                            .bytes = { 10, 2, (i >> 8) & 0xff, i & 0xff } },
                                  .prefix = 32 };

                r = vmnet_nft_chain_add_rule(fwd);
                vmnet_nft_rule_match_nfproto(r, AF_INET);
                vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP_SADDR, FALSE, &p);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);
        }

        replace_ok(nl, ir);
        o = observe(nl);
        ck_assert(vmnet_nft_observed_matches(o, ir));
        count = vmnet_nstest_sh("nft -j list map inet vmnet fwd4 | "
                                "jq '.nftables[] | select(.map) | .map.elem | length'");
        ck_assert_str_eq(count, "30000");
        g_free(count);
        count = vmnet_nstest_sh("nft list chain inet vmnet forward | grep -c ' drop$'");
        ck_assert_str_eq(count, "3000");
        /* and replacing it again (deleting all of that in the same batch) works too */
        replace_ok(nl, ir);
}
END_TEST

/* ------------------------------------------------------------- 4. drift */

static void assert_drift(struct mnl_socket *nl, const VmnetNftIr *ir, const char *what)
{
        g_autoptr(VmnetNftObserved) o = observe(nl);

        ck_assert_msg(!vmnet_nft_observed_matches(o, ir), "drift not detected after %s", what);
}

static void assert_in_sync(struct mnl_socket *nl, const VmnetNftIr *ir)
{
        g_autoptr(VmnetNftObserved) o = observe(nl);
        g_autofree char *want = vmnet_nft_ir_digest(ir);

        ck_assert(o->exists);
        ck_assert_str_eq(o->comment, ir->comment);
        ck_assert_str_eq(o->digest, want);
        ck_assert(vmnet_nft_observed_matches(o, ir));
}

START_TEST(test_observe_drift)
{
        g_autoptr(VmnetMnlSocket) nl = NULL;
        g_autoptr(VmnetNftIr) ir = NULL;
        g_autoptr(VmnetNftObserved) o = NULL;
        g_autofree char *handle = NULL;

        vmnet_nstest_enter();
        nl = open_nl();
        ir = load_ir("tests/data/nft/everything.xml");

        o = observe(nl);
        ck_assert(!o->exists);
        ck_assert_str_eq(o->digest, "");
        ck_assert_ptr_null(o->comment);
        ck_assert(!vmnet_nft_observed_matches(o, ir));

        replace_ok(nl, ir);
        assert_in_sync(nl, ir);
        replace_ok(nl, ir); /* applying twice gives the same state */
        assert_in_sync(nl, ir);

        g_free(vmnet_nstest_sh("nft flush ruleset"));
        assert_drift(nl, ir, "nft flush ruleset");
        g_clear_pointer(&o, vmnet_nft_observed_free);
        o = observe(nl);
        ck_assert(!o->exists);

        replace_ok(nl, ir);
        handle = vmnet_nstest_sh("nft -a list chain inet vmnet forward | "
                                 "sed -n 's/.*ct state invalid drop # handle //p'");
        ck_assert_str_ne(handle, "");
        g_free(vmnet_nstest_sh("nft delete rule inet vmnet forward handle %s", handle));
        assert_drift(nl, ir, "deleting one rule");

        replace_ok(nl, ir);
        assert_in_sync(nl, ir);
        g_free(vmnet_nstest_sh("nft add element inet vmnet bridges '{ \"evil0\" }'"));
        assert_drift(nl, ir, "adding a set element");

        replace_ok(nl, ir);
        g_free(vmnet_nstest_sh("nft add element inet vmnet fwd4 '{ tcp . 9999 : 10.20.16.99 . 22 }'"));
        assert_drift(nl, ir, "adding a port forward by hand");

        replace_ok(nl, ir);
        g_free(vmnet_nstest_sh("nft add chain inet vmnet extra"));
        assert_drift(nl, ir, "adding a chain");

        replace_ok(nl, ir);
        g_free(vmnet_nstest_sh("nft add counter inet vmnet c1"));
        assert_drift(nl, ir, "adding a named counter (an object vmnet does not dump)");

        replace_ok(nl, ir);
        g_free(vmnet_nstest_sh("nft insert rule inet vmnet postrouting accept"));
        assert_drift(nl, ir, "inserting a rule");

        replace_ok(nl, ir);
        assert_in_sync(nl, ir);
}
END_TEST

/* --------------------------------------------------- 5. snapshot/restore */

static VmnetNftSnapshot *snapshot(struct mnl_socket *nl)
{
        g_autoptr(GError) error = NULL;
        VmnetNftSnapshot *s = vmnet_nft_snapshot_take(nl, &error);

        ck_assert_msg(s != NULL, "snapshot: %s", error ? error->message : "");
        return s;
}

static void run_action(VmnetAction *a, VmnetApplyCtx *ctx)
{
        g_autoptr(GError) error = NULL;

        ck_assert_msg(a->type->execute(a, ctx, &error), "%s: %s", a->type->name,
                      error ? error->message : "");
}

START_TEST(test_snapshot_restore)
{
        g_autoptr(VmnetMnlSocket) nl = NULL;
        g_autoptr(VmnetNftIr) a = NULL;
        g_autoptr(VmnetNftIr) b = NULL;
        g_autoptr(VmnetNftSnapshot) absent = NULL;
        g_autoptr(VmnetNftSnapshot) snap = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *list0 = NULL;
        g_autofree char *list = NULL;
        g_autofree char *hand = NULL;
        VmnetApplyCtx ctx = { 0 };

        vmnet_nstest_enter();
        nl = open_nl();
        a = load_ir("examples/mixed.xml");
        b = load_ir("tests/data/nft/everything.xml");

        /* a snapshot of nothing restores to nothing */
        absent = snapshot(nl);
        ck_assert(!vmnet_nft_snapshot_exists(absent));
        replace_ok(nl, b);
        ck_assert(vmnet_nft_restore(nl, absent, &error));
        ck_assert_int_ne(vmnet_nstest_sh_status("nft list table inet vmnet"), 0);

        /* a table with more than vmnet's vocabulary: anonymous sets, counters, comments, jumps */
        replace_ok(nl, a);
        hand = g_strdup("nft add rule inet vmnet forward ip daddr '{ 192.0.2.1, 198.51.100.0/24 }' "
                        "counter drop && "
                        "nft add rule inet vmnet forward tcp dport '{ 22, 80 }' accept comment "
                        "'\"by hand\"' && "
                        "nft add chain inet vmnet extra && nft add rule inet vmnet extra "
                        "log prefix '\"x \"' drop && nft add rule inet vmnet forward jump extra");
        g_free(vmnet_nstest_sh("%s", hand));
        snap = snapshot(nl);
        ck_assert(vmnet_nft_snapshot_exists(snap));
        ck_assert_str_eq(vmnet_nft_snapshot_comment(snap), "managed by vmnet plan hv07");
        list0 = nft_out("nft list table inet vmnet");

        replace_ok(nl, b);
        ck_assert(vmnet_nft_restore(nl, snap, &error));
        list = nft_out("nft list table inet vmnet");
        ck_assert_str_eq(list, list0);
        {
                g_autoptr(VmnetNftObserved) o = observe(nl);

                ck_assert_str_eq(o->digest, vmnet_nft_snapshot_digest(snap));
        }

        /* the actions: replace, then its inverse puts the snapshot back */
        ctx.nft = nl;
        {
                g_autoptr(VmnetAction) act = vmnet_action_nft_replace_new(
                        load_ir("examples/nat.xml"), snap);
                g_autoptr(VmnetAction) inv = NULL;
                g_autofree char *desc = NULL;
                g_autofree char *other = NULL;

                run_action(act, &ctx);
                other = nft_out("nft list table inet vmnet");
                ck_assert_str_ne(other, list0);
                inv = act->type->invert(act);
                ck_assert_ptr_nonnull(inv);
                ck_assert_str_eq(inv->type->name, "nft-restore");
                desc = vmnet_action_describe(inv);
                /* mixed.xml has guests: both tables come back */
                ck_assert_str_eq(desc, "restore table inet vmnet to its earlier state "
                                       "(29 rules; table bridge vmnet: 14 rules)");
                run_action(inv, &ctx);
                g_free(list);
                list = nft_out("nft list table inet vmnet");
                ck_assert_str_eq(list, list0);
        }
        {
                /* destroy, and its undo */
                g_autoptr(VmnetAction) del = vmnet_action_nft_delete_new(snap);
                g_autoptr(VmnetAction) inv = NULL;

                run_action(del, &ctx);
                ck_assert_int_ne(vmnet_nstest_sh_status("nft list table inet vmnet"), 0);
                inv = del->type->invert(del);
                ck_assert_ptr_nonnull(inv);
                run_action(inv, &ctx);
                g_free(list);
                list = nft_out("nft list table inet vmnet");
                ck_assert_str_eq(list, list0);
        }
        {
                /* replacing a table that did not exist is undone by deleting it */
                g_autoptr(VmnetAction) act = NULL;
                g_autoptr(VmnetAction) inv = NULL;

                ck_assert(vmnet_nft_delete_table(nl, &error));
                act = vmnet_action_nft_replace_new(load_ir("examples/quickstart.xml"), absent);
                run_action(act, &ctx);
                ck_assert_int_eq(vmnet_nstest_sh_status("nft list table inet vmnet"), 0);
                inv = act->type->invert(act);
                ck_assert_str_eq(inv->type->name, "nft-delete");
                run_action(inv, &ctx);
                ck_assert_int_ne(vmnet_nstest_sh_status("nft list table inet vmnet"), 0);
        }
        ctx.nft = NULL;
}
END_TEST

/* --------------------------------------------------------- 6. data plane */

/* A process parked in a new network namespace; it dies with the test. */
static pid_t ns_holder(void)
{
        int p[2];
        char c;
        pid_t pid;

        ck_assert_int_eq(pipe(p), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                if (write(p[1], "x", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(p[1]);
        ck_assert_int_eq(read(p[0], &c, 1), 1);
        close(p[0]);
        return pid;
}

/* In a forked child: join the namespace of holder (0 = stay in the test's own). */
static void join_ns(pid_t holder)
{
        g_autofree char *path = NULL;
        int fd;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!holder)
                return;
        path = g_strdup_printf("/proc/%d/ns/net", holder);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
                _exit(90);
        close(fd);
}

/*
 * A TCP server in a namespace that answers every connection with the
 * address it saw the client come from, then closes.
 */
static pid_t tcp_server(pid_t holder, const char *bind_addr, guint16 port)
{
        int p[2];
        char c;
        pid_t pid;

        ck_assert_int_eq(pipe(p), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
                int one = 1, s;

                join_ns(holder);
                alarm(120);
                s = socket(AF_INET, SOCK_STREAM, 0);
                inet_pton(AF_INET, bind_addr, &sa.sin_addr);
                setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 16) < 0)
                        _exit(91);
                if (write(p[1], "x", 1) != 1)
                        _exit(92);
                for (;;) {
                        struct sockaddr_in peer;
                        socklen_t len = sizeof(peer);
                        char ip[INET_ADDRSTRLEN] = "";
                        int c2 = accept(s, (struct sockaddr *)&peer, &len);

                        if (c2 < 0)
                                continue;
                        inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
                        dprintf(c2, "%s\n", ip);
                        close(c2);
                }
        }
        close(p[1]);
        ck_assert_int_eq(read(p[0], &c, 1), 1);
        close(p[0]);
        return pid;
}

static gboolean wait_fd(int fd, short events, int ms)
{
        struct pollfd pfd = { .fd = fd, .events = events };

        return poll(&pfd, 1, ms) == 1;
}

/*
 * Connects from a namespace to addr:port and returns what the server said:
 * the client address it saw. NULL when the connection failed (refused,
 * dropped: 2 s timeout).
 */
static char *tcp_probe(pid_t holder, const char *addr, guint16 port)
{
        GString *got = g_string_new(NULL);
        int p[2], status = 0;
        char buf[128];
        ssize_t n;
        pid_t pid;

        ck_assert_int_eq(pipe(p), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
                int s, err = 0;
                socklen_t len = sizeof(err);

                close(p[0]);
                join_ns(holder);
                s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                inet_pton(AF_INET, addr, &sa.sin_addr);
                if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
                        _exit(1);
                if (!wait_fd(s, POLLOUT, 2000))
                        _exit(2);
                getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err)
                        _exit(3);
                if (!wait_fd(s, POLLIN, 2000))
                        _exit(4);
                n = read(s, buf, sizeof(buf) - 1);
                if (n <= 0)
                        _exit(5);
                if (write(p[1], buf, n) != n)
                        _exit(6);
                _exit(0);
        }
        close(p[1]);
        while ((n = read(p[0], buf, sizeof(buf))) > 0)
                g_string_append_len(got, buf, n);
        close(p[0]);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                g_string_free(got, TRUE);
                return NULL;
        }
        return g_strchomp(g_string_free(got, FALSE));
}

#define assert_probe(ns, addr, port, want)                                                   \
        do {                                                                                 \
                g_autofree char *_got = tcp_probe(ns, addr, port);                          \
                ck_assert_msg(g_strcmp0(_got, want) == 0,                                   \
                              "connecting to %s:%u from %s: server saw %s, expected %s",    \
                              addr, port, #ns, _got ? _got : "(no connection)",             \
                              want ? want : "(no connection)");                             \
        } while (0)

static void guest(pid_t ns, const char *port, const char *bridge, const char *addr,
                  const char *gw)
{
        g_free(vmnet_nstest_sh("ip link add %s type veth peer name eth0 netns %d && "
                               "ip link set %s master %s up",
                               port, ns, port, bridge));
        g_free(vmnet_nstest_sh("nsenter -t %d -n sh -c 'ip link set lo up && "
                               "ip addr add %s/24 dev eth0 && ip link set eth0 up && "
                               "ip route add default via %s'",
                               ns, addr, gw));
}

/*
 * Run twice: _i = 0 with bridged IPv4 invisible to nftables, _i = 1 with
 * br_netfilter's bridge-nf-call-iptables on (Docker turns it on), where
 * frames between two guests of one bridge also traverse the inet forward
 * hook as "iifname vm-lab oifname vm-lab".
 */
START_TEST(test_dataplane)
{
        g_autoptr(VmnetMnlSocket) nl = NULL;
        g_autoptr(VmnetNftIr) ir = NULL;
        pid_t up, g1, g2, g3;
        const pid_t host = 0;
        const char *none = NULL;
        const char *brnf = "/proc/sys/net/bridge/bridge-nf-call-iptables";

        vmnet_nstest_enter();
        if (!g_file_test(brnf, G_FILE_TEST_EXISTS)) {
                if (_i == 1) {
                        fprintf(stderr, "SKIP dataplane with br_netfilter: %s missing\n", brnf);
                        return;
                }
        } else {
                /* per network namespace since Linux 5.3: this changes only the test's own */
                g_free(vmnet_nstest_sh("echo %d > %s", _i, brnf));
        }
        nl = open_nl();
        ir = load_ir("tests/data/nft/dataplane.xml");

        /*
         * host (this namespace): bridges vm-lab 10.99.1.1/24 (nat) and vm-ho
         * 10.99.2.1/24 (host-only), uplink up0 198.51.100.1/24 to "up".
         * g1 10.99.1.20 and g2 10.99.1.10 on vm-lab, g3 10.99.2.20 on vm-ho.
         */
        up = ns_holder();
        g1 = ns_holder();
        g2 = ns_holder();
        g3 = ns_holder();
        g_free(vmnet_nstest_sh("echo 1 > /proc/sys/net/ipv4/ip_forward"));
        g_free(vmnet_nstest_sh("ip link add vm-lab type bridge && ip link set vm-lab up && "
                               "ip addr add 10.99.1.1/24 dev vm-lab && "
                               "ip link add vm-ho type bridge && ip link set vm-ho up && "
                               "ip addr add 10.99.2.1/24 dev vm-ho"));
        g_free(vmnet_nstest_sh("ip link add up0 type veth peer name eth0 netns %d && "
                               "ip addr add 198.51.100.1/24 dev up0 && ip link set up0 up",
                               up));
        g_free(vmnet_nstest_sh("nsenter -t %d -n sh -c 'ip link set lo up && "
                               "ip addr add 198.51.100.2/24 dev eth0 && ip link set eth0 up'",
                               up));
        guest(g1, "g1p", "vm-lab", "10.99.1.20", "10.99.1.1");
        guest(g2, "g2p", "vm-lab", "10.99.1.10", "10.99.1.1");
        guest(g3, "g3p", "vm-ho", "10.99.2.20", "10.99.2.1");

        tcp_server(up, "0.0.0.0", 9000);
        tcp_server(g2, "0.0.0.0", 80);
        tcp_server(host, "127.0.0.1", 8080); /* a host service that no forward may steal */
        tcp_server(host, "0.0.0.0", 5000);

        /* Without vmnet's table: the guest's private source has no way back. */
        assert_probe(g1, "198.51.100.2", 9000, none);
        assert_probe(up, "198.51.100.1", 8080, none);

        replace_ok(nl, ir);

        /* masquerade: upstream sees the host's address */
        assert_probe(g1, "198.51.100.2", 9000, "198.51.100.1");
        /* port forwards from outside, without and with host-ip */
        assert_probe(up, "198.51.100.1", 8080, "198.51.100.2");
        assert_probe(up, "198.51.100.1", 8081, "198.51.100.2");
        /* from the host itself (output chain), to its uplink and bridge addresses */
        assert_probe(host, "198.51.100.1", 8080, "198.51.100.1");
        assert_probe(host, "10.99.1.1", 8080, "10.99.1.1");
        /* the forward never catches loopback: the local service still answers */
        assert_probe(host, "127.0.0.1", 8080, "127.0.0.1");
        /* hairpin: a guest of the same network, answered through the host */
        assert_probe(g1, "198.51.100.1", 8080, "10.99.1.1");
        /* guests of one network talk directly */
        assert_probe(g1, "10.99.1.10", 80, "10.99.1.20");
        /* host-only guests reach the host's service the plan allows (allow-host), nothing beyond */
        assert_probe(g3, "10.99.2.1", 5000, "10.99.2.20");
        /* a guest of a network without <allow-host> does not reach it, on any host address */
        assert_probe(g1, "10.99.1.1", 5000, none);
        assert_probe(g1, "10.99.2.1", 5000, none);
        assert_probe(g3, "198.51.100.2", 9000, none);
        /* no forwarding between vmnet networks without <allow> */
        assert_probe(g3, "10.99.1.10", 80, none);
        /* no unsolicited connection into the NAT network, even with a route to it */
        g_free(vmnet_nstest_sh("nsenter -t %d -n ip route add 10.99.1.0/24 via 198.51.100.1",
                               up));
        assert_probe(up, "10.99.1.10", 80, none);

        /* and once the table is gone, so is the NAT */
        ck_assert(vmnet_nft_delete_table(nl, NULL));
        assert_probe(g1, "198.51.100.2", 9000, "10.99.1.20"); /* routed back via the new route */
        assert_probe(up, "198.51.100.1", 8080, none);
        /* the holders and servers die with this process (PR_SET_PDEATHSIG) */
}
END_TEST

static Suite *nft_netns_suite(void)
{
        Suite *s = suite_create("nft-netns");
        TCase *tc = tcase_create("text-vs-netlink");
        guint n = plans ? g_strv_length(plans) : 0;

        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, test_netlink_equals_text, 0, n);
        suite_add_tcase(s, tc);

        tc = tcase_create("kernel");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_foreign_tables_untouched);
        tcase_add_test(tc, test_replace_is_atomic);
        tcase_add_test(tc, test_replace_absent);
        tcase_add_test(tc, test_big_table);
        tcase_add_test(tc, test_observe_drift);
        tcase_add_test(tc, test_snapshot_restore);
        suite_add_tcase(s, tc);

        tc = tcase_create("dataplane");
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_dataplane, 0, 2);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        static const char *const plan_dirs[] = { "examples", "tests/data/nft", NULL };
        int ret;

        plans = vmnet_test_list_dirs(plan_dirs, ".xml");

        ret = vmnet_nstest_run(nft_netns_suite(), TRUE);
        g_strfreev(plans);
        return ret;
}
