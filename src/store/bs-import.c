/* bs-import.c: CSV/TSV, JSON Lines and folder trees into the store, each in
 * one transaction through one prepared INSERT. */
#include "config.h"

#include "bs-import.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "bs-store-private.h"

G_DEFINE_QUARK (bs-import-error-quark, bs_import_error)

/* A quoted field this long is almost surely a missing closing quote. */
#define MAX_RECORD_BYTES ((gsize) 64 << 20)
/* More distinct labels than this means the label column is not one. */
#define MAX_DISTINCT_LABELS 10000
#define PROGRESS_EVERY 2000
#define CANCEL_CHECK_EVERY 256

static const char *const text_guesses[] = {
  "text", "review", "sentence", "content", "document", "comment", "body", "tweet", "description", NULL,
};
static const char *const label_guesses[] = {
  "label", "labels", "sentiment", "class", "category", "target", "polarity", "rating", NULL,
};

/* ---- input: files, gzip or not ---- */

typedef struct
{
  const char *path;
  GFileInputStream *file;
  GInputStream *stream;     /* decompressing when the file is gzip */
  GDataInputStream *lines;  /* for the line-based formats */
  gint64 size;              /* of the file, -1 unknown */
  gint64 line;              /* physical lines read */
} Input;

static void
input_close (Input *in)
{
  g_clear_object (&in->lines);
  g_clear_object (&in->stream);
  g_clear_object (&in->file);
}

static gboolean
input_open (Input *in, const char *path, GCancellable *cancellable, GError **error)
{
  memset (in, 0, sizeof *in);
  in->path = path;
  in->size = -1;
  g_autoptr (GFile) file = g_file_new_for_path (path);
  in->file = g_file_read (file, cancellable, error);
  if (in->file == NULL)
    return FALSE;
  g_autoptr (GFileInfo) info = g_file_input_stream_query_info (in->file, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, NULL);
  if (info != NULL)
    in->size = g_file_info_get_size (info);

  g_autoptr (GInputStream) buffered = g_buffered_input_stream_new_sized (G_INPUT_STREAM (in->file), 64 * 1024);
  GBufferedInputStream *buf = G_BUFFERED_INPUT_STREAM (buffered);
  gsize available = 0;
  for (;;)
    {
      g_buffered_input_stream_peek_buffer (buf, &available);
      if (available >= 2)
        break;
      g_autoptr (GError) local = NULL;
      gssize n = g_buffered_input_stream_fill (buf, 2 - (gssize) available, cancellable, &local);
      if (n < 0)
        {
          /* Translators: a file path and the reason */
          g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_READ, _("%s: could not read: %s"), path, local->message);
          input_close (in);
          return FALSE;
        }
      if (n == 0)
        break;
    }
  const guint8 *head = g_buffered_input_stream_peek_buffer (buf, &available);
  if (available >= 2 && head[0] == 0x1f && head[1] == 0x8b)
    {
      g_autoptr (GZlibDecompressor) gunzip = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      in->stream = g_converter_input_stream_new (buffered, G_CONVERTER (gunzip));
    }
  else
    in->stream = g_object_ref (buffered);
  return TRUE;
}

static gboolean
input_open_lines (Input *in, const char *path, GCancellable *cancellable, GError **error)
{
  if (!input_open (in, path, cancellable, error))
    return FALSE;
  in->lines = g_data_input_stream_new (in->stream);
  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (in->lines), 64 * 1024);
  g_data_input_stream_set_newline_type (in->lines, G_DATA_STREAM_NEWLINE_TYPE_LF);
  return TRUE;
}

/* The next physical line without its LF or CRLF (and without a byte order
 * mark on line 1); NULL at the end or on error. */
static char *
input_read_line (Input *in, gsize *len, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;
  char *line = g_data_input_stream_read_line (in->lines, len, cancellable, &local);
  if (line == NULL)
    {
      if (local != NULL)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local));
          else
            /* Translators: a file path, a line number in it, and the reason */
            g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_READ, _("%s:%" PRId64 ": could not read: %s"),
                         in->path, in->line + 1, local->message);
        }
      return NULL;
    }
  in->line++;
  if (*len > 0 && line[*len - 1] == '\r')
    line[--*len] = '\0';
  if (in->line == 1 && *len >= 3 && memcmp (line, "\xEF\xBB\xBF", 3) == 0)
    {
      memmove (line, line + 3, *len - 3 + 1);
      *len -= 3;
    }
  return line;
}

static double
input_fraction (Input *in)
{
  if (in->file == NULL || in->size <= 0)
    return -1;
  return MIN (1.0, (double) g_seekable_tell (G_SEEKABLE (in->file)) / (double) in->size);
}

/* The whole (decompressed) contents of a file, NUL-terminated. */
static char *
read_whole_file (const char *path, gsize *length, GCancellable *cancellable, GError **error)
{
  Input in;
  if (!input_open (&in, path, cancellable, error))
    return NULL;
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 chunk[16384];
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      gssize n = g_input_stream_read (in.stream, chunk, sizeof chunk, cancellable, &local);
      if (n < 0)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local));
          else
            /* Translators: a file path and the reason */
            g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_READ, _("%s: could not read: %s"), path,
                         local->message);
          input_close (&in);
          return NULL;
        }
      if (n == 0)
        break;
      g_byte_array_append (bytes, chunk, (guint) n);
    }
  input_close (&in);
  *length = bytes->len;
  g_byte_array_append (bytes, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&bytes), FALSE);
}

/* ---- one import ---- */

typedef struct
{
  BsStore *store;
  const BsImportOptions *opts;
  BsImportResult *result;
  GCancellable *cancellable;
  gint64 dataset_id;
  sqlite3_stmt *insert;
  GPtrArray *names;       /* label names, index = label (provisional while collecting) */
  GHashTable *index;      /* name → index + 1 */
  gboolean fixed;         /* the names are known: other labels are errors */
  gboolean numeric_names; /* fixed names that are all integers: a number is never an index */
  Input *input;           /* the file being read, for progress */
  gsize files_done, files_total;
} Import;

static void
report_progress (Import *im)
{
  if (im->opts->progress == NULL)
    return;
  double fraction = im->input != NULL ? input_fraction (im->input)
                    : im->files_total > 0 ? (double) im->files_done / (double) im->files_total
                    : -1;
  im->opts->progress (im->result->n_rows, fraction, im->opts->progress_data);
}

static char *
where_of (const char *file, gint64 line)
{
  return line > 0 ? g_strdup_printf ("%s:%" G_GINT64_FORMAT, file, line) : g_strdup (file);
}

/* A failure that no option skips: "FILE:LINE: what". */
static gboolean G_GNUC_PRINTF (5, 6)
fail (GError **error, int code, const char *file, gint64 line, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *why = g_strdup_vprintf (format, args);
  va_end (args);
  g_autofree char *where = where_of (file, line);
  g_set_error (error, BS_IMPORT_ERROR, code, "%s: %s", where, why);
  return FALSE;
}

/* A bad row: with skip_bad_rows counted, listed and skipped (TRUE: go on),
 * otherwise the import's error. */
static gboolean G_GNUC_PRINTF (6, 7)
bad_row (Import *im, GError **error, int code, const char *file, gint64 line, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *why = g_strdup_vprintf (format, args);
  va_end (args);
  g_autofree char *where = where_of (file, line);
  if (!im->opts->skip_bad_rows)
    {
      g_set_error (error, BS_IMPORT_ERROR, code, "%s: %s", where, why);
      return FALSE;
    }
  im->result->n_skipped++;
  if (im->result->skipped->len < BS_IMPORT_MAX_REPORTED)
    g_ptr_array_add (im->result->skipped, g_strdup_printf ("%s: %s", where, why));
  return TRUE;
}

static char *
list_names (GPtrArray *names)
{
  g_autoptr (GString) out = g_string_new (NULL);
  for (guint i = 0; i < names->len && i < 10; i++)
    g_string_append_printf (out, i > 0 ? ", %s" : "%s", (const char *) g_ptr_array_index (names, i));
  if (names->len > 10)
    g_string_append (out, ", …");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
add_name (Import *im, const char *name)
{
  char *copy = g_strdup (name);
  g_ptr_array_add (im->names, copy);
  g_hash_table_insert (im->index, copy, GUINT_TO_POINTER (im->names->len));
}

static gboolean
parse_integer (const char *s, gint64 *value)
{
  return g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, value, NULL);
}

typedef enum
{
  LABEL_OK,
  LABEL_BAD,      /* not a known name: a bad row */
  LABEL_TOO_MANY, /* fails the import */
} LabelStatus;

/* The label id of raw (-1: unlabeled). */
static LabelStatus
resolve_label (Import *im, const char *raw, int *id, char **why)
{
  g_autofree char *name = g_strstrip (g_strdup (raw));
  *id = -1;
  if (!g_utf8_validate (name, -1, NULL))
    {
      *why = g_strdup (_("the label is not valid UTF-8"));
      return LABEL_BAD;
    }
  gint64 number;
  gboolean is_int = parse_integer (name, &number);
  if (name[0] == '\0' || (is_int && number == -1))
    return LABEL_OK;
  g_autofree char *canonical = is_int ? g_strdup_printf ("%" G_GINT64_FORMAT, number) : g_strdup (name);
  gpointer found = g_hash_table_lookup (im->index, name);
  if (found == NULL)
    found = g_hash_table_lookup (im->index, canonical);
  if (found != NULL)
    {
      *id = GPOINTER_TO_INT (found) - 1;
      return LABEL_OK;
    }
  if (im->fixed)
    {
      if (is_int && !im->numeric_names && number >= 0 && number < im->names->len)
        {
          *id = (int) number;
          return LABEL_OK;
        }
      g_autofree char *known = list_names (im->names);
      /* Translators: a label, then the dataset's labels, separated by commas */
      *why = g_strdup_printf (_("the label “%s” is not one of the dataset's labels (%s)"), name, known);
      return LABEL_BAD;
    }
  if (im->names->len >= MAX_DISTINCT_LABELS)
    {
      /* Translators: a number (10000) and a label */
      *why = g_strdup_printf (_("more than %d distinct labels (the latest “%s”): is that the label column?"),
                              MAX_DISTINCT_LABELS, name);
      return LABEL_TOO_MANY;
    }
  add_name (im, canonical);
  *id = (int) im->names->len - 1;
  return LABEL_OK;
}

static gboolean
is_blank (const char *text, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (text[i]))
      return FALSE;
  return TRUE;
}

/* One example.  label NULL: unlabeled.  line 0: a whole file, whose line of
 * an encoding error is counted from the text. */
static gboolean
add_row (Import *im, const char *file, gint64 line, const char *split, const char *text, gsize len,
         const char *label, GError **error)
{
  const char *end;
  if (memchr (text, '\0', len) != NULL)
    /* Translators: a NUL byte is a byte of value 0 */
    return bad_row (im, error, BS_IMPORT_ERROR_ENCODING, file, MAX (line, 1), _("the text holds a NUL byte"));
  if (!g_utf8_validate_len (text, len, &end))
    {
      gsize offset = (gsize) (end - text);
      gint64 at = line;
      if (line == 0)
        {
          at = 1;
          for (const char *p = text; p < end; p++)
            at += *p == '\n';
        }
      return bad_row (im, error, BS_IMPORT_ERROR_ENCODING, file, at,
                      /* Translators: a byte's value in hexadecimal, then its position in the text, from 1 */
                      _("the text is not valid UTF-8 (byte 0x%02x at byte %zu of the text)"),
                      (guint8) *end, offset + 1);
    }
  if (is_blank (text, len))
    return bad_row (im, error, BS_IMPORT_ERROR_TEXT, file, MAX (line, 1), _("the text is empty"));

  int id = -1;
  if (label != NULL)
    {
      g_autofree char *why = NULL;
      switch (resolve_label (im, label, &id, &why))
        {
        case LABEL_OK:
          break;
        case LABEL_BAD:
          return bad_row (im, error, BS_IMPORT_ERROR_LABEL, file, MAX (line, 1), "%s", why);
        case LABEL_TOO_MANY:
          return fail (error, BS_IMPORT_ERROR_LABEL, file, MAX (line, 1), "%s", why);
        }
    }

  sqlite3_stmt *st = im->insert;
  sqlite3_bind_int64 (st, 1, im->dataset_id);
  sqlite3_bind_text (st, 2, id >= 0 ? split : "unlabeled", -1, SQLITE_STATIC);
  sqlite3_bind_int (st, 3, id);
  sqlite3_bind_text (st, 4, text, (int) len, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      g_autofree char *where = where_of (file, MAX (line, 1));
      /* Translators: %s is a file path, with a line number */
      bs_store_sql_error (im->store, error, _("Could not insert the example of %s"), where);
      sqlite3_reset (st);
      return FALSE;
    }
  sqlite3_reset (st);
  gint64 n = ++im->result->n_rows;
  if (n % CANCEL_CHECK_EVERY == 0 && g_cancellable_set_error_if_cancelled (im->cancellable, error))
    return FALSE;
  if (n % PROGRESS_EVERY == 0)
    report_progress (im);
  return TRUE;
}

/* ---- columns ---- */

static int
find_column (char **header, guint n_columns, const char *name)
{
  for (guint i = 0; header != NULL && i < n_columns; i++)
    if (strcmp (header[i], name) == 0)
      return (int) i;
  for (guint i = 0; header != NULL && i < n_columns; i++)
    if (g_ascii_strcasecmp (header[i], name) == 0)
      return (int) i;
  guint64 number;
  if (g_ascii_string_to_unsigned (name, 10, 1, n_columns, &number, NULL))
    return (int) number - 1;
  return -1;
}

static int
guess_column (char **header, guint n_columns, const char *const *guesses)
{
  for (guint g = 0; guesses[g] != NULL; g++)
    for (guint i = 0; i < n_columns; i++)
      if (g_ascii_strcasecmp (header[i], guesses[g]) == 0)
        return (int) i;
  return -1;
}

static gboolean
wants_labels (const char *split)
{
  return strcmp (split, "unlabeled") != 0;
}

/* The split a row names in its split column (exported datasets have one);
 * NULL for a bad row, with *ok telling whether the import goes on. */
static const char *
split_of_row (Import *im, const char *file, gint64 line, const char *value, gboolean *ok, GError **error)
{
  g_autofree char *name = g_strstrip (g_strdup (value));
  for (gsize i = 0; i < G_N_ELEMENTS (bs_store_splits); i++)
    if (strcmp (name, bs_store_splits[i]) == 0)
      return bs_store_splits[i];
  *ok = bad_row (im, error, BS_IMPORT_ERROR_MALFORMED, file, line,
                 /* Translators: %s is a file's split value; keep train, validation, test and unlabeled as they are */
                 _("the split “%s” is not train, validation, test or unlabeled"), name);
  return NULL;
}

/* The columns of text (text_idx, n_text) and label (-1: none) of a
 * delimited file with n_columns columns; header NULL: none. */
static gboolean
resolve_columns (Import *im, const char *file, gint64 line, char **header, guint n_columns, const char *split,
                 GArray *text_idx, int *label_idx, GError **error)
{
  const BsImportOptions *o = im->opts;
  g_autofree char *columns = header != NULL ? g_strjoinv (", ", header) : NULL;

  *label_idx = -1;
  if (wants_labels (split))
    {
      if (o->label_column != NULL)
        {
          *label_idx = find_column (header, n_columns, o->label_column);
          if (*label_idx < 0 && header != NULL)
            return fail (error, BS_IMPORT_ERROR_COLUMN, file, line,
                         /* Translators: the column asked for, then the header's column names, separated by commas */
                         _("no label column “%s” (the header has %s)"), o->label_column, columns);
          if (*label_idx < 0)
            return fail (error, BS_IMPORT_ERROR_COLUMN, file, line,
                         /* Translators: the column asked for, then the number of columns */
                         _("no label column “%s” (the file has no header; give a column number from 1 to %u)"),
                         o->label_column, n_columns);
        }
      else if (header == NULL)
        return fail (error, BS_IMPORT_ERROR_OPTIONS, file, line,
                     /* Translators: %u is the number of columns */
                     _("the file has no header: name the label column by its number (1 to %u)"), n_columns);
      else if ((*label_idx = guess_column (header, n_columns, label_guesses)) < 0)
        return fail (error, BS_IMPORT_ERROR_COLUMN, file, line,
                     /* Translators: keep label, sentiment, class, category and unlabeled as they are; %s is the
                        header's column names */
                     _("no label column: none of label, sentiment, class, category, … (the header has %s); "
                       "name the label column, or import as the unlabeled split"), columns);
    }

  const char *const single[] = { o->text_column, NULL };
  const char *const *wanted = o->text_columns != NULL && o->text_columns[0] != NULL ? o->text_columns
                              : o->text_column != NULL ? single : NULL;
  if (wanted != NULL)
    {
      for (guint i = 0; wanted[i] != NULL; i++)
        {
          int idx = find_column (header, n_columns, wanted[i]);
          if (idx < 0 && header != NULL)
            return fail (error, BS_IMPORT_ERROR_COLUMN, file, line,
                         /* Translators: the column asked for, then the header's column names, separated by commas */
                         _("no text column “%s” (the header has %s)"), wanted[i], columns);
          if (idx < 0)
            return fail (error, BS_IMPORT_ERROR_COLUMN, file, line,
                         /* Translators: the column asked for, then the number of columns */
                         _("no text column “%s” (the file has no header; give a column number from 1 to %u)"),
                         wanted[i], n_columns);
          g_array_append_val (text_idx, idx);
        }
      return TRUE;
    }
  if (header == NULL)
    return fail (error, BS_IMPORT_ERROR_OPTIONS, file, line,
                 /* Translators: %u is the number of columns */
                 _("the file has no header: name the text column by its number (1 to %u)"), n_columns);
  int idx = guess_column (header, n_columns, text_guesses);
  /* two columns, one of them the label: the other is the text */
  if (idx < 0 && n_columns == 2 && *label_idx >= 0)
    idx = 1 - *label_idx;
  if (idx < 0)
    return fail (error, BS_IMPORT_ERROR_COLUMN, file, line,
                 /* Translators: keep text, review, sentence and content as they are; %s is the header's column names */
                 _("no text column: none of text, review, sentence, content, … (the header has %s); name the text "
                   "column"),
                 columns);
  g_array_append_val (text_idx, idx);
  return TRUE;
}

/* ---- CSV and TSV ---- */

typedef enum
{
  RECORD_OK,
  RECORD_END,
  RECORD_BAD,   /* *why says what is wrong; the record was consumed */
  RECORD_ERROR, /* *error */
} RecordStatus;

/* Reads one record into buf: its fields NUL-separated, starting at the
 * offsets in starts.  Blank lines are skipped. */
static RecordStatus
read_record (Input *in, char delim, GString *buf, GArray *starts, gint64 *start_line, char **why, int *why_code,
             GCancellable *cancellable, GError **error)
{
  *why_code = BS_IMPORT_ERROR_MALFORMED;
  g_string_truncate (buf, 0);
  g_array_set_size (starts, 0);
  g_autofree char *line = NULL;
  gsize len = 0;
  GError *local = NULL;
  do
    {
      g_free (line);
      line = input_read_line (in, &len, cancellable, &local);
      if (line == NULL)
        {
          if (local == NULL)
            return RECORD_END;
          g_propagate_error (error, local);
          return RECORD_ERROR;
        }
    }
  while (len == 0);
  *start_line = in->line;

  gboolean in_quotes = FALSE, closed = FALSE, field_empty = TRUE, has_nul = FALSE;
  gsize start = 0;
  g_array_append_val (starts, start);
  for (;;)
    {
      has_nul = has_nul || memchr (line, '\0', len) != NULL;
      for (gsize i = 0; i < len; i++)
        {
          char c = line[i];
          if (in_quotes)
            {
              if (c != '"')
                {
                  /* copy up to the next quote at once */
                  const char *q = memchr (line + i, '"', len - i);
                  gsize n = q != NULL ? (gsize) (q - (line + i)) : len - i;
                  g_string_append_len (buf, line + i, (gssize) n);
                  i += n - 1;
                }
              else if (i + 1 < len && line[i + 1] == '"')
                {
                  g_string_append_c (buf, '"');
                  i++;
                }
              else
                {
                  in_quotes = FALSE;
                  closed = TRUE;
                }
            }
          else if (c == delim)
            {
              g_string_append_c (buf, '\0');
              start = buf->len;
              g_array_append_val (starts, start);
              closed = FALSE;
              field_empty = TRUE;
            }
          else if (closed)
            {
              if (*why == NULL)
                /* Translators: %u is a field's number in the row, from 1 */
                *why = g_strdup_printf (_("text after the closing quote of field %u"), starts->len);
            }
          else if (c == '"' && field_empty)
            {
              in_quotes = TRUE;
              field_empty = FALSE;
            }
          else
            {
              g_string_append_c (buf, c);
              field_empty = FALSE;
            }
        }
      if (!in_quotes)
        break;
      /* a line break inside a quoted field */
      g_string_append_c (buf, '\n');
      if (buf->len > MAX_RECORD_BYTES)
        {
          fail (error, BS_IMPORT_ERROR_MALFORMED, in->path, *start_line,
                /* Translators: %zu is a number of mebibytes (64) */
                _("a quoted field runs on for more than %zu MiB: is a closing quote missing?"),
                MAX_RECORD_BYTES >> 20);
          return RECORD_ERROR;
        }
      g_free (line);
      line = input_read_line (in, &len, cancellable, &local);
      if (line == NULL)
        {
          if (local != NULL)
            {
              g_propagate_error (error, local);
              return RECORD_ERROR;
            }
          g_free (*why);
          /* Translators: %u is a field's number in the row, from 1 */
          *why = g_strdup_printf (_("the quote opening field %u is not closed by the end of the file"), starts->len);
          return RECORD_BAD;
        }
    }
  g_string_append_c (buf, '\0');
  if (has_nul && *why == NULL)
    {
      /* Translators: a NUL byte is a byte of value 0 */
      *why = g_strdup (_("the row holds a NUL byte"));
      *why_code = BS_IMPORT_ERROR_ENCODING;
    }
  return *why != NULL ? RECORD_BAD : RECORD_OK;
}

static const char *
field (GString *buf, GArray *starts, guint i)
{
  return buf->str + g_array_index (starts, gsize, i);
}

static gboolean
import_delimited (Import *im, const char *path, char delim, const char *split, GError **error)
{
  Input in;
  if (!input_open_lines (&in, path, im->cancellable, error))
    return FALSE;
  im->input = &in;
  g_autoptr (GString) buf = g_string_sized_new (4096);
  g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr (GArray) text_idx = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GString) text = g_string_sized_new (4096);
  g_auto (GStrv) header = NULL;
  int label_idx = -1, split_idx = -1;
  guint n_columns = 0;
  gint64 line = 0;
  gboolean ok = TRUE, first = TRUE;
  const char *what = delim == '\t' ? "TSV" : "CSV";

  for (;;)
    {
      g_autofree char *why = NULL;
      int why_code;
      RecordStatus status = read_record (&in, delim, buf, starts, &line, &why, &why_code, im->cancellable, error);
      if (status == RECORD_ERROR)
        {
          ok = FALSE;
          break;
        }
      if (status == RECORD_END)
        {
          if (first)
            ok = fail (error, BS_IMPORT_ERROR_EMPTY, path, in.line + 1, _("the file is empty"));
          else if (header != NULL && im->result->n_rows == 0 && im->result->n_skipped == 0)
            ok = fail (error, BS_IMPORT_ERROR_EMPTY, path, in.line + 1, _("no rows after the header"));
          break;
        }
      if (first)
        {
          first = FALSE;
          if (status == RECORD_BAD)
            {
              ok = fail (error, why_code, path, line,
                         im->opts->no_header
                           /* Translators: %s says what is wrong with the row */
                           ? _("%s (in the first row)")
                           /* Translators: %s says what is wrong with the header row */
                           : _("%s (in the header)"),
                         why);
              break;
            }
          n_columns = starts->len;
          if (!im->opts->no_header)
            {
              header = g_new0 (char *, n_columns + 1);
              for (guint i = 0; i < n_columns; i++)
                header[i] = g_strstrip (g_strdup (field (buf, starts, i)));
            }
          if (!resolve_columns (im, path, line, header, n_columns, split, text_idx, &label_idx, error))
            {
              ok = FALSE;
              break;
            }
          /* without a split asked for, a split column (as exported) says it */
          for (guint i = 0; header != NULL && im->opts->split == NULL && i < n_columns; i++)
            if (g_ascii_strcasecmp (header[i], "split") == 0)
              split_idx = (int) i;
          if (header != NULL)
            continue;
        }
      if (status == RECORD_BAD)
        {
          if (!(ok = bad_row (im, error, why_code, path, line, "%s", why)))
            break;
          continue;
        }
      if (starts->len != n_columns)
        {
          if (!(ok = bad_row (im, error, BS_IMPORT_ERROR_MALFORMED, path, line,
                              header != NULL
                                ? g_dngettext (GETTEXT_PACKAGE,
                                               /* Translators: a row's number of fields, CSV or TSV (not
                                                  translated), and the header's number of fields */
                                               "%u %s field where the header has %u",
                                               "%u %s fields where the header has %u", starts->len)
                                : g_dngettext (GETTEXT_PACKAGE,
                                               /* Translators: a row's number of fields, CSV or TSV (not
                                                  translated), and the first row's number of fields */
                                               "%u %s field where the first row has %u",
                                               "%u %s fields where the first row has %u", starts->len),
                              starts->len, what, n_columns)))
            break;
          continue;
        }
      g_string_truncate (text, 0);
      for (guint i = 0; i < text_idx->len; i++)
        {
          const char *part = field (buf, starts, (guint) g_array_index (text_idx, int, i));
          if (part[0] == '\0')
            continue;
          if (text->len > 0)
            g_string_append_c (text, ' ');
          g_string_append (text, part);
        }
      const char *row_split = split;
      if (split_idx >= 0 && (row_split = split_of_row (im, path, line, field (buf, starts, (guint) split_idx), &ok,
                                                       error)) == NULL)
        {
          if (!ok)
            break;
          continue;
        }
      const char *label = label_idx >= 0 && wants_labels (row_split) ? field (buf, starts, (guint) label_idx) : NULL;
      if (!(ok = add_row (im, path, line, row_split, text->str, text->len, label, error)))
        break;
    }
  im->input = NULL;
  input_close (&in);
  return ok;
}

/* ---- JSON Lines ---- */

/* json-glib cuts a string at an escaped U+0000; such lines are refused. */
static gboolean
has_escaped_nul (const char *line, gsize len)
{
  for (gsize i = 0; i + 1 < len; i++)
    if (line[i] == '\\')
      {
        if (line[i + 1] == 'u' && i + 5 < len && memcmp (line + i + 2, "0000", 4) == 0)
          return TRUE;
        i++;
      }
  return FALSE;
}

/* json-glib's "<data>:1:7: Parse error: …" for one line: "at column 7: …". */
static char *
json_error_text (const char *message)
{
  int line, column, consumed = 0;
  if (sscanf (message, "<data>:%d:%d: %n", &line, &column, &consumed) == 2 && consumed > 0)
    /* Translators: a column's number in the line, then what is wrong with the JSON */
    return g_strdup_printf (_("at column %d: %s"), column, message + consumed);
  return g_strdup (message);
}

static const char *
find_member (JsonObject *object, const char *name)
{
  if (json_object_has_member (object, name))
    return name;
  g_autoptr (GList) members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    if (g_ascii_strcasecmp (l->data, name) == 0)
      return l->data;
  return NULL;
}

static char *
member_names (JsonObject *object)
{
  g_autoptr (GList) members = json_object_get_members (object);
  g_autoptr (GString) out = g_string_new (NULL);
  for (GList *l = members; l != NULL; l = l->next)
    g_string_append_printf (out, l == members ? "%s" : ", %s", (const char *) l->data);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A JSON label as text: strings as they are, integral numbers in decimal,
 * null as "" (unlabeled).  NULL for arrays and objects. */
static char *
json_label (JsonNode *node)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("");
  if (!JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  GType type = json_node_get_value_type (node);
  if (type == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  if (type == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  if (type == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (node) ? "true" : "false");
  double v = json_node_get_double (node);
  if (v == (double) (gint64) v)
    return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) v);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_dtostr (buf, sizeof buf, v));
}

static gboolean
import_jsonl (Import *im, const char *path, const char *split, GError **error)
{
  const BsImportOptions *o = im->opts;
  Input in;
  if (!input_open_lines (&in, path, im->cancellable, error))
    return FALSE;
  im->input = &in;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GPtrArray) text_fields = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *label_field = NULL;
  g_autoptr (GString) text = g_string_sized_new (4096);
  gboolean ok = TRUE, resolved = FALSE, any = FALSE;

  if (o->text_columns != NULL && o->text_columns[0] != NULL)
    for (guint i = 0; o->text_columns[i] != NULL; i++)
      g_ptr_array_add (text_fields, g_strdup (o->text_columns[i]));
  else if (o->text_column != NULL)
    g_ptr_array_add (text_fields, g_strdup (o->text_column));
  if (wants_labels (split) && o->label_column != NULL)
    label_field = g_strdup (o->label_column);

  for (;;)
    {
      gsize len;
      GError *local = NULL;
      g_autofree char *line = input_read_line (&in, &len, im->cancellable, &local);
      if (line == NULL)
        {
          if (local != NULL)
            {
              g_propagate_error (error, local);
              ok = FALSE;
            }
          else if (!any)
            ok = fail (error, BS_IMPORT_ERROR_EMPTY, path, in.line + 1,
                       in.line == 0 ? _("the file is empty") : _("no rows (only blank lines)"));
          break;
        }
      if (is_blank (line, len))
        continue;
      any = TRUE;
      gint64 n = in.line;
      const char *end;
      JsonObject *object = NULL;
      if (memchr (line, '\0', len) != NULL)
        /* Translators: a NUL byte is a byte of value 0 */
        ok = bad_row (im, error, BS_IMPORT_ERROR_ENCODING, path, n, _("the line holds a NUL byte"));
      else if (!g_utf8_validate_len (line, len, &end))
        ok = bad_row (im, error, BS_IMPORT_ERROR_ENCODING, path, n,
                      /* Translators: a byte's value in hexadecimal, then its column in the line, from 1 */
                      _("the line is not valid UTF-8 (byte 0x%02x at column %zu)"),
                      (guint8) *end, (gsize) (end - line) + 1);
      else if (has_escaped_nul (line, len))
        /* Translators: keep \u0000 as it is: it is how JSON writes the character of value 0 */
        ok = bad_row (im, error, BS_IMPORT_ERROR_ENCODING, path, n,
                      _("a string holds \\u0000, which a text cannot hold"));
      else
        {
          g_autoptr (GError) parse_error = NULL;
          if (!json_parser_load_from_data (parser, line, (gssize) len, &parse_error))
            {
              g_autofree char *why = json_error_text (parse_error->message);
              /* Translators: %s says what is wrong with the JSON */
              ok = bad_row (im, error, BS_IMPORT_ERROR_MALFORMED, path, n, _("not valid JSON (%s)"), why);
            }
          else if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
            ok = bad_row (im, error, BS_IMPORT_ERROR_MALFORMED, path, n, _("not a JSON object"));
          else
            object = json_node_get_object (json_parser_get_root (parser));
        }
      if (!ok)
        break;
      if (object == NULL)
        continue;

      if (!resolved)
        {
          /* fields not named are guessed from the first object */
          resolved = TRUE;
          g_autofree char *members = member_names (object);
          for (guint g = 0; text_fields->len == 0 && text_guesses[g] != NULL; g++)
            if (find_member (object, text_guesses[g]) != NULL)
              g_ptr_array_add (text_fields, g_strdup (find_member (object, text_guesses[g])));
          if (text_fields->len == 0)
            {
              ok = fail (error, BS_IMPORT_ERROR_COLUMN, path, n,
                         /* Translators: keep text, review, sentence and content as they are; %s is the object's field
                            names */
                         _("no text field: none of text, review, sentence, content, … (the object has %s); "
                           "name the text field"), members);
              break;
            }
          for (guint g = 0; wants_labels (split) && label_field == NULL && label_guesses[g] != NULL; g++)
            if (find_member (object, label_guesses[g]) != NULL)
              label_field = g_strdup (find_member (object, label_guesses[g]));
          if (wants_labels (split) && label_field == NULL)
            {
              ok = fail (error, BS_IMPORT_ERROR_COLUMN, path, n,
                         /* Translators: keep label, sentiment, class, category and unlabeled as they are; %s is the
                            object's field names */
                         _("no label field: none of label, sentiment, class, category, … (the object has %s); "
                           "name the label field, or import as the unlabeled split"), members);
              break;
            }
        }
      const char *row_split = split;
      if (o->split == NULL && find_member (object, "split") != NULL)
        {
          /* a split field (as exported) says the row's split */
          JsonNode *node = json_object_get_member (object, find_member (object, "split"));
          if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
            {
              /* Translators: keep “split” as it is: it is a JSON field's name */
              ok = bad_row (im, error, BS_IMPORT_ERROR_MALFORMED, path, n, _("the field “split” is not a string"));
              row_split = NULL;
            }
          else
            row_split = split_of_row (im, path, n, json_node_get_string (node), &ok, error);
          if (!ok)
            break;
          if (row_split == NULL)
            continue;
        }

      g_string_truncate (text, 0);
      gboolean row_ok = TRUE;
      for (guint i = 0; row_ok && i < text_fields->len; i++)
        {
          const char *name = g_ptr_array_index (text_fields, i);
          const char *member = find_member (object, name);
          JsonNode *node = member != NULL ? json_object_get_member (object, member) : NULL;
          if (node == NULL)
            /* Translators: %s is a JSON field's name */
            row_ok = FALSE, ok = bad_row (im, error, BS_IMPORT_ERROR_COLUMN, path, n, _("no field “%s”"), name);
          else if (JSON_NODE_HOLDS_NULL (node))
            continue;
          else if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
            row_ok = FALSE, ok = bad_row (im, error, BS_IMPORT_ERROR_MALFORMED, path, n,
                                          /* Translators: %s is a JSON field's name */
                                          _("the field “%s” is not a string"), name);
          else
            {
              const char *part = json_node_get_string (node);
              if (part[0] != '\0' && text->len > 0)
                g_string_append_c (text, ' ');
              g_string_append (text, part);
            }
        }
      g_autofree char *label = NULL;
      if (row_ok && label_field != NULL && wants_labels (row_split))
        {
          const char *member = find_member (object, label_field);
          JsonNode *node = member != NULL ? json_object_get_member (object, member) : NULL;
          if (node == NULL)
            /* Translators: %s is a JSON field's name */
            row_ok = FALSE,
            ok = bad_row (im, error, BS_IMPORT_ERROR_COLUMN, path, n, _("no field “%s”"), label_field);
          else if ((label = json_label (node)) == NULL)
            row_ok = FALSE, ok = bad_row (im, error, BS_IMPORT_ERROR_MALFORMED, path, n,
                                          /* Translators: %s is a JSON field's name */
                                          _("the label field “%s” is neither a string nor a number"), label_field);
        }
      if (row_ok)
        ok = add_row (im, path, n, row_split, text->str, text->len, label, error);
      if (!ok)
        break;
    }
  im->input = NULL;
  input_close (&in);
  return ok;
}

/* ---- folders ---- */

/* Numbers in names compare by value (2_1.txt before 10_1.txt); the rest by
 * bytes, so the order is the same on every machine. */
static int
natural_compare (const char *a, const char *b)
{
  while (*a != '\0' && *b != '\0')
    {
      if (g_ascii_isdigit (*a) && g_ascii_isdigit (*b))
        {
          while (*a == '0' && g_ascii_isdigit (a[1]))
            a++;
          while (*b == '0' && g_ascii_isdigit (b[1]))
            b++;
          gsize la = 0, lb = 0;
          while (g_ascii_isdigit (a[la]))
            la++;
          while (g_ascii_isdigit (b[lb]))
            lb++;
          if (la != lb)
            return la < lb ? -1 : 1;
          int c = memcmp (a, b, la);
          if (c != 0)
            return c;
          a += la;
          b += lb;
        }
      else
        {
          if (*a != *b)
            return (guchar) *a < (guchar) *b ? -1 : 1;
          a++;
          b++;
        }
    }
  return *a != '\0' ? 1 : *b != '\0' ? -1 : 0;
}

static gint
natural_compare_ptr (gconstpointer a, gconstpointer b)
{
  return natural_compare (*(const char *const *) a, *(const char *const *) b);
}

/* The names of the folders (dirs) or regular files in dir, hidden ones
 * left out, in natural order. */
static GPtrArray *
list_dir (const char *dir, gboolean dirs, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      /* Translators: a folder and the reason */
      g_set_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_READ, _("%s: could not list the folder: %s"), dir,
                   local->message);
      return NULL;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (name[0] == '.')
        continue;
      g_autofree char *full = g_build_filename (dir, name, NULL);
      if (g_file_test (full, dirs ? G_FILE_TEST_IS_DIR : G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, natural_compare_ptr);
  return names;
}

static const char *
split_of_folder (const char *name)
{
  static const struct { const char *folder, *split; } map[] = {
    { "train", "train" }, { "test", "test" }, { "validation", "validation" }, { "valid", "validation" },
    { "val", "validation" }, { "dev", "validation" }, { "unsup", "unlabeled" }, { "unlabeled", "unlabeled" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_ascii_strcasecmp (name, map[i].folder) == 0)
      return map[i].split;
  return NULL;
}

static gboolean
is_unlabeled_folder (const char *name)
{
  return g_ascii_strcasecmp (name, "unsup") == 0 || g_ascii_strcasecmp (name, "unlabeled") == 0;
}

typedef struct
{
  char *dir;
  const char *split;
  char *label; /* NULL: unlabeled */
  GPtrArray *files;
} Leaf;

static void
leaf_free (Leaf *leaf)
{
  g_free (leaf->dir);
  g_free (leaf->label);
  if (leaf->files != NULL)
    g_ptr_array_unref (leaf->files);
  g_free (leaf);
}

static gint
strcmp_ptr (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
import_folder (Import *im, const char *path, GError **error)
{
  const char *only = im->opts->split;
  g_autoptr (GPtrArray) top = list_dir (path, TRUE, error);
  if (top == NULL)
    return FALSE;
  gboolean has_splits = FALSE;
  for (guint i = 0; i < top->len; i++)
    {
      const char *s = split_of_folder (g_ptr_array_index (top, i));
      has_splits = has_splits || (s != NULL && strcmp (s, "unlabeled") != 0);
    }

  /* the leaf folders: split/label, or label when there are no split folders */
  g_autoptr (GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) leaf_free);
  static const char *const order[] = { "train", "validation", "test", "unlabeled" };
  for (gsize o = 0; o < G_N_ELEMENTS (order); o++)
    for (guint i = 0; i < top->len; i++)
      {
        const char *name = g_ptr_array_index (top, i);
        const char *split = has_splits ? split_of_folder (name) : (only != NULL ? only : "train");
        if (split == NULL || strcmp (split, order[o]) != 0)
          continue;
        g_autofree char *dir = g_build_filename (path, name, NULL);
        if (is_unlabeled_folder (name))
          {
            /* unsup/ at the top holds texts */
            Leaf *leaf = g_new0 (Leaf, 1);
            leaf->dir = g_steal_pointer (&dir);
            leaf->split = "unlabeled";
            g_ptr_array_add (leaves, leaf);
            continue;
          }
        if (!has_splits)
          {
            Leaf *leaf = g_new0 (Leaf, 1);
            leaf->dir = g_steal_pointer (&dir);
            leaf->split = split;
            leaf->label = g_strdup (name);
            g_ptr_array_add (leaves, leaf);
            continue;
          }
        g_autoptr (GPtrArray) labels = list_dir (dir, TRUE, error);
        if (labels == NULL)
          return FALSE;
        for (guint j = 0; j < labels->len; j++)
          {
            const char *label = g_ptr_array_index (labels, j);
            Leaf *leaf = g_new0 (Leaf, 1);
            leaf->dir = g_build_filename (dir, label, NULL);
            leaf->split = is_unlabeled_folder (label) ? "unlabeled" : split;
            leaf->label = is_unlabeled_folder (label) ? NULL : g_strdup (label);
            g_ptr_array_add (leaves, leaf);
          }
      }
  /* with split folders, a chosen split reads only its own */
  for (guint i = leaves->len; has_splits && only != NULL && i-- > 0;)
    if (strcmp (((Leaf *) g_ptr_array_index (leaves, i))->split, only) != 0)
      g_ptr_array_remove_index (leaves, i);
  if (leaves->len == 0)
    return fail (error, BS_IMPORT_ERROR_EMPTY, path, 0,
                 /* Translators: keep the folder names as they are */
                 _("no label folders (expected e.g. train/pos/*.txt, train/neg/*.txt, test/…, train/unsup/)"));

  /* the labels are the folder names, sorted */
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; i < leaves->len; i++)
    {
      Leaf *leaf = g_ptr_array_index (leaves, i);
      if (leaf->label != NULL && !g_ptr_array_find_with_equal_func (names, leaf->label, g_str_equal, NULL))
        g_ptr_array_add (names, leaf->label);
    }
  g_ptr_array_sort (names, strcmp_ptr);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      if (!g_utf8_validate (name, -1, NULL))
        return fail (error, BS_IMPORT_ERROR_ENCODING, path, 0, _("a label folder's name is not valid UTF-8"));
      if (im->fixed && g_hash_table_lookup (im->index, name) == NULL)
        {
          g_autofree char *known = list_names (im->names);
          return fail (error, BS_IMPORT_ERROR_LABEL, path, 0,
                       /* Translators: a folder's name, then the dataset's labels, separated by commas */
                       _("the folder “%s” is not one of the dataset's labels (%s)"), name, known);
        }
    }
  if (!im->fixed)
    {
      for (guint i = 0; i < names->len; i++)
        add_name (im, g_ptr_array_index (names, i));
      im->fixed = TRUE; /* already in order: nothing to renumber */
      g_ptr_array_add (names, NULL);
      if (!bs_store_set_dataset_labels (im->store, im->dataset_id, (const char *const *) names->pdata, error))
        return FALSE;
    }

  for (guint i = 0; i < leaves->len; i++)
    {
      Leaf *leaf = g_ptr_array_index (leaves, i);
      if ((leaf->files = list_dir (leaf->dir, FALSE, error)) == NULL)
        return FALSE;
      im->files_total += leaf->files->len;
    }
  for (guint i = 0; i < leaves->len; i++)
    {
      Leaf *leaf = g_ptr_array_index (leaves, i);
      for (guint j = 0; j < leaf->files->len; j++)
        {
          if (g_cancellable_set_error_if_cancelled (im->cancellable, error))
            return FALSE;
          g_autofree char *file = g_build_filename (leaf->dir, g_ptr_array_index (leaf->files, j), NULL);
          gsize len;
          g_autofree char *text = read_whole_file (file, &len, im->cancellable, error);
          if (text == NULL)
            return FALSE;
          /* one final line break is the file's, not the text's */
          if (len > 0 && text[len - 1] == '\n')
            text[--len] = '\0';
          if (len > 0 && text[len - 1] == '\r')
            text[--len] = '\0';
          im->files_done++;
          if (!add_row (im, file, 0, leaf->split, text, len, leaf->label, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* ---- the driver ---- */

void
bs_import_result_clear (BsImportResult *result)
{
  g_clear_pointer (&result->skipped, g_ptr_array_unref);
  memset (result, 0, sizeof *result);
}

gboolean
bs_import_format_from_string (const char *name, BsImportFormat *format)
{
  static const struct { const char *name; BsImportFormat format; } map[] = {
    { "auto", BS_IMPORT_AUTO }, { "csv", BS_IMPORT_CSV }, { "tsv", BS_IMPORT_TSV },
    { "jsonl", BS_IMPORT_JSONL }, { "folder", BS_IMPORT_FOLDER },
  };
  for (gsize i = 0; name != NULL && i < G_N_ELEMENTS (map); i++)
    if (g_ascii_strcasecmp (name, map[i].name) == 0)
      {
        *format = map[i].format;
        return TRUE;
      }
  return FALSE;
}

/* The file name without .gz and a data extension. */
static char *
name_from_path (const char *path)
{
  char *base = g_path_get_basename (path);
  static const char *const extensions[] = { ".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".json", ".txt" };
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

static BsImportFormat
guess_format (const char *path, GCancellable *cancellable)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return BS_IMPORT_FOLDER;
  g_autofree char *lower = g_ascii_strdown (path, -1);
  if (g_str_has_suffix (lower, ".gz"))
    lower[strlen (lower) - 3] = '\0';
  if (g_str_has_suffix (lower, ".csv"))
    return BS_IMPORT_CSV;
  if (g_str_has_suffix (lower, ".tsv") || g_str_has_suffix (lower, ".tab"))
    return BS_IMPORT_TSV;
  if (g_str_has_suffix (lower, ".jsonl") || g_str_has_suffix (lower, ".ndjson") || g_str_has_suffix (lower, ".json"))
    return BS_IMPORT_JSONL;
  /* by the first non-blank line */
  Input in;
  BsImportFormat format = BS_IMPORT_CSV;
  if (!input_open_lines (&in, path, cancellable, NULL))
    return format;
  for (;;)
    {
      gsize len;
      g_autofree char *line = input_read_line (&in, &len, cancellable, NULL);
      if (line == NULL)
        break;
      if (is_blank (line, len))
        continue;
      g_strchug (line);
      format = line[0] == '{' ? BS_IMPORT_JSONL : strchr (line, '\t') != NULL ? BS_IMPORT_TSV : BS_IMPORT_CSV;
      break;
    }
  input_close (&in);
  return format;
}

typedef struct
{
  char *name;
  guint provisional;
  gboolean numeric;
  gint64 value;
} NameEntry;

static gint
compare_entries (gconstpointer a, gconstpointer b)
{
  const NameEntry *x = *(NameEntry *const *) a, *y = *(NameEntry *const *) b;
  if (x->numeric && y->numeric)
    return x->value < y->value ? -1 : x->value > y->value;
  return strcmp (x->name, y->name);
}

/* Labels collected from the data: sorted, the rows renumbered to match, and
 * the names stored with the dataset. */
static gboolean
finish_labels (Import *im, GError **error)
{
  guint n = im->names->len;
  if (im->fixed || n == 0)
    return TRUE;
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (g_free);
  gboolean numeric = TRUE;
  for (guint i = 0; i < n; i++)
    {
      NameEntry *e = g_new0 (NameEntry, 1);
      e->name = g_ptr_array_index (im->names, i);
      e->provisional = i;
      numeric = numeric && parse_integer (e->name, &e->value);
      g_ptr_array_add (entries, e);
    }
  for (guint i = 0; i < n; i++)
    ((NameEntry *) g_ptr_array_index (entries, i))->numeric = numeric;
  g_ptr_array_sort (entries, compare_entries);

  gboolean identity = TRUE;
  g_autoptr (GStrvBuilder) sorted = g_strv_builder_new ();
  for (guint k = 0; k < n; k++)
    {
      NameEntry *e = g_ptr_array_index (entries, k);
      identity = identity && e->provisional == k;
      g_strv_builder_add (sorted, e->name);
    }
  if (!identity)
    {
      /* a mapping table rather than a CASE: a lookup per row, however many labels */
      if (sqlite3_exec (bs_store_get_db (im->store),
                        "CREATE TEMP TABLE IF NOT EXISTS bs_label_order (provisional INTEGER PRIMARY KEY, final INTEGER); "
                        "DELETE FROM temp.bs_label_order", NULL, NULL, NULL) != SQLITE_OK)
        return bs_store_sql_error (im->store, error, _("Could not make the table to renumber the labels"));
      g_autoptr (sqlite3_stmt) add = bs_store_prepare (im->store,
        "INSERT INTO temp.bs_label_order (provisional, final) VALUES (?, ?)", error);
      g_autoptr (sqlite3_stmt) renumber = bs_store_prepare (im->store,
        "UPDATE examples SET label = (SELECT final FROM temp.bs_label_order WHERE provisional = examples.label) "
        "WHERE dataset_id = ? AND label >= 0", error);
      if (add == NULL || renumber == NULL)
        return FALSE;
      for (guint k = 0; k < n; k++)
        {
          sqlite3_bind_int (add, 1, (int) ((NameEntry *) g_ptr_array_index (entries, k))->provisional);
          sqlite3_bind_int (add, 2, (int) k);
          if (sqlite3_step (add) != SQLITE_DONE)
            return bs_store_sql_error (im->store, error, _("Could not renumber the labels in order"));
          sqlite3_reset (add);
        }
      sqlite3_bind_int64 (renumber, 1, im->dataset_id);
      if (sqlite3_step (renumber) != SQLITE_DONE)
        return bs_store_sql_error (im->store, error, _("Could not renumber the labels in order"));
    }
  g_auto (GStrv) labels = g_strv_builder_end (sorted);
  return bs_store_set_dataset_labels (im->store, im->dataset_id, (const char *const *) labels, error);
}

static gboolean
all_integers (GPtrArray *names)
{
  gint64 v;
  for (guint i = 0; i < names->len; i++)
    if (!parse_integer (g_ptr_array_index (names, i), &v))
      return FALSE;
  return names->len > 0;
}

static gboolean
run_import (BsStore *store, gint64 append_to, const char *path, const BsImportOptions *options,
            BsImportResult *result, GCancellable *cancellable, GError **error)
{
  const BsImportOptions defaults = { 0 };
  const BsImportOptions *o = options != NULL ? options : &defaults;
  g_auto (BsImportResult) scratch = { 0 };
  if (result == NULL)
    result = &scratch;
  bs_import_result_clear (result);
  result->skipped = g_ptr_array_new_with_free_func (g_free);

  if (o->split != NULL && !bs_store_is_split (o->split))
    return fail (error, BS_IMPORT_ERROR_OPTIONS, path, 0,
                 /* Translators: %s is what was given as a split; keep the split names as they are */
                 _("“%s” is not a split (train, validation, test or unlabeled)"), o->split);
  if (!(o->validation_ratio >= 0 && o->validation_ratio < 1))
    /* Translators: %g is a number such as 0.1; [0, 1) is the interval from 0 (included) to 1 (excluded) */
    return fail (error, BS_IMPORT_ERROR_OPTIONS, path, 0, _("the validation ratio %g is not in [0, 1)"),
                 o->validation_ratio);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      /* Translators: %s is a file path */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("%s: no such file or folder"), path);
      return FALSE;
    }
  BsImportFormat format = o->format == BS_IMPORT_AUTO ? guess_format (path, cancellable) : o->format;
  gboolean is_dir = g_file_test (path, G_FILE_TEST_IS_DIR);
  if ((format == BS_IMPORT_FOLDER) != is_dir)
    return fail (error, BS_IMPORT_ERROR_OPTIONS, path, 0,
                 is_dir ? _("a folder can only be imported as a folder tree")
                        : _("not a folder (the folder format needs one)"));
  const char *split = o->split != NULL ? o->split : "train";

  Import im = {
    .store = store,
    .opts = o,
    .result = result,
    .cancellable = cancellable,
    .names = g_ptr_array_new_with_free_func (g_free),
    .index = g_hash_table_new (g_str_hash, g_str_equal),
  };
  if (!bs_store_write_begin (store, error))
    {
      g_ptr_array_unref (im.names);
      g_hash_table_unref (im.index);
      return FALSE;
    }

  gboolean ok = TRUE;
  if (append_to > 0)
    {
      g_autoptr (BsDataset) d = bs_store_get_dataset (store, append_to, error);
      ok = d != NULL;
      for (guint i = 0; ok && d->labels[i] != NULL; i++)
        add_name (&im, d->labels[i]);
      im.dataset_id = append_to;
    }
  else
    {
      g_autofree char *name = o->name != NULL ? g_strdup (o->name) : name_from_path (path);
      g_autofree char *source = g_canonicalize_filename (path, NULL);
      for (guint i = 0; o->label_names != NULL && o->label_names[i] != NULL; i++)
        if (g_hash_table_lookup (im.index, o->label_names[i]) == NULL)
          add_name (&im, o->label_names[i]);
      im.dataset_id = bs_store_create_dataset (store, name, source, o->label_names, error);
      ok = im.dataset_id > 0;
    }
  im.fixed = im.names->len > 0;
  im.numeric_names = all_integers (im.names);
  if (ok)
    ok = (im.insert = bs_store_prepare (store,
      "INSERT INTO examples (dataset_id, split, label, text) VALUES (?, ?, ?, ?)", error)) != NULL;

  if (ok)
    switch (format)
      {
      case BS_IMPORT_CSV:
      case BS_IMPORT_AUTO:
        ok = import_delimited (&im, path, ',', split, error);
        break;
      case BS_IMPORT_TSV:
        ok = import_delimited (&im, path, '\t', split, error);
        break;
      case BS_IMPORT_JSONL:
        ok = import_jsonl (&im, path, split, error);
        break;
      case BS_IMPORT_FOLDER:
        ok = import_folder (&im, path, error);
        break;
      }
  if (ok && result->n_rows == 0)
    ok = fail (error, BS_IMPORT_ERROR_EMPTY, path, 0,
               /* Translators: a number of rows, then where the first bad row is and what is wrong with it */
               g_dngettext (GETTEXT_PACKAGE, "no rows to import: the %" PRId64 " row was bad (%s)",
                            "no rows to import: all %" PRId64 " were bad (%s)", (gulong) result->n_skipped),
               result->n_skipped, result->skipped->len > 0 ? (char *) g_ptr_array_index (result->skipped, 0) : "");
  if (ok)
    ok = finish_labels (&im, error);
  if (ok && o->validation_ratio > 0)
    ok = bs_store_split_validation (store, im.dataset_id, o->validation_ratio, o->seed, error);

  g_clear_pointer (&im.insert, sqlite3_finalize);
  g_ptr_array_unref (im.names);
  g_hash_table_unref (im.index);
  ok = bs_store_write_end (store, ok, error);
  if (ok)
    {
      result->dataset_id = im.dataset_id;
      if (o->progress != NULL)
        o->progress (result->n_rows, 1.0, o->progress_data);
    }
  return ok;
}

gboolean
bs_import (BsStore *store, const char *path, const BsImportOptions *options, BsImportResult *result,
           GCancellable *cancellable, GError **error)
{
  return run_import (store, 0, path, options, result, cancellable, error);
}

gboolean
bs_import_append (BsStore *store, gint64 dataset_id, const char *path, const BsImportOptions *options,
                  BsImportResult *result, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (dataset_id > 0, FALSE);
  return run_import (store, dataset_id, path, options, result, cancellable, error);
}
