/* mel-corpus-store.h — the corpus the whole window works on, loaded in a worker.
 *
 * One MelCorpusStore per window.  It owns the loaded MelCorpus and exposes
 * its songs as a GListModel of MelSongItem.  Loading runs in a worker
 * thread; progress comes back through the main loop ("fraction"), and
 * "loaded" is emitted on the main thread when a load ends (with the error,
 * or NULL).  A new load cancels the one running.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-corpus.h"

G_BEGIN_DECLS

#define MEL_TYPE_CORPUS_STORE (mel_corpus_store_get_type ())
G_DECLARE_FINAL_TYPE (MelCorpusStore, mel_corpus_store, MEL, CORPUS_STORE, GObject)

MelCorpusStore *mel_corpus_store_new (void);

/* Starts loading @path (a folder of *.krn files or one file), or the
 * embedded corpus when @path is NULL.  Returns at once. */
void mel_corpus_store_load (MelCorpusStore *self, const char *path);
/* Cancels a running load (the current corpus stays). */
void mel_corpus_store_cancel (MelCorpusStore *self);

/* The current corpus or NULL before the first load ends (owned by the store). */
MelCorpus *mel_corpus_store_get_corpus (MelCorpusStore *self);
/* The songs as MelSongItem (owned by the store; never NULL). */
GListModel *mel_corpus_store_get_songs (MelCorpusStore *self);
gboolean mel_corpus_store_get_loading (MelCorpusStore *self);
/* Progress of the running load, 0…1. */
double mel_corpus_store_get_fraction (MelCorpusStore *self);
/* A short name for the corpus: the folder name, or "Embedded songs". */
const char *mel_corpus_store_get_name (MelCorpusStore *self);
/* TRUE when the current corpus is the embedded one. */
gboolean mel_corpus_store_is_embedded (MelCorpusStore *self);

/* Songs of the corpus that are not duplicates, as a new array of new
 * references (caller owns it).  Empty when nothing is loaded. */
GPtrArray *mel_corpus_store_dup_unique_songs (MelCorpusStore *self);

G_END_DECLS
