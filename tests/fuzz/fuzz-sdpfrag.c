/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fuzz-sdpfrag: what noom-server reads from a WHIP/WHEP client
 * (lib/noom-sdpfrag.h), on arbitrary bytes: the POST's offer and the
 * PATCH's fragment.  An offer that parses has at least one m-line, a mid
 * entry per m-line and audio or video in it; a fragment that parses (read
 * against the offer's mids when the input was an offer too, else against
 * none) has only candidates of an m-line the offer has, credentials in
 * pairs, and the restart's answer built from them parses back to the same
 * candidates.  Every refusal says why.
 */
#include <string.h>

#include "noom-sdpfrag.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const gchar *text = (const gchar *) data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) candidates = g_ptr_array_new ();
  g_autofree gchar *answer = NULL;
  NoomSdpInfo info;
  NoomSdpFrag frag, again;
  gboolean have_offer;
  guint i;

  have_offer = noom_sdp_info_parse (text, size, &info, &error);
  if (have_offer) {
    FUZZ_CHECK (error == NULL);
    FUZZ_CHECK (info.mids && info.mids->len >= 1);
    FUZZ_CHECK (info.first_media != NULL);
    FUZZ_CHECK (info.media != NOOM_MEDIA_NONE);
  } else {
    FUZZ_CHECK (error && g_utf8_validate (error->message, -1, NULL));
    FUZZ_CHECK (info.mids == NULL);
    g_clear_error (&error);
  }

  if (!noom_sdpfrag_parse (text, size, have_offer ? info.mids : NULL, &frag,
          &error)) {
    FUZZ_CHECK (error && g_utf8_validate (error->message, -1, NULL));
    FUZZ_CHECK (frag.candidates == NULL);
    if (have_offer)
      noom_sdp_info_clear (&info);
    return 0;
  }
  FUZZ_CHECK ((frag.ufrag == NULL) == (frag.pwd == NULL));
  for (i = 0; i < frag.candidates->len; i++) {
    NoomSdpFragCandidate *c = frag.candidates->pdata[i];

    FUZZ_CHECK (g_str_has_prefix (c->candidate, "candidate:"));
    FUZZ_CHECK (strpbrk (c->candidate, "\r\n") == NULL);
    FUZZ_CHECK (c->mline_index == 0 || (have_offer
            && c->mline_index < info.mids->len));
    g_ptr_array_add (candidates, c->candidate);
  }
  g_ptr_array_add (candidates, NULL);

  if (frag.ufrag) {
    answer = noom_sdpfrag_build_answer (info.first_media, NULL, frag.ufrag,
        frag.pwd, (const gchar * const *) candidates->pdata);
    FUZZ_CHECK (noom_sdpfrag_parse (answer, strlen (answer), NULL, &again,
            NULL));
    FUZZ_CHECK (g_strcmp0 (again.ufrag, frag.ufrag) == 0);
    FUZZ_CHECK (again.candidates->len == frag.candidates->len);
    FUZZ_CHECK (again.end_of_candidates);
    noom_sdpfrag_clear (&again);
  }
  noom_sdpfrag_clear (&frag);
  if (have_offer)
    noom_sdp_info_clear (&info);
  return 0;
}
