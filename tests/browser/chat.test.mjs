// The chat page (www/) in a real browser: Debian's chromium driven by
// playwright-core, through a real lighttpd serving $TOP_SRCDIR/www and the
// built responder at /cometd (tests/integration/harness.mjs startLighttpd with
// docRoot).  Every user is a separate browser context (own cookies, so its own
// BAYEUX_BROWSER).
//
// Environment: as the integration tests (BAYEUX_FCGI, TOP_SRCDIR, SANITIZER),
// plus CHROMIUM (default /usr/bin/chromium).  Screenshots go to
// tests/browser/artifacts/ (chat.png; failure-*.png when a test fails).
//
// Run: sh tests/browser/browser.test (after make), or
//   node --test --test-reporter=spec tests/browser/chat.test.mjs
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
    startLighttpd, useServers, testLighttpdHealthy, sleep, SLOW, TOP_SRCDIR, printLogs,
} from '../integration/harness.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WWW = path.join(TOP_SRCDIR, 'www');
// in the build dir: the source dir may be read-only (make distcheck)
const ARTIFACTS = path.join(process.env.BUILD_DIR || TOP_SRCDIR, 'tests', 'browser', 'artifacts');
const T = { timeout: 60000 * SLOW };
/** Bound for "the page shows it" (a broadcast through lighttpd and a long-poll). */
const SHOW_MS = 10000 * SLOW;

// ---------------------------------------------------------------------------
// the browser (one for the file) and its pages

let browser;
const openPages = new Set();

before(async () => {
    // failure screenshots of an earlier run would mislead
    for (const f of fs.existsSync(ARTIFACTS) ? fs.readdirSync(ARTIFACTS) : []) {
        if (/^failure-.*\.png$/.test(f)) fs.rmSync(path.join(ARTIFACTS, f), { force: true });
    }
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run', '--disable-quic'],
    });
}, { timeout: 60000 * SLOW });

after(async () => {
    if (browser) await browser.close();
});

// A failed test leaves a screenshot of every open page, and their console.
afterEach(async (t) => {
    if (t.passed !== false) return;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const slug = t.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60);
    for (const u of openPages) {
        try {
            await u.page.screenshot({ path: path.join(ARTIFACTS, `failure-${slug}-${u.label}.png`), fullPage: true });
        } catch { /* page gone */ }
        console.error(`---- ${u.label}: console and page errors\n${u.console.join('\n')}\n---- ${u.label}: state\n${await dump(u.page)}`);
    }
});

/**
 * A new browser context (own cookies) with the chat page open and connected.
 *   noPagehide: the page's pagehide listener is not installed (a browser that
 *               vanishes without ending its session)
 *   viewport:   { width, height }
 */
async function openChat(origin, label, { noPagehide = false, viewport = { width: 1000, height: 700 } } = {}) {
    const context = await browser.newContext({ viewport });
    // Connection states the page shows, in order: [time, state].
    await context.addInitScript(() => {
        window.__conn = [];
        new MutationObserver((records) => {
            for (const r of records) {
                if (r.target.id === 'status') window.__conn.push([Date.now(), r.target.dataset.state]);
            }
        }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
    });
    if (noPagehide) {
        await context.addInitScript(() => {
            const add = window.addEventListener;
            window.addEventListener = function (type, ...rest) {
                if (type === 'pagehide') return undefined;
                return add.call(this, type, ...rest);
            };
        });
    }
    const page = await context.newPage();
    const u = { label, context, page, console: [], pageErrors: [], requests: [] };
    page.on('console', (m) => u.console.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => { u.pageErrors.push(String(e)); u.console.push(`pageerror: ${e}`); });
    page.on('request', (r) => u.requests.push(r.url()));
    openPages.add(u);
    await page.goto(`${origin}/`);
    await waitUntil(page, 'the page connects', () => document.getElementById('status').dataset.state === 'connected');
    return u;
}

async function closeChat(u, opts = { runBeforeUnload: true }) {
    openPages.delete(u);
    await u.page.close(opts);
    await u.context.close();
}

async function closeAll() {
    for (const u of [...openPages]) await closeChat(u).catch(() => {});
}

/** What the page shows, for failure messages. */
async function dump(page) {
    try {
        return await page.evaluate(() => JSON.stringify({
            status: document.getElementById('status').dataset.state,
            conn: (window.__conn || []).map((c) => c[1]),
            error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
            joinVisible: !document.getElementById('join').hidden,
            members: [...document.querySelectorAll('#members li')].map((li) => li.dataset.name),
            rooms: [...document.querySelectorAll('#rooms li')].map((li) => `${li.dataset.room}: ${li.querySelector('.count').textContent}`),
            log: [...document.querySelectorAll('#log li')].map((li) => `${li.className}|${li.textContent}`),
        }, null, 1));
    } catch (e) {
        return `(page not readable: ${e.message})`;
    }
}

/** page.waitForFunction with the page state in the error. */
async function waitUntil(page, what, fn, arg, ms = SHOW_MS) {
    try {
        await page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });
    } catch (e) {
        throw new Error(`${what}: not within ${ms} ms (${e.message.split('\n')[0]})\npage state: ${await dump(page)}`);
    }
}

/** Types a name and a room and presses Enter; waits until the room is joined. */
async function join(u, name, room) {
    const { page } = u;
    await page.fill('#name', name);
    await page.fill('#room', room);
    await page.press('#room', 'Enter');
    await waitJoined(u, name);
}

async function waitJoined(u, name) {
    await waitUntil(u.page, `${u.label} joined as ${name}`,
        (n) => !document.getElementById('chat').hidden
            && [...document.querySelectorAll('#members li')].some((li) => li.dataset.name === n),
        name);
    u.name = name;
}

const memberNames = (page) => page.$$eval('#members li', (lis) => lis.map((li) => li.dataset.name));

async function waitMembers(u, names) {
    await waitUntil(u.page, `${u.label} lists members ${names.join(', ')}`,
        (want) => JSON.stringify([...document.querySelectorAll('#members li')].map((li) => li.dataset.name)) === want,
        JSON.stringify(names));
}

/** The message log: [{ cls, user, tag, text }]. */
const logEntries = (page) => page.$$eval('#log li', (lis) => lis.map((li) => ({
    cls: li.className,
    user: li.querySelector('.user') ? li.querySelector('.user').textContent : null,
    tag: li.querySelector('.tag') ? li.querySelector('.tag').textContent : null,
    text: li.querySelector('.text') ? li.querySelector('.text').textContent : '',
})));

/** Waits for a log entry with this text (and user, when given); returns it. */
async function waitEntry(u, text, user = null) {
    await waitUntil(u.page, `${u.label} shows ${JSON.stringify(text)}${user ? ` from ${user}` : ''}`,
        ([t, usr]) => [...document.querySelectorAll('#log li')].some((li) => {
            const te = li.querySelector('.text');
            const ue = li.querySelector('.user');
            return te && te.textContent === t && (usr === null || (ue && ue.textContent === usr));
        }),
        [text, user]);
    return (await logEntries(u.page)).filter((e) => e.text === text && (user === null || e.user === user)).pop();
}

/** Picks the addressee (default: everyone), types into the message field and presses Enter. */
async function say(u, text, { to = '' } = {}) {
    await u.page.selectOption('#to', to);
    await u.page.fill('#message', text);
    await u.page.press('#message', 'Enter');
}

const connStates = (page) => page.evaluate(() => window.__conn.map((c) => c[1]));

function assertNoPageErrors(...users) {
    for (const u of users) assert.deepEqual(u.pageErrors, [], `${u.label}: no uncaught errors in the page`);
}

// ---------------------------------------------------------------------------

describe('chat page: joining, messages, private messages, escaping', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ docRoot: WWW, responderArgs: ['--timeout', '10000'] }),
    }));
    after(closeAll);
    const u = {};

    test('the page loads from this server only and connects', T, async () => {
        const { origin } = fx.s.lighttpd;
        u.alice = await openChat(origin, 'alice');
        const foreign = u.alice.requests.filter((r) => !r.startsWith(`${origin}/`) && !/^(blob|data):/.test(r));
        assert.deepEqual(foreign, [], 'no request leaves the server');
        assert.ok(u.alice.requests.some((r) => r.startsWith(`${origin}/vendor/cometd/`)), 'the CometD client comes from www/vendor/cometd/');
        assert.ok(u.alice.requests.some((r) => r.startsWith(`${origin}/cometd/handshake`)), 'handshake at /cometd');
        assert.equal(await u.alice.page.getAttribute('meta[name=viewport]', 'content'), 'width=device-width, initial-scale=1');
        assert.equal(await u.alice.page.textContent('#status'), 'Connected');
        // nothing refused (e.g. by the page's Content-Security-Policy), no 404
        assert.deepEqual(u.alice.console.filter((m) => /^(error|pageerror)/.test(m)), [], 'no errors in the console');
    });

    test('two users join one room and each sees both names', T, async () => {
        const { origin } = fx.s.lighttpd;
        await join(u.alice, 'alice', 'demo');
        await waitMembers(u.alice, ['alice']);
        // bob picks the room from the live room list, which shows its member count
        u.bob = await openChat(origin, 'bob');
        await waitUntil(u.bob.page, 'bob sees room demo with 1 member in the room list',
            () => document.querySelector('#rooms li[data-room="demo"] .count')?.textContent === '1 member');
        await u.bob.page.fill('#name', 'bob');
        await u.bob.page.fill('#room', '');
        await u.bob.page.click('#rooms li[data-room="demo"] button');
        await waitJoined(u.bob, 'bob');
        assert.equal(await u.bob.page.inputValue('#room'), 'demo', 'picking the room filled in the room field');
        await waitMembers(u.alice, ['alice', 'bob']);
        await waitMembers(u.bob, ['alice', 'bob']);
        assert.equal(await u.bob.page.textContent('#room-name'), 'demo');
        const notice = await waitEntry(u.alice, 'bob has joined');
        assert.match(notice.cls, /\bnotice\b/);
        // the room list is live: both now see 2 members in demo
        for (const p of [u.alice, u.bob]) {
            await waitUntil(p.page, `${p.label}: demo has 2 members in the room list`,
                () => document.querySelector('#rooms li[data-room="demo"] .count')?.textContent === '2 members');
        }
        assertNoPageErrors(u.alice, u.bob);
    });

    test('a message reaches both', T, async () => {
        await say(u.alice, 'hello bob, how is the weather?');
        for (const p of [u.alice, u.bob]) {
            const e = await waitEntry(p, 'hello bob, how is the weather?', 'alice');
            assert.equal(e.tag, null, 'not marked private');
            assert.doesNotMatch(e.cls, /\bprivate\b/);
        }
        assert.equal(await u.alice.page.inputValue('#message'), '', 'the field is emptied after sending');
        await say(u.bob, 'Sunny here. And you?');
        await waitEntry(u.alice, 'Sunny here. And you?', 'bob');
        await waitEntry(u.bob, 'Sunny here. And you?', 'bob');
    });

    test('screenshot of two users chatting (tests/browser/artifacts/chat.png)', T, async () => {
        await say(u.alice, 'Cloudy. Lunch at noon, on the terrace?');
        await say(u.bob, 'Yes! I will book a table.', { to: 'alice' });
        await waitEntry(u.alice, 'Yes! I will book a table.', 'bob');
        await say(u.alice, 'Perfect, thanks.');
        await waitEntry(u.bob, 'Perfect, thanks.', 'alice');
        await u.alice.page.evaluate(() => document.activeElement && document.activeElement.blur());
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        const file = path.join(ARTIFACTS, 'chat.png');
        await u.alice.page.screenshot({ path: file });
        const head = fs.readFileSync(file).subarray(0, 8);
        assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
    });

    test('a private message reaches only its peer', T, async () => {
        u.carol = await openChat(fx.s.lighttpd.origin, 'carol');
        await join(u.carol, 'carol', 'demo');
        for (const p of [u.alice, u.bob, u.carol]) await waitMembers(p, ['alice', 'bob', 'carol']);

        // alice clicks bob in the member list: the "To" selector follows
        await u.alice.page.click('#members li[data-name="bob"] button');
        assert.equal(await u.alice.page.inputValue('#to'), 'bob');
        assert.equal(await u.alice.page.evaluate(() => document.activeElement.id), 'message', 'focus back in the message field');
        await u.alice.page.keyboard.type('psst, bob: lunch at noon?');
        await u.alice.page.keyboard.press('Enter');
        const got = await waitEntry(u.bob, 'psst, bob: lunch at noon?', 'alice');
        assert.match(got.cls, /\bprivate\b/, 'shown as private to the peer');
        assert.match(got.tag, /private/);
        const own = await waitEntry(u.alice, 'psst, bob: lunch at noon?', 'alice');
        assert.match(own.cls, /\bprivate\b/, 'shown as private to the sender');
        assert.equal(own.tag, 'private to bob');

        // bob answers privately through the "To" selector
        await say(u.bob, 'Yes, see you there.', { to: 'alice' });
        await waitEntry(u.alice, 'Yes, see you there.', 'bob');

        // a public message after them: once carol has it, the private ones
        // (earlier on the same channel) would have arrived too
        await say(u.alice, 'Anyone for coffee later?');
        await waitEntry(u.carol, 'Anyone for coffee later?', 'alice');
        const carolTexts = (await logEntries(u.carol.page)).map((e) => e.text);
        assert.ok(!carolTexts.includes('psst, bob: lunch at noon?'), `carol must not see the private message: ${JSON.stringify(carolTexts)}`);
        assert.ok(!carolTexts.includes('Yes, see you there.'), 'nor the private answer');
        assertNoPageErrors(u.alice, u.bob, u.carol);
    });

    test('user text is shown as text, never run as HTML', T, async () => {
        const evil = '<img src=x onerror=window.__pwned=1>';
        await say(u.bob, evil);
        for (const p of [u.alice, u.bob, u.carol]) {
            const e = await waitEntry(p, evil, 'bob');
            assert.equal(e.text, evil, 'literal text');
        }
        // a user whose name is markup: the member list and the notice are text too
        const evilName = '<img src=y onerror=__pwned=2>'; // <= 32 characters
        u.mallory = await openChat(fx.s.lighttpd.origin, 'mallory');
        await join(u.mallory, evilName, 'demo');
        await waitMembers(u.alice, [evilName, 'alice', 'bob', 'carol'].sort());
        await waitEntry(u.alice, `${evilName} has joined`);
        await say(u.mallory, 'hi <b>all</b>');
        await waitEntry(u.alice, 'hi <b>all</b>', evilName);
        await sleep(500); // an injected <img> would have fired onerror by now
        for (const p of [u.alice, u.bob, u.carol, u.mallory]) {
            assert.equal(await p.page.evaluate(() => window.__pwned), undefined, `${p.label}: window.__pwned stays undefined`);
            assert.equal(await p.page.locator('img').count(), 0, `${p.label}: no <img> element in the page`);
            assert.equal(await p.page.locator('#log b').count(), 0, `${p.label}: no <b> element in the log`);
        }
        await closeChat(u.mallory);
        await waitMembers(u.alice, ['alice', 'bob', 'carol']);
    });

    test('a taken name is refused and the server\'s error is shown', T, async () => {
        const dup = await openChat(fx.s.lighttpd.origin, 'second-alice');
        await dup.page.fill('#name', 'alice');
        await dup.page.fill('#room', 'demo');
        await dup.page.press('#room', 'Enter');
        await waitUntil(dup.page, 'the name_taken error is shown',
            () => !document.getElementById('error').hidden && /already taken/.test(document.getElementById('error').textContent));
        assert.equal(await dup.page.isVisible('#join-form'), true, 'still on the join form');
        assert.equal(await dup.page.isVisible('#chat'), false, 'not in the room');
        assert.match(await dup.page.textContent('#error'), /“alice”/);
        // the same name in another room is fine
        await join(dup, 'alice', 'elsewhere');
        assert.equal(await dup.page.isVisible('#error'), false, 'the error is gone after a successful join');
        await closeChat(dup);
        assert.deepEqual(await memberNames(u.alice.page), ['alice', 'bob', 'carol']);
    });

    test('keyboard only: join, send, pick a member for a private message', T, async () => {
        const dave = await openChat(fx.s.lighttpd.origin, 'dave');
        const { page } = dave;
        const kb = page.keyboard;
        const focused = () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.textContent));
        await kb.press('Tab');
        assert.equal(await focused(), 'name', 'the first Tab reaches the name field');
        await kb.type('dave');
        await kb.press('Tab');
        assert.equal(await focused(), 'room');
        await kb.press('Control+A');
        await kb.type('demo');
        await kb.press('Enter');
        await waitJoined(dave, 'dave');
        assert.equal(await focused(), 'message', 'after joining, focus is in the message field');
        await kb.type('hello from the keyboard');
        await kb.press('Enter');
        await waitEntry(u.bob, 'hello from the keyboard', 'dave');
        // Tab: Send, then the first other member (alice)
        await kb.press('Tab');
        assert.equal(await focused(), 'send-button');
        await kb.press('Tab');
        assert.equal(await focused(), 'alice', 'next comes the member list');
        const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
        assert.notEqual(outline, 'none', 'keyboard focus is visible');
        await kb.press('Enter');
        assert.equal(await page.inputValue('#to'), 'alice');
        assert.equal(await focused(), 'message');
        await kb.type('a private word, alice');
        await kb.press('Enter');
        const e = await waitEntry(u.alice, 'a private word, alice', 'dave');
        assert.match(e.cls, /\bprivate\b/);
        await waitEntry(u.bob, 'hello from the keyboard', 'dave');
        assert.ok(!(await logEntries(u.bob.page)).some((x) => x.text === 'a private word, alice'), 'bob does not see it');
        assertNoPageErrors(dave);
        await closeChat(dave);
    });

    test('phone width: no sideways scrolling, the composer fits', T, async () => {
        const { page } = u.bob;
        await page.setViewportSize({ width: 360, height: 740 });
        await sleep(100);
        const m = await page.evaluate(() => {
            const r = (id) => document.getElementById(id).getBoundingClientRect();
            return {
                scrollWidth: document.documentElement.scrollWidth,
                innerWidth: window.innerWidth,
                message: r('message'), send: r('send-button'), to: r('to'), log: r('log'),
            };
        });
        assert.ok(m.scrollWidth <= m.innerWidth, `no horizontal overflow (scrollWidth ${m.scrollWidth} > ${m.innerWidth})`);
        for (const k of ['message', 'send', 'to', 'log']) {
            assert.ok(m[k].width > 0 && m[k].left >= 0 && m[k].right <= m.innerWidth, `${k} within the screen: ${JSON.stringify(m[k])}`);
        }
        await say(u.bob, 'typed on a phone');
        await waitEntry(u.alice, 'typed on a phone', 'bob');
        await page.setViewportSize({ width: 1000, height: 700 });
    });

    testLighttpdHealthy(fx, T);
});

// ---------------------------------------------------------------------------

describe('chat page: a closed page leaves the member lists', () => {
    const TIMEOUT = 2000;
    const MAX_INTERVAL = 2000 * SLOW;
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ docRoot: WWW, responderArgs: ['--timeout', String(TIMEOUT), '--max-interval', String(MAX_INTERVAL)] }),
    }));
    after(closeAll);
    const u = {};

    /** Closes `who` and returns the ms until `watcher` no longer lists it. */
    async function closeAndTime(who, watcher, others) {
        await sleep(300 + Math.floor(Math.random() * 700)); // at some point of a long-poll
        const t0 = Date.now();
        await closeChat(who, { runBeforeUnload: true });
        await waitUntil(watcher.page, `${who.label} leaves ${watcher.label}'s member list`,
            (n) => ![...document.querySelectorAll('#members li')].some((li) => li.dataset.name === n),
            who.name, TIMEOUT + MAX_INTERVAL + 10000 * SLOW);
        const ms = Date.now() - t0;
        await waitMembers(watcher, others);
        await waitEntry(watcher, `${who.name} has left`);
        return ms;
    }

    test('closing a page (pagehide: disconnect) removes the user at once', T, async () => {
        const { origin } = fx.s.lighttpd;
        u.alice = await openChat(origin, 'alice');
        await join(u.alice, 'alice', 'lobby');
        u.bob = await openChat(origin, 'bob');
        await join(u.bob, 'bob', 'lobby');
        await waitMembers(u.alice, ['alice', 'bob']);
        const ms = await closeAndTime(u.bob, u.alice, ['alice']);
        console.log(`# closed page with its pagehide disconnect: gone from the list after ${ms} ms`);
        // Without the disconnect the session could only expire --max-interval
        // after its last poll, i.e. not before MAX_INTERVAL ms from now.
        assert.ok(ms < MAX_INTERVAL * 0.75, `gone after ${ms} ms, before the session could have expired (${MAX_INTERVAL} ms)`);
    });

    test('a page that vanishes without disconnecting leaves within timeout + maxInterval', T, async () => {
        const { origin } = fx.s.lighttpd;
        u.carol = await openChat(origin, 'carol (no pagehide)', { noPagehide: true });
        await join(u.carol, 'carol', 'lobby');
        await waitMembers(u.alice, ['alice', 'carol']);
        const ms = await closeAndTime(u.carol, u.alice, ['alice']);
        console.log(`# closed page without a disconnect: gone from the list after ${ms} ms (timeout ${TIMEOUT} + max-interval ${MAX_INTERVAL})`);
        assert.ok(ms >= MAX_INTERVAL * 0.75, `only the session expiry removed it (${ms} ms), so the quick removal above was the disconnect`);
        assert.ok(ms <= TIMEOUT + MAX_INTERVAL + 5000 * SLOW, `gone within timeout + maxInterval (+ slack): ${ms} ms`);
        assertNoPageErrors(u.alice);
    });

    testLighttpdHealthy(fx, T);
});

// ---------------------------------------------------------------------------

describe('chat page: the responder restarts', () => {
    const fx = useServers(async () => ({
        lighttpd: await startLighttpd({ docRoot: WWW, responderArgs: ['--timeout', '10000'] }),
    }));
    after(closeAll);
    const u = {};

    test('the pages reconnect, join again by themselves and chat works again', T, async () => {
        const srv = fx.s.lighttpd;
        u.alice = await openChat(srv.origin, 'alice');
        await join(u.alice, 'alice', 'lobby');
        u.bob = await openChat(srv.origin, 'bob');
        await join(u.bob, 'bob', 'lobby');
        await waitMembers(u.alice, ['alice', 'bob']);
        await waitMembers(u.bob, ['alice', 'bob']);
        await say(u.alice, 'before the restart');
        await waitEntry(u.bob, 'before the restart', 'alice');
        await sleep(300); // both long-polls held

        for (const p of [u.alice, u.bob]) await p.page.evaluate(() => { window.__conn = []; });
        const oldPid = srv.currentResponderPid();
        assert.ok(oldPid, 'lighttpd runs a responder');
        process.kill(oldPid, 'SIGTERM');

        for (const p of [u.alice, u.bob]) {
            await waitUntil(p.page, `${p.label} shows reconnecting, then connected`,
                () => {
                    const s = window.__conn.map((c) => c[1]);
                    const i = s.indexOf('reconnecting');
                    return i >= 0 && s.indexOf('connected', i) > i && document.getElementById('status').dataset.state === 'connected';
                }, undefined, 30000 * SLOW);
        }
        const newPid = srv.currentResponderPid();
        assert.ok(newPid && newPid !== oldPid, `lighttpd started a new responder (${oldPid} -> ${newPid})`);
        // joined again on the new responder, without the user doing anything
        await waitMembers(u.alice, ['alice', 'bob']);
        await waitMembers(u.bob, ['alice', 'bob']);
        for (const p of [u.alice, u.bob]) {
            assert.equal(await p.page.isVisible('#chat'), true, `${p.label}: still in the room`);
            assert.equal(await p.page.isVisible('#error'), false, `${p.label}: no error shown: ${await p.page.textContent('#error')}`);
            await waitUntil(p.page, `${p.label}: the room list is back`,
                () => document.querySelector('#rooms li[data-room="lobby"] .count')?.textContent === '2 members');
        }
        await say(u.alice, 'after the restart');
        await waitEntry(u.bob, 'after the restart', 'alice');
        await waitEntry(u.alice, 'after the restart', 'alice');
        await say(u.bob, 'private, after the restart', { to: 'alice' });
        const e = await waitEntry(u.alice, 'private, after the restart', 'bob');
        assert.match(e.cls, /\bprivate\b/);
        assert.equal((await connStates(u.alice.page)).at(-1), 'connected');
        // a restart is not a user leaving: no "has left" notice (the responder
        // answers its held connects before the chat drops its sessions)
        for (const p of [u.alice, u.bob]) {
            const left = (await logEntries(p.page)).filter((x) => /has left$/.test(x.text));
            assert.deepEqual(left, [], `${p.label}: no leave notice for the restart`);
        }
        assertNoPageErrors(u.alice, u.bob);
    });

    test('the respawned responder stops cleanly with no sanitizer reports', T, async () => {
        await closeAll();
        const info = await fx.s.lighttpd.stop();
        if (info.sanitizerReports.length) printLogs(fx.s);
        assert.deepEqual(info.sanitizerReports, [], 'no sanitizer reports / crashes in the logs');
    });
});
