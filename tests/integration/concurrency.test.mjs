// Many clients long-polling, publishing, subscribing and leaving at the same
// time behind lighttpd: every message reaches every subscriber exactly once,
// in each publisher's order. Under the sanitizer builds this is also the run
// in which ASan/TSan watch the responder's threads race each other.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startLighttpd, useServers, BayeuxClient, sleep, SANITIZER, SLOW, testLighttpdHealthy,
} from './harness.mjs';

const RECEIVERS = SANITIZER === 'tsan' ? 30 : 60;
const PUBLISHERS = 8;
const PER_PUBLISHER = 40;
const ROOMS = 5;
const T = { timeout: 120000 * SLOW };

describe('concurrent publish, long-poll and churn behind lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '3000', '--max-interval', '60000'] }),
    }));

    test('every message reaches every subscriber exactly once, in publisher order', T, async () => {
        const url = fx.s.lighttpd.url;
        const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
        const room = (i) => `/stress/r${i % ROOMS}`;
        // even receivers: their room only; odd ones: their room and the
        // one-level wildcard, which matches it again (must not double)
        const receivers = Array.from({ length: RECEIVERS }, (_, i) => ({
            i, client: new BayeuxClient(url, { agent }),
            subs: i % 2 ? [room(i), '/stress/*'] : [room(i)], got: [],
        }));
        await Promise.all(receivers.map((r) => r.client.start(r.subs)));

        let stop = false;
        const polling = receivers.map(async (r) => {
            while (!stop) {
                const { reply, messages } = await r.client.connect();
                assert.ok(reply && reply.successful, `connect failed: ${JSON.stringify(reply)}`);
                for (const m of messages) if (m.channel.startsWith('/stress/')) r.got.push(m);
            }
        });

        // churn: sessions that come and go on the same channels meanwhile
        const churn = (async () => {
            while (!stop) {
                const c = new BayeuxClient(url, { agent });
                await c.start([room(Math.floor(Math.random() * ROOMS)), '/stress/**']);
                await c.connect({ timeout: 0 });
                await c.disconnect();
            }
        })();

        const publishers = Array.from({ length: PUBLISHERS }, () => new BayeuxClient(url, { agent }));
        await Promise.all(publishers.map((p) => p.start([])));
        const sent = [];
        await Promise.all(publishers.map(async (p, pi) => {
            for (let seq = 0; seq < PER_PUBLISHER; seq++) {
                const ch = room(Math.floor(Math.random() * ROOMS));
                const data = { p: pi, seq };
                if (seq % 5 === 4) {
                    // a Faye-style batch: a connect and a publish in one request
                    const msgs = [
                        { channel: '/meta/connect', clientId: p.clientId, connectionType: 'long-polling', advice: { timeout: 0 }, id: p.nextId() },
                        { channel: ch, clientId: p.clientId, data, id: p.nextId() },
                    ];
                    const replies = await p.send(msgs);
                    assert.ok(replies.find((x) => x.id === msgs[1].id).successful);
                } else {
                    const reply = await p.publish(ch, data);
                    assert.ok(reply.successful, JSON.stringify(reply));
                }
                sent.push({ ch, p: pi, seq });
                if (Math.random() < 0.3) await sleep(Math.random() * 5);
            }
        }));

        const expected = (r) => sent.filter((m) => m.ch === room(r.i) || r.subs.includes('/stress/*'));
        const deadline = Date.now() + 20000 * SLOW;
        while (Date.now() < deadline && receivers.some((r) => r.got.length < expected(r).length)) await sleep(100);
        await sleep(500);   // anything extra (a duplicate) would arrive now
        stop = true;
        await Promise.all([...polling, churn]);
        agent.destroy();

        for (const r of receivers) {
            const want = expected(r);
            const key = (m) => `${m.p}:${m.seq}`;
            const got = r.got.map((m) => ({ ch: m.channel, p: m.data.p, seq: m.data.seq }));
            assert.equal(new Set(got.map(key)).size, got.length, `receiver ${r.i}: duplicates`);
            assert.deepEqual(new Set(got.map(key)), new Set(want.map(key)), `receiver ${r.i}: lost or extra messages`);
            for (let p = 0; p < PUBLISHERS; p++) {
                const seqs = got.filter((m) => m.p === p).map((m) => m.seq);
                assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `receiver ${r.i}: publisher ${p} out of order`);
            }
        }
    });

    testLighttpdHealthy(fx, T);
});
