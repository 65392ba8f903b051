/* bs-default-model.c: where the default model is. */
#include "config.h"

#include "bs-default-model.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

char *
bs_default_model_find (GError **error)
{
  /* read at each call: the tests point it elsewhere before they start */
  const char *env = g_getenv (BS_DEFAULT_MODEL_ENV);
  if (env != NULL && *env == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   /* Translators: %s is the name of an environment variable */
                   _("No default model: %s is set but empty"), BS_DEFAULT_MODEL_ENV);
      return NULL;
    }
  const char *dir = env != NULL ? env : BS_DEFAULT_MODEL_DIR;
  g_autofree char *config = g_build_filename (dir, "config.json", NULL);
  if (!g_file_test (config, G_FILE_TEST_IS_REGULAR))
    {
      if (env != NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     /* Translators: a folder and the environment variable that names it; keep config.json as
                        it is */
                     _("No default model: %s (from %s) has no config.json"), dir, BS_DEFAULT_MODEL_ENV);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     /* Translators: %s is a folder; keep config.json as it is */
                     _("No default model is installed: %s has no config.json"), dir);
      return NULL;
    }
  return g_canonicalize_filename (dir, NULL);
}

char *
bs_default_model_dir (void)
{
  return bs_default_model_find (NULL);
}
