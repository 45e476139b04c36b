/* test-distributed.c — data-parallel training over MPI: the one-process
 * interface, `mpirun -np 2 melodist-cli train --distributed` against a
 * one-process run with the same global batch, resuming with another
 * number of processes, and a process that dies or hangs mid-run.
 *
 * The MPI tests run Open MPI's mpirun over the loopback of this machine
 * and skip (with the reason) when Melodist was built without MPI or
 * mpirun is missing or cannot start two processes here.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "mel-checkpoint.h"
#include "mel-distributed.h"

/* Parameters of a 2-process run and a 1-process run with the same global
 * batch agree within this: the sums of the gradients differ only in float
 * rounding order (measured: ~1e-6 after 6 Adam steps). */
#define PARAM_TOLERANCE 1e-4

typedef struct
{
  char *dir;
} Fixture;

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("mel-distributed-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
}

static char *
cli_path (void)
{
  const char *build = g_getenv ("MELODIST_BUILD_DIR");

  g_assert_nonnull (build);
  return g_build_filename (build, "src", "cli", "melodist-cli", NULL);
}

/* mpirun and the options that make it work as root in a container on one
 * machine: more processes than cores, no process binding, shared memory
 * without the CMA single-copy path (ptrace is often forbidden), and TCP
 * over loopback as the fallback transport. */
static const char *const mpirun_options[] = {
  "--oversubscribe", "--bind-to", "none", "--mca", "btl", "self,vader,tcp",
  "--mca", "btl_vader_single_copy_mechanism", "none", "--mca", "btl_tcp_if_include", "lo",
};

/* The environment of mpirun and its processes.  In an ASan build leak
 * checking is off inside mpirun: LeakSanitizer's tracer crashed now and then
 * ("Tracer caught signal 11") beside Open MPI's progress threads, and Open
 * MPI's own allocations need full stacks to be told apart from ours.  The
 * trainer's code is leak-checked by the one-process runs.  (ASAN_OPTIONS is
 * ignored by other builds.) */
static char **
mpi_env (void)
{
  char **env = g_get_environ ();
  const char *asan = g_environ_getenv (env, "ASAN_OPTIONS");
  g_autofree char *options = g_strconcat (asan != NULL ? asan : "", asan != NULL ? ":" : "",
                                          "detect_leaks=0", NULL);

  env = g_environ_setenv (env, "ASAN_OPTIONS", options, TRUE);

  /* Allowed when running as root (CI containers); harmless otherwise. */
  env = g_environ_setenv (env, "OMPI_ALLOW_RUN_AS_ROOT", "1", TRUE);
  env = g_environ_setenv (env, "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", TRUE);
  /* Models and BLAS single-threaded: two processes on two cores. */
  env = g_environ_setenv (env, "OPENBLAS_NUM_THREADS", "1", TRUE);
  return env;
}

/* argv for `mpirun -np @np <options> melodist-cli train --distributed`
 * (@np = 0: melodist-cli train alone) followed by the NULL-terminated
 * list @args. */
static GPtrArray *
train_argv (guint np, const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  if (np > 0)
    {
      g_ptr_array_add (argv, g_find_program_in_path ("mpirun"));
      g_ptr_array_add (argv, g_strdup ("-np"));
      g_ptr_array_add (argv, g_strdup_printf ("%u", np));
      for (gsize i = 0; i < G_N_ELEMENTS (mpirun_options); i++)
        g_ptr_array_add (argv, g_strdup (mpirun_options[i]));
    }
  g_ptr_array_add (argv, cli_path ());
  g_ptr_array_add (argv, g_strdup ("train"));
  if (np > 0)
    g_ptr_array_add (argv, g_strdup ("--distributed"));
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* Runs a training and returns its exit status (0 = success). */
static int
run_train (guint np, const char *const *args, char **err)
{
  g_autoptr(GPtrArray) argv = train_argv (np, args);
  g_auto(GStrv) env = mpi_env ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &out, err,
                               &status, &error));
  g_assert_no_error (error);
  if (err != NULL)
    g_test_message ("stderr: %s", *err);
  return g_spawn_check_wait_status (status, NULL) ? 0 : (WIFEXITED (status) ? WEXITSTATUS (status) : -1);
}

/* NULL when mpirun can start two processes here, else why not. */
static char *
mpi_unusable (void)
{
  g_autofree char *mpirun = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GPtrArray) argv = NULL;
  g_auto(GStrv) env = NULL;
  int status = -1;

  if (!mel_distributed_is_available ())
    return g_strdup ("Melodist was built without MPI (-Dmpi=disabled or Open MPI missing)");
  mpirun = g_find_program_in_path ("mpirun");
  if (mpirun == NULL)
    return g_strdup ("mpirun is not installed (apt-get install openmpi-bin)");
  argv = g_ptr_array_new ();
  g_ptr_array_add (argv, mpirun);
  g_ptr_array_add (argv, (char *) "-np");
  g_ptr_array_add (argv, (char *) "2");
  for (gsize i = 0; i < G_N_ELEMENTS (mpirun_options); i++)
    g_ptr_array_add (argv, (char *) mpirun_options[i]);
  g_ptr_array_add (argv, (char *) "true");
  g_ptr_array_add (argv, NULL);
  env = mpi_env ();
  if (!g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                     &status, NULL)
      || !g_spawn_check_wait_status (status, NULL))
    return g_strdup_printf ("mpirun cannot start 2 processes here: %s", err != NULL ? err : "");
  return NULL;
}

static gboolean
skip_without_mpi (void)
{
  g_autofree char *why = mpi_unusable ();

  if (why != NULL)
    {
      g_test_skip (why);
      return TRUE;
    }
  return FALSE;
}

static MelCheckpoint *
load (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  MelCheckpoint *checkpoint = mel_checkpoint_load (path, &error);

  g_assert_no_error (error);
  return checkpoint;
}

/* Largest absolute difference between the parameters of two checkpoints. */
static double
max_param_diff (const MelCheckpoint *a, const MelCheckpoint *b)
{
  double worst = 0.0;

  g_assert_cmpuint (a->n_params, ==, b->n_params);
  for (gsize i = 0; i < a->n_params; i++)
    worst = MAX (worst, fabs ((double) a->params[i] - b->params[i]));
  return worst;
}

/* ---- without MPI: the one-process group --------------------------------- */

static void
test_local (void)
{
  g_autoptr(MelDistributed) dist = mel_distributed_new_local ();
  g_autoptr(GError) error = NULL;
  float grads[3] = { 1.5f, -2.0f, 0.25f };
  double sums[2] = { 3.0, 4.0 };
  MelMetrics metrics;
  gboolean agree = FALSE;
  guint8 byte = 7;

  g_assert_cmpint (mel_distributed_get_rank (dist), ==, 0);
  g_assert_cmpint (mel_distributed_get_size (dist), ==, 1);
  g_assert_true (mel_distributed_is_root (dist));
  g_assert_true (mel_distributed_allreduce_floats (dist, grads, 3, &error));
  g_assert_cmpfloat (grads[1], ==, -2.0f);
  g_assert_true (mel_distributed_allreduce_doubles (dist, sums, 2, FALSE, &error));
  g_assert_cmpfloat (sums[1], ==, 4.0);
  mel_metrics_init (&metrics);
  metrics.n_symbols = 5;
  g_assert_true (mel_distributed_allreduce_metrics (dist, &metrics, &error));
  g_assert_cmpuint (metrics.n_symbols, ==, 5);
  g_assert_true (mel_distributed_broadcast (dist, &byte, 1, 0, &error));
  g_assert_cmpuint (byte, ==, 7);
  g_assert_true (mel_distributed_check_agreement (dist, 42, &agree, &error));
  g_assert_true (agree);
  g_assert_no_error (error);
  /* The checksum sees every byte and its position. */
  g_assert_cmpuint (mel_distributed_checksum (grads, sizeof grads), ==, mel_distributed_checksum (grads, sizeof grads));
  grads[2] = 0.5f;
  {
    float swapped[3] = { grads[1], grads[0], grads[2] };

    g_assert_cmpuint (mel_distributed_checksum (grads, sizeof grads), !=,
                      mel_distributed_checksum (swapped, sizeof swapped));
  }
  mel_distributed_abort (dist, 1); /* a no-op for one process */

  if (!mel_distributed_is_available ())
    {
      g_autoptr(MelDistributed) mpi = mel_distributed_new_mpi (10, &error);

      g_assert_null (mpi);
      g_assert_error (error, MEL_DISTRIBUTED_ERROR, MEL_DISTRIBUTED_ERROR_UNAVAILABLE);
    }
}

/* ---- with mpirun ---------------------------------------------------------- */

/* Two processes × 4 windows follow one process × 8 windows; 6 steps,
 * checksums compared after every step. */
static void
check_matches_single (Fixture *f, const char *model)
{
  g_autofree char *single = g_build_filename (f->dir, "single.ckpt", NULL);
  g_autofree char *dual = g_build_filename (f->dir, "dual.ckpt", NULL);
  g_autofree char *err = NULL;
  g_autoptr(MelCheckpoint) a = NULL;
  g_autoptr(MelCheckpoint) b = NULL;
  double diff;
#define COMMON "--model", model, "--hidden", "32", "--layers", "1", "--embed", "16", "--max-steps", "6", \
               "--epochs", "1", "--seed", "5", "--threads", "1", "--warmup", "2", "--lr", "0.01"
  const char *const one[] = { COMMON, "--batch", "8", "-o", single, NULL };
  const char *const two[] = { COMMON, "--batch", "4", "--check-every", "1", "-o", dual, NULL };
#undef COMMON

  g_assert_cmpint (run_train (0, one, NULL), ==, 0);
  g_assert_cmpint (run_train (2, two, &err), ==, 0);
  g_assert_nonnull (strstr (err, "distributed: 2 processes, global batch 8 windows (4 per process)"));
  a = load (f->dir, "single.ckpt");
  b = load (f->dir, "dual.ckpt");
  g_assert_cmpuint (a->state.step, ==, 6);
  g_assert_cmpuint (b->state.step, ==, 6);
  /* The checkpoint keeps the global batch, so either resumes the other. */
  g_assert_cmpuint (b->train.batch_size, ==, 8);
  diff = max_param_diff (a, b);
  g_test_message ("%s: largest parameter difference, 2 × 4 vs 1 × 8 windows: %.3g", model, diff);
  g_assert_cmpfloat (diff, <=, PARAM_TOLERANCE);
  /* Validation was shared out and summed: the same figure. */
  g_assert_cmpuint (a->history->len, ==, 1);
  g_assert_cmpuint (b->history->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (g_array_index (a->history, MelEpochRecord, 0).valid_loss,
                                  g_array_index (b->history, MelEpochRecord, 0).valid_loss, 1e-4);
}

static void
test_matches_single_gru (Fixture *f, gconstpointer data)
{
  if (!skip_without_mpi ())
    check_matches_single (f, "gru");
}

static void
test_matches_single_lstm_attn (Fixture *f, gconstpointer data)
{
  if (!skip_without_mpi ())
    check_matches_single (f, "lstm-attn");
}

/* The VAE draws its noise per process, so it follows the one-process run
 * only in distribution: check that it trains and stays in step. */
static void
test_vae_runs (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "vae.ckpt", NULL);
  const char *const args[] = { "--model", "vae", "--hidden", "32", "--latent", "8", "--embed", "16",
                               "--max-steps", "4", "--epochs", "1", "--batch", "4", "--check-every", "1",
                               "-o", path, NULL };
  g_autoptr(MelCheckpoint) c = NULL;
  g_autofree char *err = NULL;

  if (skip_without_mpi ())
    return;
  g_assert_cmpint (run_train (2, args, &err), ==, 0);
  c = load (f->dir, "vae.ckpt");
  g_assert_cmpuint (c->state.step, ==, 4);
  g_assert_true (isfinite (g_array_index (c->history, MelEpochRecord, 0).valid_loss));
}

/* A run of 2 processes resumes in 1, and a run of 1 in 3 (7 windows split
 * 2 + 2 + 3), each landing where 8 uninterrupted one-process steps with
 * the same global batch do. */
static void
test_resume_other_size (Fixture *f, gconstpointer data)
{
  g_autofree char *straight = g_build_filename (f->dir, "straight.ckpt", NULL);
  g_autofree char *straight7 = g_build_filename (f->dir, "straight7.ckpt", NULL);
  g_autofree char *mixed = g_build_filename (f->dir, "mixed.ckpt", NULL);
  g_autofree char *mixed3 = g_build_filename (f->dir, "mixed3.ckpt", NULL);
  g_autoptr(MelCheckpoint) a = NULL;
  g_autoptr(MelCheckpoint) b = NULL;
  g_autoptr(MelCheckpoint) c = NULL;
  g_autoptr(MelCheckpoint) d = NULL;
  /* A constant rate: the cosine schedule depends on the planned length,
   * which --max-steps changes between the parts. */
#define COMMON "--hidden", "32", "--layers", "1", "--embed", "16", "--epochs", "1", "--seed", "9", \
               "--threads", "1", "--warmup", "0", "--schedule", "constant", "--lr", "0.005"
  const char *const full[] = { COMMON, "--batch", "6", "--max-steps", "8", "-o", straight, NULL };
  const char *const first[] = { COMMON, "--batch", "3", "--max-steps", "4", "-o", mixed, NULL };
  const char *const rest[] = { "--resume", mixed, "--max-steps", "8", NULL };
  const char *const full7[] = { COMMON, "--batch", "7", "--max-steps", "8", "-o", straight7, NULL };
  const char *const first3[] = { COMMON, "--batch", "7", "--max-steps", "4", "-o", mixed3, NULL };
  const char *const rest3[] = { "--resume", mixed3, "--max-steps", "8", NULL };
#undef COMMON

  if (skip_without_mpi ())
    return;
  g_assert_cmpint (run_train (0, full, NULL), ==, 0);
  g_assert_cmpint (run_train (2, first, NULL), ==, 0);
  g_assert_cmpint (run_train (0, rest, NULL), ==, 0);
  g_assert_cmpint (run_train (0, full7, NULL), ==, 0);
  g_assert_cmpint (run_train (0, first3, NULL), ==, 0);
  g_assert_cmpint (run_train (3, rest3, NULL), ==, 0);
  a = load (f->dir, "straight.ckpt");
  b = load (f->dir, "mixed.ckpt");
  c = load (f->dir, "mixed3.ckpt");
  d = load (f->dir, "straight7.ckpt");
  g_assert_cmpuint (b->state.step, ==, 8);
  g_assert_cmpuint (c->state.step, ==, 8);
  g_assert_cmpuint (c->train.batch_size, ==, 7);
  g_test_message ("resumed 2 → 1: %.3g, 1 → 3: %.3g", max_param_diff (a, b), max_param_diff (d, c));
  g_assert_cmpfloat (max_param_diff (a, b), <=, PARAM_TOLERANCE);
  g_assert_cmpfloat (max_param_diff (d, c), <=, PARAM_TOLERANCE);
}

/* The pid of the process of rank @rank among the descendants of @ancestor. */
static GPid
find_rank (GPid ancestor, int rank)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  g_autofree char *wanted = g_strdup_printf ("OMPI_COMM_WORLD_RANK=%d", rank);
  const char *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *environ_path = g_build_filename ("/proc", name, "environ", NULL);
      g_autofree char *environ_text = NULL;
      g_autofree char *cmdline_path = g_build_filename ("/proc", name, "cmdline", NULL);
      g_autofree char *cmdline = NULL;
      gsize length = 0;
      gboolean is_rank = FALSE;

      if (!g_ascii_isdigit (name[0])
          || !g_file_get_contents (cmdline_path, &cmdline, NULL, NULL) || strstr (cmdline, "melodist-cli") == NULL
          || !g_file_get_contents (environ_path, &environ_text, &length, NULL))
        continue;
      for (gsize i = 0; i < length; i += strlen (environ_text + i) + 1)
        if (strcmp (environ_text + i, wanted) == 0)
          is_rank = TRUE;
      /* Only our job: its parent chain leads to @ancestor. */
      if (is_rank)
        {
          GPid pid = (GPid) g_ascii_strtoll (name, NULL, 10);

          for (GPid p = pid; p > 1;)
            {
              g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", (int) p);
              g_autofree char *stat = NULL;
              const char *close_paren;
              char state = 0;
              int parent = 0;

              if (!g_file_get_contents (stat_path, &stat, NULL, NULL)
                  || (close_paren = strrchr (stat, ')')) == NULL
                  || sscanf (close_paren + 1, " %c %d", &state, &parent) != 2)
                break;
              if (parent == ancestor)
                return pid;
              p = parent;
            }
        }
    }
  return 0;
}

typedef struct
{
  GMainLoop *loop;
  int status;
  gboolean exited;
} Child;

static void
on_child_exit (GPid pid, int status, gpointer data)
{
  Child *child = data;

  child->status = status;
  child->exited = TRUE;
  g_spawn_close_pid (pid);
  g_main_loop_quit (child->loop);
}

static gboolean
on_deadline (gpointer data)
{
  g_main_loop_quit (((Child *) data)->loop);
  return G_SOURCE_REMOVE;
}

/* Starts a long 2-process run, waits for its first checkpoint, then sends
 * @sig to rank 1; the job must end (not hang), with an error, and leave a
 * checkpoint that loads.  Returns the job's stderr. */
static char *
check_rank_failure (Fixture *f, int sig, const char *timeout)
{
  g_autofree char *path = g_build_filename (f->dir, "long.ckpt", NULL);
  const char *const args[] = { "--hidden", "48", "--layers", "1", "--epochs", "100000", "--patience", "0",
                               "--batch", "4", "--mpi-timeout", timeout, "-o", path, NULL };
  g_autoptr(GPtrArray) argv = train_argv (2, args);
  g_auto(GStrv) env = mpi_env ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(MelCheckpoint) checkpoint = NULL;
  g_autofree char *err_text = NULL;
  Child child = { loop, -1, FALSE };
  GPid pid = 0, victim = 0;
  int err_fd = -1;
  guint deadline;

  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv->pdata, env, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                           &pid, NULL, NULL, &err_fd, &error));
  g_assert_no_error (error);
  /* The first epoch's checkpoint, and then a little more training. */
  for (int i = 0; i < 600 && !g_file_test (path, G_FILE_TEST_EXISTS); i++)
    g_usleep (100000);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_usleep (300000);
  victim = find_rank (pid, 1);
  g_assert_cmpint (victim, >, 0);
  g_test_message ("sending signal %d to rank 1 (pid %d)", sig, (int) victim);
  g_assert_cmpint (kill (victim, sig), ==, 0);

  g_child_watch_add (pid, on_child_exit, &child);
  deadline = g_timeout_add_seconds (60, on_deadline, &child);
  g_main_loop_run (loop);
  if (!child.exited)
    {
      kill (pid, SIGKILL);
      g_assert_true (child.exited); /* fails: the job hung */
    }
  g_source_remove (deadline);
  {
    g_autoptr(GIOChannel) channel = g_io_channel_unix_new (err_fd);

    g_io_channel_set_close_on_unref (channel, TRUE);
    g_io_channel_read_to_end (channel, &err_text, NULL, NULL);
  }
  g_test_message ("stderr: %s", err_text);
  g_assert_false (g_spawn_check_wait_status (child.status, NULL));

  /* The last checkpoint is whole (its checksum holds) and resumable. */
  checkpoint = load (f->dir, "long.ckpt");
  g_assert_cmpuint (checkpoint->state.step, >, 0);
  g_assert_true (checkpoint->has_optimizer);
  return g_steal_pointer (&err_text);
}

static void
test_rank_killed (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;

  if (skip_without_mpi ())
    return;
  err = check_rank_failure (f, SIGKILL, "300");
  /* Open MPI notices the death itself and ends the job. */
  g_assert_nonnull (strstr (err, "signal 9"));
}

static void
test_rank_hangs (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;

  if (skip_without_mpi ())
    return;
  /* A stopped process is not dead: only the watchdog ends the wait. */
  err = check_rank_failure (f, SIGSTOP, "3");
  g_assert_nonnull (strstr (err, "has not completed after 3 s"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/distributed/local", test_local);
#define ADD(path, func) g_test_add ("/mel/distributed/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("matches-single-gru", test_matches_single_gru);
  ADD ("matches-single-lstm-attn", test_matches_single_lstm_attn);
  ADD ("vae-runs", test_vae_runs);
  ADD ("resume-other-size", test_resume_other_size);
  ADD ("rank-killed", test_rank_killed);
  ADD ("rank-hangs", test_rank_hangs);
#undef ADD
  return g_test_run ();
}
