/* bs-blas.c: OpenBLAS's idle worker threads spin for 2^28 cycles (about
 * 0.1 s) after every product before they sleep. Between products the
 * engine's own threads do the element-wise work, and a spinning worker takes
 * a core from them: training ran about 10% slower on two cores. A spin of
 * 2^12 cycles keeps back-to-back products fast and frees the core at once.
 * OpenBLAS reads the setting when it starts its threads, so the value is
 * put in the environment, re-read, and the threads restarted. A value the
 * user set is kept. */
#include "bs-blas.h"

#include <dlfcn.h>

#define THREAD_TIMEOUT "12"

void
bs_blas_init (void)
{
  static gsize done;
  if (!g_once_init_enter (&done))
    return;
  if (g_getenv ("OPENBLAS_THREAD_TIMEOUT") == NULL)
    {
      /* exported by OpenBLAS's pthread build; absent elsewhere */
      void (*read_env) (void) = (void (*) (void)) dlsym (RTLD_DEFAULT, "openblas_read_env");
      int (*restart_threads) (void) = (int (*) (void)) dlsym (RTLD_DEFAULT, "blas_thread_shutdown_");
      if (read_env != NULL && restart_threads != NULL)
        {
          g_setenv ("OPENBLAS_THREAD_TIMEOUT", THREAD_TIMEOUT, FALSE);
          read_env ();
          restart_threads ();
        }
    }
  g_once_init_leave (&done, 1);
}
