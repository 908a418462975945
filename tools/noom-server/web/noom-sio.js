/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/*
 * ES module face of Noom's Socket.IO client: socket.io.js is written so that
 * it also runs as a module body, and it defines globalThis.io either way.
 */
import "/socket.io/socket.io.js";

export const io = globalThis.io;
export default io;
