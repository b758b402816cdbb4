// A held connect whose client resets: lighttpd closes the FastCGI connection,
// the responder notices (src/watch.c) and releases the held connect at once
// instead of at its timeout, and a message published after that waits in
// the session's queue for the client's next connect instead of going into a
// reply nobody reads.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
    startLighttpd, useServers, testLighttpdHealthy, BayeuxClient, request, uniqueChannel, sleep,
    stillPendingAfter, SLOW,
} from './harness.mjs';

const T = { timeout: 60000 * SLOW };

async function heldPolls(url) {
    const res = await request(`${url}/status`);
    assert.equal(res.status, 200);
    return JSON.parse(res.text).held_polls;
}

async function waitHeld(url, want, what) {
    const end = Date.now() + 10000 * SLOW;
    let n;
    while ((n = await heldPolls(url)) !== want) {
        if (Date.now() > end) assert.fail(`${what}: held_polls ${n}, want ${want}`);
        await sleep(50);
    }
}

/** A /meta/connect on a socket of its own; returns { req, done } where done settles when it ends. */
function heldConnect(url, client) {
    const body = JSON.stringify([{ channel: '/meta/connect', clientId: client.clientId, connectionType: 'long-polling', id: 'held' }]);
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    const done = new Promise((resolve) => {
        req.on('response', (res) => { res.resume(); res.on('end', () => resolve('answered')); });
        req.on('error', () => resolve('error'));
        req.on('close', () => resolve('closed'));
    });
    req.end(body);
    return { req, done };
}

// lighttpd 1.4.69 closes the FastCGI connection after most client resets,
// not all: now and then it keeps it open, and then nobody can notice until
// the held connect times out. The cases below retry, or count.
describe('a held connect whose client resets is released at once', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '60000'] }),
    }));

    /** Waits until held_polls has not changed for `quietMs`; returns it. */
    async function settled(url, quietMs = 1000 * SLOW) {
        let last = await heldPolls(url);
        let since = Date.now();
        const end = Date.now() + 15000 * SLOW;
        while (Date.now() - since < quietMs && Date.now() < end) {
            await sleep(50);
            const n = await heldPolls(url);
            if (n !== last) { last = n; since = Date.now(); }
        }
        return last;
    }

    test('reset while held: released, and a message published meanwhile is not lost', T, async (t) => {
        const url = fx.s.lighttpd.url;
        for (let attempt = 1; attempt <= 8; attempt++) {
            const ch = uniqueChannel('/hangup');
            const a = await new BayeuxClient(url).start([ch]);
            const before = await heldPolls(url);
            const held = heldConnect(url, a);
            await waitHeld(url, before + 1, 'the connect is held');
            assert.equal(await stillPendingAfter(held.done, 200), true);
            held.req.socket.resetAndDestroy();
            await held.done;
            if (await settled(url) !== before) {
                t.diagnostic(`attempt ${attempt}: lighttpd kept the FastCGI connection; again`);
                await a.disconnect();
                continue;
            }
            // a fresh publisher: attempts can outlast --max-interval (sanitizer builds)
            const b = await new BayeuxClient(url).start([]);
            const r = await b.publish(ch, 'while away');
            assert.equal(r.successful, true);
            const c = await a.connect();
            assert.equal(c.reply.successful, true);
            assert.deepEqual(c.messages.map((m) => m.data), ['while away'], 'queued, not lost');
            await a.disconnect();
            await b.disconnect();
            return;
        }
        assert.fail('no reset released its held connect in 8 attempts');
    });

    test('many reset at once: released as lighttpd closes them, the others stay held and get their message', T, async (t) => {
        const url = fx.s.lighttpd.url;
        const N = 40;
        // now and then lighttpd keeps most FastCGI connections of a burst of
        // resets open (seen once in a loaded run: 1 of 40): another round then
        let best = 0;
        for (let round = 1; round <= 3 && best < N / 2; round++) {
            const ch = uniqueChannel('/hangup-many');
            const clients = [];
            for (let i = 0; i < 2 * N; i++) clients.push(await new BayeuxClient(url).start([ch]));
            const before = await heldPolls(url);
            const helds = clients.map((c) => heldConnect(url, c));
            await waitHeld(url, before + 2 * N, 'all held');
            for (let i = 0; i < N; i++) helds[i].req.socket.resetAndDestroy();
            const left = await settled(url);
            const released = before + 2 * N - left;
            t.diagnostic(`round ${round}: ${released} of ${N} reset connects released`);
            assert.ok(released <= N, 'only reset connects are released');
            best = Math.max(best, released);
            const pub = await new BayeuxClient(url).start([]);
            await pub.publish(ch, 'to all');
            for (let i = N; i < 2 * N; i++) assert.equal(await helds[i].done, 'answered');
            for (const c of [...clients, pub]) await c.disconnect();
            await settled(url);   // the kept ones are answered by the disconnects
        }
        assert.ok(best >= N / 2, `most reset connects released in some round: ${best} of ${N}`);
    });

    testLighttpdHealthy(fx);
});
