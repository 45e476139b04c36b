/* mel-rational.h — exact musical time as a reduced fraction of quarter notes.
 *
 * All onsets and durations in src/score are MelRational values measured in
 * quarter notes: a dotted eighth is 3/4, a triplet eighth (kern "12") is 1/3,
 * a breve (kern "0") is 8/1.  Values are always kept reduced with a positive
 * denominator, so two equal times compare equal field by field.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gint64 num;
  gint64 den; /* always > 0 */
} MelRational;

#define MEL_RATIONAL_ZERO ((MelRational) { 0, 1 })

/* Builds num/den in lowest terms.  @den must not be 0. */
MelRational mel_rational_new (gint64 num, gint64 den);
MelRational mel_rational_add (MelRational a, MelRational b);
MelRational mel_rational_sub (MelRational a, MelRational b);
MelRational mel_rational_mul (MelRational a, MelRational b);
/* @b must not be zero. */
MelRational mel_rational_div (MelRational a, MelRational b);
/* Returns <0, 0 or >0 like strcmp. */
int mel_rational_compare (MelRational a, MelRational b);
gboolean mel_rational_equal (MelRational a, MelRational b);
gboolean mel_rational_is_zero (MelRational a);
double mel_rational_to_double (MelRational a);
/* Largest integer <= a. */
gint64 mel_rational_floor (MelRational a);
/* TRUE when @a is an exact integer multiple of @unit (unit > 0). */
gboolean mel_rational_is_multiple_of (MelRational a, MelRational unit);
/* Formats as "3/4" or "2"; returns a newly allocated string. */
char *mel_rational_to_string (MelRational a);

G_END_DECLS
