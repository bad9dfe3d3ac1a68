// CoinTrader trader dashboard: polls the trader's own endpoint (same origin), no external resources.
"use strict";
const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

function num(v, places = 2, signed = false) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const s = Number(v).toFixed(places);
  return signed && v > 0 ? "+" + s : s;
}
function money(el, v, signed = true) {
  el.textContent = v === null || v === undefined ? "–" : num(v, 2, signed) + " USDT";
  el.classList.remove("up", "down");
  if (signed && v > 0) el.classList.add("up");
  if (signed && v < 0) el.classList.add("down");
}
function shortTime(iso) { return iso ? iso.replace("T", " ").slice(0, 19) : "–"; }
function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
function fill(tableId, rows, render) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren();
  for (const r of rows) { const tr = document.createElement("tr"); render(tr, r); body.appendChild(tr); }
  if (!rows.length) { const tr = document.createElement("tr"); cell(tr, "none yet", "muted").colSpan = 12; body.appendChild(tr); }
}
async function getJSON(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok && r.status !== 503) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function renderStatus(s) {
  $("mode").textContent = `${s.mode.toUpperCase()} · ML ${s.ml_mode}`;
  const h = $("health");
  h.textContent = s.health.ok ? "healthy" : (s.health.status === "stale" ? `stale feed: ${s.health.stale.join(", ")}` : s.health.status);
  h.className = "pill " + (s.health.ok ? "ok" : "bad");
  const p = $("paused");
  p.classList.toggle("hidden", !s.entries_paused.paused);
  p.className = s.entries_paused.paused ? "pill warn" : "pill hidden";
  p.title = s.entries_paused.reason || "";
  const a = s.account;
  money($("balance"), a.balance, false);
  money($("equity"), a.equity, false);
  money($("open_pnl"), a.open_pnl);
  money($("today_pnl"), a.today_pnl);
  money($("total_pnl"), a.total_pnl);
  const dl = $("daily_limit");
  if (s.risk && s.risk.daily_loss_limit_usdt !== null) {
    dl.textContent = (s.risk.daily_limited ? "REACHED · " : "") + `−${num(s.risk.daily_loss_limit_usdt)} USDT`;
    dl.className = "value " + (s.risk.daily_limited ? "down" : "");
  } else { dl.textContent = "–"; }
  const syms = Object.entries(s.symbols);
  fill("symbols", syms, (tr, [sym, v]) => {
    const pos = v.position;
    cell(tr, sym);
    cell(tr, pos ? pos.side : "flat", pos ? (pos.side === "LONG" ? "up" : "down") : "muted");
    cell(tr, pos ? num(pos.quantity, 4) : "–");
    cell(tr, pos ? num(pos.entry_price, 5) : "–");
    cell(tr, num(v.last_close, 5));
    cell(tr, pos ? `${num(pos.sl, 5)} / ${num(pos.tp, 5)}` : "–");
    const u = cell(tr, pos ? num(pos.unrealized_pnl, 4, true) : "–");
    if (pos && pos.unrealized_pnl) u.className = pos.unrealized_pnl > 0 ? "up" : "down";
    cell(tr, shortTime(v.last_candle_time));
    cell(tr, v.stale ? "STALE" : "ok", v.stale ? "down" : "up");
    const k = cell(tr, v.kill_switch.active ? "ACTIVE" : "off", v.kill_switch.active ? "down" : "muted");
    k.title = v.kill_switch.reason || "";
    const m = v.model ? `v${v.model.version}@${v.model.alias}` : "none";
    const mc = cell(tr, v.model_refused ? `${m} · REFUSED` : m, v.model_refused ? "warn" : "");
    mc.title = v.model_refused || v.model_error || "";
    cell(tr, v.ml_mode);
  });
  const sel = $("symbol");
  if (sel.options.length !== syms.length) {
    sel.replaceChildren(...syms.map(([sym]) => { const o = document.createElement("option"); o.textContent = sym; return o; }));
  }
  $("control-off").classList.toggle("hidden", s.control.enabled);
  for (const b of document.querySelectorAll("#controls button")) b.disabled = !s.control.enabled;
  $("updated").textContent = `updated ${shortTime(s.time)} UTC · market ${shortTime(s.market_time)}`;
}

function renderCurve(points) {
  const svg = $("curve");
  const W = 900, H = 220, pad = 28;
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  if (points.length < 2) {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", 20); t.setAttribute("y", 30); t.setAttribute("fill", "#8a96a3"); t.textContent = "no closed trades yet";
    svg.appendChild(t); return;
  }
  const ys = points.map((p) => p.equity);
  const lo = Math.min(...ys), hi = Math.max(...ys), span = hi - lo || 1;
  const x = (i) => pad + (i / (points.length - 1)) * (W - 2 * pad);
  const y = (v) => H - pad - ((v - lo) / span) * (H - 2 * pad);
  const path = document.createElementNS(ns, "polyline");
  path.setAttribute("points", points.map((p, i) => `${x(i).toFixed(1)},${y(p.equity).toFixed(1)}`).join(" "));
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", ys[ys.length - 1] >= ys[0] ? "#3fb950" : "#f85149");
  path.setAttribute("stroke-width", "2");
  svg.appendChild(path);
  for (const [v, label] of [[hi, num(hi)], [lo, num(lo)]]) {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", 4); t.setAttribute("y", y(v) + (v === hi ? 12 : -4)); t.setAttribute("fill", "#8a96a3");
    t.setAttribute("font-size", "11"); t.textContent = label; svg.appendChild(t);
  }
}

async function refresh() {
  try {
    const [status, trades, decisions, equity, actions] = await Promise.all([
      getJSON("/status"), getJSON("/trades?status=CLOSED&limit=15"), getJSON("/decisions?limit=15"),
      getJSON("/equity"), getJSON("/actions"),
    ]);
    renderStatus(status);
    renderCurve(equity.points);
    fill("trades", trades.trades, (tr, t) => {
      cell(tr, shortTime(t.exit_time)); cell(tr, t.symbol); cell(tr, t.side);
      cell(tr, num(t.entry_price, 5)); cell(tr, num(t.exit_price, 5)); cell(tr, t.close_reason || "–");
      const n = cell(tr, num(t.net_pnl, 4, true)); n.className = t.net_pnl > 0 ? "up" : "down";
    });
    fill("decisions", decisions.decisions, (tr, d) => {
      cell(tr, shortTime(d.candle_time)); cell(tr, d.symbol); cell(tr, d.signal); cell(tr, d.action);
      cell(tr, d.reason || "", "why");
    });
    fill("actions", actions.actions, (tr, a) => {
      cell(tr, shortTime(a.time)); cell(tr, [a.action, a.symbol, a.mode].filter(Boolean).join(" "));
      cell(tr, a.changed ? "yes" : "no"); cell(tr, a.detail, "why"); cell(tr, a.reason, "why");
    });
  } catch (err) {
    $("updated").textContent = `trader not answering: ${err.message}`;
    $("health").className = "pill bad"; $("health").textContent = "unreachable";
  }
}

async function control(action) {
  const out = $("control-result");
  const body = { reason: $("reason").value.trim() };
  if (action === "exit" || action === "reset-kill") body.symbol = $("symbol").value;
  if (action === "ml-mode") body.mode = $("mlmode").value;
  const token = $("token").value.trim();
  sessionStorage.setItem("cointrader-token", token);
  out.className = "muted"; out.textContent = `${action}…`;
  const r = await fetch(`/control/${action}`, {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const answer = await r.json();
  out.className = r.ok ? "ok" : "bad";
  out.textContent = r.ok ? `${action}: ${answer.changed ? "done" : "nothing to change"} — ${answer.detail}` : `refused (${r.status}): ${answer.error}`;
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("token").value = sessionStorage.getItem("cointrader-token") || "";
  for (const b of document.querySelectorAll("#controls button")) b.addEventListener("click", () => control(b.dataset.action));
  refresh();
  setInterval(refresh, REFRESH_MS);
});
