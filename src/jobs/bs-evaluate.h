/* bs-evaluate.h: how good a classifier is on a labelled split. */
#pragma once

#include <gio/gio.h>

#include "bs-encoded-set.h"
#include "bs-job.h"
#include "bs-model.h"

G_BEGIN_DECLS

typedef struct
{
  int n_labels;
  gint64 n;            /* labelled examples evaluated */
  double accuracy;
  double loss;         /* mean cross-entropy */
  double ms_per_text;  /* in batches, as evaluation runs */
  double latency_ms;   /* one text at a time, median over a sample */
  double *precision;   /* n_labels each */
  double *recall;
  double *f1;
  gint64 *support;
  gint64 *confusion;   /* n_labels × n_labels, row = true label */
} BsEvalResult;

void bs_eval_result_clear (BsEvalResult *result);

/* Evaluates model on the labelled examples of set, in batches of
 * batch_size sorted by length. progress (may be NULL) gets phase `phase`. */
gboolean bs_evaluate (const BsModel *model,
                      const BsEncodedSet *set,
                      int batch_size,
                      const char *phase,
                      BsJobProgressFunc progress,
                      gpointer user_data,
                      GCancellable *cancellable,
                      BsEvalResult *result,
                      GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BsEvalResult, bs_eval_result_clear)

G_END_DECLS
