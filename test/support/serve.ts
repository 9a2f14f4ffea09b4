/**
 * Run a simulated judge server standalone, for manual demos and the bench.
 *
 *   npx tsx test/support/serve.ts --openai|--anthropic [--port N] [--latency-ms N]
 *                                 [--api-key KEY] [--seed N] [--noise-sd X] [--first-slot-bias X]
 *
 * Prints the base URL (to give an SDK or Quorum as baseURL) on stdout, one line, and the
 * request log on stderr; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startAnthropicServer, startOpenAIServer, type JudgeServerOptions } from './judge-server/index.js';

const usage =
  'Usage: npx tsx test/support/serve.ts --openai|--anthropic [--port N] [--latency-ms N] [--api-key KEY] [--seed N] [--noise-sd X] [--first-slot-bias X]';

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) {
    console.error(`Expected \`--${name}\` to be a number, got \`${value}\`\n${usage}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        openai: { type: 'boolean' },
        anthropic: { type: 'boolean' },
        port: { type: 'string' },
        'latency-ms': { type: 'string' },
        'api-key': { type: 'string' },
        seed: { type: 'string' },
        'noise-sd': { type: 'string' },
        'first-slot-bias': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  if (Boolean(values.openai) === Boolean(values.anthropic)) {
    console.error(`Expected exactly one of \`--openai\` and \`--anthropic\`\n${usage}`);
    process.exit(2);
  }
  const options: JudgeServerOptions = {};
  const set = <K extends keyof JudgeServerOptions>(key: K, value: JudgeServerOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('port', number('port', values.port));
  set('latencyMs', number('latency-ms', values['latency-ms']));
  set('apiKey', values['api-key']);
  set('seed', number('seed', values.seed));
  set('noiseSd', number('noise-sd', values['noise-sd']));
  set('firstSlotBias', number('first-slot-bias', values['first-slot-bias']));

  const server = values.openai ? await startOpenAIServer(options) : await startAnthropicServer(options);
  console.log(server.url);
  let logged = 0;
  const log = setInterval(() => {
    for (const r of server.requests.slice(logged)) {
      if (r.status === undefined && r.fault?.kind !== 'drop') break;
      console.error(`${r.index} ${r.method} ${r.path} ${r.status ?? 'dropped'} ${r.task ?? ''} ${r.fault ? `fault=${r.fault.kind}` : ''}`.trimEnd());
      logged++;
    }
  }, 250);
  const stop = async () => {
    clearInterval(log);
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

await main();
