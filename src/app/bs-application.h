/* bs-application.h: BERT Studio's AdwApplication — the app-wide actions,
 * the command line, the preferences that apply process-wide, and the store
 * opened at startup. */
#pragma once

#include <adwaita.h>

#include "bs-store.h"

G_BEGIN_DECLS

#define BS_TYPE_APPLICATION (bs_application_get_type ())
G_DECLARE_FINAL_TYPE (BsApplication, bs_application, BS, APPLICATION, AdwApplication)

BsApplication *bs_application_new (void);

/* The database the app uses (--db, else the store's default): pages open
 * their own connections to it on worker threads.  Set before startup; after
 * startup, the path of the opened store. */
const char *bs_application_get_database_path (BsApplication *self);
void bs_application_set_database_path (BsApplication *self,
                                       const char *path);

/* The main thread's connection, opened at startup; NULL if it could not be
 * opened (the window says why).  For use on the main thread only. */
BsStore *bs_application_get_store (BsApplication *self);

G_END_DECLS
