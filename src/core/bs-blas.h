/* bs-blas.h: process-wide OpenBLAS settings. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call once from main(), before other threads start. */
void bs_blas_init (void);

G_END_DECLS
