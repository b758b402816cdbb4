// The operator flow on Debian's own web-server layouts with Debian's own
// tools.  Copies of /etc/lighttpd and /etc/apache2 (the system's, untouched)
// go into a temporary directory, make install puts the snippets into the
// copies' conf-available/ as a package would, and then:
//   lighttpd: lighty-enable-mod bayeux (which also enables fastcgi through the
//     snippet's "depends" line), lighttpd -tt, lighttpd with Debian's
//     lighttpd.conf; lighty-disable-mod bayeux and a restart take it away.
//     lighty-enable-mod names /etc/lighttpd/ itself, so it and lighttpd run
//     in a private mount namespace with the copy bind-mounted there.
//   Apache: a2enmod proxy_fcgi, a2enconf bayeux, apache2ctl configtest (and
//     the snippet's Error without mod_proxy_fcgi), the responder started as
//     the installed systemd unit starts it, apache2 with Debian's
//     apache2.conf; these tools take the copy from APACHE_CONFDIR.
// Both serve the installed page and a chat, answer the status page to
// 127.0.0.1 and 403 to another loopback address (127.0.0.2: the responder
// itself would answer it), and Bayeux to both.  Every server listens on
// 127.0.0.1 only and runs as Debian runs it (dropping to www-data).
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
    LIGHTTPD, APACHE2, makeTempDir, freePort, spawnLogged, stopChild, waitListening, request, post,
    sanitizerReports, sleep, BayeuxClient, SLOW,
} from './harness.mjs';
import { ChatUser, joined, newRoom } from './redis-lib.mjs';

const T = { timeout: 120000 * SLOW };
const BUILD_DIR = process.env.BUILD_DIR || process.cwd();   // make check runs tests from the build dir
const RUN_USER = 'www-data';
const ids = (flag) => Number(execFileSync('id', [flag, RUN_USER], { encoding: 'utf8' }).trim());
const UID = ids('-u'), GID = ids('-g');

// One connection per request: the servers are restarted under the test, and
// a pooled keep-alive socket to a stopped server would fail the next request.
const here = new http.Agent({ keepAlive: false });
// A loopback address other than 127.0.0.1: the responder answers its status
// page to all of 127.0.0.0/8, so a 403 there is the web server's.
const other = new http.Agent({ keepAlive: false, localAddress: '127.0.0.2' });
const STATUS_PATHS = ['/cometd/status', '/cometd/status?format=prometheus', '/cometd/x/status',
    '/cometd//status', '/cometd/statu%73'];

/** Runs a program to its end (bounded); throws with its output unless it exits 0 (or `ok` is false). */
function run(cmd, args, { env = process.env, ok = true } = {}) {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 120000 * SLOW, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = `${r.stdout || ''}${r.stderr || ''}`;
    if (ok && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal ?? r.error}\n${out}`);
    return { status: r.status, out };
}

/** Every entry under root (symlink targets, sizes and mtimes), to show it did not change. */
function snapshot(root) {
    const out = [];
    const walk = (rel) => {
        for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
            const r = path.join(rel, e.name), p = path.join(root, r);
            if (e.isSymbolicLink()) out.push(`${r} -> ${fs.readlinkSync(p)}`);
            else if (e.isDirectory()) { out.push(`${r}/`); walk(r); }
            else { const st = fs.statSync(p); out.push(`${r} ${st.size} ${st.mtimeMs}`); }
        }
    };
    if (fs.existsSync(root)) walk('');
    return out.sort();
}

/** Rewrites a file of a copy, refusing one that resolves outside it (a symlink to the real /etc). */
function edit(copy, rel, fn) {
    const file = path.join(copy, rel);
    assert.ok(fs.realpathSync(file).startsWith(copy + path.sep), `${rel} is inside the copy`);
    fs.writeFileSync(file, fn(fs.readFileSync(file, 'utf8')));
}

/** Replaces the one line matching re (which must be there). */
function setLine(text, re, line, what) {
    assert.match(text, re, what);
    return text.replace(re, line);
}

function mkdirOwned(dir, mode = 0o755) {
    fs.mkdirSync(dir, { recursive: true, mode });
    fs.chownSync(dir, UID, GID);
}

/** host:port of each TCP socket process `pid` listens on (its socket fds looked up in /proc/net). */
function listenAddrs(pid) {
    const inodes = new Set();
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        let l;
        try { l = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
        const m = /^socket:\[(\d+)\]$/.exec(l);
        if (m) inodes.add(m[1]);
    }
    const addrs = [];
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
        for (const line of fs.readFileSync(f, 'utf8').split('\n').slice(1)) {
            const c = line.trim().split(/\s+/);
            if (c.length < 10 || c[3] !== '0A' || !inodes.has(c[9])) continue;
            const [hex, p] = c[1].split(':');
            const bytes = [];   // /proc/net prints each 32-bit word in host (little-endian) order
            for (let w = 0; w < hex.length; w += 8) {
                for (let b = 6; b >= 0; b -= 2) bytes.push(parseInt(hex.slice(w + b, w + b + 2), 16));
            }
            const host = bytes.length === 4 ? bytes.join('.')
                : `[${[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16)).join(':')}]`;
            addrs.push(`${host}:${parseInt(p, 16)}`);
        }
    }
    return addrs;
}

const childPids = (pid) => {
    try { return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); }
    catch { return []; }
};
const mountNs = (pid) => fs.readlinkSync(`/proc/${pid}/ns/mnt`);
/** The processes in mount namespace ns. */
function pidsInNs(ns) {
    return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
        try { return fs.readlinkSync(`/proc/${d}/ns/mnt`) === ns; } catch { return false; }
    }).map(Number);
}
async function waitGone(pids, ms) {
    const end = Date.now() + ms;
    while (pids.some((p) => fs.existsSync(`/proc/${p}`)) && Date.now() < end) await sleep(50);
    return pids.filter((p) => fs.existsSync(`/proc/${p}`));
}

// lighttpd's bin-path responder is no child of ours: killed by PID if this
// process exits without stopping lighttpd (spawnLogged's children are killed too)
const grandchildren = new Set();
process.on('exit', () => {
    for (const p of grandchildren) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
});

const readLog = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return ''; } };

/** Two users chat in a new room through the server at origin. */
async function chat(origin) {
    const room = newRoom();
    const a = await new ChatUser(`${origin}/cometd`, 'ann', { agent: here }).start(room);
    joined(await a.join());
    const b = await new ChatUser(`${origin}/cometd`, 'bo', { agent: here }).start(room);
    joined(await b.join());
    await a.untilMembers(['ann', 'bo'], 'both listed');
    assert.equal((await b.client.publish(`/chat/${room}`, { chat: 'hi ann' })).successful, true);
    await a.until((u) => u.chats().some((d) => d.user === 'bo' && d.chat === 'hi ann'), 'the chat arrives');
    for (const u of [a, b]) await u.client.disconnect();
}

async function assertPage(origin, installedIndex) {
    const page = await request(`${origin}/chat/`, { agent: here });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.equal(page.text, fs.readFileSync(installedIndex, 'utf8'), 'the installed index.html');
    assert.equal((await request(`${origin}/chat/vendor/cometd/cometd.js`, { agent: here })).status, 200);
}

/** Status from 127.0.0.1: the responder's JSON and Prometheus text. */
async function assertStatusHere(origin) {
    const json = await request(`${origin}/cometd/status`, { agent: here });
    assert.equal(json.status, 200, json.text);
    assert.equal(typeof json.json.sessions, 'number', json.text);
    assert.equal(json.headers['x-content-type-options'], 'nosniff', 'the responder\'s headers');
    const prom = await request(`${origin}/cometd/status?format=prometheus`, { agent: here });
    assert.equal(prom.status, 200);
    assert.match(prom.headers['content-type'], /^text\/plain/);
    assert.match(prom.text, /^bayeux_sessions \d+$/m);
}

/** Status from 127.0.0.2: 403 from the web server (no responder headers); Bayeux still works. */
async function assertStatusElsewhere(origin) {
    for (const p of STATUS_PATHS) {
        const res = await request(`${origin}${p}`, { agent: other });
        assert.equal(res.status, 403, `${p} from 127.0.0.2: ${res.text.slice(0, 200)}`);
        assert.equal(res.headers['x-content-type-options'], undefined, `${p}: the web server answered, not the responder`);
    }
    const c = new BayeuxClient(`${origin}/cometd`, { agent: other });
    await c.start([]);
    assert.equal((await c.disconnect()).successful, true);
}

describe('make install into copies of Debian\'s /etc/lighttpd and /etc/apache2', () => {
    let dir, prefix, etc, index, failed = false;
    const real = {};

    before(() => {
        for (const d of ['/etc/lighttpd', '/etc/apache2', '/var/lib/apache2']) real[d] = snapshot(d);
    });

    before(async () => {
        dir = await makeTempDir('bayeux-debian-');
        prefix = path.join(dir, 'usr');
        etc = path.join(dir, 'etc');
        fs.mkdirSync(etc);
        run('cp', ['-a', '/etc/lighttpd', '/etc/apache2', etc]);
        // the starting point is "installed, not enabled", whatever the system has
        for (const f of ['lighttpd/conf-enabled/10-bayeux.conf', 'apache2/conf-enabled/bayeux.conf']) {
            fs.rmSync(path.join(etc, f), { force: true });
        }
        run('make', ['-C', BUILD_DIR, 'install', `prefix=${prefix}`, `sysconfdir=${etc}`]);
        index = path.join(prefix, 'share/bayeux-fcgi/www/index.html');
    });

    afterEach((t) => { if (t.passed === false) failed = true; });

    after(() => {
        here.destroy();
        other.destroy();
        if (!dir) return;
        if (process.env.KEEP_TEST_DIRS === '1') console.error(`kept ${dir}`);
        else fs.rmSync(dir, { recursive: true, force: true });
    });

    describe('lighttpd: lighty-enable-mod bayeux, Debian\'s lighttpd.conf', () => {
        let copy, port, origin, child = null, ns = null, outLog, errorLog;
        // lighty-enable-mod and lighttpd read /etc/lighttpd/: the copy, bind-mounted
        // there in a private mount namespace that ends with its last process
        const nsArgs = (cmd, ...args) => ['--mount', '--propagation', 'private', 'sh', '-c',
            'mount --bind "$1" /etc/lighttpd && shift && exec "$@"', 'sh', copy, cmd, ...args];
        const enabled = () => fs.readdirSync(path.join(copy, 'conf-enabled')).sort();

        async function start() {
            child = spawnLogged('unshare', nsArgs(LIGHTTPD, '-D', '-f', '/etc/lighttpd/lighttpd.conf'), { logFile: outLog });
            await waitListening(port, child, 'lighttpd', [outLog, errorLog]);
            ns = mountNs(child.pid);   // unshare and sh exec: this pid is lighttpd
            for (const p of childPids(child.pid)) grandchildren.add(p);
        }

        /** Stops lighttpd by PID; its bin-path responder and the namespace go with it. */
        async function stop() {
            if (!child) return;
            const pids = [child.pid, ...childPids(child.pid)];
            await stopChild(child, { graceMs: 10000 * SLOW });
            child = null;
            const left = await waitGone(pids, 10000 * SLOW);
            for (const p of left) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
            assert.deepEqual(left, [], 'lighttpd and the responder exited');
            grandchildren.clear();
            assert.deepEqual(pidsInNs(ns), [], 'no process is left in the mount namespace');
        }

        before(async () => {
            copy = path.join(etc, 'lighttpd');
            port = await freePort();
            origin = `http://127.0.0.1:${port}`;
            const www = path.join(dir, 'lighttpd-www');
            const runDir = path.join(dir, 'lighttpd-run');   // as /run/lighttpd: www-data's
            const log = path.join(dir, 'lighttpd-log');   // as /var/log/lighttpd
            const uploads = path.join(dir, 'lighttpd-uploads');
            fs.mkdirSync(www);
            for (const d of [runDir, log, uploads]) mkdirOwned(d);
            outLog = path.join(dir, 'lighttpd.out');      // lighttpd's and the responder's stderr
            errorLog = path.join(log, 'error.log');
            // Debian's lighttpd.conf, on 127.0.0.1:port only and with its files
            // here; server.username/groupname stay: it drops to www-data
            edit(copy, 'lighttpd.conf', (t) => {
                const q = JSON.stringify;
                t = setLine(t, /^server\.document-root\s*=.*$/m, `server.document-root = ${q(www)}`, 'document-root');
                t = setLine(t, /^server\.upload-dirs\s*=.*$/m, `server.upload-dirs = ( ${q(uploads)} )`, 'upload-dirs');
                t = setLine(t, /^server\.errorlog\s*=.*$/m, `server.errorlog = ${q(errorLog)}`, 'errorlog');
                t = setLine(t, /^server\.pid-file\s*=.*$/m, `server.pid-file = ${q(path.join(dir, 'lighttpd.pid'))}`, 'pid-file');
                t = setLine(t, /^server\.port\s*=.*$/m, `server.port = ${port}\nserver.bind = "127.0.0.1"`, 'port');
                // it would add a listener on [::]:port, every address
                t = setLine(t, /^include_shell "\/usr\/share\/lighttpd\/use-ipv6\.pl.*\n/m, '', 'use-ipv6.pl');
                assert.doesNotMatch(t, /\$SERVER\["socket"\]/, 'no other listener');
                assert.equal(t.match(/^server\.bind/gm).length, 1, 'one server.bind');
                return t;
            });
            // the installed snippet's socket is in /run/lighttpd/, which need not exist
            edit(copy, 'conf-available/10-bayeux.conf', (t) =>
                setLine(t, /"\/run\/lighttpd\/bayeux-fcgi\.socket"/, JSON.stringify(path.join(runDir, 'bayeux-fcgi.socket')), 'socket'));
        });

        after(async () => {
            if (failed) {
                for (const f of [outLog, errorLog]) if (f) console.error(`==== ${f}\n${readLog(f)}`);
            }
            await stop().catch((e) => console.error(e));
        });

        test('the installed snippet is in conf-available and names the installed responder', T, () => {
            const t = fs.readFileSync(path.join(copy, 'conf-available/10-bayeux.conf'), 'utf8');
            assert.match(t, new RegExp(`"bin-path" *=> "${prefix}/bin/bayeux-fcgi"`));
            assert.match(t, /^# -\*- depends: fastcgi -\*-$/m);
            assert.ok(!enabled().includes('10-bayeux.conf'));
        });

        test('lighty-enable-mod bayeux enables it, and fastcgi by its "depends" line', T, () => {
            const hadFastcgi = enabled().includes('10-fastcgi.conf');
            const { out } = run('unshare', nsArgs('lighty-enable-mod', 'bayeux'));
            assert.match(out, /Enabling bayeux: ok/);
            if (!hadFastcgi) assert.match(out, /Met dependency: fastcgi/);
            for (const f of ['10-bayeux.conf', '10-fastcgi.conf']) {
                assert.equal(fs.readlinkSync(path.join(copy, 'conf-enabled', f)), `../conf-available/${f}`, f);
            }
        });

        test('lighttpd -tt accepts Debian\'s lighttpd.conf with it', T, () => {
            run('unshare', nsArgs(LIGHTTPD, '-tt', '-f', '/etc/lighttpd/lighttpd.conf'));
        });

        test('lighttpd starts on 127.0.0.1 only, as www-data, in its own mount namespace', T, async () => {
            await start();
            assert.notEqual(ns, mountNs(process.pid), 'a mount namespace of its own');
            assert.deepEqual(listenAddrs(child.pid), [`127.0.0.1:${port}`]);
            const kids = childPids(child.pid);
            assert.equal(kids.length, 1, 'lighttpd started the responder (bin-path)');
            const uid = (p) => Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))[1]);
            assert.equal(uid(child.pid), UID, 'lighttpd dropped to www-data');
            assert.equal(uid(kids[0]), UID, 'the responder runs as www-data');
            assert.deepEqual(snapshot('/etc/lighttpd'), real['/etc/lighttpd'], 'outside, /etc/lighttpd is the real one');
        });

        test('the installed page is served under /chat/', T, () => assertPage(origin, index));

        test('two users chat', T, () => chat(origin));

        test('status from 127.0.0.1: JSON, and Prometheus text', T, () => assertStatusHere(origin));

        test('status from 127.0.0.2: 403 from lighttpd; Bayeux from 127.0.0.2 works', T, () => assertStatusElsewhere(origin));

        test('lighty-disable-mod bayeux and a restart: /cometd and /chat/ are gone', T, async () => {
            await stop();
            assert.deepEqual(sanitizerReports(readLog(outLog) + readLog(errorLog)), []);
            const { out } = run('unshare', nsArgs('lighty-disable-mod', 'bayeux'));
            assert.match(out, /Disabling bayeux/);
            assert.ok(!enabled().includes('10-bayeux.conf'));
            assert.ok(enabled().includes('10-fastcgi.conf'), 'fastcgi stays enabled');
            run('unshare', nsArgs(LIGHTTPD, '-tt', '-f', '/etc/lighttpd/lighttpd.conf'));
            await start();
            assert.deepEqual(childPids(child.pid), [], 'no responder');
            for (const p of ['/cometd', '/cometd/status', '/chat/']) {
                assert.equal((await request(`${origin}${p}`, { agent: here })).status, 404, p);
            }
            const hs = await post(`${origin}/cometd`, [{ channel: '/meta/handshake', version: '1.0',
                supportedConnectionTypes: ['long-polling'] }], { agent: here });
            assert.equal(hs.status, 404, 'handshake');
            await stop();
        });

        test('the real /etc/lighttpd did not change', T, () => {
            assert.deepEqual(snapshot('/etc/lighttpd'), real['/etc/lighttpd']);
        });
    });

    describe('Apache: a2enmod proxy_fcgi, a2enconf bayeux, Debian\'s apache2.conf', () => {
        let copy, port, origin, env, apache = null, responder = null, sock, respLog, outLog, logDir;
        const enabled = (d) => fs.readdirSync(path.join(copy, d)).sort();
        const configtest = () => run('apache2ctl', ['configtest'], { env, ok: false });

        before(async () => {
            copy = path.join(etc, 'apache2');
            port = await freePort();
            origin = `http://127.0.0.1:${port}`;
            // a2enmod records what it enabled in APACHE_STATE_DIRECTORY (/var/lib/apache2)
            const state = path.join(dir, 'apache2-state');
            if (fs.existsSync('/var/lib/apache2')) run('cp', ['-a', '/var/lib/apache2', state]);
            else fs.mkdirSync(state);
            env = { ...process.env, APACHE_CONFDIR: copy, APACHE_STATE_DIRECTORY: state };
            delete env.APACHE_ENVVARS;
            delete env.APACHE_ARGUMENTS;
            const runDir = path.join(dir, 'apache2-run');
            const lockDir = path.join(dir, 'apache2-lock');
            logDir = path.join(dir, 'apache2-log');
            fs.mkdirSync(runDir);
            fs.mkdirSync(logDir);
            mkdirOwned(lockDir);   // apache2ctl start makes it www-data's
            outLog = path.join(dir, 'apache2.out');
            edit(copy, 'ports.conf', () => `# Only the test's port, on 127.0.0.1 only.\nListen 127.0.0.1:${port}\n`);
            edit(copy, 'envvars', (t) => {
                for (const [k, v] of [['APACHE_PID_FILE', path.join(runDir, 'apache2.pid')], ['APACHE_RUN_DIR', runDir],
                    ['APACHE_LOCK_DIR', lockDir], ['APACHE_LOG_DIR', logDir]]) {
                    t = setLine(t, new RegExp(`^export ${k}=.*$`, 'm'), `export ${k}=${v}`, k);
                }
                return t;
            });
            // the enabled sites' *:80 (no longer listened on) becomes the test's port
            for (const f of enabled('sites-enabled')) {
                edit(copy, path.join('sites-enabled', f), (t) => t.replace(/<VirtualHost \*:80>/g, `<VirtualHost *:${port}>`));
            }
            // as the unit's RuntimeDirectory=bayeux-fcgi: www-data's, 0755
            const sockDir = path.join(dir, 'bayeux-fcgi');
            mkdirOwned(sockDir);
            sock = path.join(sockDir, 'bayeux.sock');
            respLog = path.join(dir, 'responder.log');
            edit(copy, 'conf-available/bayeux.conf', (t) =>
                setLine(t, /unix:\/run\/bayeux-fcgi\/bayeux\.sock\|/, `unix:${sock}|`, 'socket'));
        });

        after(async () => {
            if (failed) {
                for (const f of [outLog, respLog, logDir && path.join(logDir, 'error.log')]) {
                    if (f) console.error(`==== ${f}\n${readLog(f)}`);
                }
            }
            if (apache) await stopChild(apache, { graceMs: 10000 * SLOW });
            if (responder) await stopChild(responder, { graceMs: 10000 * SLOW });
        });

        test('a2enmod proxy_fcgi enables it and mod_proxy', T, () => {
            run('a2enmod', ['proxy_fcgi'], { env });
            for (const m of ['proxy.load', 'proxy_fcgi.load']) {
                assert.equal(fs.readlinkSync(path.join(copy, 'mods-enabled', m)), `../mods-available/${m}`, m);
            }
        });

        test('a2enconf bayeux enables the installed snippet; apache2ctl configtest: Syntax OK', T, () => {
            const t = fs.readFileSync(path.join(copy, 'conf-available/bayeux.conf'), 'utf8');
            assert.match(t, new RegExp(`"${prefix}/share/bayeux-fcgi/www/"`));
            run('a2enconf', ['bayeux'], { env });
            assert.equal(fs.readlinkSync(path.join(copy, 'conf-enabled/bayeux.conf')), '../conf-available/bayeux.conf');
            const r = configtest();
            assert.equal(r.status, 0, r.out);
            assert.match(r.out, /Syntax OK/);
        });

        test('without mod_proxy_fcgi the snippet stops the configuration with its Error', T, () => {
            run('a2dismod', ['proxy_fcgi'], { env });
            const r = configtest();
            assert.notEqual(r.status, 0, r.out);
            assert.match(r.out, /bayeux\.conf needs mod_proxy_fcgi: run a2enmod proxy_fcgi/);
            run('a2enmod', ['proxy_fcgi'], { env });
            const again = configtest();
            assert.equal(again.status, 0, again.out);
        });

        test('the responder, started as the installed unit starts it, listens on its socket', T, async () => {
            const unit = fs.readFileSync(path.join(prefix, 'lib/systemd/system/bayeux-fcgi.service'), 'utf8');
            const user = /^User=(.+)$/m.exec(unit)[1], group = /^Group=(.+)$/m.exec(unit)[1];
            assert.equal(user, RUN_USER);
            const execStart = setLine(/^ExecStart=(.+)$/m.exec(unit)[1], /\/run\/bayeux-fcgi\/bayeux\.sock/, sock, 'socket');
            assert.ok(execStart.startsWith(`${prefix}/bin/bayeux-fcgi `), execStart);
            // User=/Group= as systemd applies them (setpriv execs: the pid is the responder's)
            responder = spawnLogged('setpriv', ['--reuid', user, '--regid', group, '--init-groups', ...execStart.split(/\s+/)],
                { logFile: respLog });
            const end = Date.now() + 15000 * SLOW;
            while (!fs.existsSync(sock)) {
                assert.equal(responder.exitInfo, null, `the responder exited: ${readLog(respLog)}`);
                assert.ok(Date.now() < end, `no socket ${sock}: ${readLog(respLog)}`);
                await sleep(25);
            }
            const st = fs.statSync(sock);
            assert.ok(st.isSocket());
            assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [UID, GID, 0o660], 'www-data\'s, mode 0660');
        });

        test('apache2 starts on 127.0.0.1 only', T, async () => {
            // envvars, then apache2 itself (apache2ctl would keep a shell as the pid)
            apache = spawnLogged('sh', ['-c', '. "$APACHE_CONFDIR/envvars" && exec "$0" -d "$APACHE_CONFDIR" -DFOREGROUND', APACHE2],
                { env, logFile: outLog });
            await waitListening(port, apache, 'apache2', [outLog, path.join(logDir, 'error.log')]);
            assert.deepEqual(listenAddrs(apache.pid), [`127.0.0.1:${port}`]);
        });

        test('the installed page is served under /chat/', T, () => assertPage(origin, index));

        test('two users chat', T, () => chat(origin));

        test('status from 127.0.0.1: JSON, and Prometheus text', T, () => assertStatusHere(origin));

        test('status from 127.0.0.2: 403 from Apache; Bayeux from 127.0.0.2 works', T, () => assertStatusElsewhere(origin));

        test('Apache and the responder stop by PID; no sanitizer reports', T, async () => {
            const a = await stopChild(apache, { graceMs: 10000 * SLOW });
            apache = null;
            assert.equal(a.killedAfterTimeout, undefined, 'apache2 stopped on SIGTERM');
            const r = await stopChild(responder, { graceMs: 10000 * SLOW });
            responder = null;
            assert.deepEqual([r.code, r.killedAfterTimeout], [0, undefined], `responder exit: ${JSON.stringify(r)}`);
            assert.deepEqual(sanitizerReports(readLog(respLog) + readLog(outLog)), []);
        });

        test('the real /etc/apache2 and /var/lib/apache2 did not change', T, () => {
            assert.deepEqual(snapshot('/etc/apache2'), real['/etc/apache2']);
            assert.deepEqual(snapshot('/var/lib/apache2'), real['/var/lib/apache2']);
        });
    });
});
