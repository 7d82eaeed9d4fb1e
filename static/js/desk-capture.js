// The desk's AudioWorklet processor (loaded by desk.js with audioWorklet.addModule): it runs on the
// audio thread, takes the microphone at the AudioContext's rate, and posts the page 20 ms frames of
// 16 kHz 16-bit PCM (what /ws/live/desk/ takes, live/services.py DESK_RATE) with each frame's level.
const TARGET_RATE = 16000;
const FRAME_SAMPLES = TARGET_RATE / 50; // 20 ms

class DeskCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    // Input samples per output sample: 1 when the browser runs the context at 16 kHz itself (desk.js
    // asks it to, and its resampler is the better one); 3 or 2.75625 when it keeps the device's rate.
    this.step = sampleRate / TARGET_RATE;
    this.phase = 0; // input samples since the last output sample
    this.sum = 0; // of those samples: averaging them is the low-pass that keeps 8 kHz and above out
    this.count = 0;
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
    this.energy = 0;
    this.running = true;
    this.port.onmessage = (event) => { if (event.data === "stop") this.running = false; };
  }

  process(inputs) {
    const input = inputs[0]?.[0]; // the first channel: a headset microphone is mono
    if (input) {
      for (let i = 0; i < input.length; i += 1) {
        this.sum += input[i];
        this.count += 1;
        this.phase += 1;
        if (this.phase >= this.step) {
          this.phase -= this.step;
          this.push(this.sum / this.count);
          this.sum = 0;
          this.count = 0;
        }
      }
    }
    return this.running; // false lets the browser collect the node after a hang-up
  }

  push(sample) {
    const clipped = Math.max(-1, Math.min(1, sample));
    this.frame[this.filled] = clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
    this.energy += clipped * clipped;
    this.filled += 1;
    if (this.filled === FRAME_SAMPLES) {
      const level = Math.sqrt(this.energy / FRAME_SAMPLES);
      this.port.postMessage({ pcm: this.frame.buffer, level }, [this.frame.buffer]); // moved, not copied
      this.frame = new Int16Array(FRAME_SAMPLES);
      this.filled = 0;
      this.energy = 0;
    }
  }
}

registerProcessor("desk-capture", DeskCapture);
