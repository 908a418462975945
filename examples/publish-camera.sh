#!/bin/sh
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Publish the camera and the microphone into a room.
#   ./publish-camera.sh noom://localhost:8080/demo [NICKNAME]
# VIDEO_SRC and AUDIO_SRC choose other sources (default autovideosrc and
# autoaudiosrc), e.g. VIDEO_SRC="v4l2src device=/dev/video2".  H.264
# instead of VP8: CODEC=h264.
set -eu
uri=${1:?usage: $0 noom://HOST:PORT/ROOM [NICKNAME]}
nick=${2:-camera}
video=${VIDEO_SRC:-autovideosrc}
audio=${AUDIO_SRC:-autoaudiosrc}
codec=${CODEC:-vp8}
# shellcheck disable=SC2086  # the sources are pipeline fragments
exec gst-launch-1.0 -e \
  $video ! videoconvert ! videoscale ! video/x-raw,width=1280,height=720 \
    ! queue ! s.video_0 \
  $audio ! audioconvert ! audioresample ! queue ! s.audio_0 \
  noomsink name=s uri="$uri" nickname="$nick" video-codec="$codec"
