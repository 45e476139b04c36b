/* mel-musicxml.c — MusicXML 4.0 writer and the .mxl (ZIP) container.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mel-musicxml.h"
#include "mel-export-private.h"

#include <string.h>
#include <zlib.h>

static const char *
type_name (int type_log2)
{
  static const char *const names[] = { "256th", "128th", "64th", "32nd", "16th", "eighth",
                                       "quarter", "half", "whole", "breve", "long" };
  int i = type_log2 + 6;
  g_assert (i >= 0 && i < (int) G_N_ELEMENTS (names));
  return names[i];
}

static const char *
accidental_name (int alter)
{
  switch (alter)
    {
    case -2: return "flat-flat";
    case -1: return "flat";
    case 0: return "natural";
    case 1: return "sharp";
    case 2: return "double-sharp";
    default: return NULL;
    }
}

static const char *
beam_name (MelBeam beam)
{
  switch (beam)
    {
    case MEL_BEAM_BEGIN: return "begin";
    case MEL_BEAM_CONTINUE: return "continue";
    case MEL_BEAM_END: return "end";
    case MEL_BEAM_FORWARD_HOOK: return "forward hook";
    case MEL_BEAM_BACKWARD_HOOK: return "backward hook";
    case MEL_BEAM_NONE:
    default: return NULL;
    }
}

static void
append_escaped (GString *out, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);
  g_string_append (out, escaped);
}

static gint64
to_divisions (MelRational r, gint64 divisions)
{
  return r.num * (divisions / r.den);
}

static gboolean
meter_is_regular (const MelMeter *meter)
{
  return !meter->irregular && meter->numerator > 0 && meter->denominator > 0;
}

static void
write_key (GString *out, const MelWrittenMeasure *m)
{
  const MelKeySignature *sig = &m->key_signature;

  if (sig->fifths >= -7 && sig->fifths <= 7)
    {
      g_string_append_printf (out, "        <key>\n          <fifths>%d</fifths>\n", sig->fifths);
      if (m->has_key && m->key.mode != MEL_MODE_UNKNOWN)
        g_string_append_printf (out, "          <mode>%s</mode>\n", m->key.mode == MEL_MODE_MINOR ? "minor" : "major");
      g_string_append (out, "        </key>\n");
      return;
    }
  /* A non-traditional signature such as [c- e- a-]: step/alter pairs. */
  static const char steps[] = "CDEFGAB";
  g_string_append (out, "        <key>\n");
  for (int s = 0; s < 7; s++)
    if (sig->alters[s] != 0)
      g_string_append_printf (out,
                              "          <key-step>%c</key-step>\n          <key-alter>%d</key-alter>\n"
                              "          <key-accidental>%s</key-accidental>\n",
                              steps[s], sig->alters[s], accidental_name (sig->alters[s]));
  g_string_append (out, "        </key>\n");
}

/* A hidden time signature as long as @length quarters, for bars of an
 * irregular meter; FALSE when no beat-type up to 64 fits. */
static gboolean
hidden_time (MelRational length, int *beats, int *beat_type)
{
  for (int d = 4; d <= 64; d *= 2)
    {
      MelRational b = mel_rational_mul (length, mel_rational_new (d, 4));
      if (b.den == 1 && b.num > 0 && b.num < 1000)
        {
          *beats = (int) b.num;
          *beat_type = d;
          return TRUE;
        }
    }
  return FALSE;
}

static void
write_attributes (GString *out, const MelWrittenMeasure *m, gboolean first, gint64 divisions,
                  MelRational *hidden_length, gboolean bass_clef)
{
  gboolean regular = meter_is_regular (&m->meter);
  gboolean time = regular && (first || m->meter_changed);
  gboolean hidden = !regular && (first || !mel_rational_equal (*hidden_length, m->duration));
  int beats = 0, beat_type = 0;

  if (hidden && !hidden_time (m->duration, &beats, &beat_type))
    hidden = FALSE;
  if (!first && !time && !hidden && !m->key_changed)
    return;
  g_string_append (out, "      <attributes>\n");
  if (first)
    g_string_append_printf (out, "        <divisions>%" G_GINT64_FORMAT "</divisions>\n", divisions);
  if (first || m->key_changed)
    write_key (out, m);
  if (time)
    g_string_append_printf (out,
                            "        <time>\n          <beats>%d</beats>\n          <beat-type>%d</beat-type>\n"
                            "        </time>\n",
                            m->meter.numerator, m->meter.denominator);
  else if (hidden)
    {
      g_string_append_printf (out,
                              "        <time print-object=\"no\">\n          <beats>%d</beats>\n"
                              "          <beat-type>%d</beat-type>\n        </time>\n",
                              beats, beat_type);
      *hidden_length = m->duration;
    }
  if (first)
    g_string_append_printf (out, "        <clef>\n          <sign>%s</sign>\n          <line>%d</line>\n        </clef>\n",
                            bass_clef ? "F" : "G", bass_clef ? 4 : 2);
  g_string_append (out, "      </attributes>\n");
}

static void
write_note (GString *out, const MelWrittenNote *n, gint64 divisions)
{
  gboolean rest = n->midi < 0;

  g_string_append (out, "      <note>\n");
  if (rest)
    g_string_append (out, n->measure_rest ? "        <rest measure=\"yes\"/>\n" : "        <rest/>\n");
  else
    {
      g_string_append_printf (out, "        <pitch>\n          <step>%c</step>\n", n->pitch.step);
      if (n->pitch.alter != 0)
        g_string_append_printf (out, "          <alter>%d</alter>\n", n->pitch.alter);
      g_string_append_printf (out, "          <octave>%d</octave>\n        </pitch>\n", n->pitch.octave);
    }
  g_string_append_printf (out, "        <duration>%" G_GINT64_FORMAT "</duration>\n", to_divisions (n->duration, divisions));
  if (n->tie_stop)
    g_string_append (out, "        <tie type=\"stop\"/>\n");
  if (n->tie_start)
    g_string_append (out, "        <tie type=\"start\"/>\n");
  g_string_append (out, "        <voice>1</voice>\n");
  if (!n->measure_rest)
    {
      g_string_append_printf (out, "        <type>%s</type>\n", type_name (n->type_log2));
      for (int d = 0; d < n->dots; d++)
        g_string_append (out, "        <dot/>\n");
    }
  if (n->show_accidental && accidental_name (n->pitch.alter) != NULL)
    g_string_append_printf (out, "        <accidental>%s</accidental>\n", accidental_name (n->pitch.alter));
  if (n->triplet)
    g_string_append (out, "        <time-modification>\n          <actual-notes>3</actual-notes>\n"
                          "          <normal-notes>2</normal-notes>\n        </time-modification>\n");
  for (int level = 0; level < MEL_MAX_BEAMS; level++)
    if (beam_name (n->beams[level]) != NULL)
      g_string_append_printf (out, "        <beam number=\"%d\">%s</beam>\n", level + 1, beam_name (n->beams[level]));
  if (n->tie_stop || n->tie_start || n->tuplet_start || n->tuplet_stop)
    {
      g_string_append (out, "        <notations>\n");
      if (n->tie_stop)
        g_string_append (out, "          <tied type=\"stop\"/>\n");
      if (n->tie_start)
        g_string_append (out, "          <tied type=\"start\"/>\n");
      if (n->tuplet_start)
        g_string_append (out, "          <tuplet type=\"start\" bracket=\"yes\"/>\n");
      if (n->tuplet_stop)
        g_string_append (out, "          <tuplet type=\"stop\"/>\n");
      g_string_append (out, "        </notations>\n");
    }
  g_string_append (out, "      </note>\n");
}

/* Bass clef only for melodies that mostly lie below the treble staff. */
static gboolean
wants_bass_clef (const MelSong *song)
{
  gint64 sum = 0;
  guint n = 0;

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      if (!mel_event_is_rest (ev))
        {
          sum += ev->midi;
          n++;
        }
    }
  return n > 0 && sum < 55 * (gint64) n;
}

char *
mel_musicxml_write (const MelSong *song, GError **error)
{
  g_autoptr (MelNotation) notation = NULL;
  GString *out;
  gint64 divisions;
  MelRational hidden_length = MEL_RATIONAL_ZERO;
  const char *title;
  gboolean bass;

  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  notation = _mel_notation_new (song, error);
  if (notation == NULL)
    return NULL;
  divisions = _mel_notation_divisions (notation);
  title = song->title != NULL && *song->title != '\0' ? song->title : song->id;
  bass = wants_bass_clef (song);

  out = g_string_sized_new (4096 + 400 * notation->notes->len);
  g_string_append (out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
                        "<!DOCTYPE score-partwise PUBLIC \"-//Recordare//DTD MusicXML 4.0 Partwise//EN\" "
                        "\"http://www.musicxml.org/dtds/partwise.dtd\">\n"
                        "<score-partwise version=\"4.0\">\n  <work>\n    <work-title>");
  append_escaped (out, title);
  g_string_append (out, "</work-title>\n  </work>\n  <identification>\n");
  g_string_append (out, "    <encoding>\n      <software>Melodist " PACKAGE_VERSION "</software>\n"
                        "      <supports element=\"accidental\" type=\"yes\"/>\n"
                        "      <supports element=\"beam\" type=\"yes\"/>\n"
                        "      <supports element=\"stem\" type=\"no\"/>\n    </encoding>\n");
  g_string_append (out, "    <miscellaneous>\n      <miscellaneous-field name=\"id\">");
  append_escaped (out, song->id);
  g_string_append (out, "</miscellaneous-field>\n    </miscellaneous>\n  </identification>\n"
                        "  <part-list>\n    <score-part id=\"P1\">\n      <part-name>Melody</part-name>\n"
                        "      <score-instrument id=\"P1-I1\">\n        <instrument-name>Flute</instrument-name>\n"
                        "      </score-instrument>\n"
                        "      <midi-instrument id=\"P1-I1\">\n        <midi-channel>1</midi-channel>\n"
                        "        <midi-program>74</midi-program>\n      </midi-instrument>\n"
                        "    </score-part>\n  </part-list>\n  <part id=\"P1\">\n");

  for (guint i = 0; i < notation->measures->len; i++)
    {
      const MelWrittenMeasure *m = &g_array_index (notation->measures, MelWrittenMeasure, i);
      g_string_append_printf (out, "    <measure number=\"%d\"%s>\n", m->number, m->implicit ? " implicit=\"yes\"" : "");
      write_attributes (out, m, i == 0, divisions, &hidden_length, bass);
      if (i == 0)
        g_string_append_printf (out, "      <sound tempo=\"%g\"/>\n", mel_export_default_tempo (song));
      for (guint k = m->first_note; k < m->first_note + m->n_notes; k++)
        {
          const MelWrittenNote *n = &g_array_index (notation->notes, MelWrittenNote, k);

          /* ESAC's phrases ({ } in kern) are analysis, not slurs: MusicXML
           * keeps them as <grouping>, which notation programs do not draw. */
          if (n->flags & MEL_EVENT_PHRASE_START)
            g_string_append (out, "      <grouping type=\"start\" number=\"1\">\n"
                                  "        <feature type=\"phrase\"/>\n      </grouping>\n");
          write_note (out, n, divisions);
          if (n->flags & MEL_EVENT_PHRASE_END)
            g_string_append (out, "      <grouping type=\"stop\" number=\"1\"/>\n");
        }
      if (i + 1 == notation->measures->len)
        g_string_append (out, "      <barline location=\"right\">\n        <bar-style>light-heavy</bar-style>\n"
                              "      </barline>\n");
      g_string_append (out, "    </measure>\n");
    }
  g_string_append (out, "  </part>\n</score-partwise>\n");
  return g_string_free (out, FALSE);
}

/* ---- .mxl: a small ZIP writer ------------------------------------------- */

#define MXL_MIMETYPE "application/vnd.recordare.musicxml"
#define MXL_SCORE_NAME "score.musicxml"
/* 1980-01-01 00:00 in MS-DOS format: fixed, so the archive is reproducible. */
#define DOS_DATE 0x0021
#define DOS_TIME 0x0000

typedef struct
{
  const char *name;
  guint16 method; /* 0 stored, 8 deflated */
  guint32 crc;
  guint32 compressed_size;
  guint32 size;
  guint32 offset;
} ZipEntry;

static void
put_le16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { v & 0xFF, v >> 8 };
  g_byte_array_append (out, b, 2);
}

static void
put_le32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24 };
  g_byte_array_append (out, b, 4);
}

/* Raw deflate (no zlib header), as ZIP wants it. */
static GBytes *
deflate_raw (const guint8 *data, gsize length, GError **error)
{
  z_stream zs;
  g_autofree guint8 *buf = NULL;
  uLong bound;
  int rc;

  memset (&zs, 0, sizeof zs);
  if (deflateInit2 (&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    {
      g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_IO, "Cannot start zlib compression");
      return NULL;
    }
  bound = deflateBound (&zs, (uLong) length);
  buf = g_malloc (bound);
  zs.next_in = (Bytef *) data;
  zs.avail_in = (uInt) length;
  zs.next_out = buf;
  zs.avail_out = (uInt) bound;
  rc = deflate (&zs, Z_FINISH);
  gsize out_len = zs.total_out;
  deflateEnd (&zs);
  if (rc != Z_STREAM_END)
    {
      g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_IO, "zlib compression failed (%d)", rc);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&buf), out_len);
}

static gboolean
zip_add (GByteArray *zip, GArray *entries, const char *name, const char *data, gsize length, gboolean compress,
         GError **error)
{
  ZipEntry e = { name, compress ? 8 : 0, 0, 0, (guint32) length, zip->len };
  g_autoptr (GBytes) packed = NULL;
  const guint8 *payload = (const guint8 *) data;
  gsize payload_len = length;

  e.crc = (guint32) crc32 (crc32 (0L, Z_NULL, 0), (const Bytef *) data, (uInt) length);
  if (compress)
    {
      packed = deflate_raw ((const guint8 *) data, length, error);
      if (packed == NULL)
        return FALSE;
      payload = g_bytes_get_data (packed, &payload_len);
    }
  e.compressed_size = (guint32) payload_len;

  put_le32 (zip, 0x04034b50);
  put_le16 (zip, 20); /* version needed: 2.0 (deflate) */
  put_le16 (zip, 0);  /* flags */
  put_le16 (zip, e.method);
  put_le16 (zip, DOS_TIME);
  put_le16 (zip, DOS_DATE);
  put_le32 (zip, e.crc);
  put_le32 (zip, e.compressed_size);
  put_le32 (zip, e.size);
  put_le16 (zip, (guint16) strlen (name));
  put_le16 (zip, 0); /* extra field length */
  g_byte_array_append (zip, (const guint8 *) name, (guint) strlen (name));
  g_byte_array_append (zip, payload, (guint) payload_len);
  g_array_append_val (entries, e);
  return TRUE;
}

static void
zip_finish (GByteArray *zip, GArray *entries)
{
  guint32 cd_offset = zip->len;

  for (guint i = 0; i < entries->len; i++)
    {
      const ZipEntry *e = &g_array_index (entries, ZipEntry, i);
      put_le32 (zip, 0x02014b50);
      put_le16 (zip, 20); /* version made by: MS-DOS, 2.0 */
      put_le16 (zip, 20); /* version needed */
      put_le16 (zip, 0);
      put_le16 (zip, e->method);
      put_le16 (zip, DOS_TIME);
      put_le16 (zip, DOS_DATE);
      put_le32 (zip, e->crc);
      put_le32 (zip, e->compressed_size);
      put_le32 (zip, e->size);
      put_le16 (zip, (guint16) strlen (e->name));
      put_le16 (zip, 0); /* extra */
      put_le16 (zip, 0); /* comment */
      put_le16 (zip, 0); /* disk number */
      put_le16 (zip, 0); /* internal attributes */
      put_le32 (zip, 0); /* external attributes */
      put_le32 (zip, e->offset);
      g_byte_array_append (zip, (const guint8 *) e->name, (guint) strlen (e->name));
    }
  guint32 cd_size = zip->len - cd_offset;
  put_le32 (zip, 0x06054b50);
  put_le16 (zip, 0);
  put_le16 (zip, 0);
  put_le16 (zip, (guint16) entries->len);
  put_le16 (zip, (guint16) entries->len);
  put_le32 (zip, cd_size);
  put_le32 (zip, cd_offset);
  put_le16 (zip, 0); /* comment length */
}

GBytes *
mel_musicxml_write_mxl (const MelSong *song, GError **error)
{
  static const char container[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<container>\n"
    "  <rootfiles>\n"
    "    <rootfile full-path=\"" MXL_SCORE_NAME "\" media-type=\"application/vnd.recordare.musicxml+xml\"/>\n"
    "  </rootfiles>\n"
    "</container>\n";
  g_autofree char *xml = NULL;
  g_autoptr (GByteArray) zip = NULL;
  g_autoptr (GArray) entries = NULL;

  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  xml = mel_musicxml_write (song, error);
  if (xml == NULL)
    return NULL;
  zip = g_byte_array_new ();
  entries = g_array_new (FALSE, FALSE, sizeof (ZipEntry));
  /* The mimetype comes first and uncompressed, as the MusicXML spec asks. */
  if (!zip_add (zip, entries, "mimetype", MXL_MIMETYPE, strlen (MXL_MIMETYPE), FALSE, error) ||
      !zip_add (zip, entries, "META-INF/container.xml", container, strlen (container), TRUE, error) ||
      !zip_add (zip, entries, MXL_SCORE_NAME, xml, strlen (xml), TRUE, error))
    return NULL;
  zip_finish (zip, entries);
  return g_byte_array_free_to_bytes (g_steal_pointer (&zip));
}

gboolean
mel_musicxml_write_file (const MelSong *song, const char *path, GError **error)
{
  g_autofree char *ext = NULL;

  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ext = mel_export_path_extension (path);
  if (g_str_equal (ext, "mxl"))
    {
      g_autoptr (GBytes) bytes = mel_musicxml_write_mxl (song, error);
      gsize length;
      const void *data;
      if (bytes == NULL)
        return FALSE;
      data = g_bytes_get_data (bytes, &length);
      return mel_export_write_bytes (path, data, length, error);
    }
  g_autofree char *xml = mel_musicxml_write (song, error);
  if (xml == NULL)
    return FALSE;
  return mel_export_write_bytes (path, xml, strlen (xml), error);
}
