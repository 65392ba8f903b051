/* bs-parallel.h: a small process-wide pool for the element-wise work
 * between matrix products (LayerNorm, GELU, softmax, ...).
 *
 * One parallel loop runs at a time; a caller that finds the pool busy (a
 * second job, the prediction server, or a loop inside a loop) runs its loop
 * on its own thread instead of waiting, so callers never deadlock. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef void (*BsRangeFunc) (gsize begin,
                             gsize end,
                             gpointer user_data);

/* Calls func on disjoint ranges covering [0, n), each at least grain long
 * (but the last), possibly from several threads at once. */
void bs_parallel_for (gsize n,
                      gsize grain,
                      BsRangeFunc func,
                      gpointer user_data);

/* Threads used by bs_parallel_for, the caller included; defaults to the
 * number of processors. */
void bs_parallel_set_n_threads (int n_threads);
int bs_parallel_get_n_threads (void);

G_END_DECLS
