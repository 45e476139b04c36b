/* bench-pipeline.c — times the whole preprocessing pipeline in one process:
 * load and parse every **kern file, filter by duration, transpose and
 * encode (mel_dataset_build), and save the dataset.
 *
 * Usage: bench-pipeline [FOLDER] [REPEATS] [TRANSPOSE] [THREADS]
 *   FOLDER     default $MELODIST_ESAC_DIR/deutschl, else ../shared/data/esac/deutschl
 *   REPEATS    default 5; the best and the median wall time are printed
 *   TRANSPOSE  none | normalise | augment (default none)
 *   THREADS    worker threads for loading and encoding (default 0 = all cores)
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mel-corpus.h"
#include "mel-dataset.h"

typedef struct
{
  double load, build, save, total, cpu;
} Timing;

/* CPU time of the whole process (all threads), in seconds: on a busy
 * machine it says what the work costs when wall time cannot. */
static double
process_cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

int
main (int argc, char **argv)
{
  g_autofree char *folder = NULL;
  int repeats = argc > 2 ? MAX (atoi (argv[2]), 1) : 5;
  guint n_threads = argc > 4 ? (guint) atoi (argv[4]) : 0;
  MelPreprocessOptions options;
  g_autoptr (GError) error = NULL;

  mel_preprocess_options_init (&options);
  if (argc > 3 && !mel_transpose_mode_from_string (argv[3], &options.transpose))
    {
      fprintf (stderr, "bench-pipeline: unknown transposition '%s'\n", argv[3]);
      return 2;
    }
  if (argc > 1 && argv[1][0] != '\0')
    folder = g_strdup (argv[1]);
  else
    {
      const char *esac = g_getenv ("MELODIST_ESAC_DIR");
      folder = g_build_filename (esac != NULL ? esac : "../shared/data/esac", "deutschl", NULL);
    }
  g_autofree char *dir = g_dir_make_tmp ("bench-pipeline-XXXXXX", &error);
  if (dir == NULL)
    {
      fprintf (stderr, "bench-pipeline: %s\n", error->message);
      return 1;
    }
  g_autofree char *path = g_build_filename (dir, "dataset.mds", NULL);
  g_autofree char *vocab_path = g_strconcat (path, ".vocab.json", NULL);
  g_autofree Timing *timings = g_new0 (Timing, repeats);
  g_autoptr (MelCorpus) corpus = NULL;
  g_autoptr (MelDataset) dataset = NULL;

  for (int r = 0; r < repeats; r++)
    {
      g_clear_pointer (&dataset, mel_dataset_unref);
      g_clear_pointer (&corpus, mel_corpus_unref);
      gint64 start = g_get_monotonic_time ();
      double cpu_start = process_cpu_seconds ();

      corpus = mel_corpus_load (folder, n_threads, NULL, NULL, NULL, &error);
      if (corpus == NULL)
        {
          fprintf (stderr, "bench-pipeline: %s\n", error->message);
          return 1;
        }
      timings[r].load = seconds_since (start);

      gint64 build_start = g_get_monotonic_time ();
      dataset = mel_dataset_build_full (corpus->songs, &options, n_threads, NULL, NULL, NULL, &error);
      if (dataset == NULL)
        {
          fprintf (stderr, "bench-pipeline: %s\n", error->message);
          return 1;
        }
      timings[r].build = seconds_since (build_start);

      gint64 save_start = g_get_monotonic_time ();
      if (!mel_dataset_save (dataset, path, &error))
        {
          fprintf (stderr, "bench-pipeline: %s\n", error->message);
          return 1;
        }
      timings[r].save = seconds_since (save_start);
      timings[r].total = seconds_since (start);
      timings[r].cpu = process_cpu_seconds () - cpu_start;
      printf ("run %d: load+parse %.3f s  filter+transpose+encode %.3f s  save %.3f s  total %.3f s wall, %.3f s CPU\n",
              r + 1, timings[r].load, timings[r].build, timings[r].save, timings[r].total, timings[r].cpu);
    }

  g_autofree double *totals = g_new (double, repeats);
  g_autofree double *builds = g_new (double, repeats);
  g_autofree double *cpus = g_new (double, repeats);
  for (int r = 0; r < repeats; r++)
    {
      totals[r] = timings[r].total;
      builds[r] = timings[r].build;
      cpus[r] = timings[r].cpu;
    }
  qsort (totals, repeats, sizeof (double), compare_double);
  qsort (builds, repeats, sizeof (double), compare_double);
  qsort (cpus, repeats, sizeof (double), compare_double);

  printf ("folder: %s\nthreads: %u (cores: %u)  transpose: %s\n", folder, n_threads, g_get_num_processors (),
          mel_transpose_mode_to_string (options.transpose));
  printf ("files: %u  songs read: %u  unreadable: %u\n", corpus->n_files, corpus->songs->len,
          corpus->rejections->len);
  printf ("accepted: %u  filtered by duration: %u  off grid: %u  out of range: %u  empty: %u\n",
          dataset->n_input - dataset->n_rejected - dataset->n_rejected_off_grid - dataset->n_rejected_range -
              dataset->n_rejected_empty,
          dataset->n_rejected, dataset->n_rejected_off_grid, dataset->n_rejected_range, dataset->n_rejected_empty);
  printf ("encoded songs (with copies): %u  symbols: %u  vocabulary: %u  melody groups: %u\n",
          dataset->songs->len, dataset->ids->len, dataset->vocabulary->len, dataset->n_groups);
  printf ("filter+transpose+encode: best %.3f s, median %.3f s\n", builds[0], builds[repeats / 2]);
  printf ("whole pipeline (load, parse, filter, encode, save): best %.3f s, median %.3f s wall of %d runs\n",
          totals[0], totals[repeats / 2], repeats);
  printf ("CPU time of the whole pipeline (all threads): best %.3f s, median %.3f s\n", cpus[0], cpus[repeats / 2]);

  g_unlink (path);
  g_unlink (vocab_path);
  g_rmdir (dir);
  return 0;
}
