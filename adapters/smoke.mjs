#!/usr/bin/env node
// cibq's smoke adapter: acknowledges every trigger, writes what it would build to stderr (the
// run's log) and reports success. It builds nothing: it shows the pipeline works end to end
// before a real adapter (radicle-native-ci, Ambient, …) is configured.
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  let msg;
  try {
    msg = JSON.parse(input);
  } catch {
    process.stderr.write('smoke: the trigger message is not JSON\n');
    process.exit(1);
  }
  const runId = process.env.CIBQ_RUN_ID ?? `smoke-${Date.now()}`;
  process.stdout.write(`${JSON.stringify({ response: 'triggered', run_id: { id: runId } })}\n`);
  const what = msg.event_type === 'patch'
    ? `patch ${msg.patch?.id} "${msg.patch?.title}" at ${msg.patch?.after}`
    : `${msg.branch} at ${msg.after}`;
  process.stderr.write(`smoke: would build ${msg.repository?.name} (${msg.repository?.id}): ${what}\n`);
  process.stdout.write(`${JSON.stringify({ response: 'finished', result: 'success' })}\n`);
});
