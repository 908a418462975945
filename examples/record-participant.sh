#!/bin/sh
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Record one participant's audio and video, as received (no transcoding),
# into a Matroska file.  Ends when the participant leaves, or on Ctrl-C.
#   ./record-participant.sh noom://localhost:8080/demo alice alice.mkv
# Both tracks must come: gst-launch links the pads by name, so a participant
# who sends only video (or leaves before its audio starts) leaves the muxer
# waiting.  noom-record takes whatever tracks come, for everyone, one file
# per participant.
set -eu
uri=${1:?usage: $0 noom://HOST:PORT/ROOM PARTICIPANT FILE.mkv}
who=${2:?usage: $0 noom://HOST:PORT/ROOM PARTICIPANT FILE.mkv}
out=${3:?usage: $0 noom://HOST:PORT/ROOM PARTICIPANT FILE.mkv}
exec gst-launch-1.0 -e \
  noomsrc name=s uri="$uri" participant="$who" decode=false nickname=recorder \
  s.video_0 ! queue ! mux.video_0 \
  s.audio_0 ! queue ! mux.audio_0 \
  matroskamux name=mux offset-to-zero=true ! filesink location="$out"
