/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/*
 * Noom web client: the home page (nickname, room, open-room list) and the
 * room (video grid, people, chat, toolbar), speaking docs/protocol.md.
 *
 * User data (nicknames, room names, chat) only ever goes into the page as
 * text (textContent), never as HTML.
 */

import { io } from "./noom-sio.js";
import { LocalMedia } from "./media.js";
import { Mesh } from "./mesh.js";
import { Sfu } from "./sfu.js";
import { Speakers, callLevels } from "./speaker.js";

const $ = (id) => document.getElementById(id);

const KIND_LABELS = {
  browser: "browser",
  publisher: "stream",
  subscriber: "viewer",
  recorder: "recorder",
};

const state = {
  room: null,            /* the room we want to be in (kept across reconnects) */
  joined: false,         /* the server answered our join */
  selfId: null,
  self: null,
  nickname: "",
  participants: new Map(), /* id -> participant, the others, join order */
  stale: new Map(),        /* id -> participant of before a lost connection:
                            * tiles shown as reconnecting until we rejoin */
  peerStates: new Map(),   /* id -> connectionState */
  notice: null,
  mediaReady: false,     /* local media settled: we know our `sends` */
  page: 0,               /* the page of tiles on screen (PAGE_SIZE each) */
  rooms: [],
};

const media = new LocalMedia((kind, track) => onLocalTrack(kind, track));
const callHooks = {
  signal: (event, payload, to) => {
    if (state.joined && socket.connected)
      socket.emit(event, payload, state.room, to);
  },
  onTrack: (id, stream) => attachStream(id, stream),
  onScreen: (id, stream) => {
    screens.set(id, stream);
    showScreen(id);
  },
  onState: (id, s) => setPeerState(id, s),
  log: (text) => addNotice(text),
};
/* participant id -> the stream of its shared screen (§7, §11) */
const screens = new Map();
/* our own shared screen: a video track, or null */
let sharing = null;

/* A room's calls: peer to peer (mesh), or all through the server's media
 * relay (sfu, docs/protocol.md §11), as the join ack says. */
const mesh = new Mesh(media, callHooks);
const sfu = new Sfu(media, callHooks);
let calls = mesh;

/* An access token (docs/protocol.md "Access tokens") comes with the link:
 * /r/ROOM?token=… or /r/ROOM#token=….  It is taken out of the address bar
 * (so "Copy link" and the history do not pass it on) and kept for this tab
 * only, so that a reload still works. */
function takeToken() {
  const url = new URL(location.href);
  const hash = new URLSearchParams(url.hash.replace(/^#/, ""));
  const token = url.searchParams.get("token") || hash.get("token");
  if (token) {
    url.searchParams.delete("token");
    hash.delete("token");
    url.hash = hash.toString();
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    try {
      sessionStorage.setItem("noom-token", token);
    } catch (e) { /* storage disabled: this page load only */ }
    return token;
  }
  try {
    return sessionStorage.getItem("noom-token");
  } catch (e) {
    return null;
  }
}
const token = takeToken();

/* ?relay=1 (or #relay) sends all media through the TURN servers of the join
 * ack: for testing TURN, or to hide this machine's addresses from the
 * other participants. */
function wantsRelayOnly() {
  const url = new URL(location.href);
  const v = url.searchParams.get("relay");
  if (v !== null)
    return v !== "0" && v !== "false";
  return new URLSearchParams(url.hash.replace(/^#/, "")).has("relay");
}
mesh.iceTransportPolicy = sfu.iceTransportPolicy =
  wantsRelayOnly() ? "relay" : "all";

const socket = io({
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  auth: token ? { token } : {},
});

/* ---------- test hook (read-only) ---------- */

window.noom = Object.freeze({
  state: () => ({
    connected: socket.connected,
    id: socket.id || null,
    room: state.room,
    joined: state.joined,
    selfId: state.selfId,
    nickname: state.nickname,
    sends: media.sends.slice(),
    muted: media.muted,
    sharing: !!sharing,
    screens: [...document.querySelectorAll("#grid .screen-tile")].map((t) => t.dataset.screen),
    cameraOff: media.cameraOff,
    notice: state.notice,
    participants: [...state.participants.values()].map((p) => ({ ...p })),
    tiles: [...document.querySelectorAll("#grid .tile[data-id]")]
      .map((t) => t.dataset.id).filter((id) => id !== "self"),
    peerStates: Object.fromEntries(state.peerStates),
    restarts: Object.fromEntries([...calls.peers].map(([id, p]) => [id, p.totalRestarts])),
    media: calls === sfu ? "sfu" : "mesh",
    page: state.page,
    pages: pageCount(),
    rooms: state.rooms.map((r) => ({ ...r })),
    recording: !$("recording-badge").hidden,
    banner: $("banner").hidden ? null : $("banner").textContent,
    preview: !$("preview").hidden,
    stale: [...state.stale.keys()],
    speaking: [...document.querySelectorAll("#grid .tile.speaking")].map((t) => t.dataset.id),
    featured: ($("grid").querySelector(".tile.featured") || { dataset: {} }).dataset.id || null,
  }),
  get peers() {
    return calls.pcs;
  },
  /* SFU rooms: mid -> participant id of each track the relay sends us */
  owners: () => Object.fromEntries([...sfu.tracks]
    .filter(([, t]) => !t.upload).map(([mid, t]) => [mid, t.id])),
  /* SFU rooms: the last offer's `tracks` */
  tracks: () => [...sfu.tracks.values()].map((t) => ({ ...t })),
  media,
});

/* ---------- server connection ---------- */

let everConnected = false;

socket.on("connect", () => {
  everConnected = true;
  hideBanner();
  if (state.room && state.mediaReady)
    sendJoin();
});

socket.on("disconnect", () => {
  /* our id is gone: every connection and participant with it */
  state.joined = false;
  calls.closeAll();
  markStale();
  showBanner("Connection to the server lost. Reconnecting…");
});

socket.on("connect_error", (err) => {
  if (socket.active && everConnected)
    showBanner("Connection to the server lost (" + err.message + "). Reconnecting…");
  else if (socket.active)
    showBanner("Cannot reach the Noom server (" + err.message + "). Retrying…");
  else if (err.data && err.data.code === "forbidden")
    showBanner("Access denied: " + err.message +
      ". Ask for a new link to this room.");
  else
    showBanner("The Noom server refused the connection: " + err.message);
});

socket.on("room_change", (names, rooms) => {
  if (!Array.isArray(rooms))
    rooms = (names || []).map((name) => ({ name, count: null }));
  state.rooms = rooms;
  /* a server with private rooms sends no list: the card stays hidden */
  $("rooms-card").hidden = false;
  renderRoomList();
});

socket.on("welcome", (nickname, count, participant) => {
  if (!state.joined || !participant || participant.id === state.selfId)
    return;
  addParticipant(participant);
  addNotice(participant.nickname + " joined");
  announce(participant.nickname + " joined");
  updateCount();
  calls.welcome(participant);
});

socket.on("bye", (nickname, count, participant) => {
  if (!state.joined || !participant)
    return;
  if (state.participants.has(participant.id)) {
    addNotice(participant.nickname + " left");
    announce(participant.nickname + " left");
  }
  calls.remove(participant.id);
  removeParticipant(participant.id);
  updateCount();
});

socket.on("participant_update", (participant) => {
  const old = state.participants.get(participant.id);
  if (!old)
    return;
  if (old.nickname !== participant.nickname)
    addNotice(old.nickname + " is now " + participant.nickname);
  state.participants.set(participant.id, participant);
  renderPeople();
  const tile = tileFor(participant.id);
  if (tile)
    labelTile(tile, participant);
});

socket.on("participant_media", (m) => {
  const p = m && state.participants.get(m.id);
  if (!p)
    return;
  p.media_state = { audio: m.audio === true, video: m.video === true, screen: m.screen === true };
  showMediaState(tileFor(p.id), p.media_state);
  showScreen(p.id);
});

socket.on("new_message", (text, meta) => {
  if (meta && typeof meta === "object")
    addMessage(meta.nickname, meta.text, false, meta.ts);
  else
    addMessage(null, String(text), false);
});

socket.on("offer", (description, from) => {
  if (state.joined && from)
    calls.offer(description, from, state.participants.get(from));
});

socket.on("answer", (description, from) => {
  if (state.joined && from)
    calls.answer(description, from);
});

socket.on("ice", (candidate, from) => {
  if (state.joined && from)
    calls.ice(candidate, from);
});

/* The server's media relay stopped and restarts (§11): its connection is
 * gone; the new relay offers a fresh one. */
socket.on("media_relay", (info) => {
  if (!state.joined || calls !== sfu || !info)
    return;
  if (info.state === "restarting") {
    sfu.closeAll();
    addNotice("The server's media relay restarts: video comes back in a moment");
  } else if (info.state === "ready") {
    addNotice("The server's media relay is back");
  }
});

socket.on("noom_error", (err) => {
  addNotice("Server: " + (err && err.message ? err.message : "error"));
});

async function sendJoin() {
  const room = state.room;
  let res;
  try {
    res = await socket.timeout(15000).emitWithAck("enter_room", room, {
      nickname: state.nickname,
      kind: "browser",
      sends: media.sends,
      media: ["sfu", "mesh"],
      /* we take part in the screen m-line (protocol §3, §7, §11) */
      features: ["screen"],
    });
  } catch (e) {
    /* disconnected meanwhile: the next "connect" joins again */
    if (socket.connected && state.room === room)
      sendJoin();
    return;
  }
  if (state.room !== room) {
    /* left while the join was on its way: leave on the server too (joining
     * another room leaves this one by itself) */
    if (res && res.ok && !state.room && socket.connected)
      socket.emit("leave_room");
    return;
  }
  if (!res || res.error) {
    const message = res && res.error ? res.error.message : "the server refused to join";
    leaveRoom(false);
    showJoinError(message);
    return;
  }
  state.joined = true;
  state.selfId = res.id;
  state.self = res.self;
  calls = res.media === "sfu" ? sfu : mesh;
  calls.iceServers = Array.isArray(res.iceServers) ? res.iceServers : [];
  clearStale();
  for (const p of res.participants || [])
    addParticipant(p);
  renderPeople();
  updateCount();
  addNotice("You joined " + room);
  /* a join starts from `sends`: say if we are muted or without camera */
  sendMediaState();
  renderControls();
  speakers.start();
  /* we are the newcomer: the others offer to us (protocol §7) */
}

/* ---------- home ---------- */

function renderRoomList() {
  const list = $("room-list");
  list.replaceChildren();
  for (const r of state.rooms) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "room-entry";
    b.dataset.room = r.name;
    const name = document.createElement("span");
    name.className = "room-entry-name";
    name.textContent = r.name;
    b.append(name);
    if (r.count !== null && r.count !== undefined) {
      const count = document.createElement("span");
      count.className = "room-entry-count";
      count.textContent = r.count + (r.count === 1 ? " person" : " people");
      b.append(count);
    }
    b.addEventListener("click", () => {
      $("room-name").value = r.name;
      if ($("nickname").value.trim())
        $("join-form").requestSubmit();
      else
        $("nickname").focus();
    });
    li.append(b);
    list.append(li);
  }
  $("room-list-empty").hidden = state.rooms.length > 0;
}

function showJoinError(message) {
  const e = $("join-error");
  e.textContent = message;
  e.hidden = false;
}

$("join-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const nickname = $("nickname").value.trim();
  const room = $("room-name").value.trim();
  if (!nickname || !room)
    return;
  $("join-error").hidden = true;
  try {
    localStorage.setItem("noom.nickname", nickname);
  } catch (e) {
    /* private mode: no storage, no problem */
  }
  enterRoom(room, nickname);
});

async function enterRoom(room, nickname) {
  state.room = room;
  state.nickname = nickname;
  state.joined = false;
  state.mediaReady = false;
  const path = "/r/" + encodeURIComponent(room);
  if (location.pathname !== path)
    history.pushState({ room }, "", path);
  document.title = room + " · Noom";
  $("home").hidden = true;
  $("room").hidden = false;
  $("room-title").textContent = room;
  $("messages").replaceChildren();
  $("grid").replaceChildren();
  /* small screens: the video first, chat and people behind the Chat button */
  $("room").classList.toggle("side-hidden", window.innerWidth <= 700);
  addTile("self", { id: "self", nickname: nickname + " (you)", kind: "browser" });
  updateCount();
  hidePreview();
  const message = await media.acquire();
  if (state.room !== room)
    return;
  state.mediaReady = true;
  setNotice(message);
  attachLocal();
  renderControls();
  fillDevices();
  if (socket.connected)
    sendJoin();
}

function leaveRoom(tellServer) {
  if (tellServer && state.joined)
    socket.emit("leave_room");
  state.room = null;
  state.joined = false;
  state.mediaReady = false;
  state.selfId = null;
  stopSharing();
  calls.closeAll();
  calls = mesh;
  media.stop();
  hidePreview();
  for (const id of [...state.participants.keys()])
    removeParticipant(id);
  clearStale();
  speakers.stop();
  closeSettings();
  $("grid").replaceChildren();
  $("room").hidden = true;
  $("home").hidden = false;
  document.title = "Noom";
  setNotice(null);
  if (location.pathname !== "/")
    history.pushState({}, "", "/");
}

$("leave").addEventListener("click", () => leaveRoom(true));

/* ---------- home: camera preview ---------- */

/* Camera and microphone open when the user turns to the join form (the
 * page focuses it on load), and the preview shows what the room will see;
 * joining then starts with them ready. */
async function startPreview() {
  if (state.room || previewing)
    return;
  previewing = true;
  await media.prepare();
  if (state.room || !previewing)
    return;
  const v = $("preview");
  if (media.track("video")) {
    v.srcObject = media.stream;
    v.hidden = false;
  }
  renderPrejoin();
  fillSelect($("pre-cameras"), "videoinput", media.cameraId);
  fillSelect($("pre-microphones"), "audioinput", media.microphoneId);
}

function hidePreview() {
  previewing = false;
  const v = $("preview");
  v.hidden = true;
  v.srcObject = null;
  $("preview-off").hidden = true;
}

/* The pre-join toggles and pickers act on the same LocalMedia the room
 * then uses: muted, camera off or another device carry into the room. */
function renderPrejoin() {
  const hasAudio = media.sends.includes("audio");
  const hasVideo = media.sends.includes("video");
  const mic = $("pre-mute");
  mic.disabled = !hasAudio;
  mic.setAttribute("aria-pressed", String(media.muted));
  mic.classList.toggle("off", media.muted);
  mic.querySelector(".tool-label").textContent = media.muted ? "Mic off" : "Mic on";
  const cam = $("pre-camera");
  cam.disabled = !hasVideo;
  cam.setAttribute("aria-pressed", String(media.cameraOff));
  cam.classList.toggle("off", media.cameraOff);
  cam.querySelector(".tool-label").textContent = media.cameraOff ? "Camera off" : "Camera on";
  if (previewing) {
    $("preview").hidden = !media.track("video");
    $("preview-off").hidden = !(hasVideo && media.cameraOff);
  }
}

$("pre-mute").addEventListener("click", async () => {
  await startPreview();
  await media.prepare();
  media.setMuted(!media.muted);
  renderPrejoin();
});

$("pre-camera").addEventListener("click", async () => {
  await startPreview();
  await media.prepare();
  try {
    await media.setCameraOff(!media.cameraOff);
  } catch (e) {
    showJoinError("Camera: " + e.message);
  }
  const v = $("preview");
  if (media.track("video") && v.srcObject !== media.stream)
    v.srcObject = media.stream;
  renderPrejoin();
});

$("pre-cameras").addEventListener("change", async (ev) => {
  try {
    await media.selectCamera(ev.target.value);
  } catch (e) {
    showJoinError("Camera: " + e.message);
  }
});

$("pre-microphones").addEventListener("change", async (ev) => {
  try {
    await media.selectMicrophone(ev.target.value);
  } catch (e) {
    showJoinError("Microphone: " + e.message);
  }
});

let previewing = false;
$("join-form").addEventListener("focusin", () => startPreview());

window.addEventListener("popstate", () => {
  const room = roomFromPath();
  if (!room && state.room)
    leaveRoom(true);
  else if (room && room !== state.room)
    $("room-name").value = room;
});

function roomFromPath() {
  const m = /^\/r\/(.+)$/.exec(location.pathname);
  if (!m)
    return null;
  try {
    return decodeURIComponent(m[1]);
  } catch (e) {
    return null;
  }
}

/* ---------- room: participants and tiles ---------- */

function addParticipant(p) {
  state.participants.set(p.id, p);
  if ((p.sends || []).length > 0 && !tileFor(p.id))
    addTile(p.id, p);
  renderPeople();
  updateRecording();
}

function removeParticipant(id) {
  screens.delete(id);
  showScreen(id);
  state.participants.delete(id);
  state.peerStates.delete(id);
  const tile = tileFor(id);
  if (tile) {
    const v = tile.querySelector("video");
    v.srcObject = null;
    tile.remove();
    layoutGrid();
  }
  renderPeople();
  updateRecording();
}

function tileFor(id) {
  return [...$("grid").children].find((t) => t.dataset.id === id) || null;
}

function addTile(id, p) {
  const tile = $("tile-template").content.firstElementChild.cloneNode(true);
  tile.dataset.id = id;
  const video = tile.querySelector("video");
  if (id === "self") {
    tile.classList.add("self");
    video.muted = true;
  }
  labelTile(tile, p);
  if (id !== "self")
    showMediaState(tile, p.media_state);
  $("grid").append(tile);
  layoutGrid();
  return tile;
}

function labelTile(tile, p) {
  tile.querySelector(".tile-name").textContent = p.nickname;
  tile.querySelector(".tile-kind").textContent = KIND_LABELS[p.kind] || p.kind || "";
  tile.querySelector(".avatar").textContent = initials(p.nickname);
}

/* What we send right now (protocol §5 media_state). */
function ownMediaState() {
  return {
    audio: media.sends.includes("audio") && !media.muted,
    video: media.sends.includes("video") && !media.cameraOff && !!media.track("video"),
    screen: !!sharing,
  };
}

/* ---------- screen share (protocol §7 "A shared screen") ---------- */

function screenTileFor(id) {
  return [...$("grid").children].find((t) => t.dataset.screen === id) || null;
}

/* Shows @id's screen large, first in the grid, while it says it shares
 * ("self": ours). */
function showScreen(id) {
  const p = state.participants.get(id);
  const stream = id === "self" ? calls.screenStream : screens.get(id);
  const on = id === "self" ? !!sharing
    : !!(p && p.media_state && p.media_state.screen && stream);
  let tile = screenTileFor(id);
  if (!on) {
    if (tile) {
      tile.querySelector("video").srcObject = null;
      tile.remove();
      $("grid").classList.toggle("with-screen", !!$("grid").querySelector(".screen-tile"));
      layoutGrid();
    }
    return;
  }
  if (!tile) {
    tile = $("tile-template").content.firstElementChild.cloneNode(true);
    tile.dataset.screen = id;
    tile.classList.add("screen-tile", "has-video");
    tile.querySelector(".tile-name").textContent =
      (id === "self" ? "Your screen" : p.nickname + "'s screen");
    tile.querySelector(".avatar").textContent = "";
    const video = tile.querySelector("video");
    video.muted = true;
    $("grid").prepend(tile);
    layoutGrid();
  }
  const video = tile.querySelector("video");
  if (video.srcObject !== stream)
    video.srcObject = stream;
  play(video);
  $("grid").classList.add("with-screen");
}

async function stopSharing() {
  if (!sharing)
    return;
  const track = sharing;
  sharing = null;
  track.stop();
  await calls.setScreen(null);
  showScreen("self");
  renderControls();
  sendMediaState();
}

$("share").addEventListener("click", async () => {
  if (sharing) {
    await stopSharing();
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (e) {
    addNotice("Share: " + e.message);
    return;
  }
  const track = stream.getVideoTracks()[0];
  if (!track || !state.joined) {
    for (const t of stream.getTracks())
      t.stop();
    return;
  }
  track.contentHint = "detail";
  track.addEventListener("ended", () => stopSharing());
  sharing = track;
  await calls.setScreen(track);
  showScreen("self");
  renderControls();
  sendMediaState();
});

function sendMediaState() {
  if (state.joined && socket.connected)
    socket.emit("media_state", ownMediaState());
}

/* Another participant's microphone and camera (protocol §3 media_state):
 * the mic-off badge, and the avatar with the name while its camera is off.
 * A participant object without it (an older server) shows nothing. */
function showMediaState(tile, ms) {
  if (!tile || !ms)
    return;
  tile.querySelector(".tile-muted").hidden = ms.audio !== false;
  tile.classList.toggle("camera-off", ms.video === false);
}

function initials(name) {
  const s = String(name || "?").replace(/ \(you\)$/, "").trim();
  return Array.from(s)[0] ? Array.from(s)[0].toUpperCase() : "?";
}

/* At most this many tiles on screen: a bigger room (an SFU room can hold
 * hundreds) gets pages, yourself first on page 1. */
const PAGE_SIZE = 16;

function pageCount() {
  return Math.max(1, Math.ceil($("grid").children.length / PAGE_SIZE));
}

function layoutGrid() {
  const grid = $("grid");
  const tiles = [...grid.children];
  const pages = pageCount();
  state.page = Math.min(state.page, pages - 1);
  const first = state.page * PAGE_SIZE;
  tiles.forEach((t, i) => {
    t.hidden = i < first || i >= first + PAGE_SIZE;
  });
  const n = Math.max(1, Math.min(PAGE_SIZE, tiles.length - first));
  const wide = window.innerWidth > 700;
  const cols = wide ? Math.ceil(Math.sqrt(n)) : (n > 2 ? 2 : 1);
  grid.style.setProperty("--cols", cols);
  grid.style.setProperty("--rows", Math.ceil(n / cols));
  layoutSpeakerFirst(grid, tiles.filter((t) => !t.hidden));
  grid.classList.toggle("paged", pages > 1);
  $("grid-pager").hidden = pages <= 1;
  $("page-label").textContent = "Page " + (state.page + 1) + " of " + pages;
  $("page-prev").disabled = state.page === 0;
  $("page-next").disabled = state.page >= pages - 1;
}
window.addEventListener("resize", layoutGrid);

/* Speaker first (the settings sheet): the active speaker's tile large on
 * top, the others in a strip under it.  Without an active speaker yet,
 * the last one stays; at first, the first other participant. */
function layoutSpeakerFirst(grid, shown) {
  const on = $("speaker-first").checked && shown.length > 1;
  grid.classList.toggle("speaker-first", on);
  let featured = on ? shown.find((t) => t.dataset.id === (speakers.active || "")) ||
    shown.find((t) => t.classList.contains("featured")) ||
    shown.find((t) => t.dataset.id !== "self") : null;
  for (const t of shown)
    t.classList.toggle("featured", t === featured);
  grid.style.setProperty("--strip", Math.max(1, Math.min(6, shown.length - 1)));
}

/* The ring around whoever speaks (speaker.js). */
const speakers = new Speakers(
  () => callLevels(calls, calls === sfu ? new Map([...sfu.tracks]
    .filter(([, t]) => !t.upload).map(([mid, t]) => [mid, t.id])) : null, media.muted),
  (speaking) => {
    for (const t of $("grid").children)
      t.classList.toggle("speaking", speaking.has(t.dataset.id));
    if ($("speaker-first").checked)
      layoutGrid();
  });

function turnPage(delta) {
  state.page = Math.max(0, Math.min(pageCount() - 1, state.page + delta));
  layoutGrid();
}
$("page-prev").addEventListener("click", () => turnPage(-1));
$("page-next").addEventListener("click", () => turnPage(1));

function attachStream(id, stream) {
  const tile = tileFor(id);
  if (!tile)
    return;
  const video = tile.querySelector("video");
  if (video.srcObject !== stream) {
    video.srcObject = stream;
    watchFrames(tile, video);
  }
  play(video);
}

/* A remote camera that stops (camera off, a stalled connection) leaves the
 * last frame frozen: show the avatar instead while no frame comes. */
function watchFrames(tile, video) {
  if (!video.requestVideoFrameCallback) {
    tile.classList.add("has-video");
    return;
  }
  let last = 0;
  const onFrame = () => {
    last = performance.now();
    tile.classList.add("has-video");
    if (tile.isConnected)
      video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  const timer = setInterval(() => {
    if (!tile.isConnected) {
      clearInterval(timer);
      return;
    }
    if (performance.now() - last > 1500)
      tile.classList.remove("has-video");
  }, 500);
}

function attachLocal() {
  const tile = tileFor("self");
  if (!tile)
    return;
  const video = tile.querySelector("video");
  video.srcObject = media.stream;
  tile.classList.toggle("has-video", !!media.track("video"));
  tile.querySelector(".tile-muted").hidden = !media.muted;
  play(video);
}

/* Autoplay with sound can be refused without a user gesture (a deep link
 * opened cold): ask for one click, then play everything. */
let waitingForGesture = false;

function play(video) {
  const p = video.play();
  if (!p || !p.catch)
    return;
  p.catch(() => {
    if (!video.srcObject || waitingForGesture)
      return;
    waitingForGesture = true;
    showBanner("Click anywhere to start the sound.", true);
    document.addEventListener("click", () => {
      waitingForGesture = false;
      if (socket.connected)
        hideBanner();
      for (const v of document.querySelectorAll("#grid video"))
        v.play().catch(() => {});
    }, { once: true });
  });
}

function setPeerState(id, s) {
  if (s === "closed") {
    state.peerStates.delete(id);
    return;
  }
  state.peerStates.set(id, s);
  const tile = tileFor(id);
  if (!tile)
    return;
  const label = s === "new" ? "connecting" : s === "disconnected" ? "reconnecting" : s;
  const el = tile.querySelector(".tile-state");
  el.textContent = label;
  el.dataset.state = label;
}

/* The server went away: its participants are gone with it, but until we
 * are back in the room their tiles stay, marked as reconnecting. */
function markStale() {
  for (const [id, p] of state.participants) {
    state.stale.set(id, p);
    const tile = tileFor(id);
    if (tile) {
      tile.classList.add("stale");
      const el = tile.querySelector(".tile-state");
      el.textContent = "reconnecting";
      el.dataset.state = "reconnecting";
    }
  }
  state.participants.clear();
  state.peerStates.clear();
  speakers.stop();
  renderPeople();
}

function clearStale() {
  for (const id of state.stale.keys()) {
    const tile = tileFor(id);
    if (tile) {
      tile.querySelector("video").srcObject = null;
      tile.remove();
    }
  }
  state.stale.clear();
  layoutGrid();
}

/* Joins and leaves for screen readers (the chat's notices scroll by). */
function announce(text) {
  const region = $("announcer");
  const p = document.createElement("p");
  p.textContent = text;
  region.append(p);
  while (region.children.length > 5)
    region.firstElementChild.remove();
}

function renderPeople() {
  const list = $("people");
  list.replaceChildren();
  const rows = [];
  if (state.room)
    rows.push({ id: state.selfId, nickname: state.nickname + " (you)", kind: "browser", sends: media.sends });
  rows.push(...state.participants.values());
  for (const p of rows) {
    const li = document.createElement("li");
    li.className = "person";
    const avatar = document.createElement("span");
    avatar.className = "person-avatar";
    avatar.textContent = initials(p.nickname);
    const name = document.createElement("span");
    name.className = "person-name";
    name.textContent = p.nickname;
    const kind = document.createElement("span");
    kind.className = "person-kind kind-" + (KIND_LABELS[p.kind] ? p.kind : "other");
    kind.textContent = KIND_LABELS[p.kind] || p.kind;
    li.append(avatar, name, kind);
    if ((p.sends || []).length === 0 && (p.kind === "browser" || !KIND_LABELS[p.kind])) {
      const s = document.createElement("span");
      s.className = "person-sends";
      s.textContent = "receive-only";
      li.append(s);
    }
    if (p === rows[0] && state.room) {
      li.classList.add("me");
      const rename = document.createElement("button");
      rename.type = "button";
      rename.className = "person-rename";
      rename.id = "rename";
      rename.title = "Change your name";
      rename.textContent = "Rename";
      rename.addEventListener("click", () => editNickname(li, name));
      li.append(rename);
    }
    list.append(li);
  }
  $("people-count").textContent = "(" + rows.length + ")";
}

/* Renaming inside the room: the others get participant_update. */
function editNickname(li, nameEl) {
  const form = document.createElement("form");
  form.className = "rename-form";
  const input = document.createElement("input");
  input.id = "rename-input";
  input.maxLength = 32;
  input.value = state.nickname;
  input.setAttribute("aria-label", "Your name");
  form.append(input);
  nameEl.replaceWith(form);
  li.querySelector(".person-rename").hidden = true;
  input.focus();
  input.select();
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      renderPeople();
    }
  };
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape")
      finish();
  });
  input.addEventListener("blur", () => setTimeout(finish, 150));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const nickname = input.value.trim();
    if (!nickname || nickname === state.nickname || !socket.connected) {
      finish();
      return;
    }
    let res;
    try {
      res = await socket.timeout(10000).emitWithAck("nickname", nickname);
    } catch (e) {
      res = { error: { message: e.message } };
    }
    if (res && res.ok) {
      state.nickname = res.nickname || nickname;
      try {
        localStorage.setItem("noom.nickname", state.nickname);
      } catch (e) {
        /* no storage */
      }
      const self = tileFor("self");
      if (self)
        labelTile(self, { nickname: state.nickname + " (you)", kind: "browser" });
      addNotice("You are now " + state.nickname);
    } else {
      addNotice("Rename refused: " + (res && res.error ? res.error.message : "no answer"));
    }
    done = false;
    finish();
  });
}

function updateCount() {
  const n = state.participants.size + 1;
  $("participant-count").textContent = n + (n === 1 ? " participant" : " participants");
}

function updateRecording() {
  const recording = [...state.participants.values()].some((p) => p.kind === "recorder");
  $("recording-badge").hidden = !recording;
}

/* ---------- chat ---------- */

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function addMessage(nickname, text, mine, ts) {
  const li = document.createElement("li");
  li.className = "message" + (mine ? " mine" : "");
  if (nickname !== null && nickname !== undefined) {
    const head = document.createElement("span");
    head.className = "message-head";
    const who = document.createElement("span");
    who.className = "message-from";
    who.textContent = mine ? "You" : nickname;
    const when = document.createElement("time");
    when.className = "message-time";
    const date = new Date(typeof ts === "number" ? ts : Date.now());
    when.dateTime = date.toISOString();
    when.textContent = clock.format(date);
    head.append(who, when);
    li.append(head);
  }
  const body = document.createElement("span");
  body.className = "message-text";
  body.textContent = text;
  li.append(body);
  appendChat(li);
}

function addNotice(text) {
  const li = document.createElement("li");
  li.className = "notice";
  li.textContent = text;
  appendChat(li);
}

function appendChat(li) {
  const list = $("messages");
  if ($("room").classList.contains("side-hidden"))
    $("toggle-side").classList.add("unread");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
  list.append(li);
  if (atBottom)
    list.scrollTop = list.scrollHeight;
}

$("chat-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = $("chat-input");
  const text = input.value;
  if (!text.trim() || !state.joined)
    return;
  input.value = "";
  addMessage(state.nickname, text, true);
  socket.emit("new_message", text, state.room, (res) => {
    if (res && res.error)
      addNotice("Not sent: " + res.error.message);
  });
});

/* ---------- toolbar ---------- */

function renderControls() {
  const mute = $("mute");
  const hasAudio = media.sends.includes("audio");
  const hasVideo = media.sends.includes("video");
  mute.disabled = !hasAudio;
  mute.setAttribute("aria-pressed", String(media.muted));
  mute.classList.toggle("off", media.muted || !hasAudio);
  mute.querySelector(".tool-label").textContent = media.muted ? "Unmute" : "Mute";
  mute.title = (media.muted ? "Unmute" : "Mute") + " (Alt+A)";
  const cam = $("camera");
  cam.disabled = !hasVideo;
  cam.setAttribute("aria-pressed", String(media.cameraOff));
  cam.classList.toggle("off", media.cameraOff || !hasVideo);
  cam.querySelector(".tool-label").textContent = media.cameraOff ? "Start video" : "Stop video";
  cam.title = (media.cameraOff ? "Start video" : "Stop video") + " (Alt+V)";
  $("cameras").disabled = !hasVideo;
  $("microphones").disabled = !hasAudio;
  const self = tileFor("self");
  if (self)
    self.querySelector(".tile-muted").hidden = !media.muted;
  const share = $("share");
  /* peer to peer (protocol §7) or through the relay (§11) */
  share.hidden = false;
  share.disabled = !hasVideo || !state.joined;
  share.setAttribute("aria-pressed", String(!!sharing));
  share.querySelector(".tool-label").textContent = sharing ? "Stop sharing" : "Share";
}

async function fillDevices() {
  await fillSelect($("cameras"), "videoinput", media.cameraId);
  await fillSelect($("microphones"), "audioinput", media.microphoneId);
}

async function fillSelect(select, kind, current) {
  const devices = await media.devices(kind);
  select.replaceChildren();
  devices.forEach((d, i) => {
    const o = document.createElement("option");
    o.value = d.deviceId;
    o.textContent = d.label || (kind === "videoinput" ? "Camera " : "Microphone ") + (i + 1);
    o.selected = d.deviceId === current;
    select.append(o);
  });
  select.hidden = devices.length === 0;
}

async function onLocalTrack(kind, track) {
  await calls.replaceTrack(kind, track);
  attachLocal();
}

$("mute").addEventListener("click", () => {
  media.setMuted(!media.muted);
  renderControls();
  sendMediaState();
});

$("camera").addEventListener("click", async () => {
  const cam = $("camera");
  cam.disabled = true;
  try {
    await media.setCameraOff(!media.cameraOff);
  } catch (e) {
    addNotice("Camera: " + e.message);
  }
  renderControls();
  sendMediaState();
});

$("cameras").addEventListener("change", async (ev) => {
  try {
    await media.selectCamera(ev.target.value);
  } catch (e) {
    addNotice("Camera: " + e.message);
  }
  renderControls();
});

$("microphones").addEventListener("change", async (ev) => {
  try {
    await media.selectMicrophone(ev.target.value);
  } catch (e) {
    addNotice("Microphone: " + e.message);
  }
  renderControls();
});

/* Alt+A mutes, Alt+V stops the camera (aria-keyshortcuts on the buttons;
 * docs/web-client.md).  Alt, so that typing in the chat never triggers
 * them; ev.code, so that they work whatever Alt+letter types (macOS). */
document.addEventListener("keydown", (ev) => {
  if (!state.room || !ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey)
    return;
  const button = ev.code === "KeyA" ? $("mute") : ev.code === "KeyV" ? $("camera") : null;
  if (!button)
    return;
  ev.preventDefault();
  if (!button.disabled)
    button.click();
});

/* The settings sheet: the speaker-first layout and, on a phone, the
 * device pickers (the toolbar has no room for them there). */
const narrow = window.matchMedia("(max-width: 700px)");

function placeDevices() {
  const sheet = $("sheet-devices");
  for (const [id, group] of [["microphones", $("mute").parentElement],
    ["cameras", $("camera").parentElement]]) {
    const select = $(id);
    if (narrow.matches && select.parentElement !== sheet)
      sheet.append(select);
    else if (!narrow.matches && select.parentElement !== group)
      group.append(select);
  }
}
narrow.addEventListener("change", placeDevices);
placeDevices();

function openSettings() {
  $("settings").hidden = false;
  $("settings-button").setAttribute("aria-expanded", "true");
  $("settings-close").focus();
}

function closeSettings() {
  if ($("settings").hidden)
    return;
  $("settings").hidden = true;
  $("settings-button").setAttribute("aria-expanded", "false");
}

$("settings-button").addEventListener("click", () => {
  if ($("settings").hidden)
    openSettings();
  else
    closeSettings();
});
$("settings-close").addEventListener("click", () => {
  closeSettings();
  $("settings-button").focus();
});
$("settings").addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") {
    closeSettings();
    $("settings-button").focus();
  }
});
$("speaker-first").addEventListener("change", () => layoutGrid());

$("toggle-side").addEventListener("click", () => {
  $("room").classList.toggle("side-hidden");
  $("toggle-side").classList.remove("unread");
  layoutGrid();
});

$("copy-link").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(location.href);
    addNotice("Room link copied");
  } catch (e) {
    addNotice("Room link: " + location.href);
  }
});

/* ---------- banners ---------- */

function showBanner(text, info) {
  const b = $("banner");
  b.textContent = text;
  b.classList.toggle("info", !!info);
  b.hidden = false;
}

function hideBanner() {
  $("banner").hidden = true;
}

function setNotice(text) {
  state.notice = text;
  const n = $("room-notice");
  n.textContent = text || "";
  n.hidden = !text;
}

/* ---------- start ---------- */

(function init() {
  let nick = "";
  try {
    nick = localStorage.getItem("noom.nickname") || "";
  } catch (e) {
    /* no storage */
  }
  $("nickname").value = nick;
  const room = roomFromPath();
  if (room) {
    $("room-name").value = room;
    $("join-button").textContent = "Join " + room;
  }
  ($("nickname").value ? $("room-name").value ? $("join-button") : $("room-name") : $("nickname")).focus();
  renderRoomList();
})();
