/* test-synth.c — FluidSynth rendering and audio files, checked on the signal.
 *
 * Every test that needs sound skips with a message when no SoundFont is
 * installed (apt install timgm6mb-soundfont, or set MELODIST_SOUNDFONT).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-synth.h"
#include "mel-export.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sndfile.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- building test songs ------------------------------------------------ */

typedef struct
{
  int num, den; /* duration in quarter notes */
  int midi;     /* -1 = rest */
  guint8 tie;
} Note;

static MelSong *
build_song (int meter_num, int meter_den, const Note *notes, guint n)
{
  MelSong *song = mel_song_new ("TEST");
  MelMeter meter = { MEL_RATIONAL_ZERO, meter_num, meter_den, FALSE };
  MelRational t = MEL_RATIONAL_ZERO;

  mel_song_set_title (song, "Test melody");
  mel_song_add_meter (song, &meter);
  for (guint i = 0; i < n; i++)
    {
      MelEvent ev = { 0 };
      ev.onset = t;
      ev.duration = mel_rational_new (notes[i].num, notes[i].den);
      ev.midi = (gint16) notes[i].midi;
      if (notes[i].midi >= 0)
        ev.pitch = mel_pitch_from_midi (notes[i].midi, TRUE);
      ev.tie = notes[i].tie;
      mel_song_add_event (song, &ev);
      t = mel_rational_add (t, ev.duration);
    }
  return song;
}

static gboolean
require_soundfont (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = mel_synth_find_soundfont (NULL, &error);

  if (path == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("no SoundFont to render with (%s)", error->message);
      g_test_skip (msg);
      return FALSE;
    }
  return TRUE;
}

static MelAudio *
render (const MelSong *song, const MelSynthOptions *options)
{
  g_autoptr (GError) error = NULL;
  MelAudio *audio = mel_synth_render (song, options, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (audio);
  return audio;
}

/* Envelope: RMS over 2 ms windows every 1 ms (window i starts at
 * frame round(i · rate / 1000)). */
static GArray *
envelope_ms (const MelAudio *audio)
{
  GArray *env = g_array_new (FALSE, FALSE, sizeof (double));
  gsize win = audio->sample_rate / 500;

  for (gsize i = 0;; i++)
    {
      gsize start = (gsize) llround ((double) i * audio->sample_rate / 1000.0);
      if (start + win > audio->n_frames)
        break;
      double sum = 0.0;
      for (gsize f = start; f < start + win; f++)
        for (guint c = 0; c < audio->channels; c++)
          {
            double x = audio->samples[f * audio->channels + c];
            sum += x * x;
          }
      double rms = sqrt (sum / (double) (win * audio->channels));
      g_array_append_val (env, rms);
    }
  return env;
}

/* Onsets (ms) where the envelope rises above -50 dB (re its peak) after
 * at least 50 ms below -60 dB: the start of each note's attack. */
static GArray *
find_onsets_ms (const MelAudio *audio)
{
  g_autoptr (GArray) env = envelope_ms (audio);
  GArray *onsets = g_array_new (FALSE, FALSE, sizeof (double));
  double peak = 0.0;
  int quiet = 1000;

  for (guint i = 0; i < env->len; i++)
    peak = MAX (peak, g_array_index (env, double, i));
  double on_level = peak * pow (10.0, -50.0 / 20.0);
  double off_level = peak * pow (10.0, -60.0 / 20.0);
  for (guint i = 0; i < env->len; i++)
    {
      double e = g_array_index (env, double, i);
      if (e < off_level)
        quiet++;
      else if (e >= on_level)
        {
          if (quiet >= 50)
            {
              double ms = (double) i;
              g_array_append_val (onsets, ms);
            }
          quiet = 0;
        }
    }
  return onsets;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_duration (void)
{
  static const Note notes[] = { { 1, 1, 67 }, { 1, 2, 69 }, { 1, 2, 71 }, { 2, 1, 72 }, { 1, 3, 74 }, { 1, 3, 72 }, { 1, 3, 71 }, { 3, 1, 69 } };
  g_autoptr (MelSong) song = build_song (4, 4, notes, G_N_ELEMENTS (notes));
  MelSynthOptions options;

  if (!require_soundfont ())
    return;
  mel_synth_options_init (&options);
  options.tempo = 96.0;
  options.tail = 0.75;
  for (guint rate_i = 0; rate_i < 3; rate_i++)
    {
      static const guint rates[] = { 22050, 44100, 48000 };
      g_autoptr (MelAudio) audio = NULL;
      options.sample_rate = rates[rate_i];
      audio = render (song, &options);
      /* 8 quarters at 96 per minute = 5 s, plus the 0.75 s tail. */
      double seconds = (double) audio->n_frames / audio->sample_rate;
      g_assert_cmpfloat (fabs (seconds - 5.75), <, 0.001);
      g_assert_cmpuint (audio->sample_rate, ==, rates[rate_i]);
      g_assert_cmpuint (audio->channels, ==, 2);
      g_assert_cmpfloat (audio->tempo, ==, 96.0);
    }
}

static void
test_onsets (void)
{
  /* Notes separated by long rests, one tied pair (one onset), a triplet. */
  static const Note notes[] = {
    { 1, 2, 72 }, { 7, 2, -1 },
    { 1, 1, 67, MEL_TIE_START }, { 1, 1, 67, MEL_TIE_STOP }, { 2, 1, -1 },
    { 1, 3, 74 }, { 11, 3, -1 },
    { 1, 2, 60 }, { 7, 2, -1 },
  };
  g_autoptr (MelSong) song = build_song (4, 4, notes, G_N_ELEMENTS (notes));
  static const double expected_quarters[] = { 0, 4, 8, 12 };
  MelSynthOptions options;
  g_autoptr (MelAudio) audio = NULL;
  g_autoptr (GArray) onsets = NULL;

  if (!require_soundfont ())
    return;
  mel_synth_options_init (&options);
  options.tempo = 120.0;
  audio = render (song, &options);
  onsets = find_onsets_ms (audio);
  g_assert_cmpuint (onsets->len, ==, G_N_ELEMENTS (expected_quarters));
  for (guint i = 0; i < onsets->len; i++)
    {
      double expected_ms = expected_quarters[i] * 500.0;
      double found = g_array_index (onsets, double, i);
      g_test_message ("onset %u: expected %.1f ms, found %.1f ms", i, expected_ms, found);
      g_assert_cmpfloat (fabs (found - expected_ms), <=, 10.0);
    }
}

/* Fundamental by autocorrelation with parabolic interpolation. */
static double
fundamental_hz (const MelAudio *audio, gsize from, gsize n)
{
  g_autofree double *x = g_new (double, n);
  int min_lag = (int) (audio->sample_rate / 1000), max_lag = (int) (audio->sample_rate / 100);
  g_autofree double *r = g_new0 (double, max_lag + 2);
  int best = -1;

  for (gsize i = 0; i < n; i++)
    {
      double sum = 0;
      for (guint c = 0; c < audio->channels; c++)
        sum += audio->samples[(from + i) * audio->channels + c];
      x[i] = sum;
    }
  for (int lag = 0; lag <= max_lag + 1; lag++)
    {
      double s = 0;
      for (gsize i = 0; i + (gsize) lag < n; i++)
        s += x[i] * x[i + lag];
      r[lag] = s / (double) (n - (gsize) lag);
    }
  /* The first lag after the first dip whose correlation is near the best. */
  double top = 0;
  for (int lag = min_lag; lag <= max_lag; lag++)
    top = MAX (top, r[lag]);
  for (int lag = min_lag; lag <= max_lag; lag++)
    if (r[lag] > 0.9 * top && r[lag] >= r[lag - 1] && r[lag] >= r[lag + 1])
      {
        best = lag;
        break;
      }
  g_assert_cmpint (best, >, 0);
  double a = r[best - 1], b = r[best], c = r[best + 1];
  double shift = 0.5 * (a - c) / (a - 2 * b + c);
  return audio->sample_rate / (best + shift);
}

/* The estimator itself, on a pure tone with overtones. */
static void
test_pitch_estimator (void)
{
  MelAudio tone = { 0 };
  g_autofree float *samples = g_new (float, 44100);

  tone.samples = samples;
  tone.n_frames = 44100;
  tone.channels = 1;
  tone.sample_rate = 44100;
  for (int i = 0; i < 44100; i++)
    {
      double t = i / 44100.0;
      samples[i] = (float) (0.5 * sin (2 * G_PI * 440.0 * t) + 0.3 * sin (2 * G_PI * 880.0 * t + 1.0) +
                            0.2 * sin (2 * G_PI * 1320.0 * t + 2.0));
    }
  double hz = fundamental_hz (&tone, 0, 22050);
  g_test_message ("synthetic 440 Hz estimated as %.4f Hz", hz);
  g_assert_cmpfloat (fabs (1200.0 * log2 (hz / 440.0)), <, 0.5);
}

/* The fundamental of a rendered A4 is 440 Hz at every sample rate.  We
 * check the acoustic grand piano (program 0): its samples are tuned
 * within a cent in TimGM6mb and FluidR3_GM, while some other instruments'
 * samples are themselves off (TimGM6mb's flute sounds 14 cents sharp),
 * which says nothing about our rendering. */
static void
test_a4_pitch (void)
{
  static const Note notes[] = { { 4, 1, 69 } };
  static const guint rates[] = { 22050, 44100, 48000 };
  g_autoptr (MelSong) song = build_song (4, 4, notes, 1);
  MelSynthOptions options;

  if (!require_soundfont ())
    return;
  mel_synth_options_init (&options);
  options.tempo = 60.0; /* 4 s */
  options.reverb = FALSE;
  options.program = 0;
  for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
    {
      g_autoptr (MelAudio) audio = NULL;
      options.sample_rate = rates[i];
      audio = render (song, &options);
      double hz = fundamental_hz (audio, audio->sample_rate, audio->sample_rate / 2);
      double cents = 1200.0 * log2 (hz / 440.0);
      g_test_message ("%u Hz: A4 at %.3f Hz (%+.2f cents)", rates[i], hz, cents);
      g_assert_cmpfloat (fabs (cents), <, 5.0);
    }
}

static double
peak_between (const MelAudio *audio, double from_s, double to_s)
{
  gsize a = (gsize) (from_s * audio->sample_rate), b = (gsize) (to_s * audio->sample_rate);
  double peak = 0;

  for (gsize f = a; f < b && f < audio->n_frames; f++)
    for (guint c = 0; c < audio->channels; c++)
      peak = MAX (peak, fabs (audio->samples[f * audio->channels + c]));
  return peak;
}

static void
test_rests_silent (void)
{
  /* At 120 per minute: note 0–1 s, rest 1–4 s, note 4–5 s. */
  static const Note notes[] = { { 2, 1, 72 }, { 6, 1, -1 }, { 2, 1, 76 } };
  g_autoptr (MelSong) song = build_song (4, 4, notes, G_N_ELEMENTS (notes));
  MelSynthOptions options;
  g_autoptr (MelAudio) audio = NULL;

  if (!require_soundfont ())
    return;
  mel_synth_options_init (&options);
  options.tempo = 120.0;
  audio = render (song, &options);
  double loud = peak_between (audio, 0.2, 0.9);
  double rest = peak_between (audio, 2.5, 4.0);
  g_test_message ("peak in the note %.4f, in the rest's second half %.6f", loud, rest);
  g_assert_cmpfloat (loud, >, 0.5);
  /* -60 dBFS: the release and the reverb have died away. */
  g_assert_cmpfloat (rest, <, 0.001);
  /* Normalised: the overall peak is exactly -1 dBFS. */
  g_assert_cmpfloat (fabs (peak_between (audio, 0, 10) - pow (10.0, -1.0 / 20.0)), <, 1e-5);
}

static gboolean
files_equal (const char *a, const char *b)
{
  g_autofree char *x = NULL, *y = NULL;
  gsize nx, ny;

  g_assert_true (g_file_get_contents (a, &x, &nx, NULL));
  g_assert_true (g_file_get_contents (b, &y, &ny, NULL));
  return nx == ny && memcmp (x, y, nx) == 0;
}

static void
test_deterministic (void)
{
  static const Note notes[] = { { 1, 1, 67 }, { 1, 2, 69 }, { 1, 2, 71 }, { 1, 3, 72 }, { 1, 3, 74 }, { 1, 3, 76 }, { 1, 1, -1 }, { 2, 1, 79 } };
  g_autoptr (MelSong) song = build_song (3, 4, notes, G_N_ELEMENTS (notes));
  g_autofree char *dir = g_dir_make_tmp ("mel-synth-XXXXXX", NULL);
  MelSynthOptions options;

  if (!require_soundfont ())
    return;
  mel_synth_options_init (&options);
  options.count_in = TRUE;
  options.fade_out = 0.5;
  for (int format = MEL_SAMPLE_FORMAT_PCM16; format <= MEL_SAMPLE_FORMAT_FLOAT; format++)
    {
      g_autofree char *a = g_strdup_printf ("%s/a%d.wav", dir, format);
      g_autofree char *b = g_strdup_printf ("%s/b%d.wav", dir, format);
      g_autoptr (GError) error = NULL;
      g_assert_true (mel_synth_render_file (song, &options, a, format, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (mel_synth_render_file (song, &options, b, format, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (files_equal (a, b));
      g_unlink (a);
      g_unlink (b);
    }
  g_rmdir (dir);
}

static void
check_file (const char *path, int major, int minor, int channels, int rate, sf_count_t frames)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open (path, SFM_READ, &info);

  g_assert_nonnull (f);
  g_assert_cmpint (info.format & SF_FORMAT_TYPEMASK, ==, major);
  if (minor != 0)
    g_assert_cmpint (info.format & SF_FORMAT_SUBMASK, ==, minor);
  g_assert_cmpint (info.channels, ==, channels);
  g_assert_cmpint (info.samplerate, ==, rate);
  g_assert_cmpint (info.frames, ==, frames);
  sf_close (f);
}

static void
test_formats (void)
{
  static const Note notes[] = { { 1, 1, 62 }, { 1, 1, 64 }, { 2, 1, 66 } };
  g_autoptr (MelSong) song = build_song (4, 4, notes, G_N_ELEMENTS (notes));
  g_autofree char *dir = g_dir_make_tmp ("mel-synth-XXXXXX", NULL);
  MelSynthOptions options;
  g_autoptr (MelAudio) stereo = NULL, mono = NULL;
  g_autoptr (GError) error = NULL;
  struct
  {
    const char *name;
    MelSampleFormat format;
    int major, minor;
  } cases[] = {
    { "s16.wav", MEL_SAMPLE_FORMAT_PCM16, SF_FORMAT_WAV, SF_FORMAT_PCM_16 },
    { "s24.wav", MEL_SAMPLE_FORMAT_PCM24, SF_FORMAT_WAV, SF_FORMAT_PCM_24 },
    { "f32.wav", MEL_SAMPLE_FORMAT_FLOAT, SF_FORMAT_WAV, SF_FORMAT_FLOAT },
    { "s16.flac", MEL_SAMPLE_FORMAT_PCM16, SF_FORMAT_FLAC, SF_FORMAT_PCM_16 },
    { "s24.FLAC", MEL_SAMPLE_FORMAT_PCM24, SF_FORMAT_FLAC, SF_FORMAT_PCM_24 },
    { "v.ogg", MEL_SAMPLE_FORMAT_PCM16, SF_FORMAT_OGG, 0 },
    { "s16.aiff", MEL_SAMPLE_FORMAT_PCM16, SF_FORMAT_AIFF, SF_FORMAT_PCM_16 },
  };

  if (!require_soundfont ())
    return;
  mel_synth_options_init (&options);
  options.sample_rate = 48000;
  stereo = render (song, &options);
  options.channels = 1;
  options.sample_rate = 22050;
  mono = render (song, &options);
  g_assert_cmpuint (mono->channels, ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_build_filename (dir, cases[i].name, NULL);
      for (int m = 0; m < 2; m++)
        {
          const MelAudio *audio = m == 0 ? stereo : mono;
          SF_INFO probe = { 0 };
          probe.channels = (int) audio->channels;
          probe.samplerate = (int) audio->sample_rate;
          probe.format = cases[i].major | (cases[i].minor != 0 ? cases[i].minor : SF_FORMAT_VORBIS);
          if (!sf_format_check (&probe))
            {
              g_test_message ("libsndfile cannot write %s here; skipped", cases[i].name);
              continue;
            }
          g_assert_true (mel_audio_write_file (audio, path, cases[i].format, &error));
          g_assert_no_error (error);
          check_file (path, cases[i].major, cases[i].minor, (int) audio->channels, (int) audio->sample_rate,
                      (sf_count_t) audio->n_frames);
          g_unlink (path);
        }
    }

  /* Unknown extension, float FLAC. */
  g_autofree char *bad = g_build_filename (dir, "x.mp4", NULL);
  g_assert_false (mel_audio_write_file (stereo, bad, MEL_SAMPLE_FORMAT_PCM16, &error));
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_FORMAT);
  g_clear_error (&error);
  g_autofree char *flac = g_build_filename (dir, "x.flac", NULL);
  g_assert_false (mel_audio_write_file (stereo, flac, MEL_SAMPLE_FORMAT_FLOAT, &error));
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_false (g_file_test (flac, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static MelAudio *
tiny_audio (void)
{
  MelAudio *audio = g_new0 (MelAudio, 1);

  audio->channels = 2;
  audio->sample_rate = 44100;
  audio->tempo = 100;
  audio->n_frames = 44100 * 2;
  audio->samples = g_new0 (float, audio->n_frames * 2);
  for (gsize i = 0; i < audio->n_frames * 2; i++)
    audio->samples[i] = (float) (0.5 * sin ((double) i * 0.03));
  return audio;
}

static void
test_write_errors (void)
{
  g_autoptr (MelAudio) audio = tiny_audio ();
  g_autofree char *dir = g_dir_make_tmp ("mel-synth-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "plain", NULL);
  g_autofree char *under_file = g_build_filename (file, "x.wav", NULL);
  g_autofree char *missing = g_build_filename (dir, "no", "such", "x.wav", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_assert_false (mel_audio_write_file (audio, missing, MEL_SAMPLE_FORMAT_PCM16, &error));
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (mel_audio_write_file (audio, under_file, MEL_SAMPLE_FORMAT_PCM16, &error));
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (mel_audio_write_file (audio, dir, MEL_SAMPLE_FORMAT_PCM16, &error));
  g_clear_error (&error);

  if (g_file_test ("/dev/full", G_FILE_TEST_EXISTS))
    {
      /* /dev/full.wav has no extension we know, so go through a symlink
       * named .wav: the target is a device and is written directly. */
      g_autofree char *link = g_build_filename (dir, "full.wav", NULL);
      g_assert_cmpint (symlink ("/dev/full", link), ==, 0);
      g_assert_false (mel_audio_write_file (audio, link, MEL_SAMPLE_FORMAT_PCM16, &error));
      g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
      /* The device is still a device, nothing else was created. */
      g_assert_false (g_file_test ("/dev/full", G_FILE_TEST_IS_REGULAR));
      g_unlink (link);
    }
  if (geteuid () == 0 && g_file_test ("/proc/self", G_FILE_TEST_IS_DIR))
    {
      /* root may write anywhere on a normal file system; /proc refuses. */
      g_assert_false (mel_audio_write_file (audio, "/proc/melodist-test.wav", MEL_SAMPLE_FORMAT_PCM16, &error));
      g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
      g_assert_false (g_file_test ("/proc/melodist-test.wav", G_FILE_TEST_EXISTS));
    }
  else
    {
      g_autofree char *ro = g_build_filename (dir, "ro", NULL);
      g_autofree char *target = g_build_filename (ro, "x.wav", NULL);
      g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
      g_assert_false (mel_audio_write_file (audio, target, MEL_SAMPLE_FORMAT_PCM16, &error));
      g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO);
      g_clear_error (&error);
      g_assert_cmpuint (count_entries (ro), ==, 0);
      g_rmdir (ro);
    }
  /* Only the plain file we made is left. */
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_unlink (file);
  g_rmdir (dir);
}

/* A write that fails half-way (file size limit) leaves neither the target
 * nor a temporary file, and keeps an older file intact. */
static void
test_write_fails_midway (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;

  if (g_test_subprocess ())
    {
      const char *target = g_getenv ("MEL_TEST_TARGET");
      g_autoptr (MelAudio) audio = tiny_audio ();
      g_autoptr (GError) error = NULL;
      struct rlimit limit = { 100000, 100000 };
      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      g_assert_false (mel_audio_write_file (audio, target, MEL_SAMPLE_FORMAT_FLOAT, &error));
      g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_IO);
      g_printerr ("%s\n", error->message);
      return;
    }
  dir = g_dir_make_tmp ("mel-synth-XXXXXX", NULL);
  path = g_build_filename (dir, "out.wav", NULL);
  g_assert_true (g_file_set_contents (path, "old", 3, NULL));
  g_setenv ("MEL_TEST_TARGET", path, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
  g_test_trap_assert_passed ();
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "old");
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_soundfont_errors (void)
{
  static const Note notes[] = { { 1, 1, 60 } };
  g_autoptr (MelSong) song = build_song (4, 4, notes, 1);
  g_autofree char *dir = g_dir_make_tmp ("mel-synth-XXXXXX", NULL);
  g_autofree char *junk = g_build_filename (dir, "junk.sf2", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.sf2", NULL);
  MelSynthOptions options;
  g_autoptr (GError) error = NULL;
  MelAudio *audio;

  mel_synth_options_init (&options);
  options.soundfont = missing;
  audio = mel_synth_render (song, &options, NULL, &error);
  g_assert_null (audio);
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_NO_SOUNDFONT);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (junk, "RIFF\x10\0\0\0sfbkLIST this is not a SoundFont", 40, NULL));
  options.soundfont = junk;
  audio = mel_synth_render (song, &options, NULL, &error);
  g_assert_null (audio);
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_BAD_SOUNDFONT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "timgm6mb-soundfont"));
  g_clear_error (&error);

  /* A real SoundFont cut short, and one without its preset section. */
  g_autofree char *real = mel_synth_find_soundfont (NULL, NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;
  if (real != NULL && g_file_get_contents (real, &contents, &length, NULL) && length > 200000)
    {
      g_assert_true (g_file_set_contents (junk, contents, 200000, NULL));
      audio = mel_synth_render (song, &options, NULL, &error);
      g_assert_null (audio);
      g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_BAD_SOUNDFONT);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
      /* Rename the preset section so that it is missing. */
      char *pdta = memmem (contents, length, "pdta", 4);
      g_assert_nonnull (pdta);
      pdta[3] = 'x';
      g_assert_true (g_file_set_contents (junk, contents, (gssize) length, NULL));
      audio = mel_synth_render (song, &options, NULL, &error);
      g_assert_null (audio);
      g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_BAD_SOUNDFONT);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
    }

  g_setenv ("MELODIST_SOUNDFONT", missing, TRUE);
  g_autofree char *found = mel_synth_find_soundfont (NULL, &error);
  g_assert_null (found);
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_NO_SOUNDFONT);
  g_assert_nonnull (strstr (error->message, "MELODIST_SOUNDFONT"));
  g_clear_error (&error);
  g_setenv ("MELODIST_SOUNDFONT", junk, TRUE);
  g_autofree char *from_env = mel_synth_find_soundfont (NULL, &error);
  g_assert_cmpstr (from_env, ==, junk);
  g_autofree char *explicit = mel_synth_find_soundfont (missing, &error);
  g_assert_null (explicit);
  g_clear_error (&error);
  g_unsetenv ("MELODIST_SOUNDFONT");

  g_unlink (junk);
  g_rmdir (dir);
}

static void
test_options_and_cancel (void)
{
  static const Note notes[] = { { 4, 1, 60 }, { 4, 1, 64 } };
  g_autoptr (MelSong) song = build_song (4, 4, notes, 2);
  g_autoptr (MelSong) empty = mel_song_new ("EMPTY");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  MelSynthOptions options;

  mel_synth_options_init (&options);
  options.program = 128;
  g_assert_null (mel_synth_render (song, &options, NULL, &error));
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_INVALID);
  g_clear_error (&error);
  mel_synth_options_init (&options);
  options.channels = 3;
  g_assert_null (mel_synth_render (song, &options, NULL, &error));
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (mel_synth_render (empty, NULL, NULL, &error));
  g_assert_error (error, MEL_AUDIO_ERROR, MEL_AUDIO_ERROR_EMPTY);
  g_clear_error (&error);

  if (!require_soundfont ())
    return;
  g_cancellable_cancel (cancellable);
  g_assert_null (mel_synth_render (song, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_count_in_and_fade (void)
{
  /* 6/8 with a pickup eighth: the count-in is two dotted-quarter clicks. */
  static const Note notes[] = { { 1, 2, 67 }, { 3, 2, 72 }, { 3, 2, 76 }, { 3, 1, 79 } };
  g_autoptr (MelSong) song = build_song (6, 8, notes, G_N_ELEMENTS (notes));
  MelSynthOptions options;
  g_autoptr (MelAudio) plain = NULL, counted = NULL;
  g_autoptr (GArray) onsets = NULL;

  if (!require_soundfont ())
    return;
  mel_synth_options_init (&options);
  options.tempo = 90.0; /* dotted quarter = 1 s */
  options.fade_out = 1.0;
  plain = render (song, &options);
  options.count_in = TRUE;
  counted = render (song, &options);
  g_assert_cmpuint (counted->music_start_frame, ==, 2 * 44100);
  g_assert_cmpuint (counted->n_frames, ==, plain->n_frames + 2 * 44100);
  g_assert_cmpuint (mel_audio_frame_at (counted, mel_rational_new (3, 2)), ==, 3 * 44100);
  /* Clicks at 0 s and 1 s, the melody from 2 s. */
  onsets = find_onsets_ms (counted);
  g_assert_cmpuint (onsets->len, >=, 3);
  g_assert_cmpfloat (fabs (g_array_index (onsets, double, 0) - 0.0), <=, 10.0);
  g_assert_cmpfloat (fabs (g_array_index (onsets, double, 1) - 1000.0), <=, 10.0);
  g_assert_cmpfloat (fabs (g_array_index (onsets, double, 2) - 2000.0), <=, 10.0);
  /* Faded to silence at the very end. */
  g_assert_cmpfloat (peak_between (counted, (counted->n_frames - 100) / 44100.0, 1e9), <, 1e-3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/synth/duration", test_duration);
  g_test_add_func ("/mel/synth/onsets", test_onsets);
  g_test_add_func ("/mel/synth/pitch-estimator", test_pitch_estimator);
  g_test_add_func ("/mel/synth/a4-pitch", test_a4_pitch);
  g_test_add_func ("/mel/synth/rests-silent", test_rests_silent);
  g_test_add_func ("/mel/synth/deterministic", test_deterministic);
  g_test_add_func ("/mel/synth/formats", test_formats);
  g_test_add_func ("/mel/synth/write-errors", test_write_errors);
  g_test_add_func ("/mel/synth/write-fails-midway", test_write_fails_midway);
  g_test_add_func ("/mel/synth/soundfont-errors", test_soundfont_errors);
  g_test_add_func ("/mel/synth/options-and-cancel", test_options_and_cancel);
  g_test_add_func ("/mel/synth/count-in-and-fade", test_count_in_and_fade);
  return g_test_run ();
}
