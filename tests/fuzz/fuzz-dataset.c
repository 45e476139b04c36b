/* fuzz-dataset.c — libFuzzer target for the dataset file reader and the
 * symbol parser.
 *
 * The input is read three ways:
 *  - as a dataset file image, once behind the checksum (as users load it)
 *    and once with the checksum check off, so that mutations reach the
 *    structural checks; a file that loads must be safe to query;
 *  - as symbol text ("67 _ r /"): when it parses, decoding and encoding
 *    again must give exactly the same symbols up to the first delimiter.
 * Any input must be refused with MEL_DATASET_ERROR_FORMAT / _BAD_SYMBOL,
 * never crash, leak or trip UB.
 *
 * Build: meson setup build-fuzz -Dfuzzing=true -Dapp=disabled (CC=clang);
 * run:   build-fuzz/tests/fuzz/fuzz-dataset WORKDIR
 * (seed WORKDIR with a small file from `melodist-cli corpus encode`).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mel-dataset-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
exercise (const MelDataset *dataset)
{
  for (int s = 0; s < MEL_N_SPLITS; s++)
    {
      gint32 *inputs = NULL, *targets = NULL;
      guint n_segments = 0;
      g_autoptr (GArray) stream = mel_dataset_get_split_ids (dataset, (MelSplit) s);
      guint n = mel_dataset_get_windows (dataset, (MelSplit) s, 8, 5, &inputs, &targets);
      if (n != mel_dataset_count_windows (dataset, (MelSplit) s, 8, 5))
        abort ();
      for (guint i = 0; i < n * 8; i++)
        if (inputs[i] != g_array_index (stream, gint32, (i / 8) * 5 + i % 8) ||
            targets[i] != g_array_index (stream, gint32, (i / 8) * 5 + i % 8 + 1))
          abort ();
      g_free (inputs);
      g_free (targets);
      g_autoptr (GArray) segments = mel_dataset_get_segments (dataset, (MelSplit) s, 4, &n_segments);
      for (guint i = 0; i < segments->len; i++)
        if ((guint) g_array_index (segments, gint32, i) >= dataset->vocabulary->len)
          abort ();
    }
}

static void
fuzz_file (const uint8_t *data, size_t size, gboolean check_checksum)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelDataset) dataset = _mel_dataset_parse (data, size, check_checksum, &error);

  if (dataset == NULL)
    {
      if (error == NULL || !g_error_matches (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT))
        abort ();
      return;
    }
  exercise (dataset);
}

static void
fuzz_symbols (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_auto (GStrv) symbols = mel_symbols_parse (text, &error);

  if (symbols == NULL)
    {
      if (!g_error_matches (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_BAD_SYMBOL))
        abort ();
      return;
    }
  guint n = g_strv_length (symbols);
  MelMeter meter = { MEL_RATIONAL_ZERO, 3, 8, FALSE };
  MelKeySignature sig;
  mel_key_signature_init_fifths (&sig, (int) (size % 15) - 7);
  sig.onset = MEL_RATIONAL_ZERO;
  g_autoptr (MelSong) song = mel_song_decode ((const char *const *) symbols, n, "fuzz", &meter, &sig, &error);
  if (song == NULL)
    abort (); /* parsed symbols always decode */
  g_auto (GStrv) again = mel_song_encode (song, &error);
  if (again == NULL)
    abort ();

  /* The expected symbols: up to the first delimiter after the leading
   * ones, with leading holds turned into a rest and every run of rests
   * merged into one. */
  guint first = 0;
  while (first < n && strcmp (symbols[first], MEL_SYMBOL_DELIMITER) == 0)
    first++;
  guint k = 0;
  gboolean in_rest = FALSE;
  for (guint i = first; i < n && strcmp (symbols[i], MEL_SYMBOL_DELIMITER) != 0; i++, k++)
    {
      const char *expected = symbols[i];
      gboolean hold = strcmp (expected, MEL_SYMBOL_HOLD) == 0;
      gboolean rest = strcmp (expected, MEL_SYMBOL_REST) == 0 || (hold && i == first);
      if (rest)
        expected = in_rest ? MEL_SYMBOL_HOLD : MEL_SYMBOL_REST;
      in_rest = rest || (hold && in_rest);
      if (again[k] == NULL || strcmp (again[k], expected) != 0)
        abort ();
    }
  if (again[k] != NULL)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Criticals from g_return_if_fail are bugs too. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FATAL_MASK);

  fuzz_file (data, size, TRUE);
  fuzz_file (data, size, FALSE);
  if (size < 4096)
    fuzz_symbols (data, size);
  return 0;
}
