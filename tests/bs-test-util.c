/* bs-test-util.c: see bs-test-util.h. */
#include "bs-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

void
bs_test_remove_tree (const char *path)
{
  GStatBuf st;

  /* lstat: a link to a folder is removed as a link, and what it points
   * at (outside the test's folder, perhaps) is left alone */
  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          bs_test_remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

void
bs_test_assert_contains (const char *haystack,
                         const char *needle)
{
  if (haystack == NULL || strstr (haystack, needle) == NULL)
    g_test_message ("“%s” does not contain “%s”", haystack, needle);
  g_assert_nonnull (haystack);
  g_assert_nonnull (strstr (haystack, needle));
}
