/* test-midi.c — Standard MIDI File export, read back with our own reader.
 * SPDX-License-Identifier: MIT
 */
#include "mel-midi.h"
#include "mel-synth.h"

#include "mel-test-smf.h"
#include "mel-test-songs.h"

#include <glib/gstdio.h>
#include <math.h>
#include <sndfile.h>

static Smf *
write_and_parse (const MelSong *song, const MelMidiOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = mel_midi_write (song, options, &error);
  gsize length;
  const guint8 *data;
  Smf *smf;

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &length);
  smf = smf_parse (data, length);
  g_assert_nonnull (smf);
  return smf;
}

static void
assert_notes_equal (const Smf *smf, const MelSong *song)
{
  g_autoptr (GArray) expected = test_song_expected_ticks (song, smf->division);

  g_assert_cmpuint (smf->notes->len * 3, ==, expected->len);
  for (guint i = 0; i < smf->notes->len; i++)
    {
      const SmfNote *n = &g_array_index (smf->notes, SmfNote, i);
      g_assert_cmpint (n->on, ==, g_array_index (expected, gint64, 3 * i));
      g_assert_cmpint (n->off, ==, g_array_index (expected, gint64, 3 * i + 1));
      g_assert_cmpint (n->key, ==, g_array_index (expected, gint64, 3 * i + 2));
      g_assert_cmpint (n->channel, ==, 0);
    }
}

static const SmfMeta *
find_meta (const Smf *smf, int type, guint nth)
{
  for (guint i = 0; i < smf->metas->len; i++)
    {
      const SmfMeta *m = &g_array_index (smf->metas, SmfMeta, i);
      if (m->type == type && nth-- == 0)
        return m;
    }
  return NULL;
}

static guint
count_meta (const Smf *smf, int type)
{
  guint n = 0;
  while (find_meta (smf, type, n) != NULL)
    n++;
  return n;
}

static void
assert_meta_bytes (const SmfMeta *meta, gint64 tick, const guint8 *bytes, gsize length)
{
  gsize n;
  const guint8 *data;

  g_assert_nonnull (meta);
  g_assert_cmpint (meta->tick, ==, tick);
  data = g_bytes_get_data (meta->data, &n);
  g_assert_cmpmem (data, n, bytes, length);
}

static void
test_events_exact (void)
{
  g_autoptr (MelSong) song = test_song_new ("T1", "Test melody", TEST_SONG_PICKUP);
  g_autoptr (Smf) smf = NULL;
  static const gint64 expected[][3] = {
    { 0, 480, 62 },      { 480, 960, 67 },    { 960, 1200, 69 },   { 1200, 1440, 71 }, { 1440, 1920, 72 },
    { 1920, 2080, 74 },  { 2080, 2240, 72 },  { 2240, 2400, 71 },  { 2400, 3360, 69 }, { 3360, 3840, 67 },
    { 3840, 4320, 66 },  { 4320, 5280, 64 },  { 5760, 6000, 62 },  { 6000, 6240, 63 }, { 6240, 6480, 64 },
    { 6480, 6720, 65 },  { 6720, 7200, 66 },  { 7200, 8160, 67 },
  };

  smf = write_and_parse (song, NULL);
  g_assert_cmpint (smf->format, ==, 0);
  g_assert_cmpint (smf->n_tracks, ==, 1);
  g_assert_cmpint (smf->division, ==, 480);
  /* Written out by hand: triplets are 160 ticks, the tie E4 (4320) is one
   * note of two quarters. */
  g_assert_cmpuint (smf->notes->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const SmfNote *n = &g_array_index (smf->notes, SmfNote, i);
      g_assert_cmpint (n->on, ==, expected[i][0]);
      g_assert_cmpint (n->off, ==, expected[i][1]);
      g_assert_cmpint (n->key, ==, expected[i][2]);
      g_assert_cmpint (n->velocity, ==, 90);
    }
  assert_notes_equal (smf, song);

  /* Track name, tempo 100 (600000 µs), 3/4 then 2/4 at bar 5, G major. */
  assert_meta_bytes (find_meta (smf, 0x03, 0), 0, (const guint8 *) "Test melody", 11);
  assert_meta_bytes (find_meta (smf, 0x51, 0), 0, (const guint8 *) "\x09\x27\xC0", 3);
  assert_meta_bytes (find_meta (smf, 0x58, 0), 0, (const guint8 *) "\x03\x02\x18\x08", 4);
  assert_meta_bytes (find_meta (smf, 0x58, 1), 13 * 480, (const guint8 *) "\x02\x02\x18\x08", 4);
  g_assert_cmpuint (count_meta (smf, 0x58), ==, 2);
  assert_meta_bytes (find_meta (smf, 0x59, 0), 0, (const guint8 *) "\x01\x00", 2);
  assert_meta_bytes (find_meta (smf, 0x2F, 0), 8160, (const guint8 *) "", 0);
  g_assert_cmpuint (smf->programs->len, ==, 1);
  g_assert_cmpint (g_array_index (smf->programs, int, 0), ==, MEL_SYNTH_DEFAULT_PROGRAM);
}

static void
test_options (void)
{
  g_autoptr (MelSong) song = test_song_new ("T6", NULL, TEST_SONG_SIX_EIGHT);
  g_autoptr (Smf) smf = NULL;
  MelMidiOptions options;

  mel_midi_options_init (&options);
  options.tempo = 120.0;
  options.program = 0;
  options.velocity = 64;
  smf = write_and_parse (song, &options);
  assert_notes_equal (smf, song);
  /* No title: the id names the track; 6/8 clicks every dotted quarter. */
  assert_meta_bytes (find_meta (smf, 0x03, 0), 0, (const guint8 *) "T6", 2);
  assert_meta_bytes (find_meta (smf, 0x51, 0), 0, (const guint8 *) "\x07\xA1\x20", 3);
  assert_meta_bytes (find_meta (smf, 0x58, 0), 0, (const guint8 *) "\x06\x03\x24\x08", 4);
  assert_meta_bytes (find_meta (smf, 0x59, 0), 0, (const guint8 *) "\xFE\x01", 2); /* 2 flats, minor */
  g_assert_cmpint (g_array_index (smf->programs, int, 0), ==, 0);
  g_assert_cmpint (g_array_index (smf->notes, SmfNote, 0).velocity, ==, 64);
  /* The half note crossing the barline is one note: 3600…4560. */
  const SmfNote *g = &g_array_index (smf->notes, SmfNote, 11);
  g_assert_cmpint (g->on, ==, 3600);
  g_assert_cmpint (g->off, ==, 4560);
}

static void
test_key_changes_irregular (void)
{
  g_autoptr (MelSong) song = test_song_new ("TX", "Irregular", TEST_SONG_IRREGULAR);
  g_autoptr (MelSong) odd = test_song_new ("TK", "Odd key", TEST_SONG_ODD_KEY);
  g_autoptr (Smf) smf = write_and_parse (song, NULL);
  g_autoptr (Smf) smf_odd = write_and_parse (odd, NULL);

  assert_notes_equal (smf, song);
  /* *MX has no MIDI time signature; keys: c minor, then D major at bar 3. */
  g_assert_cmpuint (count_meta (smf, 0x58), ==, 0);
  assert_meta_bytes (find_meta (smf, 0x59, 0), 0, (const guint8 *) "\xFD\x01", 2);
  assert_meta_bytes (find_meta (smf, 0x59, 1), 9 * 480, (const guint8 *) "\x02\x00", 2);
  /* [c- e- a-] has no MIDI key signature; 4/2 does. */
  assert_notes_equal (smf_odd, odd);
  g_assert_cmpuint (count_meta (smf_odd, 0x59), ==, 0);
  assert_meta_bytes (find_meta (smf_odd, 0x58, 0), 0, (const guint8 *) "\x04\x01\x30\x08", 4);
  g_assert_cmpint (g_array_index (smf_odd->notes, SmfNote, 3).off, ==, 16 * 480); /* breve */
}

static void
test_fine_grid (void)
{
  /* Seven notes in the time of a quarter: 480 is not divisible by 7, so
   * the file uses 483 ticks per quarter and stays exact. */
  g_autoptr (MelSong) song = mel_song_new ("T7");
  g_autoptr (Smf) smf = NULL;
  MelRational t = MEL_RATIONAL_ZERO;

  for (int i = 0; i < 7; i++)
    {
      MelEvent ev = { 0 };
      ev.onset = t;
      ev.duration = mel_rational_new (1, 7);
      ev.pitch = mel_pitch_from_midi (60 + i, TRUE);
      ev.midi = (gint16) (60 + i);
      mel_song_add_event (song, &ev);
      t = mel_rational_add (t, ev.duration);
    }
  g_assert_cmpint (mel_midi_ticks_per_quarter (song), ==, 483);
  smf = write_and_parse (song, NULL);
  g_assert_cmpint (smf->division, ==, 483);
  assert_notes_equal (smf, song);
  g_assert_cmpint (g_array_index (smf->notes, SmfNote, 6).off, ==, 483);
}

static void
test_files_and_errors (void)
{
  g_autoptr (MelSong) song = test_song_new ("T1", "Test", TEST_SONG_PICKUP);
  g_autoptr (MelSong) empty = mel_song_new ("E");
  g_autofree char *dir = g_dir_make_tmp ("mel-midi-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.mid", NULL);
  g_autofree char *bad = g_build_filename (dir, "missing", "t.mid", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (Smf) smf = NULL;

  g_assert_true (mel_midi_write_file (song, NULL, path, &error));
  g_assert_no_error (error);
  smf = smf_read_file (path);
  g_assert_nonnull (smf);
  assert_notes_equal (smf, song);
  g_assert_false (mel_midi_write_file (song, NULL, bad, &error));
  g_assert_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (mel_midi_write (empty, NULL, &error));
  g_assert_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_EMPTY);
  g_clear_error (&error);
  if (g_file_test ("/dev/full", G_FILE_TEST_EXISTS))
    {
      g_assert_false (mel_midi_write_file (song, NULL, "/dev/full", &error));
      g_assert_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_IO);
      g_clear_error (&error);
      g_assert_false (g_file_test ("/dev/full", G_FILE_TEST_IS_REGULAR));
    }
  g_unlink (path);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* Time (s) after which every 10 ms block stays below -50 dB of the peak:
 * where the sound really ends, whatever silence follows. */
static double
sound_end_seconds (const float *samples, gsize n_frames, int channels, int rate)
{
  float peak = 0.0f;
  gsize block = (gsize) rate / 100, last_loud = 0;

  for (gsize i = 0; i < n_frames * (gsize) channels; i++)
    peak = MAX (peak, fabsf (samples[i]));
  float threshold = peak * powf (10.0f, -50.0f / 20.0f);
  for (gsize f = 0; f < n_frames; f++)
    for (int c = 0; c < channels; c++)
      if (fabsf (samples[f * (gsize) channels + (gsize) c]) > threshold)
        last_loud = f;
  return (double) (last_loud / block * block) / rate;
}

/* The fluidsynth program plays our file just as long as we render it. */
static void
test_fluidsynth_length (void)
{
  g_autoptr (MelSong) song = test_song_new ("T1", "Test", TEST_SONG_PICKUP);
  g_autofree char *fluidsynth = g_find_program_in_path ("fluidsynth");
  g_autofree char *soundfont = mel_synth_find_soundfont (NULL, NULL);
  g_autofree char *dir = NULL, *mid = NULL, *wav = NULL;
  g_autofree float *theirs = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MelAudio) ours = NULL;
  MelSynthOptions options;
  SF_INFO info = { 0 };
  SNDFILE *file;
  int status = 0;

  if (fluidsynth == NULL || soundfont == NULL)
    {
      g_test_skip ("the fluidsynth program or a SoundFont is missing");
      return;
    }
  dir = g_dir_make_tmp ("mel-midi-XXXXXX", NULL);
  mid = g_build_filename (dir, "t.mid", NULL);
  wav = g_build_filename (dir, "t.wav", NULL);
  g_assert_true (mel_midi_write_file (song, NULL, mid, &error));
  const char *argv[] = { fluidsynth, "-ni", "-F", wav, "-r", "44100", soundfont, mid, NULL };
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  file = sf_open (wav, SFM_READ, &info);
  g_assert_nonnull (file);
  theirs = g_new (float, (gsize) info.frames * (gsize) info.channels);
  g_assert_cmpint (sf_readf_float (file, theirs, info.frames), ==, info.frames);
  sf_close (file);

  /* The same tempo (from the file), program and reverb; a long tail so
   * that the release and reverb end inside our buffer too. */
  mel_synth_options_init (&options);
  options.tail = 4.0;
  ours = mel_synth_render (song, &options, NULL, &error);
  g_assert_no_error (error);
  double theirs_end = sound_end_seconds (theirs, (gsize) info.frames, info.channels, info.samplerate);
  double ours_end = sound_end_seconds (ours->samples, ours->n_frames, (int) ours->channels, (int) ours->sample_rate);
  g_test_message ("sound ends: fluidsynth %.3f s, ours %.3f s (file %.3f s; song 10.2 s)", theirs_end, ours_end,
                  (double) info.frames / info.samplerate);
  g_assert_cmpfloat (theirs_end, >, 10.2);
  g_assert_cmpfloat (fabs (theirs_end - ours_end), <=, 0.05);
  g_unlink (mid);
  g_unlink (wav);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/midi/events-exact", test_events_exact);
  g_test_add_func ("/mel/midi/options", test_options);
  g_test_add_func ("/mel/midi/key-changes-irregular", test_key_changes_irregular);
  g_test_add_func ("/mel/midi/fine-grid", test_fine_grid);
  g_test_add_func ("/mel/midi/files-and-errors", test_files_and_errors);
  g_test_add_func ("/mel/midi/fluidsynth-length", test_fluidsynth_length);
  return g_test_run ();
}
