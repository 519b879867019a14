/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "apply/apply.h"
#include "apply/journal.h"
#include "apply/saved-plan.h"
#include "backend/dnsmasq/dnsmasq.h"
#include "backend/netlink/netlink.h"
#include "backend/nftables/watch.h"
#include "backend/systemd/notify.h"
#include "cli/cli.h"
#include "util/autoptr.h"
#include "util/mutant.h"

/*
 * vmnet reapply: applies the saved plans again (vmnet(8), SAVED PLANS), at
 * boot from vmnet.service, and with --watch whenever nftables loses
 * vmnet's tables (`nft flush ruleset`, `systemctl restart nftables`), a
 * dnsmasq of a saved plan exits, or on SIGHUP (`systemctl reload vmnet`,
 * nftables.service reloaded).
 */

typedef struct {
        VmnetApplyOpts o;
        int wait_uplinks;
        gboolean watch;
        char **names; /* given on the command line; NULL: every saved plan */
} Reapply;

/* A name the validator accepts for a plan (so, a file name of the saved plans' directory). */
static gboolean plan_name_ok(const char *name)
{
        gsize len = strlen(name);

        if (len == 0 || len > 64 || g_str_equal(name, ".") || g_str_equal(name, ".."))
                return FALSE;
        for (const char *p = name; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-')
                        return FALSE;
        return TRUE;
}

/* Waits (bounded) until every uplink NIC the plan names exists: at boot they may come late. */
static void wait_uplinks(const VmnetPlan *plan, int seconds)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
        g_autoptr(VmnetNlSock) sk = vmnet_nl_open(NULL);

        while (sk) {
                const char *missing = NULL;

                for (guint i = 0; !missing && i < plan->networks->len; i++) {
                        const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);
                        gboolean exists = FALSE;

                        if (n->uplink && vmnet_nl_link_exists(sk, n->uplink->dev, &exists, NULL) &&
                            !exists)
                                missing = n->uplink->dev;
                }
                if (!missing)
                        return;
                if (g_get_monotonic_time() >= deadline) {
                        fprintf(stderr, "vmnet reapply: plan '%s': uplink %s still missing after %d s; "
                                        "applying anyway\n",
                                plan->name, missing, seconds);
                        return;
                }
                g_usleep(200 * 1000);
        }
}

/* Applies each saved plan; the worst exit status. */
static int reapply_all(VmnetCli *cli, const Reapply *r, const char *why)
{
        g_auto(GStrv) saved = r->names ? NULL : vmnet_saved_plan_list(r->o.netns);
        char **names = r->names ? r->names : saved;
        VmnetEventFields f = { .netns = r->o.netns, .command = "reapply" };
        int worst = VMNET_EXIT_OK;

        if (!names[0] && !cli->quiet && !cli->json)
                printf("vmnet reapply: no saved plans\n");
        for (char **name = names; *name; name++) {
                g_autofree char *path = vmnet_saved_plan_path(*name, r->o.netns);
                g_autoptr(VmnetPlan) plan = NULL;
                g_autofree char *host = NULL;
                int rc;

                f.plan = *name;
                f.outcome = "started";
                vmnet_journal_event(VMNET_EVENT_REAPPLY, LOG_NOTICE, &f, "reapply %s: %s", *name, why);
                if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
                        worst = vmnet_cli_usage(cli, "reapply",
                                                "no saved plan '%s' (%s): a plan is saved by its "
                                                "first successful apply",
                                                *name, path);
                        continue;
                }
                /* A fleet plan: the host it was applied for, unless --host names one. */
                host = cli->host ? NULL : vmnet_saved_plan_host(*name, r->o.netns);
                if (host)
                        cli->host = host;
                if ((plan = vmnet_cli_load_plan(cli, "reapply", path))) {
                        if (r->wait_uplinks > 0)
                                wait_uplinks(plan, r->wait_uplinks);
                        rc = vmnet_cli_apply_plan(cli, "reapply", &r->o, plan);
                } else
                        rc = VMNET_EXIT_FAILURE;
                if (host)
                        cli->host = NULL;
                if (rc == VMNET_EXIT_FAILURE || worst == VMNET_EXIT_OK)
                        worst = rc;
        }
        return worst;
}

/* A dnsmasq of a saved plan, watched through a pidfd (Linux 5.3) for its exit. */
typedef struct {
        int fd;
        char *what; /* "dnsmasq of network N of plan P (pid X)" */
} Watched;

static void watched_clear(GArray *w)
{
        for (guint i = 0; i < w->len; i++) {
                Watched *x = &g_array_index(w, Watched, i);

                close(x->fd);
                g_free(x->what);
        }
        g_array_set_size(w, 0);
}

/*
 * The running dnsmasq instances of the saved plans, as they are now. Those
 * watched until now that exited meanwhile (during a round, after the round
 * had seen them running) are returned as the reason for another round;
 * NULL when none did.
 */
static char *watch_dnsmasq(GArray *w, const Reapply *r)
{
        g_auto(GStrv) saved = r->names ? NULL : vmnet_saved_plan_list(r->o.netns);
        char **names = r->names ? r->names : saved;
        char *exited = NULL;

        for (guint i = 0; !exited && i < w->len; i++) {
                struct pollfd p = { g_array_index(w, Watched, i).fd, POLLIN, 0 };

                if (poll(&p, 1, 0) > 0 && !VMNET_MUTANT_IS(WATCH_DEAF))
                        exited = g_strdup(g_array_index(w, Watched, i).what);
        }
        watched_clear(w);
        /* systemd restarts a dnsmasq it runs (Restart=on-failure): a re-apply would race it. */
        if (vmnet_dnsmasq_supervisor() == VMNET_DNSMASQ_BY_SYSTEMD)
                return exited;
        for (char **plan = names; *plan; plan++) {
                g_auto(GStrv) nets = vmnet_dnsmasq_list_networks(*plan, r->o.netns);

                for (char **net = nets; *net; net++) {
                        g_autoptr(VmnetDnsmasqPaths) p = vmnet_dnsmasq_paths(*plan, r->o.netns, *net);
                        int pid = vmnet_dnsmasq_running_pid(p);
                        Watched x;

                        if (!pid || (x.fd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
                                continue;
                        x.what = g_strdup_printf("dnsmasq of network %s of plan %s (pid %d) exited",
                                                 *net, *plan, pid);
                        g_array_append_val(w, x);
                }
        }
        return exited;
}

/* Reads what is waiting; TRUE when vmnet's table went away. */
static gboolean table_gone(VmnetNftWatch *w)
{
        g_autoptr(GError) e = NULL;
        gboolean gone = FALSE;

        if (!vmnet_nft_watch_read(w, &gone, &e)) {
                fprintf(stderr, "vmnet reapply: %s\n", e->message);
                return FALSE;
        }
        return gone && !VMNET_MUTANT_IS(WATCH_DEAF);
}

/* Until the events stop coming for a moment: a ruleset reload is a burst of them. */
static void settle(VmnetNftWatch *w)
{
        struct pollfd p = { vmnet_nft_watch_fd(w), POLLIN, 0 };

        for (int i = 0; i < 50 && poll(&p, 1, 200) > 0; i++)
                table_gone(w);
}

static int watch(VmnetCli *cli, const Reapply *r)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetNftWatch) w = NULL;
        g_autoptr(GArray) dnsmasq = g_array_new(FALSE, FALSE, sizeof(Watched));
        g_autofree char *dnsmasq_why = NULL;
        gint64 last_dnsmasq_round = 0;
        sigset_t set;
        int sigfd, rc;

        sigemptyset(&set);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigfd = signalfd(-1, &set, SFD_CLOEXEC);
        /* Subscribed before the first run, so that no flush between the two is missed. */
        if (sigfd < 0 || (r->o.netns && !vmnet_netns_enter(r->o.netns, &error)) ||
            !(w = vmnet_nft_watch_open(&error))) {
                if (!error)
                        g_set_error(&error, VMNET_ERROR, VMNET_ERROR_FAILED, "signalfd: %s",
                                    g_strerror(errno));
                return vmnet_cli_fail(cli, "reapply", error);
        }
        if (VMNET_MUTANT_IS(READY_EARLY))
                vmnet_systemd_notify("READY=1");
        rc = reapply_all(cli, r, "started");
        settle(w); /* our own changes */
        g_free(watch_dnsmasq(dnsmasq, r));
        vmnet_systemd_notify(rc == VMNET_EXIT_FAILURE
                                     ? "READY=1\nSTATUS=a saved plan failed to apply; watching nftables"
                                     : "READY=1\nSTATUS=saved plans applied; watching nftables");
        if (!cli->quiet && !cli->json)
                printf("vmnet reapply: watching nftables for the loss of table %s\n", "vmnet");
        fflush(stdout);
        for (;;) {
                g_autofree struct pollfd *p = g_new0(struct pollfd, 2 + dnsmasq->len);
                const char *why = dnsmasq_why; /* one exited during the last round */

                p[0] = (struct pollfd){ sigfd, POLLIN, 0 };
                p[1] = (struct pollfd){ vmnet_nft_watch_fd(w), POLLIN, 0 };
                for (guint i = 0; i < dnsmasq->len; i++)
                        p[2 + i] = (struct pollfd){ g_array_index(dnsmasq, Watched, i).fd, POLLIN, 0 };
                if (poll(p, 2 + dnsmasq->len, why ? 0 : -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(sigfd, &si, sizeof(si)) != sizeof(si))
                                continue;
                        if (si.ssi_signo != SIGHUP)
                                break;
                        if (!why)
                                why = "reload requested (SIGHUP)";
                }
                if ((p[1].revents & POLLIN) && table_gone(w)) {
                        settle(w);
                        if (!why)
                                why = "table vmnet was deleted (nft flush ruleset, nftables restarted)";
                }
                for (guint i = 0; !why && i < dnsmasq->len; i++)
                        if ((p[2 + i].revents & POLLIN) && !VMNET_MUTANT_IS(WATCH_DEAF)) {
                                g_free(dnsmasq_why);
                                why = dnsmasq_why = g_strdup(g_array_index(dnsmasq, Watched, i).what);
                        }
                if (!why)
                        continue;
                /* A dnsmasq that keeps dying is restarted every 5 s at most, not in a loop. */
                if (dnsmasq_why && why == dnsmasq_why) {
                        gint64 wait = last_dnsmasq_round + 5 * G_USEC_PER_SEC - g_get_monotonic_time();

                        if (last_dnsmasq_round && wait > 0)
                                g_usleep((gulong)wait);
                        last_dnsmasq_round = g_get_monotonic_time();
                }
                if (!cli->quiet && !cli->json)
                        printf("vmnet reapply: %s: applying the saved plans again\n", why);
                fflush(stdout);
                vmnet_systemd_notify("RELOADING=1");
                reapply_all(cli, r, why);
                settle(w); /* our own changes */
                g_free(dnsmasq_why);
                dnsmasq_why = watch_dnsmasq(dnsmasq, r);
                vmnet_systemd_notify("READY=1");
        }
        vmnet_systemd_notify("STOPPING=1");
        watched_clear(dnsmasq);
        close(sigfd);
        return VMNET_EXIT_OK;
}

int vmnet_cmd_reapply(VmnetCli *cli, int argc, char **argv)
{
        Reapply r = { .o = { .unplug_timeout = -1 } };
        const GOptionEntry entries[] = {
                { "netns", 0, 0, G_OPTION_ARG_STRING, &r.o.netns,
                  "The plans saved for the network namespace /run/netns/NAME", "NAME" },
                { "wait", 0, 0, G_OPTION_ARG_INT, &r.o.wait,
                  "Wait up to SECONDS for another vmnet to finish (default: fail at once)", "SECONDS" },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &r.o.connect,
                  "libvirt URI (default qemu:///system; not used with --netns unless given)", "URI" },
                { "no-libvirt", 0, 0, G_OPTION_ARG_NONE, &r.o.no_libvirt,
                  "Manage only the kernel side: bridges, VLANs, addresses, nftables, dnsmasq", NULL },
                { "unplug-timeout", 0, 0, G_OPTION_ARG_INT, &r.o.unplug_timeout,
                  "Wait up to SECONDS for a running guest to release a NIC vmnet replugs "
                  "(default 30)",
                  "SECONDS" },
                { "wait-uplinks", 0, 0, G_OPTION_ARG_INT, &r.wait_uplinks,
                  "Wait up to SECONDS for each plan's uplink NICs to exist (default: not at all)",
                  "SECONDS" },
                { "watch", 0, 0, G_OPTION_ARG_NONE, &r.watch,
                  "Stay: apply again whenever nftables loses table vmnet or a dnsmasq exits, and "
                  "on SIGHUP",
                  NULL },
                G_OPTION_ENTRY_NULL
        };
        g_autofree char *netns = NULL;
        g_autofree char *connect = NULL;

        if (!vmnet_cli_parse(cli, vmnet_cli_command("reapply"), entries, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        netns = r.o.netns ? r.o.netns : g_strdup(cli->netns);
        r.o.netns = netns;
        connect = r.o.connect;
        if (!vmnet_cli_netns_ok(cli, "reapply", netns) || !vmnet_cli_apply_opts_ok(cli, "reapply", &r.o))
                return VMNET_EXIT_FAILURE;
        if (r.wait_uplinks < 0)
                return vmnet_cli_usage(cli, "reapply", "--wait-uplinks takes a number of seconds");
        for (int i = 1; i < argc; i++)
                if (!plan_name_ok(argv[i]))
                        return vmnet_cli_usage(cli, "reapply", "'%s' is no plan name", argv[i]);
        r.names = argc > 1 ? argv + 1 : NULL;
        return r.watch ? watch(cli, &r) : reapply_all(cli, &r, "requested");
}
