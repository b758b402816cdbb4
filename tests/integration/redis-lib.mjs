// Helpers of the Redis tests: a real redis-server started and stopped by
// PID, the status page's "redis" member, and collecting delivered messages.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request, sleep, freePort, SLOW } from './harness.mjs';

export const T = { timeout: 90000 * SLOW };
const REDIS = process.env.REDIS_SERVER || '/usr/bin/redis-server';

/** A redis-server on 127.0.0.1:port, no persistence; stop() by PID. */
export async function startRedis(port) {
    const child = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
        '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const end = Date.now() + 10000 * SLOW;
    while (!/Ready to accept connections/.test(out)) {
        if (child.exitCode !== null || Date.now() > end) throw new Error(`redis-server did not start: ${out}`);
        await sleep(20);
    }
    return {
        pid: child.pid,
        async stop() {
            if (child.exitCode !== null) return;
            const gone = new Promise((r) => child.once('exit', r));
            child.kill('SIGKILL');
            await gone;
        },
    };
}

export async function status(url, opts = {}) {
    const res = await request(`${url}/status`, opts);
    assert.equal(res.status, 200);
    return JSON.parse(res.text);
}

export async function waitRedisState(url, state, what, opts = {}) {
    const end = Date.now() + 30000 * SLOW;
    let s;
    while ((s = (await status(url, opts)).redis) && s.state !== state) {
        if (Date.now() > end) assert.fail(`${what}: redis state ${JSON.stringify(s)}, want ${state}`);
        await sleep(100);
    }
    assert.ok(s, 'status has a redis member');
}

/** Connects until `n` messages on it arrived (or the bound passes); returns their data. */
export async function collect(client, n, ms = 10000 * SLOW) {
    const got = [];
    const end = Date.now() + ms;
    while (got.length < n && Date.now() < end) {
        const r = await client.connect({ timeout: 1000 });
        got.push(...r.messages.map((m) => m.data));
    }
    return got;
}

/** A redis-server for the enclosing describe: { port, server } once started. */
export function useRedis() {
    const r = { port: 0, server: null };
    before(async () => {
        r.port = await freePort();
        r.server = await startRedis(r.port);
    });
    after(async () => { if (r.server) await r.server.stop(); });
    return r;
}
