/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-record's composite and live egress (docs/tools.md): everyone in one
 * picture, laid out (grid, speaker, single), labelled with their names,
 * the audio mixed, encoded once to H.264 and AAC and sent to every output
 * (--composite's Matroska file, --stream URL...: RTMP, SRT, HLS, MP4,
 * Matroska).  An output that fails is rebuilt with backoff; the others
 * and the participants' own files go on.
 */
#pragma once

#include <gst/gst.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef struct _NoomComposite NoomComposite;
typedef struct _NoomCompositeBranch NoomCompositeBranch;

const GOptionEntry *noom_composite_option_entries (void);
gboolean noom_composite_wanted (void);
gboolean noom_composite_check_options (GError ** error);

NoomComposite *noom_composite_new (GstBin * pipeline, const gchar * room,
    const gchar * dir, gboolean verbose, GError ** error);
const gchar *noom_composite_file (NoomComposite * comp);
NoomCompositeBranch *noom_composite_add (NoomComposite * comp, GstBin * bin,
    GstElement * tee, GstPad * input, const gchar * id,
    const gchar * nickname, gboolean video);
void noom_composite_remove (NoomComposite * comp,
    NoomCompositeBranch * branch);
void noom_composite_stop (NoomComposite * comp);
gboolean noom_composite_handle_message (NoomComposite * comp,
    GstMessage * msg);
gboolean noom_composite_done (NoomComposite * comp);
gchar *noom_composite_status (NoomComposite * comp);
void noom_composite_rename (NoomComposite * comp, const gchar * id,
    const gchar * nickname);
void noom_composite_print_summary (NoomComposite * comp, FILE * to);
void noom_composite_free (NoomComposite * comp);

G_END_DECLS
