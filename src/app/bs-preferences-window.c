/* bs-preferences-window.c: the preferences.
 *
 * "threads" is bound to the spin button; BsApplication applies the key to
 * the engine's pool and OpenBLAS when it changes.  The key's 0 means "all
 * processors", shown as their number, so that the default follows the
 * machine. */
#include "config.h"

#include <glib/gi18n.h>

#include "bs-preferences-window.h"

struct _BsPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  GSettings *settings;
  char *database_path;

  /* template children */
  GtkAdjustment *threads_adjustment;
  AdwActionRow *database_row;
};

G_DEFINE_FINAL_TYPE (BsPreferencesWindow, bs_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum
{
  PROP_0,
  PROP_DATABASE_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

BsPreferencesWindow *
bs_preferences_window_new (GtkWindow *parent,
                           const char *database_path)
{
  return g_object_new (BS_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "destroy-with-parent", TRUE,
                       "database-path", database_path,
                       NULL);
}

static gboolean
threads_get_mapping (GValue *value,
                     GVariant *variant,
                     gpointer user_data)
{
  int n_cpus = (int) g_get_num_processors ();
  int n = g_variant_get_int32 (variant);

  g_value_set_double (value, n <= 0 || n > n_cpus ? n_cpus : n);
  return TRUE;
}

static GVariant *
threads_set_mapping (const GValue *value,
                     const GVariantType *expected_type,
                     gpointer user_data)
{
  return g_variant_new_int32 ((int) g_value_get_double (value));
}

static void
bs_preferences_window_constructed (GObject *object)
{
  BsPreferencesWindow *self = BS_PREFERENCES_WINDOW (object);
  g_autofree char *subtitle = NULL;

  G_OBJECT_CLASS (bs_preferences_window_parent_class)->constructed (object);

  /* the subtitle is markup */
  subtitle = g_markup_escape_text (self->database_path != NULL ? self->database_path : _("Not open"), -1);
  adw_action_row_set_subtitle (self->database_row, subtitle);
}

static void
bs_preferences_window_finalize (GObject *object)
{
  BsPreferencesWindow *self = BS_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  g_clear_pointer (&self->database_path, g_free);

  G_OBJECT_CLASS (bs_preferences_window_parent_class)->finalize (object);
}

static void
bs_preferences_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (bs_preferences_window_parent_class)->dispose (object);
}

static void
bs_preferences_window_get_property (GObject *object,
                                    guint prop_id,
                                    GValue *value,
                                    GParamSpec *pspec)
{
  BsPreferencesWindow *self = BS_PREFERENCES_WINDOW (object);

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
bs_preferences_window_set_property (GObject *object,
                                    guint prop_id,
                                    const GValue *value,
                                    GParamSpec *pspec)
{
  BsPreferencesWindow *self = BS_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_DATABASE_PATH:
      self->database_path = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_preferences_window_class_init (BsPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = bs_preferences_window_constructed;
  object_class->dispose = bs_preferences_window_dispose;
  object_class->finalize = bs_preferences_window_finalize;
  object_class->get_property = bs_preferences_window_get_property;
  object_class->set_property = bs_preferences_window_set_property;

  /**
   * BsPreferencesWindow:database-path:
   *
   * The database the application opened, shown read-only.
   */
  properties[PROP_DATABASE_PATH] =
    g_param_spec_string ("database-path", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/bertstudio/BertStudio/ui/bs-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, BsPreferencesWindow, threads_adjustment);
  gtk_widget_class_bind_template_child (widget_class, BsPreferencesWindow, database_row);
}

static void
bs_preferences_window_init (BsPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_adjustment_set_upper (self->threads_adjustment, g_get_num_processors ());

  self->settings = g_settings_new (APPLICATION_ID);
  g_settings_bind_with_mapping (self->settings, "threads",
                                self->threads_adjustment, "value",
                                G_SETTINGS_BIND_DEFAULT,
                                threads_get_mapping, threads_set_mapping,
                                NULL, NULL);
}
