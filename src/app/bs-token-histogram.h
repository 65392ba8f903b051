/* bs-token-histogram.h: how long a dataset's texts are in tokens — bars of
 * a histogram, with a line at the max_length training reads up to and the
 * bars beyond it (the texts that get cut) drawn faded. */
#pragma once

#include <gtk/gtk.h>

#include "bs-dataset-stats.h"

G_BEGIN_DECLS

#define BS_TYPE_TOKEN_HISTOGRAM (bs_token_histogram_get_type ())
G_DECLARE_FINAL_TYPE (BsTokenHistogram, bs_token_histogram, BS, TOKEN_HISTOGRAM, GtkWidget)

GtkWidget *bs_token_histogram_new (void);

/* Takes stats (NULL: none, nothing drawn). */
void bs_token_histogram_set_stats (BsTokenHistogram *self,
                                   BsTokenStats *stats);
const BsTokenStats *bs_token_histogram_get_stats (BsTokenHistogram *self);

void bs_token_histogram_set_max_length (BsTokenHistogram *self,
                                        int max_length);
int bs_token_histogram_get_max_length (BsTokenHistogram *self);

/* The bars drawn now: their width in tokens, and n_bars counts (the last
 * also counts every longer text).  For tests. */
const gint64 *bs_token_histogram_get_bars (BsTokenHistogram *self,
                                           guint *n_bars,
                                           int *bar_width);

G_END_DECLS
