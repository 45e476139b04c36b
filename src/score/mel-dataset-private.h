/* mel-dataset-private.h — internals shared by mel-preprocess.c, mel-dataset.c,
 * their tests and the fuzz target.  Not part of the library's public face.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "mel-dataset.h"

G_BEGIN_DECLS

/* The compact form of a symbol used inside the pipeline: a MIDI number
 * 0…127 at a note onset, or one of these. */
#define MEL_CODE_HOLD ((gint16) -1)
#define MEL_CODE_REST ((gint16) -2)
#define MEL_CODE_DELIMITER ((gint16) -3)

/* Encodes @song into @codes (gint16, appended) and, when @bar_steps is not
 * NULL, appends the step of every full bar start (guint32, relative to the
 * song's first step).  Returns FALSE with MEL_DATASET_ERROR_NOT_ENCODABLE;
 * @codes and @bar_steps may then hold a partial result. */
gboolean _mel_song_encode_codes (const MelSong *song, GArray *codes, GArray *bar_steps, GError **error);

/* Code of one symbol string, or FALSE when it is not a symbol. */
gboolean _mel_symbol_to_code (const char *symbol, gint16 *code);

/* Symbol string of a code (newly allocated). */
char *_mel_code_to_symbol (gint16 code);

/* CRC-32 (IEEE 802.3, as zlib's crc32) of @length bytes, continuing @crc
 * (start with 0). */
guint32 _mel_crc32 (guint32 crc, const guint8 *data, gsize length);

/* Parses a dataset file image; @check_checksum FALSE lets the fuzzer reach
 * the structural checks behind the checksum. */
MelDataset *_mel_dataset_parse (const guint8 *data, gsize length, gboolean check_checksum, GError **error);

G_END_DECLS
