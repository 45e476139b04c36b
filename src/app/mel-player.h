/* mel-player.h — plays a song: renders it to a temporary WAV in a worker
 * (mel-synth) and plays that with GtkMediaFile.
 *
 * One player per window: starting a song stops the one playing.  The
 * "position" property (quarter notes from the start of the song, -1 when
 * nothing plays) is updated about 30 times a second for the score cursor.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "mel-song.h"

G_BEGIN_DECLS

typedef enum
{
  MEL_PLAYER_IDLE,
  MEL_PLAYER_RENDERING,
  MEL_PLAYER_PLAYING,
} MelPlayerState;

#define MEL_TYPE_PLAYER (mel_player_get_type ())
G_DECLARE_FINAL_TYPE (MelPlayer, mel_player, MEL, PLAYER, GObject)

MelPlayer *mel_player_new (void);

/* SoundFont and General MIDI program (0…127) used for the next render.
 * A NULL or empty @soundfont means the build's default. */
void mel_player_set_soundfont (MelPlayer *self, const char *soundfont);
void mel_player_set_program (MelPlayer *self, int program);

/* Renders @song at @tempo quarter notes per minute in a worker thread,
 * then plays it.  Emits "error" (GError *) when rendering fails. */
void mel_player_play (MelPlayer *self, MelSong *song, double tempo);
/* Stops playback or cancels the render. */
void mel_player_stop (MelPlayer *self);

MelPlayerState mel_player_get_state (MelPlayer *self);
/* The song being rendered or played, or NULL (owned by the player). */
MelSong *mel_player_get_song (MelPlayer *self);
/* Position in quarter notes, or -1 when not playing. */
double mel_player_get_position (MelPlayer *self);

/* Renders @song to a WAV file at @path (atomically) with @soundfont and
 * @program: the blocking call the worker makes, for export too.  Call it
 * from a worker thread. */
gboolean mel_player_render_wav (MelSong *song, double tempo, const char *soundfont, int program,
                                const char *path, GCancellable *cancellable, GError **error);

G_END_DECLS
