// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The elements' chat with the web client: a page reads what a pipeline
// wrote with noomsrc's send-chat, and the pipeline gets what the page's
// user typed (chat-message).  The pipeline is a small python3-gi program
// (the elements' signals cannot be reached from gst-launch): each line on
// its stdin goes out with send-chat, each chat-message comes out on its
// stdout.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Server, launchBrowser, openPage, join, selfId, until } from './harness.mjs';

const PIPELINE = `
import sys, threading
import gi
gi.require_version('Gst', '1.0')
from gi.repository import GLib, Gst
Gst.init(None)
pipeline = Gst.Pipeline.new()
src = Gst.ElementFactory.make('noomsrc')
src.set_property('uri', sys.argv[1])
src.set_property('decode', False)
pipeline.add(src)
def said(src, pid, nickname, text):
    print('CHAT %s %s: %s' % (pid, nickname, text), flush=True)
src.connect('chat-message', said)
def on_message(bus, m):
    if m.type == Gst.MessageType.ERROR:
        print('ERROR', m.parse_error()[0].message, flush=True)
        loop.quit()
    elif m.type == Gst.MessageType.ELEMENT and m.get_structure().get_name() == 'noom-joined':
        print('JOINED', flush=True)
def read_stdin():
    for line in sys.stdin:
        print('SENT %s' % src.emit('send-chat', line.rstrip('\\n')), flush=True)
    GLib.idle_add(loop.quit)
loop = GLib.MainLoop()
bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect('message', on_message)
pipeline.set_state(Gst.State.PLAYING)
threading.Thread(target=read_stdin, daemon=True).start()
loop.run()
pipeline.set_state(Gst.State.NULL)
`;

let server, browser;

before(async () => {
  server = await new Server().start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  if (server)
    await server.stop();
});

function startPipeline(uri) {
  const p = spawn('/usr/bin/python3', ['-c', PIPELINE, uri], { stdio: ['pipe', 'pipe', 'pipe'] });
  p.out = '';
  p.stdout.on('data', (d) => { p.out += d.toString(); });
  p.stderr.on('data', (d) => { p.out += d.toString(); });
  p.exited = new Promise((resolve) => p.on('exit', (code) => resolve(code)));
  return p;
}

test('a page reads what a pipeline wrote, and the pipeline what the page typed', async (t) => {
  const room = 'gst-chat';
  const page = await openPage(browser, server.url + '/', { noDevices: true });
  t.after(() => page.context().close());
  await join(page, room, 'Alice');
  const aliceId = await selfId(page);

  const uri = `noom://127.0.0.1:${server.port}/${room}?nickname=gstbot`;
  const p = startPipeline(uri);
  t.after(() => p.kill('SIGKILL'));
  await until(() => p.out, (o) => /JOINED/.test(o), `the pipeline in the room:\n${p.out}`, 20000);

  p.stdin.write('hello from a pipeline ✓ <b>bold?</b>\n');
  await until(() => p.out, (o) => /SENT True/.test(o), 'send-chat to return True', 5000);
  const lines = await until(() => page.evaluate(() => [...document.querySelectorAll('#messages .message')]
    .map((e) => [e.querySelector('.message-from')?.textContent, e.querySelector('.message-text')?.textContent])),
  (l) => l.some(([, text]) => text === 'hello from a pipeline ✓ <b>bold?</b>'),
  'the pipeline\'s line on the page', 10000);
  assert.ok(lines.some(([from, text]) => from === 'gstbot' && text.startsWith('hello from a pipeline')),
    JSON.stringify(lines));

  await page.fill('#chat-input', 'hi pipeline, it is Alice');
  await page.click('#chat-form button');
  await until(() => p.out, (o) => o.includes(`CHAT ${aliceId} Alice: hi pipeline, it is Alice`),
    `the page's line in the pipeline:\n${p.out}`, 10000);

  p.stdin.end();
  assert.equal(await p.exited, 0, p.out);
  assert.doesNotMatch(p.out, /ERROR|Traceback/, p.out);
  assert.deepEqual(page.errors, []);
});
