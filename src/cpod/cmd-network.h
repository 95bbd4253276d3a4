/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The "cpod network" command group: connect, create, disconnect, exists, inspect, ls, prune, rm. */

#include "cpod.h"

extern const CliCommand cli_network_commands[];
