// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// WHIP and WHEP from a browser page that uses nothing but RTCPeerConnection
// and fetch (docs/server.md, "WHIP and WHEP"), against noom-server --sfu:
// a WHIP publisher trickles its candidates with PATCH and shows up in the
// web client's room as a tile with its video; it restarts ICE with a PATCH
// and its video keeps coming; a WHEP player plays the web client's camera
// by nickname; a page of another origin publishes through CORS; DELETE
// takes both out of the room.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServerAndBrowser, openPage, join, waitState, until, selfId, inboundByOwner,
} from './harness.mjs';

const ROOM = 'whip';
let server, browser;

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
}, { serverArgs: ['--sfu'] });

// In a page: a WHIP publisher of the fake camera and microphone, with
// trickle ICE (the offer goes before gathering ends, its candidates follow
// in PATCH requests).  Only the standard API: RTCPeerConnection and fetch.
function whipPublish({ url, codec }) {
  return (async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const w = window.whip = { pc, patches: [], log: [] };
    for (const t of stream.getTracks()) {
      const tr = pc.addTransceiver(t, { direction: 'sendonly' });
      if (codec && t.kind === 'video')
        tr.setCodecPreferences(RTCRtpSender.getCapabilities('video').codecs
          .filter((c) => c.mimeType === codec));
    }
    const queued = [];
    let sendCandidate = (c) => queued.push(c);
    pc.onicecandidate = (e) => sendCandidate(e.candidate);
    await pc.setLocalDescription(await pc.createOffer());
    const r = await fetch(url, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    w.status = r.status;
    w.location = new URL(r.headers.get('Location'), url).href;
    w.etag = r.headers.get('ETag');
    w.links = r.headers.get('Link');
    await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
    w.serverUfrag = pc.currentRemoteDescription.sdp.match(/a=ice-ufrag:(\S+)/)[1];
    const mid = pc.getTransceivers()[0].mid;
    const ufrag = pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)[1];
    const pwd = pc.localDescription.sdp.match(/a=ice-pwd:(\S+)/)[1];
    sendCandidate = async (c) => {
      const frag = `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\n`
        + `m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:${mid}\r\n`
        + (c ? `a=${c.candidate}\r\n` : 'a=end-of-candidates\r\n');
      const p = await fetch(w.location, {
        method: 'PATCH', body: frag,
        headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': w.etag },
      });
      w.patches.push(p.status);
    };
    for (const c of queued)
      await sendCandidate(c);
    return { status: w.status, location: w.location, etag: w.etag, links: w.links };
  })();
}

// In the WHIP page: an ICE restart as RFC 9725 §4.4 does it: a PATCH with
// the new credentials and candidates (If-Match: *), whose answer fragment
// gives the server's new credentials and candidates.
function whipRestart() {
  return (async () => {
    const w = window.whip;
    const pc = w.pc;
    pc.restartIce();
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete')
        resolve();
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete')
          resolve();
      });
    });
    const sdp = pc.localDescription.sdp;
    const ufrag = sdp.match(/a=ice-ufrag:(\S+)/)[1];
    const pwd = sdp.match(/a=ice-pwd:(\S+)/)[1];
    const mid = pc.getTransceivers()[0].mid;
    const cands = [...sdp.matchAll(/a=(candidate:[^\r\n]+)/g)].map((m) => m[1]);
    const frag = `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\n`
      + `m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:${mid}\r\n`
      + cands.map((c) => `a=${c}\r\n`).join('') + 'a=end-of-candidates\r\n';
    const r = await fetch(w.location, {
      method: 'PATCH', body: frag,
      headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '*' },
    });
    const body = await r.text();
    const out = { status: r.status, etag: r.headers.get('ETag'), oldEtag: w.etag, body };
    if (r.status !== 200)
      return out;
    w.etag = out.etag;
    const newUfrag = body.match(/a=ice-ufrag:(\S+)/)[1];
    const newPwd = body.match(/a=ice-pwd:(\S+)/)[1];
    const theirs = [...body.matchAll(/a=(candidate:[^\r\n]+)/g)].map((m) => m[1]);
    // the answer again, with the server's new credentials and candidates
    let answer = pc.currentRemoteDescription.sdp
      .replace(/a=ice-ufrag:[^\r\n]+/g, `a=ice-ufrag:${newUfrag}`)
      .replace(/a=ice-pwd:[^\r\n]+/g, `a=ice-pwd:${newPwd}`)
      .replace(/a=(candidate:[^\r\n]+|end-of-candidates)\r\n/g, '');
    const at = answer.indexOf('\r\nm=') + 2;
    const mline = answer.indexOf('\r\n', at) + 2;
    answer = answer.slice(0, mline) + theirs.map((c) => `a=${c}\r\n`).join('')
      + answer.slice(mline);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    out.newUfrag = newUfrag;
    out.oldUfrag = w.serverUfrag;
    return out;
  })();
}

// In a page: a WHEP player, non-trickle (candidates in the offer).
function whepPlay({ url }) {
  return (async () => {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    window.whep = { pc };
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete')
        resolve();
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete')
          resolve();
      });
    });
    const r = await fetch(url, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    const body = await r.text();
    if (r.status !== 201)
      return { status: r.status, body };
    window.whep.location = new URL(r.headers.get('Location'), url).href;
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    return { status: r.status, location: window.whep.location };
  })();
}

async function framesDecoded(page, which) {
  return page.evaluate(async (which) => {
    let n = 0;
    (await window[which].pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video')
        n += s.framesDecoded || 0;
    });
    return n;
  }, which);
}

async function participantId(page, nickname) {
  return until(() => page.evaluate((nick) => {
    const p = window.noom.state().participants.find((x) => x.nickname === nick);
    return p ? p.id : null;
  }, nickname), (id) => id, `the room to show ${nickname}`, 20000);
}

let alice, whipPage, whipId;

test('a browser publishes over WHIP with trickle ICE: the room sees its tile and decodes its video', async () => {
  alice = await openPage(browser, server.url + '/');
  await join(alice, ROOM, 'Alice');
  whipPage = await openPage(browser, server.url + '/healthz');
  const r = await whipPage.evaluate(whipPublish, { url: `${server.url}/whip/${ROOM}?nickname=WebWHIP` });
  assert.equal(r.status, 201);
  assert.match(r.location, /\/wish\/[0-9a-f]{32}$/);
  assert.ok(r.etag, 'no ETag');
  whipId = await participantId(alice, 'WebWHIP');
  await until(() => inboundByOwner(alice), (s) => s[whipId] && s[whipId].framesDecoded > 10,
    "Alice decoding the WHIP publisher's video", 30000);
  const patches = await whipPage.evaluate(() => window.whip.patches);
  assert.ok(patches.length > 0 && patches.every((s) => s === 204), `PATCH statuses ${patches}`);
  await waitState(alice, (s, id) => s.tiles.includes(id), whipId,
    'a tile for the WHIP publisher');
});

test('an ICE restart with PATCH (If-Match: *) gets new credentials and a new ETag, and the video goes on', async () => {
  const r = await whipPage.evaluate(whipRestart);
  assert.equal(r.status, 200, r.body);
  assert.notEqual(r.etag, r.oldEtag, 'the ETag did not change');
  // RFC 8445 §9: both agents change their credentials on a restart
  assert.notEqual(r.newUfrag, r.oldUfrag, "the server's ICE credentials did not change");
  // the transport runs on the restarted session: the page's new ufrag
  const local = await whipPage.evaluate(() =>
    window.whip.pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)[1]);
  await until(() => whipPage.evaluate(async () => {
    let t = null;
    (await window.whip.pc.getStats()).forEach((s) => {
      if (s.type === 'transport')
        t = `${s.iceState} ${s.iceLocalUsernameFragment}`;
    });
    return t;
  }), (t) => t === `connected ${local}`, 'the restarted transport to connect', 20000);
  const before = (await inboundByOwner(alice))[whipId].framesDecoded;
  await until(() => inboundByOwner(alice), (s) => s[whipId].framesDecoded > before + 30,
    'Alice decoding after the restart', 20000);
});

test('a WHEP player plays Alice by nickname', async () => {
  const player = await openPage(browser, server.url + '/healthz');
  const r = await player.evaluate(whepPlay, { url: `${server.url}/whep/${ROOM}/Alice` });
  assert.equal(r.status, 201, r.body);
  await until(() => framesDecoded(player, 'whep'), (n) => n > 30, "the WHEP player decoding Alice's camera", 30000);
  const del = await player.evaluate(() => fetch(window.whep.location, { method: 'DELETE' }).then((x) => x.status));
  assert.equal(del, 200);
  await player.context().close();
});

test('DELETE takes the WHIP publisher out of the room at once', async () => {
  const status = await whipPage.evaluate(() => fetch(window.whip.location, { method: 'DELETE' }).then((r) => r.status));
  assert.equal(status, 200);
  await waitState(alice, (s, id) => !s.participants.some((p) => p.id === id),
    whipId, 'the WHIP publisher to leave', 10000);
  const again = await whipPage.evaluate(() => fetch(window.whip.location, { method: 'DELETE' }).then((r) => r.status));
  assert.equal(again, 404);
  await whipPage.context().close();
});

test('a browser publishes H.264 only, as OBS does: the web client decodes it', async () => {
  const page = await openPage(browser, server.url + '/healthz');
  const r = await page.evaluate(whipPublish, { url: `${server.url}/whip/${ROOM}?nickname=H264cam`, codec: 'video/H264' });
  assert.equal(r.status, 201);
  const sdp = await page.evaluate(() => window.whip.pc.currentRemoteDescription.sdp);
  assert.match(sdp, /a=rtpmap:\d+ H264\/90000/);
  assert.doesNotMatch(sdp, /VP8/);
  const id = await participantId(alice, 'H264cam');
  await until(() => inboundByOwner(alice), (s) => s[id] && s[id].framesDecoded > 10,
    "Alice decoding the H.264 publisher's video", 30000);
  await page.evaluate(() => fetch(window.whip.location, { method: 'DELETE' }));
  await page.context().close();
});

test('a page of another origin publishes through CORS', async () => {
  const other = await openPage(browser, server.url.replace('127.0.0.1', 'localhost') + '/healthz');
  const r = await other.evaluate(whipPublish, { url: `${server.url}/whip/${ROOM}?nickname=Elsewhere` });
  assert.equal(r.status, 201);
  await participantId(alice, 'Elsewhere');
  await other.evaluate(() => fetch(window.whip.location, { method: 'DELETE' }));
  await other.context().close();
  await selfId(alice);
});
