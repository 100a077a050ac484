"""The app's CSS: product cards in a responsive grid, price prominent (a module, so it ships in wheels)."""

CSS = """
#sa-status { font-size: 0.85rem; opacity: 0.85; }
.sa-text { margin-bottom: 0.5rem; line-height: 1.45; }
.sa-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
  gap: 12px; margin-top: 8px; }
.sa-card { border: 1px solid rgba(128,128,128,0.35); border-radius: 12px; overflow: hidden;
  background: var(--background-fill-primary, #fff); display: flex; flex-direction: column; }
.sa-card .sa-img { width: 100%; height: 170px; object-fit: contain; background: #fff; display: block;
  margin: 0 !important;
  border-radius: 0 !important; max-width: 100% !important; }
.sa-noimg { display: flex; align-items: center; justify-content: center; color: #888; font-size: 0.85rem; }
.sa-body { padding: 8px 10px 10px; display: flex; flex-direction: column; gap: 4px; }
.sa-title { font-weight: 600; font-size: 0.95rem; line-height: 1.25; }
.sa-price { font-size: 1.25rem; font-weight: 800; color: #c2410c; }
.sa-opts { font-size: 0.75rem; display: flex; flex-wrap: wrap; gap: 3px; align-items: center; }
.sa-optlabel { opacity: 0.7; margin-right: 2px; }
.sa-chip { border: 1px solid rgba(128,128,128,0.4); border-radius: 999px; padding: 0 6px; }
.sa-why { font-size: 0.78rem; margin: 2px 0 0 0 !important; padding-left: 1.1em !important; opacity: 0.9; }
.sa-why li { margin: 0 !important; }
.sa-id { font-size: 0.7rem; opacity: 0.55; }
.sa-notice { background: #fef3c7; color: #78350f; border-radius: 8px; padding: 4px 8px; margin: 4px 0;
  font-size: 0.85rem; }
.sa-compare { border-collapse: collapse; font-size: 0.85rem; margin: 6px 0; }
.sa-compare th, .sa-compare td { border: 1px solid rgba(128,128,128,0.4); padding: 3px 8px;
  text-align: left; }
.sa-cites { font-size: 0.8rem; margin: 4px 0; }
.sa-shortlist ul { list-style: none; padding: 0; margin: 0; }
.sa-shortlist li { display: flex; justify-content: space-between; gap: 8px; padding: 4px 0;
  border-bottom: 1px solid rgba(128,128,128,0.25); font-size: 0.9rem; }
.sa-sl-price { font-weight: 700; color: #c2410c; white-space: nowrap; }
.sa-sl-total { margin-top: 6px; font-weight: 600; }
.sa-empty { opacity: 0.7; font-size: 0.9rem; }
/* a reply with cards uses the full chat width so cards sit in a row */
#sa-chat .message-row:has(.sa-cards), #sa-chat .message-row:has(.sa-cards) .message,
#sa-chat .message-row:has(.sa-cards) .message-content { width: 100% !important; max-width: 100% !important; }
#sa-chat .sa-cards img.sa-img { max-height: none; }
"""
