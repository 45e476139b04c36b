/* mel-export.c — atomic writing, sounding notes and the written layout
 * shared by the MIDI, MusicXML, ABC and audio exporters.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-export-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (mel-export-error-quark, mel_export_error)

/* ---- files ------------------------------------------------------------ */

char *
mel_export_path_extension (const char *path)
{
  g_autofree char *base = NULL;
  const char *dot;

  g_return_val_if_fail (path != NULL, NULL);
  base = g_path_get_basename (path);
  dot = strrchr (base, '.');
  if (dot == NULL || dot == base)
    return g_strdup ("");
  return g_ascii_strdown (dot + 1, -1);
}

static gboolean
set_io_error (GError **error, int saved_errno, const char *what, const char *path)
{
  g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_IO, "%s '%s': %s", what, path,
               g_strerror (saved_errno));
  return FALSE;
}

int
_mel_export_open_temp (const char *path, char **tmp_path, GError **error)
{
  struct stat st;
  g_autofree char *tmp = NULL;
  int fd;

  *tmp_path = NULL;
  if (stat (path, &st) == 0 && !S_ISREG (st.st_mode))
    {
      /* Devices and FIFOs cannot be replaced by rename (and must not be:
       * renaming over /dev/full as root would delete the device). */
      if (S_ISDIR (st.st_mode))
        {
          g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_IO, "Cannot write '%s': it is a folder",
                       path);
          return -1;
        }
      fd = open (path, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        set_io_error (error, errno, "Cannot open", path);
      return fd;
    }

  tmp = g_strdup_printf ("%s.XXXXXX", path);
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_autofree char *dir = g_path_get_dirname (path);
      g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_IO, "Cannot write '%s' (folder '%s'): %s",
                   path, dir, g_strerror (saved));
      return -1;
    }
  /* mkstemp creates 0600; an exported file should be readable like any other. */
  if (fchmod (fd, 0644) != 0)
    {
      /* Not fatal: the file is still usable by its owner. */
    }
  *tmp_path = g_steal_pointer (&tmp);
  return fd;
}

void
_mel_export_abandon (int fd, const char *tmp_path)
{
  if (fd >= 0)
    close (fd);
  if (tmp_path != NULL)
    g_unlink (tmp_path);
}

gboolean
_mel_export_commit (int fd, const char *tmp_path, const char *path, GError **error)
{
  if (tmp_path != NULL && fsync (fd) != 0)
    {
      int saved = errno;
      _mel_export_abandon (fd, tmp_path);
      return set_io_error (error, saved, "Cannot write", path);
    }
  if (close (fd) != 0)
    {
      int saved = errno;
      _mel_export_abandon (-1, tmp_path);
      return set_io_error (error, saved, "Cannot write", path);
    }
  if (tmp_path != NULL && g_rename (tmp_path, path) != 0)
    {
      int saved = errno;
      _mel_export_abandon (-1, tmp_path);
      return set_io_error (error, saved, "Cannot replace", path);
    }
  return TRUE;
}

gboolean
mel_export_write_bytes (const char *path, const void *data, gsize length, GError **error)
{
  g_autofree char *tmp_path = NULL;
  const guint8 *p = data;
  gsize left = length;
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  fd = _mel_export_open_temp (path, &tmp_path, error);
  if (fd < 0)
    return FALSE;
  while (left > 0)
    {
      ssize_t n = write (fd, p, MIN (left, (gsize) 1 << 20));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = n < 0 ? errno : ENOSPC;
          _mel_export_abandon (fd, tmp_path);
          return set_io_error (error, saved, "Cannot write", path);
        }
      p += n;
      left -= (gsize) n;
    }
  return _mel_export_commit (fd, tmp_path, path, error);
}

/* ---- tempo -------------------------------------------------------------- */

double
mel_export_default_tempo (const MelSong *song)
{
  const MelMeter *meter;
  int num, den;

  g_return_val_if_fail (song != NULL, 100.0);
  meter = mel_song_get_meter_at (song, MEL_RATIONAL_ZERO);
  if (meter == NULL || meter->irregular || meter->numerator <= 0 || meter->denominator <= 0)
    return 100.0;
  num = meter->numerator;
  den = meter->denominator;
  if (num > 3 && num % 3 == 0)
    {
      /* Compound meters are felt in dotted beats: 6/8 at 66 dotted quarters,
       * 6/4 at 50 dotted halves, 6/2 at 40 dotted wholes. */
      switch (den)
        {
        case 2: return 240.0;
        case 4: return 150.0;
        case 8: return 99.0;
        case 16: return 60.0;
        default: return 100.0;
        }
    }
  switch (den)
    {
    case 1: return 240.0; /* 4/1 etc.: the whole note is the beat */
    case 2: return 160.0; /* half note at 80 */
    case 8: return 80.0;  /* 3/8: eighth at 160 */
    case 16: return 60.0;
    default: return 100.0;
    }
}

/* ---- sounding notes ----------------------------------------------------- */

GArray *
_mel_export_sounding_notes (const MelSong *song)
{
  GArray *notes = g_array_new (FALSE, TRUE, sizeof (MelSoundingNote));
  gboolean open = FALSE;

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      MelSoundingNote *last = notes->len > 0 ? &g_array_index (notes, MelSoundingNote, notes->len - 1) : NULL;

      if (mel_event_is_rest (ev))
        {
          open = FALSE;
          continue;
        }
      /* Continue the open chain only when the tie really joins: same key,
       * no gap.  A dangling tie mark is then harmless. */
      if (open && last != NULL && (ev->tie & MEL_TIE_STOP) && last->midi == ev->midi &&
          mel_rational_equal (mel_rational_add (last->onset, last->duration), ev->onset))
        last->duration = mel_rational_add (last->duration, ev->duration);
      else
        {
          MelSoundingNote note = { ev->onset, ev->duration, ev->midi };
          g_array_append_val (notes, note);
        }
      open = (ev->tie & MEL_TIE_START) != 0;
    }
  return notes;
}

/* ---- written layout ----------------------------------------------------- */

gint64
_mel_gcd (gint64 a, gint64 b)
{
  a = ABS (a);
  b = ABS (b);
  while (b != 0)
    {
      gint64 t = a % b;
      a = b;
      b = t;
    }
  return a;
}

void
_mel_notation_free (MelNotation *notation)
{
  if (notation == NULL)
    return;
  g_array_unref (notation->measures);
  g_array_unref (notation->notes);
  g_free (notation);
}

static MelRational
rational_min (MelRational a, MelRational b)
{
  return mel_rational_compare (a, b) <= 0 ? a : b;
}

static MelRational
rational_end (MelRational onset, MelRational duration)
{
  return mel_rational_add (onset, duration);
}

/* 2^e quarter notes as a rational. */
static MelRational
power_of_two (int e)
{
  return e >= 0 ? mel_rational_new ((gint64) 1 << e, 1) : mel_rational_new (1, (gint64) 1 << -e);
}

typedef struct
{
  MelRational value;
  int type_log2;
  int dots;
  gboolean triplet;
} NoteValue;

#define MIN_TYPE_LOG2 (-6) /* 256th */
#define MAX_TYPE_LOG2 4    /* long (4 whole notes) */

/* Every value one note can spell, longest first. */
static GArray *
note_values (gboolean triplets)
{
  GArray *values = g_array_new (FALSE, FALSE, sizeof (NoteValue));

  for (int e = MAX_TYPE_LOG2; e >= MIN_TYPE_LOG2; e--)
    {
      MelRational base = power_of_two (e);
      if (triplets)
        {
          NoteValue v = { mel_rational_mul (base, mel_rational_new (2, 3)), e, 0, TRUE };
          g_array_append_val (values, v);
          continue;
        }
      NoteValue d3 = { mel_rational_mul (base, mel_rational_new (15, 8)), e, 3, FALSE };
      NoteValue d2 = { mel_rational_mul (base, mel_rational_new (7, 4)), e, 2, FALSE };
      NoteValue d1 = { mel_rational_mul (base, mel_rational_new (3, 2)), e, 1, FALSE };
      NoteValue d0 = { base, e, 0, FALSE };
      /* Three dots, as kern and mel_duration_split_notatable allow. */
      if (e > MIN_TYPE_LOG2 + 2)
        g_array_append_val (values, d3);
      if (e > MIN_TYPE_LOG2 + 1)
        g_array_append_val (values, d2);
      if (e > MIN_TYPE_LOG2)
        g_array_append_val (values, d1);
      g_array_append_val (values, d0);
    }
  return values;
}

static gboolean
has_factor_three (MelRational r)
{
  return r.den % 3 == 0;
}

/* Splits @duration into tied note values: triplet values first while the
 * remainder needs them, then plain ones, each time the longest that fits. */
static gboolean
decompose (MelRational duration, GArray *out)
{
  static GArray *plain, *triplet;
  static gsize init = 0;

  if (g_once_init_enter (&init))
    {
      plain = note_values (FALSE);
      triplet = note_values (TRUE);
      g_once_init_leave (&init, 1);
    }

  g_array_set_size (out, 0);
  for (int guard = 0; guard < 16 && mel_rational_compare (duration, MEL_RATIONAL_ZERO) > 0; guard++)
    {
      GArray *table = has_factor_three (duration) ? triplet : plain;
      const NoteValue *pick = NULL;

      for (guint i = 0; i < table->len; i++)
        {
          const NoteValue *v = &g_array_index (table, NoteValue, i);
          if (mel_rational_compare (v->value, duration) <= 0)
            {
              pick = v;
              break;
            }
        }
      if (pick == NULL)
        return FALSE;
      g_array_append_val (out, *pick);
      duration = mel_rational_sub (duration, pick->value);
    }
  return mel_rational_is_zero (duration);
}

static gboolean
meters_equal (const MelMeter *a, const MelMeter *b)
{
  return a->numerator == b->numerator && a->denominator == b->denominator && a->irregular == b->irregular;
}

static gboolean
key_signatures_equal (const MelKeySignature *a, const MelKeySignature *b)
{
  return a->fifths == b->fifths && memcmp (a->alters, b->alters, sizeof a->alters) == 0;
}

static void
append_measure (const MelSong *song, GArray *measures, MelRational onset, MelRational duration)
{
  MelWrittenMeasure m = { 0 };
  const MelMeter *meter = mel_song_get_meter_at (song, onset);
  const MelKeySignature *sig = mel_song_get_key_signature_at (song, onset);
  const MelKey *key = mel_song_get_key_at (song, onset);
  const MelWrittenMeasure *prev = measures->len > 0 ? &g_array_index (measures, MelWrittenMeasure, measures->len - 1)
                                                    : NULL;

  m.onset = onset;
  m.duration = duration;
  if (meter != NULL)
    m.meter = *meter;
  m.meter.onset = onset;
  m.meter_changed = prev == NULL || !meters_equal (&prev->meter, &m.meter);
  m.has_key_signature = sig != NULL;
  if (sig != NULL)
    m.key_signature = *sig;
  else
    mel_key_signature_init_fifths (&m.key_signature, 0);
  m.key_changed = prev == NULL || !key_signatures_equal (&prev->key_signature, &m.key_signature);
  m.has_key = key != NULL;
  if (key != NULL)
    m.key = *key;
  g_array_append_val (measures, m);
}

/* Measures from the song's bars; past their end (or without bars) from
 * the meter, a pickup first.  The last measure ends with the song. */
static GArray *
build_measures (const MelSong *song)
{
  GArray *measures = g_array_new (FALSE, TRUE, sizeof (MelWrittenMeasure));
  MelRational cursor = MEL_RATIONAL_ZERO;

  for (guint i = 0; i < song->bars->len; i++)
    {
      const MelBar *bar = &g_array_index (song->bars, MelBar, i);
      if (!mel_rational_equal (bar->onset, cursor) || mel_rational_compare (bar->duration, MEL_RATIONAL_ZERO) <= 0)
        continue;
      if (mel_rational_compare (cursor, song->duration) >= 0)
        break;
      MelRational len = rational_min (bar->duration, mel_rational_sub (song->duration, cursor));
      append_measure (song, measures, cursor, len);
      cursor = rational_end (cursor, len);
    }
  if (measures->len == 0 && mel_rational_compare (song->pickup, MEL_RATIONAL_ZERO) > 0 &&
      mel_rational_compare (song->pickup, song->duration) < 0)
    {
      append_measure (song, measures, cursor, song->pickup);
      cursor = song->pickup;
    }
  while (mel_rational_compare (cursor, song->duration) < 0)
    {
      const MelMeter *meter = mel_song_get_meter_at (song, cursor);
      MelRational len = meter != NULL ? mel_meter_bar_length (meter) : MEL_RATIONAL_ZERO;
      if (mel_rational_is_zero (len))
        len = mel_rational_new (4, 1);
      len = rational_min (len, mel_rational_sub (song->duration, cursor));
      append_measure (song, measures, cursor, len);
      cursor = rational_end (cursor, len);
    }

  /* Number them: an opening partial bar is the pickup "0". */
  if (measures->len > 1)
    {
      MelWrittenMeasure *first = &g_array_index (measures, MelWrittenMeasure, 0);
      MelRational full = mel_meter_bar_length (&first->meter);
      first->implicit = !mel_rational_is_zero (full) && mel_rational_compare (first->duration, full) < 0;
    }
  for (guint i = 0; i < measures->len; i++)
    {
      MelWrittenMeasure *m = &g_array_index (measures, MelWrittenMeasure, i);
      m->number = g_array_index (measures, MelWrittenMeasure, 0).implicit ? (int) i : (int) i + 1;
    }
  return measures;
}

/* Beaming unit of @meter in quarter notes: the dotted quarter in 6/8, 9/8,
 * 12/8 and in 3/8 (one beat), otherwise a quarter (eighth notes in 2/2 or
 * 4/2 are beamed in pairs too). */
static MelRational
beam_unit (const MelMeter *meter)
{
  if (meter->irregular || meter->denominator <= 0)
    return mel_rational_new (1, 1);
  if (meter->denominator >= 8 && meter->numerator % 3 == 0)
    return mel_rational_new (3 * 4, meter->denominator);
  if (meter->denominator >= 16)
    return mel_rational_new (1, 2);
  return mel_rational_new (1, 1);
}

static int
beam_count (const MelWrittenNote *note)
{
  if (note->midi < 0 || note->type_log2 > -1)
    return 0;
  return MIN (-note->type_log2, MEL_MAX_BEAMS);
}

static void
beam_group (MelWrittenNote *notes, guint first, guint n)
{
  if (n < 2)
    return;
  for (int level = 1; level <= MEL_MAX_BEAMS; level++)
    for (guint i = first; i < first + n; i++)
      {
        MelWrittenNote *note = &notes[i];
        if (beam_count (note) < level)
          continue;
        if (level == 1)
          {
            note->beams[0] = i == first ? MEL_BEAM_BEGIN : i == first + n - 1 ? MEL_BEAM_END : MEL_BEAM_CONTINUE;
            continue;
          }
        gboolean prev = i > first && beam_count (&notes[i - 1]) >= level;
        gboolean next = i + 1 < first + n && beam_count (&notes[i + 1]) >= level;
        if (prev && next)
          note->beams[level - 1] = MEL_BEAM_CONTINUE;
        else if (next)
          note->beams[level - 1] = MEL_BEAM_BEGIN;
        else if (prev)
          note->beams[level - 1] = MEL_BEAM_END;
        else
          note->beams[level - 1] = i > first ? MEL_BEAM_BACKWARD_HOOK : MEL_BEAM_FORWARD_HOOK;
      }
}

static void
beam_measure (MelWrittenMeasure *m, MelWrittenNote *notes)
{
  MelRational unit = beam_unit (&m->meter);
  MelRational full = mel_meter_bar_length (&m->meter);
  /* Beats count from the bar's real start: a pickup is the end of a bar. */
  MelRational origin = m->implicit ? mel_rational_sub (rational_end (m->onset, m->duration), full) : m->onset;
  guint group_first = 0, group_n = 0;
  gint64 group_beat = G_MININT64;

  for (guint i = m->first_note; i < m->first_note + m->n_notes; i++)
    {
      MelWrittenNote *note = &notes[i];
      gint64 beat = mel_rational_floor (mel_rational_div (mel_rational_sub (note->onset, origin), unit));

      if (beam_count (note) == 0 || beat != group_beat)
        {
          beam_group (notes, group_first, group_n);
          group_n = 0;
          group_beat = G_MININT64;
        }
      if (beam_count (note) == 0)
        continue;
      if (group_n == 0)
        {
          group_first = i;
          group_beat = beat;
        }
      group_n++;
    }
  beam_group (notes, group_first, group_n);
}

/* Triplet brackets: consecutive triplet values form a group until their sum
 * is a plain (non-triplet) length again. */
static void
tuplet_measure (MelWrittenMeasure *m, MelWrittenNote *notes)
{
  MelRational sum = MEL_RATIONAL_ZERO;
  gboolean open = FALSE;

  for (guint i = m->first_note; i < m->first_note + m->n_notes; i++)
    {
      MelWrittenNote *note = &notes[i];
      if (!note->triplet)
        {
          if (open)
            notes[i - 1].tuplet_stop = TRUE;
          open = FALSE;
          continue;
        }
      if (!open)
        {
          note->tuplet_start = TRUE;
          sum = MEL_RATIONAL_ZERO;
          open = TRUE;
        }
      sum = mel_rational_add (sum, note->duration);
      if (!has_factor_three (sum))
        {
          note->tuplet_stop = TRUE;
          open = FALSE;
        }
    }
  if (open && m->n_notes > 0)
    notes[m->first_note + m->n_notes - 1].tuplet_stop = TRUE;
}

/* An accidental is shown when the note's alteration differs from what the
 * key signature and earlier notes of the bar (same step and octave) imply.
 * A note tied over the barline keeps its accidental silently. */
static void
accidentals_measure (MelWrittenMeasure *m, MelWrittenNote *notes)
{
  gint8 state[7][12];

  for (int s = 0; s < 7; s++)
    for (int o = 0; o < 12; o++)
      state[s][o] = m->key_signature.alters[s];
  for (guint i = m->first_note; i < m->first_note + m->n_notes; i++)
    {
      MelWrittenNote *note = &notes[i];
      int step = mel_pitch_step_index (note->pitch.step);
      int octave = CLAMP (note->pitch.octave + 1, 0, 11);

      if (note->midi < 0 || step < 0)
        continue;
      if (note->tie_stop && i == m->first_note)
        continue;
      if (state[step][octave] != note->pitch.alter)
        {
          note->show_accidental = TRUE;
          state[step][octave] = note->pitch.alter;
        }
    }
}

static guint
measure_index_at (GArray *measures, guint from, MelRational t)
{
  while (from + 1 < measures->len)
    {
      const MelWrittenMeasure *m = &g_array_index (measures, MelWrittenMeasure, from);
      if (mel_rational_compare (t, rational_end (m->onset, m->duration)) < 0)
        break;
      from++;
    }
  return from;
}

/* Appends the written pieces of one event (or gap rest). */
static gboolean
add_event (MelNotation *notation, const MelEvent *ev, guint *measure_cursor, GArray *scratch, GError **error)
{
  MelRational t = ev->onset;
  MelRational end = rational_end (ev->onset, ev->duration);
  gboolean rest = mel_event_is_rest (ev);
  guint first_piece = notation->notes->len;

  while (mel_rational_compare (t, end) < 0)
    {
      guint mi = measure_index_at (notation->measures, *measure_cursor, t);
      MelWrittenMeasure *m = &g_array_index (notation->measures, MelWrittenMeasure, mi);
      MelRational m_end = rational_end (m->onset, m->duration);
      MelRational piece_end = mi + 1 < notation->measures->len ? rational_min (end, m_end) : end;
      MelRational len = mel_rational_sub (piece_end, t);

      *measure_cursor = mi;
      if (rest && mel_rational_equal (t, m->onset) && mel_rational_equal (len, m->duration))
        {
          MelWrittenNote w = { 0 };
          w.onset = t;
          w.duration = len;
          w.midi = -1;
          w.measure_rest = TRUE;
          w.flags = ev->flags;
          g_array_append_val (notation->notes, w);
          m->n_notes++;
          t = piece_end;
          continue;
        }
      if (!decompose (len, scratch))
        {
          g_autofree char *text = mel_rational_to_string (ev->duration);
          g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_UNSUPPORTED,
                       "A duration of %s quarter notes (line %u) cannot be written with plain, dotted or "
                       "triplet note values",
                       text, ev->line);
          return FALSE;
        }
      for (guint k = 0; k < scratch->len; k++)
        {
          const NoteValue *v = &g_array_index (scratch, NoteValue, k);
          MelWrittenNote w = { 0 };
          w.onset = t;
          w.duration = v->value;
          w.pitch = ev->pitch;
          w.midi = rest ? -1 : ev->midi;
          w.type_log2 = v->type_log2;
          w.dots = v->dots;
          w.triplet = v->triplet;
          g_array_append_val (notation->notes, w);
          m->n_notes++;
          t = mel_rational_add (t, v->value);
        }
    }

  guint last_piece = notation->notes->len - 1;
  MelWrittenNote *pieces = &g_array_index (notation->notes, MelWrittenNote, 0);
  /* A phrase opens at the first written piece and closes at the last. */
  pieces[first_piece].flags = ev->flags & ~MEL_EVENT_PHRASE_END;
  pieces[last_piece].flags |= ev->flags & MEL_EVENT_PHRASE_END;
  if (!rest)
    for (guint k = first_piece; k <= last_piece; k++)
      {
        pieces[k].tie_stop = k > first_piece || (ev->tie & MEL_TIE_STOP) != 0;
        pieces[k].tie_start = k < last_piece || (ev->tie & MEL_TIE_START) != 0;
      }
  return TRUE;
}

MelNotation *
_mel_notation_new (const MelSong *song, GError **error)
{
  g_autoptr (MelNotation) notation = g_new0 (MelNotation, 1);
  g_autoptr (GArray) scratch = g_array_new (FALSE, FALSE, sizeof (NoteValue));
  MelRational cursor = MEL_RATIONAL_ZERO;
  guint measure_cursor = 0;

  notation->notes = g_array_new (FALSE, TRUE, sizeof (MelWrittenNote));
  notation->measures = NULL;
  if (song->events->len == 0 || mel_rational_compare (song->duration, MEL_RATIONAL_ZERO) <= 0)
    {
      notation->measures = g_array_new (FALSE, TRUE, sizeof (MelWrittenMeasure));
      g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_EMPTY, "The song '%s' has no notes", song->id);
      return NULL;
    }
  notation->measures = build_measures (song);

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      int cmp = mel_rational_compare (ev->onset, cursor);

      if (mel_rational_compare (ev->duration, MEL_RATIONAL_ZERO) <= 0)
        continue;
      if (cmp < 0)
        {
          g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_UNSUPPORTED,
                       "Overlapping notes at line %u: only one voice can be written", ev->line);
          return NULL;
        }
      if (cmp > 0)
        {
          /* A gap in the events is silence: write it as a rest. */
          MelEvent gap = { 0 };
          gap.onset = cursor;
          gap.duration = mel_rational_sub (ev->onset, cursor);
          gap.midi = -1;
          if (!add_event (notation, &gap, &measure_cursor, scratch, error))
            return NULL;
        }
      if (!add_event (notation, ev, &measure_cursor, scratch, error))
        return NULL;
      cursor = rational_end (ev->onset, ev->duration);
    }

  /* first_note indices, then the per-measure decorations. */
  guint first = 0;
  MelWrittenNote *notes = (MelWrittenNote *) (void *) notation->notes->data;
  for (guint i = 0; i < notation->measures->len; i++)
    {
      MelWrittenMeasure *m = &g_array_index (notation->measures, MelWrittenMeasure, i);
      m->first_note = first;
      first += m->n_notes;
      tuplet_measure (m, notes);
      beam_measure (m, notes);
      accidentals_measure (m, notes);
    }
  g_assert (first == notation->notes->len);
  return g_steal_pointer (&notation);
}

gint64
_mel_notation_divisions (const MelNotation *notation)
{
  gint64 divisions = 1;

  for (guint i = 0; i < notation->notes->len; i++)
    {
      const MelWrittenNote *note = &g_array_index (notation->notes, MelWrittenNote, i);
      gint64 den = note->duration.den;
      divisions = divisions / _mel_gcd (divisions, den) * den;
    }
  for (guint i = 0; i < notation->measures->len; i++)
    {
      const MelWrittenMeasure *m = &g_array_index (notation->measures, MelWrittenMeasure, i);
      gint64 den = m->duration.den;
      divisions = divisions / _mel_gcd (divisions, den) * den;
    }
  return divisions;
}
