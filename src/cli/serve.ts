// `serve`: the read-only JSON HTTP API over a replayed store (src/server/server.ts).
import { InvalidArgumentError, type Command } from 'commander';
import { jsonText } from '../model/json-u64.js';
import { resultCount } from '../replay/pipeline.js';
import { openReadOnly, SERVER_DEFAULTS, startServer } from '../server/server.js';
import { InputError } from '../util/errors.js';
import { checkStorePath } from './common.js';

function parsePort(s: string): number {
  const n = Number(s);
  if (!/^[0-9]+$/.test(s) || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

interface ServeFlags {
  db: string;
  port: number;
  host: string;
  cors?: string;
  maxConnections: number;
  json?: boolean;
  quiet?: boolean;
}

function parseMaxConnections(s: string): number {
  const n = Number(s);
  if (!/^[0-9]+$/.test(s) || n < 1 || n > 1_000_000) throw new InvalidArgumentError('expected a whole number 1..1000000');
  return n;
}

/** `*` or a serialized origin (scheme://host[:port]); anything else is refused. */
function parseOrigin(s: string): string {
  if (s === '*' || /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(s) || /^https?:\/\/\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/.test(s)) return s;
  throw new InputError(`--cors ${JSON.stringify(s)}: expected * or an origin like https://example.org`);
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the replayed store as a read-only JSON HTTP API (/healthz, /summary, /blocks/:idOrHeight, /heights/:h, /versions, /bootstrap-check)')
    .requiredOption('--db <dir>', 'the LMDB store (replayed; opened read-only)')
    .option('--port <port>', 'TCP port (0 = any free port)', parsePort, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--cors <origin>', 'send Access-Control-Allow-Origin: ORIGIN (an origin like https://example.org, or *); default none')
    .option(
      '--max-connections <n>',
      'open connections at most (the oldest idle one is closed to make room)',
      parseMaxConnections,
      SERVER_DEFAULTS.maxConnections,
    )
    .option('--json', 'print the listening address (and the stop) as JSON lines')
    .option('--quiet', 'no warnings and no listening line')
    .action(async (flags: ServeFlags) => {
      checkStorePath(flags.db, true);
      const cors = flags.cors === undefined ? null : parseOrigin(flags.cors);
      const store = openReadOnly(flags.db);
      let running;
      try {
        const results = resultCount(store);
        const records = store.order.getCount();
        if (results < records) {
          process.stderr.write(
            `spork-replay serve: warning: ${records - results} of ${records} stored blocks have no replay result yet (run \`spork-replay replay --db ${flags.db}\`)\n`,
          );
        }
        running = await startServer(store, { port: flags.port, host: flags.host, corsOrigin: cors, maxConnections: flags.maxConnections });
      } catch (e) {
        await store.close();
        if (e instanceof Error && 'code' in e && typeof (e as any).code === 'string' && /^E(ADDRINUSE|ACCES|ADDRNOTAVAIL|NOTFOUND)/.test((e as any).code)) {
          throw new InputError(`cannot listen on ${flags.host}:${flags.port}: ${e.message}`);
        }
        throw e;
      }
      const finalizedHeight = running.query.chain().finalizedHeight;
      if (flags.json) process.stdout.write(`${jsonText({ listening: running.url, store: flags.db, finalizedHeight })}\n`);
      else if (!flags.quiet) process.stdout.write(`spork-replay serve: listening on ${running.url} (store ${flags.db}, finalized height ${finalizedHeight})\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
          if (flags.json) process.stdout.write(`${JSON.stringify({ stopped: signal })}\n`);
          else if (!flags.quiet) process.stdout.write(`spork-replay serve: ${signal}, closing\n`);
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
