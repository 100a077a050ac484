"""The assistant: turn a shopper's (or agent's) message into a grounded, cited reply.

Public face: :class:`assistant.session.Assistant` with ``respond(message, image_path, state) ->
(Reply, ConversationState)`` and ``stream(...)`` (shopper) and ``draft(message, thread) ->
CopilotDraft`` (agent copilot); ``assistant.session.load_assistant(settings)``;
``assistant.backends.describe(settings)``; results in :mod:`assistant.results`.
"""
