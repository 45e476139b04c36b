/* mel-corpus.c — loading a folder of **kern songs in parallel.
 *
 * The files are listed first and sorted by path; worker threads then take
 * the next index from an atomic counter and store their song (or the
 * reason for rejecting the file) in that index's slot.  So the result is
 * in path order whatever the scheduling, and no lock is needed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-corpus.h"

#include <string.h>

#include "mel-corpus-resources.h"
#include "mel-kern.h"

#define MEL_CORPUS_RESOURCE_PATH "/io/github/melodist/Melodist/corpus"

static void
rejection_free (gpointer data)
{
  MelCorpusRejection *rejection = data;

  g_free (rejection->path);
  g_free (rejection->message);
  g_free (rejection);
}

static MelCorpusRejection *
rejection_new (const char *path, guint line, const char *message)
{
  MelCorpusRejection *rejection = g_new0 (MelCorpusRejection, 1);

  rejection->path = g_strdup (path);
  rejection->line = line;
  rejection->message = g_strdup (message);
  return rejection;
}

static MelCorpus *
corpus_new (const char *root)
{
  MelCorpus *corpus = g_new0 (MelCorpus, 1);

  g_atomic_ref_count_init (&corpus->ref_count);
  corpus->root = g_strdup (root);
  corpus->songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);
  corpus->rejections = g_ptr_array_new_with_free_func (rejection_free);
  corpus->duplicate_of = g_array_new (FALSE, FALSE, sizeof (gint32));
  return corpus;
}

MelCorpus *
mel_corpus_new_for_song (const char *root, MelSong *song)
{
  MelCorpus *corpus;
  gint32 none = -1;

  g_return_val_if_fail (root != NULL, NULL);
  g_return_val_if_fail (song != NULL, NULL);

  corpus = corpus_new (root);
  g_ptr_array_add (corpus->songs, mel_song_ref (song));
  g_array_append_val (corpus->duplicate_of, none);
  corpus->n_files = 1;
  return corpus;
}

MelCorpus *
mel_corpus_ref (MelCorpus *corpus)
{
  g_return_val_if_fail (corpus != NULL, NULL);
  g_atomic_ref_count_inc (&corpus->ref_count);
  return corpus;
}

void
mel_corpus_unref (MelCorpus *corpus)
{
  g_return_if_fail (corpus != NULL);
  if (!g_atomic_ref_count_dec (&corpus->ref_count))
    return;
  g_free (corpus->root);
  g_ptr_array_unref (corpus->songs);
  g_ptr_array_unref (corpus->rejections);
  g_array_unref (corpus->duplicate_of);
  g_free (corpus);
}

/* ---- listing files -------------------------------------------------------- */

static gboolean
is_kern_name (const char *name)
{
  gsize n = strlen (name);
  return n > 4 && g_ascii_strcasecmp (name + n - 4, ".krn") == 0;
}

/* Collects *.krn below @folder.  Symbolic links to folders are not
 * followed (no loops); a sub-folder that cannot be opened is reported. */
static void
list_folder (const char *folder, GPtrArray *paths, GPtrArray *unreadable)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (folder, 0, &error);
  const char *name;

  if (dir == NULL)
    {
      g_ptr_array_add (unreadable, rejection_new (folder, 0, error->message));
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (folder, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        {
          if (!g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            list_folder (child, paths, unreadable);
        }
      else if (is_kern_name (name))
        g_ptr_array_add (paths, g_steal_pointer (&child));
    }
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static int
compare_rejections (gconstpointer a, gconstpointer b)
{
  const MelCorpusRejection *x = *(const MelCorpusRejection *const *) a;
  const MelCorpusRejection *y = *(const MelCorpusRejection *const *) b;
  return strcmp (x->path, y->path);
}

/* ---- loading in parallel --------------------------------------------------------- */

typedef struct
{
  GPtrArray *paths;        /* char* */
  GResource *resource;     /* when set, paths are resource paths */
  MelSong **songs;         /* one slot per path */
  MelCorpusRejection **rejections;
  gint next;               /* atomic: next index to take */
  gint done;               /* atomic: files finished */
  MelCorpusProgress progress;
  gpointer user_data;
  GMutex progress_lock;    /* one callback at a time, in increasing order */
  GCancellable *cancellable;
} LoadJob;

static void
load_one (LoadJob *job, guint index)
{
  const char *path = g_ptr_array_index (job->paths, index);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *contents = NULL;
  const char *data;
  gsize length = 0;
  guint line = 0;

  if (job->resource != NULL)
    {
      const char *inner = path + strlen ("resource://");
      bytes = g_resource_lookup_data (job->resource, inner, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      data = bytes != NULL ? g_bytes_get_data (bytes, &length) : NULL;
    }
  else
    {
      if (g_file_get_contents (path, &contents, &length, &error))
        data = contents;
      else
        data = NULL;
    }
  if (data == NULL && error != NULL)
    {
      job->rejections[index] = rejection_new (path, 0, error->message);
      return;
    }
  job->songs[index] = mel_kern_parse_full (data != NULL ? data : "", length, path, &line, &error);
  if (job->songs[index] == NULL)
    job->rejections[index] = rejection_new (path, line, error->message);
}

static gpointer
load_worker (gpointer data)
{
  LoadJob *job = data;
  guint total = job->paths->len;

  for (;;)
    {
      guint index = (guint) g_atomic_int_add (&job->next, 1);
      if (index >= total || g_cancellable_is_cancelled (job->cancellable))
        break;
      load_one (job, index);
      if (job->progress != NULL)
        {
          g_mutex_lock (&job->progress_lock);
          guint done = (guint) g_atomic_int_add (&job->done, 1) + 1;
          job->progress (done, total, job->user_data);
          g_mutex_unlock (&job->progress_lock);
        }
    }
  return NULL;
}

/* ---- duplicates ------------------------------------------------------------- */

/* Hashes exactly what mel_song_events_equal() compares. */
static guint
events_hash (const MelSong *song)
{
  guint64 h = G_GUINT64_CONSTANT (14695981039346656037);

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      const gint64 fields[6] = { ev->onset.num, ev->onset.den, ev->duration.num, ev->duration.den,
                                 ev->midi, ev->tie };
      for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
        {
          h ^= (guint64) fields[f];
          h *= G_GUINT64_CONSTANT (1099511628211);
        }
    }
  return (guint) (h ^ (h >> 32));
}

static guint
song_events_hash (gconstpointer key)
{
  return events_hash (key);
}

static gboolean
song_events_equal (gconstpointer a, gconstpointer b)
{
  return mel_song_events_equal (a, b);
}

/* O(n): each song is looked up once among the first songs of their kind. */
static void
find_duplicates (MelCorpus *corpus)
{
  g_autoptr (GHashTable) first_of_kind = g_hash_table_new (song_events_hash, song_events_equal);

  g_array_set_size (corpus->duplicate_of, corpus->songs->len);
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      MelSong *song = g_ptr_array_index (corpus->songs, i);
      gpointer first;
      gint32 of = -1;

      if (g_hash_table_lookup_extended (first_of_kind, song, NULL, &first))
        of = GPOINTER_TO_INT (first);
      else
        g_hash_table_insert (first_of_kind, song, GINT_TO_POINTER ((gint) i));
      g_array_index (corpus->duplicate_of, gint32, i) = of;
    }
}

/* Runs @job over all its paths with @n_threads threads and gathers the
 * result into @corpus in path order. */
static gboolean
run_job (LoadJob *job, MelCorpus *corpus, guint n_threads, GError **error)
{
  guint n = job->paths->len;
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();

  job->songs = g_new0 (MelSong *, MAX (n, 1));
  job->rejections = g_new0 (MelCorpusRejection *, MAX (n, 1));
  g_mutex_init (&job->progress_lock);

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  n_threads = CLAMP (n_threads, 1, MAX (n, 1));
  /* The calling thread works too. */
  for (guint t = 1; t < n_threads; t++)
    g_ptr_array_add (threads, g_thread_new ("mel-corpus-load", load_worker, job));
  load_worker (job);
  for (guint t = 0; t < threads->len; t++)
    g_thread_join (g_ptr_array_index (threads, t));

  for (guint i = 0; i < n; i++)
    {
      if (job->songs[i] != NULL)
        g_ptr_array_add (corpus->songs, job->songs[i]);
      if (job->rejections[i] != NULL)
        g_ptr_array_add (corpus->rejections, job->rejections[i]);
    }
  corpus->n_files += n;
  g_free (job->songs);
  g_free (job->rejections);
  g_mutex_clear (&job->progress_lock);

  if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
    return FALSE;
  g_ptr_array_sort (corpus->rejections, compare_rejections);
  find_duplicates (corpus);
  return TRUE;
}

MelCorpus *
mel_corpus_load (const char *path, guint n_threads, MelCorpusProgress progress, gpointer user_data,
                 GCancellable *cancellable, GError **error)
{
  g_autoptr (MelCorpus) corpus = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) unreadable = g_ptr_array_new ();
  LoadJob job = { 0 };

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GDir) dir = g_dir_open (path, 0, &local_error);
      if (dir == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      list_folder (path, paths, unreadable);
    }
  else if (g_file_test (path, G_FILE_TEST_EXISTS))
    g_ptr_array_add (paths, g_strdup (path));
  else
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: no such file or folder", path);
      return NULL;
    }
  g_ptr_array_sort (paths, compare_paths);

  corpus = corpus_new (path);
  for (guint i = 0; i < unreadable->len; i++)
    g_ptr_array_add (corpus->rejections, g_ptr_array_index (unreadable, i));
  corpus->n_files = unreadable->len;

  job.paths = paths;
  job.progress = progress;
  job.user_data = user_data;
  job.cancellable = cancellable;
  if (!run_job (&job, corpus, n_threads, error))
    return NULL;
  return g_steal_pointer (&corpus);
}

static void
list_resource (GResource *resource, const char *folder, GPtrArray *paths, GError **error)
{
  g_auto (GStrv) names = g_resource_enumerate_children (resource, folder,
                                                        G_RESOURCE_LOOKUP_FLAGS_NONE, error);

  if (names == NULL)
    return;
  for (guint i = 0; names[i] != NULL && (error == NULL || *error == NULL); i++)
    {
      g_autofree char *child = g_strconcat (folder, "/", names[i], NULL);
      if (g_str_has_suffix (names[i], "/"))
        {
          child[strlen (child) - 1] = '\0';
          list_resource (resource, child, paths, error);
        }
      else if (is_kern_name (names[i]))
        g_ptr_array_add (paths, g_strconcat ("resource://", child, NULL));
    }
}

MelCorpus *
mel_corpus_load_embedded (GError **error)
{
  g_autoptr (MelCorpus) corpus = corpus_new ("embedded");
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local_error = NULL;
  LoadJob job = { 0 };

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Using the resource directly (not the global registry) also keeps the
   * linker from dropping it out of the static library. */
  job.resource = mel_corpus_get_resource ();
  list_resource (job.resource, MEL_CORPUS_RESOURCE_PATH, paths, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_ptr_array_sort (paths, compare_paths);
  job.paths = paths;
  if (!run_job (&job, corpus, 1, error))
    return NULL;
  return g_steal_pointer (&corpus);
}

MelSong *
mel_corpus_find (const MelCorpus *corpus, const char *id)
{
  g_return_val_if_fail (corpus != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  for (guint i = 0; i < corpus->songs->len; i++)
    {
      MelSong *song = g_ptr_array_index (corpus->songs, i);
      if (g_strcmp0 (song->id, id) == 0)
        return song;
    }
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      MelSong *song = g_ptr_array_index (corpus->songs, i);
      g_autofree char *base = NULL;
      if (song->path == NULL)
        continue;
      base = g_path_get_basename (song->path);
      if (is_kern_name (base))
        base[strlen (base) - 4] = '\0';
      if (g_str_equal (base, id))
        return song;
    }
  return NULL;
}

guint
mel_corpus_count_duplicates (const MelCorpus *corpus)
{
  guint n = 0;

  g_return_val_if_fail (corpus != NULL, 0);
  for (guint i = 0; i < corpus->duplicate_of->len; i++)
    n += g_array_index (corpus->duplicate_of, gint32, i) >= 0;
  return n;
}
