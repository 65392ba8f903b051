/* bs-atomic-file.h: write a file so that readers see the old or the new
 * contents, never a mix: a temporary file beside the target, fsync, rename,
 * fsync of the folder. Streams, so large files need no second copy in memory. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BsAtomicFile BsAtomicFile;

BsAtomicFile *bs_atomic_file_new (const char *path,
                                  GError **error);
gboolean bs_atomic_file_write (BsAtomicFile *file,
                               const void *data,
                               gsize n_bytes,
                               GError **error);
gboolean bs_atomic_file_commit (BsAtomicFile *file,
                                GError **error);
/* Removes the temporary file unless committed. */
void bs_atomic_file_free (BsAtomicFile *file);

gboolean bs_write_file_atomic (const char *path,
                               const void *data,
                               gsize n_bytes,
                               GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsAtomicFile, bs_atomic_file_free)

G_END_DECLS
