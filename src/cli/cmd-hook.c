/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "backend/libvirt/libvirt.h"
#include "backend/netlink/netlink.h"
#include "cli/cli.h"
#include "util/autoptr.h"

/*
 * `vmnet hook network NETWORK OPERATION SUB-OPERATION [EXTRA]`: libvirt's
 * network hook (installed as /etc/libvirt/hooks/network.d/50-vmnet, see
 * vmnet(8), command hook). libvirt runs it with the network and the new port on
 * standard input whenever it creates a port for a guest's interface: at
 * every guest start, whoever starts it (boot, virsh start, a migration in),
 * and at every hot-plug. On one of vmnet's VLAN-aware networks the guest's
 * tap must join its VLAN, or its trunk port group's VLANs; libvirt cannot do
 * that on a Linux bridge.
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

static void place(const VmnetLibvirtHookPort *p, const char *bridge, const VmnetPortVlans *v)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autofree char *tap = NULL;
        g_autofree char *mac = vmnet_mac_to_string(&p->mac);
        VmnetMac tm = tap_mac(&p->mac);
        g_autofree char *vlans = vmnet_port_vlans_describe(v);

        if (vmnet_nl_wait_bridge_port(&tm, bridge, PORT_WAIT_SECONDS * 1000, &tap, &error) &&
            (sk = vmnet_nl_open(&error)) && vmnet_nl_guest_port_vlans(sk, tap, v, &error))
                syslog(LOG_INFO, "network %s: port %s of %s (MAC %s) put in %s",
                       p->network->name, tap, bridge, mac, vlans);
        else
                syslog(LOG_ERR, "network %s: the port of MAC %s on %s is not in its vlans: %s "
                                "(vmnet apply puts it in %s)",
                       p->network->name, mac, bridge, error->message, vlans);
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
        if (vmnet_port_vlans_is_empty(&vlans) || !bridge)
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
        place(&port, bridge, &vlans);
        closelog();
        _exit(0);
}
