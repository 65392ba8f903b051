/* bs-classifier.c: texts in, probabilities out. */
#include "config.h"

#include "bs-classifier.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "bs-checkpoint.h"
#include "bs-loss.h"
#include "bs-model-card.h"

#define PREDICT_BATCH 32

struct _BsClassifier
{
  BsModel *model;
  BsTokenizer *tokenizer;
  guint max_length;
  BsTruncation truncation;
  GMutex lock;        /* guards idle */
  GPtrArray *idle;    /* BsWorkspace*, free for the next call */
};

const char *
bs_truncation_to_string (BsTruncation truncation)
{
  return truncation == BS_TRUNCATE_HEAD_TAIL ? "head+tail" : "head";
}

gboolean
bs_truncation_from_string (const char *name, BsTruncation *out)
{
  if (g_strcmp0 (name, "head") == 0)
    *out = BS_TRUNCATE_HEAD;
  else if (g_strcmp0 (name, "head+tail") == 0)
    *out = BS_TRUNCATE_HEAD_TAIL;
  else
    return FALSE;
  return TRUE;
}

guint
bs_encode_truncated (const BsTokenizer *tokenizer, BsEncoding *scratch, const char *text, guint max_length,
                     BsTruncation truncation, gint32 *ids)
{
  bs_tokenizer_encode_into (tokenizer, text, -1, 0, 0, scratch);
  guint n = (guint) scratch->n_tokens;
  if (n <= max_length)
    {
      memcpy (ids, scratch->ids, n * sizeof (gint32));
      return n;
    }
  /* [CLS] body [SEP]: keep max_length - 2 of the body */
  guint keep = max_length - 2, head = truncation == BS_TRUNCATE_HEAD_TAIL ? keep / 4 : keep;
  guint tail = keep - head;
  ids[0] = scratch->ids[0];
  memcpy (ids + 1, scratch->ids + 1, head * sizeof (gint32));
  memcpy (ids + 1 + head, scratch->ids + n - 1 - tail, tail * sizeof (gint32));
  ids[max_length - 1] = scratch->ids[n - 1];
  return max_length;
}

BsClassifier *
bs_classifier_new (BsModel *model, BsTokenizer *tokenizer, guint max_length, BsTruncation truncation)
{
  BsClassifier *c = g_new0 (BsClassifier, 1);
  c->model = model;
  c->tokenizer = tokenizer;
  guint positions = (guint) bs_model_get_config (model)->max_position_embeddings;
  c->max_length = max_length == 0 ? MIN (positions, 512) : MIN (max_length, positions);
  c->max_length = MAX (c->max_length, 2);
  c->truncation = truncation;
  g_mutex_init (&c->lock);
  c->idle = g_ptr_array_new_with_free_func ((GDestroyNotify) bs_workspace_free);
  return c;
}

BsClassifier *
bs_classifier_load (const char *dir, guint max_length, GError **error)
{
  /* the card says how the model was trained to read: a caller's
   * max_length wins, and so does a truncation set afterwards; read first,
   * as it fails faster than the weights load */
  BsTruncation truncation = BS_TRUNCATE_HEAD;
  g_autoptr (GError) card_error = NULL;
  g_autoptr (BsModelCard) card = bs_model_card_load_from_dir (dir, &card_error);
  if (card == NULL && !g_error_matches (card_error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&card_error));
      return NULL;
    }
  if (card != NULL && card->has_truncation)
    truncation = card->truncation;
  if (card != NULL && max_length == 0)
    max_length = card->max_length;

  g_autoptr (BsModel) model = bs_model_load (dir, NULL, NULL, error);
  if (model == NULL)
    return NULL;
  g_autoptr (BsTokenizer) tokenizer = bs_tokenizer_new_from_model_dir (dir, error);
  if (tokenizer == NULL)
    return NULL;
  guint vocab_size = bs_tokenizer_get_vocab_size (tokenizer);
  if (vocab_size > (guint) bs_model_get_config (model)->vocab_size)
    {
      g_set_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT,
                   g_dngettext (GETTEXT_PACKAGE,
                                /* Translators: a folder, the number of tokens in its vocab.txt (keep the file
                                   name as it is), and the model's number */
                                "%s: vocab.txt has %u token but the model only %d: they do not belong together",
                                "%s: vocab.txt has %u tokens but the model only %d: they do not belong together",
                                vocab_size),
                   dir, vocab_size, bs_model_get_config (model)->vocab_size);
      return NULL;
    }
  return bs_classifier_new (g_steal_pointer (&model), g_steal_pointer (&tokenizer), max_length, truncation);
}

void
bs_classifier_free (BsClassifier *c)
{
  if (c == NULL)
    return;
  g_ptr_array_unref (c->idle);
  g_mutex_clear (&c->lock);
  bs_model_free (c->model);
  bs_tokenizer_free (c->tokenizer);
  g_free (c);
}

const BsModel *
bs_classifier_get_model (const BsClassifier *c)
{
  return c->model;
}

const BsTokenizer *
bs_classifier_get_tokenizer (const BsClassifier *c)
{
  return c->tokenizer;
}

guint
bs_classifier_get_max_length (const BsClassifier *c)
{
  return c->max_length;
}

void
bs_classifier_set_truncation (BsClassifier *c, BsTruncation truncation)
{
  c->truncation = truncation;
}

BsTruncation
bs_classifier_get_truncation (const BsClassifier *c)
{
  return c->truncation;
}

int
bs_classifier_get_n_labels (const BsClassifier *c)
{
  return bs_model_get_config (c->model)->n_labels;
}

const char *
bs_classifier_get_label (const BsClassifier *c, int index)
{
  const BsConfig *config = bs_model_get_config (c->model);
  g_return_val_if_fail (index >= 0 && index < config->n_labels, NULL);
  return config->labels[index];
}

static BsWorkspace *
take_workspace (BsClassifier *c)
{
  g_mutex_lock (&c->lock);
  BsWorkspace *ws = c->idle->len > 0 ? g_ptr_array_steal_index_fast (c->idle, c->idle->len - 1) : NULL;
  g_mutex_unlock (&c->lock);
  return ws != NULL ? ws : bs_workspace_new ();
}

static void
give_back_workspace (BsClassifier *c, BsWorkspace *ws)
{
  g_mutex_lock (&c->lock);
  g_ptr_array_add (c->idle, ws);
  g_mutex_unlock (&c->lock);
}

static int
compare_by_length (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const guint *lengths = user_data;
  guint x = lengths[*(const gsize *) a], y = lengths[*(const gsize *) b];
  return x < y ? -1 : x > y;
}

gboolean
bs_classifier_logits (BsClassifier *c, const char *const *texts, gsize n_texts, float *logits, GError **error)
{
  int n_labels = bs_classifier_get_n_labels (c);
  guint max = c->max_length;
  int pad = MAX (bs_tokenizer_get_pad_id (c->tokenizer), 0);
  g_autoptr (BsEncoding) scratch = bs_encoding_new ();
  g_autofree gint32 *rows = g_new (gint32, MAX (n_texts, 1) * max);
  g_autofree guint *lengths = g_new (guint, MAX (n_texts, 1));
  g_autofree gsize *order = g_new (gsize, MAX (n_texts, 1));
  for (gsize i = 0; i < n_texts; i++)
    {
      lengths[i] = bs_encode_truncated (c->tokenizer, scratch, texts[i], max, c->truncation, rows + i * max);
      order[i] = i;
    }
  /* batches of similar lengths pad little */
  g_qsort_with_data (order, (gint) n_texts, sizeof (gsize), compare_by_length, lengths);

  g_autofree gint32 *ids = g_new (gint32, (gsize) PREDICT_BATCH * max);
  g_autofree gint32 *mask = g_new (gint32, (gsize) PREDICT_BATCH * max);
  g_autofree float *batch_logits = g_new (float, (gsize) PREDICT_BATCH * n_labels);
  BsWorkspace *ws = take_workspace (c);
  gboolean ok = TRUE;
  for (gsize start = 0; ok && start < n_texts; start += PREDICT_BATCH)
    {
      int b = (int) MIN ((gsize) PREDICT_BATCH, n_texts - start);
      guint t = lengths[order[start + b - 1]]; /* the longest of the batch */
      for (int i = 0; i < b; i++)
        {
          gsize k = order[start + i];
          for (guint j = 0; j < t; j++)
            {
              gboolean real = j < lengths[k];
              ids[(gsize) i * t + j] = real ? rows[k * max + j] : pad;
              mask[(gsize) i * t + j] = real;
            }
        }
      BsBatch batch = { b, (int) t, ids, NULL, mask };
      ok = bs_model_infer (c->model, ws, &batch, batch_logits, error);
      for (int i = 0; ok && i < b; i++)
        memcpy (logits + order[start + i] * n_labels, batch_logits + (gsize) i * n_labels, sizeof (float) * n_labels);
    }
  give_back_workspace (c, ws);
  return ok;
}

gboolean
bs_classifier_predict (BsClassifier *c, const char *const *texts, gsize n_texts, float *probabilities,
                       GError **error)
{
  int n_labels = bs_classifier_get_n_labels (c);
  if (!bs_classifier_logits (c, texts, n_texts, probabilities, error))
    return FALSE;
  g_autofree float *row = g_new (float, n_labels);
  for (gsize i = 0; i < n_texts; i++)
    {
      memcpy (row, probabilities + i * n_labels, sizeof (float) * n_labels);
      bs_softmax (probabilities + i * n_labels, row, 1, n_labels, 1.0);
    }
  return TRUE;
}
