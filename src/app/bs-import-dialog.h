/* bs-import-dialog.h: the step between choosing a file and importing it —
 * which columns hold the text and the label, the dataset's name, its label
 * names and validation share, or adding the file to an existing dataset as
 * its test split.
 *
 * The file is looked at first (bs_import_peek_async: its CSV/TSV header or
 * the first JSON Lines object's fields, and the first row's values); the
 * dialog then starts from the importer's own guesses, and its "import"
 * signal hands over a BsImportRequest. */
#pragma once

#include <adwaita.h>

#include "bs-import.h"
#include "bs-store.h"

G_BEGIN_DECLS

/* What an import is asked to do: BsImportOptions without the callbacks, with
 * its strings owned. */
typedef struct
{
  char *path;
  BsImportFormat format;
  gboolean no_header;        /* CSV/TSV: columns are numbers from 1 */
  char *name;                /* a new dataset's; NULL: the file's name */
  char **text_columns;       /* NULL: the importer's guess */
  char *label_column;        /* NULL: the importer's guess */
  char **label_names;        /* a new dataset's; NULL: from the data */
  char *split;               /* NULL: train (a folder: its own splits) */
  double validation_ratio;
  guint64 seed;
  gboolean skip_bad_rows;
  gint64 append_to;          /* a dataset's id; 0: a new dataset */
} BsImportRequest;

BsImportRequest *bs_import_request_new (const char *path);
BsImportRequest *bs_import_request_copy (const BsImportRequest *request);
void bs_import_request_free (BsImportRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsImportRequest, bs_import_request_free)

/* What the start of a file says about it. */
typedef struct
{
  char *path;
  BsImportFormat format;   /* CSV, TSV, JSONL or FOLDER */
  gboolean compressed;     /* gzip */
  char **columns;          /* CSV/TSV: the first row's fields; JSONL: the first object's keys; folder: empty */
  char **samples;          /* the values of the row after the header (CSV/TSV) or of the first object (JSONL),
                              as text, one per column ("" when unknown) */
  gboolean header_likely;  /* CSV/TSV: the first row looks like column names, not data */
} BsImportPeek;

void bs_import_peek_free (BsImportPeek *peek);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsImportPeek, bs_import_peek_free)

/* Reads the start of path (gzip or not) on a worker thread. */
void bs_import_peek_async (const char *path,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data);
BsImportPeek *bs_import_peek_finish (GAsyncResult *result,
                                     GError **error);
/* The same, synchronously (the worker's half; tests). */
BsImportPeek *bs_import_peek (const char *path,
                              GCancellable *cancellable,
                              GError **error);

#define BS_TYPE_IMPORT_DIALOG (bs_import_dialog_get_type ())
G_DECLARE_FINAL_TYPE (BsImportDialog, bs_import_dialog, BS, IMPORT_DIALOG, AdwWindow)

/* datasets: BsDataset*, the ones a file may be added to as a test split
 * (and whose names a new dataset must not take); may be NULL. */
BsImportDialog *bs_import_dialog_new (GtkWindow *parent,
                                      const BsImportPeek *peek,
                                      GPtrArray *datasets);

/* What Import would ask for now; NULL while the choices are incomplete
 * (no text column, an empty or taken name). */
BsImportRequest *bs_import_dialog_get_request (BsImportDialog *self);

G_END_DECLS
