/* mel-soundfont-check.c — a structural check of SoundFont 2 files before
 * FluidSynth opens them (see mel-synth-private.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-synth-private.h"

#include <string.h>

static guint32
read_le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static gboolean
read_at (GInputStream *in, goffset pos, guint8 *buf, gsize n)
{
  gsize got = 0;

  return g_seekable_seek (G_SEEKABLE (in), pos, G_SEEK_SET, NULL, NULL) &&
         g_input_stream_read_all (in, buf, n, &got, NULL, NULL) && got == n;
}

/* TRUE when the nine preset-data tables of pdta are all present with
 * whole records and at least their minimum count. */
static gboolean
check_pdta (GInputStream *in, goffset start, goffset end)
{
  static const struct
  {
    const char *id;
    guint32 record;
    guint32 min_records; /* including the terminal record */
  } tables[] = {
    { "phdr", 38, 2 }, { "pbag", 4, 1 }, { "pmod", 10, 1 }, { "pgen", 4, 1 }, { "inst", 22, 2 },
    { "ibag", 4, 1 },  { "imod", 10, 1 }, { "igen", 4, 1 }, { "shdr", 46, 2 },
  };
  guint found = 0;

  for (goffset sub = start; sub + 8 <= end;)
    {
      guint8 sh[8];
      if (!read_at (in, sub, sh, 8))
        break;
      guint32 len = read_le32 (sh + 4);
      if (sub + 8 + (goffset) len > end)
        break;
      for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
        if (memcmp (sh, tables[t].id, 4) == 0 && len % tables[t].record == 0 &&
            len >= tables[t].min_records * tables[t].record)
          found |= 1u << t;
      sub += 8 + (goffset) len + (len & 1);
    }
  return found == (1u << G_N_ELEMENTS (tables)) - 1;
}

const char *
_mel_soundfont_check (GInputStream *in, goffset size)
{
  guint8 head[12];
  guint found = 0;
  gboolean tables_ok = FALSE;
  goffset pos = 12;

  g_return_val_if_fail (G_IS_SEEKABLE (in), "not seekable");

  if (size < 12 || !read_at (in, 0, head, 12) || memcmp (head, "RIFF", 4) != 0 ||
      memcmp (head + 8, "sfbk", 4) != 0)
    return "not a SoundFont 2 file";
  if ((goffset) read_le32 (head + 4) + 8 > size)
    return "the file is truncated";
  while (pos + 12 <= size && found != 7)
    {
      guint8 chunk[12];
      if (!read_at (in, pos, chunk, 12))
        break;
      goffset len = read_le32 (chunk + 4);
      if (pos + 8 + len > size)
        return "a chunk runs past the end of the file";
      if (memcmp (chunk, "LIST", 4) == 0 && memcmp (chunk + 8, "INFO", 4) == 0)
        found |= 1;
      else if (memcmp (chunk, "LIST", 4) == 0 && memcmp (chunk + 8, "sdta", 4) == 0)
        found |= 2;
      else if (memcmp (chunk, "LIST", 4) == 0 && memcmp (chunk + 8, "pdta", 4) == 0)
        {
          found |= 4;
          tables_ok = check_pdta (in, pos + 12, pos + 8 + len);
        }
      pos += 8 + len + (len & 1);
    }
  if (found != 7)
    return "the INFO, sample or preset section is missing";
  if (!tables_ok)
    return "the preset tables are damaged";
  return NULL;
}
