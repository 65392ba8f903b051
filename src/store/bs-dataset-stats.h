/* bs-dataset-stats.h: what a dataset looks like through a vocabulary —
 * token lengths (histogram, percentiles, the share that fits a max_length)
 * — and how its labels are balanced. */
#pragma once

#include <gio/gio.h>

#include "bs-store.h"
#include "bs-tokenizer.h"

G_BEGIN_DECLS

typedef struct
{
  gint64 dataset_id;
  char *split;          /* NULL: every split */
  gsize n_texts;
  /* tokens of each text with [CLS] and [SEP], untruncated, in example id order */
  gint32 *lengths;
  gint32 min, max;
  double mean;
  gint32 p50, p90, p95, p99; /* nearest-rank percentiles */
  int max_length;
  gsize n_within;       /* texts of at most max_length tokens (nothing truncated) */
  double fraction_within;
  /* bins[i] counts lengths in [i * bin_width, (i + 1) * bin_width) */
  guint n_bins;
  gint32 bin_width;     /* a power of two */
  gint64 *bins;
  gboolean from_cache;  /* every count came from examples.n_tokens */
  /*< private >*/
  gint32 *sorted;
} BsTokenStats;

void bs_token_stats_free (BsTokenStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsTokenStats, bs_token_stats_free)

/* Token counts of the texts of split (NULL: all) with tokenizer, counted on
 * the process's parallel pool (bs-parallel.h) and cached in
 * examples.n_tokens for this vocabulary, so asking again is a query.  The
 * histogram has at most max_bins bins (> 0).  max_length > 0. */
BsTokenStats *bs_dataset_token_stats (BsStore *store,
                                      gint64 dataset_id,
                                      const char *split,
                                      const BsTokenizer *tokenizer,
                                      int max_length,
                                      guint max_bins,
                                      GCancellable *cancellable,
                                      GError **error);

/* The share of texts that another max_length would keep whole. */
double bs_token_stats_fraction_within (const BsTokenStats *stats,
                                       int max_length);
/* The nearest-rank percentile p in (0, 100]. */
gint32 bs_token_stats_percentile (const BsTokenStats *stats,
                                  double p);

/* An identity of the tokenizer's vocabulary and casing (hex SHA-256): what
 * cached counts were made with. */
char *bs_dataset_tokenizer_key (const BsTokenizer *tokenizer);

typedef struct
{
  const char *split;  /* static */
  int label;          /* -1: unlabeled */
  gint64 count;
} BsLabelCount;

/* Examples per split and label, in split order (train, validation, test,
 * unlabeled) then label order: an array of BsLabelCount. */
GArray *bs_dataset_label_counts (BsStore *store,
                                 gint64 dataset_id,
                                 GError **error);

G_END_DECLS
