"""How a page's loading is measured, shared by the page tests and `bench/page_load.py`:
layout shift as Lighthouse scores it, a slow network and CPU through Chromium's DevTools
protocol, and the bytes that came over the wire."""

from __future__ import annotations

import json
from dataclasses import dataclass

from playwright.sync_api import BrowserContext, CDPSession, Page

# Cumulative Layout Shift as Lighthouse and web-vitals score it: shifts not caused by input,
# grouped in session windows (gaps under 1 s, windows at most 5 s); the worst window counts.
LAYOUT_SHIFT_SCRIPT = """
(() => {
  const state = { value: 0, shifts: [] };
  let session = 0, first = 0, last = 0;
  window.__layoutShift = state;
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.hadRecentInput) continue;
        if (session && entry.startTime - last < 1000 && entry.startTime - first < 5000) {
          session += entry.value;
        } else {
          session = entry.value;
          first = entry.startTime;
        }
        last = entry.startTime;
        state.value = Math.max(state.value, session);
        state.shifts.push({
          value: entry.value,
          at: Math.round(entry.startTime),
          sources: (entry.sources || []).map((s) => {
            const n = s.node;
            if (!n) return "?";
            return n.nodeName + (n.id ? "#" + n.id : "") +
              (n.className && typeof n.className === "string" ? "." + n.className : "");
          }),
        });
      }
    }).observe({ type: "layout-shift", buffered: true });
  } catch (e) {}
})();
"""


@dataclass(frozen=True)
class Network:
    """Conditions as DevTools sets them (`Network.emulateNetworkConditions`)."""

    latency_ms: float
    download_bytes_per_s: float
    upload_bytes_per_s: float


# DevTools' "Slow 3G": 500 kbit/s × 0.8 each way, 400 ms round trip.
SLOW_3G = Network(latency_ms=400, download_bytes_per_s=500 * 1000 / 8 * 0.8,
                  upload_bytes_per_s=500 * 1000 / 8 * 0.8)  # fmt: skip


def watch_layout_shift(context: BrowserContext) -> None:
    context.add_init_script(LAYOUT_SHIFT_SCRIPT)


def layout_shift(page: Page) -> dict:
    """{"value": CLS, "shifts": [...]} of the page so far."""
    return page.evaluate("window.__layoutShift || {value: 0, shifts: []}")


def throttle(page: Page, network: Network, cpu_slowdown: float = 1) -> CDPSession:
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": network.latency_ms,
            "downloadThroughput": network.download_bytes_per_s,
            "uploadThroughput": network.upload_bytes_per_s,
        },
    )
    if cpu_slowdown > 1:
        session.send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
    return session


class Transferred:
    """Bytes received over the wire (headers and compressed bodies) on one CDP session,
    from `Network.loadingFinished`; answers from the service worker or the memory cache
    cost nothing."""

    def __init__(self, session: CDPSession) -> None:
        self.bytes = 0
        self.requests = 0
        self._from_worker: set[str] = set()
        session.on("Network.responseReceived", self._received)
        session.on("Network.loadingFinished", self._finished)

    def _received(self, event: dict) -> None:
        response = event.get("response", {})
        if response.get("fromServiceWorker") or response.get("fromDiskCache"):
            self._from_worker.add(event["requestId"])

    def _finished(self, event: dict) -> None:
        if event["requestId"] in self._from_worker:
            return
        self.requests += 1
        self.bytes += int(event.get("encodedDataLength", 0))

    def reset(self) -> None:
        self.bytes = 0
        self.requests = 0


def signed_in(context: BrowserContext, login: dict) -> None:
    """Pages of this context find the member signed in (the sign-in answer `login` stored
    as the sign-in page stores it)."""
    token = json.dumps(login["access_token"])
    lifetime_ms = int(login["expires_in"]) * 1000
    context.add_init_script(
        f"localStorage.setItem('gridpoints.token', {token});"
        f"localStorage.setItem('gridpoints.tokenExpiresAt', String(Date.now() + {lifetime_ms}));"
    )
