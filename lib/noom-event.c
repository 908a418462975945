/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-event: the server's reading of client-to-server events (see
 * noom-event.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "noom-event.h"
#include "noom-sdp.h"

gboolean
noom_event_args_parse (const gchar * event, JsonArray * args,
    const NoomRoomLimits * limits, NoomEventArgs * out, GError ** error)
{
  const gchar *sdp;

  if (!noom_protocol_decode_request (event, args, limits, out, error))
    return FALSE;
  if (out->type != NOOM_EVENT_OFFER && out->type != NOOM_EVENT_ANSWER)
    return TRUE;
  /* The decoder took only text noom_sdp_get_sends() reads: this does not
   * fail. */
  sdp = json_object_get_string_member (json_node_get_object (out->payload),
      "sdp");
  if (!noom_sdp_get_sends (sdp, &out->sends)) {
    g_set_error_literal (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "description sdp cannot be read");
    return FALSE;
  }
  return TRUE;
}

gboolean
noom_event_args_check_content (const NoomEventArgs * args,
    const NoomRoomLimits * limits, GError ** error)
{
  g_return_val_if_fail (args != NULL, FALSE);
  g_return_val_if_fail (limits != NULL, FALSE);

  if (args->type != NOOM_EVENT_NEW_MESSAGE)
    return TRUE;
  return noom_room_validate_message (args->text, -1, limits->max_message,
      error);
}
