/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/if_bridge.h>
#include <string.h>

#include "model/port-vlans.h"

void vmnet_port_vlans_access(VmnetPortVlans *v, guint vid)
{
        memset(v, 0, sizeof(*v));
        v->untagged = vid;
}

gboolean vmnet_port_vlans_is_empty(const VmnetPortVlans *v)
{
        return !v->untagged && !v->n_tagged;
}

gboolean vmnet_port_vlans_equal(const VmnetPortVlans *a, const VmnetPortVlans *b)
{
        return a->untagged == b->untagged && a->n_tagged == b->n_tagged &&
               memcmp(a->tagged, b->tagged, a->n_tagged * sizeof(a->tagged[0])) == 0;
}

int vmnet_port_vlans_flags(const VmnetPortVlans *v, guint vid)
{
        if (vid && vid == v->untagged)
                return BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED;
        for (guint i = 0; i < v->n_tagged; i++)
                if (v->tagged[i] == vid)
                        return 0;
        return -1;
}

gboolean vmnet_vlan_list_parse(const char *list, VmnetPortVlans *v, char **why)
{
        g_auto(GStrv) parts = g_strsplit(list, ",", -1);
        guint n = 0;

        for (guint i = 0; parts[i]; i++) {
                const char *s = g_strstrip(parts[i]);
                guint64 id;

                if (!g_ascii_string_to_unsigned(s, 10, 1, 4094, &id, NULL)) {
                        *why = g_strdup_printf("'%s' is not a VLAN id (1-4094)", s);
                        return FALSE;
                }
                if (n == VMNET_TRUNK_MAX) {
                        *why = g_strdup_printf("more than %d VLANs", VMNET_TRUNK_MAX);
                        return FALSE;
                }
                for (guint j = 0; j < n; j++)
                        if (v->tagged[j] == id) {
                                *why = g_strdup_printf("vlan %u is listed twice", (guint)id);
                                return FALSE;
                        }
                v->tagged[n++] = (guint16)id;
        }
        if (!n) {
                *why = g_strdup("it lists no VLAN");
                return FALSE;
        }
        v->n_tagged = n;
        return TRUE;
}

static void append_ids(GString *out, const VmnetPortVlans *v, const char *sep)
{
        for (guint i = 0; i < v->n_tagged; i++)
                g_string_append_printf(out, "%s%u", i ? sep : "", v->tagged[i]);
}

char *vmnet_vlan_list_format(const VmnetPortVlans *v)
{
        GString *out = g_string_new(NULL);

        append_ids(out, v, ",");
        return g_string_free(out, FALSE);
}

char *vmnet_port_vlans_describe(const VmnetPortVlans *v)
{
        GString *out = g_string_new(NULL);

        if (!v->n_tagged) {
                g_string_append_printf(out, "vlan %u (untagged, pvid)", v->untagged);
                return g_string_free(out, FALSE);
        }
        g_string_append(out, v->n_tagged > 1 ? "vlans " : "vlan ");
        append_ids(out, v, ", ");
        g_string_append(out, " (tagged)");
        if (v->untagged)
                g_string_append_printf(out, " and %u (untagged, pvid)", v->untagged);
        return g_string_free(out, FALSE);
}

char *vmnet_port_vlans_placed(const VmnetPortVlans *v)
{
        g_autofree char *d = NULL;

        if (vmnet_port_vlans_is_empty(v))
                return g_strdup("");
        if (!v->n_tagged)
                return g_strdup_printf(", port in vlan %u", v->untagged);
        d = vmnet_port_vlans_describe(v);
        return g_strdup_printf(", port in %s", d);
}
