/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/*
 * Noom's Socket.IO v4 browser client.
 *
 * A small client written for Noom: Engine.IO v4 over WebSocket only (no
 * long-polling), the main namespace "/", JSON packets only (no binary).
 * It offers the part of socket.io-client's API that Noom and the seed app
 * use: io([url][, opts]), socket.on/once/off/onAny, emit with an ack callback
 * as last argument, emitWithAck, timeout(ms), connect, disconnect, id,
 * connected, and the connect / disconnect / connect_error events.
 * Reconnection is automatic with exponential backoff from 1 s to 5 s with
 * jitter, like socket.io-client's defaults.
 *
 * This file is both a classic script (it defines window.io, as the official
 * bundle served at /socket.io/socket.io.js does) and a valid module body, so
 * noom-sio.js re-exports the same io() to ES modules.  It must therefore not
 * use import/export nor rely on a top-level `this`.
 */
(function (global) {
  "use strict";

  /* Engine.IO packet types */
  const EIO_OPEN = "0";
  const EIO_CLOSE = "1";
  const EIO_PING = "2";
  const EIO_PONG = "3";
  const EIO_MESSAGE = "4";

  /* Socket.IO packet types */
  const SIO_CONNECT = 0;
  const SIO_DISCONNECT = 1;
  const SIO_EVENT = 2;
  const SIO_ACK = 3;
  const SIO_CONNECT_ERROR = 4;

  const RESERVED = new Set(["connect", "connect_error", "disconnect",
    "disconnecting", "newListener", "removeListener"]);

  /* Parses one Socket.IO packet (the text after the Engine.IO "4").
   * Returns null when it is malformed. */
  function decodePacket(text) {
    const type = text.charCodeAt(0) - 48;
    if (!(type >= 0 && type <= 6))
      return null;
    let i = 1;
    if (type === 5 || type === 6)
      return { type, binary: true };
    let nsp = "/";
    if (text[i] === "/") {
      const comma = text.indexOf(",", i);
      nsp = comma < 0 ? text.slice(i) : text.slice(i, comma);
      i = comma < 0 ? text.length : comma + 1;
    }
    let id = null;
    const start = i;
    while (i < text.length && text[i] >= "0" && text[i] <= "9")
      i++;
    if (i > start)
      id = Number(text.slice(start, i));
    let data;
    if (i < text.length) {
      try {
        data = JSON.parse(text.slice(i));
      } catch (e) {
        return null;
      }
    }
    return { type, nsp, id, data };
  }

  function backoffDelay(attempt, opts) {
    const base = Math.min(opts.reconnectionDelay * Math.pow(2, attempt),
        opts.reconnectionDelayMax);
    const jitter = 1 + opts.randomizationFactor * (2 * Math.random() - 1);
    return Math.max(opts.reconnectionDelay * (1 - opts.randomizationFactor),
        Math.min(base * jitter, opts.reconnectionDelayMax));
  }

  class Emitter {
    constructor() {
      this._listeners = new Map();
      this._any = [];
    }

    on(event, fn) {
      if (!this._listeners.has(event))
        this._listeners.set(event, []);
      this._listeners.get(event).push(fn);
      return this;
    }

    once(event, fn) {
      const wrapper = (...args) => {
        this.off(event, wrapper);
        fn.apply(this, args);
      };
      wrapper.fn = fn;
      return this.on(event, wrapper);
    }

    off(event, fn) {
      if (event === undefined) {
        this._listeners.clear();
        return this;
      }
      if (fn === undefined) {
        this._listeners.delete(event);
        return this;
      }
      const list = this._listeners.get(event);
      if (list) {
        const i = list.findIndex((l) => l === fn || l.fn === fn);
        if (i >= 0)
          list.splice(i, 1);
      }
      return this;
    }

    onAny(fn) {
      this._any.push(fn);
      return this;
    }

    offAny(fn) {
      this._any = fn ? this._any.filter((l) => l !== fn) : [];
      return this;
    }

    listeners(event) {
      return (this._listeners.get(event) || []).slice();
    }

    /* Calls the local listeners (a listener throwing must not break the
     * connection: report it and go on). */
    _fire(event, ...args) {
      for (const fn of this.listeners(event)) {
        try {
          fn.apply(this, args);
        } catch (e) {
          setTimeout(() => { throw e; });
        }
      }
    }
  }

  class Socket extends Emitter {
    constructor(uri, opts) {
      super();
      this.uri = uri;
      this.opts = opts;
      this.id = undefined;
      this.connected = false;
      this.disconnected = true;
      this.auth = opts.auth;
      this._ws = null;
      this._ackId = 0;
      this._acks = new Map();
      this._sendBuffer = [];
      this._attempt = 0;
      this._reconnectTimer = null;
      this._pingTimer = null;
      this._openTimer = null;
      this._wanted = false;
      /* the Manager-like object of socket.io-client (socket.io.on(...)) */
      this.io = new Emitter();
      this.io.engine = null;
      if (opts.autoConnect !== false)
        this.connect();
    }

    /* false once the socket will not reconnect by itself (refused by the
     * server, or disconnect() called), as in socket.io-client */
    get active() {
      return this._wanted;
    }

    connect() {
      if (this._wanted && (this._ws || this._reconnectTimer))
        return this;
      this._wanted = true;
      this._open();
      return this;
    }

    open() {
      return this.connect();
    }

    disconnect() {
      this._wanted = false;
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
      if (this._ws && this.connected)
        this._sendRaw(EIO_MESSAGE + SIO_DISCONNECT);
      this._teardown("io client disconnect");
      return this;
    }

    close() {
      return this.disconnect();
    }

    /* emit(event, ...args[, ack]) */
    emit(event, ...args) {
      if (RESERVED.has(event))
        throw new Error('"' + event + '" is a reserved event name');
      let ack = null;
      if (args.length && typeof args[args.length - 1] === "function")
        ack = args.pop();
      this._emitPacket(event, args, ack, null);
      return this;
    }

    emitWithAck(event, ...args) {
      return this._withAck(event, args, null);
    }

    /* socket.timeout(ms).emit(ev, ..., (err, ...res) => {}) and
     * socket.timeout(ms).emitWithAck(ev, ...) as in socket.io-client */
    timeout(ms) {
      return {
        emit: (event, ...args) => {
          const cb = args.length && typeof args[args.length - 1] === "function"
            ? args.pop() : null;
          this._emitPacket(event, args, cb ? (...res) => cb(null, ...res) : null,
              { ms, fail: (err) => cb && cb(err) });
          return this;
        },
        emitWithAck: (event, ...args) => this._withAck(event, args, ms),
      };
    }

    _withAck(event, args, ms) {
      return new Promise((resolve, reject) => {
        this._emitPacket(event, args, (...res) => resolve(res[0]),
            { ms, fail: reject });
      });
    }

    _emitPacket(event, args, ack, timeout) {
      let head = EIO_MESSAGE + SIO_EVENT;
      if (ack) {
        const id = this._ackId++;
        head += id;
        const entry = { fn: ack, fail: timeout ? timeout.fail : null, timer: null };
        if (timeout && timeout.ms != null) {
          entry.timer = setTimeout(() => {
            this._acks.delete(id);
            this._sendBuffer = this._sendBuffer.filter((p) => p.id !== id);
            entry.fail(new Error("operation has timed out"));
          }, timeout.ms);
        }
        this._acks.set(id, entry);
        this._queue({ id, text: head + JSON.stringify([event, ...args]) });
      } else {
        this._queue({ id: null, text: head + JSON.stringify([event, ...args]) });
      }
    }

    /* Like socket.io-client, emits made while disconnected are buffered and
     * sent once the Socket.IO CONNECT is answered. */
    _queue(packet) {
      if (this.connected)
        this._sendRaw(packet.text);
      else
        this._sendBuffer.push(packet);
    }

    _sendRaw(text) {
      if (this._ws && this._ws.readyState === 1)
        this._ws.send(text);
    }

    _url() {
      const loc = global.location;
      let base = this.uri;
      if (!base)
        base = loc.protocol + "//" + loc.host;
      const u = new URL(base, loc ? loc.href : undefined);
      u.protocol = (u.protocol === "https:" || u.protocol === "wss:") ? "wss:" : "ws:";
      let path = this.opts.path || "/socket.io/";
      if (!path.endsWith("/"))
        path += "/";
      u.pathname = path;
      const q = new URLSearchParams(this.opts.query || {});
      q.set("EIO", "4");
      q.set("transport", "websocket");
      u.search = q.toString();
      u.hash = "";
      return u.toString();
    }

    _open() {
      let ws;
      try {
        ws = new WebSocket(this._url());
      } catch (e) {
        this._fire("connect_error", e);
        this._scheduleReconnect();
        return;
      }
      this._ws = ws;
      this.io.engine = ws;
      this._openTimer = setTimeout(() => {
        if (this._ws === ws && !this.connected)
          this._transportLost(ws, "timeout");
      }, this.opts.timeout);
      ws.onmessage = (ev) => {
        if (this._ws === ws)
          this._onFrame(ws, ev.data);
      };
      ws.onclose = () => {
        if (this._ws === ws)
          this._transportLost(ws, "transport close");
      };
      ws.onerror = () => {
        if (this._ws === ws)
          this._transportLost(ws, "transport error");
      };
    }

    _onFrame(ws, data) {
      if (typeof data !== "string")
        return;   /* binary is not used by Noom */
      const type = data[0];
      if (type === EIO_OPEN) {
        let hs;
        try {
          hs = JSON.parse(data.slice(1));
        } catch (e) {
          this._transportLost(ws, "parse error");
          return;
        }
        this._pingInterval = hs.pingInterval || 25000;
        this._pingTimeout = hs.pingTimeout || 20000;
        this._armPing(ws);
        let auth = this.auth;
        const sendConnect = (a) => {
          this._sendRaw(EIO_MESSAGE + SIO_CONNECT + (a ? JSON.stringify(a) : ""));
        };
        if (typeof auth === "function")
          auth((a) => sendConnect(a));
        else
          sendConnect(auth);
      } else if (type === EIO_PING) {
        this._sendRaw(EIO_PONG);
        this._armPing(ws);
      } else if (type === EIO_CLOSE) {
        this._transportLost(ws, "transport close");
      } else if (type === EIO_MESSAGE) {
        const p = decodePacket(data.slice(1));
        if (!p || p.binary) {
          this._transportLost(ws, "parse error");
          return;
        }
        if (p.nsp !== "/")
          return;
        this._onPacket(p);
      }
    }

    /* The server pings every pingInterval; without one for
     * pingInterval + pingTimeout the connection is dead. */
    _armPing(ws) {
      clearTimeout(this._pingTimer);
      this._pingTimer = setTimeout(() => {
        if (this._ws === ws)
          this._transportLost(ws, "ping timeout");
      }, this._pingInterval + this._pingTimeout);
    }

    _onPacket(p) {
      switch (p.type) {
        case SIO_CONNECT:
          if (!p.data || typeof p.data.sid !== "string") {
            this._fire("connect_error", new Error("invalid CONNECT answer"));
            this._transportLost(this._ws, "parse error");
            return;
          }
          clearTimeout(this._openTimer);
          this.id = p.data.sid;
          this.connected = true;
          this.disconnected = false;
          this._attempt = 0;
          {
            const buffered = this._sendBuffer;
            this._sendBuffer = [];
            for (const packet of buffered)
              this._sendRaw(packet.text);
          }
          this._fire("connect");
          break;
        case SIO_CONNECT_ERROR: {
          const d = p.data || {};
          const err = new Error(typeof d === "string" ? d : d.message);
          err.data = d.data;
          /* refused by the server: like socket.io-client, no automatic retry */
          this._wanted = false;
          this._teardown(null);
          this._fire("connect_error", err);
          break;
        }
        case SIO_DISCONNECT:
          this._wanted = false;
          this._teardown("io server disconnect");
          break;
        case SIO_EVENT:
          if (!Array.isArray(p.data) || p.data.length === 0)
            return;
          {
            const args = p.data.slice();
            if (p.id !== null) {
              let sent = false;
              args.push((...res) => {
                if (sent)
                  return;
                sent = true;
                this._sendRaw(EIO_MESSAGE + SIO_ACK + p.id + JSON.stringify(res));
              });
            }
            for (const fn of this._any.slice()) {
              try {
                fn(...args);
              } catch (e) {
                setTimeout(() => { throw e; });
              }
            }
            const name = args.shift();
            this._fire(name, ...args);
          }
          break;
        case SIO_ACK: {
          const entry = this._acks.get(p.id);
          if (!entry)
            return;
          this._acks.delete(p.id);
          clearTimeout(entry.timer);
          entry.fn(...(Array.isArray(p.data) ? p.data : []));
          break;
        }
      }
    }

    _transportLost(ws, reason) {
      if (ws !== this._ws)
        return;
      const wasConnected = this.connected;
      this._teardown(wasConnected ? reason : null);
      if (!wasConnected)
        this._fire("connect_error", new Error(reason === "timeout" ? "timeout" : "websocket error"));
      this._scheduleReconnect();
    }

    /* Closes the WebSocket; fires "disconnect" with reason when we were
     * connected.  Acks that can fail (emitWithAck, timeout) fail now: their
     * answer will never come on a new connection. */
    _teardown(reason) {
      const ws = this._ws;
      this._ws = null;
      this.io.engine = null;
      clearTimeout(this._pingTimer);
      clearTimeout(this._openTimer);
      if (ws) {
        ws.onmessage = ws.onclose = ws.onerror = null;
        try {
          ws.close();
        } catch (e) {
          /* already closed */
        }
      }
      const wasConnected = this.connected;
      this.connected = false;
      this.disconnected = true;
      for (const [id, entry] of this._acks) {
        if (entry.fail) {
          clearTimeout(entry.timer);
          this._acks.delete(id);
          entry.fail(new Error("socket has been disconnected"));
          this._sendBuffer = this._sendBuffer.filter((p) => p.id !== id);
        }
      }
      if (wasConnected && reason)
        this._fire("disconnect", reason);
    }

    _scheduleReconnect() {
      if (!this._wanted || this.opts.reconnection === false || this._reconnectTimer)
        return;
      if (this._attempt >= this.opts.reconnectionAttempts) {
        this.io._fire("reconnect_failed");
        return;
      }
      const delay = backoffDelay(this._attempt, this.opts);
      this._attempt++;
      this._reconnectTimer = setTimeout(() => {
        this._reconnectTimer = null;
        if (!this._wanted)
          return;
        this.io._fire("reconnect_attempt", this._attempt);
        this._open();
      }, delay);
    }
  }

  /* io([url][, opts]): a new connection each call (Noom has one per page). */
  function io(uri, opts) {
    if (typeof uri === "object" && uri !== null) {
      opts = uri;
      uri = undefined;
    }
    const o = Object.assign({
      path: "/socket.io/",
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      timeout: 20000,
      autoConnect: true,
    }, opts || {});
    return new Socket(uri, o);
  }

  io.Socket = Socket;
  io.protocol = 5;
  io.connect = io;
  global.io = io;
})(globalThis);
