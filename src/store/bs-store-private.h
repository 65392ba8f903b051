/* bs-store-private.h: what the importers and the statistics need of the
 * store's connection.  Not for the front ends. */
#pragma once

#include <sqlite3.h>

#include "bs-store.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

sqlite3 *bs_store_get_db (BsStore *store);

/* Holds the connection (other threads' calls on this store wait) for reads. */
void bs_store_lock (BsStore *store);
void bs_store_unlock (BsStore *store);

/* A write transaction: locks, commits buffered metrics, BEGIN IMMEDIATE.
 * Calls nest (an inner begin/end joins the outer transaction), and the
 * store's own writing functions join an open one.  end commits when ok is
 * TRUE (FALSE: an error is set if COMMIT fails) and rolls back otherwise;
 * either way it unlocks. */
gboolean bs_store_write_begin (BsStore *store,
                               GError **error);
gboolean bs_store_write_end (BsStore *store,
                             gboolean ok,
                             GError **error);

/* Sets a BS_STORE_ERROR_SQL error: "what (in PATH): sqlite3_errmsg".
 * Returns FALSE. */
gboolean bs_store_sql_error (BsStore *store,
                             GError **error,
                             const char *format,
                             ...) G_GNUC_PRINTF (3, 4);

/* A prepared statement, or NULL with an error naming the statement. */
sqlite3_stmt *bs_store_prepare (BsStore *store,
                                const char *sql,
                                GError **error);

/* The label names of a dataset as a JSON array, for datasets.label_names. */
char *bs_store_labels_to_json (const char *const *labels);

G_END_DECLS
