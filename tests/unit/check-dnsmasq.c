/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions/libvirt.h"
#include "apply/apply.h"
#include "backend/dnsmasq/dnsmasq.h"
#include "backend/systemd/units.h"
#include "diff/dnsmasq.h"
#include "plan/plan.h"
#include "ipam/ipam.h"
#include "model/fleet.h"
#include "render/render.h"
#include "tests/unit/testutil.h"
#include "util/autoptr.h"
#include "validate/validate.h"

/*
 * vmnet's dnsmasq: the generated configuration of every example network
 * (golden files tests/data/dnsmasq/<example>-<network>.conf, each also
 * accepted by `dnsmasq --test`), the lease file parser, and a real DHCP
 * exchange: dnsmasq started by vmnet's own actions on a bridge in a
 * private network namespace, and busybox udhcpc in a second namespace on
 * the other end of a veth, which must get an address of the dynamic range,
 * and the reserved address once it has the reserved MAC. Everything is
 * checked from outside vmnet: /proc, the files, the client's own report.
 */

#define GOLDEN_LEASES "/var/lib/vmnet/dnsmasq/%s/%s.leases"
#define GOLDEN_PID "/run/vmnet/dnsmasq/%s/%s.pid"

/* ------------------------------------------------------------ goldens */

static void check_dnsmasq_accepts(const char *conf)
{
        g_autofree char *path = NULL;
        g_autofree char *arg = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) error = NULL;
        int fd = g_file_open_tmp("vmnet-dnsmasq-XXXXXX.conf", &path, &error);
        int status = 0;
        const char *argv[] = { vmnet_dnsmasq_binary(), "--test", NULL, NULL };

        ck_assert_msg(fd >= 0, "%s", error ? error->message : "");
        close(fd);
        ck_assert(g_file_set_contents(path, conf, -1, NULL));
        arg = g_strconcat("--conf-file=", path, NULL);
        argv[2] = arg;
        if (!g_file_test(argv[0], G_FILE_TEST_IS_EXECUTABLE)) {
                g_unlink(path);
                return; /* no dnsmasq here: the golden comparison still ran */
        }
        ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, NULL));
        g_unlink(path);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "dnsmasq --test: %s\n%s",
                      err, conf);
}

START_TEST(test_golden_examples)
{
        g_auto(GStrv) plans = vmnet_test_list_dir("examples", ".xml");
        g_autoptr(GHashTable) expected = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_auto(GStrv) goldens = NULL;
        guint rendered = 0;

        for (char **p = plans; *p; p++) {
                g_autoptr(VmnetPlan) plan = vmnet_test_load_plan(*p);
                g_autofree char *base = g_path_get_basename(*p);
                g_autoptr(VmnetIpam) ipam = NULL;
                g_autoptr(GError) error = NULL;

                base[strlen(base) - 4] = '\0';
                ck_assert_msg(vmnet_ipam_assign(plan, NULL, &ipam, &error), "%s: %s", *p,
                              error ? error->message : "");
                for (guint i = 0; i < plan->networks->len; i++) {
                        const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);
                        g_autoptr(GPtrArray) hosts = vmnet_ipam_dhcp_hosts(ipam, net->name);
                        g_autofree char *leases = NULL;
                        g_autofree char *pid = NULL;
                        g_autofree char *conf = NULL;
                        g_autofree char *golden = NULL;

                        if (!vmnet_network_wants_dnsmasq(net, hosts))
                                continue;
                        leases = g_strdup_printf(GOLDEN_LEASES, plan->name, net->name);
                        pid = g_strdup_printf(GOLDEN_PID, plan->name, net->name);
                        conf = vmnet_render_dnsmasq(plan, net, hosts, leases, pid, NULL);
                        ck_assert_msg(conf, "%s: network %s: not rendered", *p, net->name);
                        golden = g_strdup_printf("dnsmasq/%s-%s.conf", base, net->name);
                        vmnet_test_golden(golden, conf);
                        check_dnsmasq_accepts(conf);
                        g_hash_table_add(expected, g_strdup_printf("tests/data/%s", golden));
                        rendered++;
                }
        }
        ck_assert_uint_gt(rendered, 3);
        /* A golden file for a network that no longer gets dnsmasq is a stale expectation. */
        if (g_strcmp0(g_getenv("VMNET_REGENERATE"), "1") != 0) {
                goldens = vmnet_test_list_dir("tests/data/dnsmasq", ".conf");
                for (char **g = goldens; *g; g++)
                        ck_assert_msg(g_hash_table_contains(expected, *g),
                                      "%s: no example network renders it any more", *g);
        }
}
END_TEST

/* What the renderer decides, on a model built here. */
START_TEST(test_render_details)
{
        static const char *xml =
                "<plan xmlns='urn:vmnet:plan:1' name='p'>\n"
                "  <network name='mgmt' mode='host-only' bridge='br-m' domain='m.example'>\n"
                "    <subnet cidr='10.5.0.0/24' gateway='10.5.0.1'>\n"
                "      <reservation mac='52:54:00:00:05:02' ip='10.5.0.2' name='dup'/>\n"
                "      <reservation mac='52:54:00:00:05:03' ip='10.5.0.3' name='web1.elsewhere.example'/>\n"
                "    </subnet>\n"
                "    <subnet cidr='fd00:5::/64' gateway='fd00:5::1'/>\n"
                "    <dhcp-options><dns-server ip='fd00:5::53'/><dns-server ip='10.5.0.53'/>\n"
                "      <search domain='m.example'/>\n"
                "      <static-route to='10.9.0.0/16' via='10.5.0.254'/>\n"
                "      <boot next-server='10.5.0.69' uefi='ipxe.efi'/></dhcp-options>\n"
                "  </network>\n"
                "  <network name='lan' mode='bridged'><uplink dev='eth9'/>\n"
                "    <subnet cidr='10.6.0.0/24'/></network>\n"
                "  <domain name='dup'><interface network='mgmt' mac='52:54:00:00:05:09'/></domain>\n"
                "  <domain name='bad_name'><interface network='mgmt' mac='52:54:00:00:05:0a'/></domain>\n"
                "</plan>\n";
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetPlan) plan = vmnet_plan_load_data(xml, strlen(xml), "t.xml", diags, &error);
        g_autoptr(VmnetIpam) ipam = NULL;
        g_autoptr(GPtrArray) hosts = NULL;
        g_autoptr(GPtrArray) lan_hosts = NULL;
        g_autofree char *conf = NULL;

        ck_assert_msg(plan, "%s", error ? error->message : "");
        ck_assert(vmnet_ipam_assign(plan, NULL, &ipam, NULL));
        hosts = vmnet_ipam_dhcp_hosts(ipam, "mgmt");
        lan_hosts = vmnet_ipam_dhcp_hosts(ipam, "lan");
        ck_assert(!vmnet_network_wants_dnsmasq(g_ptr_array_index(plan->networks, 1), lan_hosts));
        ck_assert(vmnet_network_wants_dnsmasq(g_ptr_array_index(plan->networks, 0), hosts));
        conf = vmnet_render_dnsmasq(plan, g_ptr_array_index(plan->networks, 0), hosts, "/l", "/p",
                                    NULL);
        ck_assert_ptr_nonnull(conf);
        /* Reservations only: a static range, no dynamic pool. */
        ck_assert_msg(strstr(conf, "dhcp-range=10.5.0.0,static,255.255.255.0\n"), "%s", conf);
        /* The IPv6 subnet without dhcp gets router advertisements only. */
        ck_assert_msg(strstr(conf, "dhcp-range=fd00:5::,ra-only,64\n"), "%s", conf);
        ck_assert_msg(strstr(conf, "enable-ra\n"), "%s", conf);
        /* Host-only: no default route through the host. */
        ck_assert_msg(strstr(conf, "dhcp-option=option:router\n"), "%s", conf);
        ck_assert_msg(strstr(conf, "interface=br-m\n"), "%s", conf);
        ck_assert_msg(strstr(conf, "host-record=dup.m.example,dup,10.5.0.2\n"), "%s", conf);
        /* The domain named like the reservation gets its address, not the name twice. */
        ck_assert_msg(strstr(conf, "dhcp-host=52:54:00:00:05:09,10.5.0.4\n"), "%s", conf);
        /* A FQDN reservation: DHCP gets the first label, DNS the full name. */
        ck_assert_msg(strstr(conf, "dhcp-host=52:54:00:00:05:03,10.5.0.3,web1\n"), "%s", conf);
        ck_assert_msg(strstr(conf, "host-record=web1.elsewhere.example,web1,10.5.0.3\n"), "%s",
                      conf);
        /* Not a host name: the lease is kept, the name left out. */
        ck_assert_msg(strstr(conf, "dhcp-host=52:54:00:00:05:0a,10.5.0.5\n"), "%s", conf);
        ck_assert_msg(!strstr(conf, "bad_name"), "%s", conf);
        /* DHCP options: IPv6 servers in brackets, search domains for both families. */
        ck_assert_msg(strstr(conf, "dhcp-option=option:dns-server,10.5.0.53\n"), "%s", conf);
        ck_assert_msg(strstr(conf, "dhcp-option=option6:dns-server,[fd00:5::53]\n"), "%s", conf);
        ck_assert_msg(strstr(conf, "dhcp-option=option:domain-search,m.example\n"), "%s", conf);
        ck_assert_msg(strstr(conf, "dhcp-option=option6:domain-search,m.example\n"), "%s", conf);
        /* Host-only: no default route added to option 121. */
        ck_assert_msg(strstr(conf, "dhcp-option=option:classless-static-route,10.9.0.0/16,10.5.0.254\n"),
                      "%s", conf);
        /* UEFI only: no BIOS boot line, and the tag is set by client-arch. */
        ck_assert_msg(strstr(conf, "dhcp-boot=tag:vmnet-efi64,ipxe.efi,,10.5.0.69\n"), "%s", conf);
        ck_assert_msg(!strstr(conf, "tag:!vmnet-efi64"), "%s", conf);
        check_dnsmasq_accepts(conf);
}
END_TEST

/*
 * Values the validator would refuse, put into the model directly, and paths
 * (built from --netns and the state directory, which no plan checks): the
 * renderer refuses to write any of them rather than add an option.
 */
START_TEST(test_render_refuses_injection)
{
        static const char *xml =
                "<plan xmlns='urn:vmnet:plan:1' name='p'>\n"
                "  <network name='lab' mode='nat' bridge='br-lab' domain='lab.example'>\n"
                "    <subnet cidr='10.7.0.0/24' gateway='10.7.0.1'>\n"
                "      <dhcp start='10.7.0.10' end='10.7.0.20'/>\n"
                "    </subnet>\n"
                "  </network>\n"
                "</plan>\n";
        static const struct {
                const char *field; /* which value is replaced */
                const char *value;
                const char *message;
        } cases[] = {
                { "bridge", "n,up0", "network 'lab': bridge 'n,up0' cannot be written into dnsmasq's configuration: it contains ','" },
                { "bridge", "*", "network 'lab': bridge '*' cannot be written into dnsmasq's configuration: it contains '*'" },
                { "bridge", "b\nserver=9", "network 'lab': bridge 'b\\nserver=9' cannot be written into dnsmasq's configuration: it contains the byte 0x0a" },
                { "domain", "lab\nserver=9.9.9.9", "network 'lab': domain 'lab\\nserver=9.9.9.9' cannot be written into dnsmasq's configuration: it contains the byte 0x0a" },
                { "domain", "a,b", "network 'lab': domain 'a,b' cannot be written into dnsmasq's configuration: it contains ','" },
                { "pid", "/run/x\nserver=9.9.9.9", "network 'lab': pid file '/run/x\\nserver=9.9.9.9' cannot be written into dnsmasq's configuration: it contains white space or a control character" },
                { "leases", "/var/lib/a b#c", "network 'lab': lease file '/var/lib/a b#c' cannot be written into dnsmasq's configuration: it contains white space or a control character" },
                { "leases", "/var/lib/a,b", "network 'lab': lease file '/var/lib/a,b' cannot be written into dnsmasq's configuration: it contains one of , \" \\ # *" },
                { "boot", "pxelinux.0,,9.9.9.9", "network 'lab': boot file 'pxelinux.0,,9.9.9.9' cannot be written into dnsmasq's configuration: it contains one of , \" \\ # *" },
                { "boot", "a\ndhcp-script=/tmp/x", "network 'lab': boot file 'a\\ndhcp-script=/tmp/x' cannot be written into dnsmasq's configuration: it contains white space or a control character" },
                { "search", "a.example\nserver=9.9.9.9", "network 'lab': search domain 'a.example\\nserver=9.9.9.9' cannot be written into dnsmasq's configuration: it contains the byte 0x0a" },
                { "plan", "p\ndhcp-script=/tmp/x", "network 'lab': plan name 'p\\ndhcp-script=/tmp/x' cannot be written into dnsmasq's configuration: it contains white space or a control character" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(VmnetDiags) diags = vmnet_diags_new();
                g_autoptr(VmnetPlan) plan = vmnet_plan_load_data(xml, strlen(xml), "t.xml", diags, NULL);
                VmnetNetwork *net;
                const char *pid = "/p", *leases = "/l";
                g_autoptr(GError) error = NULL;
                g_autofree char *conf = NULL;

                ck_assert_ptr_nonnull(plan);
                ck_assert(vmnet_plan_validate(plan, diags));
                net = g_ptr_array_index(plan->networks, 0);
                if (g_str_equal(cases[i].field, "bridge")) {
                        g_free(net->bridge);
                        net->bridge = g_strdup(cases[i].value);
                } else if (g_str_equal(cases[i].field, "domain")) {
                        g_free(net->dns_domain);
                        net->dns_domain = g_strdup(cases[i].value);
                } else if (g_str_equal(cases[i].field, "boot")) {
                        net->dhcp_options->line = net->dhcp_options->boot_line = 1;
                        vmnet_addr_parse("10.7.0.5", &net->dhcp_options->next_server);
                        net->dhcp_options->boot_bios = g_strdup(cases[i].value);
                } else if (g_str_equal(cases[i].field, "search")) {
                        VmnetDhcpItem *it = g_new0(VmnetDhcpItem, 1);

                        it->name = g_strdup(cases[i].value);
                        net->dhcp_options->line = 1;
                        g_ptr_array_add(net->dhcp_options->search, it);
                } else if (g_str_equal(cases[i].field, "plan")) {
                        g_free(plan->name);
                        plan->name = g_strdup(cases[i].value);
                } else if (g_str_equal(cases[i].field, "pid")) {
                        pid = cases[i].value;
                } else {
                        leases = cases[i].value;
                }
                conf = vmnet_render_dnsmasq(plan, net, NULL, leases, pid, &error);
                ck_assert_msg(!conf, "%s '%s' was written:\n%s", cases[i].field, cases[i].value, conf);
                ck_assert_str_eq(error->message, cases[i].message);
        }
}
END_TEST

START_TEST(test_parse_leases)
{
        static const char *text =
                "1700000100 52:54:00:64:00:0a 192.168.100.10 web1 01:52:54:00:64:00:0a\n"
                "0 52:54:00:64:00:99 192.168.100.150 * *\n"
                "duid 00:01:00:01:2c:00:00:00:52:54:00:00:00:01\n"
                "1700000200 1234 fd00::10 web6 00:01:00:01\n"
                "garbage\n"
                "\n";
        g_autoptr(GPtrArray) leases = vmnet_dnsmasq_parse_leases(text);
        const VmnetLease *l;
        g_autofree char *ip = NULL;

        ck_assert_uint_eq(leases->len, 2);
        l = g_ptr_array_index(leases, 0);
        ck_assert_int_eq(l->expiry, 1700000100);
        ck_assert_str_eq(l->hostname, "web1");
        ip = vmnet_addr_to_string(&l->ip);
        ck_assert_str_eq(ip, "192.168.100.10");
        l = g_ptr_array_index(leases, 1);
        ck_assert_int_eq(l->expiry, 0);
        ck_assert_ptr_null(l->hostname);
        ck_assert_ptr_null(l->client_id);
}
END_TEST

/* ------------------------------------------------------------ a real DHCP exchange */

static pid_t client_ns_pid; /* a sleeping process holding the client's namespace */
static char *tmp_dir;

static gboolean netns_possible(void)
{
        int status = 0;
        pid_t pid;

        if (geteuid() != 0)
                return FALSE;
        pid = fork();
        if (pid == 0)
                _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
        return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
               WEXITSTATUS(status) == 0;
}

static char *sh(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static char *sh(const char *fmt, ...)
{
        g_autofree char *cmd = NULL;
        g_autofree char *err = NULL;
        char *out = NULL;
        int status = 0;
        va_list ap;
        const char *argv[] = { "/bin/sh", "-c", NULL, NULL };

        va_start(ap, fmt);
        cmd = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        argv[2] = cmd;
        ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, NULL));
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "`%s` failed: %s", cmd, err);
        return g_strchomp(out);
}

static void ns_setup(void)
{
        tmp_dir = g_dir_make_tmp("vmnet-dnsmasq-XXXXXX", NULL);
}

/*
 * Whatever happened, leave no process behind: they would keep the
 * namespaces alive. The scenario runs in a child process (a failed
 * assertion ends it at once), and this runs after it, whatever its fate;
 * it finds the processes through their pid files.
 */
static void ns_teardown(void)
{
        static const char *const pid_files[] = { "run/dnsmasq/hv-nat/lab.pid", "client.pid" };

        if (!tmp_dir)
                return;
        for (guint i = 0; i < G_N_ELEMENTS(pid_files); i++) {
                g_autofree char *path = g_build_filename(tmp_dir, pid_files[i], NULL);
                g_autofree char *pid = NULL;

                if (g_file_get_contents(path, &pid, NULL, NULL) && atoi(pid) > 1)
                        kill(atoi(pid), SIGKILL);
        }
        {
                const char *rm[] = { "rm", "-rf", tmp_dir, NULL };

                g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                             NULL, NULL);
        }
        g_clear_pointer(&tmp_dir, g_free);
}

/*
 * Runs udhcpc in the client namespace with the extra arguments; returns
 * "IP DOMAIN" of the lease it got. *opts (if not NULL) gets the options
 * udhcpc reported for it, one "name=value" a line.
 */
static char *dhcp_client_opts(const char *extra, char **opts)
{
        g_autofree char *script = g_build_filename(tmp_dir, "udhcpc.sh", NULL);
        g_autofree char *out = g_build_filename(tmp_dir, "lease.out", NULL);
        g_autofree char *opts_out = g_build_filename(tmp_dir, "opts.out", NULL);
        g_autofree char *body = g_strdup_printf("#!/bin/sh\n"
                                                "[ \"$1\" = bound ] || exit 0\n"
                                                "ip addr flush dev \"$interface\"\n"
                                                "ip addr add \"$ip/$mask\" dev \"$interface\"\n"
                                                "printf 'dns=%%s\\nsearch=%%s\\nntp=%%s\\n"
                                                "routes=%%s\\nrouter=%%s\\nsiaddr=%%s\\n"
                                                "boot=%%s\\n' \"$dns\" \"$search\" "
                                                "\"$ntpsrv\" \"$staticroutes\" \"$router\" "
                                                "\"$siaddr\" \"$boot_file\" > %s\n"
                                                "echo \"$ip $domain\" > %s\n"
                                                "exit 0\n",
                                                opts_out, out);
        char *result = NULL;

        g_unlink(out);
        g_unlink(opts_out);
        ck_assert(g_file_set_contents(script, body, -1, NULL));
        ck_assert(g_chmod(script, 0755) == 0);
        /* -n: give up without a lease; -q: quit once bound; -t/-T: 5 tries, 1 s apart. */
        g_free(sh("nsenter -t %d -n busybox udhcpc -i vq1 -f -n -q -t 5 -T 1 %s -s %s >/dev/null 2>&1",
                  client_ns_pid, extra, script));
        ck_assert_msg(g_file_get_contents(out, &result, NULL, NULL), "udhcpc reported no lease");
        if (opts)
                ck_assert(g_file_get_contents(opts_out, opts, NULL, NULL));
        return g_strchomp(result);
}

static char *dhcp_client(void)
{
        return dhcp_client_opts("", NULL);
}

static gboolean process_alive(int pid)
{
        g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", pid);
        g_autofree char *stat = NULL;
        const char *paren;

        if (!g_file_get_contents(stat_path, &stat, NULL, NULL))
                return FALSE;
        paren = strrchr(stat, ')');
        return paren && paren[2] != 'Z' && paren[2] != 'X';
}

static void run_actions(GPtrArray *actions)
{
        VmnetApplyCtx ctx = { 0 };
        g_autoptr(GError) error = NULL;
        guint done = 0;

        ck_assert_msg(vmnet_apply_actions(&ctx, actions, NULL, NULL, &done, &error), "apply: %s",
                      error ? error->message : "");
}

static GPtrArray *diff(const VmnetPlan *plan)
{
        g_autoptr(VmnetIpam) ipam = NULL;
        g_autoptr(GError) error = NULL;
        GPtrArray *actions = vmnet_action_list_new();

        ck_assert(vmnet_ipam_assign(plan, NULL, &ipam, &error));
        ck_assert_msg(vmnet_diff_dnsmasq(plan, ipam, NULL, actions, &error), "diff: %s",
                      error ? error->message : "");
        return actions;
}

static int read_pid(const VmnetDnsmasqPaths *p)
{
        g_autofree char *text = NULL;

        return g_file_get_contents(p->pid_path, &text, NULL, NULL) ? atoi(text) : 0;
}

static void dhcp_scenario(void)
{
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(VmnetDnsmasqPaths) p = NULL;
        g_autoptr(GPtrArray) actions = NULL;
        g_autoptr(GPtrArray) leases = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *state_dir = NULL;
        g_autofree char *run_dir = NULL;
        g_autofree char *got = NULL;
        g_autofree char *desc = NULL;
        g_autofree char *dns = NULL;
        g_autofree char *conf_before = NULL;
        const char *argv[] = { "unshare", "-n", "sleep", "120", NULL };
        gboolean seen_dynamic = FALSE, seen_reserved = FALSE;
        GPid child;
        int pid1, pid2;
        guint ip_last;

        ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
        state_dir = g_build_filename(tmp_dir, "state", NULL);
        run_dir = g_build_filename(tmp_dir, "run", NULL);
        g_setenv("VMNET_STATE_DIR", state_dir, TRUE);
        g_setenv("VMNET_RUN_DIR", run_dir, TRUE);

        /* The server side: vmnet's bridge as the kernel part would make it. */
        g_free(sh("ip link set lo up && ip link add vm-lab type bridge && ip link set vm-lab up && "
                  "ip addr add 192.168.100.1/24 dev vm-lab && "
                  "ip link add vq0 type veth peer name vq1 && ip link set vq0 master vm-lab up"));
        /* The client side: a second namespace, held by a sleeping process. */
        ck_assert(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                        G_SPAWN_STDOUT_TO_DEV_NULL,
                                NULL, NULL, &child, NULL));
        client_ns_pid = child;
        {
                g_autofree char *pid_file = g_build_filename(tmp_dir, "client.pid", NULL);
                g_autofree char *text = g_strdup_printf("%d\n", child);

                ck_assert(g_file_set_contents(pid_file, text, -1, NULL));
        }
        g_free(sh("for i in $(seq 50); do [ \"$(readlink /proc/%d/ns/net)\" != "
                  "\"$(readlink /proc/self/ns/net)\" ] && [ \"$(readlink /proc/%d/exe)\" != "
                  "\"$(command -v unshare)\" ] && exit 0; sleep 0.1; done; exit 1",
                  child, child));
        g_free(sh("ip link set vq1 netns %d && nsenter -t %d -n ip link set lo up && "
                  "nsenter -t %d -n ip link set vq1 up",
                  child, child, child));

        plan = vmnet_test_load_plan("examples/nat.xml");
        p = vmnet_dnsmasq_paths(plan->name, NULL, "lab");

        /* Start through vmnet's diff and actions. */
        actions = diff(plan);
        ck_assert_uint_eq(actions->len, 1);
        desc = vmnet_action_describe(g_ptr_array_index(actions, 0));
        ck_assert_str_eq(desc, "start dnsmasq for network lab on vm-lab");
        run_actions(actions);
        g_clear_pointer(&actions, g_ptr_array_unref);
        pid1 = read_pid(p);
        ck_assert_msg(pid1 > 1 && process_alive(pid1), "no dnsmasq running (pid file %s)",
                      p->pid_path);
        ck_assert(g_file_test(p->conf_path, G_FILE_TEST_IS_REGULAR));

        /*
         * A client with a MAC nobody reserved: the dynamic range .100-.199,
         * and the network's <dhcp-options> as the client read them, asked
         * for with -O (option 55) as a guest's client does. BIOS first (no
         * client architecture), then an x86-64 UEFI client (option 93 = 7).
         */
        {
                g_autofree char *opts = NULL;
                g_autofree char *uefi = NULL;

                got = dhcp_client_opts("-O search -O ntpsrv -O staticroutes", &opts);
                ck_assert_msg(g_str_has_prefix(got, "192.168.100.") &&
                                      sscanf(got, "192.168.100.%u", &ip_last) == 1 &&
                                      ip_last >= 100 && ip_last <= 199,
                              "dynamic lease %s outside the range", got);
                ck_assert_str_eq(opts, "dns=192.168.100.1 192.0.2.53\n"
                                       "search=lab.example corp.example\n"
                                       "ntp=192.0.2.123\n"
                                       "routes=198.51.100.0/24 192.168.100.11 0.0.0.0/0 192.168.100.1\n"
                                       "router=192.168.100.1\n"
                                       "siaddr=192.168.100.11\n"
                                       "boot=pxelinux.0\n");
                g_free(dhcp_client_opts("-x 0x5d:0007", &uefi));
                ck_assert_msg(strstr(uefi, "\nsiaddr=192.168.100.11\nboot=efi/grubx64.efi\n"),
                              "a UEFI client got:\n%s", uefi);
        }
        g_clear_pointer(&got, g_free);

        /* The reserved MAC gets the reservation, and the DNS domain. */
        g_free(sh("nsenter -t %d -n sh -c 'ip link set vq1 down && "
                  "ip link set vq1 address 52:54:00:64:00:0a && ip link set vq1 up'",
                  child));
        got = dhcp_client();
        ck_assert_str_eq(got, "192.168.100.10 lab.example");

        /*
         * The reservation's own options win over the network's (its DNS
         * server, its boot file for BIOS and UEFI alike), the network's
         * others still reach it.
         */
        {
                g_autofree char *opts = NULL;
                g_autofree char *uefi = NULL;

                g_free(dhcp_client_opts("-O search -O ntpsrv -O staticroutes", &opts));
                ck_assert_str_eq(opts, "dns=192.0.2.53\n"
                                       "search=lab.example corp.example\n"
                                       "ntp=192.0.2.123\n"
                                       "routes=198.51.100.0/24 192.168.100.11 0.0.0.0/0 192.168.100.1\n"
                                       "router=192.168.100.1\n"
                                       "siaddr=192.168.100.11\n"
                                       "boot=web1/pxelinux.0\n");
                g_free(dhcp_client_opts("-x 0x5d:0007", &uefi));
                ck_assert_msg(strstr(uefi, "\nboot=web1/pxelinux.0\n"), "web1 as a UEFI client got:\n%s",
                              uefi);
        }

        /* DNS: the reservation's name resolves on the bridge address. */
        dns = sh("nsenter -t %d -n busybox nslookup web1.lab.example 192.168.100.1 2>&1 || true",
                 child);
        ck_assert_msg(strstr(dns, "192.168.100.10"), "nslookup: %s", dns);

        /* Both leases show up in vmnet's lease reader (dnsmasq writes the file as it grants). */
        for (int i = 0; i < 50 && !(seen_dynamic && seen_reserved); i++) {
                g_clear_pointer(&leases, g_ptr_array_unref);
                leases = vmnet_dnsmasq_read_leases(p->lease_path, &error);
                ck_assert(leases);
                seen_dynamic = seen_reserved = FALSE;
                for (guint j = 0; j < leases->len; j++) {
                        const VmnetLease *l = g_ptr_array_index(leases, j);
                        g_autofree char *mac = vmnet_mac_to_string(&l->mac);
                        g_autofree char *ip = vmnet_addr_to_string(&l->ip);

                        if (g_str_equal(mac, "52:54:00:64:00:0a"))
                                seen_reserved = g_str_equal(ip, "192.168.100.10");
                        else
                                seen_dynamic = TRUE;
                }
                g_usleep(100 * 1000);
        }
        ck_assert_msg(seen_dynamic && seen_reserved, "leases not in %s", p->lease_path);

        /* Idempotent: nothing to do while the configuration is the same. */
        actions = diff(plan);
        ck_assert_uint_eq(actions->len, 0);
        g_clear_pointer(&actions, g_ptr_array_unref);

        /* A changed configuration restarts it; the inverse restores the old one. */
        ck_assert(g_file_get_contents(p->conf_path, &conf_before, NULL, NULL));
        ((VmnetSubnet *)g_ptr_array_index(
                 ((VmnetNetwork *)g_ptr_array_index(plan->networks, 0))->subnets, 0))
                ->lease_seconds = 7200;
        actions = diff(plan);
        ck_assert_uint_eq(actions->len, 1);
        g_free(desc);
        desc = vmnet_action_describe(g_ptr_array_index(actions, 0));
        ck_assert_str_eq(desc, "restart dnsmasq for network lab on vm-lab (configuration changed)");
        {
                g_autoptr(VmnetAction) inv =
                        ((VmnetAction *)g_ptr_array_index(actions, 0))->type->invert(
                                g_ptr_array_index(actions, 0));
                g_autoptr(GPtrArray) undo = vmnet_action_list_new();
                g_autofree char *conf_after = NULL;
                g_autofree char *conf_restored = NULL;

                run_actions(actions);
                pid2 = read_pid(p);
                ck_assert(pid2 > 1 && pid2 != pid1 && process_alive(pid2) && !process_alive(pid1));
                ck_assert(g_file_get_contents(p->conf_path, &conf_after, NULL, NULL));
                ck_assert(strstr(conf_after, ",7200\n"));
                g_ptr_array_add(undo, g_steal_pointer(&inv));
                run_actions(undo);
                ck_assert(g_file_get_contents(p->conf_path, &conf_restored, NULL, NULL));
                ck_assert_str_eq(conf_restored, conf_before);
                ck_assert(process_alive(read_pid(p)) && !process_alive(pid2));
                pid1 = read_pid(p);
        }
        g_clear_pointer(&actions, g_ptr_array_unref);

        /*
         * A changed DHCP option is a restart that names it, of impact safe
         * (leases survive; guests take the new options at their renewal).
         */
        {
                VmnetNetwork *lab = g_ptr_array_index(plan->networks, 0);
                VmnetAction *a;

                g_ptr_array_set_size(lab->dhcp_options->ntp_servers, 0);
                ((VmnetRoute *)g_ptr_array_index(lab->dhcp_options->routes, 0))->via.bytes[3] = 12;
                actions = diff(plan);
                ck_assert_uint_eq(actions->len, 1);
                a = g_ptr_array_index(actions, 0);
                g_free(desc);
                desc = vmnet_action_describe(a);
                ck_assert_str_eq(desc, "restart dnsmasq for network lab on vm-lab (configuration "
                                       "changed; DHCP options: classless-static-route, ntp-server; "
                                       "guests get them at their next renewal)");
                ck_assert_str_eq(vmnet_impact_to_string(a->impact), "safe");
                g_clear_pointer(&actions, g_ptr_array_unref);
        }

        /* Destroy: the process is gone, and so are its files. */
        actions = vmnet_action_list_new();
        ck_assert(vmnet_diff_dnsmasq_destroy(plan->name, NULL, actions, &error));
        ck_assert_uint_eq(actions->len, 1);
        g_free(desc);
        desc = vmnet_action_describe(g_ptr_array_index(actions, 0));
        ck_assert_str_eq(desc, "stop dnsmasq for network lab and remove its configuration and leases");
        run_actions(actions);
        ck_assert_msg(!process_alive(pid1), "dnsmasq %d still runs", pid1);
        ck_assert(!g_file_test(p->pid_path, G_FILE_TEST_EXISTS));
        ck_assert(!g_file_test(p->conf_path, G_FILE_TEST_EXISTS));
        ck_assert(!g_file_test(p->lease_path, G_FILE_TEST_EXISTS));
        g_clear_pointer(&actions, g_ptr_array_unref);
        actions = vmnet_action_list_new();
        ck_assert(vmnet_diff_dnsmasq_destroy(plan->name, NULL, actions, &error));
        ck_assert_uint_eq(actions->len, 0);
}

/* ------------------------------------------------------------ systemd units */

/* The value of property name in props (a(sv)), NULL when not there. */
static GVariant *unit_property(GVariant *props, const char *name)
{
        GVariantIter it;
        const char *key;
        GVariant *value;

        g_variant_iter_init(&it, props);
        while (g_variant_iter_next(&it, "(&sv)", &key, &value)) {
                if (g_str_equal(key, name))
                        return value;
                g_variant_unref(value);
        }
        return NULL;
}

/* props one property a line, "Name value" (the value as g_variant_print() writes it). */
static char *unit_text(GVariant *props)
{
        GString *out = g_string_new(NULL);
        GVariantIter it;
        const char *key;
        GVariant *value;

        g_variant_iter_init(&it, props);
        while (g_variant_iter_next(&it, "(&sv)", &key, &value)) {
                g_autofree char *text = g_variant_print(value, TRUE);

                g_string_append_printf(out, "%s %s\n", key, text);
                g_variant_unref(value);
        }
        return g_string_free(out, FALSE);
}

static void check_string_property(GVariant *props, const char *name, const char *want)
{
        g_autoptr(GVariant) v = unit_property(props, name);

        ck_assert_msg(v, "no property %s", name);
        ck_assert_msg(g_variant_is_of_type(v, G_VARIANT_TYPE_STRING), "%s is %s", name,
                      g_variant_get_type_string(v));
        ck_assert_str_eq(g_variant_get_string(v, NULL), want);
}

/*
 * The properties of a dnsmasq's transient unit (what StartTransientUnit is
 * sent): golden files tests/data/dnsmasq/unit-{host,netns}.txt, and what
 * supervision rests on, checked one by one.
 */
START_TEST(test_unit_properties)
{
        const char *pid = "/run/vmnet/dnsmasq/hv/lab.pid";
        const char *conf = "/var/lib/vmnet/dnsmasq/hv/lab.conf";
        g_autoptr(GVariant) host = vmnet_render_dnsmasq_unit("vmnet: dnsmasq of network lab of plan hv",
                                                             "/usr/sbin/dnsmasq", conf, pid, NULL);
        g_autoptr(GVariant) ns = vmnet_render_dnsmasq_unit("vmnet: dnsmasq of network lab of plan hv",
                                                           "/usr/sbin/dnsmasq", conf, pid, "ns1");
        g_autofree char *host_golden = unit_text(host);
        g_autofree char *ns_golden = unit_text(ns);
        g_autoptr(GVariant) exec = unit_property(host, "ExecStart");
        g_autoptr(GVariant) restart_usec = unit_property(host, "RestartUSec");
        g_autoptr(GVariant) no_netns = unit_property(host, "NetworkNamespacePath");
        g_autofree char *exec_text = NULL;

        ck_assert_str_eq(g_variant_get_type_string(host), "a(sv)");
        vmnet_test_golden("dnsmasq/unit-host.txt", host_golden);
        vmnet_test_golden("dnsmasq/unit-netns.txt", ns_golden);
        /* Supervised: restarted whenever it ends, but for a stop of its unit. */
        check_string_property(host, "Restart", "always");
        ck_assert(restart_usec && g_variant_get_uint64(restart_usec) == G_USEC_PER_SEC);
        /* Started = daemonized with its sockets bound, as when vmnet forks it. */
        check_string_property(host, "Type", "forking");
        check_string_property(host, "PIDFile", pid);
        ck_assert(exec);
        exec_text = g_variant_print(exec, FALSE);
        ck_assert_str_eq(exec_text, "[('/usr/sbin/dnsmasq', ['/usr/sbin/dnsmasq', "
                                    "'--conf-file=/var/lib/vmnet/dnsmasq/hv/lab.conf'], false)]");
        check_string_property(host, "Slice", "system-vmnet.slice");
        check_string_property(host, "CollectMode", "inactive-or-failed");
        /* The host's network namespace, unless the plan is applied in another. */
        ck_assert(!no_netns);
        check_string_property(ns, "NetworkNamespacePath", "/run/netns/ns1");
        check_string_property(ns, "Restart", "always");
}
END_TEST

/*
 * The unit's properties as they go on the bus: the StartTransientUnit
 * message built as units.c builds it (on a bus over a socketpair, never
 * sent), then read back with sd-bus: its signature, each property's type
 * and the values systemd acts on.
 */
START_TEST(test_unit_message)
{
        g_autoptr(GVariant) props = vmnet_render_dnsmasq_unit("d", "/usr/sbin/dnsmasq", "/s/lab.conf",
                                                              "/r/lab.pid", "ns1");
        /* Closed, never flushed: nothing answers at the other end. */
        sd_bus *bus = NULL;
        g_autoptr(sd_bus_message) m = NULL;
        const char *unit, *mode;
        guint seen = 0;
        int fds[2];

        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        ck_assert_int_ge(sd_bus_new(&bus), 0);
        ck_assert_int_ge(sd_bus_set_fd(bus, fds[0], fds[0]), 0);
        ck_assert_int_ge(sd_bus_start(bus), 0);
        ck_assert_int_ge(sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
                                                        "/org/freedesktop/systemd1",
                                                        "org.freedesktop.systemd1.Manager",
                                                        "StartTransientUnit"),
                         0);
        ck_assert_int_ge(sd_bus_message_append(m, "ss", "u.service", "fail"), 0);
        ck_assert_int_ge(vmnet_systemd_append_variant(m, props), 0);
        ck_assert_int_ge(sd_bus_message_append(m, "a(sa(sv))", 0), 0);
        ck_assert_int_ge(sd_bus_message_seal(m, 1, 0), 0);
        ck_assert_str_eq(sd_bus_message_get_signature(m, 1), "ssa(sv)a(sa(sv))");
        ck_assert_int_ge(sd_bus_message_rewind(m, 1), 0);
        ck_assert_int_ge(sd_bus_message_read(m, "ss", &unit, &mode), 0);
        ck_assert_int_ge(sd_bus_message_enter_container(m, 'a', "(sv)"), 0);
        while (sd_bus_message_enter_container(m, 'r', "sv") > 0) {
                g_autoptr(GVariant) want = NULL;
                const char *name, *sig;
                char type;

                ck_assert_int_ge(sd_bus_message_read(m, "s", &name), 0);
                want = unit_property(props, name);
                ck_assert_msg(want, "%s: not in the properties", name);
                ck_assert_int_ge(sd_bus_message_peek_type(m, &type, &sig), 0);
                ck_assert_int_eq(type, 'v');
                ck_assert_str_eq(sig, g_variant_get_type_string(want));
                if (g_str_equal(name, "ExecStart")) {
                        g_auto(GStrv) argv = NULL;
                        const char *path;
                        int ignore = -1;

                        ck_assert_int_ge(sd_bus_message_enter_container(m, 'v', "a(sasb)"), 0);
                        ck_assert_int_ge(sd_bus_message_enter_container(m, 'a', "(sasb)"), 0);
                        ck_assert_int_ge(sd_bus_message_enter_container(m, 'r', "sasb"), 0);
                        ck_assert_int_ge(sd_bus_message_read(m, "s", &path), 0);
                        ck_assert_int_ge(sd_bus_message_read_strv(m, &argv), 0);
                        ck_assert_int_ge(sd_bus_message_read(m, "b", &ignore), 0);
                        ck_assert_str_eq(path, "/usr/sbin/dnsmasq");
                        ck_assert_uint_eq(g_strv_length(argv), 2);
                        ck_assert_str_eq(argv[1], "--conf-file=/s/lab.conf");
                        ck_assert_int_eq(ignore, 0);
                        for (int i = 0; i < 3; i++)
                                ck_assert_int_ge(sd_bus_message_exit_container(m), 0);
                } else if (g_str_equal(sig, "s")) {
                        const char *value;

                        ck_assert_int_ge(sd_bus_message_read(m, "v", "s", &value), 0);
                        ck_assert_str_eq(value, g_variant_get_string(want, NULL));
                } else if (g_str_equal(sig, "t")) {
                        uint64_t value;

                        ck_assert_int_ge(sd_bus_message_read(m, "v", "t", &value), 0);
                        ck_assert_uint_eq(value, g_variant_get_uint64(want));
                } else {
                        ck_assert_int_ge(sd_bus_message_skip(m, "v"), 0);
                }
                ck_assert_int_ge(sd_bus_message_exit_container(m), 0);
                seen++;
        }
        ck_assert_uint_eq(seen, g_variant_n_children(props));
        g_clear_pointer(&m, sd_bus_message_unref);
        sd_bus_close_unref(bus);
        close(fds[1]);
}
END_TEST

START_TEST(test_unit_names)
{
        g_autofree char *host = vmnet_dnsmasq_unit_name("hv-nat", NULL, "lab.1");
        g_autofree char *ns = vmnet_dnsmasq_unit_name("hv-nat", "ns_a", "lab");
        g_autofree char *odd = vmnet_dnsmasq_unit_name("a b", NULL, "x/y:z");
        g_autoptr(VmnetDnsmasqPaths) p = vmnet_dnsmasq_paths("hv", "ns1", "lab");
        g_autoptr(VmnetDnsmasqPaths) q = vmnet_dnsmasq_paths_copy(p);

        ck_assert_str_eq(host, "vmnet-dnsmasq-hv-nat:lab.1.service");
        ck_assert_str_eq(ns, "vmnet-dnsmasq-ns_a:hv-nat:lab.service");
        ck_assert_str_eq(odd, "vmnet-dnsmasq-a\\x20b:x\\x2fy\\x3az.service");
        ck_assert_str_eq(q->unit, "vmnet-dnsmasq-ns1:hv:lab.service");
        ck_assert_str_eq(q->netns, "ns1");
        ck_assert_str_eq(q->plan, "hv");
}
END_TEST

/* Who runs dnsmasq: the test switch, and without it what the host is. */
START_TEST(test_supervisor_choice)
{
        g_autofree char *saved = g_strdup(g_getenv("VMNET_DNSMASQ_SUPERVISOR"));

        g_setenv("VMNET_DNSMASQ_SUPERVISOR", "systemd", TRUE);
        ck_assert_int_eq(vmnet_dnsmasq_supervisor(), VMNET_DNSMASQ_BY_SYSTEMD);
        g_setenv("VMNET_DNSMASQ_SUPERVISOR", "fork", TRUE);
        ck_assert_int_eq(vmnet_dnsmasq_supervisor(), VMNET_DNSMASQ_BY_VMNET);
        g_unsetenv("VMNET_DNSMASQ_SUPERVISOR");
        /* A host not booted with systemd (this container, a test namespace): vmnet forks. */
        if (!g_file_test("/run/systemd/system", G_FILE_TEST_IS_DIR))
                ck_assert_int_eq(vmnet_dnsmasq_supervisor(), VMNET_DNSMASQ_BY_VMNET);
        /* The next tests may run in this process (CK_FORK=no): as make check set it. */
        if (saved)
                g_setenv("VMNET_DNSMASQ_SUPERVISOR", saved, TRUE);
}
END_TEST

START_TEST(test_dhcp_in_namespaces)
{
        int status = 0;
        pid_t pid;

        if (!netns_possible() || !g_file_test(vmnet_dnsmasq_binary(), G_FILE_TEST_IS_EXECUTABLE) ||
            !g_file_test("/bin/busybox", G_FILE_TEST_IS_EXECUTABLE)) {
                fprintf(stderr, "test_dhcp_in_namespaces: SKIP (needs root, network namespaces, "
                                "dnsmasq and busybox)\n");
                return;
        }
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                /* Its failed assertions reach Check's report directly. */
                dhcp_scenario();
                _exit(0);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ns_teardown();
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "the DHCP scenario failed (its first failure is reported above)");
}
END_TEST

/* A configuration dnsmasq refuses: the start fails with dnsmasq's message and leaves nothing. */
START_TEST(test_start_failure_leaves_nothing)
{
        g_autofree char *state_dir = g_build_filename(tmp_dir, "state", NULL);
        g_autofree char *run_dir = g_build_filename(tmp_dir, "run", NULL);
        g_autoptr(VmnetDnsmasqPaths) p = NULL;
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        g_autoptr(GError) error = NULL;
        VmnetApplyCtx ctx = { 0 };

        if (!g_file_test(vmnet_dnsmasq_binary(), G_FILE_TEST_IS_EXECUTABLE))
                return;
        g_setenv("VMNET_STATE_DIR", state_dir, TRUE);
        g_setenv("VMNET_RUN_DIR", run_dir, TRUE);
        p = vmnet_dnsmasq_paths("hv-nat", NULL, "lab");
        g_ptr_array_add(actions, vmnet_action_dnsmasq_start(p, "vm-lab", "no-such-option\n", NULL,
                                                            FALSE));
        ck_assert(!vmnet_apply_actions(&ctx, actions, NULL, NULL, NULL, &error));
        ck_assert_msg(strstr(error->message, "did not start") &&
                              strstr(error->message, "bad option at line 1"),
                      "%s", error->message);
        ck_assert(!g_file_test(p->conf_path, G_FILE_TEST_EXISTS));
        ck_assert(!g_file_test(p->pid_path, G_FILE_TEST_EXISTS));
}
END_TEST

/* ------------------------------------------------------------ a batch of starts */

/*
 * An apply's dnsmasq starts run as one batch (apply/apply.h): every
 * instance forked, then each waited for. Each scenario runs in a forked
 * child in a network namespace of its own (the instances are in it, with
 * no socket: port=0 and no DHCP), and reads what runs from /proc.
 */
#define BATCH_PLAN "hv-batch"
static const char *const batch_nets[] = { "a", "b", "c" };

/* The live processes whose command line has --conf-file= below dir. */
static guint instances_under(const char *dir, gboolean kill_them)
{
        g_autofree char *want = g_strconcat("--conf-file=", dir, "/", NULL);
        g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
        const char *name;
        guint n = 0;

        while (proc && (name = g_dir_read_name(proc))) {
                g_autofree char *path = g_build_filename("/proc", name, "cmdline", NULL);
                g_autofree char *cmdline = NULL;
                gsize len;
                int pid = atoi(name);

                if (pid <= 1 || !g_file_get_contents(path, &cmdline, &len, NULL) ||
                    !process_alive(pid))
                        continue;
                for (gsize off = 0; off < len; off += strlen(cmdline + off) + 1)
                        if (g_str_has_prefix(cmdline + off, want)) {
                                n++;
                                if (kill_them)
                                        kill(pid, SIGKILL);
                                break;
                        }
        }
        return n;
}

/* The progress of a run, one line a step: "a", "undo a" (the network of each dnsmasq action). */
static void note_step(const VmnetAction *a, gboolean undo, gpointer data)
{
        const char *net = strrchr(a->object, ' ');

        g_string_append_printf(data, "%s%s\n", undo ? "undo " : "", net ? net + 1 : a->object);
}

/* The start actions of batch_nets, network bad_net's configuration one dnsmasq refuses. */
static GPtrArray *batch_starts(const char *bad_net)
{
        GPtrArray *actions = vmnet_action_list_new();

        for (guint i = 0; i < G_N_ELEMENTS(batch_nets); i++) {
                g_autoptr(VmnetDnsmasqPaths) p = vmnet_dnsmasq_paths(BATCH_PLAN, NULL, batch_nets[i]);
                g_autofree char *conf = g_strdup_printf("port=0\npid-file=%s\n", p->pid_path);

                g_ptr_array_add(actions, vmnet_action_dnsmasq_start(
                                                 p, "none",
                                                 g_strcmp0(bad_net, batch_nets[i]) ? conf
                                                                                   : "no-such-option\n",
                                                 NULL, FALSE));
        }
        return actions;
}

/* Nothing of batch_nets is left: no process, no configuration, no pid file. */
static void check_batch_left_nothing(const char *state_dir)
{
        ck_assert_uint_eq(instances_under(state_dir, FALSE), 0);
        for (guint i = 0; i < G_N_ELEMENTS(batch_nets); i++) {
                g_autoptr(VmnetDnsmasqPaths) p = vmnet_dnsmasq_paths(BATCH_PLAN, NULL, batch_nets[i]);

                ck_assert_msg(!g_file_test(p->conf_path, G_FILE_TEST_EXISTS), "%s left", p->conf_path);
                ck_assert_msg(!g_file_test(p->pid_path, G_FILE_TEST_EXISTS), "%s left", p->pid_path);
        }
}

/*
 * The three starts overlap: each instance's dnsmasq is a wrapper that
 * waits until all three have been forked (files in a directory) before it
 * runs dnsmasq; started one after the other, the first would wait alone
 * and give up. Then destroy's stops leave nothing.
 */
static void batch_overlap_scenario(const char *state_dir)
{
        g_autofree char *wrapper = g_build_filename(tmp_dir, "dnsmasq-barrier", NULL);
        g_autofree char *began = g_build_filename(tmp_dir, "began", NULL);
        g_autofree char *body = g_strdup_printf(
                "#!/bin/sh\n"
                "touch %s/$$\n"
                "i=0\n"
                "while [ \"$(ls %s | wc -l)\" -lt %u ]; do\n"
                "        i=$((i + 1))\n"
                "        if [ $i -gt 300 ]; then\n"
                "                echo \"$(ls %s | wc -l) of %u starts had begun after 15 s\" >&2\n"
                "                exit 1\n"
                "        fi\n"
                "        sleep 0.05\n"
                "done\n"
                "exec %s \"$@\"\n",
                began, began, (guint)G_N_ELEMENTS(batch_nets), began, (guint)G_N_ELEMENTS(batch_nets),
                vmnet_dnsmasq_binary());
        g_autoptr(GPtrArray) actions = batch_starts(NULL);
        g_autoptr(GString) steps = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        VmnetApplyCtx ctx = { 0 };

        ck_assert(g_mkdir(began, 0700) == 0);
        ck_assert(g_file_set_contents(wrapper, body, -1, NULL) && g_chmod(wrapper, 0755) == 0);
        g_setenv("VMNET_DNSMASQ", wrapper, TRUE);
        ck_assert_msg(vmnet_apply_actions(&ctx, actions, note_step, steps, NULL, &error),
                      "the batch of starts failed: %s", error ? error->message : "");
        ck_assert_str_eq(steps->str, "a\nb\nc\n");
        ck_assert_uint_eq(instances_under(state_dir, FALSE), G_N_ELEMENTS(batch_nets));
        g_clear_pointer(&actions, g_ptr_array_unref);
        actions = vmnet_action_list_new();
        ck_assert(vmnet_diff_dnsmasq_destroy(BATCH_PLAN, NULL, actions, &error));
        ck_assert_uint_eq(actions->len, G_N_ELEMENTS(batch_nets));
        run_actions(actions);
        check_batch_left_nothing(state_dir);
}

/*
 * b's dnsmasq refuses its configuration while a's and c's start: the
 * apply fails naming b and dnsmasq's message, b undoes its own start, the
 * rollback undoes exactly the completed ones (c, then a), and nothing is
 * left. With VMNET_TEST_FAIL_AT=2, b fails before it begins: c never
 * begins, a is undone.
 */
static void batch_failure_scenario(const char *state_dir)
{
        g_autoptr(GPtrArray) actions = batch_starts("b");
        g_autoptr(GString) steps = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        VmnetApplyCtx ctx = { 0 };

        ck_assert(!vmnet_apply_actions(&ctx, actions, note_step, steps, NULL, &error));
        ck_assert_msg(strstr(error->message, "dnsmasq for network b did not start") &&
                              strstr(error->message, "bad option at line 1") &&
                              strstr(error->message, "every completed step was undone"),
                      "%s", error->message);
        ck_assert_str_eq(steps->str, "a\nb\nc\nundo c\nundo a\n");
        check_batch_left_nothing(state_dir);

        g_clear_pointer(&actions, g_ptr_array_unref);
        g_clear_error(&error);
        g_string_truncate(steps, 0);
        actions = batch_starts(NULL);
        g_setenv("VMNET_TEST_FAIL_AT", "2", TRUE);
        ck_assert(!vmnet_apply_actions(&ctx, actions, note_step, steps, NULL, &error));
        g_unsetenv("VMNET_TEST_FAIL_AT");
        ck_assert_msg(strstr(error->message, "failure injected by VMNET_TEST_FAIL_AT=2"), "%s",
                      error->message);
        ck_assert_str_eq(steps->str, "a\nb\nundo a\n");
        check_batch_left_nothing(state_dir);
}

static void run_batch_scenario(void (*scenario)(const char *state_dir), const char *name)
{
        g_autofree char *state_dir = g_build_filename(tmp_dir, "state", NULL);
        g_autofree char *run_dir = g_build_filename(tmp_dir, "run", NULL);
        int status = 0;
        pid_t pid;

        if (!netns_possible() || !g_file_test(vmnet_dnsmasq_binary(), G_FILE_TEST_IS_EXECUTABLE)) {
                fprintf(stderr, "%s: SKIP (needs root, network namespaces and dnsmasq)\n", name);
                return;
        }
        g_setenv("VMNET_STATE_DIR", state_dir, TRUE);
        g_setenv("VMNET_RUN_DIR", run_dir, TRUE);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                /* Its failed assertions reach Check's report directly. */
                ck_assert(unshare(CLONE_NEWNET) == 0);
                scenario(state_dir);
                _exit(0);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        /* Whatever the scenario's fate: no instance outlives the test. */
        instances_under(state_dir, TRUE);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "%s failed (its first failure is reported above)", name);
}

START_TEST(test_batch_overlaps)
{
        run_batch_scenario(batch_overlap_scenario, "test_batch_overlaps");
}
END_TEST

START_TEST(test_batch_failure_midway)
{
        run_batch_scenario(batch_failure_scenario, "test_batch_failure_midway");
}
END_TEST

/*
 * examples/fleet.xml: web is served by hv01 (gateway-host). hv01's dnsmasq
 * reserves 10.80.0.20 for web1, a guest on hv02; hv02 carries web with no
 * subnet and no dnsmasq, and web1 keeps 10.80.0.20 there (anti-spoofing).
 */
START_TEST(test_fleet_gateway_host)
{
        g_autoptr(VmnetPlan) hv01 = vmnet_test_load_plan("examples/fleet.xml");
        g_autoptr(VmnetPlan) hv02 = vmnet_test_load_plan("examples/fleet.xml");
        g_autoptr(VmnetIpam) ipam = NULL;
        g_autoptr(GPtrArray) hosts = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *conf = NULL;
        g_autofree char *ip = NULL;
        const VmnetNetwork *web;
        const VmnetDomain *web1;
        const VmnetInterface *ifc;

        ck_assert(vmnet_plan_select_host(hv01, "hv01", &error));
        ck_assert(vmnet_ipam_assign(hv01, NULL, &ipam, &error));
        web = vmnet_plan_find_network(hv01, "web");
        ck_assert(web && web->mode == VMNET_MODE_NAT && !web->l2_only);
        ck_assert(!vmnet_plan_find_domain(hv01, "web1"));
        hosts = vmnet_ipam_dhcp_hosts(ipam, "web");
        ck_assert(vmnet_network_wants_dnsmasq(web, hosts));
        conf = vmnet_render_dnsmasq(hv01, web, hosts, "/l", "/p", &error);
        ck_assert_msg(conf && strstr(conf, "\ndhcp-host=52:54:00:ea:04:3e,10.80.0.20\n"), "%s",
                      conf ? conf : error->message);
        g_clear_pointer(&hosts, g_ptr_array_unref);
        g_clear_pointer(&ipam, vmnet_ipam_free);

        ck_assert(vmnet_plan_select_host(hv02, "hv02", &error));
        ck_assert(vmnet_ipam_assign(hv02, NULL, &ipam, &error));
        web = vmnet_plan_find_network(hv02, "web");
        ck_assert(web && web->mode == VMNET_MODE_ISOLATED && web->l2_only);
        ck_assert_uint_eq(web->subnets->len, 0);
        ck_assert(!web->has_nat);
        hosts = vmnet_ipam_dhcp_hosts(ipam, "web");
        ck_assert(!vmnet_network_wants_dnsmasq(web, hosts));
        web1 = vmnet_plan_find_domain(hv02, "web1");
        ck_assert(web1);
        ifc = g_ptr_array_index(web1->interfaces, 0);
        ip = vmnet_addr_to_string(&ifc->ip);
        ck_assert(ifc->has_ip);
        ck_assert_str_eq(ip, "10.80.0.20");
}
END_TEST

/*
 * dnsmasq to be run by systemd, whose bus cannot be reached: the start
 * fails naming the bus, forks nothing and leaves no file.
 */
START_TEST(test_systemd_unreachable)
{
        g_autofree char *state_dir = g_build_filename(tmp_dir, "state", NULL);
        g_autofree char *run_dir = g_build_filename(tmp_dir, "run", NULL);
        g_autofree char *bus = g_strdup_printf("unix:path=%s/no-bus", tmp_dir);
        g_autoptr(VmnetDnsmasqPaths) p = NULL;
        g_autoptr(VmnetDnsmasqPaths) p2 = NULL;
        g_autoptr(GPtrArray) actions = vmnet_action_list_new();
        g_autoptr(GString) steps = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        g_autofree char *saved = g_strdup(g_getenv("VMNET_DNSMASQ_SUPERVISOR"));
        VmnetApplyCtx ctx = { 0 };

        g_setenv("VMNET_STATE_DIR", state_dir, TRUE);
        g_setenv("VMNET_RUN_DIR", run_dir, TRUE);
        /* Never the machine's own systemd, should it have one. */
        g_setenv("DBUS_SYSTEM_BUS_ADDRESS", bus, TRUE);
        g_setenv("VMNET_DNSMASQ_SUPERVISOR", "systemd", TRUE);
        p = vmnet_dnsmasq_paths("hv-nat", NULL, "lab");
        p2 = vmnet_dnsmasq_paths("hv-nat", NULL, "dev");
        ck_assert_int_eq(vmnet_dnsmasq_running_pid(p), 0);
        g_ptr_array_add(actions, vmnet_action_dnsmasq_start(p, "vm-lab", "port=0\n", NULL, FALSE));
        /* A batch of two: the first start fails at its begin, so the second never begins. */
        g_ptr_array_add(actions, vmnet_action_dnsmasq_start(p2, "vm-dev", "port=0\n", NULL, FALSE));
        ck_assert(!vmnet_apply_actions(&ctx, actions, note_step, steps, NULL, &error));
        ck_assert_msg(strstr(error->message, "system bus") &&
                              strstr(error->message, "No such file or directory"),
                      "%s", error->message);
        ck_assert_str_eq(steps->str, "lab\n");
        ck_assert(!g_file_test(p->conf_path, G_FILE_TEST_EXISTS));
        ck_assert(!g_file_test(p->pid_path, G_FILE_TEST_EXISTS));
        ck_assert(!g_file_test(p2->conf_path, G_FILE_TEST_EXISTS));
        g_unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
        if (saved)
                g_setenv("VMNET_DNSMASQ_SUPERVISOR", saved, TRUE);
        else
                g_unsetenv("VMNET_DNSMASQ_SUPERVISOR");
}
END_TEST

static Suite *dnsmasq_suite(void)
{
        Suite *s = suite_create("dnsmasq");
        TCase *tc = tcase_create("render");
        TCase *ns = tcase_create("namespaces");

        tcase_add_test(tc, test_golden_examples);
        tcase_add_test(tc, test_render_details);
        tcase_add_test(tc, test_render_refuses_injection);
        tcase_add_test(tc, test_parse_leases);
        tcase_add_test(tc, test_fleet_gateway_host);
        tcase_add_test(tc, test_unit_properties);
        tcase_add_test(tc, test_unit_message);
        tcase_add_test(tc, test_unit_names);
        tcase_add_test(tc, test_supervisor_choice);
        suite_add_tcase(s, tc);
        tcase_add_checked_fixture(ns, ns_setup, ns_teardown);
        tcase_set_timeout(ns, 60);
        tcase_add_test(ns, test_dhcp_in_namespaces);
        tcase_add_test(ns, test_start_failure_leaves_nothing);
        tcase_add_test(ns, test_batch_overlaps);
        tcase_add_test(ns, test_batch_failure_midway);
        tcase_add_test(ns, test_systemd_unreachable);
        suite_add_tcase(s, ns);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(dnsmasq_suite());
        int failed;

        /* The namespace test unshares: it must run in a forked child, never in the runner. */
        srunner_set_fork_status(sr, CK_FORK);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
