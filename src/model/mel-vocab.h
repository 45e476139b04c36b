/* mel-vocab.h — what the model library knows about symbols.
 *
 * src/model never sees songs: it gets symbol strings (from the encoded
 * dataset of src/score) and learns from them only which ids are pitches
 * (with their MIDI number), the hold "_", the rest "r" and the song
 * delimiter "/".  That is all the metrics and the sampler need.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MEL_SYMBOL_PITCH,     /* a MIDI number: a note onset */
  MEL_SYMBOL_HOLD,      /* "_": the previous note or rest continues */
  MEL_SYMBOL_REST,      /* "r": a rest onset */
  MEL_SYMBOL_DELIMITER, /* "/": song boundary */
} MelSymbolKind;

#define MEL_VOCAB_ERROR (mel_vocab_error_quark ())
GQuark mel_vocab_error_quark (void);
typedef enum
{
  MEL_VOCAB_ERROR_INVALID, /* a symbol that is none of the kinds, or a duplicate */
} MelVocabError;

typedef struct
{
  guint size;
  char **symbols;  /* size strings + NULL; owned */
  guint8 *kinds;   /* MelSymbolKind per id */
  gint16 *midi;    /* MIDI number per id, -1 for non-pitches */
  gint32 delimiter_id, hold_id, rest_id; /* -1 when absent */
} MelVocab;

/* Builds a vocabulary from @n symbol strings ("60", "_", "r", "/").
 * Returns NULL with MEL_VOCAB_ERROR_INVALID on a bad or repeated symbol. */
MelVocab *mel_vocab_new (const char *const *symbols, guint n, GError **error);
MelVocab *mel_vocab_copy (const MelVocab *vocab);
void mel_vocab_free (MelVocab *vocab);
/* Id of @symbol or -1. */
int mel_vocab_lookup (const MelVocab *vocab, const char *symbol);
gboolean mel_vocab_equal (const MelVocab *a, const MelVocab *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelVocab, mel_vocab_free)

G_END_DECLS
