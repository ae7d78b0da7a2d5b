import http from 'node:http';

/** One answer of the raw client: status 0 is a failed connection, -1 no answer in time. */
export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  error: string | null;
  ms: number;
}

/**
 * A keep-alive HTTP client over a few connections that sends paths and bodies exactly as given
 * (fetch would normalise a malformed URL or refuse a bad header before it ever left).
 */
export class RawHttp {
  readonly agent: http.Agent;
  constructor(
    private readonly base: URL,
    connections: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  }

  send(method: string, path: string, headers: Record<string, string>, body?: Buffer, timeoutMs = 30_000): Promise<RawAnswer> {
    const start = Date.now();
    return new Promise((resolve) => {
      let done = false;
      const finish = (a: Omit<RawAnswer, 'ms'>) => {
        if (done) return;
        done = true;
        resolve({ ...a, ms: Date.now() - start });
      };
      let req: http.ClientRequest;
      try {
        req = http.request(
        { host: this.base.hostname, port: this.base.port, method, path, agent: this.agent, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error: null }));
          res.on('error', (e) => finish({ status: 0, headers: {}, body: Buffer.alloc(0), error: e.message }));
        },
        );
      } catch (err) {
        // Node refuses to send it (a character no HTTP request may carry): nothing reached the server.
        finish({ status: -2, headers: {}, body: Buffer.alloc(0), error: (err as Error).message });
        return;
      }
      req.setTimeout(timeoutMs, () => {
        finish({ status: -1, headers: {}, body: Buffer.alloc(0), error: 'timeout' });
        req.destroy();
      });
      req.on('error', (e) => finish({ status: 0, headers: {}, body: Buffer.alloc(0), error: e.message }));
      if (body) req.end(body);
      else req.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}
