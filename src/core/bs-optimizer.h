/* bs-optimizer.h: AdamW as torch.optim.AdamW computes it, gradient clipping
 * and learning-rate schedules. */
#pragma once

#include <glib.h>

#include "bs-model.h"

G_BEGIN_DECLS

typedef struct
{
  double beta1, beta2, eps, weight_decay;
  /* As Hugging Face's Trainer: no decay on biases and LayerNorm weights. */
  gboolean exempt_bias_and_norm;
} BsAdamWParams;

#define BS_ADAMW_DEFAULTS ((BsAdamWParams) { 0.9, 0.999, 1e-8, 0.01, FALSE })

typedef struct _BsAdamW BsAdamW;

BsAdamW *bs_adamw_new (const BsModel *model,
                       const BsAdamWParams *params,
                       GError **error);
void bs_adamw_free (BsAdamW *opt);
/* One step over every parameter with the model's gradients. */
void bs_adamw_step (BsAdamW *opt,
                    BsModel *model,
                    double lr);
gint64 bs_adamw_get_step (const BsAdamW *opt);
/* The moment arenas (m, v), parallel to the model's weights, and the step
 * count: what a resumable checkpoint needs. */
float *bs_adamw_get_moments (BsAdamW *opt,
                             int which);
void bs_adamw_set_step (BsAdamW *opt,
                        gint64 step);

/* Scales the gradients so their global L2 norm is at most max_norm (as
 * torch.nn.utils.clip_grad_norm_); returns the norm before clipping. */
double bs_clip_grad_norm (BsModel *model,
                          double max_norm);

typedef enum
{
  BS_SCHEDULE_CONSTANT,
  BS_SCHEDULE_EXPONENTIAL, /* lr * gamma^(step / step_every) */
  BS_SCHEDULE_LINEAR,      /* linear decay to 0 at total_steps */
} BsScheduleKind;

typedef struct
{
  BsScheduleKind kind;
  double lr;
  double gamma;
  int step_every;
  int warmup_steps; /* linear warm-up from 0, as get_linear_schedule_with_warmup */
  gint64 total_steps;
} BsSchedule;

/* The learning rate of optimizer step `step` (0 for the first). */
double bs_schedule_lr (const BsSchedule *schedule,
                       gint64 step);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsAdamW, bs_adamw_free)

G_END_DECLS
