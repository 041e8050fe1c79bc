//! Live captions for a caller on the `/phone` page: the text of each prompt as it starts and
//! the words the recogniser heard, pushed to that call's own web session through
//! [`crate::live::captions`]. SIP callers get none; nothing is sent once the call is over.

use super::*;
use crate::dialplan::Language;
use crate::live::captions::Caption;

impl CallTask {
    /// Sends `caption` to this call's web caller, if the call came from the `/phone` gateway
    /// and is not over.
    pub(super) fn caption(&self, caption: Caption) {
        if self.channel != crate::live::Channel::Webrtc || self.core.is_finished() {
            return;
        }
        let key = self.core.invite().headers.call_id().unwrap_or_default();
        self.sh.captions.publish(key, caption);
    }

    /// What the line starts saying: the texts of `prompts` (those with a known text), as one
    /// caption.
    pub(super) fn caption_prompts<S: AsRef<str>>(&self, prompts: &[S]) {
        if self.channel != crate::live::Channel::Webrtc {
            return;
        }
        let program = &self.plan.program;
        let texts: Vec<&str> = prompts
            .iter()
            .filter_map(|p| program.known_prompt_text(p.as_ref()))
            .collect();
        let joiner = match self.core.engine().language() {
            Language::Zh => "",
            Language::En => " ",
        };
        self.caption(Caption::line(&texts.join(joiner)));
    }

    /// The call is over: its web caller's caption stream ends.
    pub(super) fn close_captions(&self) {
        let key = self.core.invite().headers.call_id().unwrap_or_default();
        self.sh.captions.close(key);
    }
}
