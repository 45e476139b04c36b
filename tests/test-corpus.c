/* test-corpus.c — the parallel corpus loader: a fixture folder with bad
 * files and duplicates, options, the embedded corpus and (when present)
 * the full ESAC German collection.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "fuzz/kern-compare.h"
#include "mel-corpus.h"
#include "mel-kern.h"

static char *
fixture_folder (void)
{
  const char *source = g_getenv ("MELODIST_SOURCE_DIR");
  return g_build_filename (source != NULL ? source : ".", "tests", "fixtures", "kern", "corpus", NULL);
}

static const char *
song_base (const MelSong *song)
{
  const char *slash = strrchr (song->path, '/');
  return slash != NULL ? slash + 1 : song->path;
}

static void
test_folder (void)
{
  g_autofree char *folder = fixture_folder ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MelCorpus) corpus = mel_corpus_load (folder, 2, NULL, NULL, NULL, &error);
  const MelCorpusRejection *rejection;

  g_assert_no_error (error);
  g_assert_nonnull (corpus);
  g_assert_cmpstr (corpus->root, ==, folder);
  /* 9 .krn files below the folder (LIESMICH.txt is not one) */
  g_assert_cmpuint (corpus->n_files, ==, 9);
  g_assert_cmpuint (corpus->songs->len, ==, 7);
  g_assert_cmpuint (corpus->rejections->len, ==, 2);
  g_assert_cmpuint (corpus->duplicate_of->len, ==, corpus->songs->len);

  /* songs sorted by path */
  for (guint i = 1; i < corpus->songs->len; i++)
    {
      const MelSong *a = g_ptr_array_index (corpus->songs, i - 1);
      const MelSong *b = g_ptr_array_index (corpus->songs, i);
      g_assert_cmpint (strcmp (a->path, b->path), <, 0);
    }
  g_assert_cmpstr (song_base (g_ptr_array_index (corpus->songs, 0)), ==, "sonnenlied.krn");

  /* rejections with file, line and reason, sorted by path */
  rejection = g_ptr_array_index (corpus->rejections, 0);
  g_assert_true (g_str_has_suffix (rejection->path, "bad/abgeschnitten.krn"));
  g_assert_cmpuint (rejection->line, ==, 11);
  g_assert_nonnull (strstr (rejection->message, "abgeschnitten.krn:11: missing the *- terminator"));
  rejection = g_ptr_array_index (corpus->rejections, 1);
  g_assert_true (g_str_has_suffix (rejection->path, "bad/rueckschritt.krn"));
  g_assert_cmpuint (rejection->line, ==, 10);
  g_assert_nonnull (strstr (rejection->message,
                            "rueckschritt.krn:10: unknown character '\\x08' in note token '4.e\\x088f'"));

  /* the copy of the lullaby is a duplicate of the original, found by events */
  g_assert_cmpuint (mel_corpus_count_duplicates (corpus), ==, 1);
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      gint32 of = g_array_index (corpus->duplicate_of, gint32, i);
      if (g_str_equal (song_base (song), "wiegenlied.krn"))
        {
          g_assert_cmpint (of, >=, 0);
          g_assert_cmpint (of, <, (gint32) i);
          const MelSong *first = g_ptr_array_index (corpus->songs, of);
          g_assert_cmpstr (song_base (first), ==, "wiegenlied-abschrift.krn");
          g_assert_true (mel_song_events_equal (song, first));
        }
      else
        g_assert_cmpint (of, ==, -1);
    }

  /* find by id (!!!SCT) or by file name */
  MelSong *found = mel_corpus_find (corpus, "MT0004");
  g_assert_nonnull (found);
  g_assert_cmpstr (song_base (found), ==, "modal.krn");
  found = mel_corpus_find (corpus, "triolen");
  g_assert_nonnull (found);
  g_assert_cmpstr (found->id, ==, "MT0003");
  g_assert_null (mel_corpus_find (corpus, "abgeschnitten"));
  g_assert_null (mel_corpus_find (corpus, "nothing"));

  /* a reference outlives the corpus owner */
  MelCorpus *extra = mel_corpus_ref (corpus);
  mel_corpus_unref (extra);
}

static void
test_single_file_and_errors (void)
{
  g_autofree char *folder = fixture_folder ();
  g_autofree char *file = g_build_filename (folder, "misc", "modal.krn", NULL);
  g_autofree char *bad = g_build_filename (folder, "bad", "abgeschnitten.krn", NULL);
  g_autoptr (GError) error = NULL;

  g_autoptr (MelCorpus) one = mel_corpus_load (file, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->n_files, ==, 1);
  g_assert_cmpuint (one->songs->len, ==, 1);
  g_assert_cmpuint (one->rejections->len, ==, 0);

  /* a bad single file is a rejection, not an error */
  g_autoptr (MelCorpus) rejected = mel_corpus_load (bad, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rejected->songs->len, ==, 0);
  g_assert_cmpuint (rejected->rejections->len, ==, 1);

  g_autoptr (MelCorpus) missing = mel_corpus_load ("/nonexistent/melodist/corpus", 0, NULL, NULL,
                                                   NULL, &error);
  g_assert_null (missing);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

typedef struct
{
  GMutex lock;
  guint calls;
  guint last_done;
  guint total;
  gboolean in_order;
  GCancellable *cancel_after_first;
} Progress;

static void
on_progress (guint done, guint total, gpointer user_data)
{
  Progress *p = user_data;

  g_mutex_lock (&p->lock);
  p->calls++;
  p->in_order &= done == p->last_done + 1;
  p->last_done = done;
  p->total = total;
  if (p->cancel_after_first != NULL)
    g_cancellable_cancel (p->cancel_after_first);
  g_mutex_unlock (&p->lock);
}

static void
test_progress_and_threads (void)
{
  g_autofree char *folder = fixture_folder ();
  Progress progress = { .in_order = TRUE };
  g_autoptr (GError) error = NULL;

  g_mutex_init (&progress.lock);
  g_autoptr (MelCorpus) many = mel_corpus_load (folder, 4, on_progress, &progress, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (progress.calls, ==, 9);
  g_assert_cmpuint (progress.total, ==, 9);
  g_assert_cmpuint (progress.last_done, ==, 9);
  g_assert_true (progress.in_order);
  g_mutex_clear (&progress.lock);

  /* one thread or four: the same result */
  g_autoptr (MelCorpus) single = mel_corpus_load (folder, 1, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (single->songs->len, ==, many->songs->len);
  for (guint i = 0; i < single->songs->len; i++)
    {
      const MelSong *a = g_ptr_array_index (single->songs, i);
      const MelSong *b = g_ptr_array_index (many->songs, i);
      g_assert_cmpstr (a->path, ==, b->path);
      g_assert_true (mel_test_songs_equivalent (a, b, NULL));
      g_assert_cmpint (g_array_index (single->duplicate_of, gint32, i), ==,
                       g_array_index (many->duplicate_of, gint32, i));
    }
}

static void
test_cancel (void)
{
  g_autofree char *folder = fixture_folder ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  Progress progress = { .in_order = TRUE, .cancel_after_first = cancellable };

  g_mutex_init (&progress.lock);
  g_autoptr (MelCorpus) corpus = mel_corpus_load (folder, 1, on_progress, &progress, cancellable,
                                                  &error);
  g_assert_null (corpus);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (progress.calls, ==, 1); /* it stopped after the first file */
  g_mutex_clear (&progress.lock);

  g_clear_error (&error);
  g_autoptr (MelCorpus) none = mel_corpus_load (folder, 2, NULL, NULL, cancellable, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_embedded (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelCorpus) corpus = mel_corpus_load_embedded (&error);

  g_assert_no_error (error);
  g_assert_nonnull (corpus);
  g_assert_cmpstr (corpus->root, ==, "embedded");
  if (corpus->songs->len < 1)
    {
      g_test_skip ("the embedded corpus holds no songs yet");
      return;
    }
  for (guint i = 0; i < corpus->rejections->len; i++)
    {
      const MelCorpusRejection *r = g_ptr_array_index (corpus->rejections, i);
      g_test_message ("embedded song rejected: %s", r->message);
    }
  g_assert_cmpuint (corpus->rejections->len, ==, 0);
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      g_assert_true (g_str_has_prefix (song->path, "resource:///io/github/melodist/Melodist/corpus/"));
      g_assert_cmpuint (mel_song_get_n_notes (song), >, 0);
      g_assert_true (mel_corpus_find (corpus, song->id) != NULL);
    }
  g_test_message ("embedded corpus: %u songs, %u duplicates", corpus->songs->len,
                  mel_corpus_count_duplicates (corpus));
}

static gboolean
same_phrases_and_bars (const MelSong *a, const MelSong *b)
{
  if (a->bars->len != b->bars->len)
    return FALSE;
  for (guint i = 0; i < a->events->len; i++)
    if (g_array_index (a->events, MelEvent, i).flags != g_array_index (b->events, MelEvent, i).flags ||
        g_array_index (a->events, MelEvent, i).bar != g_array_index (b->events, MelEvent, i).bar)
      return FALSE;
  for (guint i = 0; i < a->bars->len; i++)
    if (g_array_index (a->bars, MelBar, i).number != g_array_index (b->bars, MelBar, i).number ||
        !mel_rational_equal (g_array_index (a->bars, MelBar, i).duration,
                             g_array_index (b->bars, MelBar, i).duration))
      return FALSE;
  return TRUE;
}

/* The full German ESAC collection: every number of the data README, and a
 * round trip of every song. */
static void
test_esac (void)
{
  const char *esac = g_getenv ("MELODIST_ESAC_DIR");
  g_autofree char *folder = g_build_filename (esac != NULL ? esac : "", "deutschl", NULL);
  g_autoptr (GError) error = NULL;
  guint notes = 0, rests = 0, round_trips = 0, pickups = 0, irregular_pickups = 0;
  guint exact_copies = 0;

  if (esac == NULL || !g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("MELODIST_ESAC_DIR/deutschl does not exist; the ESAC corpus test is skipped");
      return;
    }
  gint64 start = g_get_monotonic_time ();
  g_autoptr (MelCorpus) corpus = mel_corpus_load (folder, 0, NULL, NULL, NULL, &error);
  double seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  g_assert_no_error (error);

  g_assert_cmpuint (corpus->n_files, ==, 5365);
  g_assert_cmpuint (corpus->songs->len + corpus->rejections->len, ==, 5365);
  /* Only the two documented defects that cannot be read faithfully. */
  g_assert_cmpuint (corpus->rejections->len, ==, 2);
  const MelCorpusRejection *r0 = g_ptr_array_index (corpus->rejections, 0);
  const MelCorpusRejection *r1 = g_ptr_array_index (corpus->rejections, 1);
  g_assert_true (g_str_has_suffix (r0->path, "altdeu2/deut4355.krn"));
  g_assert_cmpuint (r0->line, ==, 93);
  g_assert_nonnull (strstr (r0->message,
                            "deut4355.krn:93: unknown character '/' in note token '0gg//#'"));
  g_assert_true (g_str_has_suffix (r1->path, "erk/deut1328.krn"));
  g_assert_cmpuint (r1->line, ==, 44);
  g_assert_nonnull (strstr (r1->message,
                            "deut1328.krn:44: unknown character '\\x08' in note token '4.B\\x088G'"));

  for (guint i = 0; i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      const MelMeter *meter = mel_song_get_meter_at (song, MEL_RATIONAL_ZERO);
      guint n = mel_song_get_n_notes (song);
      notes += n;
      rests += song->events->len - n;
      if (!mel_rational_is_zero (song->pickup))
        {
          if (meter != NULL && !meter->irregular)
            pickups++;
          else
            irregular_pickups++;
        }

      g_autofree char *text = mel_kern_write (song);
      g_autoptr (MelSong) again = mel_kern_parse (text, strlen (text), song->path, &error);
      g_autofree char *why = NULL;
      g_assert_no_error (error);
      if (!mel_test_songs_equivalent (song, again, &why))
        g_error ("%s: round trip changed the song: %s", song->path, why);
      round_trips++;
    }
  /* README: 264,628 notes and 13,204 rests in all 5,365 files; the two
   * refused files hold 58 + 60 notes and 5 + 2 rests. */
  g_assert_cmpuint (notes, ==, 264628 - 58 - 60);
  g_assert_cmpuint (rests, ==, 13204 - 5 - 2);
  /* README: 4,042 files open with a partial bar under a regular meter; the
   * two refused files are among them.  Under *MX the opening bar is a
   * pickup when shorter than the next bar. */
  g_assert_cmpuint (pickups, ==, 4042 - 2);
  g_assert_cmpuint (irregular_pickups, ==, 93);

  /* Duplicates by events (onsets, durations, pitches, ties).  The README
   * counts 128 redundant copies with identical note and bar lines; equal
   * events is looser (phrase marks and bar lines may differ), and finds
   * 16 more: 144.  Those with the same phrase marks and bars too are
   * exactly the README's 128. */
  guint duplicates = mel_corpus_count_duplicates (corpus);
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      gint32 of = g_array_index (corpus->duplicate_of, gint32, i);
      if (of >= 0)
        {
          const MelSong *a = g_ptr_array_index (corpus->songs, i);
          const MelSong *b = g_ptr_array_index (corpus->songs, of);
          g_assert_true (mel_song_events_equal (a, b));
          exact_copies += same_phrases_and_bars (a, b);
        }
    }
  g_assert_cmpuint (duplicates, ==, 144);
  g_assert_cmpuint (exact_copies, ==, 128);
  g_test_message ("ESAC deutschl: %u files, %u songs, %u rejected, %u notes, %u rests, %u + %u pickups, "
                  "%u duplicates by events (%u also with equal phrases and bars), %u round trips, "
                  "loaded in %.3f s",
                  corpus->n_files, corpus->songs->len, corpus->rejections->len, notes, rests,
                  pickups, irregular_pickups, duplicates, exact_copies, round_trips, seconds);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mel/corpus/folder", test_folder);
  g_test_add_func ("/mel/corpus/single-file-and-errors", test_single_file_and_errors);
  g_test_add_func ("/mel/corpus/progress-and-threads", test_progress_and_threads);
  g_test_add_func ("/mel/corpus/cancel", test_cancel);
  g_test_add_func ("/mel/corpus/embedded", test_embedded);
  g_test_add_func ("/mel/corpus/esac", test_esac);

  return g_test_run ();
}
