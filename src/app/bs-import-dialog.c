/* bs-import-dialog.c: choosing what of a file to import, and how.
 *
 * The peek reads no more than the first two records, so the dialog opens at
 * once even for a large or compressed file; the import itself reads the
 * whole file on the Data page's worker thread. */
#include "config.h"

#include "bs-import-dialog.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* The importer's guesses (bs-import.c), so that the dialog starts where an
 * import without choices would go. */
static const char *const text_guesses[] = {
  "text", "review", "sentence", "content", "document", "comment", "body", "tweet", "description", NULL,
};
static const char *const label_guesses[] = {
  "label", "labels", "sentiment", "class", "category", "target", "polarity", "rating", NULL,
};

/* A record spanning more lines than this is not worth a preview. */
#define PEEK_MAX_LINES 64
#define SAMPLE_CHARS 72

/* ---- requests ---- */

BsImportRequest *
bs_import_request_new (const char *path)
{
  BsImportRequest *request = g_new0 (BsImportRequest, 1);

  request->path = g_strdup (path);
  return request;
}

BsImportRequest *
bs_import_request_copy (const BsImportRequest *request)
{
  BsImportRequest *copy = g_new0 (BsImportRequest, 1);

  *copy = *request;
  copy->path = g_strdup (request->path);
  copy->name = g_strdup (request->name);
  copy->text_columns = g_strdupv (request->text_columns);
  copy->label_column = g_strdup (request->label_column);
  copy->label_names = g_strdupv (request->label_names);
  copy->split = g_strdup (request->split);
  return copy;
}

void
bs_import_request_free (BsImportRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->path);
  g_free (request->name);
  g_strfreev (request->text_columns);
  g_free (request->label_column);
  g_strfreev (request->label_names);
  g_free (request->split);
  g_free (request);
}

/* ---- the peek ---- */

void
bs_import_peek_free (BsImportPeek *peek)
{
  if (peek == NULL)
    return;
  g_free (peek->path);
  g_strfreev (peek->columns);
  g_strfreev (peek->samples);
  g_free (peek);
}

/* By the name, as the importer goes (.gz aside); FALSE when it does not say. */
static gboolean
format_from_name (const char *path,
                  BsImportFormat *format)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (g_str_has_suffix (lower, ".gz"))
    lower[strlen (lower) - 3] = '\0';
  if (g_str_has_suffix (lower, ".csv"))
    *format = BS_IMPORT_CSV;
  else if (g_str_has_suffix (lower, ".tsv") || g_str_has_suffix (lower, ".tab"))
    *format = BS_IMPORT_TSV;
  else if (g_str_has_suffix (lower, ".jsonl") || g_str_has_suffix (lower, ".ndjson")
           || g_str_has_suffix (lower, ".json"))
    *format = BS_IMPORT_JSONL;
  else
    return FALSE;
  return TRUE;
}

/* The next line without its LF or CR LF; NULL at the end (error set on a
 * read error). */
static char *
read_line (GDataInputStream *in,
           GCancellable *cancellable,
           GError **error)
{
  gsize len = 0;
  char *line = g_data_input_stream_read_line (in, &len, cancellable, error);

  if (line != NULL && len > 0 && line[len - 1] == '\r')
    line[len - 1] = '\0';
  return line;
}

/* Splits one CSV/TSV record (RFC 4180 quotes); FALSE while a quoted field
 * is still open at the end of text, i.e. the record goes on on the next
 * line. */
static gboolean
split_record (const char *text,
              char delim,
              GPtrArray *fields)
{
  g_autoptr (GString) field = g_string_new (NULL);
  gboolean quoted = FALSE, was_quoted = FALSE;

  g_ptr_array_set_size (fields, 0);
  for (const char *p = text;; p++)
    {
      if (quoted)
        {
          if (*p == '\0')
            return FALSE;
          if (*p == '"' && p[1] == '"')
            g_string_append_c (field, *p++);
          else if (*p == '"')
            quoted = FALSE;
          else
            g_string_append_c (field, *p);
          continue;
        }
      if (*p == '\0' || *p == delim)
        {
          g_ptr_array_add (fields, g_strdup (field->str));
          g_string_truncate (field, 0);
          was_quoted = FALSE;
          if (*p == '\0')
            return TRUE;
        }
      else if (*p == '"' && field->len == 0 && !was_quoted)
        quoted = was_quoted = TRUE;
      else
        g_string_append_c (field, *p);
    }
}

static gboolean
is_blank (const char *line)
{
  for (const char *p = line; *p != '\0'; p++)
    if (!g_ascii_isspace (*p))
      return FALSE;
  return TRUE;
}

/* The next record's fields (skipping blank lines); NULL at the end. */
static GPtrArray *
read_record (GDataInputStream *in,
             char delim,
             GCancellable *cancellable,
             GError **error)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);

  for (guint n = 0; n < PEEK_MAX_LINES; n++)
    {
      g_autofree char *line = read_line (in, cancellable, error);

      if (line == NULL)
        return NULL;
      /* a blank line between records */
      if (text->len == 0 && is_blank (line))
        continue;
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, line);
      if (split_record (text->str, delim, fields))
        return g_steal_pointer (&fields);
    }
  return NULL;
}

static gboolean
is_number (const char *text)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  char *end = NULL;

  if (stripped[0] == '\0')
    return FALSE;
  g_ascii_strtod (stripped, &end);
  return end != NULL && *end == '\0';
}

static gboolean
is_guess (const char *name,
          const char *const *guesses)
{
  for (guint i = 0; guesses[i] != NULL; i++)
    if (g_ascii_strcasecmp (name, guesses[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Column names are short, not numbers, and not empty; one the importer
 * knows settles it. */
static gboolean
looks_like_header (char **fields)
{
  for (guint i = 0; fields[i] != NULL; i++)
    if (is_guess (fields[i], text_guesses) || is_guess (fields[i], label_guesses))
      return TRUE;
  for (guint i = 0; fields[i] != NULL; i++)
    if (fields[i][0] == '\0' || is_number (fields[i]) || g_utf8_strlen (fields[i], -1) > 48)
      return FALSE;
  return TRUE;
}

static char *
json_sample (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("");
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      GType type = json_node_get_value_type (node);
      if (type == G_TYPE_STRING)
        return g_strdup (json_node_get_string (node));
      if (type == G_TYPE_BOOLEAN)
        return g_strdup (json_node_get_boolean (node) ? "true" : "false");
      if (type == G_TYPE_INT64)
        return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
      if (type == G_TYPE_DOUBLE)
        {
          char buf[G_ASCII_DTOSTR_BUF_SIZE];
          return g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node)));
        }
    }
  return json_to_string (node, FALSE);
}

static gboolean
peek_jsonl (BsImportPeek *peek,
            const char *line,
            GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) columns = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) samples = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GList) members = NULL;
  JsonObject *object;

  if (!json_parser_load_from_data (parser, line, -1, &local))
    {
      /* Translators: a file path, then what is wrong with its first line's JSON */
      g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_MALFORMED, _("%s:1: not valid JSON (%s)"), peek->path,
                   local->message);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      /* Translators: a file path */
      g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_MALFORMED, _("%s:1: not a JSON object"), peek->path);
      return FALSE;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      g_ptr_array_add (columns, g_strdup (l->data));
      g_ptr_array_add (samples, json_sample (json_object_get_member (object, l->data)));
    }
  g_ptr_array_add (columns, NULL);
  g_ptr_array_add (samples, NULL);
  peek->columns = (char **) g_ptr_array_free (g_steal_pointer (&columns), FALSE);
  peek->samples = (char **) g_ptr_array_free (g_steal_pointer (&samples), FALSE);
  peek->header_likely = TRUE;
  return TRUE;
}

BsImportPeek *
bs_import_peek (const char *path,
                GCancellable *cancellable,
                GError **error)
{
  g_autoptr (BsImportPeek) peek = g_new0 (BsImportPeek, 1);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) stream = NULL;
  g_autoptr (GInputStream) buffered = NULL;
  g_autoptr (GInputStream) decoded = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *first = NULL;
  gsize available = 0;
  const guint8 *head;
  gboolean named;

  peek->path = g_strdup (path);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      peek->format = BS_IMPORT_FOLDER;
      peek->columns = g_new0 (char *, 1);
      peek->samples = g_new0 (char *, 1);
      return g_steal_pointer (&peek);
    }

  stream = g_file_read (file, cancellable, &local);
  if (stream == NULL)
    {
      /* Translators: a file path and the reason */
      g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_READ, _("%s: could not read: %s"), path, local->message);
      return NULL;
    }
  buffered = g_buffered_input_stream_new (G_INPUT_STREAM (stream));
  if (g_buffered_input_stream_fill (G_BUFFERED_INPUT_STREAM (buffered), 2, cancellable, &local) < 0)
    {
      g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_READ, _("%s: could not read: %s"), path, local->message);
      return NULL;
    }
  head = g_buffered_input_stream_peek_buffer (G_BUFFERED_INPUT_STREAM (buffered), &available);
  peek->compressed = available >= 2 && head[0] == 0x1f && head[1] == 0x8b;
  if (peek->compressed)
    {
      g_autoptr (GZlibDecompressor) gunzip = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      decoded = g_converter_input_stream_new (buffered, G_CONVERTER (gunzip));
    }
  else
    decoded = g_object_ref (buffered);
  in = g_data_input_stream_new (decoded);
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_LF);

  /* the first line with something on it */
  for (guint n = 0; n < PEEK_MAX_LINES && first == NULL; n++)
    {
      g_autofree char *line = read_line (in, cancellable, &local);
      if (line == NULL)
        break;
      if (n == 0 && g_str_has_prefix (line, "\xEF\xBB\xBF"))
        memmove (line, line + 3, strlen (line + 3) + 1);
      if (!is_blank (line))
        first = g_steal_pointer (&line);
    }
  if (first == NULL)
    {
      if (local != NULL)
        /* Translators: a file path and the reason */
        g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_READ, _("%s: could not read: %s"), path, local->message);
      else
        /* Translators: a file path */
        g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_EMPTY, _("%s: the file is empty"), path);
      return NULL;
    }
  if (!g_utf8_validate (first, -1, NULL))
    {
      /* Translators: a file path */
      g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_ENCODING, _("%s:1: the text is not UTF-8"), path);
      return NULL;
    }

  named = format_from_name (path, &peek->format);
  if (!named)
    {
      const char *p = first;
      while (g_ascii_isspace (*p))
        p++;
      peek->format = *p == '{' ? BS_IMPORT_JSONL : strchr (first, '\t') != NULL ? BS_IMPORT_TSV : BS_IMPORT_CSV;
    }

  if (peek->format == BS_IMPORT_JSONL)
    {
      if (!peek_jsonl (peek, first, error))
        return NULL;
      return g_steal_pointer (&peek);
    }

  {
    char delim = peek->format == BS_IMPORT_TSV ? '\t' : ',';
    g_autoptr (GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GString) text = g_string_new (first);
    g_autoptr (GPtrArray) second = NULL;

    /* a quoted field may go on over the next lines */
    for (guint n = 0; !split_record (text->str, delim, fields); n++)
      {
        g_autofree char *line = n < PEEK_MAX_LINES ? read_line (in, cancellable, NULL) : NULL;
        if (line == NULL)
          {
            /* Translators: a file path */
            g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_MALFORMED,
                         _("%s:1: a quoted field is not closed"), path);
            return NULL;
          }
        g_string_append_c (text, '\n');
        g_string_append (text, line);
      }
    g_ptr_array_add (fields, NULL);
    peek->columns = (char **) g_ptr_array_free (g_steal_pointer (&fields), FALSE);
    peek->header_likely = looks_like_header (peek->columns);

    second = read_record (in, delim, cancellable, NULL);
    if (second == NULL)
      second = g_ptr_array_new_with_free_func (g_free);
    /* one sample a column, "" when the row is short */
    while (second->len < g_strv_length (peek->columns))
      g_ptr_array_add (second, g_strdup (""));
    g_ptr_array_set_size (second, g_strv_length (peek->columns));
    g_ptr_array_add (second, NULL);
    peek->samples = (char **) g_ptr_array_free (g_steal_pointer (&second), FALSE);
  }
  return g_steal_pointer (&peek);
}

static void
peek_thread (GTask *task,
             gpointer source_object,
             gpointer task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  BsImportPeek *peek = bs_import_peek (task_data, cancellable, &error);

  if (peek == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, peek, (GDestroyNotify) bs_import_peek_free);
}

/* The pool's thread is fine here: a peek reads two records. */
void
bs_import_peek_async (const char *path,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, bs_import_peek_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, peek_thread);
}

BsImportPeek *
bs_import_peek_finish (GAsyncResult *result,
                       GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- the dialog ---- */

struct _BsImportDialog
{
  AdwWindow parent_instance;

  AdwWindowTitle *window_title;
  GtkButton *import_button;
  AdwPreferencesGroup *columns_group;
  AdwActionRow *header_row;
  GtkSwitch *header_switch;
  AdwComboRow *label_row;
  AdwPreferencesGroup *text_group;
  AdwComboRow *target_row;
  AdwEntryRow *name_row;
  AdwEntryRow *label_names_row;
  AdwActionRow *validation_row;
  GtkSpinButton *validation_spin;
  GtkSwitch *skip_switch;
  GtkLabel *problem_label;

  BsImportPeek *peek;
  GPtrArray *datasets;    /* BsDataset* (copies: id, name, labels) */
  GPtrArray *targets;     /* BsDataset* of target_row's items after the first (unowned) */
  GPtrArray *text_rows;   /* AdwActionRow*, one per column */
  GPtrArray *text_checks; /* GtkCheckButton*, one per column */
  guint n_columns;
  gboolean rebuilding;    /* the label choices change before the checks are set */
};

G_DEFINE_FINAL_TYPE (BsImportDialog, bs_import_dialog, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_IMPORT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
has_header (BsImportDialog *self)
{
  return self->peek->format == BS_IMPORT_JSONL || gtk_switch_get_active (self->header_switch);
}

/* What a column is called in the dialog. */
static char *
column_title (BsImportDialog *self,
              guint i)
{
  if (has_header (self))
    return g_strdup (self->peek->columns[i][0] != '\0' ? self->peek->columns[i] : "\"\"");
  /* Translators: a column of a file without a header, by its number from 1 */
  return g_strdup_printf (_("Column %u"), i + 1);
}

/* A column's value in the first example. */
static const char *
column_sample (BsImportDialog *self,
               guint i)
{
  if (self->peek->format != BS_IMPORT_JSONL && !has_header (self))
    return self->peek->columns[i];
  return self->peek->samples != NULL && i < g_strv_length (self->peek->samples) ? self->peek->samples[i] : "";
}

/* How the importer names a column: by name with a header, else by number. */
static char *
column_key (BsImportDialog *self,
            guint i)
{
  if (has_header (self))
    return g_strdup (self->peek->columns[i]);
  return g_strdup_printf ("%u", i + 1);
}

static char *
one_line (const char *text,
          guint max_chars)
{
  g_autoptr (GString) out = g_string_new (NULL);
  guint n = 0;

  for (const char *p = text; *p != '\0' && n < max_chars; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);
      if (g_unichar_isspace (c))
        {
          if (out->len > 0 && out->str[out->len - 1] != ' ')
            g_string_append_c (out, ' ');
        }
      else
        g_string_append_unichar (out, c);
    }
  if (*text != '\0' && n >= max_chars && g_utf8_strlen (text, -1) > (glong) max_chars)
    g_string_append (out, "…");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A short value without spaces: a class name or number rather than a text. */
static gboolean
looks_like_label (const char *value)
{
  g_autofree char *stripped = g_strstrip (g_strdup (value));
  return stripped[0] != '\0' && g_utf8_strlen (stripped, -1) <= 24 && strchr (stripped, ' ') == NULL;
}

/* The importer's guesses where it makes them (a header or JSON keys); for a
 * file without a header, a short value is a label and a value with spaces a
 * text. */
static void
guess_columns (BsImportDialog *self,
               int *label,
               gboolean *texts)
{
  guint n = self->n_columns;
  int text = -1;

  *label = -1;
  memset (texts, 0, n * sizeof (gboolean));
  if (has_header (self))
    {
      char **names = self->peek->columns;
      for (guint g = 0; *label < 0 && label_guesses[g] != NULL; g++)
        for (guint i = 0; *label < 0 && i < n; i++)
          if (g_ascii_strcasecmp (names[i], label_guesses[g]) == 0)
            *label = (int) i;
      for (guint g = 0; text < 0 && text_guesses[g] != NULL; g++)
        for (guint i = 0; text < 0 && i < n; i++)
          if (g_ascii_strcasecmp (names[i], text_guesses[g]) == 0)
            text = (int) i;
      if (text < 0 && n == 2 && *label >= 0)
        text = 1 - *label;
    }
  else
    {
      for (guint i = 0; *label < 0 && i < n; i++)
        if (looks_like_label (column_sample (self, i)))
          *label = (int) i;
      for (guint i = 0; i < n; i++)
        if ((int) i != *label && strchr (column_sample (self, i), ' ') != NULL)
          texts[i] = TRUE, text = (int) i;
    }
  if (text < 0)
    {
      /* the longest first value that is neither the label nor a split */
      gsize longest = 0;
      for (guint i = 0; i < n; i++)
        {
          gsize len = strlen (column_sample (self, i));
          if ((int) i != *label && g_ascii_strcasecmp (self->peek->columns[i], "split") != 0 && len >= longest)
            text = (int) i, longest = len;
        }
    }
  if (text >= 0)
    texts[text] = TRUE;
}

static void update_state (BsImportDialog *self);

static void
on_text_toggled (GtkCheckButton *check,
                 BsImportDialog *self)
{
  update_state (self);
}

/* Builds the label choices and one text row a column, from the guesses. */
static void
rebuild_columns (BsImportDialog *self)
{
  g_autoptr (GtkStringList) labels = gtk_string_list_new (NULL);
  g_autofree gboolean *texts = g_new0 (gboolean, MAX (self->n_columns, 1));
  int label;

  for (guint i = 0; i < self->text_rows->len; i++)
    adw_preferences_group_remove (self->text_group, g_ptr_array_index (self->text_rows, i));
  g_ptr_array_set_size (self->text_rows, 0);
  g_ptr_array_set_size (self->text_checks, 0);

  self->rebuilding = TRUE;
  guess_columns (self, &label, texts);
  for (guint i = 0; i < self->n_columns; i++)
    {
      g_autofree char *title = column_title (self, i);
      g_autofree char *sample = one_line (column_sample (self, i), SAMPLE_CHARS);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *check = gtk_check_button_new ();

      gtk_string_list_append (labels, title);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      /* not subtitle-lines 1: GTK 4.8 measures a short ellipsized label
       * ("3") narrower than its ellipsis, and warns */
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), sample);
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check), texts[i]);
      gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      g_signal_connect (check, "toggled", G_CALLBACK (on_text_toggled), self);
      adw_preferences_group_add (self->text_group, row);
      g_ptr_array_add (self->text_rows, row);
      g_ptr_array_add (self->text_checks, check);
    }
  gtk_string_list_append (labels, _("None: Texts without Labels"));
  adw_combo_row_set_model (self->label_row, G_LIST_MODEL (labels));
  adw_combo_row_set_selected (self->label_row, label >= 0 ? (guint) label : self->n_columns);
  self->rebuilding = FALSE;
  update_state (self);
}

static BsDataset *
selected_target (BsImportDialog *self)
{
  guint i = adw_combo_row_get_selected (self->target_row);

  if (i == GTK_INVALID_LIST_POSITION || i == 0 || i - 1 >= self->targets->len)
    return NULL;
  return g_ptr_array_index (self->targets, i - 1);
}

static int
selected_label (BsImportDialog *self)
{
  guint i = adw_combo_row_get_selected (self->label_row);

  return i == GTK_INVALID_LIST_POSITION || i >= self->n_columns ? -1 : (int) i;
}

static char *
entered_name (BsImportDialog *self)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
}

/* Why Import cannot go ahead yet, or NULL; *bad_name when it is the name. */
static char *
find_problem (BsImportDialog *self,
              gboolean *bad_name)
{
  BsDataset *target = selected_target (self);
  gboolean any_text = self->n_columns == 0;
  g_autofree char *name = entered_name (self);

  *bad_name = FALSE;
  for (guint i = 0; i < self->text_checks->len; i++)
    if (gtk_check_button_get_active (g_ptr_array_index (self->text_checks, i)))
      any_text = TRUE;
  if (!any_text)
    return g_strdup (_("Tick the column that holds the text"));
  if (target != NULL)
    {
      if (self->n_columns > 0 && selected_label (self) < 0)
        return g_strdup (_("A test split needs labels: choose the label column"));
      return NULL;
    }
  *bad_name = TRUE;
  if (name[0] == '\0')
    return g_strdup (_("Give the dataset a name"));
  for (guint i = 0; self->datasets != NULL && i < self->datasets->len; i++)
    {
      BsDataset *d = g_ptr_array_index (self->datasets, i);
      if (g_strcmp0 (d->name, name) == 0)
        /* Translators: %s is a dataset's name */
        return g_strdup_printf (_("A dataset named “%s” exists already: choose another name"), name);
    }
  *bad_name = FALSE;
  return NULL;
}

static void
update_state (BsImportDialog *self)
{
  int label = selected_label (self);
  gboolean new_dataset = selected_target (self) == NULL;
  g_autofree char *problem = NULL;
  gboolean bad_name;

  if (self->rebuilding)
    return;

  /* the label column is not a text column */
  for (guint i = 0; i < self->text_checks->len; i++)
    {
      GtkCheckButton *check = g_ptr_array_index (self->text_checks, i);
      gboolean is_label = (int) i == label;
      if (is_label && gtk_check_button_get_active (check))
        gtk_check_button_set_active (check, FALSE);
      gtk_widget_set_sensitive (g_ptr_array_index (self->text_rows, i), !is_label);
    }

  gtk_widget_set_sensitive (GTK_WIDGET (self->name_row), new_dataset);
  gtk_widget_set_sensitive (GTK_WIDGET (self->label_names_row), new_dataset && (label >= 0 || self->n_columns == 0));
  gtk_widget_set_sensitive (GTK_WIDGET (self->validation_row), new_dataset && (label >= 0 || self->n_columns == 0));

  problem = find_problem (self, &bad_name);
  gtk_widget_set_sensitive (GTK_WIDGET (self->import_button), problem == NULL);
  gtk_label_set_label (self->problem_label, problem != NULL ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->problem_label), problem != NULL);
  if (bad_name)
    gtk_widget_add_css_class (GTK_WIDGET (self->name_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
}

BsImportRequest *
bs_import_dialog_get_request (BsImportDialog *self)
{
  g_autoptr (BsImportRequest) request = NULL;
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  BsDataset *target;
  int label;

  g_return_val_if_fail (BS_IS_IMPORT_DIALOG (self), NULL);

  {
    gboolean bad_name;
    g_autofree char *problem = find_problem (self, &bad_name);
    if (problem != NULL)
      return NULL;
  }

  request = bs_import_request_new (self->peek->path);
  request->format = self->peek->format;
  request->no_header = (self->peek->format == BS_IMPORT_CSV || self->peek->format == BS_IMPORT_TSV)
                       && !gtk_switch_get_active (self->header_switch);
  request->skip_bad_rows = gtk_switch_get_active (self->skip_switch);

  label = selected_label (self);
  if (self->n_columns > 0)
    {
      for (guint i = 0; i < self->text_checks->len; i++)
        if (gtk_check_button_get_active (g_ptr_array_index (self->text_checks, i)))
          g_ptr_array_add (texts, column_key (self, i));
      g_ptr_array_add (texts, NULL);
      request->text_columns = (char **) g_ptr_array_free (g_steal_pointer (&texts), FALSE);
      if (label >= 0)
        request->label_column = column_key (self, (guint) label);
      else
        request->split = g_strdup ("unlabeled");
    }

  target = selected_target (self);
  if (target != NULL)
    {
      request->append_to = target->id;
      g_clear_pointer (&request->split, g_free);
      request->split = g_strdup ("test");
      return g_steal_pointer (&request);
    }

  request->name = entered_name (self);
  if (label >= 0 || self->n_columns == 0)
    {
      g_auto (GStrv) parts = g_strsplit (gtk_editable_get_text (GTK_EDITABLE (self->label_names_row)), ",", -1);
      g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
      gboolean any = FALSE;

      for (guint i = 0; parts[i] != NULL; i++)
        {
          g_strstrip (parts[i]);
          if (parts[i][0] != '\0')
            g_strv_builder_add (names, parts[i]), any = TRUE;
        }
      if (any)
        request->label_names = g_strv_builder_end (names);
      request->validation_ratio = gtk_spin_button_get_value (self->validation_spin) / 100.0;
    }
  return g_steal_pointer (&request);
}

static void
on_import_clicked (GtkButton *button,
                   BsImportDialog *self)
{
  g_autoptr (BsImportRequest) request = bs_import_dialog_get_request (self);

  if (request == NULL)
    return;
  g_signal_emit (self, signals[SIGNAL_IMPORT], 0, request);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_changed (BsImportDialog *self)
{
  update_state (self);
}

/* The file's name without .gz and a data extension, as the importer names
 * a dataset. */
static char *
name_from_path (const char *path)
{
  static const char *const extensions[] = { ".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".json", ".txt" };
  char *base = g_path_get_basename (path);
  gsize n = strlen (base);

  if (n > 3 && g_ascii_strcasecmp (base + n - 3, ".gz") == 0)
    base[n -= 3] = '\0';
  for (gsize i = 0; i < G_N_ELEMENTS (extensions); i++)
    {
      gsize e = strlen (extensions[i]);
      if (n > e && g_ascii_strcasecmp (base + n - e, extensions[i]) == 0)
        {
          base[n - e] = '\0';
          break;
        }
    }
  return base;
}

static const char *
format_name (const BsImportPeek *peek)
{
  switch (peek->format)
    {
    case BS_IMPORT_TSV:
      return peek->compressed ? _("Compressed TSV file") : _("TSV file");
    case BS_IMPORT_JSONL:
      return peek->compressed ? _("Compressed JSON Lines file") : _("JSON Lines file");
    case BS_IMPORT_FOLDER:
      return _("Folder of text files");
    case BS_IMPORT_CSV:
    case BS_IMPORT_AUTO:
    default:
      return peek->compressed ? _("Compressed CSV file") : _("CSV file");
    }
}

BsImportDialog *
bs_import_dialog_new (GtkWindow *parent,
                      const BsImportPeek *peek,
                      GPtrArray *datasets)
{
  BsImportDialog *self;
  g_autoptr (GtkStringList) targets = gtk_string_list_new (NULL);
  g_autofree char *base = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *name = NULL;
  gboolean folder;

  g_return_val_if_fail (peek != NULL, NULL);

  self = g_object_new (BS_TYPE_IMPORT_DIALOG, "transient-for", parent, NULL);
  self->peek = g_new0 (BsImportPeek, 1);
  self->peek->path = g_strdup (peek->path);
  self->peek->format = peek->format;
  self->peek->compressed = peek->compressed;
  self->peek->columns = g_strdupv (peek->columns);
  self->peek->samples = g_strdupv (peek->samples);
  self->peek->header_likely = peek->header_likely;
  self->n_columns = self->peek->columns != NULL ? g_strv_length (self->peek->columns) : 0;
  folder = peek->format == BS_IMPORT_FOLDER;

  base = g_path_get_basename (peek->path);
  /* Translators: a file's name and its kind, e.g. reviews.csv — CSV file */
  subtitle = g_strdup_printf (_("%s — %s"), base, format_name (peek));
  adw_window_title_set_subtitle (self->window_title, subtitle);

  gtk_widget_set_visible (GTK_WIDGET (self->columns_group), !folder);
  gtk_widget_set_visible (GTK_WIDGET (self->text_group), !folder);
  gtk_widget_set_visible (GTK_WIDGET (self->header_row),
                          peek->format == BS_IMPORT_CSV || peek->format == BS_IMPORT_TSV);
  gtk_switch_set_active (self->header_switch, peek->header_likely);
  if (!folder)
    {
      g_autofree char *description = NULL;
      if (peek->format == BS_IMPORT_JSONL)
        description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Each line of the file has %u field",
                                                    "Each line of the file has %u fields", self->n_columns),
                                       self->n_columns);
      else
        description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The file has %u column",
                                                    "The file has %u columns", self->n_columns),
                                       self->n_columns);
      adw_preferences_group_set_description (self->columns_group, description);
    }

  /* a new dataset, or the test split of one with labels */
  gtk_string_list_append (targets, _("A New Dataset"));
  self->datasets = g_ptr_array_new_with_free_func ((GDestroyNotify) bs_dataset_free);
  for (guint i = 0; datasets != NULL && i < datasets->len; i++)
    {
      const BsDataset *d = g_ptr_array_index (datasets, i);
      BsDataset *copy = g_new0 (BsDataset, 1);

      copy->id = d->id;
      copy->name = g_strdup (d->name);
      copy->labels = g_strdupv (d->labels);
      g_ptr_array_add (self->datasets, copy);
      if (!folder && copy->labels != NULL && copy->labels[0] != NULL)
        {
          g_autofree char *item = NULL;
          /* Translators: %s is a dataset's name */
          item = g_strdup_printf (_("The Test Split of “%s”"), copy->name);
          gtk_string_list_append (targets, item);
          g_ptr_array_add (self->targets, copy);
        }
    }
  adw_combo_row_set_model (self->target_row, G_LIST_MODEL (targets));
  gtk_widget_set_visible (GTK_WIDGET (self->target_row), self->targets->len > 0);

  name = name_from_path (peek->path);
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), name);

  rebuild_columns (self);
  return self;
}

static void
on_header_toggled (BsImportDialog *self)
{
  rebuild_columns (self);
}

static void
bs_import_dialog_dispose (GObject *object)
{
  BsImportDialog *self = BS_IMPORT_DIALOG (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), BS_TYPE_IMPORT_DIALOG);
  G_OBJECT_CLASS (bs_import_dialog_parent_class)->dispose (object);
}

static void
bs_import_dialog_finalize (GObject *object)
{
  BsImportDialog *self = BS_IMPORT_DIALOG (object);

  g_clear_pointer (&self->peek, bs_import_peek_free);
  g_clear_pointer (&self->targets, g_ptr_array_unref);
  g_clear_pointer (&self->datasets, g_ptr_array_unref);
  g_clear_pointer (&self->text_rows, g_ptr_array_unref);
  g_clear_pointer (&self->text_checks, g_ptr_array_unref);
  G_OBJECT_CLASS (bs_import_dialog_parent_class)->finalize (object);
}

static void
bs_import_dialog_class_init (BsImportDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bs_import_dialog_dispose;
  object_class->finalize = bs_import_dialog_finalize;

  /**
   * BsImportDialog::import:
   * @request: (type gpointer): the BsImportRequest, valid during the emission
   *
   * Import was clicked; the dialog closes after the emission.
   */
  signals[SIGNAL_IMPORT] = g_signal_new ("import", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                         NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/bertstudio/BertStudio/ui/bs-import-dialog.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, BsImportDialog, name)
  CHILD (window_title);
  CHILD (import_button);
  CHILD (columns_group);
  CHILD (header_row);
  CHILD (header_switch);
  CHILD (label_row);
  CHILD (text_group);
  CHILD (target_row);
  CHILD (name_row);
  CHILD (label_names_row);
  CHILD (validation_row);
  CHILD (validation_spin);
  CHILD (skip_switch);
  CHILD (problem_label);
#undef CHILD
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
bs_import_dialog_init (BsImportDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->targets = g_ptr_array_new ();
  self->text_rows = g_ptr_array_new ();
  self->text_checks = g_ptr_array_new ();

  g_signal_connect (self->import_button, "clicked", G_CALLBACK (on_import_clicked), self);
  g_signal_connect_swapped (self->header_switch, "notify::active", G_CALLBACK (on_header_toggled), self);
  g_signal_connect_swapped (self->label_row, "notify::selected", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->target_row, "notify::selected", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->name_row, "changed", G_CALLBACK (on_changed), self);
}
