/* bs-hub-private.h: what the tests of the hub client reach into. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The free disk space the download believes there is, in bytes, so that a
 * test can meet "disk full" without filling a disk; < 0: the file system's
 * (the default).  Not thread-safe: set it before a download starts. */
void bs_hub_set_disk_free_for_testing (gint64 bytes);

G_END_DECLS
