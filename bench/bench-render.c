/* bench-render.c — how long rendering a melody takes.
 *
 * Builds a one-minute melody of our own (100 quarter notes per minute:
 * eighths, quarters, dotted figures, triplets and rests in 4/4), renders it
 * with the default options (flute, 44.1 kHz stereo, reverb and chorus,
 * normalised) N times, and prints the fastest and the median wall time of:
 *   render   mel_synth_render() (SoundFont load + synthesis + normalise),
 *            wall time and the process's CPU time
 *   wav      mel_audio_write_file() of the result (16-bit WAV, atomic)
 *   export   MIDI + MusicXML + .mxl + ABC of the same melody
 *
 * Usage: bench-render [RUNS] [SOUNDFONT]
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-abc.h"
#include "mel-midi.h"
#include "mel-musicxml.h"
#include "mel-synth.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A 4/4 bar pattern (in eighths: 8 per bar) cycling through a scale. */
static MelSong *
one_minute_melody (void)
{
  static const int pattern[][2] = { /* duration numerator/denominator in quarters */
    { 1, 2 }, { 1, 2 }, { 1, 1 }, { 3, 4 }, { 1, 4 }, { 1, 1 },          /* bar 1 */
    { 1, 3 }, { 1, 3 }, { 1, 3 }, { 1, 1 }, { 1, 2 }, { 1, 2 }, { 1, 1 }, /* bar 2 */
    { 2, 1 }, { -1, 1 }, { 1, 1 },                                        /* bar 3, with a rest */
    { 3, 2 }, { 1, 2 }, { 2, 1 },                                         /* bar 4 */
  };
  static const int scale[] = { 67, 69, 71, 72, 74, 76, 74, 72, 71, 69, 67, 66 };
  MelSong *song = mel_song_new ("BENCH");
  MelMeter meter = { MEL_RATIONAL_ZERO, 4, 4, FALSE };
  MelRational t = MEL_RATIONAL_ZERO;
  MelRational minute = mel_rational_new (100, 1);
  guint k = 0;

  mel_song_set_title (song, "One minute");
  mel_song_add_meter (song, &meter);
  while (mel_rational_compare (t, minute) < 0)
    for (guint i = 0; i < G_N_ELEMENTS (pattern) && mel_rational_compare (t, minute) < 0; i++)
      {
        MelEvent ev = { 0 };
        gboolean rest = pattern[i][0] < 0;
        ev.onset = t;
        ev.duration = mel_rational_new (ABS (pattern[i][0]), pattern[i][1]);
        ev.midi = rest ? -1 : (gint16) scale[k++ % G_N_ELEMENTS (scale)];
        if (!rest)
          ev.pitch = mel_pitch_from_midi (ev.midi, TRUE);
        mel_song_add_event (song, &ev);
        t = mel_rational_add (t, ev.duration);
      }
  return song;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static void
report (const char *what, double *times, int runs)
{
  qsort (times, (size_t) runs, sizeof (double), compare_doubles);
  printf ("%-8s best %7.1f ms   median %7.1f ms\n", what, times[0] * 1e3, times[runs / 2] * 1e3);
}

int
main (int argc, char **argv)
{
  int runs = argc > 1 ? atoi (argv[1]) : 10;
  g_autoptr (MelSong) song = one_minute_melody ();
  g_autoptr (GError) error = NULL;
  g_autofree double *render_t = NULL, *render_cpu = NULL, *wav_t = NULL, *export_t = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mel-bench-XXXXXX", NULL);
  g_autofree char *wav = g_build_filename (dir, "bench.wav", NULL);
  MelSynthOptions options;

  if (runs < 1)
    runs = 1;
  render_t = g_new (double, runs);
  render_cpu = g_new (double, runs);
  wav_t = g_new (double, runs);
  export_t = g_new (double, runs);
  mel_synth_options_init (&options);
  options.soundfont = argc > 2 ? argv[2] : NULL;
  g_autofree char *sf = mel_synth_find_soundfont (options.soundfont, &error);
  if (sf == NULL)
    {
      fprintf (stderr, "bench-render: %s\n", error->message);
      return 1;
    }
  printf ("melody: %u events, %.1f s at %.0f quarter notes per minute; SoundFont %s; %d runs\n",
          mel_song_get_n_events (song), mel_rational_to_double (song->duration) * 60.0 / 100.0, 100.0, sf, runs);

  for (int r = 0; r < runs; r++)
    {
      double c0 = cpu_seconds ();
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (MelAudio) audio = mel_synth_render (song, &options, NULL, &error);
      gint64 t1 = g_get_monotonic_time ();
      render_cpu[r] = cpu_seconds () - c0;
      if (audio == NULL)
        {
          fprintf (stderr, "bench-render: %s\n", error->message);
          return 1;
        }
      if (!mel_audio_write_file (audio, wav, MEL_SAMPLE_FORMAT_PCM16, &error))
        {
          fprintf (stderr, "bench-render: %s\n", error->message);
          return 1;
        }
      gint64 t2 = g_get_monotonic_time ();
      g_autoptr (GBytes) mid = mel_midi_write (song, NULL, &error);
      g_autofree char *xml = mel_musicxml_write (song, &error);
      g_autoptr (GBytes) mxl = mel_musicxml_write_mxl (song, &error);
      g_autofree char *abc = mel_abc_write (song, &error);
      gint64 t3 = g_get_monotonic_time ();
      if (mid == NULL || xml == NULL || mxl == NULL || abc == NULL)
        {
          fprintf (stderr, "bench-render: export failed\n");
          return 1;
        }
      render_t[r] = (t1 - t0) / 1e6;
      wav_t[r] = (t2 - t1) / 1e6;
      export_t[r] = (t3 - t2) / 1e6;
      if (r == 0)
        printf ("audio: %zu frames (%.3f s incl. %.1f s tail)\n", audio->n_frames,
                (double) audio->n_frames / audio->sample_rate, options.tail);
    }
  report ("render", render_t, runs);
  report ("  (cpu)", render_cpu, runs);
  report ("wav", wav_t, runs);
  report ("export", export_t, runs);
  g_unlink (wav);
  g_rmdir (dir);
  return 0;
}
