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

/* Called once per file with the number of files finished so far and the
 * total.  Calls come from the loading threads (the caller's or a worker),
 * one at a time, with @done increasing by one; a GUI hands them on to its
 * main thread (g_idle_add / g_main_context_invoke). */
typedef void (*MelCorpusProgress) (guint done, guint total, gpointer user_data);

/* Loads every *.krn file (case-insensitive suffix) below @path, recursively
 * (symbolic links to folders are not followed), or the single file @path,
 * using @n_threads threads in all (0 = g_get_num_processors ()), the
 * calling thread included; it returns when all are done.  @progress and
 * @cancellable may be NULL.
 * Bad files become rejections (path, line, the reader's message), never
 * errors; so does a sub-folder that cannot be opened.  Songs are sorted by
 * path and duplicate_of is filled (events compared by hash, then exactly).
 * Returns a new corpus the caller owns (mel_corpus_unref), or NULL with
 * @error set when @path does not exist or is a folder that cannot be
 * opened (G_FILE_ERROR), or when @cancellable is cancelled
 * (G_IO_ERROR_CANCELLED); an unreadable single file is a rejection. */
MelCorpus *mel_corpus_load (const char *path, guint n_threads, MelCorpusProgress progress,
                            gpointer user_data, GCancellable *cancellable, GError **error);

/* The embedded default corpus: public-domain German folk songs encoded by
 * the project, compiled into the library as a GResource: every .krn below
 * resource:///io/github/melodist/Melodist/corpus/.  Song paths are
 * "resource:///io/github/melodist/Melodist/corpus/<name>.krn" and root is
 * "embedded".  Returns a new corpus the caller owns, or NULL with a
 * G_RESOURCE_ERROR when the resource cannot be listed. */
MelCorpus *mel_corpus_load_embedded (GError **error);

/* A corpus of the single @song (the corpus takes a reference) read from
 * @root by another reader (MusicXML): n_files is 1, no rejections.
 * Returns a new corpus the caller owns. */
MelCorpus *mel_corpus_new_for_song (const char *root, MelSong *song);

/* Adds a reference; returns @corpus. */
MelCorpus *mel_corpus_ref (MelCorpus *corpus);
/* Drops a reference; the last one frees the songs it holds (songs the
 * caller has referenced with mel_song_ref stay alive). */
void mel_corpus_unref (MelCorpus *corpus);

/* Song whose id (!!!SCT) equals @id, else the first whose file basename
 * without .krn equals @id, or NULL.  The song belongs to @corpus (take a
 * mel_song_ref to keep it longer). */
MelSong *mel_corpus_find (const MelCorpus *corpus, const char *id);

/* Number of songs that are duplicates of an earlier one. */
guint mel_corpus_count_duplicates (const MelCorpus *corpus);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelCorpus, mel_corpus_unref)

G_END_DECLS
