/* mel-application.h — the Melodist application (io.github.melodist.Melodist).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MEL_TYPE_APPLICATION (mel_application_get_type ())
G_DECLARE_FINAL_TYPE (MelApplication, mel_application, MEL, APPLICATION, AdwApplication)

/* A new application.  @flags are added to G_APPLICATION_HANDLES_OPEN
 * (tests pass G_APPLICATION_NON_UNIQUE). */
MelApplication *mel_application_new (GApplicationFlags flags);

/* The application's settings, or NULL when the schema is not installed
 * (then every setting keeps its built-in default).  Owned by the application. */
GSettings *mel_application_get_settings (MelApplication *self);

/* Milliseconds since the application was created (startup timing). */
double mel_application_get_uptime_ms (MelApplication *self);

/* The folder that holds the training runs:
 * $XDG_DATA_HOME/melodist/runs.  Caller frees. */
char *mel_application_dup_runs_dir (void);

/* Worker threads for training when the settings name none: one fewer than
 * the cores, so the interface keeps a core to draw with. */
guint mel_application_default_threads (void);

G_END_DECLS
