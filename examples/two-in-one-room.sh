#!/bin/sh
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Two pipelines in one room, in one process: a publisher ("left") and a
# viewer that shows it, as two participants would.
#   ./two-in-one-room.sh noom://localhost:8080/demo
# NUM_BUFFERS=N stops after N frames; VIDEO_SINK chooses the viewer's
# output (default autovideosink).
set -eu
uri=${1:?usage: $0 noom://HOST:PORT/ROOM}
n=${NUM_BUFFERS:--1}
vsink=${VIDEO_SINK:-autovideosink}
# shellcheck disable=SC2086  # the sink is a pipeline fragment
exec gst-launch-1.0 -e \
  videotestsrc is-live=true pattern=smpte num-buffers="$n" \
    ! video/x-raw,width=320,height=240,framerate=30/1 \
    ! noomsink uri="$uri" nickname=left \
  noomsrc uri="$uri" participant=left nickname=right \
    ! queue ! videoconvert ! $vsink
