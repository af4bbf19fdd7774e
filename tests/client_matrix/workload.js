// The client-matrix workload for node's drivers (see main.rs beside this file).
//
// Usage: node workload.js DRIVER MODE PORT TAG
//   DRIVER: mysql (mysqljs/mysql; text only) | mysql2
//   MODE:   text (query) | prepared (mysql2's execute: server-side prepared statements)
//
// Prints the normalized transcript on stdout; a step that fails prints `<step> ERROR <code>`
// (the message goes to stderr) and the workload goes on with the next step.
'use strict';

const crypto = require('crypto');

const [driver, mode, portText, tagText] = process.argv.slice(2);
const port = Number(portText);
const tag = Number(tagText);

const options = {
  host: '127.0.0.1',
  port,
  user: 'app',
  password: 'secret',
  database: 'customer',
  charset: 'UTF8MB4_GENERAL_CI',
  // DATETIME(6) keeps its microseconds only as a string; BIGINT and DECIMAL stay exact.
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
};

// One connection with a promise API: q(sql, params) resolves to rows (as arrays) or the OK
// result of a write.
async function connect() {
  if (driver === 'mysql') {
    const mysql = require('mysql');
    if (mode !== 'text') throw new Error('mysqljs/mysql has no server-side prepared statements');
    const conn = mysql.createConnection(options);
    await new Promise((resolve, reject) => conn.connect((e) => (e ? reject(e) : resolve())));
    const call = (fn, ...args) =>
      new Promise((resolve, reject) =>
        conn[fn](...args, (e, result, fields) => (e ? reject(e) : resolve([result, fields]))));
    // Rows as arrays in column order (mysqljs has no rowsAsArray).
    const q = async (sql, params) => {
      const [result, fields] = await call('query', sql, params || []);
      if (!Array.isArray(result)) return result;
      return result.map((row) => fields.map((f) => row[f.name]));
    };
    return {
      q,
      begin: () => call('beginTransaction'),
      rollback: () => call('rollback'),
      end: () => call('end'),
    };
  }
  if (driver === 'mysql2') {
    const mysql2 = require('mysql2/promise');
    const conn = await mysql2.createConnection({ ...options, decimalNumbers: false });
    const fn = mode === 'prepared' ? 'execute' : 'query';
    return {
      q: async (sql, params) => (await conn[fn]({ sql, values: params || [], rowsAsArray: true }))[0],
      begin: () => conn.beginTransaction(),
      rollback: () => conn.rollback(),
      end: () => conn.end(),
    };
  }
  throw new Error(`unknown driver ${driver}`);
}

const out = (line) => process.stdout.write(line + '\n');

function norm(v) {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return 'x' + v.toString('hex');
  return String(v);
}

const line = (row) => row.map(norm).join(' ');

const NAMES = [`p${tag}a`, `Zoë${tag}`, `p${tag}c`];
const PHONES = [1, 2, 3].map((k) => 5550000 + tag * 10 + k);
const IDS = {};

const TYPED = [
  [tag * 10 + 1, null, 'Zoë ✓ 日本 😀', '2024-02-29 13:14:15.123456', '12345.6789',
    Buffer.from([...Array(256).keys()])],
  [tag * 10 + 2, 'n', '', '1999-12-31 23:59:59.000001', '-0.0001', Buffer.alloc(0)],
];

async function main() {
  const c = await connect();
  const steps = {
    async unsharded() {
      for (const r of await c.q('SELECT id, name FROM commerce.product ORDER BY id')) {
        out('unsharded ' + line(r));
      }
    },
    async insert() {
      for (let i = 0; i < 3; i++) {
        const res = await c.q('INSERT INTO person (name, phone) VALUES (?, ?)', [NAMES[i], PHONES[i]]);
        IDS[NAMES[i]] = res.insertId;
        out(`insert ${NAMES[i]} id=${res.insertId} rows=${res.affectedRows}`);
      }
    },
    async reads() {
      for (const name of NAMES) {
        if (!(name in IDS)) continue;
        for (const r of await c.q('SELECT id, name, phone FROM person WHERE id = ?', [IDS[name]])) {
          out('by_id ' + line(r));
        }
      }
      for (const name of NAMES) {
        for (const r of await c.q('SELECT id, name, phone FROM person WHERE name = ?', [name])) {
          out('by_name ' + line(r));
        }
      }
      for (const phone of PHONES) {
        for (const r of await c.q('SELECT id, name, phone FROM person WHERE phone = ?', [phone])) {
          out('by_phone ' + line(r));
        }
      }
    },
    async rollback() {
      const name = `p${tag}tx`;
      const phone = 5550000 + tag * 10 + 9;
      const count = async (sql, v) => norm((await c.q(sql, [v]))[0][0]);
      await c.begin();
      let inside;
      try {
        await c.q('INSERT INTO person (name, phone) VALUES (?, ?)', [name, phone]);
        inside = await count('SELECT COUNT(*) FROM person WHERE name = ?', name);
      } finally {
        await c.rollback();
      }
      const after = await count('SELECT COUNT(*) FROM person WHERE name = ?', name);
      const byPhone = await count('SELECT COUNT(*) FROM person WHERE phone = ?', phone);
      out(`rollback inside=${inside} after=${after} by_phone=${byPhone}`);
    },
    async typed() {
      for (const row of TYPED) {
        await c.q('INSERT INTO typed (id, note, uni, ts, amount, data) VALUES (?, ?, ?, ?, ?, ?)', row);
      }
      for (const row of TYPED) {
        const sql = 'SELECT id, note, uni, ts, amount, data FROM typed WHERE id = ?';
        for (const r of await c.q(sql, [row[0]])) out('typed ' + line(r));
      }
    },
    async scatter() {
      const h = crypto.createHash('sha256');
      let n = 0;
      for (const [id, name, payload] of await c.q('SELECT id, name, payload FROM big ORDER BY id')) {
        if (!Buffer.isBuffer(payload)) throw new Error(`payload came back as ${typeof payload}`);
        h.update(`${id}|${name}|${payload.toString('hex')}\n`, 'utf8');
        n++;
      }
      out(`scatter rows=${n} sha256=${h.digest('hex')}`);
    },
    async duplicates() {
      const cases = [
        ['dup_pk', 'INSERT INTO typed (id, note) VALUES (?, ?)', [tag * 10 + 1, 'again']],
        ['dup_phone', 'INSERT INTO person (name, phone) VALUES (?, ?)', [`p${tag}dup`, PHONES[0]]],
      ];
      for (const [what, sql, params] of cases) {
        try {
          await c.q(sql, params);
          out(`${what} no error`);
        } catch (e) {
          if (e.errno === undefined) throw e;
          out(`${what} errno=${e.errno}`);
          if (e.errno !== 1062) process.stderr.write(`${what}: ${e.message}\n`);
        }
      }
    },
    async after_error() {
      const a = (await c.q('SELECT COUNT(*) FROM person WHERE name = ?', [NAMES[0]]))[0][0];
      const dup = (await c.q('SELECT COUNT(*) FROM person WHERE name = ?', [`p${tag}dup`]))[0][0];
      out(`after_error a=${norm(a)} dup=${norm(dup)}`);
    },
  };
  for (const [name, step] of Object.entries(steps)) {
    try {
      await step();
    } catch (e) {
      if (e.errno === undefined) throw e;
      out(`${name} ERROR ${e.errno}`);
      process.stderr.write(`${name}: ${e.message}\n`);
    }
  }
  await c.end();
  out('done');
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
