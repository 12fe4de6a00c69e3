// filterdsl playground: plain JavaScript, no dependencies, talks only to this server (POST api/compile).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const OPTIONS = ["strict", "lookups", "django_compat", "quoted", "resolve_names"];
  const FORMATS = ["pitchly", "search", "pixiebrix", "text", "ast"];
  const DEBOUNCE_MS = 250;
  let config = null;
  let seq = 0;
  let timer = null;
  let current = { text: "", diagnostics: [] };

  // ------------------------------------------------------------------ state <-> URL
  function readState() {
    const opts = {};
    for (const o of OPTIONS) opts[o] = $("opt-" + o).checked;
    return {
      format: $("format").value,
      database: $("database").value || null,
      options: opts,
      dialect: $("dialect").value || "sqlite",
      layout: $("layout").value,
      pretty: $("pretty").checked,
      input: $("input").value,
    };
  }

  function writeUrl(s) {
    const p = new URLSearchParams();
    p.set("f", s.format);
    if (s.database) p.set("db", s.database);
    p.set("o", OPTIONS.filter((o) => s.options[o]).join(","));
    p.set("d", s.dialect);
    p.set("l", s.layout);
    p.set("p", s.pretty ? "1" : "0");
    p.set("q", s.input);
    history.replaceState(null, "", "#" + p.toString());
  }

  function applyUrl() {
    const p = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (p.has("f") && [...$("format").options].some((o) => o.value === p.get("f"))) $("format").value = p.get("f");
    if (p.has("db") && [...$("database").options].some((o) => o.value === p.get("db"))) $("database").value = p.get("db");
    if (p.has("o")) {
      const on = new Set(p.get("o").split(",").filter(Boolean));
      for (const o of OPTIONS) $("opt-" + o).checked = on.has(o);
    }
    if (p.has("d") && [...$("dialect").options].some((o) => o.value === p.get("d"))) $("dialect").value = p.get("d");
    if (p.has("l")) $("layout").value = p.get("l") === "columns" ? "columns" : "json";
    if (p.has("p")) $("pretty").checked = p.get("p") !== "0";
    if (p.has("q")) $("input").value = p.get("q");
    return p.has("q");
  }

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  function show(id, value) {
    const pre = $(id);
    pre.classList.remove("unavailable");
    pre.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function unavailable(id, text) {
    const pre = $(id);
    pre.classList.add("unavailable");
    pre.textContent = text;
  }

  function where(loc) {
    const parts = [];
    if (loc.line != null) parts.push("line " + loc.line + ", column " + loc.column);
    if (loc.pointer != null && loc.pointer !== "") parts.push("at " + loc.pointer);
    if (loc.param != null) parts.push("parameter " + loc.param + (loc.index != null ? " #" + loc.index : ""));
    return parts.join(" · ") || "the whole input";
  }

  // ------------------------------------------------------------------ highlighting
  function marked(text, spans, lineOnly) {
    // text with <mark> over each span (sorted, non-overlapping); a span at the end is a caret
    const frag = document.createDocumentFragment();
    let pos = 0;
    const sorted = spans.filter((s) => s.start >= pos).sort((a, b) => a.start - b.start);
    for (const s of sorted) {
      if (s.start < pos) continue;
      frag.append(text.slice(pos, s.start));
      const m = el("mark", { class: s.severity + (s.end === s.start ? " caret" : "") });
      m.textContent = s.end === s.start ? "\u00a0" : text.slice(s.start, s.end);
      frag.append(m);
      pos = Math.max(s.end, s.start);
    }
    frag.append(text.slice(pos));
    if (!lineOnly) frag.append("\n");
    return frag;
  }

  function paintBackdrop() {
    const text = $("input").value;
    const spans = text === current.text ? current.diagnostics.filter((d) => d.span).map((d) => ({
      start: d.span.start, end: d.span.end, severity: d.severity,
    })) : [];
    const b = $("backdrop");
    const ta = $("input");
    b.replaceChildren(marked(text, spans, false));
    // wrap at the same width as the textarea, whose vertical scrollbar (when shown) takes room
    const cs = getComputedStyle(ta);
    const bar = ta.offsetWidth - ta.clientWidth - parseFloat(cs.borderLeftWidth) - parseFloat(cs.borderRightWidth);
    b.style.paddingRight = (parseFloat(cs.paddingRight) + Math.max(0, bar)) + "px";
    b.scrollTop = ta.scrollTop;
    ta.setAttribute("aria-invalid", spans.some((s) => s.severity === "error") ? "true" : "false");
  }

  function snippet(text, span, severity) {
    // the line(s) holding the span, with the span marked
    const start = text.lastIndexOf("\n", Math.max(0, span.start - 1)) + 1;
    let end = text.indexOf("\n", span.end > span.start ? span.end - 1 : span.start);
    if (end < 0) end = text.length;
    if (span.start === text.length || (span.start === span.end && text[span.start] === "\n")) {
      end = Math.max(end, span.start);
    }
    const line = text.slice(start, end);
    return el("pre", { class: "snippet" },
      marked(line, [{ start: span.start - start, end: Math.min(span.end, end) - start, severity }], true));
  }

  function renderDiagnostics(diags, text, ok) {
    const box = $("diagnostics");
    box.replaceChildren();
    if (!diags.length) {
      box.append(el("p", { class: "valid", text: "Valid: no errors, no warnings." }));
      return;
    }
    const ul = el("ul");
    for (const d of diags) {
      const li = el("li", { class: "diag " + d.severity });
      li.append(el("span", { class: "code", text: d.severity + " " + d.code }), " ",
        el("span", { class: "where", text: "(" + where(d.location) + ")" }));
      if (d.span) {
        const b = el("button", { type: "button", text: "select in input" });
        b.addEventListener("click", () => {
          const ta = $("input");
          ta.focus();
          ta.setSelectionRange(d.span.start, d.span.end);
        });
        li.append(b);
      }
      li.append(el("div", { class: "message", text: d.message }));
      if (d.span) li.append(snippet(text, d.span, d.severity));
      ul.append(li);
    }
    box.append(ul);
    if (!ok) box.append(el("p", { class: "hint", text: "No outputs until the errors are fixed." }));
  }

  // ------------------------------------------------------------------ outputs
  function reason(err) {
    return "Cannot be expressed here: " + err.message + " (" + err.code + ")";
  }

  function renderOutputs(out) {
    const ex = out.explain || {};
    ex.error ? unavailable("out-explain", reason(ex.error)) : show("out-explain", ex.value || "");
    for (const f of FORMATS) {
      const o = out[f] || {};
      o.error ? unavailable("out-" + f, reason(o.error)) : show("out-" + f, o.value);
    }
    const sql = out.sql || {};
    const status = $("sql-status");
    status.replaceChildren();
    if (sql.error) {
      unavailable("out-sql", reason(sql.error));
      show("out-params", "");
    } else {
      show("out-sql", sql.value);
      show("out-params", sql.params);
      const badge = el("span", { class: "badge " + sql.status, text: sql.status });
      status.append(badge, " ", sql.status === "executed"
        ? "CI runs this dialect and layout on " + sql.engine + " and compares every result with the in-memory engine."
        : sql.note || "only parsed back by sqlglot, never executed");
      for (const w of sql.warnings || []) status.append(el("div", { class: "hint", text: w }));
    }
    const mongo = out.mongo || {};
    mongo.error ? unavailable("out-mongo", reason(mongo.error)) : show("out-mongo", mongo.value);
    const idx = out.indexes || {};
    idx.error ? unavailable("out-indexes", reason(idx.error))
      : show("out-indexes", idx.value || "(no index needed)");
    renderRecords(out.records);
  }

  function fieldNames() {
    const db = (config.databases || []).find((d) => d.id === $("database").value);
    const names = {};
    for (const f of (db && db.fields) || []) names[f.id] = f.name;
    return names;
  }

  function cell(v) {
    if (v === undefined) return "";
    if (v !== null && typeof v === "object" && "val" in v && Object.keys(v).length <= 2) v = v.val;
    return typeof v === "string" ? v : JSON.stringify(v);
  }

  function renderRecords(rec) {
    const summary = $("records-summary");
    const table = $("records");
    table.replaceChildren();
    if (!rec) { summary.textContent = ""; return; }
    if (rec.error) { summary.textContent = reason(rec.error); return; }
    summary.textContent = rec.count + " record" + (rec.count === 1 ? "" : "s") + " returned (" + rec.total +
      " match without paging), in " + rec.ms.toFixed(2) + " ms on " + rec.engine +
      (rec.shown < rec.count ? "; the first " + rec.shown + " shown" : "");
    if (!rec.value.length) return;
    const names = fieldNames();
    const keys = [];
    for (const r of rec.value) for (const k of Object.keys(r.data)) if (!keys.includes(k)) keys.push(k);
    const head = el("tr", {}, el("th", { scope: "col", text: "id" }), el("th", { scope: "col", text: "created_at" }));
    for (const k of keys) head.append(el("th", { scope: "col", title: k, text: names[k] || k }));
    const body = el("tbody");
    for (const r of rec.value) {
      const tr = el("tr", {}, el("td", { text: r.id }), el("td", { text: r.created_at }));
      for (const k of keys) tr.append(el("td", { text: cell(r.data[k]) }));
      body.append(tr);
    }
    table.append(el("thead", {}, head), body);
  }

  function clearOutputs(text) {
    for (const id of ["out-explain", "out-sql", "out-mongo", "out-indexes", ...FORMATS.map((f) => "out-" + f)]) {
      unavailable(id, text);
    }
    show("out-params", "");
    $("sql-status").replaceChildren();
    $("records-summary").textContent = text;
    $("records").replaceChildren();
  }

  // ------------------------------------------------------------------ compile
  async function run() {
    const s = readState();
    writeUrl(s);
    const mine = ++seq;
    const options = Object.assign({}, s.options, { lookups: s.options.lookups ? "extended" : "strict" });
    const body = {
      input: s.input, format: s.format, database: s.database, options,
      sql: { dialect: s.dialect, layout: s.layout, pretty: s.pretty },
    };
    document.body.setAttribute("aria-busy", "true");
    let res, data;
    try {
      res = await fetch("api/compile", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      data = await res.json();
    } catch (e) {
      if (mine !== seq) return;
      document.body.removeAttribute("aria-busy");
      $("diagnostics").replaceChildren(el("p", { class: "diag", text: "The server did not answer: " + e }));
      return;
    }
    if (mine !== seq) return; // a newer request is on its way
    document.body.removeAttribute("aria-busy");
    const diags = data.diagnostics || data.errors || [];
    current = { text: s.input, diagnostics: diags };
    $("detected").textContent = data.format ? (data.detected ? "detected: " : "read as: ") + data.format : "";
    renderDiagnostics(diags, s.input, res.ok);
    paintBackdrop();
    if (res.ok) renderOutputs(data.outputs || {});
    else clearOutputs("No output: the input has errors (see Diagnostics).");
    document.body.dataset.compiled = String(mine);
  }

  function schedule() {
    clearTimeout(timer);
    paintBackdrop();
    timer = setTimeout(run, DEBOUNCE_MS);
  }

  function example() {
    const fmt = $("format").value === "auto" ? "pitchly" : $("format").value;
    const db = $("database").value;
    const samples = (config.samples || {})[db] || (config.samples || {})[""] || {};
    $("input").value = samples[fmt] || "";
    schedule();
  }

  async function init() {
    $("controls").addEventListener("submit", (e) => e.preventDefault());
    const res = await fetch("api/playground");
    config = await res.json();
    const dbSel = $("database");
    if (!config.databases.length) dbSel.append(el("option", { value: "", text: "(no database)" }));
    for (const d of config.databases) dbSel.append(el("option", { value: d.id, text: d.name + " (" + d.id + ")" }));
    const dSel = $("dialect");
    for (const d of config.dialects) {
      const ex = Object.keys(d.executed);
      dSel.append(el("option", { value: d.name, text: d.name + (ex.length ? " (executed: " + ex.join(", ") + ")" : " (parse-checked)") }));
    }
    dSel.value = "sqlite";
    if (config.default_database) dbSel.value = config.default_database;
    for (const o of OPTIONS) {
      const v = config.options[o];
      $("opt-" + o).checked = o === "lookups" ? v === "extended" : Boolean(v);
    }
    const fromUrl = applyUrl();
    if (!fromUrl) {
      $("format").value = location.hash ? $("format").value : "auto";
      const samples = (config.samples || {})[dbSel.value] || (config.samples || {})[""] || {};
      $("input").value = samples.pitchly || samples.search || "";
    }
    for (const id of ["format", "database", "dialect", "layout", "pretty", ...OPTIONS.map((o) => "opt-" + o)]) {
      $(id).addEventListener("change", schedule);
    }
    $("input").addEventListener("input", schedule);
    $("input").addEventListener("scroll", () => { $("backdrop").scrollTop = $("input").scrollTop; });
    $("example").addEventListener("click", example);
    window.addEventListener("hashchange", () => { if (applyUrl()) schedule(); });
    run();
  }

  document.addEventListener("DOMContentLoaded", () => {
    init().catch((e) => {
      $("diagnostics").replaceChildren(el("p", { class: "diag", text: "Could not load the playground: " + e }));
    });
  });
})();
