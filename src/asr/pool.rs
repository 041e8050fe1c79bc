//! A bounded pool of recognition workers shared by every call.
//!
//! Calls submit utterances; `workers` OS threads run the recognizer (whisper is CPU-bound and
//! blocking, so it never runs on the async runtime). The queue is bounded: when it is full a
//! submission fails at once, and a job whose deadline passed before a worker reached it is
//! answered with an error instead of being run. Either way the call hears about it and hands
//! the caller to a person — never a stuck call. A recognizer that panics costs that job, not
//! the worker; a worker that dies anyway (a panic outside the recognizer) drops its job, whose
//! caller goes to a person, and is started again at once, so the pool never shrinks.

use super::recognizer::{AsrError, RecognizeOptions, Recognizer, Transcript};
use super::resample::Upsampler;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// One utterance to recognise.
pub struct Job {
    /// The utterance as the phone delivered it: 8 kHz, 16-bit (resampled on the worker).
    pub pcm8k: Vec<i16>,
    /// Language, hints and window.
    pub options: RecognizeOptions,
    /// Not started after this: answered with [`AsrError::Engine`] ("deadline missed").
    pub deadline: Instant,
    /// A look that may give way: while it runs (or before it starts), a job that may not
    /// waiting for a worker stops it, answered with [`AsrError::Preempted`]. For second
    /// looks, which cost a wider window: a finished turn must never wait behind one.
    pub preemptible: bool,
}

/// What a job's submitter gets back.
pub type Reply = oneshot::Receiver<Result<Recognized, AsrError>>;

/// A transcript and how long it took.
#[derive(Debug, Clone)]
pub struct Recognized {
    /// The text and its language.
    pub transcript: Transcript,
    /// Time in the queue.
    pub queued: Duration,
    /// Time in the recognizer.
    pub took: Duration,
    /// Pitch and loudness of the audio (measured on the worker, beside the words).
    pub prosody: Option<crate::media::Prosody>,
}

struct Queued {
    job: Job,
    submitted: Instant,
    reply: oneshot::Sender<Result<Recognized, AsrError>>,
    /// Counted in [`Health::urgent_waiting`] until a worker takes it.
    urgent: Option<Urgent>,
    /// Counts the job out of [`Health::outstanding`] when it is dropped: answered, refused
    /// or lost with a dying worker alike.
    _count: Outstanding,
}

impl Queued {
    /// Sends the answer with the job already counted out: the caller it wakes may ask at once
    /// whether a worker is idle (for a second look) and must hear yes.
    fn answer(self, result: Result<Recognized, AsrError>) {
        let Queued { reply, _count, .. } = self;
        drop(_count);
        let _ = reply.send(result);
    }
}

struct Outstanding(Arc<Health>);

/// A caller counted as speaking ([`AsrPool::speaking`]) until this is dropped.
pub struct Speaking(Arc<Health>);

impl Drop for Speaking {
    fn drop(&mut self) {
        self.0.speakers.fetch_sub(1, Relaxed);
    }
}

impl std::fmt::Debug for Speaking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Speaking")
    }
}

/// A job that may not give way, waiting for a worker: counted out of
/// [`Health::urgent_waiting`] when a worker takes it or it is refused.
struct Urgent(Arc<Health>);

impl Drop for Urgent {
    fn drop(&mut self) {
        self.0.urgent_waiting.fetch_sub(1, Relaxed);
    }
}

impl Drop for Outstanding {
    fn drop(&mut self) {
        self.0.outstanding.fetch_sub(1, Relaxed);
    }
}

/// The shared pool.
pub struct AsrPool {
    tx: SyncSender<Queued>,
    workers: usize,
    health: Arc<Health>,
}

/// What the workers tell the pool, and the fault a test may arm.
#[derive(Debug, Default)]
struct Health {
    /// Jobs submitted and not yet answered (queued or running).
    outstanding: AtomicUsize,
    /// Jobs that may not give way, submitted and not yet taken by a worker: while there is
    /// one, a preemptible job stops.
    urgent_waiting: AtomicUsize,
    /// Callers in the middle of an utterance (see [`AsrPool::speaking`]).
    speakers: AtomicUsize,
    /// Workers that died and were started again.
    restarts: AtomicU64,
    /// The next job kills the worker that takes it ([`AsrPool::die_on_next_job`]).
    die_on_next_job: AtomicBool,
}

impl std::fmt::Debug for AsrPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsrPool")
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl AsrPool {
    /// Starts `workers` threads (at least one) sharing `recognizer`, with room for `queue`
    /// waiting jobs.
    pub fn new(recognizer: Arc<dyn Recognizer>, workers: usize, queue: usize) -> AsrPool {
        let workers = workers.max(1);
        let (tx, rx) = sync_channel::<Queued>(queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let health = Arc::new(Health::default());
        for i in 0..workers {
            let rx = Arc::clone(&rx);
            let rec = Arc::clone(&recognizer);
            let health = Arc::clone(&health);
            let spawned = std::thread::Builder::new()
                .name(format!("asr-{i}"))
                .spawn(move || supervise(i, &rx, rec.as_ref(), &health));
            if let Err(e) = spawned {
                tracing::error!("cannot start ASR worker {i}: {e}");
            }
        }
        AsrPool {
            tx,
            workers,
            health,
        }
    }

    /// Workers that died and were started again since the pool began.
    pub fn restarts(&self) -> u64 {
        self.health.restarts.load(Relaxed)
    }

    /// Fault injection (the `asr_worker_dies` failpoint and the tests): the next job kills the
    /// worker thread that takes it, as a bug outside the recognizer would.
    pub fn die_on_next_job(&self) {
        self.health.die_on_next_job.store(true, Relaxed);
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// True when a worker could start a job now (nothing queued, a worker free). Early,
    /// speculative looks at an utterance are only worth sending then: they must never make a
    /// finished turn wait.
    pub fn has_idle_worker(&self) -> bool {
        self.health.outstanding.load(Relaxed) < self.workers
    }

    /// Counts a caller as speaking until the guard is dropped (at the end of the utterance,
    /// or when the call stops listening): their turn will need a worker soon.
    pub fn speaking(&self) -> Speaking {
        self.health.speakers.fetch_add(1, Relaxed);
        Speaking(Arc::clone(&self.health))
    }

    /// True when a long speculative look (a second look through a wider window, about 1 s of a
    /// worker that whisper cannot stop inside its encoder) may start: a worker is idle and no
    /// caller is in the middle of an utterance whose end would have to wait for it.
    pub fn has_room_for_a_long_look(&self) -> bool {
        self.has_idle_worker() && self.health.speakers.load(Relaxed) == 0
    }

    /// Like [`AsrPool::has_idle_worker`], not counting `own` jobs of the asking call that are
    /// still outstanding and may give way (its early second look: a checkpoint of the same
    /// caller, which may not give way, stops it).
    pub fn has_idle_worker_but(&self, own: usize) -> bool {
        self.health.outstanding.load(Relaxed) < self.workers + own
    }

    /// Like [`AsrPool::has_room_for_a_long_look`] for a caller still counted as speaking
    /// (`me`): the look is about their own turn, whose window is running, so only other
    /// callers in the middle of an utterance keep it from starting.
    pub fn has_room_for_a_long_look_beside(&self, me: bool) -> bool {
        self.has_idle_worker() && self.health.speakers.load(Relaxed) <= usize::from(me)
    }

    /// Queues a job; fails at once when the queue is full or the pool is gone.
    pub fn submit(&self, job: Job) -> Result<Reply, AsrError> {
        let (reply, rx) = oneshot::channel();
        self.health.outstanding.fetch_add(1, Relaxed);
        let urgent = (!job.preemptible).then(|| {
            self.health.urgent_waiting.fetch_add(1, Relaxed);
            Urgent(Arc::clone(&self.health))
        });
        let queued = Queued {
            job,
            submitted: Instant::now(),
            reply,
            urgent,
            _count: Outstanding(Arc::clone(&self.health)),
        };
        match self.tx.try_send(queued) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => Err(AsrError::Engine(
                "recognition queue full (server overloaded)".into(),
            )),
            Err(TrySendError::Disconnected(_)) => {
                Err(AsrError::Engine("recognition workers are gone".into()))
            }
        }
    }
}

/// Runs worker `i` until the pool is dropped, starting it again whenever it dies.
fn supervise(i: usize, rx: &Mutex<Receiver<Queued>>, rec: &dyn Recognizer, health: &Health) {
    loop {
        let ended =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(rx, rec, health)));
        match ended {
            Ok(()) => return,
            Err(_) => {
                let n = health.restarts.fetch_add(1, Relaxed) + 1;
                tracing::error!(
                    worker = i,
                    restarts = n,
                    "ASR worker died; its caller is handed to a person; starting it again"
                );
                // A worker that dies at once every time must not spin a core.
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Takes jobs until the pool is dropped. Panics only on a bug (or the armed fault); the
/// job in hand is then dropped, which its caller sees as "the recognition worker stopped".
fn work(rx: &Mutex<Receiver<Queued>>, rec: &dyn Recognizer, health: &Health) {
    let mut upsampler = match Upsampler::new() {
        Ok(u) => u,
        Err(e) => {
            // Cannot happen with the fixed ratio; without it this worker cannot serve at all.
            tracing::error!("ASR worker cannot resample: {e}");
            return;
        }
    };
    loop {
        // A worker that died while waiting poisons nothing it matters to keep.
        let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(mut q) = next else {
            return;
        };
        // Taken: no longer waiting.
        drop(q.urgent.take());
        if health.die_on_next_job.swap(false, Relaxed) {
            panic!("failpoint asr_worker_dies: the ASR worker dies holding a job");
        }
        let started = Instant::now();
        if started > q.job.deadline {
            let waited = (started - q.submitted).as_secs_f64();
            q.answer(Err(AsrError::Engine(format!(
                "deadline missed: waited {waited:.1} s in the recognition queue"
            ))));
            continue;
        }
        let give_way = || health.urgent_waiting.load(Relaxed) > 0;
        if q.job.preemptible && give_way() {
            q.answer(Err(AsrError::Preempted));
            continue;
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let pcm16k = upsampler.upsample(&q.job.pcm8k)?;
            if q.job.preemptible {
                rec.transcribe_unless(&pcm16k, &q.job.options, &give_way)
            } else {
                rec.transcribe(&pcm16k, &q.job.options)
            }
        }));
        let prosody = crate::media::Prosody::measure(&q.job.pcm8k);
        let result = match result {
            Ok(r) => r.map(|transcript| Recognized {
                transcript,
                queued: started - q.submitted,
                took: started.elapsed(),
                prosody,
            }),
            Err(_) => Err(AsrError::Engine("the recognizer crashed".into())),
        };
        q.answer(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo(Duration);
    impl Recognizer for Echo {
        fn transcribe(&self, pcm: &[f32], opts: &RecognizeOptions) -> Result<Transcript, AsrError> {
            std::thread::sleep(self.0);
            Ok(Transcript {
                text: format!("{} samples", pcm.len()),
                language: opts.language.clone().unwrap_or_default(),
                confidence: None,
                doubt: None,
                segments: Vec::new(),
            })
        }
    }

    struct Crash;
    impl Recognizer for Crash {
        fn transcribe(&self, _: &[f32], _: &RecognizeOptions) -> Result<Transcript, AsrError> {
            panic!("model blew up")
        }
    }

    fn job(n: usize, deadline: Duration) -> Job {
        Job {
            pcm8k: vec![0; n],
            options: RecognizeOptions::default(),
            deadline: Instant::now() + deadline,
            preemptible: false,
        }
    }

    #[tokio::test]
    async fn a_worker_is_free_when_its_answer_arrives() {
        // A second look is only sent when a worker is idle; the call asks right after the first
        // look's answer wakes it, so the job must be counted out before the answer is sent
        // (it was after: the look was skipped now and then, and 快递 stayed at the menu).
        let pool = AsrPool::new(Arc::new(Echo(Duration::ZERO)), 1, 4);
        for _ in 0..300 {
            let reply = pool.submit(job(160, Duration::from_secs(5))).unwrap();
            assert!(reply.await.unwrap().is_ok());
            assert!(pool.has_idle_worker());
        }
    }

    #[tokio::test]
    async fn a_job_comes_back_with_its_text() {
        let pool = AsrPool::new(Arc::new(Echo(Duration::ZERO)), 2, 4);
        let r = pool
            .submit(job(160, Duration::from_secs(5)))
            .unwrap()
            .await
            .unwrap();
        assert_eq!(
            r.unwrap().transcript.text,
            "320 samples",
            "8 kHz in, 16 kHz to the recognizer"
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_instead_of_waiting() {
        let pool = AsrPool::new(Arc::new(Echo(Duration::from_secs(2))), 1, 1);
        let _running = pool.submit(job(1, Duration::from_secs(5))).unwrap();
        // A fixed sleep here failed on a loaded CI machine: wait until the worker holds it.
        let taken = std::time::Instant::now() + Duration::from_secs(5);
        while pool.health.urgent_waiting.load(Relaxed) > 0 && std::time::Instant::now() < taken {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _queued = pool.submit(job(1, Duration::from_secs(5))).unwrap();
        let e = pool.submit(job(1, Duration::from_secs(5))).unwrap_err();
        assert!(e.to_string().contains("queue full"), "{e}");
    }

    #[tokio::test]
    async fn a_job_past_its_deadline_is_not_run() {
        let pool = AsrPool::new(Arc::new(Echo(Duration::from_millis(200))), 1, 4);
        let _first = pool.submit(job(1, Duration::from_secs(5))).unwrap();
        let late = pool.submit(job(1, Duration::from_millis(10))).unwrap();
        let e = late.await.unwrap().unwrap_err();
        assert!(e.to_string().contains("deadline missed"), "{e}");
    }

    #[tokio::test]
    async fn a_worker_that_dies_drops_its_job_and_is_started_again() {
        let pool = AsrPool::new(Arc::new(Echo(Duration::ZERO)), 1, 4);
        pool.die_on_next_job();
        let lost = pool.submit(job(160, Duration::from_secs(5))).unwrap().await;
        assert!(lost.is_err(), "the dead worker's job has no answer");
        // The job's answer is dropped while the thread unwinds, a moment before the pool
        // counts the restart.
        let counted = std::time::Instant::now() + Duration::from_secs(5);
        while pool.restarts() == 0 && std::time::Instant::now() < counted {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(pool.restarts(), 1);
        let next = pool
            .submit(job(160, Duration::from_secs(5)))
            .unwrap()
            .await
            .unwrap();
        assert_eq!(
            next.unwrap().transcript.text,
            "320 samples",
            "the only worker is back"
        );
    }

    #[tokio::test]
    async fn a_crashing_recognizer_fails_the_job_and_the_worker_lives_on() {
        let pool = AsrPool::new(Arc::new(Crash), 1, 4);
        for _ in 0..2 {
            let e = pool
                .submit(job(1, Duration::from_secs(5)))
                .unwrap()
                .await
                .unwrap()
                .unwrap_err();
            assert!(e.to_string().contains("crashed"), "{e}");
        }
    }

    /// Takes 2 s unless told to stop, looking every 5 ms.
    struct Patient;
    impl Recognizer for Patient {
        fn transcribe(&self, pcm: &[f32], opts: &RecognizeOptions) -> Result<Transcript, AsrError> {
            self.transcribe_unless(pcm, opts, &|| false)
        }
        fn transcribe_unless(
            &self,
            pcm: &[f32],
            opts: &RecognizeOptions,
            stop: &(dyn Fn() -> bool + Sync),
        ) -> Result<Transcript, AsrError> {
            for _ in 0..400 {
                if stop() {
                    return Err(AsrError::Preempted);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Echo(Duration::ZERO).transcribe(pcm, opts)
        }
    }

    #[tokio::test]
    async fn a_look_that_may_give_way_stops_for_a_finished_turn() {
        let pool = AsrPool::new(Arc::new(Patient), 1, 4);
        let second_look = pool
            .submit(Job {
                preemptible: true,
                ..job(160, Duration::from_secs(5))
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let t0 = Instant::now();
        let turn = pool.submit(job(160, Duration::from_secs(5))).unwrap();
        let stopped = second_look.await.unwrap().unwrap_err();
        assert!(matches!(stopped, AsrError::Preempted), "{stopped}");
        assert!(
            t0.elapsed() < Duration::from_millis(500),
            "stopped at once, not after its 2 s: {:?}",
            t0.elapsed()
        );
        let heard = turn.await.unwrap().unwrap();
        assert_eq!(heard.transcript.text, "320 samples");
        assert!(
            heard.queued < Duration::from_millis(500),
            "the turn waited {:?} for the worker",
            heard.queued
        );
    }

    #[tokio::test]
    async fn a_look_that_may_give_way_runs_to_the_end_when_nothing_waits() {
        let pool = AsrPool::new(Arc::new(Patient), 1, 4);
        let r = pool
            .submit(Job {
                preemptible: true,
                ..job(160, Duration::from_secs(5))
            })
            .unwrap()
            .await
            .unwrap();
        assert_eq!(r.unwrap().transcript.text, "320 samples");
    }

    #[tokio::test]
    async fn no_long_look_starts_while_another_caller_is_speaking() {
        let pool = AsrPool::new(Arc::new(Echo(Duration::ZERO)), 1, 4);
        assert!(pool.has_room_for_a_long_look());
        let caller = pool.speaking();
        let other = pool.speaking();
        assert!(
            !pool.has_room_for_a_long_look(),
            "two callers mid-utterance"
        );
        drop(caller);
        assert!(!pool.has_room_for_a_long_look(), "one still speaking");
        drop(other);
        assert!(
            pool.has_room_for_a_long_look(),
            "nobody speaking, worker idle"
        );
    }

    #[tokio::test]
    async fn an_idle_worker_is_seen_only_while_nothing_waits() {
        let pool = AsrPool::new(Arc::new(Echo(Duration::from_millis(200))), 1, 4);
        assert!(pool.has_idle_worker());
        let running = pool.submit(job(1, Duration::from_secs(5))).unwrap();
        assert!(!pool.has_idle_worker(), "the only worker is busy");
        running.await.unwrap().unwrap();
        let freed = std::time::Instant::now() + Duration::from_secs(5);
        while !pool.has_idle_worker() && std::time::Instant::now() < freed {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            pool.has_idle_worker(),
            "free again once the job is answered"
        );
    }

    #[tokio::test]
    async fn a_caller_mid_turn_may_look_again_at_it_and_their_own_look_does_not_bar_their_next() {
        let pool = AsrPool::new(Arc::new(Patient), 1, 4);
        let me = pool.speaking();
        assert!(!pool.has_room_for_a_long_look(), "someone is speaking");
        assert!(
            pool.has_room_for_a_long_look_beside(true),
            "the only one speaking is the caller whose turn it is"
        );
        let other = pool.speaking();
        assert!(
            !pool.has_room_for_a_long_look_beside(true),
            "another caller too"
        );
        drop(other);
        let mut look = job(1, Duration::from_secs(5));
        look.preemptible = true;
        let look = pool.submit(look).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!pool.has_idle_worker(), "the look holds the only worker");
        assert!(
            pool.has_idle_worker_but(1),
            "but it is the asking caller's own, and gives way"
        );
        // The caller went on: their next early look, which may not give way, stops it.
        let next = pool.submit(job(2, Duration::from_secs(5))).unwrap();
        assert!(matches!(look.await.unwrap(), Err(AsrError::Preempted)));
        assert!(next.await.unwrap().is_ok());
        drop(me);
    }
}
