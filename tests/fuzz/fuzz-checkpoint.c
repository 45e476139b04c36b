/* fuzz-checkpoint.c — libFuzzer target for the checkpoint loader.
 *
 * Any input must be loaded or refused with a MEL_CHECKPOINT_ERROR, without
 * a crash, a leak or UB.  When it loads, writing it out again must load
 * again, and a model built from it must hold exactly its parameters.
 *
 * Build: meson setup build-fuzz -Dfuzzing=true -Dapp=disabled (CC=clang);
 * run:   build-fuzz/tests/fuzz/fuzz-checkpoint WORKDIR
 * (seed WORKDIR with a few checkpoints from `melodist-cli train`).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mel-checkpoint.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void check_one (const uint8_t *data, size_t size);

/* The checksum stops almost every mutation at the envelope, so each input
 * is also tried "resealed": with the size field and FNV-1a checksum made
 * right, which sends the mutation into the field parser. */
static void
reseal (uint8_t *data, size_t size)
{
  guint64 size_le = GUINT64_TO_LE ((guint64) size), hash = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  memcpy (data + 12, &size_le, 8);
  for (size_t i = 0; i + 8 < size; i++)
    hash = (hash ^ data[i]) * G_GUINT64_CONSTANT (0x100000001b3);
  hash = GUINT64_TO_LE (hash);
  memcpy (data + size - 8, &hash, 8);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check_one (data, size);
  if (size >= 28)
    {
      g_autofree uint8_t *copy = g_memdup2 (data, size);

      reseal (copy, size);
      check_one (copy, size);
    }
  return 0;
}

static void
check_one (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) ckpt = NULL;
  g_autoptr(MelCheckpoint) again = NULL;
  g_autoptr(GBytes) bytes = NULL;

  /* Criticals from g_return_if_fail are bugs too. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FATAL_MASK);

  ckpt = mel_checkpoint_load_from_data (data, size, &error);
  if (ckpt == NULL)
    {
      if (error == NULL || error->domain != MEL_CHECKPOINT_ERROR || error->message[0] == '\0')
        abort ();
      return;
    }

  bytes = mel_checkpoint_to_bytes (ckpt);
  again = mel_checkpoint_load_from_data (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  if (again == NULL || again->n_params != ckpt->n_params
      || memcmp (again->params, ckpt->params, ckpt->n_params * sizeof (float)) != 0)
    abort ();

  /* Building the model allocates what the configuration asks for: only
   * for modest sizes (a big file could ask for gigabytes legitimately). */
  if (ckpt->n_params < 200000 && ckpt->model_config.hidden_size <= 512 && ckpt->model_config.embed_dim <= 512
      && ckpt->model_config.n_layers <= 4 && ckpt->model_config.latent_size <= 512
      && ckpt->model_config.segment_steps <= 512 && ckpt->model_config.n_heads <= 64
      && ckpt->model_config.ngram_order <= 16)
    {
      g_autoptr(MelModel) model = mel_checkpoint_create_model (ckpt, &error);

      if (model != NULL
          && memcmp (mel_model_get_params (model), ckpt->params, ckpt->n_params * sizeof (float)) != 0)
        abort ();
      if (model == NULL && error == NULL)
        abort ();
    }
}
