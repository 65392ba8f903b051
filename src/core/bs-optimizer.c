/* bs-optimizer.c: AdamW (decoupled decay, bias correction) in torch 1.13's
 * order of operations, so parameters track the reference to float noise. */
#include "config.h"

#include "bs-optimizer.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bs-parallel.h"

struct _BsAdamW
{
  BsAdamWParams params;
  float *m, *v;
  gsize n;
  gint64 step;
  gboolean *decay; /* per parameter */
  guint n_params;
};

BsAdamW *
bs_adamw_new (const BsModel *model, const BsAdamWParams *params, GError **error)
{
  gsize n = bs_model_get_n_weights (model);
  g_autoptr (BsAdamW) opt = g_new0 (BsAdamW, 1);
  opt->params = *params;
  opt->n = n;
  if (posix_memalign ((void **) &opt->m, 64, n * sizeof (float)) != 0
      || posix_memalign ((void **) &opt->v, 64, n * sizeof (float)) != 0)
    {
      /* Translators: %.1f is a number of megabytes */
      g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_NO_MEMORY, _("Not enough memory for the optimizer (%.1f MB)"),
                   2.0 * n * sizeof (float) / 1e6);
      return NULL;
    }
  memset (opt->m, 0, n * sizeof (float));
  memset (opt->v, 0, n * sizeof (float));
  opt->n_params = bs_model_get_n_params (model);
  opt->decay = g_new (gboolean, opt->n_params);
  for (guint i = 0; i < opt->n_params; i++)
    {
      BsParamKind kind = bs_model_get_param (model, i)->kind;
      gboolean exempt = kind == BS_PARAM_BIAS || kind == BS_PARAM_NORM_WEIGHT || kind == BS_PARAM_NORM_BIAS;
      opt->decay[i] = !(params->exempt_bias_and_norm && exempt);
    }
  return g_steal_pointer (&opt);
}

void
bs_adamw_free (BsAdamW *opt)
{
  if (opt == NULL)
    return;
  free (opt->m);
  free (opt->v);
  g_free (opt->decay);
  g_free (opt);
}

gint64
bs_adamw_get_step (const BsAdamW *opt)
{
  return opt->step;
}

void
bs_adamw_set_step (BsAdamW *opt, gint64 step)
{
  opt->step = step;
}

float *
bs_adamw_get_moments (BsAdamW *opt, int which)
{
  return which == 0 ? opt->m : opt->v;
}

typedef struct
{
  float *p, *m, *v;
  const float *g;
  float decay, beta1, beta2, one_minus_beta1, one_minus_beta2, step_size, bc2_sqrt, eps;
} AdamRange;

static void
adamw_range (gsize begin, gsize end, gpointer data)
{
  const AdamRange *s = data;
  for (gsize i = begin; i < end; i++)
    {
      float g = s->g[i];
      float p = s->p[i] * s->decay;
      float m = s->m[i] * s->beta1 + s->one_minus_beta1 * g;
      float v = s->v[i] * s->beta2 + s->one_minus_beta2 * g * g;
      float denom = sqrtf (v) / s->bc2_sqrt + s->eps;
      s->p[i] = p + -s->step_size * (m / denom);
      s->m[i] = m;
      s->v[i] = v;
    }
}

void
bs_adamw_step (BsAdamW *opt, BsModel *model, double lr)
{
  const BsAdamWParams *hp = &opt->params;
  opt->step++;
  /* scalars in double, as Python computes them, then applied in float */
  double bc1 = 1.0 - pow (hp->beta1, (double) opt->step);
  double bc2 = 1.0 - pow (hp->beta2, (double) opt->step);
  float *weights = bs_model_get_weights (model);
  const float *grads = bs_model_get_grads (model);
  g_return_if_fail (grads != NULL);
  for (guint i = 0; i < opt->n_params; i++)
    {
      const BsParam *p = bs_model_get_param (model, i);
      AdamRange s = {
        weights + p->offset, opt->m + p->offset, opt->v + p->offset, grads + p->offset,
        opt->decay[i] ? (float) (1.0 - lr * hp->weight_decay) : 1.0f,
        (float) hp->beta1, (float) hp->beta2, (float) (1.0 - hp->beta1), (float) (1.0 - hp->beta2),
        (float) (lr / bc1), (float) sqrt (bc2), (float) hp->eps,
      };
      bs_parallel_for (p->n_elements, 65536, adamw_range, &s);
    }
}

double
bs_clip_grad_norm (BsModel *model, double max_norm)
{
  float *g = bs_model_get_grads (model);
  gsize n = bs_model_get_n_weights (model);
  double sum = 0.0;
  for (gsize i = 0; i < n; i++)
    sum += (double) g[i] * g[i];
  double norm = sqrt (sum);
  /* torch: clip_coef = max_norm / (total_norm + 1e-6), applied when < 1 */
  double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0)
    for (gsize i = 0; i < n; i++)
      g[i] *= (float) coef;
  return norm;
}

double
bs_schedule_lr (const BsSchedule *s, gint64 step)
{
  if (step < s->warmup_steps)
    return s->lr * (double) step / MAX (1, s->warmup_steps);
  switch (s->kind)
    {
    case BS_SCHEDULE_EXPONENTIAL:
      return s->lr * pow (s->gamma, (double) ((step - s->warmup_steps) / MAX (1, s->step_every)));
    case BS_SCHEDULE_LINEAR:
      {
        gint64 span = MAX (1, s->total_steps - s->warmup_steps);
        return s->lr * MAX (0.0, (double) (s->total_steps - step) / (double) span);
      }
    case BS_SCHEDULE_CONSTANT:
    default:
      return s->lr;
    }
}
