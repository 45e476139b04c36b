/* mel-blas.c — BLAS wrapper and worker threads.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-blas.h"

#include <cblas.h>

void
mel_blas_init (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      /* Our batch-split threads each call BLAS; OpenBLAS threads on top of
       * them would oversubscribe the cores. */
      if (g_getenv ("OPENBLAS_NUM_THREADS") == NULL)
        openblas_set_num_threads (1);
      g_once_init_leave (&initialised, 1);
    }
}

void
mel_blas_set_backend_threads (guint n_threads)
{
  mel_blas_init ();
  openblas_set_num_threads ((int) MAX (n_threads, 1));
}

guint
mel_blas_get_backend_threads (void)
{
  return (guint) MAX (openblas_get_num_threads (), 1);
}

void
mel_sgemm (gboolean trans_a, gboolean trans_b, gsize m, gsize n, gsize k, float alpha,
           const float *a, gsize lda, const float *b, gsize ldb, float beta, float *c, gsize ldc)
{
  if (m == 0 || n == 0)
    return;
  if (k == 0)
    {
      /* BLAS would only scale C; do it here so that A and B may be NULL. */
      for (gsize i = 0; i < m; i++)
        for (gsize j = 0; j < n; j++)
          c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
      return;
    }
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, (blasint) m, (blasint) n, (blasint) k, alpha,
               a, (blasint) lda, b, (blasint) ldb, beta, c, (blasint) ldc);
}

void
mel_sgemv (gboolean trans_a, gsize m, gsize n, float alpha, const float *a, gsize lda,
           const float *x, float beta, float *y)
{
  if (m == 0 || n == 0)
    return;
  cblas_sgemv (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, (blasint) m, (blasint) n,
               alpha, a, (blasint) lda, x, 1, beta, y, 1);
}

/* ---- workers ------------------------------------------------------------ */

struct _MelWorkers
{
  guint n;
  GThread **threads; /* n − 1 */
  GMutex lock;
  GCond start_cond;
  GCond done_cond;
  guint64 generation; /* bumped for every run */
  guint pending;      /* workers still busy with the current run */
  gboolean quit;
  MelParallelFunc func;
  gpointer data;
};

typedef struct
{
  MelWorkers *workers;
  guint index;
} WorkerArg;

static gpointer
worker_main (gpointer user_data)
{
  WorkerArg *arg = user_data;
  MelWorkers *workers = arg->workers;
  guint index = arg->index;
  guint64 seen = 0;

  g_free (arg);
  g_mutex_lock (&workers->lock);
  for (;;)
    {
      while (!workers->quit && workers->generation == seen)
        g_cond_wait (&workers->start_cond, &workers->lock);
      if (workers->quit)
        break;
      seen = workers->generation;
      MelParallelFunc func = workers->func;
      gpointer data = workers->data;
      g_mutex_unlock (&workers->lock);

      func (data, index, workers->n);

      g_mutex_lock (&workers->lock);
      if (--workers->pending == 0)
        g_cond_signal (&workers->done_cond);
    }
  g_mutex_unlock (&workers->lock);
  return NULL;
}

MelWorkers *
mel_workers_new (guint n_threads)
{
  MelWorkers *workers = g_new0 (MelWorkers, 1);

  workers->n = MAX (n_threads, 1);
  g_mutex_init (&workers->lock);
  g_cond_init (&workers->start_cond);
  g_cond_init (&workers->done_cond);
  workers->threads = g_new0 (GThread *, workers->n);
  for (guint i = 1; i < workers->n; i++)
    {
      WorkerArg *arg = g_new (WorkerArg, 1);

      arg->workers = workers;
      arg->index = i;
      workers->threads[i - 1] = g_thread_new ("mel-worker", worker_main, arg);
    }
  return workers;
}

void
mel_workers_free (MelWorkers *workers)
{
  if (workers == NULL)
    return;
  g_mutex_lock (&workers->lock);
  workers->quit = TRUE;
  g_cond_broadcast (&workers->start_cond);
  g_mutex_unlock (&workers->lock);
  for (guint i = 0; i + 1 < workers->n; i++)
    g_thread_join (workers->threads[i]);
  g_free (workers->threads);
  g_mutex_clear (&workers->lock);
  g_cond_clear (&workers->start_cond);
  g_cond_clear (&workers->done_cond);
  g_free (workers);
}

guint
mel_workers_get_n (const MelWorkers *workers)
{
  return workers != NULL ? workers->n : 1;
}

void
mel_workers_run (MelWorkers *workers, MelParallelFunc func, gpointer data)
{
  g_return_if_fail (func != NULL);

  if (workers == NULL || workers->n == 1)
    {
      func (data, 0, 1);
      return;
    }
  g_mutex_lock (&workers->lock);
  workers->func = func;
  workers->data = data;
  workers->pending = workers->n - 1;
  workers->generation++;
  g_cond_broadcast (&workers->start_cond);
  g_mutex_unlock (&workers->lock);

  func (data, 0, workers->n);

  g_mutex_lock (&workers->lock);
  while (workers->pending > 0)
    g_cond_wait (&workers->done_cond, &workers->lock);
  g_mutex_unlock (&workers->lock);
}
