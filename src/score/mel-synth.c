/* mel-synth.c — FluidSynth rendering of a melody and libsndfile output.
 *
 * We own the render loop instead of going through a temporary MIDI file or
 * FluidSynth's player: every note-on/off is applied after exactly
 * round(t · rate) frames have been rendered, so timing is as exact as
 * FluidSynth allows, and the synth never starts a thread or opens a device.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mel-synth.h"
#include "mel-export-private.h"
#include "mel-synth-private.h"

#include <fluidsynth.h>
#include <math.h>
#include <sndfile.h>
#include <string.h>

G_DEFINE_QUARK (mel-audio-error-quark, mel_audio_error)

#define INSTALL_HINT \
  "Install a General MIDI SoundFont (Debian/Ubuntu: apt install timgm6mb-soundfont or " \
  "fluid-soundfont-gm), or name one with --soundfont FILE or the MELODIST_SOUNDFONT environment variable"

#define PERCUSSION_CHANNEL 9
#define CLICK_ACCENT_KEY 76 /* GM high wood block */
#define CLICK_KEY 77        /* GM low wood block */
#define RENDER_CHUNK 4096   /* frames between cancellation checks */

void
mel_synth_options_init (MelSynthOptions *options)
{
  g_return_if_fail (options != NULL);
  memset (options, 0, sizeof *options);
  options->soundfont = NULL;
  options->tempo = 0.0;
  options->program = MEL_SYNTH_DEFAULT_PROGRAM;
  options->velocity = 90;
  options->tail = 1.5;
  options->count_in = FALSE;
  options->fade_out = 0.0;
  options->normalize = TRUE;
  options->peak_dbfs = -1.0;
  options->sample_rate = 44100;
  options->channels = 2;
  options->reverb = TRUE;
}

void
mel_audio_free (MelAudio *audio)
{
  if (audio == NULL)
    return;
  g_free (audio->samples);
  g_free (audio);
}

static gint64
frames_for_quarters (double quarters, double tempo, guint rate)
{
  return llround (quarters * 60.0 * rate / tempo);
}

gsize
mel_audio_frame_at (const MelAudio *audio, MelRational time)
{
  g_return_val_if_fail (audio != NULL, 0);
  gint64 f = frames_for_quarters (mel_rational_to_double (time), audio->tempo, audio->sample_rate);
  return audio->music_start_frame + (gsize) MAX (f, 0);
}

/* ---- SoundFont lookup ------------------------------------------------- */

static gboolean
is_regular_file (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

char *
mel_synth_find_soundfont (const char *explicit_path, GError **error)
{
  static const char *const debian[] = {
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
  };
  const char *env = g_getenv ("MELODIST_SOUNDFONT");

  if (explicit_path != NULL && *explicit_path != '\0')
    {
      if (is_regular_file (explicit_path))
        return g_strdup (explicit_path);
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_NO_SOUNDFONT,
                   "The SoundFont '%s' does not exist or is not a file", explicit_path);
      return NULL;
    }
  if (env != NULL && *env != '\0')
    {
      if (is_regular_file (env))
        return g_strdup (env);
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_NO_SOUNDFONT,
                   "MELODIST_SOUNDFONT names '%s', which does not exist or is not a file", env);
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (debian); i++)
    if (is_regular_file (debian[i]))
      return g_strdup (debian[i]);
  if (is_regular_file (MEL_DEFAULT_SOUNDFONT))
    return g_strdup (MEL_DEFAULT_SOUNDFONT);
  g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_NO_SOUNDFONT, "No SoundFont found. %s", INSTALL_HINT);
  return NULL;
}

/* ---- FluidSynth log ------------------------------------------------------ */

/* FluidSynth logs through one process-wide function.  We install ours once
 * and collect the messages of the render running in each thread, so they
 * end up in that render's GError instead of on stderr. */
static void
free_log (gpointer data)
{
  g_string_free (data, TRUE);
}

static GPrivate render_log = G_PRIVATE_INIT (free_log);

static void
log_to_render (int level, const char *message, void *data)
{
  GString *log = g_private_get (&render_log);

  if (log == NULL || message == NULL || level > FLUID_WARN)
    return;
  if (log->len > 0)
    g_string_append (log, "; ");
  g_string_append (log, message);
}

static void
install_log_function (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      fluid_set_log_function (FLUID_PANIC, log_to_render, NULL);
      fluid_set_log_function (FLUID_ERR, log_to_render, NULL);
      fluid_set_log_function (FLUID_WARN, log_to_render, NULL);
      fluid_set_log_function (FLUID_INFO, log_to_render, NULL);
      fluid_set_log_function (FLUID_DBG, log_to_render, NULL);
      g_once_init_leave (&done, 1);
    }
}

static void
log_begin (void)
{
  g_private_replace (&render_log, g_string_new (NULL));
}

/* The messages logged since log_begin(), or "no details". */
static const char *
log_text (void)
{
  GString *log = g_private_get (&render_log);
  return log != NULL && log->len > 0 ? log->str : "no details from FluidSynth";
}

static void
log_end (void)
{
  g_private_replace (&render_log, NULL);
}

/* ---- the synthesizer ----------------------------------------------------- */

static void
set_int_if_known (fluid_settings_t *settings, const char *name, int value)
{
  if (fluid_settings_get_type (settings, name) == FLUID_INT_TYPE)
    fluid_settings_setint (settings, name, value);
}

static void
set_num_if_known (fluid_settings_t *settings, const char *name, double value)
{
  if (fluid_settings_get_type (settings, name) == FLUID_NUM_TYPE)
    fluid_settings_setnum (settings, name, value);
}

static fluid_settings_t *
make_settings (const MelSynthOptions *options)
{
  fluid_settings_t *settings = new_fluid_settings ();

  if (settings == NULL)
    return NULL;
  set_num_if_known (settings, "synth.sample-rate", options->sample_rate);
  set_num_if_known (settings, "synth.gain", 0.5);
  /* Reverb suits a solo flute; chorus adds little to one voice (and
   * another 10–15 % of render time), so it stays off. */
  set_int_if_known (settings, "synth.reverb.active", options->reverb);
  set_int_if_known (settings, "synth.chorus.active", 0);
  /* Load only the samples of the presets we select: a large SoundFont
   * (FluidR3_GM is 141 MB) then opens in a fraction of the time. */
  set_int_if_known (settings, "synth.dynamic-sample-loading", 1);
  /* One thread, no locking, no real-time scheduling, no memory locking:
   * everything runs inside our write calls, in our thread, identically
   * every time.  We never create audio or MIDI drivers, a shell or a
   * server; these keep their defaults from reaching for devices anyway. */
  set_int_if_known (settings, "synth.cpu-cores", 1);
  set_int_if_known (settings, "synth.threadsafe-api", 0);
  set_int_if_known (settings, "synth.lock-memory", 0);
  set_int_if_known (settings, "synth.verbose", 0);
  set_int_if_known (settings, "synth.ladspa.active", 0);
  set_int_if_known (settings, "synth.audio-channels", 1);
  set_int_if_known (settings, "synth.audio-groups", 1);
  set_int_if_known (settings, "audio.realtime-prio", 0);
  set_int_if_known (settings, "midi.realtime-prio", 0);
  set_int_if_known (settings, "midi.autoconnect", 0);
  set_int_if_known (settings, "shell.port", 0);
  set_int_if_known (settings, "player.reset-synth", 0);
  return settings;
}

typedef struct
{
  fluid_settings_t *settings;
  fluid_synth_t *synth;
} Synth;

static void
synth_free (Synth *s)
{
  if (s == NULL)
    return;
  if (s->synth != NULL)
    delete_fluid_synth (s->synth);
  if (s->settings != NULL)
    delete_fluid_settings (s->settings);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Synth, synth_free)

/* ---- SoundFont check ------------------------------------------------------ */

/* FluidSynth would reject a damaged file too, but its fallback loader
 * (libinstpatch) reports that through g_critical, which must not reach a
 * user's terminal, let alone abort a test: so we look first. */
static gboolean
check_soundfont (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, NULL);
  g_autoptr (GFileInfo) info = NULL;
  const char *problem;

  if (in == NULL)
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_BAD_SOUNDFONT, "Cannot read the SoundFont '%s'", path);
      return FALSE;
    }
  info = g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, NULL);
  problem = _mel_soundfont_check (G_INPUT_STREAM (in), info != NULL ? g_file_info_get_size (info) : 0);
  if (problem != NULL)
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_BAD_SOUNDFONT, "Cannot use the SoundFont '%s': %s. %s",
                   path, problem, INSTALL_HINT);
      return FALSE;
    }
  return TRUE;
}

static Synth *
synth_new (const char *soundfont, const MelSynthOptions *options, GError **error)
{
  g_autoptr (Synth) s = NULL;
  int sfont_id;

  if (!check_soundfont (soundfont, error))
    return NULL;
  s = g_new0 (Synth, 1);
  s->settings = make_settings (options);
  if (s->settings != NULL)
    s->synth = new_fluid_synth (s->settings);
  if (s->synth == NULL)
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_SYNTH, "Cannot start FluidSynth: %s", log_text ());
      return NULL;
    }
  sfont_id = fluid_synth_sfload (s->synth, soundfont, TRUE);
  if (sfont_id == FLUID_FAILED)
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_BAD_SOUNDFONT,
                   "Cannot load the SoundFont '%s' (%s); the file is damaged or not a SoundFont. %s",
                   soundfont, log_text (), INSTALL_HINT);
      return NULL;
    }
  if (fluid_synth_program_select (s->synth, 0, sfont_id, 0, options->program) != FLUID_OK)
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_BAD_SOUNDFONT,
                   "The SoundFont '%s' has no instrument for General MIDI program %d (%s)", soundfont,
                   options->program, log_text ());
      return NULL;
    }
  if (options->count_in)
    {
      /* Channel 10 is the drum kit (bank 128) in General MIDI; a SoundFont
       * without one cannot click, which we report rather than stay silent. */
      if (fluid_synth_program_select (s->synth, PERCUSSION_CHANNEL, sfont_id, 128, 0) != FLUID_OK)
        {
          g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_BAD_SOUNDFONT,
                       "The SoundFont '%s' has no drum kit for the count-in (%s)", soundfont, log_text ());
          return NULL;
        }
    }
  return g_steal_pointer (&s);
}

/* ---- events -------------------------------------------------------------- */

typedef struct
{
  gint64 frame;
  guint8 on;      /* 0 = off (sorted first at equal frames), 1 = on */
  guint8 channel;
  guint8 key;
  guint8 velocity;
} SynthEvent;

static int
compare_events (gconstpointer a, gconstpointer b)
{
  const SynthEvent *x = a, *y = b;

  if (x->frame != y->frame)
    return x->frame < y->frame ? -1 : 1;
  if (x->on != y->on)
    return x->on - y->on;
  return (int) x->key - (int) y->key;
}

static void
add_note (GArray *events, gint64 on, gint64 off, int channel, int key, int velocity)
{
  SynthEvent ev_on = { on, 1, (guint8) channel, (guint8) key, (guint8) velocity };
  SynthEvent ev_off = { off, 0, (guint8) channel, (guint8) key, 0 };

  g_array_append_val (events, ev_on);
  g_array_append_val (events, ev_off);
}

/* One bar of the opening meter in clicks: compound meters click their
 * dotted beats (two in 6/8), others every 1/denominator; four quarters when
 * there is no regular meter.  Returns the bar's length in quarter notes. */
static double
add_count_in (const MelSong *song, GArray *events, double tempo, guint rate, int velocity)
{
  const MelMeter *meter = mel_song_get_meter_at (song, MEL_RATIONAL_ZERO);
  int clicks = 4;
  double beat = 1.0;

  if (meter != NULL && !meter->irregular && meter->numerator > 0 && meter->denominator > 0)
    {
      beat = 4.0 / meter->denominator;
      clicks = meter->numerator;
      if (meter->numerator > 3 && meter->numerator % 3 == 0)
        {
          beat *= 3.0;
          clicks /= 3;
        }
    }
  for (int i = 0; i < clicks; i++)
    {
      gint64 on = frames_for_quarters (i * beat, tempo, rate);
      gint64 off = on + frames_for_quarters (MIN (beat, 0.5) * 0.5, tempo, rate);
      add_note (events, on, off, PERCUSSION_CHANNEL, i == 0 ? CLICK_ACCENT_KEY : CLICK_KEY, velocity);
    }
  return clicks * beat;
}

static gboolean
check_options (const MelSynthOptions *o, GError **error)
{
  const char *bad = NULL;

  if (o->tempo < 0.0 || o->tempo > 1000.0 || isnan (o->tempo))
    bad = "the tempo must lie between 1 and 1000 quarter notes per minute";
  else if (o->program < 0 || o->program > 127)
    bad = "the program must lie between 0 and 127";
  else if (o->velocity < 1 || o->velocity > 127)
    bad = "the velocity must lie between 1 and 127";
  else if (!(o->tail >= 0.0 && o->tail <= 60.0))
    bad = "the tail must lie between 0 and 60 seconds";
  else if (!(o->fade_out >= 0.0 && o->fade_out <= 600.0))
    bad = "the fade-out must lie between 0 and 600 seconds";
  else if (o->sample_rate < 8000 || o->sample_rate > 192000)
    bad = "the sample rate must lie between 8000 and 192000 Hz";
  else if (o->channels != 1 && o->channels != 2)
    bad = "audio must have 1 or 2 channels";
  else if (o->normalize && !(o->peak_dbfs <= 0.0 && o->peak_dbfs >= -60.0))
    bad = "the peak level must lie between -60 and 0 dBFS";
  if (bad != NULL)
    g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_INVALID, "Invalid audio options: %s", bad);
  return bad == NULL;
}

/* Renders @n frames of stereo into @out, checking @cancellable between chunks. */
static gboolean
render_frames (fluid_synth_t *synth, float *out, gint64 n, GCancellable *cancellable, GError **error)
{
  while (n > 0)
    {
      int len = (int) MIN (n, RENDER_CHUNK);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (fluid_synth_write_float (synth, len, out, 0, 2, out, 1, 2) != FLUID_OK)
        {
          g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_SYNTH, "FluidSynth failed to render: %s",
                       log_text ());
          return FALSE;
        }
      out += 2 * (gsize) len;
      n -= len;
    }
  return TRUE;
}

static void
apply_fade_out (float *samples, gsize n_frames, guint channels, gsize fade_frames)
{
  fade_frames = MIN (fade_frames, n_frames);
  for (gsize i = 0; i < fade_frames; i++)
    {
      gsize frame = n_frames - fade_frames + i;
      /* A raised-cosine ramp from 1 to 0 avoids the click of a linear end. */
      float gain = (float) (0.5 * (1.0 + cos (G_PI * (double) (i + 1) / (double) fade_frames)));
      for (guint c = 0; c < channels; c++)
        samples[frame * channels + c] *= gain;
    }
}

static void
normalize_peak (float *samples, gsize n_values, double peak_dbfs)
{
  float peak = 0.0f;

  for (gsize i = 0; i < n_values; i++)
    peak = MAX (peak, fabsf (samples[i]));
  if (peak <= 0.0f)
    return;
  float gain = (float) (pow (10.0, peak_dbfs / 20.0) / peak);
  for (gsize i = 0; i < n_values; i++)
    samples[i] *= gain;
}

MelAudio *
mel_synth_render (const MelSong *song, const MelSynthOptions *options, GCancellable *cancellable, GError **error)
{
  MelSynthOptions defaults;
  g_autofree char *soundfont = NULL;
  g_autoptr (Synth) synth = NULL;
  g_autoptr (GArray) notes = NULL;
  g_autoptr (GArray) events = NULL;
  g_autoptr (MelAudio) audio = NULL;
  g_autofree float *stereo = NULL;
  double tempo, count_in_quarters = 0.0;
  gint64 start, total, pos = 0;

  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    {
      mel_synth_options_init (&defaults);
      options = &defaults;
    }
  if (!check_options (options, error))
    return NULL;
  if (mel_rational_compare (song->duration, MEL_RATIONAL_ZERO) <= 0)
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_EMPTY, "The song '%s' has nothing to play", song->id);
      return NULL;
    }
  soundfont = mel_synth_find_soundfont (options->soundfont, error);
  if (soundfont == NULL)
    return NULL;
  tempo = options->tempo > 0.0 ? options->tempo : mel_export_default_tempo (song);

  install_log_function ();
  log_begin ();
  synth = synth_new (soundfont, options, error);
  if (synth == NULL)
    {
      log_end ();
      return NULL;
    }

  events = g_array_new (FALSE, FALSE, sizeof (SynthEvent));
  if (options->count_in)
    count_in_quarters = add_count_in (song, events, tempo, options->sample_rate, MIN (127, options->velocity + 20));
  start = frames_for_quarters (count_in_quarters, tempo, options->sample_rate);
  notes = _mel_export_sounding_notes (song);
  for (guint i = 0; i < notes->len; i++)
    {
      const MelSoundingNote *n = &g_array_index (notes, MelSoundingNote, i);
      gint64 on = start + frames_for_quarters (mel_rational_to_double (n->onset), tempo, options->sample_rate);
      gint64 off = start + frames_for_quarters (mel_rational_to_double (mel_rational_add (n->onset, n->duration)),
                                                tempo, options->sample_rate);
      if (n->midi < 0 || n->midi > 127 || off <= on)
        continue;
      add_note (events, on, off, 0, n->midi, options->velocity);
    }
  g_array_sort (events, compare_events);

  total = start + frames_for_quarters (mel_rational_to_double (song->duration), tempo, options->sample_rate) +
          llround (options->tail * options->sample_rate);
  stereo = g_try_new0 (float, (gsize) total * 2);
  if (stereo == NULL)
    {
      log_end ();
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_INVALID, "The song '%s' is too long to render", song->id);
      return NULL;
    }

  for (guint i = 0; i <= events->len; i++)
    {
      const SynthEvent *ev = i < events->len ? &g_array_index (events, SynthEvent, i) : NULL;
      gint64 until = ev != NULL ? MIN (ev->frame, total) : total;

      if (until > pos)
        {
          if (!render_frames (synth->synth, stereo + 2 * pos, until - pos, cancellable, error))
            {
              log_end ();
              return NULL;
            }
          pos = until;
        }
      if (ev == NULL)
        break;
      if (ev->on)
        fluid_synth_noteon (synth->synth, ev->channel, ev->key, ev->velocity);
      else
        fluid_synth_noteoff (synth->synth, ev->channel, ev->key);
    }
  log_end ();

  audio = g_new0 (MelAudio, 1);
  audio->n_frames = (gsize) total;
  audio->channels = options->channels;
  audio->sample_rate = options->sample_rate;
  audio->tempo = tempo;
  audio->music_start_frame = (gsize) start;
  if (options->channels == 2)
    audio->samples = g_steal_pointer (&stereo);
  else
    {
      audio->samples = g_new (float, audio->n_frames);
      for (gsize f = 0; f < audio->n_frames; f++)
        audio->samples[f] = 0.5f * (stereo[2 * f] + stereo[2 * f + 1]);
    }
  if (options->fade_out > 0.0)
    apply_fade_out (audio->samples, audio->n_frames, audio->channels,
                    (gsize) llround (options->fade_out * options->sample_rate));
  if (options->normalize)
    normalize_peak (audio->samples, audio->n_frames * audio->channels, options->peak_dbfs);
  return g_steal_pointer (&audio);
}

/* ---- files --------------------------------------------------------------- */

static gboolean
choose_format (const char *path, MelSampleFormat format, int *sf_format, GError **error)
{
  g_autofree char *ext = mel_export_path_extension (path);
  int sub = format == MEL_SAMPLE_FORMAT_PCM24 ? SF_FORMAT_PCM_24
            : format == MEL_SAMPLE_FORMAT_FLOAT ? SF_FORMAT_FLOAT
                                                : SF_FORMAT_PCM_16;

  if (g_str_equal (ext, "wav"))
    *sf_format = SF_FORMAT_WAV | sub;
  else if (g_str_equal (ext, "aiff") || g_str_equal (ext, "aif"))
    *sf_format = SF_FORMAT_AIFF | sub;
  else if (g_str_equal (ext, "flac"))
    {
      if (format == MEL_SAMPLE_FORMAT_FLOAT)
        {
          g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_FORMAT,
                       "FLAC cannot hold float samples; choose 16 or 24 bits for '%s'", path);
          return FALSE;
        }
      *sf_format = SF_FORMAT_FLAC | sub;
    }
  else if (g_str_equal (ext, "ogg") || g_str_equal (ext, "oga"))
    *sf_format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
  else
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_FORMAT,
                   "Unknown audio file type '%s': use .wav, .flac, .ogg or .aiff", path);
      return FALSE;
    }
  return TRUE;
}

gboolean
mel_audio_write_file (const MelAudio *audio, const char *path, MelSampleFormat format, GError **error)
{
  SF_INFO info;
  SNDFILE *file;
  g_autofree char *tmp_path = NULL;
  g_autoptr (GError) local = NULL;
  int sf_format, fd;
  gsize written = 0;

  g_return_val_if_fail (audio != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!choose_format (path, format, &sf_format, error))
    return FALSE;
  memset (&info, 0, sizeof info);
  info.samplerate = (int) audio->sample_rate;
  info.channels = (int) audio->channels;
  info.format = sf_format;
  if (!sf_format_check (&info))
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_FORMAT,
                   "The libsndfile on this system cannot write this format to '%s'", path);
      return FALSE;
    }

  fd = _mel_export_open_temp (path, &tmp_path, &local);
  if (fd < 0)
    {
      g_set_error_literal (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO, local->message);
      return FALSE;
    }
  file = sf_open_fd (fd, SFM_WRITE, &info, SF_FALSE);
  if (file == NULL)
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO, "Cannot write '%s': %s", path, sf_strerror (NULL));
      _mel_export_abandon (fd, tmp_path);
      return FALSE;
    }
  /* Clip rather than wrap, and no PEAK chunk: it carries a time stamp,
   * which would make two renders of the same song differ. */
  sf_command (file, SFC_SET_CLIPPING, NULL, SF_TRUE);
  sf_command (file, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
  while (written < audio->n_frames)
    {
      sf_count_t n = (sf_count_t) MIN (audio->n_frames - written, (gsize) 65536);
      if (sf_writef_float (file, audio->samples + written * audio->channels, n) != n)
        {
          g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO, "Cannot write '%s': %s", path,
                       sf_strerror (file));
          sf_close (file);
          _mel_export_abandon (fd, tmp_path);
          return FALSE;
        }
      written += (gsize) n;
    }
  if (sf_close (file) != 0)
    {
      g_set_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO, "Cannot finish '%s'", path);
      _mel_export_abandon (fd, tmp_path);
      return FALSE;
    }
  if (!_mel_export_commit (fd, tmp_path, path, &local))
    {
      g_set_error_literal (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO, local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
mel_synth_render_file (const MelSong *song, const MelSynthOptions *options, const char *path,
                       MelSampleFormat format, GCancellable *cancellable, GError **error)
{
  g_autoptr (MelAudio) audio = NULL;
  int sf_format;

  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  /* Reject an unknown extension before spending time on the render. */
  if (!choose_format (path, format, &sf_format, error))
    return FALSE;
  audio = mel_synth_render (song, options, cancellable, error);
  if (audio == NULL)
    return FALSE;
  return mel_audio_write_file (audio, path, format, error);
}
