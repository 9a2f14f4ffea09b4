/**
 * Judge panels: SRCC against the truth and calls used, for a single judge, a wide 1-layer
 * panel (mean and Thurstone fusion), a 2-layer panel and a cascade (cheap judge, panel
 * only where it is unsure). Same images, same seeds, same simulated judges on 127.0.0.1
 * (real OpenAI SDK, SQLite in memory): a quality bench, not a timing one.
 *
 *   npx tsx bench/panels.ts [--images N] [--seeds N]
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { srcc } from '../src/aggregate/index.js';
import { openJudge } from '../src/api/judge.js';
import { PanelDefinition, runPanel, type PanelDefinitionInput } from '../src/judges/panels/index.js';
import { Store } from '../src/store/store.js';
import { decodeImage, startOpenAIServer, type JudgeServer, type JudgeServerOptions } from '../test/support/judge-server/index.js';
import { tempDir, writeImages } from '../test/scoring/_support.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const IMAGES = arg('images', 30);
const SEEDS = arg('seeds', 3);

/** The neurons: lenient, harsh, compressed, noisy; the single judge is the fair but noisy one. */
const NEURONS: JudgeServerOptions[] = [
  { noiseSd: 0.5, scoreOffset: 1 },
  { noiseSd: 0.5, scoreOffset: -1 },
  { noiseSd: 0.4, scoreStretch: 0.2 },
  { noiseSd: 1 },
];

async function main(): Promise<void> {
  const tmp = await tempDir();
  const paths = await writeImages(
    tmp.images,
    Array.from({ length: IMAGES }, (_, i) => ({ name: `img${String(i).padStart(3, '0')}.png`, quality: 1.5 + (3 * i) / (IMAGES - 1) })),
  );
  const truth = new Map<string, number>();
  for (const p of paths) truth.set(p, (await decodeImage(await readFile(p), '')).measured);

  const rows: Record<string, { srcc: number[]; calls: number[] }> = {};
  for (let seed = 1; seed <= SEEDS; seed++) {
    const servers: JudgeServer[] = [];
    for (const [i, o] of NEURONS.entries()) servers.push(await startOpenAIServer({ seed: seed * 10 + i, ...o }));
    const cheapServer = await startOpenAIServer({ seed: seed * 10 + 9, noiseSd: 0.6 });
    const open = (s: JudgeServer) => openJudge({ judge: 'openai:sim', baseURL: s.url, apiKey: 'k', retries: 0 }, {});
    const neuronsOf = (n: number) => servers.slice(0, n).map(() => ({ judge: 'openai:sim' }));
    const configurations: [string, PanelDefinitionInput, JudgeServer[], JudgeServer?][] = [
      ['single judge (noisy, K=4)', { name: 'single', neurons: [{ judge: 'x' }], samples: 4, fusion: 'mean' }, [servers[3]!]],
      ['wide panel, mean', { name: 'wide-mean', neurons: neuronsOf(4), samples: 4, fusion: 'mean' }, servers],
      ['wide panel, Thurstone', { name: 'wide-t', neurons: neuronsOf(4), samples: 4, rounds: 0 }, servers],
      ['2-layer panel, Thurstone', { name: 'deep', neurons: neuronsOf(4), samples: 4, layers: 2, window: 1, rounds: 0 }, servers],
      [
        'cascade (cheap K=4, panel if sd > 0.6)',
        { name: 'cascade', neurons: neuronsOf(4), samples: 4, rounds: 0, escalation: { judge: 'c', maxSpread: 0.6, samples: 4 } },
        servers,
        cheapServer,
      ],
    ];
    for (const [label, definition, members, cheap] of configurations) {
      for (const s of [...servers, cheapServer]) s.resetCounts();
      const store = Store.open(':memory:');
      try {
        const result = await runPanel({
          store,
          panel: PanelDefinition().parse(definition),
          members: await Promise.all(members.map(open)),
          escalation: cheap ? await open(cheap) : undefined,
          inputs: [tmp.images],
          runName: label,
          argv: [],
          runOptions: {},
        });
        const ok = result.results.filter((r) => r.score !== null);
        const row = (rows[label] ??= { srcc: [], calls: [] });
        row.srcc.push(srcc(ok.map((r) => r.score as number), ok.map((r) => truth.get(r.path) as number)));
        // Samples asked (a request may carry several): what a priced judge bills by.
        row.calls.push(result.calls.ok + result.calls.failed);
      } finally {
        store.close();
      }
    }
    await Promise.all([...servers, cheapServer].map((s) => s.close()));
  }
  await tmp.cleanup();

  const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
  console.log(`panels bench: ${IMAGES} images, ${SEEDS} seeds; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('configuration                              SRCC (mean, min-max)    calls per image');
  for (const [label, r] of Object.entries(rows)) {
    console.log(
      `${label.padEnd(42)} ${mean(r.srcc).toFixed(3)} (${Math.min(...r.srcc).toFixed(3)}-${Math.max(...r.srcc).toFixed(3)})    ${(mean(r.calls) / IMAGES).toFixed(1)}`,
    );
  }
}

await main();
