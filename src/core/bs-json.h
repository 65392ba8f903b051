/* bs-json.h: JSON helpers json-glib lacks.
 *
 * bs_json_check: a pass over JSON text before json-glib parses it.
 * json-glib (1.6) recurses once per nesting level, so a file of a million
 * '[' overflows the stack; it also ignores whatever follows a first complete
 * object or array ("{} {...}"), takes comments and single-quoted strings,
 * and passes on invalid UTF-8, unknown escapes and lone surrogates. The texts
 * read here (safetensors headers, config.json, requests) come from anywhere:
 * this refuses all of them. Double-quoted strings are skipped, so brackets in
 * names do not count. Other syntax errors are left to json-glib. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Deeper than any safetensors header (3) or config.json (about 4) nests. */
#define BS_JSON_MAX_DEPTH 64

/* FALSE with *problem set (a static string) when the text is refused. */
gboolean bs_json_check (const char *text,
                        gsize length,
                        const char **problem);

/* Appends s as a JSON string, escaped as Python's json and serde_json do:
 * only the quote, the backslash and control characters. (json-glib leaves
 * U+001F raw, which is not JSON, and escapes DEL.) */
void bs_json_append_string (GString *out,
                            const char *s);

G_END_DECLS
