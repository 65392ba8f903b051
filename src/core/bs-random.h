/* bs-random.h: a small seeded generator (xoshiro256**) for weight
 * initialisation, shuffling and masking: the same seed gives the same run. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 s[4];
} BsRandom;

void bs_random_init (BsRandom *rng, guint64 seed);
guint64 bs_random_next (BsRandom *rng);
/* uniform in [0, 1) */
double bs_random_uniform (BsRandom *rng);
/* uniform in [0, n) */
guint64 bs_random_below (BsRandom *rng, guint64 n);
/* standard normal */
double bs_random_normal (BsRandom *rng);

G_END_DECLS
