// The explorer page: polls the JSON API and renders it with preact + htm (ES modules, no build step).
import { h, render } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import htm from "htm";

const html = htm.bind(h);
/** "1 event", "2 events" (the page loads no project module, so it keeps its own copy of common/plural.ts). */
const plural = (count, noun) => `${count} ${count === 1 ? noun : `${noun}s`}`;
const OVERVIEW_EVERY_MS = 2000;
const DEAD_LETTERS_EVERY_MS = 4000;
/** The explorer samples the fleet records once a second. */
const QUOTA_EVERY_MS = 1000;

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: options.body ? { "content-type": "application/json" } : {},
  });
  const body = await response.json();
  if (!response.ok) throw new Error([body.error, ...(body.problems ?? [])].filter(Boolean).join(" · "));
  return body;
}
const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body) });

function usePolling(load, everyMs, deps) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const refresh = useCallback(() => load().then((data) => setState({ data, error: undefined }), (error) => setState((s) => ({ ...s, error: error.message }))), deps);
  useEffect(() => {
    let stopped = false;
    let timer;
    const tick = async () => {
      await refresh();
      if (!stopped) timer = setTimeout(tick, everyMs);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [refresh]);
  return { ...state, refresh };
}

const fmt = (n, digits = 0) => (n === null || n === undefined ? "–" : Number(n).toFixed(digits));
const seconds = (s) => (s === null || s === undefined ? "–" : s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);
const ago = (iso) => (iso ? seconds((Date.now() - Date.parse(iso)) / 1000) + " ago" : "–");
const shortId = (id) => (id === null ? "never owned" : id === "" ? "released" : id.slice(0, 8));
const sum = (values) => values.reduce((a, b) => a + b, 0);

function bodyText(body) {
  return body.encoding === "json" ? JSON.stringify(body.data, null, 2) : String(body.data);
}

function Pipeline({ hub, workers }) {
  const group = hub.consumerGroups[0];
  const live = workers.filter((w) => !w.error);
  const perPartition = (field, id) => sum(live.map((w) => (w[field] ?? {})[id] ?? 0));
  const count = sum(live.map((w) => w.latency?.count ?? 0));
  const mean = count > 0 ? sum(live.map((w) => (w.latency?.meanSeconds ?? 0) * (w.latency?.count ?? 0))) / count : null;
  const p95 = Math.max(...live.map((w) => w.latency?.p95Seconds ?? 0));
  const rows = hub.partitions.map((p) => ({
    id: p.id,
    sent: p.isEmpty ? 0 : p.lastEnqueuedSequenceNumber + 1,
    processed: perPartition("processed", p.id),
    dead: perPartition("deadLettered", p.id),
    lag: group?.partitions.find((c) => c.id === p.id)?.lagEvents,
  }));
  return html`<section data-testid="pipeline">
    <h2>Live pipeline · ${hub.name}</h2>
    <p class="muted">${plural(live.length, "worker")} reporting · end-to-end latency mean ${seconds(mean)}, p95 ≤ ${count > 0 ? seconds(p95) : "–"} · ${plural(count, "event")} timed</p>
    <table>
      <thead><tr><th>partition</th><th class="num">sent</th><th class="num">processed</th><th class="num">dead-lettered</th><th class="num">lag (events)</th></tr></thead>
      <tbody>
        ${rows.map((r) => html`<tr key=${r.id}><td>${r.id}</td><td class="num">${r.sent}</td><td class="num">${r.processed}</td><td class="num">${r.dead}</td><td class="num">${fmt(r.lag)}</td></tr>`)}
        <tr data-testid="pipeline-total"><th>total</th><th class="num">${sum(rows.map((r) => r.sent))}</th><th class="num">${sum(rows.map((r) => r.processed))}</th><th class="num">${sum(rows.map((r) => r.dead))}</th><th class="num">${sum(rows.map((r) => r.lag ?? 0))}</th></tr>
      </tbody>
    </table>
  </section>`;
}

const percent = (ratio) => (ratio === null || ratio === undefined ? "–" : `${Math.round(ratio * 100)}%`);
const rate = (n) => (n === null || n === undefined ? "–" : n >= 10 ? n.toFixed(0) : n.toFixed(1));

/** A tidy upper bound for an axis, close above `value`: 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten. */
function niceCeil(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * power).find((bound) => bound >= value);
}

const CHART = { width: 560, height: 150, left: 36, right: 10, top: 10, bottom: 22 };

/** The chart's time span: the history the explorer has, from one minute up to all it keeps, in whole minutes. */
function chartSpanSeconds(deployments, now, historySeconds) {
  const oldest = Math.min(now, ...deployments.map((d) => d.history.at[0] ?? now));
  return Math.min(historySeconds, Math.max(60, Math.ceil((now - oldest) / 60_000) * 60));
}

/** Accepted, throttled and the quota per second over the span, drawn as SVG; a gap in the samples breaks the lines. */
function QuotaChart({ history, now, spanSeconds, sampleEverySeconds }) {
  const { width, height, left, right, top, bottom } = CHART;
  const start = now - spanSeconds * 1000;
  const peak = Math.max(1, ...history.accepted, ...history.throttled, ...history.quota.map((q) => q ?? 0));
  const yMax = niceCeil(peak * 1.1);
  const x = (at) => left + ((at - start) / (spanSeconds * 1000)) * (width - left - right);
  const y = (v) => top + (1 - v / yMax) * (height - top - bottom);
  const maxGapMs = 3 * sampleEverySeconds * 1000;
  /** Runs of consecutive samples with a value, as [x, y] points. */
  const runs = (values) => {
    const result = [];
    let run = [];
    history.at.forEach((at, i) => {
      const value = values[i];
      if (value === null || (i > 0 && at - history.at[i - 1] > maxGapMs)) {
        if (run.length > 0) result.push(run);
        run = [];
      }
      if (value !== null) run.push([x(at), y(value)]);
    });
    if (run.length > 0) result.push(run);
    return result;
  };
  const points = (run) => run.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join("L");
  const line = (values) => runs(values).map((run) => `M${points(run)}`).join("");
  const area = (values) => runs(values).map((run) => `M${run[0][0].toFixed(1)},${y(0)}L${points(run)}L${run.at(-1)[0].toFixed(1)},${y(0)}Z`).join("");
  const step = spanSeconds <= 60 ? 15 : 60;
  const ticks = Array.from({ length: spanSeconds / step + 1 }, (_, i) => i * step);
  const tickLabel = (ago) => (ago === 0 ? "now" : step < 60 ? `−${ago} s` : `−${ago / 60} min`);
  return html`<svg class="quota-chart" data-testid="quota-chart" viewBox=${`0 0 ${width} ${height}`} role="img" aria-label="accepted, throttled and the quota per second over the last minutes">
    ${[0, yMax / 2, yMax].map((v) => html`<g key=${v}><line class="grid" x1=${left} x2=${width - right} y1=${y(v)} y2=${y(v)} /><text class="axis" x=${left - 6} y=${y(v) + 4} text-anchor="end">${v}</text></g>`)}
    ${ticks.map((ago) => html`<text key=${ago} class="axis" x=${x(now - ago * 1000)} y=${height - 6} text-anchor=${ago === 0 ? "end" : ago === spanSeconds ? "start" : "middle"}>${tickLabel(ago)}</text>`)}
    <path class="accepted-area" d=${area(history.accepted)} />
    <path class="limit" data-testid="quota-limit-line" d=${line(history.quota)} />
    ${history.throttled.some((t) => t > 0) && html`<path class="throttled" d=${line(history.throttled)} />`}
    <path class="accepted" data-testid="quota-accepted-line" d=${line(history.accepted)} />
  </svg>`;
}

function Circuit({ state }) {
  return html`<span class=${`circuit ${state}`} data-testid="circuit">${state}</span>`;
}

/** The deployment's breakers at a glance: all closed, or how many are not. */
function CircuitSummary({ circuits, replicas }) {
  const notClosed = ["open", "half-open"].filter((state) => circuits[state] > 0);
  if (replicas === 0) return html`<span class="muted">no live replica calls it</span>`;
  if (notClosed.length === 0) return html`<span class="circuit closed" data-testid="circuit-summary">circuit closed on ${replicas === 1 ? "its replica" : `all ${replicas}`}</span>`;
  return html`<span data-testid="circuit-summary">${notClosed.map((state) => html`<span class=${`circuit ${state}`}>${state} on ${circuits[state]} of ${replicas}</span> `)}</span>`;
}

function DeploymentQuota({ d, now, spanSeconds, sampleEverySeconds }) {
  return html`<div class=${`quota-card ${d.circuits.open > 0 ? "alarm" : ""}`} data-testid=${`quota-deployment-${d.name}`}>
    <div class="quota-head">
      <h3>${d.name}</h3>
      <${CircuitSummary} circuits=${d.circuits} replicas=${d.replicas.length} />
    </div>
    <div class="quota-body">
      <div>
        <div class="quota-figures">
          <div class="fill">
            <span class="big" data-testid="fill">${percent(d.fill)}</span>
            <span class="muted">${d.fill === null ? "no quota configured" : "of the quota accepted now"}</span>
            <div class="meter"><div style=${`width:${Math.min(1, d.fill ?? 0) * 100}%`}></div></div>
          </div>
          <dl class="rates">
            <dt>accepted</dt><dd data-testid="accepted">${rate(d.acceptedPerSecond)}/s</dd>
            <dt>throttled</dt><dd class=${d.throttledPerSecond > 0 ? "warn" : ""} data-testid="throttled">${rate(d.throttledPerSecond)}/s</dd>
            <dt>quota</dt><dd data-testid="quota-limit">${d.quotaRequestsPerSecond === null ? "none" : `${rate(d.quotaRequestsPerSecond)}/s`}</dd>
            <dt>last minute</dt><dd>${percent(d.fillLastMinute)}</dd>
          </dl>
        </div>
        <${QuotaChart} history=${d.history} now=${now} spanSeconds=${spanSeconds} sampleEverySeconds=${sampleEverySeconds} />
        <div class="legend"><span class="swatch accepted"></span>accepted/s <span class="swatch throttled"></span>throttled/s <span class="swatch limit"></span>quota/s</div>
      </div>
      <table class="replicas">
        <thead><tr><th>replica</th><th class="num">share/s</th><th class="num">used/s</th><th class="num">accepted/s</th><th class="num">throttled/s</th><th>waiting</th><th>circuit</th></tr></thead>
        <tbody>
          ${d.replicas.map(
            (r) => html`<tr key=${r.replica} data-testid=${`quota-replica-${r.replica}`}>
              <td title=${r.replica}><code>${r.replica.slice(0, 8)}</code></td>
              <td class="num">${rate(r.shareRequestsPerSecond)}</td>
              <td class="num">${rate(r.sentPerSecond)}</td>
              <td class="num">${rate(r.acceptedPerSecond)}</td>
              <td class=${`num ${r.throttledPerSecond > 0 ? "warn" : ""}`}>${rate(r.throttledPerSecond)}</td>
              <td>${r.wanting ? "for quota" : "–"}</td>
              <td><${Circuit} state=${r.circuit} /></td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </div>`;
}

/** How the fleet of one consumer group uses its model deployments' quotas; shown once its records name a deployment. */
function ModelQuota({ hub, group }) {
  const path = `/api/hubs/${encodeURIComponent(hub)}/consumer-groups/${encodeURIComponent(group)}/model-quota`;
  const { data, error } = usePolling(() => api(path), QUOTA_EVERY_MS, [path]);
  if (!data || data.deployments.length === 0) return null;
  const problem = error ?? data.error;
  const span = chartSpanSeconds(data.deployments, data.sampledAt, data.historySeconds);
  return html`<section data-testid=${`model-quota-${hub}-${group}`}>
    <h2>Model quota <span class="muted">· hub ${hub} · consumer group ${group} · ${plural(data.liveReplicas, "replica")} live${data.goneReplicas > 0 ? ` · ${data.goneReplicas} gone (record no longer fresh)` : ""}${data.unreadableRecords > 0 ? ` · ${plural(data.unreadableRecords, "record")} of another version` : ""}</span></h2>
    ${problem && html`<div class="notice bad">${problem}</div>`}
    ${data.deployments.map((d) => html`<${DeploymentQuota} key=${d.name} d=${d} now=${data.sampledAt} spanSeconds=${span} sampleEverySeconds=${data.sampleEverySeconds} />`)}
  </section>`;
}

function Partitions({ hub, onPeek }) {
  return html`<section data-testid="partitions">
    <h2>Hub ${hub.name} <span class="muted">· ${plural(hub.partitions.length, "partition")} · created ${hub.createdOn.slice(0, 10)}</span></h2>
    <table>
      <thead><tr><th>partition</th><th class="num">last sequence</th><th>last enqueued</th><th class="num">retained</th><th>oldest retained</th><th class="num">events/s 1 min</th><th class="num">events/s 5 min</th><th></th></tr></thead>
      <tbody>
        ${hub.partitions.map(
          (p) => html`<tr key=${p.id} data-testid=${`partition-${hub.name}-${p.id}`}>
            <td>${p.id}</td>
            <td class="num">${p.isEmpty ? "empty" : p.lastEnqueuedSequenceNumber}</td>
            <td>${ago(p.lastEnqueuedOnUtc)}</td>
            <td class="num">${p.retainedEvents}</td>
            <td>${ago(p.oldestRetainedOnUtc)}</td>
            <td class="num">${fmt(p.eventsPerSecond.last1m, 1)}</td>
            <td class="num">${fmt(p.eventsPerSecond.last5m, 1)}</td>
            <td><button class="secondary" onClick=${() => onPeek(hub.name, p.id)}>peek</button></td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function ConsumerGroup({ hub, group }) {
  return html`<section data-testid=${`consumer-group-${hub}-${group.consumerGroup}`}>
    <h2>Consumer group ${group.consumerGroup} <span class="muted">· hub ${hub} · checkpoints in ${group.checkpointContainer}</span></h2>
    <table>
      <thead><tr><th>partition</th><th>owner</th><th>ownership renewed</th><th class="num">checkpoint</th><th>checkpointed</th><th class="num">lag (events)</th><th class="num">lag (time)</th></tr></thead>
      <tbody>
        ${group.partitions.map(
          (p) => html`<tr key=${p.id} data-testid=${`lag-${hub}-${group.consumerGroup}-${p.id}`}>
            <td>${p.id}</td>
            <td title=${p.ownerId ?? ""}><code>${shortId(p.ownerId)}</code></td>
            <td>${p.ownershipAgeSeconds === null ? "–" : `${seconds(p.ownershipAgeSeconds)} ago`}</td>
            <td class="num">${p.checkpoint ? p.checkpoint.sequenceNumber : "none"}</td>
            <td>${p.checkpoint ? ago(p.checkpoint.writtenAt) : "–"}</td>
            <td class=${`num lag ${p.lagEvents === 0 ? "zero" : ""}`} data-testid="lag-events">${p.lagEvents}</td>
            <td class="num">${seconds(p.lagSeconds)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Workers({ workers }) {
  if (workers.length === 0) return html`<section><h2>Workers</h2><p class="muted">No metrics endpoints given (--worker-metrics).</p></section>`;
  return html`<section data-testid="workers">
    <h2>Workers</h2>
    <table>
      <thead><tr><th>metrics</th><th class="num">owned</th><th class="num">processed</th><th class="num">dead-lettered</th><th class="num">lag gauge</th><th>latency mean</th></tr></thead>
      <tbody>
        ${workers.map(
          (w) => html`<tr key=${w.url}>
            <td><code>${w.url}</code>${w.error ? html`<div class="error">${w.error}</div>` : ""}</td>
            <td class="num">${fmt(w.ownedPartitions)}</td>
            <td class="num">${sum(Object.values(w.processed ?? {}))}</td>
            <td class="num">${sum(Object.values(w.deadLettered ?? {}))}</td>
            <td class="num">${sum(Object.values(w.lag ?? {}))}</td>
            <td>${seconds(w.latency?.meanSeconds)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function EventView({ event }) {
  return html`<div class="event">
    <dl class="kv">
      <dt>sequence</dt><dd>${event.sequenceNumber} · offset ${event.offset} · ${event.enqueuedTimeUtc}</dd>
      <dt>message id</dt><dd>${String(event.messageId ?? "–")} · ${event.contentType ?? "no content type"} · key ${event.partitionKey ?? "–"}</dd>
      <dt>properties</dt><dd><code>${JSON.stringify(event.properties)}</code></dd>
      <dt>system</dt><dd><code>${JSON.stringify(event.systemProperties)}</code></dd>
    </dl>
    <pre>${bodyText(event.body)}</pre>
  </div>`;
}

function Peek({ hubs, target, setTarget }) {
  const [from, setFrom] = useState("earliest");
  const [count, setCount] = useState("10");
  const [result, setResult] = useState(undefined);
  const [error, setError] = useState(undefined);
  const run = async (event) => {
    event?.preventDefault();
    setError(undefined);
    try {
      setResult(await api(`/api/hubs/${encodeURIComponent(target.hub)}/partitions/${encodeURIComponent(target.partition)}/events?from=${encodeURIComponent(from)}&count=${encodeURIComponent(count)}`));
    } catch (e) {
      setError(e.message);
    }
  };
  const hub = hubs.find((h) => h.name === target.hub) ?? hubs[0];
  return html`<section data-testid="peek">
    <h2>Peek events <span class="muted">· no checkpoint is written</span></h2>
    <form class="inline" onSubmit=${run}>
      <label>hub<select value=${target.hub} onChange=${(e) => setTarget({ hub: e.target.value, partition: "0" })}>${hubs.map((h) => html`<option>${h.name}</option>`)}</select></label>
      <label>partition<select value=${target.partition} onChange=${(e) => setTarget({ ...target, partition: e.target.value })}>${(hub?.partitions ?? []).map((p) => html`<option>${p.id}</option>`)}</select></label>
      <label>from<input value=${from} onInput=${(e) => setFrom(e.target.value)} placeholder="earliest | latest | 42 | 2026-01-31T08:00Z" /></label>
      <label>count<input value=${count} size="4" onInput=${(e) => setCount(e.target.value)} /></label>
      <button type="submit">peek</button>
    </form>
    ${error && html`<div class="notice bad">${error}</div>`}
    ${result && html`<p class="muted">${plural(result.events.length, "event")} from ${result.from} in partition ${result.partitionId}</p>${result.events.map((e) => html`<${EventView} key=${e.sequenceNumber} event=${e} />`)}`}
  </section>`;
}

function DeadLetterDetail({ entry }) {
  const r = entry.record;
  return html`<div data-testid="dead-letter-detail">
    <h3>${entry.id}</h3>
    <dl class="kv">
      <dt>position</dt><dd>partition ${r.partitionId}, sequence ${r.sequenceNumber}, offset ${r.offset}, enqueued ${r.enqueuedTimeUtc}</dd>
      <dt>message id</dt><dd>${r.messageId ?? "–"} · ${r.contentType ?? "no content type"} · key ${r.partitionKey ?? "–"}</dd>
      <dt>error</dt><dd class="error">${r.error.name}: ${r.error.message} (${plural(r.error.attempts, "attempt")})</dd>
      <dt>replay</dt><dd>${entry.replay.state}${entry.replay.replayId ? ` · replay id ${entry.replay.replayId}` : ""}${entry.replay.replayedAt ? ` · ${entry.replay.replayedAt} to ${entry.replay.target}` : ""}</dd>
      <dt>properties</dt><dd><code>${JSON.stringify(r.properties)}</code></dd>
    </dl>
    <pre>${bodyText(r.body)}</pre>
  </div>`;
}

function DeadLetters({ allowWrites, scope, container }) {
  const [filter, setFilter] = useState({ partition: "", since: "", until: "", error: "", state: "all" });
  const [to, setTo] = useState("");
  const [selected, setSelected] = useState(new Set());
  const [detail, setDetail] = useState(undefined);
  const [message, setMessage] = useState(undefined);
  const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== "")).toString();
  const { data, error, refresh } = usePolling(() => api(`/api/dead-letters?${query}`), DEAD_LETTERS_EVERY_MS, [query]);
  const entries = data?.entries ?? [];
  const toggle = (id) => setSelected((s) => {
    const next = new Set(s);
    next.has(id) ? next.delete(id) : next.add(id);
    return next;
  });
  const act = async (what) => {
    const ids = [...selected];
    if (what === "purge" && !window.confirm(`Delete ${plural(ids.length, "dead letter")} for good? Only replayed ones are deleted.`)) return;
    try {
      const { outcomes } = await post(`/api/dead-letters/${what}`, what === "purge" ? { ids, confirm: true } : { ids, ...(to ? { to } : {}) });
      setMessage(outcomes.map((o) => `${o.id}: ${o.result}${o.detail ? ` (${o.detail})` : ""}`).join(" · ") || "nothing to do");
      setSelected(new Set());
      await refresh();
    } catch (e) {
      setMessage(e.message);
    }
  };
  const writesHint = allowWrites ? "" : "writes are off: start the explorer with --allow-writes";
  const set = (key) => (e) => setFilter({ ...filter, [key]: e.target.value });
  return html`<section data-testid="dead-letters">
    <h2>Dead letters <span class="muted">· ${scope.eventHubName}/${scope.consumerGroup} in container ${container}</span></h2>
    <form class="inline" onSubmit=${(e) => e.preventDefault()}>
      <label>partitions<input value=${filter.partition} size="6" placeholder="0,3" onInput=${set("partition")} /></label>
      <label>since<input value=${filter.since} size="10" placeholder="15m | ISO time" onInput=${set("since")} /></label>
      <label>until<input value=${filter.until} size="10" placeholder="2h | ISO time" onInput=${set("until")} /></label>
      <label>error contains<input value=${filter.error} onInput=${set("error")} /></label>
      <label>state<select value=${filter.state} onChange=${set("state")}>${["all", "pending", "in-flight", "replayed"].map((s) => html`<option>${s}</option>`)}</select></label>
      <label>replay to hub<input value=${to} size="10" placeholder="its own" onInput=${(e) => setTo(e.target.value.trim())} /></label>
      <button type="button" data-testid="replay" disabled=${!allowWrites || selected.size === 0} title=${writesHint} onClick=${() => act("replay")}>replay selected</button>
      <button type="button" class="danger" data-testid="purge" disabled=${!allowWrites || selected.size === 0} title=${writesHint} onClick=${() => act("purge")}>purge selected</button>
    </form>
    ${!allowWrites && html`<p class="muted">Read-only: ${writesHint}.</p>`}
    ${error && html`<div class="notice bad">${error}</div>`}
    ${message && html`<div class="notice" data-testid="dead-letter-message">${message}</div>`}
    <table>
      <thead><tr><th></th><th>id</th><th>state</th><th>dead-lettered</th><th>error</th></tr></thead>
      <tbody>
        ${entries.map(
          (e) => html`<tr key=${e.id} class=${detail?.id === e.id ? "selected" : ""} data-testid=${`dead-letter-${e.id}`}>
            <td><input type="checkbox" aria-label=${`select ${e.id}`} checked=${selected.has(e.id)} onChange=${() => toggle(e.id)} /></td>
            <td><a href="#" onClick=${(ev) => { ev.preventDefault(); setDetail(detail?.id === e.id ? undefined : e); }}><code>${e.id}</code></a></td>
            <td><span class=${`badge ${e.replay.state}`} data-testid="state">${e.replay.state}</span></td>
            <td>${ago(e.record.deadLetteredAt)}</td>
            <td>${e.record.error.name}: ${e.record.error.message.slice(0, 90)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${entries.length === 0 && html`<p class="muted">No dead letters match.</p>`}
    ${detail && html`<${DeadLetterDetail} entry=${entries.find((e) => e.id === detail.id) ?? detail} />`}
  </section>`;
}

function SendTestEvent({ hubs }) {
  const [hub, setHub] = useState(hubs[0]?.name ?? "");
  const [body, setBody] = useState('{"text": "Hello from the explorer"}');
  const [partitionKey, setPartitionKey] = useState("");
  const [message, setMessage] = useState(undefined);
  const send = async (e) => {
    e.preventDefault();
    try {
      await post(`/api/hubs/${encodeURIComponent(hub)}/events`, { body, contentType: "application/json", ...(partitionKey ? { partitionKey } : {}) });
      setMessage(`sent to ${hub}`);
    } catch (error) {
      setMessage(error.message);
    }
  };
  return html`<section>
    <h2>Send a test event</h2>
    <form class="inline" onSubmit=${send}>
      <label>hub<select value=${hub} onChange=${(e) => setHub(e.target.value)}>${hubs.map((h) => html`<option>${h.name}</option>`)}</select></label>
      <label>partition key<input value=${partitionKey} onInput=${(e) => setPartitionKey(e.target.value)} /></label>
      <label style="flex:1">body (JSON)<textarea rows="2" value=${body} onInput=${(e) => setBody(e.target.value)}></textarea></label>
      <button type="submit">send</button>
    </form>
    ${message && html`<div class="notice">${message}</div>`}
  </section>`;
}

function App() {
  const { data, error } = usePolling(() => api("/api/overview"), OVERVIEW_EVERY_MS, []);
  const [peekTarget, setPeekTarget] = useState(undefined);
  if (!data) return html`<p>${error ? html`<span class="error">${error}</span>` : "Loading…"}</p>`;
  const target = peekTarget ?? { hub: data.hubs[0]?.name ?? "", partition: "0" };
  const mainHub = data.hubs.find((h) => h.name === data.deadLetterScope.eventHubName) ?? data.hubs[0];
  return html`
    <header>
      <h1>Event Hubs explorer</h1>
      <span class="muted">${data.title}</span>
      <span class=${`badge ${data.allowWrites ? "writes" : ""}`} data-testid="mode">${data.allowWrites ? "writes allowed" : "read-only"}</span>
      <span class="muted">peeks use consumer group ${data.peekConsumerGroup}</span>
    </header>
    ${error && html`<div class="notice bad">Refresh failed: ${error}</div>`}
    ${data.workers.length > 0 && mainHub && html`<${Pipeline} hub=${mainHub} workers=${data.workers} />`}
    ${data.hubs.flatMap((hub) => hub.consumerGroups.map((g) => html`<${ModelQuota} key=${`quota ${hub.name}/${g.consumerGroup}`} hub=${hub.name} group=${g.consumerGroup} />`))}
    ${data.hubs.map((hub) => html`<${Partitions} key=${hub.name} hub=${hub} onPeek=${(h, p) => setPeekTarget({ hub: h, partition: p })} />`)}
    ${data.hubs.flatMap((hub) => hub.consumerGroups.map((g) => html`<${ConsumerGroup} key=${`${hub.name}/${g.consumerGroup}`} hub=${hub.name} group=${g} />`))}
    <${DeadLetters} allowWrites=${data.allowWrites} scope=${data.deadLetterScope} container=${data.deadLetterContainer} />
    <div class="grid">
      <${Workers} workers=${data.workers} />
      ${data.allowWrites ? html`<${SendTestEvent} hubs=${data.hubs} />` : html`<section><h2>Send a test event</h2><p class="muted">Writes are off: start the explorer with --allow-writes.</p></section>`}
    </div>
    <${Peek} hubs=${data.hubs} target=${target} setTarget=${setPeekTarget} />
  `;
}

render(html`<${App} />`, document.getElementById("app"));
