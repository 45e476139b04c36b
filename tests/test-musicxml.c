/* test-musicxml.c — MusicXML export: structure (libxml2), a round trip of
 * the notes, the .mxl container, and MuseScore's reading when installed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-abc.h"
#include "mel-corpus.h"
#include "mel-musicxml.h"
#include "mel-midi.h"

#include "mel-test-smf.h"
#include "mel-test-songs.h"

#include <glib/gstdio.h>
#include <string.h>
#include <zlib.h>

#if __has_include(<libxml/parser.h>)
#define HAVE_LIBXML 1
#include <libxml/parser.h>
#include <libxml/tree.h>
#endif

static const char *const all_songs[] = { TEST_SONG_PICKUP, TEST_SONG_SIX_EIGHT, TEST_SONG_IRREGULAR,
                                         TEST_SONG_ODD_KEY };

static char *
write_xml (const MelSong *song)
{
  g_autoptr (GError) error = NULL;
  char *xml = mel_musicxml_write (song, &error);

  g_assert_no_error (error);
  g_assert_nonnull (xml);
  return xml;
}

#ifdef HAVE_LIBXML

static xmlNode *
child (xmlNode *node, const char *name)
{
  for (xmlNode *c = node != NULL ? node->children : NULL; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && strcmp ((const char *) c->name, name) == 0)
      return c;
  return NULL;
}

static char *
child_text (xmlNode *node, const char *name)
{
  xmlNode *c = child (node, name);
  xmlChar *content;
  char *text;

  if (c == NULL)
    return NULL;
  content = xmlNodeGetContent (c);
  text = g_strdup ((const char *) content);
  xmlFree (content);
  return text;
}

static gint64
child_int (xmlNode *node, const char *name, gint64 fallback)
{
  g_autofree char *text = child_text (node, name);
  return text != NULL ? g_ascii_strtoll (text, NULL, 10) : fallback;
}

static char *
attr (xmlNode *node, const char *name)
{
  xmlChar *v = xmlGetProp (node, (const xmlChar *) name);
  char *s = g_strdup ((const char *) v);
  xmlFree (v);
  return s;
}

static gboolean
has_child_with_attr (xmlNode *node, const char *name, const char *attr_name, const char *value)
{
  for (xmlNode *c = node != NULL ? node->children : NULL; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && strcmp ((const char *) c->name, name) == 0)
      {
        g_autofree char *v = attr (c, attr_name);
        if (g_strcmp0 (v, value) == 0)
          return TRUE;
      }
  return FALSE;
}

static xmlDoc *
parse (const char *xml)
{
  xmlDoc *doc = xmlReadMemory (xml, (int) strlen (xml), "score.musicxml", NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING);
  g_assert_nonnull (doc);
  return doc;
}

/* What one <note> says, plus where it starts. */
typedef struct
{
  gint64 onset; /* divisions */
  gint64 duration;
  int midi;     /* -1 rest */
  gboolean tie_start, tie_stop;
  char *type;
  char *accidental;
  int measure;
} ReadNote;

static void
read_note_clear (gpointer p)
{
  ReadNote *n = p;
  g_free (n->type);
  g_free (n->accidental);
}

/* Reads every note and checks per measure that the durations fill it. */
static GArray *
read_notes (xmlDoc *doc, gint64 *divisions_out)
{
  xmlNode *root = xmlDocGetRootElement (doc);
  xmlNode *part = child (root, "part");
  GArray *notes = g_array_new (FALSE, TRUE, sizeof (ReadNote));
  gint64 divisions = 0, t = 0;
  int measure_index = 0;

  g_array_set_clear_func (notes, read_note_clear);
  g_assert_nonnull (part);
  for (xmlNode *m = part->children; m != NULL; m = m->next)
    {
      if (m->type != XML_ELEMENT_NODE || strcmp ((const char *) m->name, "measure") != 0)
        continue;
      for (xmlNode *e = m->children; e != NULL; e = e->next)
        {
          if (e->type != XML_ELEMENT_NODE)
            continue;
          if (strcmp ((const char *) e->name, "attributes") == 0 && child (e, "divisions") != NULL)
            divisions = child_int (e, "divisions", 0);
          if (strcmp ((const char *) e->name, "note") != 0)
            continue;
          g_assert_null (child (e, "chord"));
          ReadNote n = { 0 };
          n.onset = t;
          n.duration = child_int (e, "duration", -1);
          n.measure = measure_index;
          g_assert_cmpint (n.duration, >, 0);
          xmlNode *pitch = child (e, "pitch");
          if (pitch != NULL)
            {
              g_autofree char *step = child_text (pitch, "step");
              MelPitch p = { step[0], (gint8) child_int (pitch, "alter", 0), (gint8) child_int (pitch, "octave", 0) };
              n.midi = mel_pitch_to_midi (p);
            }
          else
            {
              g_assert_nonnull (child (e, "rest"));
              n.midi = -1;
            }
          n.tie_start = has_child_with_attr (e, "tie", "type", "start");
          n.tie_stop = has_child_with_attr (e, "tie", "type", "stop");
          /* Sound (tie) and notation (tied) agree. */
          g_assert_cmpint (n.tie_start, ==, has_child_with_attr (child (e, "notations"), "tied", "type", "start"));
          g_assert_cmpint (n.tie_stop, ==, has_child_with_attr (child (e, "notations"), "tied", "type", "stop"));
          n.type = child_text (e, "type");
          n.accidental = child_text (e, "accidental");
          g_array_append_val (notes, n);
          t += n.duration;
        }
      measure_index++;
    }
  g_assert_cmpint (divisions, >, 0);
  *divisions_out = divisions;
  return notes;
}

/* Tied notes merged back, rests dropped: [on, off, key] in ticks of 480. */
static GArray *
sounding_ticks (GArray *notes, gint64 divisions)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint64));
  gboolean open = FALSE;

  for (guint i = 0; i < notes->len; i++)
    {
      const ReadNote *n = &g_array_index (notes, ReadNote, i);
      gint64 on = n->onset * 480 / divisions, off = (n->onset + n->duration) * 480 / divisions;
      g_assert_cmpint (n->onset * 480 % divisions, ==, 0);
      if (n->midi < 0)
        {
          open = FALSE;
          continue;
        }
      if (open && n->tie_stop)
        {
          g_assert_cmpint (g_array_index (out, gint64, out->len - 1), ==, n->midi);
          g_array_index (out, gint64, out->len - 2) = off;
        }
      else
        {
          gint64 triple[3] = { on, off, n->midi };
          g_array_append_vals (out, triple, 3);
        }
      open = n->tie_start;
    }
  return out;
}

static void
assert_ticks_equal (GArray *a, GArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpint (g_array_index (a, gint64, i), ==, g_array_index (b, gint64, i));
}

static xmlNode *
nth_measure (xmlDoc *doc, int index)
{
  xmlNode *part = child (xmlDocGetRootElement (doc), "part");
  for (xmlNode *m = part->children; m != NULL; m = m->next)
    if (m->type == XML_ELEMENT_NODE && index-- == 0)
      return m;
  return NULL;
}

static void
test_round_trip (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (all_songs); s++)
    {
      g_autoptr (MelSong) song = test_song_new ("RT", "Round trip", all_songs[s]);
      g_autofree char *xml = write_xml (song);
      xmlDoc *doc = parse (xml);
      gint64 divisions;
      g_autoptr (GArray) notes = read_notes (doc, &divisions);
      g_autoptr (GArray) got = sounding_ticks (notes, divisions);
      g_autoptr (GArray) expected = test_song_expected_ticks (song, 480);

      /* The whole song, note for note, at exact times. */
      assert_ticks_equal (got, expected);
      const ReadNote *last = &g_array_index (notes, ReadNote, notes->len - 1);
      MelRational end = mel_rational_mul (song->duration, mel_rational_new (divisions, 1));
      g_assert_cmpint (end.den, ==, 1);
      g_assert_cmpint (last->onset + last->duration, ==, end.num);
      xmlFreeDoc (doc);
    }
}

/* Measures, pickup, time and key signatures, triplets, beams, accidentals. */
static void
test_structure_pickup (void)
{
  g_autoptr (MelSong) song = test_song_new ("S1", "A <title> & more", TEST_SONG_PICKUP);
  g_autofree char *xml = write_xml (song);
  xmlDoc *doc = parse (xml);
  xmlNode *root = xmlDocGetRootElement (doc);
  gint64 divisions;
  g_autoptr (GArray) notes = read_notes (doc, &divisions);
  g_autofree char *version = attr (root, "version");
  g_autofree char *title = child_text (child (root, "work"), "work-title");

  g_assert_cmpstr ((const char *) root->name, ==, "score-partwise");
  g_assert_cmpstr (version, ==, "4.0");
  g_assert_cmpstr (title, ==, "A <title> & more");
  g_assert_cmpint (divisions, ==, 6); /* quarter 6: eighth 3, triplet eighth 2 */

  /* Measure 0 is the implicit pickup; then 1…6. */
  xmlNode *m0 = nth_measure (doc, 0);
  g_autofree char *n0 = attr (m0, "number");
  g_autofree char *implicit = attr (m0, "implicit");
  g_assert_cmpstr (n0, ==, "0");
  g_assert_cmpstr (implicit, ==, "yes");
  xmlNode *attrs = child (m0, "attributes");
  g_assert_cmpint (child_int (child (attrs, "key"), "fifths", 99), ==, 1);
  g_autofree char *mode = child_text (child (attrs, "key"), "mode");
  g_assert_cmpstr (mode, ==, "major");
  g_assert_cmpint (child_int (child (attrs, "time"), "beats", 0), ==, 3);
  g_assert_cmpint (child_int (child (attrs, "time"), "beat-type", 0), ==, 4);
  xmlNode *m6 = nth_measure (doc, 6);
  g_assert_null (nth_measure (doc, 7));
  g_autofree char *n6 = attr (m6, "number");
  g_assert_cmpstr (n6, ==, "6");
  /* 2/4 from measure 5 on. */
  xmlNode *m5 = nth_measure (doc, 5);
  g_assert_cmpint (child_int (child (child (m5, "attributes"), "time"), "beats", 0), ==, 2);
  g_assert_null (child (m6, "attributes"));
  g_assert_nonnull (child (m6, "barline"));

  /* Measure 2: the triplet with bracket start/stop and 3:2, beamed. */
  xmlNode *m2 = nth_measure (doc, 2);
  int k = 0;
  for (xmlNode *e = m2->children; e != NULL; e = e->next)
    {
      if (e->type != XML_ELEMENT_NODE || strcmp ((const char *) e->name, "note") != 0)
        continue;
      if (k < 3)
        {
          xmlNode *tm = child (e, "time-modification");
          g_assert_nonnull (tm);
          g_assert_cmpint (child_int (tm, "actual-notes", 0), ==, 3);
          g_assert_cmpint (child_int (tm, "normal-notes", 0), ==, 2);
          g_autofree char *beam = child_text (e, "beam");
          g_assert_cmpstr (beam, ==, k == 0 ? "begin" : k == 1 ? "continue" : "end");
          g_assert_cmpint (has_child_with_attr (child (e, "notations"), "tuplet", "type", "start"), ==, k == 0);
          g_assert_cmpint (has_child_with_attr (child (e, "notations"), "tuplet", "type", "stop"), ==, k == 2);
        }
      else
        g_assert_null (child (e, "time-modification"));
      k++;
    }
  g_assert_cmpint (k, ==, 4);

  /* Accidentals: F#4 in G major has none; D#4 gets a sharp; F4 a natural,
   * and the F#4 after it in the same bar a sharp again. */
  static const struct
  {
    int index;
    const char *type;
    const char *accidental;
  } expect[] = {
    { 0, "quarter", NULL },  { 2, "eighth", NULL },    { 10, "quarter", NULL }, { 11, "quarter", NULL },
    { 12, "quarter", NULL }, { 15, "eighth", "sharp" }, { 16, "eighth", NULL },  { 17, "eighth", "natural" },
    { 18, "quarter", "sharp" }, { 19, "half", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      const ReadNote *n = &g_array_index (notes, ReadNote, expect[i].index);
      g_assert_cmpstr (n->type, ==, expect[i].type);
      g_assert_cmpstr (n->accidental, ==, expect[i].accidental);
    }
  /* The tie E4 over the barline of measures 3/4. */
  g_assert_true (g_array_index (notes, ReadNote, 11).tie_start);
  g_assert_true (g_array_index (notes, ReadNote, 12).tie_stop);
  g_assert_cmpint (g_array_index (notes, ReadNote, 12).measure, ==, 4);
  xmlFreeDoc (doc);
}

static void
test_structure_six_eight (void)
{
  g_autoptr (MelSong) song = test_song_new ("S2", NULL, TEST_SONG_SIX_EIGHT);
  g_autofree char *xml = write_xml (song);
  xmlDoc *doc = parse (xml);
  gint64 divisions;
  g_autoptr (GArray) notes = read_notes (doc, &divisions);
  g_autofree char *beams = NULL;
  GString *b = g_string_new (NULL);

  /* Bars come from the meter: 5 of 6/8 (no pickup). */
  g_assert_nonnull (nth_measure (doc, 4));
  g_assert_null (nth_measure (doc, 5));
  g_autofree char *n0 = attr (nth_measure (doc, 0), "number");
  g_assert_cmpstr (n0, ==, "1");
  xmlNode *key = child (child (nth_measure (doc, 0), "attributes"), "key");
  g_assert_cmpint (child_int (key, "fifths", 99), ==, -2);
  g_autofree char *mode = child_text (key, "mode");
  g_assert_cmpstr (mode, ==, "minor");

  /* Beams per dotted quarter: the first bar 8. 16 8 | 4 8. */
  for (xmlNode *e = nth_measure (doc, 0)->children; e != NULL; e = e->next)
    if (e->type == XML_ELEMENT_NODE && strcmp ((const char *) e->name, "note") == 0)
      {
        g_autofree char *beam = child_text (e, "beam");
        g_string_append_printf (b, "%s ", beam != NULL ? beam : "-");
      }
  beams = g_string_free (b, FALSE);
  g_assert_cmpstr (beams, ==, "begin continue end - - ");
  /* The sixteenth's second beam is a backward hook. */
  g_assert_true (strstr (xml, "<beam number=\"2\">backward hook</beam>") != NULL);

  /* The half note G4 over the barline: dotted quarter tied to an eighth. */
  const ReadNote *g1 = &g_array_index (notes, ReadNote, 12);
  const ReadNote *g2 = &g_array_index (notes, ReadNote, 13);
  g_assert_cmpint (g1->midi, ==, 67);
  g_assert_cmpstr (g1->type, ==, "quarter");
  g_assert_true (g1->tie_start && g2->tie_stop);
  g_assert_cmpint (g2->measure, ==, g1->measure + 1);
  /* Eb5 in two flats: no accidental; E4 natural: a natural; F#4: sharp. */
  for (guint i = 0; i < notes->len; i++)
    {
      const ReadNote *n = &g_array_index (notes, ReadNote, i);
      if (n->midi == 75)
        g_assert_null (n->accidental);
      if (n->midi == 64)
        g_assert_cmpstr (n->accidental, ==, "natural");
      if (n->midi == 66 && !n->tie_stop)
        g_assert_cmpstr (n->accidental, ==, "sharp");
    }
  xmlFreeDoc (doc);
}

static void
test_structure_irregular_and_odd_key (void)
{
  g_autoptr (MelSong) song = test_song_new ("S3", NULL, TEST_SONG_IRREGULAR);
  g_autoptr (MelSong) odd = test_song_new ("S4", NULL, TEST_SONG_ODD_KEY);
  g_autofree char *xml = write_xml (song);
  g_autofree char *xml_odd = write_xml (odd);
  xmlDoc *doc = parse (xml);
  xmlDoc *doc_odd = parse (xml_odd);
  static const int beats[] = { 3, 6, 3, 3 };

  /* Hidden time signatures follow the bar lengths: 3/4, 6/4, 3/4 (the
   * fourth bar keeps it). */
  for (int i = 0; i < 4; i++)
    {
      xmlNode *time = child (child (nth_measure (doc, i), "attributes"), "time");
      if (i == 3)
        {
          g_assert_null (time);
          continue;
        }
      g_autofree char *print = attr (time, "print-object");
      g_assert_cmpstr (print, ==, "no");
      g_assert_cmpint (child_int (time, "beats", 0), ==, beats[i]);
      g_assert_cmpint (child_int (time, "beat-type", 0), ==, 4);
    }
  /* Key change to two sharps in bar 3; Bbb4 gets a double flat. */
  g_assert_cmpint (child_int (child (child (nth_measure (doc, 2), "attributes"), "key"), "fifths", 99), ==, 2);
  g_assert_true (strstr (xml, "<accidental>flat-flat</accidental>") != NULL);

  /* [c- e- a-] as key-step/key-alter pairs; Ab4 plain, C5 natural. */
  xmlNode *key = child (child (nth_measure (doc_odd, 0), "attributes"), "key");
  g_assert_null (child (key, "fifths"));
  g_assert_true (strstr (xml_odd, "<key-step>C</key-step>\n          <key-alter>-1</key-alter>") != NULL);
  g_assert_true (strstr (xml_odd, "<key-step>E</key-step>") != NULL);
  g_assert_true (strstr (xml_odd, "<key-step>A</key-step>") != NULL);
  g_assert_true (strstr (xml_odd, "<type>breve</type>") != NULL);
  g_assert_true (strstr (xml_odd, "<accidental>natural</accidental>") != NULL);
  g_assert_true (strstr (xml_odd, "<accidental>flat</accidental>") == NULL);
  xmlFreeDoc (doc);
  xmlFreeDoc (doc_odd);
}

#endif /* HAVE_LIBXML */

/* ---- .mxl ---------------------------------------------------------------- */

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

/* Our own reader: walks the central directory, inflates each entry and
 * checks its CRC-32; returns name → contents. */
static GHashTable *
read_zip (const guint8 *zip, gsize length)
{
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  const guint8 *eocd = zip + length - 22;

  g_assert_cmpuint (le32 (eocd), ==, 0x06054b50);
  guint n = le16 (eocd + 10);
  const guint8 *cd = zip + le32 (eocd + 16);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (le32 (cd), ==, 0x02014b50);
      guint method = le16 (cd + 10);
      guint32 crc = le32 (cd + 16), csize = le32 (cd + 20), size = le32 (cd + 24);
      guint name_len = le16 (cd + 28), extra = le16 (cd + 30), comment = le16 (cd + 32);
      const guint8 *local = zip + le32 (cd + 42);
      g_assert_cmpuint (le32 (local), ==, 0x04034b50);
      g_assert_cmpuint (le32 (local + 14), ==, crc);
      const guint8 *data = local + 30 + le16 (local + 26) + le16 (local + 28);
      char *name = g_strndup ((const char *) cd + 46, name_len);
      guint8 *out = g_malloc (size + 1);
      if (method == 0)
        {
          g_assert_cmpuint (csize, ==, size);
          memcpy (out, data, size);
        }
      else
        {
          z_stream zs = { 0 };
          g_assert_cmpuint (method, ==, 8);
          g_assert_cmpint (inflateInit2 (&zs, -MAX_WBITS), ==, Z_OK);
          zs.next_in = (Bytef *) data;
          zs.avail_in = csize;
          zs.next_out = out;
          zs.avail_out = size;
          g_assert_cmpint (inflate (&zs, Z_FINISH), ==, Z_STREAM_END);
          g_assert_cmpuint (zs.total_out, ==, size);
          inflateEnd (&zs);
        }
      g_assert_cmpuint (crc32 (crc32 (0, Z_NULL, 0), out, size), ==, crc);
      g_hash_table_insert (files, name, g_bytes_new_take (out, size));
      cd += 46 + name_len + extra + comment;
    }
  return files;
}

static void
test_mxl (void)
{
  g_autoptr (MelSong) song = test_song_new ("S1", "Compressed", TEST_SONG_PICKUP);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) mxl = mel_musicxml_write_mxl (song, &error);
  g_autoptr (GBytes) again = mel_musicxml_write_mxl (song, &error);
  g_autofree char *xml = write_xml (song);
  g_autoptr (GHashTable) files = NULL;
  gsize length;
  const guint8 *data;

  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (mxl, again)); /* reproducible */
  data = g_bytes_get_data (mxl, &length);
  /* The mimetype is the first entry, stored, right after the header. */
  g_assert_cmpmem (data + 30, 8, "mimetype", 8);
  g_assert_cmpuint (le16 (data + 8), ==, 0);
  g_assert_cmpmem (data + 38, 34, "application/vnd.recordare.musicxml", 34);
  files = read_zip (data, length);
  g_assert_cmpuint (g_hash_table_size (files), ==, 3);
  GBytes *score = g_hash_table_lookup (files, "score.musicxml");
  g_assert_nonnull (score);
  gsize score_len;
  const char *score_data = g_bytes_get_data (score, &score_len);
  g_assert_cmpmem (score_data, score_len, xml, strlen (xml));
  GBytes *container = g_hash_table_lookup (files, "META-INF/container.xml");
  g_assert_nonnull (container);
  g_autofree char *container_text = g_strndup (g_bytes_get_data (container, NULL), g_bytes_get_size (container));
  g_assert_nonnull (strstr (container_text, "full-path=\"score.musicxml\""));

  /* unzip agrees, when it is installed. */
  g_autofree char *unzip = g_find_program_in_path ("unzip");
  if (unzip != NULL)
    {
      g_autofree char *dir = g_dir_make_tmp ("mel-mxl-XXXXXX", NULL);
      g_autofree char *path = g_build_filename (dir, "t.mxl", NULL);
      int status = 0;
      g_assert_true (mel_musicxml_write_file (song, path, &error));
      g_assert_no_error (error);
      const char *argv[] = { unzip, "-tq", path, NULL };
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                                   &status, &error));
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_unlink (path);
      g_rmdir (dir);
    }
}

static void
test_errors (void)
{
  g_autoptr (MelSong) empty = mel_song_new ("E");
  g_autoptr (MelSong) odd = mel_song_new ("Q");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mel-mxl-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "no", "t.musicxml", NULL);
  g_autoptr (MelSong) song = test_song_new ("S1", "T", TEST_SONG_PICKUP);
  MelEvent ev = { 0 };

  g_assert_null (mel_musicxml_write (empty, &error));
  g_assert_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_EMPTY);
  g_clear_error (&error);
  /* A quintuplet sixteenth cannot be spelled with our values. */
  ev.onset = MEL_RATIONAL_ZERO;
  ev.duration = mel_rational_new (1, 5);
  ev.pitch = mel_pitch_from_midi (60, TRUE);
  ev.midi = 60;
  mel_song_add_event (odd, &ev);
  g_assert_null (mel_musicxml_write (odd, &error));
  g_assert_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (mel_musicxml_write_file (song, bad, &error));
  g_assert_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_IO);
  g_rmdir (dir);
}

/* ---- MuseScore ------------------------------------------------------------- */

/* MuseScore 3 reads our file without a message and plays the same notes. */
static void
test_musescore (void)
{
  g_autofree char *xvfb = g_find_program_in_path ("xvfb-run");
  g_autofree char *mscore = g_find_program_in_path ("mscore3");
  g_autofree char *dir = NULL;

  if (xvfb == NULL || mscore == NULL)
    {
      g_test_skip ("xvfb-run or mscore3 is not installed (apt install xvfb musescore3)");
      return;
    }
  dir = g_dir_make_tmp ("mel-mscore-XXXXXX", NULL);
  for (guint s = 0; s < G_N_ELEMENTS (all_songs); s++)
    for (int compressed = 0; compressed < 2; compressed++)
      {
        g_autoptr (MelSong) song = test_song_new ("MS", "MuseScore", all_songs[s]);
        g_autofree char *in = g_strdup_printf ("%s/s%u.%s", dir, s, compressed ? "mxl" : "musicxml");
        g_autofree char *out = g_strdup_printf ("%s/s%u-%d.mid", dir, s, compressed);
        g_autofree char *err = NULL;
        g_autoptr (GError) error = NULL;
        g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "XDG_RUNTIME_DIR", dir, TRUE);
        int status = 0;

        g_assert_true (mel_musicxml_write_file (song, in, &error));
        g_assert_no_error (error);
        const char *argv[] = { xvfb, "-a", mscore, "-o", out, in, NULL };
        g_assert_true (g_spawn_sync (dir, (char **) argv, env, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                                     &status, &error));
        g_assert_no_error (error);
        g_assert_true (g_spawn_check_wait_status (status, NULL));
        /* Only the progress lines; anything else is a warning. */
        g_auto (GStrv) lines = g_strsplit (err, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++)
          {
            const char *l = g_strstrip (lines[i]);
            if (*l == '\0' || g_str_has_prefix (l, "convert <") || g_str_has_prefix (l, "to <") ||
                g_str_has_prefix (l, "... success"))
              continue;
            g_test_message ("mscore3 said: %s", l);
            g_assert_not_reached ();
          }
        g_autoptr (Smf) smf = smf_read_file (out);
        g_assert_nonnull (smf);
        g_autoptr (GArray) expected = test_song_expected_ticks (song, smf->division);
        g_assert_cmpuint (smf->notes->len * 3, ==, expected->len);
        for (guint i = 0; i < smf->notes->len; i++)
          {
            const SmfNote *n = &g_array_index (smf->notes, SmfNote, i);
            g_assert_cmpint (n->on, ==, g_array_index (expected, gint64, 3 * i));
            g_assert_cmpint (n->key, ==, g_array_index (expected, gint64, 3 * i + 2));
            /* MuseScore ends each note one tick early. */
            g_assert_cmpint (ABS (n->off - g_array_index (expected, gint64, 3 * i + 1)), <=, 1);
          }
        g_unlink (in);
        g_unlink (out);
      }
  g_rmdir (dir);
}

/* Every song of the ESAC corpus exports to MusicXML, .mxl, MIDI and ABC. */
static void
test_esac_corpus (void)
{
  const char *dir = g_getenv ("MELODIST_ESAC_DIR");
  g_autoptr (GError) error = NULL;
  g_autoptr (MelCorpus) corpus = NULL;
  gsize xml_bytes = 0;

  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("MELODIST_ESAC_DIR does not name the ESAC corpus folder");
      return;
    }
  corpus = mel_corpus_load (dir, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (corpus->songs->len, >, 5000);
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      g_autofree char *xml = mel_musicxml_write (song, &error);
      if (xml == NULL)
        g_test_message ("%s failed", song->path);
      g_assert_no_error (error);
      g_autoptr (GBytes) mid = mel_midi_write (song, NULL, &error);
      g_assert_no_error (error);
      g_autofree char *abc = mel_abc_write (song, &error);
      g_assert_no_error (error);
      g_assert_nonnull (mid);
      g_assert_nonnull (abc);
      xml_bytes += strlen (xml);
      if (i % 50 == 0)
        {
          /* A sample through the whole container too. */
          g_autoptr (GBytes) mxl = mel_musicxml_write_mxl (song, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (g_bytes_get_size (mxl), >, 100);
        }
    }
  g_test_message ("%u songs exported, %" G_GSIZE_FORMAT " bytes of MusicXML", corpus->songs->len, xml_bytes);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#ifdef HAVE_LIBXML
  g_test_add_func ("/mel/musicxml/round-trip", test_round_trip);
  g_test_add_func ("/mel/musicxml/structure-pickup", test_structure_pickup);
  g_test_add_func ("/mel/musicxml/structure-six-eight", test_structure_six_eight);
  g_test_add_func ("/mel/musicxml/structure-irregular-odd-key", test_structure_irregular_and_odd_key);
#endif
  g_test_add_func ("/mel/musicxml/mxl", test_mxl);
  g_test_add_func ("/mel/musicxml/errors", test_errors);
  g_test_add_func ("/mel/musicxml/musescore", test_musescore);
  g_test_add_func ("/mel/musicxml/esac-corpus", test_esac_corpus);
  return g_test_run ();
}
