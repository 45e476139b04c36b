/* mel-distributed.c — collectives over MPI, or the identity for one
 * process; see mel-distributed.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mel-distributed.h"

#include <stdio.h>
#include <string.h>

#ifdef MEL_HAVE_MPI
#include <mpi.h>
#endif

G_DEFINE_QUARK (mel-distributed-error-quark, mel_distributed_error)

/* MPI counts are ints: big buffers go in pieces of this many elements. */
#define CHUNK (1 << 28)

struct _MelDistributed
{
  int rank;
  int size;
#ifdef MEL_HAVE_MPI
  gboolean mpi;
  MPI_Comm comm;
  /* The watchdog: deadline_us (monotonic) of the collective in progress,
   * 0 when none; what names it for the message. */
  GThread *watchdog;
  GMutex lock;
  GCond changed;
  gint64 deadline_us;
  const char *what;
  gboolean quit;
  guint timeout_seconds;
#endif
};

gboolean
mel_distributed_is_available (void)
{
#ifdef MEL_HAVE_MPI
  return TRUE;
#else
  return FALSE;
#endif
}

MelDistributed *
mel_distributed_new_local (void)
{
  MelDistributed *self = g_new0 (MelDistributed, 1);

  self->rank = 0;
  self->size = 1;
  return self;
}

#ifdef MEL_HAVE_MPI

static gboolean
mpi_failed (GError **error, int code, const char *what)
{
  char text[MPI_MAX_ERROR_STRING] = "";
  int length = 0;

  if (MPI_Error_string (code, text, &length) != MPI_SUCCESS)
    g_strlcpy (text, "unknown MPI error", sizeof text);
  g_set_error (error, MEL_DISTRIBUTED_ERROR, MEL_DISTRIBUTED_ERROR_FAILED, "MPI %s failed: %s", what, text);
  return FALSE;
}

/* Aborts the job when a guarded collective overstays its deadline: a rank
 * that died or hangs would otherwise keep every other rank waiting. */
static gpointer
watchdog_main (gpointer data)
{
  MelDistributed *self = data;

  g_mutex_lock (&self->lock);
  while (!self->quit)
    {
      gint64 now = g_get_monotonic_time ();

      if (self->deadline_us != 0 && now >= self->deadline_us)
        {
          fprintf (stderr,
                   "melodist: rank %d of %d: the %s has not completed after %u s; another rank has "
                   "probably died or hangs. Aborting the whole job (the last checkpoint on disk is "
                   "intact).\n",
                   self->rank, self->size, self->what, self->timeout_seconds);
          fflush (stderr);
          MPI_Abort (self->comm, 3);
          self->deadline_us = 0; /* MPI_Abort does not return; never repeat */
        }
      g_cond_wait_until (&self->changed, &self->lock,
                         self->deadline_us != 0 ? self->deadline_us : now + G_TIME_SPAN_SECOND);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

static void
guard_begin (MelDistributed *self, const char *what)
{
  g_mutex_lock (&self->lock);
  self->what = what;
  self->deadline_us = g_get_monotonic_time () + (gint64) self->timeout_seconds * G_TIME_SPAN_SECOND;
  g_cond_signal (&self->changed);
  g_mutex_unlock (&self->lock);
}

static void
guard_end (MelDistributed *self)
{
  g_mutex_lock (&self->lock);
  self->deadline_us = 0;
  g_mutex_unlock (&self->lock);
}

#endif /* MEL_HAVE_MPI */

MelDistributed *
mel_distributed_new_mpi (guint timeout_seconds, GError **error)
{
  g_return_val_if_fail (timeout_seconds > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

#ifdef MEL_HAVE_MPI
  {
    g_autoptr(MelDistributed) self = NULL;
    int initialized = 0, provided = MPI_THREAD_SINGLE, rc;

    MPI_Initialized (&initialized);
    if (initialized)
      {
        g_set_error_literal (error, MEL_DISTRIBUTED_ERROR, MEL_DISTRIBUTED_ERROR_FAILED,
                             "MPI is already initialised in this process");
        return NULL;
      }
    /* The trainer runs in a worker thread and the watchdog may abort from
     * its own: ask for full thread support, accept serialised calls. */
    rc = MPI_Init_thread (NULL, NULL, MPI_THREAD_MULTIPLE, &provided);
    if (rc != MPI_SUCCESS)
      {
        g_set_error (error, MEL_DISTRIBUTED_ERROR, MEL_DISTRIBUTED_ERROR_FAILED,
                     "MPI could not start (error %d); run under mpirun", rc);
        return NULL;
      }
    self = g_new0 (MelDistributed, 1);
    self->mpi = TRUE;
    self->comm = MPI_COMM_NULL;
    self->timeout_seconds = timeout_seconds;
    g_mutex_init (&self->lock);
    g_cond_init (&self->changed);
    if (provided < MPI_THREAD_SERIALIZED)
      {
        g_set_error (error, MEL_DISTRIBUTED_ERROR, MEL_DISTRIBUTED_ERROR_FAILED,
                     "this MPI library supports only thread level %d, at least MPI_THREAD_SERIALIZED "
                     "is needed", provided);
        return NULL;
      }
    rc = MPI_Comm_dup (MPI_COMM_WORLD, &self->comm);
    if (rc != MPI_SUCCESS)
      {
        mpi_failed (error, rc, "MPI_Comm_dup");
        return NULL;
      }
    MPI_Comm_set_errhandler (self->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank (self->comm, &self->rank);
    MPI_Comm_size (self->comm, &self->size);
    self->watchdog = g_thread_new ("mel-mpi-watchdog", watchdog_main, self);
    return g_steal_pointer (&self);
  }
#else
  (void) timeout_seconds;
  g_set_error_literal (error, MEL_DISTRIBUTED_ERROR, MEL_DISTRIBUTED_ERROR_UNAVAILABLE,
                       "this Melodist was built without MPI (meson option -Dmpi=enabled needs Open MPI)");
  return NULL;
#endif
}

void
mel_distributed_free (MelDistributed *self)
{
  if (self == NULL)
    return;
#ifdef MEL_HAVE_MPI
  if (self->mpi)
    {
      if (self->watchdog != NULL)
        {
          g_mutex_lock (&self->lock);
          self->quit = TRUE;
          g_cond_signal (&self->changed);
          g_mutex_unlock (&self->lock);
          g_thread_join (self->watchdog);
        }
      if (self->comm != MPI_COMM_NULL)
        MPI_Comm_free (&self->comm);
      MPI_Finalize ();
      g_mutex_clear (&self->lock);
      g_cond_clear (&self->changed);
    }
#endif
  g_free (self);
}

int
mel_distributed_get_rank (const MelDistributed *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->rank;
}

int
mel_distributed_get_size (const MelDistributed *self)
{
  g_return_val_if_fail (self != NULL, 1);
  return self->size;
}

gboolean
mel_distributed_is_root (const MelDistributed *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  return self->rank == 0;
}

#ifdef MEL_HAVE_MPI
/* In-place MPI_Allreduce of @n elements of @type, in pieces, under the
 * watchdog. */
static gboolean
allreduce (MelDistributed *self, gpointer buf, gsize n, gsize elem_size, MPI_Datatype type, MPI_Op op,
           const char *what, GError **error)
{
  gboolean ok = TRUE;

  guard_begin (self, what);
  for (gsize done = 0; ok && done < n; done += CHUNK)
    {
      int count = (int) MIN ((gsize) CHUNK, n - done);
      int rc = MPI_Allreduce (MPI_IN_PLACE, (char *) buf + done * elem_size, count, type, op, self->comm);

      if (rc != MPI_SUCCESS)
        ok = mpi_failed (error, rc, what);
    }
  guard_end (self);
  return ok;
}
#endif

gboolean
mel_distributed_allreduce_floats (MelDistributed *self, float *buf, gsize n, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (buf != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

#ifdef MEL_HAVE_MPI
  if (self->size > 1)
    return allreduce (self, buf, n, sizeof (float), MPI_FLOAT, MPI_SUM, "gradient allreduce", error);
#endif
  return TRUE;
}

gboolean
mel_distributed_allreduce_doubles (MelDistributed *self, double *buf, gsize n, gboolean max, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (buf != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

#ifdef MEL_HAVE_MPI
  if (self->size > 1)
    return allreduce (self, buf, n, sizeof (double), MPI_DOUBLE, max ? MPI_MAX : MPI_SUM, "allreduce of figures",
                      error);
#else
  (void) max;
#endif
  return TRUE;
}

gboolean
mel_distributed_allreduce_metrics (MelDistributed *self, MelMetrics *metrics, GError **error)
{
  /* Counts travel as doubles: exact up to 2^53. */
  double sums[6];

  g_return_val_if_fail (self != NULL && metrics != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->size == 1)
    return TRUE;
  sums[0] = metrics->nats_sum;
  sums[1] = (double) metrics->n_symbols;
  sums[2] = (double) metrics->n_correct;
  sums[3] = (double) metrics->n_onsets;
  sums[4] = (double) metrics->n_onset_correct;
  sums[5] = metrics->pitch_bits_sum;
  if (!mel_distributed_allreduce_doubles (self, sums, G_N_ELEMENTS (sums), FALSE, error))
    return FALSE;
  metrics->nats_sum = sums[0];
  metrics->n_symbols = (guint64) sums[1];
  metrics->n_correct = (guint64) sums[2];
  metrics->n_onsets = (guint64) sums[3];
  metrics->n_onset_correct = (guint64) sums[4];
  metrics->pitch_bits_sum = sums[5];
  return TRUE;
}

gboolean
mel_distributed_broadcast (MelDistributed *self, gpointer buf, gsize n_bytes, int root, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (buf != NULL || n_bytes == 0, FALSE);
  g_return_val_if_fail (root >= 0 && root < self->size, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

#ifdef MEL_HAVE_MPI
  if (self->size > 1)
    {
      gboolean ok = TRUE;

      guard_begin (self, "broadcast");
      for (gsize done = 0; ok && done < n_bytes; done += CHUNK)
        {
          int count = (int) MIN ((gsize) CHUNK, n_bytes - done);
          int rc = MPI_Bcast ((char *) buf + done, count, MPI_BYTE, root, self->comm);

          if (rc != MPI_SUCCESS)
            ok = mpi_failed (error, rc, "broadcast");
        }
      guard_end (self);
      return ok;
    }
#endif
  return TRUE;
}

gboolean
mel_distributed_check_agreement (MelDistributed *self, guint64 value, gboolean *agree, GError **error)
{
  g_return_val_if_fail (self != NULL && agree != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *agree = TRUE;
#ifdef MEL_HAVE_MPI
  if (self->size > 1)
    {
      /* Equal everywhere ⇔ the maximum of v and of −v (i.e. the minimum)
       * meet: one MPI_Allreduce of two words. */
      guint64 bounds[2] = { value, ~value };

      if (!allreduce (self, bounds, 2, sizeof (guint64), MPI_UINT64_T, MPI_MAX, "checksum comparison", error))
        return FALSE;
      *agree = bounds[0] == ~bounds[1];
    }
#else
  (void) value;
#endif
  return TRUE;
}

void
mel_distributed_abort (MelDistributed *self, int exit_code)
{
  g_return_if_fail (self != NULL);

#ifdef MEL_HAVE_MPI
  if (self->mpi)
    {
      fflush (stdout);
      fflush (stderr);
      MPI_Abort (self->comm, exit_code);
    }
#else
  (void) exit_code;
#endif
}

guint64
mel_distributed_checksum (gconstpointer data, gsize n_bytes)
{
  const guint8 *p = data;
  guint64 hash = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  g_return_val_if_fail (data != NULL || n_bytes == 0, 0);
  for (gsize i = 0; i < n_bytes; i++)
    {
      hash ^= p[i];
      hash *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  return hash;
}
