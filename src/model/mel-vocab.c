/* mel-vocab.c — symbol kinds of a vocabulary.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-vocab.h"

#include <string.h>

G_DEFINE_QUARK (mel-vocab-error-quark, mel_vocab_error)

/* A MIDI number is 1–3 decimal digits in 0…127, nothing else ("060" and
 * "+60" are not symbols the encoder writes, so they are rejected). */
static gboolean
parse_midi (const char *text, gint16 *midi)
{
  gsize len = strlen (text);
  int value = 0;

  if (len == 0 || len > 3 || (len > 1 && text[0] == '0'))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      value = value * 10 + (text[i] - '0');
    }
  if (value > 127)
    return FALSE;
  *midi = (gint16) value;
  return TRUE;
}

static gboolean
classify (const char *symbol, MelSymbolKind *kind, gint16 *midi)
{
  *midi = -1;
  if (strcmp (symbol, "_") == 0)
    *kind = MEL_SYMBOL_HOLD;
  else if (strcmp (symbol, "r") == 0)
    *kind = MEL_SYMBOL_REST;
  else if (strcmp (symbol, "/") == 0)
    *kind = MEL_SYMBOL_DELIMITER;
  else if (parse_midi (symbol, midi))
    *kind = MEL_SYMBOL_PITCH;
  else
    return FALSE;
  return TRUE;
}

MelVocab *
mel_vocab_new (const char *const *symbols, guint n, GError **error)
{
  g_autoptr(MelVocab) vocab = NULL;
  g_autoptr(GHashTable) seen = NULL;

  g_return_val_if_fail (symbols != NULL || n == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  vocab = g_new0 (MelVocab, 1);
  vocab->size = n;
  vocab->symbols = g_new0 (char *, n + 1);
  vocab->kinds = g_new0 (guint8, MAX (n, 1));
  vocab->midi = g_new0 (gint16, MAX (n, 1));
  vocab->delimiter_id = vocab->hold_id = vocab->rest_id = -1;
  seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < n; i++)
    {
      MelSymbolKind kind;
      gint16 midi;

      if (symbols[i] == NULL || !classify (symbols[i], &kind, &midi))
        {
          g_set_error (error, MEL_VOCAB_ERROR, MEL_VOCAB_ERROR_INVALID,
                       "Symbol %u (“%s”) is not a MIDI number, “_”, “r” or “/”", i,
                       symbols[i] ? symbols[i] : "(null)");
          return NULL;
        }
      if (g_hash_table_contains (seen, symbols[i]))
        {
          g_set_error (error, MEL_VOCAB_ERROR, MEL_VOCAB_ERROR_INVALID,
                       "Symbol “%s” occurs twice in the vocabulary", symbols[i]);
          return NULL;
        }
      vocab->symbols[i] = g_strdup (symbols[i]);
      g_hash_table_add (seen, vocab->symbols[i]);
      vocab->kinds[i] = (guint8) kind;
      vocab->midi[i] = midi;
      if (kind == MEL_SYMBOL_HOLD)
        vocab->hold_id = (gint32) i;
      else if (kind == MEL_SYMBOL_REST)
        vocab->rest_id = (gint32) i;
      else if (kind == MEL_SYMBOL_DELIMITER)
        vocab->delimiter_id = (gint32) i;
    }
  return g_steal_pointer (&vocab);
}

MelVocab *
mel_vocab_copy (const MelVocab *vocab)
{
  g_return_val_if_fail (vocab != NULL, NULL);

  /* The source was validated when it was built, so this cannot fail. */
  return mel_vocab_new ((const char *const *) vocab->symbols, vocab->size, NULL);
}

void
mel_vocab_free (MelVocab *vocab)
{
  if (vocab == NULL)
    return;
  g_strfreev (vocab->symbols);
  g_free (vocab->kinds);
  g_free (vocab->midi);
  g_free (vocab);
}

int
mel_vocab_lookup (const MelVocab *vocab, const char *symbol)
{
  g_return_val_if_fail (vocab != NULL, -1);
  g_return_val_if_fail (symbol != NULL, -1);

  for (guint i = 0; i < vocab->size; i++)
    if (strcmp (vocab->symbols[i], symbol) == 0)
      return (int) i;
  return -1;
}

gboolean
mel_vocab_equal (const MelVocab *a, const MelVocab *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  if (a->size != b->size)
    return FALSE;
  for (guint i = 0; i < a->size; i++)
    if (strcmp (a->symbols[i], b->symbols[i]) != 0)
      return FALSE;
  return TRUE;
}
