/* Pretraining's data: packing texts into full rows keeps every word piece
 * in order, and masking chooses and replaces tokens as BERT does, afresh
 * each epoch but the same for a row whatever batch it lands in. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "bs-encoded-set.h"
#include "bs-masking.h"
#include "bs-tokenizer.h"

static BsTokenizer *
load_tokenizer (void)
{
  g_autofree char *vocab = g_test_build_filename (G_TEST_DIST, "fixtures", "tokenizer", "bert-base-uncased-vocab.txt",
                                                  NULL);
  g_autoptr (GError) error = NULL;
  BsTokenizer *tokenizer = bs_tokenizer_new_from_file (vocab, TRUE, &error);
  g_assert_no_error (error);
  return tokenizer;
}

static void
test_packing (void)
{
  g_autoptr (BsTokenizer) tok = load_tokenizer ();
  const char *const texts[] = { "A great movie.", "", "The worst film I have ever seen, and I have seen many films.",
                                "Unbelievably long-winded storytelling; nevertheless enjoyable!", "ok" };
  guint max_length = 8;
  g_autoptr (GError) error = NULL;
  g_autoptr (BsEncodedSet) set = bs_encoded_set_new_packed (tok, texts, G_N_ELEMENTS (texts), max_length, NULL,
                                                             &error);
  g_assert_no_error (error);

  /* what the rows must hold, end to end: pieces, [SEP] between texts */
  g_autoptr (GArray) expected = g_array_new (FALSE, FALSE, sizeof (gint32));
  int sep = bs_tokenizer_get_sep_id (tok), cls = bs_tokenizer_get_cls_id (tok);
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (BsEncoding) e = bs_tokenizer_encode (tok, texts[i], -1, 0, 0);
      g_array_append_vals (expected, e->ids + 1, e->n_tokens - 2);
      if (i + 1 < G_N_ELEMENTS (texts))
        g_array_append_val (expected, sep);
    }
  g_autoptr (GArray) got = g_array_new (FALSE, FALSE, sizeof (gint32));
  for (gsize r = 0; r < set->n; r++)
    {
      const gint32 *row = set->ids + r * set->max_length;
      guint len = set->lengths[r];
      g_assert_cmpint (row[0], ==, cls);
      g_assert_cmpint (row[len - 1], ==, sep);
      /* only the last row may be short */
      if (r + 1 < set->n)
        g_assert_cmpuint (len, ==, max_length);
      g_assert_cmpuint (len, <=, max_length);
      g_assert_cmpint (set->labels[r], ==, -1);
      g_array_append_vals (got, row + 1, len - 2);
    }
  g_assert_cmpuint (got->len, ==, expected->len);
  g_assert_cmpmem (got->data, got->len * sizeof (gint32), expected->data, expected->len * sizeof (gint32));
  g_assert_cmpuint (set->n, ==, (expected->len + max_length - 3) / (max_length - 2));

  /* nothing to pack */
  g_autoptr (BsEncodedSet) empty = bs_encoded_set_new_packed (tok, NULL, 0, max_length, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (empty->n, ==, 0);
}

enum { B = 64, T = 128, CLS = 101, SEP = 102, MASK = 103, VOCAB = 30522 };

static const BsMasking masking = { 0.15, MASK, CLS, SEP, VOCAB };

/* Rows [CLS] tokens… [SEP] with a [SEP] inside and padding at the end of
 * every other row. */
static void
make_batch (gint32 *ids, gint32 *mask, const gsize *rows)
{
  for (int i = 0; i < B; i++)
    {
      int len = rows[i] % 2 ? T - 20 : T;
      for (int j = 0; j < T; j++)
        {
          gint32 id = j == 0 ? CLS : j == len - 1 || j == T / 2 ? SEP : 1000 + (gint32) ((rows[i] * 7919 + j * 31) % 20000);
          ids[i * T + j] = j < len ? id : 0;
          mask[i * T + j] = j < len;
        }
    }
}

static void
test_masking (void)
{
  static gint32 ids[B * T], original[B * T], mask[B * T], positions[B * T], labels[B * T];
  gsize rows[B];
  for (int i = 0; i < B; i++)
    rows[i] = 1000 + i;
  make_batch (ids, mask, rows);
  memcpy (original, ids, sizeof ids);
  int n = bs_mask_batch (&masking, 42, 0, rows, B, T, ids, mask, positions, labels);

  int maskable = 0;
  for (int k = 0; k < B * T; k++)
    maskable += mask[k] && original[k] != CLS && original[k] != SEP;
  /* 15% of the maskable tokens, within five standard deviations */
  double expect = 0.15 * maskable, sd = sqrt (maskable * 0.15 * 0.85);
  g_assert_cmpfloat (fabs (n - expect), <, 5 * sd);

  int masked = 0, random = 0, kept = 0, j = 0;
  for (int k = 0; k < B * T; k++)
    {
      gboolean chosen = j < n && positions[j] == k;
      if (!chosen)
        {
          g_assert_cmpint (ids[k], ==, original[k]); /* untouched */
          continue;
        }
      g_assert_true (j == 0 || positions[j] > positions[j - 1]);
      g_assert_true (mask[k] && original[k] != CLS && original[k] != SEP);
      g_assert_cmpint (labels[j], ==, original[k]);
      g_assert_cmpint (ids[k], >=, 0);
      g_assert_cmpint (ids[k], <, VOCAB);
      if (ids[k] == MASK)
        masked++;
      else if (ids[k] == original[k])
        kept++;
      else
        random++;
      j++;
    }
  g_assert_cmpint (j, ==, n);
  /* 80/10/10, within five standard deviations (a random draw may land on
   * the original: rarely, 1 in 30522) */
  g_assert_cmpfloat (fabs (masked - 0.8 * n), <, 5 * sqrt (n * 0.8 * 0.2));
  g_assert_cmpfloat (fabs (random - 0.1 * n), <, 5 * sqrt (n * 0.1 * 0.9));
  g_assert_cmpfloat (fabs (kept - 0.1 * n), <, 5 * sqrt (n * 0.1 * 0.9));
}

/* The chosen positions of row i of a batch, as offsets within the row. */
static GArray *
row_choice (const gint32 *positions, int n, int i)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint32));
  for (int k = 0; k < n; k++)
    if (positions[k] / T == i)
      {
        gint32 offset = positions[k] % T;
        g_array_append_val (out, offset);
      }
  return out;
}

static void
test_masking_streams (void)
{
  static gint32 ids[B * T], mask[B * T], a[B * T], b[B * T], labels[B * T];
  gsize rows[B], reversed[B];
  for (int i = 0; i < B; i++)
    rows[i] = reversed[B - 1 - i] = (gsize) i * 3;

  make_batch (ids, mask, rows);
  int na = bs_mask_batch (&masking, 42, 0, rows, B, T, ids, mask, a, labels);
  g_autoptr (GArray) first_epoch0 = row_choice (a, na, 0);

  /* the same row later in another batch: the same choice */
  make_batch (ids, mask, reversed);
  int nb = bs_mask_batch (&masking, 42, 0, reversed, B, T, ids, mask, b, labels);
  g_assert_cmpint (na, ==, nb);
  g_autoptr (GArray) first_elsewhere = row_choice (b, nb, B - 1);
  g_assert_cmpmem (first_epoch0->data, first_epoch0->len * 4, first_elsewhere->data, first_elsewhere->len * 4);

  /* the next epoch chooses afresh, and so does another seed */
  make_batch (ids, mask, rows);
  int nc = bs_mask_batch (&masking, 42, 1, rows, B, T, ids, mask, b, labels);
  g_assert_false (nc == na && memcmp (a, b, na * sizeof (gint32)) == 0);
  make_batch (ids, mask, rows);
  int nd = bs_mask_batch (&masking, 43, 0, rows, B, T, ids, mask, b, labels);
  g_assert_false (nd == na && memcmp (a, b, na * sizeof (gint32)) == 0);
}

static void
test_masking_short_batch (void)
{
  /* [CLS] x [SEP]: a draw of nothing still masks one token */
  gint32 ids[3] = { CLS, 2000, SEP }, mask[3] = { 1, 1, 1 }, positions[3], labels[3];
  for (gsize row = 0; row < 50; row++)
    {
      ids[1] = 2000;
      g_assert_cmpint (bs_mask_batch (&masking, 7, 0, &row, 1, 3, ids, mask, positions, labels), ==, 1);
      g_assert_cmpint (positions[0], ==, 1);
      g_assert_cmpint (labels[0], ==, 2000);
    }
  /* only special tokens and padding: nothing to mask */
  gint32 only[4] = { CLS, SEP, 0, 0 }, only_mask[4] = { 1, 1, 0, 0 };
  gsize row = 0;
  g_assert_cmpint (bs_mask_batch (&masking, 7, 0, &row, 1, 4, only, only_mask, positions, labels), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/masking/packing", test_packing);
  g_test_add_func ("/masking/choice", test_masking);
  g_test_add_func ("/masking/streams", test_masking_streams);
  g_test_add_func ("/masking/short-batch", test_masking_short_batch);
  return g_test_run ();
}
