"""The app's look: CSS (cards in a responsive grid, price prominent, phone layout) and the page script
that keeps each new reply's first line in view (modules, so they ship in wheels)."""

CSS = """
#sa-header { margin-bottom: 0; }
#sa-header h2 { margin: 0 0 2px 0; }
#sa-header p { margin: 0; opacity: 0.8; font-size: 0.95rem; }
#sa-warming { background: #e0f2fe; color: #075985; border-radius: 8px; padding: 6px 10px; }
.sa-text { margin-bottom: 0.5rem; line-height: 1.45; }
.sa-cards { display: grid; width: 100%; box-sizing: border-box;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, 165px), 1fr)); gap: 12px; margin-top: 8px; }
.sa-card { border: 1px solid rgba(128,128,128,0.35); border-radius: 12px; overflow: hidden; min-width: 0;
  box-sizing: border-box; background: var(--background-fill-primary, #fff); display: flex;
  flex-direction: column; }
.sa-card .sa-img { width: 100%; height: 160px; object-fit: contain; background: #fff; display: block;
  margin: 0 !important; border-radius: 0 !important; max-width: 100% !important; }
.sa-noimg { display: flex; align-items: center; justify-content: center; color: #888; font-size: 0.85rem; }
.sa-body { padding: 8px 10px 10px; display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.sa-title { font-weight: 600; font-size: 0.95rem; line-height: 1.25; overflow-wrap: anywhere; }
.sa-price { font-size: 1.25rem; font-weight: 800; color: #c2410c; }
.sa-opts { font-size: 0.75rem; display: flex; flex-wrap: wrap; gap: 3px; align-items: center; }
.sa-optlabel { opacity: 0.7; margin-right: 2px; }
.sa-chip { border: 1px solid rgba(128,128,128,0.4); border-radius: 999px; padding: 0 6px; }
.sa-why { font-size: 0.78rem; margin: 2px 0 0 0 !important; padding-left: 1.1em !important; opacity: 0.9; }
.sa-why li { margin: 0 !important; }
.sa-id { font-size: 0.7rem; opacity: 0.55; overflow-wrap: anywhere; }
.sa-notice { background: #fef3c7; color: #78350f; border-radius: 8px; padding: 4px 8px; margin: 4px 0;
  font-size: 0.85rem; }
.sa-confirm { background: #ede9fe; color: #3b0764; border-radius: 8px; padding: 6px 10px; }
.sa-compare { border-collapse: collapse; font-size: 0.85rem; margin: 6px 0; display: block;
  overflow-x: auto; }
.sa-compare th, .sa-compare td { border: 1px solid rgba(128,128,128,0.4); padding: 3px 8px;
  text-align: left; }
.sa-cites { font-size: 0.8rem; margin: 4px 0; }
.sa-shortlist ul { list-style: none; padding: 0; margin: 0; }
.sa-shortlist li { display: flex; justify-content: space-between; gap: 8px; padding: 4px 0;
  border-bottom: 1px solid rgba(128,128,128,0.25); font-size: 0.9rem; }
.sa-sl-price { font-weight: 700; color: #c2410c; white-space: nowrap; }
.sa-sl-total { margin-top: 6px; font-weight: 600; }
.sa-empty { opacity: 0.7; font-size: 0.9rem; }
.sa-footnotes { font-size: 0.85rem; padding-left: 1.2em; margin: 0; }
/* a reply with cards uses the full chat width so cards sit in a row */
#sa-chat .message-row:has(.sa-cards), #sa-chat .message-row:has(.sa-cards) .message,
#sa-chat .message-row:has(.sa-cards) .message-content { width: 100% !important; max-width: 100% !important;
  box-sizing: border-box; }
#sa-chat .message-row:has(.sa-cards) { margin-left: 0 !important; margin-right: 0 !important; }
#sa-chat .sa-cards img.sa-img { max-height: none; }
body, .gradio-container { font-family: var(--font), "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; }
@media (max-width: 640px) {
  #sa-header h2 { font-size: 1.15rem; }
  #sa-header p { font-size: 0.85rem; }
  #sa-chat { height: 68vh !important; max-height: 68vh !important; }
  .sa-card .sa-img { height: 200px; }
}
"""

# After each turn, scroll the chat (and the page) to the START of the newest reply, so its answer
# text and first cards are in view rather than the bottom of the card grid. Runs once per new reply.
HEAD = """
<script>
(() => {
  let lastKey = "";
  const replies = () => document.querySelectorAll("#sa-chat .message-row.bot-row, #sa-chat .bot-row");
  const toStart = () => {
    const all = replies();
    if (!all.length) { lastKey = ""; return; }
    const last = all[all.length - 1];
    const key = all.length + ":" + (last.querySelector(".sa-text") ? "final" : "partial");
    if (key === lastKey) return;
    lastKey = key;
    const box = scroller(last);
    if (box) {
      box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 4;
      const r = box.getBoundingClientRect();
      if (r.top < 0 || r.top > innerHeight * 0.5) box.scrollIntoView({block: "start", behavior: "instant"});
    } else {
      last.scrollIntoView({block: "start", behavior: "instant"});
    }
  };
  const scroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const y = getComputedStyle(p).overflowY;
      if ((y === "auto" || y === "scroll") && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  };
  new MutationObserver(() => requestAnimationFrame(toStart))
    .observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.closest("#sa-customer")) {
      e.preventDefault();
      document.querySelector("#sa-draft-btn")?.click();
    }
  });
})();
</script>
"""
