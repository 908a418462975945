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
  void (*participant_media) (GstNoomBaseBin * self, NoomParticipant * p);
  void (*participant_left) (GstNoomBaseBin * self, NoomParticipant * p);
  void (*joined) (GstNoomBaseBin * self, const gchar * room);
  void (*connection_lost) (GstNoomBaseBin * self);
  void (*relay_lost) (GstNoomBaseBin * self);
  void (*relay_bandwidth) (GstNoomBaseBin * self, guint base_bitrate);
};

GstNoomSession *gst_noom_base_bin_get_session (GstNoomBaseBin * self);

/* A property kept in a field of the instance struct, at @offset
 * (G_STRUCT_OFFSET): a gboolean, a gint (enum), a guint (uint, flags) or
 * a gchar * (string; an empty one is kept as NULL).  The class whose own
 * properties are all fields takes the two vfuncs below; the base bin gives
 * an element's fields their defaults and frees their strings. */
void gst_noom_field_install (GObjectClass * klass, guint prop_id,
    gsize offset, GParamSpec * pspec);
/* get_property of a GstObject subclass: the field, under the object lock. */
void gst_noom_field_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
/* set_property of a GstNoomBaseBin subclass: the field, under the object
 * lock; refused (with a warning) above READY. */
void gst_noom_base_bin_set_field_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
/* Frees the string fields of @object. */
void gst_noom_fields_free (GObject * object);

G_END_DECLS
