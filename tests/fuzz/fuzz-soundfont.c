/* fuzz-soundfont.c — libFuzzer target for the SoundFont structure check
 * that runs before FluidSynth opens a user's SoundFont.
 *
 * The check must never read outside the data, never loop forever, and
 * accept a file only when its RIFF structure holds together.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-synth-private.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GInputStream *in = g_memory_input_stream_new_from_data (data, (gssize) size, NULL);
  const char *problem = _mel_soundfont_check (in, (goffset) size);

  /* Anything accepted starts like a SoundFont and is as long as it says. */
  if (problem == NULL)
    {
      g_assert (size >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "sfbk", 4) == 0);
      guint32 riff = (guint32) data[4] | (guint32) data[5] << 8 | (guint32) data[6] << 16 | (guint32) data[7] << 24;
      g_assert ((guint64) riff + 8 <= size);
    }
  g_object_unref (in);
  return 0;
}
