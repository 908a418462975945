#!/usr/bin/python3
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A bot in a Noom room's chat, through GObject introspection (python3-gi):
# it joins with noomsrc, says hello, and answers "!time" with the time and
# "!echo TEXT" with TEXT.  Ctrl-C (or SIGTERM) leaves the room.
#   GST_PLUGIN_PATH=build/gst examples/chat-bot.py noom://localhost:8080/demo
#
# noomsrc's chat-message signal (id, nickname, text) comes on the element's
# session thread; the send-chat action signal can be emitted from any
# thread, and returns False when the bot is not in the room.  The same
# message is on the bus as the element message "noom-chat-message".
import datetime
import signal
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GLib', '2.0')
from gi.repository import GLib, Gst  # noqa: E402


def answer(text):
    if text.strip() == '!time':
        now = datetime.datetime.now(datetime.timezone.utc)
        return now.strftime('It is %H:%M:%S UTC')
    if text.startswith('!echo '):
        return text[len('!echo '):]
    return None


def on_chat_message(src, pid, nickname, text):
    print(f'{nickname} ({pid}): {text}', flush=True)
    reply = answer(text)
    if reply:
        src.emit('send-chat', reply)


def on_pad_added(src, pad, pipeline):
    # The bot does not watch: each track goes into a fakesink, as received.
    sink = Gst.ElementFactory.make('fakesink')
    sink.set_property('sync', False)
    pipeline.add(sink)
    sink.sync_state_with_parent()
    pad.link(sink.get_static_pad('sink'))


def on_message(bus, message, loop, src):
    if message.type == Gst.MessageType.ERROR:
        err, _ = message.parse_error()
        print(f'chat-bot: {err.message}', file=sys.stderr)
        loop.quit()
    elif message.type == Gst.MessageType.WARNING:
        err, _ = message.parse_warning()
        print(f'chat-bot: warning: {err.message}', file=sys.stderr)
    elif message.type == Gst.MessageType.ELEMENT:
        s = message.get_structure()
        if s.get_name() == 'noom-joined':
            print(f'chat-bot: in room {s.get_string("room")} as '
                  f'{s.get_string("id")}', flush=True)
            src.emit('send-chat', 'chat-bot here: try !time or !echo TEXT')


def main():
    Gst.init(None)
    if len(sys.argv) != 2:
        print('usage: chat-bot.py noom://HOST[:PORT]/ROOM', file=sys.stderr)
        return 2
    pipeline = Gst.Pipeline.new('chat-bot')
    src = Gst.ElementFactory.make('noomsrc')
    if not src:
        print('chat-bot: no noomsrc (is GST_PLUGIN_PATH set?)',
              file=sys.stderr)
        return 1
    src.set_property('uri', sys.argv[1])
    if 'nickname=' not in sys.argv[1]:
        src.set_property('nickname', 'chat-bot')
    src.set_property('decode', False)
    pipeline.add(src)
    src.connect('chat-message', on_chat_message)
    src.connect('pad-added', on_pad_added, pipeline)

    loop = GLib.MainLoop()
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect('message', on_message, loop, src)
    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)

    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    return 0


if __name__ == '__main__':
    sys.exit(main())
