// A progress bar on stderr when it is a terminal; silent otherwise (pipes, CI, --json, --quiet).
export class Progress {
  private readonly enabled: boolean;
  private last = 0;
  private readonly started = Date.now();

  constructor(private readonly label: string, enabled = true) {
    this.enabled = enabled && process.stderr.isTTY === true;
  }

  update(done: number, total: number, unit = 'blocks'): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 28;
    const filled = Math.round(frac * width);
    const eta = rate > 0 && total > done ? `ETA ${formatSeconds((total - done) / rate)}` : '';
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1)}% ${done}/${total} ${unit} ${Math.round(rate)} ${unit}/s ${eta}`;
    process.stderr.write(`\r${line.padEnd(110)}`);
  }

  done(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round(s - m * 60)}s`;
}
