/* bs-masking.h: which tokens a pretraining batch hides, as BERT chose them.
 *
 * Of the tokens that are not [CLS], [SEP] or padding, each is chosen with
 * the given probability (0.15); a chosen token becomes [MASK] 80% of the
 * time, a random token 10% and stays itself 10%; the model must predict
 * the original at every chosen position. The choice for a row depends only
 * on (seed, epoch, row): each epoch masks afresh (dynamic masking), and a
 * resumed run masks as the uninterrupted one did. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  double probability;
  int mask_id;
  int cls_id;
  int sep_id;
  int vocab_size; /* random replacements are drawn from [0, vocab_size) */
} BsMasking;

/* Masks ids (b × t, with mask 1 for tokens, 0 for padding) in place; rows
 * are the set's row numbers of the batch's rows. Writes the chosen flat
 * positions (increasing) and the original ids there, at most b × t; returns
 * how many (at least one when the batch has a maskable token). */
int bs_mask_batch (const BsMasking *masking,
                   guint64 seed,
                   int epoch,
                   const gsize *rows,
                   int b,
                   int t,
                   gint32 *ids,
                   const gint32 *mask,
                   gint32 *positions,
                   gint32 *labels);

G_END_DECLS
