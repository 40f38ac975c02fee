// `serve`: the read-only JSON HTTP API over a replayed store (src/server/server.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { openReadOnly, startServer } from '../server/server.js';
import { InputError } from '../util/errors.js';

function parsePort(s: string): number {
  const n = Number(s);
  if (!/^[0-9]+$/.test(s) || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the replayed store as a read-only JSON HTTP API (/healthz, /summary, /blocks/:idOrHeight, /heights/:h, /versions, /bootstrap-check)')
    .requiredOption('--db <dir>', 'the LMDB store (replayed; opened read-only)')
    .option('--port <port>', 'TCP port (0 = any free port)', parsePort, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (flags: { db: string; port: number; host: string }) => {
      if (!existsSync(join(flags.db, 'data.mdb'))) throw new InputError(`${flags.db}: no store there (import an archive with \`spork-replay import ARCHIVE --db ${flags.db}\`)`);
      const store = openReadOnly(flags.db);
      let running;
      try {
        const results = store.results.getCount();
        const records = store.order.getCount();
        if (results < records) {
          process.stderr.write(`spork-replay serve: warning: ${records - results} of ${records} stored blocks have no replay result yet (run \`spork-replay replay --db ${flags.db}\`)\n`);
        }
        running = await startServer(store, { port: flags.port, host: flags.host });
      } catch (e) {
        await store.close();
        if (e instanceof Error && 'code' in e && typeof (e as any).code === 'string' && /^E(ADDRINUSE|ACCES|ADDRNOTAVAIL|NOTFOUND)/.test((e as any).code)) {
          throw new InputError(`cannot listen on ${flags.host}:${flags.port}: ${e.message}`);
        }
        throw e;
      }
      process.stdout.write(`spork-replay serve: listening on ${running.url} (store ${flags.db}, finalized height ${running.query.chain().finalizedHeight})\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
          process.stdout.write(`spork-replay serve: ${signal}, closing\n`);
          resolve();
        };
        const onInt = () => stop('SIGINT');
        const onTerm = () => stop('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
      });
      await running.close();
      await store.close();
      process.exitCode = 0;
    });
}
