/* test-musicxml-read.c — the MusicXML reader: round trips through the
 * writer, hand-written documents, and refusals of what a melody cannot hold.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-corpus.h"
#include "mel-kern.h"
#include "mel-musicxml.h"

#include "mel-test-songs.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  MelRational onset, duration;
  int midi;
} Sounding;

/* The sounding notes of @song: tie chains and runs of rests merged, since
 * the writer may split a value at a barline or into dotted pieces. */
static GArray *
sounding_notes (const MelSong *song)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Sounding));

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      Sounding *last = out->len > 0 ? &g_array_index (out, Sounding, out->len - 1) : NULL;
      gboolean joins = last != NULL && mel_rational_equal (mel_rational_add (last->onset, last->duration), ev->onset)
                       && last->midi == ev->midi && (ev->midi < 0 || (ev->tie & MEL_TIE_STOP));

      if (joins)
        last->duration = mel_rational_add (last->duration, ev->duration);
      else
        {
          Sounding s = { ev->onset, ev->duration, ev->midi };
          g_array_append_val (out, s);
        }
    }
  return out;
}

static void
assert_same_sound (const MelSong *a, const MelSong *b)
{
  g_autoptr (GArray) x = sounding_notes (a);
  g_autoptr (GArray) y = sounding_notes (b);

  g_assert_cmpuint (x->len, ==, y->len);
  for (guint i = 0; i < x->len; i++)
    {
      Sounding *p = &g_array_index (x, Sounding, i), *q = &g_array_index (y, Sounding, i);

      g_assert_true (mel_rational_equal (p->onset, q->onset));
      g_assert_true (mel_rational_equal (p->duration, q->duration));
      g_assert_cmpint (p->midi, ==, q->midi);
    }
  g_assert_true (mel_rational_equal (a->duration, b->duration));
}

static void
assert_same_meters_and_keys (const MelSong *a, const MelSong *b)
{
  g_assert_cmpuint (a->meters->len, ==, b->meters->len);
  for (guint i = 0; i < a->meters->len; i++)
    {
      const MelMeter *p = &g_array_index (a->meters, MelMeter, i), *q = &g_array_index (b->meters, MelMeter, i);

      g_assert_true (mel_rational_equal (p->onset, q->onset));
      g_assert_cmpint (p->irregular, ==, q->irregular);
      if (!p->irregular)
        {
          g_assert_cmpint (p->numerator, ==, q->numerator);
          g_assert_cmpint (p->denominator, ==, q->denominator);
        }
    }
  g_assert_cmpuint (a->keys->len, ==, b->keys->len);
  for (guint i = 0; i < a->keys->len; i++)
    {
      const MelKey *p = &g_array_index (a->keys, MelKey, i), *q = &g_array_index (b->keys, MelKey, i);

      g_assert_true (mel_rational_equal (p->onset, q->onset));
      g_assert_cmpint (p->tonic_step, ==, q->tonic_step);
      g_assert_cmpint (p->tonic_alter, ==, q->tonic_alter);
      g_assert_cmpint (p->mode, ==, q->mode);
    }
}

static MelSong *
round_trip (const MelSong *song)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = mel_musicxml_write (song, &error);
  MelSong *back;

  g_assert_no_error (error);
  back = mel_musicxml_parse (xml, strlen (xml), "round-trip.musicxml", &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  return back;
}

static void
test_round_trip_songs (void)
{
  static const char *const specs[] = { TEST_SONG_PICKUP, TEST_SONG_SIX_EIGHT, TEST_SONG_IRREGULAR };

  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autoptr (MelSong) song = test_song_new ("T1", "Ein Lied", specs[i]);
      g_autoptr (MelSong) back = round_trip (song);

      assert_same_sound (song, back);
      assert_same_meters_and_keys (song, back);
      g_assert_cmpstr (back->title, ==, "Ein Lied");
      g_assert_cmpstr (back->id, ==, "T1");
      g_assert_true (mel_rational_equal (song->pickup, back->pickup));
    }
}

/* The pickup song is written note for note, so every event survives. */
static void
test_round_trip_exact (void)
{
  g_autoptr (MelSong) song = test_song_new ("T2", NULL, TEST_SONG_PICKUP);
  g_autoptr (MelSong) back = round_trip (song);

  g_assert_true (mel_song_events_equal (song, back));
  g_assert_cmpuint (back->bars->len, ==, song->bars->len);
  g_assert_cmpint (g_array_index (back->bars, MelBar, 0).number, ==, 0);
  g_assert_true (mel_rational_equal (back->pickup, mel_rational_new (1, 1)));
}

/* ESAC phrase marks ({ } in kern) survive kern → MusicXML → kern. */
static void
test_round_trip_phrases (void)
{
  static const char kern[] = "**kern\n*M3/4\n*k[]\n=1\n{4c\n4d\n4e}\n=2\n{4f\n4g\n4a\n=3\n2.g}\n"
                             "=4\n{8a\n8g\n4f\n4e}\n==\n*-\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) song = mel_kern_parse (kern, strlen (kern), "phrases.krn", &error);
  g_autoptr (MelSong) back = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *again = NULL;
  guint starts = 0, ends = 0;

  g_assert_no_error (error);
  xml = mel_musicxml_write (song, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (xml, "<feature type=\"phrase\"/>"));
  back = mel_musicxml_parse (xml, strlen (xml), "phrases.musicxml", &error);
  g_assert_no_error (error);
  g_assert_true (mel_song_events_equal (song, back));
  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *a = mel_song_get_event (song, i), *b = mel_song_get_event (back, i);
      guint phrase = MEL_EVENT_PHRASE_START | MEL_EVENT_PHRASE_END;

      g_assert_cmpuint (a->flags & phrase, ==, b->flags & phrase);
      starts += (b->flags & MEL_EVENT_PHRASE_START) != 0;
      ends += (b->flags & MEL_EVENT_PHRASE_END) != 0;
    }
  g_assert_cmpuint (starts, ==, 3);
  g_assert_cmpuint (ends, ==, 3);
  again = mel_kern_write (back);
  g_assert_nonnull (strstr (again, "{4c"));
  g_assert_nonnull (strstr (again, "2.g}"));
}

static void
test_round_trip_fixtures (void)
{
  const char *source = g_getenv ("MELODIST_SOURCE_DIR");
  static const char *const names[] = { "jig-minor.krn", "pickup-waltz.krn" };

  if (source == NULL)
    {
      g_test_skip ("MELODIST_SOURCE_DIR is not set");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (source, "tests", "fixtures", "sound", names[i], NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (MelSong) song = mel_kern_read_file (path, &error);
      g_autoptr (MelSong) back = NULL;

      g_assert_no_error (error);
      back = round_trip (song);
      assert_same_sound (song, back);
      assert_same_meters_and_keys (song, back);
    }
}

static void
test_read_file (void)
{
  g_autoptr (MelSong) song = test_song_new ("T3", "Datei", TEST_SONG_IRREGULAR);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mel-mxl-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *mxl = NULL;
  g_autoptr (MelSong) back = NULL;

  g_assert_no_error (error);
  path = g_build_filename (dir, "song.musicxml", NULL);
  g_assert_true (mel_musicxml_write_file (song, path, &error));
  g_assert_no_error (error);
  back = mel_musicxml_read_file (path, &error);
  g_assert_no_error (error);
  assert_same_sound (song, back);
  g_assert_cmpstr (back->path, ==, path);

  /* Compressed containers are refused with a clear message. */
  mxl = g_build_filename (dir, "song.mxl", NULL);
  g_assert_true (mel_musicxml_write_file (song, mxl, &error));
  g_assert_no_error (error);
  g_assert_null (mel_musicxml_read_file (mxl, &error));
  g_assert_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, ".mxl"));
  g_clear_error (&error);

  g_assert_null (mel_musicxml_read_file ("/nonexistent/x.musicxml", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  /* The app shows a MusicXML file as a corpus of its one song. */
  {
    g_autoptr (MelSong) again = mel_musicxml_read_file (path, &error);
    MelCorpus *corpus;

    g_assert_no_error (error);
    corpus = mel_corpus_new_for_song (path, again);
    g_assert_cmpuint (corpus->songs->len, ==, 1);
    g_assert_cmpuint (corpus->duplicate_of->len, ==, 1);
    g_assert_true (mel_corpus_find (corpus, "T3") == again);
    mel_corpus_unref (corpus);
  }

  g_unlink (path);
  g_unlink (mxl);
  g_rmdir (dir);
}

#define HEAD "<?xml version=\"1.0\"?><score-partwise version=\"4.0\"><part-list/>"

/* A hand-written document from another program: movement title, divisions
 * changing mid-piece, forward as a rest, a grace note, tied notes. */
static void
test_hand_written (void)
{
  static const char doc[] =
    HEAD "<movement-title>Andere Quelle</movement-title><part id=\"P1\">"
    "<measure number=\"1\"><attributes><divisions>2</divisions><key><fifths>-1</fifths><mode>minor</mode></key>"
    "<time><beats>2</beats><beat-type>4</beat-type></time></attributes>"
    "<note><grace/><pitch><step>E</step><octave>4</octave></pitch><type>eighth</type></note>"
    "<note><pitch><step>D</step><octave>4</octave></pitch><duration>2</duration></note>"
    "<note><pitch><step>B</step><alter>-1</alter><octave>4</octave></pitch><duration>1</duration>"
    "<tie type=\"start\"/></note>"
    "<note><pitch><step>B</step><alter>-1</alter><octave>4</octave></pitch><duration>1</duration>"
    "<tie type=\"stop\"/></note></measure>"
    "<measure number=\"2\"><attributes><divisions>3</divisions></attributes>"
    "<note><pitch><step>C</step><alter>1</alter><octave>5</octave></pitch><duration>1</duration></note>"
    "<forward><duration>2</duration></forward>"
    "<note><rest/><duration>3</duration></note></measure></part></score-partwise>";
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) song = mel_musicxml_parse (doc, strlen (doc), NULL, &error);
  const MelEvent *ev;
  const MelKey *key;

  g_assert_no_error (error);
  g_assert_cmpstr (song->title, ==, "Andere Quelle");
  g_assert_cmpuint (mel_song_get_n_events (song), ==, 6);
  ev = mel_song_get_event (song, 0);
  g_assert_cmpint (ev->midi, ==, 62);
  g_assert_true (mel_rational_equal (ev->duration, mel_rational_new (1, 1)));
  ev = mel_song_get_event (song, 1);
  g_assert_cmpint (ev->midi, ==, 70);
  g_assert_cmpint (ev->tie, ==, MEL_TIE_START);
  g_assert_cmpint (mel_song_get_event (song, 2)->tie, ==, MEL_TIE_STOP);
  ev = mel_song_get_event (song, 3);
  g_assert_cmpint (ev->midi, ==, 73);
  g_assert_true (mel_rational_equal (ev->onset, mel_rational_new (2, 1)));
  g_assert_true (mel_rational_equal (ev->duration, mel_rational_new (1, 3)));
  g_assert_cmpuint (ev->bar, ==, 1);
  g_assert_true (mel_event_is_rest (mel_song_get_event (song, 4)));
  g_assert_true (mel_rational_equal (song->duration, mel_rational_new (4, 1)));
  g_assert_true (mel_rational_is_zero (song->pickup));
  g_assert_cmpuint (song->bars->len, ==, 2);
  key = mel_song_get_key_at (song, MEL_RATIONAL_ZERO);
  g_assert_nonnull (key);
  g_assert_cmpint (key->tonic_step, ==, 'D');
  g_assert_cmpint (key->tonic_alter, ==, 0);
  g_assert_cmpint (key->mode, ==, MEL_MODE_MINOR);
  g_assert_cmpint (mel_song_get_key_signature_at (song, MEL_RATIONAL_ZERO)->fifths, ==, -1);
}

static void
assert_refused (const char *doc, gsize length, int code, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) song = mel_musicxml_parse (doc, length, "bad.musicxml", &error);

  g_assert_null (song);
  g_assert_error (error, MEL_EXPORT_ERROR, code);
  g_assert_nonnull (strstr (error->message, "bad.musicxml"));
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, fragment);
}

#define NOTE "<note><pitch><step>C</step><octave>4</octave></pitch><duration>1</duration></note>"
#define MEASURE(x) "<part id=\"P1\"><measure number=\"1\"><attributes><divisions>1</divisions></attributes>" x \
                   "</measure></part></score-partwise>"

static void
test_errors (void)
{
  static const char *const cases[][3] = {
    { "not xml at all", "", "XML" },
    { "<?xml version=\"1.0\"?><score-partwise><part", "", "XML" },
    { "<?xml version=\"1.0\"?><html/>", "", "score-partwise" },
    { "<?xml version=\"1.0\"?><score-timewise/>", "u", "timewise" },
    { HEAD "</score-partwise>", "e", "part" },
    { HEAD "<part id=\"P1\"/></score-partwise>", "e", "no notes" },
    { HEAD MEASURE (NOTE "<note><chord/><pitch><step>E</step><octave>4</octave></pitch><duration>1</duration></note>"),
      "u", "chord" },
    { HEAD MEASURE (NOTE "<backup><duration>1</duration></backup>" NOTE), "u", "backup" },
    { HEAD "<part id=\"P1\"><measure>" NOTE "</measure></part></score-partwise>", "", "divisions" },
    { HEAD MEASURE ("<note><pitch><step>H</step><octave>4</octave></pitch><duration>1</duration></note>"), "", "step" },
    { HEAD MEASURE ("<note><pitch><step>C</step><octave>x</octave></pitch><duration>1</duration></note>"), "", "octave" },
    { HEAD MEASURE ("<note><pitch><step>C</step><alter>0.5</alter><octave>4</octave></pitch><duration>1</duration></note>"),
      "u", "alter" },
    { HEAD MEASURE ("<note><pitch><step>C</step><alter>1e300</alter><octave>4</octave></pitch><duration>1</duration></note>"),
      "u", "alter" },
    { HEAD MEASURE ("<note><pitch><step>C</step><alter>nan</alter><octave>4</octave></pitch><duration>1</duration></note>"),
      "u", "alter" },
    { HEAD MEASURE ("<note><pitch><step>C</step><octave>4</octave></pitch><duration>-3</duration></note>"), "", "duration" },
    { HEAD MEASURE ("<note><pitch><step>C</step><octave>4</octave></pitch><duration>0</duration></note>"), "", "duration" },
    { HEAD MEASURE ("<note><pitch><step>C</step><octave>4</octave></pitch></note>"), "", "duration" },
    { HEAD MEASURE ("<note><unpitched/><duration>1</duration></note>"), "u", "unpitched" },
    { HEAD "<part id=\"P1\"><measure><attributes><divisions>0</divisions></attributes>" NOTE "</measure></part></score-partwise>",
      "", "divisions" },
    { HEAD MEASURE ("<attributes><key><fifths>9</fifths></key></attributes>" NOTE), "", "fifths" },
    { HEAD MEASURE ("<attributes><time><beats>3+2</beats><beat-type>8</beat-type></time></attributes>" NOTE), "", "beats" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      int code = cases[i][1][0] == 'u' ? MEL_EXPORT_ERROR_UNSUPPORTED
                 : cases[i][1][0] == 'e' ? MEL_EXPORT_ERROR_EMPTY : MEL_EXPORT_ERROR_FORMAT;

      assert_refused (cases[i][0], strlen (cases[i][0]), code, cases[i][2]);
    }
  assert_refused ("", 0, MEL_EXPORT_ERROR_EMPTY, "empty");
  assert_refused ("PK\003\004rest", 8, MEL_EXPORT_ERROR_FORMAT, ".mxl");
}

/* Garbage and entity tricks: refused or read, never a crash, never a fetch. */
static void
test_hostile (void)
{
  static const char entity[] =
    "<?xml version=\"1.0\"?><!DOCTYPE score-partwise [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
    "<score-partwise><movement-title>&x;</movement-title>" MEASURE (NOTE);
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) song = mel_musicxml_parse (entity, strlen (entity), NULL, &error);
  GRand *rand = g_rand_new_with_seed (7);
  g_autofree char *xml = NULL;
  g_autoptr (MelSong) base = test_song_new ("T4", NULL, TEST_SONG_PICKUP);

  g_assert_no_error (error);
  g_assert_true (song->title == NULL || strstr (song->title, "root") == NULL);

  /* Nested entities ("billion laughs") in text and attributes. */
  {
    g_autoptr (GString) laughs = g_string_new ("<?xml version=\"1.0\"?><!DOCTYPE score-partwise [<!ENTITY e0 \"ha\">");
    g_autoptr (MelSong) s = NULL;

    for (int level = 1; level <= 8; level++)
      {
        g_string_append_printf (laughs, "<!ENTITY e%d \"", level);
        for (int k = 0; k < 16; k++)
          g_string_append_printf (laughs, "&e%d;", level - 1);
        g_string_append (laughs, "\">");
      }
    g_string_append (laughs, "]><score-partwise><movement-title>&e8;</movement-title>"
                             "<part id=\"P1\"><measure number=\"&e8;\"><attributes><divisions>1</divisions>"
                             "</attributes>" NOTE "</measure></part></score-partwise>");
    s = mel_musicxml_parse (laughs->str, laughs->len, NULL, &error);
    g_assert_true ((s == NULL) == (error != NULL));
    g_assert_true (s == NULL || s->title == NULL || strlen (s->title) < 100000);
    g_clear_error (&error);
  }

  /* Flip bytes of a valid document: every result is a song or an error. */
  xml = mel_musicxml_write (base, &error);
  g_assert_no_error (error);
  for (int round = 0; round < 300; round++)
    {
      g_autofree char *copy = g_strdup (xml);
      gsize length = strlen (copy);
      g_autoptr (MelSong) s = NULL;

      for (int k = 0; k < 4; k++)
        copy[g_rand_int_range (rand, 0, (gint32) length)] = (char) g_rand_int_range (rand, 1, 256);
      s = mel_musicxml_parse (copy, length, NULL, &error);
      g_assert_true ((s == NULL) == (error != NULL));
      g_clear_error (&error);
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  (void) test_song_expected_ticks; /* the shared header's MIDI helper is not needed here */
  g_test_add_func ("/mel/musicxml-read/round-trip-songs", test_round_trip_songs);
  g_test_add_func ("/mel/musicxml-read/round-trip-exact", test_round_trip_exact);
  g_test_add_func ("/mel/musicxml-read/round-trip-phrases", test_round_trip_phrases);
  g_test_add_func ("/mel/musicxml-read/round-trip-fixtures", test_round_trip_fixtures);
  g_test_add_func ("/mel/musicxml-read/read-file", test_read_file);
  g_test_add_func ("/mel/musicxml-read/hand-written", test_hand_written);
  g_test_add_func ("/mel/musicxml-read/errors", test_errors);
  g_test_add_func ("/mel/musicxml-read/hostile", test_hostile);
  return g_test_run ();
}
