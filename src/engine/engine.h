/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The engine: cpod's capabilities as C functions, shared by the CLI (local
 * mode) and the Varlink service. It knows nothing of Varlink or of output
 * formats.
 *
 * Storage (DESIGN.md §3): <root>/cpod.db (SQLite state), <root>/blobs/sha256/
 * (manifests, configs, compressed layer blobs), <root>/layers/<id>/diff
 * (extracted layers), <root>/tmp/ (staging, same filesystem for renames).
 * <runroot> holds locks and mount state.
 */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct Engine Engine;

typedef struct EngineOptions {
        const char *root;            /* default /var/lib/cpod, or $XDG_DATA_HOME/cpod when not root */
        const char *runroot;         /* default /run/cpod, or $XDG_RUNTIME_DIR/cpod */
        const char *storage_driver;  /* "overlay" (default) or "vfs" */
        const char *registries_conf; /* default /etc/containers/registries.conf (+ .d) */
} EngineOptions;

int engine_open(const EngineOptions *o, Engine **ret, CpodError *err);
Engine *engine_close(Engine *e);

const char *engine_root(Engine *e);
const char *engine_runroot(Engine *e);
const char *engine_storage_driver(Engine *e);

/* Take the store for exclusive use, for repairs and resets that delete files
 * no row names yet: -EBUSY when another cpod process has it open. Every
 * engine holds it shared; engine_unlock_exclusive returns to that. */
int engine_lock_exclusive(Engine *e, CpodError *err);
void engine_unlock_exclusive(Engine *e);

/* The store's garbage-collection lock (<root>/gc.lock). Writers that add
 * blobs or layers hold it shared (engine_gc_hold, idempotent) from before
 * their first blob until their image is recorded (engine_gc_release, or
 * engine_close). Deleting blobs or layers that no row names needs it
 * exclusively (blocking until writers are done; drops a shared hold first),
 * re-checking references under it. Never call these inside a database
 * transaction. */
int engine_gc_hold(Engine *e, CpodError *err);
void engine_gc_release(Engine *e);
int engine_gc_exclusive(Engine *e, CpodError *err);
void engine_gc_exclusive_end(Engine *e);

/* Default paths for the current user (malloc'ed into *ret). */
int engine_default_root(char **ret);
int engine_default_runroot(char **ret);
