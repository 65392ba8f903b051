/* bs-model.h: BERT and DistilBERT sequence classifiers.
 *
 * All parameters live in one float arena (and their gradients in a second),
 * so the optimizer is one loop and a checkpoint is a list of views. Each
 * parameter carries its Hugging Face name. Activations live in a separate
 * BsWorkspace, so one model can serve several threads for inference. */
#pragma once

#include <glib.h>

#include "bs-config.h"

G_BEGIN_DECLS

#define BS_MODEL_ERROR (bs_model_error_quark ())
GQuark bs_model_error_quark (void);

typedef enum
{
  BS_MODEL_ERROR_INPUT,
  BS_MODEL_ERROR_NO_MEMORY,
} BsModelError;

typedef enum
{
  BS_PARAM_MATRIX,      /* Linear weight (out, in) */
  BS_PARAM_EMBEDDING,   /* table (rows, hidden) */
  BS_PARAM_BIAS,
  BS_PARAM_NORM_WEIGHT,
  BS_PARAM_NORM_BIAS,
} BsParamKind;

typedef struct
{
  char *name;          /* Hugging Face name, e.g. "bert.pooler.dense.weight" */
  BsParamKind kind;
  int n_dims;
  gint64 shape[2];
  gsize offset;        /* into the arenas, in floats */
  gsize n_elements;
  gboolean head;       /* part of the head, not the base model */
} BsParam;

/* What sits on the encoder: a sequence classifier (pooler and classifier,
 * the CLS token's row) or BERT's masked-LM head (transform dense + GELU +
 * LayerNorm, a decoder tied to the word embeddings and an output bias, on
 * the masked rows), saved under transformers' names cls.predictions.*. */
typedef enum
{
  BS_HEAD_CLASSIFIER,
  BS_HEAD_MASKED_LM,
} BsHeadKind;

typedef struct _BsModel BsModel;
typedef struct _BsWorkspace BsWorkspace;

typedef struct
{
  int batch_size;
  int seq_len;
  const gint32 *input_ids;       /* (B,T) */
  const gint32 *token_type_ids;  /* (B,T), or NULL for all 0; ignored by DistilBERT */
  const gint32 *attention_mask;  /* (B,T), 1 attended, 0 not; NULL for all 1 */
} BsBatch;

/* Parameters are zero until initialised or loaded. bs_model_new makes a
 * classifier; the masked-LM head needs a BERT config. */
BsModel *bs_model_new (const BsConfig *config,
                       GError **error);
BsModel *bs_model_new_with_head (const BsConfig *config,
                                 BsHeadKind head,
                                 GError **error);
BsHeadKind bs_model_get_head (const BsModel *model);
void bs_model_free (BsModel *model);

const BsConfig *bs_model_get_config (const BsModel *model);
/* "bert." or "distilbert.": the prefix of the base model's names */
const char *bs_model_get_prefix (const BsModel *model);
guint bs_model_get_n_params (const BsModel *model);
const BsParam *bs_model_get_param (const BsModel *model,
                                   guint index);
const BsParam *bs_model_find_param (const BsModel *model,
                                    const char *name);
gsize bs_model_get_n_weights (const BsModel *model);
float *bs_model_get_weights (BsModel *model);
const float *bs_model_peek_weights (const BsModel *model);
/* NULL until bs_model_enable_grads() */
float *bs_model_get_grads (BsModel *model);
gboolean bs_model_enable_grads (BsModel *model,
                                GError **error);
void bs_model_zero_grads (BsModel *model);

/* Hugging Face's initialisation: N(0, initializer_range) for matrices and
 * tables (the padding row zeroed), zero biases, LayerNorm weight 1. */
void bs_model_init_weights (BsModel *model,
                            guint64 seed);
/* The same, for the classification head only, or for one parameter. */
void bs_model_init_head (BsModel *model,
                         guint64 seed);
void bs_model_init_param (BsModel *model,
                          guint index,
                          guint64 seed);

BsWorkspace *bs_workspace_new (void);
void bs_workspace_free (BsWorkspace *ws);
/* Dropout in training forwards, with the probabilities from the config;
 * off by default. The seed makes the masks reproducible. */
void bs_workspace_set_dropout (BsWorkspace *ws,
                               gboolean enabled,
                               guint64 seed);
/* The number of training forwards so far: with the seed, it decides the
 * next dropout masks. Setting it resumes a run's exact masks. */
void bs_workspace_set_dropout_step (BsWorkspace *ws,
                                    guint64 step);
gsize bs_workspace_get_size (const BsWorkspace *ws);

/* The classifier's passes. Inference: logits (B, n_labels); keeps no activations. Safe to call from
 * several threads at once, each with its own workspace. */
gboolean bs_model_infer (const BsModel *model,
                         BsWorkspace *ws,
                         const BsBatch *batch,
                         float *logits,
                         GError **error);
/* Training forward: keeps what the backward needs. */
gboolean bs_model_forward (BsModel *model,
                           BsWorkspace *ws,
                           const BsBatch *batch,
                           float *logits,
                           GError **error);
/* Adds d loss / d parameter into the gradients, from dlogits (B, n_labels)
 * of the last bs_model_forward with this workspace. */
void bs_model_backward (BsModel *model,
                        BsWorkspace *ws,
                        const float *dlogits);

/* The masked-LM training forward: logits (n_positions, vocab_size) for the
 * tokens at positions (indices into the B×T tokens, increasing), such as
 * those a pretraining batch masked. Keeps what the backward needs. */
gboolean bs_model_forward_masked_lm (BsModel *model,
                                     BsWorkspace *ws,
                                     const BsBatch *batch,
                                     const gint32 *positions,
                                     int n_positions,
                                     float *logits,
                                     GError **error);
/* Adds d loss / d parameter from dlogits (n_positions, vocab_size). */
void bs_model_backward_masked_lm (BsModel *model,
                                  BsWorkspace *ws,
                                  const float *dlogits);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsModel, bs_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsWorkspace, bs_workspace_free)

G_END_DECLS
