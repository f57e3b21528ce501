// The explorer page: steps through the backward (or forward) pass of the graph drawn above,
// highlighting SVG elements by id (t3: tensor 3, o3: its op, e3_0: the edge from its input 0,
// g1: a module's box) and filling the side panel from the JSON that npgrad wrote.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const svg = document.querySelector("#graph svg");
  const $ = (id) => document.getElementById(id);
  const byId = (id) => svg.querySelector("#" + id);  // ids are ours: t3, o3, e3_0, g1, r3
  const state = { mode: "backward", pos: -1, zoom: 1, selected: null, collapsed: new Set() };
  const steps = () => (state.mode === "backward" ? D.backward : D.forward);
  let marked = [];  // [element, class]: what the current step added, undone on the next

  // ------------------------------------------------------------ small DOM helpers
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function add(parent, ...children) { children.forEach((c) => c && parent.appendChild(c)); return parent; }
  function array(title, a) {
    const box = el("div", "array");
    add(box, el("div", "array-title", title));
    if (!a) return add(box, el("div", "muted", "none (no gradient flows here)"));
    return add(box, el("div", "stats" + (a.finite ? "" : " bad-text"),
                       a.stats + (a.finite ? "" : "  (" + a.bad + ")")), el("pre", "values", a.text));
  }
  function nodeName(i) { return D.nodes[i].label; }

  // ------------------------------------------------------------ highlighting
  function mark(id, cls) {
    const e = byId(id);
    if (e) { e.classList.add(cls); marked.push([e, cls]); }
  }
  function clearMarks() { marked.forEach(([e, cls]) => e.classList.remove(cls)); marked = []; }
  function markNode(i, cls) { mark("t" + i, cls); mark("o" + i, cls); }

  // Finished steps keep their marks while stepping on: only the steps passed are touched, so a
  // step costs the same at the end of a 1,000-node pass as at its start.
  let finished = 0;  // steps 0 .. finished-1 carry their "done" marks
  const receivedCount = new Map();  // tensor index -> how many finished steps sent to it
  function toggle(id, cls, on) { const e = byId(id); if (e) e.classList.toggle(cls, on); }
  function finish(k, on) {
    const step = steps()[k];
    const i = state.mode === "backward" ? step.node : step;
    toggle("t" + i, "done", on); toggle("o" + i, "done", on);
    if (state.mode !== "backward") return;
    step.inputs.forEach((f) => {
      if (!f.sent) return;
      const count = (receivedCount.get(f.node) || 0) + (on ? 1 : -1);
      receivedCount.set(f.node, count);
      toggle("t" + f.node, "received", count > 0);
    });
  }
  function finishUpTo(pos) {
    const target = Math.max(0, pos);
    while (finished < target) finish(finished++, true);
    while (finished > target) finish(--finished, false);
  }

  function render() {
    clearMarks();
    const list = steps();
    const n = list.length;
    $("counter").textContent = (state.mode === "backward" ? "backward step " : "forward step ") +
      (state.pos + 1) + " / " + n;
    finishUpTo(state.pos);
    if (state.pos >= 0 && state.pos < n) {
      const step = list[state.pos];
      const i = state.mode === "backward" ? step.node : step;
      markNode(i, "current");
      D.nodes[i].parents.forEach((p, k) => {
        const flows = state.mode === "forward" || step.inputs[k].sent;
        if (flows) { mark("e" + i + "_" + k, "flow"); mark("t" + p, "input"); }
      });
      mark("r" + i, "flow");
      const box = outermostCollapsed(i);
      if (box !== null) mark(D.groups[box].id, "current");
      const target = box !== null ? byId(D.groups[box].id) : byId("o" + i);
      if (target && target.scrollIntoView) target.scrollIntoView({ block: "nearest", inline: "nearest" });
      showStep(step);
    } else {
      showIntro();
    }
    $("prev").disabled = state.pos < 0;
    $("next").disabled = state.pos >= n - 1;
  }

  // ------------------------------------------------------------ the side panel
  function panel(...children) {
    const p = $("panel");
    p.replaceChildren();
    add(p, ...children);
  }
  function showIntro() {
    panel(el("h2", null, state.mode === "backward" ? "Backward pass" : "Forward pass"),
          el("p", null, state.mode === "backward"
            ? "Press \u2192 (or \u25B6) to step, space to play, through the backward pass in the " +
              "engine's order: the current node is " +
              "outlined in orange, the gradient arriving at it (g) and what each input receives are shown " +
              "here; finished nodes turn green."
            : "Press \u2192 (or \u25B6) to step, space to play, through the forward pass in the " +
              "order the operations ran."),
          el("p", null, "Click any node for its value, gradient, rule and source line. Click a module's " +
             "label to collapse or expand its box."),
          el("p", "muted", "Outlines: orange, the current node; blue, its inputs; green, finished; " +
             "dashed green, a leaf that received its gradient; red fill, where NaN or inf was born."),
          D.notes.length ? el("p", "bad-text", D.notes.join(" ")) : null);
  }
  function showStep(step) {
    if (state.mode === "forward") return showNode(step, "forward step " + (state.pos + 1));
    const node = D.nodes[step.node];
    const box = el("div", "step");
    add(box, el("h2", null, "#" + (state.pos + 1) + " " + (node.op || node.label)),
        el("div", "muted", node.shape + " " + node.dtype),
        array("gradient arriving at its result (g)", step.g));
    step.inputs.forEach((f, k) => {
      const input = el("div", "input");
      add(input, el("div", "input-title", "input " + k + " (" + f.symbol + "): " + nodeName(f.node) +
                   ", " + D.nodes[f.node].shape),
          f.sent ? el("div", "rule", f.rule || "(no rule given)") : null,
          f.sent && f.filled ? el("div", "rule filled", f.filled) : null,
          f.sent ? array("gradient it receives", f.sent)
                 : el("div", "muted", "needs no gradient: backward skips its rule"));
      add(box, input);
    });
    add(box, source(node), note(node));
    panel(box);
  }
  function source(node) {
    return el("div", "source", node.source ? "made at " + node.source
      : "source line unknown: build the graph inside autograd.explore.record() to see it");
  }
  function note(node) { return node.note ? el("div", "bad-text note", node.note) : null; }
  function showNode(i, heading) {
    const node = D.nodes[i];
    const box = el("div", "details");
    add(box, el("h2", null, heading ? heading + ": " + node.label : node.label),
        el("div", "muted", node.kind + (node.op ? " made by " + node.op : "") + ", " + node.shape +
           " " + node.dtype),
        note(node), array("value", node.value), array("gradient", node.grad));
    const step = D.backward.find((s) => s.node === i);
    if (step) {
      add(box, el("div", "array-title", "rules (g: the gradient arriving at this result)"));
      step.inputs.forEach((f, k) => add(box,
        el("div", "rule", "input " + k + " " + nodeName(f.node) + ": " + (f.rule || "(no rule given)")),
        f.filled ? el("div", "rule filled", f.filled) : null));
    }
    add(box, source(node));
    panel(box);
  }

  // ------------------------------------------------------------ module boxes
  const inside = D.groups.map(() => new Set());  // node indices inside each box, nested included
  D.nodes.forEach((node, i) => {
    for (let g = node.group; g !== undefined && g !== null; g = D.groups[g].parent) inside[g].add(i);
  });
  function outermostCollapsed(i) {
    let found = null;
    for (let g = D.nodes[i].group; g !== undefined && g !== null; g = D.groups[g].parent) {
      if (state.collapsed.has(g)) found = g;
    }
    return found;
  }
  function hidden(i) { return outermostCollapsed(i) !== null; }
  function toggleBox(g) {
    if (state.collapsed.has(g)) state.collapsed.delete(g); else state.collapsed.add(g);
    applyCollapse();
  }
  function applyCollapse() {
    D.groups.forEach((g, k) => toggle(g.id, "collapsed", state.collapsed.has(k)));
    D.nodes.forEach((node, i) => {
      const h = hidden(i);
      ["t" + i, "o" + i, "r" + i].forEach((id) => toggle(id, "hidden", h));
      node.parents.forEach((p, k) => {  // an edge inside one collapsed box goes with it
        const inside = h && outermostCollapsed(p) === outermostCollapsed(i);
        toggle("e" + i + "_" + k, "hidden", inside);
      });
    });
    render();
  }

  // ------------------------------------------------------------ controls
  function go(pos) {
    state.pos = Math.max(-1, Math.min(steps().length - 1, pos));
    render();
  }
  function setMode(mode) {
    if (timer !== null) play();  // stop playing the other pass
    finishUpTo(0);  // undo the marks of the mode being left
    state.mode = mode;
    $("mode-backward").classList.toggle("on", mode === "backward");
    $("mode-forward").classList.toggle("on", mode === "forward");
    go(-1);
  }
  function zoom(factor) {
    state.zoom = factor === 0 ? fitZoom() : Math.max(0.1, Math.min(8, state.zoom * factor));
    svg.style.width = (natural.w * state.zoom) + "px";
    svg.style.height = (natural.h * state.zoom) + "px";
  }
  const natural = { w: svg.viewBox.baseVal.width, h: svg.viewBox.baseVal.height };
  function fitZoom() { return Math.min(1.2, ($("graph").clientWidth - 24) / natural.w); }

  let timer = null;  // playing: one step every PLAY_MS until the last
  const PLAY_MS = 700;
  function play() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
      $("play").textContent = "play";
      return;
    }
    if (state.pos >= steps().length - 1) go(-1);
    $("play").textContent = "pause";
    const next = () => (state.pos >= steps().length - 1 ? play() : go(state.pos + 1));
    timer = setInterval(next, PLAY_MS);
  }

  $("play").onclick = play;
  $("first").onclick = () => go(-1);
  $("prev").onclick = () => go(state.pos - 1);
  $("next").onclick = () => go(state.pos + 1);
  $("last").onclick = () => go(steps().length - 1);
  $("mode-backward").onclick = () => setMode("backward");
  $("mode-forward").onclick = () => setMode("forward");
  $("zoom-in").onclick = () => zoom(1.25);
  $("zoom-out").onclick = () => zoom(0.8);
  $("zoom-fit").onclick = () => zoom(0);
  $("collapse").onclick = () => { D.groups.forEach((_, k) => state.collapsed.add(k)); applyCollapse(); };
  $("expand").onclick = () => { state.collapsed.clear(); applyCollapse(); };
  document.addEventListener("keydown", (ev) => {
    const keys = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (ev.key in keys) { go(state.pos + keys[ev.key]); ev.preventDefault(); }
    else if (ev.key === "Home") { go(-1); ev.preventDefault(); }
    else if (ev.key === "End") { go(steps().length - 1); ev.preventDefault(); }
    else if (ev.key === " ") { play(); ev.preventDefault(); }
  });
  svg.addEventListener("click", (ev) => {
    const box = ev.target.closest("g.cluster");
    const node = ev.target.closest("g.node");
    if (node && !node.classList.contains("hidden")) {
      if (state.selected) state.selected.classList.remove("selected");
      state.selected = node;
      node.classList.add("selected");
      showNode(Number(node.id.slice(1)));
    } else if (box) {
      toggleBox(D.groups.findIndex((g) => g.id === box.id));
    }
  });

  // Non-finite marks stay for the whole session: where NaN or inf first appears, in red.
  D.nodes.forEach((node, i) => {
    if (!node.bad) return;
    const cls = node.bad.endsWith("born") ? "bad-born" : "bad";
    const e = byId("t" + i); if (e) e.classList.add(cls);
    if (node.bad === "grad born") { const o = byId("o" + i); if (o) o.classList.add(cls); }
  });
  zoom(0);
  render();
  document.body.dataset.ready = "true";  // for tests and screenshots: the page is set up
})();
