// Progress of a long command on stderr: a rewritten bar on a terminal; elsewhere (CI, nohup, a log
// file) one timestamped log line every LOG_EVERY_MS with %, rate, ETA and elapsed time. Silent
// when disabled (--quiet, --json).

/** Interval of the log lines off a terminal: 10 s, or SPORK_REPLAY_LOG_EVERY_MS. */
export function logEveryMs(): number {
  const v = Number(process.env.SPORK_REPLAY_LOG_EVERY_MS);
  return Number.isFinite(v) && v > 0 ? v : 10_000;
}

export class Progress {
  private readonly enabled: boolean;
  private readonly tty: boolean;
  private readonly every: number;
  private last = 0;
  private lastDone = 0;
  private lastTotal = 0;
  private lastUnit = 'blocks';
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    enabled = true,
  ) {
    this.tty = process.stderr.isTTY === true;
    this.enabled = enabled;
    this.every = this.tty ? 100 : logEveryMs();
  }

  update(done: number, total: number, unit = 'blocks'): void {
    if (!this.enabled) return;
    this.lastDone = done;
    this.lastTotal = total;
    this.lastUnit = unit;
    const now = Date.now();
    if (this.last === 0 && !this.tty) this.last = this.started;
    if (now - this.last < this.every) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const eta = rate > 0 && total > done ? `ETA ${formatSeconds((total - done) / rate)}` : '';
    const amounts = unit === 'bytes' ? `${formatAmount(done, unit)}/${formatAmount(total, unit)}` : `${formatCount(done)}/${formatCount(total)} ${unit}`;
    if (this.tty) {
      const width = 28;
      const filled = Math.round(frac * width);
      const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1)}% ${amounts} ${formatRate(rate, unit)} ${eta}`;
      process.stderr.write(`\r${line.padEnd(110)}`);
    } else {
      const line = `${this.label}: ${(frac * 100).toFixed(1)}% ${amounts}, ${formatRate(rate, unit)}, ${eta === '' ? 'ETA -' : eta}, elapsed ${formatSeconds(secs)}`;
      process.stderr.write(`${new Date(now).toISOString()} ${line}\n`);
    }
  }

  private finished = false;

  done(): void {
    if (!this.enabled || this.finished) return;
    this.finished = true;
    if (this.tty) {
      process.stderr.write('\n');
      return;
    }
    if (this.lastTotal === 0 && this.lastDone === 0) return;
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? this.lastDone / secs : 0;
    process.stderr.write(
      `${new Date().toISOString()} ${this.label}: done ${formatAmount(this.lastDone, this.lastUnit)} in ${formatSeconds(secs)} (${formatRate(rate, this.lastUnit)})\n`,
    );
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return `${m}m${Math.round(s - m * 60)}s`;
  }
  const h = Math.floor(s / 3600);
  return `${h}h${Math.round((s - h * 3600) / 60)}m`;
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1,234,567 bytes → "1.2 MB"; 12,345 blocks → "12.3k blocks". */
export function formatAmount(n: number, unit: string): string {
  if (unit === 'bytes') {
    let v = n;
    let i = 0;
    while (v >= 1000 && i < BYTE_UNITS.length - 1) {
      v /= 1000;
      i++;
    }
    return `${i === 0 ? v.toFixed(0) : v.toFixed(1)} ${BYTE_UNITS[i]}`;
  }
  return `${formatCount(n)} ${unit}`;
}

export function formatRate(perSecond: number, unit: string): string {
  return unit === 'bytes' ? `${formatAmount(perSecond, 'bytes')}/s` : `${formatCount(perSecond)} ${unit}/s`;
}

/** 950 → "950", 12,345 → "12.3k", 3,400,000 → "3.40M". */
export function formatCount(n: number): string {
  if (n < 1000) return `${Math.round(n)}`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 2 : 1)}k`;
  return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)}M`;
}
