/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-sdpfrag: the SDP that WHIP and WHEP (RFC 9725, docs/server.md
 * "WHIP and WHEP") carry over HTTP, pure (no state, no I/O): what
 * noom-server needs from a client's offer (its m-lines, mids and ICE
 * credentials), the reading of a PATCH body
 * (application/trickle-ice-sdpfrag, RFC 8840) and the fragment that
 * answers an ICE restart.
 */
#pragma once

#include <glib.h>

#include "noom-protocol.h"

G_BEGIN_DECLS

#define NOOM_SDPFRAG_ERROR (noom_sdpfrag_error_quark ())
GQuark noom_sdpfrag_error_quark (void);

typedef enum {
  NOOM_SDPFRAG_ERROR_SYNTAX,    /* not SDP, not UTF-8, a malformed line */
  NOOM_SDPFRAG_ERROR_NO_MEDIA,  /* no audio or video m-line */
  NOOM_SDPFRAG_ERROR_UNKNOWN_MID,       /* a fragment's mid the offer lacks */
} NoomSdpFragError;

/* Longest offer and fragment read. */
#define NOOM_SDP_MAX_OFFER (256 * 1024)
#define NOOM_SDPFRAG_MAX (64 * 1024)

/* What a WHIP or WHEP offer (or the relay's answer) says. */
typedef struct {
  /* audio and video m-lines that are not rejected (port 0 outside a
   * BUNDLE group) */
  NoomMediaFlags media;
  /* m-line i's mid ("" when it has none), for every m-line */
  GPtrArray *mids;
  /* the first m-line as written ("m=audio 9 UDP/TLS/RTP/SAVPF 111"), NULL
   * when there is none */
  gchar *first_media;
  /* ICE credentials of the first m-line, else of the session; NULL when
   * absent */
  gchar *ufrag;
  gchar *pwd;
} NoomSdpInfo;

/* Reads @sdp: it must be valid UTF-8, start with "v=0", have only
 * "x=value" lines (CRLF or LF) and at least one audio or video m-line.
 * On success fills @info (free with noom_sdp_info_clear()). */
gboolean noom_sdp_info_parse (const gchar * sdp, gsize len,
    NoomSdpInfo * info, GError ** error);
void noom_sdp_info_clear (NoomSdpInfo * info);

typedef struct {
  gchar *candidate;             /* "candidate:..." (without "a=") */
  gchar *mid;                   /* the offer's mid of its m-line, or NULL */
  guint mline_index;
} NoomSdpFragCandidate;

/* A trickle-ice-sdpfrag (RFC 8840). */
typedef struct {
  gchar *ufrag;                 /* NULL when absent */
  gchar *pwd;
  GPtrArray *candidates;        /* NoomSdpFragCandidate* */
  gboolean end_of_candidates;
} NoomSdpFrag;

/* Reads @text, a PATCH body.  Candidates under an m-line with a=mid get
 * that mid's index among @mids (the offer's, noom_sdp_info_parse()); a mid
 * that is not there is an error.  Candidates before any m-line or under
 * one without a=mid belong to m-line 0 (everything is bundled), with
 * @mids' first mid.  ice-ufrag and ice-pwd come together or not at all,
 * with only ICE characters (RFC 8839: ALPHA DIGIT + /), ufrag 4 to 256
 * long, pwd 22 to 256.  A candidate line needs the eight fields of
 * RFC 8839 §5.1 up to the type. */
gboolean noom_sdpfrag_parse (const gchar * text, gsize len, GPtrArray * mids,
    NoomSdpFrag * frag, GError ** error);
void noom_sdpfrag_clear (NoomSdpFrag * frag);

/* The answer to an ICE restart (RFC 9725 §4.4): @media_line and a=mid:@mid
 * (omitted when NULL or empty), a=ice-ufrag, a=ice-pwd, one
 * a=candidate line per element of @candidates ("candidate:..."; others
 * are skipped), a=end-of-candidates.  CRLF line ends. */
gchar *noom_sdpfrag_build_answer (const gchar * media_line, const gchar * mid,
    const gchar * ufrag, const gchar * pwd,
    const gchar * const *candidates);

G_END_DECLS
