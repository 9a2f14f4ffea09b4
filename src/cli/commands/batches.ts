import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { defineCommand } from 'citty';
import { BatchLedger, type BatchRecord } from '../../judges/batch/ledger.js';
import { textTable } from '../../report/format.js';
import { Store } from '../../store/store.js';
import { packageRoot } from '../../core/package-root.js';
import { dbArg, dbPath, enumArg, type Args } from '../args.js';
import type { CommandIO } from '../main.js';

export const usage = 'batches [--collect] [--db FILE] [--format table|json]';

export const command = defineCommand({
  meta: {
    name: 'batches',
    description:
      'Provider batches submitted with --batch: status, requests answered, failed and expired, cost at batch prices. --collect reruns the command of every batch not collected yet, which downloads and stores the answers of those that ended.',
  },
  args: {
    ...dbArg,
    collect: { type: 'boolean', description: 'Collect the answers of ended batches by rerunning their commands (with --no-wait)' },
    format: { type: 'string', valueHint: 'table|json', description: 'table or json', default: 'table' },
  },
});

export const examples = `Examples:
  quorum score photos/ --judge openai:gpt-4o-mini --batch --no-wait   # submit and return
  quorum batches                                                      # where they stand
  quorum batches --collect                                            # store the answers of ended batches`;


export async function run(args: Args, io: CommandIO): Promise<number> {
  const format = enumArg(args, 'format', ['table', 'json'] as const, 'table');
  const file = resolve(dbPath(args, io.env));
  let code = 0;
  if (args['collect'] === true) code = await collect(file, io);
  const store = Store.open(file, { readOnly: true });
  try {
    const batches = new BatchLedger(store).list();
    const runName = (id: number | null) => (id === null ? '' : (store.getRun(id)?.name ?? String(id)));
    if (format === 'json') {
      io.stdout.write(`${JSON.stringify(batches.map((b) => ({ ...b, run: runName(b.runId) })), null, 2)}\n`);
    } else if (batches.length === 0) {
      io.note('no batches in this database (score, compare and rank submit them with --batch)');
    } else {
      const rows = batches.map((b) => [
        String(b.id),
        b.provider,
        b.remoteId,
        b.status,
        String(b.requests),
        String(b.succeeded),
        String(b.errored),
        String(b.expired + b.canceled),
        b.costUsd === null ? '' : `$${b.costUsd.toFixed(4)}`,
        b.submittedAt.slice(0, 19).replace('T', ' '),
        b.finishedAt ? b.finishedAt.slice(0, 19).replace('T', ' ') : '',
        runName(b.runId),
      ]);
      io.stdout.write(
        `${textTable(['id', 'provider', 'batch', 'status', 'requests', 'answered', 'failed', 'expired', 'cost', 'submitted', 'finished', 'run'], rows)}\n`,
      );
    }
    return code;
  } finally {
    store.close();
  }
}

/**
 * Reruns, once per run, the command that submitted each batch not collected yet, in the
 * directory it ran in, on this database, with `--no-wait`: the rerun re-attaches to its
 * batches, stores the answers of those that ended and leaves the others waiting.
 */
async function collect(file: string, io: CommandIO): Promise<number> {
  const store = Store.open(file, { readOnly: true });
  const runs = new Map<number, { argv: string[]; cwd: string; batches: BatchRecord[] }>();
  try {
    for (const b of new BatchLedger(store).open()) {
      if (b.runId === null) continue;
      const run = store.getRun(b.runId);
      if (!run) continue;
      const entry = runs.get(b.runId) ?? { argv: rerunArgs(run.args, file), cwd: b.cwd ?? process.cwd(), batches: [] };
      entry.batches.push(b);
      runs.set(b.runId, entry);
    }
  } finally {
    store.close();
  }
  if (runs.size === 0) io.note('collect: every batch is collected');
  let code = 0;
  for (const { argv, cwd, batches } of runs.values()) {
    io.note(`collect: ${batches.map((b) => b.remoteId).join(', ')}: quorum ${argv.join(' ')}`);
    const exit = await new Promise<number>((done) => {
      const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'quorum.js'), ...argv], { cwd, env: io.env, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', () => done(1));
      child.on('exit', (c) => done(c ?? 1));
    });
    if (exit !== 0 && exit !== 1) code = 1;
  }
  return code;
}

/** A stored command line made to collect: this database, no waiting, no fresh start. */
function rerunArgs(stored: readonly string[], db: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < stored.length; i++) {
    const a = stored[i] as string;
    if (a === '--db') {
      i++;
      continue;
    }
    if (a.startsWith('--db=') || a === '--new' || a === '--wait' || a === '--no-wait') continue;
    out.push(a);
  }
  if (!out.includes('--batch')) out.push('--batch');
  return [...out, '--no-wait', '--db', db];
}
