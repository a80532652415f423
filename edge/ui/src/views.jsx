// The pieces of a turn on screen: the plan as a graph, the task list with states and models, the answer, files.
import { useEffect, useState } from "preact/hooks";
import { fileUrl } from "./api.js";
import { depths } from "./turn.js";

const W = 200;
const H = 54;
const GAP_X = 50;
const GAP_Y = 16;

function layout(turn) {
  const depth = depths(turn);
  const rows = {};
  const at = {};
  for (const id of turn.order) {
    const col = depth[id] || 0;
    const row = (rows[col] = (rows[col] || 0) + 1) - 1;
    at[id] = { x: 8 + col * (W + GAP_X), y: 8 + row * (H + GAP_Y) };
  }
  const cols = Math.max(1, ...Object.values(depth).map((d) => d + 1));
  const height = Math.max(1, ...Object.values(rows)) * (H + GAP_Y) + 8;
  return { at, width: cols * (W + GAP_X), height };
}

function label(task) {
  if (task.state === "done") return `${task.model || ""} · ${(task.seconds || 0).toFixed(2)} s`;
  if (task.state === "running") return `running on ${task.model || "…"}`;
  if (task.state === "failed" || task.state === "skipped") return task.state;
  return task.model ? `model: ${task.model}` : "planned";
}

// The plan as a DAG, drawn as soon as the first task streams in; node colours follow the task states.
export function PlanGraph({ turn }) {
  if (!turn.order.length) return null;
  const { at, width, height } = layout(turn);
  const edges = turn.order.flatMap((id) => turn.tasks[id].deps.filter((d) => at[d]).map((d) => [d, id]));
  return (
    <svg class="plan" width={width} height={height} role="img" aria-label="the plan">
      {edges.map(([from, to]) => (
        <line key={`${from}-${to}`} x1={at[from].x + W} y1={at[from].y + H / 2} x2={at[to].x}
          y2={at[to].y + H / 2} class="edge" />
      ))}
      {turn.order.map((id) => {
        const task = turn.tasks[id];
        return (
          <g key={id} class={`node ${task.state}`} data-task={id} data-state={task.state}
            transform={`translate(${at[id].x},${at[id].y})`}>
            <rect width={W} height={H} rx="8" />
            <text x="10" y="21" class="type">{`#${id} ${task.type}`}</text>
            <text x="10" y="41" class="detail">{label(task)}</text>
          </g>
        );
      })}
    </svg>
  );
}

// One line per task: state, chosen model and why, timing, and what went wrong.
export function TaskList({ turn }) {
  return (
    <ul class="tasks">
      {turn.order.map((id) => {
        const t = turn.tasks[id];
        return (
          <li key={id} class={t.state} data-task={id}>
            <span class="state">{t.state}</span> #{id} {t.type}
            {t.model && <span class="model"> → {t.model}{t.why ? ` (${t.why})` : ""}</span>}
            {t.startedAt !== undefined && <span class="time"> started at {t.startedAt.toFixed(2)} s</span>}
            {t.seconds !== undefined && t.state === "done" && <span class="time">, took {t.seconds.toFixed(2)} s</span>}
            {t.reason && <div class="reason">{t.reason}</div>}
          </li>
        );
      })}
    </ul>
  );
}

// A generated file: images shown, audio playable inline, anything else a download link.
export function GeneratedFile({ file, token }) {
  const [src, setSrc] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    let url = "";
    fileUrl(file.uri, token).then((u) => setSrc((url = u))).catch((e) => setError(e.message));
    return () => url && URL.revokeObjectURL(url);
  }, [file.uri, token]);
  if (error) return <div class="error">Could not load {file.name}: {error}</div>;
  if (!src) return <div class="file">loading {file.name}…</div>;
  const kind = (file.media_type || "").split("/")[0];
  return (
    <figure class="file">
      {kind === "image" && <img src={src} alt={file.name} />}
      {kind === "audio" && <audio controls src={src} data-name={file.name} />}
      {kind === "video" && <video controls src={src} />}
      <figcaption><a href={src} download={file.name}>{file.name}</a></figcaption>
    </figure>
  );
}

const since = (turn, at) => (turn.sentAt !== undefined && at !== undefined ? Math.round(at - turn.sentAt) : "");

export function Turn({ turn, token }) {
  return (
    <section class="turn" data-first-byte-ms={since(turn, turn.firstByteAt)}
      data-first-plan-ms={since(turn, turn.firstPlanAt)}>
      <div class="user">
        {turn.text}
        {turn.fileNames.length > 0 && <span class="attached"> with {turn.fileNames.join(", ")}</span>}
      </div>
      <PlanGraph turn={turn} />
      <TaskList turn={turn} />
      {(turn.answer || turn.directAnswer) && <div class="answer">{turn.answer || turn.directAnswer}</div>}
      {!turn.done && !turn.error && <div class="progress">working…</div>}
      {turn.error && <div class="error" role="alert">{turn.error}</div>}
      <div class="files">{turn.files.map((f) => <GeneratedFile key={f.uri} file={f} token={token} />)}</div>
      {turn.summary && (
        <div class="summary">{`${turn.summary.tasks_succeeded || 0} succeeded, ${turn.summary.tasks_failed || 0} `
          + `failed, ${(turn.summary.total_seconds || 0).toFixed(2)} s; first byte after `
          + `${since(turn, turn.firstByteAt)} ms, first plan event after ${since(turn, turn.firstPlanAt)} ms`}</div>
      )}
    </section>
  );
}
