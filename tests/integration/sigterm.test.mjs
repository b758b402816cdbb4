// SIGTERM: a standalone responder (--listen 127.0.0.1:port) behind lighttpd
// ("host"/"port" mode) answers its held connects with reconnect "retry"
// advice and exits with status 0.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    startLighttpd, startResponder, useServers, BayeuxClient, within, stillPendingAfter, uniqueChannel,
    sanitizerReports, SLOW,
} from './harness.mjs';

const T = { timeout: 60000 * SLOW };

describe('bayeux-fcgi standalone behind lighttpd: SIGTERM', () => {
    const fx = useServers(async () => {
        const responder = await startResponder({ args: ['--timeout', '20000'] });
        const lighttpd = await startLighttpd({ backend: { host: '127.0.0.1', port: responder.port } });
        return { lighttpd, responder };
    });

    test('held connects are answered with reconnect "retry" and the process exits 0', T, async () => {
        const url = fx.s.lighttpd.url;
        const ch = uniqueChannel('/term');
        const clients = [];
        for (let i = 0; i < 3; i++) clients.push(await new BayeuxClient(url).start([ch]));
        // sanity: the standalone responder delivers through lighttpd
        const pub = await new BayeuxClient(url).start([]);
        await pub.publish(ch, 'before');
        for (const c of clients) {
            const r = await c.connect();
            assert.deepEqual(r.messages.map((m) => m.data), ['before']);
        }
        const held = clients.map((c) => c.connect());
        for (const h of held) assert.equal(await stillPendingAfter(h, 200), true, 'connect parked');

        const t0 = performance.now();
        process.kill(fx.s.responder.pid, 'SIGTERM');
        for (const h of held) {
            const r = await within(h, 5000 * SLOW, 'held connect answered on SIGTERM');
            assert.ok(r.reply, `a /meta/connect reply: ${JSON.stringify(r.all)}`);
            assert.equal(r.reply.id, r.request.id);
            assert.ok(r.reply.advice, `advice in ${JSON.stringify(r.reply)}`);
            assert.equal(r.reply.advice.reconnect, 'retry');
        }
        const exit = await within(fx.s.responder.child.exited, 10000 * SLOW, 'responder exit after SIGTERM');
        assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, `exit status after ${performance.now() - t0} ms`);
        assert.deepEqual(sanitizerReports(fx.s.responder.log()), [], 'no sanitizer reports');
    });
});
