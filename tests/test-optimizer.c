/* Learning-rate schedules, gradient clipping and AdamW's decay groups. */
#include <glib.h>
#include <math.h>

#include "bs-model.h"
#include "bs-optimizer.h"

static void
test_exponential (void)
{
  /* the reference recipe: ExponentialLR(gamma 0.96) stepped every 10 batches */
  BsSchedule s = { BS_SCHEDULE_EXPONENTIAL, 2e-5, 0.96, 10, 0, 0 };
  for (int step = 0; step < 10; step++)
    g_assert_cmpfloat (bs_schedule_lr (&s, step), ==, 2e-5);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 10), 2e-5 * 0.96, 1e-18);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 19), 2e-5 * 0.96, 1e-18);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 25), 2e-5 * 0.96 * 0.96, 1e-18);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 390), 2e-5 * pow (0.96, 39), 1e-18);

  /* with warm-up the decay counts from its end */
  s.warmup_steps = 4;
  g_assert_cmpfloat (bs_schedule_lr (&s, 0), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 2), 1e-5, 1e-18);
  g_assert_cmpfloat (bs_schedule_lr (&s, 4), ==, 2e-5);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 14), 2e-5 * 0.96, 1e-18);
}

static void
test_linear (void)
{
  /* get_linear_schedule_with_warmup(warmup 10, total 110) */
  BsSchedule s = { BS_SCHEDULE_LINEAR, 1e-3, 0, 0, 10, 110 };
  g_assert_cmpfloat (bs_schedule_lr (&s, 0), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 5), 5e-4, 1e-15);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 10), 1e-3, 1e-15);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 60), 5e-4, 1e-15);
  g_assert_cmpfloat_with_epsilon (bs_schedule_lr (&s, 109), 1e-5, 1e-15);
  g_assert_cmpfloat (bs_schedule_lr (&s, 110), ==, 0.0);
  g_assert_cmpfloat (bs_schedule_lr (&s, 500), ==, 0.0);

  BsSchedule constant = { BS_SCHEDULE_CONSTANT, 3e-4, 0, 0, 0, 0 };
  g_assert_cmpfloat (bs_schedule_lr (&constant, 12345), ==, 3e-4);
}

static BsModel *
tiny_model (void)
{
  g_autoptr (BsConfig) cfg = bs_config_new (BS_ARCH_BERT);
  cfg->vocab_size = 11, cfg->hidden_size = 4, cfg->n_layers = 1, cfg->n_heads = 2, cfg->intermediate_size = 6;
  cfg->max_position_embeddings = 5;
  BsModel *m = bs_model_new (cfg, NULL);
  bs_model_init_weights (m, 1);
  g_assert_true (bs_model_enable_grads (m, NULL));
  return m;
}

static void
test_clip (void)
{
  g_autoptr (BsModel) m = tiny_model ();
  float *g = bs_model_get_grads (m);
  gsize n = bs_model_get_n_weights (m);
  double sum = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      g[i] = (float) ((int) (i % 7) - 3) * 0.5f;
      sum += (double) g[i] * g[i];
    }
  double norm = sqrt (sum);
  /* below the limit: untouched */
  g_assert_cmpfloat_with_epsilon (bs_clip_grad_norm (m, 2 * norm), norm, 1e-9 * norm);
  g_assert_cmpfloat (g[1], ==, -1.0f);
  /* above: scaled to the limit (torch divides by norm + 1e-6) */
  g_assert_cmpfloat_with_epsilon (bs_clip_grad_norm (m, 1.0), norm, 1e-9 * norm);
  double after = 0.0;
  for (gsize i = 0; i < n; i++)
    after += (double) g[i] * g[i];
  g_assert_cmpfloat_with_epsilon (sqrt (after), 1.0, 1e-5);
}

/* With zero gradients an AdamW step is the decay alone: p *= 1 - lr wd,
 * except, with Hugging Face's groups, biases and LayerNorm weights. */
static void
check_decay (gboolean exempt)
{
  g_autoptr (BsModel) m = tiny_model ();
  bs_model_zero_grads (m);
  g_autofree float *before = g_memdup2 (bs_model_peek_weights (m), bs_model_get_n_weights (m) * sizeof (float));
  BsAdamWParams hp = BS_ADAMW_DEFAULTS;
  hp.weight_decay = 0.5;
  hp.exempt_bias_and_norm = exempt;
  g_autoptr (BsAdamW) opt = bs_adamw_new (m, &hp, NULL);
  bs_adamw_step (opt, m, 0.1);
  g_assert_cmpint (bs_adamw_get_step (opt), ==, 1);
  const float *w = bs_model_peek_weights (m);
  for (guint i = 0; i < bs_model_get_n_params (m); i++)
    {
      const BsParam *p = bs_model_get_param (m, i);
      gboolean kept = exempt && p->kind != BS_PARAM_MATRIX && p->kind != BS_PARAM_EMBEDDING;
      for (gsize k = 0; k < p->n_elements; k++)
        g_assert_cmpfloat (w[p->offset + k], ==, kept ? before[p->offset + k] : before[p->offset + k] * 0.95f);
    }
}

static void
test_decay_groups (void)
{
  check_decay (FALSE);
  check_decay (TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/schedule/exponential", test_exponential);
  g_test_add_func ("/schedule/linear", test_linear);
  g_test_add_func ("/optimizer/clip", test_clip);
  g_test_add_func ("/optimizer/decay-groups", test_decay_groups);
  return g_test_run ();
}
