/* mel-preferences-window.h — Preferences bound to GSettings: corpus
 * folder, SoundFont, default tempo and instrument, training threads.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MEL_TYPE_PREFERENCES_WINDOW (mel_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (MelPreferencesWindow, mel_preferences_window, MEL, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* A preferences window editing @settings (referenced).  With NULL settings
 * (no schema installed) every row is insensitive. */
GtkWidget *mel_preferences_window_new (GSettings *settings);

G_END_DECLS
