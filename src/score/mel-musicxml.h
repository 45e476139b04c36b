/* mel-musicxml.h — MusicXML 4.0 (partwise) export, plain and compressed.
 *
 * The score has one part and one staff: title, key signature (standard or
 * not) with mode, time signatures and their changes, a pickup as measure 0
 * (implicit="yes"), notes and rests with types, dots and triplets, ties
 * (including notes split at barlines), beams grouped by the meter's beat
 * and accidentals as a reader expects them: printed when the note differs
 * from what the key signature and earlier notes of the bar imply.  An
 * irregular meter (kern *MX) gets hidden time signatures that match each
 * bar's length.  <divisions> is the smallest value that makes every
 * duration an integer.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-export.h"
#include "mel-song.h"

G_BEGIN_DECLS

/* The MusicXML document for @song as a NUL-terminated UTF-8 string (caller
 * frees), or NULL with MEL_EXPORT_ERROR (EMPTY, or UNSUPPORTED when a
 * duration cannot be written with plain, dotted or triplet values). */
char *mel_musicxml_write (const MelSong *song, GError **error);

/* The same document in a compressed .mxl container: a ZIP archive with
 * "mimetype", "META-INF/container.xml" and "score.musicxml" (deflated,
 * with CRC-32; fixed time stamps, so the bytes depend only on the song).
 * Returns the archive (caller owns) or NULL with @error set. */
GBytes *mel_musicxml_write_mxl (const MelSong *song, GError **error);

/* Writes @song to @path atomically: compressed when the name ends in .mxl,
 * else plain text (.musicxml, .xml). */
gboolean mel_musicxml_write_file (const MelSong *song, const char *path, GError **error);

/* Reads a monophonic partwise MusicXML document of @length bytes (need not
 * be NUL-terminated).  Only the first <part> is read; chords, <backup>
 * (several voices), timewise scores and compressed .mxl data are refused.
 * Grace and cue notes are skipped, <forward> becomes a rest.  @path (may be
 * NULL) names the source in messages and gives the song id when the
 * document carries none.  No network access, no external entities.
 * Returns a new song (caller owns) or NULL with @error set in
 * MEL_EXPORT_ERROR (FORMAT: malformed, EMPTY: no notes, UNSUPPORTED). */
MelSong *mel_musicxml_parse (const char *data, gsize length, const char *path, GError **error);

/* Reads the MusicXML file @path like mel_musicxml_parse().  Returns a new
 * song (caller owns) or NULL with @error set (also G_FILE_ERROR). */
MelSong *mel_musicxml_read_file (const char *path, GError **error);

G_END_DECLS
