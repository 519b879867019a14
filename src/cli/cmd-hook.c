/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "apply/saved-plan.h"
#include "backend/netlink/tc.h"
#include "backend/libvirt/libvirt.h"
#include "backend/netlink/netlink.h"
#include "cli/cli.h"
#include "diff/mirrors.h"
#include "model/fleet.h"
#include "plan/plan.h"
#include "util/autoptr.h"

/*
 * `vmnet hook network NETWORK OPERATION SUB-OPERATION [EXTRA]`: libvirt's
 * network hook (installed as /etc/libvirt/hooks/network.d/50-vmnet, see
 * vmnet(8), command hook). libvirt runs it with the network and the new port on
 * standard input whenever it creates a port for a guest's interface: at
 * every guest start, whoever starts it (boot, virsh start, a migration in),
 * and at every hot-plug. On one of vmnet's VLAN-aware networks the guest's
 * tap must join its VLAN, or its trunk port group's VLANs; libvirt cannot do
 * that on a Linux bridge. On a network of a plan vmnet has saved, the
 * port's mirrors, and those whose destination it is, are installed
 * (vmnet-plan(5) PORT MIRRORING).
 *
 * libvirt runs the hook BEFORE it creates the tap (it plugs it into the
 * bridge once the hook has returned), so the hook hands the port to a
 * detached child that waits for the tap to join the bridge (link events,
 * not polling, bounded by PORT_WAIT_SECONDS) and then places it. Until
 * then the port is in no VLAN: vmnet's VLAN-aware bridges give new ports
 * none, so a guest is never on the wrong VLAN, only briefly on none. A
 * port the child misses (the tap came later, vmnet was not installed yet)
 * is drift that `vmnet status` and `vmnet doctor` report and `vmnet apply`
 * repairs.
 *
 * Every other operation, networks that are not vmnet's VLAN-aware ones,
 * and hook data it cannot read exit 0 at once: a hook that fails makes
 * libvirt refuse the guest.
 */

#define PORT_WAIT_SECONDS 120

/* The tap libvirt makes for a guest's interface has the guest's MAC with 0xfe first. */
static VmnetMac tap_mac(const VmnetMac *guest)
{
        VmnetMac m = *guest;

        m.b[0] = 0xfe;
        return m;
}

static void place(const VmnetLibvirtHookPort *p, const char *bridge, const char *tap,
                  const GError *waited, const VmnetPortVlans *v)
{
        g_autoptr(GError) error = waited ? g_error_copy(waited) : NULL;
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autofree char *mac = vmnet_mac_to_string(&p->mac);
        g_autofree char *vlans = vmnet_port_vlans_describe(v);

        if (!error && (sk = vmnet_nl_open(&error)) && vmnet_nl_guest_port_vlans(sk, tap, v, &error))
                syslog(LOG_INFO, "network %s: port %s of %s (MAC %s) put in %s",
                       p->network->name, tap, bridge, mac, vlans);
        else
                syslog(LOG_ERR, "network %s: the port of MAC %s on %s is not in its vlans: %s "
                                "(vmnet apply puts it in %s)",
                       p->network->name, mac, bridge, error->message, vlans);
}

/*
 * The saved plan (vmnet(8), SAVED PLANS) of the plan that owns the port's
 * network, this host's part of it, when it has port mirrors; else NULL.
 * A plan that cannot be read fails no guest: the next apply installs the
 * mirrors. Caller frees.
 */
static VmnetPlan *mirroring_plan(const VmnetLibvirtHookPort *p)
{
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL, *host = NULL;
        g_autoptr(VmnetPlan) plan = NULL;

        if (!p->network->owner_plan)
                return NULL;
        path = vmnet_saved_plan_path(p->network->owner_plan, NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
                return NULL;
        if (!(plan = vmnet_plan_load_file(path, diags, &error)) ||
            (vmnet_plan_is_fleet(plan) &&
             (host = vmnet_saved_plan_host(p->network->owner_plan, NULL)) &&
             !vmnet_plan_select_host(plan, host, &error))) {
                syslog(LOG_WARNING, "vmnet hook: network %s: the saved plan %s: %s",
                       p->network->name, path, error->message);
                return NULL;
        }
        return vmnet_plan_has_mirrors(plan) ? g_steal_pointer(&plan) : NULL;
}

/*
 * The port mirrors of the new port, and those whose destination it is
 * (vmnet-plan(5) PORT MIRRORING): installed now that the tap is there.
 * What fails is said in the journal; the next apply installs it.
 */
static void mirror(const VmnetLibvirtHookPort *p, const char *tap, const VmnetPlan *plan)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetHost) now = NULL;
        g_autoptr(GPtrArray) wanted = NULL;
        g_autoptr(VmnetNlSock) sk = NULL;

        if (!vmnet_observe_host(&now, &error) || !(sk = vmnet_nl_open(&error))) {
                syslog(LOG_ERR, "network %s: port %s: no mirror installed: %s (vmnet apply "
                                "installs them)",
                       p->network->name, tap, error->message);
                return;
        }
        wanted = vmnet_mirrors_for_port(plan, now, p->network->name, &p->mac, p->group, tap);
        for (guint i = 0; i < wanted->len; i++) {
                const VmnetWantedMirror *w = g_ptr_array_index(wanted, i);
                const char *dir = vmnet_mirror_dir_to_string(w->direction);
                g_autoptr(GError) e = NULL;

                if (!w->to_here)
                        syslog(LOG_INFO, "network %s: the %s mirror of port %s waits for %s",
                               p->network->name, dir, w->port, w->to);
                else if (vmnet_tc_mirror_add(sk, w->port, w->direction, w->to, &e))
                        syslog(LOG_INFO, "network %s: %s of port %s (%s) mirrored to %s",
                               p->network->name, dir, w->port, w->port_desc, w->to);
                else
                        syslog(LOG_ERR, "network %s: %s (vmnet apply installs it)",
                               p->network->name, e->message);
        }
}

/* Waits for the tap to join the bridge, then puts it in its VLAN and installs its mirrors. */
static void settle(const VmnetLibvirtHookPort *p, const char *bridge, const VmnetPortVlans *v,
                   const VmnetPlan *plan)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *tap = NULL;
        VmnetMac tm = tap_mac(&p->mac);
        gboolean here = vmnet_nl_wait_bridge_port(&tm, bridge, PORT_WAIT_SECONDS * 1000, &tap,
                                                  &error);

        if (!vmnet_port_vlans_is_empty(v))
                place(p, bridge, tap, error, v);
        if (plan && here)
                mirror(p, tap, plan);
}

/*
 * Detaches from libvirt, which waits for the hook's output to end: 1 in the
 * child, 0 in the parent, -1 when there is no child.
 */
static int detach(void)
{
        pid_t pid = fork();
        int null;

        if (pid != 0)
                return pid < 0 ? -1 : 0;
        setsid();
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd <= 2 && null >= 0; fd++)
                dup2(null, fd);
        if (null > 2)
                close(null);
        return 1;
}

/* All of fd, NUL-terminated; NULL with errno set on a read error. */
static char *read_all(int fd)
{
        g_autoptr(GString) buf = g_string_new(NULL);
        char chunk[4096];
        ssize_t n;

        while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return NULL;
                g_string_append_len(buf, chunk, n);
        }
        return g_string_free(g_steal_pointer(&buf), FALSE);
}

int vmnet_cmd_hook(VmnetCli *cli, int argc, char **argv)
{
        g_auto(VmnetLibvirtHookPort) port = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *input = NULL;
        g_autoptr(VmnetPlan) plan = NULL;
        const char *bridge;
        VmnetPortVlans vlans;

        if (!vmnet_cli_parse(cli, vmnet_cli_command("hook"), NULL, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        if (argc < 5 || !g_str_equal(argv[1], "network")) {
                fprintf(stderr, "vmnet hook: usage: vmnet hook network NETWORK OPERATION "
                                "SUB-OPERATION [EXTRA] <hook-data (run by libvirt)\n");
                return VMNET_EXIT_FAILURE;
        }
        /*
         * Read whatever the operation: libvirt writes the hook data to the
         * hook's standard input, and one that exits without reading it can
         * fail that write (EPIPE).
         */
        if (!(input = read_all(STDIN_FILENO))) {
                fprintf(stderr, "vmnet hook: reading the hook data: %s\n", g_strerror(errno));
                return VMNET_EXIT_FAILURE;
        }
        if (!g_str_equal(argv[3], "port-created") || !g_str_equal(argv[4], "begin"))
                return VMNET_EXIT_OK;
        /*
         * Data that does not parse fails no guest: the network may not be
         * vmnet's at all, and a port of vmnet's left unplaced is in no VLAN
         * until the next apply.
         */
        if (!vmnet_libvirt_hook_port_parse(input, &port, &error)) {
                syslog(LOG_WARNING, "vmnet hook: network %s: %s", argv[2], error->message);
                return VMNET_EXIT_OK;
        }
        vmnet_libvirt_network_port_vlans(port.network, port.group, &vlans);
        bridge = port.bridge ? port.bridge : port.network->bridge;
        if (bridge)
                plan = mirroring_plan(&port);
        if (!bridge || (vmnet_port_vlans_is_empty(&vlans) && !plan))
                return VMNET_EXIT_OK;
        switch (detach()) {
        case -1:
                /* libvirt then refuses the guest, and says why: better than a guest cut off. */
                fprintf(stderr, "vmnet hook: network %s: cannot start the port's placer: %s\n",
                        argv[2], g_strerror(errno));
                return VMNET_EXIT_FAILURE;
        case 0:
                return VMNET_EXIT_OK;
        }
        openlog("vmnet-hook", LOG_PID, LOG_DAEMON);
        settle(&port, bridge, &vlans, plan);
        closelog();
        _exit(0);
}
