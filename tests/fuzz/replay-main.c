/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Replays files through the fuzz target without libFuzzer, so every
 * `make check` (and the sanitizer build) exercises the corpus.
 */
int main(int argc, char **argv)
{
        int n = 0;

        for (int i = 1; i < argc; i++) {
                g_autofree char *data = NULL;
                gsize len;

                if (!g_file_get_contents(argv[i], &data, &len, NULL)) {
                        fprintf(stderr, "cannot read %s\n", argv[i]);
                        return 1;
                }
                LLVMFuzzerTestOneInput((const uint8_t *)data, len);
                n++;
        }
        printf("replayed %d inputs\n", n);
        return 0;
}
