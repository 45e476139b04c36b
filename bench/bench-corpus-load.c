/* bench-corpus-load.c — times mel_corpus_load() on a folder of **kern files.
 *
 * Usage: bench-corpus-load [FOLDER] [THREADS] [REPEATS]
 * FOLDER defaults to $MELODIST_ESAC_DIR/deutschl; THREADS 0 = all cores.
 * Prints the wall time and the CPU time (user + system, all threads) of
 * each of REPEATS runs, the best of them, and what was loaded.  On a busy
 * machine the CPU time is the steadier figure.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "mel-corpus.h"

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

int
main (int argc, char **argv)
{
  g_autofree char *folder = NULL;
  guint n_threads = argc > 2 ? (guint) atoi (argv[2]) : 0;
  int repeats = argc > 3 ? MAX (atoi (argv[3]), 1) : 5;
  double best = G_MAXDOUBLE, best_cpu = G_MAXDOUBLE;
  g_autoptr (MelCorpus) corpus = NULL;
  guint notes = 0, rests = 0;

  if (argc > 1)
    folder = g_strdup (argv[1]);
  else
    {
      const char *esac = g_getenv ("MELODIST_ESAC_DIR");
      folder = g_build_filename (esac != NULL ? esac : "../shared/data/esac", "deutschl", NULL);
    }

  for (int r = 0; r < repeats; r++)
    {
      g_autoptr (GError) error = NULL;
      g_clear_pointer (&corpus, mel_corpus_unref);
      gint64 start = g_get_monotonic_time ();
      double cpu_start = cpu_seconds ();
      corpus = mel_corpus_load (folder, n_threads, NULL, NULL, NULL, &error);
      double seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
      double cpu = cpu_seconds () - cpu_start;
      if (corpus == NULL)
        {
          fprintf (stderr, "bench-corpus-load: %s\n", error->message);
          return 1;
        }
      best = MIN (best, seconds);
      best_cpu = MIN (best_cpu, cpu);
      printf ("run %d: %.3f s wall, %.3f s CPU\n", r + 1, seconds, cpu);
    }

  for (guint i = 0; i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      guint n = mel_song_get_n_notes (song);
      notes += n;
      rests += song->events->len - n;
    }
  printf ("folder: %s\nthreads: %u (cores: %u)\n", folder, n_threads, g_get_num_processors ());
  printf ("files: %u  songs: %u  rejected: %u  duplicates: %u  notes: %u  rests: %u\n",
          corpus->n_files, corpus->songs->len, corpus->rejections->len,
          mel_corpus_count_duplicates (corpus), notes, rests);
  for (guint i = 0; i < corpus->rejections->len; i++)
    {
      const MelCorpusRejection *rejection = g_ptr_array_index (corpus->rejections, i);
      printf ("rejected: %s\n", rejection->message);
    }
  printf ("best of %d runs: %.3f s wall, %.3f s CPU\n", repeats, best, best_cpu);
  return 0;
}
