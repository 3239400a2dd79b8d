// Refreshes the dashboard's live part in place every data-every seconds (the page works without this:
// a <noscript> refresh reloads it). A failed fetch keeps what is shown and tries again next time.
(function () {
  const live = document.getElementById("live");
  if (!live) return;
  const every = Number(live.dataset.every || 30) * 1000;
  async function refresh() {
    if (document.hidden) return;
    // Never replace the part while someone is using one of its forms.
    if (live.contains(document.activeElement) && document.activeElement !== document.body &&
        document.activeElement.tagName !== "A") return;
    try {
      const response = await fetch(live.dataset.src, {credentials: "same-origin", headers: {"Accept": "text/html"}});
      if (response.ok && !response.redirected) live.innerHTML = await response.text();
    } catch (e) { /* offline for a moment: keep the last view */ }
  }
  setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
