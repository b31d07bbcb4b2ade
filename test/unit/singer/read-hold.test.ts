import assert from 'node:assert/strict';
import {
  FULL_PIPE_BYTES,
  FULL_SOCKET_LINES,
  HOLD_BELOW_BYTES,
  MAX_OFF_MS,
  OFF_MS,
  ReadHold,
  TRUST_MS,
  WINDOW_MS,
} from '../../../src/singer/read-hold';

/** Drives a ReadHold with a fake clock and running totals, as the relay hop does. */
class Driver {
  t = 0;
  bytes = 0;
  lines = 0;
  readonly hold: ReadHold;
  constructor(pipe = true) {
    this.hold = new ReadHold({ pipe, now: () => this.t });
  }
  /** One read of `size` bytes holding `lines` lines, `dt` ms after the previous one; true if it held. */
  read(size: number, dt = 0, lines = 1): boolean {
    this.t += dt;
    this.bytes += size;
    this.lines += lines;
    const held = this.hold.afterRead(size, this.bytes, this.lines);
    if (held) {
      // The hold timer fires 1 ms later.
      this.t += 1;
      this.hold.release();
    }
    return held;
  }
  /** A hold cycle: after the hold one read of `pile` bytes, then two small reads (the second one decides). */
  cycle(pile: number, cycleMs: number, pileLines = 1): boolean {
    this.read(pile, 0, pileLines);
    this.read(230, cycleMs / 2);
    return this.read(230, cycleMs / 2);
  }
}

describe('singer/read-hold', () => {
  it('holds after two small reads in a row, never after a large one', () => {
    const d = new Driver();
    assert.equal(d.read(230), false);
    assert.equal(d.read(230), true);
    assert.equal(d.read(HOLD_BELOW_BYTES), false);
    assert.equal(d.read(230), false);
    assert.equal(d.read(230), true);
  });

  it('does not hold again while a hold is running', () => {
    const d = new Driver();
    d.read(230);
    assert.equal(d.hold.afterRead(230, 460, 2), true);
    assert.equal(d.hold.afterRead(230, 690, 3), false);
    d.hold.release();
    assert.equal(d.hold.afterRead(230, 920, 4), true);
  });

  it('keeps holding a producer whose pile never fills the pipe', () => {
    const d = new Driver();
    d.read(230);
    for (let i = 0; i < 500; i++) assert.equal(d.cycle(20_000, 0.5), true, `cycle ${i}`);
    assert.deepEqual(d.hold.stats, { holds: 500, probes: 0, offs: 0 });
  });

  it('probes a producer that fills the pipe and switches holds off, doubling, while it is faster unheld', () => {
    const d = new Driver();
    d.read(230);
    d.read(230);
    // Held: a full pipe every ~1.1 ms (~60 KB/ms), for WINDOW_MS.
    while (d.t < WINDOW_MS) assert.equal(d.cycle(FULL_PIPE_BYTES, 0.1), true);
    assert.equal(d.cycle(FULL_PIPE_BYTES, 0.1), false, 'a full pipe after the window starts a probe');
    assert.equal(d.hold.stats.probes, 1);
    // Unheld it writes 3x as fast: per ms two small reads and one of 180 KB.
    const probeStart = d.t;
    while (d.t - probeStart < WINDOW_MS) {
      d.read(200, 0.5);
      assert.equal(d.read(200, 0.5), false);
      d.read(180_000);
    }
    d.read(200);
    assert.equal(d.read(200), false);
    assert.equal(d.hold.stats.offs, 1);
    const offAt = d.t;
    while (d.t - offAt < OFF_MS - 1) assert.equal(d.read(200, 0.5), false, 'no holds while off');
    // Off ends: holds resume, and the next probe (same result) switches them off for twice as long.
    d.t = offAt + OFF_MS;
    assert.equal(d.read(200), true);
    while (d.t - offAt < OFF_MS + WINDOW_MS + 1) d.cycle(FULL_PIPE_BYTES, 0.1);
    assert.equal(d.hold.stats.probes, 2);
    const probe2 = d.t;
    while (d.t - probe2 < WINDOW_MS) {
      d.read(200, 0.5);
      d.read(200, 0.5);
      d.read(180_000);
    }
    d.read(200);
    d.read(200);
    assert.equal(d.hold.stats.offs, 2);
    const off2 = d.t;
    d.t = off2 + 2 * OFF_MS - 1;
    assert.equal(d.read(200), false, 'the second off lasts twice as long');
    d.t = off2 + 2 * OFF_MS;
    assert.equal(d.read(200), true);
    assert.ok(2 ** 4 * OFF_MS === MAX_OFF_MS, 'the off time doubles up to MAX_OFF_MS');
  });

  it('trusts holds for TRUST_MS when the probe finds the producer no faster unheld', () => {
    const d = new Driver();
    d.read(230);
    d.read(230);
    while (d.t < WINDOW_MS) d.cycle(FULL_PIPE_BYTES, 0.1);
    assert.equal(d.cycle(FULL_PIPE_BYTES, 0.1), false);
    // Unheld it writes at the same ~55 KB/ms, in single messages.
    const probeStart = d.t;
    const step = 230 / 55_000;
    while (d.t + step - probeStart < WINDOW_MS) assert.equal(d.read(230, step), false);
    assert.equal(d.read(230, 0.01), true, 'the probe ends and holds resume');
    const trusted = d.t;
    while (d.t - trusted < TRUST_MS - 2) assert.equal(d.cycle(FULL_PIPE_BYTES, 0.1), true, 'full pipes are trusted');
    assert.equal(d.hold.stats.offs, 0);
    d.t = trusted + TRUST_MS;
    d.cycle(FULL_PIPE_BYTES, 0.1);
    assert.equal(d.cycle(FULL_PIPE_BYTES, 0.1), false, 'after TRUST_MS a full pipe probes again');
    assert.equal(d.hold.stats.probes, 2);
  });

  it('judges a socketpair by the messages piled up, not the bytes', () => {
    const d = new Driver(false);
    d.read(230);
    d.read(230);
    while (d.t < WINDOW_MS) assert.equal(d.cycle(FULL_SOCKET_LINES * 100, 0.1, FULL_SOCKET_LINES - 3), true);
    // Few bytes but many messages: the socket was full.
    assert.equal(d.cycle(FULL_SOCKET_LINES * 100, 0.1, FULL_SOCKET_LINES), false);
    assert.equal(d.hold.stats.probes, 1);
  });

  it('forgets a hold that was cancelled', () => {
    const d = new Driver();
    d.read(230);
    d.read(230);
    while (d.t < WINDOW_MS + 1) assert.equal(d.cycle(20_000, 0.1), true);
    d.read(20_000);
    d.read(230);
    d.bytes += 230;
    assert.equal(d.hold.afterRead(230, d.bytes, d.lines), true);
    d.hold.cancel();
    assert.equal(d.cycle(FULL_PIPE_BYTES, 0.1), true, 'no probe: the cancelled hold is not judged');
    assert.equal(d.hold.stats.probes, 0);
  });
});
