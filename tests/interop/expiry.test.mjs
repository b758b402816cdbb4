// Session expiry with real clients: bayeux-fcgi behind lighttpd with
// --max-interval 1000 --timeout 1000.  The client process is paused (its event
// loop blocked) for longer than timeout + max-interval, so it cannot send its
// next /meta/connect and the server expires the session; afterwards the
// clients must re-handshake by themselves, following the server's
// `402::session_unknown` reply and its advice reconnect:"handshake".
//
// Note on CometD: the CometD 9 JavaScript client clears its subscriptions when
// it handshakes again (Client.js #handshake calls clearSubscriptions()), so the
// documented pattern is to subscribe in a /meta/handshake listener; this test
// does that, as the chat page does.  Faye re-subscribes by itself.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLighttpd, useServers, testLighttpdHealthy, uniqueChannel, BayeuxClient,
    assertBayeuxError, SESSION_ADVICE, sleep } from '../integration/harness.mjs';
import { T, WAIT, cometdClient, cometdHandshake, cometdStop, fayeClient, fayeSubscribe,
    fayePublish, fayeStop, inbox, within } from './lib.mjs';

/** Blocks this process (every client in it) for `ms`: no request goes out, no reply is read. */
function freeze(ms) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const FREEZE_MS = 3500; // > timeout 1000 + max-interval 1000, with margin

describe('session expiry (--max-interval 1000 --timeout 1000) through lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--max-interval', '1000', '--timeout', '1000'] }),
    }));
    const url = () => fx.s.lighttpd.url;

    test('raw: a connect after expiry gets 402::session_unknown with advice reconnect:handshake', T, async () => {
        const c = new BayeuxClient(url());
        await c.start([uniqueChannel('/interop/expiry')]);
        const held = await c.connect(); // held for the server's 1 s timeout
        assert.equal(held.reply.successful, true);
        assert.ok(held.elapsed >= 800, `held about 1000 ms (${held.elapsed} ms)`);
        await sleep(2000); // no connect for 2 s > max-interval
        const late = await c.connect();
        assertBayeuxError(late.reply, { channel: '/meta/connect', error: '402::session_unknown', advice: SESSION_ADVICE });
        assert.deepEqual(late.reply.advice, { reconnect: 'handshake', interval: 0 });
        // and the subscription is gone with the session
        const pub = await c.publish(uniqueChannel('/interop/expiry'), { x: 1 });
        assertBayeuxError(pub, { error: '402::session_unknown' });
    });

    test('CometD: re-handshakes by itself after its session expired and receives on its subscription again', T, async () => {
        const ch = uniqueChannel('/interop/expiry');
        const c = cometdClient(url());
        const box = inbox('cometd');
        const subscribed = [];
        // subscribe on every successful handshake (CometD's documented pattern)
        c.cometd.addListener('/meta/handshake', (m) => {
            if (m.successful) c.cometd.subscribe(ch, (msg) => box.push(msg), (r) => subscribed.push(r));
        });
        const pub = fayeClient(url());
        try {
            await cometdHandshake(c);
            await within((async () => { while (subscribed.length < 1) await sleep(20); })(), WAIT, 'first subscribe');
            assert.equal(subscribed[0].successful, true);
            await fayePublish(pub, ch, { n: 1 });
            await box.waitFor((m) => m.data.n === 1, 'before expiry');
            const firstId = c.cometd.getClientId();

            freeze(FREEZE_MS);

            await within((async () => { while (subscribed.length < 2) await sleep(20); })(), WAIT, 're-handshake and re-subscribe');
            assert.equal(subscribed[1].successful, true);
            const failed = c.connects.find((m) => !m.successful);
            assert.ok(failed, `a connect failed after the pause: ${JSON.stringify(c.connects)}`);
            assert.equal(failed.error, '402::session_unknown');
            assert.equal(failed.advice && failed.advice.reconnect, 'handshake');
            assert.equal(c.handshakes.filter((h) => h.successful).length, 2, 'handshook twice');
            assert.equal(c.handshakes[1].reestablish, true, 'CometD reports the session as re-established');
            assert.notEqual(c.cometd.getClientId(), firstId, 'a new session');
            await fayePublish(pub, ch, { n: 2 });
            await box.waitFor((m) => m.data.n === 2, 'after the re-handshake');
        } finally { await fayeStop(pub); await cometdStop(c); }
    });

    test('Faye: re-handshakes and re-subscribes by itself after its session expired', T, async () => {
        const ch = uniqueChannel('/interop/expiry');
        const f = fayeClient(url());
        const pub = new BayeuxClient(url());
        try {
            const box = inbox('faye');
            await fayeSubscribe(f, ch, (d) => box.push(d));
            const firstId = f._dispatcher.clientId;
            await pub.start();
            await pub.publish(ch, { n: 1 });
            await box.waitFor((d) => d.n === 1, 'before expiry');

            freeze(FREEZE_MS);

            await within((async () => {
                while (!(f._dispatcher.clientId && f._dispatcher.clientId !== firstId
                    && f.raw.some((m) => m.channel === '/meta/subscribe' && m.successful && m.subscription === ch && f.raw.indexOf(m) > f.raw.findIndex((x) => x.error === '402::session_unknown')))) await sleep(50);
            })(), WAIT, 'Faye re-handshake and re-subscribe');
            const unknown = f.raw.find((m) => m.error === '402::session_unknown');
            assert.ok(unknown, 'Faye got session_unknown');
            assert.equal(unknown.advice.reconnect, 'handshake');
            const pub2 = new BayeuxClient(url()); // pub's session expired during the pause too
            await pub2.start();
            const r = await pub2.publish(ch, { n: 2 });
            assert.equal(r.successful, true);
            await box.waitFor((d) => d.n === 2, 'after the re-handshake');
        } finally { await fayeStop(f); }
    });

    testLighttpdHealthy(fx, T);
});
