/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests.h"

TEST(placeholder) {
        ok(1, "placeholder");
}

TESTS_MAIN
