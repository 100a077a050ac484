"""The Gradio app: shopper chat with inline product cards, and the agent-copilot view.

Public face: :func:`ui.app.build_app` (a ``gr.Blocks``) and :func:`ui.app.serve`.
"""
