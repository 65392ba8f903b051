/* bs-application.c: BERT Studio's AdwApplication.
 *
 * Startup opens the store once (marks runs left "running" by a dead
 * process as interrupted, and registers the model that ships with the app),
 * applies the thread preference process-wide and installs the app actions;
 * activate opens the one window. */
#include "config.h"

#include <cblas.h>
#include <glib/gi18n.h>

#include "bs-application.h"
#include "bs-default-model.h"
#include "bs-model-card.h"
#include "bs-parallel.h"
#include "bs-preferences-window.h"
#include "bs-window.h"

struct _BsApplication
{
  AdwApplication parent_instance;

  char *database_path;
  BsStore *store;
  GError *store_error; /* why store is NULL; shown over the window */
  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (BsApplication, bs_application, ADW_TYPE_APPLICATION)

enum
{
  PROP_0,
  PROP_DATABASE_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const GOptionEntry option_entries[] = {
  { "db", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Use the database at PATH instead of the default one"), N_("PATH") },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Show the version and exit"), NULL },
  { NULL }
};

BsApplication *
bs_application_new (void)
{
  return g_object_new (BS_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}

const char *
bs_application_get_database_path (BsApplication *self)
{
  g_return_val_if_fail (BS_IS_APPLICATION (self), NULL);

  return self->database_path;
}

void
bs_application_set_database_path (BsApplication *self,
                                  const char *path)
{
  g_return_if_fail (BS_IS_APPLICATION (self));

  if (g_strcmp0 (self->database_path, path) == 0)
    return;
  g_free (self->database_path);
  self->database_path = g_strdup (path);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DATABASE_PATH]);
}

BsStore *
bs_application_get_store (BsApplication *self)
{
  g_return_val_if_fail (BS_IS_APPLICATION (self), NULL);

  return self->store;
}

/* 0 (the default) or more than this machine has: all its processors. */
static void
apply_threads (BsApplication *self)
{
  int n_cpus = (int) g_get_num_processors ();
  int n = g_settings_get_int (self->settings, "threads");

  if (n <= 0 || n > n_cpus)
    n = n_cpus;
  bs_parallel_set_n_threads (n);
  openblas_set_num_threads (n);
}

static void
on_threads_changed (GSettings *settings,
                    const char *key,
                    BsApplication *self)
{
  apply_threads (self);
}

/* The model that ships with the app goes in the registry, so that every
 * model chooser offers it (as a base to fine-tune, too); at each start,
 * since an update can move its folder. Removing it from the registry
 * leaves its folder alone, as for any model. */
static void
register_default_model (BsApplication *self)
{
  g_autofree char *dir = bs_default_model_dir ();
  g_autoptr(BsModelCard) card = dir != NULL ? bs_model_card_load_from_dir (dir, NULL) : NULL;
  g_autoptr(GError) error = NULL;

  /* a broken one is not fatal: the Classify page says what is wrong */
  if (!bs_store_register_default_model (self->store, dir, card != NULL ? card->name : NULL, &error))
    g_message (_("The model that comes with BERT Studio is not in the list of models: %s"), error->message);
}

static void
open_store (BsApplication *self)
{
  g_autoptr(GError) error = NULL;

  self->store = bs_store_open (self->database_path, &error);
  if (self->store == NULL)
    {
      g_warning ("%s", error->message);
      self->store_error = g_steal_pointer (&error);
      return;
    }
  bs_application_set_database_path (self, bs_store_get_path (self->store));

  if (bs_store_mark_interrupted (self->store, &error) < 0)
    g_warning ("%s", error->message);
  register_default_model (self);
}

/* Closes the main windows rather than quitting outright, so that each saves
 * its state (and can ask first while a job runs); the app ends with the
 * last.  Dialogs go with their parent (destroy-with-parent). */
static void
quit_activated (GSimpleAction *action,
                GVariant *parameter,
                gpointer user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  g_autoptr(GPtrArray) windows = g_ptr_array_new_with_free_func (g_object_unref);

  /* closing one changes the application's list */
  for (GList *l = gtk_application_get_windows (app); l != NULL; l = l->next)
    if (BS_IS_WINDOW (l->data))
      g_ptr_array_add (windows, g_object_ref (l->data));
  for (guint i = 0; i < windows->len; i++)
    gtk_window_close (g_ptr_array_index (windows, i));
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant *parameter,
                       gpointer user_data)
{
  BsApplication *self = BS_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWindow *preferences;

  /* one at a time */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (BS_IS_PREFERENCES_WINDOW (l->data))
      {
        gtk_window_present (GTK_WINDOW (l->data));
        return;
      }

  preferences = GTK_WINDOW (bs_preferences_window_new (parent, self->database_path));
  gtk_window_set_application (preferences, GTK_APPLICATION (self));
  gtk_window_present (preferences);
}

static void
about_activated (GSimpleAction *action,
                 GVariant *parameter,
                 gpointer user_data)
{
  BsApplication *self = BS_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  g_autofree char *release_notes = NULL;
  GtkWindow *about;

  /* The same paragraphs as the metainfo's <release>, so that translators
   * translate them once. */
  release_notes = g_markup_printf_escaped (
    "<p>%s</p><ul><li>%s</li><li>%s</li><li>%s</li><li>%s</li></ul>",
    _("The first release."),
    _("A training engine for BERT and DistilBERT text classifiers that runs on the processor, checked against PyTorch"),
    _("The WordPiece tokenizer used by BERT models"),
    _("bert-studio-cli: import datasets, fine-tune, distill and evaluate from the command line, with resumable runs"),
    _("The BERT Studio application: the window, its pages and preferences"));

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", parent,
                        "modal", TRUE,
                        "destroy-with-parent", TRUE,
                        "application", self,
                        "application-name", _("BERT Studio"),
                        "application-icon", APPLICATION_ID,
                        "version", PACKAGE_VERSION,
                        "comments", _("Train text classifiers on your own computer"),
                        "developer-name", _("BERT Studio contributors"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "website", "https://github.com/bertstudio/bert-studio",
                        "issue-url", "https://github.com/bertstudio/bert-studio/issues",
                        /* Translators: your names, one a line, with e-mail addresses if you like */
                        "translator-credits", _("translator-credits"),
                        "release-notes-version", PACKAGE_VERSION,
                        "release-notes", release_notes,
                        NULL);
  gtk_window_present (about);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_activated },
  { "preferences", preferences_activated },
  { "about", about_activated },
};

static int
bs_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  BsApplication *self = BS_APPLICATION (app);
  const char *db = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("bert-studio %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (g_variant_dict_lookup (options, "db", "^&ay", &db))
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (db);
      g_autofree char *path = g_file_get_path (file);

      bs_application_set_database_path (self, path != NULL ? path : db);
      /* Another database is another app: an instance already running on
       * the default one must not take this command line over. */
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }

  return G_APPLICATION_CLASS (bs_application_parent_class)->handle_local_options (app, options);
}

static void
bs_application_startup (GApplication *app)
{
  BsApplication *self = BS_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };
  static const struct
  {
    const char *action;
    const char *accel;
  } page_accels[] = {
    { "win.page::data", "<Alt>1" },
    { "win.page::train", "<Alt>2" },
    { "win.page::distill", "<Alt>3" },
    { "win.page::classify", "<Alt>4" },
    { "win.page::runs", "<Alt>5" },
  };

  /* AdwApplication's startup follows the system's dark style by itself. */
  G_APPLICATION_CLASS (bs_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", preferences_accels);
  for (guint i = 0; i < G_N_ELEMENTS (page_accels); i++)
    {
      const char *accels[] = { page_accels[i].accel, NULL };
      gtk_application_set_accels_for_action (GTK_APPLICATION (self), page_accels[i].action, accels);
    }

  self->settings = g_settings_new (APPLICATION_ID);
  g_signal_connect_object (self->settings, "changed::threads", G_CALLBACK (on_threads_changed), self, 0);
  apply_threads (self);

  open_store (self);
}

static void
bs_application_activate (GApplication *app)
{
  BsApplication *self = BS_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window != NULL)
    {
      gtk_window_present (window);
      return;
    }

  window = GTK_WINDOW (bs_window_new (self));
  gtk_window_present (window);

  /* Most of the app needs the database: say so plainly (a toast would
   * cut the message short). */
  if (self->store_error != NULL)
    {
      AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (
        adw_message_dialog_new (window, _("Could Not Open the Database"), self->store_error->message));

      adw_message_dialog_add_response (dialog, "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (dialog));
    }
}

/* The store commits its buffered metrics when it is freed. */
static void
bs_application_shutdown (GApplication *app)
{
  BsApplication *self = BS_APPLICATION (app);

  g_clear_pointer (&self->store, bs_store_free);
  G_APPLICATION_CLASS (bs_application_parent_class)->shutdown (app);
}

static void
bs_application_finalize (GObject *object)
{
  BsApplication *self = BS_APPLICATION (object);

  g_clear_pointer (&self->store, bs_store_free);
  g_clear_error (&self->store_error);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->database_path, g_free);

  G_OBJECT_CLASS (bs_application_parent_class)->finalize (object);
}

static void
bs_application_get_property (GObject *object,
                             guint prop_id,
                             GValue *value,
                             GParamSpec *pspec)
{
  BsApplication *self = BS_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_DATABASE_PATH:
      g_value_set_string (value, self->database_path);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_application_set_property (GObject *object,
                             guint prop_id,
                             const GValue *value,
                             GParamSpec *pspec)
{
  BsApplication *self = BS_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_DATABASE_PATH:
      bs_application_set_database_path (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_application_class_init (BsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = bs_application_finalize;
  object_class->get_property = bs_application_get_property;
  object_class->set_property = bs_application_set_property;

  app_class->handle_local_options = bs_application_handle_local_options;
  app_class->startup = bs_application_startup;
  app_class->activate = bs_application_activate;
  app_class->shutdown = bs_application_shutdown;

  /**
   * BsApplication:database-path:
   *
   * The SQLite database: NULL before startup for the store's default; after
   * startup, the path of the database opened.
   */
  properties[PROP_DATABASE_PATH] =
    g_param_spec_string ("database-path", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bs_application_init (BsApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Train, distill and use BERT text classifiers."));
}
