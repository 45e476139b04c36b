/* mel-synth.h — a melody as sound: FluidSynth driven from the song's events
 * at sample-exact frame positions, into a float buffer or an audio file.
 *
 * Threads: every function here may run in any thread, and a render creates,
 * uses and frees its own synthesizer in the calling thread (FluidSynth's
 * write functions must stay in one thread).  Run long renders in a worker
 * thread and cancel them with the GCancellable.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_AUDIO_ERROR (mel_audio_error_quark ())
GQuark mel_audio_error_quark (void);

typedef enum
{
  MEL_AUDIO_ERROR_NO_SOUNDFONT,  /* none found, or the named file does not exist */
  MEL_AUDIO_ERROR_BAD_SOUNDFONT, /* FluidSynth cannot load it, or it lacks the instrument */
  MEL_AUDIO_ERROR_SYNTH,         /* FluidSynth failed while rendering */
  MEL_AUDIO_ERROR_INVALID,       /* an option is out of range */
  MEL_AUDIO_ERROR_FORMAT,        /* unknown extension, or libsndfile cannot write it */
  MEL_AUDIO_ERROR_IO,            /* the file could not be written */
  MEL_AUDIO_ERROR_EMPTY,         /* the song has no length */
} MelAudioError;

/* Sample format of a written file (ignored for OGG Vorbis). */
typedef enum
{
  MEL_SAMPLE_FORMAT_PCM16,
  MEL_SAMPLE_FORMAT_PCM24,
  MEL_SAMPLE_FORMAT_FLOAT,
} MelSampleFormat;

#define MEL_SYNTH_DEFAULT_PROGRAM 73 /* General MIDI flute (0-based program number) */

typedef struct
{
  /* SoundFont file; NULL or "" to look one up (see mel_synth_find_soundfont).
   * Borrowed: must stay valid during the call. */
  const char *soundfont;
  double tempo;        /* quarter notes per minute; 0 = mel_export_default_tempo() */
  int program;         /* General MIDI program 0…127 as sent in a program change */
  int velocity;        /* 1…127 */
  double tail;         /* seconds rendered after the song ends (release, reverb) */
  gboolean count_in;   /* one bar of clicks on the percussion channel first */
  double fade_out;     /* seconds of fade at the very end; 0 for none */
  gboolean normalize;  /* scale so the peak is exactly peak_dbfs */
  double peak_dbfs;    /* target peak for normalize, e.g. -1.0 */
  guint sample_rate;   /* 8000…192000; 44100 by default */
  guint channels;      /* 1 (mono) or 2 (stereo) */
  gboolean reverb;     /* FluidSynth's reverb (deterministic; chorus stays off) */
} MelSynthOptions;

/* Fills @options with the defaults: tempo 0 (from the meter), program 73
 * (flute), velocity 90, tail 1.5 s, no count-in, no fade, normalize to
 * -1 dBFS, 44100 Hz, stereo, reverb on. */
void mel_synth_options_init (MelSynthOptions *options);

/* Rendered sound: interleaved float samples in -1…1. */
typedef struct
{
  float *samples;          /* n_frames * channels values, owned */
  gsize n_frames;
  guint channels;
  guint sample_rate;
  double tempo;            /* quarter notes per minute that were used */
  gsize music_start_frame; /* frame of the song's time 0 (after a count-in) */
} MelAudio;

void mel_audio_free (MelAudio *audio);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelAudio, mel_audio_free)

/* Frame at which song time @time (quarter notes) sounds in @audio;
 * for a playhead or to map a click on the waveform back to a note. */
gsize mel_audio_frame_at (const MelAudio *audio, MelRational time);

/* The SoundFont to use: @explicit_path when not NULL/empty, else
 * $MELODIST_SOUNDFONT, else Debian's TimGM6mb.sf2 or FluidR3_GM.sf2 in
 * /usr/share/sounds/sf2, else the build's MEL_DEFAULT_SOUNDFONT.  Returns
 * a newly allocated path, or NULL with MEL_AUDIO_ERROR_NO_SOUNDFONT and a
 * message that says what to install or set. */
char *mel_synth_find_soundfont (const char *explicit_path, GError **error);

/* Renders @song with @options (NULL for the defaults).  Note-on and
 * note-off happen at frame round(t · 60 · rate / tempo) of each event
 * (tied notes sound as one); FluidSynth applies them at its next 64-frame
 * block, so onsets are late by at most 63 frames (1.4 ms at 44.1 kHz).
 * The result has music_start_frame + frames(song duration) + frames(tail)
 * frames.  Same input, same output, bit for bit.  Returns a new MelAudio
 * (free with mel_audio_free) or NULL with @error set (MEL_AUDIO_ERROR, or
 * G_IO_ERROR_CANCELLED). */
MelAudio *mel_synth_render (const MelSong *song, const MelSynthOptions *options,
                            GCancellable *cancellable, GError **error);

/* Writes @audio to @path atomically (temporary file + rename; nothing is
 * left behind on failure).  The container comes from the extension: .wav,
 * .flac, .ogg/.oga (Vorbis), .aiff/.aif; @format chooses 16-bit, 24-bit or
 * float samples where the container allows it (FLAC has no float).
 * Returns FALSE with MEL_AUDIO_ERROR_FORMAT or MEL_AUDIO_ERROR_IO. */
gboolean mel_audio_write_file (const MelAudio *audio, const char *path, MelSampleFormat format,
                               GError **error);

/* mel_synth_render() followed by mel_audio_write_file(). */
gboolean mel_synth_render_file (const MelSong *song, const MelSynthOptions *options, const char *path,
                                MelSampleFormat format, GCancellable *cancellable, GError **error);

G_END_DECLS
