/* mel-export.h — what the exporters (MIDI, MusicXML, ABC, audio) share:
 * the error domain and the atomic file writer.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_EXPORT_ERROR (mel_export_error_quark ())
GQuark mel_export_error_quark (void);

typedef enum
{
  MEL_EXPORT_ERROR_IO,          /* the file could not be written */
  MEL_EXPORT_ERROR_UNSUPPORTED, /* the song holds something the format cannot express */
  MEL_EXPORT_ERROR_EMPTY,       /* the song has no events */
  MEL_EXPORT_ERROR_FORMAT,      /* unknown file extension or format */
} MelExportError;

/* Writes @length bytes of @data to @path atomically: into a temporary file
 * "path.XXXXXX" in the same folder, flushed to disk and then renamed over
 * @path, so readers see either the old file or the complete new one.  On
 * any failure the temporary file is removed and @error (MEL_EXPORT_ERROR_IO)
 * names the path and the reason.  When @path already exists and is not a
 * regular file (a device such as /dev/stdout or a FIFO) the data is written
 * to it directly, since a device cannot be replaced by renaming. */
gboolean mel_export_write_bytes (const char *path, const void *data, gsize length, GError **error);

/* The file name extension of @path in lower case without the dot ("mid",
 * "musicxml"), or an empty string.  Returns a newly allocated string. */
char *mel_export_path_extension (const char *path);

/* Quarter notes per minute that suit @song's opening meter when the user
 * names no tempo: 100 for x/4, 160 for x/2 (half note 80), 240 for x/1,
 * about 66 dotted quarters per minute for 6/8 and the like, 100 otherwise. */
double mel_export_default_tempo (const MelSong *song);

G_END_DECLS
