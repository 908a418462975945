/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/*
 * The WebRTC mesh: one RTCPeerConnection per other participant.
 *
 * Who offers (docs/protocol.md §7): the participant that was in the room
 * first, when it gets `welcome` for the newcomer.  The offerer picks each
 * transceiver's direction from both sides' `sends`; the answerer answers
 * what it is offered, so seed clients (which offer and answer without
 * `to`) work on either side, but receives only the kinds the offerer lists
 * in its `sends` (§7 "What a participant may send": a modified client
 * behind a server that does not check must not push media to us).  Candidates that arrive before the remote
 * description are queued.  On ICE failure (or a connection that never gets
 * there) the offerer restarts ICE.
 *
 * With another web client, or any participant whose join said it takes
 * screens (`features: ["screen"]`, as noomsrc does), a second video m-line
 * carries the shared screen (docs/protocol.md §7 "A shared screen"): the
 * offerer adds it with the camera's direction, the answerer answers it so; sharing later replaces
 * the track on it, with no renegotiation.  The screen goes in the same
 * stream (msid) as the camera and microphone: the m-line tells it apart,
 * and a seed page, which shows the stream of each track it gets
 * (`srcObject = streams[0]`), keeps showing and playing ours.
 */

import { KINDS, offerPlan } from "./offer-rule.js";

/* how long a connection may stay short of "connected" before the offerer
 * restarts ICE */
const STALL_MS = 10000;

/* mid -> direction of each m-section of an SDP */
function sdpDirections(sdp) {
  const dirs = new Map();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const mid = /\na=mid:(\S+)/.exec("\n" + section);
    const dir = /\na=(sendrecv|sendonly|recvonly|inactive)\b/.exec("\n" + section);
    if (mid)
      dirs.set(mid[1], dir ? dir[1] : "sendrecv");
  }
  return dirs;
}

function kindOf(transceiver) {
  return transceiver.receiver.track.kind;
}

/* The live video transceivers, in m-line order: the camera's first, then
 * the screen's (§7). */
function videoSlots(pc) {
  return pc.getTransceivers().filter((t) => !t.stopped && kindOf(t) === "video");
}

/* The transceiver of the screen: the second of kind video (§7). */
function screenSlot(pc) {
  return videoSlots(pc)[1] || null;
}

/* The camera's transceiver: the first of kind video. */
function cameraSlot(pc) {
  return videoSlots(pc)[0] || null;
}

function sending(t) {
  return t.direction === "sendrecv" || t.direction === "sendonly";
}

/*
 * A browser encodes its camera once per connection, so a mesh of N
 * connections costs N encodes and N times the upload.  As the mesh grows,
 * every connection gets a smaller picture: up to `upTo` connections send
 * the camera at most `height` lines high (0: as captured) and `bitrate`
 * bit/s (0: the browser's own estimate decides alone).
 */
const MESH_VIDEO = [
  { upTo: 2, height: 0, bitrate: 0 },
  { upTo: 4, height: 360, bitrate: 800000 },
  { upTo: Infinity, height: 180, bitrate: 300000 },
];

/* The camera's encoding on each of `connections` connections, for a
 * camera `captureHeight` lines high. */
function meshVideo(connections, captureHeight) {
  const tier = MESH_VIDEO.find((t) => connections <= t.upTo);
  const scale = tier.height && captureHeight > tier.height ? captureHeight / tier.height : 1;
  return { scaleResolutionDownBy: scale, maxBitrate: tier.bitrate };
}

async function limitSender(sender, want) {
  const params = sender.getParameters();
  /* not negotiated yet: the next negotiation step comes back here */
  if (!params.encodings || !params.encodings.length)
    return;
  const e = params.encodings[0];
  if ((e.scaleResolutionDownBy || 1) === want.scaleResolutionDownBy
      && (e.maxBitrate || 0) === want.maxBitrate)
    return;
  e.scaleResolutionDownBy = want.scaleResolutionDownBy;
  if (want.maxBitrate)
    e.maxBitrate = want.maxBitrate;
  else
    delete e.maxBitrate;
  try {
    await sender.setParameters(params);
  } catch (err) {
    console.warn("noom: could not limit the camera's encoding", err);
  }
}

/* Does the pair have the screen m-line (§7 "A shared screen")?  We are a
 * web client that takes screens: yes with another web client (kind
 * browser) and with anyone whose join listed the feature. */
export function takesScreen(participant) {
  return participant.kind === "browser"
    || (participant.features || []).includes("screen");
}

/* Does the participant announce sending media of this kind? */
function announces(participant, kind) {
  return (participant.sends || []).includes(kind);
}

class Peer {
  constructor(participant, offerer) {
    this.participant = participant;
    this.id = participant.id;
    this.offerer = offerer;
    this.pc = null;
    this.stream = new MediaStream();
    this.screenStream = new MediaStream();
    this.pending = [];          /* candidates waiting for the remote description */
    this.chain = Promise.resolve();
    this.restarts = 0;          /* since the last "connected" */
    this.totalRestarts = 0;
    this.watchdog = null;
  }

  /* Signalling steps of one peer run one after the other. */
  run(step) {
    this.chain = this.chain.then(step).catch((e) => {
      console.warn("noom: peer", this.id, e);
    });
    return this.chain;
  }
}

export class Mesh {
  /*
   * hooks: signal(event, payload, to), onTrack(id, stream),
   *        onState(id, state), log(text)
   */
  constructor(media, hooks) {
    this.media = media;
    this.hooks = hooks;
    this.iceServers = [];
    /* "relay" forces every connection through TURN (?relay=1) */
    this.iceTransportPolicy = "all";
    this.peers = new Map();
    /* id -> RTCPeerConnection, exposed read-only for tests */
    this.pcs = new Map();
    /* candidates that came before any offer from that peer */
    this.early = new Map();
    /* our shared screen (a track) or null, and its stream */
    this.screen = null;
    this.screenStream = new MediaStream();
  }

  /* Share a screen (a video track), or stop (null), on every connection
   * with a web client. */
  async setScreen(track) {
    this.screen = track;
    for (const t of this.screenStream.getTracks())
      this.screenStream.removeTrack(t);
    if (track)
      this.screenStream.addTrack(track);
    const jobs = [];
    for (const peer of this.peers.values()) {
      const t = screenSlot(peer.pc);
      if (t && sending(t))
        jobs.push(t.sender.replaceTrack(track));
    }
    await Promise.all(jobs);
  }

  /* A newcomer arrived: we were first, so we offer. */
  welcome(participant) {
    const plan = offerPlan(true, this.media.sends, participant.sends);
    if (!plan.offer || this.peers.has(participant.id))
      return;
    const peer = this._create(participant, true);
    for (const kind of KINDS) {
      const direction = plan[kind];
      if (direction === "none")
        continue;
      const we = direction === "sendrecv" || direction === "sendonly";
      const init = { direction };
      if (we)
        init.streams = [this.media.stream];
      const t = peer.pc.addTransceiver(kind, init);
      if (we)
        t.sender.replaceTrack(this.media.track(kind));
    }
    if (plan.video !== "none" && takesScreen(participant)) {
      const we = plan.video === "sendrecv" || plan.video === "sendonly";
      const t = peer.pc.addTransceiver("video", we
        ? { direction: plan.video, streams: [this.media.stream] } : { direction: plan.video });
      if (we)
        t.sender.replaceTrack(this.screen);
    }
    peer.run(() => this._offer(peer, false));
  }

  offer(description, from, participant) {
    let peer = this.peers.get(from);
    /* someone we do not know as a participant: we take nothing from it */
    if (!peer)
      peer = this._create(participant || { id: from, nickname: from, kind: "browser", sends: [] }, false);
    peer.run(async () => {
      const pc = peer.pc;
      await pc.setRemoteDescription(description);
      const dirs = sdpDirections(description.sdp);
      const used = new Set();
      const screen = takesScreen(peer.participant) ? screenSlot(pc) : null;
      for (const t of pc.getTransceivers()) {
        if (t.stopped || !t.mid)
          continue;
        const kind = kindOf(t);
        if (t === screen && dirs.has(t.mid)) {
          const offered = dirs.get(t.mid);
          const theySend = (offered === "sendrecv" || offered === "sendonly")
            && announces(peer.participant, kind);
          const we = this.media.sends.includes(kind)
            && (offered === "sendrecv" || offered === "recvonly");
          if (we) {
            await t.sender.replaceTrack(this.screen);
            if (t.sender.setStreams)
              t.sender.setStreams(this.media.stream);
          }
          t.direction = we ? (theySend ? "sendrecv" : "sendonly")
            : (theySend ? "recvonly" : "inactive");
          continue;
        }
        if (!dirs.has(t.mid)) {
          /* a section we could not read: still never receive a kind
           * they do not announce */
          if (!announces(peer.participant, kind))
            t.direction = t.direction === "sendrecv" || t.direction === "sendonly"
              ? "sendonly" : "inactive";
          continue;
        }
        const offered = dirs.get(t.mid);
        const theySend = (offered === "sendrecv" || offered === "sendonly")
          && announces(peer.participant, kind);
        const theyReceive = offered === "sendrecv" || offered === "recvonly";
        const we = this.media.sends.includes(kind) && theyReceive && !used.has(kind);
        if (we) {
          used.add(kind);
          await t.sender.replaceTrack(this.media.track(kind));
          if (t.sender.setStreams)
            t.sender.setStreams(this.media.stream);
        }
        t.direction = we ? (theySend ? "sendrecv" : "sendonly")
          : (theySend ? "recvonly" : "inactive");
      }
      this._flush(peer);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.hooks.signal("answer", pc.localDescription.toJSON(), from);
      await this.fitVideo();
    });
  }

  answer(description, from) {
    const peer = this.peers.get(from);
    if (!peer)
      return;
    peer.run(async () => {
      if (peer.pc.signalingState !== "have-local-offer")
        return;
      await peer.pc.setRemoteDescription(description);
      this._flush(peer);
    });
  }

  ice(candidate, from) {
    const peer = this.peers.get(from);
    if (!peer) {
      if (!this.early.has(from))
        this.early.set(from, []);
      this.early.get(from).push(candidate);
      return;
    }
    peer.run(async () => {
      if (peer.pc.remoteDescription)
        await this._addCandidate(peer, candidate);
      else
        peer.pending.push(candidate);
    });
  }

  /* The participant left (bye), or we lost the server. */
  remove(id) {
    this.early.delete(id);
    const peer = this.peers.get(id);
    if (!peer)
      return;
    this.peers.delete(id);
    this.pcs.delete(id);
    clearTimeout(peer.watchdog);
    peer.pc.close();
    for (const t of [...peer.stream.getTracks(), ...peer.screenStream.getTracks()])
      t.stop();
    this.hooks.onState(id, "closed");
    this.fitVideo();
  }

  closeAll() {
    for (const id of [...this.peers.keys()])
      this.remove(id);
    this.early.clear();
  }

  /* A new local track (device switch, camera on/off): replace it on every
   * connection, for the kind's sending transceiver. */
  async replaceTrack(kind, track) {
    const jobs = [];
    for (const peer of this.peers.values()) {
      for (const t of peer.pc.getTransceivers()) {
        if (t.stopped || kindOf(t) !== kind)
          continue;
        if (t.direction === "sendrecv" || t.direction === "sendonly") {
          jobs.push(t.sender.replaceTrack(track));
          break;
        }
      }
    }
    await Promise.all(jobs);
    if (kind === "video")
      await this.fitVideo();
  }

  /* Sizes the camera's encoding on every connection that sends it to the
   * mesh's size (MESH_VIDEO); called whenever a connection comes or goes. */
  async fitVideo() {
    const senders = [];
    for (const peer of this.peers.values()) {
      const t = cameraSlot(peer.pc);
      if (t && sending(t))
        senders.push(t.sender);
    }
    const track = this.media.track("video");
    const height = (track && track.getSettings().height) || 720;
    const want = meshVideo(senders.length, height);
    await Promise.all(senders.map((s) => limitSender(s, want)));
  }

  _create(participant, offerer) {
    const peer = new Peer(participant, offerer);
    const pc = new RTCPeerConnection({
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
    });
    peer.pc = pc;
    this.peers.set(peer.id, peer);
    this.pcs.set(peer.id, pc);
    const early = this.early.get(peer.id);
    if (early) {
      peer.pending.push(...early);
      this.early.delete(peer.id);
    }
    pc.onicecandidate = (e) => {
      if (this.peers.get(peer.id) === peer)
        this.hooks.signal("ice", e.candidate ? e.candidate.toJSON() : null, peer.id);
    };
    pc.ontrack = (e) => {
      /* a kind it does not announce: our answer refuses it (inactive or
       * sendonly); this track never plays either way */
      if (!announces(peer.participant, e.track.kind))
        return;
      if (takesScreen(peer.participant) && e.transceiver === screenSlot(pc)) {
        if (!peer.screenStream.getTracks().includes(e.track))
          peer.screenStream.addTrack(e.track);
        if (this.hooks.onScreen)
          this.hooks.onScreen(peer.id, peer.screenStream);
        return;
      }
      if (!peer.stream.getTracks().includes(e.track))
        peer.stream.addTrack(e.track);
      this.hooks.onTrack(peer.id, peer.stream);
    };
    pc.onconnectionstatechange = () => {
      if (this.peers.get(peer.id) !== peer)
        return;
      const state = pc.connectionState;
      this.hooks.onState(peer.id, state);
      if (state === "connected") {
        peer.restarts = 0;
        clearTimeout(peer.watchdog);
      } else if (state === "failed") {
        this._scheduleRestart(peer, Math.min(1000 * 2 ** peer.restarts, 8000));
      } else if (state === "disconnected") {
        this._scheduleRestart(peer, STALL_MS);
      }
    };
    this.hooks.onState(peer.id, "connecting");
    if (offerer)
      this._scheduleRestart(peer, STALL_MS);
    return peer;
  }

  /* Only the offerer restarts ICE; the answerer waits for its offer.  Besides
   * "failed", a connection that stays short of "connected" (Chrome can keep
   * checking dead candidate pairs for ever) counts as failed after a while. */
  _scheduleRestart(peer, delay) {
    if (!peer.offerer)
      return;
    clearTimeout(peer.watchdog);
    peer.watchdog = setTimeout(() => {
      const pc = peer.pc;
      if (this.peers.get(peer.id) !== peer || pc.connectionState === "connected"
          || pc.connectionState === "closed")
        return;
      if (pc.signalingState !== "stable") {
        /* our last offer is still unanswered: a new one would cross that
         * answer on its way; wait for it */
        this._scheduleRestart(peer, delay);
        return;
      }
      peer.restarts++;
      peer.totalRestarts++;
      this.hooks.log("reconnecting the call with " + peer.participant.nickname);
      peer.run(() => this._offer(peer, true));
      this._scheduleRestart(peer, Math.min(STALL_MS * 2 ** peer.restarts, 60000));
    }, delay);
  }

  async _offer(peer, iceRestart) {
    const pc = peer.pc;
    if (pc.signalingState === "closed")
      return;
    if (pc.signalingState !== "stable")
      await pc.setLocalDescription({ type: "rollback" });
    const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : {});
    await pc.setLocalDescription(offer);
    this.hooks.signal("offer", pc.localDescription.toJSON(), peer.id);
    await this.fitVideo();
  }

  _flush(peer) {
    const queued = peer.pending;
    peer.pending = [];
    for (const c of queued)
      this._addCandidate(peer, c);
  }

  async _addCandidate(peer, candidate) {
    try {
      /* null is the end of candidates (seed clients send it as is) */
      await peer.pc.addIceCandidate(candidate || undefined);
    } catch (e) {
      console.warn("noom: bad candidate from", peer.id, e);
    }
  }
}
