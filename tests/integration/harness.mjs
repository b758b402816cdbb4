// Integration test harness for bayeux-fcgi.
//
// Starts real front servers (lighttpd with mod_fastcgi, Apache 2.4 with
// mod_proxy_fcgi) and the responder, each in a fresh temp dir, on free
// 127.0.0.1 ports, and stops everything it started by PID.  Also provides
// small HTTP/Bayeux client helpers with per-client cookie jars.
//
// Environment (set by the Makefile's AM_TESTS_ENVIRONMENT / driver scripts):
//   BAYEUX_FCGI  absolute path of the built responder
//   TOP_SRCDIR   absolute source dir
//   SANITIZER    none | asan | tsan (slower server: upper time bounds scale)
//   LIGHTTPD, APACHE2, APACHE_MODDIR  optional overrides of the tool paths
//   BAYEUX_LOAD  absolute path of the built load generator (runLoad)
//   KEEP_TEST_DIRS=1  keep the servers' temp dirs (configs, logs) after a run
//   PARK_CLIENTS=N    number of clients of park1000.test.mjs
//   OPENSSL      optional override of the openssl program (startLighttpd tls)
//
// Run: `make check` (drivers tests/integration/*.test), or one group by hand:
//   BAYEUX_FCGI=$PWD/bayeux-fcgi TOP_SRCDIR=$PWD SANITIZER=none sh tests/integration/lighttpd.test
// or one file: node --test --test-reporter=spec tests/integration/apache.test.mjs

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';

const here = path.dirname(fileURLToPath(import.meta.url));

export const TOP_SRCDIR = process.env.TOP_SRCDIR || path.resolve(here, '..', '..');
export const BAYEUX_FCGI = process.env.BAYEUX_FCGI || path.join(TOP_SRCDIR, 'bayeux-fcgi');
export const SANITIZER = process.env.SANITIZER || 'none';
export const LIGHTTPD = process.env.LIGHTTPD || '/usr/sbin/lighttpd';
export const APACHE2 = process.env.APACHE2 || '/usr/sbin/apache2';
export const APACHE_MODDIR = process.env.APACHE_MODDIR || '/usr/lib/apache2/modules';
export const BAYEUX_LOAD = process.env.BAYEUX_LOAD || path.join(TOP_SRCDIR, 'bayeux-load');
export const OPENSSL = process.env.OPENSSL || 'openssl';

/** Factor applied to upper time bounds ("answered promptly") under sanitizers. */
export const SLOW = SANITIZER === 'tsan' ? 5 : SANITIZER === 'asan' ? 3 : 1;

/** Bound for "returns at once" (ms). */
export const PROMPT_MS = 1000 * SLOW;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// process bookkeeping: everything we spawn is killed by PID if the test
// process exits without stopping it (crash, assertion in a hook, ...).

const liveChildren = new Set();
const livePids = new Set(); // grandchildren (lighttpd's bin-path responder)

function killAllSync() {
    for (const child of liveChildren) {
        try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    liveChildren.clear();
    for (const pid of livePids) {
        if (pidAlive(pid)) {
            try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
        }
    }
    livePids.clear();
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => { killAllSync(); process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)); });
}

export function spawnLogged(cmd, args, { logFile, detached = false, env = process.env, cwd } = {}) {
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached, env, cwd });
    fs.closeSync(fd);
    liveChildren.add(child);
    child.exitInfo = null;
    child.exited = new Promise((resolve) => {
        child.once('exit', (code, signal) => {
            liveChildren.delete(child);
            child.exitInfo = { code, signal };
            resolve(child.exitInfo);
        });
        child.once('error', (err) => {
            liveChildren.delete(child);
            child.exitInfo = { code: null, signal: null, error: err };
            resolve(child.exitInfo);
        });
    });
    return child;
}

/** Send `signal` to a child we spawned and wait for it; SIGKILL after graceMs. */
export async function stopChild(child, { signal = 'SIGTERM', graceMs = 10000 } = {}) {
    if (!child || child.exitInfo) return child && child.exitInfo;
    try { process.kill(child.pid, signal); } catch { /* gone */ }
    let timerId;
    const timer = new Promise((r) => { timerId = setTimeout(() => r('timeout'), graceMs); });
    const r = await Promise.race([child.exited, timer]);
    clearTimeout(timerId);
    if (r === 'timeout') {
        try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
        const info = await child.exited;
        return { ...info, killedAfterTimeout: true };
    }
    return r;
}

function pidAlive(pid) {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        // state is the field after the ")" of the command name
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        return state !== 'Z' && state !== 'X';
    } catch {
        return false;
    }
}

async function waitPidGone(pid, ms) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
        if (!pidAlive(pid)) return true;
        await sleep(50);
    }
    return !pidAlive(pid);
}

function childPids(pid) {
    try {
        return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
        return [];
    }
}

// ---------------------------------------------------------------------------
// temp dirs and ports

/** (a) a fresh temp dir (mode 0755 so Apache's non-root children can read it). */
export async function makeTempDir(prefix = 'bayeux-it-') {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
    await fsp.chmod(dir, 0o755);
    return dir;
}

/** (b) a free TCP port on 127.0.0.1 (bind to port 0, read it, close). */
export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

export async function freePorts(n) {
    const ports = new Set();
    while (ports.size < n) ports.add(await freePort());
    return [...ports];
}

/** True when something LISTENs on 127.0.0.1:port (read from /proc, no connection made). */
function isListening(port) {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
        let text;
        try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
        for (const line of text.split('\n').slice(1)) {
            const cols = line.trim().split(/\s+/);
            if (cols.length < 4) continue;
            if (cols[1].endsWith(':' + hex) && cols[3] === '0A') return true;
        }
    }
    return false;
}

export async function waitListening(port, child, what, logFiles, ms = 15000 * SLOW) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
        if (child.exitInfo) {
            throw new Error(`${what} exited before listening (${JSON.stringify(child.exitInfo)}):\n${readLog(logFiles)}`);
        }
        if (isListening(port)) return;
        await sleep(25);
    }
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
    throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${ms} ms:\n${readLog(logFiles)}`);
}

/** Await `promise`; if it fails, remove our temp dir (its logs are in the error) and rethrow. */
async function cleanupOnError(dir, promise) {
    try {
        return await promise;
    } catch (e) {
        if (process.env.KEEP_TEST_DIRS !== '1' && path.basename(dir).startsWith('bayeux-')) {
            await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
        }
        throw e;
    }
}

function readLog(files) {
    return [].concat(files).map((f) => {
        try { return fs.readFileSync(f, 'utf8'); } catch { return ''; }
    }).join('\n');
}

const SANITIZER_RE = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|WARNING: ThreadSanitizer|ThreadSanitizer: |runtime error: |SUMMARY: (Address|Thread|UndefinedBehavior|Leak)Sanitizer|AddressSanitizer:DEADLYSIGNAL|Segmentation fault/;

/** Lines of a log that look like sanitizer reports or crashes. */
export function sanitizerReports(text) {
    return text.split('\n').filter((l) => SANITIZER_RE.test(l));
}

function testFailed(t) {
    return typeof t.passed === 'boolean' ? !t.passed : false;
}

// ---------------------------------------------------------------------------
// the responder started on its own (Apache, lighttpd "host"/"port" mode)

/**
 * Start `bayeux-fcgi --listen 127.0.0.1:<port> ...args`.
 * Returns { pid, port, child, logFile, log(), stop(signal) -> {code, signal} }.
 */
export async function startResponder({ args = [], dir, port } = {}) {
    dir = dir || await makeTempDir('bayeux-resp-');
    port = port || await freePort();
    const logFile = path.join(dir, 'responder.log');
    const child = spawnLogged(BAYEUX_FCGI, ['--listen', `127.0.0.1:${port}`, ...args], { logFile });
    await cleanupOnError(dir, waitListening(port, child, 'bayeux-fcgi', logFile));
    return {
        pid: child.pid,
        port,
        child,
        dir,
        logFile,
        log: () => readLog(logFile),
        async stop(signal = 'SIGTERM', graceMs = 10000 * SLOW) {
            return stopChild(child, { signal, graceMs });
        },
    };
}

// ---------------------------------------------------------------------------
// (c) lighttpd

/** True when lighttpd can serve TLS here: mod_openssl and openssl are installed. */
export function tlsAvailable() {
    const mod = ['/usr/lib/lighttpd/mod_openssl.so', '/usr/local/lib/lighttpd/mod_openssl.so']
        .some((f) => fs.existsSync(f));
    try { execFileSync(OPENSSL, ['version'], { stdio: 'ignore' }); } catch { return false; }
    return mod;
}

/** A self-signed certificate (EC P-256, 2 days) for 127.0.0.1 and localhost. */
function makeSelfSignedCert(certFile, keyFile) {
    execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: ['ignore', 'ignore', 'pipe'] });
    fs.chmodSync(keyFile, 0o600);
}

/**
 * Start lighttpd in the foreground with mod_fastcgi mounting /cometd.
 *   responderArgs: extra arguments of bayeux-fcgi (bin-path mode)
 *   backend: { host, port } to use a responder started separately instead
 *   backends: [{ host, port }, ...] several responders started separately,
 *     with balance: "sticky" (client-address hash), "fair", ... (fastcgi.balance)
 *   docRoot: serve this directory at / (e.g. $TOP_SRCDIR/www, the chat page)
 *     instead of a placeholder index.html in the temp dir
 *   tls: serve https with mod_openssl and a self-signed certificate for
 *     127.0.0.1 made with openssl in the temp dir; the server object then
 *     carries `ca` (the certificate, PEM) and `agent` (a keep-alive
 *     https.Agent trusting it) to pass to request() / BayeuxClient
 *   gracefulShutdownTimeout: seconds, lighttpd's
 *     server.graceful-shutdown-timeout (unset: lighttpd's default)
 * Returns a server object: { url, origin, port, dir, stop(), logs(), ... }.
 */
export async function startLighttpd({ responderArgs = [], backend = null, backends = null, balance = null, maxFds = 8192, maxConnections = 4000, docRoot = null, tls = false, gracefulShutdownTimeout = null } = {}) {
    if (backends) backend = backends[0];
    const dir = await makeTempDir('bayeux-lighttpd-');
    const port = await freePort();
    let tlsConf = '', ca = null;
    if (tls) {
        const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
        makeSelfSignedCert(cert, key);
        ca = fs.readFileSync(cert, 'utf8');
        tlsConf = `ssl.engine = "enable"\nssl.pemfile = ${JSON.stringify(cert)}\nssl.privkey = ${JSON.stringify(key)}\n`;
    }
    const graceConf = gracefulShutdownTimeout === null ? ''
        : `server.feature-flags = ( "server.graceful-shutdown-timeout" => ${Number(gracefulShutdownTimeout)} )\n`;
    let www = docRoot;
    if (!www) {
        www = path.join(dir, 'www');
        await fsp.mkdir(www);
        await fsp.writeFile(path.join(www, 'index.html'), '<!doctype html><title>bayeux-fcgi test</title>\n');
    }
    const conf = path.join(dir, 'lighttpd.conf');
    const errorLog = path.join(dir, 'error.log');
    const outLog = path.join(dir, 'lighttpd.out'); // lighttpd's stderr and the bin-path responder's stderr
    const q = (s) => JSON.stringify(String(s)); // lighttpd strings use "..." with \" escapes
    let backendConf;
    if (backends) {
        // several responders started separately: one entry each
        backendConf = backends.map((b) => `    "host" => ${q(b.host || '127.0.0.1')},\n    "port" => ${b.port},\n`)
            .join('    "check-local" => "disable"\n), (\n');
    } else if (backend) {
        backendConf = `    "host" => ${q(backend.host || '127.0.0.1')},\n    "port" => ${backend.port},\n`;
    } else {
        // lighttpd splits bin-path on spaces into argv; the test paths have none.
        const binPath = [BAYEUX_FCGI, ...responderArgs].join(' ');
        backendConf = `    "bin-path" => ${q(binPath)},\n    "socket" => ${q(path.join(dir, 'bayeux.sock'))},\n    "max-procs" => 1,\n`;
    }
    // Running as root: lighttpd 1.4.69 starts fine without server.username (it
    // only drops privileges when one is set); the tests run it as root.
    const text = `# generated by tests/integration/harness.mjs
server.modules = ( "mod_fastcgi"${tls ? ', "mod_openssl"' : ''} )
${tlsConf}${graceConf}
server.document-root = ${q(www)}
server.bind = "127.0.0.1"
server.port = ${port}
server.errorlog = ${q(errorLog)}
server.pid-file = ${q(path.join(dir, 'lighttpd.pid'))}
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".js" => "text/javascript; charset=utf-8",
    ".css" => "text/css; charset=utf-8", ".png" => "image/png", ".svg" => "image/svg+xml" )
# room for 1,000+ parked long-polls: each costs 2 fds (client + backend);
# lighttpd clamps max-connections to max-fds/2.
server.max-fds = ${maxFds}
server.max-connections = ${maxConnections}
# keep idle keep-alive connections longer than any pause in the tests
server.max-keep-alive-idle = 60
server.max-keep-alive-requests = 10000
fastcgi.server = ( "/cometd" => ((
${backendConf}    "check-local" => "disable"
)))
${balance ? `fastcgi.balance = ${q(balance)}\n` : ''}`;
    await fsp.writeFile(conf, text);
    const child = spawnLogged(LIGHTTPD, ['-D', '-f', conf], { logFile: outLog, detached: true });
    await cleanupOnError(dir, waitListening(port, child, 'lighttpd', outLog));
    let responderPid = null;
    if (!backend) {
        // lighttpd spawns the bin-path responder before it listens.
        const end = Date.now() + 5000 * SLOW;
        while (Date.now() < end && !responderPid) {
            responderPid = childPids(child.pid)[0] || null;
            if (!responderPid) await sleep(25);
        }
        if (responderPid) livePids.add(responderPid);
        if (!responderPid) {
            await stopChild(child);
            await cleanupOnError(dir, Promise.reject(new Error(`lighttpd did not spawn ${BAYEUX_FCGI}:\n${readLog(outLog)}\n${readLog(errorLog)}`)));
        }
    }
    const scheme = tls ? 'https' : 'http';
    const server = {
        kind: 'lighttpd',
        port,
        dir,
        scheme,
        origin: `${scheme}://127.0.0.1:${port}`,
        url: `${scheme}://127.0.0.1:${port}/cometd`,
        ca,
        agent: tls ? new https.Agent({ keepAlive: true, maxSockets: Infinity, ca }) : defaultAgent,
        pid: child.pid,
        responderPid,
        child,
        stopped: null,
        errorLogFile: errorLog,
        outLogFile: outLog,
        /** bin-path mode: the pid of the responder lighttpd runs now (changes if it was respawned). */
        currentResponderPid() {
            const pid = childPids(child.pid)[0] || null;
            if (pid) livePids.add(pid); // a respawned one is stopped with lighttpd too
            return pid;
        },
        /** lighttpd's error log and the responder's standard error, as text. */
        errorLog: () => readLog(errorLog),
        outLog: () => readLog(outLog),
        logs() {
            return `==== lighttpd config ${conf}\n${text}\n==== ${errorLog}\n${readLog(errorLog)}\n==== ${outLog} (lighttpd + responder stderr)\n${readLog(outLog)}`;
        },
        /** (e) stop lighttpd (and its bin-path responder) by PID. */
        async stop() {
            if (this.stopped) return this.stopped;
            this.stopped = (async () => {
                // a responder lighttpd started after a crash or restart is waited for too
                const respawned = backend ? null : this.currentResponderPid();
                const info = await stopChild(child, { signal: 'SIGTERM', graceMs: 10000 * SLOW });
                let responderGone = true;
                for (const pid of new Set([responderPid, respawned].filter(Boolean))) {
                    const gone = await waitPidGone(pid, 10000 * SLOW);
                    if (!gone) {
                        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
                    }
                    responderGone = responderGone && gone;
                    livePids.delete(pid);
                }
                const reports = sanitizerReports(readLog(outLog) + '\n' + readLog(errorLog));
                return { ...info, responderGone, sanitizerReports: reports };
            })();
            return this.stopped;
        },
    };
    return server;
}

// ---------------------------------------------------------------------------
// (d) Apache 2.4

/**
 * Start Apache (mpm_event) in the foreground proxying /cometd with
 * mod_proxy_fcgi to a responder listening on 127.0.0.1:backendPort.
 */
export async function startApache({ backendPort, timeoutSec = 120 } = {}) {
    const dir = await makeTempDir('bayeux-apache-');
    const port = await freePort();
    const www = path.join(dir, 'www');
    const run = path.join(dir, 'run');
    await fsp.mkdir(www, { mode: 0o755 });
    await fsp.mkdir(run, { mode: 0o755 });
    await fsp.writeFile(path.join(www, 'index.html'), '<!doctype html><title>bayeux-fcgi test</title>\n');
    await fsp.chmod(path.join(www, 'index.html'), 0o644);
    const conf = path.join(dir, 'httpd.conf');
    const errorLog = path.join(dir, 'error.log');
    const outLog = path.join(dir, 'apache.out');
    const accessLog = path.join(dir, 'access.log');
    const q = (s) => JSON.stringify(String(s));
    const asRoot = process.getuid && process.getuid() === 0;
    let userGroup = '';
    if (asRoot) {
        // Apache refuses to serve as root: its children switch to this user.
        const user = fs.readFileSync('/etc/passwd', 'utf8').includes('\nwww-data:') ? 'www-data' : 'nobody';
        const group = fs.readFileSync('/etc/group', 'utf8').includes('\nwww-data:') ? 'www-data' : 'nogroup';
        userGroup = `User ${user}\nGroup ${group}\n`;
    }
    const mod = (name, file) => `LoadModule ${name} ${q(path.join(APACHE_MODDIR, file))}\n`;
    const text = `# generated by tests/integration/harness.mjs
ServerRoot ${q(dir)}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${q(path.join(run, 'httpd.pid'))}
DefaultRuntimeDir ${q(run)}
Mutex file:${run} default
ErrorLog ${q(errorLog)}
LogLevel warn
${mod('mpm_event_module', 'mod_mpm_event.so')}${mod('authz_core_module', 'mod_authz_core.so')}${mod('mime_module', 'mod_mime.so')}${mod('dir_module', 'mod_dir.so')}${mod('proxy_module', 'mod_proxy.so')}${mod('proxy_fcgi_module', 'mod_proxy_fcgi.so')}
${userGroup}
# mod_proxy_fcgi holds one worker thread per in-flight request, so held
# long-polls need ThreadsPerChild x ServerLimit >= parked requests + a few for
# the other requests.  The Apache tests park at most a handful at a time:
# 2 x 32 = 64 threads is ample.
StartServers 2
ServerLimit 2
ThreadLimit 32
ThreadsPerChild 32
MinSpareThreads 8
MaxSpareThreads 64
MaxRequestWorkers 64
ThreadStackSize 262144
# Both must exceed the responder's long-poll timeout.
Timeout ${timeoutSec}
ProxyTimeout ${timeoutSec}
KeepAlive On
KeepAliveTimeout 60
MaxKeepAliveRequests 0
DocumentRoot ${q(www)}
DirectoryIndex index.html
TypesConfig /dev/null
AddType text/html .html
<Directory />
    Require all granted
</Directory>
LogFormat "%h %t \\"%r\\" %>s %b %D" timing
CustomLog ${q(accessLog)} timing
# no enablereuse: it fails against libfcgi
ProxyPass "/cometd" "fcgi://127.0.0.1:${backendPort}/"
`;
    await fsp.writeFile(conf, text);
    const child = spawnLogged(APACHE2, ['-f', conf, '-DFOREGROUND'], { logFile: outLog, detached: true });
    await cleanupOnError(dir, waitListening(port, child, 'apache2', [outLog, errorLog]));
    return {
        kind: 'apache',
        port,
        dir,
        origin: `http://127.0.0.1:${port}`,
        url: `http://127.0.0.1:${port}/cometd`,
        pid: child.pid,
        child,
        stopped: null,
        logs() {
            return `==== apache config ${conf}\n${text}\n==== ${errorLog}\n${readLog(errorLog)}\n==== ${outLog}\n${readLog(outLog)}\n==== ${accessLog}\n${readLog(accessLog)}`;
        },
        async stop() {
            if (!this.stopped) this.stopped = stopChild(child, { signal: 'SIGTERM', graceMs: 10000 * SLOW });
            return this.stopped;
        },
    };
}


// ---------------------------------------------------------------------------
// fixtures for node:test

/**
 * Register before/after hooks (in the current describe) that start servers
 * with `startFn` and stop them afterwards; server logs are printed when a
 * test failed.  `startFn` returns an object of servers (each with stop(),
 * logs()).  Returns a holder whose `.s` is that object.
 */
export function useServers(startFn) {
    const fx = { s: null, failed: false };
    before(async () => { fx.s = await startFn(); }, { timeout: 60000 * SLOW });
    afterEach((t) => { if (testFailed(t)) fx.failed = true; });
    after(async () => {
        if (!fx.s) return;
        for (const srv of Object.values(fx.s)) {
            if (srv && typeof srv.stop === 'function') {
                try { await srv.stop(); } catch (e) { console.error('stop failed:', e); }
            }
        }
        if (fx.failed) printLogs(fx.s);
        await removeDirs(fx.s);
    }, { timeout: 60000 * SLOW });
    return fx;
}

/**
 * Registers the last test of a lighttpd group: the bin-path responder was
 * never restarted (no crash), and once lighttpd is stopped its logs hold no
 * sanitizer report or crash and the responder has exited.
 */
export function testLighttpdHealthy(fx, opts = { timeout: 60000 * SLOW }) {
    test('the responder was never restarted and reported no sanitizer errors', opts, async () => {
        const srv = fx.s.lighttpd;
        assert.equal(srv.currentResponderPid(), srv.responderPid, 'same responder process as at start (no crash/respawn)');
        const info = await srv.stop();
        assert.deepEqual(info.sanitizerReports, [], 'no sanitizer reports / crashes in the logs');
        assert.equal(info.responderGone, true, 'the responder exited when lighttpd stopped');
    });
}

/** Remove the servers' temp dirs (set KEEP_TEST_DIRS=1 to keep them). */
export async function removeDirs(servers) {
    if (process.env.KEEP_TEST_DIRS === '1') return;
    for (const srv of Object.values(servers)) {
        if (srv && srv.dir && path.basename(srv.dir).startsWith('bayeux-')) {
            await fsp.rm(srv.dir, { recursive: true, force: true }).catch(() => {});
        }
    }
}

export function printLogs(servers) {
    for (const [name, srv] of Object.entries(servers)) {
        if (!srv) continue;
        const text = typeof srv.logs === 'function' ? srv.logs() : typeof srv.log === 'function' ? srv.log() : '';
        console.error(`\n######## logs of ${name} (${srv.dir || ''})\n${text}`);
    }
}

// ---------------------------------------------------------------------------
// HTTP client helpers

/** A minimal cookie jar (one per simulated browser). */
export class CookieJar {
    constructor() { this.cookies = new Map(); }
    store(setCookie) {
        if (!setCookie) return;
        for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
            const nv = line.split(';')[0].trim();
            const eq = nv.indexOf('=');
            if (eq > 0) this.cookies.set(nv.slice(0, eq), nv.slice(eq + 1));
        }
    }
    get(name) { return this.cookies.get(name); }
    set(name, value) { this.cookies.set(name, value); }
    header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
    clone() { const j = new CookieJar(); j.cookies = new Map(this.cookies); return j; }
}

export const defaultAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
/** For https URLs requested with the default agent (trusts the system's CAs only). */
export const defaultHttpsAgent = new https.Agent({ keepAlive: true, maxSockets: Infinity });

/**
 * One HTTP request.  body: string | Buffer | object (sent as JSON).
 * opts: { method, headers, cookieJar, agent, chunked (array of pieces or true),
 *         timeoutMs, contentType }
 * Returns { status, headers, text, json, elapsed }.
 */
export function request(url, opts = {}) {
    const {
        method = 'GET', body, headers = {}, cookieJar, agent = defaultAgent,
        chunked = false, timeoutMs = 60000 * SLOW,
    } = opts;
    let payload = body;
    const hdrs = { ...headers };
    if (payload !== undefined && payload !== null && typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
        payload = JSON.stringify(payload);
    }
    if (payload !== undefined && payload !== null && !opts.noContentType
        && !Object.keys(hdrs).some((h) => h.toLowerCase() === 'content-type')) {
        hdrs['Content-Type'] = 'application/json';
    }
    if (cookieJar && cookieJar.cookies.size) hdrs['Cookie'] = cookieJar.header();
    const buf = payload === undefined || payload === null ? null : Buffer.from(payload);
    if (buf && !chunked) hdrs['Content-Length'] = String(buf.length);
    const start = performance.now();
    const secure = String(url).startsWith('https:');
    const mod = secure ? https : http;
    const useAgent = secure && agent === defaultAgent ? defaultHttpsAgent : agent;
    return new Promise((resolve, reject) => {
        const req = mod.request(url, { method, headers: hdrs, agent: useAgent }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                clearTimeout(timer);
                if (cookieJar) cookieJar.store(res.headers['set-cookie']);
                const text = Buffer.concat(chunks).toString('utf8');
                let json;
                if (/json/i.test(res.headers['content-type'] || '')) {
                    try { json = JSON.parse(text); } catch (e) { json = undefined; }
                }
                resolve({ status: res.statusCode, headers: res.headers, text, json, elapsed: performance.now() - start });
            });
            res.on('error', (e) => { clearTimeout(timer); reject(e); });
        });
        const timer = setTimeout(() => {
            req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        req.on('error', (e) => { clearTimeout(timer); reject(e); });
        if (buf && chunked) {
            // Transfer-Encoding: chunked (no Content-Length): several writes.
            const pieces = Array.isArray(chunked) ? chunked.map((p) => Buffer.from(p)) : splitBuffer(buf, 3);
            (async () => {
                for (const p of pieces) {
                    req.write(p);
                    await sleep(15);
                }
                req.end();
            })();
        } else {
            req.end(buf || undefined);
        }
        if (opts.onRequest) opts.onRequest(req);
    });
}

function splitBuffer(buf, n) {
    const size = Math.max(1, Math.ceil(buf.length / n));
    const out = [];
    for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
    return out;
}

/** POST helper: post(url, body, {cookieJar, headers, chunked, agent}). */
export function post(url, body, opts = {}) {
    return request(url, { ...opts, method: 'POST', body });
}

/**
 * callback-polling: GET url?message=<json>&jsonp=<callback>.
 * Returns { status, headers, text, payload } where payload is the array
 * passed to the callback (when the body has the form `callback(<json>)`).
 */
export async function jsonpGet(url, messages, callback, opts = {}) {
    const u = new URL(url);
    if (messages !== undefined) u.searchParams.set('message', typeof messages === 'string' ? messages : JSON.stringify(messages));
    if (callback !== undefined) u.searchParams.set('jsonp', callback);
    const res = await request(u.toString(), { ...opts, method: 'GET' });
    let payload;
    if (callback !== undefined) {
        // `cb([...])`, optionally with a leading `/**/` comment and a trailing `;`
        const t = res.text.trim().replace(/^\/\*\*\/\s*/, '').replace(/;$/, '');
        const prefix = `${callback}(`;
        if (t.startsWith(prefix) && t.endsWith(')')) {
            try { payload = JSON.parse(t.slice(prefix.length, -1)); } catch { payload = undefined; }
        }
    }
    return { ...res, payload };
}

// ---------------------------------------------------------------------------
// a minimal Bayeux client (long-polling over POST, or callback-polling over GET)

export class BayeuxClient {
    /**
     * url: the endpoint (http://127.0.0.1:port/cometd)
     * opts: { cookieJar, agent, transport: 'long-polling' | 'callback-polling' }
     */
    constructor(url, opts = {}) {
        this.url = url;
        this.jar = opts.cookieJar || new CookieJar();
        this.agent = opts.agent || defaultAgent;
        this.transport = opts.transport || 'long-polling';
        this.clientId = null;
        this.idSeq = 0;
        this.lastResponse = null;
    }

    nextId() { return String(++this.idSeq); }

    /** Send a batch; returns the parsed reply array (throws on non-200 / non-array). */
    async send(messages, { path: subPath = '', chunked = false, timeoutMs, onRequest } = {}) {
        let res;
        if (this.transport === 'callback-polling') {
            res = await jsonpGet(this.url + subPath, messages, 'jsonpcb', { cookieJar: this.jar, agent: this.agent, timeoutMs, onRequest });
            res.json = res.payload;
        } else {
            res = await post(this.url + subPath, messages, { cookieJar: this.jar, agent: this.agent, chunked, timeoutMs, onRequest });
        }
        this.lastResponse = res;
        if (res.status !== 200 || !Array.isArray(res.json)) {
            throw new Error(`Bayeux request ${JSON.stringify(messages)} -> HTTP ${res.status} ${res.headers['content-type']}: ${res.text.slice(0, 500)}`);
        }
        return res.json;
    }

    static findReply(replies, msg) {
        return replies.find((r) => r.channel === msg.channel && r.id === msg.id)
            || replies.find((r) => r.id === msg.id && r.id !== undefined && !('data' in r));
    }

    async handshake(extra = {}, opts = {}) {
        const msg = {
            channel: '/meta/handshake', version: '1.0', minimumVersion: '1.0',
            supportedConnectionTypes: [this.transport], id: this.nextId(), ...extra,
        };
        const replies = await this.send([msg], opts);
        const reply = BayeuxClient.findReply(replies, msg);
        if (reply && reply.successful) this.clientId = reply.clientId;
        return reply;
    }

    /**
     * One /meta/connect.  Returns { reply, messages, all, elapsed }:
     * reply = the /meta/connect reply, messages = the delivered messages.
     */
    async connect({ timeout, extra = {}, path: subPath, chunked, timeoutMs } = {}) {
        const msg = { channel: '/meta/connect', clientId: this.clientId, connectionType: this.transport, id: this.nextId(), ...extra };
        if (timeout !== undefined) msg.advice = { timeout };
        const t0 = performance.now();
        const all = await this.send([msg], { path: subPath, chunked, timeoutMs });
        const reply = all.find((r) => r.channel === '/meta/connect');
        const messages = all.filter((r) => r.channel !== '/meta/connect');
        return { reply, messages, all, elapsed: performance.now() - t0, request: msg };
    }

    async subscribe(subscription, extra = {}) {
        const msg = { channel: '/meta/subscribe', clientId: this.clientId, subscription, id: this.nextId(), ...extra };
        return BayeuxClient.findReply(await this.send([msg]), msg);
    }

    async unsubscribe(subscription, extra = {}) {
        const msg = { channel: '/meta/unsubscribe', clientId: this.clientId, subscription, id: this.nextId(), ...extra };
        return BayeuxClient.findReply(await this.send([msg]), msg);
    }

    async publish(channel, data, extra = {}) {
        const msg = { channel, clientId: this.clientId, data, id: this.nextId(), ...extra };
        return BayeuxClient.findReply(await this.send([msg]), msg);
    }

    async disconnect() {
        const msg = { channel: '/meta/disconnect', clientId: this.clientId, id: this.nextId() };
        return BayeuxClient.findReply(await this.send([msg]), msg);
    }

    /** handshake + subscribe(s) + the first connect (which returns at once). */
    async start(subscriptions = []) {
        const hs = await this.handshake();
        if (!hs || !hs.successful) throw new Error(`handshake failed: ${JSON.stringify(hs)}`);
        for (const s of [].concat(subscriptions)) {
            const r = await this.subscribe(s);
            if (!r || !r.successful) throw new Error(`subscribe ${s} failed: ${JSON.stringify(r)}`);
        }
        const c = await this.connect();
        if (!c.reply || !c.reply.successful) throw new Error(`first connect failed: ${JSON.stringify(c.all)}`);
        return this;
    }
}

// ---------------------------------------------------------------------------
// promise timing helpers

/** Resolves true if `promise` is still pending after `ms`. */
export async function stillPendingAfter(promise, ms) {
    let settled = false;
    promise.then(() => { settled = true; }, () => { settled = true; });
    await sleep(ms);
    return !settled;
}

/** Await `promise`, failing if it takes longer than `ms`. */
export async function within(promise, ms, what = 'operation') {
    let timer;
    const t = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms); });
    try {
        return await Promise.race([promise, t]);
    } finally {
        clearTimeout(timer);
    }
}

/** Unique channel names per test run. */
let chanSeq = 0;
export function uniqueChannel(prefix = '/test') {
    return `${prefix}/c${process.pid}x${++chanSeq}`;
}

// ---------------------------------------------------------------------------
// assertions shared by the test files

export const CLIENT_ID_RE = /^[0-9a-fA-F]{32,}$/;
export const SESSION_ADVICE = { reconnect: 'handshake', interval: 0 };

/** 200, JSON content type and the caching/sniffing headers every reply carries. */
export function assertJsonReply(res, what = 'reply') {
    assert.equal(res.status, 200, `${what}: HTTP status (body: ${res.text.slice(0, 300)})`);
    assert.match(res.headers['content-type'] || '', /^application\/json;\s*charset=utf-8$/i, `${what}: Content-Type`);
    assertCommonHeaders(res, what);
    assert.ok(Array.isArray(res.json), `${what}: body is a JSON array: ${res.text.slice(0, 300)}`);
}

export function assertCommonHeaders(res, what = 'reply') {
    assert.match(res.headers['cache-control'] || '', /(^|[\s,])no-store($|[\s,])/i, `${what}: Cache-Control no-store`);
    assert.equal((res.headers['x-content-type-options'] || '').toLowerCase(), 'nosniff', `${what}: X-Content-Type-Options`);
}

/** A short text/plain HTTP error. */
export function assertHttpError(res, status, what) {
    assert.equal(res.status, status, `${what}: expected HTTP ${status}, got ${res.status} ${res.text.slice(0, 200)}`);
    assert.match(res.headers['content-type'] || '', /^text\/plain/i, `${what}: text/plain error body`);
    assert.ok(res.text.length < 1024, `${what}: short error body`);
}

/** The BAYEUX_BROWSER Set-Cookie header of a response (or undefined). */
export function browserCookie(res) {
    const sc = [].concat(res.headers['set-cookie'] || []);
    return sc.find((c) => /^BAYEUX_BROWSER=/.test(c));
}

export function assertBrowserCookie(res) {
    const c = browserCookie(res);
    assert.ok(c, `handshake sets BAYEUX_BROWSER (Set-Cookie: ${JSON.stringify(res.headers['set-cookie'])})`);
    const [nv, ...attrs] = c.split(';').map((x) => x.trim());
    assert.match(nv, /^BAYEUX_BROWSER=[0-9a-fA-F]+$/, 'cookie value is hex');
    assert.ok(attrs.some((a) => a === 'Path=/'), `cookie has Path=/: ${c}`);
    assert.ok(attrs.some((a) => /^HttpOnly$/i.test(a)), `cookie is HttpOnly: ${c}`);
    return nv.split('=')[1];
}

/** A failed Bayeux reply: successful:false, exact error, id echoed. */
/** A successful handshake reply with id `id` and the server's standard advice. */
export function assertHandshakeReply(r, id, timeout) {
    assert.equal(r.id, id);
    assert.equal(r.channel, '/meta/handshake');
    assert.equal(r.successful, true);
    assert.match(r.clientId, CLIENT_ID_RE);
    assert.equal(r.version, '1.0');
    assert.deepEqual(r.supportedConnectionTypes, ['long-polling', 'callback-polling']);
    assert.deepEqual(r.advice, { reconnect: 'retry', interval: 0, timeout });
}

export function assertBayeuxError(reply, { id, channel, error, advice } = {}) {
    assert.ok(reply, `a reply exists (expected error ${error})`);
    assert.equal(reply.successful, false, `successful:false in ${JSON.stringify(reply)}`);
    if (error instanceof RegExp) assert.match(reply.error, error, `error of ${JSON.stringify(reply)}`);
    else assert.equal(reply.error, error, `error of ${JSON.stringify(reply)}`);
    if (id !== undefined) assert.equal(reply.id, id, `id echoed in ${JSON.stringify(reply)}`);
    if (channel !== undefined) assert.equal(reply.channel, channel, `channel in ${JSON.stringify(reply)}`);
    if (advice) {
        assert.ok(reply.advice, `advice in ${JSON.stringify(reply)}`);
        for (const [k, v] of Object.entries(advice)) assert.deepEqual(reply.advice[k], v, `advice.${k} in ${JSON.stringify(reply)}`);
    }
}

/** Drain what is queued for a client (a connect with advice.timeout 0). */
export async function drain(client) {
    const c = await client.connect({ timeout: 0 });
    assert.ok(c.reply && c.reply.successful, `drain connect successful: ${JSON.stringify(c.all)}`);
    return c.messages;
}

// ---------------------------------------------------------------------------
// bayeux-load and the responder's options

let helpText = null;
/** True when the built responder lists `option` (e.g. '--publish-rate') in --help. */
export function responderSupports(option) {
    if (helpText === null) {
        try { helpText = execFileSync(BAYEUX_FCGI, ['--help'], { encoding: 'utf8' }); } catch { helpText = ''; }
    }
    return new RegExp(`(^|\\s)${option.replace(/[-]/g, '\\-')}(\\s|=|$)`, 'm').test(helpText);
}

/** Responder arguments that lift the per-session publish rate limit, where it has one
 * (bayeux-load's publisher sends faster than a person). */
export function unlimitedPublishArgs() {
    return responderSupports('--publish-rate') ? ['--publish-rate', '0'] : [];
}

/**
 * Run bayeux-load with `args`; onLine(line) sees every progress line (stderr)
 * as it comes.  Resolves { code, out, err, summary } (summary: the parsed
 * JSON line, or null); `.child` of the returned promise is the process.
 */
export function runLoad(args, { onLine } = {}) {
    const child = spawn(BAYEUX_LOAD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let out = '', err = '', partial = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => {
        err += d;
        partial += d;
        const lines = partial.split('\n');
        partial = lines.pop();
        if (onLine) for (const l of lines) onLine(l);
    });
    const done = new Promise((resolve, reject) => {
        child.on('error', (e) => { liveChildren.delete(child); reject(e); });
        child.on('close', (code) => {
            liveChildren.delete(child);
            let summary = null;
            try { summary = JSON.parse(out.trim().split('\n').pop()); } catch { /* none */ }
            resolve({ code, out, err, summary });
        });
    });
    done.child = child;
    return done;
}
