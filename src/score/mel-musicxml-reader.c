/* mel-musicxml-reader.c — reads monophonic partwise MusicXML into a MelSong.
 *
 * Only what a single melody needs is understood: the first <part>, its
 * measures, <attributes> (divisions, key, time), notes and rests, ties and
 * forward.  Anything that would make the melody polyphonic (chords, backup)
 * is refused with an error instead of being silently flattened.  Like the
 * kern reader, messages are English (src/score has no gettext domain).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlversion.h>

#include "mel-musicxml.h"

/* Bounds that keep the exact arithmetic far from gint64 overflow on hostile
 * input: no real melody comes close to them. */
#define MAX_DIVISIONS 100000
#define MAX_DURATION_DIVISIONS 10000000
#define MAX_SONG_QUARTERS 1000000
#define MAX_DENOMINATOR 1000000000
#define MAX_EVENTS 200000

typedef struct
{
  const char *name; /* for messages: the path or "MusicXML data" */
  MelSong *song;
  gint64 divisions; /* 0 until <divisions> was read */
  MelRational onset;
  MelMeter meter;
  gboolean have_meter;
  MelKeySignature key_signature;
  gboolean have_key_signature;
  guint n_measures;
  gboolean phrase_opening; /* a phrase <grouping> starts at the next note */
  gboolean in_phrase;
} MelReader;

static gboolean
is_element (const xmlNode *node, const char *name)
{
  return node != NULL && node->type == XML_ELEMENT_NODE && strcmp ((const char *) node->name, name) == 0;
}

static xmlNode *
child_element (const xmlNode *parent, const char *name)
{
  for (xmlNode *c = parent->children; c != NULL; c = c->next)
    if (is_element (c, name))
      return c;
  return NULL;
}

/* The stripped text of @node (caller frees), or NULL when absent.  Only
 * the node's own text and CDATA count: entity references are not followed,
 * so nested entities ("billion laughs") cannot make it expand. */
static char *
node_text (const xmlNode *node)
{
  GString *text;

  if (node == NULL)
    return NULL;
  text = g_string_new (NULL);
  for (const xmlNode *c = node->children; c != NULL && text->len < 65536; c = c->next)
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
      g_string_append (text, (const char *) c->content);
  return g_strstrip (g_string_free (text, FALSE));
}

static char *
child_text (const xmlNode *parent, const char *name)
{
  return node_text (child_element (parent, name));
}

/* The value of attribute @name (caller frees), or NULL; like node_text(),
 * entity references in it are not followed. */
static char *
attribute (const xmlNode *node, const char *name)
{
  for (const xmlAttr *a = node->properties; a != NULL; a = a->next)
    if (a->ns == NULL && strcmp ((const char *) a->name, name) == 0)
      return node_text ((const xmlNode *) a);
  return NULL;
}

static gboolean
reader_fail (MelReader *r, const xmlNode *node, GError **error, int code, const char *what)
{
  long line = node != NULL ? xmlGetLineNo (node) : -1;

  if (line > 0)
    g_set_error (error, MEL_EXPORT_ERROR, code, "%s, line %ld: %s", r->name, line, what);
  else
    g_set_error (error, MEL_EXPORT_ERROR, code, "%s: %s", r->name, what);
  return FALSE;
}

/* Parses the integer text of child @name of @parent into [@min, @max]. */
static gboolean
child_int (MelReader *r, const xmlNode *parent, const char *name, gint64 min, gint64 max,
           gint64 *value, GError **error)
{
  g_autofree char *text = child_text (parent, name);
  g_autofree char *what = NULL;

  if (text != NULL && g_ascii_string_to_signed (text, 10, min, max, value, NULL))
    return TRUE;
  what = g_strdup_printf ("<%s> must be a whole number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                          name, min, max);
  return reader_fail (r, parent, error, MEL_EXPORT_ERROR_FORMAT, what);
}

static MelKey
key_from_fifths (int fifths, gboolean minor)
{
  static const int natural_pc[7] = { 0, 2, 4, 5, 7, 9, 11 };
  static const char steps[] = "CDEFGAB";
  int step = (((fifths * 4) % 7) + 7 + (minor ? 5 : 0)) % 7;
  int pc = (((7 * fifths + (minor ? 9 : 0)) % 12) + 12) % 12;
  int alter = pc - natural_pc[step];
  MelKey key = { 0 };

  if (alter > 6)
    alter -= 12;
  if (alter < -6)
    alter += 12;
  key.tonic_step = steps[step];
  key.tonic_alter = (gint8) alter;
  key.mode = minor ? MEL_MODE_MINOR : MEL_MODE_MAJOR;
  return key;
}

static gboolean
read_key (MelReader *r, const xmlNode *key, GError **error)
{
  g_autofree char *mode = child_text (key, "mode");
  gint64 fifths;

  if (child_element (key, "fifths") == NULL)
    return reader_fail (r, key, error, MEL_EXPORT_ERROR_UNSUPPORTED,
                        "non-traditional key signatures are not supported");
  if (!child_int (r, key, "fifths", -7, 7, &fifths, error))
    return FALSE;
  mel_key_signature_init_fifths (&r->key_signature, (int) fifths);
  r->key_signature.onset = r->onset;
  r->have_key_signature = TRUE;
  mel_song_add_key_signature (r->song, &r->key_signature);
  if (mode != NULL && (strcmp (mode, "major") == 0 || strcmp (mode, "minor") == 0))
    {
      MelKey k = key_from_fifths ((int) fifths, strcmp (mode, "minor") == 0);

      k.onset = r->onset;
      mel_song_add_key (r->song, &k);
    }
  return TRUE;
}

static gboolean
read_time (MelReader *r, const xmlNode *time, GError **error)
{
  MelMeter meter = { 0 };
  gint64 beats, beat_type;
  g_autofree char *print = attribute (time, "print-object");

  meter.onset = r->onset;
  /* The writer spells an irregular (kern *MX) meter as a hidden time. */
  if (child_element (time, "senza-misura") != NULL || g_strcmp0 (print, "no") == 0)
    meter.irregular = TRUE;
  else
    {
      if (!child_int (r, time, "beats", 1, 128, &beats, error)
          || !child_int (r, time, "beat-type", 1, 128, &beat_type, error))
        return FALSE;
      meter.numerator = (int) beats;
      meter.denominator = (int) beat_type;
    }
  if (r->have_meter && r->meter.irregular == meter.irregular && r->meter.numerator == meter.numerator
      && r->meter.denominator == meter.denominator)
    return TRUE;
  r->meter = meter;
  r->have_meter = TRUE;
  mel_song_add_meter (r->song, &meter);
  return TRUE;
}

static gboolean
read_attributes (MelReader *r, const xmlNode *attributes, GError **error)
{
  for (xmlNode *c = attributes->children; c != NULL; c = c->next)
    {
      if (is_element (c, "divisions"))
        {
          if (!child_int (r, attributes, "divisions", 1, MAX_DIVISIONS, &r->divisions, error))
            return FALSE;
        }
      else if (is_element (c, "key"))
        {
          if (!read_key (r, c, error))
            return FALSE;
        }
      else if (is_element (c, "time"))
        {
          if (!read_time (r, c, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Converts child <duration> of @node to quarter notes. */
static gboolean
read_duration (MelReader *r, const xmlNode *node, MelRational *duration, GError **error)
{
  gint64 value;

  if (r->divisions == 0)
    return reader_fail (r, node, error, MEL_EXPORT_ERROR_FORMAT,
                        "a duration comes before <divisions>");
  if (!child_int (r, node, "duration", 0, MAX_DURATION_DIVISIONS, &value, error))
    return FALSE;
  *duration = mel_rational_new (value, r->divisions);
  return TRUE;
}

static gboolean
advance (MelReader *r, const xmlNode *node, MelRational duration, GError **error)
{
  r->onset = mel_rational_add (r->onset, duration);
  if (mel_rational_compare (r->onset, mel_rational_new (MAX_SONG_QUARTERS, 1)) > 0
      || r->onset.den > MAX_DENOMINATOR)
    return reader_fail (r, node, error, MEL_EXPORT_ERROR_UNSUPPORTED, "the song is too long");
  return TRUE;
}

static gboolean
read_pitch (MelReader *r, const xmlNode *pitch, MelPitch *out, GError **error)
{
  g_autofree char *step = child_text (pitch, "step");
  gint64 octave, alter = 0;

  if (step == NULL || strlen (step) != 1 || mel_pitch_step_index (step[0]) < 0)
    return reader_fail (r, pitch, error, MEL_EXPORT_ERROR_FORMAT, "<step> must be a letter A to G");
  if (!child_int (r, pitch, "octave", 0, 9, &octave, error))
    return FALSE;
  if (child_element (pitch, "alter") != NULL)
    {
      g_autofree char *text = child_text (pitch, "alter");
      char *end = NULL;
      double value = text != NULL ? g_ascii_strtod (text, &end) : 0.0;

      /* Microtones are not part of the model; "1.0" is a valid spelling of
       * 1.  The range is checked before the cast, which it makes safe
       * (NaN fails both comparisons). */
      if (text == NULL || end == text || *end != '\0' || !(value >= -3 && value <= 3)
          || value != (double) (int) value)
        return reader_fail (r, pitch, error, MEL_EXPORT_ERROR_UNSUPPORTED,
                            "<alter> must be a whole number of semitones from -3 to 3");
      alter = (int) value;
    }
  out->step = step[0];
  out->alter = (gint8) alter;
  out->octave = (gint8) octave;
  return TRUE;
}

static guint8
read_ties (const xmlNode *note)
{
  guint8 tie = MEL_TIE_NONE;

  for (xmlNode *c = note->children; c != NULL; c = c->next)
    if (is_element (c, "tie"))
      {
        g_autofree char *type = attribute (c, "type");

        if (g_strcmp0 (type, "start") == 0)
          tie |= MEL_TIE_START;
        else if (g_strcmp0 (type, "stop") == 0)
          tie |= MEL_TIE_STOP;
      }
  return tie;
}

static gboolean
add_event (MelReader *r, const xmlNode *node, MelEvent *event, MelRational duration, GError **error)
{
  if (mel_song_get_n_events (r->song) >= MAX_EVENTS)
    return reader_fail (r, node, error, MEL_EXPORT_ERROR_UNSUPPORTED, "the song has too many notes");
  event->onset = r->onset;
  event->duration = duration;
  event->bar = r->song->bars->len;
  event->line = (guint32) MAX (xmlGetLineNo (node), 0);
  if (r->phrase_opening)
    event->flags |= MEL_EVENT_PHRASE_START;
  r->phrase_opening = FALSE;
  mel_song_add_event (r->song, event);
  return advance (r, node, duration, error);
}

static gboolean
read_note (MelReader *r, const xmlNode *note, GError **error)
{
  MelEvent event = { 0 };
  MelRational duration;
  xmlNode *pitch;

  if (child_element (note, "grace") != NULL || child_element (note, "cue") != NULL)
    return TRUE; /* ornaments take no time in the melody */
  if (child_element (note, "chord") != NULL)
    return reader_fail (r, note, error, MEL_EXPORT_ERROR_UNSUPPORTED,
                        "chords are not supported; Melodist reads single melodies");
  if (!read_duration (r, note, &duration, error))
    return FALSE;
  if (mel_rational_is_zero (duration))
    return reader_fail (r, note, error, MEL_EXPORT_ERROR_FORMAT, "a note has no duration");
  pitch = child_element (note, "pitch");
  if (child_element (note, "rest") != NULL)
    event.midi = -1;
  else if (pitch != NULL)
    {
      if (!read_pitch (r, pitch, &event.pitch, error))
        return FALSE;
      event.midi = (gint16) mel_pitch_to_midi (event.pitch);
      event.tie = read_ties (note);
    }
  else
    return reader_fail (r, note, error, MEL_EXPORT_ERROR_UNSUPPORTED,
                        "unpitched notes are not supported");
  return add_event (r, note, &event, duration, error);
}

/* A <grouping> with a "phrase" feature opens a phrase at the next note;
 * its stop closes it at the last note read (kern's { and }). */
static void
read_phrase_grouping (MelReader *r, const xmlNode *grouping)
{
  g_autofree char *type = attribute (grouping, "type");
  gboolean phrase = FALSE;

  for (xmlNode *c = grouping->children; c != NULL; c = c->next)
    if (is_element (c, "feature"))
      {
        g_autofree char *feature = attribute (c, "type");

        phrase |= g_strcmp0 (feature, "phrase") == 0;
      }
  if (g_strcmp0 (type, "start") == 0 && phrase)
    r->phrase_opening = r->in_phrase = TRUE;
  else if (g_strcmp0 (type, "stop") == 0 && r->in_phrase && mel_song_get_n_events (r->song) > 0)
    {
      r->in_phrase = FALSE;
      MelEvent *last = &g_array_index (r->song->events, MelEvent, r->song->events->len - 1);

      last->flags |= MEL_EVENT_PHRASE_END;
    }
}

static gboolean
read_measure (MelReader *r, const xmlNode *measure, GError **error)
{
  MelBar bar = { 0 };
  g_autofree char *number = attribute (measure, "number");
  g_autofree char *implicit = attribute (measure, "implicit");
  gint64 value;

  bar.onset = r->onset;
  bar.line = (guint32) MAX (xmlGetLineNo (measure), 0);
  if (number != NULL && g_ascii_string_to_signed (number, 10, 0, G_MAXINT32, &value, NULL))
    bar.number = (gint32) value;
  else
    bar.number = (gint32) r->n_measures + 1;

  for (xmlNode *c = measure->children; c != NULL; c = c->next)
    {
      if (is_element (c, "attributes"))
        {
          if (!read_attributes (r, c, error))
            return FALSE;
        }
      else if (is_element (c, "note"))
        {
          if (!read_note (r, c, error))
            return FALSE;
        }
      else if (is_element (c, "forward"))
        {
          /* Skipped time in the only voice: the same as a rest. */
          MelEvent rest = { .midi = -1 };
          MelRational duration;

          if (!read_duration (r, c, &duration, error))
            return FALSE;
          if (!mel_rational_is_zero (duration) && !add_event (r, c, &rest, duration, error))
            return FALSE;
        }
      else if (is_element (c, "grouping"))
        read_phrase_grouping (r, c);
      else if (is_element (c, "backup"))
        return reader_fail (r, c, error, MEL_EXPORT_ERROR_UNSUPPORTED,
                            "<backup> (several voices) is not supported; Melodist reads single melodies");
    }

  bar.duration = mel_rational_sub (r->onset, bar.onset);
  if (mel_rational_is_zero (bar.duration))
    return TRUE; /* an empty measure holds nothing the model could show */
  if (r->n_measures == 0 && g_strcmp0 (implicit, "yes") == 0)
    {
      r->song->pickup = bar.duration;
      bar.number = 0;
    }
  mel_song_add_bar (r->song, &bar);
  r->n_measures++;
  return TRUE;
}

static void
read_metadata (MelReader *r, const xmlNode *root)
{
  xmlNode *work = child_element (root, "work");
  xmlNode *identification = child_element (root, "identification");
  g_autofree char *title = work != NULL ? child_text (work, "work-title") : NULL;
  xmlNode *misc = identification != NULL ? child_element (identification, "miscellaneous") : NULL;

  if (title == NULL || *title == '\0')
    {
      g_free (title);
      title = child_text (root, "movement-title");
    }
  if (title != NULL && *title != '\0' && g_utf8_validate (title, -1, NULL))
    mel_song_set_title (r->song, title);

  /* The writer stores the song id here so that a round trip keeps it. */
  for (xmlNode *c = misc != NULL ? misc->children : NULL; c != NULL; c = c->next)
    if (is_element (c, "miscellaneous-field"))
      {
        g_autofree char *name = attribute (c, "name");
        g_autofree char *value = node_text (c);

        if (g_strcmp0 (name, "id") == 0 && value != NULL && *value != '\0' && g_utf8_validate (value, -1, NULL))
          {
            /* Kept as !!!SCT too, so that a kern file written from it names it. */
            mel_song_set_reference (r->song, "SCT", value);
            g_free (r->song->id);
            r->song->id = g_steal_pointer (&value);
          }
      }
}

static char *
default_id (const char *path)
{
  g_autofree char *base = NULL;
  char *dot;

  if (path == NULL)
    return g_strdup ("musicxml");
  base = g_path_get_basename (path);
  dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  return g_steal_pointer (&base);
}

static void
silent_error (void *context, const char *format, ...)
{
}

/* libxml2 2.12 made the structured handler's error const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *MelXmlErrorArg;
#else
typedef xmlErrorPtr MelXmlErrorArg;
#endif

static void
silent_structured_error (void *context, MelXmlErrorArg error)
{
}

MelSong *
mel_musicxml_parse (const char *data, gsize length, const char *path, GError **error)
{
  g_autoptr (MelSong) song = NULL;
  g_autofree char *id = NULL;
  g_autofree char *display = NULL;
  MelReader r = { 0 };
  xmlDoc *doc;
  xmlNode *root, *part;
  xmlGenericErrorFunc previous_handler;
  void *previous_context;
  xmlStructuredErrorFunc previous_structured;
  void *previous_structured_context;
  gboolean ok = TRUE;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  display = path != NULL ? g_filename_display_name (path) : g_strdup ("MusicXML data");
  r.name = display;
  if (length == 0)
    {
      reader_fail (&r, NULL, error, MEL_EXPORT_ERROR_EMPTY, "the file is empty");
      return NULL;
    }
  if (length > G_MAXINT)
    {
      reader_fail (&r, NULL, error, MEL_EXPORT_ERROR_UNSUPPORTED, "the file is too large");
      return NULL;
    }
  if (length >= 2 && data[0] == 'P' && data[1] == 'K')
    {
      reader_fail (&r, NULL, error, MEL_EXPORT_ERROR_FORMAT,
                   "compressed MusicXML (.mxl) cannot be read; save it as uncompressed .musicxml");
      return NULL;
    }

  /* No network, no DTD loading, no entity substitution: the document is
   * read exactly as written, whatever it references. */
  previous_handler = xmlGenericError;
  previous_structured = xmlStructuredError;
  previous_structured_context = xmlStructuredErrorContext;
  previous_context = xmlGenericErrorContext;
  /* Encoding errors bypass XML_PARSE_NOERROR and would reach stderr; the
   * handler is per thread in libxml2, so this silences only this parse. */
  xmlSetGenericErrorFunc (NULL, silent_error);
  xmlSetStructuredErrorFunc (NULL, silent_structured_error);
  doc = xmlReadMemory (data, (int) length, NULL, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlSetStructuredErrorFunc (previous_structured_context, previous_structured);
  xmlSetGenericErrorFunc (previous_context, previous_handler);
  if (doc == NULL)
    {
      const xmlError *xerr = xmlGetLastError ();
      g_autofree char *message = NULL;
      g_autofree char *what = NULL;

      if (xerr != NULL && xerr->message != NULL)
        {
          message = g_strstrip (g_utf8_make_valid (xerr->message, -1));
          what = g_strdup_printf ("not well-formed XML (line %d: %s)", xerr->line, message);
        }
      reader_fail (&r, NULL, error, MEL_EXPORT_ERROR_FORMAT, what != NULL ? what : "not well-formed XML");
      return NULL;
    }

  root = xmlDocGetRootElement (doc);
  if (is_element (root, "score-timewise"))
    ok = reader_fail (&r, root, error, MEL_EXPORT_ERROR_UNSUPPORTED,
                      "timewise MusicXML is not supported; save the score as partwise MusicXML");
  else if (!is_element (root, "score-partwise"))
    ok = reader_fail (&r, root, error, MEL_EXPORT_ERROR_FORMAT, "not a MusicXML score (<score-partwise> missing)");
  part = ok ? child_element (root, "part") : NULL;
  if (ok && part == NULL)
    ok = reader_fail (&r, root, error, MEL_EXPORT_ERROR_EMPTY, "the score has no <part>");

  if (ok)
    {
      id = default_id (path);
      song = mel_song_new (id);
      r.song = song;
      r.onset = MEL_RATIONAL_ZERO;
      if (path != NULL)
        song->path = g_strdup (path);
      read_metadata (&r, root);
      for (xmlNode *m = part->children; ok && m != NULL; m = m->next)
        if (is_element (m, "measure"))
          ok = read_measure (&r, m, error);
      if (ok && mel_song_get_n_events (song) == 0)
        ok = reader_fail (&r, part, error, MEL_EXPORT_ERROR_EMPTY, "the first part holds no notes");
    }
  xmlFreeDoc (doc);
  if (!ok)
    return NULL;
  song->duration = r.onset;
  return g_steal_pointer (&song);
}

MelSong *
mel_musicxml_read_file (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return mel_musicxml_parse (contents, length, path, error);
}
