/* mel-corpus-store.c — the corpus the window works on, loaded in a worker.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>

#include "mel-corpus-store.h"
#include "mel-musicxml.h"
#include "mel-song-item.h"

struct _MelCorpusStore
{
  GObject parent_instance;

  MelCorpus *corpus;
  GListStore *songs;
  GCancellable *cancellable; /* of the running load, NULL when idle */
  char *name;
  double fraction;
};

G_DEFINE_FINAL_TYPE (MelCorpusStore, mel_corpus_store, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_LOADING,
  PROP_FRACTION,
  PROP_NAME,
  N_PROPS
};

enum
{
  SIGNAL_LOADED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* What the worker hands back: the corpus and its items, built off the main thread. */
typedef struct
{
  MelCorpus *corpus;
  GPtrArray *items; /* MelSongItem* */
} LoadResult;

static void
load_result_free (LoadResult *result)
{
  g_clear_pointer (&result->corpus, mel_corpus_unref);
  g_clear_pointer (&result->items, g_ptr_array_unref);
  g_free (result);
}

/* A progress report on its way from the worker to the main thread. */
typedef struct
{
  GWeakRef store;
  GCancellable *cancellable;
  double fraction;
} Progress;

static void
progress_free (Progress *progress)
{
  g_weak_ref_clear (&progress->store);
  g_clear_object (&progress->cancellable);
  g_free (progress);
}

static gboolean
progress_apply (gpointer data)
{
  Progress *progress = data;
  g_autoptr(MelCorpusStore) self = g_weak_ref_get (&progress->store);

  /* A report of a cancelled or superseded load is stale: drop it. */
  if (self != NULL && self->cancellable == progress->cancellable)
    {
      self->fraction = progress->fraction;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
    }
  return G_SOURCE_REMOVE;
}

typedef struct
{
  GWeakRef store;
  GCancellable *cancellable;
  gint64 last_report; /* monotonic µs; touched only by the reporting thread */
  GMutex lock;
} LoadState;

static void
load_state_free (LoadState *state)
{
  g_weak_ref_clear (&state->store);
  g_clear_object (&state->cancellable);
  g_mutex_clear (&state->lock);
  g_free (state);
}

/* Called from any loader thread. */
static void
load_progress_cb (guint done, guint total, gpointer user_data)
{
  LoadState *state = user_data;
  gint64 now = g_get_monotonic_time ();
  Progress *progress;
  GObject *store;

  g_mutex_lock (&state->lock);
  /* At most ~30 reports a second; the main loop need not see every file. */
  if (now - state->last_report < G_USEC_PER_SEC / 30 && done < total)
    {
      g_mutex_unlock (&state->lock);
      return;
    }
  state->last_report = now;
  g_mutex_unlock (&state->lock);

  store = g_weak_ref_get (&state->store);
  if (store == NULL)
    return;
  progress = g_new0 (Progress, 1);
  g_weak_ref_init (&progress->store, store);
  g_object_unref (store);
  progress->cancellable = g_object_ref (state->cancellable);
  progress->fraction = total > 0 ? (double) done / total : 0.0;
  g_idle_add_full (G_PRIORITY_DEFAULT, progress_apply, progress, (GDestroyNotify) progress_free);
}

/* A MusicXML file holds one song, read by the MusicXML reader. */
static gboolean
is_musicxml_path (const char *path)
{
  g_autofree char *extension = mel_export_path_extension (path);

  return g_strcmp0 (extension, "musicxml") == 0 || g_strcmp0 (extension, "xml") == 0
         || g_strcmp0 (extension, "mxl") == 0;
}

static void
load_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  const char *path = task_data;
  LoadState *state;
  g_autoptr(MelCorpus) corpus = NULL;
  g_autoptr(GError) error = NULL;
  LoadResult *result;

  state = g_new0 (LoadState, 1);
  g_weak_ref_init (&state->store, source_object);
  state->cancellable = g_object_ref (cancellable);
  g_mutex_init (&state->lock);

  if (path == NULL)
    corpus = mel_corpus_load_embedded (&error);
  else if (is_musicxml_path (path))
    {
      g_autoptr(MelSong) song = mel_musicxml_read_file (path, &error);

      if (song != NULL)
        corpus = mel_corpus_new_for_song (path, song);
    }
  else
    corpus = mel_corpus_load (path, 0, load_progress_cb, state, cancellable, &error);
  load_state_free (state);

  if (corpus == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  result = g_new0 (LoadResult, 1);
  result->items = g_ptr_array_new_full (corpus->songs->len, g_object_unref);
  for (guint i = 0; i < corpus->songs->len; i++)
    g_ptr_array_add (result->items, mel_song_item_new (g_ptr_array_index (corpus->songs, i)));
  result->corpus = g_steal_pointer (&corpus);
  g_task_return_pointer (task, result, (GDestroyNotify) load_result_free);
}

static char *
name_for_path (const char *path)
{
  if (path == NULL)
    return g_strdup (_("Embedded songs"));
  return g_path_get_basename (path);
}

static void
load_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  MelCorpusStore *self = MEL_CORPUS_STORE (source);
  GTask *task = G_TASK (res);
  g_autoptr(GError) error = NULL;
  LoadResult *result;

  result = g_task_propagate_pointer (task, &error);
  /* Only the latest load may change the store. */
  if (g_task_get_cancellable (task) != self->cancellable)
    {
      g_clear_pointer (&result, load_result_free);
      return;
    }
  g_clear_object (&self->cancellable);

  if (result != NULL)
    {
      g_clear_pointer (&self->corpus, mel_corpus_unref);
      self->corpus = g_steal_pointer (&result->corpus);
      g_free (self->name);
      self->name = name_for_path (g_strcmp0 (self->corpus->root, "embedded") == 0
                                  ? NULL : self->corpus->root);
      g_list_store_splice (self->songs, 0, g_list_model_get_n_items (G_LIST_MODEL (self->songs)),
                           result->items->pdata, result->items->len);
      load_result_free (result);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
    }

  self->fraction = 1.0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
  g_signal_emit (self, signals[SIGNAL_LOADED], 0, error);
}

void
mel_corpus_store_load (MelCorpusStore *self, const char *path)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MEL_IS_CORPUS_STORE (self));

  mel_corpus_store_cancel (self);
  self->cancellable = g_cancellable_new ();
  self->fraction = 0.0;

  task = g_task_new (self, self->cancellable, load_done_cb, NULL);
  g_task_set_source_tag (task, mel_corpus_store_load);
  g_task_set_task_data (task, g_strdup (path), g_free);
  /* The loader reports cancellation itself, as an error. */
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, load_worker);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

void
mel_corpus_store_cancel (MelCorpusStore *self)
{
  g_return_if_fail (MEL_IS_CORPUS_STORE (self));

  if (self->cancellable == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

MelCorpus *
mel_corpus_store_get_corpus (MelCorpusStore *self)
{
  g_return_val_if_fail (MEL_IS_CORPUS_STORE (self), NULL);
  return self->corpus;
}

GListModel *
mel_corpus_store_get_songs (MelCorpusStore *self)
{
  g_return_val_if_fail (MEL_IS_CORPUS_STORE (self), NULL);
  return G_LIST_MODEL (self->songs);
}

gboolean
mel_corpus_store_get_loading (MelCorpusStore *self)
{
  g_return_val_if_fail (MEL_IS_CORPUS_STORE (self), FALSE);
  return self->cancellable != NULL;
}

double
mel_corpus_store_get_fraction (MelCorpusStore *self)
{
  g_return_val_if_fail (MEL_IS_CORPUS_STORE (self), 0.0);
  return self->fraction;
}

const char *
mel_corpus_store_get_name (MelCorpusStore *self)
{
  g_return_val_if_fail (MEL_IS_CORPUS_STORE (self), NULL);
  return self->name != NULL ? self->name : "";
}

gboolean
mel_corpus_store_is_embedded (MelCorpusStore *self)
{
  g_return_val_if_fail (MEL_IS_CORPUS_STORE (self), FALSE);
  return self->corpus != NULL && g_strcmp0 (self->corpus->root, "embedded") == 0;
}

GPtrArray *
mel_corpus_store_dup_unique_songs (MelCorpusStore *self)
{
  GPtrArray *songs;

  g_return_val_if_fail (MEL_IS_CORPUS_STORE (self), NULL);

  songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);
  if (self->corpus == NULL)
    return songs;
  for (guint i = 0; i < self->corpus->songs->len; i++)
    {
      gboolean duplicate = self->corpus->duplicate_of != NULL
                           && i < self->corpus->duplicate_of->len
                           && g_array_index (self->corpus->duplicate_of, gint32, i) >= 0;
      if (!duplicate)
        g_ptr_array_add (songs, mel_song_ref (g_ptr_array_index (self->corpus->songs, i)));
    }
  return songs;
}

static void
mel_corpus_store_dispose (GObject *object)
{
  MelCorpusStore *self = MEL_CORPUS_STORE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (mel_corpus_store_parent_class)->dispose (object);
}

static void
mel_corpus_store_finalize (GObject *object)
{
  MelCorpusStore *self = MEL_CORPUS_STORE (object);

  g_clear_pointer (&self->corpus, mel_corpus_unref);
  g_clear_object (&self->songs);
  g_free (self->name);
  G_OBJECT_CLASS (mel_corpus_store_parent_class)->finalize (object);
}

static void
mel_corpus_store_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MelCorpusStore *self = MEL_CORPUS_STORE (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, mel_corpus_store_get_loading (self));
      break;
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_NAME:
      g_value_set_string (value, mel_corpus_store_get_name (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_corpus_store_class_init (MelCorpusStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mel_corpus_store_dispose;
  object_class->finalize = mel_corpus_store_finalize;
  object_class->get_property = mel_corpus_store_get_property;

  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRACTION] = g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* MelCorpusStore::loaded (GError *error): a load ended; @error is NULL on success. */
  signals[SIGNAL_LOADED] = g_signal_new ("loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
mel_corpus_store_init (MelCorpusStore *self)
{
  self->songs = g_list_store_new (MEL_TYPE_SONG_ITEM);
}

MelCorpusStore *
mel_corpus_store_new (void)
{
  return g_object_new (MEL_TYPE_CORPUS_STORE, NULL);
}
