/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "doctor/doctor.h"
#include "observe/libvirt.h"
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

static void silent_error(G_GNUC_UNUSED void *data, G_GNUC_UNUSED virErrorPtr err)
{
}

static const char *last_error(void)
{
        const char *m = virGetLastErrorMessage();

        return m && *m ? m : "unknown libvirt error";
}

static void check_iface(VmnetDoctor *doc, const VmnetDomain *d, const VmnetInterface *ifc,
                        const GPtrArray *ifaces, gboolean active)
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
        if (g_strcmp0(tap->master_name, net->bridge) != 0) {
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

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        const char *uri = doc->libvirt_uri ? doc->libvirt_uri : "qemu:///system";
        g_autoptr(VmnetVirConnect) conn = NULL;

        if (!doc->plan->domains->len) {
                *skipped = g_strdup("the plan has no domains");
                return FALSE;
        }
        virSetErrorFunc(NULL, silent_error);
        conn = virConnectOpenReadOnly(uri);
        if (!conn) {
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("libvirt %s", uri),
                                 g_strdup("start libvirt (systemctl start libvirtd, or "
                                          "virtqemud.socket), or name the right one with "
                                          "--connect URI"),
                                 "libvirt at %s is not reachable (%s): the plan's domains were not "
                                 "checked",
                                 uri, last_error());
                return TRUE;
        }
        for (guint i = 0; i < doc->plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(doc->plan->domains, i);
                g_autoptr(VmnetVirDomain) dom = virDomainLookupByName(conn, d->name);
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
                active = virDomainIsActive(dom);
                /* The running definition when it runs: that is what the guest has now. */
                xml = virDomainGetXMLDesc(dom, 0);
                if (!xml) {
                        vmnet_doctor_add(doc, VMNET_SEVERITY_WARNING, g_strdup_printf("domain %s", d->name),
                                         NULL, "could not read the XML of domain %s: %s", d->name,
                                         last_error());
                        continue;
                }
                ifaces = parse_ifaces(xml);
                for (guint j = 0; j < d->interfaces->len; j++)
                        check_iface(doc, d, g_ptr_array_index(d->interfaces, j), ifaces, active == 1);
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_libvirt = {
        .name = "libvirt",
        .summary = "the plan's guests have their virtio interfaces, on the right bridges",
        .needs_plan = TRUE,
        .run = run,
};
