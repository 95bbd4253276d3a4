/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "db.h"
#include "engine-internal.h"
#include "engine.h"
#include "tests.h"
#include "util.h"
#include "volume.h"

#define TMPFS_MAGIC_ 0x01021994

static char tmpdir[64];

static Engine *open_engine(void) {
        char root[128], run[128];
        EngineOptions o = {.root = root, .runroot = run};
        CpodError err = {};
        Engine *e = NULL;

        if (!tmpdir[0]) {
                snprintf(tmpdir, sizeof tmpdir, "/tmp/test-volume-XXXXXX");
                if (!mkdtemp(tmpdir))
                        abort();
        }
        snprintf(root, sizeof root, "%s/root", tmpdir);
        snprintf(run, sizeof run, "%s/run", tmpdir);
        if (engine_open(&o, &e, &err) < 0) {
                diag("engine_open: %s", err.message);
                abort();
        }
        return e;
}

static char *vpath(Engine *e, const char *name, const char *sub) {
        char *p;
        if (asprintf(&p, "%s/volumes/%s/_data%s%s", engine_root(e), name, sub ? "/" : "", sub ? sub : "") <
            0)
                abort();
        return p;
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f)
                abort();
        fputs(text, f);
        fclose(f);
}

static char *read_file(const char *path) {
        char buf[256] = "";
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        return strdup(buf);
}

/* A container row, so that uses count (state 0: configured, not running). */
static void fake_container(Engine *e, const char *id) {
        CpodError err = {};
        int r = db_run(
                e->db,
                "INSERT INTO containers(id, name, image_id, image_name, command, created, state, runtime, "
                "config) VALUES (?1, ?1, 'img', 'img', '[]', 0, 0, 'crun', '{}')",
                DB_PARAMS(id), &err);
        if (r < 0)
                diag("insert container: %s", err.message);
}

static void drop_container(Engine *e, const char *id) {
        (void)db_run(e->db, "DELETE FROM containers WHERE id = ?1", DB_PARAMS(id), NULL);
}

TEST(names) {
        ok(volume_name_valid("a"), "one letter");
        ok(volume_name_valid("data_1.x-y"), "letters, digits, _ . -");
        ok(!volume_name_valid(""), "empty");
        ok(!volume_name_valid("-x"), "leading dash");
        ok(!volume_name_valid(".x"), "leading dot");
        ok(!volume_name_valid("a/b"), "slash");
        ok(!volume_name_valid("a b"), "space");
        ok(!volume_name_valid(".."), "dot dot");

        Engine *e = open_engine();
        CpodError err = {};
        VolumeCreateOptions o = {.name = "bad/name"};
        is_int(volume_create(e, &o, NULL, &err), -EINVAL, "create refuses an invalid name");
        ok(strstr(err.message, "[a-zA-Z0-9][a-zA-Z0-9_.-]*") != NULL, "the message shows the rule: %s",
           err.message);
        engine_close(e);
}

TEST(create_inspect_remove) {
        Engine *e = open_engine();
        char *labels[] = {"b=2", "a=1", "flag"};
        VolumeCreateOptions o = {.name = "v1", .labels = labels, .n_labels = 3};
        _cleanup_free_ char *name = NULL, *data = NULL;
        CpodError err = {};
        VlJson *doc = NULL;
        Volume v = {};
        struct stat st;

        is_int(volume_create(e, &o, &name, &err), 0, "create v1");
        is_str(name, "v1", "the name is returned");
        data = vpath(e, "v1", NULL);
        ok(stat(data, &st) == 0 && S_ISDIR(st.st_mode), "_data exists");
        is_int(volume_exists(e, "v1", &err), 1, "exists");
        is_int(volume_exists(e, "v2", &err), 0, "another does not");
        is_int(volume_create(e, &o, NULL, &err), -EEXIST, "a duplicate name is refused");
        ok(strstr(err.message, "already exists") != NULL, "message: %s", err.message);

        is_int(volume_get(e, "v1", &v, &err), 0, "get");
        is_str(v.driver, "local", "driver local");
        is_str(v.mountpoint, data, "mountpoint");
        ok(v.needs_copy_up && v.needs_chown && !v.anonymous && v.users == 0, "flags of a new volume");
        is_str(vl_json_get_string(vl_json_object_get(v.labels, "a")), "1", "label a");
        is_str(vl_json_get_string(vl_json_object_get(v.labels, "flag")), "", "label without value");
        is_str(vl_json_object_key(v.labels, 0), "a", "labels sorted by key");
        volume_done(&v);

        is_int(volume_inspect(e, "v1", &doc, &err), 0, "inspect");
        static const char *const keys[] = {"Name",  "Driver",  "Mountpoint", "CreatedAt",   "Labels",
                                           "Scope", "Options", "MountCount", "NeedsCopyUp", "NeedsChown"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                is_str(vl_json_object_key(doc, i), keys[i], "inspect member %zu", i);
        is_str(vl_json_get_string(vl_json_object_get(doc, "Scope")), "local", "scope");
        vl_json_unref(doc);
        is_int(volume_inspect(e, "nope", &doc, &err), -ENOENT, "inspect a missing volume");
        ok(strstr(err.message, "no such volume") != NULL, "message: %s", err.message);

        is_int(volume_remove(e, "v1", false, &err), 0, "remove");
        ok(stat(data, &st) < 0 && errno == ENOENT, "files are gone");
        is_int(volume_remove(e, "v1", false, &err), -ENOENT, "removing again: no such volume");
        engine_close(e);
}

TEST(generated_name_and_driver) {
        Engine *e = open_engine();
        VolumeCreateOptions o = {};
        _cleanup_free_ char *name = NULL;
        CpodError err = {};

        is_int(volume_create(e, &o, &name, &err), 0, "create without a name");
        ok(name && strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64, "a 64-hex name: %s", name);
        o.driver = "nfs";
        o.name = "x";
        is_int(volume_create(e, &o, NULL, &err), -EINVAL, "another driver is refused");
        ok(strstr(err.message, "nfs") != NULL, "message names it: %s", err.message);
        (void)volume_remove(e, name, false, NULL);
        engine_close(e);
}

TEST(options) {
        Engine *e = open_engine();
        char *bogus[] = {"bogus=1"}, *noeq[] = {"type"}, *nodev[] = {"type=ext4"},
             *tmpfs[] = {"type=tmpfs", "o=size=1m"};
        VolumeCreateOptions o = {.name = "o1", .options = bogus, .n_options = 1};
        CpodError err = {};
        Volume v = {};

        is_int(volume_create(e, &o, NULL, &err), -EINVAL, "an unknown option is refused");
        ok(strstr(err.message, "bogus") != NULL, "message names it: %s", err.message);
        o.options = noeq;
        is_int(volume_create(e, &o, NULL, &err), -EINVAL, "an option without a value is refused");
        o.options = nodev;
        is_int(volume_create(e, &o, NULL, &err), -EINVAL, "a filesystem type needs a device");
        is_int(volume_exists(e, "o1", NULL), 0, "nothing was created");
        o.options = tmpfs;
        o.n_options = 2;
        is_int(volume_create(e, &o, NULL, &err), 0, "tmpfs without a device");
        is_int(volume_get(e, "o1", &v, &err), 0, "get");
        is_str(vl_json_get_string(vl_json_object_get(v.options, "o")), "size=1m", "o kept");
        is_str(vl_json_get_string(vl_json_object_get(v.options, "type")), "tmpfs", "type kept");
        volume_done(&v);
        (void)volume_remove(e, "o1", false, NULL);
        engine_close(e);
}

static size_t list_names(Engine *e, const char *const *f, size_t n, char *out, size_t size) {
        Volume *v = NULL;
        size_t nv = 0;
        CpodError err = {};
        out[0] = 0;
        if (volume_list(e, f, n, &v, &nv, &err) < 0) {
                snprintf(out, size, "error: %.400s", err.message);
                return 0;
        }
        for (size_t i = 0; i < nv; i++)
                snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", v[i].name);
        volume_array_free(v, nv);
        return nv;
}

TEST(list_filters_prune) {
        Engine *e = open_engine();
        char *la[] = {"env=prod", "team"}, *lb[] = {"env=dev"};
        VolumeCreateOptions a = {.name = "alpha", .labels = la, .n_labels = 2};
        VolumeCreateOptions b = {.name = "beta", .labels = lb, .n_labels = 1};
        VolumeCreateOptions c = {.name = "gamma"};
        CpodError err = {};
        char out[512];

        volume_create(e, &a, NULL, &err);
        volume_create(e, &b, NULL, &err);
        volume_create(e, &c, NULL, &err);
        fake_container(e, "c1");
        is_int(volume_container_use(e, "c1", "gamma", false, &err), 0, "c1 uses gamma");

        list_names(e, NULL, 0, out, sizeof out);
        is_str(out, "alpha beta gamma", "all, sorted");
        list_names(e, (const char *[]){"name=^al"}, 1, out, sizeof out);
        is_str(out, "alpha", "name= is a regular expression");
        list_names(e, (const char *[]){"label=env"}, 1, out, sizeof out);
        is_str(out, "alpha beta", "label=KEY");
        list_names(e, (const char *[]){"label=env=dev"}, 1, out, sizeof out);
        is_str(out, "beta", "label=KEY=VALUE");
        list_names(e, (const char *[]){"label=env=dev", "label=team"}, 2, out, sizeof out);
        is_str(out, "alpha beta", "same key: either");
        list_names(e, (const char *[]){"label=env", "name=beta"}, 2, out, sizeof out);
        is_str(out, "beta", "different keys: both");
        list_names(e, (const char *[]){"driver=local"}, 1, out, sizeof out);
        is_str(out, "alpha beta gamma", "driver=local");
        list_names(e, (const char *[]){"dangling=false"}, 1, out, sizeof out);
        is_str(out, "gamma", "dangling=false: used ones");
        list_names(e, (const char *[]){"dangling=true"}, 1, out, sizeof out);
        is_str(out, "alpha beta", "dangling=true: unused ones");
        list_names(e, (const char *[]){"bogus=1"}, 1, out, sizeof out);
        ok(strstr(out, "invalid volume filter") != NULL, "an unknown filter: %s", out);
        list_names(e, (const char *[]){"dangling=maybe"}, 1, out, sizeof out);
        ok(startswith(out, "error:") != NULL, "a bad dangling value: %s", out);

        char **names = NULL;
        size_t n = 0;
        is_int(volume_prune(e, (const char *[]){"label=env=dev"}, 1, &names, &n, &err), 0, "prune by label");
        ok(n == 1 && streq(names[0], "beta"), "pruned beta only");
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        is_int(volume_prune(e, (const char *[]){"name=x"}, 1, NULL, NULL, &err), -EINVAL,
               "prune accepts label filters only");
        is_int(volume_prune(e, NULL, 0, &names, &n, &err), 0, "prune");
        ok(n == 1 && streq(names[0], "alpha"), "pruned alpha; gamma is in use");
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        is_int(volume_exists(e, "gamma", NULL), 1, "gamma stays");
        volume_container_release(e, "c1", false, &err);
        drop_container(e, "c1");
        volume_remove(e, "gamma", false, NULL);
        engine_close(e);
}

TEST(in_use) {
        Engine *e = open_engine();
        VolumeCreateOptions o = {.name = "used"};
        CpodError err = {};

        volume_create(e, &o, NULL, &err);
        fake_container(e, "c2");
        is_int(volume_container_use(e, "c2", "used", false, &err), 0, "use");
        is_int(volume_container_use(e, "c2", "used", false, &err), 0, "use again (idempotent)");
        is_int(volume_container_use(e, "c2", "nope", false, &err), -ENOENT, "using a missing volume");
        ok(volume_in_use(e, "used"), "in use");
        is_int(volume_remove(e, "used", false, &err), -EBUSY, "removal refused");
        ok(strstr(err.message, "c2") != NULL, "the message names the container: %s", err.message);
        is_int(volume_container_release(e, "c2", false, &err), 0, "release");
        ok(!volume_in_use(e, "used"), "not in use any more");

        /* force removes a volume a stopped container uses */
        is_int(volume_container_use(e, "c2", "used", false, &err), 0, "use again");
        is_int(volume_remove(e, "used", true, &err), 0, "forced removal while a stopped container uses it");
        is_int(volume_exists(e, "used", NULL), 0, "gone");

        /* a use whose container row is gone does not hold the volume */
        volume_create(e, &o, NULL, &err);
        is_int(volume_container_use(e, "c2", "used", false, &err), 0, "use");
        drop_container(e, "c2");
        ok(!volume_in_use(e, "used"), "a removed container does not count");
        is_int(volume_remove(e, "used", false, &err), 0, "removable");
        volume_container_release(e, "c2", false, &err);
        engine_close(e);
}

TEST(anonymous) {
        Engine *e = open_engine();
        _cleanup_free_ char *path = NULL, *name = NULL;
        CpodError err = {};
        Volume v = {};
        bool created = false;
        struct stat st;

        is_int(volume_resolve_mount_named(e, "", true, NULL, &path, &name, &created, &err), 0,
               "an empty name makes an anonymous volume");
        ok(created && name && strlen(name) == 64, "created with a generated name");
        is_int(volume_get(e, name, &v, &err), 0, "get");
        ok(v.anonymous, "marked anonymous");
        volume_done(&v);
        fake_container(e, "c3");
        is_int(volume_container_use(e, "c3", name, true, &err), 0, "use");
        is_int(volume_container_release(e, "c3", false, &err), 0, "release without removal");
        is_int(volume_exists(e, name, NULL), 1, "kept");
        is_int(volume_container_use(e, "c3", name, true, &err), 0, "use");
        is_int(volume_container_release(e, "c3", true, &err), 0, "release with removal");
        is_int(volume_exists(e, name, NULL), 0, "removed");
        ok(stat(path, &st) < 0, "files removed");
        drop_container(e, "c3");

        _cleanup_free_ char *p2 = NULL;
        is_int(volume_resolve_mount(e, "named", false, NULL, &p2, &created, &err), -ENOENT,
               "a missing named volume without create");
        is_int(volume_resolve_mount(e, "named", true, NULL, &p2, &created, &err), 0, "auto-created");
        ok(created, "created now");
        free(p2);
        p2 = NULL;
        is_int(volume_resolve_mount(e, "named", true, NULL, &p2, &created, &err), 0, "resolved again");
        ok(!created, "not created again");
        is_int(volume_resolve_mount(e, "../x", true, NULL, &p2, &created, &err), -EINVAL, "bad name");
        volume_remove(e, "named", false, NULL);
        engine_close(e);
}

TEST(copy_up) {
        Engine *e = open_engine();
        _cleanup_free_ char *img = NULL, *path = NULL, *f = NULL, *g = NULL, *sub = NULL;
        CpodError err = {};
        Volume v = {};
        struct stat st;
        char p[512], target[64];

        if (asprintf(&img, "%s/image-etc", tmpdir) < 0)
                abort();
        mkdir(img, 0750);
        snprintf(p, sizeof p, "%s/conf", img);
        write_file(p, "from the image\n");
        chmod(p, 0640);
        snprintf(p, sizeof p, "%s/sub", img);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/sub/deep", img);
        write_file(p, "deep\n");
        snprintf(p, sizeof p, "%s/link", img);
        symlink("/etc/passwd", p);
        if (geteuid() == 0)
                chown(img, 123, 456);

        is_int(volume_resolve_mount(e, "cu", true, img, &path, NULL, &err), 0, "resolve with copy-up");
        f = vpath(e, "cu", "conf");
        _cleanup_free_ char *text = read_file(f);
        is_str(text, "from the image\n", "content copied up");
        ok(stat(f, &st) == 0 && (st.st_mode & 07777) == 0640, "file mode kept");
        sub = vpath(e, "cu", "sub/deep");
        ok(access(sub, F_OK) == 0, "subdirectories copied");
        g = vpath(e, "cu", "link");
        ssize_t n = readlink(g, target, sizeof target - 1);
        ok(n > 0 && (target[n] = 0, streq(target, "/etc/passwd")), "symlinks copied as symlinks");
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0750, "the volume takes the directory's mode");
        if (geteuid() == 0)
                ok(st.st_uid == 123 && st.st_gid == 456, "and its owner");
        is_int(volume_get(e, "cu", &v, &err), 0, "get");
        ok(!v.needs_copy_up && !v.needs_chown, "copy-up done once");
        volume_done(&v);

        /* a second mount does not copy again */
        snprintf(p, sizeof p, "%s/new", img);
        write_file(p, "later\n");
        unlink(f);
        free(path);
        path = NULL;
        is_int(volume_resolve_mount(e, "cu", true, img, &path, NULL, &err), 0, "resolve again");
        _cleanup_free_ char *nf = vpath(e, "cu", "new");
        ok(access(nf, F_OK) < 0 && access(f, F_OK) < 0, "nothing copied the second time");

        /* a non-empty new volume is not overwritten; nocopy disables copy-up */
        char *nocopy[] = {"o=nocopy"};
        VolumeCreateOptions o = {.name = "nc", .options = nocopy, .n_options = 1};
        is_int(volume_create(e, &o, NULL, &err), 0, "create with o=nocopy");
        free(path);
        path = NULL;
        is_int(volume_resolve_mount(e, "nc", true, img, &path, NULL, &err), 0, "resolve nocopy");
        _cleanup_free_ char *ncf = vpath(e, "nc", "conf");
        ok(access(ncf, F_OK) < 0, "nocopy: nothing copied");
        volume_remove(e, "cu", false, NULL);
        volume_remove(e, "nc", false, NULL);
        engine_close(e);
}

TEST(tmpfs_mounted_while_used) {
        Engine *e = open_engine();
        char *opts[] = {"type=tmpfs", "device=tmpfs", "o=size=1m,mode=0700"};
        VolumeCreateOptions o = {.name = "tv", .options = opts, .n_options = 3};
        _cleanup_free_ char *data = NULL, *file = NULL;
        CpodError err = {};
        struct statfs sf;
        struct stat st;

        if (geteuid() != 0) {
                ok(true, "# SKIP mounting needs root");
                engine_close(e);
                return;
        }
        is_int(volume_create(e, &o, NULL, &err), 0, "create a tmpfs volume");
        data = vpath(e, "tv", NULL);
        file = vpath(e, "tv", "f");
        fake_container(e, "t1");
        fake_container(e, "t2");
        is_int(volume_container_use(e, "t1", "tv", false, &err), 0, "first user: %s", err.message);
        ok(statfs(data, &sf) == 0 && sf.f_type == TMPFS_MAGIC_, "mounted as tmpfs");
        ok(stat(data, &st) == 0 && (st.st_mode & 07777) == 0700, "with its mode option");
        write_file(file, "x");
        is_int(volume_container_use(e, "t2", "tv", false, &err), 0, "second user");
        is_int(volume_container_release(e, "t1", false, &err), 0, "first user goes");
        ok(access(file, F_OK) == 0, "still mounted for the second user");
        is_int(volume_container_release(e, "t2", false, &err), 0, "last user goes");
        ok(statfs(data, &sf) == 0 && sf.f_type != TMPFS_MAGIC_, "unmounted");
        ok(access(file, F_OK) < 0, "the content is gone");
        is_int(volume_container_use(e, "t1", "tv", false, &err), 0, "used again");
        is_int(volume_container_mount(e, "t1", &err), 0, "mount for start is idempotent");
        is_int(volume_remove(e, "tv", true, &err), 0, "forced removal unmounts");
        ok(access(data, F_OK) < 0, "files gone");
        volume_container_release(e, "t1", false, &err);
        drop_container(e, "t1");
        drop_container(e, "t2");
        engine_close(e);
}

TEST(bind_volume) {
        Engine *e = open_engine();
        _cleanup_free_ char *dev = NULL, *opt = NULL, *seen = NULL;
        CpodError err = {};
        char p[512];

        if (geteuid() != 0) {
                ok(true, "# SKIP mounting needs root");
                engine_close(e);
                return;
        }
        if (asprintf(&dev, "%s/bind-src", tmpdir) < 0 || asprintf(&opt, "device=%s", dev) < 0)
                abort();
        mkdir(dev, 0755);
        snprintf(p, sizeof p, "%s/host-file", dev);
        write_file(p, "host\n");
        char *opts[] = {"type=bind", opt, "o=bind,ro"};
        VolumeCreateOptions o = {.name = "bv", .options = opts, .n_options = 3};
        is_int(volume_create(e, &o, NULL, &err), 0, "create a bind volume: %s", err.message);
        fake_container(e, "b1");
        is_int(volume_container_use(e, "b1", "bv", false, &err), 0, "use: %s", err.message);
        seen = vpath(e, "bv", "host-file");
        _cleanup_free_ char *text = read_file(seen);
        is_str(text, "host\n", "the device's files are visible");
        ok(access(seen, W_OK) < 0 && errno == EROFS, "read-only");
        is_int(volume_container_release(e, "b1", false, &err), 0, "release");
        drop_container(e, "b1");
        is_int(volume_remove(e, "bv", false, &err), 0, "remove");
        ok(access(p, F_OK) == 0, "the device's files are kept");

        char *missing[] = {"type=bind", "device=/nonexistent-dir-xyz"};
        VolumeCreateOptions m = {.name = "bm", .options = missing, .n_options = 2};
        is_int(volume_create(e, &m, NULL, &err), -ENOENT, "a missing bind device is refused");
        engine_close(e);
}

TEST(cleanup) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        ok(system(cmd) == 0, "temporary files removed");
}

TESTS_MAIN
