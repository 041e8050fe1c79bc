//! Live captions for web callers: what the line says (a prompt's text, sent as it starts
//! playing) and what the line heard (the recognised words), pushed from a call task to the one
//! `/phone` session that placed that call — so a caller who hears badly can read along.
//!
//! ```text
//!  call task ── publish(sip_call_id, Caption) ──► CaptionHub ──► that web call's Subscription
//! ```
//! Routing is by the **SIP Call-ID of the gateway's own INVITE**: the gateway makes it up
//! (random) and subscribes with it before the INVITE leaves, so the welcome prompt's caption
//! cannot arrive before anyone listens, and nobody outside the process ever names a key. A call
//! task publishes only for calls that came from the gateway (see
//! [`super::channel::is_gateway_invite`]), only while the call lives, and closes its key when the call
//! ends. Publishing never waits: a page that does not keep up loses captions, never the call's
//! audio.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Captions queued for one page before the newest are dropped (a page reads them at once).
const QUEUE: usize = 64;
/// The longest caption text sent (a prompt is a few sentences; whisper's text is shorter).
pub const MAX_TEXT: usize = 2000;

/// Who is speaking in a caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// The line: a prompt started playing.
    Line,
    /// The caller, as the line's speech recognition heard them.
    Caller,
}

impl Speaker {
    /// `line` or `caller`, as the page's frames name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Line => "line",
            Speaker::Caller => "caller",
        }
    }
}

/// One caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caption {
    /// Who says it.
    pub speaker: Speaker,
    /// The words (cut to [`MAX_TEXT`] characters).
    pub text: String,
    /// Heard so far, while the caller is still speaking: the next caller caption replaces it.
    pub partial: bool,
}

impl Caption {
    /// What the line says now.
    pub fn line(text: &str) -> Caption {
        Caption::new(Speaker::Line, text, false)
    }

    /// What the line heard the caller say; `partial` while they are still speaking.
    pub fn caller(text: &str, partial: bool) -> Caption {
        Caption::new(Speaker::Caller, text, partial)
    }

    fn new(speaker: Speaker, text: &str, partial: bool) -> Caption {
        Caption {
            speaker,
            text: text.trim().chars().take(MAX_TEXT).collect(),
            partial,
        }
    }
}

/// The web calls listening for captions, by the SIP Call-ID of their INVITE.
#[derive(Debug, Default)]
pub struct CaptionHub {
    /// Key → (subscription number, sender). The hub holds the only sender, so closing a key
    /// ends its stream.
    listeners: Mutex<HashMap<String, (u64, mpsc::Sender<Caption>)>>,
    next: AtomicU64,
}

/// One web call's captions; dropping it stops them.
#[derive(Debug)]
pub struct Subscription {
    hub: Arc<CaptionHub>,
    key: String,
    number: u64,
    rx: mpsc::Receiver<Caption>,
}

impl Subscription {
    /// The next caption; `None` once the call is over (its task closed the key) — then never
    /// again. Cancel-safe.
    pub async fn next(&mut self) -> Option<Caption> {
        self.rx.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.forget(&self.key, self.number);
    }
}

impl CaptionHub {
    /// Starts listening for the captions of the call whose INVITE carries `sip_call_id`. A
    /// second subscription under the same key replaces the first (whose stream then ends).
    pub fn subscribe(self: &Arc<Self>, sip_call_id: &str) -> Subscription {
        let (tx, rx) = mpsc::channel(QUEUE);
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(sip_call_id.to_string(), (number, tx));
        Subscription {
            hub: Arc::clone(self),
            key: sip_call_id.to_string(),
            number,
            rx,
        }
    }

    /// Sends a caption to the web call listening under `sip_call_id`, if any; never waits.
    /// True when it was queued. An empty caption is not sent.
    pub fn publish(&self, sip_call_id: &str, caption: Caption) -> bool {
        if caption.text.is_empty() {
            return false;
        }
        let Some((_, tx)) = self.lock().get(sip_call_id).cloned() else {
            return false;
        };
        tx.try_send(caption).is_ok()
    }

    /// The call is over: its listener's stream ends and later captions go nowhere.
    pub fn close(&self, sip_call_id: &str) {
        self.lock().remove(sip_call_id);
    }

    /// Number of web calls listening (for tests and the log).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no web call listens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes `key` if it is still subscription `number`'s (not a newer one's).
    fn forget(&self, key: &str, number: u64) {
        let mut m = self.lock();
        if m.get(key).is_some_and(|(n, _)| *n == number) {
            m.remove(key);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, mpsc::Sender<Caption>)>> {
        // Single inserts and removals: a poisoned map is still consistent.
        self.listeners.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a subscription holds right now, without waiting.
    fn drain(s: &mut Subscription) -> Vec<Caption> {
        let mut out = Vec::new();
        while let Ok(c) = s.rx.try_recv() {
            out.push(c);
        }
        out
    }

    #[test]
    fn a_caption_reaches_only_the_call_it_belongs_to() {
        let hub = Arc::new(CaptionHub::default());
        let mut a = hub.subscribe("call-a@127.0.0.1");
        let mut b = hub.subscribe("call-b@127.0.0.1");
        assert!(hub.publish("call-a@127.0.0.1", Caption::line("Welcome to support.")));
        assert!(hub.publish("call-b@127.0.0.1", Caption::caller("billing", false)));
        // A call nobody listens to (a SIP phone's), and a key that is a prefix of another's.
        assert!(!hub.publish("call-c@127.0.0.1", Caption::line("not for a or b")));
        assert!(!hub.publish("call-a", Caption::line("not for a")));
        assert_eq!(drain(&mut a), vec![Caption::line("Welcome to support.")]);
        assert_eq!(drain(&mut b), vec![Caption::caller("billing", false)]);
    }

    #[tokio::test]
    async fn captions_stop_when_the_call_ends_and_when_the_page_goes() {
        let hub = Arc::new(CaptionHub::default());
        let mut a = hub.subscribe("a");
        assert!(hub.publish("a", Caption::line("one")));
        hub.close("a");
        assert!(
            !hub.publish("a", Caption::line("after the end")),
            "a finished call publishes nothing"
        );
        assert_eq!(a.next().await, Some(Caption::line("one")));
        assert_eq!(a.next().await, None, "the stream ends with the call");
        drop(a);
        let b = hub.subscribe("b");
        assert_eq!(hub.len(), 1);
        drop(b);
        assert!(hub.is_empty(), "a page that left is forgotten");
        assert!(!hub.publish("b", Caption::line("nobody listens")));
    }

    #[test]
    fn a_newer_subscription_under_the_same_key_is_not_removed_by_the_older() {
        let hub = Arc::new(CaptionHub::default());
        let mut old = hub.subscribe("k");
        let mut new = hub.subscribe("k");
        assert!(
            matches!(
                old.rx.try_recv(),
                Err(mpsc::error::TryRecvError::Disconnected)
            ),
            "the replaced stream ended"
        );
        drop(old);
        assert!(hub.publish("k", Caption::line("still here")));
        assert_eq!(drain(&mut new).len(), 1);
    }

    #[test]
    fn a_page_that_does_not_read_loses_captions_not_the_call() {
        let hub = Arc::new(CaptionHub::default());
        let mut s = hub.subscribe("k");
        let sent = (0..QUEUE + 10)
            .filter(|i| hub.publish("k", Caption::line(&format!("{i}"))))
            .count();
        assert_eq!(
            sent, QUEUE,
            "publishing never waits: the overflow is dropped"
        );
        assert_eq!(drain(&mut s).len(), QUEUE);
    }

    #[test]
    fn empty_text_is_not_a_caption_and_long_text_is_cut() {
        let hub = Arc::new(CaptionHub::default());
        let mut s = hub.subscribe("k");
        assert!(!hub.publish("k", Caption::caller("  ", false)));
        let long = "字".repeat(MAX_TEXT + 5);
        assert!(hub.publish("k", Caption::caller(&long, true)));
        let got = drain(&mut s);
        assert_eq!(got[0].text.chars().count(), MAX_TEXT);
        assert!(got[0].partial);
        assert_eq!(got[0].speaker.as_str(), "caller");
    }
}
