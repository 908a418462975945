// Noom
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The seed app's chapter-2 Socket.IO server (rooms, nicknames, chat, the
// open-room list), handler for handler, as the baseline that noom-bench
// loads side by side with noom-server.  Usage: node seed-server.mjs [PORT]
import http from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] || 3000);
const httpServer = http.createServer();
const wsServer = new Server(httpServer);

function publicRooms() {
  const { sids, rooms } = wsServer.sockets.adapter;
  const names = [];
  rooms.forEach((_, key) => {
    if (sids.get(key) === undefined) names.push(key);
  });
  return names;
}

function countRoom(name) {
  return wsServer.sockets.adapter.rooms.get(name)?.size;
}

wsServer.on("connection", (socket) => {
  socket.nickname = "Anon";
  socket.on("enter_room", (roomName, done) => {
    socket.join(roomName);
    done();
    socket.to(roomName).emit("welcome", socket.nickname, countRoom(roomName));
    wsServer.sockets.emit("room_change", publicRooms());
  });
  socket.on("disconnecting", () => {
    socket.rooms.forEach((room) =>
      socket.to(room).emit("bye", socket.nickname, countRoom(room) - 1));
  });
  socket.on("disconnect", () => {
    wsServer.sockets.emit("room_change", publicRooms());
  });
  socket.on("new_message", (msg, room, done) => {
    socket.to(room).emit("new_message", `${socket.nickname}: ${msg}`);
    done();
  });
  socket.on("nickname", (nickname) => (socket.nickname = nickname));
});

httpServer.listen(port, "127.0.0.1", () =>
  console.log(`seed-server: listening on http://127.0.0.1:${httpServer.address().port}`));
