/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What every webrtcbin of the elements needs (gstnoompeer.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstnoomwebrtc.h"

/* webrtcbin 1.22 gives its rtpbin an FEC decoder (rtpulpfecdec) for every
 * payload type that arrives, ULPFEC negotiated or not, and rtpbin asks for
 * it outside its shutdown lock: one asked for while the session is being
 * freed is lost with the packets its storage holds (LeakSanitizer saw it
 * in CI, in mesh and SFU tests alike).  Noom never negotiates ULPFEC (no
 * codec preferences list it, and transceivers keep fec-type none), so the
 * decoder would only pass packets through: webrtcbin's handlers of
 * rtpbin's requests are blocked, and rtpbin links the stream directly.
 * Returns how many were blocked (0: a webrtcbin that does this no more). */
guint
gst_noom_webrtc_no_fec_decoders (GstElement * webrtc)
{
  static const gchar *const requests[] = {
    "request-fec-decoder-full", "request-fec-decoder",
  };
  GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (webrtc), "rtpbin");
  guint i, blocked = 0;

  if (!rtpbin)
    return 0;
  for (i = 0; i < G_N_ELEMENTS (requests); i++) {
    guint id = g_signal_lookup (requests[i], G_OBJECT_TYPE (rtpbin));

    if (id)
      blocked += g_signal_handlers_block_matched (rtpbin,
          G_SIGNAL_MATCH_ID | G_SIGNAL_MATCH_DATA, id, 0, NULL, NULL, webrtc);
  }
  gst_object_unref (rtpbin);
  return blocked;
}
