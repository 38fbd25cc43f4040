// Conformance: enigma.js 2.15.0 (schema 12.2027.0, default delta mode) and qsocks 3.2.1 against
// qix-engine-sim. Usage: node run.js [path/to/qix-engine-sim]  (or QIX_ENGINE_SIM=...). Exit 0 = pass.
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const WebSocket = require('ws');
const enigma = require('enigma.js');
const schema = require('enigma.js/schemas/12.2027.0.json');
const errorCodes = require('enigma.js/error-codes');
const qsocks = require('qsocks');

const exe = process.argv[2] || process.env.QIX_ENGINE_SIM ||
  path.join(__dirname, '..', '..', 'build-sim', 'tools', 'engine-sim', 'qix-engine-sim');

function startSim(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.on('error', reject);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^listening on (ws:\/\/[^\s]+)\n/.exec(out);
      if (m) resolve({ child, url: m[1], port: Number(m[1].split(':').pop()) });
    });
    setTimeout(() => reject(new Error('simulator did not start')), 10000);
  });
}

function stopSim(sim) {
  return new Promise((resolve, reject) => {
    sim.child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`simulator exited with ${code}`))));
    sim.child.kill('SIGTERM');
  });
}

function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
  console.log(`  ok - ${what}`);
}

function once(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (...a) => { clearTimeout(t); resolve(a); });
  });
}

const cubeProps = {
  qInfo: { qType: 'conformance-table' },
  qHyperCubeDef: {
    qDimensions: [{ qDef: { qFieldDefs: ['Region'] } }],
    qMeasures: [{ qDef: { qDef: 'Sum(Sales)' } }],
    qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 2, qHeight: 50 }],
  },
};

async function enigmaFlow(sim) {
  console.log('enigma.js 2.15.0 (delta on)');
  const session = enigma.create({ schema, url: `${sim.url}/app/demo`, createSocket: (url) => new WebSocket(url) });
  let sawOnConnected = false;
  session.on('notification:OnConnected', (p) => { sawOnConnected = p.qSessionState === 'SESSION_CREATED'; });
  const global = await session.open();
  assert((await global.engineVersion()).qComponentVersion, 'EngineVersion');
  const app = await global.openDoc('demo');
  assert(sawOnConnected, 'OnConnected SESSION_CREATED');
  const missing = await app.getObject('does-not-exist').then(() => null, (e) => e);
  assert(missing && missing.code === errorCodes.OBJECT_NOT_FOUND, 'GetObject of a missing id rejects with OBJECT_NOT_FOUND');
  const obj = await app.createSessionObject(cubeProps);
  const layout = await obj.getLayout();
  assert(layout.qHyperCube.qSize.qcy === 6, 'hypercube has 6 regions');
  const total = layout.qHyperCube.qDataPages[0].qMatrix.reduce((s, r) => s + r[1].qNum, 0);
  const field = await app.getField('Region');
  const changed = once(obj, 'changed');
  assert(await field.select('Nordic') === true, 'Field.Select');
  await changed;
  assert(true, 'object emitted "changed" after the selection');
  const after = await obj.getLayout();
  assert(after.qHyperCube.qSize.qcy === 1 && after.qHyperCube.qDataPages[0].qMatrix[0][0].qText === 'Nordic',
    'new layout (through delta patches) shows only Nordic');
  assert(after.qHyperCube.qDataPages[0].qMatrix[0][1].qNum < total, 'Nordic sales below the total');
  const evalNordic = await app.evaluate('Sum(Sales)');
  assert(Number(evalNordic) === after.qHyperCube.qDataPages[0].qMatrix[0][1].qNum, 'Evaluate agrees with the hypercube');
  const changed2 = once(obj, 'changed');
  await app.clearAll();
  await changed2;
  const cleared = await obj.getLayout();
  assert(cleared.qHyperCube.qSize.qcy === 6, 'ClearAll restores 6 rows (patched layout)');
  const again = await obj.getLayout();
  assert(JSON.stringify(again) === JSON.stringify(cleared), 'unchanged layout through an empty delta');
  const closed = once(obj, 'closed');
  await app.destroySessionObject(obj.id);
  await closed;
  assert(true, 'object emitted "closed" after DestroySessionObject');
  await session.close();
}

async function qsocksFlow(sim) {
  console.log('qsocks 3.2.1 (simulator in --proxy-mode, as qsocks expects a proxy)');
  const global = await qsocks.Connect({ host: '127.0.0.1', port: sim.port, isSecure: false, appname: 'demo' });
  const app = await global.openDoc('demo');
  const obj = await app.createSessionObject(cubeProps);
  const layout = await obj.getLayout();
  assert(layout.qHyperCube.qSize.qcy === 6, 'hypercube has 6 regions');
  const field = await app.getField('Region');
  const change = once(obj, 'change');
  await field.select('DACH');
  await change;
  assert(true, 'object emitted "change" after the selection');
  const after = await obj.getLayout();
  assert(after.qHyperCube.qSize.qcy === 1 && after.qHyperCube.qDataPages[0].qMatrix[0][0].qText === 'DACH',
    'new layout shows only DACH');
  const change2 = once(obj, 'change');
  await field.clear();
  await change2;
  assert((await obj.getLayout()).qHyperCube.qSize.qcy === 6, 'Field.Clear restores 6 rows');
  const close = once(obj, 'close');
  await app.destroySessionObject(layout.qInfo.qId);
  await close;
  assert(true, 'object emitted "close" after DestroySessionObject');
  global.connection.ws.close();
}

(async () => {
  const direct = await startSim([]);
  const proxy = await startSim(['--proxy-mode']);
  try {
    await enigmaFlow(direct);
    await qsocksFlow(proxy);
    console.log('conformance: PASS');
  } finally {
    await stopSim(direct);
    await stopSim(proxy);
  }
})().catch((e) => {
  console.error('conformance: FAIL:', e && (e.stack || e.message || JSON.stringify(e)));
  process.exit(1);
});
