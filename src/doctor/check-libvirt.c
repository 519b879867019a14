/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "diff/foreign-users.h"
#include "diff/guest-starts.h"
#include "diff/guest-taps.h"
#include "apply/state.h"
#include "doctor/doctor.h"
#include "backend/libvirt/libvirt.h"
#include "util/autoptr.h"

/*
 * The plan's guests as libvirt has them, through a read-only connection:
 * each plan interface exists (found by MAC), is virtio, has its link up,
 * and a running guest's tap is a port of the network's bridge (a tap on
 * another bridge puts the guest on the wrong network; a missing tap means
 * it is plugged nowhere).
 */

typedef struct {
        char *mac;
        char *model;  /* NULL: the hypervisor's default (rtl8139 or e1000 with QEMU) */
        char *tap;    /* <target dev=>, running guests only */
        char *alias;  /* <alias name=>: vmnet marks the interfaces it attached */
        gboolean link_down;
} Iface;

static void iface_free(gpointer p)
{
        Iface *i = p;

        g_free(i->mac);
        g_free(i->model);
        g_free(i->tap);
        g_free(i->alias);
        g_free(i);
}

static char *prop(xmlXPathContextPtr x, xmlNodePtr node, const char *path)
{
        xmlXPathObjectPtr o;
        char *v = NULL;

        x->node = node;
        o = xmlXPathEvalExpression((const xmlChar *)path, x);
        if (o && o->type == XPATH_STRING && o->stringval && *o->stringval)
                v = g_strdup((const char *)o->stringval);
        xmlXPathFreeObject(o);
        return v;
}

static GPtrArray *parse_ifaces(const char *xml)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(iface_free);
        g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                              XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                      XML_PARSE_NOWARNING);
        xmlXPathContextPtr x;
        xmlXPathObjectPtr set;

        if (!doc)
                return out;
        x = xmlXPathNewContext(doc);
        set = xmlXPathEvalExpression((const xmlChar *)"/domain/devices/interface", x);
        for (int i = 0; set && set->nodesetval && i < set->nodesetval->nodeNr; i++) {
                xmlNodePtr n = set->nodesetval->nodeTab[i];
                Iface *f = g_new0(Iface, 1);
                g_autofree char *link = prop(x, n, "string(link/@state)");

                f->mac = prop(x, n, "string(mac/@address)");
                f->model = prop(x, n, "string(model/@type)");
                f->tap = prop(x, n, "string(target/@dev)");
                f->alias = prop(x, n, "string(alias/@name)");
                f->link_down = g_strcmp0(link, "down") == 0;
                if (f->mac) {
                        char *lower = g_ascii_strdown(f->mac, -1);

                        g_free(f->mac);
                        f->mac = lower;
                }
                g_ptr_array_add(out, f);
        }
        xmlXPathFreeObject(set);
        xmlXPathFreeContext(x);
        return out;
}

static void check_iface(VmnetDoctor *doc, const VmnetDomain *d, const VmnetInterface *ifc,
                        const GPtrArray *ifaces, gboolean active, GHashTable *unplugged)
{
        const VmnetNetwork *net = vmnet_plan_find_network(doc->plan, ifc->network);
        g_autofree char *mac = vmnet_mac_to_string(&ifc->mac);
        g_autofree char *object = g_strdup_printf("domain %s interface %s", d->name, mac);
        g_autofree char *where = vmnet_doctor_plan_where(doc, ifc->line);
        const Iface *f = NULL;
        const VmnetHostLink *tap;
        gboolean ours;

        for (guint i = 0; i < ifaces->len && !f; i++) {
                const Iface *c = g_ptr_array_index(ifaces, i);

                if (g_strcmp0(c->mac, mac) == 0)
                        f = c;
        }
        if (!f) {
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup(object),
                                 vmnet_doctor_cmd_apply(doc),
                                 "domain %s has no interface with MAC %s (network '%s'): the "
                                 "guest is not connected to it",
                                 d->name, mac, ifc->network);
                return;
        }
        ours = vmnet_libvirt_alias_is_plan(f->alias, doc->plan->name);
        if (!ours) {
                g_autofree char *detach = g_strdup_printf(
                        "virsh detach-interface %s network --mac %s --live --config", d->name, mac);
                g_autofree char *apply = vmnet_doctor_cmd_apply(doc);

                vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup(object),
                                 g_strdup_printf("let vmnet manage it: %s, then %s; or give the plan's "
                                                 "interface another mac= (%s)",
                                                 detach, apply, where),
                                 "interface %s of domain %s was not attached by vmnet (alias %s): "
                                 "vmnet apply refuses to take it over",
                                 mac, d->name, f->alias ? f->alias : "none");
        }
        if (g_strcmp0(f->model, "virtio") != 0) {
                gboolean planned = g_strcmp0(ifc->model, f->model) == 0;
                g_autofree char *apply = vmnet_doctor_cmd_apply(doc);
                g_autofree char *edit = g_strdup_printf("virsh edit %s: <model type='virtio'/> in the "
                                                        "interface with MAC %s (the guest needs a "
                                                        "virtio-net driver)",
                                                        d->name, mac);

                vmnet_doctor_add(doc, planned ? VMNET_SEVERITY_INFO : VMNET_SEVERITY_WARNING,
                                 g_strdup(object),
                                 !ours ? g_strdup(edit)
                                 : planned ? g_strdup_printf("if the guest has a virtio-net driver, "
                                                             "set model=\"virtio\" (%s), then %s",
                                                             where, apply)
                                           : g_strdup_printf("%s (the guest may need a restart to "
                                                             "see the new device)",
                                                             apply),
                                 "interface %s of domain %s is %s%s, not virtio: an emulated NIC "
                                 "is slow and some guests have no driver for it",
                                 mac, d->name, f->model ? f->model : "the hypervisor's default model",
                                 planned ? " as the plan says" : "");
        }
        if (f->link_down) {
                g_autofree char *cmd = g_strdup_printf("virsh domif-setlink %s %s up", d->name, mac);

                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup(object), g_steal_pointer(&cmd),
                                 "the link of interface %s of domain %s is set down in libvirt: "
                                 "the guest sees no carrier",
                                 mac, d->name);
        }
        if (!active || !net)
                return;
        if (!f->tap) {
                vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup(object), NULL,
                                 "libvirt reports no tap for interface %s of running domain %s",
                                 mac, d->name);
                return;
        }
        tap = vmnet_host_find_link(doc->host, f->tap);
        if (!tap) {
                vmnet_doctor_add(doc, doc->netns ? VMNET_SEVERITY_INFO : VMNET_SEVERITY_ERROR,
                                 g_strdup_printf("link %s", f->tap),
                                 doc->netns ? NULL
                                            : g_strdup_printf("virsh domiflist %s; restart the "
                                                              "guest or re-attach the interface",
                                                              d->name),
                                 "tap %s of domain %s (interface %s) is not on this host%s",
                                 f->tap, d->name, mac,
                                 doc->netns ? " in this network namespace (libvirt's taps live "
                                              "where libvirt runs)"
                                            : ": the guest is plugged nowhere");
                return;
        }
        /* Reported once, by the walk apply repairs with (report_tap()). */
        if (g_strcmp0(tap->master_name, net->bridge) != 0 &&
            !g_hash_table_contains(unplugged, tap->name)) {
                g_autofree char *apply = vmnet_doctor_cmd_apply(doc);
                g_autofree char *show = g_strdup_printf("virsh domiflist %s", d->name);

                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", f->tap),
                                 ours ? g_strdup_printf("%s; if it stays there, the interface uses "
                                                        "a libvirt network that is not vmnet's "
                                                        "'%s' (%s)",
                                                        apply, net->name, show)
                                      : g_strdup_printf("connect the interface to vmnet's network "
                                                        "'%s' (virsh edit %s), or let vmnet "
                                                        "attach it (see the finding above)",
                                                        net->name, d->name),
                                 "tap %s of domain %s (interface %s) is %s%s, not of bridge %s of "
                                 "network '%s': the guest is on the wrong network",
                                 f->tap, d->name, mac,
                                 tap->master_name ? "a port of " : "on no bridge",
                                 tap->master_name ? tap->master_name : "", net->bridge, net->name);
        }
}

/* A running guest's tap that apply plugs back into its network's bridge (diff/guest-taps.c). */
static void report_tap(const VmnetGuestTap *t, gpointer data)
{
        VmnetDoctor *doc = ((gpointer *)data)[0];
        GHashTable *unplugged = ((gpointer *)data)[1];
        g_autofree char *mac = t->iface->has_mac ? vmnet_mac_to_string(&t->iface->mac)
                                                 : g_strdup("?");

        g_hash_table_add(unplugged, g_strdup(t->tap->name));
        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("link %s", t->tap->name),
                         vmnet_doctor_cmd_apply(doc),
                         "tap %s of domain %s (interface %s) is %s%s, not of bridge %s of "
                         "network '%s': the guest is cut off (the bridge was deleted under it, or "
                         "the tap moved); apply plugs it back",
                         t->tap->name, t->domain, mac,
                         t->tap->master_name ? "a port of " : "on no bridge",
                         t->tap->master_name ? t->tap->master_name : "", t->net->bridge,
                         t->net->name);
}

/* Others' guests and libvirt networks on vmnet's networks and bridges (diff/foreign-users.c). */
static void report_foreign_users(VmnetDoctor *doc, const VmnetLibvirtHost *virt)
{
        g_autoptr(GPtrArray) bridges = vmnet_plan_bridges(doc->plan);
        g_autoptr(GArray) users = vmnet_foreign_users(doc->plan->name, bridges, virt);

        for (guint i = 0; i < users->len; i++) {
                const VmnetForeignUser *u = &g_array_index(users, VmnetForeignUser, i);
                g_autofree char *d = vmnet_foreign_user_describe(u);
                gboolean net = u->kind == VMNET_FOREIGN_USER_NETWORK;

                vmnet_doctor_add(doc, net ? VMNET_SEVERITY_WARNING : VMNET_SEVERITY_INFO,
                                 net ? g_strdup_printf("libvirt network %s", u->network)
                                     : g_strdup_printf("domain %s", u->domain),
                                 net ? g_strdup_printf("give libvirt network '%s' a bridge of its "
                                                       "own (virsh net-edit %s)",
                                                       u->network, u->network)
                                     : NULL,
                                 "%s, which vmnet does not manage: %s", d,
                                 net ? "two networks share one bridge, and vmnet destroy would "
                                       "delete it under that one (it refuses without --force)"
                                     : "vmnet leaves it alone, and vmnet destroy refuses to "
                                       "remove what it uses (unless --force)");
        }
}

/* An autostarted guest whose start failed on vmnet's missing bridge (diff/guest-starts.c). */
static void report_start(const VmnetGuestStart *s, gpointer data)
{
        VmnetDoctor *doc = data;
        const char *name = s->domain->name;

        vmnet_doctor_add(doc, s->planned ? VMNET_SEVERITY_ERROR : VMNET_SEVERITY_WARNING,
                         g_strdup_printf("domain %s", name),
                         s->planned ? vmnet_doctor_cmd_apply(doc)
                                    : g_strdup_printf("virsh start %s", name),
                         "domain %s%s is autostarted but shut off: its last start failed (its "
                         "interface needs vmnet's bridge %s, missing at boot until vmnet made "
                         "it); %s",
                         name, s->planned ? "" : ", which vmnet does not manage,", s->bridge,
                         s->planned ? "vmnet apply starts it" : "vmnet does not start others' guests");
}

/* An unplug vmnet requested that the running guest has not acknowledged (apply/state.h). */
static void report_unplug(const char *domain, const char *mac, guint id, gint64 requested,
                          gpointer data)
{
        VmnetDoctor *doc = ((gpointer *)data)[0];
        const VmnetLibvirtHost *virt = ((gpointer *)data)[1];
        const VmnetLibvirtDomain *d = vmnet_libvirt_host_find_domain(virt, domain);
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(requested);
        g_autofree char *at = dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
        VmnetMac m;

        if (!d || !d->active || d->id != id || !vmnet_mac_parse(mac, &m) ||
            !vmnet_libvirt_ifaces_find_mac(d->live, &m))
                return;
        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING,
                         g_strdup_printf("domain %s interface %s", domain, mac),
                         g_strdup_printf("restart the guest (virsh shutdown %s; virsh start %s), "
                                         "or let its OS acknowledge the unplug (hot-plug support: "
                                         "ACPI, the pciehp/acpiphp driver)",
                                         domain, domain),
                         "interface %s of domain %s: unplug requested at %s, the guest has not "
                         "released it; it goes when the guest restarts or acknowledges (vmnet "
                         "does not request it again)",
                         mac, domain, at);
}

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        g_autoptr(VmnetLibvirtHost) virt = NULL;
        g_autoptr(GError) oerr = NULL;
        g_autoptr(GHashTable) unplugged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                                 NULL);
        gpointer walk[2] = { doc, unplugged };
        const char *uri = doc->libvirt_uri ? doc->libvirt_uri : "qemu:///system";
        g_autoptr(VmnetVirConnect) conn = NULL;

        conn = vmnet_libvirt_connect_read_only(uri);
        /* Without domains only others' use of vmnet's networks is left to look at. */
        if (!conn && !doc->plan->domains->len) {
                *skipped = g_strdup_printf("the plan has no domains, and libvirt at %s is not "
                                           "reachable",
                                           uri);
                return FALSE;
        }
        if (!conn) {
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("libvirt %s", uri),
                                 g_strdup("start libvirt (systemctl start libvirtd, or "
                                          "virtqemud.socket), or name the right one with "
                                          "--connect URI"),
                                 "libvirt at %s is not reachable (%s): the plan's domains were not "
                                 "checked",
                                 uri, vmnet_libvirt_last_error());
                return TRUE;
        }
        /* The observation apply makes: one verdict about every guest's tap and foreign user. */
        if (!vmnet_libvirt_observe(conn, &virt, &oerr)) {
                vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup_printf("libvirt %s", uri),
                                 NULL, "could not read libvirt's networks and domains: %s",
                                 oerr->message);
        } else {
                g_autoptr(VmnetUnplugs) unplugs = vmnet_unplugs_load(doc->plan->name, doc->netns,
                                                                     NULL);
                gpointer pair[2] = { doc, virt };

                vmnet_guest_taps_foreach(doc->plan, virt, doc->host, report_tap, walk);
                report_foreign_users(doc, virt);
                vmnet_guest_starts_foreach(doc->plan, virt, report_start, doc);
                if (unplugs)
                        vmnet_unplugs_foreach(unplugs, report_unplug, pair);
        }
        for (guint i = 0; i < doc->plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(doc->plan->domains, i);
                g_autoptr(VmnetVirDomain) dom = vmnet_libvirt_domain_lookup(conn, d->name, NULL);
                g_autoptr(GPtrArray) ifaces = NULL;
                g_autofree char *xml = NULL;
                int active;

                if (!dom) {
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("domain %s", d->name),
                                         g_strdup_printf("define it (virsh -c %s define FILE.xml) or "
                                                         "remove <domain name=\"%s\"> from the plan",
                                                         uri, d->name),
                                         "domain %s of the plan does not exist in libvirt (%s)",
                                         d->name, uri);
                        continue;
                }
                active = vmnet_libvirt_domain_is_active(dom);
                /* The running definition when it runs: that is what the guest has now. */
                xml = vmnet_libvirt_domain_xml(dom, 0, NULL);
                if (!xml) {
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup_printf("domain %s", d->name),
                                         NULL, "could not read the XML of domain %s: %s", d->name,
                                         vmnet_libvirt_last_error());
                        continue;
                }
                ifaces = parse_ifaces(xml);
                for (guint j = 0; j < d->interfaces->len; j++)
                        check_iface(doc, d, g_ptr_array_index(d->interfaces, j), ifaces, active == 1,
                                    unplugged);
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_libvirt = {
        .name = "libvirt",
        .summary = "the plan's guests have their virtio interfaces, on the right bridges",
        .needs_plan = TRUE,
        .run = run,
};
