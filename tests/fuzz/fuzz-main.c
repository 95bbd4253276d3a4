/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Replays fuzz inputs without libFuzzer: every file named on the command
 * line, or every file in a named directory, goes through the target once.
 * Prints TAP, one line per input; a crash fails the test run.
 */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned n;

static int run_file(const char *path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
                printf("not ok %u - %s: cannot open\n", ++n, path);
                return -1;
        }
        size_t cap = 4096, len = 0;
        uint8_t *buf = malloc(cap);
        size_t k;
        while (buf && (k = fread(buf + len, 1, cap - len, f)) > 0) {
                len += k;
                if (len == cap) {
                        uint8_t *p = realloc(buf, cap * 2);
                        if (!p) {
                                free(buf);
                                buf = NULL;
                                break;
                        }
                        buf = p;
                        cap *= 2;
                }
        }
        fclose(f);
        if (!buf) {
                printf("not ok %u - %s: out of memory\n", ++n, path);
                return -1;
        }
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        printf("ok %u - %s\n", ++n, path);
        return 0;
}

int main(int argc, char **argv) {
        int failed = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        printf("not ok %u - %s: missing\n", ++n, argv[i]);
                        failed = 1;
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        failed |= run_file(argv[i]) < 0;
                        continue;
                }
                struct dirent **list;
                int m = scandir(argv[i], &list, NULL, alphasort);
                if (m < 0) {
                        printf("not ok %u - %s: cannot read\n", ++n, argv[i]);
                        failed = 1;
                        continue;
                }
                for (int j = 0; j < m; j++) {
                        if (list[j]->d_name[0] != '.') {
                                char path[4096];
                                snprintf(path, sizeof(path), "%s/%s", argv[i], list[j]->d_name);
                                failed |= run_file(path) < 0;
                        }
                        free(list[j]);
                }
                free(list);
        }
        printf("1..%u\n", n);
        return failed;
}
