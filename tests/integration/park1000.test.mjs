// 1,000 clients parked at once behind lighttpd, released by one publish.
// (300 under ThreadSanitizer.)  Speed is reported, not asserted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
    startLighttpd, useServers, BayeuxClient, sleep, within, uniqueChannel, SANITIZER, SLOW, testLighttpdHealthy,
} from './harness.mjs';

const N = Number(process.env.PARK_CLIENTS) || (SANITIZER === 'tsan' ? 300 : 1000);
const SERVER_TIMEOUT = 60000; // no held connect may time out during the test
const T = { timeout: 180000 * SLOW };

async function pool(items, concurrency, fn) {
    let next = 0;
    const workers = Array.from({ length: concurrency }, async () => {
        while (next < items.length) {
            const i = next++;
            await fn(items[i], i);
        }
    });
    await Promise.all(workers);
}

describe(`${N} clients parked at once behind lighttpd`, () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({
            responderArgs: ['--timeout', String(SERVER_TIMEOUT), '--max-interval', '120000'],
            maxFds: 8192, maxConnections: 4000,
        }),
    }));

    test(`${N} held connects all receive one publish`, T, async (t) => {
        const url = fx.s.lighttpd.url;
        const agent = new http.Agent({ keepAlive: true, maxSockets: N + 100 });
        try {
            const ch = uniqueChannel('/room');
            // each client its own cookie jar (its own BAYEUX_BROWSER): no multiple-clients advice
            const clients = Array.from({ length: N }, () => new BayeuxClient(url, { agent }));
            const tSetup = performance.now();
            await pool(clients, 50, async (c) => { await c.start([ch]); });
            const setupMs = performance.now() - tSetup;
            const cookies = new Set(clients.map((c) => c.jar.get('BAYEUX_BROWSER')));
            assert.equal(cookies.size, N, 'every client has its own browser cookie');

            // park one connect per client
            const early = [];
            let publishAt = null;
            const flushed = [];
            const results = clients.map((c) => {
                const msg = { channel: '/meta/connect', clientId: c.clientId, connectionType: 'long-polling', id: c.nextId() };
                let written;
                flushed.push(new Promise((r) => { written = r; }));
                const onRequest = (req) => { req.once('finish', written); req.once('error', written); };
                return c.send([msg], { timeoutMs: SERVER_TIMEOUT + 30000, onRequest }).then((all) => {
                    const at = performance.now();
                    if (publishAt === null) early.push(all);
                    return { all, at, msg };
                }, (err) => { written(); return { err, at: performance.now(), msg }; });
            });
            // every request written to its socket, then time for lighttpd and the
            // responder to park them all
            await within(Promise.all(flushed), 30000 * SLOW, 'writing the held connects');
            await sleep(1500 * SLOW);
            assert.equal(early.length, 0, `connects answered before any publish: ${JSON.stringify(early.slice(0, 3))}`);

            const publisher = await new BayeuxClient(url, { agent }).start([]);
            publishAt = performance.now();
            const pub = await publisher.publish(ch, { text: 'to everyone', sent: Date.now() }, { id: 'all' });
            assert.deepEqual(pub, { id: 'all', channel: ch, successful: true });
            const done = await within(Promise.all(results), 60000 * SLOW, `all ${N} deliveries`);

            const failures = done.filter((r) => r.err || !r.all);
            assert.equal(failures.length, 0, `failed connects: ${failures.slice(0, 3).map((f) => f.err && f.err.message)}`);
            let bad = 0;
            for (const { all } of done) {
                const reply = all.find((m) => m.channel === '/meta/connect');
                const msgs = all.filter((m) => m.channel === ch);
                if (!reply || reply.successful !== true || msgs.length !== 1 || msgs[0].data.text !== 'to everyone' || msgs[0].id !== 'all') bad++;
            }
            assert.equal(bad, 0, `${bad} of ${N} clients did not get exactly the one message`);
            const last = Math.max(...done.map((r) => r.at)) - publishAt;
            const first = Math.min(...done.map((r) => r.at)) - publishAt;
            const rate = N / (last / 1000);
            const line = `${N} clients: setup ${setupMs.toFixed(0)} ms; after the publish first delivery ${first.toFixed(0)} ms, last ${last.toFixed(0)} ms, ${rate.toFixed(0)} responses/s (sanitizer: ${SANITIZER})`;
            t.diagnostic(line);
            console.log(line);
        } finally {
            agent.destroy();
        }
    });

    testLighttpdHealthy(fx, { timeout: 60000 * SLOW });
});
