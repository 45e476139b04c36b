/* mel-corpus.h — a folder of songs loaded in parallel, with a report.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-song.h"

G_BEGIN_DECLS

/* A file that could not be read, with the reader's message
 * ("path:line: what is wrong 'token'"). */
typedef struct
{
  char *path;
  guint line; /* 0 when the file as a whole is bad */
  char *message;
} MelCorpusRejection;

typedef struct _MelCorpus MelCorpus;

struct _MelCorpus
{
  /*< private >*/
  gatomicrefcount ref_count;
  /*< public, read-only >*/
  char *root;            /* folder or file it was loaded from; "embedded" for the default */
  GPtrArray *songs;      /* MelSong*, sorted by path */
  GPtrArray *rejections; /* MelCorpusRejection*, sorted by path */
  /* duplicate_of[i] is the index of the first song with exactly the same
   * events as song i, or -1 when song i is the first of its kind. */
  GArray *duplicate_of; /* gint32 */
  guint n_files;        /* files looked at (songs + rejections) */
};

typedef void (*MelCorpusProgress) (guint done, guint total, gpointer user_data);

/* Loads every *.krn file below @path (recursively), or the single file
 * @path, using up to @n_threads worker threads (0 = number of cores).
 * Bad files become rejections, never errors.  Returns NULL with an error
 * only when @path cannot be read at all or the load is cancelled.
 * @progress may be called from any thread. */
MelCorpus *mel_corpus_load (const char *path, guint n_threads, MelCorpusProgress progress,
                            gpointer user_data, GCancellable *cancellable, GError **error);

/* The embedded default corpus: public-domain German folk songs encoded by
 * the project, compiled into the library as a GResource. */
MelCorpus *mel_corpus_load_embedded (GError **error);

MelCorpus *mel_corpus_ref (MelCorpus *corpus);
void mel_corpus_unref (MelCorpus *corpus);

/* Song whose id or file basename (without .krn) equals @id, or NULL. */
MelSong *mel_corpus_find (const MelCorpus *corpus, const char *id);

/* Number of songs that are duplicates of an earlier one. */
guint mel_corpus_count_duplicates (const MelCorpus *corpus);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelCorpus, mel_corpus_unref)

G_END_DECLS
