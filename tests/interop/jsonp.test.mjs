// callback-polling (JSONP) with the official CometD client in a real browser:
// Debian's chromium driven by playwright-core loads the vendored CometD client
// (www/vendor/cometd/, copied there by make) from lighttpd's doc root
// ($TOP_SRCDIR/www), configured with only the callback-polling transport.
// (In Node the CometD callback-polling transport needs a DOM, hence a browser.)
//
// The test page itself is not a file: playwright answers its URL on the
// server's origin, and the page's module imports go to lighttpd.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startLighttpd, useServers, testLighttpdHealthy, uniqueChannel, TOP_SRCDIR, SLOW } from '../integration/harness.mjs';
import { T, fayeClient, fayeSubscribe, fayePublish, fayeStop, inbox } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WWW = path.join(TOP_SRCDIR, 'www');
const STEP_MS = 10000 * SLOW;

const PAGE = `<!doctype html><meta charset="utf-8"><title>interop: CometD callback-polling</title>
<script type="module">
import { CometD } from '/vendor/cometd/cometd.js';
const cometd = new CometD();
cometd.unregisterTransport('websocket');
cometd.unregisterTransport('long-polling');
cometd.configure({ url: location.origin + '/cometd', logLevel: 'warn' });
window.cometd = cometd;
window.received = [];
window.connects = [];
cometd.addListener('/meta/connect', (m) => window.connects.push(m));
window.ready = true;
</script>`;

let browser;
before(async () => {
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run', '--disable-quic'],
    });
}, { timeout: 60000 * SLOW });
after(async () => { if (browser) await browser.close(); });

describe('CometD callback-polling (JSONP) in chromium through lighttpd', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ docRoot: WWW, responderArgs: ['--timeout', '5000'] }),
    }));

    test('CometD callback-polling: handshake, subscribe, publish, receive; Faye <-> JSONP client', T, async () => {
        const { origin } = fx.s.lighttpd;
        const context = await browser.newContext();
        const page = await context.newPage();
        const requests = [];
        const errors = [];
        page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.route(`${origin}/interop-jsonp.html`, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: PAGE }));
        const f = fayeClient(fx.s.lighttpd.url);
        try {
            await page.goto(`${origin}/interop-jsonp.html`);
            await page.waitForFunction(() => window.ready === true, null, { timeout: STEP_MS });
            const ch = uniqueChannel('/interop/jsonp');
            const hs = await page.evaluate((ms) => new Promise((resolve, reject) => {
                setTimeout(() => reject(new Error('handshake timeout')), ms);
                window.cometd.handshake((r) => resolve({ reply: r, transport: window.cometd.getTransport().type }));
            }), STEP_MS);
            assert.equal(hs.reply.successful, true, JSON.stringify(hs.reply));
            assert.ok(hs.reply.supportedConnectionTypes.includes('callback-polling'), JSON.stringify(hs.reply));
            assert.equal(hs.transport, 'callback-polling', 'the client negotiated callback-polling');
            const sub = await page.evaluate(([c, ms]) => new Promise((resolve, reject) => {
                setTimeout(() => reject(new Error('subscribe timeout')), ms);
                window.cometd.subscribe(c, (m) => window.received.push(m), (r) => resolve(r));
            }), [ch, STEP_MS]);
            assert.equal(sub.successful, true, JSON.stringify(sub));
            const pub = await page.evaluate(([c, ms]) => new Promise((resolve, reject) => {
                setTimeout(() => reject(new Error('publish timeout')), ms);
                window.cometd.publish(c, { from: 'browser', text: 'héllo 🌍 中文' }, (r) => resolve(r));
            }), [ch, STEP_MS]);
            assert.equal(pub.successful, true, JSON.stringify(pub));
            await page.waitForFunction(() => window.received.some((m) => m.data.from === 'browser'), null, { timeout: STEP_MS });
            const own = await page.evaluate(() => window.received.find((m) => m.data.from === 'browser'));
            assert.deepEqual(own.data, { from: 'browser', text: 'héllo 🌍 中文' });
            assert.equal(own.channel, ch);

            // a Faye client in Node and the JSONP client, both ways
            const fbox = inbox('faye');
            await fayeSubscribe(f, ch, (d) => fbox.push(d));
            await fayePublish(f, ch, { from: 'faye' });
            await page.waitForFunction(() => window.received.some((m) => m.data.from === 'faye'), null, { timeout: STEP_MS });
            await page.evaluate((c) => window.cometd.publish(c, { from: 'browser2' }), ch);
            await fbox.waitFor((d) => d.from === 'browser2', 'JSONP client -> Faye');

            // on the wire: only GETs with message= and jsonp= to /cometd, connects say callback-polling
            const bayeux = requests.filter((r) => new URL(r.url).pathname.startsWith('/cometd'));
            assert.ok(bayeux.length >= 4, JSON.stringify(bayeux));
            for (const r of bayeux) {
                const u = new URL(r.url);
                assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
                assert.ok(u.searchParams.get('message'), `message= in ${r.url}`);
                assert.match(u.searchParams.get('jsonp') || '', /^[A-Za-z0-9._-]{1,64}$/, `jsonp= in ${r.url}`);
            }
            const connects = bayeux.flatMap((r) => JSON.parse(new URL(r.url).searchParams.get('message')))
                .filter((m) => m.channel === '/meta/connect');
            assert.ok(connects.length >= 1);
            assert.ok(connects.every((m) => m.connectionType === 'callback-polling'), JSON.stringify(connects));
            const connReplies = await page.evaluate(() => window.connects);
            assert.ok(connReplies.some((m) => m.successful), JSON.stringify(connReplies));
            assert.deepEqual(errors, [], 'no page errors');
            await page.evaluate(() => new Promise((resolve) => window.cometd.disconnect(() => resolve())));
        } finally {
            await fayeStop(f);
            await context.close();
        }
    });

    testLighttpdHealthy(fx, T);
});
