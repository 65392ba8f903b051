/* bs-test-model.h: the tiny random BERT that tests classify and train
 * with, made at run time (no fixture weights needed). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Saves in dir a random BERT (2 layers, hidden 32, 2 heads, feed-forward
 * 64, max_positions tokens) over the bert-base-uncased vocabulary of
 * tests/fixtures, with labels (NULL: the config's default two), drawn from
 * seed; asserts that it worked. */
void bs_test_make_tiny_bert (const char *dir,
                             int max_positions,
                             const char *const *labels,
                             int n_labels,
                             guint64 seed);

G_END_DECLS
