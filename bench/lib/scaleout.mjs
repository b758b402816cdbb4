// scaleout.mjs: bench/scaleout's cluster — one redis-server, K bayeux-fcgi responders started separately, one lighttpd in front of them with fastcgi.balance "sticky" — and the client-address arithmetic that spreads users over the responders.
//
// Every server listens on 127.0.0.1 and runs in its own process group
// (proc.mjs's spawnGroup), so bench/scaleout stops each by its group, also
// on Ctrl-C or a failure (proc.mjs's handlers).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
    RESPONDER, LIGHTTPD, RESPONDER_ARGS, USERS_PER_LIGHTTPD_WORKER, sleep,
} from './common.mjs';
import {
    spawnGroup, stopGroup, allProcs, sample, isListening, waitListening,
} from './proc.mjs';
import { makeDir, copyLogs, lighttpdServerConf } from './targets.mjs';

export const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';
/** Held polls one responder can take within the 20,000 open files of a process. */
export const USERS_PER_RESPONDER = 19000;

// ------------------------------------------------ lighttpd's "sticky" ---

/** lighttpd's string hash (djb2a: h = h * 33 ^ byte, from 5381), as uint32. */
export function djbHash(text, h = 5381) {
    for (const c of Buffer.from(text)) h = (Math.imul(h, 33) ^ c) >>> 0;
    return h;
}

/**
 * The backend lighttpd 1.4.69 picks for a client address under
 * fastcgi.balance = "sticky": the largest hash(address text) XOR
 * (hash(backend host, or its socket path) XOR backend port, 0 for a unix
 * socket), the last of equals winning. All backends are taken as up.
 * backends: [{ host, port } or { socket }]. Returns the index into backends.
 */
export function stickyBackend(addr, backends) {
    const base = djbHash(addr);
    let best = 0, ndx = -1;
    backends.forEach((b, k) => {
        const v = (base ^ (djbHash(b.socket || b.host || '127.0.0.1') ^ (b.socket ? 0 : b.port))) >>> 0;
        if (best <= v) { best = v; ndx = k; }
    });
    return ndx;
}

/** bayeux-load --source-spread's addresses: i -> 127.(i+1).(37i mod 256).1. */
export function spreadSources(n) {
    return Array.from({ length: n }, (_, i) => `127.${i + 1}.${(37 * i) % 256}.1`);
}

const isPrime = (n) => { for (let d = 2; d * d <= n; d++) if (n % d === 0) return false; return n > 1; };

/**
 * n addresses for bayeux-load --source-list such that address j reaches
 * backend j mod K: users (user i from address i mod n) split evenly, within
 * one address's share. n is a prime that does not divide `rooms`, so the
 * members of one room (users r, r + rooms, ...) come from many addresses
 * and sit on every responder, as real rooms would.
 */
export function balancedSources(backends, atLeast, rooms) {
    let n = Math.max(atLeast, 2);
    while (!isPrime(n) || rooms % n === 0) n++;
    const pools = backends.map(() => []);
    // 127.a.b.1: a, b vary the text early (see spreadSources)
    for (let a = 1; a < 255 && pools.some((p) => p.length < Math.ceil(n / backends.length)); a++) {
        for (let b = 0; b < 256; b++) {
            const addr = `127.${a}.${b}.1`;
            pools[stickyBackend(addr, backends)].push(addr);
        }
    }
    const used = backends.map(() => 0);
    return Array.from({ length: n }, (_, j) => {
        const k = j % backends.length;
        const addr = pools[k][used[k]++];
        if (!addr) throw new Error(`no address left for backend ${k}`);
        return addr;
    });
}

/**
 * Users per backend the sticky rule gives bayeux-load's receivers
 * (user i from addrs[i mod n]), the backend the publisher lands on (its
 * index is `users`, its publish connections share its address), and the
 * sessions per backend that makes (receivers + the publisher).
 */
export function predictSplit(addrs, backends, users) {
    const per = backends.map(() => 0);
    const of = addrs.map((a) => stickyBackend(a, backends));
    const whole = Math.floor(users / addrs.length), rest = users % addrs.length;
    of.forEach((k, j) => { per[k] += whole + (j < rest ? 1 : 0); });
    const publisher = of[users % addrs.length];
    return { users: per, publisher, sessions: per.map((n, k) => n + (k === publisher ? 1 : 0)) };
}

// ------------------------------------------- FastCGI straight to one ---

/**
 * One FastCGI request to a responder (backend: { port } on 127.0.0.1 or
 * { socket }), as a web server would send it (REMOTE_ADDR 127.0.0.1, so
 * /status answers), without one in between: each responder can be asked
 * on its own whatever lighttpd's balance does. Resolves { status, headers, body }.
 */
export function fcgiRequest(backend, { method = 'GET', uri = '/cometd/status', body = '', timeoutMs = 5000 } = {}) {
    const rec = (type, content) => {
        const pad = (8 - (content.length % 8)) % 8;
        const h = Buffer.from([1, type, 0, 1, content.length >> 8, content.length & 255, pad, 0]);
        return Buffer.concat([h, content, Buffer.alloc(pad)]);
    };
    const lenBytes = (n) => (n < 128 ? Buffer.from([n]) : Buffer.from([(n >>> 24) | 0x80, (n >> 16) & 255, (n >> 8) & 255, n & 255]));
    const params = {
        REQUEST_METHOD: method, REQUEST_URI: uri, SCRIPT_NAME: uri.split('?')[0], QUERY_STRING: uri.split('?')[1] || '',
        REMOTE_ADDR: '127.0.0.1', SERVER_PROTOCOL: 'HTTP/1.1', CONTENT_LENGTH: String(Buffer.byteLength(body)),
        CONTENT_TYPE: body ? 'application/json' : '', HTTP_HOST: '127.0.0.1',
    };
    const kv = Buffer.concat(Object.entries(params).map(([k, v]) => {
        const kb = Buffer.from(k), vb = Buffer.from(v);
        return Buffer.concat([lenBytes(kb.length), lenBytes(vb.length), kb, vb]);
    }));
    const stdin = Buffer.from(body);
    const out = Buffer.concat([
        rec(1, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])),   // BEGIN_REQUEST: responder, close after
        rec(4, kv), rec(4, Buffer.alloc(0)),               // PARAMS, end of PARAMS
        ...(stdin.length ? [rec(5, stdin)] : []), rec(5, Buffer.alloc(0)),   // STDIN, end of STDIN
    ]);
    return new Promise((resolve, reject) => {
        const sock = backend.socket ? net.connect({ path: backend.socket }) : net.connect(backend.port, '127.0.0.1');
        const port = backend.socket || backend.port;
        let got = Buffer.alloc(0), stdout = Buffer.alloc(0), ended = false;
        const timer = setTimeout(() => sock.destroy(new Error(`no FastCGI answer from port ${port} within ${timeoutMs} ms`)), timeoutMs);
        sock.on('connect', () => sock.end(out));
        sock.on('data', (d) => {
            got = Buffer.concat([got, d]);
            while (got.length >= 8) {
                const len = got.readUInt16BE(4), pad = got[6];
                if (got.length < 8 + len + pad) break;
                if (got[1] === 6) stdout = Buffer.concat([stdout, got.subarray(8, 8 + len)]);
                if (got[1] === 3) ended = true;
                got = got.subarray(8 + len + pad);
            }
        });
        sock.on('error', (e) => { clearTimeout(timer); reject(e); });
        sock.on('close', () => {
            clearTimeout(timer);
            if (!ended) return reject(new Error(`FastCGI request to port ${port} ended without END_REQUEST`));
            const text = stdout.toString('utf8');
            const split = text.indexOf('\r\n\r\n');
            const head = split < 0 ? text : text.slice(0, split);
            const headers = {};
            for (const line of head.split('\r\n')) {
                const c = line.indexOf(':');
                if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
            }
            resolve({ status: Number((headers.status || '200').split(' ')[0]), headers, body: split < 0 ? '' : text.slice(split + 4) });
        });
    });
}

/** GET /cometd/status of a responder (as fcgiRequest), parsed. */
export async function responderStatus(backend, timeoutMs = 5000) {
    const r = await fcgiRequest(backend, { timeoutMs });
    if (r.status !== 200) throw new Error(`status of ${backend.socket || backend.port}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    return JSON.parse(r.body);
}

// ----------------------------------------------------------- servers ---

/** A free TCP port on 127.0.0.1 (listen test, then closed). */
function portFree(port) {
    return new Promise((resolve) => {
        const s = net.createServer();
        s.once('error', () => resolve(false));
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
}

/**
 * n consecutive free ports starting at a multiple of 4, below the ephemeral
 * range (32768+), so no outgoing connection takes one meanwhile. Aligned
 * consecutive ports also make lighttpd's sticky hash depend on the lowest
 * bits of the address hash only (even for 2 or 4 backends with any clients).
 */
export async function freePortBlock(n) {
    for (let tries = 0; tries < 200; tries++) {
        const base = 20000 + 4 * Math.floor(Math.random() * 3000);
        let ok = true;
        for (let p = base; p < base + n && ok; p++) ok = !isListening(p) && await portFree(p);
        if (ok) return Array.from({ length: n }, (_, i) => base + i);
    }
    throw new Error(`no ${n} consecutive free ports found`);
}

async function startRedis(dir, port) {
    const logFile = path.join(dir, 'redis.log');
    const child = spawnGroup(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--daemonize', 'no', '--protected-mode', 'yes', '--maxclients', '1000'], { logFile });
    await waitListening(port, child, 'redis-server', 10000);
    return { child, port, logFile };
}

/** A responder on 127.0.0.1:b.port, or on the unix socket b.socket. */
async function startResponder(dir, b, args, i) {
    const logFile = path.join(dir, `responder-${i}.log`);
    const child = spawnGroup(RESPONDER, ['--listen', b.socket || `127.0.0.1:${b.port}`, ...args], { logFile });
    if (!b.socket) {
        await waitListening(b.port, child, `bayeux-fcgi on ${b.port}`, 10000);
    } else {
        const end = Date.now() + 10000;
        for (;;) {
            if (child.exitInfo) throw new Error(`bayeux-fcgi on ${b.socket} exited: ${JSON.stringify(child.exitInfo)}`);
            const up = await new Promise((resolve) => {
                const c = net.connect({ path: b.socket }, () => { c.destroy(); resolve(true); });
                c.on('error', () => resolve(false));
            });
            if (up) break;
            if (Date.now() > end) throw new Error(`bayeux-fcgi did not listen on ${b.socket} within 10 s`);
            await sleep(50);
        }
    }
    return { child, logFile };
}

/**
 * The cluster for one run:
 *   k responders (bayeux-fcgi --listen 127.0.0.1:PORT RESPONDER_ARGS
 *   responderArgs [--redis redis://127.0.0.1:RPORT]), redis = whether
 *   there is a redis-server and --redis; lighttpd with `workers` workers
 *   (default users / USERS_PER_LIGHTTPD_WORKER rounded up) and the
 *   responders as backends of /cometd, fastcgi.balance = "sticky".
 *   transport 'tcp' (default: each responder on its own 127.0.0.1 port) or
 *   'unix' (each on a unix socket: no ephemeral ports, no TIME_WAIT).
 * Returns { url, backends, info, classify, sample, statuses, check, stop }.
 */
export async function startCluster({ k, redis, users, workers, transport = 'tcp', responderArgs = [], lighttpdExtra = [], logDir }) {
    const dir = await makeDir('bayeux-scaleout-');
    const started = [];
    const stopAll = async () => {
        for (const s of started.reverse()) await stopGroup(s.child, 10000);
        started.length = 0;
    };
    const logs = () => [path.join(dir, 'lighttpd.conf'), path.join(dir, 'error.log'), path.join(dir, 'lighttpd.out'),
        path.join(dir, 'redis.log'), ...fs.readdirSync(dir).filter((f) => f.startsWith('responder-') && f.endsWith('.log')).map((f) => path.join(dir, f))];
    workers = workers || Math.max(1, Math.ceil(users / USERS_PER_LIGHTTPD_WORKER));
    let rd = null;
    const backends = [];
    let lighttpd = null, port = 0;
    try {
        const ports = await freePortBlock(k + (redis ? 1 : 0) + 1);
        port = ports[k + (redis ? 1 : 0)];
        if (redis) {
            rd = await startRedis(dir, ports[k]);
            started.push(rd);
        }
        const args = [...RESPONDER_ARGS, ...responderArgs, ...(rd ? ['--redis', `redis://127.0.0.1:${rd.port}`] : [])];
        for (let i = 0; i < k; i++) {
            const b = transport === 'unix' ? { socket: path.join(dir, `responder-${i}.sock`) } : { host: '127.0.0.1', port: ports[i] };
            const r = await startResponder(dir, b, args, i);
            started.push(r);
            backends.push({ ...b, child: r.child });
        }
        const q = (s) => JSON.stringify(String(s));
        fs.mkdirSync(path.join(dir, 'www'));
        fs.writeFileSync(path.join(dir, 'www', 'index.html'), 'bench\n');
        const conf = path.join(dir, 'lighttpd.conf');
        fs.writeFileSync(conf, `${lighttpdServerConf({ title: `bench/scaleout: ${k} responders${rd ? ' and Redis' : ''} for ${users} users`, dir, port, workers, extra: lighttpdExtra })}
# the client address picks the responder (hash): a session lives on one
fastcgi.balance = "sticky"
fastcgi.server = ( "/cometd" => (
${backends.map((b) => `    ( ${b.socket ? `"socket" => ${q(b.socket)}` : `"host" => ${q(b.host)}, "port" => ${b.port}`}, "check-local" => "disable" )`).join(',\n')}
))
`);
        lighttpd = { child: spawnGroup(LIGHTTPD, ['-D', '-f', conf], { logFile: path.join(dir, 'lighttpd.out') }) };
        started.push(lighttpd);
        await waitListening(port, lighttpd.child, 'lighttpd', 15000);
        const end = Date.now() + 10000;
        while (Date.now() < end && allProcs().filter((p) => p.pgrp === lighttpd.child.pid).length < (workers > 1 ? workers + 1 : 1)) await sleep(50);
        if (rd) {
            // every responder joined Redis before any user arrives
            for (const b of backends) {
                let st = null;
                while (Date.now() < end + 20000) {
                    try { st = (await responderStatus(b)).redis; } catch { st = null; }
                    if (st && st.state === 'connected') break;
                    await sleep(100);
                }
                if (!st || st.state !== 'connected') throw new Error(`responder ${b.socket || b.port} not connected to Redis: ${JSON.stringify(st)}`);
            }
        }
    } catch (e) {
        await stopAll();
        copyLogs(logs(), logDir);
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
    }
    const group = (child) => allProcs().filter((p) => p.pgrp === child.pid);
    const cluster = {
        url: `http://127.0.0.1:${port}/cometd`,
        backends: backends.map(({ child, ...b }) => b),
        info: { responders: k, redis: !!rd, lighttpd_workers: workers, responder_args: [...RESPONDER_ARGS, ...responderArgs].join(' '),
            transport, responder_listen: backends.map((b) => b.socket ? path.basename(b.socket) : b.port), ...(lighttpdExtra.length ? { lighttpd_conf: lighttpdExtra.join('; ') } : {}) },
        classify: () => ({
            lighttpd: group(lighttpd.child),
            responders: backends.flatMap((b) => group(b.child)),
            redis: rd ? group(rd.child) : [],
        }),
        /** RSS, open files and CPU of each part and of all. */
        sample() {
            const c = cluster.classify();
            const s = { lighttpd: sample(c.lighttpd), responders: sample(c.responders), redis: sample(c.redis) };
            s.all = sample([...c.lighttpd, ...c.responders, ...c.redis]);
            return s;
        },
        /** Each responder's /status (null where it did not answer). */
        async statuses() {
            return Promise.all(backends.map((b) => responderStatus(b).catch(() => null)));
        },
        check() {
            if (lighttpd.child.exitInfo) return `lighttpd exited ${JSON.stringify(lighttpd.child.exitInfo)}`;
            for (const b of backends) if (b.child.exitInfo) return `the responder on ${b.socket || b.port} exited ${JSON.stringify(b.child.exitInfo)}`;
            if (rd && rd.child.exitInfo) return `redis-server exited ${JSON.stringify(rd.child.exitInfo)}`;
            return null;
        },
        async stop() {
            const info = { lighttpd: lighttpd.child.exitInfo, responders: backends.map((b) => b.child.exitInfo) };
            await stopAll();
            copyLogs(logs(), logDir);
            fs.rmSync(dir, { recursive: true, force: true });
            return { ...info, after: { lighttpd: lighttpd.child.exitInfo, responders: backends.map((b) => b.child.exitInfo) } };
        },
    };
    return cluster;
}
