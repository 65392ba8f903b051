/* bs-train-job.h: fine-tuning, distillation and masked-LM pretraining as
 * resumable jobs.
 *
 * A run trains on a dataset's train split in shuffled batches padded to
 * their longest text (pretraining: the texts of its train and unlabeled
 * splits packed into full rows, masked afresh each epoch), logs every batch to the store, validates, checkpoints
 * (weights, optimizer, schedule, data position, dropout stream) atomically,
 * and ends with a Hugging Face model folder evaluated on the test split and
 * registered in the store. A resumed run ends with the same weights as one
 * never stopped. */
#pragma once

#include <gio/gio.h>

#include "bs-classifier.h"
#include "bs-job.h"
#include "bs-optimizer.h"

G_BEGIN_DECLS

typedef enum
{
  BS_TRAIN_FINE_TUNE,
  BS_TRAIN_DISTILL,
  BS_TRAIN_PRETRAIN,
} BsTrainKind;

typedef struct
{
  BsTrainKind kind;
  char *db_path;       /* NULL: the default store */
  char *dataset;       /* name or id */
  char *model_dir;     /* fine-tune and pretrain: the base model; distill: the student, or NULL to make one from the
                        * teacher */
  char *teacher_dir;   /* distill: the fine-tuned teacher */
  char *output_dir;    /* the trained model's folder */
  int max_length;
  BsTruncation truncation;
  int batch_size;
  int epochs;
  gint64 max_steps;    /* 0: as many as the epochs take */
  double lr;
  BsScheduleKind schedule;
  double gamma;
  int step_every;
  int warmup_steps;
  double weight_decay;
  gboolean exempt_bias_and_norm;
  double max_grad_norm; /* 0: no clipping */
  gboolean dropout;     /* with the config's probabilities */
  guint64 seed;
  int validate_every;   /* batches; 0: at the end of each epoch only */
  int checkpoint_every; /* batches; 0: at the end and on cancel only */
  double temperature;   /* distillation */
  double alpha;
  int student_layers;   /* a student from the teacher: 0 = half its layers */
  double mask_probability; /* pretraining: the share of tokens to predict */
} BsTrainParams;

/* The reference recipe: max_length 128, batch 64, AdamW lr 2e-5 (weight
 * decay 0.01), ExponentialLR gamma 0.96 every 10 batches, 1 epoch; T 2,
 * alpha 0.5; seed 42. Pretraining: BERT's 15% masked, lr 5e-5 decaying
 * linearly, as transformers' run_mlm does. */
void bs_train_params_init (BsTrainParams *params,
                           BsTrainKind kind);
void bs_train_params_clear (BsTrainParams *params);
/* to = a deep copy of from (to's strings freed first) */
void bs_train_params_copy_into (BsTrainParams *to,
                                const BsTrainParams *from);
BsTrainParams *bs_train_params_copy (const BsTrainParams *params);
void bs_train_params_free (BsTrainParams *params);
char *bs_train_params_to_json (const BsTrainParams *params);
gboolean bs_train_params_from_json (BsTrainParams *params,
                                    const char *json,
                                    GError **error);
const char *bs_train_kind_to_string (BsTrainKind kind);

typedef struct
{
  gint64 run_id;
  gint64 steps;
  double validation_accuracy; /* NaN: no validation split; pretraining: of the masked tokens */
  double test_accuracy;       /* NaN: no test split */
  double latency_ms;          /* the trained model, one text at a time */
  /* distillation: the teacher on the same test texts (NaN otherwise) */
  double teacher_test_accuracy;
  double teacher_latency_ms;
} BsTrainResult;

/* Runs a new job. Cancelled: FALSE with G_IO_ERROR_CANCELLED, and a
 * checkpoint kept. */
gboolean bs_train_run (const BsTrainParams *params,
                       BsJobProgressFunc progress,
                       gpointer user_data,
                       GCancellable *cancellable,
                       BsTrainResult *result,
                       GError **error);
/* Continues run_id of the store at db_path (NULL: the default) from its
 * last checkpoint, with the parameters it was started with. */
gboolean bs_train_resume (const char *db_path,
                          gint64 run_id,
                          BsJobProgressFunc progress,
                          gpointer user_data,
                          GCancellable *cancellable,
                          BsTrainResult *result,
                          GError **error);

/* A student with `layers` encoder layers (0: half) copied from the
 * teacher's evenly spaced layers (every other one for half), the rest of
 * the weights (embeddings, pooler, head) copied whole, as DistilBERT was
 * initialised from BERT. */
BsModel *bs_student_from_teacher (const BsModel *teacher,
                                  int layers,
                                  GError **error);

/* Writes a Hugging Face folder: config.json, model.safetensors, vocab.txt
 * (copied from vocab_path) and tokenizer_config.json. */
gboolean bs_save_model_folder (const BsModel *model,
                               const char *vocab_path,
                               gboolean lower_case,
                               const char *dir,
                               GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BsTrainParams, bs_train_params_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsTrainParams, bs_train_params_free)

G_END_DECLS
