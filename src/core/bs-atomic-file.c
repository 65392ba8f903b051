/* bs-atomic-file.c: temp file + fsync + rename. */
#include "config.h"

#include "bs-atomic-file.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <unistd.h>

struct _BsAtomicFile
{
  char *path;
  char *tmp_path;
  int fd;
  gboolean committed;
};

/* format: marked with N_(), taking the path and then the system's reason;
 * translated here, after errno is read. */
static gboolean
set_errno_error (GError **error, int saved_errno, const char *format, const char *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               _(format), path, g_strerror (saved_errno));
  return FALSE;
}

BsAtomicFile *
bs_atomic_file_new (const char *path, GError **error)
{
  g_autofree char *tmp_path = g_strdup_printf ("%s.tmp-XXXXXX", path);
  int fd = g_mkstemp_full (tmp_path, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      /* Translators: the first %s is a file path, the second the system's reason */
      set_errno_error (error, errno, N_("Could not create a temporary file for %s: %s"), path);
      return NULL;
    }
  BsAtomicFile *file = g_new0 (BsAtomicFile, 1);
  file->path = g_strdup (path);
  file->tmp_path = g_steal_pointer (&tmp_path);
  file->fd = fd;
  return file;
}

gboolean
bs_atomic_file_write (BsAtomicFile *file, const void *data, gsize n_bytes, GError **error)
{
  const guint8 *p = data;
  while (n_bytes > 0)
    {
      gssize n = write (file->fd, p, MIN (n_bytes, (gsize) 1 << 30));
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          /* Translators: the first %s is a file path, the second the system's reason */
          return set_errno_error (error, errno, N_("Could not write %s: %s"), file->path);
        }
      p += n;
      n_bytes -= (gsize) n;
    }
  return TRUE;
}

gboolean
bs_atomic_file_commit (BsAtomicFile *file, GError **error)
{
  g_return_val_if_fail (!file->committed, FALSE);

  if (fsync (file->fd) != 0)
    /* Translators: the first %s is a file path, the second the system's reason */
    return set_errno_error (error, errno, N_("Could not flush %s: %s"), file->path);
  int fd = file->fd;
  file->fd = -1;
  if (close (fd) != 0)
    /* Translators: the first %s is a file path, the second the system's reason */
    return set_errno_error (error, errno, N_("Could not close %s: %s"), file->path);
  if (g_rename (file->tmp_path, file->path) != 0)
    /* Translators: the first %s is a file path, the second the system's reason */
    return set_errno_error (error, errno, N_("Could not rename the temporary file to %s: %s"), file->path);
  file->committed = TRUE;

  /* The rename itself must reach the disk too. */
  g_autofree char *dir = g_path_get_dirname (file->path);
  int dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0)
    {
      fsync (dir_fd);
      close (dir_fd);
    }
  return TRUE;
}

void
bs_atomic_file_free (BsAtomicFile *file)
{
  if (file == NULL)
    return;
  if (file->fd >= 0)
    close (file->fd);
  if (!file->committed)
    g_unlink (file->tmp_path);
  g_free (file->path);
  g_free (file->tmp_path);
  g_free (file);
}

gboolean
bs_write_file_atomic (const char *path, const void *data, gsize n_bytes, GError **error)
{
  g_autoptr (BsAtomicFile) file = bs_atomic_file_new (path, error);
  return file != NULL
         && bs_atomic_file_write (file, data, n_bytes, error)
         && bs_atomic_file_commit (file, error);
}
