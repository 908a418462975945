#!/bin/sh
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Publish a media file into a room, in real time (clocksync: a file would
# otherwise be read as fast as the encoders go).  Leaves at the end.
#   ./ingest-file.sh movie.mp4 noom://localhost:8080/demo [NICKNAME]
# noom-ingest does this for any source, with --loop and retries.
set -eu
file=${1:?usage: $0 FILE noom://HOST:PORT/ROOM [NICKNAME]}
uri=${2:?usage: $0 FILE noom://HOST:PORT/ROOM [NICKNAME]}
nick=${3:-$(basename "$file")}
case $file in /*) ;; *) file=$PWD/$file ;; esac
exec gst-launch-1.0 \
  uridecodebin uri="file://$file" name=d \
  d. ! queue ! clocksync ! videoconvert ! s.video_0 \
  d. ! queue ! clocksync ! audioconvert ! audioresample ! s.audio_0 \
  noomsink name=s uri="$uri" nickname="$nick"
