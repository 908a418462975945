/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include "gstnoomsession.h"
#include "gstnoompeer.h"

G_BEGIN_DECLS

#define GST_TYPE_NOOM_BASE_BIN (gst_noom_base_bin_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstNoomBaseBin, gst_noom_base_bin, GST,
    NOOM_BASE_BIN, GstBin)

/* The lifecycle noomsink and noomsrc share: the room properties and
 * signals, the noom:// URI handler, the state changes that prepare, start
 * and stop the GstNoomSession, and finalize.  An element fills in the
 * class fields and the virtual methods it needs. */
struct _GstNoomBaseBinClass
{
  GstBinClass parent_class;

  /* Set in the element's class_init. */
  const gchar *kind;            /* the kind it joins as, by default */
  GstURIType uri_type;
  gboolean live;                /* a live source: no preroll */

  /* State changes (the streaming threads may run): READY->PAUSED before
   * the session starts (FALSE fails the change) and once it started;
   * PAUSED->READY before the session stops and once it stopped (also when
   * READY->PAUSED failed after start). */
  gboolean (*start) (GstNoomBaseBin * self);
  void (*started) (GstNoomBaseBin * self);
  void (*stopping) (GstNoomBaseBin * self);
  void (*stopped) (GstNoomBaseBin * self);

  /* The session's steps for each peer, all on the session thread (see
   * GstNoomSessionHooks for when each comes). */
  gboolean (*accept) (GstNoomBaseBin * self, NoomParticipant * p);
  void (*peer_added) (GstNoomBaseBin * self, GstNoomPeer * peer);
  void (*prepare_offer) (GstNoomBaseBin * self, GstNoomPeer * peer);
  void (*prepare_answer) (GstNoomBaseBin * self, GstNoomPeer * peer);
  void (*negotiated) (GstNoomBaseBin * self, GstNoomPeer * peer);
  void (*peer_connected) (GstNoomBaseBin * self, GstNoomPeer * peer);
  void (*peer_removing) (GstNoomBaseBin * self, GstNoomPeer * peer);
  void (*peer_removed) (GstNoomBaseBin * self, GstNoomPeer * peer);
  void (*participant_updated) (GstNoomBaseBin * self, NoomParticipant * p);
  void (*joined) (GstNoomBaseBin * self, const gchar * room);
  void (*connection_lost) (GstNoomBaseBin * self);
};

GstNoomSession *gst_noom_base_bin_get_session (GstNoomBaseBin * self);
/* For an element's set_property: takes the object lock and returns TRUE
 * when its properties may change (READY or below); otherwise warns that
 * changing @pspec is not supported now and returns FALSE, unlocked. */
gboolean gst_noom_base_bin_lock_settings (GstNoomBaseBin * self,
    GParamSpec * pspec);

G_END_DECLS
