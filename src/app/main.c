/* main.c: bert-studio, the desktop application. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "bs-application.h"
#include "bs-blas.h"

int
main (int argc,
      char *argv[])
{
  g_autoptr(BsApplication) app = NULL;

  /* before any thread starts: OpenBLAS restarts its own */
  bs_blas_init ();

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = bs_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
