/* bench-allreduce.c — time of the gradient allreduce of data-parallel
 * training for each model's default size, without the compute around it.
 *
 *   mpirun -np 2 build/bench/bench-allreduce [VOCAB]
 *
 * For GRU (2 × 256), LSTM + attention and VAE at their defaults (VOCAB
 * symbols, default 64) it allreduces a buffer of the model's parameter
 * count 5 times to warm up, then 50 times, each after a small collective
 * that lines the processes up (so that the time is the exchange, not
 * waiting for a late process), and prints the minimum, median and mean
 * per call (on a loaded machine the minimum is the uncontended figure).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "mel-distributed.h"
#include "mel-model.h"

#define WARMUP 5
#define ROUNDS 50

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static gboolean
time_kind (MelDistributed *dist, MelModelKind kind, guint vocab, GError **error)
{
  g_autoptr(MelModel) model = NULL;
  g_autofree float *buf = NULL;
  double times[ROUNDS], mean = 0.0;
  MelModelConfig config;
  gboolean agree;
  gsize n;

  mel_model_config_init (&config, kind, vocab);
  model = mel_model_new (&config, 1, error);
  if (model == NULL)
    return FALSE;
  n = mel_model_get_n_params (model);
  buf = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    buf[i] = 1e-3f * (float) (i % 97);
  for (int r = 0; r < WARMUP + ROUNDS; r++)
    {
      gint64 start;

      if (!mel_distributed_check_agreement (dist, 0, &agree, error))
        return FALSE;
      start = g_get_monotonic_time ();
      if (!mel_distributed_allreduce_floats (dist, buf, n, error))
        return FALSE;
      if (r >= WARMUP)
        times[r - WARMUP] = (g_get_monotonic_time () - start) / 1e3;
    }
  for (int r = 0; r < ROUNDS; r++)
    mean += times[r] / ROUNDS;
  qsort (times, ROUNDS, sizeof (double), compare_doubles);
  if (mel_distributed_is_root (dist))
    printf ("%-10s %9" G_GSIZE_FORMAT " params %5.2f MB  allreduce min %7.3f  median %7.3f  mean %7.3f ms  "
            "(%d processes)\n", mel_model_kind_to_string (kind), n, n * sizeof (float) / 1e6, times[0],
            times[ROUNDS / 2], mean, mel_distributed_get_size (dist));
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MelDistributed) dist = NULL;
  guint vocab = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 64;
  const MelModelKind kinds[] = { MEL_MODEL_GRU, MEL_MODEL_LSTM_ATTN, MEL_MODEL_VAE };

  if (vocab < 2)
    {
      fprintf (stderr, "usage: mpirun -np N bench-allreduce [VOCAB ≥ 2]\n");
      return 2;
    }
  dist = mel_distributed_new_mpi (120, &error);
  if (dist == NULL)
    {
      fprintf (stderr, "bench-allreduce: %s\n", error->message);
      return 1;
    }
  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    if (!time_kind (dist, kinds[k], vocab, &error))
      {
        fprintf (stderr, "bench-allreduce: %s\n", error->message);
        mel_distributed_abort (dist, 1);
        return 1;
      }
  return 0;
}
