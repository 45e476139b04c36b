/* test-kern.c — the **kern reader and writer: one test per feature, every
 * error path, round trips, and the fuzz target over its seed corpus.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include <glib/gstdio.h>

#include "mel-kern.h"

/* The fuzz entry point is compiled in, so that it keeps building without
 * libFuzzer and its checks run over the seed corpus on every test run. */
#include "fuzz/fuzz-kern.c"

#define HEADER "**kern\n*M4/4\n*k[]\n*C:\n"
#define FOOTER "==\n*-\n"

static MelSong *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  MelSong *song = mel_kern_parse (text, strlen (text), "test.krn", &error);

  g_assert_no_error (error);
  g_assert_nonnull (song);
  return song;
}

/* Parses @text (of @length bytes) expecting @code, with "test.krn:@line:"
 * and @fragment in the message. */
static void
parse_fails_len (const char *text, gsize length, MelKernError code, guint line, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) song = NULL;
  g_autofree char *where = line > 0 ? g_strdup_printf ("test.krn:%u: ", line) : g_strdup ("test.krn: ");
  guint error_line = 12345;

  song = mel_kern_parse_full (text, length, "test.krn", &error_line, &error);
  g_assert_null (song);
  g_assert_error (error, MEL_KERN_ERROR, (gint) code);
  g_assert_true (g_str_has_prefix (error->message, where));
  g_assert_nonnull (strstr (error->message, fragment));
  g_assert_cmpuint (error_line, ==, line);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
parse_fails (const char *text, MelKernError code, guint line, const char *fragment)
{
  parse_fails_len (text, strlen (text), code, line, fragment);
}

static const MelEvent *
event (const MelSong *song, guint index)
{
  return mel_song_get_event (song, index);
}

#define assert_rational(r, n, d)                                                         \
  G_STMT_START                                                                           \
  {                                                                                      \
    MelRational r_ = (r);                                                                \
    g_assert_cmpint (r_.num, ==, (n));                                                   \
    g_assert_cmpint (r_.den, ==, (d));                                                   \
  }                                                                                      \
  G_STMT_END

/* ---- features ------------------------------------------------------------- */

static void
test_durations (void)
{
  /* breve, dotted breve, whole … 32nd, dots, double dots, triplets */
  static const struct
  {
    const char *token;
    gint64 num, den;
  } cases[] = {
    { "0c", 8, 1 },  { "0.c", 12, 1 },  { "00c", 16, 1 }, { "1c", 4, 1 },   { "1.c", 6, 1 },
    { "2c", 2, 1 },  { "2.c", 3, 1 },   { "4c", 1, 1 },   { "4.c", 3, 2 },  { "4..c", 7, 4 },
    { "8c", 1, 2 },  { "8.c", 3, 4 },   { "16c", 1, 4 },  { "16.c", 3, 8 }, { "32c", 1, 8 },
    { "3c", 4, 3 },  { "3.c", 2, 1 },   { "6c", 2, 3 },   { "6.c", 1, 1 },  { "12c", 1, 3 },
    { "12.c", 1, 2 }, { "24c", 1, 6 },  { "5c", 4, 5 },   { "3%2c", 8, 3 }, { "1.5c", 8, 3 },
  };
  GString *text = g_string_new (HEADER "=1\n");
  MelRational onset = MEL_RATIONAL_ZERO;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_string_append_printf (text, "%s\n", cases[i].token);
  g_string_append (text, FOOTER);

  g_autoptr (MelSong) song = parse_ok (text->str);
  g_assert_cmpuint (mel_song_get_n_events (song), ==, G_N_ELEMENTS (cases));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const MelEvent *ev = event (song, i);
      assert_rational (ev->duration, cases[i].num, cases[i].den);
      g_assert_true (mel_rational_equal (ev->onset, onset));
      g_assert_cmpuint (ev->line, ==, 6 + i);
      onset = mel_rational_add (onset, ev->duration);
    }
  g_assert_true (mel_rational_equal (song->duration, onset));
  g_string_free (text, TRUE);
}

static void
test_pitches (void)
{
  static const struct
  {
    const char *token;
    int midi;
    char step;
    int alter, octave;
  } cases[] = {
    { "4c", 60, 'C', 0, 4 },    { "4cc", 72, 'C', 0, 5 },  { "4ccc", 84, 'C', 0, 6 },
    { "4C", 48, 'C', 0, 3 },    { "4CC", 36, 'C', 0, 2 },  { "4b", 71, 'B', 0, 4 },
    { "4B", 59, 'B', 0, 3 },    { "4f#", 66, 'F', 1, 4 },  { "4b-", 70, 'B', -1, 4 },
    { "4en", 64, 'E', 0, 4 },   { "4c##", 62, 'C', 2, 4 }, { "4d--", 60, 'D', -2, 4 },
    { "4AA", 45, 'A', 0, 2 },   { "4b#", 72, 'B', 1, 4 },  { "4c-", 59, 'C', -1, 4 },
    { "4ffx#", 78, 'F', 1, 5 }, /* editorial x ignored */
  };
  GString *text = g_string_new (HEADER);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_string_append_printf (text, "%s\n", cases[i].token);
  g_string_append (text, "4r\n" FOOTER);

  g_autoptr (MelSong) song = parse_ok (text->str);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const MelEvent *ev = event (song, i);
      g_assert_cmpint (ev->midi, ==, cases[i].midi);
      g_assert_cmpint (ev->pitch.step, ==, cases[i].step);
      g_assert_cmpint (ev->pitch.alter, ==, cases[i].alter);
      g_assert_cmpint (ev->pitch.octave, ==, cases[i].octave);
      g_assert_cmpint (mel_pitch_to_midi (ev->pitch), ==, ev->midi);
    }
  const MelEvent *rest = event (song, G_N_ELEMENTS (cases));
  g_assert_true (mel_event_is_rest (rest));
  g_assert_cmpint (rest->midi, ==, -1);
  g_assert_cmpuint (mel_song_get_n_notes (song), ==, G_N_ELEMENTS (cases));
  g_string_free (text, TRUE);

  /* out of MIDI range, two pitches, accidental first, mixed accidentals */
  parse_fails (HEADER "4cccccccc\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5, "MIDI range");
  parse_fails (HEADER "4cd\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5, "two pitches in note token '4cd'");
  parse_fails (HEADER "4#c\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5, "accidental before the pitch");
  parse_fails (HEADER "4c#-\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5, "bad accidentals");
  parse_fails (HEADER "4c###\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5, "bad accidentals");
}

static void
test_ties (void)
{
  g_autoptr (MelSong) song = parse_ok (HEADER "=1\n2c\n2[g\n=2\n1g_\n=3\n4g]\n4a\n2r\n" FOOTER);

  g_assert_cmpuint (event (song, 0)->tie, ==, MEL_TIE_NONE);
  g_assert_cmpuint (event (song, 1)->tie, ==, MEL_TIE_START);
  g_assert_cmpuint (event (song, 2)->tie, ==, MEL_TIE_START | MEL_TIE_STOP);
  g_assert_cmpuint (event (song, 3)->tie, ==, MEL_TIE_STOP);
  g_assert_cmpuint (event (song, 4)->tie, ==, MEL_TIE_NONE);
  g_assert_cmpuint (event (song, 3)->bar, ==, 2);

  parse_fails (HEADER "4[c\n4d]\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 6,
               "tie from line 5 is not continued by '4d]'");
  parse_fails (HEADER "4[c\n4c\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 6, "not continued");
  parse_fails (HEADER "4[c\n4r\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 6, "not continued");
  parse_fails (HEADER "4c]\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5, "tie end without a tie start '4c]'");
  parse_fails (HEADER "4c\n4[d\n4d_\n" FOOTER, MEL_KERN_ERROR_TRUNCATED, 6, "unfinished tie");
}

static void
test_phrases (void)
{
  g_autoptr (MelSong) song = parse_ok (HEADER "=1\n{4c\n4d\n4e}\n4r\n=2\n{4e\n4d\n2c}\n" FOOTER);

  g_assert_cmpuint (event (song, 0)->flags, ==, MEL_EVENT_PHRASE_START);
  g_assert_cmpuint (event (song, 1)->flags, ==, 0);
  g_assert_cmpuint (event (song, 2)->flags, ==, MEL_EVENT_PHRASE_END);
  g_assert_cmpuint (event (song, 3)->flags, ==, 0);
  g_assert_cmpuint (event (song, 4)->flags, ==, MEL_EVENT_PHRASE_START);
  g_assert_cmpuint (event (song, 6)->flags, ==, MEL_EVENT_PHRASE_END);

  /* a phrase mark on a rest, as the corpus has "8r}" */
  g_autoptr (MelSong) rest = parse_ok (HEADER "{4c\n8r}\n" FOOTER);
  g_assert_cmpuint (event (rest, 1)->flags, ==, MEL_EVENT_PHRASE_END);
  g_assert_true (mel_event_is_rest (event (rest, 1)));
}

static void
test_bars_and_pickup (void)
{
  /* 3/4 with a one-quarter pickup */
  g_autoptr (MelSong) song = parse_ok ("**kern\n*M3/4\n*k[]\n*C:\n4g\n=1\n2c\n4e\n=2\n2g\n==\n*-\n");
  const MelBar *bar;

  g_assert_cmpuint (song->bars->len, ==, 3);
  bar = &g_array_index (song->bars, MelBar, 0);
  g_assert_cmpint (bar->number, ==, 0);
  g_assert_cmpuint (bar->line, ==, 0);
  assert_rational (bar->onset, 0, 1);
  assert_rational (bar->duration, 1, 1);
  bar = &g_array_index (song->bars, MelBar, 1);
  g_assert_cmpint (bar->number, ==, 1);
  g_assert_cmpuint (bar->line, ==, 6);
  assert_rational (bar->onset, 1, 1);
  assert_rational (bar->duration, 3, 1);
  bar = &g_array_index (song->bars, MelBar, 2);
  g_assert_cmpint (bar->number, ==, 2);
  assert_rational (bar->duration, 2, 1);
  assert_rational (song->pickup, 1, 1);
  g_assert_cmpuint (event (song, 0)->bar, ==, 0);
  g_assert_cmpuint (event (song, 1)->bar, ==, 1);
  g_assert_cmpuint (event (song, 3)->bar, ==, 2);

  /* no pickup: starts with =1 */
  g_autoptr (MelSong) plain = parse_ok ("**kern\n*M2/4\n=1\n4c\n4d\n=2\n2e\n==\n*-\n");
  g_assert_cmpuint (plain->bars->len, ==, 2);
  g_assert_cmpint (g_array_index (plain->bars, MelBar, 0).number, ==, 1);
  assert_rational (plain->pickup, 0, 1);

  /* a full bar before the first bar line is no pickup */
  g_autoptr (MelSong) full = parse_ok ("**kern\n*M2/4\n4c\n4d\n=1\n2e\n==\n*-\n");
  g_assert_cmpint (g_array_index (full->bars, MelBar, 0).number, ==, 0);
  assert_rational (full->pickup, 0, 1);

  /* "=0" at the start (as in one corpus file), unnumbered and styled bar lines */
  g_autoptr (MelSong) zero = parse_ok ("**kern\n*M2/4\n=0\n4c\n=\n2d\n=5:|!\n2e\n=||\n2f\n==\n*-\n");
  g_assert_cmpuint (zero->bars->len, ==, 4);
  g_assert_cmpint (g_array_index (zero->bars, MelBar, 0).number, ==, 0);
  g_assert_cmpuint (g_array_index (zero->bars, MelBar, 0).line, ==, 3);
  g_assert_cmpint (g_array_index (zero->bars, MelBar, 1).number, ==, 1);
  g_assert_cmpint (g_array_index (zero->bars, MelBar, 2).number, ==, 5);
  g_assert_cmpint (g_array_index (zero->bars, MelBar, 3).number, ==, 6);
  assert_rational (zero->pickup, 1, 1); /* the "=0" bar holds one quarter of 2/4 */

  /* irregular meter: the next bar decides */
  g_autoptr (MelSong) irregular = parse_ok ("**kern\n*MX\n4c\n=1\n2d\n4e\n=2\n2f\n==\n*-\n");
  assert_rational (irregular->pickup, 1, 1);

  parse_fails (HEADER "=1?\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5, "bad bar line '=1?'");
  parse_fails (HEADER "=99999999999\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5, "bad bar number");
}

static void
test_meters (void)
{
  g_autoptr (MelSong) song = parse_ok ("**kern\n*M3/4\n*k[]\n*C:\n=1\n2.c\n=2\n*M2/4\n2d\n=3\n*MX\n"
                                       "4e\n4f\n4g\n=4\n*MM96\n*M6/8\n4.a\n4.g\n==\n*-\n");
  const MelMeter *m;

  g_assert_cmpuint (song->meters->len, ==, 4);
  m = &g_array_index (song->meters, MelMeter, 0);
  g_assert_cmpint (m->numerator, ==, 3);
  g_assert_cmpint (m->denominator, ==, 4);
  g_assert_false (m->irregular);
  assert_rational (m->onset, 0, 1);
  m = &g_array_index (song->meters, MelMeter, 1);
  g_assert_cmpint (m->numerator, ==, 2);
  assert_rational (m->onset, 3, 1);
  m = &g_array_index (song->meters, MelMeter, 2);
  g_assert_true (m->irregular);
  g_assert_cmpint (m->numerator, ==, 0);
  g_assert_cmpint (m->denominator, ==, 0);
  assert_rational (m->onset, 5, 1);
  assert_rational (mel_meter_bar_length (m), 0, 1);
  m = &g_array_index (song->meters, MelMeter, 3);
  g_assert_cmpint (m->numerator, ==, 6);
  g_assert_cmpint (m->denominator, ==, 8);
  assert_rational (m->onset, 8, 1);
  assert_rational (mel_meter_bar_length (m), 3, 1);

  /* the two corpus oddities, and a local comment that looks like a meter */
  g_autoptr (MelSong) odd = parse_ok ("**kern\n*MFREI4/4\n=0\n1c\n!*M3/4\n=1\n*M5/1%%%2+3%\n"
                                      "0c\n==\n*-\n");
  g_assert_cmpuint (odd->meters->len, ==, 2);
  m = &g_array_index (odd->meters, MelMeter, 0);
  g_assert_cmpint (m->numerator, ==, 4);
  g_assert_cmpint (m->denominator, ==, 4);
  m = &g_array_index (odd->meters, MelMeter, 1);
  g_assert_cmpint (m->numerator, ==, 5);
  g_assert_cmpint (m->denominator, ==, 1);
  assert_rational (m->onset, 4, 1);

  /* two meters at one onset: the later one counts */
  g_autoptr (MelSong) twice = parse_ok ("**kern\n*M3/4\n*M2/4\n4c\n==\n*-\n");
  g_assert_cmpuint (twice->meters->len, ==, 1);
  g_assert_cmpint (g_array_index (twice->meters, MelMeter, 0).numerator, ==, 2);

  parse_fails ("**kern\n*M3\n4c\n*-\n", MEL_KERN_ERROR_BAD_TOKEN, 2, "bad meter '*M3'");
  parse_fails ("**kern\n*M3/0\n4c\n*-\n", MEL_KERN_ERROR_BAD_TOKEN, 2, "bad meter");
}

static void
test_key_signatures (void)
{
  g_autoptr (MelSong) song = parse_ok ("**kern\n*k[f#c#g#]\n*A:\n=1\n1a\n=2\n*k[c-e-a-]\n1c-\n=3\n"
                                       "*k[b-e-a-d-g-c-]\n1g-\n=4\n*k[]\n1c\n==\n*-\n");
  const MelKeySignature *sig;

  g_assert_cmpuint (song->key_signatures->len, ==, 4);
  sig = &g_array_index (song->key_signatures, MelKeySignature, 0);
  g_assert_cmpint (sig->fifths, ==, 3);
  g_assert_cmpint (sig->alters[3], ==, 1); /* F# */
  g_assert_cmpint (sig->alters[0], ==, 1); /* C# */
  g_assert_cmpint (sig->alters[4], ==, 1); /* G# */
  g_assert_cmpint (sig->alters[1], ==, 0);
  sig = &g_array_index (song->key_signatures, MelKeySignature, 1);
  g_assert_cmpint (sig->fifths, ==, MEL_KEY_SIGNATURE_NONSTANDARD);
  g_assert_cmpint (sig->alters[0], ==, -1); /* C- */
  g_assert_cmpint (sig->alters[2], ==, -1); /* E- */
  g_assert_cmpint (sig->alters[5], ==, -1); /* A- */
  g_assert_cmpint (sig->alters[6], ==, 0);  /* B natural */
  assert_rational (sig->onset, 4, 1);
  sig = &g_array_index (song->key_signatures, MelKeySignature, 2);
  g_assert_cmpint (sig->fifths, ==, -6);
  sig = &g_array_index (song->key_signatures, MelKeySignature, 3);
  g_assert_cmpint (sig->fifths, ==, 0);
  assert_rational (sig->onset, 12, 1);
  g_assert_cmpint (mel_song_get_key_signature_at (song, mel_rational_new (5, 1))->fifths, ==,
                   MEL_KEY_SIGNATURE_NONSTANDARD);

  parse_fails ("**kern\n*k[x#]\n4c\n*-\n", MEL_KERN_ERROR_BAD_TOKEN, 2, "bad key signature '*k[x#]'");
  parse_fails ("**kern\n*k[f#\n4c\n*-\n", MEL_KERN_ERROR_BAD_TOKEN, 2, "bad key signature");
}

static void
test_keys (void)
{
  g_autoptr (MelSong) song = parse_ok ("**kern\n*k[]\n*C:\n=1\n2c\n2e\n*k[f#]\n*G:\n=2\n1g\n=3\n"
                                       "*g:\n1g\n*B-:\n1b-\n*f#:\n1f#\n*d:dor\n1d\n==\n*-\n");
  const MelKey *key;

  g_assert_cmpuint (song->keys->len, ==, 6);
  key = &g_array_index (song->keys, MelKey, 0);
  g_assert_cmpint (key->tonic_step, ==, 'C');
  g_assert_cmpint (key->mode, ==, MEL_MODE_MAJOR);
  key = &g_array_index (song->keys, MelKey, 1);
  g_assert_cmpint (key->tonic_step, ==, 'G');
  g_assert_cmpint (key->mode, ==, MEL_MODE_MAJOR);
  assert_rational (key->onset, 4, 1); /* the change before the bar line */
  key = &g_array_index (song->keys, MelKey, 2);
  g_assert_cmpint (key->tonic_step, ==, 'G');
  g_assert_cmpint (key->mode, ==, MEL_MODE_MINOR);
  key = &g_array_index (song->keys, MelKey, 3);
  g_assert_cmpint (key->tonic_step, ==, 'B');
  g_assert_cmpint (key->tonic_alter, ==, -1);
  g_assert_cmpint (mel_key_tonic_pitch_class (key), ==, 10);
  key = &g_array_index (song->keys, MelKey, 4);
  g_assert_cmpint (key->tonic_alter, ==, 1);
  g_assert_cmpint (key->mode, ==, MEL_MODE_MINOR);
  key = &g_array_index (song->keys, MelKey, 5);
  g_assert_cmpint (key->tonic_step, ==, 'D');
  g_assert_cmpint (key->mode, ==, MEL_MODE_MINOR);
  g_assert_cmpint (mel_song_get_key_at (song, mel_rational_new (9, 1))->mode, ==, MEL_MODE_MINOR);
}

static void
test_references (void)
{
  g_autoptr (MelSong) song = NULL;
  g_autoptr (GError) error = NULL;
  const char *text = "!!!OTL: Ein kleines Lied  \n!!!SCT: X0042\n!!!ARE: Europa, Mitteleuropa\n"
                     "!!!YEM: Copyright nobody\n!! an ordinary comment: with a colon\n"
                     "!!! not a record: spaces in the key\n**kern\n*ICvox\n*Ivox\n*clefG2\n"
                     "! a local comment\n4c\n==\n!!!AGN: Tanzlied\n!!!ONB: Test DB\n!!!COM: A\n"
                     "!!!COM: B\n*-\n!!!EEV: 1.0\n";

  song = mel_kern_parse (text, strlen (text), "/some/folder/lied.krn", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (song->title, ==, "Ein kleines Lied");
  g_assert_cmpstr (song->id, ==, "X0042");
  g_assert_cmpstr (song->region, ==, "Europa, Mitteleuropa");
  g_assert_cmpstr (song->genre, ==, "Tanzlied");
  g_assert_cmpstr (song->source_db, ==, "Test DB");
  g_assert_cmpstr (song->path, ==, "/some/folder/lied.krn");
  g_assert_cmpstr (g_hash_table_lookup (song->references, "YEM"), ==, "Copyright nobody");
  g_assert_cmpstr (g_hash_table_lookup (song->references, "COM"), ==, "A; B");
  g_assert_cmpstr (g_hash_table_lookup (song->references, "EEV"), ==, "1.0");
  g_assert_cmpuint (g_hash_table_size (song->references), ==, 8);

  /* without !!!SCT the id is the file name */
  g_autoptr (MelSong) nameless = NULL;
  nameless = mel_kern_parse ("**kern\n4c\n*-\n", 12, "/x/deut0001.krn", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (nameless->id, ==, "deut0001");
  g_assert_null (nameless->title);
}

static void
test_non_utf8 (void)
{
  /* DOS code page 850 bytes as in some corpus files: 0x81 ü, 0x84 ä, 0x94 ö, 0xE1 ß */
  const char text[] = "!!!OTL: Gr\x81\xe1 aus K\x94ln und H\x84user\n!! Kommentar \x84\x94\x81\xff\n"
                      "!!!ARE: Stra\xe1" "e\n**kern\n4c\n*-\n";
  g_autoptr (MelSong) song = parse_ok (text);

  g_assert_cmpstr (song->title, ==, "Grüß aus Köln und Häuser");
  g_assert_cmpstr (song->region, ==, "Straße");
  g_assert_true (g_utf8_validate (song->title, -1, NULL));

  /* valid UTF-8 stays as it is */
  g_autoptr (MelSong) utf8 = parse_ok ("!!!OTL: Grüß Gott\n**kern\n4c\n*-\n");
  g_assert_cmpstr (utf8->title, ==, "Grüß Gott");

  /* Windows line ends, a byte order mark and trailing blanks */
  g_autoptr (MelSong) crlf = parse_ok ("\xef\xbb\xbf!!!OTL: CRLF\r\n**kern\r\n4c \r\n4d\r\n*-\r\n");
  g_assert_cmpstr (crlf->title, ==, "CRLF");
  g_assert_cmpuint (mel_song_get_n_events (crlf), ==, 2);
  g_assert_cmpuint (event (crlf, 1)->line, ==, 4);
}

static void
test_comments_and_marks (void)
{
  g_autoptr (MelSong) song = parse_ok ("!! Mixed meters: 4/2; 6/2\n**kern\n!! inside\n*M2/4\n!*M3/4\n"
                                       "! local\n.\n*\n(8cL\n8d)J\n4e;\n4f'\n4g~^`\n*-\n");

  g_assert_cmpuint (mel_song_get_n_events (song), ==, 5);
  g_assert_cmpuint (song->meters->len, ==, 1);
  g_assert_cmpint (event (song, 4)->midi, ==, 67);
}

/* The defects of the ESAC German files, one by one (own snippets). */
static void
test_corpus_defects (void)
{
  /* "1.5<pitch>": recip 1.5 = 3%2, i.e. 8/3 quarters; with three
   * half-note triplets it fills a 4/2 bar exactly. */
  g_autoptr (MelSong) song = parse_ok ("**kern\n*M4/2\n=1\n1.5a\n3g\n3f\n3e\n3f\n=2\n1g\n==\n*-\n");
  assert_rational (event (song, 0)->duration, 8, 3);
  assert_rational (g_array_index (song->bars, MelBar, 0).duration, 8, 1);

  /* the backspace byte: the file is refused, the byte shown escaped */
  parse_fails (HEADER "=1\n4.B\b8G\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 6,
               "unknown character '\\x08' in note token '4.B\\x088G'");
  /* EsAC end markers: refused, since their pitch cannot be trusted */
  parse_fails (HEADER "0gg//#\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5,
               "unknown character '/' in note token '0gg//#'");
  parse_fails (HEADER "2gg>>#}\n" FOOTER, MEL_KERN_ERROR_BAD_TOKEN, 5,
               "unknown character '>' in note token '2gg>>#}'");
  /* a rational recip for a length no single note has */
  parse_fails (HEADER "16%5c\n" FOOTER, MEL_KERN_ERROR_BAD_DURATION, 5, "no single note value");
  parse_fails (HEADER "6...c\n" FOOTER, MEL_KERN_ERROR_BAD_DURATION, 5, "no single note value");
  parse_fails (HEADER "1%5c\n" FOOTER, MEL_KERN_ERROR_BAD_DURATION, 5, "no single note value");
}

/* ---- error paths ------------------------------------------------------------ */

static void
test_errors (void)
{
  g_autofree char *long_line = NULL;
  g_autofree char *long_text = NULL;
  const char nul_text[] = "**kern\n4c\n4\0d\n*-\n";

  parse_fails ("", MEL_KERN_ERROR_EMPTY, 0, "empty file");
  parse_fails (" \n\n\t\n", MEL_KERN_ERROR_EMPTY, 0, "empty file");
  parse_fails ("**kern\n*M4/4\n*-\n", MEL_KERN_ERROR_EMPTY, 3, "no notes or rests");
  parse_fails ("**kern\n*M4/4\n4c\n4d\n", MEL_KERN_ERROR_TRUNCATED, 4, "missing the *- terminator");
  parse_fails ("**kern\n*M4/4\n4c\n4d", MEL_KERN_ERROR_TRUNCATED, 4, "missing the *- terminator");
  parse_fails_len (nul_text, sizeof nul_text - 1, MEL_KERN_ERROR_BINARY, 3, "NUL byte");
  parse_fails ("!! only a comment\n", MEL_KERN_ERROR_NOT_KERN, 1, "no **kern spine");
  parse_fails ("4c\n*-\n", MEL_KERN_ERROR_NOT_KERN, 1, "expected **kern but found '4c'");
  parse_fails ("**text\nla\n*-\n", MEL_KERN_ERROR_NOT_KERN, 1, "'**text'");
  parse_fails ("**kern\t**kern\n4c\t4e\n*-\t*-\n", MEL_KERN_ERROR_UNSUPPORTED, 1, "several spines");
  parse_fails ("**kern\n4c\t4e\n*-\n", MEL_KERN_ERROR_UNSUPPORTED, 2, "several spines");
  parse_fails ("**kern\n4c 4e\n*-\n", MEL_KERN_ERROR_UNSUPPORTED, 2,
               "chords are not supported (monophonic melodies only) '4c 4e'");
  parse_fails ("**kern\n*^\n4c\n*-\n", MEL_KERN_ERROR_UNSUPPORTED, 2, "spine manipulators");
  parse_fails ("**kern\n8qc\n4c\n*-\n", MEL_KERN_ERROR_UNSUPPORTED, 2, "grace notes");
  parse_fails ("**kern\n4c\n*-\n4d\n", MEL_KERN_ERROR_UNSUPPORTED, 4, "data after the *- terminator");
  parse_fails ("**kern\n4c\n**kern\n*-\n", MEL_KERN_ERROR_UNSUPPORTED, 3, "second exclusive");
  parse_fails ("**kern\n4c\n4z\n*-\n", MEL_KERN_ERROR_BAD_TOKEN, 3,
               "unknown character 'z' in note token '4z'");
  parse_fails ("**kern\n4c\n4\xc3\xa4\n*-\n", MEL_KERN_ERROR_BAD_TOKEN, 3, "'4\\xc3\\xa4'");
  parse_fails ("**kern\n{}\n*-\n", MEL_KERN_ERROR_BAD_TOKEN, 2, "no pitch or rest");
  parse_fails ("**kern\nc\n*-\n", MEL_KERN_ERROR_BAD_DURATION, 2, "no duration in note token 'c'");
  parse_fails ("**kern\n4c8\n*-\n", MEL_KERN_ERROR_BAD_DURATION, 2, "two durations");
  parse_fails ("**kern\n4....c\n*-\n", MEL_KERN_ERROR_BAD_DURATION, 2, "too many dots");
  parse_fails ("**kern\n0000c\n*-\n", MEL_KERN_ERROR_BAD_DURATION, 2, "bad duration");
  parse_fails ("**kern\n04c\n*-\n", MEL_KERN_ERROR_BAD_DURATION, 2, "bad duration");
  parse_fails ("**kern\n3%0c\n*-\n", MEL_KERN_ERROR_BAD_DURATION, 2, "bad rational duration");
  parse_fails ("**kern\n1234567890c\n*-\n", MEL_KERN_ERROR_BAD_DURATION, 2, "too many digits");
  parse_fails ("**kern\n999999999c\n*-\n", MEL_KERN_ERROR_BAD_DURATION, 2, "duration out of range");
  parse_fails ("**kern\nc.4\n*-\n", MEL_KERN_ERROR_BAD_DURATION, 2, "dot without a duration");

  /* a line of 5000 bytes */
  long_line = g_strnfill (5000, 'c');
  long_text = g_strdup_printf ("**kern\n4c\n!! %s\n*-\n", long_line);
  parse_fails (long_text, MEL_KERN_ERROR_LINE_TOO_LONG, 3, "longer than 4096 bytes");

  /* too long a song: the time bound guards all later arithmetic */
  GString *huge = g_string_new ("**kern\n");
  for (int i = 0; i < 40000; i++)
    g_string_append (huge, "000c\n");
  g_string_append (huge, "*-\n");
  parse_fails (huge->str, MEL_KERN_ERROR_BAD_DURATION, 32769, "too long");
  g_string_free (huge, TRUE);

  /* path NULL */
  g_autoptr (GError) error = NULL;
  g_assert_null (mel_kern_parse ("", 0, NULL, &error));
  g_assert_error (error, MEL_KERN_ERROR, MEL_KERN_ERROR_EMPTY);
  g_assert_true (g_str_has_prefix (error->message, "<input>: "));
}

static void
test_read_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) missing = mel_kern_read_file ("/nonexistent/folder/x.krn", &error);
  g_autofree char *dir = g_dir_make_tmp ("mel-kern-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "out.krn", NULL);
  g_autofree char *bad_path = g_build_filename (dir, "no-such-dir", "out.krn", NULL);
  g_autoptr (MelSong) song = parse_ok (HEADER "=1\n{4c\n4d\n2e}\n" FOOTER);

  g_assert_null (missing);
  g_assert_error (error, MEL_KERN_ERROR, MEL_KERN_ERROR_IO);
  g_clear_error (&error);

  g_assert_true (mel_kern_write_file (song, path, &error));
  g_assert_no_error (error);
  g_autoptr (MelSong) back = mel_kern_read_file (path, &error);
  g_assert_no_error (error);
  g_assert_true (mel_song_events_equal (song, back));
  g_assert_cmpstr (back->path, ==, path);

  g_assert_false (mel_kern_write_file (song, bad_path, &error));
  g_assert_error (error, MEL_KERN_ERROR, MEL_KERN_ERROR_IO);
  g_assert_false (g_file_test (bad_path, G_FILE_TEST_EXISTS));

  g_remove (path);
  g_rmdir (dir);
}

/* ---- writer ------------------------------------------------------------------ */

static void
test_write_text (void)
{
  const char *text = "!!!OTL: Kurz\n!!!SCT: T1\n!!!AGN: Test\n**kern\n*M3/4\n*k[b-]\n*F:\n"
                     "{4c\n=1\n[2f\n4f]\n=2\n*M2/4\n*k[f#]\n*G:\n8.g\n16a\n12b\n12cc#\n12ddn}\n"
                     "=3\n0.r\n=4\n3%2B-\n==\n*-\n";
  const char *expected = "!!!OTL: Kurz\n!!!SCT: T1\n!!!AGN: Test\n**kern\n*M3/4\n*k[b-]\n*F:\n"
                         "{4c\n=1\n[2f\n4f]\n=2\n*M2/4\n*k[f#]\n*G:\n8.g\n16a\n12b\n12cc#\n12dd}\n"
                         "=3\n0.r\n=4\n3%2B-\n==\n*-\n";
  g_autoptr (MelSong) song = parse_ok (text);
  g_autofree char *written = mel_kern_write (song);

  g_assert_cmpstr (written, ==, expected);
}

/* Songs not read from kern: unspelled pitches, binary lengths without a
 * single note value, metadata set without records. */
static void
test_write_built_song (void)
{
  g_autoptr (MelSong) song = mel_song_new ("gen-7");
  MelMeter meter = { MEL_RATIONAL_ZERO, 4, 4, FALSE };
  MelKeySignature sig;
  MelBar bar = { MEL_RATIONAL_ZERO, mel_rational_new (4, 1), 1, 0 };
  MelEvent note = { 0 };

  mel_key_signature_init_fifths (&sig, -1);
  sig.onset = MEL_RATIONAL_ZERO;
  mel_song_add_meter (song, &meter);
  mel_song_add_key_signature (song, &sig);
  mel_song_set_title (song, "Erzeugt");
  mel_song_add_bar (song, &bar);
  note.onset = MEL_RATIONAL_ZERO;
  note.duration = mel_rational_new (5, 4); /* a quarter tied to a sixteenth */
  note.midi = 70;                          /* no spelling: B- in F major */
  note.flags = MEL_EVENT_PHRASE_START;
  mel_song_add_event (song, &note);
  note.onset = mel_rational_new (5, 4);
  note.duration = mel_rational_new (11, 4); /* a half tied to a dotted eighth */
  note.midi = 60;
  note.flags = MEL_EVENT_PHRASE_END;
  mel_song_add_event (song, &note);

  g_autofree char *written = mel_kern_write (song);
  g_assert_cmpstr (written, ==,
                   "!!!OTL: Erzeugt\n!!!SCT: gen-7\n**kern\n*M4/4\n*k[b-]\n=1\n"
                   "{[4b-\n16b-]\n[2c\n8.c]}\n==\n*-\n");
  g_autoptr (MelSong) back = parse_ok (written);
  g_assert_cmpuint (mel_song_get_n_events (back), ==, 4);
  g_assert_cmpstr (back->title, ==, "Erzeugt");
  g_assert_cmpstr (back->id, ==, "gen-7");
  g_assert_true (mel_rational_equal (back->duration, song->duration));

  /* a second bar, the events' bar index left at 0: the onsets place it */
  MelBar second = { mel_rational_new (4, 1), mel_rational_new (2, 1), 2, 0 };
  mel_song_add_bar (song, &second);
  note.onset = mel_rational_new (4, 1);
  note.duration = mel_rational_new (2, 1);
  note.midi = 65;
  note.flags = 0;
  mel_song_add_event (song, &note);
  g_autofree char *two_bars = mel_kern_write (song);
  g_assert_nonnull (strstr (two_bars, "[2c\n8.c]}\n=2\n2f\n==\n*-\n"));
}

/* parse → write → parse keeps everything, for every fixture that loads */
static void
test_round_trip_fixtures (void)
{
  const char *source = g_getenv ("MELODIST_SOURCE_DIR");
  g_autofree char *root = g_build_filename (source != NULL ? source : ".", "tests", "fixtures",
                                            "kern", NULL);
  g_autoptr (GPtrArray) folders = g_ptr_array_new_with_free_func (g_free);
  guint n_loaded = 0, n_refused = 0;

  g_ptr_array_add (folders, g_strdup (root));
  for (guint f = 0; f < folders->len; f++)
    {
      g_autoptr (GDir) dir = g_dir_open (g_ptr_array_index (folders, f), 0, NULL);
      const char *name;
      g_assert_nonnull (dir);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (g_ptr_array_index (folders, f), name, NULL);
          g_autoptr (GError) error = NULL;
          if (g_file_test (path, G_FILE_TEST_IS_DIR))
            {
              g_ptr_array_add (folders, g_steal_pointer (&path));
              continue;
            }
          if (!g_str_has_suffix (name, ".krn"))
            continue;
          g_autoptr (MelSong) song = mel_kern_read_file (path, &error);
          if (song == NULL)
            {
              n_refused++;
              continue;
            }
          g_autofree char *text = mel_kern_write (song);
          g_autoptr (MelSong) again = mel_kern_parse (text, strlen (text), path, &error);
          g_autofree char *why = NULL;
          g_assert_no_error (error);
          if (!mel_test_songs_equivalent (song, again, &why))
            g_error ("%s: round trip changed the song: %s", path, why);
          n_loaded++;
        }
    }
  g_test_message ("%u fixtures round-tripped, %u refused", n_loaded, n_refused);
  g_assert_cmpuint (n_loaded, >=, 7);
  g_assert_cmpuint (n_refused, ==, 2);
}

/* The fuzz target over its seed corpus (the fixtures) and some inputs
 * found by fuzzing. */
static void
test_fuzz_seeds (void)
{
  const char *source = g_getenv ("MELODIST_SOURCE_DIR");
  g_autofree char *root = g_build_filename (source != NULL ? source : ".", "tests", "fixtures",
                                            "kern", NULL);
  g_autoptr (GPtrArray) folders = g_ptr_array_new_with_free_func (g_free);
  static const char *const extra[] = {
    "!!!AGN: a\n!!!AGN: b\n!!!AGN: \n**kern\n4c\n*-\n",
    "**kern\n*MFREI4/4\n=0\n1c\n=1\n4d\n*-\n",
    "**kern\n=0\n=1\n4c\n=2\n=3\n*-\n",
    "**kern\n*M3/4\n4c\n*k[f#]\n*-\n",
    "**kern\n**kern\n",
  };
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (extra); i++)
    g_assert_cmpint (LLVMFuzzerTestOneInput ((const uint8_t *) extra[i], strlen (extra[i])), ==, 0);
  g_ptr_array_add (folders, g_strdup (root));
  for (guint f = 0; f < folders->len; f++)
    {
      g_autoptr (GDir) dir = g_dir_open (g_ptr_array_index (folders, f), 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (g_ptr_array_index (folders, f), name, NULL);
          g_autofree char *data = NULL;
          gsize length;
          if (g_file_test (path, G_FILE_TEST_IS_DIR))
            {
              g_ptr_array_add (folders, g_steal_pointer (&path));
              continue;
            }
          g_assert_true (g_file_get_contents (path, &data, &length, NULL));
          g_assert_cmpint (LLVMFuzzerTestOneInput ((const uint8_t *) data, length), ==, 0);
          n++;
        }
    }
  /* LLVMFuzzerTestOneInput made warnings fatal; the test harness does too */
  g_assert_cmpuint (n, >=, 9);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mel/kern/durations", test_durations);
  g_test_add_func ("/mel/kern/pitches", test_pitches);
  g_test_add_func ("/mel/kern/ties", test_ties);
  g_test_add_func ("/mel/kern/phrases", test_phrases);
  g_test_add_func ("/mel/kern/bars-and-pickup", test_bars_and_pickup);
  g_test_add_func ("/mel/kern/meters", test_meters);
  g_test_add_func ("/mel/kern/key-signatures", test_key_signatures);
  g_test_add_func ("/mel/kern/keys", test_keys);
  g_test_add_func ("/mel/kern/references", test_references);
  g_test_add_func ("/mel/kern/non-utf8", test_non_utf8);
  g_test_add_func ("/mel/kern/comments-and-marks", test_comments_and_marks);
  g_test_add_func ("/mel/kern/corpus-defects", test_corpus_defects);
  g_test_add_func ("/mel/kern/errors", test_errors);
  g_test_add_func ("/mel/kern/read-write-file", test_read_file);
  g_test_add_func ("/mel/kern/write-text", test_write_text);
  g_test_add_func ("/mel/kern/write-built-song", test_write_built_song);
  g_test_add_func ("/mel/kern/round-trip-fixtures", test_round_trip_fixtures);
  g_test_add_func ("/mel/kern/fuzz-seeds", test_fuzz_seeds);

  return g_test_run ();
}
