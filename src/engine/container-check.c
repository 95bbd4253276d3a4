/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Containers: the check that `cpod system check` runs (rows without
 * files, files without rows, stale mounts) and its repairs.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "container-internal.h"
#include "db.h"
#include "engine-internal.h"
#include "util.h"

/* ---- check ---- */

static int report_add(StoreReport *rep, const char *fmt, const char *id) {
        char *s = NULL;
        if (asprintf(&s, fmt, id) < 0)
                return -ENOMEM;
        char **v = realloc(rep->problems, (rep->n_problems + 1) * sizeof(char *));
        if (!v) {
                free(s);
                return -ENOMEM;
        }
        rep->problems = v;
        v[rep->n_problems++] = s;
        return 0;
}

/* Run directories and lock files without a row: a removal killed after deleting the row (the row goes
 * before the files, so a killed removal never leaves a row without files). Lock files are named
 * <id> and <id>.rm. No other engine has the store open during a check, so no lock is held. */
static int check_run_leftovers(Engine *e, bool repair, StoreReport *rep) {
        static const char *const subdirs[] = {"containers", "locks"};
        int r = 0;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(subdirs); i++) {
                char base[4200];
                snprintf(base, sizeof base, "%s/%s", e->runroot, subdirs[i]);
                DIR *d = opendir(base);
                struct dirent *de;
                while (r >= 0 && d && (de = readdir(d))) {
                        char id[65];
                        size_t l = strlen(de->d_name);
                        if (de->d_name[0] == '.' || (l != 64 && !(l == 67 && streq(de->d_name + 64, ".rm"))))
                                continue;
                        snprintf(id, sizeof id, "%.64s", de->d_name);
                        /* reported with its container's directory (and gone if repaired) */
                        char p[4300], q[4300];
                        snprintf(p, sizeof p, "%s/containers/%s", e->runroot, id);
                        snprintf(q, sizeof q, "%s/containers/%s", e->root, id);
                        if (access(q, F_OK) == 0 || (i > 0 && access(p, F_OK) == 0))
                                continue;
                        int k = db_get_text(e->db, "SELECT 1 FROM containers WHERE id = ?1", DB_PARAMS(id),
                                            NULL, NULL);
                        if (k != 0)
                                continue;
                        r = report_add(rep,
                                       i == 0 ? "container run directory %s has no database row"
                                              : "container lock file %s has no database row",
                                       de->d_name);
                        if (r >= 0 && repair) {
                                if (i == 0)
                                        (void)container_unmount_rootfs(e, id, NULL);
                                ctr_remove_files(e, id);
                                rep->repaired++;
                        }
                }
                if (d)
                        closedir(d);
        }
        return r;
}

int container_check(Engine *e, bool repair, StoreReport *rep, CpodError *err) {
        Container *v = NULL;
        size_t n = 0;
        int r = container_list(e, true, &v, &n, err); /* syncs every state from conmon and exit files */
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct stat st;
                if (stat(v[i].spec_path, &st) < 0) {
                        r = report_add(rep, "container %s: its files are missing", v[i].id);
                        if (r >= 0 && repair) {
                                CpodError e2 = {};
                                if (container_remove(e, v[i].id, true, false, &e2) >= 0)
                                        rep->repaired++;
                        }
                        continue;
                }
                _cleanup_free_ char *merged = container_run_path(e, v[i].id, "merged");
                /* while its conmon lives, the exit command (which unmounts) is still to come */
                if (v[i].state == CONTAINER_EXITED && merged && ctr_path_is_mount(merged) &&
                    !runtime_pid_alive(v[i].conmon_pid)) {
                        r = report_add(rep, "container %s: exited but its root filesystem is still mounted",
                                       v[i].id);
                        if (r >= 0 && repair && container_unmount_rootfs(e, v[i].id, NULL) >= 0)
                                rep->repaired++;
                }
        }
        container_array_free(v, n);
        /* directories without a row: a create killed before storing it */
        char base[4200];
        snprintf(base, sizeof base, "%s/containers", e->root);
        DIR *d = opendir(base);
        struct dirent *de;
        while (r >= 0 && d && (de = readdir(d))) {
                if (de->d_name[0] == '.' || strlen(de->d_name) != 64)
                        continue;
                int k = db_get_text(e->db, "SELECT 1 FROM containers WHERE id = ?1", DB_PARAMS(de->d_name),
                                    NULL, NULL);
                if (k != 0)
                        continue;
                r = report_add(rep, "container directory %s has no database row", de->d_name);
                if (r >= 0 && repair) {
                        (void)container_unmount_rootfs(e, de->d_name, NULL);
                        ctr_remove_files(e, de->d_name);
                        rep->repaired++;
                }
        }
        if (d)
                closedir(d);
        if (r >= 0)
                r = check_run_leftovers(e, repair, rep);
        return r < 0 ? ctr_oom(err) : 0;
}
