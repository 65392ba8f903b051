/* bs-masking.c */
#include "bs-masking.h"

#include "bs-random.h"

static gboolean
maskable (const BsMasking *m, gint32 id, gint32 real)
{
  return real && id != m->cls_id && id != m->sep_id;
}

int
bs_mask_batch (const BsMasking *m, guint64 seed, int epoch, const gsize *rows, int b, int t, gint32 *ids,
               const gint32 *mask, gint32 *positions, gint32 *labels)
{
  int n = 0, first = -1;
  for (int i = 0; i < b; i++)
    {
      BsRandom rng;
      /* a stream per (seed, epoch, row), apart from the shuffling's */
      bs_random_init (&rng, seed ^ (0xD1B54A32D192ED03ull * ((guint64) epoch + 1)) ^ (0x8CB92BA72F3D8DD7ull * (rows[i] + 1)));
      for (int j = 0; j < t; j++)
        {
          int at = i * t + j;
          if (!maskable (m, ids[at], mask[at]))
            continue;
          if (first < 0)
            first = at;
          if (bs_random_uniform (&rng) >= m->probability)
            continue;
          positions[n] = at;
          labels[n] = ids[at];
          n++;
          double what = bs_random_uniform (&rng);
          if (what < 0.8)
            ids[at] = m->mask_id;
          else if (what < 0.9)
            ids[at] = (gint32) bs_random_below (&rng, (guint64) m->vocab_size);
        }
    }
  if (n == 0 && first >= 0)
    {
      /* a short batch that drew nothing still teaches something */
      positions[0] = first;
      labels[0] = ids[first];
      ids[first] = m->mask_id;
      n = 1;
    }
  return n;
}
