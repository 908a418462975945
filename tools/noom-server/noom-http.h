/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-http: noom-server's HTTP routes (docs/protocol.md §10): the web
 * client from GResource (/org/noom/web) or from a directory, /healthz,
 * 404 for everything else.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _NoomHttp NoomHttp;

/* @static_dir: serve the web assets from there instead of the resources
 * compiled in (nullable). */
NoomHttp *noom_http_new (SoupServer * server, const gchar * static_dir);
void noom_http_free (NoomHttp * http);

/* The content type for a file name (by extension). */
const gchar *noom_http_content_type (const gchar * name);

G_END_DECLS
