/* bs-loss.c: losses computed in double per row; batches and label counts
 * are small, exactness is cheap here. */
#include "bs-loss.h"

#include <math.h>

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

double
bs_cross_entropy (float *dlogits, const float *logits, const gint32 *labels, int batch, int n_labels)
{
  g_autofree double *lp = g_new (double, n_labels);
  int counted = 0;
  for (int i = 0; i < batch; i++)
    counted += labels[i] >= 0;
  double loss = 0.0;
  for (int i = 0; i < batch; i++)
    {
      const float *x = logits + (gsize) i * n_labels;
      float *d = dlogits != NULL ? dlogits + (gsize) i * n_labels : NULL;
      if (labels[i] < 0)
        {
          for (int j = 0; d != NULL && j < n_labels; j++)
            d[j] = 0.0f;
          continue;
        }
      log_softmax_row (lp, x, n_labels, 1.0);
      loss -= lp[labels[i]];
      for (int j = 0; d != NULL && j < n_labels; j++)
        d[j] = (float) ((exp (lp[j]) - (j == labels[i])) / counted);
    }
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
