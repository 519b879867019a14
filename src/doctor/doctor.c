/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "apply/apply.h"
#include "diff/engine.h"
#include "diff/links.h"
#include "doctor/doctor.h"
#include "util/autoptr.h"


/* Order: from the guest's link outwards, then what filters, then the services. */
const VmnetDoctorCheck *const vmnet_doctor_checks[] = {
        &vmnet_doctor_check_links,
        &vmnet_doctor_check_bond,
        &vmnet_doctor_check_bridge_ports,
        &vmnet_doctor_check_mtu,
        &vmnet_doctor_check_vxlan,
        &vmnet_doctor_check_forwarding,
        &vmnet_doctor_check_subnet_overlap,
        &vmnet_doctor_check_nft_table,
        &vmnet_doctor_check_foreign_drops,
        &vmnet_doctor_check_br_netfilter,
        &vmnet_doctor_check_dhcp,
        &vmnet_doctor_check_libvirt,
        &vmnet_doctor_check_guest_vlans,
        &vmnet_doctor_check_antispoof,
        &vmnet_doctor_check_mirrors,
        &vmnet_doctor_check_confirm,
        NULL,
};

const char *vmnet_severity_to_string(VmnetSeverity s)
{
        switch (s) {
        case VMNET_SEVERITY_INFO:
                return "info";
        case VMNET_SEVERITY_WARNING:
                return "warning";
        case VMNET_SEVERITY_ERROR:
                return "error";
        }
        return "?";
}

const char *vmnet_check_status_to_string(VmnetCheckStatus s)
{
        switch (s) {
        case VMNET_CHECK_OK:
                return "ok";
        case VMNET_CHECK_PROBLEMS:
                return "problems";
        case VMNET_CHECK_SKIPPED:
                return "skipped";
        }
        return "?";
}

static void finding_free(gpointer p)
{
        VmnetFinding *f = p;

        g_free(f->object);
        g_free(f->message);
        g_free(f->fix);
        g_free(f);
}

static void result_clear(gpointer p)
{
        VmnetCheckResult *r = p;

        g_free(r->reason);
}

VmnetDoctor *vmnet_doctor_new(const VmnetPlan *plan, const char *netns, const char *libvirt_uri)
{
        VmnetDoctor *doc = g_new0(VmnetDoctor, 1);

        doc->plan = plan;
        doc->netns = g_strdup(netns);
        doc->libvirt_uri = g_strdup(libvirt_uri);
        doc->findings = g_ptr_array_new_with_free_func(finding_free);
        doc->results = g_array_new(FALSE, TRUE, sizeof(VmnetCheckResult));
        g_array_set_clear_func(doc->results, result_clear);
        return doc;
}

void vmnet_doctor_free(VmnetDoctor *doc)
{
        if (!doc)
                return;
        g_free(doc->netns);
        g_free(doc->libvirt_uri);
        vmnet_host_free(doc->host);
        vmnet_nft_observed_free(doc->nft);
        if (doc->foreign_drops)
                g_ptr_array_unref(doc->foreign_drops);
        g_free(doc->foreign_drops_error);
        vmnet_ipam_free(doc->ipam);
        g_free(doc->ipam_error);
        vmnet_libvirt_host_free(doc->virt);
        g_free(doc->virt_error);
        g_ptr_array_unref(doc->findings);
        g_array_unref(doc->results);
        g_free(doc);
}

const VmnetIpam *vmnet_doctor_ipam(VmnetDoctor *doc, char **skipped)
{
        if (!doc->ipam && !doc->ipam_error) {
                g_autoptr(GError) e = NULL;

                if (!vmnet_engine_ipam(doc->plan, NULL, doc->netns, &doc->ipam, &e))
                        doc->ipam_error = g_strdup_printf("the plan's addresses (IPAM): %s",
                                                          e->message);
        }
        if (!doc->ipam && skipped)
                *skipped = g_strdup(doc->ipam_error);
        return doc->ipam;
}

gboolean vmnet_doctor_observe(VmnetDoctor *doc, struct mnl_socket *nft, GError **error)
{
        g_autoptr(GError) e = NULL;

        if (!vmnet_observe_host(&doc->host, error))
                return FALSE;
        if (!(doc->nft = vmnet_nft_observe(nft, error)))
                return FALSE;
        /* A failure here only costs the firewall checks; they say so. */
        doc->foreign_drops = vmnet_nft_foreign_drops(nft, &e);
        if (!doc->foreign_drops)
                doc->foreign_drops_error = g_strdup(e->message);
        return TRUE;
}

void vmnet_doctor_run(VmnetDoctor *doc)
{
        for (guint i = 0; vmnet_doctor_checks[i]; i++) {
                const VmnetDoctorCheck *c = vmnet_doctor_checks[i];
                VmnetCheckResult r = { .name = c->name, .status = VMNET_CHECK_OK };
                guint before = doc->findings->len;

                if (c->needs_plan && !doc->plan) {
                        r.status = VMNET_CHECK_SKIPPED;
                        r.reason = g_strdup("they need a plan: vmnet doctor PLAN");
                        g_array_append_val(doc->results, r);
                        continue;
                }
                doc->current = c->name;
                if (!c->run(doc, &r.reason)) {
                        r.status = VMNET_CHECK_SKIPPED;
                        if (!r.reason)
                                r.reason = g_strdup("not checked");
                }
                for (guint j = before; j < doc->findings->len; j++) {
                        const VmnetFinding *f = g_ptr_array_index(doc->findings, j);

                        if (f->severity != VMNET_SEVERITY_INFO)
                                r.status = VMNET_CHECK_PROBLEMS;
                }
                doc->current = NULL;
                g_array_append_val(doc->results, r);
        }
}

guint vmnet_doctor_count(const VmnetDoctor *doc, VmnetSeverity severity)
{
        guint n = 0;

        for (guint i = 0; i < doc->findings->len; i++)
                n += ((const VmnetFinding *)g_ptr_array_index(doc->findings, i))->severity == severity;
        return n;
}

gboolean vmnet_doctor_healthy(const VmnetDoctor *doc)
{
        return vmnet_doctor_count(doc, VMNET_SEVERITY_WARNING) == 0 &&
               vmnet_doctor_count(doc, VMNET_SEVERITY_ERROR) == 0;
}

void vmnet_doctor_add(VmnetDoctor *doc, VmnetSeverity severity, char *object, char *fix,
                      const char *fmt, ...)
{
        VmnetFinding *f = g_new0(VmnetFinding, 1);
        va_list ap;

        va_start(ap, fmt);
        f->message = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        f->check = doc->current ? doc->current : "doctor";
        f->severity = severity;
        f->object = object;
        f->fix = fix;
        g_ptr_array_add(doc->findings, f);
}

char *vmnet_doctor_cmd_vmnet(const VmnetDoctor *doc, const char *args)
{
        /* A fleet plan's part: the same host again. */
        g_autofree char *host = doc->plan && doc->plan->host ?
                                        g_strdup_printf("--host %s ", doc->plan->host) : NULL;

        if (doc->netns)
                return g_strdup_printf("vmnet --netns %s %s%s", doc->netns, host ? host : "", args);
        return g_strdup_printf("vmnet %s%s", host ? host : "", args);
}

VmnetLibvirtHost *vmnet_doctor_libvirt_observe(const VmnetDoctor *doc, char **skipped)
{
        const char *uri = doc->libvirt_uri ? doc->libvirt_uri : "qemu:///system";
        g_autoptr(VmnetVirConnect) conn = NULL;
        g_autoptr(GError) error = NULL;
        VmnetLibvirtHost *virt = NULL;

        if (!(conn = vmnet_libvirt_connect_read_only(uri)) ||
            !vmnet_libvirt_observe(conn, &virt, &error)) {
                *skipped = g_strdup_printf("libvirt at %s: %s", uri,
                                           error ? error->message : vmnet_libvirt_last_error());
                return NULL;
        }
        return virt;
}

char *vmnet_doctor_cmd_apply(const VmnetDoctor *doc)
{
        const char *file = doc->plan && doc->plan->file && !g_str_equal(doc->plan->file, "-") &&
                                           !g_str_equal(doc->plan->file, "<stdin>")
                                   ? doc->plan->file
                                   : "PLAN";
        g_autofree char *args = g_strdup_printf("apply %s", file);

        return vmnet_doctor_cmd_vmnet(doc, args);
}

char *vmnet_doctor_cmd_apply_state(const VmnetDoctor *doc, const char *plan_name,
                                   const char *state_path)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *file = NULL;
        g_autofree char *args = NULL;
        g_autofree char *cmd = NULL;

        if (g_key_file_load_from_file(kf, state_path, G_KEY_FILE_NONE, NULL))
                file = g_key_file_get_string(kf, "vmnet", "file", NULL);
        args = g_strdup_printf("apply %s", file ? file : "FILE");
        cmd = vmnet_doctor_cmd_vmnet(doc, args);
        if (file)
                return g_steal_pointer(&cmd);
        return g_strdup_printf("%s (FILE: the plan file of plan '%s')", cmd, plan_name);
}

char *vmnet_doctor_cmd_ip(const VmnetDoctor *doc, const char *args)
{
        if (doc->netns)
                return g_strdup_printf("ip -n %s %s", doc->netns, args);
        return g_strdup_printf("ip %s", args);
}

char *vmnet_doctor_cmd_in_ns(const VmnetDoctor *doc, const char *args)
{
        if (doc->netns)
                return g_strdup_printf("ip netns exec %s %s", doc->netns, args);
        return g_strdup(args);
}

char *vmnet_doctor_plan_where(const VmnetDoctor *doc, guint line)
{
        const char *file = doc->plan && doc->plan->file ? doc->plan->file : "PLAN";

        if (line)
                return g_strdup_printf("%s:%u", file, line);
        return g_strdup(file);
}

const VmnetLibvirtHost *vmnet_doctor_libvirt(VmnetDoctor *doc, const char **why)
{
        if (!doc->virt_read) {
                doc->virt_read = TRUE;
                if (doc->netns && !doc->libvirt_uri)
                        doc->virt_error = g_strdup("libvirt is not used inside a network namespace "
                                                   "without --connect");
                else
                        doc->virt = vmnet_doctor_libvirt_observe(doc, &doc->virt_error);
        }
        if (why)
                *why = doc->virt_error;
        return doc->virt;
}

GPtrArray *vmnet_doctor_bridges(const VmnetDoctor *doc)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        if (doc->plan) {
                for (guint i = 0; i < doc->plan->networks->len; i++) {
                        const VmnetNetwork *net = g_ptr_array_index(doc->plan->networks, i);

                        if (!g_ptr_array_find_with_equal_func(out, net->bridge, g_str_equal, NULL))
                                g_ptr_array_add(out, g_strdup(net->bridge));
                }
                return out;
        }
        for (guint i = 0; doc->host && i < doc->host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(doc->host->links, i);

                if (g_strcmp0(l->kind, "bridge") == 0 && l->alias &&
                    g_str_has_prefix(l->alias, VMNET_ALIAS_PREFIX))
                        g_ptr_array_add(out, g_strdup(l->name));
        }
        return out;
}

GPtrArray *vmnet_doctor_ports(const VmnetDoctor *doc, const char *bridge)
{
        GPtrArray *out = g_ptr_array_new();

        for (guint i = 0; i < doc->host->links->len; i++) {
                VmnetHostLink *l = g_ptr_array_index(doc->host->links, i);

                if (l->master_name && g_str_equal(l->master_name, bridge))
                        g_ptr_array_add(out, l);
        }
        return out;
}

gboolean vmnet_doctor_network_has_guests(const VmnetDoctor *doc, const VmnetNetwork *net)
{
        for (guint i = 0; doc->plan && i < doc->plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(doc->plan->domains, i);

                for (guint j = 0; j < d->interfaces->len; j++) {
                        const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);

                        if (g_strcmp0(ifc->network, net->name) == 0)
                                return TRUE;
                }
        }
        return FALSE;
}

GHashTable *vmnet_doctor_state_plans(const VmnetDoctor *doc)
{
        GHashTable *plans = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autofree char *sub = doc->netns ? g_strconcat("netns-", doc->netns, NULL) : NULL;
        g_autofree char *dir = g_build_filename(vmnet_state_dir(), sub, NULL);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *path = NULL;

                if (!g_str_has_suffix(name, ".state") || strlen(name) <= strlen(".state"))
                        continue;
                path = g_build_filename(dir, name, NULL);
                if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
                        continue;
                g_hash_table_insert(plans, g_strndup(name, strlen(name) - strlen(".state")),
                                    g_steal_pointer(&path));
        }
        return plans;
}
