#!/bin/sh
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Publish a test picture and tone into a room as NICKNAME.
#   ./publish-test-source.sh noom://localhost:8080/demo [NICKNAME]
# Ctrl-C leaves the room cleanly (-e: EOS on every stream).  NUM_BUFFERS=N
# stops by itself after N video frames (30 per second).
set -eu
uri=${1:?usage: $0 noom://HOST:PORT/ROOM [NICKNAME]}
nick=${2:-testsrc}
n=${NUM_BUFFERS:--1}
# the room's audio frames are 20 ms: 50 per second, 30 video frames
na=$(( n < 0 ? -1 : n * 5 / 3 ))
exec gst-launch-1.0 -e \
  videotestsrc is-live=true pattern=ball num-buffers="$n" \
    ! video/x-raw,width=640,height=360,framerate=30/1 ! s.video_0 \
  audiotestsrc is-live=true wave=ticks samplesperbuffer=960 num-buffers="$na" \
    ! audio/x-raw,rate=48000 ! s.audio_0 \
  noomsink name=s uri="$uri" nickname="$nick"
