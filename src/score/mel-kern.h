/* mel-kern.h — Humdrum **kern reader and writer for monophonic melodies.
 *
 * The reader accepts everything the ESAC corpus uses (see the project
 * README) and rejects anything else with a MEL_KERN_ERROR whose message
 * names the file, the line and the token: "erk/deut1328.krn:44: unknown
 * character '\x08' in note token '4.B\x088G'" (control bytes escaped).
 * It never aborts on bad input.
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

/* Lines longer than this many bytes are refused (MEL_KERN_ERROR_LINE_TOO_LONG). */
#define MEL_KERN_MAX_LINE_LENGTH 4096

/* Parses one **kern melody from @data (@length bytes; need not be
 * NUL-terminated).  @path is used for the song's path/id and in error
 * messages and may be NULL.  The song's id is its !!!SCT record, else the
 * basename of @path without ".krn", else "untitled".  Returns a new song
 * the caller owns, or NULL with @error set (MEL_KERN_ERROR). */
MelSong *mel_kern_parse (const char *data, gsize length, const char *path, GError **error);

/* Like mel_kern_parse(); on failure also stores in @error_line (may be
 * NULL) the 1-based line the error is about, or 0 when it concerns the
 * input as a whole (empty, not kern at all).
 *
 * What is read (see docs/sections/kern-corpus.md for the whole list):
 * one **kern spine; reference records "!!!KEY: value" into
 * song->references (bytes that are not UTF-8 are read as DOS code page
 * 850, as in the ESAC files); *M meters (*MX irregular, letters before and
 * text after the fraction ignored, so "*MFREI4/4" is 4/4 and
 * "*M5/1%%%2+3%" 5/1); *k[…] key signatures; *X: keys; =N bar lines;
 * notes and rests with recips 0/00/000, integers, up to three dots,
 * rational "3%2" and decimal "1.5" recips (both 8/3 quarters), ties [ _ ],
 * phrases { }.  Editorial x/X, beams, slurs, fermatas and articulations
 * are ignored; grace notes, chords and several spines are
 * MEL_KERN_ERROR_UNSUPPORTED; any other character is
 * MEL_KERN_ERROR_BAD_TOKEN.  A tie must join consecutive notes of one
 * pitch.  A missing *- terminator or an unfinished tie is
 * MEL_KERN_ERROR_TRUNCATED. */
MelSong *mel_kern_parse_full (const char *data, gsize length, const char *path, guint *error_line,
                              GError **error);

/* Reads and parses the file at @path; MEL_KERN_ERROR_IO when it cannot
 * be read.  Returns a new song the caller owns, or NULL with @error set. */
MelSong *mel_kern_read_file (const char *path, GError **error);

/* Writes @song as **kern with its reference records, meter, key signature,
 * key, numbered bars, ties and phrases, such that mel_kern_parse() gives
 * back equal events, bars, meters, key signatures, keys and references.
 * Durations are written as one token when one exists: a power-of-two
 * recip with up to three dots (0 breve … 32, "4."), for tuplet lengths any
 * integer recip ("12") or else a rational recip ("3%2").  A length without
 * tuplet that no single note has (5/4 quarters) becomes tied notes ("[4",
 * "16]"); the reader refuses such lengths in one token.  Songs not read from
 * kern are written as well as they can be: pitches missing a spelling are
 * spelled from their MIDI number.  Returns a newly allocated
 * NUL-terminated string the caller frees. */
char *mel_kern_write (const MelSong *song);

/* Writes the kern text to @path atomically (a temporary file renamed
 * over @path); on failure @path is untouched and @error is set. */
gboolean mel_kern_write_file (const MelSong *song, const char *path, GError **error);

G_END_DECLS
