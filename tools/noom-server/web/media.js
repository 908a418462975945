/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/*
 * The local camera and microphone.
 *
 * One MediaStream holds the current tracks.  Switching a device, or turning
 * the camera off and on, changes a track and calls onTrackChange(kind, track)
 * so that the mesh replaces it on every peer connection (the seed replaced
 * only the video sender, left the old tracks running and lost the mute state:
 * seed-noom.md §1.7 item 6).
 */

export class LocalMedia {
  constructor(onTrackChange) {
    this.onTrackChange = onTrackChange;
    this.stream = new MediaStream();
    this.muted = false;
    this.cameraOff = false;
    this.cameraId = null;
    this.microphoneId = null;
    /* what we told the server we send: fixed for the whole join */
    this.sends = [];
  }

  track(kind) {
    return this.stream.getTracks().find((t) => t.kind === kind) || null;
  }

  /* Opens camera and microphone; falls back to one of them, then to none
   * (receive-only).  Returns a message for the user when something is
   * missing, or null. */
  async start() {
    const prepared = this.prepared;
    this.stop();
    this.prepared = prepared;
    const md = navigator.mediaDevices;
    if (!md || !md.getUserMedia) {
      this.sends = [];
      return "This browser gives no access to camera or microphone (is the page served over https?). You joined receive-only.";
    }
    const attempts = [
      { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" } },
      { audio: true, video: false },
      { audio: false, video: { facingMode: "user" } },
    ];
    let lastError = null;
    for (const constraints of attempts) {
      try {
        const s = await md.getUserMedia(constraints);
        for (const t of s.getTracks())
          this.stream.addTrack(t);
        break;
      } catch (e) {
        lastError = e;
      }
    }
    const a = this.track("audio");
    const v = this.track("video");
    if (a)
      a.enabled = !this.muted;
    this.cameraId = v ? v.getSettings().deviceId || null : null;
    this.microphoneId = a ? a.getSettings().deviceId || null : null;
    this.cameraOff = false;
    this.sends = [];
    if (a)
      this.sends.push("audio");
    if (v)
      this.sends.push("video");
    if (!a && !v) {
      const why = lastError && lastError.name === "NotAllowedError"
        ? "Camera and microphone access was refused"
        : "No camera or microphone was found";
      return why + ": you joined receive-only. Others can see you in the list and chat with you.";
    }
    if (!v)
      return "No camera available: you joined with audio only.";
    if (!a)
      return "No microphone available: you joined with video only.";
    return null;
  }

  /* The home page's camera preview: opens camera and microphone ahead of
   * a join, once, so that joining does not wait for them (a Zoom-style
   * pre-join screen).  Resolves like start(). */
  prepare() {
    if (!this.prepared)
      this.prepared = this.start();
    return this.prepared;
  }

  /* For a join: the prepared media when they are still there, else a new
   * start().  Resolves like start(). */
  async acquire() {
    const prepared = this.prepared;
    this.prepared = null;
    if (prepared) {
      const message = await prepared;
      const live = this.stream.getTracks().some((t) => t.readyState === "live");
      /* camera turned off before joining (and no microphone): still ours */
      if (live || this.sends.length === 0 || this.cameraOff)
        return message;
    }
    return this.start();
  }

  stop() {
    this.prepared = null;
    for (const t of this.stream.getTracks()) {
      t.stop();
      this.stream.removeTrack(t);
    }
  }

  async devices(kind) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices)
      return [];
    const all = await navigator.mediaDevices.enumerateDevices();
    return all.filter((d) => d.kind === kind && d.deviceId);
  }

  setMuted(muted) {
    this.muted = muted;
    const a = this.track("audio");
    if (a)
      a.enabled = !muted;
  }

  /* Camera off stops the camera (its light goes off) and sends no frames;
   * camera on opens the selected camera again. */
  async setCameraOff(off) {
    if (!this.sends.includes("video") || off === this.cameraOff)
      return;
    if (off) {
      const v = this.track("video");
      this.cameraOff = true;
      if (v) {
        this.stream.removeTrack(v);
        v.stop();
      }
      await this.onTrackChange("video", null);
    } else {
      const t = await this._open("video", this.cameraId);
      this.cameraOff = false;
      this._swap("video", t);
      await this.onTrackChange("video", t);
    }
  }

  async selectCamera(deviceId) {
    this.cameraId = deviceId;
    if (this.cameraOff || !this.sends.includes("video"))
      return;
    const t = await this._open("video", deviceId);
    this._swap("video", t);
    await this.onTrackChange("video", t);
  }

  async selectMicrophone(deviceId) {
    this.microphoneId = deviceId;
    if (!this.sends.includes("audio"))
      return;
    const t = await this._open("audio", deviceId);
    t.enabled = !this.muted;
    this._swap("audio", t);
    await this.onTrackChange("audio", t);
  }

  async _open(kind, deviceId) {
    const c = deviceId ? { deviceId: { exact: deviceId } } : true;
    const s = await navigator.mediaDevices.getUserMedia(
      kind === "video" ? { video: c } : { audio: c });
    return s.getTracks()[0];
  }

  _swap(kind, track) {
    const old = this.track(kind);
    if (old) {
      this.stream.removeTrack(old);
      old.stop();
    }
    this.stream.addTrack(track);
  }
}
