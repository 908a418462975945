/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/*
 * Calls in a room that forwards media through the server (docs/protocol.md
 * §11, noom-server --sfu): one RTCPeerConnection, to the media relay, whose
 * offers we only answer.  We send our camera and microphone once, on the
 * m-lines the offer's `tracks` marks `upload`; every other m-line carries
 * one track of another participant, named in `tracks` by its mid.
 *
 * A shared screen (§11): we join saying we take screens (`features`), so
 * the relay offers us a second video upload m-line, marked `"screen":true`
 * in `tracks`, on which we send our screen while we share (no track while
 * we do not: sharing replaces the track, no renegotiation), and the
 * others' screens come on download m-lines marked so too.
 *
 * The same interface as Mesh (mesh.js), so the page does not care which
 * kind of room it is in.
 */

import { KINDS } from "./offer-rule.js";

/* the relay's pseudo-participant id (§11) */
export const RELAY = "~sfu";

export class Sfu {
  /*
   * hooks: signal(event, payload, to), onTrack(id, stream),
   *        onState(id, state), log(text)
   */
  constructor(media, hooks) {
    this.media = media;
    this.hooks = hooks;
    this.iceServers = [];
    this.iceTransportPolicy = "all";
    this.pc = null;
    /* read-only for tests: RELAY -> the connection */
    this.pcs = new Map();
    /* Mesh has peers with restart counts; the relay restarts ICE itself */
    this.peers = new Map();
    this.tracks = new Map();    /* mid -> entry of the last offer's tracks */
    this.streams = new Map();   /* participant id -> MediaStream */
    this.screenStreams = new Map();     /* participant id -> its screen's */
    /* our shared screen (a track) or null, and its stream */
    this.screen = null;
    this.screenStream = new MediaStream();
    this.pending = [];          /* candidates before the remote description */
    this.chain = Promise.resolve();
  }

  run(step) {
    this.chain = this.chain.then(step).catch((e) => {
      console.warn("noom: relay connection", e);
    });
    return this.chain;
  }

  /* The relay sends every offer: nothing to do when someone comes. */
  welcome() {}

  offer(description, from) {
    /* A seed client's broadcast offer in the same room is not ours. */
    if (from !== RELAY)
      return;
    this.run(async () => {
      if (!this.pc)
        this._create();
      const pc = this.pc;
      this.tracks = new Map((description.tracks || []).map((t) => [t.mid, t]));
      await pc.setRemoteDescription({ type: "offer", sdp: description.sdp });
      for (const t of pc.getTransceivers()) {
        if (t.stopped || !t.mid)
          continue;
        const entry = this.tracks.get(t.mid);
        if (entry && entry.upload && entry.screen) {
          /* always sendonly: sharing later needs no renegotiation */
          const sending = this.media.sends.includes("video");
          if (sending) {
            await t.sender.replaceTrack(this.screen);
            if (t.sender.setStreams)
              t.sender.setStreams(this.media.stream);
          }
          t.direction = sending ? "sendonly" : "inactive";
        } else if (entry && entry.upload) {
          const sending = this.media.sends.includes(entry.kind);
          if (sending) {
            await t.sender.replaceTrack(this.media.track(entry.kind));
            if (t.sender.setStreams)
              t.sender.setStreams(this.media.stream);
          }
          t.direction = sending ? "sendonly" : "inactive";
        } else {
          /* another participant's track, or one that has ended */
          t.direction = entry ? "recvonly" : "inactive";
        }
      }
      this._flush();
      await pc.setLocalDescription(await pc.createAnswer());
      this.hooks.signal("answer", pc.localDescription.toJSON(), RELAY);
    });
  }

  /* We never offer to the relay. */
  answer() {}

  ice(candidate, from) {
    if (from !== RELAY)
      return;
    this.run(async () => {
      if (this.pc && this.pc.remoteDescription)
        await this._addCandidate(candidate);
      else
        this.pending.push(candidate);
    });
  }

  /* The participant left: its tracks go with it (the relay's next offer
   * makes their m-lines inactive). */
  remove(id) {
    for (const streams of [this.streams, this.screenStreams]) {
      const stream = streams.get(id);
      if (stream) {
        streams.delete(id);
        for (const t of stream.getTracks())
          stream.removeTrack(t);
      }
    }
    this.hooks.onState(id, "closed");
  }

  /* Share a screen (a video track), or stop (null): on our screen upload
   * m-line. */
  async setScreen(track) {
    this.screen = track;
    for (const t of this.screenStream.getTracks())
      this.screenStream.removeTrack(t);
    if (track)
      this.screenStream.addTrack(track);
    if (!this.pc)
      return;
    for (const t of this.pc.getTransceivers()) {
      const entry = this.tracks.get(t.mid);
      if (!t.stopped && entry && entry.upload && entry.screen
          && t.direction === "sendonly") {
        await t.sender.replaceTrack(track);
        return;
      }
    }
  }

  /* We left, lost the server, or the relay restarts (media_relay): the
   * next offer comes on a fresh connection. */
  closeAll() {
    if (this.pc)
      this.pc.close();
    this.pc = null;
    this.pcs.clear();
    this.pending = [];
    this.tracks.clear();
    for (const id of new Set([...this.streams.keys(), ...this.screenStreams.keys()]))
      this.remove(id);
    this.chain = Promise.resolve();
  }

  /* A new local track (device switch, camera on/off): on the upload m-line
   * of its kind. */
  async replaceTrack(kind, track) {
    if (!this.pc)
      return;
    for (const t of this.pc.getTransceivers()) {
      const entry = this.tracks.get(t.mid);
      if (!t.stopped && entry && entry.upload && !entry.screen && entry.kind === kind) {
        await t.sender.replaceTrack(track);
        return;
      }
    }
  }

  _create() {
    const pc = new RTCPeerConnection({
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
    });
    this.pc = pc;
    this.pcs.set(RELAY, pc);
    pc.onicecandidate = (e) => {
      if (this.pc === pc)
        this.hooks.signal("ice", e.candidate ? e.candidate.toJSON() : null, RELAY);
    };
    pc.ontrack = (e) => {
      const entry = this.tracks.get(e.transceiver.mid);
      if (!entry || entry.upload || !KINDS.includes(e.track.kind))
        return;
      const streams = entry.screen ? this.screenStreams : this.streams;
      let stream = streams.get(entry.id);
      if (!stream) {
        stream = new MediaStream();
        streams.set(entry.id, stream);
      }
      for (const old of stream.getTracks())
        if (old.kind === e.track.kind && old !== e.track)
          stream.removeTrack(old);
      if (!stream.getTracks().includes(e.track))
        stream.addTrack(e.track);
      if (entry.screen) {
        if (this.hooks.onScreen)
          this.hooks.onScreen(entry.id, stream);
        return;
      }
      this.hooks.onTrack(entry.id, stream);
      this.hooks.onState(entry.id, pc.connectionState);
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc)
        return;
      /* one connection carries everyone: its state is each tile's */
      for (const id of this.streams.keys())
        this.hooks.onState(id, pc.connectionState);
      if (pc.connectionState === "failed")
        this.hooks.log("the connection to the server's media relay failed");
    };
  }

  _flush() {
    const queued = this.pending;
    this.pending = [];
    for (const c of queued)
      this._addCandidate(c);
  }

  async _addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate || undefined);
    } catch (e) {
      console.warn("noom: bad candidate from the relay", e);
    }
  }
}
