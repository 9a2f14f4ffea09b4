// A stand-in for engine-child.ts speaking the same protocol, to drive the parent's
// restart logic through exact scenarios. The scenario is the `model` path it is given.
let scenario = '';
const send = (m) => process.send(m);
process.on('message', (m) => {
  if (m.type === 'exit') process.exit(0);
  if (m.type === 'load') {
    scenario = m.options.model;
    send({ type: 'stage', stage: 'model' });
    if (scenario === 'crash-on-load') process.kill(process.pid, 'SIGSEGV');
    send({ type: 'loaded', info: { variant: 'fake', devices: [], llamaCppBuild: 'fake', loadMs: 0, vision: false } });
    return;
  }
  const { id, job } = m;
  const sample = (index) => send({
    type: 'sample',
    id,
    sample: { index, text: `sample ${index} from ${process.pid}`, finishReason: 'stop', promptTokens: 10, promptTokensEvaluated: index === job.firstSample ? 10 : 1, generatedTokens: 3, ms: 1 },
  });
  if (scenario === 'stuck-once-at-2' && job.firstSample === 0) {
    sample(0);
    sample(1);
    send({ type: 'run-error', id, kind: 'stuck', message: 'Another completion is in progress' });
    return;
  }
  if (scenario === 'always-stuck') {
    send({ type: 'run-error', id, kind: 'stuck', message: 'Another completion is in progress' });
    return;
  }
  for (let i = job.firstSample; i < job.samples; i++) sample(i);
  send({ type: 'done', id });
});
process.on('disconnect', () => process.exit(0));
