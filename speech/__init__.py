"""Voice input: decode a recording, filter silence, and transcribe it with Whisper.

Public face: :func:`speech.asr.load_transcriber` (one model per process) returning a
:class:`speech.asr.Transcriber` whose ``transcribe(path)`` gives a
:class:`speech.results.Transcript`.
"""
