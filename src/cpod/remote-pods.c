/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "remote.h"

const RemoteCommand remote_pod_volume_commands[] = {
        {},
};
