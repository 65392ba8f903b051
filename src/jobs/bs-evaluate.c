/* bs-evaluate.c: accuracy, per-class precision/recall/F1, the confusion
 * matrix, loss and latency. */
#include "config.h"

#include "bs-evaluate.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "bs-loss.h"

#define LATENCY_SAMPLE 16

void
bs_eval_result_clear (BsEvalResult *r)
{
  g_clear_pointer (&r->precision, g_free);
  g_clear_pointer (&r->recall, g_free);
  g_clear_pointer (&r->f1, g_free);
  g_clear_pointer (&r->support, g_free);
  g_clear_pointer (&r->confusion, g_free);
}

static int
compare_by_length (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const guint *lengths = user_data;
  guint x = lengths[*(const gsize *) a], y = lengths[*(const gsize *) b];
  return x < y ? -1 : x > y;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Median time of classifying one text alone, as a user of Classify waits. */
static gboolean
measure_latency (const BsModel *model, const BsEncodedSet *set, const gsize *labelled, gsize n, double *out,
                 GError **error)
{
  g_autoptr (BsWorkspace) ws = bs_workspace_new ();
  int n_labels = bs_model_get_config (model)->n_labels;
  g_autofree float *logits = g_new (float, n_labels);
  g_autofree gint32 *ids = g_new (gint32, set->max_length);
  g_autofree gint32 *mask = g_new (gint32, set->max_length);
  gsize samples = MIN (n, LATENCY_SAMPLE);
  double times[LATENCY_SAMPLE];
  for (gsize i = 0; i <= samples; i++)
    {
      /* spread over the lengths (labelled is sorted by length) */
      gsize k = labelled[(i % MAX (samples, 1)) * n / MAX (samples, 1)];
      guint t = bs_encoded_set_fill_batch (set, &k, 1, ids, mask, NULL);
      BsBatch batch = { 1, (int) t, ids, NULL, mask };
      gint64 start = g_get_monotonic_time ();
      if (!bs_model_infer (model, ws, &batch, logits, error))
        return FALSE;
      if (i > 0) /* the first allocates the workspace */
        times[i - 1] = (g_get_monotonic_time () - start) / 1e3;
    }
  qsort (times, samples, sizeof (double), compare_doubles);
  *out = samples > 0 ? times[samples / 2] : NAN;
  return TRUE;
}

gboolean
bs_evaluate (const BsModel *model, const BsEncodedSet *set, int batch_size, const char *phase,
             BsJobProgressFunc progress, gpointer user_data, GCancellable *cancellable, BsEvalResult *r,
             GError **error)
{
  int l = bs_model_get_config (model)->n_labels;
  memset (r, 0, sizeof *r);
  r->n_labels = l;
  r->precision = g_new0 (double, l);
  r->recall = g_new0 (double, l);
  r->f1 = g_new0 (double, l);
  r->support = g_new0 (gint64, l);
  r->confusion = g_new0 (gint64, (gsize) l * l);

  /* the labelled examples, shortest first: batches of alike lengths */
  g_autofree gsize *order = g_new (gsize, MAX (set->n, 1));
  gsize n = 0;
  for (gsize i = 0; i < set->n; i++)
    if (set->labels[i] >= 0)
      {
        if (set->labels[i] >= l)
          {
            g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID,
                         /* Translators: an example's index (from 0), its label's index, and the model's number of
                            labels */
                         g_dngettext (GETTEXT_PACKAGE, "Example %zu has label %d, but the model knows only %d label",
                                      "Example %zu has label %d, but the model knows only %d labels", (gulong) l),
                         i, set->labels[i], l);
            return FALSE;
          }
        order[n++] = i;
      }
  if (n == 0)
    {
      g_set_error_literal (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID,
                           _("There are no labelled examples to evaluate on"));
      return FALSE;
    }
  g_qsort_with_data (order, (gint) n, sizeof (gsize), compare_by_length, set->lengths);

  g_autoptr (BsWorkspace) ws = bs_workspace_new ();
  gsize cap = (gsize) batch_size * set->max_length;
  g_autofree gint32 *ids = g_new (gint32, cap);
  g_autofree gint32 *mask = g_new (gint32, cap);
  g_autofree gint32 *labels = g_new (gint32, batch_size);
  g_autofree float *logits = g_new (float, (gsize) batch_size * l);
  double loss_sum = 0.0;
  gint64 correct = 0;
  gint64 start = g_get_monotonic_time ();
  for (gsize begin = 0; begin < n; begin += batch_size)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      int b = (int) MIN ((gsize) batch_size, n - begin);
      guint t = bs_encoded_set_fill_batch (set, order + begin, b, ids, mask, labels);
      BsBatch batch = { b, (int) t, ids, NULL, mask };
      if (!bs_model_infer (model, ws, &batch, logits, error))
        return FALSE;
      loss_sum += bs_cross_entropy (NULL, logits, labels, b, l) * b;
      for (int i = 0; i < b; i++)
        {
          int predicted = bs_argmax (logits + (gsize) i * l, l);
          r->confusion[(gsize) labels[i] * l + predicted]++;
          correct += predicted == labels[i];
        }
      if (progress != NULL)
        {
          double elapsed = (g_get_monotonic_time () - start) / 1e6;
          gsize done = begin + b;
          BsJobProgress p = { phase, 0, 0, 0, 0, (gint64) done, (gint64) n, loss_sum / done, (double) correct / done,
                              NAN, done / MAX (elapsed, 1e-9), elapsed, elapsed / done * (n - done) };
          progress (&p, user_data);
        }
    }
  r->ms_per_text = (g_get_monotonic_time () - start) / 1e3 / n;
  r->n = (gint64) n;
  r->accuracy = (double) correct / n;
  r->loss = loss_sum / n;
  for (int c = 0; c < l; c++)
    {
      gint64 tp = r->confusion[(gsize) c * l + c], predicted = 0, actual = 0;
      for (int k = 0; k < l; k++)
        {
          predicted += r->confusion[(gsize) k * l + c];
          actual += r->confusion[(gsize) c * l + k];
        }
      r->support[c] = actual;
      r->precision[c] = predicted > 0 ? (double) tp / predicted : 0.0;
      r->recall[c] = actual > 0 ? (double) tp / actual : 0.0;
      double pr = r->precision[c] + r->recall[c];
      r->f1[c] = pr > 0 ? 2 * r->precision[c] * r->recall[c] / pr : 0.0;
    }
  return measure_latency (model, set, order, n, &r->latency_ms, error);
}
