/* bs-dataset-stats.c: token lengths and label balance of a dataset. */
#include "config.h"

#include "bs-dataset-stats.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <string.h>

#include "bs-parallel.h"
#include "bs-store-private.h"

static gsize count_within (const BsTokenStats *stats, int max_length);

void
bs_token_stats_free (BsTokenStats *stats)
{
  if (stats == NULL)
    return;
  g_free (stats->split);
  g_free (stats->lengths);
  g_free (stats->sorted);
  g_free (stats->bins);
  g_free (stats);
}

char *
bs_dataset_tokenizer_key (const BsTokenizer *tokenizer)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) (bs_tokenizer_get_lower_case (tokenizer) ? "lower\n" : "cased\n"), 6);
  guint n = bs_tokenizer_get_vocab_size (tokenizer);
  for (guint i = 0; i < n; i++)
    {
      const char *token = bs_tokenizer_id_to_token (tokenizer, (int) i);
      g_checksum_update (sum, (const guchar *) token, (gssize) strlen (token) + 1); /* with its NUL */
    }
  return g_strdup (g_checksum_get_string (sum));
}

typedef struct
{
  const BsTokenizer *tokenizer;
  char **texts;
  gint32 *counts;
  GCancellable *cancellable;
} CountJob;

static void
count_range (gsize begin, gsize end, gpointer data)
{
  CountJob *job = data;
  g_autoptr (BsEncoding) enc = bs_encoding_new ();
  for (gsize i = begin; i < end; i++)
    {
      if ((i & 63) == 0 && g_cancellable_is_cancelled (job->cancellable))
        return;
      bs_tokenizer_encode_into (job->tokenizer, job->texts[i], -1, 0, 0, enc);
      job->counts[i] = (gint32) MIN (enc->n_tokens, (gsize) G_MAXINT32);
    }
}

static gint
compare_int32 (gconstpointer a, gconstpointer b)
{
  gint32 x = *(const gint32 *) a, y = *(const gint32 *) b;
  return x < y ? -1 : x > y;
}

/* Writes the new counts; the cache is only a cache, so the caller goes on if
 * this fails. */
static gboolean
store_counts (BsStore *store, gint64 dataset_id, const char *key, GArray *ids, const gint32 *counts, GError **error)
{
  if (!bs_store_write_begin (store, error))
    return FALSE;
  gboolean ok = TRUE;
  g_autoptr (sqlite3_stmt) get_key = bs_store_prepare (store, "SELECT tokens_key FROM datasets WHERE id = ?", error);
  g_autoptr (sqlite3_stmt) clear = bs_store_prepare (store,
    "UPDATE examples SET n_tokens = NULL WHERE dataset_id = ?", error);
  g_autoptr (sqlite3_stmt) set_key = bs_store_prepare (store, "UPDATE datasets SET tokens_key = ? WHERE id = ?", error);
  g_autoptr (sqlite3_stmt) set_count = bs_store_prepare (store, "UPDATE examples SET n_tokens = ? WHERE id = ?", error);
  ok = get_key != NULL && clear != NULL && set_key != NULL && set_count != NULL;
  if (ok)
    {
      /* counts of another vocabulary (maybe written meanwhile) go */
      sqlite3_bind_int64 (get_key, 1, dataset_id);
      int rc = sqlite3_step (get_key);
      const char *current = rc == SQLITE_ROW ? (const char *) sqlite3_column_text (get_key, 0) : NULL;
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        /* Translators: a dataset's id */
        ok = bs_store_sql_error (store, error, _("Could not read the token cache key of dataset %" PRId64), dataset_id);
      else if (g_strcmp0 (current, key) != 0)
        {
          sqlite3_bind_int64 (clear, 1, dataset_id);
          sqlite3_bind_text (set_key, 1, key, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (set_key, 2, dataset_id);
          ok = (sqlite3_step (clear) == SQLITE_DONE && sqlite3_step (set_key) == SQLITE_DONE)
               /* Translators: a dataset's id */
               || bs_store_sql_error (store, error, _("Could not reset the token counts of dataset %" PRId64),
                                      dataset_id);
        }
    }
  for (guint i = 0; ok && i < ids->len; i++)
    {
      sqlite3_bind_int (set_count, 1, counts[i]);
      sqlite3_bind_int64 (set_count, 2, g_array_index (ids, gint64, i));
      ok = sqlite3_step (set_count) == SQLITE_DONE
           /* Translators: an example's id */
           || bs_store_sql_error (store, error, _("Could not cache the token count of example %" PRId64),
                                  g_array_index (ids, gint64, i));
      sqlite3_reset (set_count);
    }
  return bs_store_write_end (store, ok, error);
}

BsTokenStats *
bs_dataset_token_stats (BsStore *store, gint64 dataset_id, const char *split, const BsTokenizer *tokenizer,
                        int max_length, guint max_bins, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (max_length > 0 && max_bins > 0, NULL);
  if (split != NULL && !bs_store_is_split (split))
    {
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID,
                   /* Translators: %s is what was given as a split; keep the split names as they are */
                   _("“%s” is not a split (train, validation, test or unlabeled)"), split);
      return NULL;
    }
  g_autofree char *key = bs_dataset_tokenizer_key (tokenizer);

  /* Read what is cached and the texts that are not. */
  g_autoptr (GArray) all_counts = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr (GArray) todo_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) todo_pos = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr (GPtrArray) todo_texts = g_ptr_array_new_with_free_func (g_free);
  {
    bs_store_lock (store);
    g_autoptr (BsDataset) d = bs_store_get_dataset (store, dataset_id, error);
    g_autoptr (sqlite3_stmt) st = NULL;
    if (d != NULL)
      st = bs_store_prepare (store, split != NULL
        ? "SELECT e.id, CASE WHEN d.tokens_key IS ?3 THEN e.n_tokens END, e.text "
          "FROM examples e JOIN datasets d ON d.id = e.dataset_id WHERE e.dataset_id = ?1 AND e.split = ?2 ORDER BY e.id"
        : "SELECT e.id, CASE WHEN d.tokens_key IS ?3 THEN e.n_tokens END, e.text "
          "FROM examples e JOIN datasets d ON d.id = e.dataset_id WHERE e.dataset_id = ?1 ORDER BY e.id", error);
    if (st == NULL)
      {
        bs_store_unlock (store);
        return NULL;
      }
    sqlite3_bind_int64 (st, 1, dataset_id);
    if (split != NULL)
      sqlite3_bind_text (st, 2, split, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 3, key, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW)
      {
        gint32 count = -1;
        if (sqlite3_column_type (st, 1) != SQLITE_NULL)
          count = sqlite3_column_int (st, 1);
        else
          {
            gint64 id = sqlite3_column_int64 (st, 0);
            gsize pos = all_counts->len;
            g_array_append_val (todo_ids, id);
            g_array_append_val (todo_pos, pos);
            g_ptr_array_add (todo_texts, g_strdup ((const char *) sqlite3_column_text (st, 2)));
          }
        g_array_append_val (all_counts, count);
      }
    if (rc != SQLITE_DONE)
      /* Translators: %s is a dataset's name */
      bs_store_sql_error (store, error, _("Could not read the texts of dataset “%s”"), d->name);
    bs_store_unlock (store);
    if (rc != SQLITE_DONE)
      return NULL;
  }

  /* Count the rest in parallel, then cache them. */
  gboolean from_cache = todo_ids->len == 0;
  if (todo_ids->len > 0)
    {
      g_autofree gint32 *counts = g_new0 (gint32, todo_ids->len);
      CountJob job = { tokenizer, (char **) todo_texts->pdata, counts, cancellable };
      bs_parallel_for (todo_ids->len, 64, count_range, &job);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      for (guint i = 0; i < todo_ids->len; i++)
        g_array_index (all_counts, gint32, g_array_index (todo_pos, gsize, i)) = counts[i];
      g_autoptr (GError) local = NULL;
      if (!store_counts (store, dataset_id, key, todo_ids, counts, &local))
        g_debug ("Token counts not cached: %s", local->message);
    }

  g_autoptr (BsTokenStats) stats = g_new0 (BsTokenStats, 1);
  stats->dataset_id = dataset_id;
  stats->split = g_strdup (split);
  stats->max_length = max_length;
  stats->from_cache = from_cache;
  stats->n_texts = all_counts->len;
  stats->lengths = (gint32 *) (void *) g_array_free (g_steal_pointer (&all_counts), FALSE);
  stats->sorted = g_memdup2 (stats->lengths, stats->n_texts * sizeof (gint32));
  qsort (stats->sorted, stats->n_texts, sizeof (gint32), compare_int32);
  if (stats->n_texts > 0)
    {
      double sum = 0;
      for (gsize i = 0; i < stats->n_texts; i++)
        sum += stats->lengths[i];
      stats->mean = sum / (double) stats->n_texts;
      stats->min = stats->sorted[0];
      stats->max = stats->sorted[stats->n_texts - 1];
      stats->p50 = bs_token_stats_percentile (stats, 50);
      stats->p90 = bs_token_stats_percentile (stats, 90);
      stats->p95 = bs_token_stats_percentile (stats, 95);
      stats->p99 = bs_token_stats_percentile (stats, 99);
    }
  stats->n_within = count_within (stats, max_length);
  stats->fraction_within = bs_token_stats_fraction_within (stats, max_length);

  /* power-of-two bins, so that 64, 128, 256, 512 fall on bin edges */
  gint64 span = (gint64) stats->max + 1;
  stats->bin_width = 1;
  while ((span + stats->bin_width - 1) / stats->bin_width > (gint64) max_bins)
    stats->bin_width *= 2;
  stats->n_bins = (guint) ((span + stats->bin_width - 1) / stats->bin_width);
  stats->bins = g_new0 (gint64, stats->n_bins);
  for (gsize i = 0; i < stats->n_texts; i++)
    stats->bins[stats->lengths[i] / stats->bin_width]++;
  return g_steal_pointer (&stats);
}

static gsize
count_within (const BsTokenStats *stats, int max_length)
{
  /* the index of the first sorted length above max_length */
  gsize lo = 0, hi = stats->n_texts;
  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      if (stats->sorted[mid] <= max_length)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

double
bs_token_stats_fraction_within (const BsTokenStats *stats, int max_length)
{
  return stats->n_texts > 0 ? (double) count_within (stats, max_length) / (double) stats->n_texts : 0;
}

gint32
bs_token_stats_percentile (const BsTokenStats *stats, double p)
{
  if (stats->n_texts == 0)
    return 0;
  double rank = p / 100.0 * (double) stats->n_texts;
  gsize r = (gsize) rank;
  if ((double) r < rank)
    r++; /* ceil */
  r = CLAMP (r, 1, stats->n_texts);
  return stats->sorted[r - 1];
}

static gint
compare_counts (gconstpointer a, gconstpointer b)
{
  const BsLabelCount *x = a, *y = b;
  if (x->split != y->split)
    {
      guint i = 0, j = 0;
      while (i < G_N_ELEMENTS (bs_store_splits) && bs_store_splits[i] != x->split)
        i++;
      while (j < G_N_ELEMENTS (bs_store_splits) && bs_store_splits[j] != y->split)
        j++;
      return i < j ? -1 : 1;
    }
  return x->label < y->label ? -1 : x->label > y->label;
}

GArray *
bs_dataset_label_counts (BsStore *store, gint64 dataset_id, GError **error)
{
  bs_store_lock (store);
  g_autoptr (BsDataset) d = bs_store_get_dataset (store, dataset_id, error);
  g_autoptr (sqlite3_stmt) st = d == NULL ? NULL : bs_store_prepare (store,
    "SELECT split, label, count(*) FROM examples WHERE dataset_id = ? GROUP BY split, label", error);
  g_autoptr (GArray) counts = g_array_new (FALSE, FALSE, sizeof (BsLabelCount));
  int rc = SQLITE_ERROR;
  if (st != NULL)
    {
      sqlite3_bind_int64 (st, 1, dataset_id);
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          const char *split = (const char *) sqlite3_column_text (st, 0);
          BsLabelCount c = { NULL, sqlite3_column_int (st, 1), sqlite3_column_int64 (st, 2) };
          for (guint i = 0; i < G_N_ELEMENTS (bs_store_splits); i++)
            if (g_strcmp0 (split, bs_store_splits[i]) == 0)
              c.split = bs_store_splits[i];
          g_array_append_val (counts, c);
        }
      if (rc != SQLITE_DONE)
        /* Translators: a dataset's id */
        bs_store_sql_error (store, error, _("Could not count the labels of dataset %" PRId64), dataset_id);
    }
  bs_store_unlock (store);
  if (rc != SQLITE_DONE)
    return NULL;
  g_array_sort (counts, compare_counts);
  return g_steal_pointer (&counts);
}
