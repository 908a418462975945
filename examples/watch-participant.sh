#!/bin/sh
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Watch and hear one participant of a room (by nickname or id).
#   ./watch-participant.sh noom://localhost:8080/demo alice
# Ends when the participant leaves.  VIDEO_SINK and AUDIO_SINK choose
# other outputs (default autovideosink and autoaudiosink).
set -eu
uri=${1:?usage: $0 noom://HOST:PORT/ROOM PARTICIPANT}
who=${2:?usage: $0 noom://HOST:PORT/ROOM PARTICIPANT}
vsink=${VIDEO_SINK:-autovideosink}
asink=${AUDIO_SINK:-autoaudiosink}
# shellcheck disable=SC2086  # the sinks are pipeline fragments
exec gst-launch-1.0 \
  noomsrc name=s uri="$uri" participant="$who" nickname=watcher \
  s.video_0 ! queue ! videoconvert ! $vsink \
  s.audio_0 ! queue ! audioconvert ! audioresample ! $asink
