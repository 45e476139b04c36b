/* mel-test-smf.h — a small Standard MIDI File reader for the export tests
 * (header-only; each test includes it once).  It reads types 0 and 1,
 * running status, note-on with velocity 0 as note-off, meta and sysex
 * events, and pairs note-ons with note-offs per channel and key.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>
#include <string.h>

typedef struct
{
  gint64 on; /* ticks */
  gint64 off;
  int key;
  int channel;
  int velocity;
} SmfNote;

typedef struct
{
  gint64 tick;
  int type;
  GBytes *data;
} SmfMeta;

typedef struct
{
  int format;
  int n_tracks;
  int division;
  GArray *notes; /* SmfNote sorted by (on, key) */
  GArray *metas; /* SmfMeta in file order per track */
  GArray *programs; /* int: program changes seen (channel 0..15 ignored) */
} Smf;

static void
smf_free (Smf *smf)
{
  if (smf == NULL)
    return;
  for (guint i = 0; smf->metas != NULL && i < smf->metas->len; i++)
    g_bytes_unref (g_array_index (smf->metas, SmfMeta, i).data);
  g_clear_pointer (&smf->notes, g_array_unref);
  g_clear_pointer (&smf->metas, g_array_unref);
  g_clear_pointer (&smf->programs, g_array_unref);
  g_free (smf);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Smf, smf_free)

static guint32
smf_be (const guint8 *p, int n)
{
  guint32 v = 0;
  for (int i = 0; i < n; i++)
    v = v << 8 | p[i];
  return v;
}

static gboolean
smf_vlq (const guint8 *data, gsize end, gsize *pos, guint32 *out)
{
  guint32 v = 0;
  for (int i = 0; i < 4; i++)
    {
      if (*pos >= end)
        return FALSE;
      guint8 b = data[(*pos)++];
      v = v << 7 | (b & 0x7F);
      if (!(b & 0x80))
        {
          *out = v;
          return TRUE;
        }
    }
  return FALSE;
}

static int
smf_compare_notes (gconstpointer a, gconstpointer b)
{
  const SmfNote *x = a, *y = b;
  if (x->on != y->on)
    return x->on < y->on ? -1 : 1;
  return x->key - y->key;
}

/* Parses @length bytes; NULL when the file is malformed. */
static Smf *
smf_parse (const guint8 *data, gsize length)
{
  g_autoptr (Smf) smf = g_new0 (Smf, 1);
  gsize pos = 14;

  smf->notes = g_array_new (FALSE, FALSE, sizeof (SmfNote));
  smf->metas = g_array_new (FALSE, FALSE, sizeof (SmfMeta));
  smf->programs = g_array_new (FALSE, FALSE, sizeof (int));
  if (length < 14 || memcmp (data, "MThd", 4) != 0 || smf_be (data + 4, 4) != 6)
    return NULL;
  smf->format = (int) smf_be (data + 8, 2);
  smf->n_tracks = (int) smf_be (data + 10, 2);
  smf->division = (int) smf_be (data + 12, 2);
  for (int t = 0; t < smf->n_tracks; t++)
    {
      g_autoptr (GHashTable) open = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
      if (pos + 8 > length || memcmp (data + pos, "MTrk", 4) != 0)
        return NULL;
      gsize end = pos + 8 + smf_be (data + pos + 4, 4);
      if (end > length)
        return NULL;
      pos += 8;
      gint64 tick = 0;
      guint8 status = 0;
      gboolean ended = FALSE;
      while (pos < end)
        {
          guint32 delta;
          if (!smf_vlq (data, end, &pos, &delta) || pos >= end)
            return NULL;
          tick += delta;
          guint8 b = data[pos];
          if (b & 0x80)
            {
              status = b;
              pos++;
            }
          else if (status == 0 || status >= 0xF0)
            return NULL; /* running status without a status */
          if (status == 0xFF)
            {
              guint32 len;
              if (pos >= end)
                return NULL;
              int type = data[pos++];
              if (!smf_vlq (data, end, &pos, &len) || pos + len > end)
                return NULL;
              SmfMeta meta = { tick, type, g_bytes_new (data + pos, len) };
              g_array_append_val (smf->metas, meta);
              pos += len;
              if (type == 0x2F)
                ended = TRUE;
              status = 0;
              continue;
            }
          if (status == 0xF0 || status == 0xF7)
            {
              guint32 len;
              if (!smf_vlq (data, end, &pos, &len) || pos + len > end)
                return NULL;
              pos += len;
              status = 0;
              continue;
            }
          int kind = status & 0xF0, channel = status & 0x0F;
          int n_data = (kind == 0xC0 || kind == 0xD0) ? 1 : 2;
          if (pos + (gsize) n_data > end)
            return NULL;
          int d1 = data[pos], d2 = n_data > 1 ? data[pos + 1] : 0;
          pos += (gsize) n_data;
          gpointer slot = GINT_TO_POINTER (channel * 128 + d1 + 1);
          if (kind == 0x90 && d2 > 0)
            {
              SmfNote *n = g_new0 (SmfNote, 1);
              n->on = tick;
              n->key = d1;
              n->channel = channel;
              n->velocity = d2;
              g_hash_table_replace (open, slot, n);
            }
          else if (kind == 0x80 || kind == 0x90)
            {
              SmfNote *n = g_hash_table_lookup (open, slot);
              if (n != NULL)
                {
                  n->off = tick;
                  g_array_append_val (smf->notes, *n);
                  g_hash_table_remove (open, slot);
                }
            }
          else if (kind == 0xC0)
            g_array_append_val (smf->programs, d1);
        }
      if (!ended || g_hash_table_size (open) != 0)
        return NULL;
      pos = end;
    }
  g_array_sort (smf->notes, smf_compare_notes);
  return g_steal_pointer (&smf);
}

static Smf *
smf_read_file (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return NULL;
  return smf_parse ((const guint8 *) contents, length);
}
