// canary: two chat users in one room who publish a numbered line every
// ~100 ms and long-poll for the other's lines for as long as the hostile
// requests run.  At the end each must have received every line the other
// sent, exactly once and in order, and neither may have seen an error.
import http from 'node:http';
import { BayeuxClient, sleep, SLOW } from '../integration/harness.mjs';

class Canary {
    constructor(url, room, name) {
        this.room = room;
        this.name = name;
        // its own keep-alive connections: nothing a hostile request does to
        // a shared socket can touch the canary's
        this.agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
        this.client = new BayeuxClient(url, { agent: this.agent });
        this.sent = [];          // numbers whose publish was acknowledged
        this.heard = new Map();  // sender name -> numbers received, in order
        this.errors = [];
        this.publishing = false;
        this.polling = false;
    }

    async start() {
        const chat = `/chat/${this.room}`;
        await this.client.start([chat]);
        const joined = await this.client.publish('/service/members', { user: this.name, room: this.room });
        if (!joined || !joined.successful) throw new Error(`${this.name} could not join: ${JSON.stringify(joined)}`);
        this.polling = true;
        this.pollDone = this.pollLoop();
    }

    note(what) {
        if (this.errors.length < 50) this.errors.push(`${new Date().toISOString()} ${this.name}: ${what}`);
    }

    async pollLoop() {
        while (this.polling) {
            let r;
            try {
                r = await this.client.connect();
            } catch (e) {
                if (!this.polling) break;
                this.note(`connect failed: ${e.message}`);
                await sleep(100);
                continue;
            }
            for (const m of r.messages) this.take(m);
            if (!r.reply) {
                this.note(`connect without a reply: ${JSON.stringify(r.all).slice(0, 300)}`);
            } else if (!r.reply.successful) {
                if (!this.polling) break;   // the session was ended on purpose
                this.note(`connect refused: ${JSON.stringify(r.reply)}`);
                // a refused connect keeps the session (503 too_many_polls):
                // follow the advice; a lost session cannot be a canary any more
                const advice = r.reply.advice || {};
                if (advice.reconnect === 'handshake' || advice.reconnect === 'none') break;
                await sleep(advice.interval || 100);
            } else if (r.reply.advice && r.reply.advice.reconnect === 'none') {
                break;
            }
        }
    }

    take(m) {
        if (m.channel !== `/chat/${this.room}` || !m.data || typeof m.data.chat !== 'string') return;
        const [sender, n] = m.data.chat.split(' ');
        if (m.data.user !== sender || !/^\d+$/.test(n || '')) return;   // join notices, ...
        if (!this.heard.has(sender)) this.heard.set(sender, []);
        this.heard.get(sender).push(Number(n));
    }

    startPublishing(intervalMs) {
        this.publishing = true;
        this.pubDone = (async () => {
            let n = 0;
            while (this.publishing) {
                try {
                    const r = await this.client.publish(`/chat/${this.room}`, { chat: `${this.name} ${n}` });
                    if (r && r.successful) this.sent.push(n);
                    else this.note(`publish ${n} refused: ${JSON.stringify(r)}`);
                } catch (e) {
                    this.note(`publish ${n} failed: ${e.message}`);
                }
                n++;
                await sleep(intervalMs);
            }
        })();
    }

    async stopPublishing() {
        this.publishing = false;
        await this.pubDone;
    }

    async stop() {
        this.polling = false;
        try {
            await this.client.disconnect();   // answers the held connect
        } catch (e) {
            this.note(`disconnect failed: ${e.message}`);
        }
        await this.pollDone;
        this.agent.destroy();
    }
}

/**
 * Starts two canaries in /chat/<room> publishing every intervalMs.
 * Returns { canaries, stop() -> report } where the report holds, for each
 * canary, what the other sent and what it heard, and every error seen.
 */
export async function startCanaries(url, room, { intervalMs = 100 } = {}) {
    const a = new Canary(url, room, 'canary-a');
    const b = new Canary(url, room, 'canary-b');
    await a.start();
    await b.start();
    a.startPublishing(intervalMs);
    b.startPublishing(intervalMs);
    return {
        canaries: [a, b],
        async stop() {
            await Promise.all([a.stopPublishing(), b.stopPublishing()]);
            // let the last lines arrive (bounded)
            const until = Date.now() + 5000 * SLOW;
            const complete = () => [[a, b], [b, a]].every(([rx, tx]) => (rx.heard.get(tx.name) || []).length >= tx.sent.length);
            while (!complete() && Date.now() < until) await sleep(50);
            await Promise.all([a.stop(), b.stop()]);
            return {
                pairs: [[a, b], [b, a]].map(([rx, tx]) => ({
                    receiver: rx.name, sender: tx.name, sent: tx.sent, heard: rx.heard.get(tx.name) || [],
                })),
                errors: [...a.errors, ...b.errors],
            };
        },
    };
}
