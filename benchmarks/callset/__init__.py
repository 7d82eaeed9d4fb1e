"""The scripted-call set of the call-ranking benchmark (benchmarks/call_ranking.py).

scripts: the call scripts (data/tuning.yaml, data/heldout.yaml) and their loader;
voices: who speaks each script (held-out voices are never used in tuning);
channel: the telephone channel (8 kHz, 300-3400 Hz, G.711 mu-law, noise, packet loss);
synth: rendering a script to audio (espeak-ng, festival) and a call through a channel, cached;
human: RAVDESS and EmoDB clips for the transcriber-confidence figure;
figures: the benchmark's figures from per-call records (pure Python).
"""
