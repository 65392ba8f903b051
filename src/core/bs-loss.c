/* bs-loss.c: losses computed in double per row, where exactness is cheap;
 * the cross-entropy over a vocabulary sums in double exps computed in
 * float. */
#include "bs-loss.h"

#include <math.h>
#include <string.h>

#include "bs-math.h"
#include "bs-parallel.h"

/* log softmax of one row of x / temperature */
static void
log_softmax_row (double *out, const float *x, int n, double temperature)
{
  double max = -INFINITY;
  for (int j = 0; j < n; j++)
    max = MAX (max, x[j] / temperature);
  double sum = 0.0;
  for (int j = 0; j < n; j++)
    sum += exp (x[j] / temperature - max);
  double log_sum = log (sum) + max;
  for (int j = 0; j < n; j++)
    out[j] = x[j] / temperature - log_sum;
}

void
bs_softmax (float *probs, const float *logits, int batch, int n_labels, double temperature)
{
  g_autofree double *lp = g_new (double, n_labels);
  for (int i = 0; i < batch; i++)
    {
      log_softmax_row (lp, logits + (gsize) i * n_labels, n_labels, temperature);
      for (int j = 0; j < n_labels; j++)
        probs[(gsize) i * n_labels + j] = (float) exp (lp[j]);
    }
}

int
bs_argmax (const float *values, int n)
{
  int best = 0;
  for (int j = 1; j < n; j++)
    if (values[j] > values[best])
      best = j;
  return best;
}

typedef struct
{
  float *dlogits;
  const float *logits;
  const gint32 *labels;
  int n_labels;
  int counted;
  double *row_loss;
} CrossEntropy;

/* A classifier's few labels: exps in double, the loss exact. */
#define FEW_LABELS 64

/* Rows [begin, end). A masked-word batch has a thousand rows of 30,522
 * logits: their exps are bs_expf's (vectorised, a few ulp), kept in dlogits
 * until the row's sum (in double) is known, and the rows go to several
 * threads; each row's loss has its own slot, summed in order afterwards, so
 * the total does not depend on the threads. */
BS_HOT static void
cross_entropy_rows (gsize begin, gsize end, gpointer data)
{
  const CrossEntropy *ce = data;
  int n = ce->n_labels;
  g_autofree float *scratch = ce->dlogits == NULL ? g_new (float, n) : NULL;
  for (gsize i = begin; i < end; i++)
    {
      const float *x = ce->logits + i * n;
      float *e = ce->dlogits != NULL ? ce->dlogits + i * n : scratch;
      int label = ce->labels[i];
      ce->row_loss[i] = 0.0;
      if (label < 0)
        {
          if (ce->dlogits != NULL)
            memset (e, 0, sizeof (float) * n);
          continue;
        }
      float x_label = x[label]; /* before e overwrites it, when dlogits is logits */
      float max = -INFINITY;
      for (int j = 0; j < n; j++)
        max = x[j] > max ? x[j] : max;
      double sum = 0.0;
      if (n <= FEW_LABELS)
        for (int j = 0; j < n; j++)
          {
            double exp_j = exp ((double) x[j] - max);
            e[j] = (float) exp_j;
            sum += exp_j;
          }
      else
        {
          for (int j = 0; j < n; j++)
            e[j] = bs_expf (x[j] - max);
          double acc[8] = { 0 };
          int j = 0;
          for (; j + 8 <= n; j += 8)
            for (int k = 0; k < 8; k++)
              acc[k] += e[j + k];
          for (; j < n; j++)
            acc[j & 7] += e[j];
          sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        }
      ce->row_loss[i] = log (sum) + max - x_label;
      if (ce->dlogits == NULL)
        continue;
      /* the label's p - 1 as minus the other words' share, which keeps its
       * digits when p is close to 1 */
      double exp_label = n <= FEW_LABELS ? exp ((double) x_label - max) : e[label];
      float scale = (float) (1.0 / (sum * ce->counted));
      for (int k = 0; k < n; k++)
        e[k] *= scale;
      e[label] = (float) (-(sum - exp_label) / (sum * ce->counted));
    }
}

double
bs_cross_entropy (float *dlogits, const float *logits, const gint32 *labels, int batch, int n_labels)
{
  int counted = 0;
  for (int i = 0; i < batch; i++)
    counted += labels[i] >= 0;
  g_autofree double *row_loss = g_new (double, MAX (batch, 1));
  CrossEntropy ce = { dlogits, logits, labels, n_labels, MAX (counted, 1), row_loss };
  /* a few hundred thousand logits a thread: a classifier's batch stays on one */
  bs_parallel_for ((gsize) batch, MAX (1, 262144 / MAX (n_labels, 1)), cross_entropy_rows, &ce);
  double loss = 0.0;
  for (int i = 0; i < batch; i++)
    loss += row_loss[i];
  return counted > 0 ? loss / counted : 0.0;
}

BsDistillLoss
bs_distillation_loss (float *dlogits, const float *student, const float *teacher, const gint32 *labels, int batch,
                      int n_labels, double temperature, double alpha)
{
  BsDistillLoss out = { 0 };
  out.ce = bs_cross_entropy (dlogits, student, labels, batch, n_labels);
  g_autofree double *ls = g_new (double, n_labels);
  g_autofree double *lt = g_new (double, n_labels);
  double kl = 0.0;
  for (int i = 0; i < batch; i++)
    {
      log_softmax_row (ls, student + (gsize) i * n_labels, n_labels, temperature);
      log_softmax_row (lt, teacher + (gsize) i * n_labels, n_labels, temperature);
      for (int j = 0; j < n_labels; j++)
        {
          double pt = exp (lt[j]);
          kl += pt * (lt[j] - ls[j]);
          if (dlogits != NULL)
            {
              /* d/ds of alpha T^2 KL / B = alpha T (p_s - p_t) / B */
              double grad = alpha * temperature * (exp (ls[j]) - pt) / batch;
              float *d = dlogits + (gsize) i * n_labels + j;
              *d = (float) ((1.0 - alpha) * *d + grad);
            }
        }
    }
  out.kl = kl / batch;
  out.loss = alpha * out.kl * temperature * temperature + (1.0 - alpha) * out.ce;
  return out;
}
