/* mel-rational.c — exact quarter-note arithmetic.
 * SPDX-License-Identifier: MIT
 */
#include "mel-rational.h"

static gint64
gcd64 (gint64 a, gint64 b)
{
  if (a < 0)
    a = -a;
  if (b < 0)
    b = -b;
  while (b != 0)
    {
      gint64 t = a % b;
      a = b;
      b = t;
    }
  return a;
}

MelRational
mel_rational_new (gint64 num, gint64 den)
{
  g_return_val_if_fail (den != 0, MEL_RATIONAL_ZERO);

  if (den < 0)
    {
      num = -num;
      den = -den;
    }
  gint64 g = gcd64 (num, den);
  if (g > 1)
    {
      num /= g;
      den /= g;
    }
  if (num == 0)
    den = 1;
  return (MelRational) { num, den };
}

MelRational
mel_rational_add (MelRational a, MelRational b)
{
  /* Reduce by the gcd of the denominators first to keep numbers small. */
  gint64 g = gcd64 (a.den, b.den);
  return mel_rational_new (a.num * (b.den / g) + b.num * (a.den / g), (a.den / g) * b.den);
}

MelRational
mel_rational_sub (MelRational a, MelRational b)
{
  b.num = -b.num;
  return mel_rational_add (a, b);
}

MelRational
mel_rational_mul (MelRational a, MelRational b)
{
  gint64 g1 = gcd64 (a.num, b.den);
  gint64 g2 = gcd64 (b.num, a.den);
  if (g1 == 0)
    g1 = 1;
  if (g2 == 0)
    g2 = 1;
  return mel_rational_new ((a.num / g1) * (b.num / g2), (a.den / g2) * (b.den / g1));
}

MelRational
mel_rational_div (MelRational a, MelRational b)
{
  g_return_val_if_fail (b.num != 0, MEL_RATIONAL_ZERO);
  return mel_rational_mul (a, mel_rational_new (b.den, b.num));
}

int
mel_rational_compare (MelRational a, MelRational b)
{
  /* Denominators stay small (products of 2 and 3), so this cannot overflow
   * for musical values. */
  gint64 l = a.num * b.den;
  gint64 r = b.num * a.den;
  return (l > r) - (l < r);
}

gboolean
mel_rational_equal (MelRational a, MelRational b)
{
  return a.num == b.num && a.den == b.den;
}

gboolean
mel_rational_is_zero (MelRational a)
{
  return a.num == 0;
}

double
mel_rational_to_double (MelRational a)
{
  return (double) a.num / (double) a.den;
}

gint64
mel_rational_floor (MelRational a)
{
  gint64 q = a.num / a.den;
  if (a.num < 0 && q * a.den != a.num)
    q--;
  return q;
}

gboolean
mel_rational_is_multiple_of (MelRational a, MelRational unit)
{
  g_return_val_if_fail (unit.num > 0, FALSE);
  MelRational q = mel_rational_div (a, unit);
  return q.den == 1;
}

char *
mel_rational_to_string (MelRational a)
{
  if (a.den == 1)
    return g_strdup_printf ("%" G_GINT64_FORMAT, a.num);
  return g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, a.num, a.den);
}
