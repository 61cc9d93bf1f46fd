// Minimal QMP client (QEMU Machine Protocol) over a unix socket, for QEMU and
// qemu-storage-daemon monitors.
import * as net from 'node:net';

export class Qmp {
  constructor(socket) {
    this.socket = socket;
    this.buf = '';
    this.pending = [];
    this.events = [];
    this.closed = false;
    socket.setEncoding('utf8');
    socket.on('data', (d) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
      for (const p of this.pending.splice(0)) p.reject(new Error('QMP connection closed'));
    });
    socket.on('error', () => undefined);
  }

  /** Connects, reads the greeting and negotiates capabilities. */
  static async connect(path, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    let lastErr;
    while (Date.now() < deadline) {
      try {
        const sock = await new Promise((resolve, reject) => {
          const s = net.createConnection(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const qmp = new Qmp(sock);
        await qmp.greeting();
        await qmp.execute('qmp_capabilities');
        return qmp;
      } catch (e) {
        lastErr = e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`cannot connect to QMP at ${path}: ${lastErr?.message ?? 'timeout'}`);
  }

  greeting() {
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject, greeting: true }));
  }

  onData(d) {
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.event) {
        this.events.push(msg);
        continue;
      }
      const p = this.pending.shift();
      if (!p) continue;
      if (p.greeting) p.resolve(msg);
      else if (msg.error) p.reject(new Error(`${msg.error.class}: ${msg.error.desc}`));
      else p.resolve(msg.return);
    }
  }

  /** Runs one command and resolves with its `return` value. */
  execute(command, args) {
    if (this.closed) return Promise.reject(new Error('QMP connection closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    });
  }

  close() {
    this.socket.destroy();
  }
}

/** Connects, runs one command, closes. */
export async function qmpOnce(path, command, args, timeoutMs = 10_000) {
  const q = await Qmp.connect(path, timeoutMs);
  try {
    return await q.execute(command, args);
  } finally {
    q.close();
  }
}
