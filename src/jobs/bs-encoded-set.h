/* bs-encoded-set.h: a split's texts as token ids, made once per job, and
 * the batches drawn from them. */
#pragma once

#include <gio/gio.h>

#include "bs-classifier.h"
#include "bs-tokenizer.h"

G_BEGIN_DECLS

typedef struct
{
  gsize n;
  guint max_length;
  gint32 *ids;      /* n × max_length, each row [CLS] ... [SEP] */
  guint *lengths;   /* n */
  gint32 *labels;   /* n; -1 unlabeled */
  int pad_id;
} BsEncodedSet;

/* Tokenizes texts (in parallel) cut to max_length. */
BsEncodedSet *bs_encoded_set_new (const BsTokenizer *tokenizer,
                                  const char *const *texts,
                                  const gint32 *labels,
                                  gsize n,
                                  guint max_length,
                                  BsTruncation truncation,
                                  GCancellable *cancellable,
                                  GError **error);
/* Texts for pretraining, packed so little is padding: their word pieces
 * run on with [SEP] between texts, cut into rows of [CLS] + max_length - 2
 * pieces + [SEP] (the last row may be shorter). Unlabeled. */
BsEncodedSet *bs_encoded_set_new_packed (const BsTokenizer *tokenizer,
                                         const char *const *texts,
                                         gsize n,
                                         guint max_length,
                                         GCancellable *cancellable,
                                         GError **error);
void bs_encoded_set_free (BsEncodedSet *set);

/* The example order of an epoch: a permutation of 0..n-1 that depends only
 * on (seed, epoch), so a resumed run draws the same batches. */
void bs_epoch_order (gsize n,
                     guint64 seed,
                     int epoch,
                     gsize *order);

/* Fills a batch of the examples at indices, padded to the longest of them:
 * ids and mask (b × T), labels (b); returns T. */
guint bs_encoded_set_fill_batch (const BsEncodedSet *set,
                                 const gsize *indices,
                                 int b,
                                 gint32 *ids,
                                 gint32 *mask,
                                 gint32 *labels);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsEncodedSet, bs_encoded_set_free)

G_END_DECLS
