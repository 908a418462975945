/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-offer: the offer rule (see noom-offer.h and docs/protocol.md §7).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "noom-offer.h"

const gchar *
noom_direction_to_string (NoomDirection direction)
{
  switch (direction) {
    case NOOM_DIRECTION_SENDRECV:
      return "sendrecv";
    case NOOM_DIRECTION_SENDONLY:
      return "sendonly";
    case NOOM_DIRECTION_RECVONLY:
      return "recvonly";
    case NOOM_DIRECTION_NONE:
    default:
      return "none";
  }
}

static NoomDirection
direction_for (NoomMediaFlags local, NoomMediaFlags remote, NoomMediaFlags m)
{
  gboolean l = (local & m) != 0, r = (remote & m) != 0;

  if (l && r)
    return NOOM_DIRECTION_SENDRECV;
  if (l)
    return NOOM_DIRECTION_SENDONLY;
  if (r)
    return NOOM_DIRECTION_RECVONLY;
  return NOOM_DIRECTION_NONE;
}

gboolean
noom_offer_plan (gboolean local_was_first, NoomMediaFlags local_sends,
    NoomMediaFlags remote_sends, NoomOfferPlan * plan)
{
  const NoomMediaFlags all = NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO;

  local_sends &= all;
  remote_sends &= all;

  /* Join order alone decides who offers: the server serialises joins, so
   * for any pair exactly one side learnt of the other through `welcome`
   * (it was first) and the other through its join ack.  Kinds play no
   * part, which is why no mix of kinds can glare. */
  plan->relay = FALSE;
  plan->connect = (local_sends | remote_sends) != 0;
  plan->offer = plan->connect && local_was_first;
  plan->audio = direction_for (local_sends, remote_sends, NOOM_MEDIA_AUDIO);
  plan->video = direction_for (local_sends, remote_sends, NOOM_MEDIA_VIDEO);
  return plan->connect;
}

gboolean
noom_offer_plan_sfu (const gchar * relay_id, const gchar * remote_id,
    NoomMediaFlags local_sends, gboolean receives, NoomOfferPlan * plan)
{
  const NoomMediaFlags all = NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO;

  local_sends &= all;
  /* Peers never connect to each other in an SFU room: the server refuses
   * their signalling (unknown_peer).  Offers come from the relay only, so
   * nothing can glare either. */
  plan->relay = relay_id && remote_id && g_str_equal (relay_id, remote_id);
  plan->connect = plan->relay && (local_sends || receives);
  plan->offer = FALSE;
  plan->audio = direction_for (local_sends, receives ? all : 0,
      NOOM_MEDIA_AUDIO);
  plan->video = direction_for (local_sends, receives ? all : 0,
      NOOM_MEDIA_VIDEO);
  if (!plan->connect)
    plan->audio = plan->video = NOOM_DIRECTION_NONE;
  return plan->connect;
}
