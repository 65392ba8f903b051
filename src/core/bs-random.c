/* bs-random.c: xoshiro256** seeded through splitmix64. */
#include "bs-random.h"

#include <math.h>

static guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void
bs_random_init (BsRandom *rng, guint64 seed)
{
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&seed);
}

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

guint64
bs_random_next (BsRandom *rng)
{
  guint64 *s = rng->s;
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

double
bs_random_uniform (BsRandom *rng)
{
  return (double) (bs_random_next (rng) >> 11) * 0x1.0p-53;
}

guint64
bs_random_below (BsRandom *rng, guint64 n)
{
  /* rejection keeps it unbiased */
  guint64 limit = G_MAXUINT64 - G_MAXUINT64 % n;
  guint64 x;
  do
    x = bs_random_next (rng);
  while (x >= limit);
  return x % n;
}

double
bs_random_normal (BsRandom *rng)
{
  /* Box-Muller; the second value is dropped to keep the state simple */
  double u1 = 1.0 - bs_random_uniform (rng);
  double u2 = bs_random_uniform (rng);
  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}
