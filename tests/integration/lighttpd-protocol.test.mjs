// Bayeux protocol behaviour of bayeux-fcgi behind lighttpd (mod_fastcgi, bin-path).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    startLighttpd, useServers, post, BayeuxClient, CookieJar, within, stillPendingAfter,
    uniqueChannel, assertJsonReply, assertBrowserCookie, browserCookie, assertBayeuxError, drain,
    CLIENT_ID_RE, SESSION_ADVICE, PROMPT_MS, SLOW, testLighttpdHealthy, assertHandshakeReply,
} from './harness.mjs';

const TIMEOUT = 8000; // server --timeout (ms)
const T = { timeout: 60000 * SLOW };

describe('bayeux-fcgi behind lighttpd: protocol', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', String(TIMEOUT), '--interval', '0', '--max-interval', '10000'] }),
    }));
    const url = () => fx.s.lighttpd.url;
    const client = (opts) => new BayeuxClient(url(), opts);

    test('handshake: reply shape, advice and the BAYEUX_BROWSER cookie', T, async () => {
        const jar = new CookieJar();
        const res = await post(url(), [{
            channel: '/meta/handshake', version: '1.0', minimumVersion: '1.0',
            supportedConnectionTypes: ['long-polling', 'callback-polling'], id: 'hs-1',
        }], { cookieJar: jar });
        assertJsonReply(res, 'handshake');
        assert.equal(res.json.length, 1);
        const r = res.json[0];
        assertHandshakeReply(r, 'hs-1', TIMEOUT);
        const cookie = assertBrowserCookie(res);

        // Same browser again: the cookie is sent, so no new one is set.
        const res2 = await post(url() + '/handshake', [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: 'hs-2' }], { cookieJar: jar });
        assertJsonReply(res2, 'second handshake');
        assert.equal(browserCookie(res2), undefined, 'no Set-Cookie when the request had BAYEUX_BROWSER');
        assert.equal(jar.get('BAYEUX_BROWSER'), cookie);
        assert.equal(res2.json[0].successful, true);
        assert.match(res2.json[0].clientId, CLIENT_ID_RE);
        assert.notEqual(res2.json[0].clientId, r.clientId, 'every handshake gets a new clientId');

        // Handshake without version/supportedConnectionTypes is fine; every path under /cometd works.
        for (const p of ['', '/', '/handshake', '/connect', '/disconnect']) {
            const c = client();
            const hs = await c.handshake({}, { path: p });
            assert.equal(hs.successful, true, `handshake on /cometd${p}`);
        }
    });

    test('handshake: other messages in the same batch are ignored', T, async () => {
        const ch = uniqueChannel('/hsbatch');
        const sub = await client().start([ch]);
        const res = await post(url(), [
            { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: 'a' },
            { channel: ch, data: { should: 'be ignored' }, clientId: sub.clientId, id: 'b' },
            { channel: '/meta/subscribe', subscription: ch, id: 'c' },
        ], { cookieJar: new CookieJar() });
        assertJsonReply(res, 'handshake batch');
        assert.equal(res.json.length, 1, `only the handshake reply: ${res.text}`);
        assert.equal(res.json[0].channel, '/meta/handshake');
        assert.equal(res.json[0].id, 'a');
        assert.equal(res.json[0].successful, true);
        assert.deepEqual(await drain(sub), [], 'the publish in the handshake batch was not processed');
    });

    test('first connect and advice.timeout:0 return at once', T, async () => {
        const c = client();
        const hs = await c.handshake();
        assert.equal(hs.successful, true);
        const first = await c.connect();
        assert.ok(first.elapsed < PROMPT_MS, `first connect took ${first.elapsed} ms`);
        assert.equal(first.reply.successful, true);
        assert.equal(first.reply.id, first.request.id);
        assert.equal(first.reply.channel, '/meta/connect');
        assert.ok(first.reply.advice, 'first connect carries advice');
        assert.equal(first.reply.advice.reconnect, 'retry');
        assertJsonReply(c.lastResponse, 'connect');
        for (let i = 0; i < 2; i++) {
            const z = await c.connect({ timeout: 0 });
            assert.ok(z.elapsed < PROMPT_MS, `advice.timeout:0 connect took ${z.elapsed} ms`);
            assert.equal(z.reply.successful, true);
            assert.equal(z.reply.id, z.request.id);
            assert.deepEqual(z.messages, []);
        }
    });

    test('subscribe, publish, receive: a held connect is released by the publish', T, async () => {
        const ch = uniqueChannel('/news');
        const a = client();
        assert.equal((await a.handshake()).successful, true);
        const sub = await a.subscribe(ch, { id: 'sub-1' });
        assert.deepEqual(sub, { id: 'sub-1', channel: '/meta/subscribe', subscription: ch, successful: true });
        assert.equal((await a.connect()).reply.successful, true);
        const b = await client().start([]);

        const held = a.connect();
        assert.equal(await stillPendingAfter(held, 1000), true, 'the connect is held while nothing is queued');
        const t0 = performance.now();
        const pub = await b.publish(ch, { user: 'bob', chat: 'hello' }, { id: 'pub-1' });
        assert.deepEqual(pub, { id: 'pub-1', channel: ch, successful: true });
        const r = await within(held, PROMPT_MS, 'held connect after publish');
        const after = performance.now() - t0;
        assert.ok(after < PROMPT_MS, `released ${after} ms after the publish`);
        assert.equal(r.reply.successful, true);
        assert.equal(r.reply.id, r.request.id);
        assert.deepEqual(r.messages, [{ channel: ch, data: { user: 'bob', chat: 'hello' }, id: 'pub-1' }],
            'delivery is {channel, data, id} and never carries the publisher\'s clientId');
        assert.equal(r.all[r.all.length - 1].channel, '/meta/connect', 'queued messages come before the connect reply');
        assert.deepEqual(await drain(b), [], 'the unsubscribed publisher receives nothing');
    });

    test('a subscribed publisher receives its own message, only through /meta/connect', T, async () => {
        const ch = uniqueChannel('/self');
        const a = await client().start([ch]);
        const b = await client().start([ch]);
        const res = await post(url(), [{ channel: ch, clientId: b.clientId, data: 'x', id: 'p' }], { cookieJar: b.jar });
        assertJsonReply(res, 'publish');
        assert.deepEqual(res.json, [{ id: 'p', channel: ch, successful: true }], 'the publish reply carries no delivery');
        for (const c of [a, b]) {
            const m = await drain(c);
            assert.deepEqual(m, [{ channel: ch, data: 'x', id: 'p' }]);
            assert.ok(!('clientId' in m[0]));
        }
    });

    test('messages queued while no connect is held are returned at once, in order', T, async () => {
        const ch = uniqueChannel('/queue');
        const a = await client().start([ch]);
        const b = await client().start([]);
        for (let i = 0; i < 5; i++) assert.equal((await b.publish(ch, { n: i })).successful, true);
        const r = await a.connect();
        assert.ok(r.elapsed < PROMPT_MS, `connect with queued messages took ${r.elapsed} ms`);
        assert.deepEqual(r.messages.map((m) => m.data), [0, 1, 2, 3, 4].map((n) => ({ n })));
        assert.deepEqual(await drain(a), [], 'each message delivered once');
    });

    test('a newer connect of the same session releases the held one', T, async () => {
        const ch = uniqueChannel('/newer');
        const a = await client().start([ch]);
        const b = await client().start([]);
        const p1 = a.connect();
        assert.equal(await stillPendingAfter(p1, 500), true, 'first connect held');
        const p2 = a.connect();
        const r1 = await within(p1, PROMPT_MS, 'older connect released by the newer one');
        assert.equal(r1.reply.successful, true);
        assert.equal(r1.reply.id, r1.request.id);
        assert.deepEqual(r1.messages, []);
        assert.equal(await stillPendingAfter(p2, 500), true, 'the newer connect is held');
        await b.publish(ch, 'to-the-newer');
        const r2 = await within(p2, PROMPT_MS, 'newer connect after publish');
        assert.equal(r2.reply.successful, true);
        assert.deepEqual(r2.messages.map((m) => m.data), ['to-the-newer']);
    });

    test('a client advice.timeout lower than the server timeout is honoured', T, async () => {
        const a = await client().start([uniqueChannel('/adv')]);
        const r = await a.connect({ timeout: 1000 });
        assert.ok(r.elapsed >= 800, `held ${r.elapsed} ms (>= 80% of 1000)`);
        assert.ok(r.elapsed < 1000 + PROMPT_MS, `returned after ${r.elapsed} ms, well before the server timeout`);
        assert.equal(r.reply.successful, true);
        assert.deepEqual(r.messages, []);
    });

    test('unsubscribe: reply shape, and deliveries stop', T, async () => {
        const ch = uniqueChannel('/unsub');
        const other = uniqueChannel('/unsub');
        const a = await client().start([ch, other]);
        const b = await client().start([]);
        const u = await a.unsubscribe(ch, { id: 'u-1' });
        assert.deepEqual(u, { id: 'u-1', channel: '/meta/unsubscribe', subscription: ch, successful: true });
        await b.publish(ch, 'gone');
        await b.publish(other, 'still');
        assert.deepEqual((await drain(a)).map((m) => [m.channel, m.data]), [[other, 'still']]);
    });

    test('subscription arrays are echoed and every listed channel delivers', T, async () => {
        const c1 = uniqueChannel('/arr');
        const c2 = uniqueChannel('/arr');
        const a = client();
        await a.handshake();
        const s = await a.subscribe([c1, c2], { id: 's-arr' });
        assert.deepEqual(s, { id: 's-arr', channel: '/meta/subscribe', subscription: [c1, c2], successful: true });
        await a.connect();
        const b = await client().start([]);
        await b.publish(c1, 1);
        await b.publish(c2, 2);
        assert.deepEqual((await drain(a)).map((m) => [m.channel, m.data]), [[c1, 1], [c2, 2]]);
        const u = await a.unsubscribe([c1, c2], { id: 'u-arr' });
        assert.deepEqual(u, { id: 'u-arr', channel: '/meta/unsubscribe', subscription: [c1, c2], successful: true });
        await b.publish(c1, 3);
        assert.deepEqual(await drain(a), []);
    });

    test('channel names with every allowed segment character work', T, async () => {
        const ch = `/chars${process.pid}/A-z_0~9!()$@.x`;
        const a = await client().start([ch]);
        const b = await client().start([]);
        assert.equal((await b.publish(ch, 'ok')).successful, true);
        assert.deepEqual((await drain(a)).map((m) => m.channel), [ch]);
    });

    test('wildcards: /x/* and /x/** match, one delivery when several subscriptions match', T, async () => {
        const base = uniqueChannel('/wild');
        const multi = await client().start([`${base}/*`, `${base}/**`, `${base}/a`]);
        const one = await client().start([`${base}/*`]);
        const deep = await client().start([`${base}/**`]);
        const pub = await client().start([]);
        for (const ch of [`${base}/a`, `${base}/a/b`, `${base}/a/b/c`, base]) {
            assert.equal((await pub.publish(ch, ch)).successful, true, `publish ${ch}`);
        }
        assert.deepEqual((await drain(multi)).map((m) => m.channel), [`${base}/a`, `${base}/a/b`, `${base}/a/b/c`],
            'each message once even when /*, /** and the exact channel all match; the parent itself is not matched');
        assert.deepEqual((await drain(one)).map((m) => m.channel), [`${base}/a`], '/x/* does not match /x/a/b nor /x');
        assert.deepEqual((await drain(deep)).map((m) => m.channel), [`${base}/a`, `${base}/a/b`, `${base}/a/b/c`]);
    });

    test('wildcards at the root: /* and /**', T, async () => {
        const top = `/top${process.pid}`;
        const star = await client().start(['/*']);
        const all = await client().start(['/**']);
        const pub = await client().start([]);
        await pub.publish(top, 1);
        await pub.publish(`${top}/x/y`, 2);
        assert.deepEqual((await drain(star)).map((m) => m.channel), [top]);
        assert.deepEqual((await drain(all)).map((m) => m.channel), [top, `${top}/x/y`]);
        await all.unsubscribe('/**');
        await star.unsubscribe('/*');
    });

    test('/service/echo answers only the sender; /service/** is never broadcast', T, async () => {
        const a = await client().start([]);
        const watcher = client();
        await watcher.handshake();
        for (const s of ['/**', '/service/**', '/service/echo']) {
            const r = await watcher.subscribe(s, { id: `w-${s}` });
            assert.deepEqual(r, { id: `w-${s}`, channel: '/meta/subscribe', subscription: s, successful: true }, `subscribe ${s}`);
        }
        await watcher.connect();
        const held = watcher.connect();
        const p = await a.publish('/service/echo', { text: 'ping' }, { id: 'echo-1' });
        assert.deepEqual(p, { id: 'echo-1', channel: '/service/echo', successful: true });
        const r = await a.connect();
        assert.ok(r.elapsed < PROMPT_MS, 'the echo is queued for the sender at once');
        assert.equal(r.messages.length, 1, `one echo: ${JSON.stringify(r.all)}`);
        assert.equal(r.messages[0].channel, '/service/echo');
        assert.deepEqual(r.messages[0].data, { text: 'ping' });
        const u = await a.publish('/service/no-such-handler', { x: 1 }, { id: 'svc-2' });
        assert.deepEqual(u, { id: 'svc-2', channel: '/service/no-such-handler', successful: true });
        assert.equal(await stillPendingAfter(held, 300), true, 'the /** and /service/** subscriber got nothing');
        // Release the watcher with a normal message and check that is all it got.
        const ctl = uniqueChannel('/ctl');
        await a.publish(ctl, 'release');
        const w = await within(held, PROMPT_MS, 'watcher release');
        assert.deepEqual(w.messages.map((m) => m.channel), [ctl]);
        assert.deepEqual(await drain(a), [], 'nothing more for the sender');
    });

    test('disconnect answers the held connect and forgets the session', T, async () => {
        const ch = uniqueChannel('/disc');
        const a = await client().start([ch]);
        const held = a.connect();
        assert.equal(await stillPendingAfter(held, 300), true);
        const d = await a.disconnect();
        assert.deepEqual(d, { id: String(a.idSeq), channel: '/meta/disconnect', successful: true });
        const r = await within(held, PROMPT_MS, 'held connect answered on disconnect');
        assert.equal(r.reply.channel, '/meta/connect');
        assertBayeuxError((await a.connect()).reply, { error: '402::session_unknown', advice: SESSION_ADVICE });
        assertBayeuxError(await a.subscribe(ch, { id: 'after' }), { id: 'after', error: '402::session_unknown' });
        const b = await client().start([]);
        assert.equal((await b.publish(ch, 'nobody home')).successful, true, 'publishing to the gone session\'s channel works');
    });

    test('unknown clientId: 402::session_unknown with handshake advice', T, async () => {
        const jar = new CookieJar();
        await new BayeuxClient(url(), { cookieJar: jar }).handshake(); // a real cookie, a bogus clientId
        for (const clientId of ['0123456789abcdef0123456789abcdef', 'nosuchclient']) {
            const msgs = [
                { channel: '/meta/connect', clientId, connectionType: 'long-polling', id: 'k1' },
                { channel: '/meta/subscribe', clientId, subscription: '/foo', id: 'k2' },
                { channel: '/meta/unsubscribe', clientId, subscription: '/foo', id: 'k3' },
                { channel: '/foo', clientId, data: { x: 1 }, id: 'k4' },
                { channel: '/meta/disconnect', clientId, id: 'k5' },
            ];
            for (const m of msgs) {
                const res = await post(url(), [m], { cookieJar: jar });
                assertJsonReply(res, `${m.channel} with unknown clientId`);
                assert.ok(res.elapsed < PROMPT_MS, 'answered at once');
                const reply = res.json.find((r) => r.id === m.id);
                assertBayeuxError(reply, { id: m.id, channel: m.channel, error: '402::session_unknown', advice: SESSION_ADVICE });
            }
        }
    });

    test('missing clientId: 402::client_id_missing with handshake advice', T, async () => {
        const msgs = [
            { channel: '/meta/connect', connectionType: 'long-polling', id: 'm1' },
            { channel: '/meta/subscribe', subscription: '/foo', id: 'm2' },
            { channel: '/meta/unsubscribe', subscription: '/foo', id: 'm3' },
            { channel: '/meta/disconnect', id: 'm4' },
        ];
        for (const m of msgs) {
            const res = await post(url(), [m], { cookieJar: new CookieJar() });
            assertJsonReply(res, `${m.channel} without clientId`);
            assertBayeuxError(res.json.find((r) => r.id === m.id), { id: m.id, channel: m.channel, error: '402::client_id_missing', advice: SESSION_ADVICE });
        }
    });

    test('every Bayeux error of the spec', T, async () => {
        const a = await client().start([]);
        const id = a.clientId;
        const cases = [
            [{ clientId: id, data: {}, id: 'e1' }, '400::channel_missing', undefined],
            [{ channel: '/meta/subscribe', clientId: id, id: 'e2' }, '400::subscription_missing'],
            [{ channel: '/meta/unsubscribe', clientId: id, id: 'e2u' }, '400::subscription_missing'],
            [{ channel: '/pub/nodata', clientId: id, id: 'e3' }, '400::data_missing'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: 'chat', id: 'e4' }, '405:chat:channel_invalid'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/chat/**/x', id: 'e5' }, '405:/chat/**/x:channel_invalid'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/chat/*/x', id: 'e5b' }, '405:/chat/*/x:channel_invalid'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/chat//x', id: 'e6' }, '405:/chat//x:channel_invalid'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/chat/a b', id: 'e7' }, '405:/chat/a b:channel_invalid'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/chat/x*', id: 'e8' }, '405:/chat/x*:channel_invalid'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/', id: 'e9' }, '405:/:channel_invalid'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/chat/', id: 'e9b' }, '405:/chat/:channel_invalid'],
            [{ channel: '/chat/*', clientId: id, data: 1, id: 'e10' }, '405:/chat/*:channel_invalid'],
            [{ channel: '/chat/**', clientId: id, data: 1, id: 'e11' }, '405:/chat/**:channel_invalid'],
            [{ channel: 'nochannel', clientId: id, data: 1, id: 'e12' }, '405:nochannel:channel_invalid'],
            [{ channel: '/chat/a%b', clientId: id, data: 1, id: 'e12b' }, '405:/chat/a%b:channel_invalid'],
            [{ channel: '/meta/foo', clientId: id, data: 1, id: 'e13' }, '403:/meta/foo:publish_denied'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/meta/connect', id: 'e14' }, '403:/meta/connect:subscribe_denied'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/meta/**', id: 'e15' }, '403:/meta/**:subscribe_denied'],
            [{ channel: '/meta/subscribe', clientId: id, subscription: '/meta/*', id: 'e16' }, '403:/meta/*:subscribe_denied'],
            [{ channel: '/meta/connect', clientId: id, connectionType: 'flash', id: 'e17' }, '301:flash:connection_type_unsupported'],
        ];
        // handshake failures (no clientId is handed out); <types> of the 301 may be rendered as a list
        const handshakeCases = [
            [{ channel: '/meta/handshake', version: '2.0', supportedConnectionTypes: ['long-polling'], id: 'h1' }, '300:2.0:version_unsupported'],
            [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['flash'], id: 'h2' }, /^301:[^:]*flash[^:]*:connection_type_unsupported$/],
        ];
        // Check every case and report all mismatches at once.
        const mismatches = [];
        for (const [msg, error] of [...cases, ...handshakeCases]) {
            const hs = msg.channel === '/meta/handshake';
            const res = await post(url(), [msg], { cookieJar: hs ? new CookieJar() : a.jar });
            try {
                assertJsonReply(res, JSON.stringify(msg));
                const reply = res.json.find((r) => r.id === msg.id);
                assertBayeuxError(reply, { id: msg.id, error, channel: msg.channel });
                if (hs) assert.equal(reply.clientId, undefined, 'no clientId on a failed handshake');
            } catch (e) {
                mismatches.push(`> ${JSON.stringify(msg)}\n< ${res.status} ${res.text}\n  expected error ${error}: ${e.message.split('\n')[0]}`);
            }
        }
        assert.deepEqual(mismatches, [], `Bayeux errors not as specified:\n${mismatches.join('\n')}`);
        // the session that received all those errors still works
        const ch = uniqueChannel('/after-errors');
        assert.equal((await a.subscribe(ch)).successful, true);
        await a.publish(ch, 'fine');
        assert.deepEqual((await drain(a)).map((m) => m.data), ['fine']);
    });

    test('multiple clients: a second long-poll from the same BAYEUX_BROWSER gets multiple-clients advice', T, async () => {
        const ch = uniqueChannel('/mc');
        const jar = new CookieJar();
        const c1 = new BayeuxClient(url(), { cookieJar: jar });
        const c2 = new BayeuxClient(url(), { cookieJar: jar });
        await c1.handshake();
        const cookie = jar.get('BAYEUX_BROWSER');
        assert.ok(cookie, 'first handshake set the browser cookie');
        await c2.handshake();
        assert.equal(browserCookie(c2.lastResponse), undefined, 'second session of the browser keeps the cookie');
        assert.equal((await c1.subscribe(ch)).successful, true);
        assert.equal((await c1.connect()).reply.successful, true);
        assert.equal((await c2.connect()).reply.successful, true);

        const held1 = c1.connect();
        assert.equal(await stillPendingAfter(held1, 500), true, 'c1 long-polls');
        const r2 = await c2.connect();
        assert.ok(r2.elapsed < PROMPT_MS, `c2 answered at once (${r2.elapsed} ms)`);
        assert.equal(r2.reply.successful, true);
        assert.ok(r2.reply.advice, `advice in ${JSON.stringify(r2.reply)}`);
        assert.equal(r2.reply.advice['multiple-clients'], true);
        assert.equal(r2.reply.advice.reconnect, 'retry');
        assert.equal(r2.reply.advice.interval, 2000);
        assert.equal(await stillPendingAfter(held1, 200), true, 'c1 is still held');

        const pub = await client().start([]);
        await pub.publish(ch, 'for c1');
        const r1 = await within(held1, PROMPT_MS, 'c1 release');
        assert.deepEqual(r1.messages.map((m) => m.data), ['for c1']);

        // With c1 no longer polling, c2 may hold a connect again.
        const held2 = c2.connect();
        assert.equal(await stillPendingAfter(held2, 500), true, 'c2 held once c1 stopped polling');
        await c2.disconnect();
        await within(held2, PROMPT_MS, 'c2 release on disconnect');
        await c1.disconnect();
    });

    test('separate browsers long-poll side by side without multiple-clients advice', T, async () => {
        const ch = uniqueChannel('/sep');
        const cs = [];
        for (let i = 0; i < 3; i++) cs.push(await client().start([ch]));
        const held = cs.map((c) => c.connect());
        for (const h of held) assert.equal(await stillPendingAfter(h, 100), true);
        await (await client().start([])).publish(ch, 'all');
        for (const h of held) {
            const r = await within(h, PROMPT_MS, 'release');
            assert.deepEqual(r.messages.map((m) => m.data), ['all']);
            assert.ok(!r.reply.advice || !r.reply.advice['multiple-clients']);
        }
    });

    testLighttpdHealthy(fx, T);
});
