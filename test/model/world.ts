/**
 * The model and the real serve side by side: each step acts on the real one (a push, a restart, a
 * fault), says what the model acknowledges, then scrapes and holds every served value to the
 * model ({@link World.check}). Where a fault leaves the truth open — a SIGKILL loses what was not
 * yet written, and a periodic write may have come in between — the model keeps every state the
 * file could hold and the scrape says which one it was; nothing else is ever adopted.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  applyPush,
  cloneState,
  expireDormant,
  expireSource,
  sourceKey,
  fileSeries,
  restoreDormant,
  refusal,
  isCounterSeries,
  served,
  KEYS,
  type Key,
  type ModelState,
  type Point,
  type Temporality,
} from './model.ts';
import { REFUSAL_REASONS } from '../../src/ingest/ingest-report.ts';
import { CHECKPOINT_INTERVAL_MILLIS } from '../../src/ingest/state-keeper.ts';
import { startPrometheusCollector, type CollectorHandle } from '../support/collector.ts';
import {
  ANSWER_CODES,
  EXPIRY_MS,
  PUSH_INTERVAL_MS,
  scrapeModelSeries,
  Sender,
  Serve,
  TRANSPORTS,
  type Transport,
} from './system.ts';

/** A sender that pushed less recently than this pushes again before the next step (keep-alive). */
const KEEPALIVE_MS = 2000;
/**
 * Expiry is certain this long past `expiry_ms` of silence as the test measures it, and certain not
 * to have happened this long before: serve's idle clock starts when it received the point (before
 * the test's answer arrived) and, after a restart, from the restored file's last point.
 */
const EXPIRY_LATE_MS = 3000;
const EXPIRY_EARLY_MS = 1000;

export const TOKENS = ['token-A', 'token-B'] as const;
/** Past the ingest's `max_connections` (256 by default). */
const FLOOD_CONNECTIONS = 300;

/** Telemetry series whose every change the model predicts: reason → count since serve started. */
type Told = Map<string, number>;

/**
 * The histogram points a run took from a sender that changed its temporality, counted as each
 * kind of step is (`World.counts`): the seeds must reach both.
 */
export const TEMPORALITY_CHANGES = [
  'histogram delta to cumulative',
  'histogram cumulative to delta',
] as const;

export class World {
  state: ModelState = new Map();
  /** The states the state file may hold, oldest first: every state since the last one known written. */
  private written: ModelState[] = [new Map()];
  /** While the disk refuses writes: the last state written, which is what is served. */
  private frozen: ModelState | undefined;
  /** The order of the last push `frozen` holds. */
  private frozenAt = 0;
  /** After a SIGKILL, the states serve may have restored (resolved by the next scrape). */
  private candidates: ModelState[] | undefined;
  private order = 0;
  token: string = TOKENS[0];
  clockOffset = 0;
  readonly senders: Sender[];
  private readonly lastPush = new Map<Sender, number>();
  /**
   * When each source series' last point was acknowledged (performance.now()), by resource and
   * source key: its idle time starts there. Expiry is per source series (instrument × attributes of
   * one resource): a push may carry some of a sender's series only (the soak's seeds 8013, 10026).
   */
  private readonly lastAccepted = new Map<string, Map<string, number>>();
  /** When each push (by its order) was acknowledged: what a state file knows of its sources' silence. */
  private readonly pushedAt: number[] = [];
  /** The last restart of serve: between these serve restored its file (dormant sources expire expiry_ms on). */
  private restarted: { killedAt: number; startedAt: number; order: number } | undefined;
  private readonly silent = new Set<Sender>();
  private readonly levels = new Map<Sender, number>();
  private told: Told = new Map();
  /** What was done, step by step: a failing run prints it. */
  readonly log: string[] = [];
  /** While a step that leaves its scrape out runs: it scrapes nothing (no naming pass), the restart's neither. */
  unscraped = false;
  /** How often each kind of step ran. */
  readonly counts = new Map<string, number>();

  readonly serve: Serve;
  /** Whether the pull endpoint serves the self-metric `jobmeter.ingest.refused`: a legacy profile does not. */
  private readonly servesRefused: boolean;
  /**
   * Each sender exports under a scope of its own, served without scope labels: a series of the
   * model is one store series per sender, merged by the naming (its carry, series/carry.ts) rather
   * than by the store. Its level is then merged by its naming rule, which the model does not hold:
   * such a world holds counters and histograms only, and keeps one bucket layout.
   */
  private readonly scopePerSender: boolean;

  private constructor(
    serve: Serve,
    transports: readonly Transport[],
    temporalities: readonly Temporality[],
    profile = 'otel',
    scopePerSender = false,
  ) {
    this.serve = serve;
    this.senders = transports.map(
      (transport, i) =>
        new Sender(i, transport, temporalities[i], scopePerSender ? `model-${i}` : 'model'),
    );
    this.servesRefused = profile === 'otel' || profile === 'semconv';
    this.scopePerSender = scopePerSender;
  }

  /**
   * A world of one sender per transport in `transports` (how each exports until a reconfigured
   * restart switches it; two over HTTP by default) and one serve under `profile`; with `push`, serve
   * pushes to a real Collector under that naming, and every step also holds the Collector's series
   * to the model; with `scopes: 'per-sender'`, each sender exports under a scope of its own, served
   * without scope labels ({@link scopePerSender}).
   */
  static async create(
    options: {
      profile?: string;
      push?: 'profile' | 'canonical';
      scopes?: 'per-sender';
      transports?: readonly Transport[];
      temporalities?: readonly Temporality[];
    } = {},
  ): Promise<World> {
    // A Collector as an operator runs one behind serve.
    const collector =
      options.push === undefined
        ? undefined
        : await startPrometheusCollector({ metric_expiration: '60m' });
    try {
      const serve = await Serve.create({
        token: TOKENS[0],
        ...(options.profile === undefined ? {} : { profile: options.profile }),
        ...(options.scopes === 'per-sender' && { scopeLabels: false as const }),
        ...(collector === undefined
          ? {}
          : { push: { port: collector.ports.otlp, naming: options.push! } }),
      });
      const world = new World(
        serve,
        options.transports ?? ['http', 'http'],
        options.temporalities ?? [],
        options.profile,
        options.scopes === 'per-sender',
      );
      world.collector = collector;
      return world;
    } catch (err) {
      await collector?.stop();
      throw err;
    }
  }

  private collector: CollectorHandle<'otlp' | 'prom'> | undefined;
  private lastPushed = new Map<string, number>();

  async dispose(): Promise<void> {
    await this.serve.stop();
    await this.collector?.stop();
  }

  get diskFailing(): boolean {
    return this.frozen !== undefined;
  }

  /** Whether points sent now at the real time are outside serve's window (its clock stepped). */
  private clockRefuses(): string | undefined {
    if (this.clockOffset < -600) return 'time_ahead';
    if (this.clockOffset > 3600) return 'time_too_old';
    return undefined;
  }

  private count(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  private tell(key: string, n = 1): void {
    this.told.set(key, (this.told.get(key) ?? 0) + n);
  }

  /** The states the model may be in: `state`, or the candidates no scrape has told apart yet. */
  private possible(): ModelState[] {
    return this.candidates ?? [this.state];
  }

  /** `states`, each once: several left, the candidates (`state` the first), else that one. */
  private narrowTo(states: readonly ModelState[]): void {
    const seen = new Map(states.map((s) => [JSON.stringify([...s]), s]));
    const distinct = [...seen.values()];
    this.state = distinct[0]!;
    this.candidates = distinct.length > 1 ? distinct : undefined;
  }

  /** Every state the model may be in takes the push. */
  private acknowledge(resource: string, points: readonly Point[]): void {
    const order = ++this.order;
    const at = (this.pushedAt[order] = performance.now());
    let byKey = this.lastAccepted.get(resource);
    if (byKey === undefined) this.lastAccepted.set(resource, (byKey = new Map()));
    for (const point of points) {
      const id = sourceKey(resource, point.instrument.name, point.key);
      byKey.set(id, at);
      const was = this.state.get(id);
      if (
        point.buckets !== undefined &&
        was?.expired === false &&
        was.temporality !== point.temporality &&
        refusal(this.state, resource, point) === undefined
      )
        this.count(`histogram ${was.temporality} to ${point.temporality}`);
    }
    for (const s of this.possible()) applyPush(s, resource, points, order);
    if (!this.diskFailing) this.written.push(...this.possible().map(cloneState));
  }

  /** Sends `body` as `sender`; the answer must be what the model says of it. */
  private async send(
    sender: Sender,
    body: string,
    points: readonly Point[],
    expect: 'accepted' | 'delta_repeat' | 'delta_overlap' = 'accepted',
  ): Promise<void> {
    const answer = await this.serve.push(body, this.token, sender.transport);
    this.lastPush.set(sender, performance.now());
    this.count(`over ${sender.transport}`);
    assert.equal(
      answer.code,
      ANSWER_CODES[sender.transport].accepted,
      `push of ${sender.resource} over ${sender.transport}: ${answer.code}`,
    );
    const clock = this.clockRefuses();
    // A window refused for its time was never counted: sending it again is no repeat.
    if (clock !== undefined) sender.lastDelta = undefined;
    const everyPoint = clock ?? (expect === 'accepted' ? undefined : expect);
    if (everyPoint !== undefined) {
      assert.equal(answer.rejected, points.length, `${everyPoint}: every point refused`);
      this.tell(`refused{reason="${everyPoint}"}`, points.length);
      return;
    }
    // Which points serve refuses may hang on whether a source at the edge of its expiry is gone:
    // the answer says which.
    const options = this.possible()
      .flatMap((s) => this.expiryVariants(s))
      .map((state) => ({
        state,
        refused: points.flatMap((p) => refusal(state, sender.resource, p) ?? []),
      }));
    const taken = options.find((o) => o.refused.length === answer.rejected);
    assert.ok(
      taken !== undefined,
      `push of ${sender.resource}: ${answer.rejected} points refused, the model refuses ${options.map((o) => o.refused.length).join(' or ')} (${[...new Set(options.flatMap((o) => o.refused))].join(', ')})`,
    );
    const reasons = (o: { refused: string[] }): string => o.refused.toSorted().join();
    this.narrowTo(options.filter((o) => reasons(o) === reasons(taken)).map((o) => o.state));
    for (const reason of taken.refused) this.tell(`refused{reason="${reason}"}`);
    this.tell('accepted', points.length - taken.refused.length);
    this.acknowledge(sender.resource, points);
  }

  async push(slot: number, keys: readonly Key[], add: number, level: number): Promise<void> {
    const sender = this.senders[slot]!;
    this.silent.delete(sender);
    this.levels.set(sender, level);
    const { body, points } = await sender.export(keys, add, level);
    await this.send(sender, body, points);
  }

  /** The sender's exporter sends its last delta export again (a retry after a lost answer). */
  async retryDelta(slot: number): Promise<void> {
    const sender = this.senders[slot]!;
    const last = sender.lastDelta;
    if (last === undefined || this.silent.has(sender)) return;
    // Counted once already in every state the file may hold: a repeat. (A window that was refused,
    // or lost with a SIGKILL, is not; the step that made it so clears lastDelta.)
    await this.send(sender, last.body, last.points, 'delta_repeat');
  }

  /**
   * The sender skips a span, then sends a late window across part of it and part of the window
   * after it: the first is counted, the second refused whole (`delta_overlap`).
   */
  async overlapDelta(slot: number, keys: readonly Key[], add: number): Promise<void> {
    const sender = this.senders[slot]!;
    this.silent.delete(sender);
    const [first, overlap] = await sender.overlapping(keys, add);
    await this.send(sender, first!.body, first!.points);
    await this.send(sender, overlap!.body, overlap!.points, 'delta_overlap');
    sender.lastDelta = undefined;
  }

  async lateDeltas(
    slot: number,
    keys: readonly Key[],
    first: number,
    second: number,
  ): Promise<void> {
    const sender = this.senders[slot]!;
    this.silent.delete(sender);
    for (const { body, points } of await sender.lateDeltas(keys, first, second))
      await this.send(sender, body, points);
    sender.lastDelta = undefined;
  }

  restartSender(
    slot: number,
    newInstanceId: boolean,
    reconfigured = false,
    relayout = reconfigured,
  ): void {
    const sender = this.senders[slot]!;
    // Under a scope per sender no sender changes its layout: two scopes' histograms of other
    // layouts are merged by the naming's re-bucketing, which the model does not hold (it refuses
    // the second layout in one series, bounds_conflict, as the store does).
    sender.restart(newInstanceId, reconfigured, relayout && !this.scopePerSender);
    sender.lastDelta = undefined;
    // The old instance is silent from now on; the model expires it when it would expire.
    if (newInstanceId) this.lastPush.delete(sender);
  }

  /** serve stops by `signal`, and starts again `downMs` later (the senders wait meanwhile). */
  async restartServe(signal: 'SIGTERM' | 'SIGKILL', downMs = 0): Promise<void> {
    let killedAt = performance.now();
    const code = await this.serve.restart(signal, async () => {
      if (signal === 'SIGTERM' && !this.diskFailing) await this.checkShutdownPush();
      await sleep(downMs);
      killedAt = performance.now();
    });
    this.restarted = { killedAt, startedAt: performance.now(), order: this.order };
    // Idle time is each resource's silence, the time serve was down included: its last accepted
    // point stays where it was (serve counts the downtime on the boot's monotonic clock).
    // With the disk failing, the last write fails, and serve exits 1 saying so, when there is
    // something to write: nothing since the file was written or read (no point, no expiry), no
    // write, and exit 0 (the soak's seed 5026: whether a dormant source expired first is timing).
    if (signal === 'SIGTERM')
      assert.equal(
        code,
        this.diskFailing &&
          /shutdown failed: ingest state \S+ at shutdown: not written/.test(
            this.serve.stoppedStderr,
          )
          ? 1
          : 0,
        `serve's exit code on SIGTERM: ${this.serve.stoppedStderr.split('\n').slice(-3).join(' / ')}`,
      );
    this.told = new Map();
    // What the restart restores: the last state written. After SIGTERM with a working disk that is
    // everything; else any state since the last one known written. With the disk failing that is
    // the file as it was when writes stopped, not what is served (`frozen`): a series forgotten
    // since (every source expired) is in the file still, and comes back dormant (the soak's 6050).
    const restored = (
      signal === 'SIGTERM' && !this.diskFailing ? this.possible() : this.written
    ).flatMap((s) =>
      this.dormancyVariants(
        s,
        (t) => killedAt - t >= EXPIRY_MS,
        (t) => this.restarted!.startedAt - t > EXPIRY_MS - EXPIRY_EARLY_MS,
      ),
    );
    // States the scrape cannot tell apart (a write the kill may have lost, of a source now dormant
    // and unserved either way) the start-up line can: how many source series, how many dormant.
    const told = this.serve.restored();
    const fit = restored.filter(
      (s) =>
        told !== undefined &&
        [...s.values()].filter((x) => !x.expired).length === told.streams &&
        [...s.values()].filter((x) => x.dormant === true).length === told.dormant,
    );
    if (fit.length > 0 && fit.length < restored.length) restored.splice(0, Infinity, ...fit);
    // With the disk still failing, what is served is the file as written, its values as they were
    // (the states written differ only where no scrape told them apart), for the series held now
    // (the soak's seed 7062).
    if (this.diskFailing) this.frozen = cloneState(this.written[0]!);
    this.narrowTo(restored);
    // A failing disk is not written at the restart either: the file stays as the last write left
    // it, for the next restart (the soak's seed 8012).
    if (!this.diskFailing) this.written = this.possible().map(cloneState);
    for (const s of this.senders) s.lastDelta = undefined;
    // Which state the file held is read off the first scrape, before any sender pushes again
    // (unless the step leaves it out: the states stay candidates until a later answer or scrape).
    if (this.candidates !== undefined && !this.unscraped) await this.check();
  }

  /**
   * `state` as the last restart left it: a restored source its sender has not pushed to since, whose
   * last push as the file knows it was `expiry_ms` before now (`certain`, or `maybe`: at the edge),
   * is dormant. Serve restores at an instant between the kill and its start and sweeps at its own,
   * so the sources pushed before a cutoff among those at the edge: the scrape says which.
   */
  private dormancyVariants(
    state: ModelState,
    certain: (pushedAt: number) => boolean,
    maybe: (pushedAt: number) => boolean,
  ): ModelState[] {
    const restart = this.restarted!;
    const pushed = (s: { written: number }): number =>
      s.written > restart.order ? Infinity : (this.pushedAt[s.written] ?? -Infinity);
    const edge = [...new Set([...state.values()].map(pushed))].filter(
      (t) => t !== Infinity && !certain(t) && maybe(t),
    );
    return [-Infinity, ...edge].map((cutoff) => {
      const v = cloneState(state);
      restoreDormant(
        v,
        (s) => pushed(s) !== Infinity && (certain(pushed(s)) || pushed(s) <= cutoff),
      );
      return v;
    });
  }

  /** The state disk goes read-only or fills up; serve keeps serving what it last wrote. */
  async failDisk(how: 'read-only' | 'full' = 'read-only'): Promise<void> {
    if (this.diskFailing) return;
    await this.check(); // the scrape writes the state first: the file holds the model's state
    this.serve.failDisk(how);
    this.frozen = cloneState(this.state);
    this.frozenAt = this.order;
  }

  healDisk(): Promise<void> {
    if (!this.diskFailing) return Promise.resolve();
    this.serve.healDisk();
    this.frozen = undefined;
    this.written = this.possible().map(cloneState);
    return Promise.resolve();
  }

  stepClock(seconds: number): Promise<void> {
    this.clockOffset = seconds;
    this.serve.stepClock(seconds);
    return Promise.resolve();
  }

  /**
   * The token rotates (SIGHUP or POST /-/reload): the new one is in force at once, the old one
   * refused, and the re-read's line says whether anything changed.
   */
  async rotateToken(token: string, via: 'SIGHUP' | 'endpoint' = 'SIGHUP'): Promise<void> {
    const changed = token !== this.token;
    const line = await this.serve.reload(token, via);
    this.token = token;
    assert.equal(
      /unchanged/.test(line),
      !changed,
      `the re-read line after ${changed ? 'a token change' : 'no change'}: ${line}`,
    );
  }

  /** A push with a token not in force: refused unauthorized (401, UNAUTHENTICATED), nothing counted. */
  async staleToken(slot: number): Promise<void> {
    const stale = TOKENS.find((t) => t !== this.token)!;
    const sender = this.senders[slot]!;
    const { body } = await sender.export([], 0, this.levels.get(sender) ?? 0);
    const answer = await this.serve.push(body, stale, sender.transport);
    const { unauthorized } = ANSWER_CODES[sender.transport];
    assert.equal(
      answer.code,
      unauthorized,
      `a push over ${sender.transport} with the token not in force: ${answer.code}`,
    );
    this.tell(`requests{code="${unauthorized}",protocol="${sender.transport}"}`);
  }

  /**
   * A slow-body flood of more connections than the ingest admits, from one address or from many:
   * every sender's export and every scrape still goes through (a sender may retry a connection the
   * listener closed, as an SDK's exporter does, twice at most).
   */
  async flood(addresses: 'one' | 'many'): Promise<void> {
    const stop = await this.serve.flood(
      FLOOD_CONNECTIONS,
      addresses === 'one' ? 0 : FLOOD_CONNECTIONS,
      this.token,
    );
    try {
      for (const [slot, sender] of this.senders.entries()) {
        if (this.silent.has(sender)) continue;
        await this.push(slot, KEYS, 1, this.levels.get(sender) ?? 0);
      }
      await this.check();
    } finally {
      await stop();
    }
  }

  /**
   * A sender goes silent until its series must have expired; the others keep pushing. With `ms`,
   * silent from now until its next push, the step going on `ms` (its series expire later, or are
   * restored dormant by a restart down past the expiry).
   */
  async silence(slot: number, ms?: number): Promise<void> {
    const sender = this.senders[slot]!;
    this.silent.add(sender);
    if (ms !== undefined) return this.wait(ms);
    const since = Math.max(
      ...(this.lastAccepted.get(sender.resource)?.values() ?? [performance.now()]),
    );
    while (performance.now() - since < EXPIRY_MS + EXPIRY_LATE_MS + 500) {
      await this.keepAlive();
      await sleep(500);
    }
  }

  /** `ms` pass; the senders not silenced keep pushing. */
  async wait(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      await this.keepAlive();
      await sleep(Math.min(500, Math.max(0, until - performance.now())));
    }
  }

  /**
   * Until serve writes its state file by its own interval (CHECKPOINT_INTERVAL_MILLIS), with no
   * scrape: at most a little past the interval (nothing changed since the last write: no write).
   * The senders not silenced keep pushing meanwhile.
   */
  async checkpoint(): Promise<void> {
    const was = this.serve.stateWritten();
    const until = performance.now() + CHECKPOINT_INTERVAL_MILLIS + 1000;
    while (performance.now() < until && this.serve.stateWritten() === was) {
      await this.keepAlive();
      await sleep(100);
    }
  }

  /** Senders not silenced push their current totals again when they were quiet a while. */
  async keepAlive(): Promise<void> {
    for (const sender of this.senders) {
      if (this.silent.has(sender)) continue;
      const last = this.lastPush.get(sender);
      if (last !== undefined && performance.now() - last < KEEPALIVE_MS) continue;
      if (last === undefined && !this.everPushed(sender)) continue;
      const { body, points } = await sender.export(KEYS, 0, this.levels.get(sender) ?? 0);
      await this.send(sender, body, points);
    }
  }

  private everPushed(sender: Sender): boolean {
    for (const k of this.state.keys()) if (k.startsWith(`${sender.resource}|`)) return true;
    return false;
  }

  /**
   * The state as expiry leaves it now: resources silent past `expiry_ms` expired; one at the edge
   * (see EXPIRY_LATE_MS) either way, so the scrape tells which.
   */
  private expiryVariants(state: ModelState): ModelState[] {
    const now = performance.now();
    // Restored sources silent since the restart as far as the file knows go dormant, not expired.
    let variants =
      this.restarted === undefined
        ? [cloneState(state)]
        : this.dormancyVariants(
            state,
            (t) => now - t > EXPIRY_MS + EXPIRY_LATE_MS,
            (t) => now - t > EXPIRY_MS - EXPIRY_EARLY_MS,
          );
    // Serve expires, at each sweep, every source silent past `expiry_ms` then: those silent longest
    // first. So of the sources at the edge, some prefix by their last point has expired.
    const sources = [...this.lastAccepted.values()].flatMap((byKey) => [...byKey]);
    for (const [id, at] of sources)
      if (now - at > EXPIRY_MS + EXPIRY_LATE_MS) for (const v of variants) expireSource(v, id);
    const edge = [
      ...new Set(
        sources
          .map(([, at]) => at)
          .filter(
            (at) =>
              now - at <= EXPIRY_MS + EXPIRY_LATE_MS && now - at > EXPIRY_MS - EXPIRY_EARLY_MS,
          ),
      ),
    ].sort((a, b) => a - b);
    variants = variants.flatMap((v) => [
      v,
      ...edge.map((cutoff) => {
        const gone = cloneState(v);
        for (const [id, at] of sources)
          if (edge.includes(at) && at <= cutoff) expireSource(gone, id);
        return gone;
      }),
    ]);
    // Dormant sources expire `expiry_ms` after serve restored them, unless their senders pushed.
    const restart = this.restarted;
    if (restart !== undefined && variants.some((v) => [...v.values()].some((s) => s.dormant)))
      if (now - restart.startedAt > EXPIRY_MS + EXPIRY_LATE_MS) variants.forEach(expireDormant);
      else if (now - restart.killedAt > EXPIRY_MS - EXPIRY_EARLY_MS)
        variants = variants.flatMap((v) => {
          const gone = cloneState(v);
          expireDormant(gone);
          return [v, gone];
        });
    return variants;
  }

  /** What the model says is served now. */
  private expected(state: ModelState): Map<string, number> {
    const live = this.held(served(state));
    if (this.frozen === undefined) return live;
    const frozen = fileSeries(this.frozen, state, this.frozenAt);
    // Series by series, as written: a histogram the file holds in another bucket layout than the
    // live one is served in the file's, whole (the soak's seed 9035).
    const seriesOf = (label: string): string =>
      label.replace(/_(?:bucket|sum|count)\{/, '{').replace(/,le="[^"]*"/, '');
    const held = new Set([...live.keys()].map(seriesOf));
    const out = new Map<string, number>();
    for (const [label, value] of this.held(served(frozen)))
      if (held.has(seriesOf(label))) out.set(label, value);
    return out;
  }

  /** The series of `series` this world holds to the model: all but a level merged across scopes. */
  private held(series: Map<string, number>): Map<string, number> {
    if (!this.scopePerSender) return series;
    return new Map([...series].filter(([label]) => isCounterSeries(label)));
  }

  /** Scrapes serve and holds every ingested series, and the telemetry's counts, to the model. */
  async check(): Promise<void> {
    const { series: scraped, refused } = await this.serve.scrape();
    const got = this.held(scraped);
    const options = this.possible().flatMap((s) => this.expiryVariants(s));
    // The states the scrape cannot tell apart (a source dormant or gone, unserved either way) stay
    // candidates until a later answer or scrape does.
    const matches = options.filter((c) => sameSeries(this.expected(c), got) === undefined);
    const match = matches[0];
    if (match === undefined) {
      const closest = options.at(-1)!;
      assert.fail(
        `served values differ from the model${options.length > 1 ? ` (${options.length} states possible: a SIGKILL's or an expiry's timing; the newest shown)` : ''}:\n${sameSeries(this.expected(closest), got)!}`,
      );
    }
    this.narrowTo(matches);
    if (!this.diskFailing) this.written = this.possible().map(cloneState);
    await this.checkTelemetry();
    this.checkRefused(refused);
    await this.checkReady();
    await this.checkCollector(this.expected(match));
  }

  /**
   * After serve's SIGTERM: the Collector holds its last push, which must carry what serve held:
   * the model's counters now (the step's keep-alive may have added to the last scrape's: a sender
   * whose points were refused until then, for their time, is taken now; the soak's seed 7010).
   */
  private async checkShutdownPush(): Promise<void> {
    if (this.collector === undefined) return;
    const got = await scrapeModelSeries(`http://127.0.0.1:${this.collector.ports.prom}/metrics`);
    const differences = this.possible().map((state) => {
      const lines: string[] = [];
      for (const [label, value] of this.expected(state))
        if (isCounterSeries(label) && got.get(label) !== value)
          lines.push(`${label}: held ${value}, pushed at shutdown ${got.get(label) ?? 'nothing'}`);
      return lines;
    });
    const closest = differences.at(-1)!;
    assert.ok(
      differences.some((lines) => lines.length === 0),
      `serve's last push at SIGTERM:\n${closest.join('\n')}`,
    );
  }
  private async checkCollector(want: Map<string, number>): Promise<void> {
    if (this.collector === undefined) return;
    const url = `http://127.0.0.1:${this.collector.ports.prom}/metrics`;
    const deadline = performance.now() + 20 * PUSH_INTERVAL_MS;
    let diff: string | undefined;
    let got: Map<string, number>;
    do {
      await sleep(PUSH_INTERVAL_MS);
      got = await scrapeModelSeries(url);
      const lines: string[] = [];
      for (const [label, value] of want)
        if (got.get(label) !== value)
          lines.push(
            `${label}: the Collector has ${got.get(label) ?? 'nothing'}, serve and the model ${value}`,
          );
      diff = lines.length === 0 ? undefined : lines.join('\n');
    } while (diff !== undefined && performance.now() < deadline);
    assert.equal(diff, undefined, `what serve pushed to the Collector:\n${diff}`);
    for (const [label, value] of got) {
      const before = this.lastPushed.get(label);
      if (isCounterSeries(label) && before !== undefined && (want.get(label) ?? -1) >= before)
        assert.ok(value >= before, `the Collector's ${label} went back from ${before} to ${value}`);
    }
    this.lastPushed = got;
  }

  /**
   * A serve whose clock refuses every point says so on /ready (503, naming it) until one is
   * accepted; while it accepts, /ready names no such reason. (Within the first five minutes after a
   * start: the tests never run longer without a restart that matters here.)
   */
  private async checkReady(): Promise<void> {
    const ready = await this.serve.ready();
    const refusing = (this.told.get('accepted') ?? 0) === 0 && this.refusedForTime() > 0;
    const said = /refusing every point for its time/.test(ready.body);
    assert.equal(
      said,
      refusing,
      `/ready (${ready.status}) ${refusing ? 'does not say' : 'says'} the clock refuses every point: ${ready.body}`,
    );
    if (refusing) assert.equal(ready.status, 503, `/ready: ${ready.body}`);
  }

  private refusedForTime(): number {
    return (
      (this.told.get('refused{reason="time_ahead"}') ?? 0) +
      (this.told.get('refused{reason="time_too_old"}') ?? 0)
    );
  }

  /**
   * The pull endpoint's `jobmeter_ingest_refused_total`, by reason: every point the model refused
   * since serve started, every reason served from the start (0 until its first refusal); one
   * count, whether or not the state file can be written (docs/collector.md). A legacy profile
   * serves none.
   */
  private checkRefused(served: Map<string, number>): void {
    const want = new Map<string, number>();
    if (this.servesRefused)
      for (const reason of REFUSAL_REASONS)
        want.set(reason, this.told.get(`refused{reason="${reason}"}`) ?? 0);
    assert.deepEqual(
      new Map([...served].sort()),
      new Map([...want].sort()),
      `jobmeter_ingest_refused_total on the pull endpoint${this.diskFailing ? ', while the state disk fails' : ''}, by reason`,
    );
  }

  private async checkTelemetry(): Promise<void> {
    const tele = await this.serve.telemetry();
    const read = (key: string): number =>
      key === 'accepted'
        ? (tele.get('jobmeter_ingest_accepted_points_total') ?? 0)
        : key.startsWith('refused')
          ? (tele.get(`jobmeter_ingest_refused_points_total${key.slice('refused'.length)}`) ?? 0)
          : (tele.get(
              `jobmeter_ingest_requests_total${key.slice('requests'.length, -1)},reason="unauthorized"}`,
            ) ?? 0);
    for (const key of [
      'accepted',
      ...TRANSPORTS.map((t) => `requests{code="${ANSWER_CODES[t].unauthorized}",protocol="${t}"}`),
      'refused{reason="delta_repeat"}',
      'refused{reason="delta_overlap"}',
      'refused{reason="time_ahead"}',
      'refused{reason="time_too_old"}',
      'refused{reason="bounds_conflict"}',
    ])
      assert.equal(read(key), this.told.get(key) ?? 0, `self-telemetry ${key}`);
  }
}

/** Undefined when both say the same series with the same values; else what differs. */
function sameSeries(want: Map<string, number>, got: Map<string, number>): string | undefined {
  const lines: string[] = [];
  for (const [label, value] of want)
    if (!got.has(label)) lines.push(`missing ${label} (model: ${value})`);
    else if (got.get(label) !== value)
      lines.push(`${label}: served ${got.get(label)}, model ${value}`);
  for (const [label, value] of got)
    if (!want.has(label)) lines.push(`served ${label} ${value}, not in the model`);
  return lines.length === 0 ? undefined : lines.join('\n');
}
