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

typedef struct
{
  const BsTokenizer *tokenizer;
  const char *const *texts;
  GArray **pieces; /* per text: its word pieces' ids */
  GCancellable *cancellable;
} PieceJob;

static void
pieces_range (gsize begin, gsize end, gpointer data)
{
  PieceJob *job = data;
  g_autoptr (BsEncoding) scratch = bs_encoding_new ();
  for (gsize i = begin; i < end && !g_cancellable_is_cancelled (job->cancellable); i++)
    {
      bs_tokenizer_encode_into (job->tokenizer, job->texts[i], -1, 0, 0, scratch);
      /* without the [CLS] and [SEP] the encoder adds */
      guint n = scratch->n_tokens >= 2 ? (guint) scratch->n_tokens - 2 : 0;
      job->pieces[i] = g_array_sized_new (FALSE, FALSE, sizeof (gint32), n);
      g_array_append_vals (job->pieces[i], scratch->ids + 1, n);
    }
}

BsEncodedSet *
bs_encoded_set_new_packed (const BsTokenizer *tokenizer, const char *const *texts, gsize n, guint max_length,
                           GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (max_length >= 3, NULL);
  g_autofree GArray **pieces = g_new0 (GArray *, MAX (n, 1));
  PieceJob job = { tokenizer, texts, pieces, cancellable };
  bs_parallel_for (n, 64, pieces_range, &job);
  gboolean cancelled = g_cancellable_set_error_if_cancelled (cancellable, error);

  /* the stream: text [SEP] text [SEP] ... without the last [SEP] */
  gsize total = 0;
  for (gsize i = 0; i < n && !cancelled; i++)
    total += pieces[i]->len + (i + 1 < n);
  g_autofree gint32 *stream = g_new (gint32, MAX (total, 1));
  gsize at = 0;
  int sep = bs_tokenizer_get_sep_id (tokenizer);
  for (gsize i = 0; i < n; i++)
    {
      if (pieces[i] == NULL)
        continue;
      if (!cancelled)
        {
          if (pieces[i]->len > 0) /* an empty text's array has no data */
            memcpy (stream + at, pieces[i]->data, pieces[i]->len * sizeof (gint32));
          at += pieces[i]->len;
          if (i + 1 < n)
            stream[at++] = sep;
        }
      g_array_unref (pieces[i]);
    }
  if (cancelled)
    return NULL;

  guint per_row = max_length - 2;
  gsize rows = (total + per_row - 1) / per_row;
  g_autoptr (BsEncodedSet) set = g_new0 (BsEncodedSet, 1);
  set->n = rows;
  set->max_length = max_length;
  set->ids = g_new (gint32, MAX (rows, 1) * max_length);
  set->lengths = g_new (guint, MAX (rows, 1));
  set->labels = g_new (gint32, MAX (rows, 1));
  set->pad_id = MAX (bs_tokenizer_get_pad_id (tokenizer), 0);
  for (gsize r = 0; r < rows; r++)
    {
      gint32 *row = set->ids + r * max_length;
      gsize begin = r * per_row;
      guint k = (guint) MIN ((gsize) per_row, total - begin);
      row[0] = bs_tokenizer_get_cls_id (tokenizer);
      memcpy (row + 1, stream + begin, k * sizeof (gint32));
      row[k + 1] = sep;
      set->lengths[r] = k + 2;
      set->labels[r] = -1;
    }
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
