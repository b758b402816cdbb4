// Long-poll timeout and session expiry, with a responder started with
// --timeout 2000 --max-interval 1000 behind lighttpd.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    startLighttpd, useServers, BayeuxClient, sleep, within, uniqueChannel, assertBayeuxError, drain,
    SESSION_ADVICE, PROMPT_MS, SLOW, testLighttpdHealthy,
} from './harness.mjs';

const TIMEOUT = 2000;
const MAX_INTERVAL = 1000;
const T = { timeout: 60000 * SLOW };

describe('bayeux-fcgi behind lighttpd: --timeout 2000 --max-interval 1000', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', String(TIMEOUT), '--max-interval', String(MAX_INTERVAL)] }),
    }));
    const client = () => new BayeuxClient(fx.s.lighttpd.url);

    test('handshake advertises the configured timeout', T, async () => {
        const c = client();
        const hs = await c.handshake();
        assert.equal(hs.successful, true);
        assert.equal(hs.advice.timeout, TIMEOUT);
        assert.equal(hs.advice.reconnect, 'retry');
    });

    test('a connect with nothing to deliver is held for the server timeout, then answered successfully', T, async () => {
        const a = await client().start([uniqueChannel('/to')]);
        const r = await a.connect();
        assert.ok(r.elapsed >= 0.8 * TIMEOUT, `held ${r.elapsed} ms, at least 80% of ${TIMEOUT}`);
        assert.ok(r.elapsed < TIMEOUT + 3000 * SLOW, `answered after ${r.elapsed} ms`);
        assert.equal(r.reply.successful, true);
        assert.equal(r.reply.id, r.request.id);
        assert.deepEqual(r.messages, []);
        // A client asking for longer than the server allows still gets the server's timeout.
        const r2 = await a.connect({ timeout: 60000 });
        assert.ok(r2.elapsed >= 0.8 * TIMEOUT && r2.elapsed < TIMEOUT + 3000 * SLOW, `advice.timeout 60000 capped: ${r2.elapsed} ms`);
        assert.equal(r2.reply.successful, true);
    });

    test('a session whose connect is held longer than --max-interval does not expire', T, async () => {
        const ch = uniqueChannel('/alive');
        const a = await client().start([ch]);
        for (let i = 0; i < 2; i++) {
            const r = await a.connect(); // held ~2 s > max-interval
            assert.equal(r.reply.successful, true, `connect ${i}: ${JSON.stringify(r.all)}`);
        }
        const b = await client().start([]);
        await b.publish(ch, 'still here');
        assert.deepEqual((await drain(a)).map((m) => m.data), ['still here'], 'subscription survived');
    });

    test('an idle session expires after --max-interval: 402::session_unknown, subscriptions removed', T, async () => {
        const ch = uniqueChannel('/exp');
        const a = await client().start([ch]);
        const b = await client().start([]);
        await sleep(2500);
        const r = await a.connect();
        assert.ok(r.elapsed < PROMPT_MS, 'answered at once');
        assertBayeuxError(r.reply, { id: r.request.id, channel: '/meta/connect', error: '402::session_unknown', advice: SESSION_ADVICE });
        assertBayeuxError(await a.subscribe(ch, { id: 'x1' }), { id: 'x1', error: '402::session_unknown', advice: SESSION_ADVICE });
        assertBayeuxError(await a.publish(ch, 1, { id: 'x2' }), { id: 'x2', error: '402::session_unknown', advice: SESSION_ADVICE });

        // b also idled 2.5 s: it expired too and must handshake again.
        assertBayeuxError(await b.publish(ch, 1, { id: 'x3' }), { id: 'x3', error: '402::session_unknown' });
        const c = await client().start([]);
        const pub = await c.publish(ch, 'to an expired subscriber', { id: 'x4' });
        assert.deepEqual(pub, { id: 'x4', channel: ch, successful: true }, 'publishing to the expired session\'s channel works');

        // A new subscriber of the same channel gets each message once.
        const w = await client().start([ch]);
        const held = w.connect();
        await sleep(100);
        await c.publish(ch, 'fresh');
        const got = await within(held, PROMPT_MS, 'new subscriber release');
        assert.deepEqual(got.messages.map((m) => m.data), ['fresh']);
        assert.deepEqual(await drain(w), []);
        // and the expired client can start over
        assert.equal((await a.handshake()).successful, true);
    });

    testLighttpdHealthy(fx, T);
});
