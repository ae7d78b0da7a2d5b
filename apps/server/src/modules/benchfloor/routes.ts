import { z } from 'zod';
import type { WebSocket } from 'ws';
import type { AppContext, ZodApp } from '../../platform/context.js';

/**
 * The floor of this design, for `npm run bench:dispatch` only (registered when PINGAN_BENCH_FLOOR=on):
 * a minimal route that validates a body, commits one row and pushes one WebSocket message. The
 * dispatch path is measured against it on the same server under the same load.
 */
export async function benchFloorRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  if (!ctx.config.PINGAN_BENCH_FLOOR) return;
  await ctx.database.query('create table if not exists bench_floor (id bigserial primary key, n integer not null, payload text not null, at timestamptz not null default now())');
  const sockets = new Set<WebSocket>();
  app.post(
    '/api/bench/floor',
    {
      config: { access: { public: true } },
      schema: { hide: true, body: z.object({ n: z.number().int(), payload: z.string().max(4000) }), response: { 201: z.object({ id: z.number() }) } },
    },
    async (req, reply) => {
      const [row] = await ctx.database.query<{ id: string }>('insert into bench_floor (n, payload) values ($1, $2) returning id', [req.body.n, req.body.payload]);
      const message = JSON.stringify({ type: 'floor', n: req.body.n });
      for (const s of sockets) if (s.readyState === s.OPEN) s.send(message);
      reply.code(201);
      return { id: Number(row!.id) };
    },
  );
  app.get('/api/bench/ws', { websocket: true, config: { access: { public: true } }, schema: { hide: true } }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
}
