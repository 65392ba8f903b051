/* bs-encoded-set.c */
#include "bs-encoded-set.h"

#include <string.h>

#include "bs-job.h"
#include "bs-parallel.h"
#include "bs-random.h"

typedef struct
{
  const BsTokenizer *tokenizer;
  const char *const *texts;
  BsEncodedSet *set;
  BsTruncation truncation;
  GCancellable *cancellable;
} EncodeJob;

static void
encode_range (gsize begin, gsize end, gpointer data)
{
  EncodeJob *job = data;
  g_autoptr (BsEncoding) scratch = bs_encoding_new ();
  BsEncodedSet *set = job->set;
  for (gsize i = begin; i < end && !g_cancellable_is_cancelled (job->cancellable); i++)
    set->lengths[i] = bs_encode_truncated (job->tokenizer, scratch, job->texts[i], set->max_length, job->truncation,
                                           set->ids + i * set->max_length);
}

BsEncodedSet *
bs_encoded_set_new (const BsTokenizer *tokenizer, const char *const *texts, const gint32 *labels, gsize n,
                    guint max_length, BsTruncation truncation, GCancellable *cancellable, GError **error)
{
  g_autoptr (BsEncodedSet) set = g_new0 (BsEncodedSet, 1);
  set->n = n;
  set->max_length = max_length;
  set->ids = g_new (gint32, MAX (n, 1) * max_length);
  set->lengths = g_new0 (guint, MAX (n, 1));
  set->labels = g_new (gint32, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    set->labels[i] = labels != NULL ? labels[i] : -1;
  set->pad_id = MAX (bs_tokenizer_get_pad_id (tokenizer), 0);
  EncodeJob job = { tokenizer, texts, set, truncation, cancellable };
  bs_parallel_for (n, 64, encode_range, &job);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return g_steal_pointer (&set);
}

void
bs_encoded_set_free (BsEncodedSet *set)
{
  if (set == NULL)
    return;
  g_free (set->ids);
  g_free (set->lengths);
  g_free (set->labels);
  g_free (set);
}

void
bs_epoch_order (gsize n, guint64 seed, int epoch, gsize *order)
{
  BsRandom rng;
  bs_random_init (&rng, seed ^ (0x9E3779B97F4A7C15ull * (guint64) (epoch + 1)));
  for (gsize i = 0; i < n; i++)
    order[i] = i;
  for (gsize i = n; i > 1; i--)
    {
      gsize j = (gsize) bs_random_below (&rng, i);
      gsize tmp = order[i - 1];
      order[i - 1] = order[j];
      order[j] = tmp;
    }
}

guint
bs_encoded_set_fill_batch (const BsEncodedSet *set, const gsize *indices, int b, gint32 *ids, gint32 *mask,
                           gint32 *labels)
{
  guint t = 1;
  for (int i = 0; i < b; i++)
    t = MAX (t, set->lengths[indices[i]]);
  for (int i = 0; i < b; i++)
    {
      gsize k = indices[i];
      const gint32 *row = set->ids + k * set->max_length;
      for (guint j = 0; j < t; j++)
        {
          gboolean real = j < set->lengths[k];
          ids[(gsize) i * t + j] = real ? row[j] : set->pad_id;
          mask[(gsize) i * t + j] = real;
        }
      if (labels != NULL)
        labels[i] = set->labels[k];
    }
  return t;
}
