export type CheckState = 'pass' | 'fail' | 'skip';

export interface Check {
  name: string;
  state: CheckState;
  detail: string;
}

/** The pass/fail rules of a run, in the order they were checked. A run passes when none failed. */
export class Checks {
  readonly list: Check[] = [];

  add(name: string, ok: boolean, detail: string): boolean {
    this.list.push({ name, state: ok ? 'pass' : 'fail', detail });
    return ok;
  }

  skip(name: string, reason: string): void {
    this.list.push({ name, state: 'skip', detail: reason });
  }

  /** Runs a check that may throw (an engine that cannot answer fails the check, not the runner). */
  async run(name: string, fn: () => Promise<{ ok: boolean; detail: string } | { skip: string }>): Promise<void> {
    try {
      const r = await fn();
      if ('skip' in r) this.skip(name, r.skip);
      else this.add(name, r.ok, r.detail);
    } catch (err) {
      this.add(name, false, err instanceof Error ? err.message : String(err));
    }
  }

  get passed(): boolean {
    return this.list.every((c) => c.state !== 'fail');
  }
}

/**
 * Rules checked many times during the load (one per event, per order...): counts successes and keeps a
 * few failures, and becomes one Check at the end.
 */
export class RuleTally {
  private readonly rules = new Map<string, { ok: number; failed: number; samples: string[] }>();

  private entry(rule: string) {
    let e = this.rules.get(rule);
    if (!e) {
      e = { ok: 0, failed: 0, samples: [] };
      this.rules.set(rule, e);
    }
    return e;
  }

  /** Declares a rule up front, so it is reported even when nothing exercised it. */
  declare(rule: string): void {
    this.entry(rule);
  }

  check(rule: string, ok: boolean, detail: () => string): boolean {
    const e = this.entry(rule);
    if (ok) e.ok += 1;
    else {
      e.failed += 1;
      if (e.samples.length < 5) e.samples.push(detail());
    }
    return ok;
  }

  report(checks: Checks): void {
    for (const [rule, e] of this.rules) {
      if (e.ok + e.failed === 0) checks.skip(rule, 'not exercised in this run');
      else checks.add(rule, e.failed === 0, e.failed === 0 ? `${e.ok} checked` : `${e.failed} of ${e.ok + e.failed} failed: ${e.samples.join(' | ')}`);
    }
  }
}
