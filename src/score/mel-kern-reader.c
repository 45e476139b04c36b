/* mel-kern-reader.c — the Humdrum **kern reader for monophonic melodies.
 *
 * One pass over the lines of the file, no copies of the input: every line
 * is classified (reference record, comment, interpretation, bar line, note)
 * and turned into song data at once.  Time is kept as an exact MelRational
 * and bounded (see MEL_KERN_MAX_*), so that no later arithmetic on the song
 * can overflow, whatever the input.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-kern.h"

#include <string.h>

G_DEFINE_QUARK (mel-kern-error-quark, mel_kern_error)

/* Limits that keep every MelRational small enough for 64-bit products. */
#define MEL_KERN_MAX_TIME_DEN (G_GINT64_CONSTANT (1) << 20)
#define MEL_KERN_MAX_QUARTERS (G_GINT64_CONSTANT (1) << 20)
#define MEL_KERN_MAX_NOTE_QUARTERS 256
#define MEL_KERN_MAX_DOTS 3
#define MEL_KERN_MAX_RECIP_DIGITS 9
#define MEL_KERN_MAX_BAR_NUMBER 9999999

typedef struct
{
  const char *display; /* file name used in messages */
  MelSong *song;
  guint line;           /* 1-based number of the line being read */
  guint error_line;     /* line of the first error, 0 when the file as a whole is bad */
  MelRational now;      /* onset of the next event */
  gboolean seen_kern;   /* the **kern exclusive interpretation was read */
  gboolean terminated;  /* the *- terminator was read */
  gboolean have_bar;    /* song->bars holds the bar being filled */
  guint bar_events;     /* events in the current bar */
  gboolean tie_open;    /* the previous note starts or continues a tie */
  int tie_midi;
  guint tie_line;
} KernReader;

/* Copies @token for an error message: control characters and bytes that are
 * not ASCII become \xNN, so the message stays readable and valid UTF-8. */
static char *
escape_token (const char *token, gsize length)
{
  const gsize max_shown = 48;
  GString *out = g_string_sized_new (MIN (length, max_shown) * 4 + 8);

  for (gsize i = 0; i < length && i < max_shown; i++)
    {
      guchar c = (guchar) token[i];
      if (c < 0x20 || c >= 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_c (out, (char) c);
    }
  if (length > max_shown)
    g_string_append (out, "…");
  return g_string_free (out, FALSE);
}

static gboolean G_GNUC_PRINTF (4, 5)
reader_fail (KernReader *r, GError **error, MelKernError code, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  r->error_line = r->line;
  if (r->line > 0)
    g_set_error (error, MEL_KERN_ERROR, code, "%s:%u: %s", r->display, r->line, what);
  else
    g_set_error (error, MEL_KERN_ERROR, code, "%s: %s", r->display, what);
  return FALSE;
}

/* Fails with "what 'token'", the token escaped. */
static gboolean
reader_fail_token (KernReader *r, GError **error, MelKernError code, const char *what,
                   const char *token, gsize length)
{
  g_autofree char *shown = escape_token (token, length);
  return reader_fail (r, error, code, "%s '%s'", what, shown);
}

/* ---- exact, bounded time -------------------------------------------------- */

static gint64
gcd64 (gint64 a, gint64 b)
{
  while (b != 0)
    {
      gint64 t = a % b;
      a = b;
      b = t;
    }
  return a < 0 ? -a : a;
}

/* a + b without overflow; FALSE when the sum leaves the bounds above. */
static gboolean
time_add (MelRational a, MelRational b, MelRational *sum)
{
  gint64 g = gcd64 (a.den, b.den);
  gint64 left, right, num, den;

  if (__builtin_mul_overflow (a.num, b.den / g, &left) ||
      __builtin_mul_overflow (b.num, a.den / g, &right) ||
      __builtin_add_overflow (left, right, &num) ||
      __builtin_mul_overflow (a.den / g, b.den, &den))
    return FALSE;
  *sum = mel_rational_new (num, den);
  return sum->den <= MEL_KERN_MAX_TIME_DEN && sum->num / sum->den < MEL_KERN_MAX_QUARTERS;
}

/* The duration of recip @rnum/@rden (in whole notes) with @dots dots, in
 * quarter notes: 4 / recip × (2 − 2^−dots).  FALSE when out of bounds. */
static gboolean
recip_to_quarters (gint64 rnum, gint64 rden, int dots, MelRational *quarters)
{
  gint64 num = 4 * rden * ((G_GINT64_CONSTANT (2) << dots) - 1);
  gint64 den = rnum << dots;
  MelRational d;

  if (rnum <= 0 || rden <= 0)
    return FALSE;
  d = mel_rational_new (num, den);
  if (d.den > MEL_KERN_MAX_TIME_DEN || d.num > MEL_KERN_MAX_NOTE_QUARTERS * d.den)
    return FALSE;
  *quarters = d;
  return TRUE;
}

static gboolean
is_power_of_two (gint64 x)
{
  return x > 0 && (x & (x - 1)) == 0;
}

/* TRUE when @d is a binary note value: a power-of-two recip (or breve,
 * longa, maxima) with up to MEL_KERN_MAX_DOTS dots. */
static gboolean
is_binary_note_value (MelRational d)
{
  for (int dots = 0; dots <= MEL_KERN_MAX_DOTS; dots++)
    {
      /* base = d × 2^dots / (2^(dots+1) − 1); recip = 4 / base */
      MelRational dot_factor = mel_rational_new (G_GINT64_CONSTANT (1) << dots,
                                                 (G_GINT64_CONSTANT (2) << dots) - 1);
      MelRational base = mel_rational_mul (d, dot_factor);
      MelRational recip = mel_rational_div (mel_rational_new (4, 1), base);
      if ((recip.den == 1 && is_power_of_two (recip.num)) ||
          (recip.num == 1 && is_power_of_two (recip.den) && recip.den <= 8))
        return TRUE;
    }
  return FALSE;
}

/* ---- text helpers ------------------------------------------------------------ */

/* Reference values in the corpus are sometimes DOS code page 850 (or 437,
 * identical for the letters used) instead of UTF-8. */
static char *
text_to_utf8 (const char *text, gsize length)
{
  char *converted;

  if (g_utf8_validate_len (text, length, NULL))
    return g_strndup (text, length);
  converted = g_convert (text, (gssize) length, "UTF-8", "CP850", NULL, NULL, NULL);
  if (converted != NULL)
    return converted;
  return g_utf8_make_valid (text, (gssize) length);
}

static gboolean
has_prefix (const char *token, gsize length, const char *prefix)
{
  gsize n = strlen (prefix);
  return length >= n && memcmp (token, prefix, n) == 0;
}

static gboolean
token_is (const char *token, gsize length, const char *word)
{
  return length == strlen (word) && memcmp (token, word, length) == 0;
}

/* Reads up to MEL_KERN_MAX_RECIP_DIGITS decimal digits at *@p (< @end). */
static gboolean
read_number (const char **p, const char *end, gint64 *value, int *n_digits)
{
  gint64 v = 0;
  int n = 0;

  while (*p < end && g_ascii_isdigit (**p))
    {
      if (n == MEL_KERN_MAX_RECIP_DIGITS)
        return FALSE;
      v = v * 10 + (**p - '0');
      n++;
      (*p)++;
    }
  *value = v;
  if (n_digits != NULL)
    *n_digits = n;
  return n > 0;
}

/* ---- reference records ------------------------------------------------------ */

/* "!!!KEY: value".  Lines without a key are ordinary global comments. */
static void
read_reference (KernReader *r, const char *line, gsize length)
{
  const char *key = line + 3;
  const char *end = line + length;
  const char *colon = memchr (key, ':', (gsize) (end - key));
  const char *value;
  g_autofree char *key_text = NULL;
  g_autofree char *value_text = NULL;

  if (colon == NULL)
    return;
  while (key < colon && g_ascii_isspace (*key))
    key++;
  if (key == colon)
    return;
  for (const char *p = key; p < colon; p++)
    if (g_ascii_isspace (*p))
      return; /* "!!! some remark: with a colon" is a comment */
  value = colon + 1;
  while (value < end && g_ascii_isspace (*value))
    value++;
  while (end > value && g_ascii_isspace (end[-1]))
    end--;

  key_text = text_to_utf8 (key, (gsize) (colon - key));
  value_text = text_to_utf8 (value, (gsize) (end - value));
  /* A repeated key (several composers, sources …) keeps every value. */
  const char *before = g_hash_table_lookup (r->song->references, key_text);
  if (before != NULL && *value_text == '\0')
    return;
  if (before != NULL && *before != '\0')
    {
      g_autofree char *joined = g_strconcat (before, "; ", value_text, NULL);
      mel_song_set_reference (r->song, key_text, joined);
    }
  else
    mel_song_set_reference (r->song, key_text, value_text);
}

/* ---- interpretations -------------------------------------------------------- */

/* The timed arrays hold one entry per onset: a second one at the same onset
 * replaces the first. */
static void
add_timed (GArray *array, gconstpointer element, gsize element_size)
{
  if (array->len > 0)
    {
      char *last = array->data + (array->len - 1) * element_size;
      if (mel_rational_equal (*(const MelRational *) last, *(const MelRational *) element))
        {
          memcpy (last, element, element_size);
          return;
        }
    }
  g_array_append_vals (array, element, 1);
}

/* "*M3/4", "*MX" (irregular); "*MFREI4/4" and "*M5/1%%%2+3%" from the corpus
 * read as 4/4 and 5/1: letters before the fraction and text after it are
 * ignored.  Tempo "*MM…" is ignored. */
static gboolean
read_meter (KernReader *r, const char *token, gsize length, GError **error)
{
  const char *p = token + 2;
  const char *end = token + length;
  gint64 num, den;
  MelMeter meter = { r->now, 0, 0, FALSE };

  if (token_is (token, length, "*MX"))
    {
      meter.irregular = TRUE;
      add_timed (r->song->meters, &meter, sizeof meter);
      return TRUE;
    }
  if (has_prefix (token, length, "*MM"))
    return TRUE;
  while (p < end && g_ascii_isalpha (*p))
    p++;
  if (p == end || !g_ascii_isdigit (*p))
    return TRUE; /* some other *M… interpretation */
  if (!read_number (&p, end, &num, NULL) || p == end || *p != '/')
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "bad meter", token, length);
  p++;
  if (!read_number (&p, end, &den, NULL) || num < 1 || num > 256 || den < 1 || den > 256)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "bad meter", token, length);
  meter.numerator = (int) num;
  meter.denominator = (int) den;
  add_timed (r->song->meters, &meter, sizeof meter);
  return TRUE;
}

/* One pitch name with its accidentals in a key signature or key: "f#", "b-", "en". */
static gboolean
read_step_alter (const char **p, const char *end, int *step, int *alter)
{
  int sharps = 0, flats = 0, naturals = 0;

  *step = mel_pitch_step_index (g_ascii_toupper (**p));
  if (*step < 0)
    return FALSE;
  (*p)++;
  for (; *p < end; (*p)++)
    {
      if (**p == '#')
        sharps++;
      else if (**p == '-')
        flats++;
      else if (**p == 'n')
        naturals++;
      else
        break;
    }
  if ((sharps > 0) + (flats > 0) + (naturals > 0) > 1 || sharps > 2 || flats > 2 || naturals > 1)
    return FALSE;
  *alter = sharps - flats;
  return TRUE;
}

/* "*k[f#c#]"; any other combination (the corpus has "*k[c-e-a-]") is kept
 * as MEL_KEY_SIGNATURE_NONSTANDARD with its alterations. */
static gboolean
read_key_signature (KernReader *r, const char *token, gsize length, GError **error)
{
  const char *p = token + 3;
  const char *end = token + length - 1;
  MelKeySignature sig = { r->now, MEL_KEY_SIGNATURE_NONSTANDARD, { 0 } };

  if (length < 4 || token[length - 1] != ']')
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "bad key signature", token,
                              length);
  while (p < end)
    {
      int step, alter;
      if (!g_ascii_islower (*p) || !read_step_alter (&p, end, &step, &alter))
        return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "bad key signature", token,
                                  length);
      sig.alters[step] = (gint8) alter;
    }
  for (int fifths = -7; fifths <= 7; fifths++)
    {
      MelKeySignature standard;
      mel_key_signature_init_fifths (&standard, fifths);
      if (memcmp (standard.alters, sig.alters, sizeof sig.alters) == 0)
        {
          sig.fifths = fifths;
          break;
        }
    }
  add_timed (r->song->key_signatures, &sig, sizeof sig);
  return TRUE;
}

/* "*G:" (major), "*g:" (minor), "*B-:", "*f#:"; a mode after the colon
 * ("*d:dor") is ignored.  Returns FALSE when @token is no key at all. */
static gboolean
read_key (KernReader *r, const char *token, gsize length)
{
  const char *p = token + 1;
  const char *end = token + length;
  int step, alter;
  MelKey key = { r->now, 0, 0, MEL_MODE_UNKNOWN };

  if (length < 3 || !g_ascii_isalpha (*p))
    return FALSE;
  key.mode = g_ascii_isupper (*p) ? MEL_MODE_MAJOR : MEL_MODE_MINOR;
  if (!read_step_alter (&p, end, &step, &alter) || p == end || *p != ':')
    return FALSE;
  key.tonic_step = "CDEFGAB"[step];
  key.tonic_alter = (gint8) alter;
  add_timed (r->song->keys, &key, sizeof key);
  return TRUE;
}

static gboolean
read_interpretation (KernReader *r, const char *token, gsize length, GError **error)
{
  if (token_is (token, length, "*-"))
    {
      r->terminated = TRUE;
      return TRUE;
    }
  if (has_prefix (token, length, "**"))
    return reader_fail_token (r, error, MEL_KERN_ERROR_UNSUPPORTED,
                              "a second exclusive interpretation is not supported", token, length);
  if (token_is (token, length, "*^") || token_is (token, length, "*v") ||
      token_is (token, length, "*+") || token_is (token, length, "*x"))
    return reader_fail_token (r, error, MEL_KERN_ERROR_UNSUPPORTED,
                              "spine manipulators are not supported (monophonic melodies only)",
                              token, length);
  if (has_prefix (token, length, "*M"))
    return read_meter (r, token, length, error);
  if (has_prefix (token, length, "*k["))
    return read_key_signature (r, token, length, error);
  /* Keys; every other tandem interpretation (*ICvox, *Ivox, *clefG2, *>A …)
   * says nothing about the melody and is skipped. */
  read_key (r, token, length);
  return TRUE;
}

/* ---- bars --------------------------------------------------------------------- */

static MelBar *
current_bar (KernReader *r)
{
  return &g_array_index (r->song->bars, MelBar, r->song->bars->len - 1);
}

static void
close_bar (KernReader *r)
{
  if (r->have_bar)
    {
      MelBar *bar = current_bar (r);
      bar->duration = mel_rational_sub (r->now, bar->onset);
    }
}

static void
open_bar (KernReader *r, gint32 number, guint line)
{
  MelBar bar = { r->now, MEL_RATIONAL_ZERO, number, line };

  close_bar (r);
  mel_song_add_bar (r->song, &bar);
  r->have_bar = TRUE;
  r->bar_events = 0;
}

/* "=N", "==", "=" with the usual style marks (=N:|!, =||, =-); an
 * unnumbered bar line gets the previous number + 1. */
static gboolean
read_barline (KernReader *r, const char *token, gsize length, GError **error)
{
  const char *p = token + 1;
  const char *end = token + length;
  gint64 number = -1;

  if (p < end && g_ascii_isdigit (*p))
    {
      if (!read_number (&p, end, &number, NULL) || number > MEL_KERN_MAX_BAR_NUMBER)
        return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "bad bar number", token,
                                  length);
      if (p < end && g_ascii_islower (*p))
        p++; /* "=12a" */
    }
  for (; p < end; p++)
    if (strchr ("=|!:'`-.;", *p) == NULL)
      return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "bad bar line", token, length);
  if (number < 0)
    number = r->have_bar ? (gint64) current_bar (r)->number + 1 : 1;
  open_bar (r, (gint32) number, r->line);
  return TRUE;
}

/* ---- notes and rests ---------------------------------------------------------- */

typedef struct
{
  gboolean has_duration;
  MelRational duration;
  char letter; /* 0 when there is no pitch */
  int letter_count;
  int sharps, flats, naturals;
  gboolean rest;
  guint8 tie;
  guint8 flags;
} NoteToken;

/* The recip at *@p: "4", "4.", "0" (breve), "00", "12", "3%2" (rational)
 * or "1.5" (a decimal recip found in the corpus: 3%2, 8/3 quarters). */
static gboolean
read_duration (KernReader *r, const char **p, const char *end, NoteToken *note, const char *token,
               gsize length, GError **error)
{
  const char *start = *p;
  gint64 rnum, rden = 1;
  int n_digits, dots = 0;

  if (note->has_duration)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION, "two durations in note token",
                              token, length);
  if (!read_number (p, end, &rnum, &n_digits))
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION,
                              "duration with too many digits in note token", token, length);
  if (rnum == 0)
    {
      /* 0 = breve, 00 = longa, 000 = maxima: recip 1/2, 1/4, 1/8 */
      if (n_digits > 3)
        return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION,
                                  "bad duration in note token", token, length);
      rden = G_GINT64_CONSTANT (1) << n_digits;
      rnum = 1;
    }
  else if (*start == '0')
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION, "bad duration in note token",
                              token, length);
  else if (*p < end && **p == '%')
    {
      (*p)++;
      if (!read_number (p, end, &rden, NULL) || rden == 0)
        return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION,
                                  "bad rational duration in note token", token, length);
    }
  else if (*p + 1 < end && **p == '.' && g_ascii_isdigit ((*p)[1]))
    {
      gint64 fraction;
      int n_fraction;
      (*p)++;
      if (!read_number (p, end, &fraction, &n_fraction) || n_fraction > 3)
        return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION,
                                  "bad decimal duration in note token", token, length);
      for (int i = 0; i < n_fraction; i++)
        {
          rnum *= 10;
          rden *= 10;
        }
      rnum += fraction;
    }
  while (*p < end && **p == '.')
    {
      dots++;
      (*p)++;
    }
  if (dots > MEL_KERN_MAX_DOTS)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION, "too many dots in note token",
                              token, length);
  if (!recip_to_quarters (rnum, rden, dots, &note->duration))
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION,
                              "duration out of range in note token", token, length);
  /* A length without tuplet (a power-of-two denominator) that no plain or
   * dotted binary note has, like 16%5 or 6... (5/4 quarters), must be
   * written as tied notes: refusing it keeps write → read exact. */
  gboolean binary_recip = (rden == 1 && is_power_of_two (rnum)) ||
                          (rnum == 1 && is_power_of_two (rden) && rden <= 8);
  if (!binary_recip && is_power_of_two (note->duration.den) &&
      !is_binary_note_value (note->duration))
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION,
                              "duration is no single note value (write tied notes) in note token",
                              token, length);
  note->has_duration = TRUE;
  return TRUE;
}

static gboolean
scan_note_token (KernReader *r, const char *token, gsize length, NoteToken *note, GError **error)
{
  const char *p = token;
  const char *end = token + length;

  while (p < end)
    {
      char c = *p;

      if (g_ascii_isdigit (c))
        {
          if (!read_duration (r, &p, end, note, token, length, error))
            return FALSE;
          continue;
        }
      if (strchr ("abcdefgABCDEFG", c) != NULL)
        {
          if (note->letter != 0)
            return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN,
                                      "two pitches in note token", token, length);
          note->letter = c;
          while (p < end && *p == c)
            {
              note->letter_count++;
              p++;
            }
          continue;
        }
      switch (c)
        {
        case '#':
        case '-':
        case 'n':
          if (note->letter == 0)
            return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN,
                                      "accidental before the pitch in note token", token, length);
          note->sharps += c == '#';
          note->flats += c == '-';
          note->naturals += c == 'n';
          break;
        case 'r':
          note->rest = TRUE;
          break;
        case '{':
          note->flags |= MEL_EVENT_PHRASE_START;
          break;
        case '}':
          note->flags |= MEL_EVENT_PHRASE_END;
          break;
        case '[':
          note->tie |= MEL_TIE_START;
          break;
        case ']':
          note->tie |= MEL_TIE_STOP;
          break;
        case '_':
          note->tie |= MEL_TIE_START | MEL_TIE_STOP;
          break;
        /* Marks that change neither pitch nor time: editorial x/X (the
         * corpus has "4ffx#"), beams, slurs, fermata, articulations, elision. */
        case 'x': case 'X': case 'L': case 'J': case 'K': case 'k':
        case '(': case ')': case ';': case '\'': case '`': case '~': case '^': case '&':
          break;
        case 'q':
        case 'Q':
        case 'P':
        case 'p':
          return reader_fail_token (r, error, MEL_KERN_ERROR_UNSUPPORTED,
                                    "grace notes are not supported in note token", token, length);
        case '.':
          return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION,
                                    "dot without a duration in note token", token, length);
        default:
          {
            char what[64];
            g_autofree char *shown_char = escape_token (p, 1);
            g_snprintf (what, sizeof what, "unknown character '%s' in note token", shown_char);
            return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, what, token, length);
          }
        }
      p++;
    }
  return TRUE;
}

/* Fills @event's pitch from the scanned token; FALSE with an error when it
 * is no pitch MIDI can play. */
static gboolean
note_pitch (KernReader *r, const NoteToken *note, MelEvent *event, const char *token, gsize length,
            GError **error)
{
  int count = note->letter_count;
  int octave = g_ascii_islower (note->letter) ? 3 + count : 4 - count;

  if (note->sharps > 2 || note->flats > 2 || note->naturals > 1 ||
      (note->sharps > 0) + (note->flats > 0) + (note->naturals > 0) > 1)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "bad accidentals in note token",
                              token, length);
  if (count > 12)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN,
                              "pitch out of range in note token", token, length);
  event->pitch.step = g_ascii_toupper (note->letter);
  event->pitch.alter = (gint8) (note->sharps - note->flats);
  event->pitch.octave = (gint8) octave;
  int midi = mel_pitch_to_midi (event->pitch);
  if (midi < 0 || midi > 127)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN,
                              "pitch outside the MIDI range in note token", token, length);
  event->midi = (gint16) midi;
  return TRUE;
}

/* Ties must join notes of one pitch, one after the other. */
static gboolean
check_tie (KernReader *r, const MelEvent *event, const char *token, gsize length, GError **error)
{
  if (r->tie_open)
    {
      if (mel_event_is_rest (event) || !(event->tie & MEL_TIE_STOP) || event->midi != r->tie_midi)
        {
          g_autofree char *shown = escape_token (token, length);
          return reader_fail (r, error, MEL_KERN_ERROR_BAD_TOKEN,
                              "tie from line %u is not continued by '%s'", r->tie_line, shown);
        }
    }
  else if (event->tie & MEL_TIE_STOP)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "tie end without a tie start",
                              token, length);
  if (mel_event_is_rest (event) && event->tie != MEL_TIE_NONE)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "tied rest", token, length);
  r->tie_open = (event->tie & MEL_TIE_START) != 0;
  if (r->tie_open && !(event->tie & MEL_TIE_STOP))
    r->tie_line = r->line;
  r->tie_midi = event->midi;
  return TRUE;
}

static gboolean
read_note (KernReader *r, const char *token, gsize length, GError **error)
{
  NoteToken note = { 0 };
  MelEvent event = { 0 };

  if (memchr (token, ' ', length) != NULL)
    return reader_fail_token (r, error, MEL_KERN_ERROR_UNSUPPORTED,
                              "chords are not supported (monophonic melodies only)", token, length);
  if (!scan_note_token (r, token, length, &note, error))
    return FALSE;
  if (!note.rest && note.letter == 0)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_TOKEN, "no pitch or rest in note token",
                              token, length);
  if (!note.has_duration)
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION, "no duration in note token",
                              token, length);

  event.onset = r->now;
  event.duration = note.duration;
  event.tie = note.tie;
  event.flags = note.flags;
  event.line = r->line;
  if (note.rest)
    event.midi = -1; /* a pitch on a rest only places it on the staff */
  else if (!note_pitch (r, &note, &event, token, length, error))
    return FALSE;
  if (!check_tie (r, &event, token, length, error))
    return FALSE;
  if (!r->have_bar)
    open_bar (r, 0, 0); /* music before the first bar line: bar 0 */
  if (!time_add (r->now, note.duration, &r->now))
    return reader_fail_token (r, error, MEL_KERN_ERROR_BAD_DURATION,
                              "the song is too long or its durations too fine at note token", token,
                              length);
  event.bar = r->song->bars->len - 1;
  r->bar_events++;
  mel_song_add_event (r->song, &event);
  return TRUE;
}

/* ---- lines ----------------------------------------------------------------------- */

static gboolean
read_line (KernReader *r, const char *line, gsize length, GError **error)
{
  if (length > MEL_KERN_MAX_LINE_LENGTH)
    return reader_fail (r, error, MEL_KERN_ERROR_LINE_TOO_LONG, "line longer than %d bytes",
                        MEL_KERN_MAX_LINE_LENGTH);
  /* Trailing blanks are invisible and common; they are no extra spine. */
  while (length > 0 && line[length - 1] == ' ')
    length--;
  if (length == 0)
    return TRUE;
  if (has_prefix (line, length, "!!!"))
    {
      read_reference (r, line, length);
      return TRUE;
    }
  if (line[0] == '!')
    return TRUE; /* global "!!" or local "!" comment, e.g. "!*M3/4" */
  if (r->terminated)
    return reader_fail_token (r, error, MEL_KERN_ERROR_UNSUPPORTED,
                              "data after the *- terminator", line, length);
  if (memchr (line, '\t', length) != NULL)
    return reader_fail_token (r, error, MEL_KERN_ERROR_UNSUPPORTED,
                              "several spines are not supported (monophonic melodies only)", line,
                              length);
  if (!r->seen_kern)
    {
      if (token_is (line, length, "**kern"))
        {
          r->seen_kern = TRUE;
          return TRUE;
        }
      return reader_fail_token (r, error, MEL_KERN_ERROR_NOT_KERN, "expected **kern but found",
                                line, length);
    }
  if (line[0] == '*')
    return read_interpretation (r, line, length, error);
  if (line[0] == '=')
    return read_barline (r, line, length, error);
  if (token_is (line, length, "."))
    return TRUE; /* null token */
  return read_note (r, line, length, error);
}

static gboolean
check_binary (KernReader *r, const char *data, gsize length, GError **error)
{
  const char *nul = memchr (data, '\0', length);

  if (nul == NULL)
    return TRUE;
  r->line = 1;
  for (const char *p = data; p < nul; p++)
    r->line += *p == '\n';
  return reader_fail (r, error, MEL_KERN_ERROR_BINARY, "NUL byte: this is binary data, not kern");
}

static gboolean
is_blank (const char *data, gsize length)
{
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isspace (data[i]))
      return FALSE;
  return TRUE;
}

/* A partial bar before the first bar line (or a short bar written "=0") is
 * the pickup.  A full bar there is none; with an irregular or missing meter
 * the next bar decides. */
static void
find_pickup (MelSong *song)
{
  const MelBar *first, *second;
  const MelMeter *meter;
  MelRational full;

  song->pickup = MEL_RATIONAL_ZERO;
  if (song->bars->len < 2)
    return;
  first = &g_array_index (song->bars, MelBar, 0);
  second = &g_array_index (song->bars, MelBar, 1);
  if (first->number != 0 || mel_rational_is_zero (first->duration))
    return;
  meter = mel_song_get_meter_at (song, MEL_RATIONAL_ZERO);
  full = meter != NULL ? mel_meter_bar_length (meter) : MEL_RATIONAL_ZERO;
  if (mel_rational_is_zero (full))
    full = second->duration;
  if (mel_rational_compare (first->duration, full) < 0)
    song->pickup = first->duration;
}

static gboolean
finish (KernReader *r, GError **error)
{
  if (!r->seen_kern)
    return reader_fail (r, error, MEL_KERN_ERROR_NOT_KERN, "no **kern spine");
  if (!r->terminated)
    return reader_fail (r, error, MEL_KERN_ERROR_TRUNCATED,
                        "missing the *- terminator (truncated file?)");
  if (r->tie_open)
    {
      r->line = r->tie_line;
      return reader_fail (r, error, MEL_KERN_ERROR_TRUNCATED, "unfinished tie");
    }
  if (r->song->events->len == 0)
    return reader_fail (r, error, MEL_KERN_ERROR_EMPTY, "no notes or rests");

  close_bar (r);
  /* The final "==" (or any last bar line) opens an empty bar: drop it. */
  const MelBar *last = current_bar (r);
  if (r->bar_events == 0 && mel_rational_is_zero (last->duration) && last->line != 0)
    g_array_set_size (r->song->bars, r->song->bars->len - 1);
  find_pickup (r->song);
  return TRUE;
}

static char *
id_from_path (const char *path)
{
  g_autofree char *base = NULL;

  if (path == NULL)
    return g_strdup ("untitled");
  base = g_path_get_basename (path);
  if (g_str_has_suffix (base, ".krn") && strlen (base) > 4)
    base[strlen (base) - 4] = '\0';
  return g_steal_pointer (&base);
}

MelSong *
mel_kern_parse_full (const char *data, gsize length, const char *path, guint *error_line,
                     GError **error)
{
  g_autofree char *id = NULL;
  g_autofree char *display = NULL;
  g_autoptr (MelSong) song = NULL;
  KernReader r = { 0 };
  const char *p, *end;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (error_line != NULL)
    *error_line = 0;
  id = id_from_path (path);
  song = mel_song_new (id);
  song->path = g_strdup (path);
  /* File names need not be UTF-8; messages must be. */
  display = path != NULL ? g_filename_display_name (path) : g_strdup ("<input>");
  r.display = display;
  r.song = song;
  r.now = MEL_RATIONAL_ZERO;

  if (length == 0 || data == NULL || is_blank (data, length))
    {
      reader_fail (&r, error, MEL_KERN_ERROR_EMPTY, "empty file");
      return NULL;
    }
  if (!check_binary (&r, data, length, error))
    goto failed;

  p = data;
  end = data + length;
  if (length >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
    p += 3; /* UTF-8 byte order mark */
  while (p < end)
    {
      const char *eol = p;
      while (eol < end && *eol != '\n' && *eol != '\r')
        eol++;
      r.line++;
      if (!read_line (&r, p, (gsize) (eol - p), error))
        goto failed;
      /* LF, CR LF or a lone CR ends a line */
      if (eol < end && *eol == '\r' && eol + 1 < end && eol[1] == '\n')
        eol++;
      p = eol + 1;
    }
  if (!finish (&r, error))
    goto failed;
  return g_steal_pointer (&song);

failed:
  if (error_line != NULL)
    *error_line = r.error_line;
  return NULL;
}

MelSong *
mel_kern_parse (const char *data, gsize length, const char *path, GError **error)
{
  return mel_kern_parse_full (data, length, path, NULL, error);
}

MelSong *
mel_kern_read_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &data, &length, &local_error))
    {
      g_set_error (error, MEL_KERN_ERROR, MEL_KERN_ERROR_IO, "%s", local_error->message);
      return NULL;
    }
  return mel_kern_parse (data, length, path, error);
}
