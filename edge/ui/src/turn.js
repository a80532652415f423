// One turn's state (with when it was sent, its first byte and first plan event arrived, performance.now()
// milliseconds), folded from the gateway's stage events (ChatResponse as JSON, proto field names; fields at
// their default value are absent, so a task id 0 arrives without `id`).

const STATES = {
  TASK_STATE_STARTED: "running", TASK_STATE_SUCCEEDED: "done", TASK_STATE_FAILED: "failed",
  TASK_STATE_SKIPPED: "skipped",
};

export function newTurn(text, fileNames) {
  return { text, fileNames, tasks: {}, order: [], answer: "", files: [], error: "", done: false,
    directAnswer: "", startedAt: performance.now() };
}

function withTask(turn, id, change) {
  const old = turn.tasks[id] || { id, type: "?", deps: [], state: "planned" };
  const order = turn.order.includes(id) ? turn.order : [...turn.order, id];
  return { ...turn, order, tasks: { ...turn.tasks, [id]: { ...old, ...change } } };
}

function planned(turn, task) {
  return withTask(turn, task.id || 0, { type: task.type, deps: task.dependencies || [] });
}

function taskEvent(turn, ev) {
  const change = { state: STATES[ev.state] || "planned", type: ev.task_type };
  if (ev.model_id) change.model = ev.model_id;
  if (ev.state === "TASK_STATE_STARTED") change.startedAt = ev.at;
  if (ev.duration_seconds !== undefined) change.seconds = ev.duration_seconds;
  if (ev.reason) change.reason = ev.reason;
  return withTask(turn, ev.task_id || 0, change);
}

// The turn after one event.
export function fold(turn, event) {
  if ((event.planned_task || event.plan) && turn.firstPlanAt === undefined) {
    turn = { ...turn, firstPlanAt: performance.now() };
  }
  if (event.planned_task) return planned(turn, event.planned_task);
  if (event.plan) {
    const plan = event.plan.plan || {};
    const next = (plan.tasks || []).reduce(planned, turn);
    return { ...next, directAnswer: plan.direct_answer || "" };
  }
  if (event.selections) {
    return (event.selections.selections || []).reduce((t, s) => withTask(t, s.task_id || 0, {
      model: s.chosen && s.chosen.model_id, why: s.reason || "" }), turn);
  }
  if (event.task) return taskEvent(turn, { ...event.task, at: event.at_seconds || 0 });
  if (event.answer_delta) return { ...turn, answer: turn.answer + event.answer_delta };
  if (event.summary) {
    const answer = turn.answer || event.summary.answer || "";
    return { ...turn, answer, files: event.summary.artifacts || [], done: true, summary: event.summary };
  }
  return turn;
}

// Each task's column in the plan graph: 0 for a task with no dependency, else one past its deepest dependency.
export function depths(turn) {
  const memo = {};
  const depth = (id, seen) => {
    if (memo[id] !== undefined) return memo[id];
    const task = turn.tasks[id];
    const deps = task ? task.deps.filter((d) => turn.tasks[d] && !seen.has(d)) : [];
    memo[id] = deps.length ? 1 + Math.max(...deps.map((d) => depth(d, new Set([...seen, id])))) : 0;
    return memo[id];
  };
  turn.order.forEach((id) => depth(id, new Set()));
  return memo;
}
