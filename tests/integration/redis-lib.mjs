// Helpers of the Redis tests: a real redis-server started and stopped by
// PID, the status page's "redis" member, collecting delivered messages, and
// a chat user that follows a room's chat and member list.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request, sleep, freePort, BayeuxClient, SLOW } from './harness.mjs';

export const T = { timeout: 90000 * SLOW };
export const BOUND = 20000 * SLOW;   // liveness is 5 s; room for slow builds

let roomSeq = 0;
/** A room name no other test uses. */
export const newRoom = () => `cl${process.pid}x${++roomSeq}`;
export const joined = (r) => assert.equal(r.successful, true, `join: ${JSON.stringify(r)}`);
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

/** A chat user: a Bayeux session subscribed to a room's chat and member list. */
export class ChatUser {
    constructor(url, name, opts = {}) {
        this.url = url;
        this.name = name;
        this.client = new BayeuxClient(url, opts);
        this.inbox = [];
    }

    async start(room) {
        this.room = room;
        this.inbox = [];
        await this.client.start([`/chat/${room}`, `/members/${room}`]);
        return this;
    }

    join(name = this.name) {
        return this.client.publish('/service/members', { user: name, room: this.room });
    }

    async pump(ms = 300) {
        const r = await this.client.connect({ timeout: ms });
        this.inbox.push(...r.messages);
        return r;
    }

    /** The newest member list received, or null. */
    members() {
        const l = this.inbox.filter((m) => m.channel === `/members/${this.room}`);
        return l.length ? l[l.length - 1].data : null;
    }

    chats() {
        return this.inbox.filter((m) => m.channel === `/chat/${this.room}`).map((m) => m.data);
    }

    async until(pred, what, ms = BOUND) {
        const end = Date.now() + ms;
        while (!pred(this)) {
            if (Date.now() > end) {
                assert.fail(`${this.name}: ${what}; last messages ${JSON.stringify(this.inbox.slice(-4))}`);
            }
            await this.pump();
        }
    }

    untilMembers(want, what) {
        const w = [...want].sort();
        return this.until((u) => JSON.stringify(u.members()) === JSON.stringify(w),
            `${what}: want members ${JSON.stringify(w)}, have ${JSON.stringify(this.members())}`);
    }
}
