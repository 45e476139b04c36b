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

/* ---- helper ------------------------------------------------------------- */

/* Jobs are numbered.  The owner publishes job g (func, data, then gen = g).
 * Whoever first moves @taken from g−1 to g owns it: the helper, which runs
 * it and sets done = g, or the owner in mel_helper_finish, which then sets
 * done = g itself and does the work.  The helper is idle when done ==
 * taken.  All flags are GLib atomics (sequentially consistent), which also
 * orders the plain fields and the job's data.
 *
 * On a busy machine the helper can be descheduled for milliseconds, also in
 * the middle of a job; the owner never waits for it longer than
 * HELPER_WAIT_US but abandons the job and does the work itself (the helper
 * finishes it later into the job's own buffers, and no new job is handed
 * over until then).  When the helper misses several jobs in a row, the
 * owner works alone for a while instead of waking it each time: it would
 * only compete for the owner's core. */

#define HELPER_SPIN_US 200      /* spinning for the next job before sleeping */
#define HELPER_YIELD_EVERY 16   /* pause loops between yields while waiting */
#define HELPER_WAIT_US 50       /* longest wait in mel_helper_finish */
#define HELPER_MAX_MISSES 4     /* jobs in a row missed by the helper before … */
#define HELPER_SOLO_JOBS 256    /* … the owner does this many alone */

struct _MelHelper
{
  GThread *thread;
  GMutex lock;
  GCond wake;
  gint sleeping; /* atomic: the helper waits on @wake */
  gint quit;     /* atomic */
  gint gen;      /* atomic: number of the last published job */
  gint taken;    /* atomic: number of the last claimed job */
  gint done;     /* atomic: number of the last finished (or dropped) job */
  MelHelperFunc func; /* written before gen, read after claiming */
  gpointer data;
  /* owner only */
  gboolean pending; /* a job was started and not finished */
  guint misses;
  guint solo_jobs;
};

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

static gboolean
helper_claim (MelHelper *helper, guint g)
{
  return g_atomic_int_compare_and_exchange (&helper->taken, (gint) (g - 1), (gint) g);
}

/* Waits until a job newer than @seen is published or quit is set. */
static guint
helper_wait_for_job (MelHelper *helper, guint seen)
{
  guint spins = 0, g;
  gint64 deadline = 0;

  while ((g = (guint) g_atomic_int_get (&helper->gen)) == seen
         && !g_atomic_int_get (&helper->quit))
    {
      /* Spin a little (a sampler's next job comes within tens of µs), then
       * sleep: on a busy machine the helper may share the owner's core. */
      if (++spins % 64 != 0)
        {
          cpu_relax ();
          continue;
        }
      if (deadline == 0)
        deadline = g_get_monotonic_time () + HELPER_SPIN_US;
      if (g_get_monotonic_time () < deadline)
        continue;
      /* The owner reads @sleeping after bumping gen: one of the two sees
       * the other's store. */
      g_mutex_lock (&helper->lock);
      g_atomic_int_set (&helper->sleeping, 1);
      while ((guint) g_atomic_int_get (&helper->gen) == seen && !g_atomic_int_get (&helper->quit))
        g_cond_wait (&helper->wake, &helper->lock);
      g_atomic_int_set (&helper->sleeping, 0);
      g_mutex_unlock (&helper->lock);
      deadline = 0;
    }
  return g;
}

static gpointer
helper_main (gpointer user_data)
{
  MelHelper *helper = user_data;
  guint seen = 0;

  for (;;)
    {
      guint g = helper_wait_for_job (helper, seen);

      if (g_atomic_int_get (&helper->quit))
        break;
      seen = g;
      if (helper_claim (helper, g))
        {
          helper->func (helper->data);
          g_atomic_int_set (&helper->done, (gint) g);
        }
    }
  return NULL;
}

MelHelper *
mel_helper_new (void)
{
  MelHelper *helper = g_new0 (MelHelper, 1);

  g_mutex_init (&helper->lock);
  g_cond_init (&helper->wake);
  helper->thread = g_thread_new ("mel-helper", helper_main, helper);
  return helper;
}

void
mel_helper_free (MelHelper *helper)
{
  if (helper == NULL)
    return;
  /* The helper finishes a job it has begun before it sees quit. */
  g_mutex_lock (&helper->lock);
  g_atomic_int_set (&helper->quit, 1);
  g_cond_signal (&helper->wake);
  g_mutex_unlock (&helper->lock);
  g_thread_join (helper->thread);
  g_mutex_clear (&helper->lock);
  g_cond_clear (&helper->wake);
  g_free (helper);
}

gboolean
mel_helper_acquire (MelHelper *helper)
{
  g_return_val_if_fail (helper != NULL, FALSE);
  g_return_val_if_fail (!helper->pending, FALSE);

  if (helper->solo_jobs > 0)
    {
      helper->solo_jobs--;
      return FALSE;
    }
  /* Still busy with an abandoned job? */
  return g_atomic_int_get (&helper->done) == g_atomic_int_get (&helper->taken);
}

void
mel_helper_start (MelHelper *helper, MelHelperFunc func, gpointer data)
{
  guint g;

  g_return_if_fail (helper != NULL && func != NULL);
  g_return_if_fail (!helper->pending);

  helper->pending = TRUE;
  helper->func = func;
  helper->data = data;
  g = (guint) g_atomic_int_get (&helper->gen) + 1;
  g_atomic_int_set (&helper->gen, (gint) g);
  if (g_atomic_int_get (&helper->sleeping))
    {
      g_mutex_lock (&helper->lock);
      g_cond_signal (&helper->wake);
      g_mutex_unlock (&helper->lock);
    }
}

void
mel_helper_sync (MelHelper *helper)
{
  guint spins = 0;

  g_return_if_fail (helper != NULL);

  if (helper->pending)
    mel_helper_finish (helper);
  while (g_atomic_int_get (&helper->done) != g_atomic_int_get (&helper->taken))
    if (++spins % HELPER_YIELD_EVERY == 0)
      g_thread_yield ();
    else
      cpu_relax ();
}

static void
helper_missed (MelHelper *helper)
{
  if (++helper->misses >= HELPER_MAX_MISSES)
    {
      helper->misses = 0;
      helper->solo_jobs = HELPER_SOLO_JOBS;
    }
}

gboolean
mel_helper_finish (MelHelper *helper)
{
  guint g;
  gint64 deadline = 0;

  g_return_val_if_fail (helper != NULL, FALSE);
  g_return_val_if_fail (helper->pending, FALSE);

  helper->pending = FALSE;
  g = (guint) g_atomic_int_get (&helper->gen);
  if (helper_claim (helper, g))
    {
      /* Not taken: drop it. */
      g_atomic_int_set (&helper->done, (gint) g);
      helper_missed (helper);
      return FALSE;
    }
  for (guint spins = 1; (guint) g_atomic_int_get (&helper->done) != g; spins++)
    {
      cpu_relax ();
      if (spins % 64 == 0)
        {
          gint64 now = g_get_monotonic_time ();

          if (deadline == 0)
            deadline = now + HELPER_WAIT_US;
          else if (now > deadline)
            {
              helper_missed (helper);
              return FALSE;
            }
        }
    }
  helper->misses = 0;
  return TRUE;
}
