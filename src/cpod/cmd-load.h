/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by cpod load, save and import in local (cmd-load.c) and remote mode (remote-images.c). */

#include "cpod.h"

/* Copy standard input to a new temporary file in $TMPDIR or /var/tmp (archives need random access and
 * remote transfers a length); *ret_path is malloc'ed, the caller unlinks it. */
int cli_stdin_to_file(char **ret_path, CpodError *err);
/* Print "Loaded image: NAME" for each name (an ID gets "sha256:"), freeing names and the array. */
void cli_print_loaded(char **names, size_t n);
/* "docker-archive", "oci-archive" or "oci-dir"; -EINVAL otherwise. */
int cli_parse_save_format(const char *s, ImageFormat *ret);
/* save's options, parsed and checked alike in both modes (the images are argv[optind..]). */
typedef struct CliSaveArgs {
        ImageFormat format;
        const char *format_name, *output; /* output NULL: standard output */
} CliSaveArgs;
/* 0 to go on; else the exit code to return (-1: help printed, exit 0). help NULL: local mode's. */
int cli_save_args(Cli *cli, int argc, char **argv, int (*help)(Cli *cli, int argc, char **argv),
                  CliSaveArgs *ret);
/* The option lines of load's help. */
extern const char cli_load_options[];
