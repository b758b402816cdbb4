// make install (prefix and sysconfdir in a temporary directory, as a package
// build would with DESTDIR), then a lighttpd whose main configuration only
// includes the installed conf-available/10-bayeux.conf: the installed
// responder (bin-path) answers Bayeux under /cometd, the installed page is
// served under /chat/, two users chat through it, lighttpd -tt accepts the
// configuration, and make uninstall removes what install put there.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
    LIGHTTPD, makeTempDir, freePort, spawnLogged, stopChild, waitListening, request, sanitizerReports, SLOW,
} from './harness.mjs';
import { ChatUser, joined, newRoom } from './redis-lib.mjs';

const T = { timeout: 120000 * SLOW };
const BUILD_DIR = process.env.BUILD_DIR || process.cwd();   // make check runs tests from the build dir

describe('make install, then lighttpd with the installed snippet', () => {
    let dir, prefix, etc, port, child, url, conf, outLog;

    before(async () => {
        dir = await makeTempDir('bayeux-install-');
        prefix = path.join(dir, 'usr');
        etc = path.join(dir, 'etc');
        execFileSync('make', ['-C', BUILD_DIR, 'install', `prefix=${prefix}`, `sysconfdir=${etc}`],
            { stdio: ['ignore', 'pipe', 'pipe'] });
        port = await freePort();
        // the snippet's FastCGI socket is /run/lighttpd/ (Debian's lighttpd
        // makes it); this lighttpd is not the system's, so its own directory
        const snippet = path.join(etc, 'lighttpd/conf-available/10-bayeux.conf');
        const local = path.join(dir, '10-bayeux.conf');
        fs.writeFileSync(local, fs.readFileSync(snippet, 'utf8')
            .replace('/run/lighttpd/bayeux-fcgi.socket', path.join(dir, 'bayeux.sock')));
        fs.mkdirSync(path.join(dir, 'www'));
        conf = path.join(dir, 'lighttpd.conf');
        fs.writeFileSync(conf, `server.document-root = "${path.join(dir, 'www')}"
server.bind = "127.0.0.1"
server.port = ${port}
server.errorlog = "${path.join(dir, 'error.log')}"
mimetype.assign = ( ".html" => "text/html", ".js" => "text/javascript", ".css" => "text/css", ".svg" => "image/svg+xml" )
index-file.names = ( "index.html" )
include "${local}"
`);
        outLog = path.join(dir, 'lighttpd.out');
        child = spawnLogged(LIGHTTPD, ['-D', '-f', conf], { logFile: outLog });
        await waitListening(port, child, 'lighttpd', outLog);
        url = `http://127.0.0.1:${port}`;
    });

    after(async () => {
        if (child) await stopChild(child);
        if (dir && process.env.KEEP_TEST_DIRS !== '1') fs.rmSync(dir, { recursive: true, force: true });
    });

    test('the installed files, with the snippets naming the installed paths', T, () => {
        for (const f of ['bin/bayeux-fcgi', 'bin/bayeux-load', 'share/bayeux-fcgi/www/index.html',
            'share/bayeux-fcgi/www/chat.js', 'share/bayeux-fcgi/www/vendor/cometd/cometd.js',
            'share/man/man1/bayeux-load.1', 'share/man/man8/bayeux-fcgi.8', 'lib/systemd/system/bayeux-fcgi.service',
            'share/doc/bayeux-fcgi/examples/haproxy-bayeux.cfg']) {
            assert.ok(fs.existsSync(path.join(prefix, f)), f);
        }
        for (const f of ['lighttpd/conf-available/10-bayeux.conf', 'lighttpd/conf-available/15-bayeux-tls.conf',
            'apache2/conf-available/bayeux.conf']) {
            assert.ok(fs.existsSync(path.join(etc, f)), f);
        }
        const lighty = fs.readFileSync(path.join(etc, 'lighttpd/conf-available/10-bayeux.conf'), 'utf8');
        assert.match(lighty, new RegExp(`"bin-path" *=> "${prefix}/bin/bayeux-fcgi"`));
        assert.match(lighty, new RegExp(`"${prefix}/share/bayeux-fcgi/www/"`));
        const unit = fs.readFileSync(path.join(prefix, 'lib/systemd/system/bayeux-fcgi.service'), 'utf8');
        assert.match(unit, new RegExp(`^ExecStart=${prefix}/bin/bayeux-fcgi `, 'm'));
    });

    test('lighttpd -tt accepts the configuration', T, () => {
        execFileSync(LIGHTTPD, ['-tt', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    });

    test('the installed page is served under /chat/', T, async () => {
        const page = await request(`${url}/chat/`);
        assert.equal(page.status, 200);
        assert.match(page.text, /<script type="module" src="chat.js">|chat\.js/);
        const client = await request(`${url}/chat/vendor/cometd/cometd.js`);
        assert.equal(client.status, 200);
    });

    test('two users chat through the installed responder', T, async () => {
        const room = newRoom();
        const a = await new ChatUser(`${url}/cometd`, 'ann').start(room);
        joined(await a.join());
        const b = await new ChatUser(`${url}/cometd`, 'bo').start(room);
        joined(await b.join());
        await a.untilMembers(['ann', 'bo'], 'both listed');
        assert.equal((await b.client.publish(`/chat/${room}`, { chat: 'hi ann' })).successful, true);
        await a.until((u) => u.chats().some((d) => d.user === 'bo' && d.chat === 'hi ann'), 'the chat arrives');
        for (const u of [a, b]) await u.client.disconnect();
        assert.deepEqual(sanitizerReports(fs.readFileSync(outLog, 'utf8')), []);
    });

    test('make uninstall removes the page, the snippets and the programs', T, () => {
        execFileSync('make', ['-C', BUILD_DIR, 'uninstall', `prefix=${prefix}`, `sysconfdir=${etc}`],
            { stdio: ['ignore', 'pipe', 'pipe'] });
        for (const f of ['usr/bin/bayeux-fcgi', 'usr/share/bayeux-fcgi/www/index.html',
            'etc/lighttpd/conf-available/10-bayeux.conf', 'etc/apache2/conf-available/bayeux.conf',
            'usr/lib/systemd/system/bayeux-fcgi.service']) {
            assert.equal(fs.existsSync(path.join(dir, f)), false, f);
        }
    });
});
