//! Call recording to 8 kHz 16-bit WAV files: [`Recorder`] keeps both directions of a call in
//! one stereo file (left: the caller, right: what we send), [`MonoRecorder`] records one
//! direction (voicemail messages).
//!
//! Writes go through hound's buffered file writer in blocks. `push` cannot fail: the first
//! write error is kept, later pushes are ignored, and `finish` returns that error.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Duration;

/// Sample rate of recordings.
const RATE: u32 = 8000;

type Writer = hound::WavWriter<BufWriter<File>>;

fn spec(channels: u16) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

fn frames_duration(frames: u64) -> Duration {
    Duration::from_micros(frames * 1_000_000 / u64::from(RATE))
}

/// Records a call as a stereo WAV: left channel the caller, right channel the line (what we
/// play or relay to the caller).
pub struct Recorder {
    writer: Writer,
    frames: u64,
    error: Option<hound::Error>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("frames", &self.frames)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Creates (or truncates) the WAV file at `path`.
    pub fn create(path: &Path) -> Result<Recorder, hound::Error> {
        Ok(Recorder {
            writer: hound::WavWriter::create(path, spec(2))?,
            frames: 0,
            error: None,
        })
    }

    /// Appends `max(caller.len(), line.len())` stereo frames, padding the shorter side with
    /// silence. After a write error this does nothing; [`finish`](Self::finish) reports it.
    pub fn push(&mut self, caller: &[i16], line: &[i16]) {
        if self.error.is_some() {
            return;
        }
        let n = caller.len().max(line.len());
        let Ok(count) = u32::try_from(2 * n) else {
            self.error = Some(hound::Error::Unsupported);
            return;
        };
        let mut w = self.writer.get_i16_writer(count);
        for i in 0..n {
            w.write_sample(caller.get(i).copied().unwrap_or(0));
            w.write_sample(line.get(i).copied().unwrap_or(0));
        }
        match w.flush() {
            Ok(()) => self.frames += n as u64,
            Err(e) => self.error = Some(e),
        }
    }

    /// Writes the final header and closes the file; returns the recorded duration, or the
    /// first error met while recording.
    pub fn finish(self) -> Result<Duration, hound::Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.writer.finalize()?;
        Ok(frames_duration(self.frames))
    }
}

/// Records one direction of audio as a mono WAV (a voicemail message).
pub struct MonoRecorder {
    writer: Writer,
    samples: u64,
    error: Option<hound::Error>,
}

impl std::fmt::Debug for MonoRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonoRecorder")
            .field("samples", &self.samples)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl MonoRecorder {
    /// Creates (or truncates) the WAV file at `path`.
    pub fn create(path: &Path) -> Result<MonoRecorder, hound::Error> {
        Ok(MonoRecorder {
            writer: hound::WavWriter::create(path, spec(1))?,
            samples: 0,
            error: None,
        })
    }

    /// Appends the samples. After a write error this does nothing; [`finish`](Self::finish)
    /// reports it.
    pub fn push(&mut self, pcm: &[i16]) {
        if self.error.is_some() {
            return;
        }
        let Ok(count) = u32::try_from(pcm.len()) else {
            self.error = Some(hound::Error::Unsupported);
            return;
        };
        let mut w = self.writer.get_i16_writer(count);
        for &s in pcm {
            w.write_sample(s);
        }
        match w.flush() {
            Ok(()) => self.samples += pcm.len() as u64,
            Err(e) => self.error = Some(e),
        }
    }

    /// Writes the final header and closes the file; returns the recorded duration, or the
    /// first error met while recording.
    pub fn finish(self) -> Result<Duration, hound::Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.writer.finalize()?;
        Ok(frames_duration(self.samples))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(path: &Path) -> (hound::WavSpec, Vec<i16>) {
        let reader = hound::WavReader::open(path).expect("open recording");
        let spec = reader.spec();
        let samples = reader
            .into_samples::<i16>()
            .collect::<Result<Vec<_>, _>>()
            .expect("read samples");
        (spec, samples)
    }

    #[test]
    fn stereo_recording_puts_caller_left_and_line_right() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("call.wav");
        let mut rec = Recorder::create(&path).expect("create");
        rec.push(&[1, 2, 3], &[-1, -2, -3]);
        rec.push(&[4; 160], &[-4; 160]);
        let duration = rec.finish().expect("finish");
        assert_eq!(duration, Duration::from_micros(163 * 125));
        let (spec, samples) = read_back(&path);
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, 8000, 16)
        );
        assert_eq!(&samples[..6], &[1, -1, 2, -2, 3, -3]);
        assert_eq!(samples.len(), 2 * 163);
        assert_eq!(&samples[6..8], &[4, -4]);
    }

    #[test]
    fn shorter_side_is_padded_with_silence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("call.wav");
        let mut rec = Recorder::create(&path).expect("create");
        rec.push(&[7, 7], &[]);
        rec.push(&[], &[9]);
        rec.push(&[], &[]);
        assert_eq!(
            rec.finish().expect("finish"),
            Duration::from_micros(3 * 125)
        );
        assert_eq!(read_back(&path).1, [7, 0, 7, 0, 0, 9]);
    }

    #[test]
    fn mono_recording_reads_back_sample_for_sample() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("message.wav");
        let mut rec = MonoRecorder::create(&path).expect("create");
        let pcm: Vec<i16> = (0..8000).map(|i| (i * 3 % 2000) as i16 - 1000).collect();
        for frame in pcm.chunks(160) {
            rec.push(frame);
        }
        assert_eq!(rec.finish().expect("finish"), Duration::from_secs(1));
        let (spec, samples) = read_back(&path);
        assert_eq!((spec.channels, spec.sample_rate), (1, 8000));
        assert_eq!(samples, pcm);
    }

    #[test]
    fn recording_into_a_missing_folder_fails_at_create() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("no/such/dir/call.wav");
        assert!(Recorder::create(&path).is_err());
        assert!(MonoRecorder::create(&path).is_err());
    }
}
