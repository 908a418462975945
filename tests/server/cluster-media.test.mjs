// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-server --redis (issue 17) with real clients: three nodes sharing a
// redis-server the test starts on loopback (lib/cluster.mjs), and clients
// connected to different nodes:
// - the seed's pages (tests/browser/fixtures/seed-*.html): the chat page
//   (the room list, nicknames, chat, arrivals and departures) on three
//   nodes, and the call page on n1 and n3 (offer, answer, ice without `to`,
//   media both ways);
// - two web client pages, on n1 and n2, in one call;
// - noomsink on n1 and noomsrc on n3 in a mesh room: decoded frames;
// - an SFU room across two more nodes with --sfu (n4, n5): noomsink on n4,
//   noomsrc and a web client page on n5, all through n4's relay.
// Chromium (playwright-core, as in tests/browser) and gst-launch-1.0 with
// the plugin (as in tests/jobs) are what the clients run in; a test whose
// needs are missing is skipped, saying which.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { haveRedis } from './lib/redis.mjs';
import { startCluster, startNode } from './lib/cluster.mjs';
import { test, http } from './lib/server.mjs';
import { sample } from './lib/metrics.mjs';
import { haveBrowser, publisher, Proc, until } from '../jobs/lib.mjs';

const noRedis = haveRedis ? false : 'redis-server is not installed';
const browserOk = !noRedis && await haveBrowser();
const skipBrowser = noRedis ||
  (browserOk ? false :
    `Chromium (${process.env.CHROMIUM || '/usr/bin/chromium'}) or playwright-core is missing`);
const gstOk = !noRedis && Boolean(process.env.GST_PLUGIN_PATH) &&
  spawnSync('gst-inspect-1.0', ['noomsrc'], { stdio: 'ignore' }).status === 0;
const skipGst = noRedis ||
  (gstOk ? false : 'gst-launch-1.0 or the noom plugin ($GST_PLUGIN_PATH) is missing');

// The browser suite's helpers, when there is a browser to drive.
const h = browserOk ? await import('../browser/harness.mjs') : null;
const seed = browserOk ? await import('../browser/seed-pages.mjs') : null;

let cluster, browser;

before(async () => {
  if (noRedis)
    return;
  cluster = await startCluster(3);
  if (browserOk)
    browser = await h.launchBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  if (cluster)
    await cluster.stop();
});

const url = (i) => cluster.nodes[i].url;

// What a seed chat page shows: the room list, the room's header and its
// messages.
const listed = (p) => p.$$eval('#welcome ul li', (l) => l.map((e) => e.innerText));
const header = (p) => p.innerText('#room h3');
const messages = (p) => p.$$eval('#room ul li', (l) => l.map((e) => e.innerText));

function shows(p, text, what) {
  return until(() => messages(p), (m) => m.includes(text), `"${text}" on ${what}`, 15000);
}

async function seedEnter(p, room) {
  await p.fill('#welcome input', room);
  await p.click('#welcome button');
  await p.waitForSelector('#room', { state: 'visible' });
}

async function seedSay(p, form, text) {
  await p.fill(`#${form} input`, text);
  await p.click(`#${form} button`);
}

test('cluster: the seed\'s chat pages on three nodes: room list, nicknames, chat', { skip: skipBrowser }, async () => {
  const room = 'seed-chat';
  const [a, b, c] = await Promise.all([0, 1, 2].map((i) => seed.openSeed(browser, url(i), 'chat')));
  // A page that stays at the welcome form, on n1, only watches the list
  // (docs/protocol.md: room_change goes to the clients in no room).
  const lobby = await seed.openSeed(browser, url(0), 'chat');
  try {
    await seedEnter(a, room);
    for (const [p, where] of [[lobby, 'n1'], [b, 'n2'], [c, 'n3']])
      await until(() => listed(p), (l) => l.includes(room), `${room} listed on ${where}`, 15000);

    // b, on n2, enters: a is told, with the count; b names itself in the
    // room (the seed's form: no ack) and chats.
    await seedEnter(b, room);
    await shows(a, 'Anon arrived!', 'n1');
    assert.equal(await header(a), `Room ${room} (2)`);
    await seedSay(b, 'name', 'kim');
    await seedSay(b, 'msg', 'hello from n2');
    await shows(b, 'You: hello from n2', 'n2');
    await shows(a, 'kim: hello from n2', 'n1');

    // c, on n3: both others are told; chat from n1 reaches n2 and n3.
    await seedEnter(c, room);
    await shows(b, 'Anon arrived!', 'n2');
    await until(() => header(a), (t) => t === `Room ${room} (3)`, 'count 3 on n1', 15000);
    await seedSay(c, 'name', 'zoe');
    await seedSay(c, 'msg', 'zoe here');
    await shows(a, 'zoe: zoe here', 'n1');
    await shows(b, 'zoe: zoe here', 'n2');
    await seedSay(a, 'msg', 'hi from n1');
    await shows(b, 'Anon: hi from n1', 'n2');
    await shows(c, 'Anon: hi from n1', 'n3');

    // Departures, by the names given on the other nodes, with the count.
    await c.context().close();
    await shows(a, 'zoe left ㅠㅠ', 'n1');
    await shows(b, 'zoe left ㅠㅠ', 'n2');
    assert.equal(await header(b), `Room ${room} (2)`);
    await b.context().close();
    await shows(a, 'kim left ㅠㅠ', 'n1');
    assert.equal(await header(a), `Room ${room} (1)`);
    // Nobody sent a message twice, nor got their own back.
    assert.deepEqual((await messages(a)).filter((m) => /hello from n2|zoe here/.test(m)),
      ['kim: hello from n2', 'zoe: zoe here']);
    assert.equal((await messages(a)).filter((m) => m.includes('hi from n1')).length, 1);
    assert.equal((await messages(a)).filter((m) => m.startsWith('Anon: ')).length, 0);

    await a.context().close();
    await until(() => listed(lobby), (l) => !l.includes(room), `${room} gone from the list`, 15000);
  } finally {
    for (const p of [a, b, c, lobby])
      await p.context().close().catch(() => {});
  }
});

test('cluster: the seed\'s call pages on n1 and n3: offer, answer, ice, media both ways', { skip: skipBrowser }, async () => {
  const room = 'seed-call';
  const first = await seed.openSeed(browser, url(0), 'call');
  const second = await seed.openSeed(browser, url(2), 'call');
  try {
    await seed.seedJoin(first, room);
    await seed.seedJoin(second, room);
    await seed.seedReceives(first);
    await seed.seedReceives(second);
    // The one already there offered (the seed's rule), once.
    const counts = (p) => p.evaluate(() => [window.seed.offered, window.seed.answered]);
    assert.deepEqual(await counts(first), [1, 0]);
    assert.deepEqual(await counts(second), [0, 1]);
  } finally {
    await first.context().close();
    await second.context().close();
  }
});

test('cluster: web client pages on n1 and n2 in one call', { skip: skipBrowser }, async () => {
  const room = 'web-call';
  // Node @i's relay counters (@way: sent or received) since @since.
  const relays = async (i, way, since = { offer: 0, answer: 0, ice: 0 }) => {
    const text = (await http(cluster.nodes[i], '/metrics')).body;
    const n = (e) => sample(text, `noom_redis_relays_${way}_total{event="${e}"}`) - since[e];
    return { offer: n('offer'), answer: n('answer'), ice: n('ice') };
  };
  const before = await Promise.all([
    relays(0, 'sent'), relays(1, 'received'), relays(1, 'sent'), relays(0, 'received')]);
  const ana = await h.openPage(browser, `${url(0)}/`);
  const ben = await h.openPage(browser, `${url(1)}/`);
  try {
    await h.join(ana, room, 'Ana');
    await h.join(ben, room, 'Ben');
    const idAna = await h.selfId(ana);
    const idBen = await h.selfId(ben);
    const knows = (page, id, nickname) => h.waitState(page,
      (s, [i, n]) => s.participants.some((p) => p.id === i && p.nickname === n),
      [id, nickname], `${nickname} in the room`);
    await knows(ana, idBen, 'Ben');
    await knows(ben, idAna, 'Ana');
    await h.receivesFrom(ana, [idBen]);
    await h.receivesFrom(ben, [idAna]);
    // The call's signalling crossed through Redis, and /metrics says so:
    // one offer and one answer between n1 and n2, candidates both ways.
    const [sent1, got2, sent2, got1] = await Promise.all([
      relays(0, 'sent', before[0]), relays(1, 'received', before[1]),
      relays(1, 'sent', before[2]), relays(0, 'received', before[3])]);
    const all = JSON.stringify({ sent1, got2, sent2, got1 });
    assert.equal(sent1.offer + sent2.offer, 1, all);
    assert.equal(sent1.answer + sent2.answer, 1, all);
    assert.ok(sent1.ice > 0 && sent2.ice > 0, all);
    assert.deepEqual([got2.offer, got2.answer], [sent1.offer, sent1.answer], all);
    assert.deepEqual([got1.offer, got1.answer], [sent2.offer, sent2.answer], all);
    // Ben leaves: Ana's page drops his tile and closes the call.
    await ben.context().close();
    await h.waitState(ana, (s, id) => !s.participants.some((p) => p.id === id) && !s.tiles.includes(id),
      idBen, 'Ben gone', 20000);
    assert.deepEqual(ana.errors, []);
    assert.deepEqual(ben.errors, []);
  } finally {
    await ana.context().close();
    await ben.context().close().catch(() => {});
  }
});

// A gst-launch-1.0 log without its per-buffer lines.
const gstLog = (p) => (p ? p.out.split('\n').filter((l) => !/stats =|last-message = chain/.test(l))
  .join('\n').slice(-3000) : '');

// noomsrc as "rx" in @room through the node on @port, its first two pads
// to fakesinks that print what they get.
function gstReceiver(port, room) {
  return new Proc('gst-launch-1.0', ['-e', '-v',
    'noomsrc', 'name=s', `uri=noom://127.0.0.1:${port}/${room}?nickname=rx`,
    's.', '!', 'queue', '!', 'fakesink', 'name=out0', 'silent=false', 'sync=false',
    's.', '!', 'queue', '!', 'fakesink', 'name=out1', 'silent=false', 'sync=false',
  ]);
}

// Until @src decoded both of noomsink "gst"'s tracks, with its nickname.
function decodedFromGst(src, what) {
  const n = (re) => (src.out.match(new RegExp(re.source, 'g')) || []).length;
  return until(async () => ({
    video: n(/GstNoomSrcPad:video_0: caps = video\/x-raw/),
    audio: n(/GstNoomSrcPad:audio_0: caps = audio\/x-raw/),
    chains: n(/last-message = chain/),
    title: n(/title\\=\\\(string\\\)gst/),
  }), (s) => s.video > 0 && s.audio > 0 && s.chains > 100 && s.title > 0, what, 40000);
}

test('cluster: noomsink on n1, noomsrc on n3: decoded frames in a mesh room', { skip: skipGst }, async () => {
  const room = 'gst-mesh';
  const [n1, , n3] = cluster.nodes;
  const sink = publisher(`noom://127.0.0.1:${n1.port}/${room}?nickname=gst`);
  let src;
  const fail = (e) => {
    throw new Error(`${e.message}\n--- noomsink:\n${gstLog(sink)}\n--- noomsrc:\n${gstLog(src)}`);
  };
  try {
    await n1.waitLog(new RegExp(`join room="${room}" .*nickname="gst"`), 1, 20000).catch(fail);
    src = gstReceiver(n3.port, room);
    await n3.waitLog(new RegExp(`join room="${room}" .*nickname="rx"`), 1, 20000).catch(fail);
    await decodedFromGst(src, 'decoded audio and video from noomsink on n1').catch(fail);
    src.kill('SIGINT');
    assert.equal((await src.wait()).code, 0, src.out.slice(-2000));
  } finally {
    for (const p of [src, sink]) {
      if (p) {
        p.kill('SIGINT');
        await p.wait().catch(() => p.kill('SIGKILL'));
      }
    }
  }
});

test('cluster: an SFU room across nodes: noomsink on n4, noomsrc and a web page on n5, all through n4\'s relay', { skip: skipGst || (process.env.NOOM_RELAY ? false : 'NOOM_RELAY is not set') }, async () => {
  const room = 'gst-sfu';
  const sfu = ['--sfu', '--relay', process.env.NOOM_RELAY];
  const n4 = await startNode(cluster.redisUrl, 'n4', sfu);
  const n5 = await startNode(cluster.redisUrl, 'n5', sfu);
  const sink = publisher(`noom://127.0.0.1:${n4.port}/${room}?nickname=gst`);
  let src, page;
  const fail = (e) => {
    throw new Error(`${e.message}\n--- noomsink:\n${gstLog(sink)}\n--- noomsrc:\n${gstLog(src)}` +
      `\n--- n4:\n${n4.stderr.slice(-3000)}\n--- n5:\n${n5.stderr.slice(-3000)}`);
  };
  const gauge = async (n, name) => sample((await http(n, '/metrics')).body, name);
  try {
    await n4.waitLog(new RegExp(`join room="${room}" .*nickname="gst"`), 1, 20000).catch(fail);
    src = gstReceiver(n5.port, room);
    await n5.waitLog(new RegExp(`sfu room="${room}" id=\\S+: media through node n4`), 1, 20000).catch(fail);
    // from n4's relay
    await decodedFromGst(src, 'decoded audio and video from noomsink on n4').catch(fail);
    if (h) {
      // A web client page on n5 receives the publisher too.
      page = await h.openPage(browser, `${n5.url}/`);
      await h.join(page, room, 'Web');
      await h.waitState(page, (s) => s.participants.some((p) => p.nickname === 'gst'), null,
        'gst in the page\'s room');
      const gst = await page.evaluate(() => window.noom.state().participants
        .find((p) => p.nickname === 'gst').id);
      // (an SFU room: one connection, to the relay, its tracks by owner)
      const first = await until(() => h.inboundByOwner(page),
        (s) => s[gst]?.framesDecoded > 0 && s[gst]?.audioSamples > 0, 'media from gst', 40000);
      await until(() => h.inboundByOwner(page),
        (s) => s[gst].framesDecoded > first[gst].framesDecoded + 5 &&
          s[gst].audioSamples > first[gst].audioSamples, 'rising media counters from gst', 20000);
      assert.deepEqual(page.errors, []);
    }
    // n4's relay carries the room: the publisher's two tracks (and the
    // page's camera and microphone), one copy of each per other
    // participant; n5's relay carries nothing.
    await until(async () => [await gauge(n4, 'noom_sfu_tracks'), await gauge(n4, 'noom_sfu_forwards')],
      ([t, f]) => t === (h ? 4 : 2) && f === (h ? 6 : 2), 'the tracks on n4\'s /metrics', 10000).catch(fail);
    assert.equal(await gauge(n5, 'noom_sfu_tracks'), 0);
    assert.equal(await gauge(n5, 'noom_sfu_forwards'), 0);
    src.kill('SIGINT');
    assert.equal((await src.wait()).code, 0, src.out.slice(-2000));
  } finally {
    if (page)
      await page.context().close();
    for (const p of [src, sink]) {
      if (p) {
        p.kill('SIGINT');
        await p.wait().catch(() => p.kill('SIGKILL'));
      }
    }
    await n4.stop();
    await n5.stop();
  }
});
