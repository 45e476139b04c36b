/* kern-compare.h — full comparison of two songs for the kern round-trip
 * checks of the fuzzer and the tests (header-only, static functions).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <string.h>

#include "mel-song.h"

/* Compares everything the kern writer promises to keep: events (with
 * phrase flags and bar indices), bars (not their source lines), meters,
 * key signatures, keys, references and the pickup.  On a difference
 * returns FALSE and, when @why is not NULL, a description of it. */
static inline gboolean
mel_test_songs_equivalent (const MelSong *a, const MelSong *b, char **why)
{
#define DIFFER(...)                                                                      \
  do                                                                                     \
    {                                                                                    \
      if (why != NULL)                                                                   \
        *why = g_strdup_printf (__VA_ARGS__);                                            \
      return FALSE;                                                                      \
    }                                                                                    \
  while (0)

  if (!mel_song_events_equal (a, b))
    DIFFER ("events differ");
  for (guint i = 0; i < a->events->len; i++)
    {
      const MelEvent *x = &g_array_index (a->events, MelEvent, i);
      const MelEvent *y = &g_array_index (b->events, MelEvent, i);
      if (x->flags != y->flags || x->bar != y->bar)
        DIFFER ("event %u: flags %u/%u, bar %u/%u", i, x->flags, y->flags, x->bar, y->bar);
    }
  if (a->bars->len != b->bars->len)
    DIFFER ("%u bars against %u", a->bars->len, b->bars->len);
  for (guint i = 0; i < a->bars->len; i++)
    {
      const MelBar *x = &g_array_index (a->bars, MelBar, i);
      const MelBar *y = &g_array_index (b->bars, MelBar, i);
      if (!mel_rational_equal (x->onset, y->onset) ||
          !mel_rational_equal (x->duration, y->duration) || x->number != y->number)
        DIFFER ("bar %u differs (number %d/%d)", i, x->number, y->number);
    }
  if (a->meters->len != b->meters->len)
    DIFFER ("%u meters against %u", a->meters->len, b->meters->len);
  for (guint i = 0; i < a->meters->len; i++)
    {
      const MelMeter *x = &g_array_index (a->meters, MelMeter, i);
      const MelMeter *y = &g_array_index (b->meters, MelMeter, i);
      if (!mel_rational_equal (x->onset, y->onset) || x->numerator != y->numerator ||
          x->denominator != y->denominator || x->irregular != y->irregular)
        DIFFER ("meter %u differs", i);
    }
  if (a->key_signatures->len != b->key_signatures->len)
    DIFFER ("%u key signatures against %u", a->key_signatures->len, b->key_signatures->len);
  for (guint i = 0; i < a->key_signatures->len; i++)
    {
      const MelKeySignature *x = &g_array_index (a->key_signatures, MelKeySignature, i);
      const MelKeySignature *y = &g_array_index (b->key_signatures, MelKeySignature, i);
      if (!mel_rational_equal (x->onset, y->onset) || x->fifths != y->fifths ||
          memcmp (x->alters, y->alters, sizeof x->alters) != 0)
        DIFFER ("key signature %u differs", i);
    }
  if (a->keys->len != b->keys->len)
    DIFFER ("%u keys against %u", a->keys->len, b->keys->len);
  for (guint i = 0; i < a->keys->len; i++)
    {
      const MelKey *x = &g_array_index (a->keys, MelKey, i);
      const MelKey *y = &g_array_index (b->keys, MelKey, i);
      if (!mel_rational_equal (x->onset, y->onset) || x->tonic_step != y->tonic_step ||
          x->tonic_alter != y->tonic_alter || x->mode != y->mode)
        DIFFER ("key %u differs", i);
    }
  if (!mel_rational_equal (a->pickup, b->pickup) || !mel_rational_equal (a->duration, b->duration))
    DIFFER ("pickup or duration differ");
  if (g_hash_table_size (a->references) != g_hash_table_size (b->references))
    DIFFER ("%u references against %u", g_hash_table_size (a->references),
            g_hash_table_size (b->references));
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, a->references);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_strcmp0 (value, g_hash_table_lookup (b->references, key)) != 0)
      DIFFER ("reference %s differs", (const char *) key);
  if (g_strcmp0 (a->title, b->title) != 0 || g_strcmp0 (a->id, b->id) != 0)
    DIFFER ("title or id differ");
  return TRUE;
#undef DIFFER
}
