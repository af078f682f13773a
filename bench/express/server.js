// The Express echo of POST /api/call/initiate that bench/initiate.sh runs next to callbridge
// (issue 17 goal 4: "the paper's stack"). It does what the endpoint does in spirit, short of
// durable work: checks the bearer key, parses the JSON body, validates and normalises `to`,
// and answers 202 with a body of the same shape and size. Nothing is stored.
//
//   NODE_ENV=production PORT=58399 CALLBRIDGE_API_KEY=... EXPRESS_WORKERS=2 node server.js
//
// Express's production guide ("Production best practices: performance and reliability")
// says: set NODE_ENV=production, do not log synchronously, run the app in a cluster (one
// process per core). EXPRESS_WORKERS (default: the number of cores) sets the cluster's size;
// 1 runs a single process without the cluster module.
'use strict';

const cluster = require('node:cluster');
const crypto = require('node:crypto');
const os = require('node:os');

const port = Number(process.env.PORT || 58399);
const key = process.env.CALLBRIDGE_API_KEY || '';
const workers = Number(process.env.EXPRESS_WORKERS || os.availableParallelism());

function serve() {
  const express = require('express');
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));

  app.get('/healthz', (req, res) => res.json({ status: 'ok' }));

  app.post('/api/call/initiate', (req, res) => {
    if (key === '' || req.get('authorization') !== 'Bearer ' + key) {
      return res.status(401).json({ error: { code: 'unauthorized', message: 'bad API key' } });
    }
    const to = req.body && req.body.to;
    // E.164 after dropping spaces, dots, dashes and brackets: what "a number we can dial" is
    // in spirit (callbridge uses libphonenumber; this is the cheap version).
    const e164 = typeof to === 'string' && to.length <= 64 ? to.replace(/[\s().-]/g, '') : '';
    if (!/^\+[1-9][0-9]{6,14}$/.test(e164)) {
      return res.status(400).json({
        error: { code: 'invalid_phone', message: '"to" is not a phone number we can dial' },
      });
    }
    res.status(202).json({ call_id: crypto.randomUUID(), status: 'queued', crm_record: null });
  });

  app.listen(port, '127.0.0.1');
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (w, code, signal) => {
    if (signal !== 'SIGTERM' && signal !== 'SIGINT') console.error(`worker ${w.process.pid} died`);
  });
  const stop = () => {
    for (const id in cluster.workers) cluster.workers[id].process.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  serve();
}
