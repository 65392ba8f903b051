/* bs-import.h: text datasets into the store.
 *
 * Formats: CSV and TSV (RFC 4180 quoting: "" escapes a quote, quoted fields
 * may hold the delimiter and line breaks; a header row unless no_header),
 * JSON Lines (one object a line; blank lines skipped), and aclImdb-style
 * folders (train/pos/NAME.txt: the folder names the label; train/unsup or
 * unlabeled/ holds unlabeled texts; test/ is the test split).  Any file may
 * be gzip-compressed (recognised by its first bytes).  A UTF-8 byte order
 * mark and CRLF line ends are fine; a CRLF inside a quoted field becomes LF.
 *
 * Labels may be names or numbers.  A new dataset's label names are the
 * distinct labels sorted (numerically when they are all integers: 0/1 →
 * "0","1"; AG News' 1–4 → "1".."4"; else by bytes: neg, pos).  When the
 * names are already known (bs_import_append to a labeled dataset, or
 * label_names), a label must be one of them; an integer k that is not a name
 * means the k-th name (0-based), unless the names are themselves integers.
 * An empty label, -1 or JSON null is unlabeled: such rows go to the
 * "unlabeled" split.
 *
 * An import is one transaction: when it fails (or is cancelled) nothing of it
 * is left in the database.  Errors say "FILE:LINE: what" with the physical
 * line where the record starts. */
#pragma once

#include <gio/gio.h>

#include "bs-store.h"

G_BEGIN_DECLS

#define BS_IMPORT_ERROR (bs_import_error_quark ())
GQuark bs_import_error_quark (void);

typedef enum
{
  BS_IMPORT_ERROR_OPTIONS,   /* options that do not fit the input (split, columns, format) */
  BS_IMPORT_ERROR_READ,      /* the file cannot be read or decompressed */
  BS_IMPORT_ERROR_EMPTY,     /* no rows */
  BS_IMPORT_ERROR_MALFORMED, /* a row that does not parse, or has the wrong number of fields */
  BS_IMPORT_ERROR_COLUMN,    /* a text or label column/field is missing */
  BS_IMPORT_ERROR_LABEL,     /* a label that is not one of the known names */
  BS_IMPORT_ERROR_ENCODING,  /* invalid UTF-8, or a NUL character */
  BS_IMPORT_ERROR_TEXT,      /* an empty text */
} BsImportError;

typedef enum
{
  BS_IMPORT_AUTO,   /* a folder, else by extension (.csv .tsv .jsonl, with .gz), else by content */
  BS_IMPORT_CSV,
  BS_IMPORT_TSV,
  BS_IMPORT_JSONL,
  BS_IMPORT_FOLDER,
} BsImportFormat;

/* Called on the importing thread every few thousand rows and at the end;
 * fraction is of the input read, in [0, 1], or -1 when unknown. */
typedef void (*BsImportProgressFunc) (gint64 n_rows,
                                      double fraction,
                                      gpointer user_data);

typedef struct
{
  BsImportFormat format;
  const char *name;          /* the new dataset's; NULL: the file's name without extensions */
  /* CSV/TSV header names or JSONL fields; without a header, 1-based column
   * numbers.  NULL: the first of text, review, sentence, content, … and of
   * label, sentiment, class, category, … that the input has. */
  const char *text_column;
  const char *label_column;
  /* several text columns joined with a space (AG News: title, description);
   * NULL-terminated, used instead of text_column when non-empty */
  const char *const *text_columns;
  /* train (default), validation, test or unlabeled (labels ignored).  For a
   * folder: NULL reads train/, test/ and the unlabeled folders; a split reads
   * only that one's folder. */
  const char *split;
  gboolean no_header;        /* CSV/TSV: the first row is data */
  gboolean skip_bad_rows;    /* skip and report bad rows instead of failing */
  double validation_ratio;   /* of the labeled train examples, per label; 0: none */
  guint64 seed;              /* of the validation split */
  const char *const *label_names; /* a new dataset's names, fixed in advance; NULL: from the data */
  BsImportProgressFunc progress;
  gpointer progress_data;
} BsImportOptions;

/* Skipped rows listed in BsImportResult.skipped, at most (all are counted). */
#define BS_IMPORT_MAX_REPORTED 1000

typedef struct
{
  gint64 dataset_id;
  gint64 n_rows;       /* rows imported */
  gint64 n_skipped;    /* bad rows skipped (skip_bad_rows) */
  GPtrArray *skipped;  /* char*: "FILE:LINE: why", the first BS_IMPORT_MAX_REPORTED */
} BsImportResult;

void bs_import_result_clear (BsImportResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BsImportResult, bs_import_result_clear)

/* Imports path as a new dataset.  options and result may be NULL; result is
 * filled on success (and on failure, as far as the import went). */
gboolean bs_import (BsStore *store,
                    const char *path,
                    const BsImportOptions *options,
                    BsImportResult *result,
                    GCancellable *cancellable,
                    GError **error);

/* Adds the rows of path to an existing dataset, e.g. its test split from a
 * second file (options->split = "test"); its labels must be the dataset's. */
gboolean bs_import_append (BsStore *store,
                           gint64 dataset_id,
                           const char *path,
                           const BsImportOptions *options,
                           BsImportResult *result,
                           GCancellable *cancellable,
                           GError **error);

/* "csv", "tsv", "jsonl", "folder" (and "auto"); FALSE for anything else. */
gboolean bs_import_format_from_string (const char *name,
                                       BsImportFormat *format);

G_END_DECLS
