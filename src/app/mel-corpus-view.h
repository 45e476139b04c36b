/* mel-corpus-view.h — the Corpus view: song list with search, filters and
 * sorting; the selected song's score, metadata and playback; statistics.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "mel-corpus-store.h"
#include "mel-player.h"
#include "mel-song-item.h"

G_BEGIN_DECLS

#define MEL_TYPE_CORPUS_VIEW (mel_corpus_view_get_type ())
G_DECLARE_FINAL_TYPE (MelCorpusView, mel_corpus_view, MEL, CORPUS_VIEW, AdwBin)

/* Connects the view to the window's shared objects (all borrowed and
 * referenced; @settings may be NULL).  Call once. */
void mel_corpus_view_bind (MelCorpusView *self, MelCorpusStore *store, MelPlayer *player,
                           GSettings *settings);

void mel_corpus_view_focus_search (MelCorpusView *self);
void mel_corpus_view_show_statistics (MelCorpusView *self);

/* The list after search and filters (a GListModel of MelSongItem, owned by
 * the view) and the selected item (or NULL). */
GListModel *mel_corpus_view_get_visible_songs (MelCorpusView *self);
MelSongItem *mel_corpus_view_get_selected (MelCorpusView *self);
/* Selects row @position of the visible list. */
void mel_corpus_view_select (MelCorpusView *self, guint position);
/* Sets the search text (as typing it would). */
void mel_corpus_view_set_search_text (MelCorpusView *self, const char *text);

G_END_DECLS
