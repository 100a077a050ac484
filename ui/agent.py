"""The agent console: the customer thread, the draft (agent copy with footnotes and a customer copy
with product names and no internal markers), cited facts and suggested actions side by side;
Ctrl+Enter drafts. Also the operator's "About this deployment" panel (models, device, catalog)."""

from __future__ import annotations

from typing import Any

from ui import handlers
from ui.state import CopilotSession, session_state


def copilot_tab(gr: Any, assistant: Any) -> None:
    state = session_state(gr, CopilotSession())
    with gr.Row(equal_height=False, elem_id="sa-console"):
        with gr.Column(scale=1, min_width=240):
            gr.Markdown("### Customer thread")
            thread = gr.Markdown(handlers.thread_markdown(()), elem_id="sa-thread")
            message = gr.Textbox(label="Customer's new message", lines=4, elem_id="sa-customer",
                                 placeholder="Paste what the customer wrote… (Ctrl+Enter drafts a reply)")
            photo = gr.Image(label="Photo the customer sent (optional)", type="filepath", height=160,
                             sources=["upload", "clipboard"], elem_id="sa-customer-photo")
            with gr.Row():
                go = gr.Button("Draft reply  (Ctrl+Enter)", variant="primary", elem_id="sa-draft-btn")
                new = gr.Button("New customer")
        with gr.Column(scale=2, min_width=300):
            customer = gr.Textbox(label="Copy for customer (product names, no internal markers)", lines=7,
                                  interactive=True, buttons=["copy"], elem_id="sa-customer-copy")
            draft = gr.Textbox(label="Agent draft (footnotes point to the cited facts)", lines=5,
                               interactive=False, buttons=["copy"], elem_id="sa-draft")
            products = gr.HTML(elem_id="sa-cited-products")
        with gr.Column(scale=1, min_width=240):
            gr.Markdown("### Suggested actions")
            actions = gr.Markdown(elem_id="sa-actions")
            gr.Markdown("### Cited catalog facts")
            facts = gr.HTML(elem_id="sa-facts")

    def on_draft(text: str, image: str | None, session: CopilotSession) -> tuple[Any, ...]:
        return handlers.copilot_draft(assistant, text, session, image)

    def on_new() -> tuple[Any, ...]:
        return "", None, "", "", "", "", "", handlers.thread_markdown(()), CopilotSession()

    outputs = [customer, draft, products, facts, actions, thread, state]
    go.click(on_draft, [message, photo, state], outputs, api_name="draft").then(
        lambda: ("", None), None, [message, photo])
    new.click(on_new, None, [message, photo, *outputs], api_name="new_customer")


def about_panel(gr: Any, status: str) -> Any:
    """The operator's details, folded away (never on the shopper's page)."""
    with gr.Accordion("About this deployment (operators)", open=False, elem_id="sa-about"):
        return gr.Markdown(status, elem_id="sa-status")
