/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compiled seccomp filters, cached per profile. crun compiles the spec's
 * linux.seccomp section with libseccomp at every `crun create`, which costs
 * more than the rest of a container's start (~25 ms for the default profile
 * here); it leaves the result in its state directory (seccomp.bpf) and takes
 * a compiled filter through the run.oci.seccomp_bpf_data annotation. The
 * first start of a profile stores crun's output under
 * <runroot>/seccomp/<key>.bpf; later creates pass it in the annotation. The
 * key hashes the section with the identity (device, inode, size, mtime) of
 * the crun and libseccomp files, so an upgrade of either compiles anew. The
 * spec keeps its seccomp section (inspect, other runtimes).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "container-internal.h"
#include "engine-internal.h"
#include "sha256-lite.h"
#include "util.h"

#define BPF_MAX (1024 * 1024)

static void hash_stat(Sha256Lite *h, const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                return;
        char buf[128];
        int n = snprintf(buf, sizeof buf, "%llu:%llu:%lld:%lld.%ld;", (unsigned long long)st.st_dev,
                         (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                         st.st_mtim.tv_nsec);
        sha256_lite_update(h, buf, (size_t)n);
}

static int cache_key(const char *crun, const VlJson *seccomp, char ret[65]) {
        _cleanup_free_ char *text = vl_json_to_string(seccomp, 0);
        Sha256Lite h;
        struct utsname u;
        char lib[300];
        if (!text)
                return -ENOMEM;
        sha256_lite_init(&h);
        sha256_lite_update(&h, text, strlen(text));
        hash_stat(&h, crun);
        if (uname(&u) == 0) {
                snprintf(lib, sizeof lib, "/lib/%s-linux-gnu/libseccomp.so.2", u.machine);
                hash_stat(&h, lib);
        }
        hash_stat(&h, "/usr/lib64/libseccomp.so.2");
        hash_stat(&h, "/usr/lib/libseccomp.so.2");
        sha256_lite_final_hex(&h, ret);
        return 0;
}

static char *base64(const unsigned char *p, size_t n) {
        static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                             (i + 2 < n ? p[i + 2] : 0);
                *o++ = tab[v >> 18 & 63];
                *o++ = tab[v >> 12 & 63];
                *o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
                *o++ = i + 2 < n ? tab[v & 63] : '=';
        }
        *o = 0;
        return out;
}

/* The cached filter (malloc'ed) or NULL; a size that is not whole BPF instructions is no filter. */
static unsigned char *read_bpf(const char *path, size_t *ret_n) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > BPF_MAX || st.st_size % 8)
                return NULL;
        unsigned char *buf = malloc((size_t)st.st_size);
        if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size)
                buf = (free(buf), NULL);
        *ret_n = (size_t)st.st_size;
        return buf;
}

int seccomp_cache_apply(Engine *e, const char *runtime, VlJson *spec, char ret_key[65]) {
        const VlJson *sc = vl_json_object_get(vl_json_object_get(spec, "linux"), "seccomp");
        _cleanup_free_ char *crun = NULL, *path = NULL, *data = NULL;
        ret_key[0] = 0;
        const char *rt = runtime && *runtime ? runtime : "crun", *base = strrchr(rt, '/');
        if (!sc || !streq(base ? base + 1 : rt, "crun") || runtime_path(rt, &crun, NULL) < 0)
                return 0;
        if (cache_key(crun, sc, ret_key) < 0)
                return -ENOMEM;
        if (asprintf(&path, "%s/seccomp/%s.bpf", e->runroot, ret_key) < 0)
                return -ENOMEM;
        size_t n = 0;
        _cleanup_free_ unsigned char *bpf = read_bpf(path, &n);
        if (!bpf)
                return 0;
        VlJson *ann = vl_json_object_get(spec, "annotations");
        if (!ann) {
                if (vl_json_object_set(spec, "annotations", vl_json_new_object()) < 0)
                        return -ENOMEM;
                ann = vl_json_object_get(spec, "annotations");
        }
        if (!(data = base64(bpf, n)) || vl_json_object_set_string(ann, "run.oci.seccomp_bpf_data", data) < 0)
                return -ENOMEM;
        ret_key[0] = 0;
        return 1;
}

void seccomp_cache_store(Engine *e, const char *id, const char *key) {
        char src[4200], dir[4200], tmp[4300], dst[4300];
        snprintf(src, sizeof src, "%s/runtime/%s/seccomp.bpf", e->runroot, id);
        snprintf(dir, sizeof dir, "%s/seccomp", e->runroot);
        snprintf(dst, sizeof dst, "%s/%s.bpf", dir, key);
        snprintf(tmp, sizeof tmp, "%s/.%s.%d", dir, key, (int)getpid());
        size_t n = 0;
        _cleanup_free_ unsigned char *bpf = read_bpf(src, &n);
        if (!bpf || (mkdir(dir, 0700) < 0 && errno != EEXIST))
                return;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        /* no fsync: the run root does not outlive a boot, and a short file is rejected by read_bpf */
        if (write(fd, bpf, n) != (ssize_t)n || rename(tmp, dst) < 0)
                (void)unlink(tmp);
}
