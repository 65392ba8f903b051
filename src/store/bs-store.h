/* bs-store.h: BERT Studio's SQLite database — datasets and their examples,
 * runs with their per-batch metrics and evaluations, and the model registry.
 *
 * One file in WAL mode, so readers (the GUI's chart) never wait for a writer
 * (a training job).  The schema is plain tables that anyone can read with
 * `sqlite3`; times are Unix seconds, JSON columns hold JSON text.
 *
 * A BsStore is one connection: use one per thread (a job opens its own on its
 * worker thread).  Its functions may be called from that thread only, except
 * that the store commits buffered metrics on a helper thread of its own. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BS_STORE_ERROR (bs_store_error_quark ())
GQuark bs_store_error_quark (void);

typedef enum
{
  BS_STORE_ERROR_OPEN,      /* the database file cannot be opened or created */
  BS_STORE_ERROR_SQL,       /* SQLite failed; the message has sqlite3_errmsg */
  BS_STORE_ERROR_VERSION,   /* the file's schema is newer than this program's */
  BS_STORE_ERROR_NOT_FOUND, /* no dataset, run or model with that id or name */
  BS_STORE_ERROR_EXISTS,    /* a dataset of that name exists */
  BS_STORE_ERROR_INVALID,   /* an argument is out of range (status, split, ratio…) */
  BS_STORE_ERROR_IO,        /* a file to export or register cannot be written or read */
} BsStoreError;

/* The schema version this program writes (PRAGMA user_version). */
#define BS_STORE_SCHEMA_VERSION 1

typedef struct _BsStore BsStore;

/* Opens (creating it and its folder if needed) the database at path; NULL:
 * $BERT_STUDIO_DB if set, else g_get_user_data_dir()/bert-studio/bert-studio.db.
 * Brings the schema up to date, one transaction per migration. */
BsStore *bs_store_open (const char *path,
                        GError **error);
/* Commits buffered metrics (errors are logged) and closes. */
void bs_store_free (BsStore *store);
const char *bs_store_get_path (BsStore *store);
/* The path bs_store_open (NULL) uses; free with g_free. */
char *bs_store_default_path (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsStore, bs_store_free)

/* ---- datasets ---- */

typedef struct
{
  gint64 id;
  char *name;
  char *source;   /* where it was imported from (a path), or NULL */
  GStrv labels;   /* class names, index = label id; empty when unlabeled */
  gint64 n_train, n_validation, n_test, n_unlabeled;
  gint64 created;
} BsDataset;

void bs_dataset_free (BsDataset *dataset);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsDataset, bs_dataset_free)

/* The four split names, in this order; TRUE if split is one of them. */
extern const char *const bs_store_splits[4];
gboolean bs_store_is_split (const char *split);

/* A new, empty dataset; BS_STORE_ERROR_EXISTS if the name is taken. */
gint64 bs_store_create_dataset (BsStore *store,
                                const char *name,
                                const char *source,
                                const char *const *labels,
                                GError **error);
gboolean bs_store_set_dataset_labels (BsStore *store,
                                      gint64 dataset_id,
                                      const char *const *labels,
                                      GError **error);
BsDataset *bs_store_get_dataset (BsStore *store,
                                 gint64 id,
                                 GError **error);
BsDataset *bs_store_find_dataset (BsStore *store,
                                  const char *name,
                                  GError **error);
/* A name, or a number that is a dataset's id (a name takes precedence). */
BsDataset *bs_store_lookup_dataset (BsStore *store,
                                    const char *name_or_id,
                                    GError **error);
GPtrArray *bs_store_list_datasets (BsStore *store,
                                   GError **error); /* BsDataset*, by id */
/* Deletes the dataset and its examples; its runs keep their rows. */
gboolean bs_store_delete_dataset (BsStore *store,
                                  gint64 id,
                                  GError **error);

typedef struct
{
  gsize n;
  char **texts;   /* n strings, then NULL */
  gint32 *labels; /* -1: unlabeled */
  gint64 *ids;
} BsExamples;

void bs_examples_free (BsExamples *examples);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsExamples, bs_examples_free)

/* The examples of one split (NULL: all), ordered by id. */
BsExamples *bs_store_load_examples (BsStore *store,
                                    gint64 dataset_id,
                                    const char *split,
                                    GError **error);

/* Makes a ratio of the labeled train + validation examples the validation
 * split, per label (stratified), the rest train.  The choice depends only on
 * the examples, the ratio and the seed, so calling it again re-splits (ratio
 * 0 puts every example back into train).  0 <= ratio < 1. */
gboolean bs_store_split_validation (BsStore *store,
                                    gint64 dataset_id,
                                    double ratio,
                                    guint64 seed,
                                    GError **error);

typedef enum
{
  BS_EXPORT_CSV,   /* header text,label[,split]; RFC 4180, CRLF */
  BS_EXPORT_JSONL, /* {"text": …, "label": …[, "split": …]} a line */
} BsExportFormat;

/* Writes the examples of split (NULL: all, with a split column) to path,
 * atomically.  Labels are written as their names; a name that is an integer
 * is a JSON number.  Unlabeled: an empty CSV field, JSON -1 when the names
 * are numbers, else null. */
gboolean bs_store_export_dataset (BsStore *store,
                                  gint64 dataset_id,
                                  const char *split,
                                  const char *path,
                                  BsExportFormat format,
                                  GError **error);

/* ---- runs and metrics ---- */

typedef struct
{
  const char *kind;         /* fine-tune, distill, evaluate, pretrain */
  gint64 dataset_id;        /* 0: none */
  const char *model_path;
  const char *teacher_path;
  const char *output_path;
  const char *params_json;  /* a JSON object; NULL: {} */
} BsRunInfo;

typedef struct
{
  gint64 id;
  char *kind;
  gint64 dataset_id; /* 0: none (or deleted) */
  char *model_path;
  char *teacher_path;
  char *output_path;
  char *params_json;
  char *status;
  char *message;
  gint64 pid;
  gint64 started;
  gint64 finished;   /* 0 while running */
} BsRun;

void bs_run_free (BsRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsRun, bs_run_free)

/* A run in status "running", owned by this process (pid = getpid()). */
gint64 bs_store_create_run (BsStore *store,
                            const BsRunInfo *info,
                            GError **error);
/* status: running, finished, cancelled, failed or interrupted; message may be
 * NULL.  finished, cancelled and failed set `finished`.  Buffered metrics are
 * committed first, and this write is synced to disk (synchronous=FULL). */
gboolean bs_store_set_run_status (BsStore *store,
                                  gint64 run_id,
                                  const char *status,
                                  const char *message,
                                  GError **error);
GPtrArray *bs_store_list_runs (BsStore *store,
                               GError **error); /* BsRun*, newest first */
BsRun *bs_store_get_run (BsStore *store,
                         gint64 id,
                         GError **error);
/* Runs left "running" by a process that has died (or whose pid now belongs
 * to another process) become "interrupted"; returns how many, or -1. */
int bs_store_mark_interrupted (BsStore *store,
                               GError **error);
/* Deletes a run with its metrics and evaluations. */
gboolean bs_store_delete_run (BsStore *store,
                              gint64 run_id,
                              GError **error);

typedef struct
{
  gint64 run_id;
  int epoch;
  gint64 step;
  const char *split;  /* "train" or "validation" */
  double loss, accuracy, lr, examples_per_s, time; /* NaN: none (NULL) */
} BsMetric;

/* Buffers the row; it is committed within BS_STORE_METRIC_DELAY_MS of the
 * call (by a helper thread if no other call comes), by bs_store_flush, by
 * any other writing call and by bs_store_free.  A row with the key of an
 * earlier one (run, split, step) replaces it.  A failed background commit
 * is reported by the next call. */
gboolean bs_store_add_metric (BsStore *store,
                              const BsMetric *metric,
                              GError **error);
#define BS_STORE_METRIC_DELAY_MS 500
/* Commits buffered metrics now, synced to disk: call it before recording a
 * checkpoint, so that no row before the checkpoint can be lost. */
gboolean bs_store_flush (BsStore *store,
                         GError **error);
/* Resuming from a checkpoint at step: drops the rows after it. */
gboolean bs_store_delete_metrics_after (BsStore *store,
                                        gint64 run_id,
                                        gint64 step,
                                        GError **error);
/* The committed rows of a run with step > after_step, of split (NULL: both),
 * ordered by split then step: an array of BsMetric whose split points to a
 * static string.  A chart polls it with the last step it has. */
GArray *bs_store_get_metrics (BsStore *store,
                              gint64 run_id,
                              const char *split,
                              gint64 after_step,
                              GError **error);
/* Header run_id,epoch,step,split,loss,accuracy,lr,examples_per_s,time;
 * RFC 4180 (CRLF), written atomically. */
gboolean bs_store_export_metrics_csv (BsStore *store,
                                      gint64 run_id,
                                      const char *path,
                                      GError **error);

typedef struct
{
  gint64 run_id;
  const char *split;
  gint64 step;
  gint64 n_examples;
  double accuracy, loss, latency_ms;
  int n_labels;
  const char *const *labels;
  const double *precision, *recall, *f1;
  const gint64 *support;
  const gint64 *confusion; /* n_labels x n_labels, row = true label */
} BsEvaluation;

/* per_class is stored as [{label, precision, recall, f1, support}], confusion
 * as [[…], …]; any of the per-class arrays may be NULL. */
gint64 bs_store_add_evaluation (BsStore *store,
                                const BsEvaluation *evaluation,
                                GError **error);

typedef struct
{
  gint64 id;
  gint64 run_id;
  char *split;
  gint64 step;
  gint64 n_examples;
  double accuracy, loss, latency_ms;
  char *per_class_json;
  char *confusion_json;
  gint64 created;
} BsEvaluationRecord;

void bs_evaluation_record_free (BsEvaluationRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsEvaluationRecord, bs_evaluation_record_free)

/* The evaluations of a run (run_id 0: all), oldest first. */
GPtrArray *bs_store_list_evaluations (BsStore *store,
                                      gint64 run_id,
                                      GError **error);

/* ---- model registry ---- */

typedef struct
{
  const char *path;          /* the model folder; the key */
  const char *name;          /* NULL: the folder's name */
  const char *architecture;  /* "bert", "distilbert" */
  gint64 n_params;
  gint64 size_bytes;
  const char *labels_json;   /* a JSON array of names, or NULL */
  const char *source;        /* "fine-tune", "distill", "import", a URL… */
  gint64 run_id;             /* 0: none */
} BsModelRecord;

typedef struct
{
  gint64 id;
  char *path;
  char *name;
  char *architecture;
  gint64 n_params;
  gint64 size_bytes;
  char *labels_json;
  char *source;
  gint64 run_id;
  gint64 created;
} BsModelInfo;

void bs_model_info_free (BsModelInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsModelInfo, bs_model_info_free)

/* Inserts or updates (by path) the model; returns its id, or 0.  Synced to
 * disk. */
gint64 bs_store_register_model (BsStore *store,
                                const BsModelRecord *record,
                                GError **error);
/* Registers a Hugging Face folder: the architecture, labels and parameter
 * count from its config.json, the size of its files; returns the id or 0. */
gint64 bs_store_register_model_folder (BsStore *store,
                                       const char *dir,
                                       const char *source,
                                       gint64 run_id,
                                       GError **error);
GPtrArray *bs_store_list_models (BsStore *store,
                                 GError **error); /* BsModelInfo*, by id */
BsModelInfo *bs_store_get_model (BsStore *store,
                                 gint64 id,
                                 GError **error);
BsModelInfo *bs_store_find_model (BsStore *store,
                                  const char *path,
                                  GError **error);
gboolean bs_store_delete_model (BsStore *store,
                                gint64 id,
                                GError **error);

/* The source of the model that ships with the app (bs-default-model.h). */
#define BS_MODEL_SOURCE_DEFAULT "default"

/* Registers dir, the model that ships with the app, under name (NULL: the
 * folder's) with the source BS_MODEL_SOURCE_DEFAULT, and forgets the models
 * registered so from other folders (an older install, the source tree);
 * dir NULL forgets them all. Only the registry changes, never a folder.
 * Writes only when something changed: cheap at every start. */
gboolean bs_store_register_default_model (BsStore *store,
                                          const char *dir,
                                          const char *name,
                                          GError **error);

G_END_DECLS
