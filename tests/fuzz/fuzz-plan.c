/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"
#include "render/render.h"
#include "validate/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The whole front half of the pipeline on untrusted bytes: parse, schema,
 * convert, validate, and, when valid, every renderer. It must never crash,
 * leak or hang, whatever the input.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetPlan) plan = vmnet_plan_load_data((const char *)data, size, "fuzz.xml",
                                                         diags, &error);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        VmnetState st = { .kf = kf };
        g_autoptr(VmnetIpam) ipam = NULL;

        if (!plan || !vmnet_plan_validate(plan, diags))
                return 0;
        for (guint i = 0; i < plan->networks->len; i++)
                g_free(vmnet_render_libvirt_network(plan, g_ptr_array_index(plan->networks, i)));
        for (guint i = 0; i < plan->domains->len; i++) {
                VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint k = 0; k < d->interfaces->len; k++)
                        g_free(vmnet_render_domain_interface(plan, d,
                                                             g_ptr_array_index(d->interfaces, k)));
        }
        /* With what a first apply allocates bound to guest ports (none when IPAM fails). */
        if (!vmnet_ipam_assign(plan, &st, &ipam, NULL))
                g_clear_pointer(&ipam, vmnet_ipam_free);
        g_free(vmnet_render_nft(plan, ipam));
        return 0;
}
