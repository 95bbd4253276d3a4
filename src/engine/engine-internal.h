/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sqlite3.h>

#include "engine.h"

struct Engine {
        char *root;
        char *runroot;
        char *storage_driver;
        char *registries_conf;
        int root_fd; /* O_PATH|O_DIRECTORY of root */
        sqlite3 *db;
};
