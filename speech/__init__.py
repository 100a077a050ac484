"""Voice input: decode a recording, filter silence, and transcribe it with Whisper.

Public face: :func:`speech.asr.load_transcriber` (one model per process per backend, model and
device) returning a :class:`speech.asr.Transcriber` whose ``transcribe(path)`` gives a
:class:`speech.results.Transcript` or raises :class:`shopassist.errors.AudioError`;
:func:`speech.asr.describe` names the model for a status line. :mod:`speech.audio` does the checks
and decoding (PyAV via faster-whisper: wav, flac, mp3, ogg, webm -> 16 kHz mono).
"""
