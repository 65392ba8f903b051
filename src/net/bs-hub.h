/* bs-hub.h: BERT and DistilBERT repositories from the Hugging Face hub into
 * the model registry, without Python.
 *
 * Files come from {endpoint}/{repo}/resolve/{revision}/{file}: config.json
 * first (a repository that is not a BERT or DistilBERT stops there), then
 * vocab.txt, tokenizer_config.json when there is one, and the weights:
 * model.safetensors, or the shards that model.safetensors.index.json lists,
 * merged into one model.safetensors after download (the engine loads one
 * file).  A repository with only pytorch_model.bin is refused: that format is
 * a Python pickle, which can run code when loaded.
 *
 * Everything is written into a staging folder beside the destination,
 * "<dest>.partial", and the destination appears only when every file is
 * complete, checked and loads (model and tokenizer): the staging folder is
 * then renamed to it and registered in the store.  A file cut short is kept
 * there as "<file>.incomplete" and the next call for the same destination
 * continues it with an HTTP Range request.  Files the hub stores in LFS (the
 * weights) carry their SHA-256 in X-Linked-Etag, which the downloaded bytes
 * must match.
 *
 * The download runs synchronously on the calling thread (a worker thread in
 * the GUI); progress is reported on that thread, and a GCancellable stops it
 * within one read, keeping what was downloaded for the next call. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BS_HUB_ERROR (bs_hub_error_quark ())
GQuark bs_hub_error_quark (void);

typedef enum
{
  BS_HUB_ERROR_INVALID,     /* a malformed repository name, revision or endpoint */
  BS_HUB_ERROR_NOT_FOUND,   /* the repository, the revision or a needed file is not on the hub (404) */
  BS_HUB_ERROR_AUTH,        /* gated or private: no token, a refused one, or terms not accepted (401, 403) */
  BS_HUB_ERROR_NETWORK,     /* the hub cannot be reached, or the connection broke */
  BS_HUB_ERROR_SERVER,      /* the hub kept failing (5xx) or answered something unexpected */
  BS_HUB_ERROR_DISK_FULL,   /* not enough space for the files */
  BS_HUB_ERROR_IO,          /* a file cannot be written or read */
  BS_HUB_ERROR_CHECKSUM,    /* a file's SHA-256 is not the one the hub announced; the file was removed */
  BS_HUB_ERROR_UNSUPPORTED, /* only pytorch_model.bin, not a BERT or DistilBERT, or the files do not load */
  BS_HUB_ERROR_EXISTS,      /* the destination folder exists */
  BS_HUB_ERROR_BUSY,        /* another download into the same destination is running */
} BsHubError;
/* A cancelled download fails with G_IO_ERROR_CANCELLED. */

#define BS_HUB_DEFAULT_ENDPOINT "https://huggingface.co"

typedef struct
{
  const char *repo;       /* "bert-base-uncased" or "owner/name" */
  const char *revision;   /* a branch, tag or commit; NULL: "main" */
  const char *endpoint;   /* NULL: $HF_ENDPOINT if set, else BS_HUB_DEFAULT_ENDPOINT */
  const char *token;      /* "Authorization: Bearer", to the hub's host only; NULL: $HF_TOKEN; "": none */
  const char *output_dir; /* the model folder to create; NULL: bs_hub_default_output_dir () */
  const char *db_path;    /* the registry; NULL: bs_store_open's default */
  guint retry_delay_ms;   /* before the first retry of a 5xx answer, doubling; 0: 1000 */
  guint timeout_s;        /* a connection that stalls this long fails; 0: 60 */
} BsHubOptions;

/* Requests answered 5xx or 429 are tried this many more times. */
#define BS_HUB_MAX_RETRIES 2

typedef enum
{
  BS_HUB_PHASE_RESOLVING,   /* asking the hub which files the repository has */
  BS_HUB_PHASE_DOWNLOADING,
  BS_HUB_PHASE_MERGING,     /* joining a sharded checkpoint into one model.safetensors */
  BS_HUB_PHASE_VERIFYING,   /* loading the model and its tokenizer */
  BS_HUB_PHASE_DONE,        /* in place and registered */
} BsHubPhase;

typedef struct
{
  BsHubPhase phase;
  const char *file;    /* the file being downloaded, or NULL */
  gint64 file_done;    /* its bytes so far */
  gint64 file_total;   /* -1: not known */
  gint64 done_bytes;   /* of all files, counting bytes kept from an earlier call */
  gint64 total_bytes;  /* of the files known so far (it grows by the small ones); -1: not known */
  double bytes_per_s;  /* the recent download rate; NaN before there is one */
  double elapsed_s;
  double eta_s;        /* NaN when not known */
} BsHubProgress;

/* Called on the thread that runs bs_hub_download, at most ten times a
 * second, and at every change of file or phase. */
typedef void (*BsHubProgressFunc) (const BsHubProgress *progress,
                                   gpointer user_data);

typedef struct
{
  char *path;              /* the model folder */
  char *commit;            /* the commit the files came from (X-Repo-Commit), or NULL */
  gint64 model_id;         /* its id in the registry */
  gint64 size_bytes;       /* of its files */
  gint64 downloaded_bytes; /* transferred by this call */
  gint64 resumed_bytes;    /* kept from an earlier, interrupted call */
  guint n_shards;          /* 0: one model.safetensors; else the number of shards merged */
} BsHubResult;

void bs_hub_result_clear (BsHubResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BsHubResult, bs_hub_result_clear)

/* TRUE if repo is a hub repository id ("name" or "owner/name"). */
gboolean bs_hub_check_repo_id (const char *repo,
                               GError **error);
/* g_get_user_data_dir()/bert-studio/models/<repo with "/" as "__">; free with g_free. */
char *bs_hub_default_output_dir (const char *repo);
/* options->endpoint, else $HF_ENDPOINT, else the hub, without a trailing "/". */
char *bs_hub_get_endpoint (const BsHubOptions *options);

/* Downloads, checks, moves into place and registers (source
 * "hub:<repo>@<revision>").  On success fills result (clear it with
 * bs_hub_result_clear). */
gboolean bs_hub_download (const BsHubOptions *options,
                          BsHubProgressFunc progress,
                          gpointer user_data,
                          GCancellable *cancellable,
                          BsHubResult *result,
                          GError **error);

G_END_DECLS
