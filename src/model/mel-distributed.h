/* mel-distributed.h — the few collective operations data-parallel
 * training needs, over MPI when Melodist is built with it.
 *
 * Every process ("rank") of a job holds a full copy of the model and the
 * data.  The trainer (mel_trainer_set_distributed) gives each rank a slice
 * of every global minibatch, sums the ranks' gradients with
 * mel_distributed_allreduce_floats() and applies the same optimizer step
 * everywhere, so the parameters stay identical; it checks that with
 * mel_distributed_check_agreement() now and then.
 *
 * Without MPI (built with -Dmpi=disabled, or MEL_HAVE_MPI undefined) and
 * for a one-process job, the same interface works with rank 0 of 1 and
 * every operation is the identity, so the trainer has a single code path.
 *
 * Failures: the MPI communicator returns errors instead of aborting
 * (MPI_ERRORS_RETURN), and every collective is guarded by a watchdog
 * thread: when one takes longer than the timeout (a rank died or hangs),
 * the watchdog prints which rank waited for what and aborts the whole job
 * with MPI_Abort, so no rank waits for ever.  Open MPI itself also ends
 * the job when one of its processes dies.
 *
 * Threading: a MelDistributed may be used from any one thread at a time
 * (MPI is initialised with at least MPI_THREAD_SERIALIZED).  MPI can be
 * initialised once per process: create at most one MPI-backed instance.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-metrics.h"

G_BEGIN_DECLS

#define MEL_DISTRIBUTED_ERROR (mel_distributed_error_quark ())
GQuark mel_distributed_error_quark (void);

typedef enum
{
  MEL_DISTRIBUTED_ERROR_UNAVAILABLE, /* built without MPI */
  MEL_DISTRIBUTED_ERROR_FAILED,      /* an MPI call returned an error */
  MEL_DISTRIBUTED_ERROR_DIVERGED,    /* the ranks' parameters or data differ */
} MelDistributedError;

typedef struct _MelDistributed MelDistributed;

/* TRUE when this build has MPI. */
gboolean mel_distributed_is_available (void);

/* The trivial one-process group (rank 0 of 1); never fails.  Free with
 * mel_distributed_free(). */
MelDistributed *mel_distributed_new_local (void);

/* Initialises MPI (MPI_Init_thread) for the job this process was started
 * in (by mpirun), on a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN,
 * and starts the watchdog: a collective that has not finished after
 * @timeout_seconds (> 0) aborts the job with a message on stderr.  Returns
 * NULL with MEL_DISTRIBUTED_ERROR_UNAVAILABLE when built without MPI, or
 * MEL_DISTRIBUTED_ERROR_FAILED when MPI cannot start or gives too little
 * thread support.  The caller owns the result; freeing it finalises MPI. */
MelDistributed *mel_distributed_new_mpi (guint timeout_seconds, GError **error);

void mel_distributed_free (MelDistributed *dist);

int mel_distributed_get_rank (const MelDistributed *dist);
int mel_distributed_get_size (const MelDistributed *dist);
/* TRUE when this rank prints and writes files (rank 0). */
gboolean mel_distributed_is_root (const MelDistributed *dist);

/* Sums @buf (@n floats) over all ranks, in place, on every rank (one
 * MPI_Allreduce; every rank gets the same bits).  FALSE with
 * MEL_DISTRIBUTED_ERROR_FAILED. */
gboolean mel_distributed_allreduce_floats (MelDistributed *dist, float *buf, gsize n, GError **error);

/* Like mel_distributed_allreduce_floats() for doubles: SUM, or the
 * maximum when @max is TRUE. */
gboolean mel_distributed_allreduce_doubles (MelDistributed *dist, double *buf, gsize n, gboolean max,
                                            GError **error);

/* Sums the counts of @metrics over all ranks, in place (the ranks scored
 * disjoint parts of the data). */
gboolean mel_distributed_allreduce_metrics (MelDistributed *dist, MelMetrics *metrics, GError **error);

/* Copies @n_bytes at @buf from rank @root to every other rank. */
gboolean mel_distributed_broadcast (MelDistributed *dist, gpointer buf, gsize n_bytes, int root,
                                    GError **error);

/* Whether every rank passed the same @value (e.g. a checksum of the
 * parameters): *@agree is the same on every rank.  FALSE only when the
 * collective itself failed. */
gboolean mel_distributed_check_agreement (MelDistributed *dist, guint64 value, gboolean *agree,
                                          GError **error);

/* Ends every process of the job with @exit_code (MPI_Abort), for a rank
 * that fails on its own while the others would wait for it in the next
 * collective.  Does not return for an MPI group; does nothing for the
 * one-process group. */
void mel_distributed_abort (MelDistributed *dist, int exit_code);

/* FNV-1a of @n_bytes at @data, for mel_distributed_check_agreement(). */
guint64 mel_distributed_checksum (gconstpointer data, gsize n_bytes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelDistributed, mel_distributed_free)

G_END_DECLS
