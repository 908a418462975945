/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GstNoomBaseBin: the abstract bin noomsink and noomsrc derive from.  It
 * owns their GstNoomSession, installs the properties and signals they
 * share (documented in gst/gstnoomsession.c, where they are kept), keeps
 * each element's own properties in its struct fields
 * (gst_noom_field_install()), implements the noom:// URI handler, and runs
 * the one state machine:
 *
 *   NULL->READY     the session checks its settings (gst_noom_session_prepare)
 *   READY->PAUSED   class start(), the session starts, class started()
 *                   (a live element then returns NO_PREROLL)
 *   PAUSED->READY   class stopping(), the session stops, class stopped()
 *   READY->NULL     gst_noom_session_unprepare
 *
 * The session's steps for each peer reach the element as virtual methods.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstnoombasebin.h"

GST_DEBUG_CATEGORY_STATIC (gst_noom_base_bin_debug);
#define GST_CAT_DEFAULT gst_noom_base_bin_debug

typedef struct
{
  GstNoomSession *session;
} GstNoomBaseBinPrivate;

static void gst_noom_base_bin_uri_handler_init (gpointer g_iface,
    gpointer iface_data);

G_DEFINE_ABSTRACT_TYPE_WITH_CODE (GstNoomBaseBin, gst_noom_base_bin,
    GST_TYPE_BIN, G_ADD_PRIVATE (GstNoomBaseBin)
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_noom_base_bin_uri_handler_init);
    GST_DEBUG_CATEGORY_INIT (gst_noom_base_bin_debug, "noombasebin", 0,
        "Noom elements' shared lifecycle"));

#define PRIV(self) ((GstNoomBaseBinPrivate *) \
    gst_noom_base_bin_get_instance_private (GST_NOOM_BASE_BIN (self)))
#define KLASS(self) GST_NOOM_BASE_BIN_GET_CLASS (self)

GstNoomSession *
gst_noom_base_bin_get_session (GstNoomBaseBin * self)
{
  return PRIV (self)->session;
}

/* Takes the object lock and returns TRUE when the element's own properties
 * may change (READY or below); otherwise warns that changing @pspec is not
 * supported now and returns FALSE, unlocked. */
static gboolean
lock_settings (GstNoomBaseBin * self, GParamSpec * pspec)
{
  GST_OBJECT_LOCK (self);
  if (GST_STATE (self) <= GST_STATE_READY)
    return TRUE;
  GST_OBJECT_UNLOCK (self);
  g_warning ("%s: changing the '%s' property above the READY state is not "
      "supported", GST_ELEMENT_NAME (self), pspec->name);
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* properties kept in struct fields */

static GQuark
offset_quark (void)
{
  return g_quark_from_static_string ("gst-noom-field-offset");
}

/* Where the field @pspec is in @object, or NULL when it is none. */
static gpointer
field (GObject * object, GParamSpec * pspec)
{
  gsize offset = GPOINTER_TO_SIZE (g_param_spec_get_qdata (pspec,
          offset_quark ()));

  return offset ? G_STRUCT_MEMBER_P (object, offset) : NULL;
}

void
gst_noom_field_install (GObjectClass * klass, guint prop_id, gsize offset,
    GParamSpec * pspec)
{
  /* never 0, where the parent instance is: 0 means "not a field" */
  g_return_if_fail (offset > 0);
  g_param_spec_set_qdata (pspec, offset_quark (), GSIZE_TO_POINTER (offset));
  g_object_class_install_property (klass, prop_id, pspec);
}

static gboolean
field_set (GObject * object, GParamSpec * pspec, const GValue * value)
{
  gpointer f = field (object, pspec);
  const gchar *str;

  if (!f)
    return FALSE;
  switch (G_TYPE_FUNDAMENTAL (pspec->value_type)) {
    case G_TYPE_BOOLEAN:
      *(gboolean *) f = g_value_get_boolean (value);
      break;
    case G_TYPE_ENUM:
      *(gint *) f = g_value_get_enum (value);
      break;
    case G_TYPE_UINT:
      *(guint *) f = g_value_get_uint (value);
      break;
    case G_TYPE_FLAGS:
      *(guint *) f = g_value_get_flags (value);
      break;
    case G_TYPE_STRING:
      str = g_value_get_string (value);
      g_free (*(gchar **) f);
      *(gchar **) f = str && *str ? g_strdup (str) : NULL;
      break;
    default:
      g_return_val_if_reached (FALSE);
  }
  return TRUE;
}

static gboolean
field_get (GObject * object, GParamSpec * pspec, GValue * value)
{
  gpointer f = field (object, pspec);

  if (!f)
    return FALSE;
  switch (G_TYPE_FUNDAMENTAL (pspec->value_type)) {
    case G_TYPE_BOOLEAN:
      g_value_set_boolean (value, *(gboolean *) f);
      break;
    case G_TYPE_ENUM:
      g_value_set_enum (value, *(gint *) f);
      break;
    case G_TYPE_UINT:
      g_value_set_uint (value, *(guint *) f);
      break;
    case G_TYPE_FLAGS:
      g_value_set_flags (value, *(guint *) f);
      break;
    case G_TYPE_STRING:
      g_value_set_string (value, *(gchar **) f);
      break;
    default:
      g_return_val_if_reached (FALSE);
  }
  return TRUE;
}

void
gst_noom_field_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GST_OBJECT_LOCK (object);
  if (!field_get (object, pspec, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  GST_OBJECT_UNLOCK (object);
}

void
gst_noom_base_bin_set_field_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  if (!lock_settings (GST_NOOM_BASE_BIN (object), pspec))
    return;
  if (!field_set (object, pspec, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  GST_OBJECT_UNLOCK (object);
}

/* Each field gets its property's default. */
static void
fields_init (GObject * object)
{
  GParamSpec **pspecs;
  guint i, n;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n);
  for (i = 0; i < n; i++)
    field_set (object, pspecs[i], g_param_spec_get_default_value (pspecs[i]));
  g_free (pspecs);
}

void
gst_noom_fields_free (GObject * object)
{
  GParamSpec **pspecs;
  guint i, n;
  gpointer f;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n);
  for (i = 0; i < n; i++)
    if (pspecs[i]->value_type == G_TYPE_STRING
        && (f = field (object, pspecs[i])))
      g_clear_pointer ((gchar **) f, g_free);
  g_free (pspecs);
}

/* ------------------------------------------------------------------------ */
/* the session's steps, as virtual methods */

static gboolean
do_accept (GstElement * element, NoomParticipant * p)
{
  return !KLASS (element)->accept
      || KLASS (element)->accept (GST_NOOM_BASE_BIN (element), p);
}

#define PEER_STEP(step) \
  static void \
  do_##step (GstElement * element, GstNoomPeer * peer) \
  { \
    if (KLASS (element)->step) \
      KLASS (element)->step (GST_NOOM_BASE_BIN (element), peer); \
  }

PEER_STEP (peer_added);
PEER_STEP (prepare_offer);
PEER_STEP (prepare_answer);
PEER_STEP (negotiated);
PEER_STEP (peer_connected);
PEER_STEP (peer_removing);
PEER_STEP (peer_removed);
#undef PEER_STEP

static void
do_participant_updated (GstElement * element, NoomParticipant * p)
{
  if (KLASS (element)->participant_updated)
    KLASS (element)->participant_updated (GST_NOOM_BASE_BIN (element), p);
}

static void
do_participant_media (GstElement * element, NoomParticipant * p)
{
  if (KLASS (element)->participant_media)
    KLASS (element)->participant_media (GST_NOOM_BASE_BIN (element), p);
}

static void
do_joined (GstElement * element, const gchar * room)
{
  if (KLASS (element)->joined)
    KLASS (element)->joined (GST_NOOM_BASE_BIN (element), room);
}

static void
do_participant_left (GstElement * element, NoomParticipant * p)
{
  if (KLASS (element)->participant_left)
    KLASS (element)->participant_left (GST_NOOM_BASE_BIN (element), p);
}

static void
do_connection_lost (GstElement * element)
{
  if (KLASS (element)->connection_lost)
    KLASS (element)->connection_lost (GST_NOOM_BASE_BIN (element));
}

static void
do_relay_lost (GstElement * element)
{
  if (KLASS (element)->relay_lost)
    KLASS (element)->relay_lost (GST_NOOM_BASE_BIN (element));
}

static void
do_relay_bandwidth (GstElement * element, guint base_bitrate)
{
  if (KLASS (element)->relay_bandwidth)
    KLASS (element)->relay_bandwidth (GST_NOOM_BASE_BIN (element),
        base_bitrate);
}

static const GstNoomSessionHooks hooks = {
  .accept = do_accept,
  .peer_added = do_peer_added,
  .prepare_offer = do_prepare_offer,
  .prepare_answer = do_prepare_answer,
  .negotiated = do_negotiated,
  .peer_connected = do_peer_connected,
  .peer_removing = do_peer_removing,
  .peer_removed = do_peer_removed,
  .participant_updated = do_participant_updated,
  .participant_media = do_participant_media,
  .participant_left = do_participant_left,
  .joined = do_joined,
  .connection_lost = do_connection_lost,
  .relay_lost = do_relay_lost,
  .relay_bandwidth = do_relay_bandwidth,
};

/* ------------------------------------------------------------------------ */
/* state */

static void
stop_session (GstNoomBaseBin * self)
{
  if (KLASS (self)->stopping)
    KLASS (self)->stopping (self);
  gst_noom_session_stop (PRIV (self)->session);
  if (KLASS (self)->stopped)
    KLASS (self)->stopped (self);
}

static GstStateChangeReturn
gst_noom_base_bin_change_state (GstElement * element,
    GstStateChange transition)
{
  GstNoomBaseBin *self = GST_NOOM_BASE_BIN (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!gst_noom_session_prepare (element))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (KLASS (self)->start && !KLASS (self)->start (self))
        return GST_STATE_CHANGE_FAILURE;
      if (!gst_noom_session_start (PRIV (self)->session)) {
        stop_session (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      if (KLASS (self)->started)
        KLASS (self)->started (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (gst_noom_base_bin_parent_class)->change_state
      (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      stop_session (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      if (KLASS (self)->live)
        ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_session (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      gst_noom_session_unprepare ();
      break;
    default:
      break;
  }
  return ret;
}

/* A child's EOS is not the element's: noomsink posts its own once every
 * stream ended, noomsrc (a source) none.  Messages of a peer's elements
 * are the session's (one participant's failure ends that participant's
 * connection only). */
static void
gst_noom_base_bin_handle_message (GstBin * bin, GstMessage * message)
{
  if ((GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS
          && GST_MESSAGE_SRC (message) != GST_OBJECT (bin))
      || gst_noom_session_handle_message (PRIV (bin)->session, message)) {
    gst_message_unref (message);
    return;
  }
  GST_BIN_CLASS (gst_noom_base_bin_parent_class)->handle_message (bin,
      message);
}

/* ------------------------------------------------------------------------ */
/* GObject */

static gboolean
gst_noom_base_bin_send_chat (GstNoomBaseBin * self, const gchar * text)
{
  return gst_noom_session_send_chat (PRIV (self)->session, text);
}

static void
gst_noom_base_bin_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  if (!gst_noom_session_set_property (PRIV (object)->session, prop_id, value,
          pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_noom_base_bin_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  if (!gst_noom_session_get_property (PRIV (object)->session, prop_id, value,
          pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

/* The element's class is known only now (in instance_init it is still
 * this one's): its fields get their defaults, it is a sink or a source
 * whatever its children are (a webrtcbin holds both), the session joins as
 * its kind. */
static void
gst_noom_base_bin_constructed (GObject * object)
{
  GstNoomBaseBin *self = GST_NOOM_BASE_BIN (object);

  G_OBJECT_CLASS (gst_noom_base_bin_parent_class)->constructed (object);
  fields_init (object);
  gst_bin_set_suppressed_flags (GST_BIN (self),
      GST_ELEMENT_FLAG_SOURCE | GST_ELEMENT_FLAG_SINK);
  GST_OBJECT_FLAG_SET (self, KLASS (self)->uri_type == GST_URI_SINK ?
      GST_ELEMENT_FLAG_SINK : GST_ELEMENT_FLAG_SOURCE);
  PRIV (self)->session = gst_noom_session_new (GST_ELEMENT (self),
      KLASS (self)->kind, &hooks);
}

static void
gst_noom_base_bin_finalize (GObject * object)
{
  GstNoomBaseBinPrivate *priv = PRIV (object);

  gst_noom_session_stop (priv->session);
  gst_object_unref (priv->session);
  gst_noom_fields_free (object);
  G_OBJECT_CLASS (gst_noom_base_bin_parent_class)->finalize (object);
}

static void
gst_noom_base_bin_init (GstNoomBaseBin * self)
{
}

static void
gst_noom_base_bin_class_init (GstNoomBaseBinClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  gobject_class->set_property = gst_noom_base_bin_set_property;
  gobject_class->get_property = gst_noom_base_bin_get_property;
  gobject_class->constructed = gst_noom_base_bin_constructed;
  gobject_class->finalize = gst_noom_base_bin_finalize;
  element_class->change_state = gst_noom_base_bin_change_state;
  bin_class->handle_message = gst_noom_base_bin_handle_message;

  gst_noom_session_install_properties (gobject_class);
  gst_noom_session_install_signals (gobject_class);

  /**
   * GstNoomBaseBin::send-chat:
   * @element: the noomsink or noomsrc
   * @text: the message: not empty, valid UTF-8, at most 4096 bytes
   *
   * Writes @text to the room's chat, as our nickname; everyone else in the
   * room gets it (a web client shows it, another element emits
   * #GstNoomBaseBin::chat-message).  Can be called from any thread: the
   * message is sent on the session thread.
   *
   * When the room token does not grant "chat" (docs/protocol.md section
   * 1, Access), the server refuses the message and the element posts a
   * warning (RESOURCE, NOT_AUTHORIZED) naming it; the pipeline goes on.
   *
   * Returns: %TRUE when the message is on its way; %FALSE (with a
   * GST_WARNING in the log) when the element is not in the room, or @text
   * is empty, not UTF-8 or too long.
   *
   * Since: 0.1
   */
  g_signal_new_class_handler ("send-chat", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_noom_base_bin_send_chat), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_STRING);
  gst_type_mark_as_plugin_api (GST_TYPE_NOOM_BASE_BIN, 0);
}

/* ------------------------------------------------------------------------ */
/* GstURIHandler: noom:// and nooms:// */

static GstURIType
gst_noom_base_bin_uri_get_type (GType type)
{
  GstNoomBaseBinClass *klass = g_type_class_ref (type);
  GstURIType uri_type = klass->uri_type;

  g_type_class_unref (klass);
  return uri_type;
}

static const gchar *const *
gst_noom_base_bin_uri_get_protocols (GType type)
{
  return gst_noom_session_get_protocols ();
}

static gchar *
gst_noom_base_bin_uri_get_uri (GstURIHandler * handler)
{
  return gst_noom_session_get_uri (PRIV (handler)->session);
}

static gboolean
gst_noom_base_bin_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** error)
{
  return gst_noom_session_set_uri (PRIV (handler)->session, uri, error);
}

static void
gst_noom_base_bin_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = g_iface;

  iface->get_type = gst_noom_base_bin_uri_get_type;
  iface->get_protocols = gst_noom_base_bin_uri_get_protocols;
  iface->get_uri = gst_noom_base_bin_uri_get_uri;
  iface->set_uri = gst_noom_base_bin_uri_set_uri;
}
