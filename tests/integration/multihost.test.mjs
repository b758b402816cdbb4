// Scale-out over several hosts: three network namespaces ("hosts"), each
// running its own lighttpd in front of its own bayeux-fcgi (--redis), and a
// fourth running redis-server, joined on a private bridge; HAProxy in the
// root namespace, configured from httpd-conf/haproxy/bayeux.cfg, terminates
// TLS on 127.0.0.1 and balances over the hosts with the cookie it inserts.
//
// Checked: one browser's requests all reach one host and browsers spread;
// chat, member lists and private messages cross the hosts; a host whose
// responder is killed leaves the member lists, is taken out by HAProxy's
// health check, and its users handshake again on a live host; after a Redis
// restart the hosts are one chat again.
//
// Where a request went is read from a header each host's lighttpd adds
// (X-Bayeux-Host: the HAProxy server name of that host), on every reply, so
// every single Bayeux request of a client is accounted for; the status page
// of each host (read on the host itself, through its loopback) confirms the
// sessions and node ids.
//
// Needs root (ip netns, veth, bridge).  Names and the subnet derive from this
// process's pid, so runs can overlap; everything created is removed at the
// end, also when a test fails or the run is interrupted.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
    BayeuxClient, post, request, freePorts, sanitizerReports, browserCookie, sleep, SLOW,
    BAYEUX_FCGI, TOP_SRCDIR, LIGHTTPD, OPENSSL,
} from './harness.mjs';

const T = { timeout: 120000 * SLOW };
const BOUND = 15000 * SLOW;          // liveness is 5 s (docs/scale-out.md); room for slow builds
const HAPROXY = process.env.HAPROXY || '/usr/sbin/haproxy';
const REDIS = process.env.REDIS_SERVER || '/usr/bin/redis-server';
const CURL = process.env.CURL || 'curl';
const SHIPPED_CFG = path.join(TOP_SRCDIR, 'httpd-conf', 'haproxy', 'bayeux.cfg');
const PID = process.pid;
const HOSTS = 3;
const REDIS_PORT = 6379;             // inside the Redis namespace: no clash with other runs
const HTTP_PORT = 80;                // each host's lighttpd, as in bayeux.cfg
const RESPONDER_PORT = 9000;         // each host's responder, on that host's 127.0.0.1

// ---------------------------------------------------------------------------
// processes: every one started here, by PID, killed at exit whatever happens

const live = new Set();

function killLiveSync() {
    for (const p of live) {
        try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
}

/** Start `cmd args` (inside namespace `ns`, or here when null), output to logFile. */
function startProc(ns, cmd, args, logFile) {
    const fd = fs.openSync(logFile, 'a');
    const argv = ns ? ['netns', 'exec', ns, cmd, ...args] : args;
    // ip netns exec switches namespace and execs cmd: the pid is cmd's own
    const child = spawn(ns ? 'ip' : cmd, argv, { stdio: ['ignore', fd, fd], detached: true });
    fs.closeSync(fd);
    const p = { child, pid: child.pid, ns, logFile, exitInfo: null };
    live.add(p);
    p.exited = new Promise((resolve) => {
        const done = (info) => { live.delete(p); p.exitInfo = info; resolve(info); };
        child.once('exit', (code, signal) => done({ code, signal }));
        child.once('error', (error) => done({ code: null, signal: null, error: String(error) }));
    });
    p.log = () => { try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; } };
    /** signal, then SIGKILL after graceMs; resolves the exit info. */
    p.stop = async (signal = 'SIGTERM', graceMs = 10000 * SLOW) => {
        if (p.exitInfo) return p.exitInfo;
        try { process.kill(p.pid, signal); } catch { /* gone */ }
        let timer;
        const late = new Promise((r) => { timer = setTimeout(() => r(null), graceMs); });
        const info = await Promise.race([p.exited, late]);
        clearTimeout(timer);
        if (info) return info;
        try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
        return { ...(await p.exited), killedAfterTimeout: true };
    };
    return p;
}

/** /proc/net/tcp form of an IPv4 address and port ("0100007F:2328"). */
function tcpKey(addr, port) {
    const hex = addr.split('.').map(Number).reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** True when process p (in namespace ns) listens on addr:port; read from /proc, no connection. */
function listensIn(p, ns, addr, port) {
    try {
        // only once ip netns exec has switched: 127.0.0.1:port here is someone else's
        if (ns && fs.statSync(`/proc/${p.pid}/ns/net`).ino !== fs.statSync(`/run/netns/${ns}`).ino) return false;
        const key = tcpKey(addr, port);
        return fs.readFileSync(`/proc/${p.pid}/net/tcp`, 'utf8').split('\n')
            .some((l) => { const c = l.trim().split(/\s+/); return c[1] === key && c[3] === '0A'; });
    } catch {
        return false;
    }
}

async function waitListening(p, addrs, port, what) {
    const end = Date.now() + 15000 * SLOW;
    while (!addrs.every((a) => listensIn(p, p.ns, a, port))) {
        if (p.exitInfo) throw new Error(`${what} exited (${JSON.stringify(p.exitInfo)}):\n${p.log()}`);
        if (Date.now() > end) {
            await p.stop('SIGKILL');
            throw new Error(`${what} did not listen on ${addrs.join(', ')} port ${port}:\n${p.log()}`);
        }
        await sleep(25);
    }
}

// ---------------------------------------------------------------------------
// the network: a bridge in a "lan" namespace; the hosts, Redis and the root
// namespace (HAProxy's side) each on it through a veth pair

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** A 10.a.b.0/24 derived from the pid that no route here overlaps yet. */
function chooseSubnet() {
    const toNum = (a) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const used = [];
    const text = execFileSync('ip', ['-4', '-o', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
    for (const line of text.split('\n')) {
        const tok = line.trim().split(/\s+/);
        const dst = /^(local|broadcast|unicast|blackhole|unreachable|prohibit|throw|multicast|anycast)$/.test(tok[0]) ? tok[1] : tok[0];
        const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(dst || '');
        if (!m) continue;   // default and the like
        const len = m[2] === undefined ? 32 : Number(m[2]);
        const size = 2 ** (32 - len);
        const start = Math.floor(toNum(m[1]) / size) * size;
        used.push([start, start + size]);
    }
    for (let k = 0; k < 512; k++) {
        const n = (PID + k * 7919) % 65536;
        const net24 = `10.${n >> 8}.${n & 255}`;
        const s = toNum(`${net24}.0`);
        if (!used.some(([a, b]) => s < b && s + 256 > a)) return net24;
    }
    throw new Error('no free 10.x.y.0/24 subnet');
}

function createNetwork() {
    const subnet = chooseSubnet();
    const nw = {
        subnet,
        lan: `bx${PID}-lan`,
        hostNs: Array.from({ length: HOSTS }, (_, i) => `bx${PID}-h${i + 1}`),
        redisNs: `bx${PID}-redis`,
        rootIf: `bx${PID}r`,                                  // HAProxy's side, in the root namespace
        gateway: `${subnet}.1`,
        hostAddr: Array.from({ length: HOSTS }, (_, i) => `${subnet}.${11 + i}`),
        redisAddr: `${subnet}.20`,
        created: [],                                          // namespaces, to delete
        rootIfCreated: false,
    };
    network = nw;   // what exists so far is removed at exit, also if a step below fails
    const addNs = (name) => { ip('netns', 'add', name); nw.created.push(name); ip('-n', name, 'link', 'set', 'lo', 'up'); };
    addNs(nw.lan);
    ip('-n', nw.lan, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', nw.lan, 'link', 'set', 'br0', 'up');
    /** a veth pair: `inner` in namespace ns (or the root one) with addr, its peer on the bridge */
    const attach = (ns, inner, peer, addr) => {
        if (ns) ip('link', 'add', inner, 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', nw.lan);
        else { ip('link', 'add', inner, 'type', 'veth', 'peer', 'name', peer, 'netns', nw.lan); nw.rootIfCreated = true; }
        const n = ns ? ['-n', ns] : [];
        ip(...n, 'addr', 'add', `${addr}/24`, 'dev', inner);
        ip(...n, 'link', 'set', inner, 'up');
        ip('-n', nw.lan, 'link', 'set', peer, 'master', 'br0', 'up');
    };
    nw.hostNs.forEach((ns, i) => { addNs(ns); attach(ns, 'eth0', `h${i + 1}`, nw.hostAddr[i]); });
    addNs(nw.redisNs);
    attach(nw.redisNs, 'eth0', 'redis', nw.redisAddr);
    attach(null, nw.rootIf, 'root', nw.gateway);
    return nw;
}

/** Delete what createNetwork made (the caller has killed the processes in it). */
function destroyNetwork(nw) {
    if (!nw) return;
    for (const ns of nw.created.splice(0).reverse()) {
        try { ip('netns', 'del', ns); } catch { /* already gone */ }
    }
    if (nw.rootIfCreated) {
        // its peer went with the lan namespace, which takes the pair with it; make sure
        try { ip('link', 'del', nw.rootIf); } catch { /* already gone */ }
        nw.rootIfCreated = false;
    }
}

let network = null;
process.on('exit', () => { killLiveSync(); destroyNetwork(network); });

// ---------------------------------------------------------------------------
// the servers

/** GET url inside namespace ns (from its loopback, like an operator on that host). */
function nsGet(ns, url) {
    return new Promise((resolve, reject) => {
        execFile('ip', ['netns', 'exec', ns, CURL, '-sS', '-m', String(10 * SLOW), '-w', '\n%{http_code}', url],
            { encoding: 'utf8' }, (err, out, errText) => {
                if (err) return reject(new Error(`curl ${url} in ${ns}: ${errText || err.message}`));
                const nl = out.lastIndexOf('\n');
                resolve({ status: Number(out.slice(nl + 1)), text: out.slice(0, nl) });
            });
    });
}

async function startRedis(fx) {
    // protected mode would refuse every client not on Redis's own loopback;
    // this Redis is reachable on the private bridge only
    const p = startProc(fx.nw.redisNs, REDIS, ['--bind', fx.nw.redisAddr, '--port', String(REDIS_PORT),
        '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no'],
    path.join(fx.dir, 'redis.log'));
    const end = Date.now() + 10000 * SLOW;
    while (!/Ready to accept connections/.test(p.log())) {
        if (p.exitInfo || Date.now() > end) throw new Error(`redis-server did not start: ${p.log()}`);
        await sleep(20);
    }
    return p;
}

/** The responder of host i, on 127.0.0.1 of its namespace; `tag` names its log. */
async function startResponder(fx, i, tag = '') {
    const ns = fx.nw.hostNs[i];
    const p = startProc(ns, BAYEUX_FCGI, ['--listen', `127.0.0.1:${RESPONDER_PORT}`,
        '--redis', `redis://${fx.nw.redisAddr}:${REDIS_PORT}`],
    path.join(fx.dir, `responder-${i + 1}${tag}.log`));
    await waitListening(p, ['127.0.0.1'], RESPONDER_PORT, `bayeux-fcgi of host ${i + 1}`);
    fx.responderLogs.push(p.logFile);
    return p;
}

/** lighttpd of host i: its private address for HAProxy, its loopback for the status page. */
async function startLighttpd(fx, i) {
    const dir = path.join(fx.dir, `host${i + 1}`);
    fs.mkdirSync(path.join(dir, 'www'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'www', 'index.html'), '<!doctype html><title>bayeux-fcgi test</title>\n');
    const q = JSON.stringify;
    const conf = path.join(dir, 'lighttpd.conf');
    fs.writeFileSync(conf, `# generated by tests/integration/multihost.test.mjs: host ${i + 1}
server.modules = ( "mod_extforward", "mod_setenv", "mod_fastcgi" )
server.document-root = ${q(path.join(dir, 'www'))}
server.bind = ${q(fx.nw.hostAddr[i])}
server.port = ${HTTP_PORT}
$SERVER["socket"] == "127.0.0.1:${HTTP_PORT}" { }
server.errorlog = ${q(path.join(dir, 'error.log'))}
server.pid-file = ${q(path.join(dir, 'lighttpd.pid'))}
index-file.names = ( "index.html" )
# HAProxy (the root namespace's address) says who the client is and how it came
extforward.forwarder = ( ${q(fx.nw.gateway)} => "trust" )
extforward.headers = ( "X-Forwarded-For", "X-Forwarded-Proto" )
# which host answered: the test follows every request of a client with it
setenv.add-response-header = ( "X-Bayeux-Host" => ${q(fx.servers[i].name)} )
fastcgi.server = ( "/cometd" => ((
    "host" => "127.0.0.1", "port" => ${RESPONDER_PORT}, "check-local" => "disable"
)))
`);
    const p = startProc(fx.nw.hostNs[i], LIGHTTPD, ['-D', '-f', conf], path.join(dir, 'lighttpd.out'));
    p.errorLog = path.join(dir, 'error.log');
    await waitListening(p, [fx.nw.hostAddr[i], '127.0.0.1'], HTTP_PORT, `lighttpd of host ${i + 1}`);
    return p;
}

/** The server lines of bayeux.cfg: [{ name, cookie, line }] in order. */
function shippedServers(text) {
    return [...text.matchAll(/^\s*server\s+(\S+)\s+(\S+)(.*)$/gm)]
        .map((m) => ({ name: m[1], cookie: (/\bcookie\s+(\S+)/.exec(m[3]) || [])[1], line: m[0], addr: m[2] }));
}

/**
 * The test's HAProxy configuration, made from the shipped one: its global
 * section without what needs a system install (chroot, user, syslog,
 * daemon, the admin socket's path); the bind lines on 127.0.0.1 ports with
 * the test's certificate; the server lines pointing at the hosts.  Defaults,
 * timeouts, checks, cookie and balance are the shipped ones, unchanged.
 */
function haproxyConfig(fx, shipped) {
    const out = [];
    let section = '';
    for (const line of shipped.split('\n')) {
        const t = line.trim();
        if (/^\S/.test(line) && t && !t.startsWith('#')) section = t.split(/\s+/)[0];
        if (section === 'global' && /^(log|chroot|stats\s+socket|user|group|daemon|maxconn)\b/.test(t)) continue;
        let l = line;
        if (t === 'global') l = `global\n\tlog stdout format raw local0 info\n\tstats socket ${fx.dir}/admin.sock mode 600 level admin\n\tmaxconn 4000`;
        if (/^bind\s/.test(t)) {
            l = /\sssl\s/.test(t)
                ? line.replace(/bind\s+\S+/, `bind 127.0.0.1:${fx.httpsPort}`).replace(/\bcrt\s+\S+/, `crt ${fx.pem}`)
                : line.replace(/bind\s+\S+/, `bind 127.0.0.1:${fx.httpPort}`);
        }
        const srv = fx.servers.find((s) => s.line === line);
        if (srv) l = line.replace(srv.addr, `${fx.nw.hostAddr[fx.servers.indexOf(srv)]}:${HTTP_PORT}`);
        out.push(l);
    }
    return out.join('\n');
}

/** A self-signed certificate for 127.0.0.1: the CA (PEM) and HAProxy's cert+key file. */
function makeCertificate(dir) {
    const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem'), pem = path.join(dir, 'haproxy.pem');
    execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    fs.writeFileSync(pem, fs.readFileSync(cert, 'utf8') + fs.readFileSync(key, 'utf8'), { mode: 0o600 });
    return { ca: fs.readFileSync(cert, 'utf8'), pem };
}

/** HAProxy's "show stat" over the admin socket: { serverName: status } of the backend. */
function haproxyServers(fx) {
    return new Promise((resolve, reject) => {
        const s = net.connect(path.join(fx.dir, 'admin.sock'));
        let text = '';
        s.on('connect', () => s.end('show stat\n'));
        s.on('data', (d) => { text += d; });
        s.on('error', reject);
        s.on('close', () => {
            const lines = text.split('\n').filter(Boolean);
            const head = (lines.shift() || '').replace(/^#\s*/, '').split(',');
            const col = (n) => head.indexOf(n);
            const r = {};
            for (const l of lines) {
                const c = l.split(',');
                if (c[col('svname')] !== 'FRONTEND' && c[col('svname')] !== 'BACKEND') r[c[col('svname')]] = c[col('status')];
            }
            resolve(r);
        });
    });
}

async function waitServerState(fx, name, want) {
    const end = Date.now() + BOUND;
    let st;
    while (!(st = (await haproxyServers(fx))[name]) || !st.startsWith(want)) {
        if (Date.now() > end) assert.fail(`HAProxy: ${name} is ${st}, want ${want}`);
        await sleep(100);
    }
}

async function hostStatus(fx, i) {
    const r = await nsGet(fx.nw.hostNs[i], `http://127.0.0.1:${HTTP_PORT}/cometd/status`);
    assert.equal(r.status, 200, `status page of host ${i + 1}: ${r.text}`);
    return JSON.parse(r.text);
}

async function waitRedisState(fx, i, state) {
    const end = Date.now() + 30000 * SLOW;
    let s;
    while ((s = (await hostStatus(fx, i)).redis).state !== state) {
        if (Date.now() > end) assert.fail(`host ${i + 1}: redis ${JSON.stringify(s)}, want ${state}`);
        await sleep(100);
    }
}

// ---------------------------------------------------------------------------
// clients: a browser each (its own cookie jar and connections), through HAProxy

/** A Bayeux client that records which host answered each of its requests. */
class HostClient extends BayeuxClient {
    constructor(fx) {
        super(fx.url, { agent: new https.Agent({ keepAlive: true, ca: fx.ca }) });
        this.hosts = [];
    }

    async send(messages, { timeoutMs } = {}) {
        const res = await post(this.url, messages, { cookieJar: this.jar, agent: this.agent, timeoutMs });
        this.hosts.push(res.headers['x-bayeux-host'] || `HTTP ${res.status} from HAProxy`);
        this.lastResponse = res;
        if (res.status !== 200 || !Array.isArray(res.json)) {
            throw new Error(`HTTP ${res.status} from ${this.hosts.at(-1)}: ${res.text.slice(0, 200)}`);
        }
        return res.json;
    }

    get host() { return this.hosts.at(-1); }
}

/** A chat user: subscribed to a room's chat and members, polling as a browser does. */
class ChatUser {
    constructor(fx, name) {
        this.fx = fx;
        this.name = name;
        this.client = new HostClient(fx);
        this.inbox = [];
        this.errors = [];
    }

    /** (Re-)handshake in room, keeping the cookie jar, and poll in the background. */
    async start(room) {
        this.room = room;
        this.inbox = [];
        this.lost = null;
        await this.client.start([`/chat/${room}`, `/members/${room}`]);
        this.running = true;
        this.polling = this.poll();
        return this;
    }

    async poll() {
        while (this.running) {
            try {
                const r = await this.client.connect({ timeout: 1000 });
                if (!r.reply || !r.reply.successful) { this.lost = r.reply || {}; return; }
                this.inbox.push(...r.messages);
            } catch (e) {
                this.errors.push(e.message);   // the host is gone: retry, as a client does
                await sleep(200);
            }
        }
    }

    join(name = this.name) {
        return this.client.publish('/service/members', { user: name, room: this.room });
    }

    say(text) {
        return this.client.publish(`/chat/${this.room}`, { chat: text });
    }

    members() {
        const l = this.inbox.filter((m) => m.channel === `/members/${this.room}`);
        return l.length ? l.at(-1).data : null;
    }

    chats() { return this.inbox.filter((m) => m.channel === `/chat/${this.room}`).map((m) => m.data); }

    texts() { return this.chats().filter((d) => !d.membership && !d.scope).map((d) => `${d.user}:${d.chat}`); }

    async until(pred, what, ms = BOUND) {
        const end = Date.now() + ms;
        while (!pred(this)) {
            if (Date.now() > end) {
                assert.fail(`${this.name} (${this.client.host}): ${what}; last ${JSON.stringify(this.inbox.slice(-3))}; errors ${JSON.stringify(this.errors.slice(-3))}`);
            }
            await sleep(50);
        }
    }

    untilMembers(want, what) {
        const w = JSON.stringify([...want].sort());
        return this.until((u) => JSON.stringify(u.members()) === w, `${what}: want ${w}, have ${JSON.stringify(this.members())}`);
    }

    async stop() {
        this.running = false;
        try { await this.client.disconnect(); } catch { /* host gone */ }
        await this.polling;
        this.client.agent.destroy();
    }
}

const ok = (r, what) => assert.equal(r && r.successful, true, `${what}: ${JSON.stringify(r)}`);

let roomSeq = 0;
const newRoom = () => `mh${PID}x${++roomSeq}`;

// ---------------------------------------------------------------------------

describe('three hosts behind HAProxy, joined through Redis', () => {
    const fx = { responderLogs: [], failed: false };
    const users = new Set();       // started by a test, stopped by it (or at the end)

    before(async () => {
        fx.failed = true;          // logs are printed if the start fails
        fx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bayeux-multihost-'));
        const shipped = fs.readFileSync(SHIPPED_CFG, 'utf8');
        fx.servers = shippedServers(shipped);
        assert.ok(fx.servers.length >= HOSTS, `bayeux.cfg lists ${HOSTS} servers`);
        fx.servers = fx.servers.slice(0, HOSTS);
        fx.nw = createNetwork();
        Object.assign(fx, makeCertificate(fx.dir));
        fx.redis = await startRedis(fx);
        fx.responders = [];
        fx.lighttpd = [];
        for (let i = 0; i < HOSTS; i++) {
            fx.responders.push(await startResponder(fx, i));
            fx.lighttpd.push(await startLighttpd(fx, i));
        }
        [fx.httpsPort, fx.httpPort] = await freePorts(2);
        fx.haproxyCfg = path.join(fx.dir, 'haproxy.cfg');
        fs.writeFileSync(fx.haproxyCfg, haproxyConfig(fx, shipped));
        fx.haproxy = startProc(null, HAPROXY, ['-db', '-f', fx.haproxyCfg], path.join(fx.dir, 'haproxy.log'));
        await waitListening(fx.haproxy, ['127.0.0.1'], fx.httpsPort, 'haproxy');
        fx.url = `https://127.0.0.1:${fx.httpsPort}/cometd`;
        for (const s of fx.servers) await waitServerState(fx, s.name, 'UP');
        for (let i = 0; i < HOSTS; i++) await waitRedisState(fx, i, 'connected');
        fx.nodeIds = [];
        for (let i = 0; i < HOSTS; i++) fx.nodeIds.push((await hostStatus(fx, i)).redis.node);
        fx.failed = false;
    }, { timeout: 60000 * SLOW });

    afterEach((t) => { if (typeof t.passed === 'boolean' && !t.passed) fx.failed = true; });

    after(async () => {
        for (const u of users) await u.stop().catch(() => {});
        if (fx.holder) fx.holder.agent.destroy();
        // every process by PID, then the namespaces they ran in
        for (const p of [...live]) await p.stop('SIGTERM', 5000 * SLOW);
        if (fx.failed && fx.dir) {
            for (const f of fs.readdirSync(fx.dir, { recursive: true })) {
                const file = path.join(fx.dir, f);
                if (!/\.(log|out|cfg|conf)$/.test(f) || !fs.statSync(file).isFile()) continue;
                const text = fs.readFileSync(file, 'utf8');
                console.error(`\n######## ${file}\n${text.split('\n').slice(-80).join('\n')}`);
            }
        }
        destroyNetwork(network);
        network = null;
        if (fx.dir && process.env.KEEP_TEST_DIRS !== '1') fs.rmSync(fx.dir, { recursive: true, force: true });
    }, { timeout: 60000 * SLOW });

    const label = (i) => fx.servers[i].name;
    const hostIndex = (name) => fx.servers.findIndex((s) => s.name === name);

    /**
     * A chat user whose browser landed on host i.  The browsers that landed
     * elsewhere keep polling until then: HAProxy sends a new browser to the
     * host with the fewest connections, so letting them go at once would
     * send the next one to the same place again.
     */
    async function userOn(i, name, room) {
        const others = [];
        try {
            for (let k = 0; k < 4 * HOSTS; k++) {
                const u = new ChatUser(fx, name);
                users.add(u);
                await u.start(room);
                if (u.client.host === label(i)) return u;
                others.push(u);
            }
            assert.fail(`no new browser landed on ${label(i)} in ${4 * HOSTS} tries: ${others.map((u) => u.client.host)}`);
        } finally {
            await stopUsers(others);
        }
    }

    async function stopUsers(list) {
        for (const u of list) { users.delete(u); await u.stop(); }
    }

    test('the shipped bayeux.cfg is valid (haproxy -c) once its certificate exists', T, () => {
        const text = fs.readFileSync(SHIPPED_CFG, 'utf8').replace(/\bcrt\s+\S+/g, `crt ${fx.pem}`);
        const cfg = path.join(fx.dir, 'shipped.cfg');
        fs.writeFileSync(cfg, text);
        execFileSync(HAPROXY, ['-c', '-q', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    });

    test('one browser always reaches one host; browsers spread over the hosts', T, async () => {
        for (let i = 0; i < HOSTS; i++) {
            const end = Date.now() + BOUND;
            while ((await hostStatus(fx, i)).redis.nodes !== HOSTS - 1) {
                assert.ok(Date.now() < end, `host ${i + 1} hears the ${HOSTS - 1} others`);
                await sleep(100);
            }
        }
        const clients = [];
        for (let k = 0; k < 3 * HOSTS; k++) {
            const c = new HostClient(fx);
            const ch = `/stick/c${PID}x${k}`;
            await c.start([ch]);
            ok(await c.publish(ch, k), 'publish');
            const got = await c.connect({ timeout: 0 });
            assert.deepEqual(got.messages.map((m) => m.data), [k], 'its own message, from its own session');
            clients.push(c);
        }
        for (const [k, c] of clients.entries()) {
            assert.equal(new Set(c.hosts).size, 1, `client ${k}: every request on one host: ${c.hosts}`);
            const i = hostIndex(c.host);
            assert.ok(i >= 0, `client ${k} answered by a known host: ${c.host}`);
            assert.equal(c.jar.get('BAYEUX_NODE'), fx.servers[i].cookie, `client ${k}: HAProxy's cookie names its host`);
            // the status page through HAProxy, with the browser's cookies: its host's responder
            const st = await request(`${fx.url}/status`, { cookieJar: c.jar, agent: c.agent });
            assert.equal(st.status, 200, `status through HAProxy: ${st.text}`);
            assert.equal(JSON.parse(st.text).redis.node, fx.nodeIds[i], `client ${k}: the responder of ${c.host}`);
        }
        const per = fx.servers.map((s) => clients.filter((c) => c.host === s.name).length);
        assert.ok(per.every((n) => n > 0), `${clients.length} browsers spread over all hosts: ${per}`);
        for (let i = 0; i < HOSTS; i++) {
            assert.equal((await hostStatus(fx, i)).sessions, per[i], `host ${i + 1} holds the sessions of its browsers`);
        }
        for (const c of clients) { await c.disconnect(); c.agent.destroy(); }

        // a connect held for the responder's whole --timeout (25 s by default),
        // answered later (test below) while the other tests run
        fx.holder = new HostClient(fx);
        await fx.holder.start([]);
        const t0 = Date.now();
        fx.held = fx.holder.connect({ timeoutMs: 120000 * SLOW })
            .then((r) => ({ r, ms: Date.now() - t0 }), (e) => ({ e, ms: Date.now() - t0 }));
    });

    test('TLS ends at HAProxy: http is redirected, the hosts learn it was https', T, async () => {
        const plain = await request(`http://127.0.0.1:${fx.httpPort}/cometd`, { method: 'GET' });
        assert.equal(plain.status, 308);
        assert.equal(plain.headers.location, `https://127.0.0.1:${fx.httpPort}/cometd`);
        const c = new HostClient(fx);
        const hs = await c.handshake();
        ok(hs, 'handshake');
        const cookie = browserCookie(c.lastResponse);
        assert.match(cookie || '', /;\s*Secure/i, `BAYEUX_BROWSER is Secure behind TLS at HAProxy: ${cookie}`);
        const node = [].concat(c.lastResponse.headers['set-cookie']).find((s) => s.startsWith('BAYEUX_NODE='));
        assert.match(node || '', /HttpOnly/i, `HAProxy's cookie: ${node}`);
        await c.disconnect();
        c.agent.destroy();
    });

    test('chat across hosts: every message reaches every member once, in order', T, async () => {
        const room = newRoom();
        const list = [];
        for (let k = 0; k < 2 * HOSTS; k++) list.push(await userOn(k % HOSTS, `u${k}`, room));
        for (const u of list) ok(await u.join(), `${u.name} joins`);
        const N = 5;
        for (let n = 1; n <= N; n++) {
            for (const u of list) ok(await u.say(`m${n}`), `${u.name} says m${n}`);
        }
        const want = list.flatMap((p) => Array.from({ length: N }, (_, n) => `${p.name}:m${n + 1}`));
        await Promise.all(list.map((u) => u.until((x) => x.texts().length >= want.length,
            `all ${want.length} messages arrive (have ${u.texts().length})`)));
        // a last message from every publisher: anything doubled would come before it
        for (const u of list) ok(await u.say('end'), 'end');
        await Promise.all(list.map((u) => u.until((x) => list.every((p) => x.texts().includes(`${p.name}:end`)), 'the end markers')));
        for (const u of list) {
            const got = u.texts();
            for (const p of list) {
                assert.deepEqual(got.filter((t) => t.startsWith(`${p.name}:`)),
                    [...Array.from({ length: N }, (_, n) => `${p.name}:m${n + 1}`), `${p.name}:end`],
                    `${u.name} on ${u.client.host} gets ${p.name}'s messages once, in order`);
            }
            assert.equal(got.length, want.length + list.length, `${u.name}: nothing else`);
        }
        await stopUsers(list);
    });

    test('member lists are global: every member sees the members of every host', T, async () => {
        const room = newRoom();
        const list = [];
        for (let k = 0; k < 2 * HOSTS; k++) list.push(await userOn(k % HOSTS, `m${k}`, room));
        for (const u of list) ok(await u.join(), `${u.name} joins`);
        const names = list.map((u) => u.name);
        await Promise.all(list.map((u) => u.untilMembers(names, 'one sorted list over the hosts')));
        await list[0].until((x) => names.every((n) => x.chats().some((d) => d.user === n && d.membership === 'join')),
            'join notices from every host');
        // a name held on another host is taken
        const other = await userOn(1, 'x', room);
        const r = await other.join(list[0].name);
        assert.equal(r.successful, false, `a name held on ${list[0].client.host} is taken on ${other.client.host}`);
        assert.match(r.error, new RegExp(`^409:${list[0].name}:`));
        await stopUsers([...list, other]);
    });

    test('a private message reaches a peer on another host and nobody else', T, async () => {
        const room = newRoom();
        const alice = await userOn(0, 'alice', room);
        const bob = await userOn(1, 'bob', room);
        const carol = await userOn(2, 'carol', room);
        const dave = await userOn(0, 'dave', room);   // on the sender's host
        const list = [alice, bob, carol, dave];
        for (const u of list) ok(await u.join(), `${u.name} joins`);
        await Promise.all(list.map((u) => u.untilMembers(['alice', 'bob', 'carol', 'dave'], 'all listed')));
        ok(await alice.client.publish('/service/privatechat', { room, chat: 'psst', peer: 'bob' }), 'private message');
        const isPsst = (d) => d.scope === 'private' && d.chat === 'psst' && d.user === 'alice';
        await bob.until((u) => u.chats().some(isPsst), 'bob gets it');
        await alice.until((u) => u.chats().some(isPsst), 'the sender gets its copy');
        // a broadcast after it: when carol and dave have that, they would have had the private one
        ok(await alice.say('after'), 'broadcast');
        for (const u of [carol, dave, bob]) await u.until((x) => x.texts().includes('alice:after'), 'the later broadcast');
        assert.equal(bob.chats().filter(isPsst).length, 1, 'bob gets it once');
        assert.equal(carol.chats().some(isPsst), false, 'carol, on a third host, does not');
        assert.equal(dave.chats().some(isPsst), false, 'dave, on the sender\'s host, does not');
        await stopUsers(list);
    });

    test('a killed responder: its users leave the lists, HAProxy takes its host out, they come back on a live host', T, async () => {
        const holderHost = hostIndex(fx.holder.host);
        const dead = (holderHost + 1) % HOSTS;          // not the host holding the long connect
        const room = newRoom();
        const list = [];
        for (let k = 0; k < 2 * HOSTS; k++) list.push(await userOn(k % HOSTS, `k${k}`, room));
        for (const u of list) ok(await u.join(), `${u.name} joins`);
        const names = list.map((u) => u.name);
        await Promise.all(list.map((u) => u.untilMembers(names, 'all listed')));
        const gone = list.filter((u) => u.client.host === label(dead));
        const alive = list.filter((u) => !gone.includes(u));
        assert.equal(gone.length, 2, 'two users on the host to kill');

        const info = await fx.responders[dead].stop('SIGKILL');
        try {
            assert.equal(info.signal, 'SIGKILL');
            await Promise.all(alive.map((u) => u.untilMembers(alive.map((x) => x.name), 'the dead host\'s users left')));
            await alive[0].until((x) => gone.every((g) => x.chats().some((d) => d.user === g.name && d.membership === 'leave')),
                'leave notices for them');
            await waitServerState(fx, label(dead), 'DOWN');
            const health = await haproxyServers(fx);
            for (let i = 0; i < HOSTS; i++) if (i !== dead) assert.match(health[label(i)], /^UP/, `${label(i)} stays up`);

            for (const u of gone) {
                await u.until((x) => x.lost, 'its session is unknown where it lands next');
                assert.equal(u.lost.advice && u.lost.advice.reconnect, 'handshake', `handshake advice: ${JSON.stringify(u.lost)}`);
                await u.polling;
                await u.start(room);                          // the same browser: its stale cookie is replaced
                assert.notEqual(u.client.host, label(dead), `${u.name} lands on a live host`);
                assert.equal(u.client.jar.get('BAYEUX_NODE'), fx.servers[hostIndex(u.client.host)].cookie, 'with that host\'s cookie');
                ok(await u.join(), `${u.name} joins again`);
            }
            await Promise.all(list.map((u) => u.untilMembers(names, 'all listed again')));
            ok(await gone[0].say('back'), 'a returned user chats');
            ok(await alive[0].say('welcome'), 'a user who stayed chats');
            await Promise.all(list.map((u) => u.until((x) => ['back', 'welcome'].every((t) => x.texts().some((s) => s.endsWith(`:${t}`))), 'both messages')));
            await stopUsers(list);
        } finally {
            // the host comes back, also when a check above failed (the tests after this need it)
            fx.responders[dead] = await startResponder(fx, dead, '-restarted');
        }

        // checked up again, new browsers reach it
        await waitServerState(fx, label(dead), 'UP');
        await waitRedisState(fx, dead, 'connected');
        const again = await userOn(dead, 'z', newRoom());
        ok(await again.join(), 'a new user on the returned host');
        await stopUsers([again]);
    });

    test('a connect held for the responder\'s whole --timeout passes through HAProxy', T, async () => {
        const { r, e, ms } = await fx.held;
        assert.ifError(e);
        assert.equal(r.reply && r.reply.successful, true, `held connect answered by the responder: ${JSON.stringify(r.all)}`);
        assert.ok(ms >= 20000, `it was held until the responder's timeout (25 s), not cut: ${ms} ms`);
        await fx.holder.disconnect();
    });

    test('Redis restarted (kill -9): the hosts reconnect; chat and member lists cross the hosts again', T, async () => {
        const room = newRoom();
        const list = [];
        for (let i = 0; i < HOSTS; i++) list.push(await userOn(i, `r${i}`, room));
        for (const u of list) ok(await u.join(), `${u.name} joins`);
        const names = list.map((u) => u.name);
        await Promise.all(list.map((u) => u.untilMembers(names, 'all listed')));

        const info = await fx.redis.stop('SIGKILL');
        assert.equal(info.signal, 'SIGKILL');
        for (let i = 0; i < HOSTS; i++) await waitRedisState(fx, i, 'degraded');
        ok(await list[0].say('alone'), 'chat while Redis is away');
        await list[0].until((x) => x.texts().includes(`${list[0].name}:alone`), 'a host keeps serving its own users');
        // the other hosts fall silent: each lists its own users only (so the
        // lists below are new ones, made after the restart)
        await Promise.all(list.map((u) => u.untilMembers([u.name], 'without Redis, each host lists its own users')));
        fx.redis = await startRedis(fx);
        for (let i = 0; i < HOSTS; i++) await waitRedisState(fx, i, 'connected');
        await Promise.all(list.map((u) => u.untilMembers(names, 'the lists are global again')));
        for (const u of list) ok(await u.say('again'), `${u.name} chats`);
        await Promise.all(list.map((u) => u.until((x) => names.every((n) => x.texts().includes(`${n}:again`)), 'chat crosses the hosts again')));
        await stopUsers(list);
    });

    test('the responders stop cleanly (SIGTERM) and no log has a sanitizer report', T, async () => {
        for (let i = 0; i < HOSTS; i++) {
            const info = await fx.responders[i].stop('SIGTERM');
            assert.equal(info.code, 0, `responder of host ${i + 1}: ${JSON.stringify(info)}`);
        }
        for (const f of fx.responderLogs) {
            assert.deepEqual(sanitizerReports(fs.readFileSync(f, 'utf8')), [], `no sanitizer report in ${path.basename(f)}`);
        }
    });
});
