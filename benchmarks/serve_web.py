"""`gru-tui serve web` seen from a real browser: time to first frame, memory per tab.

    python benchmarks/serve_web.py              # 10 tabs, one after the other
    python benchmarks/serve_web.py --tabs 30

Starts ``python -m gru_tui serve web`` on a free port and drives Debian's Chromium
(/usr/bin/chromium, or --chromium PATH) headless through Playwright, without Playwright's own
browser download. For each new tab:

(1) Time to first frame: from ``page.goto`` until xterm.js's buffer holds the app's step
    indicator "t = 1 /", i.e. page, scripts, websocket, a new app process and its first frame.
    The first tab also pays for Chromium's cold start of the page's scripts.
(2) Memory: the resident set (VmRSS) of every app process (the server's children) once all
    tabs are open, and of the server itself; then, after every tab is closed, the server's RSS
    again and how many app processes are left (none expected).

Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Keeps the xterm.js Terminal that textual.js makes, to read what it shows (it draws on a canvas).
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {configurable: true, set(value) {
  Object.defineProperty(this, "terminal", {value, writable: true, configurable: true});
  if (value && value.buffer) window.gruTerminal = value;
}});
"""
FIRST_LINES = """() => {
  const t = window.gruTerminal;
  if (!t) return "";
  let text = "";
  for (let y = 0; y < t.rows; y++) {
    const line = t.buffer.active.getLine(y);
    text += (line ? line.translateToString(true) : "") + "\\n";
  }
  return text;
}"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=10)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "gru_tui", "serve", "web", "--port",
                               str(port)], stdout=subprocess.PIPE, text=True, env=env,
                              stdin=subprocess.DEVNULL)
    url = re.search(r"https?://\S+", server.stdout.readline()).group(0)
    firsts = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=options.chromium, args=ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_init_script(CATCH_TERMINAL)
            pages = []
            for _ in range(options.tabs):
                page = context.new_page()
                start = time.perf_counter()
                page.goto(url)
                while "t = 1 /" not in page.evaluate(FIRST_LINES):
                    page.wait_for_timeout(5)
                firsts.append((time.perf_counter() - start) * 1000)
                pages.append(page)
            time.sleep(1.0)  # let every app settle after its first frame
            apps = children(server.pid)
            app_rss = [rss_mb(pid) for pid in apps]
            server_rss = rss_mb(server.pid)
            for page in pages:
                page.close()
            deadline = time.monotonic() + 30
            while children(server.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            left = len(children(server.pid))
            server_after = rss_mb(server.pid)
            browser.close()
    finally:
        server.send_signal(2)
        server.wait(timeout=30)

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"serve web, {options.tabs} tabs opened one after the other, headless Chromium; "
          f"{os.cpu_count()} CPUs, load average {load}")
    print(f"time to first frame (ms): first tab {firsts[0]:.0f}; later tabs median "
          f"{statistics.median(firsts[1:] or firsts):.0f}, max {max(firsts[1:] or firsts):.0f}")
    print(f"app processes while open: {len(apps)}; RSS per app (MB): median "
          f"{statistics.median(app_rss):.0f}, max {max(app_rss):.0f}")
    print(f"server RSS (MB): {server_rss:.0f} with the tabs open, {server_after:.0f} after "
          f"all closed; app processes left: {left}")


if __name__ == "__main__":
    main()
