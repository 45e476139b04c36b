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

G_END_DECLS
