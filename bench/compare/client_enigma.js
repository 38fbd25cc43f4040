// qix_bench_enigma: enigma.js 2.15 + ws 8 (the pinned packages of tests/conformance/node_modules), driven as
// bench/compare drives every client. Usage: node client_enigma.js URL tiny|page|delta CALLS WINDOW
// tiny: WINDOW chains of global.engineVersion(), each awaiting its answer and issuing the next, until CALLS
// were made (enigma.js's default delta mode, as users have it). page: getHyperCubeData on a generic object,
// one at a time, each 10,000-cell page decoded by enigma.js. delta: GetLayout re-fetches answered with
// one-cell delta patches (enigma.js applies them to its cache).
// Prints `ok=N failed=F wall_s=S cpu_s=C bytes=B` (C: this process's CPU in the timed part); the pages
// scenario prints `clock_start` first, when its timed part begins (compare.py measures the simulator from there).
'use strict';
const path = require('path');
const modules = process.env.QIX_BENCH_NODE_MODULES ||
  path.join(__dirname, '..', '..', 'tests', 'conformance', 'node_modules');
const WebSocket = require(path.join(modules, 'ws'));
const enigma = require(path.join(modules, 'enigma.js'));
const schema = require(path.join(modules, 'enigma.js', 'schemas', '12.2027.0.json'));

// This process's CPU (user+sys, seconds) since `c0`, as text.
function cpuSince(c0) {
  const d = process.cpuUsage(c0);
  return ((d.user + d.system) / 1e6).toFixed(6);
}

async function main() {
  const [url, scenario, callsArg, windowArg] = process.argv.slice(2);
  const calls = Number(callsArg);
  let window = Number(windowArg);
  const session = enigma.create({ schema, url, createSocket: (u) => new WebSocket(u) });
  const global = await session.open();
  let issued = 0;
  let ok = 0;
  let failed = 0;
  let bytes = 0;
  if (scenario === 'pages') {
    // demo-large's OrderId x Sum(Sales), one 10,000-cell page at a time (enigma.js has no bulk extraction).
    const doc = await global.openDoc('demo-large');
    const obj = await doc.createSessionObject({
      qInfo: { qType: 'bench' },
      qHyperCubeDef: {
        qDimensions: [{ qDef: { qFieldDefs: ['OrderId'] } }],
        qMeasures: [{ qDef: { qDef: 'Sum(Sales)' } }],
        qInitialDataFetch: [],
      },
    });
    await obj.getLayout();
    console.log('clock_start'); // compare.py takes the simulator's CPU from here
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let rows = 0;
    for (let top = 0; top < calls; top += 5000) {
      const pages = await obj.getHyperCubeData('/qHyperCubeDef', [{ qTop: top, qLeft: 0, qWidth: 2, qHeight: 5000 }]);
      rows += pages[0].qMatrix.length;
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`ok=${rows} failed=${rows === calls ? 0 : 1} wall_s=${wall.toFixed(6)} cpu_s=${cpuSince(c0)} bytes=0`);
    await session.close();
    process.exit(rows === calls ? 0 : 1);
  }
  let call = () => global.engineVersion();
  let take = () => {};
  if (scenario === 'page' || scenario === 'delta') {
    const doc = await global.openDoc('bench');
    window = 1;
    // A generic object proxy (the responder answers on any handle), so that calls go through enigma.js's
    // typed methods and, for GetLayout, its delta cache.
    const obj = await session.getObjectApi({ handle: doc.handle + 1, id: 'bench', type: 'GenericObject', genericType: 'table' });
    if (scenario === 'page') {
      const pages = [{ qTop: 0, qLeft: 0, qWidth: 4, qHeight: 2500 }];
      call = () => obj.getHyperCubeData('/qHyperCubeDef', pages);
      take = (p) => { bytes += p[0].qMatrix.length; };
    } else {
      await obj.getLayout();
      call = () => obj.getLayout();
      take = (l) => { bytes += l.qHyperCube.qDataPages[0].qMatrix.length; };
    }
  }
  if (scenario === 'tiny') {
    // Warm-up, not measured, as every managed client does it: CALLS/10 calls, repeated until
    // QIX_BENCH_WARM_S seconds (1.5 unless set) went by, so that V8's optimising compiler is done with the
    // call path before the timed part.
    const warmS = Number(process.env.QIX_BENCH_WARM_S || '1.5');
    const warmUntil = process.hrtime.bigint() + BigInt(Math.round(warmS * 1e9));
    do {
      let warm = Math.max(1, Math.floor(calls / 10));
      const warmChain = async () => { while (warm > 0) { warm -= 1; await call(); } };
      await Promise.all(Array.from({ length: Math.min(window, 64) }, warmChain));
    } while (process.hrtime.bigint() < warmUntil);
  }
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  async function chain() {
    while (issued < calls) {
      issued += 1;
      try {
        take(await call());
        ok += 1;
      } catch (e) {
        failed += 1;
        console.error(String(e && e.message));
      }
    }
  }
  const chains = [];
  for (let i = 0; i < window && i < calls; i += 1) chains.push(chain());
  await Promise.all(chains);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`ok=${ok} failed=${failed} wall_s=${wall.toFixed(6)} cpu_s=${cpuSince(c0)} bytes=${bytes}`);
  await session.close();
  process.exit(failed === 0 && ok === calls ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
