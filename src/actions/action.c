/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/action.h"

const char *vmnet_impact_to_string(VmnetImpact impact)
{
        switch (impact) {
        case VMNET_IMPACT_SAFE:
                return "safe";
        case VMNET_IMPACT_RECREATE:
                return "recreate";
        case VMNET_IMPACT_DISRUPTIVE:
                return "disruptive";
        }
        return "unknown";
}

VmnetAction *vmnet_action_new(const VmnetActionType *type, VmnetImpact impact, char *object,
                              gpointer data)
{
        VmnetAction *a = g_new0(VmnetAction, 1);

        a->type = type;
        a->impact = impact;
        a->object = object;
        a->data = data;
        return a;
}

void vmnet_action_free(VmnetAction *a)
{
        if (!a)
                return;
        if (a->data && a->type->free_data)
                a->type->free_data(a->data);
        g_free(a->object);
        g_free(a);
}

char *vmnet_action_describe(const VmnetAction *a)
{
        return a->type->describe(a);
}

GPtrArray *vmnet_action_list_new(void)
{
        return g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_action_free);
}
