/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "util/error.h"
#include "util/mutant.h"

G_DEFINE_QUARK(vmnet-error-quark, vmnet_error)

static void diag_free(gpointer p)
{
        VmnetDiag *d = p;

        g_free(d->file);
        g_free(d->message);
        g_free(d);
}

VmnetDiags *vmnet_diags_new(void)
{
        VmnetDiags *diags = g_new0(VmnetDiags, 1);

        diags->items = g_ptr_array_new_with_free_func(diag_free);
        return diags;
}

void vmnet_diags_free(VmnetDiags *diags)
{
        if (!diags)
                return;
        g_ptr_array_unref(diags->items);
        g_free(diags);
}

void vmnet_diags_add(VmnetDiags *diags, const char *file, guint line, const char *fmt, ...)
{
        VmnetDiag *d;
        va_list ap;

        if (VMNET_MUTANT_IS(FIRST_ERROR_ONLY) && diags->items->len)
                return;
        d = g_new0(VmnetDiag, 1);
        d->file = g_strdup(file ? file : "<plan>");
        d->line = line;
        va_start(ap, fmt);
        d->message = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_ptr_array_add(diags->items, d);
}

guint vmnet_diags_count(const VmnetDiags *diags)
{
        return diags ? diags->items->len : 0;
}

char *vmnet_diag_format(const VmnetDiag *d)
{
        if (d->line)
                return g_strdup_printf("%s:%u: %s", d->file, d->line, d->message);
        return g_strdup_printf("%s: %s", d->file, d->message);
}

void vmnet_diags_to_error(const VmnetDiags *diags, GError **error, VmnetErrorCode code)
{
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; i < diags->items->len; i++) {
                g_autofree char *line = vmnet_diag_format(g_ptr_array_index(diags->items, i));

                if (i)
                        g_string_append_c(s, '\n');
                g_string_append(s, line);
        }
        g_set_error_literal(error, VMNET_ERROR, code, s->str);
}

static gint diag_cmp(gconstpointer a, gconstpointer b)
{
        const VmnetDiag *x = *(VmnetDiag *const *)a;
        const VmnetDiag *y = *(VmnetDiag *const *)b;
        int c = g_strcmp0(x->file, y->file);

        if (c)
                return c;
        return x->line < y->line ? -1 : x->line > y->line;
}

void vmnet_diags_sort(VmnetDiags *diags)
{
        /* g_ptr_array_sort is not stable; equal lines keep their order by index. */
        g_autoptr(GPtrArray) tmp = g_ptr_array_new();
        gsize n = diags->items->len;

        for (gsize i = 0; i < n; i++)
                g_ptr_array_add(tmp, g_ptr_array_index(diags->items, i));
        for (gsize i = 1; i < n; i++) { /* insertion sort: stable, and lists are short */
                gpointer cur = g_ptr_array_index(tmp, i);
                gsize j = i;

                while (j > 0 && diag_cmp(&g_ptr_array_index(tmp, j - 1), &cur) > 0) {
                        g_ptr_array_index(tmp, j) = g_ptr_array_index(tmp, j - 1);
                        j--;
                }
                g_ptr_array_index(tmp, j) = cur;
        }
        for (gsize i = 0; i < n; i++)
                g_ptr_array_index(diags->items, i) = g_ptr_array_index(tmp, i);
}
