/* bs-loss.h: classification losses with their gradients. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Mean cross-entropy of logits (B, L) against labels (B); a negative label
 * (e.g. -100) is ignored, as torch's ignore_index. dlogits (may be NULL, or logits itself)
 * receives d loss / d logits. Returns 0 when every label is ignored. */
double bs_cross_entropy (float *dlogits,
                         const float *logits,
                         const gint32 *labels,
                         int batch,
                         int n_labels);

typedef struct
{
  double loss; /* alpha * kl * T^2 + (1 - alpha) * ce */
  double kl;   /* KL(softmax(t/T) || softmax(s/T)), batch mean */
  double ce;   /* cross-entropy of the student against the labels */
} BsDistillLoss;

/* Knowledge distillation (Hinton et al.) with torch's kl_div(batchmean);
 * dlogits (may be NULL) receives the gradient for the student. */
BsDistillLoss bs_distillation_loss (float *dlogits,
                                    const float *student,
                                    const float *teacher,
                                    const gint32 *labels,
                                    int batch,
                                    int n_labels,
                                    double temperature,
                                    double alpha);

/* Row-wise softmax of logits / temperature into probs (B, L). */
void bs_softmax (float *probs,
                 const float *logits,
                 int batch,
                 int n_labels,
                 double temperature);
/* Index of the largest of n values (the first on ties). */
int bs_argmax (const float *values,
               int n);

G_END_DECLS
