/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of lib/noom-sdpfrag.[ch]: WHIP and WHEP offers, PATCH
 * fragments (RFC 8840) and the ICE restart's answer fragment.
 */
#include <string.h>

#include "noom-sdpfrag.h"

#define HEAD "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
#define UFRAG "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\n"
#define CAND "candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host"

static gboolean
parse_offer (const gchar * sdp, NoomSdpInfo * info, GError ** error)
{
  return noom_sdp_info_parse (sdp, strlen (sdp), info, error);
}

static void
test_offer (void)
{
  NoomSdpInfo info;
  g_autoptr (GError) error = NULL;
  const gchar *sdp = HEAD "a=group:BUNDLE 0 1\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n" UFRAG
      "a=sendonly\r\n"
      "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=bundle-only\r\n"
      "a=sendonly\r\n";

  g_assert_true (parse_offer (sdp, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.media, ==, NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);
  g_assert_cmpuint (info.mids->len, ==, 2);
  g_assert_cmpstr (info.mids->pdata[0], ==, "0");
  g_assert_cmpstr (info.mids->pdata[1], ==, "1");
  g_assert_cmpstr (info.first_media, ==, "m=audio 9 UDP/TLS/RTP/SAVPF 111");
  g_assert_cmpstr (info.ufrag, ==, "abcd");
  g_assert_cmpstr (info.pwd, ==, "0123456789abcdef012345");
  noom_sdp_info_clear (&info);

  /* LF only, session-level credentials, a rejected video m-line. */
  g_assert_true (parse_offer ("v=0\na=ice-ufrag:wxyz\n"
          "a=ice-pwd:0123456789abcdef012345\n"
          "m=audio 9 RTP/AVP 0\nm=video 0 RTP/AVP 96\n", &info, NULL));
  g_assert_cmpuint (info.media, ==, NOOM_MEDIA_AUDIO);
  g_assert_cmpstr (info.mids->pdata[0], ==, "");
  g_assert_cmpstr (info.ufrag, ==, "wxyz");
  noom_sdp_info_clear (&info);
}

static void
test_bad_offer (void)
{
  static const struct
  {
    const gchar *sdp;
    NoomSdpFragError code;
  } cases[] = {
    {"", NOOM_SDPFRAG_ERROR_SYNTAX},
    {"hello", NOOM_SDPFRAG_ERROR_SYNTAX},
    {"v=1\r\nm=audio 9 RTP/AVP 0\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {HEAD "m=audio 9\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {HEAD "m=audio 9 RTP/AVP 0\rx=1\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {HEAD "m=audio 9 RTP/AVP 0\r\n\xff\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {HEAD "m=audio 9 RTP/AVP 0\r\nnot a line\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {HEAD, NOOM_SDPFRAG_ERROR_NO_MEDIA},
    {HEAD "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
        NOOM_SDPFRAG_ERROR_NO_MEDIA},
    {HEAD "m=audio 0 RTP/AVP 0\r\n", NOOM_SDPFRAG_ERROR_NO_MEDIA},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    NoomSdpInfo info;
    g_autoptr (GError) error = NULL;

    g_assert_false (parse_offer (cases[i].sdp, &info, &error));
    g_assert_error (error, NOOM_SDPFRAG_ERROR, cases[i].code);
    g_assert_null (info.mids);
  }
  {
    /* A NUL inside the body. */
    NoomSdpInfo info;
    g_autoptr (GError) error = NULL;
    const gchar sdp[] = "v=0\r\nm=audio 9 RTP/AVP 0\r\n\0x=1\r\n";

    g_assert_false (noom_sdp_info_parse (sdp, sizeof (sdp) - 1, &info, &error));
    g_assert_error (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX);
  }
}

static GPtrArray *
mids_of (const gchar * first, ...)
{
  GPtrArray *mids = g_ptr_array_new_with_free_func (g_free);
  va_list ap;
  const gchar *m;

  va_start (ap, first);
  for (m = first; m; m = va_arg (ap, const gchar *))
      g_ptr_array_add (mids, g_strdup (m));
  va_end (ap);
  return mids;
}

static void
test_fragment (void)
{
  g_autoptr (GPtrArray) mids = mids_of ("0", "1", NULL);
  g_autoptr (GPtrArray) no_mids = mids_of ("", NULL);
  const gchar *text = "a=ice-options:trickle\r\n" "a=group:BUNDLE 0 1\r\n"
      "a=" CAND "\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n" UFRAG
      "a=" CAND "\r\n" "a=end-of-candidates\r\n";
  NoomSdpFrag frag;
  NoomSdpFragCandidate *c;

  g_assert_true (noom_sdpfrag_parse (text, strlen (text), mids, &frag, NULL));
  g_assert_cmpstr (frag.ufrag, ==, "abcd");
  g_assert_cmpstr (frag.pwd, ==, "0123456789abcdef012345");
  g_assert_true (frag.end_of_candidates);
  g_assert_cmpuint (frag.candidates->len, ==, 2);
  c = frag.candidates->pdata[0];
  g_assert_cmpstr (c->candidate, ==, CAND);
  g_assert_cmpstr (c->mid, ==, "0");
  g_assert_cmpuint (c->mline_index, ==, 0);
  c = frag.candidates->pdata[1];
  g_assert_cmpstr (c->mid, ==, "1");
  g_assert_cmpuint (c->mline_index, ==, 1);
  noom_sdpfrag_clear (&frag);

  /* No mids in the offer: m-line 0 without a mid; an empty fragment. */
  text = "m=audio 9 RTP/AVP 0\na=" CAND "\n";
  g_assert_true (noom_sdpfrag_parse (text, strlen (text), no_mids, &frag,
          NULL));
  c = frag.candidates->pdata[0];
  g_assert_null (c->mid);
  g_assert_cmpuint (c->mline_index, ==, 0);
  g_assert_null (frag.ufrag);
  g_assert_false (frag.end_of_candidates);
  noom_sdpfrag_clear (&frag);
  g_assert_true (noom_sdpfrag_parse ("", 0, mids, &frag, NULL));
  g_assert_cmpuint (frag.candidates->len, ==, 0);
  noom_sdpfrag_clear (&frag);
}

static void
test_bad_fragment (void)
{
  static const struct
  {
    const gchar *text;
    NoomSdpFragError code;
  } cases[] = {
    {"a=candidate:1 1 udp 1 192.0.2.1 5000\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {"a=candidate:1 1 udp 1 192.0.2.1 5000 type host\r\n",
        NOOM_SDPFRAG_ERROR_SYNTAX},
    {"a=ice-ufrag:abcd\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {"a=ice-ufrag:ab\r\na=ice-pwd:0123456789abcdef012345\r\n",
        NOOM_SDPFRAG_ERROR_SYNTAX},
    {"a=ice-ufrag:ab;d\r\na=ice-pwd:0123456789abcdef012345\r\n",
        NOOM_SDPFRAG_ERROR_SYNTAX},
    {"a=ice-ufrag:abcd\r\na=ice-pwd:short\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {UFRAG UFRAG, NOOM_SDPFRAG_ERROR_SYNTAX},
    {"garbage\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {"a=x\x01y\r\n", NOOM_SDPFRAG_ERROR_SYNTAX},
    {"m=audio 9 RTP/AVP 0\r\na=mid:7\r\na=" CAND "\r\n",
        NOOM_SDPFRAG_ERROR_UNKNOWN_MID},
  };
  g_autoptr (GPtrArray) mids = mids_of ("0", NULL);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    NoomSdpFrag frag;
    g_autoptr (GError) error = NULL;

    g_assert_false (noom_sdpfrag_parse (cases[i].text,
            strlen (cases[i].text), mids, &frag, &error));
    g_assert_error (error, NOOM_SDPFRAG_ERROR, cases[i].code);
    g_assert_null (frag.candidates);
  }
}

static void
test_answer (void)
{
  const gchar *candidates[] = { CAND, "bogus", "candidate:x\r\na=evil",
    NULL
  };
  g_autofree gchar *text = noom_sdpfrag_build_answer ("m=audio 9 "
      "UDP/TLS/RTP/SAVPF 111", "0", "wxyz", "0123456789abcdef012345",
      candidates);

  g_assert_cmpstr (text, ==, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      "a=mid:0\r\na=ice-ufrag:wxyz\r\na=ice-pwd:0123456789abcdef012345\r\n"
      "a=" CAND "\r\na=end-of-candidates\r\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdpfrag/offer", test_offer);
  g_test_add_func ("/sdpfrag/bad-offer", test_bad_offer);
  g_test_add_func ("/sdpfrag/fragment", test_fragment);
  g_test_add_func ("/sdpfrag/bad-fragment", test_bad_fragment);
  g_test_add_func ("/sdpfrag/answer", test_answer);
  return g_test_run ();
}
