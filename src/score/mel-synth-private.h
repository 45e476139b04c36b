/* mel-synth-private.h — internals of the FluidSynth renderer.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Walks the RIFF chunks of a SoundFont 2 file read from @in (seekable,
 * @size bytes): "RIFF" "sfbk" with the LIST chunks INFO, sdta and pdta
 * inside the file, and the nine preset-data tables in pdta with whole
 * records.  Returns NULL when the structure is sound, else a static
 * English description of the first problem ("the file is truncated").
 * Never reads outside @size; fuzzed by tests/fuzz/fuzz-soundfont.c. */
const char *_mel_soundfont_check (GInputStream *in, goffset size);

G_END_DECLS
