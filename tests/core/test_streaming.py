"""The streaming commit policy (core.speech.streaming): with a scripted engine whose last words are
unstable, and with the real Whisper on spoken audio and on silence."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import audio
from core.speech.streaming import SAMPLE_RATE, SILENCE_KEEP_SECONDS, LocalAgreement, silero_speech_finder
from core.speech.transcript import Word

SCRIPT = "help my father has fallen he is not breathing please send an ambulance to gali number eight".split()
WORD_SECONDS = 0.4
PHRASE_WORDS, PAUSE = 4, 0.3  # a pause after every fourth word: the buffer is cut only in pauses


def word_span(i: int) -> tuple[float, float]:
    start = i * WORD_SECONDS + (i // PHRASE_WORDS) * PAUSE
    return start, start + WORD_SECONDS


def scripted_engine(unstable: set[int]):
    """Says the script's words that end within the buffer; on the passes in ``unstable`` the word
    still being spoken comes out wrong (as Whisper's last word often does)."""
    passes = [0]

    def transcribe(samples: np.ndarray, prompt: str | None) -> list[Word]:
        passes[0] += 1
        start = transcribe.buffer_start  # type: ignore[attr-defined]
        end = start + samples.size / SAMPLE_RATE
        words = []
        for i, text in enumerate(SCRIPT):
            w_start, w_end = word_span(i)
            if w_start >= start - 1e-6 and w_end <= end + 1e-6:
                garbled = passes[0] in unstable and w_end > end - WORD_SECONDS
                words.append(Word(word=text + "x" if garbled else text, start=w_start - start, end=w_end - start,
                                  confidence=0.9))
        return words

    return transcribe


def stream(unstable: set[int], chunk_seconds: float, trim_seconds: float = 12.0,
           deaf: frozenset[int] = frozenset(), settle_seconds: float | None = None) -> LocalAgreement:
    """``deaf``: the VAD checks (by number) at which it misses the speech."""
    engine = scripted_engine(unstable)
    checks = [0]

    def has_speech(samples: np.ndarray) -> bool:
        checks[0] += 1
        return checks[0] not in deaf

    agreement = LocalAgreement(engine, min_new_seconds=0.5, trim_seconds=trim_seconds, has_speech=has_speech,
                               settle_seconds=settle_seconds)
    total = int((word_span(len(SCRIPT) - 1)[1] + 0.2) * SAMPLE_RATE)
    step = int(chunk_seconds * SAMPLE_RATE)
    for at in range(0, total, step):
        engine.buffer_start = agreement.buffer_start  # type: ignore[attr-defined]
        agreement.insert(np.full(min(step, total - at), 0.1, dtype=np.float32))
        engine.buffer_start = agreement.buffer_start  # type: ignore[attr-defined]
        agreement.step()
    engine.buffer_start = agreement.buffer_start  # type: ignore[attr-defined]
    agreement.finish()
    return agreement


@settings(max_examples=60, deadline=None)
@given(unstable=st.sets(st.integers(1, 30), max_size=15), chunk=st.sampled_from([0.5, 0.7, 1.0, 1.3]),
       trim=st.sampled_from([2.0, 5.0, 12.0]), deaf=st.frozensets(st.integers(2, 30), max_size=8),
       settle=st.sampled_from([None, 0.5, 1.0]))
def test_every_word_is_committed_once_in_order_and_never_a_garbled_one_twice_agreed(unstable, chunk, trim, deaf,
                                                                                     settle):
    """Whatever the passes garble, whenever the VAD misses speech (after the first check) for less
    than the SILENCE_KEEP_SECONDS it keeps of what it calls silence, with or without settling."""
    missed_in_a_row = longest_run(deaf)
    assume((missed_in_a_row + 1) * chunk + WORD_SECONDS < SILENCE_KEEP_SECONDS)
    agreement = stream(unstable, chunk, trim, deaf, settle)
    committed = agreement.committed
    starts = [w.start for w in committed]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # never a word twice
    heard = [w.word.rstrip("x") for w in committed]
    assert heard == SCRIPT  # nothing lost, whatever the unstable passes said and wherever the buffer was cut
    # bounded: cut in the first pause between heard words after trim_seconds (a phrase and its pause
    # later at most), or to the last SILENCE_KEEP_SECONDS when the VAD hears nothing new; later by one
    # step for each check in a row at which the VAD missed the speech (no pass, nothing newly committed)
    bound = max(trim, SILENCE_KEEP_SECONDS) + (1 + missed_in_a_row) * chunk + PHRASE_WORDS * WORD_SECONDS + PAUSE
    assert agreement.buffer.size / SAMPLE_RATE <= bound


def test_a_vad_that_misses_a_word_after_a_phrase_loses_nothing():
    """Found by the property above: the VAD missed two checks in a row while "breathing" was spoken
    after a fully agreed phrase, and the silence trim (then one second kept) cut the word in half."""
    agreement = stream({2, 3, 4, 5, 9, 12, 19, 21, 22, 25, 30}, 0.5, 5.0, frozenset({3, 9, 10, 13, 18}))
    assert [w.word.rstrip("x") for w in agreement.committed] == SCRIPT


def longest_run(numbers: frozenset[int]) -> int:
    best = run = 0
    for number in range(max(numbers, default=0) + 1):
        run = run + 1 if number in numbers else 0
        best = max(best, run)
    return best


def test_a_word_is_committed_only_when_two_passes_agree():
    engine = scripted_engine(unstable={2})
    agreement = LocalAgreement(engine, min_new_seconds=0.5)
    engine.buffer_start = 0.0
    agreement.insert(np.full(int(1.2 * SAMPLE_RATE), 0.1, dtype=np.float32))
    first = agreement.step()
    assert first.committed == [] and [w.word for w in first.tentative] == ["help", "my", "father"]
    agreement.insert(np.full(int(1.2 * SAMPLE_RATE), 0.1, dtype=np.float32))
    second = agreement.step()  # pass 2 garbles its last word: only the agreed words before it commit
    assert [w.word for w in second.committed] == ["help", "my", "father"]
    assert [w.word for w in second.tentative] == ["has", "fallenx"]
    # the words shown trail speech from the oldest word not committed, not from where the pass ended
    assert agreement.decoded_until == pytest.approx(2.4)
    assert agreement.committed_through == pytest.approx(word_span(3)[0])


def flickering_engine(flicker: int):
    """The script's words that end within the buffer, word ``flicker`` read differently on every pass."""
    passes = [0]

    def transcribe(samples: np.ndarray, prompt: str | None) -> list[Word]:
        passes[0] += 1
        start = transcribe.buffer_start  # type: ignore[attr-defined]
        end = start + samples.size / SAMPLE_RATE
        return [Word(word=f"{text}{passes[0]}" if i == flicker else text, start=w_start - start, end=w_end - start,
                     confidence=0.9)
                for i, text in enumerate(SCRIPT) for w_start, w_end in [word_span(i)]
                if w_start >= start - 1e-6 and w_end <= end + 1e-6]

    return transcribe


def feed(agreement: LocalAgreement, engine, seconds: float, chunk: float = 0.5) -> list[tuple[float, list[Word]]]:
    """Stream ``seconds`` of audio in chunks; what each step committed, with the call's time of the step."""
    steps = []
    for _ in range(round(seconds / chunk)):
        engine.buffer_start = agreement.buffer_start
        agreement.insert(np.full(int(chunk * SAMPLE_RATE), 0.1, dtype=np.float32))
        engine.buffer_start = agreement.buffer_start
        steps.append((agreement.heard_seconds, agreement.step().committed))
    return steps


def test_a_word_the_passes_keep_changing_is_committed_once_settled_not_at_the_hang_up():
    engine = flickering_engine(flicker=2)  # "father", never the same twice
    plain = LocalAgreement(engine, min_new_seconds=0.5)
    feed(plain, engine, 5.0)
    assert [w.word for w in plain.committed] == ["help", "my"]  # two passes never agree: everything waits

    engine = flickering_engine(flicker=2)
    settling = LocalAgreement(engine, min_new_seconds=0.5, settle_seconds=1.0)
    steps = feed(settling, engine, 5.0)
    father_end = word_span(2)[1]
    step, (at, committed) = next((i, s) for i, s in enumerate(steps) if any(w.word.startswith("father") for w in s[1]))
    assert father_end + 1.0 <= at <= father_end + 1.0 + 0.5  # as soon as a pass heard a second after it
    assert f"father{step + 1}" in [w.word for w in committed]  # the reading of the latest pass (one per step)
    assert [w.word.rstrip("0123456789") for w in settling.committed][:6] == SCRIPT[:6]  # and the words after it


def test_the_last_words_before_a_pause_are_committed_in_the_pause_whatever_the_vad_says():
    """The VAD misses a short last word before a pause; the words before the pause must not wait for
    the caller to speak again (or hang up)."""
    engine = scripted_engine(unstable=set())
    agreement = LocalAgreement(engine, min_new_seconds=0.5)
    engine.buffer_start = 0.0
    agreement.insert(np.full(int(word_span(3)[1] * SAMPLE_RATE), 0.1, dtype=np.float32))  # "help my father has"
    agreement.has_speech = lambda samples: True  # heard the first time
    assert agreement.step().tentative
    agreement.has_speech = lambda samples: False  # then the pause: the VAD hears nothing
    agreement.insert(np.zeros(int(0.6 * SAMPLE_RATE), dtype=np.float32))
    assert [w.word for w in agreement.step().committed] == SCRIPT[:4]


def test_a_pass_that_drops_the_tentative_words_keeps_them_for_the_next():
    heard = scripted_engine(unstable=set())
    drops = [False]

    def engine(samples: np.ndarray, prompt: str | None) -> list[Word]:
        return [] if drops[0] else heard(samples, prompt)

    agreement = LocalAgreement(engine, min_new_seconds=0.5)
    heard.buffer_start = 0.0  # type: ignore[attr-defined]
    agreement.insert(np.full(int(1.3 * SAMPLE_RATE), 0.1, dtype=np.float32))
    first = [w.word for w in agreement.step().tentative]
    drops[0] = True  # the next pass drops them (a segment its guards judged unlikely)
    agreement.insert(np.full(int(0.6 * SAMPLE_RATE), 0.1, dtype=np.float32))
    assert [w.word for w in agreement.step().tentative] == first
    assert [w.word for w in agreement.finish().committed] == first  # still there at the hang-up


def test_silence_runs_no_pass_at_all():
    calls = []
    agreement = LocalAgreement(lambda s, p: calls.append(s) or [], has_speech=lambda samples: False)
    for _ in range(20):
        agreement.insert(np.zeros(SAMPLE_RATE, dtype=np.float32))
        assert agreement.step().decoded is False
    assert calls == [] and agreement.committed == []
    assert agreement.buffer.size <= SILENCE_KEEP_SECONDS * SAMPLE_RATE  # 20 s of silence: its last seconds kept


@pytest.fixture(scope="module")
def whisper():
    from core.speech.whisper import DecodeSettings, WhisperEngine

    return WhisperEngine(settings=DecodeSettings(beam_size=1), short_windows=True)  # as the live worker has it


def live_transcript(engine, samples: np.ndarray, chunk_seconds: float = 0.5) -> LocalAgreement:
    agreement = LocalAgreement(lambda s, p: engine.run_with_prompt(s, p)[1], has_speech=silero_speech_finder())
    step = int(chunk_seconds * SAMPLE_RATE)
    for at in range(0, samples.size, step):
        agreement.insert(samples[at:at + step])
        agreement.step()
    agreement.finish()
    return agreement


def test_whisper_streamed_says_what_it_says_offline_without_repeating_a_word(whisper, tmp_path):
    import jiwer

    path = tmp_path / "call.wav"
    phrase = ("Hello, police? There is a fire in the building next to the market. Two people are trapped on the "
              "third floor and one of them is not breathing. Please send the fire brigade and an ambulance.")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), phrase], check=True)
    samples = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), audio.load(path), np.zeros(SAMPLE_RATE, np.float32)])
    offline = whisper.run(samples)[0]
    agreement = live_transcript(whisper, samples)
    live = " ".join(w.word for w in agreement.committed)
    starts = [w.start for w in agreement.committed]
    assert starts == sorted(starts)
    assert jiwer.wer(offline.lower(), live.lower()) <= 0.15, (offline, live)
    assert {"fire", "breathing", "ambulance"} <= {w.word.lower().strip(".,") for w in agreement.committed}


def test_short_windows_stay_on_the_live_engine_s_own_thread_and_pass(whisper):
    """The live engine pads a pass to its buffer, not to 30 s; any other transcription keeps 30 s."""
    import faster_whisper.transcribe as transcribe_module

    from core.speech import whisper as whisper_module

    seen: list[int] = []
    padded = transcribe_module.pad_or_trim
    transcribe_module.pad_or_trim = lambda array, length=3000, *, axis=-1: (
        seen.append(padded(array, length, axis=axis).shape[axis]) or padded(array, length, axis=axis))
    try:
        samples = np.zeros(3 * SAMPLE_RATE, np.float32)
        samples[SAMPLE_RATE:2 * SAMPLE_RATE] = np.sin(np.arange(SAMPLE_RATE) / 5).astype(np.float32) * 0.1
        whisper.run(samples)
        assert seen and max(seen) < 3000  # the live engine: about the buffer's length
        assert not getattr(whisper_module._short_window, "on", False)  # off again after the pass
        seen.clear()
        whisper_module.WhisperEngine(settings=whisper_module.DecodeSettings(beam_size=1)).run(samples)
        assert seen and min(seen) == 3000  # a batch engine keeps Whisper's 30 s window
    finally:
        transcribe_module.pad_or_trim = padded


def test_whisper_streamed_writes_nothing_on_silence_or_noise(whisper):
    rng = np.random.default_rng(7)
    quiet = np.concatenate([np.zeros(5 * SAMPLE_RATE, np.float32),
                            (rng.standard_normal(5 * SAMPLE_RATE) * 0.003).astype(np.float32)])
    agreement = live_transcript(whisper, quiet)
    assert agreement.committed == []


def test_a_live_pass_decodes_its_window_once_and_still_times_its_words(whisper, tmp_path):
    """A live pass is one encoder run and one decoding of its buffer (faster-whisper would seek back to
    the last word and decode the rest again), yet every word keeps its time (from the alignment)."""
    import faster_whisper.transcribe as transcribe_module

    path = tmp_path / "phrase.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path),
                    "My father has collapsed and he is not breathing, please send"], check=True)
    samples = audio.load(path)
    encoded: list[int] = []
    encode = whisper._model.encode
    whisper._model.encode = lambda features, *args, **kwargs: encoded.append(1) or encode(features, *args, **kwargs)
    try:
        words = whisper.run_with_prompt(samples, None)[1]
    finally:
        del whisper._model.encode
    assert len(encoded) == 1
    assert {"father", "collapsed", "breathing"} <= {w.word.lower().strip(".,") for w in words}
    assert all(0 <= w.start <= w.end <= samples.size / SAMPLE_RATE + 0.1 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert transcribe_module.get_end([{"end": 2.0, "words": [{"end": 1.5}]}]) == 1.5  # off a live pass: as it was
    assert whisper._live_pass_options(np.zeros(60 * SAMPLE_RATE, np.float32))["max_new_tokens"] <= 224  # prompt + pass < 448


@pytest.mark.parametrize(("heard", "kept"), [
    ("my father has collapsed my father has collapsed my", "my father has collapsed"),
    ("sir please sir please sir please i am calling", "sir please"),
    ("help me help me please come", "help me help me please come"),  # a caller says it twice: kept
    ("please please please send help", "please please please send help"),  # one word repeated: kept
])
def test_a_pass_that_loops_is_cut_after_the_phrase_s_first_time(heard, kept):
    words = [Word(word=text, start=i * 0.3, end=i * 0.3 + 0.25, confidence=0.9) for i, text in enumerate(heard.split())]
    assert " ".join(w.word for w in LocalAgreement._cut_at_repeat(words)) == kept
