/** bull-board over cibq's run queues, mounted in the dashboard's Hono app. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import type { Hono } from 'hono';

export const BOARD_PATH = '/queues';

export function mountBoard(app: Hono, opts: { queues: ReadonlyMap<string, Queue>; readOnly: boolean; reports: boolean }): void {
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: [...opts.queues].map(([adapter, queue]) => new BullMQAdapter(queue, {
      // readOnlyMode hides retry, remove, promote, clean, pause… in the UI and refuses them in the API.
      readOnlyMode: opts.readOnly,
      allowRetries: !opts.readOnly,
      description: `Runs for the adapter "${adapter}"`,
    })),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'cibq',
        hideDocsLink: true,
        miscLinks: opts.reports ? [{ text: 'Reports', url: '/reports/' }] : [],
      },
    },
  });
  app.route(BOARD_PATH, serverAdapter.registerPlugin());
}
