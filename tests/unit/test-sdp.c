/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of lib/noom-sdp.[ch]: which media a session description
 * sends (the server's check of offers and answers against `sends`,
 * docs/protocol.md §7).
 */
#include <string.h>

#include "noom-event.h"
#include "noom-sdp.h"

#define A NOOM_MEDIA_AUDIO
#define V NOOM_MEDIA_VIDEO
#define AV (NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO)

#define HEAD "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
#define BUNDLE "a=group:BUNDLE 0 1\r\n"
#define AUDIO(port) "m=audio " port " UDP/TLS/RTP/SAVPF 111\r\n" \
  "c=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"
#define VIDEO(port) "m=video " port " UDP/TLS/RTP/SAVPF 96\r\n" \
  "c=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n"

static NoomMediaFlags
sends_of (const gchar * sdp)
{
  NoomMediaFlags sends = 0x80;

  g_assert_true (noom_sdp_get_sends (sdp, &sends));
  return sends;
}

static void
test_directions (void)
{
  static const struct
  {
    const gchar *sdp;
    NoomMediaFlags sends;
  } cases[] = {
    /* no media at all: the garbage answers the elements tests send */
    {"", 0},
    {"this is not a session description", 0},
    {HEAD, 0},
    {HEAD AUDIO ("9") "a=mid:0\r\na=sendrecv\r\n"
          VIDEO ("9") "a=mid:1\r\na=sendrecv\r\n", AV},
    {HEAD AUDIO ("9") "a=sendonly\r\n" VIDEO ("9") "a=recvonly\r\n", A},
    {HEAD AUDIO ("9") "a=recvonly\r\n" VIDEO ("9") "a=sendonly\r\n", V},
    {HEAD AUDIO ("9") "a=inactive\r\n" VIDEO ("9") "a=recvonly\r\n", 0},
    /* no direction: sendrecv */
    {HEAD AUDIO ("9") VIDEO ("9") "a=recvonly\r\n", A},
    /* LF only */
    {"v=0\nm=video 9 RTP/AVP 96\na=sendonly\n", V},
    {"v=0\nm=video 9 RTP/AVP 96\na=recvonly\n", 0},
    /* a session-level sendrecv/sendonly makes every section send... */
    {HEAD "a=sendonly\r\n" AUDIO ("9") "a=recvonly\r\n", A},
    /* ...a session-level recvonly does not make a section without its own
     * direction receive only (webrtcbin ignores it) */
    {HEAD "a=recvonly\r\n" AUDIO ("9") VIDEO ("9") "a=inactive\r\n", A},
    /* several directions: sending if any sends */
    {HEAD VIDEO ("9") "a=recvonly\r\na=sendrecv\r\n", V},
    {HEAD VIDEO ("9") "a=sendrecv\r\na=inactive\r\n", V},
    /* Chromium reads "a=sendrecv " and "a=sendrecv:x" as sendrecv */
    {HEAD VIDEO ("9") "a=recvonly\r\na=sendrecv \r\n", V},
    {HEAD VIDEO ("9") "a=recvonly\r\na=sendonly:x\r\n", V},
    /* webrtcbin reads "a=recvonly " as unknown, hence sendrecv */
    {HEAD VIDEO ("9") "a=recvonly \r\n", V},
    {HEAD VIDEO ("9") "a=recvonly:\r\n", 0},
    {HEAD VIDEO ("9") "a=recvonlyx\r\n", V},
    /* rejected sections send nothing */
    {HEAD AUDIO ("0") "a=sendrecv\r\n" VIDEO ("9") "a=inactive\r\n", 0},
    {HEAD VIDEO ("0/2") "a=sendonly\r\n", 0},
    /* ... unless bundle-only or in a BUNDLE group */
    {HEAD VIDEO ("0") "a=bundle-only\r\na=sendonly\r\n", V},
    {HEAD BUNDLE AUDIO ("9") "a=mid:0\r\na=recvonly\r\n"
          VIDEO ("0") "a=mid:1\r\na=sendrecv\r\n", V},
    {HEAD BUNDLE VIDEO ("0") "a=mid:2\r\na=sendrecv\r\n", 0},
    {HEAD VIDEO ("00") "a=sendrecv\r\n", 0},
    {HEAD VIDEO ("x0") "a=sendrecv\r\n", V},
    {HEAD VIDEO ("") "a=sendrecv\r\n", V},
    /* the type, whatever its case; other types are not media */
    {HEAD "m=VIDEO 9 RTP/AVP 96\r\na=sendrecv\r\n", V},
    {HEAD "m=Audio 9 RTP/AVP 0\r\n", A},
    {HEAD "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", 0},
    {HEAD "m=text 9 RTP/AVP 98\r\na=sendrecv\r\n", 0},
    {HEAD "m=\r\na=sendrecv\r\n", 0},
    {HEAD "m=video\r\n", V},
    /* an m-line must start its line */
    {HEAD "a=x m=video 9 RTP/AVP 96\r\n", 0},
    /* no final line break */
    {HEAD VIDEO ("9") "a=sendonly", V},
    {HEAD VIDEO ("9") "a=recvonly\r", 0},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_test_message ("case %u", i);
    g_assert_cmpuint (sends_of (cases[i].sdp), ==, cases[i].sends);
  }
}

static void
test_refused (void)
{
  static const gchar *cases[] = {
    /* a lone CR: Chromium's line would be "a=recvonly\rx", an unknown
     * attribute (sendrecv); a reading that split there would see recvonly */
    HEAD VIDEO ("9") "a=recvonly\rx\r\n",
    HEAD "a=x\rm=video 9 RTP/AVP 96\r\n",
    HEAD "\r\r\n",
    "v=0\xff\r\n",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    NoomMediaFlags sends;

    g_test_message ("case %u", i);
    g_assert_false (noom_sdp_get_sends (cases[i], &sends));
  }
}

/* noom_event_args_parse() reads it from offers and answers. */
static void
test_event (void)
{
  NoomRoomLimits limits;
  NoomEventArgs a;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) bad = NULL;

  noom_room_limits_init (&limits);
  node = json_from_string ("[\"answer\",{\"type\":\"answer\",\"sdp\":"
      "\"v=0\\r\\nm=video 9 RTP/AVP 96\\r\\na=sendonly\\r\\n\"},\"r\"]", NULL);
  g_assert_true (noom_event_args_parse ("answer", json_node_get_array (node),
          &limits, &a, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (a.sends, ==, V);

  bad = json_from_string ("[\"offer\",{\"type\":\"offer\",\"sdp\":"
      "\"v=0\\rm=video 9 RTP/AVP 96\"},\"r\"]", NULL);
  g_assert_false (noom_event_args_parse ("offer", json_node_get_array (bad),
          &limits, &a, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
      "description sdp must be UTF-8 lines ending with CRLF or LF");
}

static void
test_to_string (void)
{
  g_assert_cmpstr (noom_media_flags_to_string (0), ==, "nothing");
  g_assert_cmpstr (noom_media_flags_to_string (A), ==, "audio");
  g_assert_cmpstr (noom_media_flags_to_string (V), ==, "video");
  g_assert_cmpstr (noom_media_flags_to_string (AV), ==, "audio and video");
}

/* aiortc's shape: each bundled section has its own transport. */
#define AIORTC_OFFER HEAD "a=group:BUNDLE 0 1\r\n" \
  "m=audio 5000 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\n" \
  "a=sendrecv\r\na=mid:0\r\na=rtpmap:96 opus/48000/2\r\n" \
  "a=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\n" \
  "a=end-of-candidates\r\na=ice-ufrag:AAAA\r\na=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa\r\n" \
  "a=fingerprint:sha-256 11:11\r\na=setup:actpass\r\n" \
  "m=video 5002 UDP/TLS/RTP/SAVPF 97\r\nc=IN IP4 127.0.0.1\r\n" \
  "a=sendrecv\r\na=mid:1\r\na=rtpmap:97 VP8/90000\r\n" \
  "a=candidate:2 1 udp 1 127.0.0.1 5002 typ host\r\n" \
  "a=end-of-candidates\r\na=ice-ufrag:BBBB\r\na=ice-pwd:bbbbbbbbbbbbbbbbbbbbbb\r\n" \
  "a=fingerprint:sha-256 22:22\r\na=setup:actpass\r\n" \
  "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n" \
  "a=mid:2\r\na=ice-ufrag:CCCC\r\n"

static void
test_normalize_bundle (void)
{
  g_autofree gchar *out = noom_sdp_normalize_bundle (AIORTC_OFFER);
  g_auto (GStrv) sections = g_strsplit (out, "m=", -1);

  g_assert_cmpuint (g_strv_length (sections), ==, 4);
  /* the tagged section keeps everything */
  g_assert_nonnull (strstr (sections[1], "a=ice-ufrag:AAAA\r\n"));
  g_assert_nonnull (strstr (sections[1], "a=candidate:1 "));
  g_assert_nonnull (strstr (sections[1], "a=end-of-candidates\r\n"));
  /* the other bundled one gets its transport, and no candidates */
  g_assert_null (strstr (sections[2], "BBBB"));
  g_assert_null (strstr (sections[2], "bbbb"));
  g_assert_null (strstr (sections[2], "22:22"));
  g_assert_null (strstr (sections[2], "a=candidate"));
  g_assert_null (strstr (sections[2], "a=end-of-candidates"));
  g_assert_nonnull (strstr (sections[2], "a=ice-ufrag:AAAA\r\n"));
  g_assert_nonnull (strstr (sections[2], "a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa\r\n"));
  g_assert_nonnull (strstr (sections[2], "a=fingerprint:sha-256 11:11\r\n"));
  g_assert_nonnull (strstr (sections[2], "a=setup:actpass\r\n"));
  g_assert_nonnull (strstr (sections[2], "a=rtpmap:97 VP8/90000\r\n"));
  /* outside the group: as it was */
  g_assert_nonnull (strstr (sections[3], "a=ice-ufrag:CCCC\r\n"));
  /* the media still send what they sent */
  {
    NoomMediaFlags a = 0, b = 0;

    g_assert_true (noom_sdp_get_sends (AIORTC_OFFER, &a));
    g_assert_true (noom_sdp_get_sends (out, &b));
    g_assert_cmpuint (a, ==, b);
  }

  g_assert_cmpuint (noom_sdp_transport_mline (AIORTC_OFFER, 0), ==, 0);
  g_assert_cmpuint (noom_sdp_transport_mline (AIORTC_OFFER, 1), ==, 0);
  g_assert_cmpuint (noom_sdp_transport_mline (AIORTC_OFFER, 2), ==, 2);
  g_assert_cmpuint (noom_sdp_transport_mline (AIORTC_OFFER, 7), ==, 7);
}

static void
test_normalize_no_bundle (void)
{
  const gchar *sdp = HEAD AUDIO ("9") "a=mid:0\r\na=ice-ufrag:AAAA\r\n"
      VIDEO ("9") "a=mid:1\r\na=ice-ufrag:BBBB\r\n";
  g_autofree gchar *out = noom_sdp_normalize_bundle (sdp);
  g_autofree gchar *lf = noom_sdp_normalize_bundle ("v=0\nm=audio 9 RTP/AVP 0\n");

  g_assert_cmpstr (out, ==, sdp);
  g_assert_cmpstr (lf, ==, "v=0\r\nm=audio 9 RTP/AVP 0\r\n");
  g_assert_cmpuint (noom_sdp_transport_mline (sdp, 1), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdp/directions", test_directions);
  g_test_add_func ("/sdp/refused", test_refused);
  g_test_add_func ("/sdp/event", test_event);
  g_test_add_func ("/sdp/to-string", test_to_string);
  g_test_add_func ("/sdp/normalize-bundle", test_normalize_bundle);
  g_test_add_func ("/sdp/normalize-no-bundle", test_normalize_no_bundle);
  return g_test_run ();
}
