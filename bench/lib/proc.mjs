// proc.mjs: bench/run-matrix's processes (own process groups), /proc sampling, ports, and a tiny Bayeux client.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
    HERE, ROOT, RESPONDER, LOAD, LIGHTTPD, APACHE2, APACHE_MODDIR, ALL_SERVERS, APACHE_MAX_USERS, USERS_PER_LIGHTTPD_WORKER, USERS_PER_LOAD_PROC, RESPONDER_ARGS, CLK_TCK, APACHE, LIGHTTPD_EXTRA, sleep, now, die, log,
} from './common.mjs';

// ----------------------------------------------- processes we started ---

export const groups = new Set();   // process-group ids we created (detached spawns)

export function killGroup(pgid, sig) {
    try { process.kill(-pgid, sig); } catch { /* gone */ }
}

export function killAllGroupsSync() {
    for (const g of groups) killGroup(g, 'SIGKILL');
    groups.clear();
}
process.on('exit', killAllGroupsSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
        log(`${sig}: stopping what was started`);
        for (const g of groups) killGroup(g, 'SIGTERM');
        setTimeout(() => process.exit(130), 1500);
    });
}

/** Spawn cmd in a new session (its own process group); output to logFile unless piped. */
export function spawnGroup(cmd, args, { logFile, pipeOut = false, cwd = ROOT } = {}) {
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', pipeOut ? 'pipe' : fd, pipeOut ? 'pipe' : fd] });
    fs.closeSync(fd);
    groups.add(child.pid);
    child.exitInfo = null;
    child.exited = new Promise((resolve) => {
        child.once('exit', (code, signal) => { child.exitInfo = { code, signal }; resolve(child.exitInfo); });
        child.once('error', (err) => { child.exitInfo = { code: null, signal: null, error: err.message }; resolve(child.exitInfo); });
    });
    if (pipeOut) {
        const out = fs.createWriteStream(logFile, { flags: 'a' });
        child.stdout.on('data', (d) => out.write(d));
        child.stderr.on('data', (d) => out.write(d));
        child.once('exit', () => setTimeout(() => out.end(), 100));
    }
    return child;
}

/** SIGTERM the group, wait for every member (leader and others) to go, SIGKILL after graceMs. */
export async function stopGroup(child, graceMs = 10000) {
    const pgid = child.pid;
    killGroup(pgid, 'SIGTERM');
    const end = Date.now() + graceMs;
    while (Date.now() < end && (!child.exitInfo || groupPids(pgid).length)) await sleep(100);
    if (!child.exitInfo || groupPids(pgid).length) {
        killGroup(pgid, 'SIGKILL');
        await Promise.race([child.exited, sleep(3000)]);
    }
    groups.delete(pgid);
    return child.exitInfo;
}

// ------------------------------------------------------------- /proc ---

export function procStat(pid) {
    try {
        const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = s.lastIndexOf(')');
        const comm = s.slice(s.indexOf('(') + 1, close);
        const f = s.slice(close + 2).split(' ');
        // f[0] = state (field 3), f[2] = pgrp (5), f[11] = utime (14), f[12] = stime (15)
        return { pid, comm, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), cpuTicks: Number(f[11]) + Number(f[12]) };
    } catch {
        return null;
    }
}

export function allProcs() {
    const out = [];
    for (const d of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        const st = procStat(Number(d));
        if (st && st.state !== 'Z' && st.state !== 'X') out.push(st);
    }
    return out;
}

export function groupPids(pgid) {
    return allProcs().filter((p) => p.pgrp === pgid).map((p) => p.pid);
}

export function statusKiB(pid, key) {
    try {
        const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) : 0;
    } catch { return 0; }
}

export function pssKiB(pid) {
    try {
        const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
        return m ? Number(m[1]) : 0;
    } catch { return 0; }
}

/** Share of CPU time the host spent idle over ms (all cores), in %. */
export async function hostIdle(ms) {
    const read = () => fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const a = read();
    await sleep(ms);
    const b = read();
    const d = b.map((v, i) => v - a[i]);
    const total = d.reduce((x, y) => x + y, 0);
    return total > 0 ? +(100 * (d[3] + (d[4] || 0)) / total).toFixed(1) : 100;
}

/** Waits (at most maxMs) for the host to be mostly idle: other work on the box skews a step. */
export async function waitHostQuiet(maxMs) {
    const end = Date.now() + maxMs;
    let idle = await hostIdle(1000);
    while (idle < 80 && Date.now() < end) idle = await hostIdle(1000);
    return idle;
}

export function fdCount(pid) {
    try { return fs.readdirSync(`/proc/${pid}/fd`).length; } catch { return 0; }
}

/** Memory, open files and CPU of a list of processes, summed. */
export function sample(procs) {
    const s = { procs: procs.length, rssKiB: 0, pssKiB: 0, fds: 0, cpuS: 0 };
    for (const p of procs) {
        s.rssKiB += statusKiB(p.pid, 'VmRSS');
        s.pssKiB += pssKiB(p.pid);
        s.fds += fdCount(p.pid);
        s.cpuS += p.cpuTicks / CLK_TCK;
    }
    return s;
}

/** { server: sample, responder: sample } of a started target. */
export function sampleTarget(srv) {
    const { server, responder } = srv.classify();
    return { server: sample(server), responder: responder ? sample(responder) : null };
}

// ------------------------------------------------------------ network ---

export function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    });
}

export function isListening(port) {
    const hex = ':' + port.toString(16).toUpperCase().padStart(4, '0');
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
        let text;
        try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
        for (const line of text.split('\n').slice(1)) {
            const c = line.trim().split(/\s+/);
            if (c.length > 3 && c[1].endsWith(hex) && c[3] === '0A') return true;
        }
    }
    return false;
}

export async function waitListening(port, child, what, ms) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
        if (child.exitInfo) throw new Error(`${what} exited before listening: ${JSON.stringify(child.exitInfo)}`);
        if (isListening(port)) return;
        await sleep(50);
    }
    throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${ms} ms`);
}

/** A tiny Bayeux client: one keep-alive connection and one cookie jar. */
export class Client {
    constructor(url) {
        this.url = new URL(url);
        this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        this.cookies = new Map();
        this.clientId = null;
    }

    post(batch, timeoutMs = 10000) {
        const body = JSON.stringify(batch);
        const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
        if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        return new Promise((resolve, reject) => {
            const req = http.request({ host: this.url.hostname, port: this.url.port, path: this.url.pathname,
                method: 'POST', agent: this.agent, headers }, (res) => {
                let text = '';
                res.setEncoding('utf8');
                res.on('data', (c) => { text += c; });
                res.on('end', () => {
                    clearTimeout(timer);
                    for (const line of [].concat(res.headers['set-cookie'] || [])) {
                        const nv = line.split(';')[0];
                        const eq = nv.indexOf('=');
                        if (eq > 0) this.cookies.set(nv.slice(0, eq).trim(), nv.slice(eq + 1).trim());
                    }
                    if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
                    try { resolve(JSON.parse(text)); } catch { reject(new Error(`not JSON: ${text.slice(0, 200)}`)); }
                });
            });
            const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
            req.on('error', (e) => { clearTimeout(timer); reject(e); });
            req.end(body);
        });
    }

    async handshake() {
        const r = await this.post([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }]);
        const hs = r.find((m) => m.channel === '/meta/handshake');
        if (!hs || !hs.successful) throw new Error(`handshake refused: ${JSON.stringify(r).slice(0, 200)}`);
        this.clientId = hs.clientId;
        // a first connect with timeout 0 (answered at once), as every Bayeux client sends
        await this.post([{ channel: '/meta/connect', clientId: this.clientId, connectionType: 'long-polling', advice: { timeout: 0 } }]);
    }

    join(user, room) {
        return { channel: '/service/members', clientId: this.clientId, data: { user, room } };
    }

    async disconnect() {
        try { await this.post([{ channel: '/meta/disconnect', clientId: this.clientId }], 5000); } catch { /* best effort */ }
        this.agent.destroy();
    }
}

/**
 * Answers the polls the last run's users left parked: joins every room (the
 * bayeux-fcgi chat broadcasts a join notice there) and publishes one message
 * into each (for servers without the chat service), then disconnects (leave
 * notices). Messages carry no load id, so a later run ignores them.
 */
export async function flushRooms(url, rooms) {
    const c = new Client(url);
    try {
        await c.handshake();
        // a join and a publish per room: 25 rooms a request stays well under
        // the responder's --max-batch (100 messages)
        const per = 25;
        for (let r0 = 0; r0 < rooms; r0 += per) {
            const batch = [];
            for (let r = r0; r < Math.min(rooms, r0 + per); r++) batch.push(c.join('bench-flush', `r${r}`));
            for (let r = r0; r < Math.min(rooms, r0 + per); r++) {
                batch.push({ channel: `/chat/r${r}`, clientId: c.clientId, data: { user: 'bench-flush', chat: 'flush' } });
            }
            await c.post(batch, 20000);
        }
    } finally {
        await c.disconnect();
    }
}

