/* mel-kern.h — Humdrum **kern reader and writer for monophonic melodies.
 *
 * The reader accepts everything the ESAC corpus uses (see the project
 * README) and rejects anything else with a MEL_KERN_ERROR whose message
 * names the file, the line and the token: "deut1328.krn:44: unknown
 * character in note token '4.B\x08'".  It never aborts on bad input.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_KERN_ERROR (mel_kern_error_quark ())
GQuark mel_kern_error_quark (void);

typedef enum
{
  MEL_KERN_ERROR_EMPTY,        /* no data at all */
  MEL_KERN_ERROR_NOT_KERN,     /* no **kern spine */
  MEL_KERN_ERROR_BINARY,       /* NUL bytes or other non-text data */
  MEL_KERN_ERROR_LINE_TOO_LONG,
  MEL_KERN_ERROR_BAD_TOKEN,    /* a data or interpretation token we cannot read */
  MEL_KERN_ERROR_BAD_DURATION,
  MEL_KERN_ERROR_UNSUPPORTED,  /* valid kern we do not handle: several spines, chords */
  MEL_KERN_ERROR_TRUNCATED,    /* no *- terminator, an unfinished tie */
  MEL_KERN_ERROR_IO,
} MelKernError;

/* Parses one **kern melody from @data (@length bytes; need not be
 * NUL-terminated).  @path is used for the song's path/id and in error
 * messages and may be NULL.  Returns a new song or NULL with @error set. */
MelSong *mel_kern_parse (const char *data, gsize length, const char *path, GError **error);

/* Reads and parses the file at @path. */
MelSong *mel_kern_read_file (const char *path, GError **error);

/* Writes @song as **kern with its reference records, meter, key signature,
 * key, numbered bars, ties and phrases, such that mel_kern_parse() gives
 * back equal events.  Returns a newly allocated NUL-terminated string. */
char *mel_kern_write (const MelSong *song);

/* Writes the kern text to @path atomically. */
gboolean mel_kern_write_file (const MelSong *song, const char *path, GError **error);

G_END_DECLS
