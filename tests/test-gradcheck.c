/* Finite-difference checks of every backward, independent of the fixtures.
 *
 * For a kernel y = f(x) and a random projection r, the scalar L = <r, y>
 * has dL/dx = backward(r); central differences of L (summed in double)
 * must agree with it. Shapes are tiny and random. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "bs-kernels.h"
#include "bs-loss.h"
#include "bs-model.h"
#include "bs-parallel.h"
#include "bs-random.h"

/* central-difference step; smaller for whole models, whose ReLU head has
 * kinks a large step can cross */
static float step = 1e-2f;

static BsRandom rng;

static float *
random_array (gsize n, double scale)
{
  float *a = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    a[i] = (float) (scale * bs_random_normal (&rng));
  return a;
}

static double
dot (const float *a, const float *b, gsize n)
{
  double s = 0.0;
  for (gsize i = 0; i < n; i++)
    s += (double) a[i] * b[i];
  return s;
}

/* Compares an analytic gradient with central differences of loss() over
 * the elements of x (a sample of them when there are many). */
typedef double (*LossFunc) (gpointer data);

/* floor: an absolute error allowed everywhere, for gradients that are 0
 * exactly (a key bias) while float noise in the loss is not */
static void
check_gradient_floor (const char *what, float *x, const float *analytic, gsize n, LossFunc loss, gpointer data,
                      double floor)
{
  double max_grad = 1e-3;
  for (gsize i = 0; i < n; i++)
    max_grad = MAX (max_grad, fabs (analytic[i]));
  gsize stride = MAX (1, n / 64);
  for (gsize i = 0; i < n; i += stride)
    {
      float saved = x[i];
      x[i] = saved + step;
      double up = loss (data);
      x[i] = saved - step;
      double down = loss (data);
      x[i] = saved;
      double numeric = (up - down) / (2.0 * step);
      double err = fabs (numeric - analytic[i]);
      if (err > floor + 2e-3 * max_grad + 2e-3 * fabs (numeric))
        g_error ("%s[%" G_GSIZE_FORMAT "]: analytic %.6g, numeric %.6g (max |grad| %.3g)", what, i, analytic[i],
                 numeric, max_grad);
    }
}

static void
check_gradient (const char *what, float *x, const float *analytic, gsize n, LossFunc loss, gpointer data)
{
  check_gradient_floor (what, x, analytic, n, loss, data, 0.0);
}

/* ---- linear ---- */

typedef struct
{
  float *x, *w, *b, *r, *y;
  int n, in, out;
} LinearCase;

static double
linear_loss (gpointer data)
{
  LinearCase *c = data;
  bs_linear_forward (c->y, c->x, c->w, c->b, c->n, c->in, c->out);
  return dot (c->y, c->r, (gsize) c->n * c->out);
}

static void
test_linear (void)
{
  LinearCase c = { 0 };
  c.n = 5, c.in = 7, c.out = 3;
  c.x = random_array ((gsize) c.n * c.in, 1.0);
  c.w = random_array ((gsize) c.out * c.in, 1.0);
  c.b = random_array (c.out, 1.0);
  c.r = random_array ((gsize) c.n * c.out, 1.0);
  c.y = g_new (float, (gsize) c.n * c.out);
  g_autofree float *dx = random_array ((gsize) c.n * c.in, 1.0); /* dinp_beta 0 must overwrite */
  g_autofree float *dw = g_new0 (float, (gsize) c.out * c.in);
  g_autofree float *db = g_new0 (float, c.out);
  bs_linear_backward (dx, 0.0f, dw, db, c.r, c.x, c.w, c.n, c.in, c.out);
  check_gradient ("linear dx", c.x, dx, (gsize) c.n * c.in, linear_loss, &c);
  check_gradient ("linear dw", c.w, dw, (gsize) c.out * c.in, linear_loss, &c);
  check_gradient ("linear db", c.b, db, c.out, linear_loss, &c);

  /* parameter gradients accumulate; dinp_beta 1 adds */
  g_autofree float *dx2 = g_memdup2 (dx, sizeof (float) * c.n * c.in);
  g_autofree float *dw2 = g_memdup2 (dw, sizeof (float) * c.out * c.in);
  bs_linear_backward (dx2, 1.0f, dw2, NULL, c.r, c.x, c.w, c.n, c.in, c.out);
  for (int i = 0; i < c.n * c.in; i++)
    g_assert_cmpfloat_with_epsilon (dx2[i], 2 * dx[i], 1e-5);
  for (int i = 0; i < c.out * c.in; i++)
    g_assert_cmpfloat_with_epsilon (dw2[i], 2 * dw[i], 1e-5);
  g_free (c.x), g_free (c.w), g_free (c.b), g_free (c.r), g_free (c.y);
}

/* ---- LayerNorm ---- */

typedef struct
{
  float *x, *w, *b, *r, *y, *mean, *rstd;
  int n, c;
} NormCase;

static double
norm_loss (gpointer data)
{
  NormCase *c = data;
  bs_layernorm_forward (c->y, c->mean, c->rstd, c->x, c->w, c->b, c->n, c->c, 1e-5f);
  return dot (c->y, c->r, (gsize) c->n * c->c);
}

static void
test_layernorm (void)
{
  NormCase c = { 0 };
  c.n = 4, c.c = 9;
  gsize nc = (gsize) c.n * c.c;
  c.x = random_array (nc, 2.0);
  c.w = random_array (c.c, 1.0);
  c.b = random_array (c.c, 1.0);
  c.r = random_array (nc, 1.0);
  c.y = g_new (float, nc);
  c.mean = g_new (float, c.n);
  c.rstd = g_new (float, c.n);
  norm_loss (&c);
  g_autofree float *dx = g_new (float, nc);
  g_autofree float *dw = g_new0 (float, c.c);
  g_autofree float *db = g_new0 (float, c.c);
  g_autofree float *dout = g_memdup2 (c.r, nc * sizeof (float));
  bs_layernorm_backward (dx, dw, db, dout, c.x, c.w, c.mean, c.rstd, c.n, c.c);
  check_gradient ("layernorm dx", c.x, dx, nc, norm_loss, &c);
  check_gradient ("layernorm dw", c.w, dw, c.c, norm_loss, &c);
  check_gradient ("layernorm db", c.b, db, c.c, norm_loss, &c);

  /* in place (dinp == dout) gives the same */
  g_autofree float *dw2 = g_new0 (float, c.c);
  g_autofree float *db2 = g_new0 (float, c.c);
  bs_layernorm_backward (dout, dw2, db2, dout, c.x, c.w, c.mean, c.rstd, c.n, c.c);
  g_assert_cmpmem (dout, nc * sizeof (float), dx, nc * sizeof (float));
  g_assert_cmpmem (dw2, c.c * sizeof (float), dw, c.c * sizeof (float));
  g_free (c.x), g_free (c.w), g_free (c.b), g_free (c.r), g_free (c.y), g_free (c.mean), g_free (c.rstd);
}

/* ---- activations ---- */

typedef struct
{
  float *x, *r, *y;
  gsize n;
  void (*forward) (float *, const float *, gsize);
} ActCase;

static double
act_loss (gpointer data)
{
  ActCase *c = data;
  c->forward (c->y, c->x, c->n);
  return dot (c->y, c->r, c->n);
}

static void
check_activation (const char *name, void (*forward) (float *, const float *, gsize),
                  void (*backward) (float *, const float *, const float *, gsize), gboolean from_output)
{
  ActCase c = { random_array (50, 2.0), random_array (50, 1.0), g_new (float, 50), 50, forward };
  /* keep away from ReLU's kink */
  for (gsize i = 0; i < c.n; i++)
    if (fabsf (c.x[i]) < 0.05f)
      c.x[i] = 0.5f;
  act_loss (&c);
  g_autofree float *dx = g_new (float, c.n);
  backward (dx, c.r, from_output ? c.y : c.x, c.n);
  check_gradient (name, c.x, dx, c.n, act_loss, &c);
  g_free (c.x), g_free (c.r), g_free (c.y);
}

static void
test_activations (void)
{
  check_activation ("gelu", bs_gelu_forward, bs_gelu_backward, FALSE);
  check_activation ("tanh", bs_tanh_forward, bs_tanh_backward, TRUE);
  check_activation ("relu", bs_relu_forward, bs_relu_backward, TRUE);

  /* the exact erf form, not the tanh approximation: they differ by ~1e-3 at 2 */
  float x = 2.0f, y;
  bs_gelu_forward (&y, &x, 1);
  g_assert_cmpfloat_with_epsilon (y, 1.9544997f, 1e-6);
}

/* ---- dropout ---- */

static void
test_dropout (void)
{
  gsize n = 100000;
  g_autofree float *x = g_new (float, n);
  g_autofree guint8 *mask = g_new (guint8, n);
  g_autofree guint8 *mask2 = g_new (guint8, n);
  for (gsize i = 0; i < n; i++)
    x[i] = 1.0f;
  BsDropoutStream s = { 42, 7 };
  bs_dropout_forward (x, mask, n, 0.1f, s);
  gsize kept = 0;
  for (gsize i = 0; i < n; i++)
    {
      kept += mask[i];
      g_assert_cmpfloat (x[i], ==, mask[i] ? 1.0f / 0.9f : 0.0f);
    }
  /* 10% dropped, within 5 standard deviations */
  g_assert_cmpfloat (fabs ((double) (n - kept) / n - 0.1), <, 5 * sqrt (0.1 * 0.9 / n));

  /* the same stream gives the same mask; another stream another one */
  bs_dropout_forward (x, mask2, n, 0.1f, s);
  g_assert_cmpmem (mask, n, mask2, n);
  s.stream = 8;
  bs_dropout_forward (x, mask2, n, 0.1f, s);
  g_assert_true (memcmp (mask, mask2, n) != 0);

  g_autofree float *dout = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    dout[i] = (float) i;
  bs_dropout_backward (dx, dout, mask, n, 0.1f);
  for (gsize i = 0; i < n; i += 97)
    g_assert_cmpfloat (dx[i], ==, mask[i] ? dout[i] * (1.0f / 0.9f) : 0.0f);
}

/* ---- embeddings ---- */

typedef struct
{
  gint32 *ids, *types;
  float *word, *pos, *type, *r, *y;
  int b, t, c;
} EmbCase;

static double
emb_loss (gpointer data)
{
  EmbCase *c = data;
  bs_embeddings_forward (c->y, c->ids, c->types, c->word, c->pos, c->type, c->b, c->t, c->c);
  return dot (c->y, c->r, (gsize) c->b * c->t * c->c);
}

static void
test_embeddings (void)
{
  EmbCase c = { 0 };
  c.b = 2, c.t = 5, c.c = 6;
  int vocab = 7, n = c.b * c.t;
  gint32 ids[] = { 1, 3, 0, 3, 6, 2, 0, 5, 5, 4 }; /* id 0 = padding, at attended positions too */
  gint32 types[] = { 0, 0, 1, 1, 1, 0, 1, 0, 1, 0 };
  c.ids = ids, c.types = types;
  c.word = random_array ((gsize) vocab * c.c, 1.0);
  c.pos = random_array ((gsize) c.t * c.c, 1.0);
  c.type = random_array ((gsize) 2 * c.c, 1.0);
  c.r = random_array ((gsize) n * c.c, 1.0);
  c.y = g_new (float, (gsize) n * c.c);
  g_autofree float *dword = g_new0 (float, (gsize) vocab * c.c);
  g_autofree float *dpos = g_new0 (float, (gsize) c.t * c.c);
  g_autofree float *dtype = g_new0 (float, (gsize) 2 * c.c);
  bs_embeddings_backward (dword, dpos, dtype, c.r, ids, types, 0, c.b, c.t, c.c);
  check_gradient ("embeddings dpos", c.pos, dpos, (gsize) c.t * c.c, emb_loss, &c);
  check_gradient ("embeddings dtype", c.type, dtype, (gsize) 2 * c.c, emb_loss, &c);
  /* the padding row gets no gradient (padding_idx), the others their sums */
  for (int k = 0; k < c.c; k++)
    g_assert_cmpfloat (dword[k], ==, 0.0f);
  check_gradient ("embeddings dword (rows 1..)", c.word + c.c, dword + c.c, (gsize) (vocab - 1) * c.c, emb_loss, &c);
  g_free (c.word), g_free (c.pos), g_free (c.type), g_free (c.r), g_free (c.y);
}

/* ---- attention ---- */

typedef struct
{
  BsAttentionShape sh;
  float *q, *kv, *r, *ctx, *probs, *scratch;
  int q_stride, kv_stride;
  guint8 *drop;
} AttnCase;

static double
attn_loss (gpointer data)
{
  AttnCase *c = data;
  bs_attention_forward (c->ctx, c->probs, c->drop, c->scratch, c->q, c->q_stride, c->kv, c->kv_stride, &c->sh);
  return dot (c->ctx, c->r, (gsize) c->sh.b * c->sh.tq * c->sh.c);
}

/* tq == tk: q, k, v side by side in one qkv buffer, as in every layer but
 * the last; tq == 1: a separate query per sequence, as in the last. */
static void
check_attention (float dropout, int tq)
{
  AttnCase c = { 0 };
  gint32 mask[] = { 1, 1, 0, 1, 1, 1, /* a hole in the middle */
                    1, 1, 1, 1, 0, 0 };
  int b = 2, t = 6, h = 8;
  c.sh = (BsAttentionShape) { b, tq, t, h, 2, mask, dropout, { 9, 1 } };
  gsize n = (gsize) b * t, probs = (gsize) b * 2 * tq * t;
  gboolean fused = tq == t;
  g_autofree float *qkv = random_array (n * 3 * h, 1.0);
  g_autofree float *q_alone = random_array ((gsize) b * tq * h, 1.0);
  g_autofree float *kv_alone = random_array (n * 2 * h, 1.0);
  c.q = fused ? qkv : q_alone;
  c.kv = fused ? qkv + h : kv_alone;
  c.q_stride = fused ? 3 * h : h;
  c.kv_stride = fused ? 3 * h : 2 * h;
  c.r = random_array ((gsize) b * tq * h, 1.0);
  c.ctx = g_new (float, (gsize) b * tq * h);
  c.probs = g_new (float, probs);
  c.scratch = g_new (float, probs);
  c.drop = g_new (guint8, probs);
  attn_loss (&c);
  g_autofree float *dqkv = g_new0 (float, n * 3 * h);
  g_autofree float *dq_alone = g_new0 (float, (gsize) b * tq * h);
  g_autofree float *dkv_alone = g_new0 (float, n * 2 * h);
  float *dq = fused ? dqkv : dq_alone, *dkv = fused ? dqkv + h : dkv_alone;
  g_autofree float *s1 = g_new (float, probs);
  g_autofree float *s2 = g_new (float, probs);
  bs_attention_backward (dq, dkv, s1, s2, c.r, c.q, c.q_stride, c.kv, c.kv_stride, c.probs, c.drop, &c.sh);
  g_autofree char *what = g_strdup_printf ("attention (%d queries%s)", tq, dropout > 0 ? ", dropout" : "");
  if (fused)
    check_gradient (what, qkv, dqkv, n * 3 * h, attn_loss, &c);
  else
    {
      check_gradient (what, q_alone, dq_alone, (gsize) b * tq * h, attn_loss, &c);
      check_gradient (what, kv_alone, dkv_alone, n * 2 * h, attn_loss, &c);
    }

  /* masked keys get exactly zero probability and their keys and values no gradient */
  for (int i = 0; i < b; i++)
    for (int j = 0; j < t; j++)
      {
        if (mask[i * t + j])
          continue;
        for (int k = 0; k < 2; k++)
          for (int r = 0; r < tq; r++)
            g_assert_cmpfloat (c.probs[((i * 2 + k) * tq + r) * t + j], ==, 0.0f);
        for (int k = 0; k < 2 * h; k++)
          g_assert_cmpfloat (dkv[(gsize) (i * t + j) * c.kv_stride + k], ==, 0.0f);
      }
  g_free (c.r), g_free (c.ctx), g_free (c.probs), g_free (c.scratch), g_free (c.drop);
}

static void
test_attention (void)
{
  check_attention (0.0f, 6);
  check_attention (0.3f, 6);
  check_attention (0.0f, 1);
  check_attention (0.3f, 1);
}

/* ---- losses ---- */

typedef struct
{
  float *logits, *teacher;
  gint32 *labels;
  int b, l;
  gboolean distill;
} LossCase;

static double
loss_of (gpointer data)
{
  LossCase *c = data;
  if (c->distill)
    return bs_distillation_loss (NULL, c->logits, c->teacher, c->labels, c->b, c->l, 2.0, 0.7).loss;
  return bs_cross_entropy (NULL, c->logits, c->labels, c->b, c->l);
}

static void
test_losses (void)
{
  gint32 labels[] = { 2, 0, -100, 1 }; /* -100 is ignored */
  LossCase c = { random_array (12, 2.0), random_array (12, 2.0), labels, 4, 3, FALSE };
  g_autofree float *d = g_new (float, 12);
  double ce = bs_cross_entropy (d, c.logits, labels, 4, 3);
  check_gradient ("cross-entropy", c.logits, d, 12, loss_of, &c);
  for (int j = 0; j < 3; j++)
    g_assert_cmpfloat (d[2 * 3 + j], ==, 0.0f);
  /* the mean over the three counted rows, by hand */
  double expected = 0.0;
  for (int i = 0; i < 4; i++)
    {
      if (labels[i] < 0)
        continue;
      double sum = 0.0;
      for (int j = 0; j < 3; j++)
        sum += exp (c.logits[i * 3 + j]);
      expected += log (sum) - c.logits[i * 3 + labels[i]];
    }
  g_assert_cmpfloat_with_epsilon (ce, expected / 3, 1e-9);

  c.distill = TRUE;
  bs_distillation_loss (d, c.logits, c.teacher, labels, 4, 3, 2.0, 0.7);
  check_gradient ("distillation", c.logits, d, 12, loss_of, &c);
  /* the KL of a distribution with itself is 0 */
  BsDistillLoss same = bs_distillation_loss (NULL, c.teacher, c.teacher, labels, 4, 3, 2.0, 1.0);
  g_assert_cmpfloat (fabs (same.kl), <, 1e-12);
  g_free (c.logits), g_free (c.teacher);
}

/* ---- whole models, dropout on ---- */

typedef struct
{
  BsModel *model;
  BsWorkspace *ws;
  BsBatch batch;
  gint32 *labels;
  float *logits;
} ModelCase;

static double
model_loss (gpointer data)
{
  ModelCase *c = data;
  /* the same dropout masks for every evaluation */
  bs_workspace_set_dropout (c->ws, TRUE, 1234);
  g_assert_true (bs_model_forward (c->model, c->ws, &c->batch, c->logits, NULL));
  return bs_cross_entropy (NULL, c->logits, c->labels, c->batch.batch_size, bs_model_get_config (c->model)->n_labels);
}

static void
check_model (BsArch arch, int n_layers)
{
  step = 1e-3f;
  g_autoptr (BsConfig) cfg = bs_config_new (arch);
  cfg->vocab_size = 20, cfg->hidden_size = 8, cfg->n_layers = n_layers, cfg->n_heads = 2, cfg->intermediate_size = 12;
  cfg->max_position_embeddings = 10, cfg->initializer_range = 0.5;
  cfg->hidden_dropout = cfg->attention_dropout = cfg->classifier_dropout = 0.2;
  const char *labels3[] = { "a", "b", "c" };
  bs_config_set_labels (cfg, labels3, 3);
  g_autoptr (BsModel) model = bs_model_new (cfg, NULL);
  bs_model_init_weights (model, 5);
  /* non-trivial LayerNorm parameters and biases, so their gradients matter */
  float *w = bs_model_get_weights (model);
  for (guint i = 0; i < bs_model_get_n_params (model); i++)
    {
      const BsParam *p = bs_model_get_param (model, i);
      if (p->kind != BS_PARAM_MATRIX && p->kind != BS_PARAM_EMBEDDING)
        for (gsize k = 0; k < p->n_elements; k++)
          w[p->offset + k] += (float) (0.3 * bs_random_normal (&rng));
    }
  gint32 ids[] = { 2, 5, 0, 7, 3, 0, 2, 9, 11, 4, 3, 0 };
  gint32 types[] = { 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0 };
  gint32 mask[] = { 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0 };
  gint32 labels[] = { 2, 0 };
  g_autoptr (BsWorkspace) ws = bs_workspace_new ();
  ModelCase c = { model, ws, { 2, 6, ids, types, mask }, labels, g_new (float, 6) };

  model_loss (&c);
  g_autofree float *dlogits = g_new (float, 6);
  bs_cross_entropy (dlogits, c.logits, labels, 2, 3);
  bs_model_zero_grads (model);
  bs_model_backward (model, ws, dlogits);
  const float *g = bs_model_get_grads (model);
  double largest = 0.0;
  for (gsize k = 0; k < bs_model_get_n_weights (model); k++)
    largest = MAX (largest, fabs (g[k]));
  for (guint i = 0; i < bs_model_get_n_params (model); i++)
    {
      const BsParam *p = bs_model_get_param (model, i);
      /* padding_idx: row 0 of the word embeddings never gets a gradient */
      gsize skip = g_str_has_suffix (p->name, "word_embeddings.weight") ? (gsize) p->shape[1] : 0;
      for (gsize k = 0; k < skip; k++)
        g_assert_cmpfloat (g[p->offset + k], ==, 0.0f);
      check_gradient_floor (p->name, w + p->offset + skip, g + p->offset + skip, p->n_elements - skip, model_loss, &c,
                            1e-3 * largest);
    }

  /* the same seed gives the same logits, another seed others; inference has no dropout */
  g_autofree float *again = g_new (float, 6);
  g_autofree float *eval1 = g_new (float, 6);
  g_autofree float *eval2 = g_new (float, 6);
  model_loss (&c);
  memcpy (again, c.logits, sizeof (float) * 6);
  model_loss (&c);
  g_assert_cmpmem (again, sizeof (float) * 6, c.logits, sizeof (float) * 6);
  bs_workspace_set_dropout (ws, TRUE, 99);
  g_assert_true (bs_model_forward (model, ws, &c.batch, c.logits, NULL));
  g_assert_true (memcmp (again, c.logits, sizeof (float) * 6) != 0);
  g_assert_true (bs_model_infer (model, ws, &c.batch, eval1, NULL));
  g_assert_true (bs_model_infer (model, ws, &c.batch, eval2, NULL));
  g_assert_cmpmem (eval1, sizeof (float) * 6, eval2, sizeof (float) * 6);
  g_free (c.logits);
  step = 1e-2f;
}

/* The cross-entropy over a vocabulary (float exps, rows over threads)
 * against the same sums in double: loss and gradient (that of a sure guess
 * too), ignored rows zero, the same bits with one thread as with two, and
 * with the gradient written over the logits. */
static void
test_vocabulary_loss (void)
{
  enum { ROWS = 96, VOCAB = 30522 };
  BsRandom rng;
  bs_random_init (&rng, 9);
  g_autofree float *logits = g_new (float, (gsize) ROWS * VOCAB);
  g_autofree float *d = g_new (float, (gsize) ROWS * VOCAB);
  g_autofree float *d_serial = g_new (float, (gsize) ROWS * VOCAB);
  gint32 labels[ROWS];
  for (gsize i = 0; i < (gsize) ROWS * VOCAB; i++)
    logits[i] = (float) (3 * bs_random_normal (&rng));
  int counted = 0;
  for (int i = 0; i < ROWS; i++)
    {
      labels[i] = i % 7 == 3 ? -100 : (gint32) bs_random_below (&rng, VOCAB);
      counted += labels[i] >= 0;
    }
  /* a sure guess: p = 1 - 2e-9 or so, whose gradient p - 1 float alone would lose */
  logits[labels[0]] = 35.0f;
  double loss = bs_cross_entropy (d, logits, labels, ROWS, VOCAB);

  double expected = 0.0, worst = 0.0;
  for (int i = 0; i < ROWS; i++)
    {
      const float *x = logits + (gsize) i * VOCAB;
      const float *g = d + (gsize) i * VOCAB;
      if (labels[i] < 0)
        {
          for (int j = 0; j < VOCAB; j++)
            g_assert_cmpfloat (g[j], ==, 0.0f);
          continue;
        }
      double max = -INFINITY, sum = 0.0;
      for (int j = 0; j < VOCAB; j++)
        max = MAX (max, x[j]);
      for (int j = 0; j < VOCAB; j++)
        sum += exp (x[j] - max);
      expected += log (sum) + max - x[labels[i]];
      for (int j = 0; j < VOCAB; j++)
        {
          double want = (exp (x[j] - max) / sum - (j == labels[i])) / counted;
          worst = MAX (worst, fabs (g[j] - want));
        }
      if (i == 0)
        {
          double others = 0.0;
          for (int j = 0; j < VOCAB; j++)
            others += j == labels[0] ? 0.0 : exp (x[j] - max);
          double want = -others / sum / counted;
          g_test_message ("sure guess: gradient %.6g, in double %.6g", g[labels[0]], want);
          g_assert_cmpfloat (want, <, 0);
          g_assert_cmpfloat_with_epsilon (g[labels[0]] / want, 1.0, 1e-4);
        }
    }
  expected /= counted;
  g_test_message ("loss %.9f, in double %.9f; worst gradient error %.3g", loss, expected, worst);
  g_assert_cmpfloat_with_epsilon (loss, expected, 1e-6 * expected);
  g_assert_cmpfloat (worst, <, 1e-6 / counted);

  int threads = bs_parallel_get_n_threads ();
  bs_parallel_set_n_threads (1);
  double serial = bs_cross_entropy (d_serial, logits, labels, ROWS, VOCAB);
  bs_parallel_set_n_threads (MAX (threads, 2));
  g_assert_cmpfloat (serial, ==, bs_cross_entropy (d, logits, labels, ROWS, VOCAB));
  g_assert_cmpmem (d, sizeof (float) * ROWS * VOCAB, d_serial, sizeof (float) * ROWS * VOCAB);
  bs_parallel_set_n_threads (threads);

  /* the gradient written over the logits themselves */
  g_assert_cmpfloat (bs_cross_entropy (logits, logits, labels, ROWS, VOCAB), ==, serial);
  g_assert_cmpmem (logits, sizeof (float) * ROWS * VOCAB, d_serial, sizeof (float) * ROWS * VOCAB);
}

static void
test_bert (void)
{
  check_model (BS_ARCH_BERT, 2);
}

static void
test_distilbert (void)
{
  check_model (BS_ARCH_DISTILBERT, 2);
}

/* the only layer is also the last, which computes the first rows only */
static void
test_one_layer (void)
{
  check_model (BS_ARCH_BERT, 1);
  check_model (BS_ARCH_DISTILBERT, 1);
}

/* ---- the masked-LM head ---- */

typedef struct
{
  BsModel *model;
  BsWorkspace *ws;
  BsBatch batch;
  const gint32 *positions;
  const gint32 *labels;
  int n_positions;
  float *logits;
} MaskedCase;

static double
masked_loss (gpointer data)
{
  MaskedCase *c = data;
  bs_workspace_set_dropout (c->ws, TRUE, 4321);
  g_assert_true (bs_model_forward_masked_lm (c->model, c->ws, &c->batch, c->positions, c->n_positions, c->logits,
                                             NULL));
  return bs_cross_entropy (NULL, c->logits, c->labels, c->n_positions, bs_model_get_config (c->model)->vocab_size);
}

static void
check_masked_lm (int n_layers)
{
  step = 1e-3f;
  g_autoptr (BsConfig) cfg = bs_config_new (BS_ARCH_BERT);
  cfg->vocab_size = 20, cfg->hidden_size = 8, cfg->n_layers = n_layers, cfg->n_heads = 2, cfg->intermediate_size = 12;
  cfg->max_position_embeddings = 10, cfg->initializer_range = 0.5;
  cfg->hidden_dropout = cfg->attention_dropout = 0.2;
  g_autoptr (BsModel) model = bs_model_new_with_head (cfg, BS_HEAD_MASKED_LM, NULL);
  g_assert_nonnull (model);
  g_assert_null (bs_model_find_param (model, "bert.pooler.dense.weight"));
  g_assert_nonnull (bs_model_find_param (model, "cls.predictions.transform.LayerNorm.weight"));
  bs_model_init_weights (model, 6);
  float *w = bs_model_get_weights (model);
  for (guint i = 0; i < bs_model_get_n_params (model); i++)
    {
      const BsParam *p = bs_model_get_param (model, i);
      if (p->kind != BS_PARAM_MATRIX && p->kind != BS_PARAM_EMBEDDING)
        for (gsize k = 0; k < p->n_elements; k++)
          w[p->offset + k] += (float) (0.3 * bs_random_normal (&rng));
    }
  gint32 ids[] = { 2, 1, 0, 7, 1, 0, 2, 9, 1, 4, 3, 0 };
  gint32 types[] = { 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0 };
  gint32 mask[] = { 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0 };
  gint32 positions[] = { 1, 4, 8, 10 };
  gint32 labels[] = { 5, 17, 0, 9 };
  g_autoptr (BsWorkspace) ws = bs_workspace_new ();
  g_autofree float *logits = g_new (float, 4 * 20);
  MaskedCase c = { model, ws, { 2, 6, ids, types, mask }, positions, labels, 4, logits };

  masked_loss (&c);
  g_autofree float *dlogits = g_new (float, 4 * 20);
  bs_cross_entropy (dlogits, logits, labels, 4, 20);
  bs_model_zero_grads (model);
  bs_model_backward_masked_lm (model, ws, dlogits);
  const float *g = bs_model_get_grads (model);
  double largest = 0.0;
  for (gsize k = 0; k < bs_model_get_n_weights (model); k++)
    largest = MAX (largest, fabs (g[k]));
  for (guint i = 0; i < bs_model_get_n_params (model); i++)
    {
      const BsParam *p = bs_model_get_param (model, i);
      /* the padding row: its lookups get no gradient (its decoder use does),
       * so a finite difference through both cannot match; the reference
       * fixture checks it */
      gsize skip = g_str_has_suffix (p->name, "word_embeddings.weight") ? (gsize) p->shape[1] : 0;
      check_gradient_floor (p->name, w + p->offset + skip, g + p->offset + skip, p->n_elements - skip, masked_loss,
                            &c, 1e-3 * largest);
    }

  /* positions out of order or outside the batch are refused */
  g_autoptr (GError) error = NULL;
  gint32 unordered[] = { 4, 1 };
  g_assert_false (bs_model_forward_masked_lm (model, ws, &c.batch, unordered, 2, logits, &error));
  g_assert_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT);
  g_clear_error (&error);
  gint32 outside[] = { 12 };
  g_assert_false (bs_model_forward_masked_lm (model, ws, &c.batch, outside, 1, logits, &error));
  g_assert_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT);
  step = 1e-2f;
}

static void
test_masked_lm (void)
{
  check_masked_lm (2);
  check_masked_lm (1);
}

/* DistilBERT has no masked-LM head here */
static void
test_masked_lm_needs_bert (void)
{
  g_autoptr (BsConfig) cfg = bs_config_new (BS_ARCH_DISTILBERT);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsModel) model = bs_model_new_with_head (cfg, BS_HEAD_MASKED_LM, &error);
  g_assert_null (model);
  g_assert_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  bs_random_init (&rng, 20240601);
  g_test_add_func ("/gradcheck/linear", test_linear);
  g_test_add_func ("/gradcheck/layernorm", test_layernorm);
  g_test_add_func ("/gradcheck/activations", test_activations);
  g_test_add_func ("/gradcheck/dropout", test_dropout);
  g_test_add_func ("/gradcheck/embeddings", test_embeddings);
  g_test_add_func ("/gradcheck/attention", test_attention);
  g_test_add_func ("/gradcheck/losses", test_losses);
  g_test_add_func ("/gradcheck/vocabulary-loss", test_vocabulary_loss);
  g_test_add_func ("/gradcheck/bert", test_bert);
  g_test_add_func ("/gradcheck/distilbert", test_distilbert);
  g_test_add_func ("/gradcheck/one-layer", test_one_layer);
  g_test_add_func ("/gradcheck/masked-lm", test_masked_lm);
  g_test_add_func ("/gradcheck/masked-lm-needs-bert", test_masked_lm_needs_bert);
  return g_test_run ();
}
