/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cpod-varlink-dev: `cpod varlink` as a program of its own, for tests. */

#include "service.h"

int main(int argc, char **argv) {
        return service_main(argc, argv);
}
