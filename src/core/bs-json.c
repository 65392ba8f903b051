/* bs-json.c: a pre-parse check and a string escaper for JSON. */
#include "config.h"

#include "bs-json.h"

#include <glib/gi18n-lib.h>

gboolean
bs_json_check (const char *text, gsize length, const char **problem)
{
  int depth = 0;
  gboolean ended = FALSE; /* the top-level object or array has closed */
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        continue;
      if (ended)
        {
          *problem = _("more text follows the top-level value");
          return FALSE;
        }
      switch (c)
        {
        case '"':
          for (i++; i < length && text[i] != '"'; i++)
            if (text[i] == '\\')
              i++;
          break;
        case '[':
        case '{':
          if (++depth > BS_JSON_MAX_DEPTH)
            {
              *problem = _("nested more than 64 levels deep");
              return FALSE;
            }
          break;
        case ']':
        case '}':
          if (--depth <= 0)
            ended = TRUE;
          break;
        case '/':
        case '\'':
          *problem = _("comments and single-quoted strings are not JSON");
          return FALSE;
        default:
          break;
        }
    }
  return TRUE;
}

void
bs_json_append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) s; *p != '\0'; p++)
    switch (*p)
      {
      case '"': g_string_append (out, "\\\""); break;
      case '\\': g_string_append (out, "\\\\"); break;
      case '\b': g_string_append (out, "\\b"); break;
      case '\f': g_string_append (out, "\\f"); break;
      case '\n': g_string_append (out, "\\n"); break;
      case '\r': g_string_append (out, "\\r"); break;
      case '\t': g_string_append (out, "\\t"); break;
      default:
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, (char) *p);
      }
  g_string_append_c (out, '"');
}

