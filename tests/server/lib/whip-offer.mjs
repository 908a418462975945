// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What a WHIP client POSTs (tests/server/whip.test.mjs, cluster.test.mjs).

// A browser-like offer: audio and video, sendonly, bundled.
export const OFFER =
  'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
  'a=group:BUNDLE 0 1\r\na=msid-semantic: WMS\r\n' +
  'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n' +
  'a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\na=ice-options:trickle\r\n' +
  'a=fingerprint:sha-256 8B:87:09:8A:5D:C2:F3:33:EF:C5:B1:F6:84:3A:3D:D6:A3:E2:9C:17:4C:E7:46:3B:1B:CE:84:98:DD:8E:AF:7B\r\n' +
  'a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=msid:- audio\r\na=rtcp-mux\r\n' +
  'a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:1111 cname:whip\r\n' +
  'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n' +
  'a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\na=ice-options:trickle\r\n' +
  'a=fingerprint:sha-256 8B:87:09:8A:5D:C2:F3:33:EF:C5:B1:F6:84:3A:3D:D6:A3:E2:9C:17:4C:E7:46:3B:1B:CE:84:98:DD:8E:AF:7B\r\n' +
  'a=setup:actpass\r\na=mid:1\r\na=sendonly\r\na=msid:- video\r\na=rtcp-mux\r\na=rtcp-rsize\r\n' +
  'a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=ssrc:2222 cname:whip\r\n';
