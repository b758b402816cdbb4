// Limits through lighttpd: a slow consumer's bounded queue (oldest dropped,
// counted in /cometd/status), the publish rate (429 for the flooder only),
// held connects in total (503 with retry advice, the session keeps its
// messages) and the status endpoint itself.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    startLighttpd, useServers, testLighttpdHealthy, BayeuxClient, request, uniqueChannel, SLOW,
} from './harness.mjs';

const T = { timeout: 60000 * SLOW };

async function status(url) {
    const res = await request(`${url}/status`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['content-type'], /^application\/json/);
    return JSON.parse(res.text);
}

describe('limits behind lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({
            responderArgs: ['--timeout', '3000', '--max-queue', '5', '--publish-rate', '2',
                '--publish-burst', '4', '--max-polls', '2'],
        }),
    }));
    test('status: state, limits and counters as JSON', T, async () => {
        const s = await status(fx.s.lighttpd.url);
        assert.match(s.version, /^\d+\.\d+\.\d+/);
        assert.equal(typeof s.uptime_s, 'number');
        assert.equal(typeof s.pid, 'number');
        for (const k of ['sessions', 'held_polls', 'channels', 'rooms']) assert.equal(typeof s[k], 'number', k);
        assert.equal(s.limits.max_queue, 5);
        assert.equal(s.limits.publish_rate, 2);
        assert.equal(s.limits.max_polls, 2);
        for (const k of ['requests', 'messages_published', 'messages_dropped', 'limit_publish_rate', 'limit_polls'])
            assert.equal(typeof s.counters[k], 'number', k);
        // a POST to the same path is Bayeux, not status
        const res = await request(`${fx.s.lighttpd.url}/status`, { method: 'POST', body: '[]',
            headers: { 'content-type': 'application/json' } });
        assert.equal(res.status, 400);
    });

    test('status: the same figures in the Prometheus text format', T, async () => {
        const url = fx.s.lighttpd.url;
        const c = await new BayeuxClient(url).start([]);
        await c.publish('/meta/nope', 'x');   // one Bayeux error to count
        const json = await status(url);
        const res = await request(`${url}/status?format=prometheus`);
        assert.equal(res.status, 200);
        assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
        const samples = new Map();
        for (const line of res.text.split('\n')) {
            if (!line || line.startsWith('#')) continue;
            const m = /^([a-z_]+(?:\{[^}]*\})?) (\d+(?:\.\d+)?)$/.exec(line);
            assert.ok(m, `a valid sample line: ${JSON.stringify(line)}`);
            samples.set(m[1], Number(m[2]));
        }
        assert.match(res.text, /^# TYPE bayeux_requests_total counter$/m);
        assert.match(res.text, /^# TYPE bayeux_sessions gauge$/m);
        assert.equal(samples.get(`bayeux_build_info{version="${json.version}"}`), 1);
        for (const k of ['sessions', 'held_polls', 'channels', 'rooms', 'uptime_seconds']) assert.ok(samples.has(`bayeux_${k}`), k);
        for (const k of Object.keys(json.counters).filter((k) => k !== 'errors')) assert.ok(samples.has(`bayeux_${k}_total`), k);
        for (const [code, n] of Object.entries(json.counters.errors)) {
            assert.ok(samples.get(`bayeux_errors_total{code="${code}"}`) >= n, `errors ${code}`);
        }
        assert.ok(Object.keys(json.counters.errors).length > 0, 'an error was counted');
        assert.ok(samples.get('bayeux_requests_total') >= json.counters.requests);
        await c.disconnect();
    });

    test('status: members, messages delivered and their latency, the queue high-water mark', T, async () => {
        const url = fx.s.lighttpd.url;
        const ch = uniqueChannel('/lat');
        const sub = await new BayeuxClient(url).start([ch]);
        const pub = await new BayeuxClient(url).start([]);
        const before = await status(url);
        const held = sub.connect({ timeout: 3000 });
        for (let i = 0; i < 50 && (await status(url)).held_polls < 1; i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal((await pub.publish(ch, { n: 1 })).successful, true);
        assert.deepEqual((await held).messages.map((m) => m.data.n), [1]);
        // a chat member: /service/members joins a room
        const member = await new BayeuxClient(url).start([]);
        const j = await member.publish('/service/members', { user: 'ann', room: 'status-room' });
        assert.equal(j.successful, true, JSON.stringify(j));
        const after = await status(url);
        assert.ok(after.counters.messages_delivered >= before.counters.messages_delivered + 1, 'counted out');
        const l = after.delivery_latency_ms;
        assert.ok(l.count >= before.delivery_latency_ms.count + 1, 'the delivery timed');
        for (const k of ['mean', 'p50', 'p90', 'p99', 'max']) assert.equal(typeof l[k], 'number', k);
        assert.ok(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
        assert.ok(after.queue_high_water >= 1);
        assert.equal(after.members, before.members + 1);
        assert.ok(after.rooms >= 1);
        // the histogram in the Prometheus format: cumulative, ending at the count
        const prom = (await request(`${url}/status?format=prometheus`)).text;
        assert.match(prom, /^# TYPE bayeux_delivery_latency_seconds histogram$/m);
        const buckets = [...prom.matchAll(/^bayeux_delivery_latency_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)]
            .map((m) => [m[1], Number(m[2])]);
        assert.equal(buckets.at(-1)[0], '+Inf');
        for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1], 'cumulative');
        const count = Number(/^bayeux_delivery_latency_seconds_count (\d+)$/m.exec(prom)[1]);
        assert.equal(buckets.at(-1)[1], count);
        assert.ok(count >= l.count);
        assert.match(prom, /^bayeux_members \d+$/m);
        assert.match(prom, /^bayeux_queue_high_water \d+$/m);
        for (const c of [sub, pub, member]) await c.disconnect();
    });

    test('a slow consumer keeps the newest --max-queue messages; the drops are counted', T, async () => {
        const url = fx.s.lighttpd.url;
        const ch = uniqueChannel('/slow');
        const slow = await new BayeuxClient(url).start([ch]);
        const before = (await status(url)).counters.messages_dropped;
        // several publishers, so the rate limit (per session) is not what refuses
        for (let i = 0; i < 12; i++) {
            const pub = await new BayeuxClient(url).start([]);
            const r = await pub.publish(ch, { n: i });
            assert.equal(r.successful, true, JSON.stringify(r));
            await pub.disconnect();
        }
        const c = await slow.connect();
        assert.deepEqual(c.messages.map((m) => m.data.n), [7, 8, 9, 10, 11], 'the newest five, in order');
        const s = await status(url);
        assert.equal(s.counters.messages_dropped - before, 7);
        assert.equal(s.queue_high_water, 5, 'the queue was full');
        await slow.disconnect();
    });

    test('publish rate: past the burst the flooder gets 429 with the wait; others publish on', T, async () => {
        const url = fx.s.lighttpd.url;
        const ch = uniqueChannel('/rate');
        const flooder = await new BayeuxClient(url).start([]);
        const other = await new BayeuxClient(url).start([ch]);
        const replies = [];
        for (let i = 0; i < 6; i++) replies.push(await flooder.publish(ch, i));
        const ok = replies.filter((r) => r.successful).length;
        assert.ok(ok >= 4 && ok <= 5, `the burst of 4 (plus at most one refilled): ${ok}`);
        const refused = replies.filter((r) => !r.successful);
        assert.ok(refused.length >= 1);
        for (const r of refused) {
            const m = /^429:(\d+):publish_rate_exceeded$/.exec(r.error);
            assert.ok(m, r.error);
            assert.ok(Number(m[1]) >= 1 && Number(m[1]) <= 500, `wait ${m[1]} ms within one token at 2/s`);
        }
        const r = await other.publish(ch, 'still fine');
        assert.equal(r.successful, true);
        const c = await other.connect();
        assert.deepEqual(c.messages.map((m) => m.data).filter((d) => d === 'still fine'), ['still fine']);
        await flooder.disconnect();
        await other.disconnect();
    });

    test('held connects in total: the third gets 503 with retry advice and keeps its messages', T, async () => {
        const url = fx.s.lighttpd.url;
        const ch = uniqueChannel('/polls');
        const a = await new BayeuxClient(url).start([ch]);
        const b = await new BayeuxClient(url).start([ch]);
        const c = await new BayeuxClient(url).start([ch]);
        const ha = a.connect();
        const hb = b.connect();
        for (let i = 0; i < 50 && (await status(url)).held_polls < 2; i++) await new Promise((r) => setTimeout(r, 50));
        const rc = await c.connect();
        assert.equal(rc.reply.successful, false);
        assert.equal(rc.reply.error, '503::too_many_polls');
        assert.deepEqual(rc.reply.advice, { reconnect: 'retry', interval: 1000 });
        const pub = await new BayeuxClient(url).start([]);
        await pub.publish(ch, 'for all');
        for (const h of [await ha, await hb]) assert.deepEqual(h.messages.map((m) => m.data), ['for all']);
        const again = await c.connect();
        assert.equal(again.reply.successful, true);
        assert.deepEqual(again.messages.map((m) => m.data), ['for all'], 'queued while refused');
        assert.ok((await status(url)).counters.limit_polls >= 1);
        for (const x of [a, b, c, pub]) await x.disconnect();
    });

    test('the log: one line per limit now and then, not one per refusal', T, async () => {
        const url = fx.s.lighttpd.url;
        const flooder = await new BayeuxClient(url).start([]);
        for (let i = 0; i < 20; i++) await flooder.publish('/rate/log', i);   // 16 or more refused
        await flooder.disconnect();
        for (let i = 0; i < 5; i++) {
            const r = await request(`${url}`, { method: 'POST', body: '[{"channel":',
                headers: { 'content-type': 'application/json' } });
            assert.equal(r.status, 400);
        }
        const log = fx.s.lighttpd.outLog();
        const lines = (re) => log.split('\n').filter((l) => re.test(l));
        // the earlier tests hit the rate limit too: one line, and one more
        // only if 10 s passed (a slow sanitizer build), saying what it held back
        const rate = lines(/ info stats\.c:\d+: limit: Publishes refused: over --publish-rate\./);
        assert.ok(rate.length === 1 || (rate.length === 2 && / \(and \d+ more since the last such line\)$/.test(rate[1])),
            rate.join('\n'));
        assert.equal(lines(/ warn stats\.c:\d+: limit: Connects refused: --max-polls reached\./).length, 1);
        const http = lines(/ info fcgi_transport\.c:\d+: HTTP \d{3}: /);
        assert.ok(http.length >= 1 && http.length <= 2, http.join('\n'));
        // the full queue of the slow consumer: 7 drops, one line
        assert.equal(lines(/ warn session\.c:\d+: session [0-9a-f]{8}\.\.\.: queue full \(5\)/).length, 1);
        // and nothing logged per message or per request at the default level
        assert.equal(lines(/ debug /).length, 0);
    });

    testLighttpdHealthy(fx);
});
