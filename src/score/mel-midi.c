/* mel-midi.c — Standard MIDI File writer.
 * SPDX-License-Identifier: MIT
 */
#include "mel-midi.h"
#include "mel-export-private.h"
#include "mel-synth.h"

#include <math.h>
#include <string.h>

void
mel_midi_options_init (MelMidiOptions *options)
{
  g_return_if_fail (options != NULL);
  options->tempo = 0.0;
  options->program = MEL_SYNTH_DEFAULT_PROGRAM;
  options->velocity = 90;
}

static gint64
lcm_capped (gint64 a, gint64 b)
{
  gint64 l = a / _mel_gcd (a, b) * b;
  return MIN (l, (gint64) G_MAXINT32);
}

int
mel_midi_ticks_per_quarter (const MelSong *song)
{
  gint64 l = 1;

  g_return_val_if_fail (song != NULL, MEL_MIDI_TICKS_PER_QUARTER);
  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      l = lcm_capped (l, ev->onset.den);
      l = lcm_capped (l, ev->duration.den);
    }
  for (guint i = 0; i < song->meters->len; i++)
    l = lcm_capped (l, g_array_index (song->meters, MelMeter, i).onset.den);
  for (guint i = 0; i < song->key_signatures->len; i++)
    l = lcm_capped (l, g_array_index (song->key_signatures, MelKeySignature, i).onset.den);
  if (MEL_MIDI_TICKS_PER_QUARTER % l == 0)
    return MEL_MIDI_TICKS_PER_QUARTER;
  gint64 finer = l * ((MEL_MIDI_TICKS_PER_QUARTER + l - 1) / l);
  if (finer <= 32767)
    return (int) finer;
  /* Beyond what SMF can express: fall back to rounding at 480. */
  return MEL_MIDI_TICKS_PER_QUARTER;
}

/* ---- track building ------------------------------------------------------ */

typedef enum
{
  ORDER_META = 0,
  ORDER_PROGRAM = 1,
  ORDER_NOTE_OFF = 2,
  ORDER_NOTE_ON = 3,
  ORDER_END = 4,
} EventOrder;

typedef struct
{
  gint64 tick;
  int order;
  guint seq;   /* insertion order, to keep the sort stable */
  guint start; /* offset of the bytes in the data buffer */
  guint length;
} TrackEvent;

typedef struct
{
  GArray *events;  /* TrackEvent */
  GByteArray *data;
  int tpq;
} Track;

static gint64
to_ticks (const Track *track, MelRational t)
{
  /* Exact whenever tpq is a multiple of t's denominator (the usual case). */
  return (t.num * track->tpq + (t.num >= 0 ? t.den / 2 : -(t.den / 2))) / t.den;
}

static void
track_add (Track *track, gint64 tick, int order, const guint8 *bytes, guint length)
{
  TrackEvent ev = { tick, order, track->events->len, track->data->len, length };

  g_byte_array_append (track->data, bytes, length);
  g_array_append_val (track->events, ev);
}

static void
track_add_meta (Track *track, gint64 tick, guint8 type, const guint8 *payload, guint length)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 head[2] = { 0xFF, type };
  guint8 vlq[5];
  int n = 0;

  g_byte_array_append (bytes, head, 2);
  /* Meta length is a variable-length quantity. */
  guint32 v = length;
  vlq[n++] = v & 0x7F;
  while ((v >>= 7) > 0)
    vlq[n++] = 0x80 | (v & 0x7F);
  for (int i = n - 1; i >= 0; i--)
    g_byte_array_append (bytes, &vlq[i], 1);
  g_byte_array_append (bytes, payload, length);
  track_add (track, tick, ORDER_META, bytes->data, bytes->len);
}

static int
compare_track_events (gconstpointer a, gconstpointer b)
{
  const TrackEvent *x = a, *y = b;

  if (x->tick != y->tick)
    return x->tick < y->tick ? -1 : 1;
  if (x->order != y->order)
    return x->order - y->order;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
put_vlq (GByteArray *out, guint32 value)
{
  guint8 buf[5];
  int n = 0;

  buf[n++] = value & 0x7F;
  while ((value >>= 7) > 0)
    buf[n++] = 0x80 | (value & 0x7F);
  while (n > 0)
    g_byte_array_append (out, &buf[--n], 1);
}

static void
put_be32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF };
  g_byte_array_append (out, b, 4);
}

static void
put_be16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xFF };
  g_byte_array_append (out, b, 2);
}

static gboolean
is_power_of_two (int v)
{
  return v > 0 && (v & (v - 1)) == 0;
}

static void
add_time_signatures (Track *track, const MelSong *song)
{
  const MelMeter *prev = NULL;

  for (guint i = 0; i < song->meters->len; i++)
    {
      const MelMeter *m = &g_array_index (song->meters, MelMeter, i);
      if (m->irregular || m->numerator <= 0 || m->numerator > 255 || !is_power_of_two (m->denominator))
        continue;
      if (prev != NULL && prev->numerator == m->numerator && prev->denominator == m->denominator)
        continue;
      prev = m;
      /* MIDI clocks (24 per quarter) per metronome click: the dotted beat in
       * compound meters, else one 1/denominator. */
      int clocks = 96 / m->denominator;
      if (m->numerator > 3 && m->numerator % 3 == 0)
        clocks *= 3;
      guint8 payload[4] = { (guint8) m->numerator, (guint8) g_bit_nth_lsf ((gulong) m->denominator, -1),
                            (guint8) MIN (clocks, 255), 8 };
      track_add_meta (track, to_ticks (track, m->onset), 0x58, payload, 4);
    }
}

static void
add_key_signatures (Track *track, const MelSong *song)
{
  for (guint i = 0; i < song->key_signatures->len; i++)
    {
      const MelKeySignature *sig = &g_array_index (song->key_signatures, MelKeySignature, i);
      const MelKey *key = mel_song_get_key_at (song, sig->onset);
      if (sig->fifths < -7 || sig->fifths > 7)
        continue;
      guint8 payload[2] = { (guint8) (gint8) sig->fifths, key != NULL && key->mode == MEL_MODE_MINOR };
      track_add_meta (track, to_ticks (track, sig->onset), 0x59, payload, 2);
    }
}

GBytes *
mel_midi_write (const MelSong *song, const MelMidiOptions *options, GError **error)
{
  MelMidiOptions defaults;
  Track track;
  g_autoptr (GArray) track_events = g_array_new (FALSE, FALSE, sizeof (TrackEvent));
  g_autoptr (GByteArray) track_data = g_byte_array_new ();
  g_autoptr (GArray) notes = NULL;
  g_autoptr (GByteArray) body = g_byte_array_new ();
  GByteArray *file;
  const char *name;
  double tempo;

  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (options == NULL)
    {
      mel_midi_options_init (&defaults);
      options = &defaults;
    }
  g_return_val_if_fail (options->program >= 0 && options->program <= 127, NULL);
  g_return_val_if_fail (options->velocity >= 1 && options->velocity <= 127, NULL);

  if (song->events->len == 0)
    {
      g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_EMPTY, "The song '%s' has no notes", song->id);
      return NULL;
    }
  track.events = track_events;
  track.data = track_data;
  track.tpq = mel_midi_ticks_per_quarter (song);
  tempo = options->tempo > 0.0 ? options->tempo : mel_export_default_tempo (song);

  name = song->title != NULL && *song->title != '\0' ? song->title : song->id;
  track_add_meta (&track, 0, 0x03, (const guint8 *) name, (guint) strlen (name));
  guint32 usec = (guint32) CLAMP (llround (60000000.0 / tempo), 1, 0xFFFFFF);
  guint8 tempo_payload[3] = { usec >> 16, (usec >> 8) & 0xFF, usec & 0xFF };
  track_add_meta (&track, 0, 0x51, tempo_payload, 3);
  add_time_signatures (&track, song);
  add_key_signatures (&track, song);
  guint8 program[2] = { 0xC0, (guint8) options->program };
  track_add (&track, 0, ORDER_PROGRAM, program, 2);

  notes = _mel_export_sounding_notes (song);
  for (guint i = 0; i < notes->len; i++)
    {
      const MelSoundingNote *n = &g_array_index (notes, MelSoundingNote, i);
      gint64 on = to_ticks (&track, n->onset);
      gint64 off = to_ticks (&track, mel_rational_add (n->onset, n->duration));
      if (n->midi < 0 || n->midi > 127)
        {
          g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_UNSUPPORTED,
                       "The song '%s' has a pitch (MIDI %d) outside the MIDI range", song->id, n->midi);
          return NULL;
        }
      guint8 note_on[3] = { 0x90, (guint8) n->midi, (guint8) options->velocity };
      guint8 note_off[3] = { 0x80, (guint8) n->midi, 64 };
      track_add (&track, on, ORDER_NOTE_ON, note_on, 3);
      track_add (&track, off, ORDER_NOTE_OFF, note_off, 3);
    }
  guint8 end_of_track[3] = { 0xFF, 0x2F, 0x00 };
  track_add (&track, to_ticks (&track, song->duration), ORDER_END, end_of_track, 3);
  g_array_sort (track.events, compare_track_events);

  gint64 now = 0;
  for (guint i = 0; i < track.events->len; i++)
    {
      const TrackEvent *ev = &g_array_index (track.events, TrackEvent, i);
      put_vlq (body, (guint32) (ev->tick - now));
      now = ev->tick;
      g_byte_array_append (body, track.data->data + ev->start, ev->length);
    }

  file = g_byte_array_new ();
  g_byte_array_append (file, (const guint8 *) "MThd", 4);
  put_be32 (file, 6);
  put_be16 (file, 0); /* format 0 */
  put_be16 (file, 1); /* one track */
  put_be16 (file, (guint16) track.tpq);
  g_byte_array_append (file, (const guint8 *) "MTrk", 4);
  put_be32 (file, body->len);
  g_byte_array_append (file, body->data, body->len);
  return g_byte_array_free_to_bytes (file);
}

gboolean
mel_midi_write_file (const MelSong *song, const MelMidiOptions *options, const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  gsize length;
  const void *data;

  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  bytes = mel_midi_write (song, options, error);
  if (bytes == NULL)
    return FALSE;
  data = g_bytes_get_data (bytes, &length);
  return mel_export_write_bytes (path, data, length, error);
}
