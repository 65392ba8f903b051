/* bs-hub.c: the hub client, on libsoup 3.2's blocking API in the caller's
 * thread (the session is made, used and freed there). */
#include "config.h"

#include "bs-hub.h"
#include "bs-hub-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bs-classifier.h"
#include "bs-config.h"
#include "bs-json.h"
#include "bs-safetensors.h"
#include "bs-store.h"

G_DEFINE_QUARK (bs-hub-error-quark, bs_hub_error)

#define READ_CHUNK (256 * 1024)
#define MAX_REDIRECTS 10
/* not in libsoup 3.2's SoupStatus */
#define HTTP_TOO_MANY_REQUESTS 429
#define PROGRESS_INTERVAL_US 100000
/* a sharded BERT's index is some 30 KB */
#define MAX_INDEX_BYTES (16 << 20)
/* the smoothing time of the reported rate, in seconds */
#define RATE_WINDOW_S 3.0
#define STAGE_SUFFIX ".partial"
#define PART_SUFFIX ".incomplete"
/* beside a partial file: the ETag of what it is the start of */
#define TAG_SUFFIX ".incomplete.etag"

static gint64 disk_free_for_testing = -1;

void
bs_hub_set_disk_free_for_testing (gint64 bytes)
{
  disk_free_for_testing = bytes;
}

void
bs_hub_result_clear (BsHubResult *result)
{
  g_clear_pointer (&result->path, g_free);
  g_clear_pointer (&result->commit, g_free);
  memset (result, 0, sizeof *result);
}

/* ---- names ---- */

static gboolean
is_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.';
}

/* One part of a repository id: what the hub's own client accepts. */
static gboolean
is_repo_part (const char *s, gsize n)
{
  if (n == 0 || s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.')
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!is_name_char (s[i]) || (i > 0 && (s[i] == '-' || s[i] == '.') && s[i - 1] == s[i]))
      return FALSE;
  return TRUE;
}

gboolean
bs_hub_check_repo_id (const char *repo, GError **error)
{
  const char *slash = repo != NULL ? strchr (repo, '/') : NULL;
  gboolean ok = repo != NULL && strlen (repo) <= 96 && !g_str_has_suffix (repo, ".git");
  if (ok && slash == NULL)
    ok = is_repo_part (repo, strlen (repo));
  else if (ok)
    ok = is_repo_part (repo, (gsize) (slash - repo)) && is_repo_part (slash + 1, strlen (slash + 1));
  if (!ok)
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_INVALID,
                 /* Translators: %s is what the user gave as the repository */
                 _("“%s” is not a hub repository name: it is “name” or “owner/name”, such as "
                   "“bert-base-uncased” or “distilbert/distilbert-base-uncased”"),
                 repo != NULL ? repo : "");
  return ok;
}

char *
bs_hub_default_output_dir (const char *repo)
{
  g_auto (GStrv) parts = g_strsplit (repo, "/", -1);
  g_autofree char *name = g_strjoinv ("__", parts);
  return g_build_filename (g_get_user_data_dir (), "bert-studio", "models", name, NULL);
}

char *
bs_hub_get_endpoint (const BsHubOptions *options)
{
  const char *endpoint = options != NULL ? options->endpoint : NULL;
  if (endpoint == NULL || *endpoint == '\0')
    endpoint = g_getenv ("HF_ENDPOINT");
  if (endpoint == NULL || *endpoint == '\0')
    endpoint = BS_HUB_DEFAULT_ENDPOINT;
  char *copy = g_strdup (endpoint);
  gsize n = strlen (copy);
  while (n > 0 && copy[n - 1] == '/')
    copy[--n] = '\0';
  return copy;
}

static gboolean
is_hex (const char *s, gsize n)
{
  if (s == NULL || strlen (s) != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* A file named in model.safetensors.index.json: a plain name in the
 * repository's top folder (it becomes a path in ours). */
static gboolean
is_shard_name (const char *name)
{
  if (name == NULL || name[0] == '\0' || name[0] == '.' || !g_str_has_suffix (name, ".safetensors")
      || strlen (name) > 200)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!is_name_char (*p))
      return FALSE;
  return TRUE;
}

/* ---- one answer's headers ---- */

typedef struct
{
  guint status;
  char *reason;
  char *host;          /* of the server that answered */
  char *linked_etag;   /* X-Linked-Etag of the first answer that had one */
  gint64 linked_size;  /* X-Linked-Size of the first answer that had one; -1 */
  char *commit;        /* X-Repo-Commit */
  char *etag;          /* ETag of the last answer */
  gint64 length;       /* Content-Length of the last answer; -1 */
  gint64 range_start;  /* Content-Range of the last answer; -1 */
  gint64 range_total;  /* -1: none or "*" */
  char *error_code;    /* X-Error-Code, the hub's reason for a 4xx */
  char *error_message; /* X-Error-Message */
} Meta;

#define META_INIT { .linked_size = -1, .length = -1, .range_start = -1, .range_total = -1 }

static void
meta_init (Meta *m)
{
  *m = (Meta) META_INIT;
}

static void
meta_clear (Meta *m)
{
  g_free (m->reason);
  g_free (m->host);
  g_free (m->linked_etag);
  g_free (m->commit);
  g_free (m->etag);
  g_free (m->error_code);
  g_free (m->error_message);
  meta_init (m);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Meta, meta_clear)

/* ETags arrive quoted, sometimes weak (W/"…"). */
static char *
unquote_etag (const char *value)
{
  if (value == NULL)
    return NULL;
  if (g_str_has_prefix (value, "W/"))
    value += 2;
  gsize n = strlen (value);
  if (n >= 2 && value[0] == '"' && value[n - 1] == '"')
    return g_ascii_strdown (value + 1, (gssize) n - 2);
  return g_ascii_strdown (value, -1);
}

static gint64
header_int (SoupMessageHeaders *h, const char *name)
{
  const char *v = soup_message_headers_get_one (h, name);
  guint64 n;
  if (v == NULL || !g_ascii_string_to_unsigned (v, 10, 0, G_MAXINT64, &n, NULL))
    return -1;
  return (gint64) n;
}

static void
meta_update (Meta *m, SoupMessage *msg)
{
  SoupMessageHeaders *h = soup_message_get_response_headers (msg);
  m->status = soup_message_get_status (msg);
  g_free (m->reason);
  m->reason = g_strdup (soup_message_get_reason_phrase (msg));
  g_free (m->host);
  m->host = g_strdup (g_uri_get_host (soup_message_get_uri (msg)));
  if (m->linked_etag == NULL)
    m->linked_etag = unquote_etag (soup_message_headers_get_one (h, "X-Linked-Etag"));
  if (m->linked_size < 0)
    m->linked_size = header_int (h, "X-Linked-Size");
  if (m->commit == NULL)
    m->commit = g_strdup (soup_message_headers_get_one (h, "X-Repo-Commit"));
  g_free (m->etag);
  m->etag = unquote_etag (soup_message_headers_get_one (h, "ETag"));
  m->length = soup_message_headers_get_encoding (h) == SOUP_ENCODING_CONTENT_LENGTH
                  ? soup_message_headers_get_content_length (h)
                  : -1;
  goffset start, end, total;
  m->range_start = m->range_total = -1;
  if (soup_message_headers_get_content_range (h, &start, &end, &total))
    {
      m->range_start = start;
      m->range_total = total;
    }
  g_free (m->error_code);
  m->error_code = g_strdup (soup_message_headers_get_one (h, "X-Error-Code"));
  g_free (m->error_message);
  m->error_message = g_strdup (soup_message_headers_get_one (h, "X-Error-Message"));
}

/* What identifies a file's contents: the LFS SHA-256, else the ETag (the
 * git blob SHA-1 for a small file). */
static const char *
meta_etag (const Meta *m)
{
  return m->linked_etag != NULL ? m->linked_etag : m->etag;
}

static gboolean
meta_found (const Meta *m)
{
  return SOUP_STATUS_IS_SUCCESSFUL (m->status) || SOUP_STATUS_IS_REDIRECTION (m->status);
}

/* A 404 about the repository or revision rather than about one file. */
static gboolean
meta_repo_missing (const Meta *m)
{
  return g_strcmp0 (m->error_code, "RepoNotFound") == 0 || g_strcmp0 (m->error_code, "RevisionNotFound") == 0
         || g_strcmp0 (m->error_code, "GatedRepo") == 0;
}

/* ---- the download's state ---- */

typedef struct
{
  const char *repo;
  const char *revision;
  char *endpoint;
  GUri *endpoint_uri;
  char *url_revision; /* escaped; the commit once the hub has named it */
  char *token;
  char *dest;
  char *stage;
  gboolean created_stage;
  int stage_fd; /* holds the lock */
  SoupSession *session;
  GCancellable *cancellable;
  guint retry_delay_ms;
  char *commit;
  GHashTable *planned; /* file -> its size, counted in total_bytes already */

  BsHubProgressFunc progress_func;
  gpointer user_data;
  BsHubProgress p;
  gint64 start_us, last_report_us, rate_us, rate_bytes;
  gint64 downloaded, resumed;
} Hub;

static void
hub_clear (Hub *h)
{
  g_free (h->endpoint);
  g_clear_pointer (&h->endpoint_uri, g_uri_unref);
  g_free (h->url_revision);
  g_free (h->token);
  g_free (h->dest);
  g_free (h->stage);
  if (h->stage_fd >= 0)
    close (h->stage_fd);
  g_clear_object (&h->session);
  g_free (h->commit);
  g_clear_pointer (&h->planned, g_hash_table_unref);
}

static void
report (Hub *h, gboolean force)
{
  gint64 now = g_get_monotonic_time ();
  /* the rate of this call's transfers, smoothed exponentially */
  if (h->p.phase == BS_HUB_PHASE_DOWNLOADING && now - h->rate_us >= 250000)
    {
      double dt = (double) (now - h->rate_us) / 1e6;
      double rate = (double) (h->downloaded - h->rate_bytes) / dt;
      if (isnan (h->p.bytes_per_s))
        h->p.bytes_per_s = rate;
      else
        h->p.bytes_per_s += (rate - h->p.bytes_per_s) * (1 - exp (-dt / RATE_WINDOW_S));
      h->rate_us = now;
      h->rate_bytes = h->downloaded;
    }
  if (!force && now - h->last_report_us < PROGRESS_INTERVAL_US)
    return;
  h->last_report_us = now;
  h->p.elapsed_s = (double) (now - h->start_us) / 1e6;
  h->p.eta_s = NAN;
  if (h->p.total_bytes >= 0 && h->p.bytes_per_s > 0)
    h->p.eta_s = (double) MAX (h->p.total_bytes - h->p.done_bytes, 0) / h->p.bytes_per_s;
  if (h->progress_func != NULL)
    h->progress_func (&h->p, h->user_data);
}

static void
set_phase (Hub *h, BsHubPhase phase, const char *file)
{
  h->p.phase = phase;
  h->p.file = file;
  h->p.file_done = 0;
  h->p.file_total = -1;
  report (h, TRUE);
}

static gboolean
set_cancelled (Hub *h, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
               /* Translators: %s is a hub repository such as bert-base-uncased */
               _("The download of %s was cancelled; run it again to continue where it stopped"), h->repo);
  return FALSE;
}

static char *
format_bytes (gint64 n)
{
  return g_format_size ((guint64) MAX (n, 0));
}

/* ---- requests ---- */

static gboolean
same_origin (GUri *a, GUri *b)
{
  return g_ascii_strcasecmp (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0
         && g_ascii_strcasecmp (g_uri_get_host (a), g_uri_get_host (b)) == 0 && g_uri_get_port (a) == g_uri_get_port (b);
}

static gboolean
is_http_uri (GUri *uri)
{
  const char *scheme = g_uri_get_scheme (uri);
  return (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0)
         && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0';
}

/* One request for file, following redirects by hand: the hub's own answer
 * carries the file's X-Linked-Etag and size, which an automatic redirect to
 * the CDN would lose, and the token must not follow the file to another
 * host.  A HEAD stops at the redirect that carries them.  Returns the body
 * of the last answer, its headers in meta; NULL for a failure to connect or
 * a cancel. */
static GInputStream *
send_once (Hub *h, const char *method, const char *file, gint64 range_start, Meta *meta, GError **error)
{
  g_autofree char *escaped = g_uri_escape_string (file, NULL, FALSE);
  g_autofree char *url = g_strdup_printf ("%s/%s/resolve/%s/%s", h->endpoint, h->repo, h->url_revision, escaped);
  g_autoptr (GError) local = NULL;
  g_autoptr (GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &local);
  if (uri == NULL)
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_INVALID,
                   /* Translators: a URL, then the reason it is not valid */
                   _("“%s” is not a valid address: %s"), url, local->message);
      return NULL;
    }
  for (int hop = 0;; hop++)
    {
      g_autoptr (SoupMessage) msg = soup_message_new_from_uri (method, uri);
      soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
      SoupMessageHeaders *req = soup_message_get_request_headers (msg);
      /* byte offsets of a Range are those of the file itself */
      soup_message_headers_replace (req, "Accept-Encoding", "identity");
      if (h->token != NULL && same_origin (uri, h->endpoint_uri))
        {
          g_autofree char *auth = g_strconcat ("Bearer ", h->token, NULL);
          soup_message_headers_replace (req, "Authorization", auth);
        }
      if (range_start > 0)
        soup_message_headers_set_range (req, range_start, -1);
      g_autoptr (GInputStream) stream = soup_session_send (h->session, msg, h->cancellable, &local);
      if (stream == NULL)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return set_cancelled (h, error), NULL;
          g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NETWORK,
                       /* Translators: a host name, a file name, a hub repository, then the system's reason */
                       _("Could not reach %s to download %s of %s: %s. Check the internet connection (and "
                         "HF_ENDPOINT, if it is set)."),
                       g_uri_get_host (uri), file, h->repo, local->message);
          return NULL;
        }
      meta_update (meta, msg);
      const char *location = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location");
      if (!SOUP_STATUS_IS_REDIRECTION (meta->status) || location == NULL)
        return g_steal_pointer (&stream);
      if (g_str_equal (method, "HEAD") && meta->linked_size >= 0)
        return g_steal_pointer (&stream);
      g_input_stream_close (stream, NULL, NULL);
      g_autoptr (GUri) next = g_uri_parse_relative (uri, location, SOUP_HTTP_URI_FLAGS, NULL);
      if (next == NULL || !is_http_uri (next) || hop >= MAX_REDIRECTS)
        {
          g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_SERVER,
                       /* Translators: a host name, a file name and a hub repository, then a URL */
                       _("%s sent the download of %s of %s to a bad address, or round in circles: “%s”"),
                       g_uri_get_host (uri), file, h->repo, location);
          return NULL;
        }
      g_uri_unref (uri);
      uri = g_steal_pointer (&next);
    }
}

/* Waits ms, or less if cancelled; FALSE if cancelled. */
static gboolean
wait_cancellable (Hub *h, guint ms)
{
  GPollFD fd;
  if (h->cancellable != NULL && g_cancellable_make_pollfd (h->cancellable, &fd))
    {
      g_poll (&fd, 1, (int) ms);
      g_cancellable_release_fd (h->cancellable);
    }
  else
    g_usleep ((gulong) ms * 1000);
  return !g_cancellable_is_cancelled (h->cancellable);
}

/* send_once, tried again after a pause when the hub answers 5xx or 429. */
static GInputStream *
send_request (Hub *h, const char *method, const char *file, gint64 range_start, Meta *meta, GError **error)
{
  guint delay = h->retry_delay_ms;
  for (int attempt = 0;; attempt++)
    {
      meta_clear (meta);
      g_autoptr (GInputStream) stream = send_once (h, method, file, range_start, meta, error);
      if (stream == NULL)
        return NULL;
      gboolean transient = meta->status >= 500 || meta->status == HTTP_TOO_MANY_REQUESTS;
      if (!transient || attempt == BS_HUB_MAX_RETRIES)
        return g_steal_pointer (&stream);
      g_input_stream_close (stream, NULL, NULL);
      g_debug ("%s of %s: %u %s, trying again in %u ms", file, h->repo, meta->status, meta->reason, delay);
      if (!wait_cancellable (h, delay))
        return set_cancelled (h, error), NULL;
      delay *= 2;
    }
}

/* The error for an answer that is no success, in words a user can act on. */
static gboolean
set_status_error (Hub *h, const char *file, const Meta *m, GError **error)
{
  const char *code = m->error_code != NULL ? m->error_code : "";
  /* a refusal by the CDN is not about the token, which it never sees */
  gboolean from_hub = m->host != NULL && g_ascii_strcasecmp (m->host, g_uri_get_host (h->endpoint_uri)) == 0;
  if (g_str_equal (code, "GatedRepo"))
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_AUTH,
                 /* Translators: a hub repository, then the hub's address and the repository again (a web page
                    address), then the hub's address; keep HF_TOKEN as it is */
                 _("%s is a gated repository: log in on %s/%s and accept its terms, then set HF_TOKEN to an access "
                   "token of that account (from %s/settings/tokens)."),
                 h->repo, h->endpoint, h->repo, h->endpoint);
  else if (g_str_equal (code, "RepoNotFound"))
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NOT_FOUND,
                 /* Translators: a hub repository, then the hub's address; keep HF_TOKEN as it is */
                 _("There is no repository “%s” on %s: check its name (if it is private, set HF_TOKEN to an access "
                   "token that may read it)."),
                 h->repo, h->endpoint);
  else if (g_str_equal (code, "RevisionNotFound"))
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NOT_FOUND,
                 /* Translators: a hub repository, then a branch, tag or commit */
                 _("The repository %s has no revision “%s”."), h->repo, h->revision);
  else if (m->status == SOUP_STATUS_NOT_FOUND && g_str_equal (file, "config.json") && *code == '\0')
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NOT_FOUND,
                 /* Translators: a hub repository, a branch, tag or commit, then the hub's address; keep config.json
                    as it is */
                 _("Could not find %s (revision “%s”) on %s: there is no such repository, or it has no config.json. "
                   "Check the name."),
                 h->repo, h->revision, h->endpoint);
  else if (m->status == SOUP_STATUS_NOT_FOUND)
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NOT_FOUND,
                 /* Translators: a hub repository, a file name, then a branch, tag or commit */
                 _("The repository %s has no file %s at revision “%s”."), h->repo, file, h->revision);
  else if ((m->status == SOUP_STATUS_UNAUTHORIZED || m->status == SOUP_STATUS_FORBIDDEN) && !from_hub)
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_SERVER,
                 /* Translators: a host name, an HTTP status number and its reason (in English), a file name, then a
                    hub repository */
                 _("%s refused the download (“%u %s”) of %s of %s: run the download again; if it keeps failing, the "
                   "hub's file server may be misconfigured."),
                 m->host, m->status, m->reason ? m->reason : "", file, h->repo);
  else if ((m->status == SOUP_STATUS_UNAUTHORIZED || m->status == SOUP_STATUS_FORBIDDEN) && h->token != NULL)
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_AUTH,
                 /* Translators: a hub repository and an HTTP status number, then the hub's address and the
                    repository again (a web page address); keep HF_TOKEN as it is */
                 _("The hub refused the access token for %s (HTTP %u): check that HF_TOKEN is a valid token of an "
                   "account that may read the repository, and that it accepted the repository's terms on %s/%s."),
                 h->repo, m->status, h->endpoint, h->repo);
  else if (m->status == SOUP_STATUS_UNAUTHORIZED || m->status == SOUP_STATUS_FORBIDDEN)
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_AUTH,
                 /* Translators: a hub repository, the hub's address, then the hub's address and the repository
                    again (a web page address); keep HF_TOKEN as it is */
                 _("%s is private or gated, and no access token was given: set HF_TOKEN to an access token from "
                   "%s/settings/tokens (for a gated repository, accept its terms on %s/%s first)."),
                 h->repo, h->endpoint, h->endpoint, h->repo);
  else if (m->status >= 500 || m->status == HTTP_TOO_MANY_REQUESTS)
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_SERVER,
                 g_dngettext (GETTEXT_PACKAGE,
                              /* Translators: a host name, an HTTP status number and its reason (in English), a
                                 file name, a hub repository, then the number of attempts */
                              "%s answered “%u %s” for %s of %s, %d time; it may be busy or down: try again later.",
                              "%s answered “%u %s” for %s of %s, %d times; it may be busy or down: try again later.",
                              BS_HUB_MAX_RETRIES + 1),
                 m->host, m->status, m->reason ? m->reason : "", file, h->repo, BS_HUB_MAX_RETRIES + 1);
  else
    g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_SERVER,
                 /* Translators: a host name, an HTTP status number and its reason (in English), a file name, then a
                    hub repository */
                 _("%s gave an unexpected answer, “%u %s”, for %s of %s."), m->host, m->status,
                 m->reason ? m->reason : "", file, h->repo);
  return FALSE;
}

/* The hub names the commit a revision stands for: later files are asked for
 * at that commit, so that a push during the download cannot mix versions. */
static void
note_commit (Hub *h, const Meta *m)
{
  if (h->commit != NULL || !is_hex (m->commit, 40))
    return;
  h->commit = g_ascii_strdown (m->commit, -1);
  g_free (h->url_revision);
  h->url_revision = g_strdup (h->commit);
}

/* ---- files ---- */

static gint64
disk_free (const char *dir)
{
  if (disk_free_for_testing >= 0)
    return disk_free_for_testing;
  struct statvfs st;
  if (statvfs (dir, &st) != 0)
    return G_MAXINT64;
  return (gint64) MIN ((guint64) st.f_bavail * st.f_frsize, (guint64) G_MAXINT64);
}

static gboolean
set_disk_full (Hub *h, const char *what, gint64 needed, GError **error)
{
  g_autofree char *need = format_bytes (needed);
  g_autofree char *free_space = format_bytes (disk_free (h->stage));
  g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_DISK_FULL,
               /* Translators: a file name (or “the files”), a hub repository, a size such as “420.0 MB”, a folder,
                  then another size */
               _("Not enough disk space for %s of %s: %s more is needed in %s, and %s is free. Free some space and run "
                 "the download again: it continues where it stopped."),
               what, h->repo, need, h->stage, free_space);
  return FALSE;
}

static gboolean
ensure_space (Hub *h, const char *what, gint64 needed, GError **error)
{
  if (needed <= 0 || needed <= disk_free (h->stage))
    return TRUE;
  return set_disk_full (h, what, needed, error);
}

static gboolean
set_file_error (Hub *h, const char *what, const char *path, int saved_errno, gint64 needed, GError **error)
{
  if (saved_errno == ENOSPC || saved_errno == EDQUOT)
    return set_disk_full (h, what, needed, error);
  g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_IO,
               /* Translators: a file path, then the system's reason */
               _("Could not write %s: %s"), path, g_strerror (saved_errno));
  return FALSE;
}

static gboolean
write_all (int fd, const guint8 *data, gsize n, int *saved_errno)
{
  while (n > 0)
    {
      gssize w = write (fd, data, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          *saved_errno = errno;
          return FALSE;
        }
      data += w;
      n -= (gsize) w;
    }
  return TRUE;
}

/* Adds the first n bytes of path to sum. */
static gboolean
hash_file (const char *path, gint64 n, GChecksum *sum, GError **error)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_IO,
                   /* Translators: a file path, then the system's reason */
                   _("Could not read %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  g_autofree guint8 *buf = g_malloc (READ_CHUNK);
  gint64 left = n;
  while (left > 0)
    {
      gssize r = read (fd, buf, (gsize) MIN (left, READ_CHUNK));
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        {
          int saved_errno = r < 0 ? errno : EIO;
          close (fd);
          g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_IO,
                       /* Translators: a file path, then the system's reason */
                       _("Could not read %s: %s"), path, g_strerror (saved_errno));
          return FALSE;
        }
      g_checksum_update (sum, buf, (gsize) r);
      left -= r;
    }
  close (fd);
  return TRUE;
}

static gint64
file_size (const char *path)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return -1;
  return (gint64) st.st_size;
}

/* The bytes of an earlier call's partial file that can be continued: none
 * without the ETag that says what they are the start of. */
static gint64
resumable_size (const char *part, const char *tag)
{
  gint64 size = file_size (part);
  if (size > 0 && file_size (tag) > 0)
    return size;
  g_unlink (part);
  g_unlink (tag);
  return 0;
}

static void
account_size (Hub *h, const char *file, gint64 size)
{
  if (g_hash_table_contains (h->planned, file))
    return;
  g_hash_table_insert (h->planned, g_strdup (file), GINT_TO_POINTER (1));
  if (size < 0)
    h->p.total_bytes = -1;
  else if (h->p.total_bytes >= 0)
    h->p.total_bytes += size;
}

/* Downloads file into the staging folder: as file.incomplete, continued from
 * an earlier call's bytes with a Range request when the hub still serves the
 * same contents, checked against its SHA-256 when the hub gives one, then
 * renamed to file.  known_sha256 (from a HEAD): a complete file of that hash
 * left by an earlier call is kept.  An optional file the hub does not have
 * sets *absent. */
static gboolean
fetch_file (Hub *h, const char *file, gboolean optional, const char *known_sha256, gboolean *absent, GError **error)
{
  g_autofree char *final = g_build_filename (h->stage, file, NULL);
  g_autofree char *part = g_strconcat (final, PART_SUFFIX, NULL);
  g_autofree char *tag = g_strconcat (final, TAG_SUFFIX, NULL);
  *absent = FALSE;
  set_phase (h, BS_HUB_PHASE_DOWNLOADING, file);

  gint64 have = file_size (final);
  if (known_sha256 != NULL && have >= 0)
    {
      g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
      if (hash_file (final, have, sum, NULL) && g_str_equal (g_checksum_get_string (sum), known_sha256))
        {
          h->p.done_bytes += have;
          h->resumed += have;
          h->p.file_done = h->p.file_total = have;
          report (h, TRUE);
          return TRUE;
        }
    }

  gint64 offset = resumable_size (part, tag);
  for (int restarts = 0;; restarts++)
    {
      g_auto (Meta) m = META_INIT;
      g_autoptr (GInputStream) stream = send_request (h, "GET", file, offset, &m, error);
      if (stream == NULL)
        return FALSE;
      if (m.status == SOUP_STATUS_NOT_FOUND && optional && !meta_repo_missing (&m))
        {
          *absent = TRUE;
          g_unlink (final);
          g_unlink (part);
          g_unlink (tag);
          return TRUE;
        }
      if (m.status != SOUP_STATUS_OK && m.status != SOUP_STATUS_PARTIAL_CONTENT
          && !(m.status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE && offset > 0))
        return set_status_error (h, file, &m, error);
      if (g_str_equal (file, "config.json"))
        note_commit (h, &m);

      const char *etag = meta_etag (&m);
      gint64 start = 0, size = m.length;
      if (m.status == SOUP_STATUS_PARTIAL_CONTENT)
        {
          start = m.range_start;
          size = m.range_total;
        }
      /* Continue only the same contents, from where they stopped; else start
       * over (a server that ignores Range answers 200: we then do) */
      if (offset > 0 && m.status != SOUP_STATUS_OK)
        {
          g_autofree char *saved = NULL;
          g_file_get_contents (tag, &saved, NULL, NULL);
          if (m.status != SOUP_STATUS_PARTIAL_CONTENT || start != offset || etag == NULL
              || saved == NULL || g_strcmp0 (g_strstrip (saved), etag) != 0)
            {
              if (restarts >= 2)
                {
                  g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_SERVER,
                               /* Translators: a host name, a file name, then a hub repository */
                               _("%s answered a request to continue %s of %s with the wrong part of the file"),
                               m.host, file, h->repo);
                  return FALSE;
                }
              g_debug ("%s: %u, Content-Range from %" G_GINT64_FORMAT ", ETag %s: starting over", file, m.status,
                       start, etag != NULL ? etag : "none");
              g_unlink (part);
              g_unlink (tag);
              offset = 0;
              continue;
            }
        }
      if (m.status == SOUP_STATUS_PARTIAL_CONTENT && offset == 0)
        return set_status_error (h, file, &m, error);

      int open_flags = O_WRONLY | O_CREAT | O_CLOEXEC | (start > 0 ? O_APPEND : O_TRUNC);
      if (start == 0)
        {
          g_unlink (tag);
          /* written before the bytes, so that no partial file lacks it */
          g_autoptr (GError) tag_error = NULL;
          if (etag != NULL && !g_file_set_contents (tag, etag, -1, &tag_error))
            return set_file_error (h, file, tag,
                                   g_error_matches (tag_error, G_FILE_ERROR, G_FILE_ERROR_NOSPC) ? ENOSPC : EIO, 0,
                                   error);
        }
      account_size (h, file, size);
      if (size >= 0 && !ensure_space (h, file, size - start, error))
        return FALSE;
      const char *sha256 = is_hex (etag, 64) ? etag : NULL;
      g_autoptr (GChecksum) sum = sha256 != NULL ? g_checksum_new (G_CHECKSUM_SHA256) : NULL;
      if (sum != NULL && start > 0 && !hash_file (part, start, sum, error))
        return FALSE;
      int fd = g_open (part, open_flags, 0644);
      if (fd < 0)
        return set_file_error (h, file, part, errno, size - start, error);

      h->p.file_done = start;
      h->p.file_total = size;
      h->p.done_bytes += start;
      h->resumed += start;
      h->rate_us = g_get_monotonic_time ();
      h->rate_bytes = h->downloaded;
      report (h, TRUE);

      g_autofree guint8 *buf = g_malloc (READ_CHUNK);
      g_autoptr (GError) local = NULL;
      gint64 got = start;
      gssize n;
      while ((n = g_input_stream_read (stream, buf, READ_CHUNK, h->cancellable, &local)) > 0)
        {
          int saved_errno = 0;
          if (!write_all (fd, buf, (gsize) n, &saved_errno))
            {
              fsync (fd);
              close (fd);
              return set_file_error (h, file, part, saved_errno, size >= 0 ? size - got : n, error);
            }
          if (sum != NULL)
            g_checksum_update (sum, buf, (gsize) n);
          got += n;
          h->downloaded += n;
          h->p.done_bytes += n;
          h->p.file_done = got;
          report (h, FALSE);
        }
      int saved_errno = fsync (fd) != 0 ? errno : 0;
      if (close (fd) != 0 && saved_errno == 0)
        saved_errno = errno;
      /* cut short: what arrived is kept for the next call */
      if (n < 0 && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return set_cancelled (h, error);
      if (n < 0 || (size >= 0 && got != size))
        {
          g_autofree char *got_s = format_bytes (got);
          g_autofree char *size_s = size >= 0 ? format_bytes (size) : g_strdup ("?");
          g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NETWORK,
                       /* Translators: a host name, a file name, a hub repository, two sizes such as “12.0 MB”,
                          then the reason */
                       _("The connection to %s broke while downloading %s of %s, after %s of %s (%s). Run the "
                         "download again: it continues where it stopped."),
                       m.host, file, h->repo, got_s, size_s,
                       local != NULL ? local->message : _("the server closed the connection"));
          return FALSE;
        }
      if (saved_errno != 0)
        return set_file_error (h, file, part, saved_errno, 0, error);
      if (sum != NULL && !g_str_equal (g_checksum_get_string (sum), sha256))
        {
          g_unlink (part);
          g_unlink (tag);
          g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_CHECKSUM,
                       /* Translators: a file name, a hub repository, then two SHA-256 checksums (hexadecimal) */
                       _("%s of %s arrived damaged: its SHA-256 is %s, but the hub says %s. The file was removed; "
                         "run the download again."),
                       file, h->repo, g_checksum_get_string (sum), sha256);
          return FALSE;
        }
      if (g_rename (part, final) != 0)
        return set_file_error (h, file, final, errno, 0, error);
      g_unlink (tag);
      report (h, TRUE);
      return TRUE;
    }
}

/* HEAD of file: whether the hub has it (found), its size and SHA-256. */
static gboolean
head_file (Hub *h, const char *file, Meta *m, GError **error)
{
  g_autoptr (GInputStream) stream = send_request (h, "HEAD", file, 0, m, error);
  if (stream == NULL)
    return FALSE;
  g_input_stream_close (stream, NULL, NULL);
  if (m->linked_size < 0 && SOUP_STATUS_IS_SUCCESSFUL (m->status))
    m->linked_size = m->length;
  return TRUE;
}

/* ---- the weights ---- */

typedef struct
{
  char *file;
  gint64 size; /* -1: not known */
  char *sha256;
} Weights;

static void
weights_free (Weights *w)
{
  g_free (w->file);
  g_free (w->sha256);
  g_free (w);
}

static JsonObject *
read_weight_map (Hub *h, const char *path, JsonParser *parser, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;
  const char *problem = NULL;
  /* it comes from anywhere: no nesting that would overflow json-glib's stack */
  if (file_size (path) > MAX_INDEX_BYTES)
    g_set_error (&local, G_FILE_ERROR, G_FILE_ERROR_FAILED, _("the file is larger than %d MiB"), MAX_INDEX_BYTES >> 20);
  else if (g_file_get_contents (path, &text, &length, &local) && !bs_json_check (text, length, &problem))
    g_set_error_literal (&local, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA, problem);
  if (local != NULL || !json_parser_load_from_data (parser, text, (gssize) length, &local))
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED,
                   /* Translators: a hub repository, then the reason; keep model.safetensors.index.json as it is */
                   _("model.safetensors.index.json of %s cannot be read: %s"), h->repo, local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  JsonNode *map = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
                      ? json_object_get_member (json_node_get_object (root), "weight_map")
                      : NULL;
  if (map == NULL || !JSON_NODE_HOLDS_OBJECT (map) || json_object_get_size (json_node_get_object (map)) == 0)
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED,
                   /* Translators: a hub repository; keep model.safetensors.index.json and weight_map as they are */
                   _("model.safetensors.index.json of %s has no weight_map"), h->repo);
      return NULL;
    }
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;
  json_object_iter_init (&iter, json_node_get_object (map));
  while (json_object_iter_next (&iter, &name, &value))
    if (!JSON_NODE_HOLDS_VALUE (value) || !is_shard_name (json_node_get_string (value)))
      {
        g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED,
                     /* Translators: a hub repository, then a tensor's name; keep model.safetensors.index.json as it
                        is */
                     _("model.safetensors.index.json of %s names no usable shard file for tensor “%s”"), h->repo,
                     name);
        return NULL;
      }
  return json_node_get_object (map);
}

/* Which weights to download: model.safetensors, or the shards of a sharded
 * checkpoint; a repository with only pytorch_model.bin is refused. */
static GPtrArray *
plan_weights (Hub *h, gboolean *sharded, GError **error)
{
  g_autoptr (GPtrArray) plan = g_ptr_array_new_with_free_func ((GDestroyNotify) weights_free);
  g_auto (Meta) m = META_INIT;
  *sharded = FALSE;
  if (!head_file (h, "model.safetensors", &m, error))
    return NULL;
  if (!meta_found (&m) && (m.status != SOUP_STATUS_NOT_FOUND || meta_repo_missing (&m)))
    return set_status_error (h, "model.safetensors", &m, error), NULL;
  if (meta_found (&m))
    {
      Weights *w = g_new0 (Weights, 1);
      w->file = g_strdup ("model.safetensors");
      w->size = m.linked_size;
      w->sha256 = is_hex (meta_etag (&m), 64) ? g_strdup (meta_etag (&m)) : NULL;
      g_ptr_array_add (plan, w);
      return g_steal_pointer (&plan);
    }

  gboolean absent;
  if (!fetch_file (h, "model.safetensors.index.json", TRUE, NULL, &absent, error))
    return NULL;
  if (absent)
    {
      if (!head_file (h, "pytorch_model.bin", &m, error))
        return NULL;
      if (meta_found (&m))
        g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED,
                     /* Translators: a hub repository; keep pytorch_model.bin and model.safetensors as they are */
                     _("%s only has its weights as pytorch_model.bin, which BERT Studio does not open: that format is "
                       "a Python pickle, and loading one can run any code its author put in. Choose a repository "
                       "that has model.safetensors (most BERT and DistilBERT models do), or one converted to it."),
                     h->repo);
      else
        g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NOT_FOUND,
                     /* Translators: a hub repository, then a branch, tag or commit; keep model.safetensors as it is */
                     _("The repository %s has no model.safetensors at revision “%s”: it holds no weights BERT Studio "
                       "can use."),
                     h->repo, h->revision);
      return NULL;
    }

  *sharded = TRUE;
  g_autofree char *index = g_build_filename (h->stage, "model.safetensors.index.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *map = read_weight_map (h, index, parser, error);
  if (map == NULL)
    return NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;
  json_object_iter_init (&iter, map);
  while (json_object_iter_next (&iter, &name, &value))
    {
      const char *shard = json_node_get_string (value);
      if (!g_hash_table_add (seen, (gpointer) shard))
        continue;
      if (!head_file (h, shard, &m, error))
        return NULL;
      if (!meta_found (&m))
        return set_status_error (h, shard, &m, error), NULL;
      Weights *w = g_new0 (Weights, 1);
      w->file = g_strdup (shard);
      w->size = m.linked_size;
      w->sha256 = is_hex (meta_etag (&m), 64) ? g_strdup (meta_etag (&m)) : NULL;
      g_ptr_array_add (plan, w);
    }
  return g_steal_pointer (&plan);
}

static void
free_safetensors (gpointer st)
{
  bs_safetensors_free (st);
}

/* The shards, joined tensor for tensor (no conversion) into one
 * model.safetensors: the engine loads one file, and the shards are mapped,
 * not read, so this costs a copy on disk, not in memory. */
static gboolean
merge_shards (Hub *h, GError **error)
{
  set_phase (h, BS_HUB_PHASE_MERGING, NULL);
  g_autofree char *index = g_build_filename (h->stage, "model.safetensors.index.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *map = read_weight_map (h, index, parser, error);
  if (map == NULL)
    return FALSE;
  g_autoptr (GHashTable) shards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_safetensors);
  g_autoptr (BsSafetensorsWriter) writer = bs_safetensors_writer_new ();
  bs_safetensors_writer_set_metadata (writer, "format", "pt");
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;
  json_object_iter_init (&iter, map);
  while (json_object_iter_next (&iter, &name, &value))
    {
      const char *shard = json_node_get_string (value);
      BsSafetensors *st = g_hash_table_lookup (shards, shard);
      if (st == NULL)
        {
          g_autofree char *path = g_build_filename (h->stage, shard, NULL);
          g_autoptr (GError) local = NULL;
          st = bs_safetensors_open (path, &local);
          if (st == NULL)
            {
              g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED,
                           /* Translators: a file name, a hub repository, then the reason */
                           _("The shard %s of %s cannot be read: %s"), shard, h->repo, local->message);
              return FALSE;
            }
          g_hash_table_insert (shards, g_strdup (shard), st);
        }
      const BsTensorInfo *t = bs_safetensors_lookup (st, name);
      if (t == NULL)
        {
          g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED,
                       /* Translators: a file name, a hub repository, then a tensor's name; keep
                          model.safetensors.index.json as it is */
                       _("The shard %s of %s lacks tensor “%s”, which model.safetensors.index.json places there"),
                       shard, h->repo, name);
          return FALSE;
        }
      bs_safetensors_writer_add (writer, t->name, t->dtype, t->n_dims, t->shape, t->data);
    }
  g_autofree char *merged = g_build_filename (h->stage, "model.safetensors", NULL);
  g_autoptr (GError) local = NULL;
  if (!bs_safetensors_writer_write (writer, merged, &local))
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
        return set_disk_full (h, "model.safetensors", 0, error);
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_IO,
                   /* Translators: a hub repository, then the reason */
                   _("Could not join the shards of %s into one model.safetensors: %s"), h->repo, local->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- the staging folder ---- */

/* Removes the staging folder's files (it holds no folders), then it. */
static void
remove_stage (Hub *h)
{
  g_autoptr (GDir) dir = g_dir_open (h->stage, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (h->stage, name, NULL);
      g_unlink (path);
    }
  g_rmdir (h->stage);
}

/* Leaves only keep (NULL-terminated) in the staging folder: what an earlier
 * call left of files this one did not need. */
static void
prune_stage (Hub *h, const char *const *keep)
{
  g_autoptr (GDir) dir = g_dir_open (h->stage, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (!g_strv_contains (keep, name))
      {
        g_autofree char *path = g_build_filename (h->stage, name, NULL);
        g_unlink (path);
      }
}

static gboolean
open_stage (Hub *h, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (h->dest);
  if (g_mkdir_with_parents (parent, 0755) != 0)
    return set_file_error (h, h->repo, parent, errno, 0, error);
  h->created_stage = g_mkdir (h->stage, 0755) == 0;
  int saved_errno = errno;
  if (!h->created_stage && saved_errno != EEXIST)
    return set_file_error (h, h->repo, h->stage, saved_errno, 0, error);
  h->stage_fd = g_open (h->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (h->stage_fd < 0)
    return set_file_error (h, h->repo, h->stage, errno, 0, error);
  /* two downloads into one staging folder would mix their bytes */
  if (flock (h->stage_fd, LOCK_EX | LOCK_NB) != 0)
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_BUSY,
                   /* Translators: a hub repository, then a folder */
                   _("Another download of %s into %s is running: wait for it to finish"), h->repo, h->dest);
      return FALSE;
    }
  return TRUE;
}

static void
fsync_dir (const char *path)
{
  int fd = g_open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

/* ---- the whole download ---- */

static gboolean
download (Hub *h, const BsHubOptions *options, BsHubResult *result, GError **error)
{
  if (g_file_test (h->dest, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_EXISTS,
                   /* Translators: a folder, then a hub repository */
                   _("%s already exists: delete it to download %s again, or choose another folder"), h->dest, h->repo);
      return FALSE;
    }
  if (!open_stage (h, error))
    return FALSE;

  set_phase (h, BS_HUB_PHASE_RESOLVING, NULL);
  gboolean absent;
  if (!fetch_file (h, "config.json", FALSE, NULL, &absent, error))
    return FALSE;
  g_autofree char *config_path = g_build_filename (h->stage, "config.json", NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (BsConfig) config = bs_config_load (config_path, &local);
  if (config == NULL)
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED,
                   /* Translators: a hub repository, then the reason */
                   _("%s is not a model BERT Studio can use: %s"), h->repo, local->message);
      return FALSE;
    }

  set_phase (h, BS_HUB_PHASE_RESOLVING, NULL);
  gboolean sharded;
  g_autoptr (GPtrArray) weights = plan_weights (h, &sharded, error);
  if (weights == NULL)
    return FALSE;
  gint64 needed = 0;
  for (guint i = 0; i < weights->len; i++)
    {
      const Weights *w = g_ptr_array_index (weights, i);
      account_size (h, w->file, w->size);
      g_autofree char *final = g_build_filename (h->stage, w->file, NULL);
      g_autofree char *part = g_strconcat (final, PART_SUFFIX, NULL);
      if (w->size > 0 && file_size (final) != w->size)
        needed += w->size - MAX (file_size (part), 0);
    }
  /* joining shards writes them all once more */
  if (sharded && h->p.total_bytes > 0)
    needed += h->p.total_bytes;
  if (!ensure_space (h, _("the files"), needed, error))
    return FALSE;

  if (!fetch_file (h, "vocab.txt", TRUE, NULL, &absent, error))
    return FALSE;
  if (absent)
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NOT_FOUND,
                   /* Translators: a hub repository, then a branch, tag or commit; keep vocab.txt and tokenizer.json as
                      they are */
                   _("The repository %s has no vocab.txt at revision “%s”: BERT Studio's tokenizer needs that "
                     "WordPiece vocabulary (a tokenizer.json alone is not enough)."),
                   h->repo, h->revision);
      return FALSE;
    }
  gboolean no_tokenizer_config;
  if (!fetch_file (h, "tokenizer_config.json", TRUE, NULL, &no_tokenizer_config, error))
    return FALSE;
  for (guint i = 0; i < weights->len; i++)
    {
      const Weights *w = g_ptr_array_index (weights, i);
      if (!fetch_file (h, w->file, FALSE, w->sha256, &absent, error))
        return FALSE;
    }
  if (sharded)
    {
      if (!merge_shards (h, error))
        return FALSE;
      result->n_shards = weights->len;
    }

  set_phase (h, BS_HUB_PHASE_VERIFYING, NULL);
  const char *keep[] = { "config.json", "model.safetensors", "vocab.txt",
                         no_tokenizer_config ? NULL : "tokenizer_config.json", NULL };
  prune_stage (h, keep);
  g_autoptr (BsClassifier) classifier = bs_classifier_load (h->stage, 0, &local);
  if (classifier == NULL)
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED,
                   /* Translators: a hub repository, then the reason */
                   _("The files of %s do not make a model BERT Studio can load: %s"), h->repo, local->message);
      return FALSE;
    }
  g_clear_pointer (&classifier, bs_classifier_free);

  /* the store first: if it cannot be opened, the staging folder stays */
  g_autoptr (BsStore) store = bs_store_open (options->db_path, error);
  if (store == NULL)
    return FALSE;
  fsync_dir (h->stage);
  if (g_rename (h->stage, h->dest) != 0)
    {
      int saved_errno = errno;
      if (saved_errno == EEXIST || saved_errno == ENOTEMPTY)
        g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_EXISTS,
                     /* Translators: a folder, then a hub repository */
                     _("%s already exists: delete it to download %s again, or choose another folder"), h->dest,
                     h->repo);
      else
        g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_IO,
                     /* Translators: two folders, then the system's reason */
                     _("Could not rename %s to %s: %s"), h->stage, h->dest, g_strerror (saved_errno));
      return FALSE;
    }
  g_autofree char *parent = g_path_get_dirname (h->dest);
  fsync_dir (parent);

  g_autofree char *source = g_strdup_printf ("hub:%s@%s", h->repo, h->revision);
  gint64 id = bs_store_register_model_folder (store, h->dest, source, 0, &local);
  if (id <= 0)
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_IO,
                   /* Translators: a hub repository, a folder, then the reason */
                   _("%s was downloaded to %s, but could not be added to the model registry: %s"), h->repo, h->dest,
                   local->message);
      return FALSE;
    }
  g_autoptr (BsModelInfo) info = bs_store_get_model (store, id, NULL);
  result->path = g_strdup (h->dest);
  result->commit = g_strdup (h->commit);
  result->model_id = id;
  result->size_bytes = info != NULL ? info->size_bytes : 0;
  result->downloaded_bytes = h->downloaded;
  result->resumed_bytes = h->resumed;
  set_phase (h, BS_HUB_PHASE_DONE, NULL);
  return TRUE;
}

gboolean
bs_hub_download (const BsHubOptions *options, BsHubProgressFunc progress, gpointer user_data,
                 GCancellable *cancellable, BsHubResult *result, GError **error)
{
  g_return_val_if_fail (options != NULL && result != NULL, FALSE);
  memset (result, 0, sizeof *result);
  if (!bs_hub_check_repo_id (options->repo, error))
    return FALSE;
  const char *revision = options->revision != NULL && *options->revision ? options->revision : "main";
  if (strlen (revision) > 255 || strpbrk (revision, " \t\r\n") != NULL || !g_utf8_validate (revision, -1, NULL))
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_INVALID,
                   /* Translators: %s is what the user gave as the revision */
                   _("“%s” is not a revision: give a branch, a tag or a commit"), revision);
      return FALSE;
    }

  Hub h = {
    .repo = options->repo,
    .revision = revision,
    .stage_fd = -1,
    .cancellable = cancellable,
    .retry_delay_ms = options->retry_delay_ms > 0 ? options->retry_delay_ms : 1000,
    .progress_func = progress,
    .user_data = user_data,
  };
  h.endpoint = bs_hub_get_endpoint (options);
  h.endpoint_uri = g_uri_parse (h.endpoint, SOUP_HTTP_URI_FLAGS, NULL);
  if (h.endpoint_uri == NULL || !is_http_uri (h.endpoint_uri))
    {
      g_set_error (error, BS_HUB_ERROR, BS_HUB_ERROR_INVALID,
                   /* Translators: %s is the hub's address as given (or HF_ENDPOINT); keep HF_ENDPOINT as it is */
                   _("The hub address “%s” is not an http:// or https:// URL (check HF_ENDPOINT)"), h.endpoint);
      hub_clear (&h);
      return FALSE;
    }
  h.url_revision = g_uri_escape_string (revision, NULL, FALSE);
  const char *token = options->token != NULL ? options->token : g_getenv ("HF_TOKEN");
  h.token = token != NULL ? g_strstrip (g_strdup (token)) : NULL;
  if (h.token != NULL && *h.token == '\0')
    g_clear_pointer (&h.token, g_free);
  h.dest = options->output_dir != NULL ? g_strdup (options->output_dir) : bs_hub_default_output_dir (options->repo);
  /* "dir/" and "dir" are one destination */
  gsize n = strlen (h.dest);
  while (n > 1 && h.dest[n - 1] == G_DIR_SEPARATOR)
    h.dest[--n] = '\0';
  h.stage = g_strconcat (h.dest, STAGE_SUFFIX, NULL);
  h.planned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  h.session = soup_session_new_with_options ("user-agent", "bert-studio/" PACKAGE_VERSION, "timeout",
                                             options->timeout_s > 0 ? options->timeout_s : 60, NULL);
  /* a decoded body's offsets are not the file's: Range needs the raw bytes */
  soup_session_remove_feature_by_type (h.session, SOUP_TYPE_CONTENT_DECODER);
  h.p.total_bytes = 0;
  h.p.bytes_per_s = NAN;
  h.start_us = h.rate_us = g_get_monotonic_time ();

  GError *local = NULL;
  gboolean ok = download (&h, options, result, &local);
  if (!ok)
    {
      /* Nothing worth resuming comes of a download that cannot succeed as
       * asked; a folder an earlier call left stays, though. */
      gboolean hopeless = local->domain == BS_HUB_ERROR
                          && (local->code == BS_HUB_ERROR_NOT_FOUND || local->code == BS_HUB_ERROR_AUTH
                              || local->code == BS_HUB_ERROR_UNSUPPORTED || local->code == BS_HUB_ERROR_INVALID);
      if (hopeless && h.created_stage)
        remove_stage (&h);
      else if (h.stage_fd >= 0)
        g_rmdir (h.stage); /* only if empty: then nothing is worth keeping */
      g_propagate_error (error, local);
      bs_hub_result_clear (result);
    }
  hub_clear (&h);
  return ok;
}
