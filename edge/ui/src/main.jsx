// The web UI: sessions on the left, the conversation with each turn's plan, tasks and answer, a composer that
// takes dropped files. It speaks the gateway's GatewayService through the edge over Connect (api.js).
import { render } from "preact";
import { useRef, useState } from "preact/hooks";
import { chat, session } from "./api.js";
import { fold, newTurn } from "./turn.js";
import { Turn } from "./views.jsx";

const store = {
  get: (key, fallback) => JSON.parse(localStorage.getItem(key) || "null") ?? fallback,
  set: (key, value) => localStorage.setItem(key, JSON.stringify(value)),
};

function pastTurns(messages) {
  const turns = [];
  for (const m of messages) {
    const files = (m.attachments || []).map((a) => a.name);
    if (m.role === "ROLE_USER") turns.push({ ...newTurn(m.content || "", files), done: true });
    else if (turns.length) turns[turns.length - 1].answer = m.content || "";
  }
  return turns;
}

function Sessions({ sessions, current, onPick, onNew }) {
  return (
    <nav class="sessions">
      <button type="button" class="new" onClick={onNew}>+ New chat</button>
      <ul>
        {sessions.map((s) => (
          <li key={s.id} class={s.id === current ? "current" : ""}>
            <button type="button" onClick={() => onPick(s.id)} title={s.id}>{s.title}</button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Composer({ busy, onSend }) {
  const [text, setText] = useState("");
  const [files, setFiles] = useState([]);
  const [over, setOver] = useState(false);
  const picker = useRef(null);
  const add = (list) => setFiles((old) => [...old, ...Array.from(list || [])]);
  const submit = (e) => {
    e.preventDefault();
    if (!text.trim() || busy) return;
    onSend(text.trim(), files);
    setText("");
    setFiles([]);
  };
  return (
    <form class={`composer ${over ? "over" : ""}`} onSubmit={submit}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)}
      onDrop={(e) => { e.preventDefault(); setOver(false); add(e.dataTransfer.files); }}>
      {files.length > 0 && (
        <ul class="pending">
          {files.map((f, i) => (
            <li key={`${f.name}-${i}`}>{f.name}
              <button type="button" aria-label={`remove ${f.name}`}
                onClick={() => setFiles(files.filter((_, j) => j !== i))}>×</button></li>
          ))}
        </ul>
      )}
      <textarea name="request" placeholder="Ask, and drop images or audio here" value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) submit(e); }} />
      <input ref={picker} type="file" multiple accept="image/*,audio/*" hidden
        onChange={(e) => { add(e.currentTarget.files); e.currentTarget.value = ""; }} />
      <button type="button" onClick={() => picker.current.click()}>Attach</button>
      <button type="submit" disabled={busy || !text.trim()}>Send</button>
    </form>
  );
}

function App() {
  const [token, setToken] = useState(store.get("hg.token", ""));
  const [sessions, setSessions] = useState(store.get("hg.sessions", []));
  const [sessionId, setSessionId] = useState("");
  const [turns, setTurns] = useState([]);
  const [notice, setNotice] = useState("");
  const busy = turns.length > 0 && !turns[turns.length - 1].done && !turns[turns.length - 1].error;
  const update = (change) => setTurns((all) => [...all.slice(0, -1), change(all[all.length - 1])]);

  const remember = (id, title) => {
    setSessionId(id);
    setSessions((old) => {
      const next = old.some((s) => s.id === id) ? old : [{ id, title: title.slice(0, 60) }, ...old].slice(0, 50);
      store.set("hg.sessions", next);
      return next;
    });
  };

  const send = async (text, files) => {
    setNotice("");
    setTurns((all) => [...all, newTurn(text, files.map((f) => f.name))]);
    try {
      const stamp = { sent: "sentAt", "first-byte": "firstByteAt" };
      const onTiming = (name) => update((turn) => ({ ...turn, [stamp[name]]: performance.now() }));
      await chat({ text, files, sessionId, token, onTiming, onEvent: (event) => {
        if (event.session_id) remember(event.session_id, text);
        update((turn) => fold(turn, event));
      } });
    } catch (e) {
      update((turn) => ({ ...turn, error: e.message || String(e) }));
    }
  };

  const pick = async (id) => {
    try {
      setTurns(pastTurns(await session(id, token)));
      setSessionId(id);
      setNotice("");
    } catch (e) {
      setNotice(`Could not open that conversation: ${e.message}`);
    }
  };

  return (
    <div class="layout">
      <Sessions sessions={sessions} current={sessionId} onPick={pick}
        onNew={() => { setSessionId(""); setTurns([]); }} />
      <main>
        <header>
          <h1>HuggingGPT</h1>
          <input type="password" placeholder="token (if the gateway asks for one)" value={token}
            onInput={(e) => { setToken(e.currentTarget.value); store.set("hg.token", e.currentTarget.value); }} />
        </header>
        {notice && <div class="error" role="alert">{notice}</div>}
        <div class="conversation">{turns.map((t, i) => <Turn key={i} turn={t} token={token} />)}</div>
        <Composer busy={busy} onSend={send} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app"));
