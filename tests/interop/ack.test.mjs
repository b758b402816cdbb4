// The ack extension against the real CometD client and its AckExtension:
// a TCP proxy between the client and lighttpd resets the client's connection
// in the middle of every third /meta/connect response that carries messages
// (the bytes reach the proxy, the client never gets them, as with a network
// that drops).  With acks nothing is lost or duplicated; without them the
// messages of every dropped response are gone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { AckExtension } from 'cometd/AckExtension.js';
import {
    startLighttpd, useServers, testLighttpdHealthy, uniqueChannel, BayeuxClient, SLOW,
} from '../integration/harness.mjs';
import { T, cometdClient, cometdHandshake, cometdSubscribe, cometdStop, sleep, within } from './lib.mjs';

/**
 * A proxy to 127.0.0.1:port. Every `every`-th response chunk from upstream that
 * holds a /meta/connect reply and `marker` is not forwarded: the client's
 * socket is reset instead (whatever of that response was already forwarded
 * stays a truncated response). Returns { port, dropped, close() }.
 */
async function resettingProxy(port, marker, every) {
    const sockets = new Set();
    let seen = 0;
    const proxy = { port: 0, dropped: 0, connections: 0 };
    const server = net.createServer((client) => {
        proxy.connections++;
        const up = net.connect(port, '127.0.0.1');
        sockets.add(client); sockets.add(up);
        client.on('close', () => { sockets.delete(client); up.destroy(); });
        up.on('close', () => { sockets.delete(up); client.destroy(); });
        client.on('error', () => {});
        up.on('error', () => {});
        client.on('data', (d) => up.write(d));
        up.on('data', (d) => {
            const text = d.toString('latin1');
            if (text.includes('"/meta/connect"') && text.includes(marker) && ++seen % every === 0) {
                proxy.dropped++;
                client.resetAndDestroy();
                up.destroy();
                return;
            }
            client.write(d);
        });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy.port = server.address().port;
    proxy.close = () => new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(resolve);
    });
    return proxy;
}

describe('ack extension: CometD AckExtension through connections reset mid-response', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ responderArgs: ['--timeout', '2000'] }),
    }));

    /**
     * Publishes N numbered messages (one every 25 ms) to a CometD receiver that
     * goes through the resetting proxy; returns { received, dropped, lastAck }.
     */
    async function run(withAck, N = 60) {
        const ch = uniqueChannel('/ack');
        const proxy = await resettingProxy(fx.s.lighttpd.port, ch, 3);
        const url = `http://127.0.0.1:${proxy.port}/cometd`;
        // a short back-off: the client reconnects soon after each reset
        const c = cometdClient(url, { config: { backoffIncrement: 50, maxBackoff: 500 } });
        if (withAck) c.cometd.registerExtension('ack', new AckExtension());
        const received = [];
        try {
            const hs = await cometdHandshake(c);
            assert.equal(!!(hs.ext && hs.ext.ack === true), withAck, `ext.ack in the handshake reply: ${JSON.stringify(hs)}`);
            await cometdSubscribe(c, ch, (m) => received.push(m.data.n));
            const pub = await new BayeuxClient(fx.s.lighttpd.url).start([]);
            for (let i = 0; i < N; i++) {
                const r = await pub.publish(ch, { n: i });
                assert.equal(r.successful, true, JSON.stringify(r));
                await sleep(25);
            }
            await pub.disconnect();
            if (withAck) {
                const end = Date.now() + 15000 * SLOW;
                while (new Set(received).size < N && Date.now() < end) await sleep(50);
            } else {
                // nothing is resent without acks: what has not come by now
                // (several poll timeouts later) never will
                await sleep(3000 * SLOW);
            }
            const acks = c.connects.filter((m) => m.successful && m.ext && typeof m.ext.ack === 'number');
            return { received, dropped: proxy.dropped, acks: acks.length };
        } finally {
            await cometdStop(c);
            await proxy.close();
        }
    }

    test('with acks: every message exactly once and in order, although responses were dropped', T, async (t) => {
        const N = 60;
        const r = await within(run(true, N), 50000 * SLOW, 'ack run');
        t.diagnostic(`dropped responses ${r.dropped}, received ${r.received.length}, connect replies with ext.ack ${r.acks}`);
        assert.ok(r.dropped >= 3, `the proxy dropped responses carrying messages: ${r.dropped}`);
        assert.ok(r.acks > 0, 'connect replies carry batch numbers');
        assert.deepEqual(r.received, Array.from({ length: N }, (_, i) => i), 'all, once, in order');
    });

    test('without acks: the messages of dropped responses are lost (and none duplicated)', T, async (t) => {
        const N = 60;
        const r = await within(run(false, N), 50000 * SLOW, 'no-ack run');
        const lost = N - new Set(r.received).size;
        t.diagnostic(`dropped responses ${r.dropped}, received ${r.received.length}, lost ${lost}`);
        assert.ok(r.dropped >= 1, `the proxy dropped responses carrying messages: ${r.dropped}`);
        assert.ok(lost >= r.dropped, `at least one message lost per dropped response: lost ${lost}`);
        assert.equal(new Set(r.received).size, r.received.length, 'no duplicates');
        assert.equal(r.acks, 0, 'no batch numbers without the extension');
    });

    testLighttpdHealthy(fx);
});
