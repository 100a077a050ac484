"""The assistant: turn a shopper's (or agent's) message into a grounded, cited reply.

Public face: :class:`assistant.session.Assistant` with ``respond(turn) -> Reply`` (shopper) and
``draft(...) -> CopilotDraft`` (agent copilot); results in :mod:`assistant.results`.
"""
