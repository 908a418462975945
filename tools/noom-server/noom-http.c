/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-http: HTTP routes (see noom-http.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "noom-http.h"

#define RESOURCE_PREFIX "/org/noom/web/"

struct _NoomHttp
{
  SoupServer *server;
  gchar *static_dir;
};

static const struct
{
  const gchar *ext;
  const gchar *type;
} content_types[] = {
  {".html", "text/html; charset=utf-8"},
  {".js", "text/javascript; charset=utf-8"},
  {".mjs", "text/javascript; charset=utf-8"},
  {".css", "text/css; charset=utf-8"},
  {".svg", "image/svg+xml"},
  {".png", "image/png"},
  {".ico", "image/x-icon"},
  {".json", "application/json"},
  {".webmanifest", "application/manifest+json"},
  {".txt", "text/plain; charset=utf-8"},
  {".woff2", "font/woff2"},
  {".wasm", "application/wasm"},
};

const gchar *
noom_http_content_type (const gchar * name)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (content_types); i++)
    if (g_str_has_suffix (name, content_types[i].ext))
      return content_types[i].type;
  return "application/octet-stream";
}

/* Asset names are flat file names: no directory part, no "..", no hidden
 * files, so a request can never leave the asset directory. */
static gboolean
valid_asset_name (const gchar * name)
{
  const gchar *p;

  if (name[0] == '\0' || name[0] == '.' || strlen (name) > 128)
    return FALSE;
  for (p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static GBytes *
load_asset (NoomHttp * self, const gchar * name)
{
  if (!valid_asset_name (name))
    return NULL;
  if (self->static_dir) {
    g_autofree gchar *path = g_build_filename (self->static_dir, name, NULL);
    gchar *contents;
    gsize len;

    if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)
        || !g_file_get_contents (path, &contents, &len, NULL))
      return NULL;
    return g_bytes_new_take (contents, len);
  } else {
    g_autofree gchar *path = g_strconcat (RESOURCE_PREFIX, name, NULL);

    return g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  }
}

static void
respond_text (SoupServerMessage * msg, guint status, const gchar * text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
      SOUP_MEMORY_COPY, text, strlen (text));
}

static void
respond_asset (NoomHttp * self, SoupServerMessage * msg, const gchar * name)
{
  g_autoptr (GBytes) data = load_asset (self, name);
  SoupMessageHeaders *headers;
  gsize len;
  gconstpointer bytes;

  if (data == NULL) {
    respond_text (msg, SOUP_STATUS_NOT_FOUND, "not found\n");
    return;
  }
  headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  /* Assets change with the server binary; let the browser revalidate. */
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  bytes = g_bytes_get_data (data, &len);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, noom_http_content_type (name),
      SOUP_MEMORY_COPY, bytes, len);
}

static void
handle (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  NoomHttp *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);

  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", "GET, HEAD");
    respond_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");
    return;
  }

  if (strcmp (path, "/") == 0
      || (g_str_has_prefix (path, "/r/") && path[3] != '\0'))
    respond_asset (self, msg, "index.html");
  else if (strcmp (path, "/socket.io/socket.io.js") == 0)
    respond_asset (self, msg, "socket.io.js");
  else if (g_str_has_prefix (path, "/static/"))
    respond_asset (self, msg, path + strlen ("/static/"));
  else if (strcmp (path, "/healthz") == 0)
    respond_text (msg, SOUP_STATUS_OK, "ok");
  else
    respond_text (msg, SOUP_STATUS_NOT_FOUND, "not found\n");
}

NoomHttp *
noom_http_new (SoupServer * server, const gchar * static_dir)
{
  NoomHttp *self = g_new0 (NoomHttp, 1);

  self->server = g_object_ref (server);
  self->static_dir = g_strdup (static_dir);
  /* The default handler gets every path no other handler claims (the
   * Engine.IO endpoint claims /socket.io/, so its client bundle gets a
   * handler of its own, more specific). */
  soup_server_add_handler (server, NULL, handle, self, NULL);
  soup_server_add_handler (server, "/socket.io/socket.io.js", handle, self,
      NULL);
  return self;
}

void
noom_http_free (NoomHttp * self)
{
  if (self == NULL)
    return;
  soup_server_remove_handler (self->server, "/socket.io/socket.io.js");
  g_object_unref (self->server);
  g_free (self->static_dir);
  g_free (self);
}
