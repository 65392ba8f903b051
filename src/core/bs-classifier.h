/* bs-classifier.h: a model folder ready to classify text: the model, its
 * tokenizer and what the texts are cut to. Thread-safe: each call borrows a
 * workspace of its own. */
#pragma once

#include <glib.h>

#include "bs-model.h"
#include "bs-tokenizer.h"

G_BEGIN_DECLS

/* How a text longer than max_length is cut: its head, or its head and its
 * tail (a quarter from the start, the rest from the end; better on long
 * reviews, Sun et al. 2019). */
typedef enum
{
  BS_TRUNCATE_HEAD,
  BS_TRUNCATE_HEAD_TAIL,
} BsTruncation;

const char *bs_truncation_to_string (BsTruncation truncation);
gboolean bs_truncation_from_string (const char *name,
                                    BsTruncation *out);

/* Token ids ([CLS] ... [SEP]) of text cut to max_length; returns the length. */
guint bs_encode_truncated (const BsTokenizer *tokenizer,
                           BsEncoding *scratch,
                           const char *text,
                           guint max_length,
                           BsTruncation truncation,
                           gint32 *ids);

typedef struct _BsClassifier BsClassifier;

/* Loads config.json, model.safetensors, vocab.txt (and tokenizer_config.json)
 * from dir. max_length 0: the model card's (model_card.json, bs-model-card.h)
 * when the folder has one that says, else the model's
 * max_position_embeddings, at most 512. Texts are cut as the card says
 * (head by default); bs_classifier_set_truncation changes that. A card that
 * does not parse is an error, as is any other broken file of the folder. */
BsClassifier *bs_classifier_load (const char *dir,
                                  guint max_length,
                                  GError **error);
BsClassifier *bs_classifier_new (BsModel *model,
                                 BsTokenizer *tokenizer,
                                 guint max_length,
                                 BsTruncation truncation);
void bs_classifier_free (BsClassifier *classifier);

const BsModel *bs_classifier_get_model (const BsClassifier *classifier);
const BsTokenizer *bs_classifier_get_tokenizer (const BsClassifier *classifier);
guint bs_classifier_get_max_length (const BsClassifier *classifier);
void bs_classifier_set_truncation (BsClassifier *classifier,
                                   BsTruncation truncation);
BsTruncation bs_classifier_get_truncation (const BsClassifier *classifier);
int bs_classifier_get_n_labels (const BsClassifier *classifier);
const char *bs_classifier_get_label (const BsClassifier *classifier,
                                     int index);

/* Class probabilities (n_texts × n_labels) of texts, in batches padded to
 * their longest text. */
gboolean bs_classifier_predict (BsClassifier *classifier,
                                const char *const *texts,
                                gsize n_texts,
                                float *probabilities,
                                GError **error);
/* The same, returning logits. */
gboolean bs_classifier_logits (BsClassifier *classifier,
                               const char *const *texts,
                               gsize n_texts,
                               float *logits,
                               GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsClassifier, bs_classifier_free)

G_END_DECLS
