/* bs-model.c: parameters, workspace and the forward/backward passes of BERT
 * and DistilBERT sequence classifiers.
 *
 * Both architectures compute the same post-LayerNorm encoder; they differ in
 * names, in token types, in where dropout sits and in the head:
 *   BERT:       x = LN(word[ids] + type[types] + pos); per layer
 *               a = LN(x + drop(attn(x) Wo)); x = LN(a + drop(gelu(a W1) W2));
 *               logits = drop(tanh(x[:,0] Wp)) Wc
 *   DistilBERT: no token types; no dropout after attn(x) Wo;
 *               logits = drop(relu(x[:,0] Wp)) Wc  (Wp = pre_classifier)
 * BERT's masked-LM head instead reads the masked rows m of the last layer:
 *               logits = LN(gelu(x[m] Wt)) word^T + bias
 * Q, K and V weights sit side by side in the arena, so they are one product. */
#include "config.h"

#include "bs-model.h"

#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

#include "bs-kernels.h"
#include "bs-random.h"

G_DEFINE_QUARK (bs-model-error-quark, bs_model_error)

/* Offsets (in floats) of one encoder layer's parameters. */
typedef struct
{
  gsize qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b, fc1_w, fc1_b, fc2_w, fc2_b, ln2_w, ln2_b;
} LayerParams;

struct _BsModel
{
  BsConfig *config;
  GArray *params; /* BsParam */
  GHashTable *by_name;
  float *weights;
  float *grads;
  gsize n_weights;
  /* offsets of the parameters the passes use */
  gsize word, pos, type, emb_ln_w, emb_ln_b;
  LayerParams *layers;
  BsHeadKind head_kind;
  gsize head_w, head_b, cls_w, cls_b; /* pooler / pre_classifier, classifier */
  gsize mlm_w, mlm_b, mlm_ln_w, mlm_ln_b, mlm_bias; /* masked-LM transform, output bias */
};

/* Activations of one encoder layer, kept for the backward. The last layer
 * computes only the first token's row (all the head reads): its qkv holds
 * k | v of every row, q_cls and x_cls the first rows' query and input, and
 * the rest has B rows. */
typedef struct
{
  float *qkv, *probs, *ctx, *res1, *mean1, *rstd1, *a, *h1, *res2, *mean2, *rstd2, *out;
  float *q_cls, *x_cls;
  guint8 *attn_drop, *drop1, *drop2;
} LayerActs;

struct _BsWorkspace
{
  float *arena;
  gsize arena_floats;
  guint8 *bytes;
  gsize n_bytes;
  gboolean dropout_enabled;
  guint64 seed;
  guint64 step;

  /* what the last forward left */
  const BsModel *model;
  gboolean train;
  gboolean dropout; /* active in the last forward */
  int b, t;
  gint32 *ids, *types, *mask;
  float *emb_sum, *emb_mean, *emb_rstd, *x0;
  guint8 *emb_drop;
  LayerActs *layers;
  int n_layer_slots;
  float *cls_in, *pooled, *pooled_d; /* cls_in: the last layer's output */
  guint8 *head_drop;
  float *gelu, *gelu_grad, *attn1, *attn2;
  float *dx_a, *dx_b, *dres, *dqkv, *dctx, *dh1, *dhead1, *dhead2, *dx_cls, *dq_cls;
  /* the masked-LM head on n_masked rows: their inputs, the transform before
   * and after GELU, its LayerNorm; two gradient buffers */
  int n_masked;
  gint32 *positions;
  float *mlm_x, *mlm_pre, *mlm_act, *mlm_mean, *mlm_rstd, *mlm_h, *mlm_d1, *mlm_d2;
};

/* ---- parameters ---- */

static gsize
add_param (BsModel *m, gboolean base, const char *name, BsParamKind kind, gint64 rows, gint64 cols)
{
  BsParam p = { 0 };
  p.name = base ? g_strconcat (bs_model_get_prefix (m), name, NULL) : g_strdup (name);
  p.kind = kind;
  p.n_dims = cols > 0 ? 2 : 1;
  p.shape[0] = rows;
  p.shape[1] = cols;
  p.n_elements = (gsize) rows * (gsize) (cols > 0 ? cols : 1);
  p.offset = m->n_weights;
  p.head = !base;
  m->n_weights += p.n_elements;
  g_array_append_val (m->params, p);
  return p.offset;
}

static void
build_bert_params (BsModel *m)
{
  const BsConfig *c = m->config;
  gint64 h = c->hidden_size, inter = c->intermediate_size;
  m->word = add_param (m, TRUE, "embeddings.word_embeddings.weight", BS_PARAM_EMBEDDING, c->vocab_size, h);
  m->pos = add_param (m, TRUE, "embeddings.position_embeddings.weight", BS_PARAM_EMBEDDING,
                      c->max_position_embeddings, h);
  m->type = add_param (m, TRUE, "embeddings.token_type_embeddings.weight", BS_PARAM_EMBEDDING,
                       c->type_vocab_size, h);
  m->emb_ln_w = add_param (m, TRUE, "embeddings.LayerNorm.weight", BS_PARAM_NORM_WEIGHT, h, 0);
  m->emb_ln_b = add_param (m, TRUE, "embeddings.LayerNorm.bias", BS_PARAM_NORM_BIAS, h, 0);
  for (int l = 0; l < c->n_layers; l++)
    {
      LayerParams *o = &m->layers[l];
#define NAME(suffix) (g_snprintf (name, sizeof name, "encoder.layer.%d.%s", l, suffix), name)
      char name[128];
      o->qkv_w = add_param (m, TRUE, NAME ("attention.self.query.weight"), BS_PARAM_MATRIX, h, h);
      add_param (m, TRUE, NAME ("attention.self.key.weight"), BS_PARAM_MATRIX, h, h);
      add_param (m, TRUE, NAME ("attention.self.value.weight"), BS_PARAM_MATRIX, h, h);
      o->qkv_b = add_param (m, TRUE, NAME ("attention.self.query.bias"), BS_PARAM_BIAS, h, 0);
      add_param (m, TRUE, NAME ("attention.self.key.bias"), BS_PARAM_BIAS, h, 0);
      add_param (m, TRUE, NAME ("attention.self.value.bias"), BS_PARAM_BIAS, h, 0);
      o->o_w = add_param (m, TRUE, NAME ("attention.output.dense.weight"), BS_PARAM_MATRIX, h, h);
      o->o_b = add_param (m, TRUE, NAME ("attention.output.dense.bias"), BS_PARAM_BIAS, h, 0);
      o->ln1_w = add_param (m, TRUE, NAME ("attention.output.LayerNorm.weight"), BS_PARAM_NORM_WEIGHT, h, 0);
      o->ln1_b = add_param (m, TRUE, NAME ("attention.output.LayerNorm.bias"), BS_PARAM_NORM_BIAS, h, 0);
      o->fc1_w = add_param (m, TRUE, NAME ("intermediate.dense.weight"), BS_PARAM_MATRIX, inter, h);
      o->fc1_b = add_param (m, TRUE, NAME ("intermediate.dense.bias"), BS_PARAM_BIAS, inter, 0);
      o->fc2_w = add_param (m, TRUE, NAME ("output.dense.weight"), BS_PARAM_MATRIX, h, inter);
      o->fc2_b = add_param (m, TRUE, NAME ("output.dense.bias"), BS_PARAM_BIAS, h, 0);
      o->ln2_w = add_param (m, TRUE, NAME ("output.LayerNorm.weight"), BS_PARAM_NORM_WEIGHT, h, 0);
      o->ln2_b = add_param (m, TRUE, NAME ("output.LayerNorm.bias"), BS_PARAM_NORM_BIAS, h, 0);
#undef NAME
    }
  if (m->head_kind == BS_HEAD_MASKED_LM)
    {
      /* BertForMaskedLM has no pooler; its decoder weight is the word table */
      m->mlm_w = add_param (m, FALSE, "cls.predictions.transform.dense.weight", BS_PARAM_MATRIX, h, h);
      m->mlm_b = add_param (m, FALSE, "cls.predictions.transform.dense.bias", BS_PARAM_BIAS, h, 0);
      m->mlm_ln_w = add_param (m, FALSE, "cls.predictions.transform.LayerNorm.weight", BS_PARAM_NORM_WEIGHT, h, 0);
      m->mlm_ln_b = add_param (m, FALSE, "cls.predictions.transform.LayerNorm.bias", BS_PARAM_NORM_BIAS, h, 0);
      m->mlm_bias = add_param (m, FALSE, "cls.predictions.bias", BS_PARAM_BIAS, c->vocab_size, 0);
      return;
    }
  m->head_w = add_param (m, TRUE, "pooler.dense.weight", BS_PARAM_MATRIX, h, h);
  m->head_b = add_param (m, TRUE, "pooler.dense.bias", BS_PARAM_BIAS, h, 0);
  m->cls_w = add_param (m, FALSE, "classifier.weight", BS_PARAM_MATRIX, c->n_labels, h);
  m->cls_b = add_param (m, FALSE, "classifier.bias", BS_PARAM_BIAS, c->n_labels, 0);
}

static void
build_distilbert_params (BsModel *m)
{
  const BsConfig *c = m->config;
  gint64 h = c->hidden_size, inter = c->intermediate_size;
  m->word = add_param (m, TRUE, "embeddings.word_embeddings.weight", BS_PARAM_EMBEDDING, c->vocab_size, h);
  m->pos = add_param (m, TRUE, "embeddings.position_embeddings.weight", BS_PARAM_EMBEDDING,
                      c->max_position_embeddings, h);
  m->emb_ln_w = add_param (m, TRUE, "embeddings.LayerNorm.weight", BS_PARAM_NORM_WEIGHT, h, 0);
  m->emb_ln_b = add_param (m, TRUE, "embeddings.LayerNorm.bias", BS_PARAM_NORM_BIAS, h, 0);
  for (int l = 0; l < c->n_layers; l++)
    {
      LayerParams *o = &m->layers[l];
#define NAME(suffix) (g_snprintf (name, sizeof name, "transformer.layer.%d.%s", l, suffix), name)
      char name[128];
      o->qkv_w = add_param (m, TRUE, NAME ("attention.q_lin.weight"), BS_PARAM_MATRIX, h, h);
      add_param (m, TRUE, NAME ("attention.k_lin.weight"), BS_PARAM_MATRIX, h, h);
      add_param (m, TRUE, NAME ("attention.v_lin.weight"), BS_PARAM_MATRIX, h, h);
      o->qkv_b = add_param (m, TRUE, NAME ("attention.q_lin.bias"), BS_PARAM_BIAS, h, 0);
      add_param (m, TRUE, NAME ("attention.k_lin.bias"), BS_PARAM_BIAS, h, 0);
      add_param (m, TRUE, NAME ("attention.v_lin.bias"), BS_PARAM_BIAS, h, 0);
      o->o_w = add_param (m, TRUE, NAME ("attention.out_lin.weight"), BS_PARAM_MATRIX, h, h);
      o->o_b = add_param (m, TRUE, NAME ("attention.out_lin.bias"), BS_PARAM_BIAS, h, 0);
      o->ln1_w = add_param (m, TRUE, NAME ("sa_layer_norm.weight"), BS_PARAM_NORM_WEIGHT, h, 0);
      o->ln1_b = add_param (m, TRUE, NAME ("sa_layer_norm.bias"), BS_PARAM_NORM_BIAS, h, 0);
      o->fc1_w = add_param (m, TRUE, NAME ("ffn.lin1.weight"), BS_PARAM_MATRIX, inter, h);
      o->fc1_b = add_param (m, TRUE, NAME ("ffn.lin1.bias"), BS_PARAM_BIAS, inter, 0);
      o->fc2_w = add_param (m, TRUE, NAME ("ffn.lin2.weight"), BS_PARAM_MATRIX, h, inter);
      o->fc2_b = add_param (m, TRUE, NAME ("ffn.lin2.bias"), BS_PARAM_BIAS, h, 0);
      o->ln2_w = add_param (m, TRUE, NAME ("output_layer_norm.weight"), BS_PARAM_NORM_WEIGHT, h, 0);
      o->ln2_b = add_param (m, TRUE, NAME ("output_layer_norm.bias"), BS_PARAM_NORM_BIAS, h, 0);
#undef NAME
    }
  m->head_w = add_param (m, FALSE, "pre_classifier.weight", BS_PARAM_MATRIX, h, h);
  m->head_b = add_param (m, FALSE, "pre_classifier.bias", BS_PARAM_BIAS, h, 0);
  m->cls_w = add_param (m, FALSE, "classifier.weight", BS_PARAM_MATRIX, c->n_labels, h);
  m->cls_b = add_param (m, FALSE, "classifier.bias", BS_PARAM_BIAS, c->n_labels, 0);
}

/* Large arenas: aligned for the vector units, and a failure is an error the
 * user sees rather than an abort. what: marked with N_(). */
static float *
try_alloc_floats (gsize n, const char *what, GError **error)
{
  void *p = NULL;
  if (n > G_MAXSIZE / sizeof (float) || posix_memalign (&p, 64, MAX (n, 1) * sizeof (float)) != 0)
    {
      /* Translators: what needs the memory (such as “the gradients”) and how many megabytes */
      g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_NO_MEMORY, _("Not enough memory for %s (%.1f MB)"), _(what),
                   n * sizeof (float) / 1e6);
      return NULL;
    }
  return p;
}

BsModel *
bs_model_new (const BsConfig *config, GError **error)
{
  return bs_model_new_with_head (config, BS_HEAD_CLASSIFIER, error);
}

BsModel *
bs_model_new_with_head (const BsConfig *config, BsHeadKind head, GError **error)
{
  if (!bs_config_validate (config, "config", error))
    return NULL;
  if (head == BS_HEAD_MASKED_LM && config->arch != BS_ARCH_BERT)
    {
      g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT,
                   _("Masked-language-model pretraining needs a BERT model, not DistilBERT"));
      return NULL;
    }
  g_autoptr (BsModel) m = g_new0 (BsModel, 1);
  m->head_kind = head;
  m->config = bs_config_copy (config);
  m->config->masked_lm = head == BS_HEAD_MASKED_LM;
  m->params = g_array_new (FALSE, TRUE, sizeof (BsParam));
  m->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  m->layers = g_new0 (LayerParams, config->n_layers);
  if (config->arch == BS_ARCH_BERT)
    build_bert_params (m);
  else
    build_distilbert_params (m);
  for (guint i = 0; i < m->params->len; i++)
    {
      BsParam *p = &g_array_index (m->params, BsParam, i);
      g_hash_table_insert (m->by_name, p->name, p);
    }
  m->weights = try_alloc_floats (m->n_weights, N_("the model's parameters"), error);
  if (m->weights == NULL)
    return NULL;
  memset (m->weights, 0, m->n_weights * sizeof (float));
  return g_steal_pointer (&m);
}

void
bs_model_free (BsModel *m)
{
  if (m == NULL)
    return;
  if (m->params != NULL)
    for (guint i = 0; i < m->params->len; i++)
      g_free (g_array_index (m->params, BsParam, i).name);
  g_clear_pointer (&m->params, g_array_unref);
  g_clear_pointer (&m->by_name, g_hash_table_unref);
  free (m->weights);
  free (m->grads);
  g_free (m->layers);
  bs_config_free (m->config);
  g_free (m);
}

const BsConfig *
bs_model_get_config (const BsModel *m)
{
  return m->config;
}

BsHeadKind
bs_model_get_head (const BsModel *m)
{
  return m->head_kind;
}

const char *
bs_model_get_prefix (const BsModel *m)
{
  return m->config->arch == BS_ARCH_BERT ? "bert." : "distilbert.";
}

guint
bs_model_get_n_params (const BsModel *m)
{
  return m->params->len;
}

const BsParam *
bs_model_get_param (const BsModel *m, guint index)
{
  g_return_val_if_fail (index < m->params->len, NULL);
  return &g_array_index (m->params, BsParam, index);
}

const BsParam *
bs_model_find_param (const BsModel *m, const char *name)
{
  return g_hash_table_lookup (m->by_name, name);
}

gsize
bs_model_get_n_weights (const BsModel *m)
{
  return m->n_weights;
}

float *
bs_model_get_weights (BsModel *m)
{
  return m->weights;
}

const float *
bs_model_peek_weights (const BsModel *m)
{
  return m->weights;
}

float *
bs_model_get_grads (BsModel *m)
{
  return m->grads;
}

gboolean
bs_model_enable_grads (BsModel *m, GError **error)
{
  if (m->grads != NULL)
    return TRUE;
  m->grads = try_alloc_floats (m->n_weights, N_("the gradients"), error);
  if (m->grads == NULL)
    return FALSE;
  bs_model_zero_grads (m);
  return TRUE;
}

void
bs_model_zero_grads (BsModel *m)
{
  if (m->grads != NULL)
    memset (m->grads, 0, m->n_weights * sizeof (float));
}

void
bs_model_init_param (BsModel *m, guint index, guint64 seed)
{
  const BsParam *p = bs_model_get_param (m, index);
  BsRandom rng;
  bs_random_init (&rng, seed ^ ((guint64) index << 32));
  double std = m->config->initializer_range;
  float *w = m->weights + p->offset;
  switch (p->kind)
    {
    case BS_PARAM_MATRIX:
    case BS_PARAM_EMBEDDING:
      for (gsize k = 0; k < p->n_elements; k++)
        w[k] = (float) (std * bs_random_normal (&rng));
      if (p->offset == m->word)
        memset (w + (gsize) m->config->pad_token_id * p->shape[1], 0, sizeof (float) * p->shape[1]);
      break;
    case BS_PARAM_NORM_WEIGHT:
      for (gsize k = 0; k < p->n_elements; k++)
        w[k] = 1.0f;
      break;
    case BS_PARAM_BIAS:
    case BS_PARAM_NORM_BIAS:
      memset (w, 0, sizeof (float) * p->n_elements);
      break;
    }
}

void
bs_model_init_weights (BsModel *m, guint64 seed)
{
  for (guint i = 0; i < m->params->len; i++)
    bs_model_init_param (m, i, seed);
}

void
bs_model_init_head (BsModel *m, guint64 seed)
{
  for (guint i = 0; i < m->params->len; i++)
    if (g_array_index (m->params, BsParam, i).head)
      bs_model_init_param (m, i, seed);
}

/* ---- workspace ---- */

BsWorkspace *
bs_workspace_new (void)
{
  return g_new0 (BsWorkspace, 1);
}

void
bs_workspace_free (BsWorkspace *ws)
{
  if (ws == NULL)
    return;
  free (ws->arena);
  g_free (ws->bytes);
  g_free (ws->layers);
  g_free (ws->ids);
  g_free (ws->types);
  g_free (ws->mask);
  g_free (ws->positions);
  g_free (ws);
}

void
bs_workspace_set_dropout (BsWorkspace *ws, gboolean enabled, guint64 seed)
{
  ws->dropout_enabled = enabled;
  ws->seed = seed;
  ws->step = 0;
}

void
bs_workspace_set_dropout_step (BsWorkspace *ws, guint64 step)
{
  ws->step = step;
}

gsize
bs_workspace_get_size (const BsWorkspace *ws)
{
  return ws->arena_floats * sizeof (float) + ws->n_bytes;
}

/* Hands out consecutive pieces of the arenas; a first pass with no arena
 * only measures. */
typedef struct
{
  float *floats;
  gsize n_floats;
  guint8 *bytes;
  gsize n_bytes;
} Carver;

static float *
carve (Carver *c, gsize n)
{
  float *p = c->floats != NULL ? c->floats + c->n_floats : NULL;
  c->n_floats += (n + 15) & ~(gsize) 15;
  return p;
}

static guint8 *
carve_bytes (Carver *c, gsize n)
{
  guint8 *p = c->bytes != NULL ? c->bytes + c->n_bytes : NULL;
  c->n_bytes += (n + 63) & ~(gsize) 63;
  return p;
}

/* The classifier's last layer computes the first token's row only. */
static gboolean
first_rows_only (const BsModel *m, int l)
{
  return m->head_kind == BS_HEAD_CLASSIFIER && l == m->config->n_layers - 1;
}

static void
plan (BsWorkspace *ws, Carver *cv, const BsModel *m, int b, int t, gboolean train, gboolean dropout)
{
  const BsConfig *cfg = m->config;
  gsize n = (gsize) b * t, c = (gsize) cfg->hidden_size, inter = (gsize) cfg->intermediate_size;
  gsize probs = (gsize) b * cfg->n_heads * t * t;
  gboolean drop_hidden = dropout && cfg->hidden_dropout > 0.0;
  gboolean drop_attn = dropout && cfg->attention_dropout > 0.0;

  ws->emb_sum = carve (cv, n * c);
  ws->emb_mean = train ? carve (cv, n) : NULL;
  ws->emb_rstd = train ? carve (cv, n) : NULL;
  ws->x0 = train ? carve (cv, n * c) : ws->emb_sum; /* inference: LayerNorm in place */
  ws->emb_drop = drop_hidden ? carve_bytes (cv, n * c) : NULL;

  /* Inference reuses one set of buffers for every layer; its output
   * overwrites its input, which is dead by then. */
  for (int l = 0; l < ws->n_layer_slots; l++)
    {
      LayerActs *a = &ws->layers[l];
      if (!train && l > 0)
        {
          *a = ws->layers[0];
          continue;
        }
      /* rows after attention: B in the classifier's last layer when training */
      gsize rows = train && first_rows_only (m, l) ? (gsize) b : n;
      gsize layer_probs = train && first_rows_only (m, l) ? (gsize) b * cfg->n_heads * t : probs;
      a->qkv = carve (cv, n * 3 * c);
      a->probs = carve (cv, layer_probs);
      a->ctx = carve (cv, rows * c);
      a->res1 = carve (cv, rows * c);
      a->a = carve (cv, rows * c);
      a->h1 = carve (cv, rows * inter);
      a->res2 = train ? carve (cv, rows * c) : a->res1;
      a->out = train ? carve (cv, rows * c) : ws->x0;
      a->mean1 = train ? carve (cv, rows) : NULL;
      a->rstd1 = train ? carve (cv, rows) : NULL;
      a->mean2 = train ? carve (cv, rows) : NULL;
      a->rstd2 = train ? carve (cv, rows) : NULL;
      a->attn_drop = drop_attn ? carve_bytes (cv, layer_probs) : NULL;
      a->drop1 = drop_hidden && cfg->arch == BS_ARCH_BERT ? carve_bytes (cv, rows * c) : NULL;
      a->drop2 = drop_hidden ? carve_bytes (cv, rows * c) : NULL;
      a->q_cls = carve (cv, (gsize) b * c);
      a->x_cls = carve (cv, (gsize) b * c);
    }

  gboolean mlm = m->head_kind == BS_HEAD_MASKED_LM;
  gsize pc = (gsize) ws->n_masked * c;
  ws->mlm_x = mlm ? carve (cv, pc) : NULL;
  ws->mlm_pre = mlm ? carve (cv, pc) : NULL;
  ws->mlm_act = mlm ? carve (cv, pc) : NULL;
  ws->mlm_h = mlm ? carve (cv, pc) : NULL;
  ws->mlm_mean = mlm ? carve (cv, (gsize) ws->n_masked) : NULL;
  ws->mlm_rstd = mlm ? carve (cv, (gsize) ws->n_masked) : NULL;
  ws->mlm_d1 = mlm && train ? carve (cv, pc) : NULL;
  ws->mlm_d2 = mlm && train ? carve (cv, pc) : NULL;

  ws->pooled = carve (cv, (gsize) b * c);
  gboolean drop_head = dropout && cfg->classifier_dropout > 0.0;
  ws->pooled_d = drop_head ? carve (cv, (gsize) b * c) : ws->pooled;
  ws->head_drop = drop_head ? carve_bytes (cv, (gsize) b * c) : NULL;

  ws->attn1 = train || drop_attn ? carve (cv, probs) : NULL;
  if (!train)
    return;
  ws->gelu = carve (cv, n * inter);
  ws->gelu_grad = carve (cv, n * inter);
  ws->attn2 = carve (cv, probs);
  ws->dx_a = carve (cv, n * c);
  ws->dx_b = carve (cv, n * c);
  ws->dres = carve (cv, n * c);
  ws->dqkv = carve (cv, n * 3 * c);
  ws->dctx = carve (cv, n * c);
  ws->dh1 = carve (cv, n * inter);
  ws->dhead1 = carve (cv, (gsize) b * c);
  ws->dhead2 = carve (cv, (gsize) b * c);
  ws->dx_cls = carve (cv, (gsize) b * c);
  ws->dq_cls = carve (cv, (gsize) b * c);
}

static gboolean
workspace_prepare (BsWorkspace *ws, const BsModel *m, const BsBatch *batch, gboolean train, GError **error)
{
  const BsConfig *cfg = m->config;
  gboolean dropout = train && ws->dropout_enabled;
  int slots = train ? cfg->n_layers : 1;
  if (ws->n_layer_slots != slots)
    {
      g_free (ws->layers);
      ws->layers = g_new0 (LayerActs, slots);
      ws->n_layer_slots = slots;
    }
  Carver measure = { 0 };
  plan (ws, &measure, m, batch->batch_size, batch->seq_len, train, dropout);
  if (measure.n_floats > ws->arena_floats)
    {
      free (ws->arena);
      ws->arena_floats = 0;
      ws->arena = try_alloc_floats (measure.n_floats, N_("the activations"), error);
      if (ws->arena == NULL)
        return FALSE;
      ws->arena_floats = measure.n_floats;
    }
  if (measure.n_bytes > ws->n_bytes)
    {
      g_free (ws->bytes);
      ws->bytes = g_try_malloc (measure.n_bytes);
      ws->n_bytes = ws->bytes != NULL ? measure.n_bytes : 0;
      if (ws->bytes == NULL)
        {
          g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_NO_MEMORY, _("Not enough memory for the dropout masks"));
          return FALSE;
        }
    }
  Carver cv = { ws->arena, 0, ws->bytes, 0 };
  plan (ws, &cv, m, batch->batch_size, batch->seq_len, train, dropout);

  gsize n = (gsize) batch->batch_size * batch->seq_len;
  ws->model = m;
  ws->train = train;
  ws->dropout = dropout;
  ws->b = batch->batch_size;
  ws->t = batch->seq_len;
  if (train)
    {
      /* the backward needs the inputs after the caller's arrays are gone */
      ws->ids = g_realloc_n (ws->ids, n, sizeof (gint32));
      memcpy (ws->ids, batch->input_ids, n * sizeof (gint32));
      g_clear_pointer (&ws->types, g_free);
      g_clear_pointer (&ws->mask, g_free);
      if (batch->token_type_ids != NULL)
        ws->types = g_memdup2 (batch->token_type_ids, n * sizeof (gint32));
      if (batch->attention_mask != NULL)
        ws->mask = g_memdup2 (batch->attention_mask, n * sizeof (gint32));
    }
  return TRUE;
}

/* ---- forward ---- */

static gboolean
check_batch (const BsModel *m, const BsBatch *batch, GError **error)
{
  const BsConfig *c = m->config;
  if (batch->batch_size < 1 || batch->seq_len < 1)
    {
      /* Translators: the batch's number of examples and of tokens per example */
      g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT, _("Empty batch (%d × %d tokens)"), batch->batch_size,
                   batch->seq_len);
      return FALSE;
    }
  if (batch->seq_len > c->max_position_embeddings)
    {
      g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT,
                   _("Sequences of %d tokens are longer than the model's %d positions"), batch->seq_len,
                   c->max_position_embeddings);
      return FALSE;
    }
  gsize n = (gsize) batch->batch_size * batch->seq_len;
  for (gsize i = 0; i < n; i++)
    {
      if (batch->input_ids[i] < 0 || batch->input_ids[i] >= c->vocab_size)
        {
          g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT,
                       /* Translators: a token id, the example and position it has in the batch (from 0),
                          and the vocabulary's size */
                       _("Token id %d (example %zu, position %zu) is outside the model's vocabulary of %d"),
                       batch->input_ids[i], i / batch->seq_len, i % batch->seq_len, c->vocab_size);
          return FALSE;
        }
      if (c->arch == BS_ARCH_BERT && batch->token_type_ids != NULL
          && (batch->token_type_ids[i] < 0 || batch->token_type_ids[i] >= c->type_vocab_size))
        {
          g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT,
                       /* Translators: a token type id, the example and position it has in the batch (from 0),
                          and the number of token types */
                       _("Token type %d (example %zu, position %zu) is outside the model's %d types"),
                       batch->token_type_ids[i], i / batch->seq_len, i % batch->seq_len, c->type_vocab_size);
          return FALSE;
        }
    }
  return TRUE;
}

static BsDropoutStream
dropout_stream (const BsWorkspace *ws, guint64 site)
{
  return (BsDropoutStream) { ws->seed, (ws->step << 20) | site };
}

/* After attention, on `rows` rows: a = LN1(drop(ctx Wo) + x), out =
 * LN2(drop(gelu(a W1) W2) + a), x the residual input. */
static void
tail_forward (const BsModel *m, BsWorkspace *ws, int l, LayerActs *a, const float *x, int rows)
{
  const BsConfig *cfg = m->config;
  const LayerParams *o = &m->layers[l];
  const float *w = m->weights;
  int c = cfg->hidden_size, inter = cfg->intermediate_size;
  gsize nc = (gsize) rows * c;
  float p_hidden = ws->dropout ? (float) cfg->hidden_dropout : 0.0f;

  bs_linear_forward (a->res1, a->ctx, w + o->o_w, w + o->o_b, rows, c, c);
  if (a->drop1 != NULL && p_hidden > 0.0f)
    bs_dropout_forward (a->res1, a->drop1, nc, p_hidden, dropout_stream (ws, 2 + 4 * (guint64) l));
  bs_add_inplace (a->res1, x, nc);
  bs_layernorm_forward (a->a, a->mean1, a->rstd1, a->res1, w + o->ln1_w, w + o->ln1_b, rows, c,
                        (float) cfg->layer_norm_eps);

  bs_linear_forward (a->h1, a->a, w + o->fc1_w, w + o->fc1_b, rows, c, inter);
  /* training keeps the pre-activation and recomputes GELU in the backward */
  float *g = ws->train ? ws->gelu : a->h1;
  bs_gelu_forward (g, a->h1, (gsize) rows * inter);
  bs_linear_forward (a->res2, g, w + o->fc2_w, w + o->fc2_b, rows, inter, c);
  if (a->drop2 != NULL && p_hidden > 0.0f)
    bs_dropout_forward (a->res2, a->drop2, nc, p_hidden, dropout_stream (ws, 3 + 4 * (guint64) l));
  bs_add_inplace (a->res2, a->a, nc);
  bs_layernorm_forward (a->out, a->mean2, a->rstd2, a->res2, w + o->ln2_w, w + o->ln2_b, rows, c,
                        (float) cfg->layer_norm_eps);
}

static void
layer_forward (const BsModel *m, BsWorkspace *ws, int l, const float *x_in, const gint32 *mask)
{
  const BsConfig *cfg = m->config;
  const LayerParams *o = &m->layers[l];
  LayerActs *a = &ws->layers[ws->train ? l : 0];
  const float *w = m->weights;
  int b = ws->b, t = ws->t, n = b * t, c = cfg->hidden_size;
  BsAttentionShape sh = { b, t, t, c, cfg->n_heads, mask, ws->dropout ? (float) cfg->attention_dropout : 0.0f,
                          dropout_stream (ws, 1 + 4 * (guint64) l) };

  if (!first_rows_only (m, l))
    {
      bs_linear_forward (a->qkv, x_in, w + o->qkv_w, w + o->qkv_b, n, c, 3 * c);
      bs_attention_forward (a->ctx, a->probs, a->attn_drop, ws->attn1, a->qkv, 3 * c, a->qkv + c, 3 * c, &sh);
      tail_forward (m, ws, l, a, x_in, n);
      return;
    }
  /* the last layer: keys and values of every row, the rest for the first */
  bs_gather_first_token (a->x_cls, x_in, b, t, c);
  bs_linear_forward (a->q_cls, a->x_cls, w + o->qkv_w, w + o->qkv_b, b, c, c);
  bs_linear_forward (a->qkv, x_in, w + o->qkv_w + (gsize) c * c, w + o->qkv_b + c, n, c, 2 * c);
  sh.tq = 1;
  bs_attention_forward (a->ctx, a->probs, a->attn_drop, ws->attn1, a->q_cls, c, a->qkv, 2 * c, &sh);
  tail_forward (m, ws, l, a, a->x_cls, b);
}

/* Embeddings and layers, into a prepared workspace; returns the last
 * layer's output (the first rows only, for a classifier). */
static const float *
encoder_forward (const BsModel *m, BsWorkspace *ws, const BsBatch *batch)
{
  const BsConfig *cfg = m->config;
  const float *w = m->weights;
  int b = batch->batch_size, t = batch->seq_len, n = b * t, c = cfg->hidden_size;
  gboolean bert = cfg->arch == BS_ARCH_BERT;
  if (ws->dropout)
    ws->step++;

  bs_embeddings_forward (ws->emb_sum, batch->input_ids, batch->token_type_ids, w + m->word, w + m->pos,
                         bert ? w + m->type : NULL, b, t, c);
  bs_layernorm_forward (ws->x0, ws->emb_mean, ws->emb_rstd, ws->emb_sum, w + m->emb_ln_w, w + m->emb_ln_b, n, c,
                        (float) cfg->layer_norm_eps);
  if (ws->emb_drop != NULL)
    bs_dropout_forward (ws->x0, ws->emb_drop, (gsize) n * c, (float) cfg->hidden_dropout, dropout_stream (ws, 0));

  const float *x = ws->x0;
  for (int l = 0; l < cfg->n_layers; l++)
    {
      layer_forward (m, ws, l, x, batch->attention_mask);
      x = ws->layers[ws->train ? l : 0].out;
    }
  return x;
}

static gboolean
forward (const BsModel *m, BsWorkspace *ws, const BsBatch *batch, gboolean train, float *logits, GError **error)
{
  g_return_val_if_fail (m->head_kind == BS_HEAD_CLASSIFIER, FALSE);
  ws->n_masked = 0;
  if (!check_batch (m, batch, error) || !workspace_prepare (ws, m, batch, train, error))
    return FALSE;
  const BsConfig *cfg = m->config;
  const float *w = m->weights;
  int b = batch->batch_size, c = cfg->hidden_size;
  gboolean bert = cfg->arch == BS_ARCH_BERT;

  ws->cls_in = (float *) encoder_forward (m, ws, batch); /* the first rows only */
  bs_linear_forward (ws->pooled, ws->cls_in, w + m->head_w, w + m->head_b, b, c, c);
  if (bert)
    bs_tanh_forward (ws->pooled, ws->pooled, (gsize) b * c);
  else
    bs_relu_forward (ws->pooled, ws->pooled, (gsize) b * c);
  if (ws->head_drop != NULL)
    {
      memcpy (ws->pooled_d, ws->pooled, sizeof (float) * b * c);
      bs_dropout_forward (ws->pooled_d, ws->head_drop, (gsize) b * c, (float) cfg->classifier_dropout,
                          dropout_stream (ws, (1u << 19)));
    }
  bs_linear_forward (logits, ws->pooled_d, w + m->cls_w, w + m->cls_b, b, c, cfg->n_labels);
  return TRUE;
}

gboolean
bs_model_infer (const BsModel *m, BsWorkspace *ws, const BsBatch *batch, float *logits, GError **error)
{
  return forward (m, ws, batch, FALSE, logits, error);
}

gboolean
bs_model_forward (BsModel *m, BsWorkspace *ws, const BsBatch *batch, float *logits, GError **error)
{
  return bs_model_enable_grads (m, error) && forward (m, ws, batch, TRUE, logits, error);
}

/* ---- backward ---- */

/* The backward of tail_forward: dout (rows, C) is the gradient of the
 * output and is used as scratch; writes the gradient of the residual input
 * into dx and leaves the gradient of ctx in ws->dctx. */
static void
tail_backward (BsModel *m, BsWorkspace *ws, int l, const LayerActs *a, int rows, float *dout, float *dx)
{
  const BsConfig *cfg = m->config;
  const LayerParams *o = &m->layers[l];
  const float *w = m->weights;
  float *g = m->grads;
  int c = cfg->hidden_size, inter = cfg->intermediate_size;
  gsize nc = (gsize) rows * c;
  float p_hidden = (float) cfg->hidden_dropout;

  /* out = LN2(res2), res2 = drop(gelu(a W1) W2) + a */
  bs_layernorm_backward (ws->dres, g + o->ln2_w, g + o->ln2_b, dout, a->res2, w + o->ln2_w, a->mean2, a->rstd2,
                         rows, c);
  float *da = dout;
  memcpy (da, ws->dres, nc * sizeof (float));
  if (a->drop2 != NULL)
    bs_dropout_backward (ws->dres, ws->dres, a->drop2, nc, p_hidden);
  bs_gelu_forward_with_grad (ws->gelu, ws->gelu_grad, a->h1, (gsize) rows * inter);
  bs_linear_backward (ws->dh1, 0.0f, g + o->fc2_w, g + o->fc2_b, ws->dres, ws->gelu, w + o->fc2_w, rows, inter, c);
  bs_mul_inplace (ws->dh1, ws->gelu_grad, (gsize) rows * inter);
  bs_linear_backward (da, 1.0f, g + o->fc1_w, g + o->fc1_b, ws->dh1, a->a, w + o->fc1_w, rows, c, inter);

  /* a = LN1(res1), res1 = drop(ctx Wo) + x */
  bs_layernorm_backward (ws->dres, g + o->ln1_w, g + o->ln1_b, da, a->res1, w + o->ln1_w, a->mean1, a->rstd1, rows,
                         c);
  memcpy (dx, ws->dres, nc * sizeof (float));
  if (a->drop1 != NULL)
    bs_dropout_backward (ws->dres, ws->dres, a->drop1, nc, p_hidden);
  bs_linear_backward (ws->dctx, 0.0f, g + o->o_w, g + o->o_b, ws->dres, a->ctx, w + o->o_w, rows, c, c);
}

/* dout: gradient of the layer's output (B rows in the last layer); writes
 * the gradient of its input into dx (all rows). dout is used as scratch. */
static void
layer_backward (BsModel *m, BsWorkspace *ws, int l, const float *x_in, float *dout, float *dx)
{
  const BsConfig *cfg = m->config;
  const LayerParams *o = &m->layers[l];
  const LayerActs *a = &ws->layers[l];
  const float *w = m->weights;
  float *g = m->grads;
  int b = ws->b, t = ws->t, n = b * t, c = cfg->hidden_size;
  BsAttentionShape sh = { b, t, t, c, cfg->n_heads, ws->mask, ws->dropout ? (float) cfg->attention_dropout : 0.0f,
                          { 0, 0 } };

  if (!first_rows_only (m, l))
    {
      tail_backward (m, ws, l, a, n, dout, dx);
      bs_attention_backward (ws->dqkv, ws->dqkv + c, ws->attn1, ws->attn2, ws->dctx, a->qkv, 3 * c, a->qkv + c,
                             3 * c, a->probs, a->attn_drop, &sh);
      bs_linear_backward (dx, 1.0f, g + o->qkv_w, g + o->qkv_b, ws->dqkv, x_in, w + o->qkv_w, n, c, 3 * c);
      return;
    }
  tail_backward (m, ws, l, a, b, dout, ws->dx_cls);
  sh.tq = 1;
  bs_attention_backward (ws->dq_cls, ws->dqkv, ws->attn1, ws->attn2, ws->dctx, a->q_cls, c, a->qkv, 2 * c,
                         a->probs, a->attn_drop, &sh);
  /* keys and values came from every row, the query and the residual from the first */
  bs_linear_backward (dx, 0.0f, g + o->qkv_w + (gsize) c * c, g + o->qkv_b + c, ws->dqkv, x_in,
                      w + o->qkv_w + (gsize) c * c, n, c, 2 * c);
  bs_linear_backward (ws->dx_cls, 1.0f, g + o->qkv_w, g + o->qkv_b, ws->dq_cls, a->x_cls, w + o->qkv_w, b, c, c);
  for (int i = 0; i < b; i++)
    bs_add_inplace (dx + (gsize) i * t * c, ws->dx_cls + (gsize) i * c, c);
}

/* From the gradient of the last layer's output (dout, used as scratch; dx
 * ws->dx_a, or dx_b when dout is dx_a) down to the embeddings' parameters. */
static void
encoder_backward (BsModel *m, BsWorkspace *ws, float *dout, float *dx)
{
  const BsConfig *cfg = m->config;
  const float *w = m->weights;
  float *g = m->grads;
  int b = ws->b, t = ws->t, n = b * t, c = cfg->hidden_size;
  gsize nc = (gsize) n * c;
  gboolean bert = cfg->arch == BS_ARCH_BERT;
  for (int l = cfg->n_layers - 1; l >= 0; l--)
    {
      const float *x_in = l == 0 ? ws->x0 : ws->layers[l - 1].out;
      layer_backward (m, ws, l, x_in, dout, dx);
      dout = dx;
      dx = dx == ws->dx_a ? ws->dx_b : ws->dx_a;
    }

  /* x0 = drop(LN(word + type + pos)) */
  if (ws->emb_drop != NULL)
    bs_dropout_backward (dout, dout, ws->emb_drop, nc, (float) cfg->hidden_dropout);
  bs_layernorm_backward (dout, g + m->emb_ln_w, g + m->emb_ln_b, dout, ws->emb_sum, w + m->emb_ln_w, ws->emb_mean,
                         ws->emb_rstd, n, c);
  bs_embeddings_backward (g + m->word, g + m->pos, bert ? g + m->type : NULL, dout, ws->ids, ws->types,
                          cfg->pad_token_id, b, t, c);
}

void
bs_model_backward (BsModel *m, BsWorkspace *ws, const float *dlogits)
{
  g_return_if_fail (ws->train && ws->model == m && m->grads != NULL && m->head_kind == BS_HEAD_CLASSIFIER);
  const BsConfig *cfg = m->config;
  const float *w = m->weights;
  float *g = m->grads;
  int b = ws->b, c = cfg->hidden_size;
  gboolean bert = cfg->arch == BS_ARCH_BERT;

  /* head: logits = drop(act(cls_in Wp)) Wc */
  bs_linear_backward (ws->dhead1, 0.0f, g + m->cls_w, g + m->cls_b, dlogits, ws->pooled_d, w + m->cls_w, b, c,
                      cfg->n_labels);
  if (ws->head_drop != NULL)
    bs_dropout_backward (ws->dhead1, ws->dhead1, ws->head_drop, (gsize) b * c, (float) cfg->classifier_dropout);
  if (bert)
    bs_tanh_backward (ws->dhead1, ws->dhead1, ws->pooled, (gsize) b * c);
  else
    bs_relu_backward (ws->dhead1, ws->dhead1, ws->pooled, (gsize) b * c);
  bs_linear_backward (ws->dhead2, 0.0f, g + m->head_w, g + m->head_b, ws->dhead1, ws->cls_in, w + m->head_w, b, c,
                      c);

  /* the head read the last layer's first rows: dhead2 is their gradient */
  encoder_backward (m, ws, ws->dhead2, ws->dx_a);
}

/* ---- the masked-LM head ---- */

gboolean
bs_model_forward_masked_lm (BsModel *m, BsWorkspace *ws, const BsBatch *batch, const gint32 *positions,
                            int n_positions, float *logits, GError **error)
{
  g_return_val_if_fail (m->head_kind == BS_HEAD_MASKED_LM, FALSE);
  if (!check_batch (m, batch, error))
    return FALSE;
  gint64 n = (gint64) batch->batch_size * batch->seq_len;
  for (int i = 0; i < n_positions; i++)
    if (positions[i] < 0 || positions[i] >= n || (i > 0 && positions[i] <= positions[i - 1]))
      {
        g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT,
                     /* Translators: a position's index in a list, its value, and the batch's number of tokens */
                     _("Masked position %d (%d) is out of order or outside the batch's %" G_GINT64_FORMAT " tokens"),
                     i, positions[i], n);
        return FALSE;
      }
  if (n_positions < 1)
    {
      g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT, _("No masked positions to predict"));
      return FALSE;
    }
  ws->n_masked = n_positions;
  if (!bs_model_enable_grads (m, error) || !workspace_prepare (ws, m, batch, TRUE, error))
    return FALSE;
  ws->positions = g_realloc_n (ws->positions, n_positions, sizeof (gint32));
  memcpy (ws->positions, positions, n_positions * sizeof (gint32));

  const BsConfig *cfg = m->config;
  const float *w = m->weights;
  int c = cfg->hidden_size;
  gsize pc = (gsize) n_positions * c;
  const float *x = encoder_forward (m, ws, batch);
  for (int i = 0; i < n_positions; i++)
    memcpy (ws->mlm_x + (gsize) i * c, x + (gsize) positions[i] * c, c * sizeof (float));
  bs_linear_forward (ws->mlm_pre, ws->mlm_x, w + m->mlm_w, w + m->mlm_b, n_positions, c, c);
  bs_gelu_forward (ws->mlm_act, ws->mlm_pre, pc);
  bs_layernorm_forward (ws->mlm_h, ws->mlm_mean, ws->mlm_rstd, ws->mlm_act, w + m->mlm_ln_w, w + m->mlm_ln_b,
                        n_positions, c, (float) cfg->layer_norm_eps);
  bs_linear_forward (logits, ws->mlm_h, w + m->word, w + m->mlm_bias, n_positions, c, cfg->vocab_size);
  return TRUE;
}

void
bs_model_backward_masked_lm (BsModel *m, BsWorkspace *ws, const float *dlogits)
{
  g_return_if_fail (ws->train && ws->model == m && m->grads != NULL && ws->n_masked > 0);
  const BsConfig *cfg = m->config;
  const float *w = m->weights;
  float *g = m->grads;
  int p = ws->n_masked, c = cfg->hidden_size;
  gsize pc = (gsize) p * c;

  /* the decoder is the word table: its gradient joins the embeddings' */
  bs_linear_backward (ws->mlm_d1, 0.0f, g + m->word, g + m->mlm_bias, dlogits, ws->mlm_h, w + m->word, p, c,
                      cfg->vocab_size);
  bs_layernorm_backward (ws->mlm_d2, g + m->mlm_ln_w, g + m->mlm_ln_b, ws->mlm_d1, ws->mlm_act, w + m->mlm_ln_w,
                         ws->mlm_mean, ws->mlm_rstd, p, c);
  bs_gelu_backward (ws->mlm_d2, ws->mlm_d2, ws->mlm_pre, pc);
  bs_linear_backward (ws->mlm_d1, 0.0f, g + m->mlm_w, g + m->mlm_b, ws->mlm_d2, ws->mlm_x, w + m->mlm_w, p, c, c);

  /* the other rows of the last layer got no gradient */
  float *dout = ws->dx_b;
  memset (dout, 0, (gsize) ws->b * ws->t * c * sizeof (float));
  for (int i = 0; i < p; i++)
    memcpy (dout + (gsize) ws->positions[i] * c, ws->mlm_d1 + (gsize) i * c, c * sizeof (float));
  encoder_backward (m, ws, dout, ws->dx_a);
}
