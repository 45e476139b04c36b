/* mel-blas.h — the one door to BLAS, and the model library's threads.
 *
 * Every matrix product of src/model goes through mel_sgemm (row-major
 * cblas_sgemm), so there is one place to count, profile or replace them.
 *
 * Threading policy (measured, see docs/sections/engine.md): OpenBLAS runs
 * single-threaded and parallelism is ours.  A model splits its batch across
 * MelWorkers; each worker runs the whole forward/backward of its slice with
 * single-threaded GEMMs, and the per-worker gradients are summed at the end.
 * On this 2-core machine that scales ~1.9× where OpenBLAS's own threads give
 * ~1.3× on these small (64×256×768) products and nothing on the gate code.
 * mel_blas_init() therefore sets OpenBLAS to one thread, once per process,
 * unless the user set OPENBLAS_NUM_THREADS explicitly.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sets OpenBLAS to one thread (once per process; idempotent, thread-safe).
 * Respects an explicit OPENBLAS_NUM_THREADS in the environment. */
void mel_blas_init (void);

/* Sets the number of OpenBLAS's own threads (for benchmarks comparing the
 * two threading strategies).  Process-wide. */
void mel_blas_set_backend_threads (guint n_threads);
guint mel_blas_get_backend_threads (void);

/* C[M×N] = alpha · op(A) · op(B) + beta · C, row-major, op(X) = Xᵀ when
 * trans_X.  A is M×K (K×M when transposed) with row stride @lda, and so on,
 * exactly as cblas_sgemm (CblasRowMajor, …). */
void mel_sgemm (gboolean trans_a, gboolean trans_b, gsize m, gsize n, gsize k, float alpha,
                const float *a, gsize lda, const float *b, gsize ldb, float beta, float *c,
                gsize ldc);

/* y[M] = alpha · op(A) · x + beta · y, A row-major M×N with row stride @lda. */
void mel_sgemv (gboolean trans_a, gsize m, gsize n, float alpha, const float *a, gsize lda,
                const float *x, float beta, float *y);

/* ---- our own worker threads ------------------------------------------- */

/* Called as func (data, index, n) for index 0…n-1, concurrently. */
typedef void (*MelParallelFunc) (gpointer data, guint index, guint n);

typedef struct _MelWorkers MelWorkers;

/* A pool of @n_threads − 1 persistent threads; the caller of
 * mel_workers_run is the n-th.  Free with mel_workers_free. */
MelWorkers *mel_workers_new (guint n_threads);
/* Stops and joins the threads.  NULL is allowed. */
void mel_workers_free (MelWorkers *workers);
guint mel_workers_get_n (const MelWorkers *workers);
/* Runs @func for every index (index 0 on the calling thread) and returns
 * when all have finished.  Not re-entrant: one run at a time per pool. */
void mel_workers_run (MelWorkers *workers, MelParallelFunc func, gpointer data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelWorkers, mel_workers_free)

/* ---- one helper thread for fine-grained overlap --------------------------- */

/* A persistent thread that runs one job at a time beside its owner, for
 * work too short for MelWorkers' condition-variable hand-over (a sampling
 * step takes tens of microseconds).  The helper spins ~200 µs after a job
 * for the next one, then sleeps.  The owner never waits long: a job the helper has not taken,
 * or takes too long for (descheduled on a busy machine), is left to the
 * owner, so a job must write only buffers of its own, which the owner
 * copies from when the helper did the work.  One owner thread.
 *
 *   if (mel_helper_acquire (helper))
 *     {
 *       fill the job's input buffers;
 *       mel_helper_start (helper, job, data);
 *       … other work …
 *       if (mel_helper_finish (helper))
 *         { use the job's output buffers; return; }
 *     }
 *   do the job's work here;
 */
typedef struct _MelHelper MelHelper;
typedef void (*MelHelperFunc) (gpointer data);

/* Starts the thread.  Returns a new helper (free with mel_helper_free). */
MelHelper *mel_helper_new (void);
/* Stops and joins the thread, after it finishes a job it has begun (its
 * data must stay valid until then).  NULL is allowed. */
void mel_helper_free (MelHelper *helper);
/* TRUE when the helper takes a job now: it is not busy with an abandoned
 * one, and it has not missed many jobs lately.  Its last job's buffers may
 * then be reused.  FALSE: do the work yourself. */
gboolean mel_helper_acquire (MelHelper *helper);
/* Hands func (data) to the helper and returns at once; only after
 * mel_helper_acquire returned TRUE. */
void mel_helper_start (MelHelper *helper, MelHelperFunc func, gpointer data);
/* Waits at most ~50 µs for the started job.  TRUE: the helper ran it.
 * FALSE: the job is abandoned (the helper may still be running it; leave
 * its buffers alone until mel_helper_acquire returns TRUE) and the caller
 * must do the work itself. */
gboolean mel_helper_finish (MelHelper *helper);
/* Finishes or drops a started job and waits until the helper is idle (it
 * may still run an abandoned job): after it, every job's buffers may be
 * freed and the helper can serve another owner. */
void mel_helper_sync (MelHelper *helper);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelHelper, mel_helper_free)

G_END_DECLS
