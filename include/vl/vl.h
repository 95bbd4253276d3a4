/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libvl: everything in one include. See libvl(3). */

#include <vl/json.h>
#include <vl/idl.h>
#include <vl/loop.h>
#include <vl/transport.h>
#include <vl/varlink.h>

#define VL_VERSION_MAJOR 0
#define VL_VERSION_MINOR 1
#define VL_VERSION       "0.1"
