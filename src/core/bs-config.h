/* bs-config.h: a model's shape and settings, read from and written to a
 * Hugging Face config.json (BERT and DistilBERT spellings). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BS_CONFIG_ERROR (bs_config_error_quark ())
GQuark bs_config_error_quark (void);

typedef enum
{
  BS_CONFIG_ERROR_IO,
  BS_CONFIG_ERROR_PARSE,
  BS_CONFIG_ERROR_MISSING,
  BS_CONFIG_ERROR_INVALID,
  BS_CONFIG_ERROR_UNSUPPORTED,
} BsConfigError;

typedef enum
{
  BS_ARCH_BERT,
  BS_ARCH_DISTILBERT,
} BsArch;

typedef struct
{
  BsArch arch;
  int vocab_size;
  int hidden_size;
  int n_layers;
  int n_heads;
  int intermediate_size;
  int max_position_embeddings;
  int type_vocab_size; /* 0 for DistilBERT */
  int pad_token_id;
  double layer_norm_eps;
  double hidden_dropout;
  double attention_dropout;
  double classifier_dropout;
  double initializer_range;
  int n_labels;
  char **labels; /* n_labels names, index = class id */
  char *extra_json; /* the other members of the file, kept when saving */
  /* written as a masked-LM model (BertForMaskedLM) rather than a sequence
   * classifier; set by the model, not read from the file */
  gboolean masked_lm;
} BsConfig;

BsConfig *bs_config_new (BsArch arch);
BsConfig *bs_config_copy (const BsConfig *config);
void bs_config_free (BsConfig *config);

BsConfig *bs_config_load (const char *path,
                          GError **error);
BsConfig *bs_config_parse (const char *json,
                           gssize length,
                           const char *display_name,
                           GError **error);
char *bs_config_to_json (const BsConfig *config);
gboolean bs_config_save (const BsConfig *config,
                         const char *path,
                         GError **error);

/* Replaces the class names; the number of labels follows. */
void bs_config_set_labels (BsConfig *config,
                           const char *const *labels,
                           int n_labels);
gboolean bs_config_validate (const BsConfig *config,
                             const char *display_name,
                             GError **error);

const char *bs_arch_model_type (BsArch arch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsConfig, bs_config_free)

G_END_DECLS
