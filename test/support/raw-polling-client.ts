/**
 * A bare Engine.IO v4 long-polling client that can stop reading: the server then has to queue
 * every packet for it, which is how a slow or stalled client looks from the server's side.
 */
export class RawPollingClient {
  private constructor(
    private readonly base: string,
    readonly sid: string,
  ) {}

  static async connect(url: string, auth: object): Promise<RawPollingClient> {
    const base = `${url}/socket.io/?EIO=4&transport=polling`;
    const open = await (await fetch(base)).text();
    const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
    const client = new RawPollingClient(base, sid);
    await client.post(`40${JSON.stringify(auth)}`);
    const connected = await client.poll();
    if (!connected.includes('40{')) throw new Error(`no Socket.IO connect ack: ${connected}`);
    return client;
  }

  /** Sends a Socket.IO event with an ack id (the ack arrives with a later poll). */
  emit(event: string, payload: unknown, ackId = 0): Promise<void> {
    return this.post(`42${ackId}${JSON.stringify([event, payload])}`);
  }

  /** One long-poll: what the server queued for us, or the HTTP status when it refuses. */
  async poll(): Promise<string> {
    const res = await fetch(`${this.base}&sid=${this.sid}`);
    return res.status === 200 ? res.text() : `HTTP ${res.status}`;
  }

  private async post(body: string): Promise<void> {
    const res = await fetch(`${this.base}&sid=${this.sid}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    if (res.status !== 200) throw new Error(`POST refused: ${res.status} ${await res.text()}`);
  }
}
