// Interoperability of bayeux-fcgi (through a real lighttpd) with the two
// Bayeux clients people use from JavaScript: the official CometD 9 client
// (npm `cometd` + `cometd-nodejs-client`) and Faye 1.4.3.  Every CometD client
// has its own cookie jar (see lib.mjs) unless a case shares one on purpose.
//
// Run: sh tests/interop/interop.test (after make), or
//   node --test --test-reporter=spec tests/interop/lighttpd.test.mjs
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLighttpd, useServers, testLighttpdHealthy, uniqueChannel, BayeuxClient,
    assertBayeuxError, SESSION_ADVICE, CLIENT_ID_RE, SLOW } from '../integration/harness.mjs';
import { AckExtension } from 'cometd/AckExtension.js';
import {
    T, WAIT, cometdClient, cometdHandshake, cometdStart, cometdSubscribe, cometdUnsubscribe, cometdPublish, cometdPublishRaw, cometdDisconnect,
    cometdStop, cometdRequests, fayeClient, fayeSubscribe, fayePublish, fayePublishRaw, fayeStop, fayeRequests,
    inbox, sleep, within, jars,
} from './lib.mjs';

/** Deliveries (not publish replies) of `channel` among raw incoming messages. */
const deliveries = (raw, channel) => raw.filter((m) => m.channel === channel && 'data' in m);

/** Non-ASCII text and JSON escapes, and a 64 KiB string of mixed characters. */
const UNICODE = 'héllo 🌍 中文 — "quoted" \\back\\slash\ttab\nnewline \u2028 ünïcödé 𝄞';
function bigString() {
    // code points, not UTF-16 units: no lone surrogates
    const alphabet = Array.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "\\/{}[]:,<>&\'é中🌍\n\t');
    let s = '';
    let x = 12345;
    while (s.length < 65536) { x = (x * 1103515245 + 12345) % 2147483648; s += alphabet[(x >>> 8) % alphabet.length]; }
    s = s.slice(0, 65536);
    return /[\ud800-\udbff]$/.test(s) ? `${s.slice(0, -1)}z` : s;
}

describe('interop through lighttpd: CometD 9 and Faye 1.4.3 clients', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '5000'] }),
    }));
    const url = () => fx.s.lighttpd.url;

    // -- handshake, subscribe, publish, receive ---------------------------

    test('CometD: handshake, subscribe, publish, receive', T, async () => {
        const c = await cometdStart(url());
        try {
            assert.match(c.handshakeReply.clientId, CLIENT_ID_RE);
            assert.ok(c.handshakeReply.supportedConnectionTypes.includes('long-polling'));
            assert.equal(c.cometd.getTransport().type, 'long-polling');
            const ch = uniqueChannel('/interop/basic');
            const box = inbox('cometd');
            await cometdSubscribe(c, ch, (m) => box.push(m));
            const rep = await cometdPublish(c, ch, { text: 'hello', n: 1 });
            assert.equal(rep.channel, ch);
            const m = await box.waitFor((x) => x.data.n === 1, 'own message');
            assert.equal(m.channel, ch);
            assert.deepEqual(m.data, { text: 'hello', n: 1 });
            assert.equal(m.clientId, undefined, 'deliveries never carry the publisher clientId');
            await cometdPublish(c, ch, { n: 2 });
            await box.waitFor((x) => x.data.n === 2, 'second message (over the long poll)');
            assert.equal(box.items.length, 2, 'each message once');
            assert.ok(!c.advices.some((a) => a['multiple-clients']), 'own cookie jar: no multiple-clients advice');
        } finally { await cometdStop(c); }
    });

    test('Faye: handshake, subscribe, publish, receive', T, async () => {
        const f = fayeClient(url());
        try {
            const ch = uniqueChannel('/interop/basic');
            const box = inbox('faye');
            await fayeSubscribe(f, ch, (d) => box.push(d));
            assert.match(f._dispatcher.clientId, CLIENT_ID_RE);
            assert.equal(f._dispatcher.connectionType, 'long-polling');
            await fayePublish(f, ch, { text: 'hello', n: 1 });
            assert.deepEqual(await box.waitFor((x) => x.n === 1, 'own message'), { text: 'hello', n: 1 });
            await fayePublish(f, ch, { n: 2 });
            await box.waitFor((x) => x.n === 2, 'second message');
            assert.equal(box.items.length, 2, 'each message once');
            assert.ok(deliveries(f.raw, ch).every((m) => m.clientId === undefined), 'no publisher clientId in deliveries');
        } finally { await fayeStop(f); }
    });

    // -- unsubscribe, disconnect -------------------------------------------

    test('CometD: unsubscribe stops delivery', T, async () => {
        const c = await cometdStart(url());
        try {
            const ch = uniqueChannel('/interop/unsub');
            const sentinel = uniqueChannel('/interop/sentinel');
            const box = inbox('cometd');
            const { sub } = await cometdSubscribe(c, ch, (m) => box.push(m));
            await cometdSubscribe(c, sentinel, (m) => box.push(m));
            await cometdPublish(c, ch, { n: 1 });
            await box.waitFor((x) => x.data.n === 1, 'before unsubscribing');
            const r = await cometdUnsubscribe(c, sub);
            assert.equal(r.subscription, ch);
            await cometdPublish(c, ch, { n: 2 });
            await cometdPublish(c, sentinel, { n: 3 });
            await box.waitFor((x) => x.data.n === 3, 'sentinel after the unsubscribed publish');
            assert.deepEqual(deliveries(c.raw, ch).map((m) => m.data.n), [1], 'the server sent nothing on the channel after unsubscribe');
        } finally { await cometdStop(c); }
    });

    test('Faye: unsubscribe stops delivery', T, async () => {
        const f = fayeClient(url());
        try {
            const ch = uniqueChannel('/interop/unsub');
            const sentinel = uniqueChannel('/interop/sentinel');
            const box = inbox('faye');
            const { sub } = await fayeSubscribe(f, ch, (d) => box.push(d));
            await fayeSubscribe(f, sentinel, (d) => box.push(d));
            await fayePublish(f, ch, { n: 1 });
            await box.waitFor((x) => x.n === 1, 'before unsubscribing');
            sub.cancel();
            await within((async () => {
                while (!f.raw.some((m) => m.channel === '/meta/unsubscribe')) await sleep(20);
            })(), WAIT, 'Faye /meta/unsubscribe reply');
            const ur = f.raw.find((m) => m.channel === '/meta/unsubscribe');
            assert.equal(ur.successful, true, JSON.stringify(ur));
            assert.equal(ur.subscription, ch);
            await fayePublish(f, ch, { n: 2 });
            await fayePublish(f, sentinel, { n: 3 });
            await box.waitFor((x) => x.n === 3, 'sentinel');
            assert.deepEqual(deliveries(f.raw, ch).map((m) => m.data.n), [1], 'the server sent nothing on the channel after unsubscribe');
        } finally { await fayeStop(f); }
    });

    test('CometD: disconnect ends the session (its clientId is unknown afterwards)', T, async () => {
        const c = await cometdStart(url());
        const clientId = c.cometd.getClientId();
        const r = await cometdDisconnect(c);
        assert.equal(r.successful, true, JSON.stringify(r));
        assert.equal(r.channel, '/meta/disconnect');
        assert.ok(c.cometd.isDisconnected());
        const raw = new BayeuxClient(url());
        raw.clientId = clientId;
        const pub = await raw.publish(uniqueChannel('/interop/after'), { x: 1 });
        assertBayeuxError(pub, { error: '402::session_unknown', advice: SESSION_ADVICE });
    });

    test('Faye: disconnect ends the session (its clientId is unknown afterwards)', T, async () => {
        const f = fayeClient(url());
        await fayeSubscribe(f, uniqueChannel('/interop/disc'), () => {});
        const clientId = f._dispatcher.clientId;
        await within(Promise.resolve(f.disconnect()), WAIT, 'Faye disconnect');
        await within((async () => {
            while (!f.raw.some((m) => m.channel === '/meta/disconnect')) await sleep(20);
        })(), WAIT, 'Faye /meta/disconnect reply');
        assert.equal(f.raw.find((m) => m.channel === '/meta/disconnect').successful, true);
        const raw = new BayeuxClient(url());
        raw.clientId = clientId;
        const c = await raw.connect();
        assertBayeuxError(c.reply, { error: '402::session_unknown', advice: SESSION_ADVICE });
    });

    // -- wildcards ---------------------------------------------------------

    test('CometD: /* and /** wildcards, one delivery when several subscriptions match', T, async () => {
        const c = await cometdStart(url());
        try {
            const base = uniqueChannel('/interop/wild');
            const star = inbox('/*'); const dstar = inbox('/**'); const exact = inbox('exact');
            await cometdSubscribe(c, `${base}/*`, (m) => star.push(m));
            await cometdSubscribe(c, `${base}/**`, (m) => dstar.push(m));
            await cometdSubscribe(c, `${base}/a`, (m) => exact.push(m));
            await cometdPublish(c, `${base}/a`, { n: 1 });
            await cometdPublish(c, `${base}/a/b`, { n: 2 });
            await cometdPublish(c, base, { n: 3 }); // matched by none of them
            await cometdPublish(c, `${base}/z`, { n: 4 }); // sentinel: /* and /**
            await dstar.waitFor((m) => m.data.n === 4, 'sentinel');
            await star.waitFor((m) => m.data.n === 4, 'sentinel');
            assert.deepEqual(star.items.map((m) => m.data.n), [1, 4], '/* matches one level only');
            assert.deepEqual(dstar.items.map((m) => m.data.n), [1, 2, 4], '/** matches every depth');
            assert.deepEqual(exact.items.map((m) => m.data.n), [1]);
            const got = c.raw.filter((m) => m.channel.startsWith(base) && 'data' in m).map((m) => m.data.n);
            assert.deepEqual(got, [1, 2, 4], 'the server sent each message once');
        } finally { await cometdStop(c); }
    });

    test('Faye: /* and /** wildcards, one delivery when several subscriptions match', T, async () => {
        const f = fayeClient(url());
        try {
            const base = uniqueChannel('/interop/wild');
            const star = inbox('/*'); const dstar = inbox('/**'); const exact = inbox('exact');
            await fayeSubscribe(f, `${base}/*`, (d) => star.push(d));
            await fayeSubscribe(f, `${base}/**`, (d) => dstar.push(d));
            await fayeSubscribe(f, `${base}/a`, (d) => exact.push(d));
            await fayePublish(f, `${base}/a`, { n: 1 });
            await fayePublish(f, `${base}/a/b`, { n: 2 });
            await fayePublish(f, base, { n: 3 });
            await fayePublish(f, `${base}/z`, { n: 4 });
            await dstar.waitFor((d) => d.n === 4, 'sentinel');
            await star.waitFor((d) => d.n === 4, 'sentinel');
            assert.deepEqual(star.items.map((d) => d.n), [1, 4]);
            assert.deepEqual(dstar.items.map((d) => d.n), [1, 2, 4]);
            assert.deepEqual(exact.items.map((d) => d.n), [1]);
            const got = f.raw.filter((m) => m.channel.startsWith(base) && 'data' in m).map((m) => m.data.n);
            assert.deepEqual(got, [1, 2, 4], 'the server sent each message once');
        } finally { await fayeStop(f); }
    });

    // -- /service and /meta ------------------------------------------------

    test('CometD: /service/echo answers the sender only and is not broadcast', T, async () => {
        const c = await cometdStart(url());
        const spy = fayeClient(url());
        try {
            const all = inbox('spy /**');
            await fayeSubscribe(spy, '/**', (d) => all.push(d));
            const echo = inbox('echo');
            c.cometd.addListener('/service/echo', (m) => echo.push(m));
            const token = `echo-${Date.now()}`;
            const rep = await cometdPublish(c, '/service/echo', { token, text: 'héllo' });
            assert.equal(rep.channel, '/service/echo');
            const m = await echo.waitFor((x) => x.data && x.data.token === token, 'the echo');
            assert.deepEqual(m.data, { token, text: 'héllo' });
            const sentinel = uniqueChannel('/interop/sentinel');
            await cometdPublish(c, sentinel, { sentinel: token });
            await all.waitFor((d) => d.sentinel === token, 'the sentinel');
            assert.deepEqual(all.items.filter((d) => d.token === token), [], 'a /** subscriber never sees /service/echo');
            assert.equal(deliveries(spy.raw, '/service/echo').length, 0);
        } finally { await fayeStop(spy); await cometdStop(c); }
    });

    test('Faye: /service/echo answers the sender only and is not broadcast', T, async () => {
        const f = fayeClient(url());
        const spy = fayeClient(url());
        try {
            const all = inbox('spy /**');
            await fayeSubscribe(spy, '/**', (d) => all.push(d));
            const echo = inbox('echo');
            await fayeSubscribe(f, '/service/echo', (d) => echo.push(d));
            const token = `echo-${Date.now()}`;
            await fayePublish(f, '/service/echo', { token });
            assert.deepEqual(await echo.waitFor((d) => d.token === token, 'the echo'), { token });
            await fayePublish(f, uniqueChannel('/interop/sentinel'), { sentinel: token });
            await all.waitFor((d) => d.sentinel === token, 'the sentinel');
            assert.deepEqual(all.items.filter((d) => d.token === token), [], 'not broadcast');
        } finally { await fayeStop(spy, f); }
    });

    test('CometD: publishing to /meta/foo is refused (locally, and by the server)', T, async () => {
        const c = await cometdStart(url());
        try {
            assert.throws(() => c.cometd.publish('/meta/foo', { x: 1 }), /meta/, 'the client itself refuses');
            // get it past the client's own check: an extension renames the channel
            const probe = uniqueChannel('/interop/metaprobe');
            c.rewrite = (m) => (m.channel === probe ? { ...m, channel: '/meta/foo' } : m);
            const r = await cometdPublishRaw(c, probe, { x: 1 });
            assert.equal(r.successful, false, `publish callback reports failure: ${JSON.stringify(r)}`);
            assert.equal(r.error, '403:/meta/foo:publish_denied');
            assert.ok(cometdRequests.some((b) => Array.isArray(b) && b.some((m) => m.channel === '/meta/foo')), 'it was sent');
        } finally { c.rewrite = null; await cometdStop(c); }
    });

    test('Faye: publishing to /meta/foo is refused by the server', T, async () => {
        const f = fayeClient(url());
        try {
            const r = await fayePublishRaw(f, '/meta/foo', { x: 1 });
            assert.equal(r.ok, false, 'publish promise rejected');
            assert.equal(r.error.code, 403, JSON.stringify(r.error));
            assert.deepEqual(r.error.params, ['/meta/foo']);
            assert.equal(r.error.message, 'publish_denied');
        } finally { await fayeStop(f); }
    });

    // -- batching ----------------------------------------------------------

    test('CometD: cometd.batch() goes out in one request and every message is answered', T, async () => {
        const c = await cometdStart(url());
        try {
            const ch = uniqueChannel('/interop/batch');
            const box = inbox('cometd');
            const replies = [];
            const done = new Promise((resolve) => {
                c.cometd.batch(() => {
                    c.cometd.subscribe(ch, (m) => box.push(m), (r) => replies.push(r));
                    c.cometd.publish(ch, { n: 1 }, (r) => replies.push(r));
                    c.cometd.publish(ch, { n: 2 }, (r) => { replies.push(r); resolve(); });
                });
            });
            await within(done, WAIT, 'batch replies');
            assert.deepEqual(replies.map((r) => [r.channel, r.successful]), [['/meta/subscribe', true], [ch, true], [ch, true]]);
            const body = cometdRequests.find((b) => Array.isArray(b) && b.some((m) => m.channel === '/meta/subscribe' && m.subscription === ch));
            assert.ok(body, 'the subscribe was sent');
            assert.deepEqual(body.map((m) => m.channel), ['/meta/subscribe', ch, ch], 'one POST holds the whole batch');
            await box.waitCount(2, 'both batched publishes delivered');
            assert.deepEqual(box.items.map((m) => m.data.n), [1, 2]);
        } finally { await cometdStop(c); }
    });

    test('Faye: a connect and a publish in one request', T, async () => {
        const f = fayeClient(url());
        try {
            const ch = uniqueChannel('/interop/fayebatch');
            const box = inbox('faye');
            await fayeSubscribe(f, ch, (d) => box.push(d));
            // publish at the moment Faye sends its next /meta/connect: Faye puts
            // both in its outbox in the same tick and sends them in one POST
            let pub = null;
            f.onOutgoing = (m) => {
                if (m.channel === '/meta/connect' && !pub) pub = f.publish(ch, { n: 1, batched: true });
            };
            await fayePublish(f, ch, { n: 0 }); // ends the held connect: a new one goes out
            await box.waitFor((d) => d.n === 1, 'the batched publish delivered');
            assert.ok(pub, 'published while connecting');
            await within(new Promise((resolve, reject) => pub.then(resolve, reject)), WAIT, 'batched publish acknowledged');
            const both = fayeRequests.find((b) => b.some((m) => m.channel === '/meta/connect') && b.some((m) => m.channel === ch && m.data && m.data.batched));
            assert.ok(both, `one POST with a /meta/connect and the publish: ${JSON.stringify(fayeRequests.slice(-5))}`);
            const conn = both.find((m) => m.channel === '/meta/connect');
            const cr = f.raw.find((m) => m.channel === '/meta/connect' && m.id === conn.id);
            assert.ok(cr && cr.successful, `the batched connect was answered successfully: ${JSON.stringify(cr)}`);
            f.onOutgoing = null;
        } finally { await fayeStop(f); }
    });

    // -- multiple clients sharing one cookie ---------------------------------

    test('CometD: two clients sharing one BAYEUX_BROWSER cookie get multiple-clients advice and both keep receiving', T, async () => {
        const a = await cometdStart(url());
        const b = await cometdStart(url(), { jar: a.jar }); // same jar: same browser
        const pub = fayeClient(url());
        try {
            assert.ok(jars.get(a.jar).has('BAYEUX_BROWSER'), 'the shared jar holds the cookie');
            const ch = uniqueChannel('/interop/multi');
            const boxA = inbox('a'); const boxB = inbox('b');
            await cometdSubscribe(a, ch, (m) => boxA.push(m));
            await cometdSubscribe(b, ch, (m) => boxB.push(m));
            await within((async () => {
                while (![...a.advices, ...b.advices].some((x) => x['multiple-clients'])) await sleep(50);
            })(), WAIT, 'multiple-clients advice');
            const adv = [...a.advices, ...b.advices].find((x) => x['multiple-clients']);
            assert.deepEqual(adv, { 'multiple-clients': true, reconnect: 'retry', interval: 2000 });
            for (let n = 1; n <= 3; n++) {
                await fayePublish(pub, ch, { n });
                await sleep(300);
            }
            await boxA.waitCount(3, 'a receives all');
            await boxB.waitCount(3, 'b receives all');
            assert.deepEqual(boxA.items.map((m) => m.data.n), [1, 2, 3]);
            assert.deepEqual(boxB.items.map((m) => m.data.n), [1, 2, 3]);
        } finally { await fayeStop(pub); await cometdStop(a, b); }
    });

    test('CometD: clients with their own cookie jars get no multiple-clients advice', T, async () => {
        const a = await cometdStart(url());
        const b = await cometdStart(url());
        try {
            assert.notEqual(jars.get(a.jar).get('BAYEUX_BROWSER'), jars.get(b.jar).get('BAYEUX_BROWSER'), 'two different browser cookies');
            const ch = uniqueChannel('/interop/own');
            const boxA = inbox('a');
            await cometdSubscribe(a, ch, (m) => boxA.push(m));
            await cometdSubscribe(b, ch, () => {});
            await sleep(600); // both hold a long poll now
            await cometdPublish(b, ch, { n: 1 });
            await boxA.waitFor((m) => m.data.n === 1, 'delivery');
            assert.ok(![...a.advices, ...b.advices].some((x) => x['multiple-clients']), JSON.stringify([a.advices, b.advices]));
        } finally { await cometdStop(a, b); }
    });

    // -- mixed clients ---------------------------------------------------------

    test('a Faye publisher reaches a CometD subscriber, and the reverse', T, async () => {
        const c = await cometdStart(url());
        const f = fayeClient(url());
        try {
            const ch = uniqueChannel('/interop/cross');
            const cbox = inbox('cometd'); const fbox = inbox('faye');
            await cometdSubscribe(c, ch, (m) => cbox.push(m));
            await fayeSubscribe(f, ch, (d) => fbox.push(d));
            await fayePublish(f, ch, { from: 'faye' });
            await cometdPublish(c, ch, { from: 'cometd' });
            assert.deepEqual((await cbox.waitFor((m) => m.data.from === 'faye', 'faye -> cometd')).data, { from: 'faye' });
            assert.deepEqual(await fbox.waitFor((d) => d.from === 'cometd', 'cometd -> faye'), { from: 'cometd' });
            await cbox.waitCount(2, 'cometd gets both'); await fbox.waitCount(2, 'faye gets both');
        } finally { await fayeStop(f); await cometdStop(c); }
    });

    test('chat room: a Faye member and a CometD member chat both ways', T, async () => {
        const room = `interop${process.pid}`;
        const c = await cometdStart(url());
        const f = fayeClient(url());
        try {
            const cbox = inbox('cometd /chat'); const fbox = inbox('faye /chat');
            const cmembers = inbox('cometd /members');
            await cometdSubscribe(c, `/chat/${room}`, (m) => cbox.push(m));
            await cometdSubscribe(c, `/members/${room}`, (m) => cmembers.push(m));
            await cometdSubscribe(c, '/rooms', () => {});
            assert.equal((await cometdPublish(c, '/service/members', { user: 'carla', room })).successful, true);
            await fayeSubscribe(f, `/chat/${room}`, (d) => fbox.push(d));
            await fayeSubscribe(f, `/members/${room}`, () => {});
            await fayeSubscribe(f, '/rooms', () => {});
            await fayePublish(f, '/service/members', { user: 'felix', room });
            await cmembers.waitFor((m) => JSON.stringify(m.data) === '["carla","felix"]', 'member list with both');
            await cbox.waitFor((m) => m.data.membership === 'join' && m.data.user === 'felix', 'join notice');
            await fayePublish(f, `/chat/${room}`, { chat: 'hi from faye 🌍' });
            await cometdPublish(c, `/chat/${room}`, { chat: 'hi from cometd', user: 'spoofed' });
            assert.deepEqual((await cbox.waitFor((m) => m.data.chat === 'hi from faye 🌍', 'faye -> cometd')).data, { user: 'felix', chat: 'hi from faye 🌍' });
            assert.deepEqual(await fbox.waitFor((d) => d.chat === 'hi from cometd', 'cometd -> faye'), { user: 'carla', chat: 'hi from cometd' });
        } finally { await fayeStop(f); await cometdStop(c); }
    });

    // -- payloads ------------------------------------------------------------

    test('a 64 KiB data string and non-ASCII text round-trip byte-exact (CometD and Faye, both directions)', T, async () => {
        const big = bigString();
        assert.equal(big.length, 65536);
        assert.ok(Buffer.byteLength(JSON.stringify(big)) > 65536);
        const c = await cometdStart(url());
        const f = fayeClient(url());
        try {
            const ch = uniqueChannel('/interop/payload');
            const cbox = inbox('cometd'); const fbox = inbox('faye');
            await cometdSubscribe(c, ch, (m) => cbox.push(m));
            await fayeSubscribe(f, ch, (d) => fbox.push(d));
            await cometdPublish(c, ch, { from: 'cometd', big, text: UNICODE });
            await fayePublish(f, ch, { from: 'faye', big, text: UNICODE });
            for (const from of ['cometd', 'faye']) {
                const cm = (await cbox.waitFor((m) => m.data.from === from, `cometd gets ${from}`)).data;
                const fm = await fbox.waitFor((d) => d.from === from, `faye gets ${from}`);
                for (const [who, d] of [['cometd', cm], ['faye', fm]]) {
                    assert.equal(d.text, UNICODE, `${from} -> ${who}: non-ASCII text`);
                    assert.ok(d.big === big, `${from} -> ${who}: 64 KiB string byte-exact (length ${d.big.length})`);
                    assert.ok(Buffer.from(d.big, 'utf8').equals(Buffer.from(big, 'utf8')));
                }
            }
        } finally { await fayeStop(f); await cometdStop(c); }
    });

    // -- ack extension (not implemented by the server) ------------------------

    test('CometD with its AckExtension: acks negotiated, every connect acks the last batch received', T, async () => {
        const c = cometdClient(url());
        c.cometd.registerExtension('ack', new AckExtension());
        const sentAckBefore = cometdRequests.length;
        try {
            const hs = await cometdHandshake(c);
            const hsReq = cometdRequests.slice(sentAckBefore).flat().find((m) => m && m.channel === '/meta/handshake');
            assert.equal(hsReq.ext && hsReq.ext.ack, true, 'the client asked for acks');
            assert.equal(hs.ext && hs.ext.ack, true, `the server answers ext.ack: ${JSON.stringify(hs)}`);
            const ch = uniqueChannel('/interop/ack');
            const box = inbox('cometd');
            await cometdSubscribe(c, ch, (m) => box.push(m));
            await cometdPublish(c, ch, { n: 1 });
            await box.waitFor((m) => m.data.n === 1, 'delivery with acks');
            await cometdPublish(c, ch, { n: 2 });
            await box.waitFor((m) => m.data.n === 2, 'second delivery with acks');
            // the reply that carried n:1 had a batch number; a later connect acks it
            const withMsgs = c.connects.filter((m) => m.ext && typeof m.ext.ack === 'number' && m.ext.ack > 0);
            assert.ok(withMsgs.length >= 1, JSON.stringify(c.connects));
            const firstBatch = withMsgs[0].ext.ack;
            await sleep(200);
            const connects = cometdRequests.slice(sentAckBefore).flat().filter((m) => m && m.channel === '/meta/connect');
            assert.ok(connects.some((m) => m.ext && m.ext.ack === firstBatch), `a connect acks batch ${firstBatch}: ${JSON.stringify(connects.map((m) => m.ext))}`);
            assert.equal(box.items.length, 2, 'each message once');
        } finally { await cometdStop(c); }
    });

    // -- ordering ------------------------------------------------------------

    test('per-publisher order: 2 publishers x 200 messages, 3 receivers (CometD and Faye)', { timeout: 120000 * SLOW }, async () => {
        const N = 200;
        const pc = await cometdStart(url());
        const pf = fayeClient(url());
        const r1 = await cometdStart(url());
        const r2 = await cometdStart(url());
        const r3 = fayeClient(url());
        try {
            const ch = uniqueChannel('/interop/order');
            const boxes = [inbox('cometd r1'), inbox('cometd r2'), inbox('faye r3')];
            await cometdSubscribe(r1, ch, (m) => boxes[0].push(m.data));
            await cometdSubscribe(r2, ch, (m) => boxes[1].push(m.data));
            await fayeSubscribe(r3, ch, (d) => boxes[2].push(d));
            await fayePublish(pf, uniqueChannel('/interop/warmup'), {}); // pf handshaken
            // CometD: all 200 handed to the client at once (it queues them in order);
            // Faye: one after the other (Faye sends concurrent POSTs for a large outbox)
            const cometdSide = Promise.all(Array.from({ length: N }, (_, i) => cometdPublish(pc, ch, { p: 'cometd', i })));
            const fayeSide = (async () => { for (let i = 0; i < N; i++) await fayePublish(pf, ch, { p: 'faye', i }); })();
            await within(Promise.all([cometdSide, fayeSide]), 60000, 'publishing');
            for (const box of boxes) {
                await box.waitCount(2 * N, 'all messages', 30000);
                for (const p of ['cometd', 'faye']) {
                    const seq = box.items.filter((d) => d.p === p).map((d) => d.i);
                    assert.deepEqual(seq, Array.from({ length: N }, (_, i) => i), `order of ${p}'s messages`);
                }
                assert.equal(box.items.length, 2 * N, 'no duplicates');
            }
        } finally { await fayeStop(pf, r3); await cometdStop(pc, r1, r2); }
    });

    testLighttpdHealthy(fx, T);
});
