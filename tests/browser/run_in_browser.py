"""Real-browser test of the course: every notebook as a learner meets it in JupyterLab.

For each notebook in notebooks/*.ipynb and solutions/*.ipynb this script

1. opens it in JupyterLab (started from this Python's environment on 127.0.0.1, a
   free port, a random token, temporary Jupyter config/runtime/data/settings dirs,
   serving a temporary COPY of the notebooks so nothing is written back to the repo);
2. runs all cells from the Run menu's command and waits until the kernel is idle;
3. fails if any cell shows an error output;
4. checks that every widget output renders as a widget (not "Loading widget...",
   "Error displaying widget: model not found" or a text repr), i.e. that the
   ipywidgets lab extension works;
5. for each widget, moves its sliders / presses its buttons / picks another
   dropdown option and fails unless at least one of these changes the widget's
   output (plot image or text);
5b. measures (and reports, never judges) each widget's latency: 5 actions per slider,
   dropdown and checkbox (arrow key, next option, click), each timed in the page from the
   action's event to the changed, decoded plot; a table per notebook, a course summary,
   every sample in build/browser/latency.json (first mode only);
6. races: first gives every slider one new value, back to back (the first widget
   messages); then appends a cell that draws matplotlib figures with mathtext and log axes
   in a loop, runs it, and while it runs moves every slider of every widget in rapid bursts
   (arrow keys on the slider, then values set through the widget's model, without
   waiting for any redraw); then waits until the kernel and every widget are idle and
   checks that each widget shows as many figures as before, none blank, and that the
   added cell shows every figure it showed;
7. after run-all, after every interaction of 5 and after the race of 6, fails on ANY new
   error anywhere in the notebook: an error or stderr output in any cell or inside any
   widget's Output (also one that a later redraw replaced: a MutationObserver watches the
   whole notebook), a traceback or "...Error: "/"...Exception: " text, "failed to load
   glyph", "Error displaying widget"; error and stderr messages the kernel sends while
   handling a widget message (a callback's exception that no Output shows); tracebacks
   or kernel restarts in the server's log;
8. saves a screenshot of the whole notebook, and one per widget after the interaction,
   under build/browser/.

A notebook that fails, fails: there are no retries.

Every notebook runs in the first mode; the notebooks with sliders run again in each
further mode (``--modes``, default ``course,default``), with all steps but the
one-at-a-time moves of 5:

* ``course``: the course's own JupyterLab setting, as ``make lab`` gives it: the override
  that ``make venv`` writes into this venv (share/jupyter/lab/settings/overrides.d) sets
  ``commsOverSubshells`` to ``disabled``, so widget messages go to the kernel's main
  shell and callbacks run on the main thread, after a running cell.
* ``default``: JupyterLab's own default (``perCommTarget``; a user setting in the test's
  temporary settings dir overrides the venv's override), i.e. what a learner gets in a
  JupyterLab the course does not configure: ipykernel >= 7 runs widget callbacks on a
  subshell thread, concurrently with a running cell, and only the course's drawing lock
  (backprop_lib/plotting/threadsafe.py) keeps matplotlib safe.
* ``percomm``: one subshell per comm (``perComm``; optional, not run by default).

For each mode the log prints the effective setting as the lab's settings API and the
page report it, and for each race the threads the kernel ran the slider callbacks on and
how many of them started while the added cell was running.

The browser is Debian's chromium (`which chromium`) driven by Playwright
(`pip install -e ".[browser]"`; Playwright's own browser download is not used).
JupyterLab and chromium are always stopped at the end, also on failure.

Usage: python tests/browser/run_in_browser.py [--repo DIR] [--out DIR] [--modes M,M] [NOTEBOOK ...]
The last line printed is "browser: N passed, M failed".
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Flags that work for Debian's chromium as root on a machine without a network:
# without the background-networking ones chromium's own connections are refused and
# slow everything down. --headless and --user-data-dir (a new empty one) are passed
# through Playwright's `headless=True` and `user_data_dir` instead.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

RUN_TIMEOUT_S = 300.0  # one notebook's "run all cells"
WIDGET_RENDER_TIMEOUT_S = 30.0
WIDGET_CHANGE_TIMEOUT_S = 30.0  # an interaction whose kernel callback is slow
SLOW_CELL_S = 20.0
MAX_CONTROLS_PER_WIDGET = 8
BAD_WIDGET_TEXT = ("Loading widget", "Error displaying widget", "model not found")

# The race (step 6 of the docstring).
RACE_KEY_PRESSES = 12     # arrow-key presses per slider, sent back to back
RACE_MODEL_SETS = 12      # values set through the slider's widget model per slider
RACE_MODEL_GAP_MS = 25    # between two of those values
RACE_SETTLE_TIMEOUT_S = 60.0  # the added cell draws at most this long after the bursts
STRESS_MAX_S = 180        # the added cell stops by itself after this long
MIN_INK = 0.002           # a figure with fewer non-white pixels than this is blank

# Latency (reported, never judged: a shared machine's timings are noise for a verdict).
LATENCY_ACTIONS = 5           # key presses / option changes per control, each waiting for the plot
LATENCY_TIMEOUT_S = 20.0      # an action whose plot has not changed by then counts as a miss
LATENCY_KINDS = ("slider", "select", "check")

SETTING_PLUGIN = "@jupyterlab/apputils-extension:kernels-settings"
SETTING_KEY = "commsOverSubshells"


@dataclass(frozen=True)
class Mode:
    key: str
    expected: str             # the effective commsOverSubshells this mode must run with
    user_setting: str | None  # written to the test's user settings; None: leave the venv's override
    title: str


MODES = {
    "course": Mode("course", "disabled", None,
                   "the course's setting (venv override, as `make lab`): widget messages on the main shell"),
    "default": Mode("default", "perCommTarget", "perCommTarget",
                    "JupyterLab's default: widget messages on a kernel subshell (callbacks on its own thread)"),
    "percomm": Mode("percomm", "perComm", "perComm",
                    "one kernel subshell per widget comm"),
}

# Controls are removed from a widget's clone before its "output signature" is taken,
# so a slider's own readout moving does not count as the output changing.
CONTROL_SELECTOR = ", ".join(
    [
        ".widget-slider",
        ".widget-dropdown",
        ".widget-button",
        ".widget-toggle-button",
        ".widget-toggle-buttons",
        ".widget-checkbox",
        ".widget-radio",
        ".widget-text",
        ".widget-textarea",
        ".widget-play",
        "button",
        "select",
        "input",
    ]
)

# Lines of the server's log (which also gets the kernel's stderr) that mean trouble.
BAD_LOG_LINE = re.compile(
    r"Traceback \(most recent call last\)|failed to load glyph|Exception in |ParseException"
    r"|Segmentation fault|restarting kernel|[Kk]ernel died"
)


# ---------------------------------------------------------------------------
# JupyterLab server
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def venv_overrides() -> list[tuple[Path, object]]:
    """(file, value) for every override of commsOverSubshells in this Python's JupyterLab app dir."""
    found = []
    settings = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    for path in sorted((settings / "overrides.d").glob("*.json")) + [settings / "overrides.json"]:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if SETTING_KEY in data.get(SETTING_PLUGIN, {}):
            found.append((path, data[SETTING_PLUGIN][SETTING_KEY]))
    return found


class JupyterLab:
    """JupyterLab on 127.0.0.1 with everything in a temporary directory."""

    def __init__(self, root: Path, tmp: Path, disabled_extensions: tuple[str, ...] = (),
                 user_settings: dict[str, dict] | None = None):
        self.root = root
        self.disabled_extensions = disabled_extensions
        self.user_settings = user_settings or {}
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None
        self.log_path = tmp / "jupyterlab.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        # JUPYTERLAB_DIR goes too: the lab's app dir (and its settings overrides) is this venv's.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MPLBACKEND"))}
        dirs = {
            "JUPYTER_CONFIG_DIR": self.tmp / "config",
            "JUPYTER_RUNTIME_DIR": self.tmp / "runtime",
            "JUPYTER_DATA_DIR": self.tmp / "data",
            "JUPYTERLAB_SETTINGS_DIR": self.tmp / "settings",
            "JUPYTERLAB_WORKSPACES_DIR": self.tmp / "workspaces",
            "IPYTHONDIR": self.tmp / "ipython",
            "MPLCONFIGDIR": self.tmp / "matplotlib",
        }
        for key, path in dirs.items():
            path.mkdir(parents=True, exist_ok=True)
            env[key] = str(path)
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        settings = dirs["JUPYTERLAB_SETTINGS_DIR"]
        # Render every cell (no windowing, so off-screen widgets exist in the DOM),
        # record each cell's execution time, never autosave, no news/update pop-ups.
        write_json(
            settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings",
            {"windowingMode": "none", "recordTiming": True},
        )
        write_json(settings / "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings", {"autosave": False})
        write_json(
            settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
            {"fetchNews": "false", "checkForUpdates": False},
        )
        for plugin, values in self.user_settings.items():  # e.g. a mode's commsOverSubshells
            ext, _, name = plugin.partition(":")
            write_json(settings / ext / f"{name}.jupyterlab-settings", values)
        if self.disabled_extensions:  # only to prove the test notices a broken front end
            write_json(
                dirs["JUPYTER_CONFIG_DIR"] / "labconfig" / "page_config.json",
                {"disabledExtensions": {name: True for name in self.disabled_extensions}},
            )
        cmd = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, method: str, path: str) -> object:
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def comms_setting(self) -> dict:
        """commsOverSubshells as the lab's settings API serves it (defaults include the overrides)."""
        data = self.api("GET", f"/lab/api/settings/{SETTING_PLUGIN}")
        default = data["schema"]["properties"][SETTING_KEY]["default"]
        user = (data.get("settings") or {}).get(SETTING_KEY)
        return {"default": default, "user": user, "effective": user if user is not None else default}

    def shutdown_kernels(self) -> None:
        try:
            for session in self.api("GET", "/api/sessions") or []:
                self.api("DELETE", f"/api/sessions/{session['id']}")
        except (urllib.error.URLError, OSError, ValueError):
            pass

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


# ---------------------------------------------------------------------------
# In-page helpers (JupyterLab's app object, exposed by expose_app_in_browser)
# ---------------------------------------------------------------------------

# window.__bt: the test's helpers in the page, installed once per page.
JS_INSTALL = r"""() => {
  const bt = window.__bt = {};
  const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
  const ERR = /Traceback \(most recent call last\)|\b[A-Z]\w*(Error|Exception)\b: |failed to load glyph|Error displaying widget|model not found/;
  const squash = (t) => t.replace(/\s+/g, ' ').trim();
  // A traceback's last exception line (with what follows it), else the text's end.
  const gist = (t) => {
    const lines = t.split('\n').map(l => l.trim()).filter(Boolean);
    for (let k = lines.length - 1; k >= 0; k--) {
      if (/^[A-Za-z_][\w.]*(Error|Exception|Warning)\b/.test(lines[k])) return squash(lines.slice(k, k + 3).join(' | ')).slice(0, 300);
    }
    return squash(t).slice(-300);
  };
  bt.panel = () => window.jupyterapp.shell.currentWidget;

  // Every error-like output rendered anywhere in the notebook, one string per output:
  // the cells' own outputs and the outputs inside widgets (ipywidgets' Output).
  bt.scan = () => {
    const w = bt.panel();
    const found = [];
    if (!w || !w.content || !w.content.widgets) return found;
    w.content.widgets.forEach((cell, i) => {
      if (cell.model.type !== 'code' || !cell.outputArea) return;
      cell.outputArea.node.querySelectorAll('[data-mime-type]').forEach(n => {
        const mime = n.getAttribute('data-mime-type') || '';
        const where = n.parentElement && n.parentElement.closest('.jupyter-widgets')
          ? `cell ${i}, inside its widget` : `cell ${i}`;
        const text = n.textContent || '';
        if (mime === WIDGET_MIME) {  // the renderer's own text when it cannot show the model
          if (/^\s*Error displaying widget/.test(text)) found.push(`${where}: ${squash(text).slice(0, 200)}`);
          return;
        }
        if (/stderr|error/i.test(mime)) {
          if (text.trim()) found.push(`${where}: ${mime.split('/').pop()} output: ${gist(text)}`);
          return;
        }
        const m = ERR.exec(text);
        if (m) found.push(`${where}: ${mime} output shows ${squash(text.slice(Math.max(0, m.index - 100), m.index + 200))}`);
      });
    });
    return found;
  };

  // From now on, record every error-like output that is not in the notebook now, even
  // one that is gone again by the time the test looks (a redraw that replaced it).
  bt.watch = () => {
    if (bt.observer) bt.observer.disconnect();
    const count = (keys) => { const c = new Map(); for (const k of keys) c.set(k, (c.get(k) || 0) + 1); return c; };
    const baseline = count(bt.scan());
    const reported = new Map();
    bt.fresh = [];
    bt.check = () => {
      for (const [k, c] of count(bt.scan())) {
        const known = (baseline.get(k) || 0) + (reported.get(k) || 0);
        if (c > known) { reported.set(k, c - (baseline.get(k) || 0)); bt.fresh.push(k); }
      }
    };
    bt.observer = new MutationObserver(() => {
      try { bt.check(); } catch (e) { bt.fresh.push('browser test: error scan failed: ' + e); }
    });
    bt.observer.observe(bt.panel().content.node, {childList: true, subtree: true, characterData: true});
    // Error and stderr messages the kernel sends while handling anything but a cell's
    // execution (a widget message): also those no Output shows (an exception raised in a
    // callback outside `with out:` only reaches JupyterLab's log console).
    bt.kernelErrors = [];
    const sc = bt.panel().sessionContext;
    if (bt.hooked !== sc) {
      bt.hooked = sc;
      sc.iopubMessage.connect((_, msg) => {
        if (!bt.kernelErrors || bt.hooked !== sc) return;
        const parent = (msg.parent_header || {}).msg_type || 'no parent';
        if (parent === 'execute_request') return;  // a cell's own output: scanned in the page
        const type = msg.header.msg_type;
        if (type === 'error') {
          bt.kernelErrors.push(`${gist(msg.content.ename + ': ' + msg.content.evalue)} (error message for a ${parent})`);
        } else if (type === 'stream' && msg.content.name === 'stderr') {
          bt.kernelErrors.push(`${gist(msg.content.text)} (stderr for a ${parent})`);
        }
      });
    }
  };
  bt.take = () => {
    if (!bt.check) return {page: [], kernel: []};
    bt.check();
    return {page: bt.fresh.splice(0), kernel: bt.kernelErrors.splice(0)};
  };
  bt.unwatch = () => {
    if (bt.observer) bt.observer.disconnect();
    bt.observer = null; bt.check = null; bt.kernelErrors = null; bt.hooked = null;
  };

  // The notebook's widget manager (held by every widget renderer in an output area).
  bt.manager = async () => {
    const w = bt.panel();
    const seen = new Set();
    const find = (x, depth) => {
      if (!x || depth > 8 || seen.has(x)) return null;
      seen.add(x);
      if (x._manager && x._manager.promise) return x._manager.promise;
      const kids = x.widgets || (x.layout && x.layout.widgets) || [];
      for (const k of Array.from(kids)) { const r = find(k, depth + 1); if (r) return r; }
      return null;
    };
    for (const cell of w.content.widgets) {
      if (cell.model.type !== 'code' || !cell.outputArea) continue;
      const p = find(cell.outputArea, 0);
      if (p) return await p;
    }
    return null;
  };
  bt.models = async () => {
    const m = await bt.manager();
    if (!m || !m._models) return [];
    const out = [];
    for (const id of Object.keys(m._models)) { try { out.push(await m._models[id]); } catch (e) { } }
    return out;
  };
  // Widget models with a state change not yet acknowledged by the kernel (ipywidgets'
  // throttle: a change is in flight until the kernel reports idle for its message).
  bt.unsettled = async () => (await bt.models())
    .filter(m => m.comm_live && (m._pending_msgs > 0 || m._msg_buffer !== null)).length;

  // The numeric sliders inside the element `sel`, marked with data-bt-slider=<model id>.
  bt.sliders = async (sel) => {
    const root = document.querySelector(sel);
    const found = [];
    bt.sliderModels = bt.sliderModels || {};
    if (!root) return found;
    for (const m of await bt.models()) {
      const name = m.get('_model_name') || '';
      if (!/^(Float|Int|FloatLog)SliderModel$/.test(name)) continue;
      for (const vp of Object.values(m.views || {})) {
        let v;
        try { v = await vp; } catch (e) { continue; }
        if (!v || !v.el || !root.contains(v.el)) continue;
        v.el.setAttribute('data-bt-slider', m.model_id);
        bt.sliderModels[m.model_id] = m;
        found.push({id: m.model_id, model: name, label: m.get('description') || '', min: m.get('min'),
                    max: m.get('max'), step: m.get('step'), base: m.get('base') ?? null, value: m.get('value')});
      }
    }
    return found;
  };
  // Set a slider's value through its model, one value after another, `gap` ms apart:
  // what the slider's own view does on every move, without waiting for any redraw.
  bt.burst = async (id, values, gap) => {
    const m = bt.sliderModels[id];
    for (const v of values) {
      m.set('value', v);
      m.save_changes();
      if (gap > 0) await new Promise(r => setTimeout(r, gap));
    }
    return m.get('value');
  };

  // Execute code in the notebook's kernel (not in a cell) and return user_expressions.r.
  bt.exec = async (code, expr) => {
    const kernel = bt.panel().sessionContext.session.kernel;
    const future = kernel.requestExecute(
      {code, silent: true, store_history: false, user_expressions: expr ? {r: expr} : {}}, true);
    const reply = await future.done;
    const c = reply.content;
    if (c.status !== 'ok') return {error: `${c.ename}: ${c.evalue}`};
    const r = c.user_expressions && c.user_expressions.r;
    if (!r) return {};
    if (r.status !== 'ok') return {error: `${r.ename}: ${r.evalue}`};
    return {value: r.data['text/plain']};
  };

  // Append a code cell to the open notebook (in the browser only) and start running it.
  bt.appendAndRun = (code) => {
    const nb = bt.panel().content;
    const shared = nb.model.sharedModel;
    shared.insertCell(shared.cells.length, {cell_type: 'code', source: code, metadata: {}});
    nb.deselectAll();
    nb.activeCellIndex = nb.widgets.length - 1;
    nb.mode = 'command';
    window.jupyterapp.commands.execute('notebook:run-cell');
    return nb.widgets.length - 1;
  };

  // Latency of one learner action: arm before the action, then the action's first
  // keydown / input / change event inside `sel` starts the clock and the moment every
  // <img> inside `sel` is there again (as many as before), shows a different set of
  // pictures and is decoded stops it. performance.now() in the page: Playwright's own
  // round trips do not count. bt.lat.ms is the latency, bt.lat.done once it is known.
  bt.armLatency = (sel) => {
    if (bt.lat && bt.lat.cleanup) bt.lat.cleanup();
    const root = document.querySelector(sel);
    const imgs = () => [...root.querySelectorAll('img')];
    const srcs = () => imgs().map(i => i.getAttribute('src') || '').join('\u0000');
    const before = srcs(), count = imgs().length;
    const rec = bt.lat = {t0: null, ms: null, done: false, images: count};
    const start = () => { if (rec.t0 === null) rec.t0 = performance.now(); };
    const events = ['keydown', 'input', 'change', 'click'];
    events.forEach(e => root.addEventListener(e, start, true));
    let seen = false;
    const observer = new MutationObserver(async () => {
      if (seen || rec.t0 === null) return;
      const now = imgs();
      if (now.length !== count || now.some(i => !i.getAttribute('src')) || srcs() === before) return;
      seen = true;
      await Promise.all(now.map(i => i.decode().catch(() => null)));
      rec.ms = performance.now() - rec.t0;
      rec.done = true;
      rec.cleanup();
    });
    observer.observe(root, {childList: true, subtree: true, attributes: true, attributeFilter: ['src']});
    rec.cleanup = () => {
      observer.disconnect();
      events.forEach(e => root.removeEventListener(e, start, true));
    };
    return count;
  };

  // Size and share of non-white pixels of every image inside `sel`.
  bt.figures = async (sel) => {
    const root = document.querySelector(sel);
    const out = [];
    if (!root) return out;
    for (const img of root.querySelectorAll('img')) {
      try { await img.decode(); } catch (e) { }
      const w = img.naturalWidth, h = img.naturalHeight;
      if (!w || !h) { out.push({w, h, ink: 0}); continue; }
      const c = document.createElement('canvas');
      c.width = w; c.height = h;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, w, h).data;
      let ink = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) ink++;
      }
      out.push({w, h, ink: ink / (w * h)});
    }
    return out;
  };

  bt.kernelComms = () => {
    const k = bt.panel().sessionContext.session.kernel;
    return {kernel: k ? k.commsOverSubshells : null, supportsSubshells: k ? !!k.supportsSubshells : null};
  };
  return true;
}"""

JS_PANEL_READY = """(path) => {
  const app = window.jupyterapp;
  if (!app) return false;
  const w = app.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.context.isReady) return false;
  const sc = w.sessionContext;
  return !!(sc && sc.isReady && sc.session && sc.session.kernel && sc.session.kernel.status === 'idle');
}"""

JS_STATE = """async () => {
  const w = window.jupyterapp.shell.currentWidget;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  let pending = 0;
  for (const cell of w.content.widgets) {
    if (cell.model.type !== 'code') continue;
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    if (prompt && prompt.textContent.includes('*')) pending += 1;
  }
  let unsettled = 0;
  try { unsettled = await window.__bt.unsettled(); } catch (e) { }
  return {status: kernel ? kernel.status : 'none', pending, unsettled};
}"""

# Per cell: errors, stderr, widget outputs (marked in the DOM), execution time.
JS_INSPECT = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = [];
  let widgetIndex = 0;
  w.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    const json = cell.model.toJSON();
    const outputs = json.outputs || [];
    const errors = outputs.filter(o => o.output_type === 'error')
      .map(o => o.ename + ': ' + o.evalue);
    const stderr = outputs.filter(o => o.output_type === 'stream' && o.name === 'stderr')
      .map(o => Array.isArray(o.text) ? o.text.join('') : o.text);
    const stdout = outputs.filter(o => o.output_type === 'stream' && o.name === 'stdout')
      .map(o => Array.isArray(o.text) ? o.text.join('') : o.text).join('');
    const widgets = [];
    const areas = cell.outputArea ? cell.outputArea.node.querySelectorAll(':scope > .jp-OutputArea-child') : [];
    if (cell.outputArea) cell.outputArea.node.setAttribute('data-bt-cell', String(i));
    outputs.forEach((o, k) => {
      if (o.data && o.data['application/vnd.jupyter.widget-view+json']) {
        const child = areas[k];
        const target = child ? child.querySelector('.jp-OutputArea-output') : null;
        if (target) target.setAttribute('data-bt-widget', String(widgetIndex));
        widgets.push({index: widgetIndex, found: !!target});
        widgetIndex += 1;
      }
    });
    const meta = json.metadata && json.metadata.execution;
    let seconds = null;
    if (meta && meta['iopub.execute_input'] && meta['shell.execute_reply']) {
      seconds = (Date.parse(meta['shell.execute_reply']) - Date.parse(meta['iopub.execute_input'])) / 1000;
    }
    const src = Array.isArray(json.source) ? json.source.join('') : json.source;
    cells.push({cell: i, executed: json.execution_count, errors, stderr, stdout, widgets, seconds,
                first_line: (src || '').split('\\n')[0].slice(0, 80)});
  });
  return cells;
}"""

JS_SIGNATURE = """(el, sel) => {
  const c = el.cloneNode(true);
  c.querySelectorAll(sel).forEach(n => n.remove());
  const imgs = [...c.querySelectorAll('img')].map(i => i.getAttribute('src') || '');
  const svgs = [...c.querySelectorAll('svg')].map(s => s.outerHTML);
  return c.textContent + '\\u0000' + imgs.join('\\u0000') + '\\u0000' + svgs.join('\\u0000');
}"""

# Controls of one widget, marked with data-bt-control so Playwright can address them.
JS_CONTROLS = """(el, prefix) => {
  const found = [];
  let j = 0;
  const mark = (node, kind, extra) => {
    const id = prefix + '-' + (j++);
    node.setAttribute('data-bt-control', id);
    const label = (node.closest('.widget-inline-hbox, .widget-inline-vbox, .jupyter-widgets') || node)
      .querySelector('.widget-label');
    const clean = (t) => (t || '').replace(/\u200b/g, '').trim();
    // a checkbox's own text is next to its box; its left label is an empty placeholder
    const text = clean(label && label.textContent) || clean((node.closest('.widget-checkbox') || node).textContent);
    found.push(Object.assign({id, kind, label: text}, extra || {}));
  };
  el.querySelectorAll('.noUi-target').forEach(n => mark(n, 'slider'));
  el.querySelectorAll('select').forEach(n => mark(n, 'select', {options: n.options.length}));
  el.querySelectorAll('.widget-toggle-buttons').forEach(n => mark(n, 'toggles'));
  el.querySelectorAll('.widget-radio-box').forEach(n => mark(n, 'radio'));
  el.querySelectorAll('.widget-checkbox input, .widget-toggle-button').forEach(n => mark(n, 'check'));
  el.querySelectorAll('button').forEach(n => {
    if (n.closest('.widget-toggle-buttons') || n.classList.contains('widget-toggle-button')) return;
    if (n.closest('.widget-play')) return;
    mark(n, 'button');
  });
  return found;
}"""

JS_OPEN = """async (path) => {
  const app = window.jupyterapp;
  await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
}"""

# Close the notebook without the "save changes?" dialog: nothing is ever saved.
JS_CLOSE = """() => {
  const app = window.jupyterapp;
  if (window.__bt) window.__bt.unwatch();
  for (const w of Array.from(app.shell.widgets('main'))) {
    if (w.context && w.context.model) w.context.model.dirty = false;
    w.dispose();
  }
}"""

# The effective commsOverSubshells of the page's kernel manager (set by JupyterLab's
# kernels-settings plugin from the composite setting once the app has started).
JS_PAGE_COMMS = "() => window.jupyterapp.serviceManager.kernels.commsOverSubshells"


# ---------------------------------------------------------------------------
# Code the test runs in the notebook's kernel
# ---------------------------------------------------------------------------

# Records, for every value change of the given widgets, the thread its callbacks ran on,
# whether they started / ended while the added cell ran, and on how many threads at once.
# The "start" observer is put before the course's own observers, the "end" one after.
PROBE_CODE = r'''
def _bt_install_probe(model_ids):
    import threading
    from ipywidgets.widgets.widget import _instances
    state = globals().setdefault("_bt_probe", {})
    state.update(cell_running=False, calls=[], running={}, max_threads=0, missing=[])
    lock = threading.Lock()

    # A callback may set another slider (nested callbacks on one thread): a stack per thread.
    def start(change):
        name = threading.current_thread().name
        record = {"thread": name, "start_in_cell": state["cell_running"], "end_in_cell": None}
        with lock:
            state["running"].setdefault(name, []).append(record)
            state["max_threads"] = max(state["max_threads"], sum(bool(v) for v in state["running"].values()))
            state["calls"].append(record)

    def end(change):
        with lock:
            stack = state["running"].get(threading.current_thread().name)
            if stack:
                stack.pop()["end_in_cell"] = state["cell_running"]

    for model_id in model_ids:
        widget = _instances.get(model_id)
        if widget is None:
            state["missing"].append(model_id)
            continue
        widget.observe(end, names="value")
        notifiers = widget._trait_notifiers["value"]["change"]
        notifiers.insert(0, start)


def _bt_probe_reset():
    state = globals().get("_bt_probe", {})
    state.update(calls=[], running={}, max_threads=0)


def _bt_probe_report():
    import json
    import threading
    state = globals().get("_bt_probe", {})
    calls = state.get("calls", [])
    threads = {}
    for c in calls:
        threads[c["thread"]] = threads.get(c["thread"], 0) + 1
    return json.dumps({
        "main": threading.main_thread().name,
        "calls": len(calls),
        "threads": threads,
        "started_in_cell": sum(bool(c["start_in_cell"]) for c in calls),
        "ended_in_cell": sum(bool(c["end_in_cell"]) for c in calls),
        "unfinished": sum(c["end_in_cell"] is None for c in calls),
        "max_threads": state.get("max_threads", 0),
        "missing": state.get("missing", []),
    })
'''

# The cell the race appends and runs: matplotlib figures with mathtext (new strings and
# font sizes each time, so the mathtext parser really parses) and log axes, drawn and
# some shown inline, in a loop until the test creates the stop file.
STRESS_CELL = r'''# Added by the browser test (not part of the notebook): matplotlib figures with mathtext
# and log axes, drawn in a loop in this kernel while the test moves the widgets' sliders.
import os as _bt_os
import time as _bt_time
import numpy as _bt_np
import matplotlib.pyplot as _bt_plt
_bt_state = globals().setdefault("_bt_probe", {})
_bt_state["cell_running"] = True
open("@START@", "w").close()
_bt_t0, _bt_k, _bt_shown = _bt_time.monotonic(), 0, 0
try:
    while not _bt_os.path.exists("@STOP@") and _bt_time.monotonic() - _bt_t0 < @MAX_S@:
        _bt_fig, _bt_ax = _bt_plt.subplots(figsize=(4, 3))
        _bt_x = _bt_np.logspace(-3, 3, 60)
        _bt_ax.loglog(_bt_x, _bt_x ** (1 + _bt_k % 3), label=r"$\sum_{i=%d} \alpha_i^{%d}$" % (_bt_k, _bt_k % 5))
        _bt_ax.set_title(r"$\frac{\partial L}{\partial w_{%d}} = 10^{-%d}$" % (_bt_k, _bt_k % 9),
                         fontsize=8 + _bt_k % 7)
        _bt_ax.set_xlabel(r"$\eta = 10^{%d}$, $\sqrt{%d}$" % (_bt_k % 4 - 3, _bt_k))
        _bt_ax.legend(fontsize=7 + _bt_k % 5)
        _bt_fig.canvas.draw()
        if _bt_k % 8 == 0:
            _bt_plt.show()
            _bt_shown += 1
        else:
            _bt_plt.close(_bt_fig)
        _bt_k += 1
finally:
    _bt_state["cell_running"] = False
print(f"browser test: drew {_bt_k} figures and showed {_bt_shown} while the sliders moved")
'''


# ---------------------------------------------------------------------------
# One notebook
# ---------------------------------------------------------------------------


@dataclass
class Result:
    path: str
    mode: str = ""
    ok: bool = True
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    run_seconds: float = 0.0
    n_cells: int = 0
    n_widgets: int = 0
    n_sliders: int = 0
    interactions: list[str] = field(default_factory=list)
    race: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    latency: list[dict] = field(default_factory=list)  # one row per control, see measure_latency

    def fail(self, msg: str) -> None:
        self.ok = False
        self.failures.append(msg)


class ErrorWatch:
    """New errors anywhere in the notebook, and in the server's log, since `start()`."""

    def __init__(self, page, lab: JupyterLab, res: Result):
        self.page, self.lab, self.res = page, lab, res
        self.offset = 0

    def start(self) -> None:
        self.page.evaluate("() => window.__bt.watch()")
        self.offset = self.lab.log_size()

    def check(self, after: str) -> bool:
        """Fail `res` for every new error (page or log) seen since the last check; True if none."""
        ok = True
        found = self.page.evaluate("() => window.__bt.take()")
        for err in found["page"]:
            self.res.fail(f"after {after}: {err}")
            ok = False
        for err in found["kernel"]:
            # an error the page shows (in a widget's Output) was reported above already
            head = err.rsplit(" (", 1)[0]
            if not any(head[-120:] in shown for shown in found["page"]):
                self.res.fail(f"after {after}: the kernel reported {err}")
                ok = False
        text = self.lab.log_since(self.offset)
        self.offset += len(text.encode())
        bad = [line.strip() for line in text.splitlines() if BAD_LOG_LINE.search(line)]
        if bad:
            # the last lines of the log's new part, where the exception's own line is
            tail = [line.strip() for line in text.splitlines() if line.strip()][-3:]
            self.res.fail(f"after {after}: the server/kernel log shows {bad[0][:200]!r} ... {' | '.join(tail)[:400]!r}")
            ok = False
        return ok


def wait_idle(page, timeout: float, settle: float = 0.5) -> bool:
    """Kernel idle, no cell queued/running and no widget change in flight, `settle` s in a row."""
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        state = page.evaluate(JS_STATE)
        if state["status"] == "idle" and state["pending"] == 0 and state["unsettled"] == 0:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= settle:
                return True
        elif state["status"] in ("dead", "none"):
            return False
        else:
            idle_since = None
        time.sleep(0.2)
    return False


def signature(root) -> str:
    return root.evaluate(JS_SIGNATURE, CONTROL_SELECTOR)


def act(page, control: dict) -> str:
    """Perform one learner action on a control; returns a description."""
    loc = page.locator(f'[data-bt-control="{control["id"]}"]')
    loc.scroll_into_view_if_needed()
    kind = control["kind"]
    if kind == "slider":
        box = loc.bounding_box()
        handle = loc.locator(".noUi-handle").first
        hbox = handle.bounding_box() if handle.count() else None
        if box is None:
            raise RuntimeError("slider has no box")
        centre = (hbox["x"] + hbox["width"] / 2 - box["x"]) / max(box["width"], 1) if hbox else 0.5
        frac = 0.25 if centre > 0.5 else 0.75
        page.mouse.click(box["x"] + frac * box["width"], box["y"] + box["height"] / 2)
        return f"slider {control['label']!r} clicked at {frac:.0%}"
    if kind == "select":
        current = loc.evaluate("n => n.selectedIndex")
        new = (current + 1) % max(control.get("options", 1), 1)
        loc.select_option(index=new)
        return f"dropdown {control['label']!r} -> option {new}"
    if kind == "toggles":
        buttons = loc.locator("button:not(.mod-active)")
        if buttons.count() == 0:
            raise RuntimeError("no inactive toggle button")
        text = buttons.first.inner_text()
        buttons.first.click()
        return f"toggle buttons {control['label']!r} -> {text!r}"
    if kind == "radio":
        radios = loc.locator("input:not(:checked)")
        if radios.count() == 0:
            raise RuntimeError("no unchecked radio button")
        radios.first.click()
        return f"radio buttons {control['label']!r}"
    if kind == "check":
        loc.click()
        return f"checkbox {control['label']!r} toggled"
    loc.click()
    return f"button {control['label']!r} pressed"


def wait_change(page, root, before: str, timeout: float) -> bool:
    """True once the widget's output signature differs from `before` and settles."""
    deadline = time.monotonic() + timeout
    start = time.monotonic()
    while time.monotonic() < deadline:
        now = signature(root)
        state = page.evaluate(JS_STATE)
        if now != before:
            wait_idle(page, max(1.0, deadline - time.monotonic()))
            return True
        if state["status"] == "idle" and state["unsettled"] == 0 and time.monotonic() - start > 3.0:
            return False
        time.sleep(0.25)
    return False


def widget_rendered(page, index: int, res: Result) -> bool:
    """The widget output `index` shows a widget view (the ipywidgets lab extension works)."""
    root = page.locator(f'[data-bt-widget="{index}"]')
    root.scroll_into_view_if_needed()
    # once one widget failed to render, the front end is broken: do not wait as long again
    wait = 3.0 if any("does not render" in f for f in res.failures) else WIDGET_RENDER_TIMEOUT_S
    deadline = time.monotonic() + wait
    text = ""
    while time.monotonic() < deadline:
        text = root.inner_text()
        has_view = root.locator(".jupyter-widgets, .lm-Widget.jupyter-widgets, [class*='widget-']").count() > 0
        if has_view and not any(bad in text for bad in BAD_WIDGET_TEXT):
            return True
        time.sleep(0.25)
    res.fail(f"widget {index} does not render as a widget (shows {text.strip()[:120]!r})")
    return False


def check_widget(page, cell: int, index: int, res: Result, watch: ErrorWatch, shots: Path, stem: str) -> None:
    """Operate each control of widget `index` (in code cell `cell`), one at a time.

    The output that must change is the whole output area of the cell: a cell may
    display its controls and an Output widget as two separate outputs. After each
    action the whole notebook (and the server's log) is checked for new errors.
    """
    root = page.locator(f'[data-bt-widget="{index}"]')
    outputs = page.locator(f'[data-bt-cell="{cell}"]')
    controls = root.evaluate(JS_CONTROLS, f"w{index}")[:MAX_CONTROLS_PER_WIDGET]
    if not controls:
        res.notes.append(f"widget {index} has no slider/button/dropdown to move (rendered: {root.inner_text().strip()[:60]!r})")
        outputs.screenshot(path=str(shots / f"{stem}__widget{index}.png"))
        return
    changed_any = False
    for control in controls:
        wait_idle(page, WIDGET_CHANGE_TIMEOUT_S)
        before = signature(outputs)
        try:
            what = act(page, control)
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            res.notes.append(f"widget {index}: could not operate {control['kind']} {control['label']!r}: {exc}")
            continue
        t0 = time.monotonic()
        changed = wait_change(page, outputs, before, WIDGET_CHANGE_TIMEOUT_S)
        dt = time.monotonic() - t0
        watch.check(f"widget {index}: {what}")
        if changed:
            changed_any = True
            res.interactions.append(f"widget {index}: {what} -> output changed ({dt:.1f} s)")
        else:
            res.notes.append(f"widget {index}: {what} -> output did not change")
    try:
        outputs.screenshot(path=str(shots / f"{stem}__widget{index}.png"))
    except Exception as exc:  # noqa: BLE001
        res.notes.append(f"widget {index}: screenshot failed: {exc}")
    if not changed_any:
        res.fail(f"widget {index}: no slider/button/dropdown changed its output")


def latency_action(page, control: dict) -> None:
    """One learner action on `control` for the latency table: a key press on a slider's
    handle (towards the end it is not at), the next option of a dropdown, a checkbox click."""
    loc = page.locator(f'[data-bt-control="{control["id"]}"]')
    if control["kind"] == "slider":
        handle = loc.locator(".noUi-handle").first
        now, top = (float(handle.get_attribute(a) or 0) for a in ("aria-valuenow", "aria-valuemax"))
        key = control.setdefault("key", "ArrowRight")
        if key == "ArrowRight" and now >= top - 1e-9 * max(abs(top), 1.0):
            key = control["key"] = "ArrowLeft"
        elif key == "ArrowLeft" and now <= float(handle.get_attribute("aria-valuemin") or 0) + 1e-12:
            key = control["key"] = "ArrowRight"
        handle.focus()
        page.keyboard.press(key)
    elif control["kind"] == "select":
        current = loc.evaluate("n => n.selectedIndex")
        loc.select_option(index=(current + 1) % max(control.get("options", 1), 1))
    else:
        loc.click()


def measure_latency(page, cell: int, index: int, res: Result) -> None:
    """Time LATENCY_ACTIONS actions on each slider, dropdown and checkbox of widget `index`,
    one after the other, each from the action's event to the changed, decoded plot in the
    page (see bt.armLatency); the next action waits for the kernel to be idle. Appends one
    row per control to `res.latency`. Reports, never fails: timings are not verdicts."""
    root = page.locator(f'[data-bt-widget="{index}"]')
    sel = f'[data-bt-cell="{cell}"]'
    controls = [c for c in root.evaluate(JS_CONTROLS, f"lat{index}") if c["kind"] in LATENCY_KINDS]
    for control in controls:
        page.locator(f'[data-bt-control="{control["id"]}"]').scroll_into_view_if_needed()
        samples, misses = [], 0
        for _ in range(LATENCY_ACTIONS):
            wait_idle(page, WIDGET_CHANGE_TIMEOUT_S, settle=0.3)
            if not page.evaluate("(sel) => window.__bt.armLatency(sel)", sel):
                break  # no image in this widget's output: nothing to time
            try:
                latency_action(page, control)
                page.wait_for_function("() => window.__bt.lat.done", timeout=LATENCY_TIMEOUT_S * 1000, polling=20)
                samples.append(page.evaluate("() => window.__bt.lat.ms") / 1000)
            except Exception:  # noqa: BLE001 - a plot that did not change in time is a miss, reported
                misses += 1
                page.evaluate("() => window.__bt.lat && window.__bt.lat.cleanup()")
        res.latency.append({"widget": index, "control": f"{control['kind']} {control['label']!r}",
                            "n": len(samples), "misses": misses, "samples_s": [round(x, 4) for x in samples],
                            "median_s": statistics.median(samples) if samples else None,
                            "max_s": max(samples) if samples else None})
    wait_idle(page, WIDGET_CHANGE_TIMEOUT_S)


def latency_table(res: Result) -> list[str]:
    lines = [f"{'widget':>6}  {'control':40s} {'n':>2}  {'median':>7}  {'max':>7}"]
    for row in res.latency:
        med = "-" if row["median_s"] is None else f"{row['median_s']:.3f} s"
        top = "-" if row["max_s"] is None else f"{row['max_s']:.3f} s"
        miss = f"  ({row['misses']} without a changed plot in {LATENCY_TIMEOUT_S:.0f} s)" if row["misses"] else ""
        lines.append(f"{row['widget']:>6}  {row['control'][:40]:40s} {row['n']:>2}  {med:>7}  {top:>7}{miss}")
    return lines


def latency_summary(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    return (f"{len(samples)} actions, median {statistics.median(samples):.3f} s, max {max(samples):.3f} s, "
            f"{sum(x < 0.1 for x in samples) / len(samples):.0%} under 0.1 s, "
            f"{sum(x < 0.2 for x in samples) / len(samples):.0%} under 0.2 s")


def write_latency(results: list[Result], path: Path) -> None:
    """Print the course's latency summary and write every row to `path` (JSON)."""
    rows = [dict(row, notebook=r.path, mode=r.mode) for r in results for row in r.latency]
    if not rows:
        return
    every = [x for row in rows for x in row["samples_s"]]
    summary = {"actions": len(every), "misses": sum(row["misses"] for row in rows),
               "median_s": statistics.median(every) if every else None, "max_s": max(every) if every else None}
    per_notebook = {}
    for r in results:
        mine = [x for row in r.latency for x in row["samples_s"]]
        if mine:
            per_notebook[r.path] = {"median_s": statistics.median(mine), "max_s": max(mine), "actions": len(mine)}
    write_json(path, {"what": "seconds from a learner's action (key press on a slider's handle, a dropdown's "
                              "next option, a checkbox click) to the widget's changed and decoded plot in the page",
                      "actions_per_control": LATENCY_ACTIONS, "summary": summary, "notebooks": per_notebook,
                      "rows": rows})
    print(f"browser: latency, mode {rows[0]['mode']}: {latency_summary(every)}; {summary['misses']} action(s) without a "
          f"changed plot; every row in {path}", flush=True)


def kernel_eval(page, code: str, expr: str | None = None):
    """Run `code` silently in the notebook's kernel; return the value of `expr` (a JSON string)."""
    reply = page.evaluate("([c, e]) => window.__bt.exec(c, e)", [code, expr])
    if "error" in reply:
        raise RuntimeError(f"kernel: {reply['error']}")
    if expr is None:
        return None
    return json.loads(ast.literal_eval(reply["value"]))


def burst_values(slider: dict, n: int, rng: random.Random) -> list:
    """`n` values spread over the inner 80% of the slider's range, on its step grid; the
    first differs from the slider's value (where the range allows), so it is a change."""
    lo, hi, step = float(slider["min"]), float(slider["max"]), float(slider["step"] or 0) or None
    log = slider["model"] == "FloatLogSliderModel"
    base = float(slider["base"] or 10)
    current = math.log(float(slider["value"]), base) if log else float(slider["value"])
    values = []
    for _ in range(n):
        for _attempt in range(20):
            x = lo + (hi - lo) * rng.uniform(0.1, 0.9)
            if step:
                x = lo + round((x - lo) / step) * step
            x = min(max(x, lo), hi)
            if values or abs(x - current) > 1e-9:
                break
        if slider["model"] == "IntSliderModel":
            values.append(int(round(x)))
        elif log:
            values.append(base ** x)
        else:
            values.append(round(x, 10))
    return values


def probe_report(page, res: Result, phase: str, mode: Mode, reset: bool) -> dict | None:
    """The kernel probe's record of the slider callbacks since the last reset; judged for `mode`."""
    try:
        probe = kernel_eval(page, "", "_bt_probe_report()")
        if reset:
            kernel_eval(page, "_bt_probe_reset()")
    except RuntimeError as exc:
        res.fail(f"{phase}: no probe report ({exc})")
        return None
    on_main = probe["threads"].get(probe["main"], 0)
    off_main = probe["calls"] - on_main
    if probe["missing"]:
        res.fail(f"{phase}: the kernel has no widget for slider model(s) {probe['missing']}")
    if probe["calls"] == 0:
        res.fail(f"{phase}: no slider change reached the kernel")
    if probe["unfinished"]:
        res.fail(f"{phase}: {probe['unfinished']} slider callback(s) never finished (one raised?)")
    if mode.expected == "disabled" and off_main:
        res.fail(f"{phase}: {off_main} callback(s) ran off the main thread although this mode's setting is "
                 f"'disabled': the setting is not in effect ({probe['threads']})")
    return probe


def burst(page, s: dict, rng: random.Random, keys: int, values: int) -> str:
    """`keys` arrow-key presses on slider `s`, then `values` values set through its model."""
    done = "no keys"
    if keys:
        handle = page.locator(f'[data-bt-slider="{s["id"]}"] .noUi-handle').first
        key = "ArrowRight" if float(s["value"]) <= (float(s["min"]) + float(s["max"])) / 2 else "ArrowLeft"
        try:
            handle.focus(timeout=5_000)
            for _ in range(keys):
                page.keyboard.press(key)
            done = f"{keys} x {key}"
        except Exception as exc:  # noqa: BLE001 - the model burst still runs
            done = f"no keys ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
    final = page.evaluate("([id, v, gap]) => window.__bt.burst(id, v, gap)",
                          [s["id"], burst_values(s, values, rng), RACE_MODEL_GAP_MS])
    return f"{s['label']!r} ({done}, {values} model value(s), last {final:.4g})"


def race(page, lab: JupyterLab, rel: str, widget_cells: dict[int, int], res: Result, watch: ErrorWatch,
         mode: Mode, tmp: Path, shots: Path, stem: str) -> None:
    """Step 6 of the module docstring: slider bursts, first alone, then while a drawing cell runs."""
    sliders: list[dict] = []
    for index, cell in widget_cells.items():
        for s in page.evaluate("(sel) => window.__bt.sliders(sel)", f'[data-bt-widget="{index}"]'):
            s["widget"], s["cell"] = index, cell
            sliders.append(s)
    res.n_sliders = len(sliders)
    if not sliders:
        return
    figures_before = {i: page.evaluate("(sel) => window.__bt.figures(sel)", f'[data-bt-widget="{i}"]')
                      for i in widget_cells}
    kernel_eval(page, PROBE_CODE + f"\n_bt_install_probe({[s['id'] for s in sliders]!r})\n")
    comms = page.evaluate("() => window.__bt.kernelComms()")
    rng = random.Random(f"{rel}:{mode.key}")
    t0 = time.monotonic()

    # 1. First moves: one new value for every slider, back to back, nothing else running.
    #    (The first widget messages may still reach the kernel's main shell while JupyterLab
    #    starts the subshell for the later ones: two threads drawing.)
    moved = [burst(page, s, rng, keys=0, values=1) for s in sliders]
    if not wait_idle(page, RUN_TIMEOUT_S, settle=1.0):
        res.fail(f"race: kernel and widgets not idle {RUN_TIMEOUT_S:.0f} s after the first moves")
    watch.check("the first moves (one value for every slider, back to back)")
    probe = probe_report(page, res, "first moves", mode, reset=True)
    if probe:
        res.race.append(f"first moves: {len(sliders)} sliders -> {probe['calls']} callbacks, threads "
                        f"{probe['threads']}, on at most {probe['max_threads']} thread(s) at once")

    # 2. Bursts on every slider, one slider after the other, without waiting for redraws,
    #    while an added cell draws figures with mathtext in a loop.
    start_file, stop_file = tmp / f"race-{mode.key}-{stem}.start", tmp / f"race-{mode.key}-{stem}.stop"
    for f in (start_file, stop_file):
        f.unlink(missing_ok=True)
    code = (STRESS_CELL.replace("@START@", str(start_file)).replace("@STOP@", str(stop_file))
            .replace("@MAX_S@", str(STRESS_MAX_S)))
    t1 = time.monotonic()
    stress_cell = page.evaluate("(code) => window.__bt.appendAndRun(code)", code)
    deadline = time.monotonic() + 60
    while not start_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if not start_file.exists():
        res.fail("race: the added drawing cell did not start within 60 s")
        stop_file.touch()
        wait_idle(page, RUN_TIMEOUT_S)
        return
    moved = [burst(page, s, rng, keys=RACE_KEY_PRESSES, values=RACE_MODEL_SETS) for s in sliders]
    dispatch_s = time.monotonic() - t1
    # Where callbacks run on a subshell, keep the cell drawing until every callback is done,
    # so they all overlap it; on the main shell they queue behind the cell anyway.
    if mode.expected != "disabled":
        deadline = time.monotonic() + RACE_SETTLE_TIMEOUT_S
        while time.monotonic() < deadline and page.evaluate("() => window.__bt.unsettled()") > 0:
            time.sleep(0.2)
    stop_file.touch()
    if not wait_idle(page, RUN_TIMEOUT_S, settle=1.0):
        res.fail(f"race: kernel and widgets not idle {RUN_TIMEOUT_S:.0f} s after the bursts ({page.evaluate(JS_STATE)})")
    time.sleep(0.5)  # the last redraw's image reaches the page
    res.phases["race"] = time.monotonic() - t0
    res.race.append(f"bursts: {len(sliders)} sliders moved in {dispatch_s:.1f} s while cell {stress_cell} drew: "
                    + "; ".join(moved))
    watch.check(f"the bursts while cell {stress_cell} drew")
    # the added cell ran to its end and shows every figure it showed
    cells = {c["cell"]: c for c in page.evaluate(JS_INSPECT)}
    drew = re.search(r"drew (\d+) figures and showed (\d+)", cells.get(stress_cell, {}).get("stdout", ""))
    if not drew:
        res.fail(f"race: the added drawing cell {stress_cell} did not run to its end (see its error above)")
    else:
        shown = len(page.evaluate("(sel) => window.__bt.figures(sel)", f'[data-bt-cell="{stress_cell}"]'))
        res.race.append(f"the added cell drew {drew.group(1)} figures, showed {drew.group(2)} with plt.show(), "
                        f"and {shown} are in its output")
        if shown < int(drew.group(2)):
            res.fail(f"race: the added cell {stress_cell} shows {shown} of the {drew.group(2)} figures it showed "
                     "with plt.show(); the others went elsewhere (see tests/browser/README.md)")
    probe = probe_report(page, res, "bursts", mode, reset=False)
    if probe:
        off_main = probe["calls"] - probe["threads"].get(probe["main"], 0)
        res.race.append(
            f"bursts: kernel connection commsOverSubshells={comms['kernel']!r}; {probe['calls']} callbacks, "
            f"threads {probe['threads']}; {probe['started_in_cell']} started and {probe['ended_in_cell']} ended "
            f"while the cell drew ({drew.group(1) + ' figures' if drew else '?'}); on at most "
            f"{probe['max_threads']} thread(s) at once"
        )
        if mode.expected != "disabled":
            if not off_main:
                res.fail(f"race: every callback ran on {probe['main']}: no kernel subshell in use, "
                         f"so this {mode.expected} run does not test what it claims")
            elif not probe["started_in_cell"]:
                res.fail("race: no slider callback started while the cell drew: the race was not provoked")
    # every widget shows as many figures as before, none of them blank
    for index, before in figures_before.items():
        if not before:
            continue
        after = page.evaluate("(sel) => window.__bt.figures(sel)", f'[data-bt-widget="{index}"]')
        if len(after) != len(before):
            res.fail(f"race: widget {index} shows {len(after)} figure(s) after the bursts, {len(before)} before")
        for k, fig in enumerate(after):
            if fig["ink"] < MIN_INK:
                res.fail(f"race: widget {index}'s figure {k} is blank after the bursts "
                         f"({fig['w']}x{fig['h']} px, {fig['ink']:.2%} non-white)")
        res.race.append(f"widget {index} shows {len(after)} figure(s) after the bursts: "
                        + ", ".join(f"{f['w']}x{f['h']} px {f['ink']:.1%} ink" for f in after))
    try:
        page.locator(f'[data-bt-cell="{next(iter(widget_cells.values()))}"]').scroll_into_view_if_needed()
    except Exception:  # noqa: BLE001
        pass


def full_screenshot(page, path: Path) -> None:
    """Screenshot of the whole notebook: grow the viewport to the notebook's height."""
    height = page.evaluate(
        """() => {
          const w = window.jupyterapp.shell.currentWidget;
          const scroller = w.content.node.querySelector('.jp-WindowedPanel-outer') || w.content.node;
          scroller.scrollTop = 0;
          return scroller.scrollHeight;
        }"""
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": int(min(max(height + 150, 800), 16000))})
    time.sleep(0.8)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def open_lab(context, lab: JupyterLab):
    page = context.new_page()
    page.goto(f"{lab.url}/lab?reset&token={lab.token}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started !== undefined", timeout=120_000)
    page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    page.evaluate(JS_INSTALL)
    return page


def test_notebook(page, lab: JupyterLab, rel: str, shots: Path, mode: Mode, tmp: Path, console: list[str],
                  controls: bool = True) -> Result:
    res = Result(rel, mode.key)
    stem = rel.replace("/", "_").removesuffix(".ipynb") + ("" if mode.key == "course" else f"__{mode.key}")
    t_start = time.monotonic()
    watch = ErrorWatch(page, lab, res)
    console.clear()
    try:
        page.evaluate(JS_OPEN, rel)
        page.wait_for_function(JS_PANEL_READY, arg=rel, timeout=120_000, polling=250)
        t0 = time.monotonic()
        res.phases["open"] = t0 - t_start
        log_offset = lab.log_size()
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        time.sleep(0.5)
        if not wait_idle(page, RUN_TIMEOUT_S, settle=1.0):
            res.fail(f"kernel not idle {RUN_TIMEOUT_S:.0f} s after 'Run All Cells' ({page.evaluate(JS_STATE)})")
        res.run_seconds = time.monotonic() - t0
        res.phases["run all"] = res.run_seconds
        cells = page.evaluate(JS_INSPECT)
        res.n_cells = len(cells)
        widget_cells: dict[int, int] = {}
        for c in cells:
            where = f"cell {c['cell']} ({c['first_line']!r})"
            for err in c["errors"]:
                res.fail(f"{where} shows an error: {err}")
            if c["executed"] is None and res.ok:
                res.fail(f"{where} was not executed")
            for s in c["stderr"]:
                if "Traceback" in s:
                    res.fail(f"{where} printed a traceback: {s[-300:]!r}")
                else:
                    res.notes.append(f"{where} wrote to stderr: {s.strip()[:160]!r}")
            if c["seconds"] is not None and c["seconds"] > SLOW_CELL_S:
                res.notes.append(f"{where} took {c['seconds']:.1f} s (> {SLOW_CELL_S:.0f} s)")
            for w in c["widgets"]:
                res.n_widgets += 1
                if not w["found"]:
                    res.fail(f"{where}: widget output {w['index']} has no output element in the page")
                elif widget_rendered(page, w["index"], res):
                    widget_cells[w["index"]] = c["cell"]
        # the run-all's own errors are judged above; from here on, every new one fails
        watch.start()
        watch.offset = log_offset
        watch.check("Run All Cells")
        if controls:
            for index, cell in widget_cells.items():
                check_widget(page, cell, index, res, watch, shots, stem)
            res.phases["widgets"] = time.monotonic() - t0 - res.run_seconds
            t_lat = time.monotonic()
            for index, cell in widget_cells.items():
                measure_latency(page, cell, index, res)
            watch.check("the latency measurement's actions")
            res.phases["latency"] = time.monotonic() - t_lat
        if widget_cells:
            race(page, lab, rel, widget_cells, res, watch, mode, tmp, shots, stem)
        body = page.locator(".jp-Notebook").inner_text()
        for bad in BAD_WIDGET_TEXT:
            if bad in body:
                res.fail(f"the notebook shows {bad!r}")
        watch.check("the last interaction")
        t1 = time.monotonic()
        full_screenshot(page, shots / f"{stem}.png")
        res.phases["screenshot"] = time.monotonic() - t1
    except Exception as exc:  # noqa: BLE001 - one notebook's failure must not stop the others
        res.fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        try:
            page.screenshot(path=str(shots / f"{stem}__failure.png"))
        except Exception:  # noqa: BLE001
            pass
    finally:
        try:
            page.evaluate(JS_CLOSE)
        except Exception:  # noqa: BLE001
            pass
        t2 = time.monotonic()
        lab.shutdown_kernels()
        res.phases["close"] = time.monotonic() - t2
    for line in dict.fromkeys(console):  # the page's own console errors: reported, not judged
        res.notes.append(f"browser console: {line[:200]}")
    res.seconds = time.monotonic() - t_start
    return res


# ---------------------------------------------------------------------------


def discover(repo: Path, explicit: list[str]) -> list[Path]:
    if explicit:
        return [Path(p).resolve() for p in explicit]
    return sorted(repo.glob("notebooks/*.ipynb")) + sorted(repo.glob("solutions/*.ipynb"))


def stage(notebooks: list[Path], root: Path) -> list[str]:
    """Copy each notebook's folder into `root` (the server's root); return relative paths."""
    rels = []
    copied: set[Path] = set()
    for nb in notebooks:
        folder = nb.parent
        if folder not in copied:
            shutil.copytree(
                folder, root / folder.name, dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
            )
            copied.add(folder)
        rels.append(f"{folder.name}/{nb.name}")
    return rels


def check_mode(lab: JupyterLab, page, mode: Mode) -> list[str]:
    """Print the effective commsOverSubshells (settings API and page); return problems."""
    problems = []
    api = lab.comms_setting()
    deadline = time.monotonic() + 20
    page_value = page.evaluate(JS_PAGE_COMMS)
    while page_value != mode.expected and time.monotonic() < deadline:  # set once the plugin has loaded
        time.sleep(0.25)
        page_value = page.evaluate(JS_PAGE_COMMS)
    source = "user setting in the test's settings dir" if api["user"] is not None else "settings default"
    overrides = venv_overrides()
    if api["user"] is None and overrides:
        source += " = venv override " + ", ".join(f"{p} ({v!r})" for p, v in overrides)
    print(f"browser: mode {mode.key}: {mode.title}", flush=True)
    print(f"browser: mode {mode.key}: {SETTING_KEY} = {api['effective']!r} per the lab's settings API "
          f"({source}); {page_value!r} in the page's kernel manager", flush=True)
    if mode.user_setting is None and not overrides:
        problems.append(f"no {SETTING_KEY} override under {Path(sys.prefix) / 'share/jupyter/lab/settings'} "
                        "(`make venv` writes it)")
    if api["effective"] != mode.expected:
        problems.append(f"the settings API serves {SETTING_KEY}={api['effective']!r}, this mode needs {mode.expected!r}")
    if page_value != mode.expected:
        problems.append(f"the page runs with {SETTING_KEY}={page_value!r}, this mode needs {mode.expected!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to test (default: notebooks/*.ipynb solutions/*.ipynb)")
    ap.add_argument("--repo", type=Path, default=REPO, help="repository whose notebooks/ and solutions/ are tested")
    ap.add_argument("--out", type=Path, default=REPO / "build" / "browser", help="screenshot folder")
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    ap.add_argument(
        "--modes", default="course,default",
        help=f"comma-separated, from {', '.join(MODES)}; every notebook runs in the first, "
             "the notebooks with sliders in the others",
    )
    ap.add_argument(
        "--disable-extension", action="append", default=[], metavar="NAME",
        help="disable a lab extension, e.g. @jupyter-widgets/jupyterlab-manager, to see the test fail",
    )
    args = ap.parse_args(argv)
    try:
        modes = [MODES[m.strip()] for m in args.modes.split(",") if m.strip()]
    except KeyError as exc:
        ap.error(f"unknown mode {exc}; known: {', '.join(MODES)}")

    notebooks = discover(args.repo, args.notebooks)
    if not notebooks:
        print(f"browser: no notebooks under {args.repo}/notebooks or {args.repo}/solutions")
        print("browser: 0 passed, 0 failed")
        return 0
    if not args.chromium:
        print("browser: chromium not found (apt-get install -y chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright  # test-only dependency: the `browser` extra

    # SIGTERM (a CI time limit, Ctrl-C from make) still runs the finally blocks below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()

    t_all = time.monotonic()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="browser-test-") as tmpdir, sync_playwright() as p:
        tmp = Path(tmpdir)
        root = tmp / "root"
        root.mkdir()
        all_rels = stage(notebooks, root)
        context = p.chromium.launch_persistent_context(
            str(tmp / "chromium-profile"),
            executable_path=args.chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(60_000)
        try:
            for n_mode, mode in enumerate(modes):
                rels = all_rels
                if n_mode > 0:  # the further modes only matter where widgets have sliders
                    rels = [r.path for r in results if r.mode == modes[0].key and r.n_sliders > 0]
                    if not rels:
                        print(f"browser: mode {mode.key}: no notebook with sliders to run", flush=True)
                        continue
                user = {SETTING_PLUGIN: {SETTING_KEY: mode.user_setting}} if mode.user_setting else {}
                lab = JupyterLab(root, tmp / f"jupyter-{mode.key}", tuple(args.disable_extension), user)
                t_mode = time.monotonic()
                try:
                    lab.start()
                    page = open_lab(context, lab)
                    console: list[str] = []
                    page.on("console", lambda m, c=console: c.append(m.text) if m.type == "error" else None)
                    page.on("pageerror", lambda e, c=console: c.append(str(e)))
                    print(f"browser: mode {mode.key}: JupyterLab on {lab.url} serving a copy in {root}, "
                          f"page loaded in {time.monotonic() - t_mode:.1f} s; chromium {args.chromium}", flush=True)
                    problems = check_mode(lab, page, mode)
                    if problems:
                        results.append(Result(f"(mode {mode.key} setup)", mode.key, ok=False, failures=problems))
                        print(f"FAIL [{mode.key}] setup: " + "; ".join(problems), flush=True)
                        continue
                    if n_mode > 0:
                        print(f"browser: mode {mode.key}: run all, widgets render, race (the one-at-a-time "
                              f"moves ran in mode {modes[0].key})", flush=True)
                    for rel in rels:
                        res = test_notebook(page, lab, rel, args.out, mode, tmp, console, controls=n_mode == 0)
                        results.append(res)
                        report(res)
                    page.close()
                except Exception as exc:  # noqa: BLE001
                    print(f"browser: mode {mode.key}: setup failed: {exc}\n{lab.log_tail()}", file=sys.stderr)
                    results.append(Result(f"(mode {mode.key} setup)", mode.key, ok=False, failures=[str(exc)]))
                finally:
                    lab.stop()
                print(f"browser: mode {mode.key}: {time.monotonic() - t_mode:.1f} s", flush=True)
        finally:
            context.close()

    write_latency(results, args.out / "latency.json")
    passed = sum(r.ok for r in results)
    failed = len(results) - passed
    print(f"browser: screenshots in {args.out}; {time.monotonic() - t_all:.1f} s in all")
    for mode in modes:
        mine = [r for r in results if r.mode == mode.key]
        print(f"browser: mode {mode.key} ({SETTING_KEY} {mode.expected}): "
              f"{sum(r.ok for r in mine)} passed, {len(mine) - sum(r.ok for r in mine)} failed")
    print(f"browser: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def report(res: Result) -> None:
    status = "PASS" if res.ok else "FAIL"
    print(
        f"{status} [{res.mode}] {res.path}: {res.n_cells} code cells, {res.n_widgets} widgets, "
        f"{res.n_sliders} sliders, {res.seconds:.1f} s ("
        + ", ".join(f"{k} {v:.1f} s" for k, v in res.phases.items())
        + ")",
        flush=True,
    )
    for line in res.interactions:
        print(f"    ok    {line}")
    for line in res.race:
        print(f"    race  {line}")
    if res.latency:
        mine = [x for row in res.latency for x in row["samples_s"]]
        print(f"    latency  (action -> changed plot in the page): {latency_summary(mine)}")
        for line in latency_table(res):
            print(f"    latency  {line}")
    for line in res.notes:
        print(f"    note  {line}")
    for line in res.failures:
        print(f"    FAIL  {line}")


if __name__ == "__main__":
    sys.exit(main())
