/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod image tag, untag, rm, prune, exists, mount and unmount, and the "cpod image" command group. */
#include <string.h>

#include "cmd-registry.h"
#include "cpod.h"
#include "remote-ext.h"

const CliCommand cli_image_commands[] = {
        {"exists", "[options] IMAGE",
         "Check if an image exists in local storage (or, with --remote, in its registry)", cmd_image_exists,
         NULL},
        {"export", "[options] IMAGE", "Export an image's root filesystem as a tarball (cpod's own)",
         cmd_image_export, NULL},
        {"history", "[options] IMAGE", "Show history of a specified image", cmd_history, NULL},
        {"import", "[options] PATH [REFERENCE]", "Import a tarball to create a filesystem image", cmd_import,
         NULL},
        {"inspect", "[options] IMAGE [IMAGE...]", "Display the configuration of an image", cmd_image_inspect,
         NULL},
        {"list", "[options] [IMAGE]", "List images in local storage", cmd_images, NULL},
        {"load", "[options]", "Load image(s) from a tar archive", cmd_load, NULL},
        {"ls", "[options] [IMAGE]", "List images in local storage", cmd_images, NULL},
        {"mount", "IMAGE [IMAGE...]", "Mount an image's root filesystem", cmd_image_mount, NULL},
        {"prune", "[options]", "Remove unused images", cmd_image_prune, NULL},
        {"rm", "[options] IMAGE [IMAGE...]", "Removes one or more images from local storage", cmd_rmi, NULL},
        {"save", "[options] IMAGE [IMAGE...]", "Save image(s) to an archive", cmd_save, NULL},
        {"tag", "IMAGE TARGET_NAME [TARGET_NAME...]", "Add an additional name to a local image", cmd_tag,
         NULL},
        {"tree", "[options] IMAGE", "Prints layer hierarchy of an image in a tree format", cmd_image_tree,
         NULL},
        {"umount", "[options] IMAGE [IMAGE...]", "Unmount an image's root filesystem", cmd_image_unmount,
         NULL},
        {"unmount", "[options] IMAGE [IMAGE...]", "Unmount an image's root filesystem", cmd_image_unmount,
         NULL},
        {"untag", "IMAGE [NAME...]", "Remove names from a local image", cmd_untag, NULL},
        {},
};

/* Commands whose only option is --help: 0 to go on, else the exit code (-1: help printed). */
static int parse_no_options(Cli *cli, int argc, char **argv, int min, int max) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0)
                if (c == 'h') {
                        cli_command_help(cli, "  -h, --help   Help for this command\n");
                        return -1;
                }
        if (c == -2 || cli_check_args(cli, argc - optind, min, max) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

int cmd_tag(Cli *cli, int argc, char **argv) {
        Engine *e;
        int r;

        r = parse_no_options(cli, argc, argv, 2, INT32_MAX);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        for (int i = optind + 1; i < argc; i++) {
                CpodError err = {};
                r = image_tag(e, argv[optind], argv[i], &err);
                if (r < 0)
                        return r == -ENOENT ? cli_image_error(argv[optind], &err, r)
                                            : cli_engine_error(&err, r);
        }
        return CLI_EXIT_OK;
}

int cmd_untag(Cli *cli, int argc, char **argv) {
        CpodError err = {};
        Engine *e;
        int r;

        r = parse_no_options(cli, argc, argv, 1, INT32_MAX);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (optind + 1 == argc) {
                r = image_untag(e, argv[optind], NULL, &err);
                return r < 0 ? cli_image_error(argv[optind], &err, r) : CLI_EXIT_OK;
        }
        for (int i = optind + 1; i < argc; i++) {
                r = image_untag(e, argv[optind], argv[i], &err);
                if (r < 0)
                        return r == -ENOENT ? cli_image_error(argv[optind], &err, r)
                                            : cli_engine_error(&err, r);
        }
        return CLI_EXIT_OK;
}

int cmd_image_exists(Cli *cli, int argc, char **argv) {
        CpodError err = {};
        Image img = {};
        Engine *e;
        int r;

        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (streq(argv[i], "--remote") || streq(argv[i], "--help") || streq(argv[i], "-h"))
                        return cli_image_exists_remote(cli, argc, argv); /* its help lists every flag */
        r = parse_no_options(cli, argc, argv, 1, 1);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = image_get(e, argv[optind], &img, &err);
        image_done(&img);
        if (r == -ENOENT)
                return CLI_EXIT_FAILURE;
        return r < 0 ? cli_image_error(argv[optind], &err, r) : CLI_EXIT_OK;
}

/* Remove one image by reference, printing podman's "Untagged:" and "Deleted:" lines. */
static int remove_one(Engine *e, const char *ref, bool force, CpodError *err) {
        _cleanup_free_ char *removed = NULL;
        Image before = {}, after = {};
        int r;

        r = image_get(e, ref, &before, err);
        if (r >= 0)
                r = image_remove(e, ref, force, &removed, err);
        if (r >= 0 && !removed && image_get(e, before.id, &after, NULL) >= 0) {
                /* only a name went: print the names that are gone */
                for (size_t i = 0; i < before.n_names; i++) {
                        bool kept = false;
                        for (size_t j = 0; j < after.n_names && !kept; j++)
                                kept = streq(before.names[i], after.names[j]);
                        if (!kept)
                                printf("Untagged: %s\n", before.names[i]);
                }
        } else if (r >= 0) {
                for (size_t i = 0; i < before.n_names; i++)
                        printf("Untagged: %s\n", before.names[i]);
                printf("Deleted: %s\n", removed ?: before.id);
        }
        image_done(&before);
        image_done(&after);
        return r;
}

/* podman's rmi exit codes: 1 when an image was not found, 2 when one is in use, 125 otherwise. */
static int rmi_status(int status, int r) {
        int s = r == -ENOENT ? CLI_EXIT_FAILURE : r == -EBUSY ? CLI_EXIT_IN_USE : CLI_EXIT_ERROR;
        return MAX(status, s);
}

static int remove_all(Engine *e, bool force) {
        CpodError err = {};
        Image *imgs = NULL;
        size_t n = 0;
        int status = CLI_EXIT_OK, r;

        r = image_list(e, &imgs, &n, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        for (size_t i = 0; i < n; i++) {
                cpod_error_clear(&err);
                r = remove_one(e, imgs[i].id, force, &err);
                if (r < 0 && r != -ENOENT) { /* gone already: removed with a sibling */
                        cli_image_error(imgs[i].id, &err, r);
                        status = rmi_status(status, r);
                }
        }
        image_array_free(imgs, n);
        return status;
}

static const char rmi_options[] = "  -a, --all     Remove all images\n"
                                  "  -f, --force   Force Removal of the image\n"
                                  "  -i, --ignore  Ignore errors if a specified image does not exist\n";

int cmd_rmi(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"ignore", no_argument, NULL, 'i'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool all = false, force = false, ignore = false;
        int c, status = CLI_EXIT_OK;
        Engine *e;

        while ((c = cli_getopt(cli, argc, argv, "afih", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, rmi_options);
                all = all || c == 'a';
                force = force || c == 'f';
                ignore = ignore || c == 'i';
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (all && optind < argc)
                return cli_error(CLI_EXIT_ERROR,
                                 "when using the --all switch, you may not pass any images names or IDs");
        if (!all && optind >= argc)
                return cli_error(CLI_EXIT_ERROR, "image name or ID must be specified");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (all)
                return remove_all(e, force);
        for (int i = optind; i < argc; i++) {
                CpodError err = {};
                int r = remove_one(e, argv[i], force, &err);
                if (r == -ENOENT && ignore)
                        continue;
                if (r < 0) {
                        cli_image_error(argv[i], &err, r);
                        status = rmi_status(status, r);
                }
        }
        return status;
}

static const char prune_options[] =
        "  -a, --all              Remove all images not in use by containers, not just dangling ones\n"
        "      --filter strings   Provide filter values (only the empty set is supported)\n"
        "  -f, --force            Do not prompt for confirmation\n";

int cmd_image_prune(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"filter", required_argument, NULL, 'F'},
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool all = false, force = false;
        CpodError err = {};
        char **ids = NULL;
        size_t n = 0;
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "afh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, prune_options);
                if (c == 'F')
                        return cli_error(CLI_EXIT_ERROR, "unsupported image filter \"%s\"", optarg);
                all = all || c == 'a';
                force = force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!force &&
            !cli_confirm(all ? "WARNING! This command removes all images without at least one "
                               "container associated with them.\nAre you sure you want to continue?"
                             : "WARNING! This command removes all dangling images.\nAre you sure you "
                               "want to continue?"))
                return CLI_EXIT_OK;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = image_prune(e, all, &ids, &n, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        for (size_t i = 0; i < n; i++) {
                puts(ids[i]);
                free(ids[i]);
        }
        free(ids);
        return CLI_EXIT_OK;
}

int cmd_image_mount(Cli *cli, int argc, char **argv) {
        Engine *e;
        int r;

        r = parse_no_options(cli, argc, argv, 1, INT32_MAX);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *path = NULL;
                CpodError err = {};
                r = image_mount(e, argv[i], &path, &err);
                if (r < 0)
                        return cli_image_error(argv[i], &err, r);
                puts(path);
        }
        return CLI_EXIT_OK;
}

/* Unmount one image; prints its ID when something was released. */
static int unmount_one(Engine *e, const char *ref, bool force, bool quiet_missing) {
        CpodError err = {};
        Image img = {};
        int r;

        r = image_get(e, ref, &img, &err);
        if (r >= 0)
                r = image_unmount(e, ref, force, &err);
        if (r >= 0)
                puts(img.id);
        else if (!quiet_missing)
                cli_image_error(ref, &err, r);
        image_done(&img);
        return r;
}

int cli_image_unmount_args(Cli *cli, int argc, char **argv, bool *ret_all, bool *ret_force) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool all = false, force = false;
        int c;

        while ((c = cli_getopt(cli, argc, argv, "afh", options)) >= 0) {
                if (c == 'h') {
                        cli_command_help(cli, "  -a, --all     Unmount all of the currently mounted images\n"
                                              "  -f, --force   Force the complete unmount of the "
                                              "specified mounted images\n");
                        return -1;
                }
                all = all || c == 'a';
                force = force || c == 'f';
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (all == (optind < argc))
                return cli_error(CLI_EXIT_ERROR, all ? "when using the --all switch, you may not pass any "
                                                       "image names or IDs"
                                                     : "image name or ID must be specified");
        *ret_all = all;
        *ret_force = force;
        return 0;
}

int cmd_image_unmount(Cli *cli, int argc, char **argv) {
        bool all, force;
        int status = CLI_EXIT_OK;
        Engine *e;

        int r = cli_image_unmount_args(cli, argc, argv, &all, &force);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (all) {
                CpodError err = {};
                Image *imgs = NULL;
                size_t n = 0;
                r = image_list(e, &imgs, &n, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                /* images that are not mounted fail quietly: only released ones are printed */
                for (size_t i = 0; i < n; i++)
                        (void)unmount_one(e, imgs[i].id, true, true);
                image_array_free(imgs, n);
                return CLI_EXIT_OK;
        }
        for (int i = optind; i < argc; i++)
                if (unmount_one(e, argv[i], force, false) < 0)
                        status = CLI_EXIT_ERROR;
        return status;
}
