// jobs dashboard: live refresh, bulk selection and confirmations. No framework, no inline
// script (the Content-Security-Policy allows scripts from the dashboard only).
"use strict";

(function () {
  const LIVE_KEY = "jobs-dashboard-live";

  function liveEnabled() {
    return localStorage.getItem(LIVE_KEY) !== "off";
  }

  // Keeps the operator's work: no refresh while a row is ticked, a field has focus or a
  // <details> is open.
  function busy() {
    const main = document.getElementById("live");
    if (!main) return true;
    if (main.querySelector("input[type=checkbox]:checked")) return true;
    if (main.querySelector("details[open]")) return true;
    const active = document.activeElement;
    return !!(active && main.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName));
  }

  // The page's own address, without the notice of the action that led here.
  function pageUrl() {
    const url = new URL(window.location.href);
    url.searchParams.delete("done");
    url.searchParams.delete("n");
    return url;
  }

  async function refresh() {
    if (!liveEnabled() || document.hidden || busy()) return;
    try {
      const response = await fetch(pageUrl(), { headers: { "X-Jobs-Live": "1" }, credentials: "same-origin" });
      if (!response.ok) return;
      const html = await response.text();
      const next = new DOMParser().parseFromString(html, "text/html").getElementById("live");
      const main = document.getElementById("live");
      if (next && main && !busy()) {
        main.replaceChildren(...Array.from(next.childNodes).map((node) => document.importNode(node, true)));
        wire(main);
      }
    } catch (_) {
      // Offline or restarting: the next tick tries again.
    }
  }

  function wire(root) {
    const bulk = document.getElementById("bulk");
    if (bulk) {
      const boxes = () => Array.from(bulk.querySelectorAll("input[name=id]"));
      const update = () => {
        const n = boxes().filter((b) => b.checked).length;
        bulk.querySelectorAll("[data-bulk]").forEach((button) => { button.disabled = n === 0; });
        const label = bulk.querySelector("[data-selected]");
        if (label) label.textContent = n + " selected";
      };
      const all = bulk.querySelector("[data-select-all]");
      if (all) {
        all.addEventListener("change", () => {
          boxes().forEach((box) => { box.checked = all.checked; });
          update();
        });
      }
      boxes().forEach((box) => box.addEventListener("change", update));
      update();
    }
    root.querySelectorAll("[data-confirm]").forEach((button) => {
      button.addEventListener("click", (event) => {
        if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    wire(document);
    // The notice of an action shows once; a reload does not repeat it.
    if (window.history.replaceState) window.history.replaceState(null, "", pageUrl());
    const seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
    const toggle = document.getElementById("live-toggle");
    if (seconds > 0 && toggle) {
      const show = () => {
        toggle.textContent = liveEnabled() ? "live · " + seconds + "s" : "paused";
        toggle.classList.toggle("on", liveEnabled());
        toggle.setAttribute("aria-pressed", liveEnabled() ? "true" : "false");
      };
      toggle.hidden = false;
      toggle.addEventListener("click", () => {
        localStorage.setItem(LIVE_KEY, liveEnabled() ? "off" : "on");
        show();
      });
      show();
      window.setInterval(refresh, seconds * 1000);
    }
  });
})();
